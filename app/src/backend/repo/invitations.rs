//! `invitation`: an owner asks someone to join their tenant.

use crate::backend::db::Conn;
use crate::on_conn;

/// A stored invitation with its tenant's name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InvitationRow {
    /// Primary key.
    pub invitation_id: i64,
    /// The inviting tenant.
    pub tenant_id: i64,
    /// Its name.
    pub tenant_name: String,
    /// Who is invited (lower-cased).
    pub email: String,
    /// The role they will get.
    pub role: String,
    /// End of validity.
    pub expires_at: i64,
    /// Set once accepted.
    pub accepted_at: Option<i64>,
    /// Set if withdrawn.
    pub revoked_at: Option<i64>,
    /// When it was sent.
    pub created_at: i64,
}

const SELECT: &str = "select i.invitation_id, i.tenant_id, t.name as tenant_name, i.email, i.role, i.expires_at, i.accepted_at, i.revoked_at, i.created_at \
                      from invitation i join tenant t on t.tenant_id = i.tenant_id";

/// A new invitation.
pub struct NewInvitation<'a> {
    /// Inviting tenant.
    pub tenant_id: i64,
    /// Invitee.
    pub email: &'a str,
    /// Role on acceptance.
    pub role: &'a str,
    /// Hash of the e-mailed token.
    pub token_hash: &'a str,
    /// The owner who sent it.
    pub invited_by_user_id: i64,
    /// End of validity.
    pub expires_at: i64,
}

/// Stores an invitation.
pub async fn insert(conn: &mut Conn<'_>, inv: &NewInvitation<'_>, now: i64) -> sqlx::Result<i64> {
    let sql = "insert into invitation (tenant_id, email, role, token_hash, invited_by_user_id, expires_at, created_at) \
               values ($1, $2, $3, $4, $5, $6, $7) returning invitation_id";
    on_conn!(conn, c => sqlx::query_scalar(sql)
        .bind(inv.tenant_id).bind(inv.email).bind(inv.role).bind(inv.token_hash)
        .bind(inv.invited_by_user_id).bind(inv.expires_at).bind(now)
        .fetch_one(&mut **c).await)
}

/// Finds an invitation by its token hash.
pub async fn find_by_token(
    conn: &mut Conn<'_>,
    token_hash: &str,
) -> sqlx::Result<Option<InvitationRow>> {
    let sql = format!("{SELECT} where i.token_hash = $1");
    on_conn!(conn, c => sqlx::query_as(&sql).bind(token_hash).fetch_optional(&mut **c).await)
}

/// Invitations of a tenant not yet accepted, revoked or expired.
pub async fn pending(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    now: i64,
) -> sqlx::Result<Vec<InvitationRow>> {
    let sql = format!("{SELECT} where i.tenant_id = $1 and i.accepted_at is null and i.revoked_at is null and i.expires_at > $2 order by i.created_at desc");
    on_conn!(conn, c => sqlx::query_as(&sql).bind(tenant_id).bind(now).fetch_all(&mut **c).await)
}

/// Marks an invitation accepted; false if it was already used or withdrawn.
pub async fn accept(conn: &mut Conn<'_>, invitation_id: i64, now: i64) -> sqlx::Result<bool> {
    let sql = "update invitation set accepted_at = $2 where invitation_id = $1 and accepted_at is null and revoked_at is null";
    on_conn!(conn, c => sqlx::query(sql).bind(invitation_id).bind(now).execute(&mut **c).await.map(|r| r.rows_affected() == 1))
}

/// Withdraws a pending invitation of the tenant; false if there is none with that id.
pub async fn revoke(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    invitation_id: i64,
    now: i64,
) -> sqlx::Result<bool> {
    let sql = "update invitation set revoked_at = $3 where tenant_id = $1 and invitation_id = $2 and accepted_at is null and revoked_at is null";
    on_conn!(conn, c => sqlx::query(sql).bind(tenant_id).bind(invitation_id).bind(now).execute(&mut **c).await.map(|r| r.rows_affected() == 1))
}
