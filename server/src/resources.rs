//! What the JSON API answers, as types: the handlers serialise these and the OpenAPI document is
//! generated from the same types, so the two cannot drift apart.

use app::backend::repo::calls::{CallRow, EventRow, LegRow};
use app::backend::rfc3339 as iso;
use app::backend::state::AppState;
use app::domain::Rial;
use serde::Serialize;
use utoipa::ToSchema;

/// An amount of money.
#[derive(Debug, Serialize, ToSchema)]
pub struct Money {
    /// Integer Rial.
    pub rial: i64,
    /// Toman (Rial ÷ 10) as a decimal string.
    #[schema(example = "250")]
    pub toman: String,
}

impl Money {
    /// From Rial.
    pub fn from_rial(rial: i64) -> Self {
        Self {
            rial,
            toman: Rial::new(rial).toman().normalize().to_string(),
        }
    }
}

/// One party's phone call.
#[derive(Debug, Serialize, ToSchema)]
pub struct Leg {
    /// `first` or `second`.
    pub position: String,
    /// `passenger` or `driver`.
    pub party: String,
    /// E.164.
    #[schema(example = "+989121234567")]
    pub number: String,
    /// When dialling started.
    pub dialled_at: Option<String>,
    /// When the phone rang.
    pub ringing_at: Option<String>,
    /// When the party answered.
    pub answered_at: Option<String>,
    /// When the leg ended.
    pub ended_at: Option<String>,
    /// Why it ended (`busy`, `no-answer`, `unreachable`, `rejected`, `hangup`, …).
    pub cause: Option<String>,
    /// The SIP status the network gave, if any.
    pub sip_code: Option<i64>,
}

impl From<&LegRow> for Leg {
    fn from(leg: &LegRow) -> Self {
        Self {
            position: leg.position.clone(),
            party: leg.party.clone(),
            number: leg.number.clone(),
            dialled_at: iso(leg.dialled_at),
            ringing_at: iso(leg.ringing_at),
            answered_at: iso(leg.answered_at),
            ended_at: iso(leg.ended_at),
            cause: leg.cause.clone(),
            sip_code: leg.sip_code,
        }
    }
}

/// A call's recording.
#[derive(Debug, Serialize, ToSchema)]
pub struct Recording {
    /// Fetch with the same bearer token (range requests supported).
    pub url: String,
    /// MIME type, e.g. `audio/wav`.
    pub format: String,
    /// Length.
    pub duration_seconds: Option<f64>,
    /// Size.
    pub bytes: Option<i64>,
}

/// A moment in a call's life.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEntry {
    /// When.
    pub at: Option<String>,
    /// `queued`, `dialing`, `ringing`, `answered`, `welcome`, `bridged`, `leg_ended`, or the final
    /// status.
    pub event: String,
    /// `first`, `second` or none.
    pub leg: Option<String>,
    /// More about it (numbers masked).
    pub detail: String,
}

/// Credit reserved for a new call.
#[derive(Debug, Serialize, ToSchema)]
pub struct Billing {
    /// Seconds held for this call (whole billing increments).
    pub held_seconds: i64,
    /// Seconds the tenant may still use after this hold.
    pub balance_seconds: i64,
}

/// A masked call.
#[derive(Debug, Serialize, ToSchema)]
pub struct Call {
    /// `call_…`.
    #[schema(example = "call_8k2m4q9x7v3t1r5w6y0z")]
    pub id: String,
    /// `queued`, `ringing`, `in-progress`, `completed`, `busy`, `no-answer`, `failed`, `canceled`.
    pub status: String,
    /// Placed on the sandbox (no real phone rang).
    pub sandbox: bool,
    /// E.164.
    pub passenger: String,
    /// E.164.
    pub driver: String,
    /// `passenger` or `driver`.
    pub first: String,
    /// Talk-time limit granted, seconds.
    pub max_duration: i64,
    /// Seconds each leg may ring.
    pub ring_timeout: i64,
    /// Recorded.
    pub record: bool,
    /// Welcome message played.
    pub welcome: bool,
    /// Your reference.
    pub reference: Option<String>,
    /// Why it ended.
    pub end_cause: Option<String>,
    /// Talk time once ended.
    pub talk_seconds: Option<i64>,
    /// Billed seconds (talk rounded up to the tariff's increment).
    pub billed_seconds: Option<i64>,
    /// What it cost.
    pub cost: Option<Money>,
    /// First then second.
    pub legs: Vec<Leg>,
    /// Once stored.
    pub recording: Option<Recording>,
    /// Accepted at.
    pub created_at: Option<String>,
    /// Parties connected at.
    pub bridged_at: Option<String>,
    /// Ended at.
    pub ended_at: Option<String>,
    /// Every step (not in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<TimelineEntry>>,
    /// Only in the answer to `POST /calls`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing: Option<Billing>,
}

