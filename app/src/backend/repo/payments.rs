//! `payment` and `test_gateway_charge`.

use crate::backend::db::Conn;
use crate::on_conn;

/// A payment.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PaymentRow {
    /// Primary key.
    pub payment_id: i64,
    /// Owner.
    pub tenant_id: i64,
    /// `zarinpal` or `test`.
    pub gateway: String,
    /// Amount in Rial.
    pub amount_rial: i64,
    /// Seconds it buys.
    pub seconds: i64,
    /// Rate it buys them at.
    pub rate_rial_per_minute: i64,
    /// Billing increment of that tariff.
    pub increment_seconds: i64,
    /// `pending`, `paid`, `failed` or `canceled`.
    pub status: String,
    /// Gateway id.
    pub authority: Option<String>,
    /// Gateway receipt number.
    pub ref_id: Option<String>,
    /// Masked card.
    pub card_pan: Option<String>,
    /// Why it failed.
    pub failure: Option<String>,
    /// Created at (Unix ms).
    pub created_at: i64,
    /// Paid at (Unix ms).
    pub paid_at: Option<i64>,
}

const COLUMNS: &str = "payment_id, tenant_id, gateway, amount_rial, seconds, rate_rial_per_minute, increment_seconds, status, authority, ref_id, card_pan, failure, created_at, paid_at";

/// A new pending payment.
pub struct NewPayment<'a> {
    /// Owner.
    pub tenant_id: i64,
    /// Gateway name.
    pub gateway: &'a str,
    /// Amount.
    pub amount_rial: i64,
    /// Seconds it buys.
    pub seconds: i64,
    /// Rate.
    pub rate_rial_per_minute: i64,
    /// Increment.
    pub increment_seconds: i64,
    /// Who started it.
    pub user_id: i64,
}

/// Inserts a pending payment.
pub async fn insert(conn: &mut Conn<'_>, p: &NewPayment<'_>, now: i64) -> sqlx::Result<i64> {
    let sql = "insert into payment (tenant_id, gateway, amount_rial, seconds, rate_rial_per_minute, increment_seconds, status, created_by_user_id, created_at, updated_at) \
               values ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $8) returning payment_id";
    on_conn!(conn, c => sqlx::query_scalar(sql)
        .bind(p.tenant_id).bind(p.gateway).bind(p.amount_rial).bind(p.seconds)
        .bind(p.rate_rial_per_minute).bind(p.increment_seconds).bind(p.user_id).bind(now)
        .fetch_one(&mut **c).await)
}

/// Stores the gateway's id.
pub async fn set_authority(
    conn: &mut Conn<'_>,
    payment_id: i64,
    authority: &str,
    now: i64,
) -> sqlx::Result<()> {
    let sql = "update payment set authority = $2, updated_at = $3 where payment_id = $1";
    on_conn!(conn, c => sqlx::query(sql).bind(payment_id).bind(authority).bind(now).execute(&mut **c).await.map(|_| ()))
}

/// Finds a payment by the gateway's id.
pub async fn find_by_authority(
    conn: &mut Conn<'_>,
    authority: &str,
) -> sqlx::Result<Option<PaymentRow>> {
    let sql = format!("select {COLUMNS} from payment where authority = $1");
    on_conn!(conn, c => sqlx::query_as(&sql).bind(authority).fetch_optional(&mut **c).await)
}

/// One of the tenant's payments.
pub async fn find(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    payment_id: i64,
) -> sqlx::Result<Option<PaymentRow>> {
    let sql = format!("select {COLUMNS} from payment where tenant_id = $1 and payment_id = $2");
    on_conn!(conn, c => sqlx::query_as(&sql).bind(tenant_id).bind(payment_id).fetch_optional(&mut **c).await)
}

/// The tenant's payments, newest first.
pub async fn list(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    limit: i64,
) -> sqlx::Result<Vec<PaymentRow>> {
    let sql = format!(
        "select {COLUMNS} from payment where tenant_id = $1 order by payment_id desc limit $2"
    );
    on_conn!(conn, c => sqlx::query_as(&sql).bind(tenant_id).bind(limit).fetch_all(&mut **c).await)
}

