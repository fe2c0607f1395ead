//! `tenant`: operators (taxi companies).

use crate::backend::db::Conn;
use crate::on_conn;

/// A row of `tenant`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TenantRow {
    /// Primary key.
    pub tenant_id: i64,
    /// Company name.
    pub name: String,
    /// Creation time.
    pub created_at: i64,
}

/// Inserts a tenant.
pub async fn insert(conn: &mut Conn<'_>, name: &str, now: i64) -> sqlx::Result<i64> {
    let sql =
        "insert into tenant (name, created_at, updated_at) values ($1, $2, $2) returning tenant_id";
    on_conn!(conn, c => sqlx::query_scalar(sql).bind(name).bind(now).fetch_one(&mut **c).await)
}

/// Finds a tenant by id.
pub async fn find(conn: &mut Conn<'_>, tenant_id: i64) -> sqlx::Result<Option<TenantRow>> {
    let sql = "select tenant_id, name, created_at from tenant where tenant_id = $1";
    on_conn!(conn, c => sqlx::query_as(sql).bind(tenant_id).fetch_optional(&mut **c).await)
}

/// Tenants with exactly this name (names are not unique; the CLI refuses ambiguity).
pub async fn find_by_name(conn: &mut Conn<'_>, name: &str) -> sqlx::Result<Vec<TenantRow>> {
    let sql = "select tenant_id, name, created_at from tenant where name = $1 order by tenant_id";
    on_conn!(conn, c => sqlx::query_as(sql).bind(name).fetch_all(&mut **c).await)
}

/// Sets the tenant's low-balance threshold in minutes.
pub async fn set_low_balance_minutes(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    minutes: i64,
    now: i64,
) -> sqlx::Result<()> {
    let sql = "update tenant set low_balance_minutes = $2, updated_at = $3 where tenant_id = $1";
    on_conn!(conn, c => sqlx::query(sql).bind(tenant_id).bind(minutes).bind(now).execute(&mut **c).await.map(|_| ()))
}

/// A tenant's call defaults and limits.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CallSettingsRow {
    /// `passenger` or `driver`: who is called first.
    pub first_party: String,
    /// Longest call, in seconds.
    pub max_call_seconds: i64,
    /// How long a leg may ring, in seconds.
    pub ring_timeout_seconds: i64,
    /// Whether calls are recorded.
    pub record_calls: bool,
    /// Whether the welcome message plays.
    pub welcome_enabled: bool,
    /// Whether the second party hears it too.
    pub welcome_to_second: bool,
    /// Calls that may be live at once (set by the platform).
    pub max_concurrent_calls: i64,
    /// The number both parties see (digits), or the trunk's default.
    pub caller_id: Option<String>,
}

/// The tenant's call settings.
pub async fn call_settings(
    conn: &mut Conn<'_>,
    tenant_id: i64,
) -> sqlx::Result<Option<CallSettingsRow>> {
    let sql = "select first_party, max_call_seconds, ring_timeout_seconds, record_calls, \
               welcome_enabled, welcome_to_second, max_concurrent_calls, caller_id from tenant \
               where tenant_id = $1";
    on_conn!(conn, c => sqlx::query_as(sql).bind(tenant_id).fetch_optional(&mut **c).await)
}

/// Changes the settings an operator controls (not the concurrency limit).
pub async fn set_call_settings(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    settings: &CallSettingsRow,
    now: i64,
) -> sqlx::Result<()> {
    let sql =
        "update tenant set first_party = $2, max_call_seconds = $3, ring_timeout_seconds = $4, \
               record_calls = $5, welcome_enabled = $6, welcome_to_second = $8, caller_id = $9, \
               updated_at = $7 where tenant_id = $1";
    on_conn!(conn, c => sqlx::query(sql)
        .bind(tenant_id)
        .bind(&settings.first_party)
        .bind(settings.max_call_seconds)
        .bind(settings.ring_timeout_seconds)
        .bind(settings.record_calls)
        .bind(settings.welcome_enabled)
        .bind(now)
        .bind(settings.welcome_to_second)
        .bind(&settings.caller_id)
        .execute(&mut **c).await.map(|_| ()))
}

/// Sets the number a tenant's calls show (platform admins); false if there is no such tenant.
pub async fn set_caller_id(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    caller_id: Option<&str>,
    now: i64,
) -> sqlx::Result<bool> {
    let sql = "update tenant set caller_id = $2, updated_at = $3 where tenant_id = $1";
    on_conn!(conn, c => sqlx::query(sql).bind(tenant_id).bind(caller_id).bind(now)
        .execute(&mut **c).await.map(|r| r.rows_affected() > 0))
}

/// Sets how many calls may be live at once (platform admins, and tests).
pub async fn set_max_concurrent_calls(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    limit: i64,
    now: i64,
) -> sqlx::Result<()> {
    let sql = "update tenant set max_concurrent_calls = $2, updated_at = $3 where tenant_id = $1";
    on_conn!(conn, c => sqlx::query(sql).bind(tenant_id).bind(limit).bind(now).execute(&mut **c).await.map(|_| ()))
}
