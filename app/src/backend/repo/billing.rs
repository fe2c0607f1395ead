//! `tenant_balance`, `credit_lot`, `credit_hold`, `hold_charge`, `ledger_entry`, `tariff_tier`.

use crate::backend::db::Conn;
use crate::on_conn;

/// Seconds a tenant owns and has reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct BalanceRow {
    /// Σ seconds left in the tenant's lots.
    pub seconds_total: i64,
    /// Σ seconds of open holds.
    pub seconds_held: i64,
}

/// A credit lot with time left.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LotRow {
    /// Primary key.
    pub credit_lot_id: i64,
    /// Seconds not yet consumed.
    pub seconds_left: i64,
    /// Price per minute this lot was bought at.
    pub rate_rial_per_minute: i64,
    /// Billing increment of its tariff.
    pub increment_seconds: i64,
}

/// A hold.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HoldRow {
    /// Primary key.
    pub credit_hold_id: i64,
    /// Owner.
    pub tenant_id: i64,
    /// The call it reserves for.
    pub call_ref: String,
    /// Seconds reserved.
    pub seconds: i64,
    /// Billing increment used at settlement.
    pub increment_seconds: i64,
    /// `open`, `settled` or `released`.
    pub status: String,
    /// Billed seconds once settled.
    pub billed_seconds: Option<i64>,
    /// Cost once settled.
    pub cost_rial: Option<i64>,
}

/// One lot's share of a settled hold.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChargeRow {
    /// The lot.
    pub credit_lot_id: i64,
    /// Seconds taken from it.
    pub seconds: i64,
    /// Its rate.
    pub rate_rial_per_minute: i64,
    /// What those seconds cost.
    pub cost_rial: i64,
}

/// A ledger entry.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LedgerRow {
    /// Primary key (the ledger's order).
    pub ledger_entry_id: i64,
    /// `top_up`, `hold`, `release`, `call_debit`, `refund` or `adjustment`.
    pub kind: String,
    /// Change to the available seconds.
    pub seconds_delta: i64,
    /// Money moved (cost of a debit, price of a top-up).
    pub amount_rial: i64,
    /// Available seconds after this entry.
    pub balance_after: i64,
}

/// A new ledger entry.
pub struct NewEntry<'a> {
    /// Owner.
    pub tenant_id: i64,
    /// Kind.
    pub kind: &'a str,
    /// Change to available seconds.
    pub seconds_delta: i64,
    /// Money moved.
    pub amount_rial: i64,
    /// Available seconds after.
    pub balance_after: i64,
    /// Related hold.
    pub credit_hold_id: Option<i64>,
    /// Related lot.
    pub credit_lot_id: Option<i64>,
    /// Why (admin adjustments).
    pub reason: &'a str,
}

/// A tariff tier row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TierRow {
    /// Primary key.
    pub tariff_tier_id: i64,
    /// Smallest top-up it applies to.
    pub min_amount_rial: i64,
    /// Price per minute.
    pub rate_rial_per_minute: i64,
    /// Billing increment.
    pub increment_seconds: i64,
    /// In force from (Unix ms).
    pub effective_from: i64,
}

/// Creates the tenant's balance row if missing.
pub async fn ensure_balance(conn: &mut Conn<'_>, tenant_id: i64, now: i64) -> sqlx::Result<()> {
    let sql = "insert into tenant_balance (tenant_id, seconds_total, seconds_held, updated_at) values ($1, 0, 0, $2) on conflict (tenant_id) do nothing";
    on_conn!(conn, c => sqlx::query(sql).bind(tenant_id).bind(now).execute(&mut **c).await.map(|_| ()))
}

/// The tenant's balance (zero if it never had one).
pub async fn balance(conn: &mut Conn<'_>, tenant_id: i64) -> sqlx::Result<BalanceRow> {
    let sql = "select seconds_total, seconds_held from tenant_balance where tenant_id = $1";
    let row: Option<BalanceRow> =
        on_conn!(conn, c => sqlx::query_as(sql).bind(tenant_id).fetch_optional(&mut **c).await)?;
    Ok(row.unwrap_or(BalanceRow {
        seconds_total: 0,
        seconds_held: 0,
    }))
}

