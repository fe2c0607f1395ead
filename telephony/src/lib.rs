//! The media and signalling side of a masked call, behind one trait.
//!
//! The call engine (in `server/`, through `app::backend::engine`) owns a call's state, billing
//! and persistence. A [`Telephony`] backend only places legs, moves audio between them and
//! reports what happened as [`Event`]s. Nothing in this crate speaks HTTP or SQL.
//!
//! Backends: [`sandbox::Sandbox`] simulates phones with realistic timing and writes real
//! recordings, so the whole product can be tried without a phone line; [`sip::SipTelephony`]
//! places real calls through a SIP trunk.

pub mod audio;
pub mod g711;
pub mod prompt;
pub mod sandbox;
pub mod sip;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use audio::Prompt;

/// Identifies one leg (one party's phone call) inside a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LegId(pub u64);

/// Identifies one recording inside a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordingId(pub u64);

impl fmt::Display for LegId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "leg-{}", self.0)
    }
}

/// Which backend this is; the panel and API label sandbox calls as such.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// Simulated phones.
    Sandbox,
    /// A SIP trunk.
    Sip,
}

/// How fast simulated time runs: `0.01` makes a 60 s call take 0.6 s of wall time. Real
/// backends always run at `1.0`. Durations the engine measures are converted back to call time,
/// so billing sees the simulated seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeScale(f64);

impl TimeScale {
    /// Real time.
    pub const REAL: TimeScale = TimeScale(1.0);

    /// A scale between 0.001 and 1.
    pub fn new(factor: f64) -> Option<Self> {
        (factor.is_finite() && (0.001..=1.0).contains(&factor)).then_some(Self(factor))
    }

    /// The factor.
    pub fn factor(self) -> f64 {
        self.0
    }

    /// Wall-clock time that `call_time` takes.
    pub fn to_wall(self, call_time: Duration) -> Duration {
        call_time.mul_f64(self.0)
    }

    /// Call time that `wall` stands for.
    pub fn to_call(self, wall: Duration) -> Duration {
        wall.div_f64(self.0)
    }

    /// Sleeps for `call_time` of simulated time.
    pub async fn sleep(self, call_time: Duration) {
        tokio::time::sleep(self.to_wall(call_time)).await;
    }
}

/// What to dial.
#[derive(Debug, Clone)]
pub struct Dial {
    /// The party's number, E.164 (`+989121234567`).
    pub number: String,
    /// The number the party sees (the operator's, never the other party's).
    pub caller_id: Option<String>,
    /// How long to let it ring; the engine also enforces this and hangs up a ringing leg.
    pub ring_timeout: Duration,
}

/// Why a leg did not connect or ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The party was busy (SIP 486/600).
    Busy,
    /// Nobody answered (SIP 408/480, or our CANCEL after the ring timeout).
    NoAnswer,
    /// The party declined (SIP 603).
    Rejected,
    /// The number cannot be reached (SIP 404/484/503).
    Unreachable,
    /// The party hung up.
    HungUp,
    /// No audio arrived for too long.
    MediaTimeout,
    /// Anything else the network reported.
    Failed,
}

impl Cause {
    /// A stable lower-case code, stored on the leg and shown in the API.
    pub fn code(self) -> &'static str {
        match self {
            Cause::Busy => "busy",
            Cause::NoAnswer => "no-answer",
            Cause::Rejected => "rejected",
            Cause::Unreachable => "unreachable",
            Cause::HungUp => "hangup",
            Cause::MediaTimeout => "media_timeout",
            Cause::Failed => "failed",
        }
    }
}

/// Where a recording ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingInfo {
    /// The file.
    pub path: PathBuf,
    /// Its MIME type (`audio/wav`, `audio/mpeg`).
    pub content_type: &'static str,
    /// Length of the audio.
    pub duration_ms: i64,
    /// Size of the file.
    pub bytes: i64,
}

