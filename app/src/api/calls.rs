//! Server functions for calls: reports, a call's detail, test calls, call settings and API
//! tokens.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::edge;
use crate::domain::CallStatus;
use crate::error::AppError;

/// An API token as listed (never the token itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenView {
    /// Token id.
    pub id: i64,
    /// The operator's label.
    pub name: String,
    /// Visible start, `pol_test_AbCd`.
    pub prefix: String,
    /// Issued at (Unix ms).
    pub created_at: i64,
    /// Last used (Unix ms, minute resolution).
    pub last_used_at: Option<i64>,
    /// Revoked at (Unix ms).
    pub revoked_at: Option<i64>,
}

/// The API tokens page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokensView {
    /// Newest first.
    pub tokens: Vec<TokenView>,
    /// A token just issued, shown this once.
    pub fresh: Option<String>,
    /// Whether the viewer may issue and revoke tokens.
    pub can_manage: bool,
    /// The API's base URL, for the example request.
    pub api_base: String,
}

/// A tenant's call settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallSettingsView {
    /// `passenger` or `driver`.
    pub first_party: String,
    /// Default (and largest) talk-time limit, seconds.
    pub max_duration: i64,
    /// Ring timeout, seconds.
    pub ring_timeout: i64,
    /// Record calls.
    pub record: bool,
    /// Play the welcome message.
    pub welcome: bool,
    /// Play it to the second party too.
    pub welcome_to_second: bool,
    /// Calls that may be in progress at once (set by the platform).
    pub max_concurrent_calls: i64,
    /// The number both parties see (digits), if the operator set one.
    pub caller_id: Option<String>,
    /// Whether the viewer may change them.
    pub can_manage: bool,
    /// The uploaded welcome message, if any.
    pub welcome_message: Option<WelcomeView>,
}

/// An uploaded welcome message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WelcomeView {
    /// Length after trimming.
    pub duration_ms: i64,
    /// The uploaded file's name.
    pub name: String,
    /// Uploaded at (Unix ms; also busts the preview's cache).
    pub uploaded_at: i64,
}

/// A call in a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallSummaryView {
    /// Public id.
    pub id: String,
    /// Placed at (Unix ms).
    pub created_at: i64,
    /// Status.
    pub status: CallStatus,
    /// E.164, or masked for viewers.
    pub passenger: String,
    /// E.164, or masked for viewers.
    pub driver: String,
    /// `passenger` or `driver`.
    pub first_party: String,
    /// Talk time, once ended.
    pub talk_seconds: Option<i64>,
    /// Cost in Rial, once settled.
    pub cost_rial: Option<i64>,
    /// The operator's reference.
    pub reference: Option<String>,
    /// Placed on the sandbox.
    pub sandbox: bool,
    /// Has a recording.
    pub recorded: bool,
}

/// A page of the call report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallsPageView {
    /// Newest first.
    pub calls: Vec<CallSummaryView>,
    /// Query value for the next page.
    pub next_cursor: Option<String>,
    /// Whether the viewer may place test calls.
    pub can_call: bool,
    /// The filters were invalid (the page shows every call instead).
    pub invalid_filters: bool,
    /// Calls go to the sandbox.
    pub sandbox: bool,
}

/// One leg of a call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LegView {
    /// `first` or `second`.
    pub position: String,
    /// `passenger` or `driver`.
    pub party: String,
    /// E.164 or masked.
    pub number: String,
    /// Unix ms.
    pub dialled_at: Option<i64>,
    /// Unix ms.
    pub ringing_at: Option<i64>,
    /// Unix ms.
    pub answered_at: Option<i64>,
    /// Unix ms.
    pub ended_at: Option<i64>,
    /// Why it ended.
    pub cause: Option<String>,
    /// SIP status.
    pub sip_code: Option<i64>,
}

/// A moment in a call's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventView {
    /// Unix ms.
    pub at: i64,
    /// What happened.
    pub kind: String,
    /// Which leg.
    pub leg: Option<String>,
    /// More about it (numbers masked).
    pub detail: String,
}

