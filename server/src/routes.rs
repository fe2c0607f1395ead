//! The HTTP router: the Leptos pages and server functions behind the session and request-context
//! layers, static assets outside them.

use app::backend::context::load_context;
use app::backend::session_store::Store;
use app::backend::state::AppState;
use app::{shell, App};
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, handle_server_fns_with_context, LeptosRoutes};
use sha2::{Digest, Sha512};
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::cookie::{Key, SameSite};
use tower_sessions::{Expiry, SessionManagerLayer};

/// Largest request body a form or server function may send.
const BODY_LIMIT: usize = 64 * 1024;

const FAVICON: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="8" fill="#0f766e"/><path d="M6 21c4-8 16-8 20 0" stroke="#fff" stroke-width="3" fill="none" stroke-linecap="round"/><circle cx="6" cy="21" r="2.5" fill="#fff"/><circle cx="26" cy="21" r="2.5" fill="#fff"/></svg>"##;

async fn server_fn_handler(State(state): State<AppState>, req: Request<Body>) -> impl IntoResponse {
    handle_server_fns_with_context(move || provide_context(state.clone()), req).await
}

/// Server functions answer 500 for every error by default. Ours set their own status; what is
/// left at 500 without our marker is the framework rejecting malformed input, which is the
/// client's mistake: 400.
async fn server_fn_status(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let handled = response.headers_mut().remove("x-pol-handled").is_some();
    if !handled
        && response.status() == StatusCode::INTERNAL_SERVER_ERROR
        && response.headers().contains_key("serverfnerror")
    {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    response
}

#[derive(serde::Deserialize)]
struct CallbackQuery {
    #[serde(rename = "Authority")]
    authority: Option<String>,
    #[serde(rename = "Status")]
    status: Option<String>,
}

/// Where the payment gateway sends the payer back. Thin: the payments service decides, this
/// only redirects to the payment's page.
async fn payment_callback(
    State(state): State<AppState>,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let Some(authority) = query.authority.filter(|a| !a.is_empty() && a.len() <= 100) else {
        return (StatusCode::BAD_REQUEST, "missing Authority").into_response();
    };
    let ok = query.status.as_deref() == Some("OK");
    match app::backend::payments::callback(&state, &authority, ok).await {
        Ok((_, payment_id)) => {
            Redirect::to(&format!("/billing/payments/{payment_id}")).into_response()
        }
        Err(app::error::AppError::NotFound) => {
            (StatusCode::NOT_FOUND, "unknown payment").into_response()
        }
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response(),
    }
}

/// Builds the router.
pub fn router(state: AppState) -> Router {
    let options = state.leptos_options.clone();
    let routes = generate_route_list(App);
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let page_shell = {
        let options = options.clone();
        move || shell(options.clone())
    };
    let not_found =
        leptos_axum::render_app_to_stream_with_context(context.clone(), page_shell.clone());

    let key = Key::from(&Sha512::digest(state.config.secret.expose().as_bytes()));
    let sessions = SessionManagerLayer::new(Store::new(&state.db))
        .with_name("pol_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.https())
        .with_expiry(Expiry::OnInactivity(time::Duration::days(14)))
        .with_signed(key);

    // leptos_routes registers every server function at its own path; the wildcard route only
    // answers unknown ones.
    let pages = Router::new()
        .leptos_routes_with_context(&state, routes, context, page_shell)
        .route(
            "/api/{*fn_name}",
            get(server_fn_handler).post(server_fn_handler),
        )
        .route("/payments/callback", get(payment_callback))
        .merge(crate::reports::router())
        .fallback(move |req: Request<Body>| not_found(req))
        .layer(middleware::from_fn(server_fn_status))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(middleware::from_fn(
            crate::body_limit::refuse_oversized::<BODY_LIMIT>,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), load_context))
        .layer(sessions.clone());

    // The welcome-message upload needs a larger body than forms (it bounds it itself), with the
    // same session.
    let uploads = crate::welcome::router()
        .layer(middleware::from_fn_with_state(state.clone(), load_context))
        .layer(sessions.clone());

    let site_root = std::path::PathBuf::from(options.site_root.as_ref());
    Router::new()
        // Pre-compressed files (scripts/build-site.sh writes .gz) are served as they are; anything
        // else, such as cargo-leptos output, is compressed on the fly.
        .nest_service(
            "/pkg",
            tower::ServiceBuilder::new()
                .layer(CompressionLayer::new())
                .service(
                    ServeDir::new(site_root.join(options.site_pkg_dir.as_ref()))
                        .precompressed_gzip(),
                ),
        )
        .nest_service("/fonts", ServeDir::new(site_root.join("fonts")))
        .route(
            "/favicon.svg",
            get(|| async { ([(header::CONTENT_TYPE, "image/svg+xml")], FAVICON) }),
        )
        .route("/health", get(|| async { "ok" }))
        .merge(crate::api_v1::router())
        .merge(uploads)
        .merge(pages)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .with_state(state)
}