impl Call {
    /// The resource for a stored call.
    pub fn new(
        state: &AppState,
        call: &CallRow,
        legs: &[LegRow],
        events: Option<&[EventRow]>,
    ) -> Self {
        let recording = match (&call.recording_path, &call.recording_content_type) {
            (Some(_), Some(content_type)) => Some(Recording {
                url: format!(
                    "{}/api/v1/calls/{}/recording",
                    state.config.public_url, call.public_id
                ),
                format: content_type.clone(),
                duration_seconds: call.recording_duration_ms.map(|ms| ms as f64 / 1000.0),
                bytes: call.recording_bytes,
            }),
            _ => None,
        };
        Self {
            id: call.public_id.clone(),
            status: call.status.clone(),
            sandbox: call.sandbox,
            passenger: call.passenger.clone(),
            driver: call.driver.clone(),
            first: call.first_party.clone(),
            max_duration: call.max_duration_seconds,
            ring_timeout: call.ring_timeout_seconds,
            record: call.record,
            welcome: call.welcome,
            reference: call.reference.clone(),
            end_cause: call.end_cause.clone(),
            talk_seconds: call.talk_seconds,
            billed_seconds: call.billed_seconds,
            cost: call.cost_rial.map(Money::from_rial),
            legs: legs.iter().map(Leg::from).collect(),
            recording,
            created_at: iso(Some(call.created_at)),
            bridged_at: iso(call.bridged_at),
            ended_at: iso(call.ended_at),
            timeline: events.map(|events| {
                events
                    .iter()
                    .map(|e| TimelineEntry {
                        at: iso(Some(e.created_at)),
                        event: e.kind.clone(),
                        leg: e.leg.clone(),
                        detail: e.detail.clone(),
                    })
                    .collect()
            }),
            billing: None,
        }
    }
}

/// A page of calls, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallPage {
    /// The calls.
    pub data: Vec<Call>,
    /// Pass as `cursor` for the next page; none on the last.
    pub next_cursor: Option<String>,
}

/// The tenant.
#[derive(Debug, Serialize, ToSchema)]
pub struct Tenant {
    /// Id.
    pub id: i64,
    /// Company name.
    pub name: String,
}

/// Talk time.
#[derive(Debug, Serialize, ToSchema)]
pub struct Balance {
    /// Seconds new calls may use.
    pub seconds: i64,
    /// The same in whole minutes.
    pub minutes: i64,
    /// Reserved by calls in progress.
    pub held_seconds: i64,
    /// What the unused time cost.
    pub value: Money,
}

/// Call defaults.
#[derive(Debug, Serialize, ToSchema)]
pub struct Settings {
    /// `passenger` or `driver`.
    pub first: String,
    /// Default and largest talk-time limit, seconds.
    pub max_duration: i64,
    /// Seconds each leg may ring.
    pub ring_timeout: i64,
    /// Record calls.
    pub record: bool,
    /// Play the welcome message.
    pub welcome: bool,
    /// Play it to the second party too.
    pub welcome_to_second: bool,
    /// Calls that may be in progress at once.
    pub max_concurrent_calls: i64,
    /// The number both parties see, if the operator set one (else the trunk's default).
    pub caller_id: Option<String>,
}

/// `GET /account`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Account {
    /// Who the token speaks for.
    pub tenant: Tenant,
    /// Calls go to the sandbox.
    pub sandbox: bool,
    /// Talk time.
    pub balance: Balance,
    /// Call defaults.
    pub settings: Settings,
}

/// One problem with a request.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    /// The field (`driver`, `max_duration`, …).
    pub field: String,
    /// `invalid_number`, `out_of_range`, `invalid_choice`, `unknown_field`, `required`, …
    pub code: String,
    /// For the developer.
    pub message: String,
}

/// An error (RFC 9457 `application/problem+json`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// Stable code: `unauthorized`, `insufficient_credit`, `not_found`, `invalid_number`,
    /// `same_number`, `validation`, `idempotency_key_reused`, `body_too_large`,
    /// `concurrency_limit`, `rate_limited`, `method_not_allowed`, `internal`.
    pub code: String,
    /// What happened.
    pub detail: String,
    /// With `invalid_number`: which party.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// With validation errors: every problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldProblem>>,
}
