//! Call recording for the SIP backend.
//!
//! While a call runs, the media tasks hand each received packet's G.711 payload to a
//! [`Tap`] without waiting (a full queue drops the frame rather than delay the call). A
//! recorder task places frames on a stereo timeline by arrival time (first leg left, second
//! right) and appends them to an A-law stereo WAV file about once a second, so a crash loses at
//! most a second or two and nothing is encoded on the media path. When the call ends the file is
//! handed to a small pool of encoder threads that turn it into a 24 kbit/s MP3, which every
//! browser plays, and the raw file is removed.

use crate::g711::Law;
use crate::{Event, EventSink, RecordingId, RecordingInfo};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, Semaphore};

/// The largest payload a frame carries (40 ms of G.711).
pub const MAX_PAYLOAD: usize = 320;
/// Frames queued per recording before new ones are dropped (about 2.5 s of both channels).
const QUEUE: usize = 256;
/// How far behind the wall clock the file is written, so late packets still find their place.
const LATENESS: u64 = 2400; // 300 ms
/// A channel further behind the wall clock than this has had a gap; it resumes at the clock.
const RESYNC: u64 = 1600; // 200 ms
/// The longest recording kept (a call is cut long before).
const MAX_SAMPLES: u64 = 8000 * 3600 * 3;

/// One packet's audio on its way to a recorder.
pub struct Frame {
    channel: u8,
    law: Law,
    at: Instant,
    len: u16,
    data: [u8; MAX_PAYLOAD],
}

/// Where a leg's media task sends its received audio.
#[derive(Clone)]
pub struct Tap {
    frames: mpsc::Sender<Frame>,
}

impl Tap {
    /// Queues a payload for `channel` (0 left, 1 right) without waiting.
    pub fn send(&self, channel: u8, law: Law, payload: &[u8]) {
        let len = payload.len().min(MAX_PAYLOAD);
        let mut data = [0u8; MAX_PAYLOAD];
        data[..len].copy_from_slice(&payload[..len]);
        let _ = self.frames.try_send(Frame {
            channel,
            law,
            at: Instant::now(),
            len: len as u16,
            data,
        });
    }
}

/// A running recording.
pub struct Recording {
    tap: Tap,
    stop: Option<oneshot::Sender<()>>,
}

impl Recording {
    /// Starts a recorder writing next to `path` (`.alaw.wav` while it runs, `.mp3` when done);
    /// the outcome goes to `events` once [`Recording::stop`] is called.
    pub fn start(
        id: RecordingId,
        path: PathBuf,
        events: EventSink,
        encoders: Arc<Semaphore>,
    ) -> std::io::Result<Recording> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let raw_path = raw_path(&path);
        let file = std::fs::File::create(&raw_path)?;
        let (frames_tx, frames) = mpsc::channel(QUEUE);
        let (stop, stopped) = oneshot::channel();
        let writer = Timeline::new(file)?;
        tokio::spawn(record(
            id, writer, frames, stopped, raw_path, path, events, encoders,
        ));
        Ok(Recording {
            tap: Tap { frames: frames_tx },
            stop: Some(stop),
        })
    }

    /// The tap media tasks send to.
    pub fn tap(&self) -> Tap {
        self.tap.clone()
    }

    /// Ends the recording; the result follows as an event.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn record(
    id: RecordingId,
    mut timeline: Timeline,
    mut frames: mpsc::Receiver<Frame>,
    mut stopped: oneshot::Receiver<()>,
    raw_path: PathBuf,
    path: PathBuf,
    events: EventSink,
    encoders: Arc<Semaphore>,
) {
    let mut flush = tokio::time::interval(Duration::from_secs(1));
    let result: std::io::Result<()> = async {
        loop {
            tokio::select! {
                frame = frames.recv() => match frame {
                    Some(frame) => timeline.place(&frame),
                    None => break,
                },
                _ = flush.tick() => timeline.flush(Instant::now(), false)?,
                _ = &mut stopped => break,
            }
        }
        while let Ok(frame) = frames.try_recv() {
            timeline.place(&frame);
        }
        timeline.flush(Instant::now(), true)?;
        timeline.finish()
    }
    .await;
    if let Err(err) = result {
        let _ = std::fs::remove_file(&raw_path);
        let _ = events.send(Event::RecordingFailed(id, err.to_string()));
        return;
    }
    // Encoding waits for a free encoder and runs off the async threads.
    let Ok(permit) = encoders.acquire_owned().await else {
        return;
    };
    let outcome = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        compress(&raw_path, &path)
    })
    .await;
    let event = match outcome {
        Ok(Ok(info)) => Event::RecordingReady(id, info),
        Ok(Err(err)) => Event::RecordingFailed(id, err.to_string()),
        Err(err) => Event::RecordingFailed(id, err.to_string()),
    };
    let _ = events.send(event);
}