impl EventView {
    /// Whether this event is the call's end (its kind is a terminal status).
    pub fn call_ended(&self) -> bool {
        self.kind
            .parse::<CallStatus>()
            .is_ok_and(CallStatus::is_terminal)
    }
}

/// A call's recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordingView {
    /// Where the browser fetches it.
    pub url: String,
    /// MIME type.
    pub content_type: String,
    /// Length.
    pub duration_ms: Option<i64>,
    /// Size.
    pub bytes: Option<i64>,
}

/// The call detail page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallDetailView {
    /// Summary.
    pub call: CallSummaryView,
    /// Billed seconds.
    pub billed_seconds: Option<i64>,
    /// The limit granted.
    pub max_duration: i64,
    /// Why it ended.
    pub end_cause: Option<String>,
    /// First then second.
    pub legs: Vec<LegView>,
    /// Oldest first.
    pub events: Vec<EventView>,
    /// The recording, if any.
    pub recording: Option<RecordingView>,
}

#[cfg(feature = "ssr")]
mod convert {
    use super::*;
    use crate::backend::calls::CallError;
    use crate::backend::repo::calls::CallRow;
    use crate::domain::call::mask_number;

    impl From<CallError> for AppError {
        fn from(err: CallError) -> Self {
            use crate::error::{FormErrors, Problem};
            match err {
                CallError::NotFound => AppError::NotFound,
                CallError::InsufficientCredit { .. } => AppError::InsufficientCredit,
                CallError::ConcurrencyLimit { .. } => AppError::ConcurrencyLimit,
                CallError::SameNumber => {
                    let mut form = FormErrors::default();
                    form.add("driver", Problem::SameNumber);
                    AppError::Invalid(form)
                }
                CallError::InvalidNumber { issues, .. } => {
                    let mut form = FormErrors::default();
                    for issue in issues {
                        form.add(
                            &issue.field,
                            Problem::Phone(crate::domain::PhoneError::NotMobile),
                        );
                    }
                    AppError::Invalid(form)
                }
                CallError::Invalid(_) | CallError::IdempotencyMismatch => {
                    AppError::Invalid(FormErrors::default())
                }
                CallError::Database(db) => db.into(),
                CallError::Billing(err) => err.into(),
            }
        }
    }

    impl From<crate::backend::api_tokens::TokenError> for AppError {
        fn from(err: crate::backend::api_tokens::TokenError) -> Self {
            use crate::backend::api_tokens::TokenError;
            use crate::error::{FormErrors, Problem};
            match err {
                TokenError::InvalidName => {
                    let mut form = FormErrors::default();
                    form.add("name", Problem::TooLong);
                    AppError::Invalid(form)
                }
                TokenError::NotFound => AppError::NotFound,
                TokenError::Database(db) => db.into(),
            }
        }
    }

    pub fn summary(call: &CallRow, masked: bool) -> CallSummaryView {
        let number = |n: &str| if masked { mask_number(n) } else { n.to_owned() };
        CallSummaryView {
            id: call.public_id.clone(),
            created_at: call.created_at,
            status: call.status.parse().unwrap_or(CallStatus::Failed),
            passenger: number(&call.passenger),
            driver: number(&call.driver),
            first_party: call.first_party.clone(),
            talk_seconds: call.talk_seconds,
            cost_rial: call.cost_rial,
            reference: call.reference.clone(),
            sandbox: call.sandbox,
            recorded: call.recording_path.is_some(),
        }
    }
}

/// Session key of a token issued a moment ago, shown once on the tokens page.
#[cfg(feature = "ssr")]
const FRESH_TOKEN_KEY: &str = "fresh_token";

