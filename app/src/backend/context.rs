//! Per-request context: the session, its anti-forgery token, the signed-in person, their active
//! tenant and language. Loaded once by a middleware, read by pages and server functions.

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use tower_sessions::Session;

use super::repo::{memberships, users};
use super::state::AppState;
use super::tokens;
use crate::domain::Role;
use crate::error::AppError;
use crate::i18n::Lang;

/// Session key of the anti-forgery token.
pub const CSRF_KEY: &str = "csrf";
/// Session key of the signed-in person's id.
pub const USER_KEY: &str = "user_id";
/// Session key of the person's session epoch at sign-in; a newer epoch in the database means the
/// session was revoked (password changed or reset).
pub const EPOCH_KEY: &str = "epoch";
/// Session key of the active tenant.
pub const TENANT_KEY: &str = "tenant_id";
/// Session key of an anonymous visitor's language.
pub const LANG_KEY: &str = "lang";

/// The tenant the person is working in.
#[derive(Debug, Clone)]
pub struct ActiveTenant {
    /// Its id.
    pub tenant_id: i64,
    /// Its name.
    pub name: String,
    /// The person's role in it.
    pub role: Role,
}

/// The signed-in person.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// Their row.
    pub user: users::UserRow,
    /// Every tenant they belong to.
    pub memberships: Vec<memberships::MembershipRow>,
    /// The one they are working in (none if they belong to none).
    pub tenant: Option<ActiveTenant>,
}

impl CurrentUser {
    /// The active tenant, or `Forbidden` if the person belongs to none.
    pub fn tenant(&self) -> Result<&ActiveTenant, AppError> {
        self.tenant.as_ref().ok_or(AppError::Forbidden)
    }

    /// The active tenant if the person runs it (owner or admin: tokens, webhooks, settings, test
    /// calls), else `Forbidden`.
    pub fn operated_tenant(&self) -> Result<&ActiveTenant, AppError> {
        self.tenant().and_then(|t| {
            if t.role.operates() {
                Ok(t)
            } else {
                Err(AppError::Forbidden)
            }
        })
    }
}

/// Everything a request knows about who is asking.
#[derive(Clone)]
pub struct Ctx {
    /// The session.
    pub session: Session,
    /// The anti-forgery token forms must echo.
    pub csrf: String,
    /// The language to answer in.
    pub lang: Lang,
    /// The client's address (for throttling).
    pub client_ip: IpAddr,
    /// The signed-in person, if any.
    pub user: Option<CurrentUser>,
}

impl Ctx {
    /// The signed-in person or `Unauthenticated`.
    pub fn user(&self) -> Result<&CurrentUser, AppError> {
        self.user.as_ref().ok_or(AppError::Unauthenticated)
    }

    /// Checks a submitted anti-forgery token.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), AppError> {
        if tokens::constant_time_eq(&self.csrf, submitted) {
            Ok(())
        } else {
            Err(AppError::Csrf)
        }
    }
}

fn client_ip(req: &Request, trust_proxy: bool) -> IpAddr {
    if trust_proxy {
        let forwarded = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok());
        if let Some(ip) = forwarded {
            return ip;
        }
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

async fn load_user(state: &AppState, session: &Session) -> Result<Option<CurrentUser>, AppError> {
    let Some(user_id) = session.get::<i64>(USER_KEY).await.map_err(session_error)? else {
        return Ok(None);
    };
    let epoch = session.get::<i64>(EPOCH_KEY).await.map_err(session_error)?;
    let mut tx = state.db.read().await?;
    let user = users::find(&mut tx.conn(), user_id).await?;
    let Some(user) = user.filter(|u| Some(u.session_epoch) == epoch) else {
        // Revoked or deleted: forget the person but keep the anonymous session.
        session
            .remove::<i64>(USER_KEY)
            .await
            .map_err(session_error)?;
        session
            .remove::<i64>(TENANT_KEY)
            .await
            .map_err(session_error)?;
        return Ok(None);
    };
    let memberships = memberships::for_user(&mut tx.conn(), user_id).await?;
    drop(tx);
    let wanted = session
        .get::<i64>(TENANT_KEY)
        .await
        .map_err(session_error)?;
    let active = wanted
        .and_then(|id| memberships.iter().find(|m| m.tenant_id == id))
        .or_else(|| memberships.first());
    let tenant = active.map(|m| ActiveTenant {
        tenant_id: m.tenant_id,
        name: m.tenant_name.clone(),
        role: m.role.parse().unwrap_or(Role::Viewer),
    });
    if let Some(t) = &tenant {
        if wanted != Some(t.tenant_id) {
            session
                .insert(TENANT_KEY, t.tenant_id)
                .await
                .map_err(session_error)?;
        }
    }
    Ok(Some(CurrentUser {
        user,
        memberships,
        tenant,
    }))
}

/// Turns a session-store failure into a logged internal error.
pub fn session_error(err: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %err, "session store failed");
    AppError::Internal
}

/// Middleware: builds the [`Ctx`] and puts it in the request's extensions.
pub async fn load_context(
    State(state): State<AppState>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    let ip = client_ip(&req, state.config.trust_proxy);
    let ctx = async {
        let csrf = match session
            .get::<String>(CSRF_KEY)
            .await
            .map_err(session_error)?
        {
            Some(token) => token,
            None => {
                let (token, _) = tokens::generate();
                session
                    .insert(CSRF_KEY, &token)
                    .await
                    .map_err(session_error)?;
                token
            }
        };
        let user = load_user(&state, &session).await?;
        let lang = match &user {
            Some(u) => Lang::from_code(&u.user.locale),
            None => session.get::<Lang>(LANG_KEY).await.map_err(session_error)?,
        }
        .unwrap_or_default();
        Ok::<_, AppError>(Ctx {
            csrf,
            lang,
            client_ip: ip,
            user,
            session: session.clone(),
        })
    }
    .await;
    match ctx {
        Ok(ctx) => {
            req.extensions_mut().insert(ctx);
            next.run(req).await
        }
        Err(_) => (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal error",
        )
            .into_response(),
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        tracing::error!(error = %err, "database error");
        AppError::Internal
    }
}

impl From<super::billing::BillingError> for AppError {
    fn from(err: super::billing::BillingError) -> Self {
        match err {
            super::billing::BillingError::Database(db) => db.into(),
            other => {
                tracing::error!(error = %other, "unexpected billing error");
                AppError::Internal
            }
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(err: anyhow::Error) -> Self {
        tracing::error!(error = format!("{err:#}"), "internal error");
        AppError::Internal
    }
}