/// Reserves `seconds` if that many are available; false if a concurrent change got there first.
pub async fn reserve(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    seconds: i64,
    now: i64,
) -> sqlx::Result<bool> {
    let sql = "update tenant_balance set seconds_held = seconds_held + $2, updated_at = $3 \
               where tenant_id = $1 and seconds_total - seconds_held >= $2";
    on_conn!(conn, c => sqlx::query(sql).bind(tenant_id).bind(seconds).bind(now).execute(&mut **c).await.map(|r| r.rows_affected() == 1))
}

/// Adds to the totals (negative to take away); the table's checks refuse going below zero.
pub async fn adjust(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    total_delta: i64,
    held_delta: i64,
    now: i64,
) -> sqlx::Result<BalanceRow> {
    let sql = "update tenant_balance set seconds_total = seconds_total + $2, seconds_held = seconds_held + $3, updated_at = $4 \
               where tenant_id = $1 returning seconds_total, seconds_held";
    on_conn!(conn, c => sqlx::query_as(sql).bind(tenant_id).bind(total_delta).bind(held_delta).bind(now).fetch_one(&mut **c).await)
}

/// The tenant's lots with time left, oldest first.
pub async fn open_lots(conn: &mut Conn<'_>, tenant_id: i64) -> sqlx::Result<Vec<LotRow>> {
    let sql = "select credit_lot_id, seconds_left, rate_rial_per_minute, increment_seconds from credit_lot \
               where tenant_id = $1 and seconds_left > 0 order by credit_lot_id";
    on_conn!(conn, c => sqlx::query_as(sql).bind(tenant_id).fetch_all(&mut **c).await)
}

/// Takes seconds from a lot; false if it no longer has them.
pub async fn consume_lot(
    conn: &mut Conn<'_>,
    credit_lot_id: i64,
    seconds: i64,
) -> sqlx::Result<bool> {
    let sql = "update credit_lot set seconds_left = seconds_left - $2 where credit_lot_id = $1 and seconds_left >= $2";
    on_conn!(conn, c => sqlx::query(sql).bind(credit_lot_id).bind(seconds).execute(&mut **c).await.map(|r| r.rows_affected() == 1))
}

/// A new lot.
pub struct NewLot<'a> {
    /// Owner.
    pub tenant_id: i64,
    /// `payment`, `admin` or `refund`.
    pub source: &'a str,
    /// The paying payment, if any.
    pub payment_id: Option<i64>,
    /// Seconds bought.
    pub seconds: i64,
    /// Price per minute.
    pub rate_rial_per_minute: i64,
    /// Billing increment.
    pub increment_seconds: i64,
    /// Price paid.
    pub amount_rial: i64,
}

/// Inserts a lot.
pub async fn insert_lot(conn: &mut Conn<'_>, lot: &NewLot<'_>, now: i64) -> sqlx::Result<i64> {
    let sql = "insert into credit_lot (tenant_id, source, payment_id, seconds_bought, seconds_left, rate_rial_per_minute, increment_seconds, amount_rial, created_at) \
               values ($1, $2, $3, $4, $4, $5, $6, $7, $8) returning credit_lot_id";
    on_conn!(conn, c => sqlx::query_scalar(sql)
        .bind(lot.tenant_id).bind(lot.source).bind(lot.payment_id).bind(lot.seconds)
        .bind(lot.rate_rial_per_minute).bind(lot.increment_seconds).bind(lot.amount_rial).bind(now)
        .fetch_one(&mut **c).await)
}

const HOLD_COLUMNS: &str = "credit_hold_id, tenant_id, call_ref, seconds, increment_seconds, status, billed_seconds, cost_rial";