/// The tenant's API tokens (and one just issued, once).
#[server(endpoint = "api_tokens")]
pub async fn get_tokens() -> Result<TokensView, AppError> {
    edge::finish(
        async {
            let ctx = edge::ctx()?;
            let tenant = ctx.user()?.operated_tenant()?;
            let state = edge::state()?;
            let fresh = ctx
                .session
                .remove::<String>(FRESH_TOKEN_KEY)
                .await
                .map_err(crate::backend::context::session_error)?;
            let tokens = crate::backend::api_tokens::list(&state, tenant.tenant_id)
                .await?
                .into_iter()
                .map(|t| TokenView {
                    id: t.api_token_id,
                    name: t.name,
                    prefix: t.prefix,
                    created_at: t.created_at,
                    last_used_at: t.last_used_at,
                    revoked_at: t.revoked_at,
                })
                .collect();
            Ok(TokensView {
                tokens,
                fresh,
                can_manage: true,
                api_base: state.config.public_url.clone(),
            })
        }
        .await,
    )
}

/// Issues an API token; the page shows it once.
#[server(endpoint = "create_api_token")]
pub async fn create_api_token(csrf: String, name: String) -> Result<(), AppError> {
    edge::finish(
        async {
            let (ctx, state) = edge::checked(&csrf)?;
            let user = ctx.user()?;
            let tenant = user.operated_tenant()?;
            let (token, _) = crate::backend::api_tokens::create(
                &state,
                tenant.tenant_id,
                &name,
                Some(user.user.user_id),
            )
            .await
            .map_err(|e| {
                let mut err = AppError::from(e);
                if let AppError::Invalid(form) = &mut err {
                    form.keep("name", name.trim());
                }
                err
            })?;
            ctx.session
                .insert(FRESH_TOKEN_KEY, token)
                .await
                .map_err(crate::backend::context::session_error)?;
            leptos_axum::redirect("/settings/tokens");
            Ok(())
        }
        .await,
    )
}

/// Revokes an API token at once.
#[server(endpoint = "revoke_api_token")]
pub async fn revoke_api_token(csrf: String, id: String) -> Result<(), AppError> {
    edge::finish(
        async {
            let (ctx, state) = edge::checked(&csrf)?;
            let user = ctx.user()?;
            let tenant = user.operated_tenant()?;
            crate::backend::api_tokens::revoke(
                &state,
                tenant.tenant_id,
                edge::parse_id(&id)?,
                Some(user.user.user_id),
            )
            .await?;
            leptos_axum::redirect("/settings/tokens");
            Ok(())
        }
        .await,
    )
}

/// The tenant's call settings.
#[server(endpoint = "call_settings")]
pub async fn get_call_settings() -> Result<CallSettingsView, AppError> {
    edge::finish(
        async {
            let ctx = edge::ctx()?;
            let tenant = ctx.user()?.tenant()?;
            let state = edge::state()?;
            let settings = crate::backend::calls::settings(&state, tenant.tenant_id).await?;
            let welcome_message = crate::backend::welcome::info(&state, tenant.tenant_id)
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "failed to load the welcome message");
                    AppError::Internal
                })?
                .map(|w| WelcomeView {
                    duration_ms: w.duration_ms,
                    name: w.original_name,
                    uploaded_at: w.created_at,
                });
            Ok(CallSettingsView {
                welcome_message,
                first_party: settings.first_party,
                max_duration: settings.max_call_seconds,
                ring_timeout: settings.ring_timeout_seconds,
                record: settings.record_calls,
                welcome: settings.welcome_enabled,
                welcome_to_second: settings.welcome_to_second,
                max_concurrent_calls: settings.max_concurrent_calls,
                caller_id: settings.caller_id,
                can_manage: tenant.role.operates(),
            })
        }
        .await,
    )
}

