//! Server functions for the webhooks page: endpoint, secret, test event, delivery log.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::edge;
use crate::error::AppError;

/// One delivery in the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryView {
    /// Id (for resend).
    pub id: i64,
    /// `call.completed`, …
    pub event: String,
    /// Target.
    pub url: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// Last HTTP status.
    pub status_code: Option<i64>,
    /// Last round trip.
    pub response_ms: Option<i64>,
    /// Start of the last answer, or why there was none.
    pub response: Option<String>,
    /// Enqueued at (Unix ms).
    pub created_at: i64,
}

/// The webhooks page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhooksView {
    /// The endpoint, if set.
    pub url: Option<String>,
    /// The signing secret (owners and admins only see this page).
    pub secret: String,
    /// Newest first.
    pub deliveries: Vec<DeliveryView>,
}

#[cfg(feature = "ssr")]
impl From<crate::backend::webhooks::WebhookError> for AppError {
    fn from(err: crate::backend::webhooks::WebhookError) -> Self {
        use crate::backend::webhooks::WebhookError as E;
        use crate::error::{FormErrors, Problem};
        let field = |problem| {
            let mut form = FormErrors::default();
            form.add("url", problem);
            AppError::Invalid(form)
        };
        match err {
            E::InvalidUrl => field(Problem::InvalidUrl),
            E::PrivateTarget => field(Problem::PrivateUrl),
            E::Unresolvable => field(Problem::UnresolvableUrl),
            E::NoEndpoint => field(Problem::Required),
            E::NotFound => AppError::NotFound,
            E::Database(db) => db.into(),
        }
    }
}

#[cfg(feature = "ssr")]
fn operator() -> Result<(crate::backend::context::Ctx, i64), AppError> {
    let ctx = edge::ctx()?;
    let id = ctx.user()?.operated_tenant()?.tenant_id;
    Ok((ctx, id))
}

/// The endpoint, secret and delivery log.
#[server(endpoint = "webhooks")]
pub async fn get_webhooks() -> Result<WebhooksView, AppError> {
    edge::finish(
        async {
            let (_, tenant_id) = operator()?;
            let state = edge::state()?;
            let (url, secret) = crate::backend::webhooks::endpoint(&state, tenant_id).await?;
            let deliveries = crate::backend::webhooks::recent(&state, tenant_id)
                .await?
                .into_iter()
                .map(|d| DeliveryView {
                    id: d.webhook_delivery_id,
                    event: d.event,
                    url: d.url,
                    status: d.status,
                    attempts: d.attempts,
                    status_code: d.last_status_code,
                    response_ms: d.last_response_ms,
                    response: d.last_error.or(d.last_response_head),
                    created_at: d.created_at,
                })
                .collect();
            Ok(WebhooksView {
                url,
                secret,
                deliveries,
            })
        }
        .await,
    )
}

/// Sets (or, empty, clears) the webhook URL.
#[server(endpoint = "save_webhook")]
pub async fn save_webhook(csrf: String, url: String) -> Result<(), AppError> {
    edge::finish(
        async {
            let (_, state) = edge::checked(&csrf)?;
            let (_, tenant_id) = operator()?;
            crate::backend::webhooks::save_url(&state, tenant_id, &url)
                .await
                .map_err(|e| {
                    let mut err = AppError::from(e);
                    if let AppError::Invalid(form) = &mut err {
                        form.keep("url", url.trim());
                    }
                    err
                })?;
            leptos_axum::redirect("/settings/webhooks?saved=1");
            Ok(())
        }
        .await,
    )
}

/// Replaces the signing secret.
#[server(endpoint = "rotate_webhook_secret")]
pub async fn rotate_webhook_secret(csrf: String) -> Result<(), AppError> {
    edge::finish(
        async {
            let (_, state) = edge::checked(&csrf)?;
            let (_, tenant_id) = operator()?;
            crate::backend::webhooks::rotate_secret(&state, tenant_id).await?;
            leptos_axum::redirect("/settings/webhooks?rotated=1");
            Ok(())
        }
        .await,
    )
}

/// Queues a `webhook.test` event.
#[server(endpoint = "test_webhook")]
pub async fn test_webhook(csrf: String) -> Result<(), AppError> {
    edge::finish(
        async {
            let (_, state) = edge::checked(&csrf)?;
            let (_, tenant_id) = operator()?;
            crate::backend::webhooks::send_test(&state, tenant_id).await?;
            leptos_axum::redirect("/settings/webhooks?sent=1");
            Ok(())
        }
        .await,
    )
}

/// Sends a delivery again.
#[server(endpoint = "resend_webhook")]
pub async fn resend_webhook(csrf: String, id: String) -> Result<(), AppError> {
    edge::finish(
        async {
            let (_, state) = edge::checked(&csrf)?;
            let (_, tenant_id) = operator()?;
            crate::backend::webhooks::resend(&state, tenant_id, edge::parse_id(&id)?).await?;
            leptos_axum::redirect("/settings/webhooks?sent=1");
            Ok(())
        }
        .await,
    )
}
