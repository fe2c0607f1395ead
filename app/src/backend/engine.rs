//! The call engine: runs each call from its hold to its settlement over a [`Telephony`]
//! backend. It owns the call's state: every step is written to the database (with a timeline
//! event) before the engine acts on it, so a call interrupted by a crash can be reconciled by
//! whichever engine notices first (see [`supervise`]).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use telephony::{
    Audio, BackendKind, Cause, Dial, Event, EventSink, LegId, Prompt, RecordingId, RecordingInfo,
    SharedTelephony, TimeScale,
};
use tokio::sync::mpsc;

use super::billing::{self, BillingError};
use super::db::Tx;
use super::now_ms;
use super::repo::calls::{self as repo, CallRow, Ending, LegMoment};
use super::state::AppState;
use super::webhooks;
use crate::domain::call::mask_number;
use crate::domain::{CallStatus, Party};

/// How often an engine tells the others it is alive (at most; a third of the staleness limit
/// when that is shorter, so a live engine never looks dead).
const HEARTBEAT: Duration = Duration::from_secs(5);
/// How often talk time is written down during a call (in call time).
const CHECKPOINT: Duration = Duration::from_secs(10);
/// How long to wait for a recording to be written after hang-up.
const RECORDING_WAIT: Duration = Duration::from_secs(60);

/// Why a live call is being ended from outside.
#[derive(Debug, Clone, Copy)]
pub enum Control {
    /// Hang up, with this cause (`api_hangup`, `server_shutdown`).
    HangUp(&'static str),
}

/// Everything the engine needs to run one call.
#[derive(Debug, Clone)]
pub struct CallPlan {
    /// `phone_call_id`.
    pub call_id: i64,
    /// The public id (also the hold's call reference).
    pub public_id: String,
    /// Owner.
    pub tenant_id: i64,
    /// Called first: party and E.164 number.
    pub first: (Party, String),
    /// Called second.
    pub second: (Party, String),
    /// Per leg.
    pub ring_timeout: Duration,
    /// Talk time limit (call time).
    pub max_duration: Duration,
    /// The limit is the credit held rather than the requested or default limit.
    pub limited_by_credit: bool,
    /// Record the call.
    pub record: bool,
    /// Play the welcome message to the first party.
    pub welcome: bool,
    /// The operator's reference, repeated in webhooks.
    pub reference: Option<String>,
    /// This call's own webhook URL.
    pub callback_url: Option<String>,
    /// The tenant's welcome message (none: the built-in chime).
    pub welcome_prompt: Option<Prompt>,
    /// Play the welcome message to the second party too, before connecting them.
    pub welcome_to_second: bool,
    /// The number both parties see, when the operator set one.
    pub caller_id: Option<String>,
}

impl CallPlan {
    /// What `call.ringing` and `call.answered` webhooks carry.
    fn event_data(&self, status: CallStatus, sandbox: bool) -> serde_json::Value {
        serde_json::json!({
            "id": self.public_id,
            "status": status.code(),
            "sandbox": sandbox,
            "reference": self.reference,
            "first": self.first.0.code(),
        })
    }
}

struct Inner {
    id: String,
    telephony: SharedTelephony,
    controls: Mutex<HashMap<i64, mpsc::UnboundedSender<Control>>>,
    media_root: PathBuf,
    stale_after: Duration,
}

/// Runs calls. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl Engine {
    /// An engine over `telephony`, storing recordings under `media_root`. Calls of engines not
    /// heard from for `stale_after` are reconciled.
    pub fn new(telephony: SharedTelephony, media_root: PathBuf, stale_after: Duration) -> Self {
        use rand::Rng;
        let id: String = rand::thread_rng()
            .sample_iter(rand::distributions::Alphanumeric)
            .take(16)
            .map(char::from)
            .collect();
        Self {
            inner: Arc::new(Inner {
                id: format!("engine-{id}"),
                telephony,
                controls: Mutex::new(HashMap::new()),
                media_root,
                stale_after,
            }),
        }
    }

    /// This engine's id (stored on its calls).
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// Whether calls go to simulated phones.
    pub fn is_sandbox(&self) -> bool {
        self.inner.telephony.kind() == BackendKind::Sandbox
    }

