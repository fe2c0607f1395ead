//! Placing and reading calls: what the JSON API, the compatibility endpoint and the panel's test
//! call share. Input is parsed into [`ValidCall`] at the edge; placing stores the call with its
//! credit hold in one transaction and hands it to the engine.

use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;

use super::billing::{self, BillingError};
use super::db::is_unique_violation;
use super::engine::CallPlan;
use super::now_ms;
use super::repo::calls::{self as repo, CallFilter, CallRow, EventRow, LegRow, NewCall};
use super::repo::tenants::{self, CallSettingsRow};
use super::state::AppState;
use crate::domain::jalali::TEHRAN_OFFSET_MS;
use crate::domain::{CallStatus, Party, PhoneNumber};

/// Longest call anyone may ask for (two hours).
pub const MAX_DURATION_LIMIT: i64 = 7200;
/// Ring timeouts allowed, in seconds.
pub const RING_TIMEOUT_RANGE: std::ops::RangeInclusive<i64> = 5..=120;
/// Longest `reference`.
pub const REFERENCE_MAX: usize = 100;
/// Longest `Idempotency-Key`.
pub const IDEMPOTENCY_KEY_MAX: usize = 200;

/// `POST /calls` as sent. Unknown fields are refused so a typo (`max_duraton`) is not silently
/// ignored.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallRequest {
    /// The passenger's number, any common Iranian form (`09121234567`, `+98 912 123 4567`,
    /// Persian digits).
    #[schema(example = "09121234567")]
    pub passenger: String,
    /// The driver's number.
    #[schema(example = "09351234567")]
    pub driver: String,
    /// Who is called first (`passenger` or `driver`); the tenant's setting by default.
    pub first: Option<String>,
    /// Talk-time limit in seconds; the tenant's default (and ceiling) by default.
    pub max_duration: Option<i64>,
    /// Seconds each leg may ring.
    pub ring_timeout: Option<i64>,
    /// Record the call.
    pub record: Option<bool>,
    /// Play the welcome message.
    pub welcome: Option<bool>,
    /// The operator's own reference, e.g. a ride id.
    pub reference: Option<String>,
    /// A URL to receive this call's webhooks.
    pub callback_url: Option<String>,
}

/// One thing wrong with a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldIssue {
    /// The JSON field.
    pub field: String,
    /// A stable code (`invalid_number`, `out_of_range`, `invalid_choice`, `too_long`, `required`).
    pub code: &'static str,
    /// A sentence for the developer.
    pub message: String,
}

/// Why a call was not placed or found.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// A party's number is not a number we can call.
    #[error("{field} is not a valid Iranian mobile number")]
    InvalidNumber {
        /// `passenger` or `driver`.
        field: &'static str,
        /// Every problem found.
        issues: Vec<FieldIssue>,
    },
    /// Passenger and driver are the same phone.
    #[error("the passenger and the driver have the same number")]
    SameNumber,
    /// Other fields are wrong.
    #[error("some fields are invalid")]
    Invalid(Vec<FieldIssue>),
    /// Less than one billing increment of credit.
    #[error("insufficient credit")]
    InsufficientCredit {
        /// Seconds left.
        available_seconds: i64,
    },
    /// Too many live calls.
    #[error("the tenant has {limit} calls in progress, its limit")]
    ConcurrencyLimit {
        /// The tenant's limit.
        limit: i64,
    },
    /// The `Idempotency-Key` was used with a different request.
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyMismatch,
    /// No such call in this tenant.
    #[error("not found")]
    NotFound,
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// Billing failed unexpectedly.
    #[error("billing failed: {0}")]
    Billing(BillingError),
}

impl From<BillingError> for CallError {
    fn from(err: BillingError) -> Self {
        match err {
            BillingError::InsufficientCredit { available_seconds } => {
                CallError::InsufficientCredit { available_seconds }
            }
            BillingError::Database(db) => CallError::Database(db),
            other => CallError::Billing(other),
        }
    }
}

