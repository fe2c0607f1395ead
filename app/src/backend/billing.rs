//! Prepaid talk time: credit lots, holds before a call, settlement after it, an append-only
//! ledger of every movement. A tenant can never be overdrawn: every reservation is a conditional
//! update of the tenant's balance row, so concurrent calls queue on that row and the loser sees
//! the winner's hold.

use super::db::{Db, Tx};
use super::now_ms;
use super::repo::billing::{self as repo, ChargeRow, NewEntry, NewLot};
use crate::domain::billing::{billed_seconds, cost, grant_seconds};
use crate::domain::Rial;

/// Billing increment used when a tenant has no lot to take one from.
pub const DEFAULT_INCREMENT: i64 = 60;

/// Why a billing operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    /// Less than one billing increment is available.
    #[error("insufficient credit: {available_seconds} s available")]
    InsufficientCredit {
        /// Seconds the tenant could still use.
        available_seconds: i64,
    },
    /// No hold exists for this call.
    #[error("no hold for this call")]
    HoldNotFound,
    /// A non-positive amount of time or money.
    #[error("the amount must be positive")]
    InvalidAmount,
    /// Manual adjustments must say why.
    #[error("a reason is required")]
    ReasonRequired,
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Seconds a tenant owns, reserves and may still use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Balance {
    /// Σ seconds left in lots.
    pub total_seconds: i64,
    /// Σ seconds of open holds.
    pub held_seconds: i64,
}

impl Balance {
    /// What new calls may use: lots left − open holds.
    pub fn available_seconds(self) -> i64 {
        self.total_seconds - self.held_seconds
    }
}

/// Credit reserved for one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    /// The hold.
    pub hold_id: i64,
    /// Its tenant.
    pub tenant_id: i64,
    /// The call.
    pub call_ref: String,
    /// Seconds reserved (whole increments): the call's hard time limit.
    pub seconds: i64,
    /// The increment talk time is billed in.
    pub increment_seconds: i64,
    /// Seconds still available to the tenant after this hold.
    pub balance_seconds: i64,
}

/// One lot's share of a charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LotCharge {
    /// The lot.
    pub lot_id: i64,
    /// Seconds taken from it.
    pub seconds: i64,
    /// Its price per minute.
    pub rate_per_minute: Rial,
    /// Cost of those seconds.
    pub cost: Rial,
}

/// What a settled call cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    /// Billed seconds (talk rounded up to increments).
    pub billed_seconds: i64,
    /// Total cost.
    pub cost: Rial,
    /// Which lots paid, oldest first.
    pub lots: Vec<LotCharge>,
    /// This call took the tenant below its low-balance threshold (announce it once).
    pub low_balance_crossed: bool,
}

/// A credit to add.
pub struct Credit<'a> {
    /// Seconds of talk time.
    pub seconds: i64,
    /// Price per minute it was bought at (0 for free credit).
    pub rate_per_minute: Rial,
    /// Billing increment of its tariff.
    pub increment_seconds: i64,
    /// Price paid.
    pub amount: Rial,
    /// `payment`, `admin` or `refund`.
    pub source: &'a str,
    /// Paying payment.
    pub payment_id: Option<i64>,
    /// Ledger kind: `top_up`, `adjustment` or `refund`.
    pub kind: &'a str,
    /// Why (required for admin adjustments).
    pub reason: &'a str,
}

async fn current(tx: &mut Tx, tenant_id: i64) -> sqlx::Result<Balance> {
    let row = repo::balance(&mut tx.conn(), tenant_id).await?;
    Ok(Balance {
        total_seconds: row.seconds_total,
        held_seconds: row.seconds_held,
    })
}

/// After time was taken away: whether the balance just fell below the tenant's threshold for the
/// first time since it was last above it (the caller then sends the one warning e-mail).
async fn crossed_low_balance(tx: &mut Tx, tenant_id: i64) -> sqlx::Result<bool> {
    let threshold = repo::low_balance_threshold(&mut tx.conn(), tenant_id).await?;
    let available = current(tx, tenant_id).await?.available_seconds();
    if available < threshold {
        repo::mark_low_balance_notified(&mut tx.conn(), tenant_id).await
    } else {
        Ok(false)
    }
}