    /// Where recordings and prompts live.
    pub fn media_root(&self) -> &std::path::Path {
        &self.inner.media_root
    }

    fn controls(&self) -> MutexGuard<'_, HashMap<i64, mpsc::UnboundedSender<Control>>> {
        self.inner
            .controls
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Calls this engine is running.
    pub fn live_calls(&self) -> usize {
        self.controls().len()
    }

    /// Starts running a call that was just stored as queued.
    pub fn start(&self, state: AppState, plan: CallPlan) {
        let (control_tx, control_rx) = mpsc::unbounded_channel();
        self.controls().insert(plan.call_id, control_tx);
        let (sink, events) = mpsc::unbounded_channel();
        let run = Run {
            engine: self.clone(),
            scale: self.inner.telephony.time_scale(),
            telephony: self.inner.telephony.clone(),
            state,
            plan,
            sink,
            events,
            control: control_rx,
            legs: [None, None],
            recording: None,
            ended: Vec::new(),
            talk_started: None,
            talk_ended: None,
            last_checkpoint: Instant::now(),
        };
        tokio::spawn(run.run());
    }

    /// Asks a call this engine runs to hang up; false if it runs elsewhere or has ended.
    pub fn hang_up(&self, call_id: i64, cause: &'static str) -> bool {
        self.controls()
            .get(&call_id)
            .is_some_and(|c| c.send(Control::HangUp(cause)).is_ok())
    }