/// A request that passed validation: numbers in E.164, choices parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidCall {
    passenger: PhoneNumber,
    driver: PhoneNumber,
    first: Option<Party>,
    max_duration: Option<i64>,
    ring_timeout: Option<i64>,
    record: Option<bool>,
    welcome: Option<bool>,
    reference: Option<String>,
    callback_url: Option<String>,
}

impl ValidCall {
    /// Parses a request, collecting every problem.
    pub fn parse(request: &CallRequest) -> Result<Self, CallError> {
        let mut issues = Vec::new();
        let mut number = |field: &'static str, value: &str| match PhoneNumber::parse(value) {
            Ok(n) => Some(n),
            Err(err) => {
                issues.push(FieldIssue {
                    field: field.into(),
                    code: "invalid_number",
                    message: format!("{field}: {err}"),
                });
                None
            }
        };
        let passenger = number("passenger", &request.passenger);
        let driver = number("driver", &request.driver);
        if !issues.is_empty() {
            let field = if passenger.is_none() {
                "passenger"
            } else {
                "driver"
            };
            return Err(CallError::InvalidNumber { field, issues });
        }
        let (Some(passenger), Some(driver)) = (passenger, driver) else {
            return Err(CallError::Invalid(issues));
        };
        if passenger == driver {
            return Err(CallError::SameNumber);
        }
        let first = match request.first.as_deref() {
            None => None,
            Some(value) => match value.parse::<Party>() {
                Ok(party) => Some(party),
                Err(()) => {
                    issues.push(FieldIssue {
                        field: "first".into(),
                        code: "invalid_choice",
                        message: "first must be \"passenger\" or \"driver\"".into(),
                    });
                    None
                }
            },
        };
        if let Some(max) = request.max_duration {
            if !(1..=MAX_DURATION_LIMIT).contains(&max) {
                issues.push(FieldIssue {
                    field: "max_duration".into(),
                    code: "out_of_range",
                    message: format!(
                        "max_duration must be between 1 and {MAX_DURATION_LIMIT} seconds"
                    ),
                });
            }
        }
        if let Some(ring) = request.ring_timeout {
            if !RING_TIMEOUT_RANGE.contains(&ring) {
                issues.push(FieldIssue {
                    field: "ring_timeout".into(),
                    code: "out_of_range",
                    message: format!(
                        "ring_timeout must be between {} and {} seconds",
                        RING_TIMEOUT_RANGE.start(),
                        RING_TIMEOUT_RANGE.end()
                    ),
                });
            }
        }
        let reference = request
            .reference
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        if let Some(reference) = reference {
            if reference.chars().count() > REFERENCE_MAX || reference.chars().any(char::is_control)
            {
                issues.push(FieldIssue {
                    field: "reference".into(),
                    code: "too_long",
                    message: format!(
                        "reference must be at most {REFERENCE_MAX} printable characters"
                    ),
                });
            }
        }
        let callback_url = request
            .callback_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty());
        if let Some(url) = callback_url {
            let valid = (url.starts_with("https://") || url.starts_with("http://"))
                && url.len() <= 2000
                && url.parse::<http::Uri>().is_ok_and(|u| u.host().is_some());
            if !valid {
                issues.push(FieldIssue {
                    field: "callback_url".into(),
                    code: "invalid_url",
                    message: "callback_url must be an http(s) URL".into(),
                });
            }
        }
        if !issues.is_empty() {
            return Err(CallError::Invalid(issues));
        }
        Ok(Self {
            passenger,
            driver,
            first,
            max_duration: request.max_duration,
            ring_timeout: request.ring_timeout,
            record: request.record,
            welcome: request.welcome,
            reference: reference.map(str::to_owned),
            callback_url: callback_url.map(str::to_owned),
        })
    }

    /// A fingerprint of the request, to recognise an idempotent retry.
    fn fingerprint(&self) -> String {
        let canonical = serde_json::to_string(self).unwrap_or_default();
        hex::encode(Sha256::digest(canonical.as_bytes()))
    }
}

/// Who placed a call.
#[derive(Debug, Clone, Copy)]
pub enum Origin {
    /// An API token.
    Token(i64),
    /// A person in the panel (a test call).
    User(i64),
}

