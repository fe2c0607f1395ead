//! `membership`: who belongs to which tenant, with which role.

use crate::backend::db::Conn;
use crate::on_conn;

/// A tenant as one of its members sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MembershipRow {
    /// Membership id.
    pub membership_id: i64,
    /// The tenant.
    pub tenant_id: i64,
    /// The tenant's name.
    pub tenant_name: String,
    /// `owner`, `admin` or `viewer`.
    pub role: String,
}

/// A member as the tenant's team page shows them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    /// Membership id.
    pub membership_id: i64,
    /// The person.
    pub user_id: i64,
    /// Their e-mail.
    pub email: String,
    /// Their name.
    pub full_name: String,
    /// `owner`, `admin` or `viewer`.
    pub role: String,
    /// Whether their address is confirmed.
    pub email_verified_at: Option<i64>,
    /// When they joined.
    pub created_at: i64,
}

/// Adds a person to a tenant; already being a member is a unique violation.
pub async fn insert(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    user_id: i64,
    role: &str,
    now: i64,
) -> sqlx::Result<i64> {
    let sql = "insert into membership (tenant_id, user_id, role, created_at, updated_at) values ($1, $2, $3, $4, $4) returning membership_id";
    on_conn!(conn, c => sqlx::query_scalar(sql).bind(tenant_id).bind(user_id).bind(role).bind(now).fetch_one(&mut **c).await)
}

/// The tenants a person belongs to, by name.
pub async fn for_user(conn: &mut Conn<'_>, user_id: i64) -> sqlx::Result<Vec<MembershipRow>> {
    let sql = "select m.membership_id, m.tenant_id, t.name as tenant_name, m.role from membership m \
               join tenant t on t.tenant_id = m.tenant_id where m.user_id = $1 order by t.name, t.tenant_id";
    on_conn!(conn, c => sqlx::query_as(sql).bind(user_id).fetch_all(&mut **c).await)
}

/// The person's membership of one tenant, if any.
pub async fn of_user_in_tenant(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    user_id: i64,
) -> sqlx::Result<Option<MembershipRow>> {
    let sql = "select m.membership_id, m.tenant_id, t.name as tenant_name, m.role from membership m \
               join tenant t on t.tenant_id = m.tenant_id where m.tenant_id = $1 and m.user_id = $2";
    on_conn!(conn, c => sqlx::query_as(sql).bind(tenant_id).bind(user_id).fetch_optional(&mut **c).await)
}

const MEMBER_SELECT: &str = "select m.membership_id, u.user_id, u.email, u.full_name, m.role, u.email_verified_at, m.created_at \
                             from membership m join app_user u on u.user_id = m.user_id";

/// Every member of a tenant.
pub async fn list(conn: &mut Conn<'_>, tenant_id: i64) -> sqlx::Result<Vec<MemberRow>> {
    let sql =
        format!("{MEMBER_SELECT} where m.tenant_id = $1 order by m.created_at, m.membership_id");
    on_conn!(conn, c => sqlx::query_as(&sql).bind(tenant_id).fetch_all(&mut **c).await)
}

/// One member of a tenant; another tenant's membership id finds nothing.
pub async fn find(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    membership_id: i64,
) -> sqlx::Result<Option<MemberRow>> {
    let sql = format!("{MEMBER_SELECT} where m.tenant_id = $1 and m.membership_id = $2");
    on_conn!(conn, c => sqlx::query_as(&sql).bind(tenant_id).bind(membership_id).fetch_optional(&mut **c).await)
}

/// Changes a member's role.
pub async fn set_role(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    membership_id: i64,
    role: &str,
    now: i64,
) -> sqlx::Result<u64> {
    let sql = "update membership set role = $3, updated_at = $4 where tenant_id = $1 and membership_id = $2";
    on_conn!(conn, c => sqlx::query(sql).bind(tenant_id).bind(membership_id).bind(role).bind(now).execute(&mut **c).await.map(|r| r.rows_affected()))
}

/// Removes a member.
pub async fn delete(conn: &mut Conn<'_>, tenant_id: i64, membership_id: i64) -> sqlx::Result<u64> {
    let sql = "delete from membership where tenant_id = $1 and membership_id = $2";
    on_conn!(conn, c => sqlx::query(sql).bind(tenant_id).bind(membership_id).execute(&mut **c).await.map(|r| r.rows_affected()))
}

/// How many owners a tenant has (the last one cannot leave or be demoted).
pub async fn count_owners(conn: &mut Conn<'_>, tenant_id: i64) -> sqlx::Result<i64> {
    let sql = "select count(*) from membership where tenant_id = $1 and role = 'owner'";
    on_conn!(conn, c => sqlx::query_scalar(sql).bind(tenant_id).fetch_one(&mut **c).await)
}
