//! Top-ups: quote, open at the gateway, confirm on the callback (or later, by the reconciler),
//! credit exactly once.

use std::sync::Arc;

use super::billing::{self, Credit};
use super::gateway::{GatewayError, PaymentGateway, PaymentRequest, TestGateway};
use super::repo::{billing as billing_repo, payments as repo};
use super::state::AppState;
use super::{db::Db, now_ms};
use crate::domain::tariff::seconds_for;
use crate::domain::Rial;
use crate::error::{AppError, FormErrors, Problem};

/// Smallest top-up.
pub const MIN_TOP_UP: Rial = Rial::from_toman(10_000);
/// Largest top-up.
pub const MAX_TOP_UP: Rial = Rial::from_toman(50_000_000);
/// A payment still pending after this long is given up on (the gateway's own window is shorter).
const GIVE_UP_AFTER_MS: i64 = 24 * 3600 * 1000;
/// The reconciler leaves fresh payments to the payer's own callback for this long.
const RECONCILE_AFTER_MS: i64 = 2 * 60 * 1000;

/// The gateways this installation takes payments through.
pub struct Gateways {
    /// Used for new payments.
    pub current: Arc<dyn PaymentGateway>,
    /// The test gateway, when enabled (it also finishes test payments made before a switch).
    pub test: Option<Arc<TestGateway>>,
}

impl Gateways {
    fn for_payment(&self, name: &str) -> Option<Arc<dyn PaymentGateway>> {
        if self.current.name() == name {
            return Some(self.current.clone());
        }
        match (&self.test, name) {
            (Some(test), "test") => Some(test.clone() as Arc<dyn PaymentGateway>),
            _ => None,
        }
    }
}

/// What a top-up buys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote {
    /// Price.
    pub amount: Rial,
    /// Talk time bought.
    pub seconds: i64,
    /// Price per minute.
    pub rate_per_minute: Rial,
    /// Billing increment.
    pub increment_seconds: i64,
}

/// Parses a Toman amount typed by a person (Persian digits, separators) into a quote at the tiers
/// in force.
pub async fn quote(db: &Db, toman: &str) -> Result<Quote, AppError> {
    let mut errors = FormErrors::default();
    errors.keep("amount", toman.trim());
    let digits: String = crate::domain::digits::normalize_digits(toman)
        .chars()
        .filter(|c| !matches!(c, ',' | '٬' | ' ' | '_'))
        .collect();
    let amount = match digits.parse::<i64>() {
        Ok(t) if (MIN_TOP_UP.rial() / 10..=MAX_TOP_UP.rial() / 10).contains(&t) => {
            Rial::from_toman(t)
        }
        Ok(_) => {
            errors.add("amount", Problem::AmountOutOfRange);
            return Err(AppError::Invalid(errors));
        }
        Err(_) => {
            errors.add(
                "amount",
                if digits.is_empty() {
                    Problem::Required
                } else {
                    Problem::NotANumber
                },
            );
            return Err(AppError::Invalid(errors));
        }
    };
    let mut tx = db.read().await?;
    let tiers = billing_repo::tiers(&mut tx.conn(), now_ms()).await?;
    let tier = tiers
        .iter()
        .rev()
        .find(|t| amount.rial() >= t.min_amount_rial)
        .ok_or(AppError::Internal)?;
    let rate = Rial::new(tier.rate_rial_per_minute);
    Ok(Quote {
        amount,
        seconds: seconds_for(amount, rate),
        rate_per_minute: rate,
        increment_seconds: tier.increment_seconds,
    })
}

