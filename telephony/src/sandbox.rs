//! The sandbox backend: simulated phones with realistic timing, and real recordings.
//!
//! Every party behaves according to the last four digits of its number:
//!
//! | ending | behaviour |
//! | --- | --- |
//! | `0001` | busy (SIP 486) |
//! | `0002` | rings and never answers (the ring timeout ends it) |
//! | `0003` | unreachable (SIP 404) |
//! | `0004` | answers, then hangs up 5 s into the conversation |
//! | `0005` | rings, then declines (SIP 603) |
//! | `7ddd` | answers and talks for `ddd` seconds (`…7061` talks 61 s) |
//! | anything else | rings 1–4 s, answers, talks 20–90 s |
//!
//! A recording holds what the first party heard on the left channel (the welcome message, then
//! ringback while the second party rings) and, once bridged, a synthesized conversation: a low
//! voice on the left, a high voice on the right. It is a 16-bit PCM WAV at 8 kHz, which every
//! browser plays.

use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

use crate::audio::{self, Prompt, RATE};
use crate::{
    Audio, BackendKind, Cause, Dial, Event, EventSink, LegId, RecordingId, RecordingInfo,
    Telephony, TelephonyError, TimeScale,
};

/// The longest recording the sandbox renders. Sandbox time is wall time divided by the time
/// scale, so a starved process running at a scale of 0.001 would otherwise render hours of audio.
pub const MAX_RECORDING: Duration = Duration::from_secs(2 * 3600 + 300);

/// How a simulated party behaves, decided by its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// Busy at once.
    Busy,
    /// Rings forever.
    NoAnswer,
    /// Cannot be reached.
    Unreachable,
    /// Rings, then declines.
    Rejects,
    /// Answers after `ring`, hangs up after `talk` of conversation.
    Answers {
        /// Time until the party picks up.
        ring: Duration,
        /// Time the party talks once connected to the other party.
        talk: Duration,
    },
}

impl Party {
    /// The behaviour the sandbox gives `number` (see the module documentation).
    pub fn of(number: &str, rng: &mut impl Rng) -> Party {
        let digits: Vec<u32> = number.chars().filter_map(|c| c.to_digit(10)).collect();
        let tail = match digits.len().checked_sub(4).map(|start| &digits[start..]) {
            Some(&[a, b, c, d]) => [a, b, c, d],
            _ => [9, 9, 9, 9],
        };
        let ring = Duration::from_millis(rng.gen_range(1000..=4000));
        match tail {
            [0, 0, 0, 1] => Party::Busy,
            [0, 0, 0, 2] => Party::NoAnswer,
            [0, 0, 0, 3] => Party::Unreachable,
            [0, 0, 0, 4] => Party::Answers {
                ring,
                talk: Duration::from_secs(5),
            },
            [0, 0, 0, 5] => Party::Rejects,
            [7, a, b, c] => Party::Answers {
                ring,
                talk: Duration::from_secs(u64::from(a * 100 + b * 10 + c)),
            },
            _ => Party::Answers {
                ring,
                talk: Duration::from_secs(rng.gen_range(20..=90)),
            },
        }
    }
}

/// Something that happened on a recording, at a call-time offset from its start.
#[derive(Debug, Clone)]
enum Mark {
    Prompt {
        at: Duration,
        left: bool,
        prompt: Prompt,
    },
    Ringback {
        at: Duration,
    },
    Bridged {
        at: Duration,
    },
}

impl Mark {
    fn at(&self) -> Duration {
        match self {
            Mark::Prompt { at, .. } | Mark::Ringback { at } | Mark::Bridged { at } => *at,
        }
    }
}

struct Leg {
    party: Party,
    events: EventSink,
    answered: bool,
    bridged_to: Option<LegId>,
    recording: Option<RecordingId>,
    tasks: Vec<JoinHandle<()>>,
}

impl Leg {
    fn stop_tasks(&mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
        }
    }
}

struct Recording {
    first: LegId,
    second: Option<LegId>,
    started: Instant,
    path: PathBuf,
    events: EventSink,
    marks: Vec<Mark>,
}