    /// Hangs up every call and waits (up to `patience`) for them to be settled.
    pub async fn shut_down(&self, patience: Duration) {
        let ids: Vec<i64> = self.controls().keys().copied().collect();
        for id in ids {
            self.hang_up(id, "server_shutdown");
        }
        let deadline = Instant::now() + patience;
        while self.live_calls() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// How a call ended, before billing.
struct End {
    status: CallStatus,
    cause: String,
}

impl End {
    fn new(status: CallStatus, cause: impl Into<String>) -> Self {
        Self {
            status,
            cause: cause.into(),
        }
    }

    /// A leg that did not connect ends the call with the matching status.
    fn from_cause(cause: Cause) -> Self {
        let status = match cause {
            Cause::Busy | Cause::Rejected => CallStatus::Busy,
            Cause::NoAnswer => CallStatus::NoAnswer,
            Cause::Unreachable | Cause::MediaTimeout | Cause::Failed | Cause::HungUp => {
                CallStatus::Failed
            }
        };
        Self::new(status, cause.code())
    }
}

enum Wake {
    Event(Event),
    Control(Control),
    Timeout,
}

const POSITIONS: [&str; 2] = ["first", "second"];

/// A leg's end, kept until the call's end is written.
struct LegEnd {
    leg: usize,
    cause: String,
    sip_code: Option<u16>,
    at: i64,
}

struct Run {
    engine: Engine,
    telephony: SharedTelephony,
    scale: TimeScale,
    state: AppState,
    plan: CallPlan,
    sink: EventSink,
    events: mpsc::UnboundedReceiver<Event>,
    control: mpsc::UnboundedReceiver<Control>,
    legs: [Option<LegId>; 2],
    recording: Option<RecordingId>,
    /// Legs that ended, written with the call's end.
    ended: Vec<LegEnd>,
    talk_started: Option<Instant>,
    /// When the conversation ended (taken before any write, so slow writes are not billed).
    talk_ended: Option<Instant>,
    last_checkpoint: Instant,
}

impl Run {
    async fn run(mut self) {
        let end = self.drive().await;
        self.finish(end).await;
        self.engine.controls().remove(&self.plan.call_id);
    }

    /// Writes one step; failures are logged (the call goes on, and reconciliation or the final
    /// write repairs the record).
    async fn write<F>(&self, what: &'static str, step: F)
    where
        F: for<'t> FnOnce(&'t mut Tx) -> futures_like::BoxFuture<'t, sqlx::Result<()>>,
    {
        let result = async {
            let mut tx = self.state.db.begin().await?;
            step(&mut tx).await?;
            tx.commit().await
        }
        .await;
        if let Err(err) = result {
            tracing::error!(call_id = self.plan.call_id, error = %err, what, "failed to record a call step");
        }
    }

    async fn leg_moment(&self, leg: usize, moment: LegMoment) {
        let call_id = self.plan.call_id;
        let (kind, status) = match moment {
            LegMoment::Dialled => ("dialing", None),
            LegMoment::Ringing => ("ringing", (leg == 0).then_some(CallStatus::Ringing)),
            LegMoment::Answered => ("answered", None),
        };
        let number = mask_number(self.number(leg));
        // The welcome message follows the first party's answer at once: one write for both.
        let welcome = moment == LegMoment::Answered && leg == 0 && self.plan.welcome;
        let tenant_id = self.plan.tenant_id;
        let callback_url = self.plan.callback_url.clone();
        let ringing = status.is_some().then(|| {
            self.plan
                .event_data(CallStatus::Ringing, self.engine.is_sandbox())
        });
        self.write(kind, move |tx| {
            Box::pin(async move {
                let now = now_ms();
                repo::stamp_leg(&mut tx.conn(), call_id, POSITIONS[leg], moment, now).await?;
                repo::add_event(
                    &mut tx.conn(),
                    call_id,
                    kind,
                    Some(POSITIONS[leg]),
                    &number,
                    now,
                )
                .await?;
                if let Some(status) = status {
                    repo::set_status(&mut tx.conn(), call_id, status.code(), now).await?;
                }
                if let Some(data) = ringing {
                    let call = Some((call_id, callback_url.as_deref()));
                    webhooks::enqueue_in(tx, tenant_id, call, "call.ringing", data).await?;
                }
                if welcome {
                    repo::add_event(
                        &mut tx.conn(),
                        call_id,
                        "welcome",
                        Some(POSITIONS[0]),
                        "",
                        now,
                    )
                    .await?;
                }
                Ok(())
            })
        })
        .await;
    }

    /// Notes that a leg ended; written with the call's end, in the same transaction (a leg's
    /// end always comes just before the call's).
    fn leg_ended(&mut self, leg: usize, cause: String, sip_code: Option<u16>) {
        self.ended.push(LegEnd {
            leg,
            cause,
            sip_code,
            at: now_ms(),
        });
    }

    fn number(&self, leg: usize) -> &str {
        if leg == 0 {
            &self.plan.first.1
        } else {
            &self.plan.second.1
        }
    }

    fn leg_index(&self, id: LegId) -> Option<usize> {
        self.legs.iter().position(|l| *l == Some(id))
    }

    /// Waits for the next event, control message or `deadline`, writing talk-time checkpoints
    /// on the way.
    async fn next(&mut self, deadline: Option<Instant>) -> Wake {
        loop {
            let checkpoint_due = self.last_checkpoint + self.scale.to_wall(CHECKPOINT);
            let wake_at = match deadline {
                Some(d) if d < checkpoint_due => d,
                _ => checkpoint_due,
            };
            tokio::select! {
                Some(event) = self.events.recv() => return Wake::Event(event),
                Some(control) = self.control.recv() => return Wake::Control(control),
                () = tokio::time::sleep_until(wake_at.into()) => {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return Wake::Timeout;
                    }
                    if self.checkpoint().await {
                        return Wake::Control(Control::HangUp("api_hangup"));
                    }
                }
            }
        }
    }

    fn talk_seconds(&self) -> i64 {
        let Some(started) = self.talk_started else {
            return 0;
        };
        let ended = self.talk_ended.unwrap_or_else(Instant::now);
        let talk = self.scale.to_call(ended.saturating_duration_since(started));
        let seconds = i64::try_from(talk.as_millis().div_ceil(1000)).unwrap_or(i64::MAX);
        seconds.min(i64::try_from(self.plan.max_duration.as_secs()).unwrap_or(i64::MAX))
    }

    /// Writes the talk time so far; returns whether a hang-up was requested through another
    /// process.
    async fn checkpoint(&mut self) -> bool {
        self.last_checkpoint = Instant::now();
        let call_id = self.plan.call_id;
        if self.talk_started.is_some() {
            let talk = self.talk_seconds();
            self.write("checkpoint", move |tx| {
                Box::pin(
                    async move { repo::checkpoint(&mut tx.conn(), call_id, talk, now_ms()).await },
                )
            })
            .await;
        }
        let requested = async {
            let mut tx = self.state.db.read().await?;
            repo::hangup_requested(&mut tx.conn(), call_id).await
        };
        requested.await.unwrap_or_else(|err| {
            tracing::warn!(call_id, error = %err, "could not check for a hang-up request");
            false
        })
    }

    async fn hang_up_all(&mut self, cause: &str) {
        for leg in 0..2 {
            if let Some(id) = self.legs[leg].take() {
                if let Err(err) = self.telephony.hang_up(id).await {
                    tracing::warn!(call_id = self.plan.call_id, error = %err, "hang-up failed");
                }
                self.leg_ended(leg, cause.to_owned(), None);
            }
        }
    }

    /// Places a leg (after writing that we are about to).
    async fn dial(&mut self, leg: usize) -> Result<LegId, End> {
        self.leg_moment(leg, LegMoment::Dialled).await;
        let dial = Dial {
            number: self.number(leg).to_owned(),
            caller_id: self.plan.caller_id.clone(),
            ring_timeout: self.plan.ring_timeout,
        };
        match self.telephony.place(dial, self.sink.clone()).await {
            Ok(id) => {
                self.legs[leg] = Some(id);
                Ok(id)
            }
            Err(err) => {
                tracing::error!(call_id = self.plan.call_id, error = %err, "could not place a leg");
                self.leg_ended(leg, "telephony_error".into(), None);
                Err(End::new(CallStatus::Failed, "telephony_error"))
            }
        }
    }

    /// Waits for leg `leg` to answer; anything else ends the call.
    async fn answered(&mut self, leg: usize) -> Result<(), End> {
        // A backend that cancels at the ring timeout itself reports the leg with its SIP code;
        // the engine steps in only if it does not.
        let grace = if self.telephony.enforces_ring_timeout() {
            Duration::from_secs(10)
        } else {
            Duration::ZERO
        };
        let deadline = Instant::now() + self.scale.to_wall(self.plan.ring_timeout) + grace;
        loop {
            match self.next(Some(deadline)).await {
                Wake::Event(Event::Ringing(id)) if self.leg_index(id) == Some(leg) => {
                    self.leg_moment(leg, LegMoment::Ringing).await;
                }
                Wake::Event(Event::Answered(id)) if self.leg_index(id) == Some(leg) => {
                    self.leg_moment(leg, LegMoment::Answered).await;
                    return Ok(());
                }
                Wake::Event(Event::Failed {
                    leg: id,
                    cause,
                    sip_code,
                }) if self.leg_index(id) == Some(leg) => {
                    self.legs[leg] = None;
                    self.leg_ended(leg, cause.code().into(), sip_code);
                    let end = End::from_cause(cause);
                    self.hang_up_all(&format!("{}_leg_{}", POSITIONS[leg], end.status))
                        .await;
                    return Err(end);
                }
                Wake::Event(Event::HungUp { leg: id, .. }) if self.leg_index(id) == Some(0) => {
                    // The first party gave up while the second was ringing.
                    self.legs[0] = None;
                    self.leg_ended(0, "hangup".into(), None);
                    self.hang_up_all("first_party_hung_up").await;
                    return Err(End::new(CallStatus::Canceled, "first_party_hung_up"));
                }
                Wake::Event(_) => {}
                Wake::Control(Control::HangUp(cause)) => {
                    self.hang_up_all(cause).await;
                    return Err(End::new(CallStatus::Canceled, cause));
                }
                Wake::Timeout => {
                    if let Some(id) = self.legs[leg].take() {
                        let _ = self.telephony.hang_up(id).await;
                    }
                    self.leg_ended(leg, "no-answer".into(), None);
                    self.hang_up_all("no-answer").await;
                    return Err(End::new(CallStatus::NoAnswer, "no-answer"));
                }
            }
        }
    }

    /// Plays the welcome message to leg `leg` and waits for it to finish; either party hanging
    /// up meanwhile ends the call.
    async fn welcome(&mut self, leg: usize) -> Result<(), End> {
        let Some(target) = self.legs[leg] else {
            return Ok(());
        };
        let prompt = self
            .plan
            .welcome_prompt
            .clone()
            .unwrap_or_else(Prompt::chime);
        let deadline =
            Instant::now() + self.scale.to_wall(prompt.duration()) + Duration::from_secs(5);
        if leg == 1 {
            // The first party's welcome is written with their answer; this one on its own.
            let call_id = self.plan.call_id;
            self.write("welcome", move |tx| {
                Box::pin(async move {
                    repo::add_event(
                        &mut tx.conn(),
                        call_id,
                        "welcome",
                        Some(POSITIONS[1]),
                        "",
                        now_ms(),
                    )
                    .await
                })
            })
            .await;
        }
        if let Err(err) = self.telephony.play(target, Audio::Prompt(prompt)).await {
            tracing::warn!(call_id = self.plan.call_id, error = %err, "could not play the welcome");
            return Ok(());
        }
        loop {
            match self.next(Some(deadline)).await {
                Wake::Event(Event::PlaybackFinished(id)) if id == target => return Ok(()),
                Wake::Event(Event::HungUp { leg: id, .. }) => {
                    let Some(gone) = self.leg_index(id) else {
                        continue;
                    };
                    self.legs[gone] = None;
                    self.leg_ended(gone, "hangup".into(), None);
                    let cause = format!("{}_party_hung_up", POSITIONS[gone]);
                    self.hang_up_all(&cause).await;
                    return Err(End::new(CallStatus::Canceled, cause));
                }
                Wake::Event(_) => {}
                Wake::Control(Control::HangUp(cause)) => {
                    self.hang_up_all(cause).await;
                    return Err(End::new(CallStatus::Canceled, cause));
                }
                Wake::Timeout => return Ok(()),
            }
        }
    }

    async fn drive(&mut self) -> End {
        let first = match self.dial(0).await {
            Ok(id) => id,
            Err(end) => return end,
        };
        if let Err(end) = self.answered(0).await {
            return end;
        }
        if self.plan.record {
            let path = self
                .engine
                .media_root()
                .join(recording_path(self.plan.tenant_id, &self.plan.public_id));
            match self
                .telephony
                .start_recording(first, path, self.sink.clone())
                .await
            {
                Ok(id) => self.recording = Some(id),
                Err(err) => {
                    tracing::warn!(call_id = self.plan.call_id, error = %err, "could not start recording")
                }
            }
        }
        if self.plan.welcome {
            if let Err(end) = self.welcome(0).await {
                return end;
            }
        }
        if let Err(err) = self.telephony.play(first, Audio::Ringback).await {
            tracing::warn!(call_id = self.plan.call_id, error = %err, "could not play ringback");
        }
        let second = match self.dial(1).await {
            Ok(id) => id,
            Err(end) => {
                self.hang_up_all("second_leg_failed").await;
                return end;
            }
        };
        if let Err(end) = self.answered(1).await {
            return end;
        }
        if self.plan.welcome && self.plan.welcome_to_second {
            if let Err(end) = self.welcome(1).await {
                return end;
            }
        }
        if let Err(err) = self.telephony.bridge(first, second).await {
            tracing::error!(call_id = self.plan.call_id, error = %err, "could not bridge");
            self.hang_up_all("telephony_error").await;
            return End::new(CallStatus::Failed, "telephony_error");
        }
        let call_id = self.plan.call_id;
        let tenant_id = self.plan.tenant_id;
        let callback_url = self.plan.callback_url.clone();
        let answered = self
            .plan
            .event_data(CallStatus::InProgress, self.engine.is_sandbox());
        self.write("bridged", move |tx| {
            Box::pin(async move {
                let now = now_ms();
                repo::set_bridged(&mut tx.conn(), call_id, now).await?;
                repo::add_event(&mut tx.conn(), call_id, "bridged", None, "", now).await?;
                let call = Some((call_id, callback_url.as_deref()));
                webhooks::enqueue_in(tx, tenant_id, call, "call.answered", answered).await
            })
        })
        .await;
        self.talk_started = Some(Instant::now());
        self.last_checkpoint = Instant::now();
        let deadline = Instant::now() + self.scale.to_wall(self.plan.max_duration);
        loop {
            let wake = self.next(Some(deadline)).await;
            if !matches!(
                wake,
                Wake::Event(Event::HungUp { .. }) | Wake::Control(_) | Wake::Timeout
            ) {
                continue;
            }
            self.talk_ended = Some(Instant::now());
            match wake {
                Wake::Event(Event::HungUp { leg: id, cause }) => {
                    let Some(leg) = self.leg_index(id) else {
                        self.talk_ended = None;
                        continue;
                    };
                    self.legs[leg] = None;
                    self.leg_ended(leg, cause.code().into(), None);
                    let reason = format!("{}_party_hung_up", POSITIONS[leg]);
                    self.hang_up_all(&reason).await;
                    return End::new(CallStatus::Completed, reason);
                }
                Wake::Event(_) => {}
                Wake::Control(Control::HangUp(cause)) => {
                    self.hang_up_all(cause).await;
                    return End::new(CallStatus::Completed, cause);
                }
                Wake::Timeout => {
                    let cause = if self.plan.limited_by_credit {
                        "credit_exhausted"
                    } else {
                        "max_duration"
                    };
                    self.hang_up_all(cause).await;
                    return End::new(CallStatus::Completed, cause);
                }
            }
        }
    }

    /// Stops the recording and waits for it to be written.
    async fn collect_recording(&mut self) -> Option<RecordingInfo> {
        let id = self.recording.take()?;
        if let Err(err) = self.telephony.stop_recording(id).await {
            tracing::warn!(call_id = self.plan.call_id, error = %err, "could not stop recording");
            return None;
        }
        let deadline = tokio::time::Instant::now() + RECORDING_WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(Event::RecordingReady(r, info))) if r == id => return Some(info),
                Ok(Some(Event::RecordingFailed(r, why))) if r == id => {
                    tracing::error!(call_id = self.plan.call_id, why, "recording failed");
                    return None;
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => {
                    tracing::error!(call_id = self.plan.call_id, "the recording never arrived");
                    return None;
                }
            }
        }
    }

    /// Settles billing and writes the call's end and recording, all in one transaction. Returns
    /// whether the tenant just fell below its low-balance threshold.
    async fn write_end(
        &self,
        plan: &CallPlan,
        end: &End,
        talk: i64,
        recording: Option<&RecordingInfo>,
        recording_failed: bool,
    ) -> Result<bool, BillingError> {
        let mut tx = self.state.db.begin().await?;
        let now = now_ms();
        let (billed, cost, crossed) = if talk > 0 {
            let charge = billing::settle_in(&mut tx, plan.tenant_id, &plan.public_id, talk).await?;
            (
                charge.billed_seconds,
                charge.cost.rial(),
                charge.low_balance_crossed,
            )
        } else {
            billing::release_in(&mut tx, plan.tenant_id, &plan.public_id).await?;
            (0, 0, false)
        };
        let ending = Ending {
            status: end.status.code(),
            cause: &end.cause,
            talk_seconds: talk,
            billed_seconds: billed,
            cost_rial: cost,
        };
        repo::finish(&mut tx.conn(), plan.call_id, &ending, now).await?;
        for end in &self.ended {
            let position = POSITIONS[end.leg];
            let sip_code = end.sip_code.map(i64::from);
            repo::end_leg(
                &mut tx.conn(),
                plan.call_id,
                position,
                &end.cause,
                sip_code,
                end.at,
            )
            .await?;
            let detail = match end.sip_code {
                Some(code) => format!("{} (SIP {code})", end.cause),
                None => end.cause.clone(),
            };
            repo::add_event(
                &mut tx.conn(),
                plan.call_id,
                "leg_ended",
                Some(position),
                &detail,
                end.at,
            )
            .await?;
        }
        if let Some(info) = recording {
            let relative = info
                .path
                .strip_prefix(self.engine.media_root())
                .unwrap_or(&info.path)
                .to_string_lossy()
                .into_owned();
            repo::set_recording(
                &mut tx.conn(),
                plan.call_id,
                &relative,
                info.content_type,
                info.bytes,
                info.duration_ms,
                now,
            )
            .await?;
        }
        repo::add_event(
            &mut tx.conn(),
            plan.call_id,
            end.status.code(),
            None,
            &end.cause,
            now,
        )
        .await?;
        let hook = Some((plan.call_id, plan.callback_url.as_deref()));
        if let Some(call) = repo::find_by_id(&mut tx.conn(), plan.call_id).await? {
            let legs = repo::legs(&mut tx.conn(), plan.call_id).await?;
            let data = webhooks::call_data(&call, &legs);
            webhooks::enqueue_in(&mut tx, plan.tenant_id, hook, "call.completed", data).await?;
        }
        if let Some(info) = recording {
            // A link the operator's server can fetch without a token, for a day.
            let expires = now / 1000 + 24 * 3600;
            let data = serde_json::json!({
                "call_id": plan.public_id,
                "reference": plan.reference,
                "url": webhooks::signed_recording_url(&self.state, &plan.public_id, expires),
                "expires_at": expires,
                "format": info.content_type,
                "duration_seconds": info.duration_ms as f64 / 1000.0,
                "bytes": info.bytes,
            });
            webhooks::enqueue_in(&mut tx, plan.tenant_id, hook, "recording.ready", data).await?;
        } else if recording_failed {
            let data =
                serde_json::json!({ "call_id": plan.public_id, "reference": plan.reference });
            webhooks::enqueue_in(&mut tx, plan.tenant_id, hook, "recording.failed", data).await?;
        }
        if crossed {
            let balance = billing::balance_in(&mut tx, plan.tenant_id).await?;
            let data = serde_json::json!({ "balance_seconds": balance.available_seconds() });
            webhooks::enqueue_in(&mut tx, plan.tenant_id, None, "balance.low", data).await?;
        }
        tx.commit().await?;
        Ok(crossed)
    }

    /// Hangs up what is left, collects the recording and writes the end.
    async fn finish(&mut self, end: End) {
        if self.talk_started.is_some() && self.talk_ended.is_none() {
            self.talk_ended = Some(Instant::now());
        }
        self.hang_up_all(&end.cause.clone()).await;
        let talk = self.talk_seconds();
        let was_recording = self.recording.is_some();
        let recording = self.collect_recording().await;
        let recording_failed = was_recording && recording.is_none();
        let plan = self.plan.clone();
        // The end must be written: retry a failing database for about a minute before giving
        // up (then the call stays live in the database until this engine's restart reconciles it).
        let mut attempt = 0;
        let result = loop {
            attempt += 1;
            match self
                .write_end(&plan, &end, talk, recording.as_ref(), recording_failed)
                .await
            {
                Err(err) if attempt < 8 => {
                    tracing::warn!(call_id = plan.call_id, attempt, error = %err, "retrying a call's end");
                    tokio::time::sleep(Duration::from_millis(250 * (1 << attempt))).await;
                }
                other => break other,
            }
        };
        match result {
            Ok(crossed) => {
                tracing::info!(
                    call_id = plan.call_id,
                    tenant_id = plan.tenant_id,
                    status = %end.status,
                    cause = %end.cause,
                    talk,
                    "call ended"
                );
                if crossed {
                    super::accounts::warn_low_balance(&self.state, plan.tenant_id).await;
                }
            }
            Err(err) => {
                tracing::error!(call_id = plan.call_id, error = %err, "failed to settle a call; reconciliation will retry");
            }
        }
    }
}