/// The stereo timeline being written: samples before `written` are in the file, the window
/// after it is in memory.
struct Timeline {
    out: std::io::BufWriter<std::fs::File>,
    start: Instant,
    /// Samples (per channel) already in the file.
    written: u64,
    /// Interleaved A-law bytes from `written` on.
    window: Vec<u8>,
    /// Where each channel's next frame goes.
    next: [Option<u64>; 2],
}

const WAV_HEADER: usize = 44;

impl Timeline {
    fn new(file: std::fs::File) -> std::io::Result<Self> {
        let mut out = std::io::BufWriter::with_capacity(32 * 1024, file);
        // Sizes are patched when the recording ends; a file cut short by a crash still has a
        // valid format and its data up to the last flush.
        out.write_all(&wav_header(u32::MAX - 36, 6, 8))?;
        Ok(Self {
            out,
            start: Instant::now(),
            written: 0,
            window: Vec::new(),
            next: [None, None],
        })
    }

    fn samples_at(&self, at: Instant) -> u64 {
        (at.saturating_duration_since(self.start).as_micros() / 125) as u64
    }

    fn place(&mut self, frame: &Frame) {
        let channel = usize::from(frame.channel.min(1));
        let len = u64::from(frame.len);
        let now = self.samples_at(frame.at);
        let mut position = match self.next[channel] {
            Some(next) if next + RESYNC >= now => next,
            _ => now.saturating_sub(len),
        };
        position = position.max(self.written);
        if position + len > MAX_SAMPLES {
            return;
        }
        self.next[channel] = Some(position + len);
        let offset = usize::try_from(position - self.written).unwrap_or(usize::MAX / 4);
        let needed = (offset + usize::from(frame.len)) * 2;
        if needed > self.window.len() {
            self.window.resize(needed, Law::A.silence());
        }
        let mut data = frame.data;
        let payload = &mut data[..usize::from(frame.len)];
        frame.law.transcode(Law::A, payload);
        for (i, byte) in payload.iter().enumerate() {
            self.window[(offset + i) * 2 + channel] = *byte;
        }
    }

    /// Writes what is old enough (everything when `all`).
    fn flush(&mut self, now: Instant, all: bool) -> std::io::Result<()> {
        let available = (self.window.len() / 2) as u64;
        let upto = if all {
            available
        } else {
            let ripe = self.samples_at(now).saturating_sub(LATENESS);
            ripe.saturating_sub(self.written).min(available)
        };
        if upto == 0 {
            return Ok(());
        }
        let bytes = usize::try_from(upto * 2).unwrap_or(self.window.len());
        self.out.write_all(&self.window[..bytes])?;
        self.window.drain(..bytes);
        self.written += upto;
        self.out.flush()
    }

    fn finish(mut self) -> std::io::Result<()> {
        let data = u32::try_from(self.written * 2).unwrap_or(u32::MAX - 36);
        self.out.flush()?;
        let mut file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&wav_header(data, 6, 8))?;
        file.sync_all()
    }
}