/// A placed (or replayed) call.
#[derive(Debug)]
pub struct Placed {
    /// The call.
    pub call: CallRow,
    /// Seconds the tenant may still use after this call's hold.
    pub balance_seconds: i64,
    /// An earlier request with the same `Idempotency-Key`.
    pub replayed: bool,
}

fn new_public_id() -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let mut rng = rand::thread_rng();
    let id: String = (0..20)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    format!("call_{id}")
}

/// Places a call: stores it with its hold in one transaction, then starts it.
#[tracing::instrument(skip(state, call, idempotency_key), fields(tenant_id))]
pub async fn place(
    state: &AppState,
    tenant_id: i64,
    origin: Origin,
    call: &ValidCall,
    idempotency_key: Option<&str>,
) -> Result<Placed, CallError> {
    let fingerprint = call.fingerprint();
    let mut tx = state.db.begin().await?;
    if let Some(key) = idempotency_key {
        if let Some(existing) =
            repo::find_by_idempotency_key(&mut tx.conn(), tenant_id, key).await?
        {
            return replay(state, tenant_id, existing, &fingerprint).await;
        }
    }
    let settings = tenants::call_settings(&mut tx.conn(), tenant_id)
        .await?
        .ok_or(CallError::NotFound)?;
    let first = call
        .first
        .unwrap_or_else(|| settings.first_party.parse().unwrap_or(Party::Passenger));
    let wanted = call
        .max_duration
        .unwrap_or(settings.max_call_seconds)
        .min(settings.max_call_seconds);
    let public_id = new_public_id();
    let hold = billing::hold_in(&mut tx, tenant_id, wanted, &public_id).await?;
    // The hold locked the tenant's balance row, so concurrent placements count one at a time.
    if repo::count_live(&mut tx.conn(), tenant_id).await? >= settings.max_concurrent_calls {
        return Err(CallError::ConcurrencyLimit {
            limit: settings.max_concurrent_calls,
        });
    }
    let max_duration = wanted.min(hold.seconds);
    let (first_number, second_number) = match first {
        Party::Passenger => (&call.passenger, &call.driver),
        Party::Driver => (&call.driver, &call.passenger),
    };
    let record = call.record.unwrap_or(settings.record_calls);
    let welcome = call.welcome.unwrap_or(settings.welcome_enabled);
    let ring_timeout = call.ring_timeout.unwrap_or(settings.ring_timeout_seconds);
    let (api_token_id, user_id) = match origin {
        Origin::Token(id) => (Some(id), None),
        Origin::User(id) => (None, Some(id)),
    };
    let now = now_ms();
    let new = NewCall {
        public_id: &public_id,
        tenant_id,
        api_token_id,
        user_id,
        engine_id: state.engine.id(),
        sandbox: state.engine.is_sandbox(),
        passenger: call.passenger.as_e164(),
        driver: call.driver.as_e164(),
        first_party: first.code(),
        max_duration_seconds: max_duration,
        ring_timeout_seconds: ring_timeout,
        record,
        welcome,
        reference: call.reference.as_deref(),
        callback_url: call.callback_url.as_deref(),
        idempotency_key,
        request_hash: &fingerprint,
        held_seconds: hold.seconds,
    };
    let call_id = match repo::insert(&mut tx.conn(), &new, now).await {
        Ok(id) => id,
        Err(err) if is_unique_violation(&err) && idempotency_key.is_some() => {
            // A concurrent request with the same key won; answer with its call.
            drop(tx);
            let key = idempotency_key.unwrap_or_default();
            let mut read = state.db.read().await?;
            let existing = repo::find_by_idempotency_key(&mut read.conn(), tenant_id, key)
                .await?
                .ok_or(CallError::Database(err))?;
            drop(read);
            return replay(state, tenant_id, existing, &fingerprint).await;
        }
        Err(err) => return Err(err.into()),
    };
    repo::insert_leg(
        &mut tx.conn(),
        call_id,
        "first",
        first.code(),
        first_number.as_e164(),
    )
    .await?;
    repo::insert_leg(
        &mut tx.conn(),
        call_id,
        "second",
        first.other().code(),
        second_number.as_e164(),
    )
    .await?;
    let detail = hold.seconds.to_string();
    repo::add_event(&mut tx.conn(), call_id, "queued", None, &detail, now).await?;
    let row = repo::find_by_id(&mut tx.conn(), call_id)
        .await?
        .ok_or(CallError::NotFound)?;
    tx.commit().await?;
    let welcome_prompt = if welcome {
        super::welcome::prompt_for(state, tenant_id).await
    } else {
        None
    };
    state.engine.start(
        state.clone(),
        CallPlan {
            call_id,
            public_id,
            tenant_id,
            first: (first, first_number.as_e164().to_owned()),
            second: (first.other(), second_number.as_e164().to_owned()),
            ring_timeout: Duration::from_secs(u64::try_from(ring_timeout).unwrap_or(30)),
            max_duration: Duration::from_secs(u64::try_from(max_duration).unwrap_or(0)),
            limited_by_credit: hold.seconds < wanted,
            record,
            welcome,
            reference: call.reference.clone(),
            callback_url: call.callback_url.clone(),
            welcome_prompt,
            welcome_to_second: settings.welcome_to_second,
            caller_id: settings.caller_id.clone(),
        },
    );
    Ok(Placed {
        call: row,
        balance_seconds: hold.balance_seconds,
        replayed: false,
    })
}