/// The tenant's hold for a call.
pub async fn find_hold(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    call_ref: &str,
) -> sqlx::Result<Option<HoldRow>> {
    let sql =
        format!("select {HOLD_COLUMNS} from credit_hold where tenant_id = $1 and call_ref = $2");
    on_conn!(conn, c => sqlx::query_as(&sql).bind(tenant_id).bind(call_ref).fetch_optional(&mut **c).await)
}

/// Inserts an open hold.
pub async fn insert_hold(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    call_ref: &str,
    seconds: i64,
    increment: i64,
    now: i64,
) -> sqlx::Result<i64> {
    let sql = "insert into credit_hold (tenant_id, call_ref, seconds, increment_seconds, status, created_at) \
               values ($1, $2, $3, $4, 'open', $5) returning credit_hold_id";
    on_conn!(conn, c => sqlx::query_scalar(sql).bind(tenant_id).bind(call_ref).bind(seconds).bind(increment).bind(now).fetch_one(&mut **c).await)
}

/// Closes an open hold; false if it was already closed.
pub async fn close_hold(
    conn: &mut Conn<'_>,
    hold_id: i64,
    status: &str,
    talk: Option<i64>,
    billed: Option<i64>,
    cost: Option<i64>,
    now: i64,
) -> sqlx::Result<bool> {
    let sql = "update credit_hold set status = $2, talk_seconds = $3, billed_seconds = $4, cost_rial = $5, closed_at = $6 \
               where credit_hold_id = $1 and status = 'open'";
    on_conn!(conn, c => sqlx::query(sql).bind(hold_id).bind(status).bind(talk).bind(billed).bind(cost).bind(now).execute(&mut **c).await.map(|r| r.rows_affected() == 1))
}

/// Records one lot's share of a settled hold.
pub async fn insert_charge(
    conn: &mut Conn<'_>,
    hold_id: i64,
    charge: &ChargeRow,
) -> sqlx::Result<()> {
    let sql = "insert into hold_charge (credit_hold_id, credit_lot_id, seconds, rate_rial_per_minute, cost_rial) values ($1, $2, $3, $4, $5)";
    on_conn!(conn, c => sqlx::query(sql).bind(hold_id).bind(charge.credit_lot_id).bind(charge.seconds).bind(charge.rate_rial_per_minute).bind(charge.cost_rial).execute(&mut **c).await.map(|_| ()))
}

/// The lots that paid for a hold.
pub async fn charges(conn: &mut Conn<'_>, hold_id: i64) -> sqlx::Result<Vec<ChargeRow>> {
    let sql = "select credit_lot_id, seconds, rate_rial_per_minute, cost_rial from hold_charge where credit_hold_id = $1 order by hold_charge_id";
    on_conn!(conn, c => sqlx::query_as(sql).bind(hold_id).fetch_all(&mut **c).await)
}

/// Appends a ledger entry.
pub async fn insert_entry(conn: &mut Conn<'_>, e: &NewEntry<'_>, now: i64) -> sqlx::Result<()> {
    let sql = "insert into ledger_entry (tenant_id, kind, seconds_delta, amount_rial, balance_after, credit_hold_id, credit_lot_id, reason, created_at) \
               values ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    on_conn!(conn, c => sqlx::query(sql)
        .bind(e.tenant_id).bind(e.kind).bind(e.seconds_delta).bind(e.amount_rial).bind(e.balance_after)
        .bind(e.credit_hold_id).bind(e.credit_lot_id).bind(e.reason).bind(now)
        .execute(&mut **c).await.map(|_| ()))
}

/// The tenant's ledger in order.
pub async fn ledger(conn: &mut Conn<'_>, tenant_id: i64) -> sqlx::Result<Vec<LedgerRow>> {
    let sql = "select ledger_entry_id, kind, seconds_delta, amount_rial, balance_after from ledger_entry where tenant_id = $1 order by ledger_entry_id";
    on_conn!(conn, c => sqlx::query_as(sql).bind(tenant_id).fetch_all(&mut **c).await)
}