/// A stereo 8 kHz WAV header for `data` bytes of `format` (1 PCM, 6 A-law) samples of `bits`.
fn wav_header(data: u32, format: u16, bits: u16) -> [u8; WAV_HEADER] {
    let channels: u16 = 2;
    let block = channels * bits / 8;
    let mut h = [0u8; WAV_HEADER];
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&data.saturating_add(36).to_le_bytes());
    h[8..16].copy_from_slice(b"WAVEfmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&format.to_le_bytes());
    h[22..24].copy_from_slice(&channels.to_le_bytes());
    h[24..28].copy_from_slice(&8000u32.to_le_bytes());
    h[28..32].copy_from_slice(&(8000 * u32::from(block)).to_le_bytes());
    h[32..34].copy_from_slice(&block.to_le_bytes());
    h[34..36].copy_from_slice(&bits.to_le_bytes());
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data.to_le_bytes());
    h
}

/// Turns a recorder's raw file into the MP3 next to `path` and removes the raw file (also after
/// a failure: a file that does not encode now never will).
pub fn compress(raw: &Path, path: &Path) -> std::io::Result<RecordingInfo> {
    let mp3 = path.with_extension("mp3");
    let outcome = encode_mp3(raw, &mp3);
    let _ = std::fs::remove_file(raw);
    outcome.map(|(duration_ms, bytes)| RecordingInfo {
        path: mp3,
        content_type: "audio/mpeg",
        duration_ms,
        bytes,
    })
}

/// The raw file a recorder writes for a recording at `path`.
pub fn raw_path(path: &Path) -> PathBuf {
    path.with_extension("alaw.wav")
}

/// Reads an A-law stereo WAV written by a recorder (also one cut short by a crash) as
/// `(left, right)` linear samples.
pub fn read_alaw_stereo(path: &Path) -> std::io::Result<(Vec<i16>, Vec<i16>)> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.read_to_end(&mut bytes)?;
    if bytes.len() < WAV_HEADER || &bytes[..4] != b"RIFF" || bytes[20] != 6 || bytes[22] != 2 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not a recorder's A-law stereo WAV",
        ));
    }
    let data = &bytes[WAV_HEADER..];
    let frames = data.len() / 2;
    let (mut left, mut right) = (Vec::with_capacity(frames), Vec::with_capacity(frames));
    for pair in data.chunks_exact(2) {
        left.push(Law::A.decode(pair[0]));
        right.push(Law::A.decode(pair[1]));
    }
    Ok((left, right))
}

