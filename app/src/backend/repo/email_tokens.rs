//! `email_token`: single-use links for e-mail verification and password reset.

use crate::backend::db::Conn;
use crate::on_conn;

/// A stored token.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EmailTokenRow {
    /// Primary key.
    pub email_token_id: i64,
    /// Whose token.
    pub user_id: i64,
    /// End of validity.
    pub expires_at: i64,
    /// Set once used.
    pub used_at: Option<i64>,
}

/// Stores a token hash.
pub async fn insert(
    conn: &mut Conn<'_>,
    user_id: i64,
    purpose: &str,
    token_hash: &str,
    expires_at: i64,
    now: i64,
) -> sqlx::Result<()> {
    let sql = "insert into email_token (user_id, purpose, token_hash, expires_at, created_at) values ($1, $2, $3, $4, $5)";
    on_conn!(conn, c => sqlx::query(sql).bind(user_id).bind(purpose).bind(token_hash).bind(expires_at).bind(now).execute(&mut **c).await.map(|_| ()))
}

/// Finds a token by hash and purpose.
pub async fn find(
    conn: &mut Conn<'_>,
    purpose: &str,
    token_hash: &str,
) -> sqlx::Result<Option<EmailTokenRow>> {
    let sql = "select email_token_id, user_id, expires_at, used_at from email_token where purpose = $1 and token_hash = $2";
    on_conn!(conn, c => sqlx::query_as(sql).bind(purpose).bind(token_hash).fetch_optional(&mut **c).await)
}

/// Marks a token used; returns false if it already was (a concurrent use lost the race).
pub async fn consume(conn: &mut Conn<'_>, email_token_id: i64, now: i64) -> sqlx::Result<bool> {
    let sql = "update email_token set used_at = $2 where email_token_id = $1 and used_at is null";
    on_conn!(conn, c => sqlx::query(sql).bind(email_token_id).bind(now).execute(&mut **c).await.map(|r| r.rows_affected() == 1))
}

/// Uses up every outstanding token of a purpose (e.g. all reset links once the password changed).
pub async fn consume_all(
    conn: &mut Conn<'_>,
    user_id: i64,
    purpose: &str,
    now: i64,
) -> sqlx::Result<()> {
    let sql = "update email_token set used_at = $3 where user_id = $1 and purpose = $2 and used_at is null";
    on_conn!(conn, c => sqlx::query(sql).bind(user_id).bind(purpose).bind(now).execute(&mut **c).await.map(|_| ()))
}

/// How many tokens of a purpose were issued to a person since `since` (to limit resends).
pub async fn count_since(
    conn: &mut Conn<'_>,
    user_id: i64,
    purpose: &str,
    since: i64,
) -> sqlx::Result<i64> {
    let sql =
        "select count(*) from email_token where user_id = $1 and purpose = $2 and created_at >= $3";
    on_conn!(conn, c => sqlx::query_scalar(sql).bind(user_id).bind(purpose).bind(since).fetch_one(&mut **c).await)
}