async fn replay(
    state: &AppState,
    tenant_id: i64,
    existing: CallRow,
    fingerprint: &str,
) -> Result<Placed, CallError> {
    if existing.request_hash.as_deref() != Some(fingerprint) {
        return Err(CallError::IdempotencyMismatch);
    }
    let balance = billing::balance(&state.db, tenant_id).await?;
    Ok(Placed {
        call: existing,
        balance_seconds: balance.available_seconds(),
        replayed: true,
    })
}

/// A call with its legs and timeline.
#[derive(Debug, Clone)]
pub struct CallDetail {
    /// The call.
    pub call: CallRow,
    /// First then second.
    pub legs: Vec<LegRow>,
    /// Oldest first.
    pub events: Vec<EventRow>,
}

/// One of the tenant's calls; another tenant's id is `NotFound`.
pub async fn get(
    state: &AppState,
    tenant_id: i64,
    public_id: &str,
) -> Result<CallDetail, CallError> {
    let mut tx = state.db.read().await?;
    let call = repo::find(&mut tx.conn(), tenant_id, public_id)
        .await?
        .ok_or(CallError::NotFound)?;
    let legs = repo::legs(&mut tx.conn(), call.phone_call_id).await?;
    let events = repo::events(&mut tx.conn(), call.phone_call_id).await?;
    Ok(CallDetail { call, legs, events })
}

/// A call by public id in any tenant: only for callers that proved access otherwise (a signed
/// recording link).
pub async fn find_unscoped(state: &AppState, public_id: &str) -> Result<CallRow, CallError> {
    let mut tx = state.db.read().await?;
    repo::find_by_public_id(&mut tx.conn(), public_id)
        .await?
        .ok_or(CallError::NotFound)
}

/// The legs of many calls (one query), in the order of `calls`.
pub async fn legs_of(state: &AppState, calls: &[CallRow]) -> Result<Vec<Vec<LegRow>>, CallError> {
    let ids: Vec<i64> = calls.iter().map(|c| c.phone_call_id).collect();
    let mut tx = state.db.read().await?;
    let mut by_call: std::collections::HashMap<i64, Vec<LegRow>> = std::collections::HashMap::new();
    for row in repo::legs_for(&mut tx.conn(), &ids).await? {
        by_call.entry(row.phone_call_id).or_default().push(row.leg);
    }
    Ok(ids
        .iter()
        .map(|id| by_call.remove(id).unwrap_or_default())
        .collect())
}