/// Opens a top-up and returns where to send the payer.
#[tracing::instrument(skip(state, email, mobile))]
pub async fn start(
    state: &AppState,
    tenant_id: i64,
    user_id: i64,
    toman: &str,
    email: &str,
    mobile: Option<&str>,
) -> Result<String, AppError> {
    let quote = quote(&state.db, toman).await?;
    let gateway = state.gateways.current.clone();
    let now = now_ms();
    let mut tx = state.db.begin().await?;
    let new = repo::NewPayment {
        tenant_id,
        gateway: gateway.name(),
        amount_rial: quote.amount.rial(),
        seconds: quote.seconds,
        rate_rial_per_minute: quote.rate_per_minute.rial(),
        increment_seconds: quote.increment_seconds,
        user_id,
    };
    let payment_id = repo::insert(&mut tx.conn(), &new, now).await?;
    tx.commit().await?;
    let callback = format!("{}/payments/callback", state.config.public_url);
    let description = format!("Pol top-up #{payment_id}: {} min", quote.seconds / 60);
    let request = PaymentRequest {
        amount: quote.amount,
        description: &description,
        callback_url: &callback,
        email: Some(email),
        mobile,
    };
    match gateway.request(request).await {
        Ok(started) => {
            let mut tx = state.db.begin().await?;
            repo::set_authority(&mut tx.conn(), payment_id, &started.authority, now_ms()).await?;
            tx.commit().await?;
            tracing::info!(payment_id, "payment opened");
            Ok(started.redirect_url)
        }
        Err(err) => {
            tracing::warn!(payment_id, error = %err, "the gateway refused to open a payment");
            let mut tx = state.db.begin().await?;
            repo::close(
                &mut tx.conn(),
                payment_id,
                "failed",
                &err.to_string(),
                now_ms(),
            )
            .await?;
            tx.commit().await?;
            Err(AppError::GatewayUnavailable)
        }
    }
}

/// How a verification ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Paid and credited (now or before).
    Paid,
    /// Definitely not paid.
    Failed,
    /// Unknown for now; asked again later.
    Pending,
}

/// Verifies a pending payment with its gateway and credits it exactly once; a definite "not
/// paid" closes it with `declined_status` (`failed`, or `canceled` when the payer cancelled).
async fn verify_and_credit(
    state: &AppState,
    payment: &repo::PaymentRow,
    declined_status: &str,
) -> Result<Outcome, AppError> {
    if payment.status != "pending" {
        return Ok(if payment.status == "paid" {
            Outcome::Paid
        } else {
            Outcome::Failed
        });
    }
    let (Some(authority), Some(gateway)) = (
        payment.authority.as_deref(),
        state.gateways.for_payment(&payment.gateway),
    ) else {
        return Ok(Outcome::Pending);
    };
    // The amount comes from our own record, never from the callback.
    match gateway
        .verify(authority, Rial::new(payment.amount_rial))
        .await
    {
        Ok(verified) => {
            let now = now_ms();
            let mut tx = state.db.begin().await?;
            if repo::mark_paid(
                &mut tx.conn(),
                payment.payment_id,
                &verified.ref_id,
                verified.card_pan.as_deref(),
                now,
            )
            .await?
            {
                let credit = Credit {
                    seconds: payment.seconds,
                    rate_per_minute: Rial::new(payment.rate_rial_per_minute),
                    increment_seconds: payment.increment_seconds,
                    amount: Rial::new(payment.amount_rial),
                    source: "payment",
                    payment_id: Some(payment.payment_id),
                    kind: "top_up",
                    reason: "",
                };
                billing::credit_in(&mut tx, payment.tenant_id, &credit).await?;
                tracing::info!(payment_id = payment.payment_id, "payment credited");
                tx.commit().await?;
                send_receipt(state, payment, &verified.ref_id).await;
            } else {
                tx.commit().await?;
            }
            Ok(Outcome::Paid)
        }
        Err(GatewayError::Declined { code, message }) => {
            let mut tx = state.db.begin().await?;
            repo::close(
                &mut tx.conn(),
                payment.payment_id,
                declined_status,
                &format!("{code}: {message}"),
                now_ms(),
            )
            .await?;
            tx.commit().await?;
            Ok(Outcome::Failed)
        }
        Err(err) => {
            tracing::warn!(payment_id = payment.payment_id, error = %err, "verification got no answer; will retry");
            let mut tx = state.db.begin().await?;
            repo::count_attempt(&mut tx.conn(), payment.payment_id, now_ms()).await?;
            tx.commit().await?;
            Ok(Outcome::Pending)
        }
    }
}