#[derive(Default)]
struct State {
    legs: HashMap<LegId, Leg>,
    recordings: HashMap<RecordingId, Recording>,
}

/// Simulated phones. Cheap to clone; clones share their calls.
#[derive(Clone)]
pub struct Sandbox {
    scale: TimeScale,
    next_id: Arc<AtomicU64>,
    state: Arc<Mutex<State>>,
}

impl Sandbox {
    /// A sandbox whose time runs at `scale`.
    pub fn new(scale: TimeScale) -> Self {
        Self {
            scale,
            next_id: Arc::new(AtomicU64::new(1)),
            state: Arc::new(Mutex::new(State::default())),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters more than losing every call, so carry on with the data.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn next(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Call time since a recording started.
    fn offset(&self, recording: &Recording) -> Duration {
        self.scale.to_call(recording.started.elapsed())
    }

    /// Legs still alive (for tests and metrics).
    pub fn active_legs(&self) -> usize {
        self.lock().legs.len()
    }

    /// Runs a leg's ringing: the party's answer, refusal or silence.
    async fn ring(self, leg: LegId, party: Party, ring_timeout: Duration, events: EventSink) {
        let scale = self.scale;
        scale.sleep(Duration::from_millis(300)).await;
        let fail = |cause, code| Event::Failed {
            leg,
            cause,
            sip_code: Some(code),
        };
        let outcome = match party {
            Party::Unreachable => fail(Cause::Unreachable, 404),
            Party::Busy => fail(Cause::Busy, 486),
            Party::Rejects => {
                let _ = events.send(Event::Ringing(leg));
                scale.sleep(Duration::from_secs(2)).await;
                fail(Cause::Rejected, 603)
            }
            Party::NoAnswer => {
                let _ = events.send(Event::Ringing(leg));
                scale.sleep(ring_timeout).await;
                fail(Cause::NoAnswer, 480)
            }
            Party::Answers { ring, .. } => {
                let _ = events.send(Event::Ringing(leg));
                scale.sleep(ring).await;
                if let Some(state) = self.lock().legs.get_mut(&leg) {
                    state.answered = true;
                }
                let _ = events.send(Event::Answered(leg));
                return;
            }
        };
        self.lock().legs.remove(&leg);
        let _ = events.send(outcome);
    }

    fn mark(state: &mut State, leg: LegId, mark: impl FnOnce(&Recording) -> Mark) {
        let Some(id) = state.legs.get(&leg).and_then(|l| l.recording) else {
            return;
        };
        if let Some(recording) = state.recordings.get_mut(&id) {
            let mark = mark(recording);
            recording.marks.push(mark);
        }
    }
}

/// Renders a recording from what happened during it.
fn render(marks: &[Mark], length: Duration, seed: u64) -> (Vec<i16>, Vec<i16>) {
    let frames_at = |d: Duration| (d.as_secs_f64() * f64::from(RATE)) as usize;
    let frames = frames_at(length);
    let mut left = vec![0i16; frames];
    let mut right = vec![0i16; frames];
    for (i, mark) in marks.iter().enumerate() {
        let start = frames_at(mark.at()).min(frames);
        let end = marks
            .get(i + 1)
            .map_or(frames, |next| frames_at(next.at()).min(frames));
        if start >= end {
            continue;
        }
        match mark {
            Mark::Prompt {
                left: on_left,
                prompt,
                ..
            } => {
                let channel = if *on_left { &mut left } else { &mut right };
                for (out, sample) in channel[start..end].iter_mut().zip(prompt.samples()) {
                    *out = *sample;
                }
            }
            Mark::Ringback { .. } => {
                for (n, out) in left[start..end].iter_mut().enumerate() {
                    *out = audio::ringback(n as u64);
                }
            }
            Mark::Bridged { .. } => {
                let (l, r) = audio::conversation(end - start, seed);
                left[start..end].copy_from_slice(&l);
                right[start..end].copy_from_slice(&r);
            }
        }
    }
    (left, right)
}

#[async_trait::async_trait]
impl Telephony for Sandbox {
    fn kind(&self) -> BackendKind {
        BackendKind::Sandbox
    }

    fn time_scale(&self) -> TimeScale {
        self.scale
    }

    async fn place(&self, dial: Dial, events: EventSink) -> Result<LegId, TelephonyError> {
        let leg = LegId(self.next());
        let party = Party::of(&dial.number, &mut rand::thread_rng());
        let mut state = self.lock();
        let task = tokio::spawn(
            self.clone()
                .ring(leg, party, dial.ring_timeout, events.clone()),
        );
        state.legs.insert(
            leg,
            Leg {
                party,
                events,
                answered: false,
                bridged_to: None,
                recording: None,
                tasks: vec![task],
            },
        );
        Ok(leg)
    }

    async fn play(&self, leg: LegId, audio: Audio) -> Result<(), TelephonyError> {
        let mut state = self.lock();
        let on_left = {
            let target = state.legs.get(&leg).ok_or(TelephonyError::Unknown("leg"))?;
            let recording = target.recording.and_then(|r| state.recordings.get(&r));
            recording.is_none_or(|r| r.first == leg)
        };
        let scale = self.scale;
        match audio {
            Audio::Prompt(prompt) => {
                let length = prompt.duration();
                Self::mark(&mut state, leg, |r| Mark::Prompt {
                    at: self.offset(r),
                    left: on_left,
                    prompt,
                });
                let target = state
                    .legs
                    .get_mut(&leg)
                    .ok_or(TelephonyError::Unknown("leg"))?;
                let events = target.events.clone();
                target.tasks.push(tokio::spawn(async move {
                    scale.sleep(length).await;
                    let _ = events.send(Event::PlaybackFinished(leg));
                }));
            }
            Audio::Ringback => {
                Self::mark(&mut state, leg, |r| Mark::Ringback { at: self.offset(r) });
            }
        }
        Ok(())
    }

    async fn bridge(&self, a: LegId, b: LegId) -> Result<(), TelephonyError> {
        let mut state = self.lock();
        let (talk_a, talk_b) = match (state.legs.get(&a), state.legs.get(&b)) {
            (Some(la), Some(lb)) if la.answered && lb.answered => {
                let talk = |p: Party| match p {
                    Party::Answers { talk, .. } => talk,
                    _ => Duration::ZERO,
                };
                (talk(la.party), talk(lb.party))
            }
            _ => return Err(TelephonyError::Unknown("answered leg")),
        };
        for leg in [a, b] {
            if let Some(l) = state.legs.get_mut(&leg) {
                l.stop_tasks();
            }
        }
        // The recording belongs to whichever leg started it; the other joins on the right.
        for (leg, other) in [(a, b), (b, a)] {
            if let Some(id) = state.legs.get(&leg).and_then(|l| l.recording) {
                if let Some(recording) = state.recordings.get_mut(&id) {
                    recording.second = Some(other);
                    let at = self.scale.to_call(recording.started.elapsed());
                    recording.marks.push(Mark::Bridged { at });
                }
                if let Some(l) = state.legs.get_mut(&other) {
                    l.recording = Some(id);
                }
            }
        }
        let (quitter, talk) = if talk_a <= talk_b {
            (a, talk_a)
        } else {
            (b, talk_b)
        };
        let sandbox = self.clone();
        let task = tokio::spawn(async move {
            sandbox.scale.sleep(talk).await;
            let removed = {
                let mut state = sandbox.lock();
                let removed = state.legs.remove(&quitter);
                if let Some(other) = removed.as_ref().and_then(|l| l.bridged_to) {
                    if let Some(o) = state.legs.get_mut(&other) {
                        o.bridged_to = None;
                    }
                }
                removed
            };
            if let Some(leg) = removed {
                let _ = leg.events.send(Event::HungUp {
                    leg: quitter,
                    cause: Cause::HungUp,
                });
            }
        });
        if let Some(l) = state.legs.get_mut(&a) {
            l.bridged_to = Some(b);
        }
        if let Some(l) = state.legs.get_mut(&b) {
            l.bridged_to = Some(a);
            l.tasks.push(task);
        }
        Ok(())
    }

    async fn start_recording(
        &self,
        first: LegId,
        path: PathBuf,
        events: EventSink,
    ) -> Result<RecordingId, TelephonyError> {
        let id = RecordingId(self.next());
        let mut state = self.lock();
        let leg = state
            .legs
            .get_mut(&first)
            .ok_or(TelephonyError::Unknown("leg"))?;
        leg.recording = Some(id);
        state.recordings.insert(
            id,
            Recording {
                first,
                second: None,
                started: Instant::now(),
                path: path.with_extension("wav"),
                events,
                marks: Vec::new(),
            },
        );
        Ok(id)
    }

    async fn stop_recording(&self, recording: RecordingId) -> Result<(), TelephonyError> {
        let recording = self
            .lock()
            .recordings
            .remove(&recording)
            .map(|r| (recording, r))
            .ok_or(TelephonyError::Unknown("recording"))?;
        let (id, recording) = recording;
        let length = self.offset(&recording).min(MAX_RECORDING);
        tracing::debug!(
            first = %recording.first,
            second = ?recording.second,
            length_ms = length.as_millis() as u64,
            "rendering a sandbox recording"
        );
        tokio::task::spawn_blocking(move || {
            let (left, right) = render(&recording.marks, length, id.0);
            let event = match audio::write_wav_stereo(&recording.path, &left, &right) {
                Ok(bytes) => Event::RecordingReady(
                    id,
                    RecordingInfo {
                        path: recording.path.clone(),
                        content_type: "audio/wav",
                        duration_ms: (left.len() as i64 * 1000) / i64::from(RATE),
                        bytes: i64::try_from(bytes).unwrap_or(i64::MAX),
                    },
                ),
                Err(err) => Event::RecordingFailed(id, err.to_string()),
            };
            let _ = recording.events.send(event);
        });
        Ok(())
    }

    async fn hang_up(&self, leg: LegId) -> Result<(), TelephonyError> {
        let mut state = self.lock();
        let Some(mut removed) = state.legs.remove(&leg) else {
            return Ok(());
        };
        removed.stop_tasks();
        if let Some(other) = removed.bridged_to {
            if let Some(o) = state.legs.get_mut(&other) {
                o.bridged_to = None;
                o.stop_tasks();
            }
        }
        Ok(())
    }
}

/// A seeded generator for tests that need reproducible parties.
pub fn seeded(seed: u64) -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(seed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc;

    fn dial(number: &str) -> Dial {
        Dial {
            number: number.into(),
            caller_id: None,
            ring_timeout: Duration::from_secs(30),
        }
    }

    fn fast() -> Sandbox {
        Sandbox::new(TimeScale::new(0.001).unwrap())
    }

    #[test]
    fn magic_endings_choose_the_behaviour() {
        let mut rng = seeded(1);
        assert_eq!(Party::of("+989120000001", &mut rng), Party::Busy);
        assert_eq!(Party::of("+989120000002", &mut rng), Party::NoAnswer);
        assert_eq!(Party::of("+989120000003", &mut rng), Party::Unreachable);
        assert_eq!(Party::of("+989120000005", &mut rng), Party::Rejects);
        assert!(matches!(
            Party::of("+989121237061", &mut rng),
            Party::Answers { talk, .. } if talk == Duration::from_secs(61)
        ));
        assert!(matches!(
            Party::of("+989120000004", &mut rng),
            Party::Answers { talk, .. } if talk == Duration::from_secs(5)
        ));
        for _ in 0..100 {
            let Party::Answers { ring, talk } = Party::of("+989121234567", &mut rng) else {
                panic!("an ordinary number answers");
            };
            assert!((1..=4).contains(&ring.as_secs()));
            assert!((20..=90).contains(&talk.as_secs()));
        }
    }

    #[tokio::test]
    async fn a_busy_number_fails_with_486() {
        let sandbox = fast();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let leg = sandbox.place(dial("+989120000001"), tx).await.unwrap();
        assert_eq!(
            rx.recv().await,
            Some(Event::Failed {
                leg,
                cause: Cause::Busy,
                sip_code: Some(486)
            })
        );
        assert_eq!(sandbox.active_legs(), 0);
    }

    #[tokio::test]
    async fn two_parties_ring_answer_talk_and_the_shorter_talker_hangs_up() {
        let sandbox = fast();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let a = sandbox
            .place(dial("+989121237030"), tx.clone())
            .await
            .unwrap();
        assert_eq!(rx.recv().await, Some(Event::Ringing(a)));
        assert_eq!(rx.recv().await, Some(Event::Answered(a)));
        let b = sandbox.place(dial("+989121237010"), tx).await.unwrap();
        assert_eq!(rx.recv().await, Some(Event::Ringing(b)));
        assert_eq!(rx.recv().await, Some(Event::Answered(b)));
        sandbox.bridge(a, b).await.unwrap();
        assert_eq!(
            rx.recv().await,
            Some(Event::HungUp {
                leg: b,
                cause: Cause::HungUp
            })
        );
        sandbox.hang_up(a).await.unwrap();
        assert_eq!(sandbox.active_legs(), 0);
    }

    #[tokio::test]
    async fn a_recording_holds_the_welcome_on_the_left_then_both_voices() {
        let dir = tempfile::tempdir().unwrap();
        let sandbox = Sandbox::new(TimeScale::new(0.01).unwrap());
        let (tx, mut rx) = mpsc::unbounded_channel();
        let a = sandbox
            .place(dial("+989121237900"), tx.clone())
            .await
            .unwrap();
        while rx.recv().await != Some(Event::Answered(a)) {}
        let rec = sandbox
            .start_recording(a, dir.path().join("call.wav"), tx.clone())
            .await
            .unwrap();
        sandbox
            .play(a, Audio::Prompt(Prompt::chime()))
            .await
            .unwrap();
        assert_eq!(rx.recv().await, Some(Event::PlaybackFinished(a)));
        sandbox.play(a, Audio::Ringback).await.unwrap();
        let b = sandbox.place(dial("+989121237900"), tx).await.unwrap();
        while rx.recv().await != Some(Event::Answered(b)) {}
        sandbox.bridge(a, b).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await; // 10 s of conversation
        sandbox.hang_up(a).await.unwrap();
        sandbox.hang_up(b).await.unwrap();
        sandbox.stop_recording(rec).await.unwrap();
        let Some(Event::RecordingReady(id, info)) = rx.recv().await else {
            panic!("the recording is ready");
        };
        assert_eq!(id, rec);
        assert_eq!(info.content_type, "audio/wav");
        assert!(info.duration_ms > 10_000, "{info:?}");
        let bytes = std::fs::read(&info.path).unwrap();
        assert_eq!(bytes.len() as i64, info.bytes);
        let samples: Vec<i16> = bytes[44..]
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
            .collect();
        let left: Vec<i16> = samples.iter().step_by(2).copied().collect();
        let right: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();
        let opening = 8000; // the first second: the chime, on the left only
        assert!(audio::tone_power(&left[..opening], 659.25) > 1e-4);
        assert!(right[..opening].iter().all(|&s| s == 0));
        let tail = left.len() - 8000 * 5;
        assert!(left[tail..].iter().any(|&s| s != 0), "the left voice talks");
        assert!(
            right[tail..].iter().any(|&s| s != 0),
            "the right voice talks"
        );
    }

    #[tokio::test]
    async fn hanging_up_a_ringing_leg_stops_it_without_an_event() {
        let sandbox = fast();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let leg = sandbox.place(dial("+989120000002"), tx).await.unwrap();
        assert_eq!(rx.recv().await, Some(Event::Ringing(leg)));
        sandbox.hang_up(leg).await.unwrap();
        assert_eq!(sandbox.active_legs(), 0);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(rx.try_recv().is_err());
    }
}
