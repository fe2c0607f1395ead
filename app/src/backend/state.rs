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
    /// Leptos rendering options.
    pub leptos_options: LeptosOptions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