/// Pending payments with a gateway id created between `from` and `to`.
pub async fn pending_between(
    conn: &mut Conn<'_>,
    from: i64,
    to: i64,
) -> sqlx::Result<Vec<PaymentRow>> {
    let sql = format!("select {COLUMNS} from payment where status = 'pending' and authority is not null and created_at >= $1 and created_at < $2 order by payment_id");
    on_conn!(conn, c => sqlx::query_as(&sql).bind(from).bind(to).fetch_all(&mut **c).await)
}

/// Marks a pending payment paid; false if it was not pending (already credited or closed).
pub async fn mark_paid(
    conn: &mut Conn<'_>,
    payment_id: i64,
    ref_id: &str,
    card_pan: Option<&str>,
    now: i64,
) -> sqlx::Result<bool> {
    let sql = "update payment set status = 'paid', ref_id = $2, card_pan = $3, paid_at = $4, updated_at = $4 where payment_id = $1 and status = 'pending'";
    on_conn!(conn, c => sqlx::query(sql).bind(payment_id).bind(ref_id).bind(card_pan).bind(now).execute(&mut **c).await.map(|r| r.rows_affected() == 1))
}

/// Closes a pending payment as `failed` or `canceled`.
pub async fn close(
    conn: &mut Conn<'_>,
    payment_id: i64,
    status: &str,
    failure: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let sql = "update payment set status = $2, failure = $3, updated_at = $4 where payment_id = $1 and status = 'pending'";
    on_conn!(conn, c => sqlx::query(sql).bind(payment_id).bind(status).bind(failure).bind(now).execute(&mut **c).await.map(|r| r.rows_affected() == 1))
}

/// Counts a verification attempt that got no answer.
pub async fn count_attempt(conn: &mut Conn<'_>, payment_id: i64, now: i64) -> sqlx::Result<()> {
    let sql = "update payment set verify_attempts = verify_attempts + 1, updated_at = $2 where payment_id = $1";
    on_conn!(conn, c => sqlx::query(sql).bind(payment_id).bind(now).execute(&mut **c).await.map(|_| ()))
}

/// Who started a payment.
pub async fn payer(conn: &mut Conn<'_>, payment_id: i64) -> sqlx::Result<Option<i64>> {
    let sql = "select created_by_user_id from payment where payment_id = $1";
    let row: Option<Option<i64>> = on_conn!(conn, c => sqlx::query_scalar(sql).bind(payment_id).fetch_optional(&mut **c).await)?;
    Ok(row.flatten())
}

/// A test gateway charge.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TestChargeRow {
    /// Its authority.
    pub authority: String,
    /// Amount.
    pub amount_rial: i64,
    /// `open`, `paid` or `canceled`.
    pub status: String,
    /// Receipt number once paid.
    pub ref_id: Option<String>,
}

/// Opens a test charge.
pub async fn insert_test_charge(
    conn: &mut Conn<'_>,
    authority: &str,
    amount_rial: i64,
    now: i64,
) -> sqlx::Result<()> {
    let sql = "insert into test_gateway_charge (authority, amount_rial, status, created_at) values ($1, $2, 'open', $3)";
    on_conn!(conn, c => sqlx::query(sql).bind(authority).bind(amount_rial).bind(now).execute(&mut **c).await.map(|_| ()))
}

/// Finds a test charge.
pub async fn find_test_charge(
    conn: &mut Conn<'_>,
    authority: &str,
) -> sqlx::Result<Option<TestChargeRow>> {
    let sql = "select authority, amount_rial, status, ref_id from test_gateway_charge where authority = $1";
    on_conn!(conn, c => sqlx::query_as(sql).bind(authority).fetch_optional(&mut **c).await)
}

/// Records the payer's decision on an open test charge.
pub async fn decide_test_charge(
    conn: &mut Conn<'_>,
    authority: &str,
    status: &str,
    ref_id: Option<&str>,
) -> sqlx::Result<bool> {
    let sql = "update test_gateway_charge set status = $2, ref_id = $3 where authority = $1 and status = 'open'";
    on_conn!(conn, c => sqlx::query(sql).bind(authority).bind(status).bind(ref_id).execute(&mut **c).await.map(|r| r.rows_affected() == 1))
}