/// Where a call's recording is stored, relative to the media root.
pub fn recording_path(tenant_id: i64, public_id: &str) -> PathBuf {
    PathBuf::from("recordings")
        .join(tenant_id.to_string())
        .join(format!("{public_id}.wav"))
}

/// Ends a call whose engine died: billed for the talk time known at its last checkpoint, hold
/// released, cause `server_restart`.
pub async fn reconcile(state: &AppState, call: &CallRow) -> Result<bool, BillingError> {
    let recording = salvage_recording(state, call).await;
    let mut tx = state.db.begin().await?;
    let now = now_ms();
    let talk = call.known_talk_seconds.clamp(0, call.max_duration_seconds);
    let (billed, cost) = if talk > 0 && call.bridged_at.is_some() {
        let charge = billing::settle_in(&mut tx, call.tenant_id, &call.public_id, talk).await?;
        (charge.billed_seconds, charge.cost.rial())
    } else {
        billing::release_in(&mut tx, call.tenant_id, &call.public_id).await?;
        (0, 0)
    };
    let status = if call.bridged_at.is_some() {
        CallStatus::Completed
    } else {
        CallStatus::Failed
    };
    let ending = Ending {
        status: status.code(),
        cause: "server_restart",
        talk_seconds: talk,
        billed_seconds: billed,
        cost_rial: cost,
    };
    if !repo::finish(&mut tx.conn(), call.phone_call_id, &ending, now).await? {
        return Ok(false);
    }
    if let Some((relative, info)) = &recording {
        repo::set_recording(
            &mut tx.conn(),
            call.phone_call_id,
            relative,
            info.content_type,
            info.bytes,
            info.duration_ms,
            now,
        )
        .await?;
    }
    for position in POSITIONS {
        repo::end_leg(
            &mut tx.conn(),
            call.phone_call_id,
            position,
            "server_restart",
            None,
            now,
        )
        .await?;
    }
    repo::add_event(
        &mut tx.conn(),
        call.phone_call_id,
        status.code(),
        None,
        "server_restart",
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::warn!(
        call_id = call.phone_call_id,
        talk,
        "reconciled a call left by a dead engine"
    );
    Ok(true)
}

/// The part of a recording a dead engine was writing: the SIP backend appends raw audio to a
/// file while the call runs, so what was said up to the crash (less a second or two) is encoded
/// now and kept with the call. Returns the path relative to the media root and what it holds.
async fn salvage_recording(state: &AppState, call: &CallRow) -> Option<(String, RecordingInfo)> {
    let relative = recording_path(call.tenant_id, &call.public_id);
    let path = state.engine.media_root().join(&relative);
    let raw = telephony::sip::recorder::raw_path(&path);
    if !tokio::fs::try_exists(&raw).await.unwrap_or(false) {
        return None;
    }
    let encoded =
        tokio::task::spawn_blocking(move || telephony::sip::recorder::compress(&raw, &path)).await;
    match encoded {
        Ok(Ok(info)) if info.duration_ms > 0 => Some((
            relative
                .with_extension("mp3")
                .to_string_lossy()
                .into_owned(),
            info,
        )),
        Ok(Ok(_)) => None,
        Ok(Err(err)) => {
            tracing::warn!(call_id = call.phone_call_id, error = %err, "could not salvage a recording");
            None
        }
        Err(err) => {
            tracing::warn!(call_id = call.phone_call_id, error = %err, "recording salvage panicked");
            None
        }
    }
}

/// Reconciles every call left live by engines that stopped sending heartbeats.
pub async fn reconcile_orphans(state: &AppState) -> anyhow::Result<usize> {
    let engine = &state.engine;
    let stale_before = now_ms() - i64::try_from(engine.inner.stale_after.as_millis())?;
    let orphans = {
        let mut tx = state.db.read().await?;
        repo::orphaned(&mut tx.conn(), engine.id(), stale_before).await?
    };
    let mut done = 0;
    for call in &orphans {
        if reconcile(state, call).await? {
            done += 1;
        }
    }
    Ok(done)
}

/// Background duty of every engine: a heartbeat, and reconciling calls of dead engines (once at
/// start-up, then every few seconds).
pub async fn supervise(state: AppState) {
    let period = (state.engine.inner.stale_after / 3).clamp(Duration::from_millis(100), HEARTBEAT);
    let mut tick = tokio::time::interval(period);
    loop {
        tick.tick().await;
        let heartbeat = async {
            let mut tx = state.db.begin().await?;
            repo::engine_alive(&mut tx.conn(), state.engine.id(), now_ms()).await?;
            tx.commit().await
        };
        if let Err(err) = heartbeat.await {
            tracing::warn!(error = %err, "engine heartbeat failed");
        }
        match reconcile_orphans(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(reconciled = n, "reconciled calls of a dead engine"),
            Err(err) => tracing::warn!(error = %err, "call reconciliation failed"),
        }
    }
}

/// A boxed future, for the engine's write steps (kept local: one alias, no extra crate).
mod futures_like {
    /// A pinned, boxed, sendable future.
    pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
}