/// Filters as typed by a person or sent in a query string, before parsing.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// A status code.
    pub status: Option<String>,
    /// `YYYY-MM-DD` (Tehran time), inclusive.
    pub from: Option<String>,
    /// `YYYY-MM-DD` (Tehran time), inclusive.
    pub to: Option<String>,
    /// Digits a party's number ends with (at least 3).
    pub number: Option<String>,
    /// Exact reference.
    pub reference: Option<String>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
}

/// Midnight in Tehran at the start of a date, as Unix ms. Takes `YYYY-MM-DD` or `YYYY/MM/DD`,
/// Gregorian or (years before 1700) Jalali, in Latin or Persian digits.
pub fn tehran_midnight_ms(date: &str) -> Option<i64> {
    let digits = crate::domain::digits::normalize_digits(date.trim());
    let mut parts = digits.split(['-', '/']);
    let year: i64 = parts.next()?.trim().parse().ok()?;
    let month: u32 = parts.next()?.trim().parse().ok()?;
    let day: u32 = parts.next()?.trim().parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    let (year, month, day) = if year < 1700 {
        crate::domain::jalali::jalali_to_gregorian(year, month, day)?
    } else {
        (year, month, day)
    };
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date =
        time::Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?)
            .ok()?;
    let utc_midnight = date.midnight().assume_utc().unix_timestamp() * 1000;
    Some(utc_midnight - TEHRAN_OFFSET_MS)
}

/// Opaque page cursor.
pub fn encode_cursor(phone_call_id: i64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("c{phone_call_id}"))
}

fn decode_cursor(cursor: &str) -> Option<i64> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .ok()?;
    std::str::from_utf8(&bytes)
        .ok()?
        .strip_prefix('c')?
        .parse()
        .ok()
}

/// Parses list filters, collecting every problem. Returns the filter and the page size.
pub fn parse_list(query: &ListQuery) -> Result<(CallFilter, i64), CallError> {
    let mut issues = Vec::new();
    let mut issue = |field: &str, code: &'static str, message: &str| {
        issues.push(FieldIssue {
            field: field.into(),
            code,
            message: message.into(),
        })
    };
    let blank = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let mut filter = CallFilter::default();
    if let Some(status) = blank(&query.status) {
        match status.parse::<CallStatus>() {
            Ok(s) => filter.status = Some(s.code().to_owned()),
            Err(()) => issue("status", "invalid_choice", "status must be one of queued, ringing, in-progress, completed, busy, no-answer, failed, canceled"),
        }
    }
    if let Some(from) = blank(&query.from) {
        match tehran_midnight_ms(&from) {
            Some(ms) => filter.from_ms = Some(ms),
            None => issue(
                "from",
                "invalid_date",
                "from must be a date like 2026-12-05 or 1405/09/14",
            ),
        }
    }
    if let Some(to) = blank(&query.to) {
        match tehran_midnight_ms(&to) {
            Some(ms) => filter.until_ms = Some(ms + 24 * 3600 * 1000),
            None => issue(
                "to",
                "invalid_date",
                "to must be a date like 2026-12-05 or 1405/09/14",
            ),
        }
    }
    if let Some(number) = blank(&query.number) {
        let digits: String = crate::domain::digits::normalize_digits(&number)
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .collect();
        if digits.len() < 3 || digits.len() > 15 || !digits.chars().all(|c| c.is_ascii_digit()) {
            issue(
                "number",
                "invalid_number",
                "number must be 3 to 15 digits the party's number ends with",
            );
        } else {
            // Numbers are stored as +98…; a local 09… form matches from the 9.
            let suffix = match digits.strip_prefix('0') {
                Some(rest) if rest.len() >= 3 => rest,
                _ => digits.as_str(),
            };
            filter.number_suffix = Some(suffix.to_owned());
        }
    }
    if let Some(reference) = blank(&query.reference) {
        filter.reference = Some(reference);
    }
    if let Some(cursor) = blank(&query.cursor) {
        match decode_cursor(&cursor) {
            Some(id) => filter.before_id = Some(id),
            None => issue(
                "cursor",
                "invalid_cursor",
                "cursor must come from a previous page's next_cursor",
            ),
        }
    }
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        issue("limit", "out_of_range", "limit must be between 1 and 200");
    }
    if issues.is_empty() {
        Ok((filter, limit))
    } else {
        Err(CallError::Invalid(issues))
    }
}

