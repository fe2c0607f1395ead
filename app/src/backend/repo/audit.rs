//! `audit_log`: who did what, for the operator and the platform admin.

use crate::backend::db::Conn;
use crate::on_conn;

/// Appends an entry.
pub async fn record(
    conn: &mut Conn<'_>,
    tenant_id: Option<i64>,
    user_id: Option<i64>,
    action: &str,
    detail: &str,
    now: i64,
) -> sqlx::Result<()> {
    let sql = "insert into audit_log (tenant_id, user_id, action, detail, created_at) values ($1, $2, $3, $4, $5)";
    on_conn!(conn, c => sqlx::query(sql).bind(tenant_id).bind(user_id).bind(action).bind(detail).bind(now).execute(&mut **c).await.map(|_| ()))
}
