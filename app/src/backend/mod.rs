//! Server-side services, SQL and infrastructure. Compiled only with the `ssr` feature.

pub mod accounts;
pub mod api_tokens;
pub mod billing;
pub mod calls;
pub mod config;
pub mod context;
pub mod db;
pub mod engine;
pub mod gateway;
pub mod hashing;
pub mod mail;
pub mod payments;
pub mod rate_limit;
pub mod repo;
pub mod session_store;
pub mod state;
pub mod tokens;
pub mod webhooks;
pub mod welcome;

/// Milliseconds since the Unix epoch: every `*_at` column holds this.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// RFC 3339 (UTC) of a Unix-ms time, as the API and webhooks write times.
pub fn rfc3339(ms: Option<i64>) -> Option<String> {
    ms.and_then(|ms| {
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .ok()?
            .format(&time::format_description::well_known::Rfc3339)
            .ok()
    })
}