/// Something that happened to a leg or a recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The far end is ringing.
    Ringing(LegId),
    /// The party picked up.
    Answered(LegId),
    /// The leg did not connect.
    Failed {
        /// Which leg.
        leg: LegId,
        /// Why.
        cause: Cause,
        /// The SIP status, when there was one.
        sip_code: Option<u16>,
    },
    /// A connected party hung up (or the network dropped them).
    HungUp {
        /// Which leg.
        leg: LegId,
        /// Why.
        cause: Cause,
    },
    /// A prompt finished playing to a leg.
    PlaybackFinished(LegId),
    /// A recording was written and is ready to store.
    RecordingReady(RecordingId, RecordingInfo),
    /// A recording could not be written.
    RecordingFailed(RecordingId, String),
}

/// Where a backend sends a call's events. One per call, given with every leg and recording.
pub type EventSink = tokio::sync::mpsc::UnboundedSender<Event>;

/// What to play to a leg.
#[derive(Debug, Clone)]
pub enum Audio {
    /// A prompt, once; [`Event::PlaybackFinished`] follows.
    Prompt(Prompt),
    /// Ringback tone until something else is played or the leg is bridged.
    Ringback,
}

/// Why a backend could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum TelephonyError {
    /// The leg or recording does not exist (any more).
    #[error("unknown {0}")]
    Unknown(&'static str),
    /// The backend is at capacity.
    #[error("the telephony backend is at capacity")]
    Busy,
    /// Anything else.
    #[error("telephony failure: {0}")]
    Other(String),
}

/// A backend that places legs, moves audio and reports events.
#[async_trait::async_trait]
pub trait Telephony: Send + Sync + 'static {
    /// Which backend this is.
    fn kind(&self) -> BackendKind;

    /// How fast its time runs (only the sandbox runs faster than real time).
    fn time_scale(&self) -> TimeScale {
        TimeScale::REAL
    }

    /// Whether the backend ends a leg that rings past its ring timeout by itself (with
    /// [`Event::Failed`] and the SIP code of the cancelled INVITE); the engine then waits a little
    /// longer before it steps in.
    fn enforces_ring_timeout(&self) -> bool {
        false
    }

    /// Starts dialling a party; its events go to `events`.
    async fn place(&self, dial: Dial, events: EventSink) -> Result<LegId, TelephonyError>;

    /// Plays audio to an answered leg, replacing whatever played before.
    async fn play(&self, leg: LegId, audio: Audio) -> Result<(), TelephonyError>;

    /// Connects two answered legs' audio both ways.
    async fn bridge(&self, a: LegId, b: LegId) -> Result<(), TelephonyError>;

    /// Starts recording `first` on the left channel and, once bridged, the leg it is bridged to
    /// on the right, into `path` (the backend may change the extension to fit its format).
    async fn start_recording(
        &self,
        first: LegId,
        path: PathBuf,
        events: EventSink,
    ) -> Result<RecordingId, TelephonyError>;

    /// Stops a recording; [`Event::RecordingReady`] or [`Event::RecordingFailed`] follows.
    async fn stop_recording(&self, recording: RecordingId) -> Result<(), TelephonyError>;

    /// Hangs up a leg (CANCEL while ringing, BYE once answered). No event follows for it.
    async fn hang_up(&self, leg: LegId) -> Result<(), TelephonyError>;
}

/// A shared backend.
pub type SharedTelephony = Arc<dyn Telephony>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_scale_converts_both_ways() {
        let scale = TimeScale::new(0.01).unwrap();
        assert_eq!(
            scale.to_wall(Duration::from_secs(60)),
            Duration::from_millis(600)
        );
        assert_eq!(
            scale.to_call(Duration::from_millis(600)),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn time_scale_refuses_nonsense() {
        assert!(TimeScale::new(0.0).is_none());
        assert!(TimeScale::new(2.0).is_none());
        assert!(TimeScale::new(f64::NAN).is_none());
    }
}
