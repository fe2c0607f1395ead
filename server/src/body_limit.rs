//! Refusing bodies that declare more than a route accepts, without resetting the connection.
//!
//! A server that answers 413 from the `Content-Length` and closes the socket while the client is
//! still sending makes the client see a broken pipe instead of the answer. Oversized bodies are
//! read (up to [`DRAIN`]) and discarded first; bodies without a length are still cut by the
//! `RequestBodyLimitLayer` behind this.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;

/// Bytes of an oversized body read at most before answering.
pub const DRAIN: usize = 4 * 1024 * 1024;

/// Answers 413 to a request whose `Content-Length` exceeds `LIMIT`, after reading its body.
pub async fn refuse_oversized<const LIMIT: usize>(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > LIMIT) {
        drain(request.into_body()).await;
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    next.run(request).await
}

async fn drain(body: Body) {
    let mut stream = body.into_data_stream();
    let mut seen = 0usize;
    while let Some(Ok(chunk)) = stream.next().await {
        seen += chunk.len();
        if seen > DRAIN {
            return;
        }
    }
}