/// Encodes a recorder's raw file as MP3 (MPEG-2.5 layer III, 8 kHz joint stereo, 24 kbit/s),
/// through a temporary file renamed into place. Returns the duration and size.
pub fn encode_mp3(raw: &Path, mp3: &Path) -> std::io::Result<(i64, i64)> {
    use mp3lame_encoder::{Bitrate, Builder, DualPcm, FlushNoGap, Mode, Quality};
    let failed = |what: &str| std::io::Error::other(format!("MP3 encoder: {what}"));
    let (left, right) = read_alaw_stereo(raw)?;
    let mut builder = Builder::new().ok_or_else(|| failed("cannot start"))?;
    builder
        .set_num_channels(2)
        .and_then(|_| builder.set_sample_rate(8000))
        .and_then(|_| builder.set_brate(Bitrate::Kbps24))
        .and_then(|_| builder.set_mode(Mode::JointStereo))
        .and_then(|_| builder.set_quality(Quality::Good))
        .map_err(|e| failed(&e.to_string()))?;
    let mut encoder = builder.build().map_err(|e| failed(&e.to_string()))?;
    let mut out = Vec::with_capacity(left.len() / 2 + 8192);
    for (l, r) in left.chunks(8000).zip(right.chunks(8000)) {
        out.reserve(mp3lame_encoder::max_required_buffer_size(l.len()));
        encoder
            .encode_to_vec(DualPcm { left: l, right: r }, &mut out)
            .map_err(|e| failed(&e.to_string()))?;
    }
    out.reserve(7200);
    encoder
        .flush_to_vec::<FlushNoGap>(&mut out)
        .map_err(|e| failed(&e.to_string()))?;
    let partial = mp3.with_extension("mp3.partial");
    std::fs::write(&partial, &out)?;
    std::fs::rename(&partial, mp3)?;
    let duration_ms = i64::try_from(left.len() as u64 / 8).unwrap_or(i64::MAX);
    Ok((duration_ms, i64::try_from(out.len()).unwrap_or(i64::MAX)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::tone_power;
    use std::f32::consts::TAU;

    fn tone(freq: f32, samples: usize, law: Law) -> Vec<u8> {
        (0..samples)
            .map(|i| law.encode(((TAU * freq * i as f32 / 8000.0).sin() * 8000.0) as i16))
            .collect()
    }

    fn frame(channel: u8, law: Law, at: Instant, payload: &[u8]) -> Frame {
        let mut data = [0u8; MAX_PAYLOAD];
        data[..payload.len()].copy_from_slice(payload);
        Frame {
            channel,
            law,
            at,
            len: payload.len() as u16,
            data,
        }
    }

    #[test]
    fn frames_land_on_their_channel_in_order_and_gaps_become_silence() {
        let dir = tempfile::tempdir().unwrap();
        let raw = dir.path().join("r.alaw.wav");
        let mut timeline = Timeline::new(std::fs::File::create(&raw).unwrap()).unwrap();
        let start = timeline.start;
        let left = tone(440.0, 8000, Law::A);
        let right = tone(1000.0, 8000, Law::Mu);
        for i in 0..50 {
            let at = start + Duration::from_millis(20 * (i as u64 + 1));
            timeline.place(&frame(0, Law::A, at, &left[i * 160..(i + 1) * 160]));
            // The right channel starts half a second late, as a second leg does.
            if i >= 25 {
                timeline.place(&frame(1, Law::Mu, at, &right[i * 160..(i + 1) * 160]));
            }
            timeline.flush(at, false).unwrap();
        }
        timeline.flush(start, true).unwrap();
        timeline.finish().unwrap();
        let (l, r) = read_alaw_stereo(&raw).unwrap();
        assert_eq!(l.len(), 8000);
        assert!(tone_power(&l, 440.0) > 100.0 * tone_power(&l, 1000.0));
        assert!(tone_power(&r[4000..], 1000.0) > 100.0 * tone_power(&r[4000..], 440.0));
        assert!(
            r[..3800].iter().all(|s| s.abs() <= 8),
            "silence before the second leg"
        );
    }

    #[test]
    fn a_recording_becomes_an_mp3_of_the_same_length() {
        let dir = tempfile::tempdir().unwrap();
        let raw = dir.path().join("r.alaw.wav");
        let mut timeline = Timeline::new(std::fs::File::create(&raw).unwrap()).unwrap();
        let start = timeline.start;
        let audio = tone(440.0, 16000, Law::A);
        for (i, chunk) in audio.chunks(160).enumerate() {
            let at = start + Duration::from_millis(20 * (i as u64 + 1));
            timeline.place(&frame(0, Law::A, at, chunk));
            timeline.place(&frame(1, Law::A, at, chunk));
        }
        timeline.flush(start, true).unwrap();
        timeline.finish().unwrap();
        let mp3 = dir.path().join("r.mp3");
        let (duration_ms, bytes) = encode_mp3(&raw, &mp3).unwrap();
        assert_eq!(duration_ms, 2000);
        let file = std::fs::read(&mp3).unwrap();
        assert_eq!(file.len() as i64, bytes);
        // 24 kbit/s for 2 s is 6 kB, give or take the encoder's padding.
        assert!((5_000..9_000).contains(&bytes), "{bytes} bytes");
        // An MPEG audio frame sync at the start.
        assert_eq!(file[0], 0xFF);
        assert_eq!(file[1] & 0xE0, 0xE0);
        // And it decodes back to two seconds of 440 Hz.
        let decoded = crate::prompt::decode(&file).unwrap();
        assert!(
            tone_power(decoded.samples(), 440.0) > 100.0 * tone_power(decoded.samples(), 1000.0)
        );
    }
}
