//! `api_token`: bearer tokens for the JSON API, stored as SHA-256 hashes.

use crate::backend::db::Conn;
use crate::on_conn;

/// A token as the panel lists it (never the token itself).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    /// Primary key.
    pub api_token_id: i64,
    /// Owner.
    pub tenant_id: i64,
    /// The operator's label.
    pub name: String,
    /// The visible start of the token (`pol_test_AbCd`).
    pub prefix: String,
    /// Issued at.
    pub created_at: i64,
    /// Last authenticated request (updated at most once a minute).
    pub last_used_at: Option<i64>,
    /// Revoked at.
    pub revoked_at: Option<i64>,
}

const COLUMNS: &str = "api_token_id, tenant_id, name, prefix, created_at, last_used_at, revoked_at";

/// Stores a new token's hash.
pub async fn insert(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    name: &str,
    prefix: &str,
    token_hash: &str,
    user_id: Option<i64>,
    now: i64,
) -> sqlx::Result<i64> {
    let sql = "insert into api_token (tenant_id, name, prefix, token_hash, created_by_user_id, created_at) \
               values ($1, $2, $3, $4, $5, $6) returning api_token_id";
    on_conn!(conn, c => sqlx::query_scalar(sql)
        .bind(tenant_id).bind(name).bind(prefix).bind(token_hash).bind(user_id).bind(now)
        .fetch_one(&mut **c).await)
}

/// The tenant's tokens, newest first, revoked ones included.
pub async fn for_tenant(conn: &mut Conn<'_>, tenant_id: i64) -> sqlx::Result<Vec<TokenRow>> {
    let sql =
        format!("select {COLUMNS} from api_token where tenant_id = $1 order by api_token_id desc");
    on_conn!(conn, c => sqlx::query_as(&sql).bind(tenant_id).fetch_all(&mut **c).await)
}

/// The live token with this hash.
pub async fn find_live(conn: &mut Conn<'_>, token_hash: &str) -> sqlx::Result<Option<TokenRow>> {
    let sql =
        format!("select {COLUMNS} from api_token where token_hash = $1 and revoked_at is null");
    on_conn!(conn, c => sqlx::query_as(&sql).bind(token_hash).fetch_optional(&mut **c).await)
}

/// Revokes one of the tenant's tokens; false if there is no such live token.
pub async fn revoke(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    api_token_id: i64,
    now: i64,
) -> sqlx::Result<bool> {
    let sql = "update api_token set revoked_at = $3 \
               where tenant_id = $1 and api_token_id = $2 and revoked_at is null";
    on_conn!(conn, c => sqlx::query(sql).bind(tenant_id).bind(api_token_id).bind(now)
        .execute(&mut **c).await.map(|r| r.rows_affected() == 1))
}

/// Records use, at most once per `resolution_ms`.
pub async fn touch(
    conn: &mut Conn<'_>,
    api_token_id: i64,
    now: i64,
    resolution_ms: i64,
) -> sqlx::Result<()> {
    let sql = "update api_token set last_used_at = $2 \
               where api_token_id = $1 and (last_used_at is null or last_used_at < $3)";
    on_conn!(conn, c => sqlx::query(sql).bind(api_token_id).bind(now).bind(now - resolution_ms)
        .execute(&mut **c).await.map(|_| ()))
}
