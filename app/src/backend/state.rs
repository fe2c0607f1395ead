//! What every handler and server function can reach.

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

use super::config::Config;
use super::db::Db;
use super::mail::Mailer;

/// Shared application state.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Configuration.
    pub config: Arc<Config>,
    /// Outgoing e-mail.
    pub mailer: Mailer,
    /// Payment gateways.
    pub gateways: Arc<super::payments::Gateways>,
    /// Runs calls.
    pub engine: super::engine::Engine,
    /// Per-token request budgets of the JSON API.
    pub api_limiter: Arc<super::rate_limit::RateLimiter>,
    /// The JSON API's operations (method, path, summary), from its OpenAPI document, for the
    /// docs page.
    pub api_operations: Arc<Vec<ApiOperation>>,
    /// Leptos rendering options.
    pub leptos_options: LeptosOptions,
}

/// One operation of the JSON API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiOperation {
    /// `GET`, `POST`.
    pub method: String,
    /// `/api/v1/calls/{id}`.
    pub path: String,
    /// One line.
    pub summary: String,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