/// A page of calls, newest first, and the cursor of the next page.
pub async fn list(
    state: &AppState,
    tenant_id: i64,
    filter: &CallFilter,
    limit: i64,
) -> Result<(Vec<CallRow>, Option<String>), CallError> {
    let mut tx = state.db.read().await?;
    let mut rows = repo::list(&mut tx.conn(), tenant_id, filter, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let next = more
        .then(|| rows.last().map(|r| encode_cursor(r.phone_call_id)))
        .flatten();
    Ok((rows, next))
}

/// Asks a live call to hang up. Answers the call as it is now (an ended call is left alone).
/// The engine running it here stops it at once; one in another process (several `pol`s on one
/// PostgreSQL) sees the request at its next checkpoint.
pub async fn hang_up(
    state: &AppState,
    tenant_id: i64,
    public_id: &str,
) -> Result<CallDetail, CallError> {
    let detail = get(state, tenant_id, public_id).await?;
    let status: CallStatus = detail.call.status.parse().unwrap_or(CallStatus::Failed);
    if status.is_terminal() {
        return Ok(detail);
    }
    let call_id = detail.call.phone_call_id;
    if !state.engine.hang_up(call_id, "api_hangup") {
        let mut tx = state.db.begin().await?;
        repo::request_hangup(&mut tx.conn(), call_id, now_ms()).await?;
        tx.commit().await?;
        return Ok(detail);
    }
    // Give the local engine a moment so the answer usually shows the ended call.
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = get(state, tenant_id, public_id).await?;
        if now
            .call
            .status
            .parse::<CallStatus>()
            .is_ok_and(CallStatus::is_terminal)
        {
            return Ok(now);
        }
    }
    get(state, tenant_id, public_id).await
}

/// What the dashboard shows about calls: the last 30 Tehran days, today last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    /// Exactly 30 days, oldest first, days without calls included as zeros.
    pub days: Vec<repo::DayRow>,
}

impl Activity {
    /// Today's numbers.
    pub fn today(&self) -> Option<&repo::DayRow> {
        self.days.last()
    }

    /// Midnight in Tehran (Unix ms) at the start of a day of [`Activity::days`].
    pub fn day_start_ms(day: &repo::DayRow) -> i64 {
        day.day * 86_400_000 - TEHRAN_OFFSET_MS
    }

    /// Average seconds billed per day over the last 7 days.
    pub fn daily_pace_seconds(&self) -> i64 {
        let week: i64 = self
            .days
            .iter()
            .rev()
            .take(7)
            .map(|d| d.billed_seconds)
            .sum();
        week / 7
    }
}

/// The tenant's calls per day for the last 30 days (Tehran time).
pub async fn activity(state: &AppState, tenant_id: i64, now: i64) -> Result<Activity, CallError> {
    const DAY: i64 = 86_400_000;
    let today = (now + TEHRAN_OFFSET_MS).div_euclid(DAY);
    let first = today - 29;
    let from_ms = first * DAY - TEHRAN_OFFSET_MS;
    let mut tx = state.db.read().await?;
    let rows = repo::per_day(&mut tx.conn(), tenant_id, from_ms, TEHRAN_OFFSET_MS).await?;
    let days = (first..=today)
        .map(|day| {
            rows.iter()
                .find(|r| r.day == day)
                .cloned()
                .unwrap_or(repo::DayRow {
                    day,
                    calls: 0,
                    answered: 0,
                    billed_seconds: 0,
                    cost_rial: 0,
                })
        })
        .collect();
    Ok(Activity { days })
}

/// The tenant's call settings.
pub async fn settings(state: &AppState, tenant_id: i64) -> Result<CallSettingsRow, CallError> {
    let mut tx = state.db.read().await?;
    tenants::call_settings(&mut tx.conn(), tenant_id)
        .await?
        .ok_or(CallError::NotFound)
}

