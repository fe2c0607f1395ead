//! `webhook_delivery` and the tenant's webhook endpoint.

use crate::backend::db::Conn;
use crate::on_conn;

/// A tenant's webhook endpoint and signing secret.
#[derive(Clone, sqlx::FromRow)]
pub struct EndpointRow {
    /// Where events go (none: only per-call `callback_url`s).
    pub webhook_url: Option<String>,
    /// Signs every delivery. Never logged: this type has no `Debug`.
    pub webhook_secret: Option<String>,
}

/// The tenant's endpoint.
pub async fn endpoint(conn: &mut Conn<'_>, tenant_id: i64) -> sqlx::Result<Option<EndpointRow>> {
    let sql = "select webhook_url, webhook_secret from tenant where tenant_id = $1";
    on_conn!(conn, c => sqlx::query_as(sql).bind(tenant_id).fetch_optional(&mut **c).await)
}

/// Sets (or clears) the tenant's webhook URL.
pub async fn set_url(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    url: Option<&str>,
    now: i64,
) -> sqlx::Result<()> {
    let sql = "update tenant set webhook_url = $2, updated_at = $3 where tenant_id = $1";
    on_conn!(conn, c => sqlx::query(sql).bind(tenant_id).bind(url).bind(now).execute(&mut **c).await.map(|_| ()))
}

/// Replaces the tenant's signing secret.
pub async fn set_secret(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    secret: &str,
    now: i64,
) -> sqlx::Result<()> {
    let sql = "update tenant set webhook_secret = $2, updated_at = $3 where tenant_id = $1";
    on_conn!(conn, c => sqlx::query(sql).bind(tenant_id).bind(secret).bind(now).execute(&mut **c).await.map(|_| ()))
}

/// A delivery in the outbox.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    /// Primary key.
    pub webhook_delivery_id: i64,
    /// Owner.
    pub tenant_id: i64,
    /// The call it is about, if any.
    pub phone_call_id: Option<i64>,
    /// `call.completed`, …
    pub event: String,
    /// Target.
    pub url: String,
    /// The JSON body, exactly as signed.
    pub payload: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// When to try next.
    pub next_attempt_at: i64,
    /// HTTP status of the last attempt.
    pub last_status_code: Option<i64>,
    /// How long the last attempt took.
    pub last_response_ms: Option<i64>,
    /// The start of the last response body.
    pub last_response_head: Option<String>,
    /// Why the last attempt failed, if it did not get an answer.
    pub last_error: Option<String>,
    /// When it was delivered.
    pub delivered_at: Option<i64>,
    /// Enqueued at.
    pub created_at: i64,
}

const COLUMNS: &str =
    "webhook_delivery_id, tenant_id, phone_call_id, event, url, payload, status, \
    attempts, next_attempt_at, last_status_code, last_response_ms, last_response_head, last_error, \
    delivered_at, created_at";

/// Puts a delivery in the outbox.
pub async fn enqueue(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    phone_call_id: Option<i64>,
    event: &str,
    url: &str,
    payload: &str,
    now: i64,
) -> sqlx::Result<i64> {
    let sql = "insert into webhook_delivery (tenant_id, phone_call_id, event, url, payload, next_attempt_at, created_at) \
               values ($1, $2, $3, $4, $5, $6, $6) returning webhook_delivery_id";
    on_conn!(conn, c => sqlx::query_scalar(sql).bind(tenant_id).bind(phone_call_id).bind(event).bind(url)
        .bind(payload).bind(now).fetch_one(&mut **c).await)
}

/// Deliveries due now, oldest first, skipping any that wait behind an earlier pending delivery
/// for the same call and endpoint (events of a call arrive in order).
pub async fn due(conn: &mut Conn<'_>, now: i64, limit: i64) -> sqlx::Result<Vec<DeliveryRow>> {
    let columns = super::qualified(COLUMNS, "d");
    let sql = format!(
        "select {columns} from webhook_delivery d where d.status = 'pending' and d.next_attempt_at <= $1 \
         and not exists (select 1 from webhook_delivery e where e.status = 'pending' \
         and e.phone_call_id = d.phone_call_id and e.url = d.url \
         and e.webhook_delivery_id < d.webhook_delivery_id) \
         order by d.webhook_delivery_id limit $2"
    );
    on_conn!(conn, c => sqlx::query_as(&sql).bind(now).bind(limit).fetch_all(&mut **c).await)
}

/// Leases a due delivery to this worker until `until` (another process sees it as not due);
/// false if someone else took it first.
pub async fn claim(
    conn: &mut Conn<'_>,
    id: i64,
    seen_next_attempt_at: i64,
    until: i64,
) -> sqlx::Result<bool> {
    let sql = "update webhook_delivery set next_attempt_at = $3 \
               where webhook_delivery_id = $1 and next_attempt_at = $2 and status = 'pending'";
    on_conn!(conn, c => sqlx::query(sql).bind(id).bind(seen_next_attempt_at).bind(until)
        .execute(&mut **c).await.map(|r| r.rows_affected() == 1))
}

/// What one attempt gave.
pub struct Attempt<'a> {
    /// `delivered`, `pending` (retry at `next_attempt_at`) or `failed` (gave up).
    pub status: &'a str,
    /// HTTP status, if the endpoint answered.
    pub status_code: Option<i64>,
    /// Round-trip time.
    pub response_ms: i64,
    /// The start of the answer.
    pub response_head: Option<&'a str>,
    /// Why there was no (good) answer.
    pub error: Option<&'a str>,
    /// When to retry.
    pub next_attempt_at: i64,
}

/// Records an attempt.
pub async fn record(
    conn: &mut Conn<'_>,
    id: i64,
    attempt: &Attempt<'_>,
    now: i64,
) -> sqlx::Result<()> {
    let sql = "update webhook_delivery set status = $2, attempts = attempts + 1, last_status_code = $3, \
               last_response_ms = $4, last_response_head = $5, last_error = $6, next_attempt_at = $7, \
               delivered_at = case when $2 = 'delivered' then $8 else delivered_at end \
               where webhook_delivery_id = $1";
    on_conn!(conn, c => sqlx::query(sql)
        .bind(id)
        .bind(attempt.status)
        .bind(attempt.status_code)
        .bind(attempt.response_ms)
        .bind(attempt.response_head)
        .bind(attempt.error)
        .bind(attempt.next_attempt_at)
        .bind(now)
        .execute(&mut **c).await.map(|_| ()))
}

/// The tenant's latest deliveries, newest first.
pub async fn recent(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    limit: i64,
) -> sqlx::Result<Vec<DeliveryRow>> {
    let sql = format!(
        "select {COLUMNS} from webhook_delivery where tenant_id = $1 \
         order by webhook_delivery_id desc limit $2"
    );
    on_conn!(conn, c => sqlx::query_as(&sql).bind(tenant_id).bind(limit).fetch_all(&mut **c).await)
}

/// One of the tenant's deliveries.
pub async fn find(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    id: i64,
) -> sqlx::Result<Option<DeliveryRow>> {
    let sql = format!(
        "select {COLUMNS} from webhook_delivery where tenant_id = $1 and webhook_delivery_id = $2"
    );
    on_conn!(conn, c => sqlx::query_as(&sql).bind(tenant_id).bind(id).fetch_optional(&mut **c).await)
}
