//! `app_user`: people who sign in to the panel.

use crate::backend::db::Conn;
use crate::on_conn;

/// A row of `app_user`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    /// Primary key.
    pub user_id: i64,
    /// Lower-cased, unique.
    pub email: String,
    /// Name shown in the panel.
    pub full_name: String,
    /// E.164 mobile, if given.
    pub mobile: Option<String>,
    /// argon2id PHC string; `None` until the person sets a password.
    pub password_hash: Option<String>,
    /// When the e-mail address was confirmed.
    pub email_verified_at: Option<i64>,
    /// `fa` or `en`.
    pub locale: String,
    /// Runs the installation.
    pub is_platform_admin: bool,
    /// Bumped to sign out every existing session.
    pub session_epoch: i64,
}

const COLUMNS: &str = "user_id, email, full_name, mobile, password_hash, email_verified_at, locale, is_platform_admin, session_epoch";

/// A new person.
pub struct NewUser<'a> {
    /// Lower-cased e-mail.
    pub email: &'a str,
    /// Display name.
    pub full_name: &'a str,
    /// E.164 mobile.
    pub mobile: Option<&'a str>,
    /// argon2id hash, if a password was chosen.
    pub password_hash: Option<&'a str>,
    /// `fa` or `en`.
    pub locale: &'a str,
    /// Set when the address is known to be theirs (accepted invitation).
    pub email_verified_at: Option<i64>,
}

/// Inserts a person; a taken e-mail is a unique violation.
#[tracing::instrument(skip_all)]
pub async fn insert(conn: &mut Conn<'_>, user: &NewUser<'_>, now: i64) -> sqlx::Result<i64> {
    let sql = "insert into app_user (email, full_name, mobile, password_hash, locale, email_verified_at, created_at, updated_at) \
               values ($1, $2, $3, $4, $5, $6, $7, $7) returning user_id";
    on_conn!(conn, c => sqlx::query_scalar(sql)
        .bind(user.email)
        .bind(user.full_name)
        .bind(user.mobile)
        .bind(user.password_hash)
        .bind(user.locale)
        .bind(user.email_verified_at)
        .bind(now)
        .fetch_one(&mut **c)
        .await)
}

/// Finds a person by (lower-cased) e-mail.
pub async fn find_by_email(conn: &mut Conn<'_>, email: &str) -> sqlx::Result<Option<UserRow>> {
    let sql = format!("select {COLUMNS} from app_user where email = $1");
    on_conn!(conn, c => sqlx::query_as(&sql).bind(email).fetch_optional(&mut **c).await)
}

/// Finds a person by id.
pub async fn find(conn: &mut Conn<'_>, user_id: i64) -> sqlx::Result<Option<UserRow>> {
    let sql = format!("select {COLUMNS} from app_user where user_id = $1");
    on_conn!(conn, c => sqlx::query_as(&sql).bind(user_id).fetch_optional(&mut **c).await)
}

/// Records that the person confirmed their address (first confirmation wins).
pub async fn mark_verified(conn: &mut Conn<'_>, user_id: i64, now: i64) -> sqlx::Result<()> {
    let sql = "update app_user set email_verified_at = coalesce(email_verified_at, $2), updated_at = $2 where user_id = $1";
    on_conn!(conn, c => sqlx::query(sql).bind(user_id).bind(now).execute(&mut **c).await.map(|_| ()))
}

/// Replaces the password and signs out every session (the epoch moves on).
pub async fn set_password(
    conn: &mut Conn<'_>,
    user_id: i64,
    password_hash: &str,
    now: i64,
) -> sqlx::Result<i64> {
    let sql = "update app_user set password_hash = $2, session_epoch = session_epoch + 1, updated_at = $3 \
               where user_id = $1 returning session_epoch";
    on_conn!(conn, c => sqlx::query_scalar(sql).bind(user_id).bind(password_hash).bind(now).fetch_one(&mut **c).await)
}

/// Updates name and mobile.
pub async fn update_profile(
    conn: &mut Conn<'_>,
    user_id: i64,
    full_name: &str,
    mobile: Option<&str>,
    now: i64,
) -> sqlx::Result<()> {
    let sql = "update app_user set full_name = $2, mobile = $3, updated_at = $4 where user_id = $1";
    on_conn!(conn, c => sqlx::query(sql).bind(user_id).bind(full_name).bind(mobile).bind(now).execute(&mut **c).await.map(|_| ()))
}

/// Remembers the person's language.
pub async fn set_locale(
    conn: &mut Conn<'_>,
    user_id: i64,
    locale: &str,
    now: i64,
) -> sqlx::Result<()> {
    let sql = "update app_user set locale = $2, updated_at = $3 where user_id = $1";
    on_conn!(conn, c => sqlx::query(sql).bind(user_id).bind(locale).bind(now).execute(&mut **c).await.map(|_| ()))
}

/// Makes the person a platform admin.
pub async fn set_platform_admin(conn: &mut Conn<'_>, user_id: i64, now: i64) -> sqlx::Result<()> {
    let sql = "update app_user set is_platform_admin = true, updated_at = $2 where user_id = $1";
    on_conn!(conn, c => sqlx::query(sql).bind(user_id).bind(now).execute(&mut **c).await.map(|_| ()))
}