/// Changes the tenant's call settings (validated by the caller's parse).
pub async fn save_settings(
    state: &AppState,
    tenant_id: i64,
    settings: &CallSettingsRow,
) -> Result<(), CallError> {
    let mut tx = state.db.begin().await?;
    tenants::set_call_settings(&mut tx.conn(), tenant_id, settings, now_ms()).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(passenger: &str, driver: &str) -> CallRequest {
        CallRequest {
            passenger: passenger.into(),
            driver: driver.into(),
            ..CallRequest::default()
        }
    }

    #[test]
    fn numbers_in_any_form_become_e164() {
        let call = ValidCall::parse(&request("۰۹۱۲ ۱۲۳ ۴۵۶۷", "+98 935 765 4321")).unwrap();
        assert_eq!(call.passenger.as_e164(), "+989121234567");
        assert_eq!(call.driver.as_e164(), "+989357654321");
    }

    #[test]
    fn a_bad_number_names_its_field() {
        let err = ValidCall::parse(&request("09121234567", "12345")).unwrap_err();
        assert!(
            matches!(
                err,
                CallError::InvalidNumber {
                    field: "driver",
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn the_same_number_twice_is_refused() {
        let err = ValidCall::parse(&request("09121234567", "+989121234567")).unwrap_err();
        assert!(matches!(err, CallError::SameNumber));
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let mut req = request("09121234567", "09351234567");
        req.first = Some("nobody".into());
        req.max_duration = Some(0);
        req.ring_timeout = Some(500);
        req.reference = Some("x".repeat(101));
        let CallError::Invalid(issues) = ValidCall::parse(&req).unwrap_err() else {
            panic!("a validation error");
        };
        let fields: Vec<_> = issues.iter().map(|i| i.field.as_str()).collect();
        assert_eq!(
            fields,
            ["first", "max_duration", "ring_timeout", "reference"]
        );
    }

    #[test]
    fn the_same_request_has_the_same_fingerprint() {
        let a = ValidCall::parse(&request("09121234567", "09351234567")).unwrap();
        let b = ValidCall::parse(&request("+989121234567", "9351234567")).unwrap();
        let c = ValidCall::parse(&request("09121234567", "09351234568")).unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.fingerprint(), c.fingerprint());
    }

    #[test]
    fn dates_are_tehran_midnights() {
        // 2026-12-05 00:00 in Tehran is 2026-12-04 20:30 UTC.
        assert_eq!(tehran_midnight_ms("2026-12-05"), Some(1_796_416_200_000));
        assert_eq!(tehran_midnight_ms("۲۰۲۶-۱۲-۰۵"), Some(1_796_416_200_000));
        assert_eq!(
            tehran_midnight_ms("۱۴۰۵/۰۹/۱۴"),
            Some(1_796_416_200_000),
            "Jalali"
        );
        assert_eq!(tehran_midnight_ms("1405-9-14"), Some(1_796_416_200_000));
        assert_eq!(tehran_midnight_ms("2026-13-05"), None);
        assert_eq!(tehran_midnight_ms("yesterday"), None);
    }

    #[test]
    fn a_number_filter_matches_the_end_of_stored_numbers() {
        let suffix = |n: &str| {
            let query = ListQuery {
                number: Some(n.into()),
                ..ListQuery::default()
            };
            parse_list(&query).unwrap().0.number_suffix.unwrap()
        };
        assert_eq!(suffix("4567"), "4567");
        assert_eq!(suffix("09121234567"), "9121234567");
        assert_eq!(suffix("۰۰۰۰۰۰۰"), "000000", "zeros are digits too");
        assert_eq!(suffix("012"), "012");
    }

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
        assert_eq!(decode_cursor("!!!"), None);
        let query = ListQuery {
            cursor: Some("garbage".into()),
            limit: Some(500),
            ..ListQuery::default()
        };
        let CallError::Invalid(issues) = parse_list(&query).unwrap_err() else {
            panic!("a validation error");
        };
        assert_eq!(issues.len(), 2);
    }
}