/// The tenant's balance, inside the caller's transaction.
pub async fn balance_in(tx: &mut Tx, tenant_id: i64) -> Result<Balance, BillingError> {
    Ok(current(tx, tenant_id).await?)
}

/// The tenant's balance.
pub async fn balance(db: &Db, tenant_id: i64) -> Result<Balance, BillingError> {
    let mut tx = db.read().await?;
    Ok(current(&mut tx, tenant_id).await?)
}

/// Adds a credit lot inside the caller's transaction (payments credit in the same transaction
/// that marks them paid). Returns the lot id.
pub async fn credit_in(
    tx: &mut Tx,
    tenant_id: i64,
    credit: &Credit<'_>,
) -> Result<i64, BillingError> {
    if credit.seconds <= 0 || credit.amount.rial() < 0 {
        return Err(BillingError::InvalidAmount);
    }
    let now = now_ms();
    repo::ensure_balance(&mut tx.conn(), tenant_id, now).await?;
    let lot = NewLot {
        tenant_id,
        source: credit.source,
        payment_id: credit.payment_id,
        seconds: credit.seconds,
        rate_rial_per_minute: credit.rate_per_minute.rial(),
        increment_seconds: credit.increment_seconds,
        amount_rial: credit.amount.rial(),
    };
    let lot_id = repo::insert_lot(&mut tx.conn(), &lot, now).await?;
    let after = repo::adjust(&mut tx.conn(), tenant_id, credit.seconds, 0, now).await?;
    let entry = NewEntry {
        tenant_id,
        kind: credit.kind,
        seconds_delta: credit.seconds,
        amount_rial: credit.amount.rial(),
        balance_after: after.seconds_total - after.seconds_held,
        credit_hold_id: None,
        credit_lot_id: Some(lot_id),
        reason: credit.reason,
    };
    repo::insert_entry(&mut tx.conn(), &entry, now).await?;
    if entry.balance_after >= repo::low_balance_threshold(&mut tx.conn(), tenant_id).await? {
        repo::rearm_low_balance(&mut tx.conn(), tenant_id).await?;
    }
    Ok(lot_id)
}

/// Adds a credit lot in its own transaction.
#[tracing::instrument(skip(db, credit), fields(seconds = credit.seconds))]
pub async fn credit(db: &Db, tenant_id: i64, credit: &Credit<'_>) -> Result<i64, BillingError> {
    let mut tx = db.begin().await?;
    let lot_id = credit_in(&mut tx, tenant_id, credit).await?;
    tx.commit().await?;
    Ok(lot_id)
}

/// Reserves up to `seconds` for `call_ref`: `min(seconds, available)` in whole increments, or
/// `InsufficientCredit` below one increment. Asking again for the same call returns the same hold.
#[tracing::instrument(skip(db))]
pub async fn hold(
    db: &Db,
    tenant_id: i64,
    seconds: i64,
    call_ref: &str,
) -> Result<Hold, BillingError> {
    let mut tx = db.begin().await?;
    let hold = hold_in(&mut tx, tenant_id, seconds, call_ref).await?;
    tx.commit().await?;
    Ok(hold)
}

