//! Serving recordings: the right `Content-Type`, `ETag`, and byte ranges so browsers can seek.

use app::backend::repo::calls::CallRow;
use app::backend::state::AppState;
use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::io::SeekFrom;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

/// A single byte range, resolved against the file's length.
#[derive(Debug, PartialEq, Eq)]
pub enum Range {
    /// No `Range` header (or one we ignore, as RFC 9110 allows for multiple ranges).
    Whole,
    /// Bytes `start..=end`.
    Part(u64, u64),
    /// Outside the file.
    Unsatisfiable,
}

/// Parses `bytes=a-b`, `bytes=a-` and `bytes=-n` against a file of `len` bytes.
pub fn parse_range(value: Option<&str>, len: u64) -> Range {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return Range::Whole;
    };
    if spec.contains(',') {
        return Range::Whole;
    }
    let Some((start, end)) = spec.split_once('-') else {
        return Range::Whole;
    };
    let (start, end) = (start.trim(), end.trim());
    let range = match (start.parse::<u64>(), end.parse::<u64>()) {
        (Ok(s), Ok(e)) if s <= e => Some((s, e.min(len.saturating_sub(1)))),
        (Ok(s), Err(_)) if end.is_empty() => Some((s, len.saturating_sub(1))),
        (Err(_), Ok(n)) if start.is_empty() && n > 0 => {
            Some((len.saturating_sub(n), len.saturating_sub(1)))
        }
        _ => return Range::Whole,
    };
    match range {
        Some((s, e)) if s < len && s <= e => Range::Part(s, e),
        _ => Range::Unsatisfiable,
    }
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "application/problem+json")],
        r#"{"type":"https://pol.example/problems/not_found","title":"Not found","status":404,"code":"not_found","detail":"this call has no recording"}"#,
    )
        .into_response()
}

/// Streams a call's recording, honouring `Range` and `If-None-Match`.
pub async fn serve_recording(state: &AppState, call: &CallRow, headers: &HeaderMap) -> Response {
    let (Some(relative), Some(content_type)) = (&call.recording_path, &call.recording_content_type)
    else {
        return not_found();
    };
    serve_media(state, relative, content_type, &call.public_id, headers).await
}

/// Streams a file under the media root; `tag` names its contents for the `ETag` (files there
/// never change in place).
pub async fn serve_media(
    state: &AppState,
    relative: &str,
    content_type: &str,
    tag: &str,
    headers: &HeaderMap,
) -> Response {
    // Stored paths are ours, but never let one climb out of the media root.
    if relative
        .split(['/', '\\'])
        .any(|part| part == ".." || part.is_empty())
    {
        tracing::error!(relative, "refusing a suspicious media path");
        return not_found();
    }
    let path = state.engine.media_root().join(relative);
    let mut file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(err) => {
            tracing::error!(relative, error = %err, "media file missing");
            return not_found();
        }
    };
    let len = match file.metadata().await {
        Ok(meta) => meta.len(),
        Err(_) => return not_found(),
    };
    let etag = format!("\"{tag}-{len}\"");
    let mut out = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, v);
    }
    out.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=86400"),
    );
    if let Ok(v) = HeaderValue::from_str(content_type) {
        out.insert(header::CONTENT_TYPE, v);
    }
    let matches_etag = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if matches_etag {
        return (StatusCode::NOT_MODIFIED, out).into_response();
    }
    let range = parse_range(
        headers.get(header::RANGE).and_then(|v| v.to_str().ok()),
        len,
    );
    let (status, start, count) = match range {
        Range::Whole => (StatusCode::OK, 0, len),
        Range::Part(start, end) => {
            if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{end}/{len}")) {
                out.insert(header::CONTENT_RANGE, v);
            }
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        Range::Unsatisfiable => {
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                out.insert(header::CONTENT_RANGE, v);
            }
            return (StatusCode::RANGE_NOT_SATISFIABLE, out).into_response();
        }
    };
    if file.seek(SeekFrom::Start(start)).await.is_err() {
        return not_found();
    }
    out.insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    let body = Body::from_stream(ReaderStream::new(file.take(count)));
    (status, out, body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_resolved_against_the_length() {
        assert_eq!(parse_range(None, 100), Range::Whole);
        assert_eq!(parse_range(Some("bytes=0-9"), 100), Range::Part(0, 9));
        assert_eq!(parse_range(Some("bytes=90-"), 100), Range::Part(90, 99));
        assert_eq!(parse_range(Some("bytes=-10"), 100), Range::Part(90, 99));
        assert_eq!(parse_range(Some("bytes=50-500"), 100), Range::Part(50, 99));
        assert_eq!(parse_range(Some("bytes=100-"), 100), Range::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), Range::Whole);
        assert_eq!(parse_range(Some("bytes=9-1"), 100), Range::Whole);
        assert_eq!(parse_range(Some("items=0-1"), 100), Range::Whole);
    }
}