/// Tiers in force at `at`: for each `min_amount`, the latest one that started before `at`.
pub async fn tiers(conn: &mut Conn<'_>, at: i64) -> sqlx::Result<Vec<TierRow>> {
    let sql = "select t.tariff_tier_id, t.min_amount_rial, t.rate_rial_per_minute, t.increment_seconds, t.effective_from from tariff_tier t \
               where t.effective_from <= $1 and not exists (select 1 from tariff_tier n where n.min_amount_rial = t.min_amount_rial \
               and n.effective_from <= $1 and (n.effective_from > t.effective_from or (n.effective_from = t.effective_from and n.tariff_tier_id > t.tariff_tier_id))) \
               order by t.min_amount_rial";
    on_conn!(conn, c => sqlx::query_as(sql).bind(at).fetch_all(&mut **c).await)
}

/// Adds a tier in force from `effective_from`; earlier payments keep the rate they were sold at.
pub async fn insert_tier(
    conn: &mut Conn<'_>,
    min_amount_rial: i64,
    rate_rial_per_minute: i64,
    increment_seconds: i64,
    effective_from: i64,
    now: i64,
) -> sqlx::Result<i64> {
    let sql = "insert into tariff_tier (min_amount_rial, rate_rial_per_minute, increment_seconds, effective_from, created_at) values ($1, $2, $3, $4, $5) returning tariff_tier_id";
    on_conn!(conn, c => sqlx::query_scalar(sql).bind(min_amount_rial).bind(rate_rial_per_minute).bind(increment_seconds).bind(effective_from).bind(now).fetch_one(&mut **c).await)
}

/// A tenant with its balance, for the platform admin.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TenantBalanceRow {
    /// Tenant.
    pub tenant_id: i64,
    /// Name.
    pub name: String,
    /// Σ seconds in lots.
    pub seconds_total: i64,
    /// Σ seconds held.
    pub seconds_held: i64,
    /// Created at.
    pub created_at: i64,
    /// The number its calls show, set by the platform.
    pub caller_id: Option<String>,
}

/// Every tenant with its balance, newest first.
pub async fn tenants_with_balance(
    conn: &mut Conn<'_>,
    limit: i64,
) -> sqlx::Result<Vec<TenantBalanceRow>> {
    let sql = "select t.tenant_id, t.name, coalesce(b.seconds_total, 0) as seconds_total, coalesce(b.seconds_held, 0) as seconds_held, t.created_at, t.caller_id \
               from tenant t left join tenant_balance b on b.tenant_id = t.tenant_id order by t.tenant_id desc limit $1";
    on_conn!(conn, c => sqlx::query_as(sql).bind(limit).fetch_all(&mut **c).await)
}

/// The tenant's low-balance threshold in seconds.
pub async fn low_balance_threshold(conn: &mut Conn<'_>, tenant_id: i64) -> sqlx::Result<i64> {
    let sql = "select low_balance_minutes * 60 from tenant where tenant_id = $1";
    let row: Option<i64> = on_conn!(conn, c => sqlx::query_scalar(sql).bind(tenant_id).fetch_optional(&mut **c).await)?;
    Ok(row.unwrap_or(30 * 60))
}

/// Marks the low-balance crossing announced; false if it already was.
pub async fn mark_low_balance_notified(conn: &mut Conn<'_>, tenant_id: i64) -> sqlx::Result<bool> {
    let sql = "update tenant_balance set low_balance_notified = true where tenant_id = $1 and low_balance_notified = false";
    on_conn!(conn, c => sqlx::query(sql).bind(tenant_id).execute(&mut **c).await.map(|r| r.rows_affected() == 1))
}

/// Re-arms the low-balance announcement (the balance is above the threshold again).
pub async fn rearm_low_balance(conn: &mut Conn<'_>, tenant_id: i64) -> sqlx::Result<()> {
    let sql = "update tenant_balance set low_balance_notified = false where tenant_id = $1 and low_balance_notified = true";
    on_conn!(conn, c => sqlx::query(sql).bind(tenant_id).execute(&mut **c).await.map(|_| ()))
}