/// [`hold`] inside the caller's write transaction (a call is inserted with its hold). Holding
/// locks the tenant's balance row until the transaction ends.
pub async fn hold_in(
    tx: &mut Tx,
    tenant_id: i64,
    seconds: i64,
    call_ref: &str,
) -> Result<Hold, BillingError> {
    if seconds <= 0 {
        return Err(BillingError::InvalidAmount);
    }
    let now = now_ms();
    if let Some(existing) = repo::find_hold(&mut tx.conn(), tenant_id, call_ref).await? {
        let available = current(tx, tenant_id).await?.available_seconds();
        return Ok(Hold {
            hold_id: existing.credit_hold_id,
            tenant_id,
            call_ref: existing.call_ref,
            seconds: existing.seconds,
            increment_seconds: existing.increment_seconds,
            balance_seconds: available,
        });
    }
    let increment = repo::open_lots(&mut tx.conn(), tenant_id)
        .await?
        .first()
        .map_or(DEFAULT_INCREMENT, |lot| lot.increment_seconds);
    // On PostgreSQL a concurrent hold may commit between our read and our update; the
    // conditional update then matches nothing and we read again. Each retry sees a smaller
    // balance, so this ends.
    let granted = loop {
        let available = current(tx, tenant_id).await?.available_seconds();
        let Some(grant) = grant_seconds(seconds, available, increment) else {
            return Err(BillingError::InsufficientCredit {
                available_seconds: available.max(0),
            });
        };
        if repo::reserve(&mut tx.conn(), tenant_id, grant, now).await? {
            break grant;
        }
    };
    let hold_id =
        repo::insert_hold(&mut tx.conn(), tenant_id, call_ref, granted, increment, now).await?;
    let available = current(tx, tenant_id).await?.available_seconds();
    let entry = NewEntry {
        tenant_id,
        kind: "hold",
        seconds_delta: -granted,
        amount_rial: 0,
        balance_after: available,
        credit_hold_id: Some(hold_id),
        credit_lot_id: None,
        reason: "",
    };
    repo::insert_entry(&mut tx.conn(), &entry, now).await?;
    Ok(Hold {
        hold_id,
        tenant_id,
        call_ref: call_ref.to_owned(),
        seconds: granted,
        increment_seconds: increment,
        balance_seconds: available,
    })
}

fn charge_from(billed: i64, rows: Vec<ChargeRow>) -> Charge {
    let lots: Vec<LotCharge> = rows
        .into_iter()
        .map(|r| LotCharge {
            lot_id: r.credit_lot_id,
            seconds: r.seconds,
            rate_per_minute: Rial::new(r.rate_rial_per_minute),
            cost: Rial::new(r.cost_rial),
        })
        .collect();
    let cost = Rial::new(lots.iter().map(|l| l.cost.rial()).sum());
    Charge {
        billed_seconds: billed,
        cost,
        lots,
        low_balance_crossed: false,
    }
}

/// Ends a call's hold: bills `talk_seconds` rounded up to increments (never more than was held),
/// oldest lot first, and frees the rest. Settling again returns the first result.
#[tracing::instrument(skip(db, hold), fields(tenant_id = hold.tenant_id, call_ref = %hold.call_ref))]
pub async fn settle(db: &Db, hold: &Hold, talk_seconds: i64) -> Result<Charge, BillingError> {
    let mut tx = db.begin().await?;
    let charge = settle_in(&mut tx, hold.tenant_id, &hold.call_ref, talk_seconds).await?;
    tx.commit().await?;
    Ok(charge)
}

