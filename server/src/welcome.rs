//! Uploading the welcome message (the browser sends the file as the request body, with the
//! anti-forgery token and file name in headers, so it can show upload progress) and its preview.

use app::backend::context::Ctx;
use app::backend::state::AppState;
use app::backend::welcome::{self, WelcomeError};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use futures_util::StreamExt;
use serde_json::json;
use telephony::prompt::PromptError;

/// Bytes kept of an upload: one more than the decoder accepts, so it can say "too large".
const KEEP: usize = telephony::prompt::MAX_BYTES + 1;
/// Bytes read at most. An oversized upload is read to its end (up to this) before the answer,
/// so the browser receives the "too large" message instead of a connection reset mid-upload.
const DRAIN: usize = 64 * 1024 * 1024;

/// Reads the body, keeping at most [`KEEP`] bytes; `None` past [`DRAIN`].
async fn read_capped(body: Body) -> Option<Vec<u8>> {
    let mut stream = body.into_data_stream();
    let (mut kept, mut seen) = (Vec::new(), 0usize);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.ok()?;
        seen += chunk.len();
        if seen > DRAIN {
            return None;
        }
        let room = KEEP.saturating_sub(kept.len());
        kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    Some(kept)
}

fn answer(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "ok": false, "message": message }))).into_response()
}

async fn upload(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let t = ctx.lang.t();
    let csrf = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if ctx.check_csrf(csrf).is_err() {
        return answer(StatusCode::FORBIDDEN, t.err_csrf);
    }
    let Ok(user) = ctx.user() else {
        return answer(StatusCode::UNAUTHORIZED, t.err_unauthenticated);
    };
    let Ok(tenant) = user.operated_tenant() else {
        return answer(StatusCode::FORBIDDEN, t.err_forbidden);
    };
    let name = headers
        .get("x-filename")
        .and_then(|v| v.to_str().ok())
        .map(percent_decode)
        .unwrap_or_else(|| "welcome".into());
    let Some(bytes) = read_capped(body).await else {
        return answer(StatusCode::PAYLOAD_TOO_LARGE, t.welcome_too_large);
    };
    if bytes.len() > telephony::prompt::MAX_BYTES {
        return answer(StatusCode::PAYLOAD_TOO_LARGE, t.welcome_too_large);
    }
    match welcome::upload(&state, tenant.tenant_id, &name, bytes).await {
        Ok(row) => (
            StatusCode::OK,
            Json(json!({ "ok": true, "duration_ms": row.duration_ms })),
        )
            .into_response(),
        Err(WelcomeError::Prompt(problem)) => {
            let message = match problem {
                PromptError::Empty => t.welcome_empty,
                PromptError::TooLarge => t.welcome_too_large,
                PromptError::NotAudio => t.welcome_not_audio,
                PromptError::Unsupported => t.welcome_unsupported,
                PromptError::TooLong => t.welcome_too_long,
                PromptError::Silent => t.welcome_silent,
                PromptError::Corrupt => t.welcome_corrupt,
            };
            answer(StatusCode::UNPROCESSABLE_ENTITY, message)
        }
        Err(WelcomeError::TimedOut) => answer(StatusCode::UNPROCESSABLE_ENTITY, t.welcome_corrupt),
        Err(err) => {
            tracing::error!(error = %err, "failed to store a welcome message");
            answer(StatusCode::INTERNAL_SERVER_ERROR, t.err_internal)
        }
    }
}

/// `%XX` sequences back to bytes (the browser sends `encodeURIComponent(name)`).
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(byte) = u8::from_str_radix(&value[i + 1..i + 3], 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn preview(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
) -> Response {
    let Some(tenant) = ctx.user.as_ref().and_then(|u| u.tenant.as_ref()) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    match welcome::info(&state, tenant.tenant_id).await {
        Ok(Some(row)) => {
            let tag = format!("welcome-{}", row.created_at);
            crate::media::serve_media(&state, &row.preview_path, "audio/wav", &tag, &headers).await
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(err) => {
            tracing::error!(error = %err, "failed to load a welcome message");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The upload route (it bounds its own body) and the preview.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings/welcome", post(upload))
        .route("/settings/welcome/preview", get(preview))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_percent_decoded() {
        assert_eq!(percent_decode("%D8%AE%D9%88%D8%B4.mp3"), "خوش.mp3");
        assert_eq!(percent_decode("plain.wav"), "plain.wav");
        assert_eq!(percent_decode("bad%zz%"), "bad%zz%");
    }
}