/// E-mails the receipt to whoever started the payment (failures are logged, not fatal: the
/// receipt is always in the panel).
async fn send_receipt(state: &AppState, payment: &repo::PaymentRow, ref_id: &str) {
    let result = async {
        let mut tx = state.db.read().await?;
        let Some(user_id) = repo::payer(&mut tx.conn(), payment.payment_id).await? else {
            return Ok(());
        };
        let Some(user) = super::repo::users::find(&mut tx.conn(), user_id).await? else {
            return Ok(());
        };
        let tenant = super::repo::tenants::find(&mut tx.conn(), payment.tenant_id).await?;
        drop(tx);
        let lang = crate::i18n::Lang::from_code(&user.locale).unwrap_or_default();
        let email = crate::domain::Email::parse(&user.email).map_err(|_| AppError::Internal)?;
        let link = format!(
            "{}/billing/payments/{}",
            state.config.public_url, payment.payment_id
        );
        let tenant_name = tenant.map(|t| t.name).unwrap_or_default();
        let mail = super::mail::templates::receipt(
            lang,
            email,
            &tenant_name,
            Rial::new(payment.amount_rial),
            payment.seconds / 60,
            ref_id,
            &link,
        );
        state.mailer.send(mail).await?;
        Ok::<(), AppError>(())
    };
    if let Err(err) = result.await {
        tracing::warn!(payment_id = payment.payment_id, error = %err, "failed to send a receipt");
    }
}

/// The gateway sent the payer back. Unknown authorities are refused; a replayed callback finds
/// the payment already closed and changes nothing. Returns the payment's id.
#[tracing::instrument(skip(state))]
pub async fn callback(
    state: &AppState,
    authority: &str,
    status_ok: bool,
) -> Result<(i64, i64), AppError> {
    let mut tx = state.db.read().await?;
    let payment = repo::find_by_authority(&mut tx.conn(), authority.trim())
        .await?
        .ok_or(AppError::NotFound)?;
    drop(tx);
    // Whatever the callback says, the gateway is asked: a status in a URL can be forged, a
    // verification cannot.
    let declined = if status_ok { "failed" } else { "canceled" };
    verify_and_credit(state, &payment, declined).await?;
    Ok((payment.tenant_id, payment.payment_id))
}

/// Re-verifies payments left pending (tab closed, gateway timed out during verify): credits them
/// or marks them failed. Returns how many were settled either way.
pub async fn reconcile(state: &AppState) -> Result<usize, AppError> {
    let now = now_ms();
    let mut tx = state.db.read().await?;
    let pending = repo::pending_between(
        &mut tx.conn(),
        now - GIVE_UP_AFTER_MS,
        now - RECONCILE_AFTER_MS,
    )
    .await?;
    let stale = repo::pending_between(&mut tx.conn(), 0, now - GIVE_UP_AFTER_MS).await?;
    drop(tx);
    let mut settled = 0;
    for payment in &pending {
        if verify_and_credit(state, payment, "failed").await? != Outcome::Pending {
            settled += 1;
        }
    }
    for payment in &stale {
        // One last question before giving up: nothing paid may be lost.
        if verify_and_credit(state, payment, "failed").await? == Outcome::Pending {
            let mut tx = state.db.begin().await?;
            repo::close(
                &mut tx.conn(),
                payment.payment_id,
                "failed",
                "expired without confirmation",
                now_ms(),
            )
            .await?;
            tx.commit().await?;
        }
        settled += 1;
    }
    Ok(settled)
}

/// The tenant's payments, newest first.
pub async fn list(db: &Db, tenant_id: i64) -> Result<Vec<repo::PaymentRow>, AppError> {
    let mut tx = db.read().await?;
    Ok(repo::list(&mut tx.conn(), tenant_id, 200).await?)
}

/// One of the tenant's payments; another tenant's id is `NotFound`.
pub async fn get(db: &Db, tenant_id: i64, payment_id: i64) -> Result<repo::PaymentRow, AppError> {
    let mut tx = db.read().await?;
    repo::find(&mut tx.conn(), tenant_id, payment_id)
        .await?
        .ok_or(AppError::NotFound)
}