/// [`settle`] inside the caller's write transaction (a call's end is stored with its charge).
pub async fn settle_in(
    tx: &mut Tx,
    tenant_id: i64,
    call_ref: &str,
    talk_seconds: i64,
) -> Result<Charge, BillingError> {
    let now = now_ms();
    let row = repo::find_hold(&mut tx.conn(), tenant_id, call_ref)
        .await?
        .ok_or(BillingError::HoldNotFound)?;
    if row.status != "open" {
        let rows = repo::charges(&mut tx.conn(), row.credit_hold_id).await?;
        return Ok(charge_from(row.billed_seconds.unwrap_or(0), rows));
    }
    let billed = billed_seconds(talk_seconds, row.increment_seconds).min(row.seconds);
    let mut remaining = billed;
    let mut rows = Vec::new();
    for lot in repo::open_lots(&mut tx.conn(), tenant_id).await? {
        if remaining == 0 {
            break;
        }
        let take = remaining.min(lot.seconds_left);
        if !repo::consume_lot(&mut tx.conn(), lot.credit_lot_id, take).await? {
            // Lots only shrink inside transactions holding the balance row, so this cannot
            // happen; refuse rather than bill wrongly.
            return Err(BillingError::Database(sqlx::Error::RowNotFound));
        }
        let rate = Rial::new(lot.rate_rial_per_minute);
        rows.push(ChargeRow {
            credit_lot_id: lot.credit_lot_id,
            seconds: take,
            rate_rial_per_minute: rate.rial(),
            cost_rial: cost(take, rate).rial(),
        });
        remaining -= take;
    }
    let mut charge = charge_from(billed, rows.clone());
    for r in &rows {
        repo::insert_charge(&mut tx.conn(), row.credit_hold_id, r).await?;
    }
    repo::close_hold(
        &mut tx.conn(),
        row.credit_hold_id,
        "settled",
        Some(talk_seconds.max(0)),
        Some(billed),
        Some(charge.cost.rial()),
        now,
    )
    .await?;
    let released = repo::adjust(&mut tx.conn(), tenant_id, 0, -row.seconds, now).await?;
    let release = NewEntry {
        tenant_id,
        kind: "release",
        seconds_delta: row.seconds,
        amount_rial: 0,
        balance_after: released.seconds_total - released.seconds_held,
        credit_hold_id: Some(row.credit_hold_id),
        credit_lot_id: None,
        reason: "",
    };
    repo::insert_entry(&mut tx.conn(), &release, now).await?;
    if billed > 0 {
        let after = repo::adjust(&mut tx.conn(), tenant_id, -billed, 0, now).await?;
        let debit = NewEntry {
            tenant_id,
            kind: "call_debit",
            seconds_delta: -billed,
            amount_rial: charge.cost.rial(),
            balance_after: after.seconds_total - after.seconds_held,
            credit_hold_id: Some(row.credit_hold_id),
            credit_lot_id: None,
            reason: "",
        };
        repo::insert_entry(&mut tx.conn(), &debit, now).await?;
        charge.low_balance_crossed = crossed_low_balance(tx, tenant_id).await?;
    }
    Ok(charge)
}

/// Frees a hold without billing (the call never connected). Releasing again does nothing.
#[tracing::instrument(skip(db, hold), fields(tenant_id = hold.tenant_id, call_ref = %hold.call_ref))]
pub async fn release(db: &Db, hold: &Hold) -> Result<(), BillingError> {
    let mut tx = db.begin().await?;
    release_in(&mut tx, hold.tenant_id, &hold.call_ref).await?;
    tx.commit().await?;
    Ok(())
}

/// [`release`] inside the caller's write transaction.
pub async fn release_in(tx: &mut Tx, tenant_id: i64, call_ref: &str) -> Result<(), BillingError> {
    let now = now_ms();
    let row = repo::find_hold(&mut tx.conn(), tenant_id, call_ref)
        .await?
        .ok_or(BillingError::HoldNotFound)?;
    if !repo::close_hold(
        &mut tx.conn(),
        row.credit_hold_id,
        "released",
        None,
        Some(0),
        Some(0),
        now,
    )
    .await?
    {
        return Ok(());
    }
    let after = repo::adjust(&mut tx.conn(), tenant_id, 0, -row.seconds, now).await?;
    let entry = NewEntry {
        tenant_id,
        kind: "release",
        seconds_delta: row.seconds,
        amount_rial: 0,
        balance_after: after.seconds_total - after.seconds_held,
        credit_hold_id: Some(row.credit_hold_id),
        credit_lot_id: None,
        reason: "",
    };
    repo::insert_entry(&mut tx.conn(), &entry, now).await?;
    Ok(())
}

/// What the dashboard shows about a tenant's credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Seconds new calls may use.
    pub available_seconds: i64,
    /// Seconds reserved by calls in progress.
    pub held_seconds: i64,
    /// What the unused time in the lots cost (Σ seconds left × rate).
    pub value: Rial,
    /// The tenant's low-balance threshold in seconds.
    pub low_balance_seconds: i64,
}