/// Saves the call settings. Checkboxes arrive only when ticked. The caller ID is the platform's
/// to set (`admin_set_caller_id`).
#[server(endpoint = "save_call_settings")]
pub async fn save_call_settings(
    csrf: String,
    first_party: String,
    max_duration: String,
    ring_timeout: String,
    record: Option<String>,
    welcome: Option<String>,
    welcome_second: Option<String>,
) -> Result<(), AppError> {
    use crate::error::{FormErrors, Problem};
    edge::finish(
        async {
            let (ctx, state) = edge::checked(&csrf)?;
            let tenant = ctx.user()?.operated_tenant()?;
            let mut errors = FormErrors::default();
            if first_party.parse::<crate::domain::Party>().is_err() {
                errors.add("first_party", Problem::InvalidChoice);
            }
            let max = edge::parse_number(&mut errors, "max_duration", &max_duration);
            if max.is_some_and(|m| !(10..=crate::backend::calls::MAX_DURATION_LIMIT).contains(&m)) {
                errors.add("max_duration", Problem::OutOfRange);
            }
            let ring = edge::parse_number(&mut errors, "ring_timeout", &ring_timeout);
            if ring.is_some_and(|r| !crate::backend::calls::RING_TIMEOUT_RANGE.contains(&r)) {
                errors.add("ring_timeout", Problem::OutOfRange);
            }
            let (Some(max), Some(ring)) = (max, ring) else {
                return Err(AppError::Invalid(errors));
            };
            errors.into_result()?;
            let current = crate::backend::calls::settings(&state, tenant.tenant_id).await?;
            let settings = crate::backend::repo::tenants::CallSettingsRow {
                first_party,
                max_call_seconds: max,
                ring_timeout_seconds: ring,
                record_calls: record.is_some(),
                welcome_enabled: welcome.is_some(),
                welcome_to_second: welcome_second.is_some(),
                max_concurrent_calls: current.max_concurrent_calls,
                caller_id: current.caller_id,
            };
            crate::backend::calls::save_settings(&state, tenant.tenant_id, &settings).await?;
            leptos_axum::redirect("/settings/calls?saved=1");
            Ok(())
        }
        .await,
    )
}

/// A page of the call report. Every filter is optional; bad filters show every call.
#[server(endpoint = "calls")]
pub async fn list_calls(
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
    number: Option<String>,
    reference: Option<String>,
    cursor: Option<String>,
) -> Result<CallsPageView, AppError> {
    edge::finish(
        async {
            use crate::backend::calls::{self, ListQuery};
            let ctx = edge::ctx()?;
            let tenant = ctx.user()?.tenant()?;
            let state = edge::state()?;
            let query = ListQuery {
                status,
                from,
                to,
                number,
                reference,
                cursor,
                limit: Some(50),
            };
            let (filter, invalid_filters) = match calls::parse_list(&query) {
                Ok((filter, _)) => (filter, false),
                Err(_) => (Default::default(), true),
            };
            let (rows, next_cursor) = calls::list(&state, tenant.tenant_id, &filter, 50).await?;
            let masked = tenant.role == crate::domain::Role::Viewer;
            Ok(CallsPageView {
                calls: rows.iter().map(|c| convert::summary(c, masked)).collect(),
                next_cursor,
                can_call: tenant.role.operates(),
                invalid_filters,
                sandbox: state.engine.is_sandbox(),
            })
        }
        .await,
    )
}

/// One call with its legs, timeline and recording; another tenant's id is not found.
#[server(endpoint = "call")]
pub async fn get_call(id: String) -> Result<CallDetailView, AppError> {
    edge::finish(
        async {
            use crate::domain::call::mask_number;
            let ctx = edge::ctx()?;
            let tenant = ctx.user()?.tenant()?;
            let state = edge::state()?;
            let detail = crate::backend::calls::get(&state, tenant.tenant_id, id.trim()).await?;
            let masked = tenant.role == crate::domain::Role::Viewer;
            let number = |n: &str| if masked { mask_number(n) } else { n.to_owned() };
            let call = &detail.call;
            Ok(CallDetailView {
                call: convert::summary(call, masked),
                billed_seconds: call.billed_seconds,
                max_duration: call.max_duration_seconds,
                end_cause: call.end_cause.clone(),
                legs: detail
                    .legs
                    .iter()
                    .map(|l| LegView {
                        position: l.position.clone(),
                        party: l.party.clone(),
                        number: number(&l.number),
                        dialled_at: l.dialled_at,
                        ringing_at: l.ringing_at,
                        answered_at: l.answered_at,
                        ended_at: l.ended_at,
                        cause: l.cause.clone(),
                        sip_code: l.sip_code,
                    })
                    .collect(),
                events: detail
                    .events
                    .iter()
                    .map(|e| EventView {
                        at: e.created_at,
                        kind: e.kind.clone(),
                        leg: e.leg.clone(),
                        detail: e.detail.clone(),
                    })
                    .collect(),
                recording: call
                    .recording_content_type
                    .as_ref()
                    .map(|content_type| RecordingView {
                        url: format!("/calls/{}/recording", call.public_id),
                        content_type: content_type.clone(),
                        duration_ms: call.recording_duration_ms,
                        bytes: call.recording_bytes,
                    }),
            })
        }
        .await,
    )
}

