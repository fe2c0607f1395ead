//! `welcome_message`: one per tenant.

use crate::backend::db::Conn;
use crate::on_conn;

/// A tenant's welcome message.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WelcomeRow {
    /// Owner.
    pub tenant_id: i64,
    /// Raw 16-bit 8 kHz mono PCM, relative to the media root.
    pub pcm_path: String,
    /// Browser-playable WAV, relative to the media root.
    pub preview_path: String,
    /// Length after trimming.
    pub duration_ms: i64,
    /// The uploaded file's name.
    pub original_name: String,
    /// The uploaded file's size.
    pub original_bytes: i64,
    /// Uploaded at.
    pub created_at: i64,
}

/// The tenant's welcome message.
pub async fn find(conn: &mut Conn<'_>, tenant_id: i64) -> sqlx::Result<Option<WelcomeRow>> {
    let sql =
        "select tenant_id, pcm_path, preview_path, duration_ms, original_name, original_bytes, \
               created_at from welcome_message where tenant_id = $1";
    on_conn!(conn, c => sqlx::query_as(sql).bind(tenant_id).fetch_optional(&mut **c).await)
}

/// Stores (or replaces) the tenant's welcome message.
pub async fn upsert(conn: &mut Conn<'_>, row: &WelcomeRow) -> sqlx::Result<()> {
    let sql = "insert into welcome_message (tenant_id, pcm_path, preview_path, duration_ms, original_name, \
               original_bytes, created_at) values ($1, $2, $3, $4, $5, $6, $7) \
               on conflict (tenant_id) do update set pcm_path = excluded.pcm_path, \
               preview_path = excluded.preview_path, duration_ms = excluded.duration_ms, \
               original_name = excluded.original_name, original_bytes = excluded.original_bytes, \
               created_at = excluded.created_at";
    on_conn!(conn, c => sqlx::query(sql)
        .bind(row.tenant_id).bind(&row.pcm_path).bind(&row.preview_path).bind(row.duration_ms)
        .bind(&row.original_name).bind(row.original_bytes).bind(row.created_at)
        .execute(&mut **c).await.map(|_| ()))
}

/// Removes the tenant's welcome message; false if there was none.
pub async fn delete(conn: &mut Conn<'_>, tenant_id: i64) -> sqlx::Result<bool> {
    let sql = "delete from welcome_message where tenant_id = $1";
    on_conn!(conn, c => sqlx::query(sql).bind(tenant_id).execute(&mut **c).await.map(|r| r.rows_affected() == 1))
}