/// The tenant's credit at a glance.
pub async fn summary(db: &Db, tenant_id: i64) -> Result<Summary, BillingError> {
    let mut tx = db.read().await?;
    let balance = current(&mut tx, tenant_id).await?;
    let lots = repo::open_lots(&mut tx.conn(), tenant_id).await?;
    let value = lots
        .iter()
        .map(|l| cost(l.seconds_left, Rial::new(l.rate_rial_per_minute)).rial())
        .sum();
    let low_balance_seconds = repo::low_balance_threshold(&mut tx.conn(), tenant_id).await?;
    Ok(Summary {
        available_seconds: balance.available_seconds(),
        held_seconds: balance.held_seconds,
        value: Rial::new(value),
        low_balance_seconds,
    })
}

/// A platform admin's manual credit: free talk time (rate 0) with a required reason, in the
/// ledger and the audit log.
pub async fn admin_credit(
    db: &Db,
    tenant_id: i64,
    seconds: i64,
    reason: &str,
    admin_user_id: Option<i64>,
) -> Result<i64, BillingError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(BillingError::ReasonRequired);
    }
    let mut tx = db.begin().await?;
    let credit = Credit {
        seconds,
        rate_per_minute: Rial::new(0),
        increment_seconds: DEFAULT_INCREMENT,
        amount: Rial::new(0),
        source: "admin",
        payment_id: None,
        kind: "adjustment",
        reason,
    };
    let lot_id = credit_in(&mut tx, tenant_id, &credit).await?;
    super::repo::audit::record(
        &mut tx.conn(),
        Some(tenant_id),
        admin_user_id,
        "billing.admin_credit",
        &format!("{seconds} s: {reason}"),
        now_ms(),
    )
    .await?;
    tx.commit().await?;
    Ok(lot_id)
}

/// A platform admin's manual debit: takes talk time away, oldest lot first, never below what is
/// available (time reserved by calls in progress stays theirs). Ledger and audit log record why.
/// Returns whether the tenant just fell below its low-balance threshold.
pub async fn admin_debit(
    db: &Db,
    tenant_id: i64,
    seconds: i64,
    reason: &str,
    admin_user_id: Option<i64>,
) -> Result<bool, BillingError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(BillingError::ReasonRequired);
    }
    if seconds <= 0 {
        return Err(BillingError::InvalidAmount);
    }
    let now = now_ms();
    let mut tx = db.begin().await?;
    let available = current(&mut tx, tenant_id).await?.available_seconds();
    if seconds > available {
        return Err(BillingError::InsufficientCredit {
            available_seconds: available.max(0),
        });
    }
    let mut remaining = seconds;
    for lot in repo::open_lots(&mut tx.conn(), tenant_id).await? {
        if remaining == 0 {
            break;
        }
        let take = remaining.min(lot.seconds_left);
        if !repo::consume_lot(&mut tx.conn(), lot.credit_lot_id, take).await? {
            return Err(BillingError::Database(sqlx::Error::RowNotFound));
        }
        remaining -= take;
    }
    let after = repo::adjust(&mut tx.conn(), tenant_id, -seconds, 0, now).await?;
    let entry = NewEntry {
        tenant_id,
        kind: "adjustment",
        seconds_delta: -seconds,
        amount_rial: 0,
        balance_after: after.seconds_total - after.seconds_held,
        credit_hold_id: None,
        credit_lot_id: None,
        reason,
    };
    repo::insert_entry(&mut tx.conn(), &entry, now).await?;
    super::repo::audit::record(
        &mut tx.conn(),
        Some(tenant_id),
        admin_user_id,
        "billing.admin_debit",
        &format!("{seconds} s: {reason}"),
        now,
    )
    .await?;
    let crossed = crossed_low_balance(&mut tx, tenant_id).await?;
    tx.commit().await?;
    Ok(crossed)
}