/// Places a call from the panel (on the sandbox, a way to try the product).
#[server(endpoint = "test_call")]
pub async fn place_test_call(
    csrf: String,
    passenger: String,
    driver: String,
) -> Result<(), AppError> {
    edge::finish(
        async {
            use crate::backend::calls::{self, CallRequest, Origin, ValidCall};
            let (ctx, state) = edge::checked(&csrf)?;
            let user = ctx.user()?;
            let tenant = user.operated_tenant()?;
            let request = CallRequest {
                passenger: passenger.clone(),
                driver: driver.clone(),
                ..CallRequest::default()
            };
            let keep = |mut err: AppError| {
                if let AppError::Invalid(form) = &mut err {
                    form.keep("passenger", passenger.trim());
                    form.keep("driver", driver.trim());
                }
                err
            };
            let call = ValidCall::parse(&request).map_err(|e| keep(e.into()))?;
            let placed = calls::place(
                &state,
                tenant.tenant_id,
                Origin::User(user.user.user_id),
                &call,
                None,
            )
            .await
            .map_err(|e| keep(e.into()))?;
            leptos_axum::redirect(&format!("/calls/{}", placed.call.public_id));
            Ok(())
        }
        .await,
    )
}

/// An operation on the API docs page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationView {
    /// `GET`, `POST`.
    pub method: String,
    /// Path.
    pub path: String,
    /// One line.
    pub summary: String,
}

/// The API docs page: the operator's own base URL and token prefix in the examples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiDocsView {
    /// Base URL of the API.
    pub base_url: String,
    /// Prefix of the operator's newest live token (`pol_test_AbCd`), if any.
    pub token_prefix: Option<String>,
    /// Calls go to the sandbox.
    pub sandbox: bool,
    /// From the OpenAPI document.
    pub operations: Vec<OperationView>,
}

/// What the API docs page shows.
#[server(endpoint = "api_docs")]
pub async fn get_api_docs() -> Result<ApiDocsView, AppError> {
    edge::finish(
        async {
            let ctx = edge::ctx()?;
            let tenant = ctx.user()?.tenant()?;
            let state = edge::state()?;
            let token_prefix = crate::backend::api_tokens::list(&state, tenant.tenant_id)
                .await?
                .into_iter()
                .find(|t| t.revoked_at.is_none())
                .map(|t| t.prefix);
            Ok(ApiDocsView {
                base_url: state.config.public_url.clone(),
                token_prefix,
                sandbox: state.engine.is_sandbox(),
                operations: state
                    .api_operations
                    .iter()
                    .map(|o| OperationView {
                        method: o.method.clone(),
                        path: o.path.clone(),
                        summary: o.summary.clone(),
                    })
                    .collect(),
            })
        }
        .await,
    )
}

/// Deletes the welcome message (calls play the built-in chime again).
#[server(endpoint = "delete_welcome")]
pub async fn delete_welcome(csrf: String) -> Result<(), AppError> {
    edge::finish(
        async {
            let (ctx, state) = edge::checked(&csrf)?;
            let tenant = ctx.user()?.operated_tenant()?;
            crate::backend::welcome::delete(&state, tenant.tenant_id)
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "failed to delete the welcome message");
                    AppError::Internal
                })?;
            leptos_axum::redirect("/settings/calls");
            Ok(())
        }
        .await,
    )
}
