//! `login_failure`: failed sign-ins, counted per account and per client address.

use crate::backend::db::Conn;
use crate::on_conn;

/// Records a failure under `key` (`acct:<email>` or `ip:<address>`).
pub async fn record(conn: &mut Conn<'_>, key: &str, now: i64) -> sqlx::Result<()> {
    let sql = "insert into login_failure (throttle_key, created_at) values ($1, $2)";
    on_conn!(conn, c => sqlx::query(sql).bind(key).bind(now).execute(&mut **c).await.map(|_| ()))
}

/// Failures under `key` since `since`: how many, and the oldest one's time.
pub async fn since(conn: &mut Conn<'_>, key: &str, since: i64) -> sqlx::Result<(i64, Option<i64>)> {
    let sql = "select count(*), min(created_at) from login_failure where throttle_key = $1 and created_at >= $2";
    on_conn!(conn, c => sqlx::query_as(sql).bind(key).bind(since).fetch_one(&mut **c).await)
}

/// Forgets the failures under `key` (after a successful sign-in).
pub async fn clear(conn: &mut Conn<'_>, key: &str) -> sqlx::Result<()> {
    let sql = "delete from login_failure where throttle_key = $1";
    on_conn!(conn, c => sqlx::query(sql).bind(key).execute(&mut **c).await.map(|_| ()))
}

/// Deletes failures older than `before`.
pub async fn prune(conn: &mut Conn<'_>, before: i64) -> sqlx::Result<u64> {
    let sql = "delete from login_failure where created_at < $1";
    on_conn!(conn, c => sqlx::query(sql).bind(before).execute(&mut **c).await.map(|r| r.rows_affected()))
}