/// The tenant's ledger replayed: the sum of every movement, which must equal the stored
/// available balance.
pub async fn replay(db: &Db, tenant_id: i64) -> Result<(i64, Vec<repo::LedgerRow>), BillingError> {
    let mut tx = db.read().await?;
    let entries = repo::ledger(&mut tx.conn(), tenant_id).await?;
    Ok((entries.iter().map(|e| e.seconds_delta).sum(), entries))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    async fn fresh_db(dir: &tempfile::TempDir) -> (Db, i64) {
        let db = Db::connect(&format!("sqlite://{}/billing.db", dir.path().display()))
            .await
            .unwrap();
        db.migrate().await.unwrap();
        let mut tx = db.begin().await.unwrap();
        let tenant = super::super::repo::tenants::insert(&mut tx.conn(), "Taxi", 0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        (db, tenant)
    }

    fn paid(seconds: i64, toman_per_minute: i64) -> Credit<'static> {
        Credit {
            seconds,
            rate_per_minute: Rial::from_toman(toman_per_minute),
            increment_seconds: 60,
            amount: Rial::new(seconds * toman_per_minute * 10 / 60),
            source: "payment",
            payment_id: None,
            kind: "top_up",
            reason: "",
        }
    }

    #[tokio::test]
    async fn a_call_is_billed_oldest_lot_first_in_whole_minutes() {
        let dir = tempfile::tempdir().unwrap();
        let (db, tenant) = fresh_db(&dir).await;
        credit(&db, tenant, &paid(120, 250)).await.unwrap();
        credit(&db, tenant, &paid(600, 200)).await.unwrap();
        let hold = hold(&db, tenant, 300, "call-1").await.unwrap();
        assert_eq!(hold.seconds, 300);
        assert_eq!(hold.balance_seconds, 420);
        let charge = settle(&db, &hold, 150).await.unwrap();
        assert_eq!(charge.billed_seconds, 180);
        assert_eq!(charge.lots.len(), 2);
        assert_eq!(
            (charge.lots[0].seconds, charge.lots[0].cost),
            (120, Rial::from_toman(500))
        );
        assert_eq!(
            (charge.lots[1].seconds, charge.lots[1].cost),
            (60, Rial::from_toman(200))
        );
        assert_eq!(charge.cost, Rial::from_toman(700));
        assert_eq!(balance(&db, tenant).await.unwrap().available_seconds(), 540);
        assert!(
            charge.low_balance_crossed,
            "540 s left is under the 30-minute threshold"
        );
        let again = settle(&db, &hold, 999).await.unwrap();
        assert_eq!(
            (again.billed_seconds, again.cost, &again.lots),
            (charge.billed_seconds, charge.cost, &charge.lots),
            "settling twice changes nothing"
        );
        assert!(!again.low_balance_crossed, "the warning is announced once");
    }

    #[tokio::test]
    async fn less_than_one_increment_is_insufficient_credit() {
        let dir = tempfile::tempdir().unwrap();
        let (db, tenant) = fresh_db(&dir).await;
        assert!(matches!(
            hold(&db, tenant, 60, "a").await,
            Err(BillingError::InsufficientCredit {
                available_seconds: 0
            })
        ));
        credit(&db, tenant, &paid(90, 250)).await.unwrap();
        let first = hold(&db, tenant, 600, "a").await.unwrap();
        assert_eq!(first.seconds, 60, "whole increments of what is there");
        assert!(matches!(
            hold(&db, tenant, 60, "b").await,
            Err(BillingError::InsufficientCredit {
                available_seconds: 30
            })
        ));
        assert_eq!(
            hold(&db, tenant, 600, "a").await.unwrap().hold_id,
            first.hold_id,
            "same call, same hold"
        );
        release(&db, &first).await.unwrap();
        release(&db, &first).await.unwrap();
        assert_eq!(balance(&db, tenant).await.unwrap().available_seconds(), 90);
    }

    #[derive(Debug, Clone)]
    enum Op {
        TopUp { seconds: i64, toman_per_minute: i64 },
        Hold { call: u8, seconds: i64 },
        Settle { call: u8, talk: i64 },
        Release { call: u8 },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (1i64..2_000, prop_oneof![Just(250i64), Just(200i64)]).prop_map(
                |(seconds, toman_per_minute)| Op::TopUp {
                    seconds,
                    toman_per_minute
                }
            ),
            (0u8..6, 1i64..900).prop_map(|(call, seconds)| Op::Hold { call, seconds }),
            (0u8..6, 0i64..1_000).prop_map(|(call, talk)| Op::Settle { call, talk }),
            (0u8..6).prop_map(|call| Op::Release { call }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        #[test]
        fn the_ledger_replays_to_the_balance_and_nothing_goes_below_zero(ops in proptest::collection::vec(op(), 1..40)) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let dir = tempfile::tempdir().unwrap();
                let (db, tenant) = fresh_db(&dir).await;
                let mut holds: std::collections::HashMap<u8, Hold> = Default::default();
                let mut closed: std::collections::HashMap<u8, Option<Charge>> = Default::default();
                let mut charges = Vec::new();
                let mut bought = 0;
                for op in ops {
                    match op {
                        Op::TopUp { seconds, toman_per_minute } => {
                            credit(&db, tenant, &paid(seconds, toman_per_minute)).await.unwrap();
                            bought += seconds;
                        }
                        Op::Hold { call, seconds } => match hold(&db, tenant, seconds, &format!("call-{call}")).await {
                            Ok(h) => { holds.entry(call).or_insert(h); }
                            Err(BillingError::InsufficientCredit { available_seconds }) => assert!(available_seconds < DEFAULT_INCREMENT),
                            Err(e) => panic!("{e}"),
                        },
                        Op::Settle { call, talk } => {
                            if let Some(h) = holds.get(&call) {
                                let charge = settle(&db, h, talk).await.unwrap();
                                assert!(charge.billed_seconds <= h.seconds, "never more than held");
                                match closed.get(&call) {
                                    None => {
                                        closed.insert(call, Some(charge.clone()));
                                        charges.push(charge);
                                    }
                                    Some(Some(first)) => assert_eq!((charge.billed_seconds, charge.cost, &charge.lots), (first.billed_seconds, first.cost, &first.lots), "settling again changes nothing"),
                                    Some(None) => assert_eq!(charge.billed_seconds, 0, "a released hold bills nothing"),
                                }
                            }
                        }
                        Op::Release { call } => {
                            if let Some(h) = holds.get(&call) {
                                release(&db, h).await.unwrap();
                                closed.entry(call).or_insert(None);
                            }
                        }
                    }
                    let stored = balance(&db, tenant).await.unwrap();
                    let (replayed, entries) = replay(&db, tenant).await.unwrap();
                    assert!(stored.available_seconds() >= 0 && stored.held_seconds >= 0);
                    assert_eq!(replayed, stored.available_seconds(), "replaying the ledger gives the stored balance");
                    if let Some(last) = entries.last() {
                        assert_eq!(last.balance_after, stored.available_seconds());
                    }
                    assert!(entries.iter().all(|e| e.balance_after >= 0));
                }
                let billed: i64 = charges.iter().map(|c| c.billed_seconds).sum();
                let stored = balance(&db, tenant).await.unwrap();
                assert_eq!(stored.total_seconds, bought - billed, "lots left = bought − billed");
                for c in &charges {
                    let expected: i64 = c.lots.iter().map(|l| cost(l.seconds, l.rate_per_minute).rial()).sum();
                    assert_eq!(c.cost.rial(), expected, "cost = Σ lot rate × seconds");
                    assert_eq!(c.lots.iter().map(|l| l.seconds).sum::<i64>(), c.billed_seconds);
                }
            });
        }
    }
}
