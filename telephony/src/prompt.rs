//! Turning an operator's uploaded welcome message into a [`Prompt`]: decode (WAV, MP3,
//! OGG/Vorbis, FLAC), mix to mono, resample to 8 kHz, trim leading and trailing silence, and
//! normalise the loudness. Hostile files get an error, never a panic; the work is bounded by the
//! size and length limits (callers run it on a blocking thread under a timeout).

use std::io::Cursor;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use crate::audio::{Prompt, RATE};

/// Largest upload.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// Longest message, in seconds of the original audio.
pub const MAX_SECONDS: u32 = 30;
/// Highest input sample rate accepted (anything above is not a voice recording).
const MAX_INPUT_RATE: u32 = 192_000;
/// Target loudness: RMS of −20 dBFS, peaks kept under −1 dBFS.
const TARGET_RMS: f32 = 0.1;
const PEAK_LIMIT: f32 = 0.89;
/// Below this amplitude (about −40 dBFS) a 10 ms window counts as silence.
const SILENCE: f32 = 0.01;

/// Why an upload cannot be a welcome message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PromptError {
    /// Nothing was uploaded.
    #[error("the file is empty")]
    Empty,
    /// Over [`MAX_BYTES`].
    #[error("the file is larger than 5 MB")]
    TooLarge,
    /// Not a recognised audio container.
    #[error("the file is not audio")]
    NotAudio,
    /// Audio in a codec we do not decode.
    #[error("the audio codec is not supported")]
    Unsupported,
    /// Longer than [`MAX_SECONDS`].
    #[error("the message is longer than 30 seconds")]
    TooLong,
    /// Nothing but silence.
    #[error("the message is silent")]
    Silent,
    /// Damaged or cut short.
    #[error("the file is damaged or incomplete")]
    Corrupt,
}

/// Decodes an upload into a telephone-ready prompt.
pub fn decode(bytes: &[u8]) -> Result<Prompt, PromptError> {
    if bytes.is_empty() {
        return Err(PromptError::Empty);
    }
    if bytes.len() > MAX_BYTES {
        return Err(PromptError::TooLarge);
    }
    let (mono, rate) = decode_mono(bytes)?;
    let resampled = resample(&mono, rate, RATE);
    let trimmed = trim_silence(&resampled);
    if trimmed.is_empty() {
        return Err(PromptError::Silent);
    }
    Ok(Prompt::from_samples(normalise(trimmed)))
}

/// Decodes to mono `f32` samples at the file's own rate.
fn decode_mono(bytes: &[u8]) -> Result<(Vec<f32>, u32), PromptError> {
    let source = MediaSourceStream::new(Box::new(Cursor::new(bytes.to_vec())), Default::default());
    let probed = symphonia::default::get_probe()
        .format(
            &Hint::new(),
            source,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(|_| PromptError::NotAudio)?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or(PromptError::NotAudio)?;
    let track_id = track.id;
    let rate = track
        .codec_params
        .sample_rate
        .filter(|r| (1000..=MAX_INPUT_RATE).contains(r))
        .ok_or(PromptError::Unsupported)?;
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|_| PromptError::Unsupported)?;
    let limit = (MAX_SECONDS as usize) * (rate as usize);
    let mut mono: Vec<f32> = Vec::new();
    let mut bad_packets = 0;
    loop {
        let packet = match format.next_packet() {
            Ok(packet) => packet,
            Err(SymphoniaError::IoError(err))
                if err.kind() == std::io::ErrorKind::UnexpectedEof =>
            {
                break
            }
            Err(SymphoniaError::ResetRequired) => break,
            Err(_) if !mono.is_empty() => break,
            Err(_) => return Err(PromptError::Corrupt),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(decoded) => decoded,
            Err(SymphoniaError::DecodeError(_)) => {
                bad_packets += 1;
                if bad_packets > 20 {
                    return Err(PromptError::Corrupt);
                }
                continue;
            }
            Err(_) => return Err(PromptError::Corrupt),
        };
        let spec = *decoded.spec();
        let channels = spec.channels.count().max(1);
        let mut buffer = SampleBuffer::<f32>::new(decoded.capacity() as u64, spec);
        buffer.copy_interleaved_ref(decoded);
        for frame in buffer.samples().chunks(channels) {
            let sum: f32 = frame.iter().copied().filter(|s| s.is_finite()).sum();
            mono.push((sum / channels as f32).clamp(-1.0, 1.0));
        }
        if mono.len() > limit {
            return Err(PromptError::TooLong);
        }
    }
    if mono.is_empty() {
        return Err(PromptError::Corrupt);
    }
    Ok((mono, rate))
}

/// Band-limited resampling (windowed-sinc low-pass at 0.45 of the lower rate).
pub fn resample(input: &[f32], from: u32, to: u32) -> Vec<f32> {
    if from == to || input.is_empty() {
        return input.to_vec();
    }
    const HALF_TAPS: i64 = 16;
    let ratio = f64::from(to) / f64::from(from);
    let cutoff = 0.45 * ratio.min(1.0); // of the input rate
    let out_len = ((input.len() as f64) * ratio).floor() as usize;
    let width = (HALF_TAPS as f64 / cutoff.max(1e-3)).ceil() as i64;
    (0..out_len)
        .map(|n| {
            let center = n as f64 / ratio;
            let first = (center.floor() as i64 - width).max(0);
            let last = (center.floor() as i64 + width).min(input.len() as i64 - 1);
            let mut acc = 0.0f64;
            let mut norm = 0.0f64;
            for i in first..=last {
                let x = i as f64 - center;
                let arg = 2.0 * cutoff * x;
                let sinc = if arg.abs() < 1e-9 {
                    1.0
                } else {
                    (std::f64::consts::PI * arg).sin() / (std::f64::consts::PI * arg)
                };
                let window = 0.5 + 0.5 * (std::f64::consts::PI * x / (width as f64 + 1.0)).cos();
                let weight = sinc * window;
                acc += f64::from(input[i as usize]) * weight;
                norm += weight;
            }
            if norm.abs() < 1e-12 {
                0.0
            } else {
                (acc / norm) as f32
            }
        })
        .collect()
}

/// Drops silence before the first and after the last sound, keeping 20 ms of air.
fn trim_silence(samples: &[f32]) -> &[f32] {
    let window = (RATE / 100) as usize; // 10 ms
    let loud = |chunk: &[f32]| chunk.iter().any(|s| s.abs() > SILENCE);
    let chunks: Vec<&[f32]> = samples.chunks(window).collect();
    let Some(first) = chunks.iter().position(|c| loud(c)) else {
        return &[];
    };
    let last = chunks.iter().rposition(|c| loud(c)).unwrap_or(first);
    let start = (first * window).saturating_sub(2 * window);
    let end = ((last + 1) * window + 2 * window).min(samples.len());
    &samples[start..end]
}

/// Scales to the target RMS without letting peaks clip, then converts to 16-bit.
fn normalise(samples: &[f32]) -> Vec<i16> {
    let rms = (samples.iter().map(|s| s * s).sum::<f32>() / samples.len().max(1) as f32).sqrt();
    let peak = samples.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    let gain = if rms > 0.0 {
        (TARGET_RMS / rms).min(PEAK_LIMIT / peak.max(1e-6))
    } else {
        1.0
    };
    samples
        .iter()
        .map(|s| ((s * gain).clamp(-1.0, 1.0) * 32767.0) as i16)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::tone_power;

    /// A 16-bit PCM WAV at any rate and channel count.
    fn wav(rate: u32, channels: u16, frames: &[Vec<f32>]) -> Vec<u8> {
        let data: Vec<u8> = frames
            .iter()
            .flat_map(|frame| {
                frame
                    .iter()
                    .flat_map(|s| ((s * 32767.0) as i16).to_le_bytes())
            })
            .collect();
        let mut out = Vec::new();
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&channels.to_le_bytes());
        out.extend_from_slice(&rate.to_le_bytes());
        out.extend_from_slice(&(rate * u32::from(channels) * 2).to_le_bytes());
        out.extend_from_slice(&(channels * 2).to_le_bytes());
        out.extend_from_slice(&16u16.to_le_bytes());
        out.extend_from_slice(b"data");
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&data);
        out
    }

    /// `silence` s of silence, `seconds` of a quiet 440 Hz tone, `silence` s of silence.
    fn tone_wav(rate: u32, seconds: f32, silence: f32, amplitude: f32) -> Vec<u8> {
        let quiet = vec![vec![0.0, 0.0]; (rate as f32 * silence) as usize];
        let tone: Vec<Vec<f32>> = (0..(rate as f32 * seconds) as usize)
            .map(|i| {
                let s = amplitude * (std::f32::consts::TAU * 440.0 * i as f32 / rate as f32).sin();
                vec![s, s]
            })
            .collect();
        wav(rate, 2, &[quiet.clone(), tone, quiet].concat())
    }

    #[test]
    fn a_stereo_44k_wav_becomes_a_trimmed_normalised_8k_prompt() {
        let prompt = decode(&tone_wav(44_100, 2.0, 1.0, 0.05)).unwrap();
        let seconds = prompt.samples().len() as f32 / RATE as f32;
        assert!(
            (2.0..2.1).contains(&seconds),
            "silence trimmed: {seconds} s"
        );
        let rms = (prompt
            .samples()
            .iter()
            .map(|&s| (f32::from(s) / 32768.0).powi(2))
            .sum::<f32>()
            / prompt.samples().len() as f32)
            .sqrt();
        assert!(
            (0.08..0.12).contains(&rms),
            "normalised to about −20 dBFS: {rms}"
        );
        assert!(tone_power(prompt.samples(), 440.0) > 100.0 * tone_power(prompt.samples(), 1000.0));
    }

    /// 1.5 s of 440 Hz between half-second silences at 22,050 Hz mono, made with sox (and lame
    /// for the MP3); see telephony/tests/fixtures.
    #[test]
    fn flac_ogg_vorbis_and_mp3_decode_to_the_same_message() {
        let fixtures: [(&str, &[u8]); 3] = [
            ("flac", include_bytes!("../tests/fixtures/welcome.flac")),
            ("ogg", include_bytes!("../tests/fixtures/welcome.ogg")),
            ("mp3", include_bytes!("../tests/fixtures/welcome.mp3")),
        ];
        for (name, bytes) in fixtures {
            let prompt = decode(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            let seconds = prompt.samples().len() as f32 / RATE as f32;
            // MP3 encoders add a little padding; the tone itself is 1.5 s.
            assert!((1.45..1.75).contains(&seconds), "{name}: {seconds} s");
            assert!(
                tone_power(prompt.samples(), 440.0) > 100.0 * tone_power(prompt.samples(), 1000.0),
                "{name} keeps its tone"
            );
        }
    }

    #[test]
    fn bad_files_get_their_own_errors() {
        assert_eq!(decode(&[]), Err(PromptError::Empty));
        assert_eq!(
            decode(&vec![0u8; MAX_BYTES + 1]),
            Err(PromptError::TooLarge)
        );
        assert_eq!(
            decode(b"%PDF-1.7 this is a document"),
            Err(PromptError::NotAudio)
        );
        assert_eq!(
            decode(&tone_wav(8000, 0.0, 2.0, 0.0)),
            Err(PromptError::Silent)
        );
        assert_eq!(
            decode(&tone_wav(8000, 31.0, 0.0, 0.5)),
            Err(PromptError::TooLong)
        );
        let whole = tone_wav(44_100, 1.0, 0.0, 0.5);
        assert!(matches!(
            decode(&whole[..30]),
            Err(PromptError::NotAudio | PromptError::Corrupt)
        ));
    }

    #[test]
    fn mangled_files_of_every_format_never_panic() {
        use rand::{Rng, SeedableRng};
        let originals: [Vec<u8>; 4] = [
            tone_wav(16_000, 0.5, 0.1, 0.5),
            include_bytes!("../tests/fixtures/welcome.flac").to_vec(),
            include_bytes!("../tests/fixtures/welcome.ogg").to_vec(),
            include_bytes!("../tests/fixtures/welcome.mp3").to_vec(),
        ];
        let mut rng = rand::rngs::StdRng::seed_from_u64(42);
        for original in &originals {
            for _ in 0..150 {
                let mut bytes = original.clone();
                for _ in 0..rng.gen_range(1..20) {
                    let at = rng.gen_range(0..bytes.len());
                    bytes[at] = rng.gen();
                }
                if rng.gen_bool(0.3) {
                    bytes.truncate(rng.gen_range(0..bytes.len()));
                }
                // Any answer will do, as long as it is an answer: no panic, no hang.
                let _ = decode(&bytes);
            }
        }
    }

    #[test]
    fn resampling_keeps_a_tone_and_removes_what_8k_cannot_carry() {
        let rate = 48_000;
        let input: Vec<f32> = (0..rate)
            .map(|i| {
                let t = i as f32 / rate as f32;
                0.5 * (std::f32::consts::TAU * 440.0 * t).sin()
                    + 0.5 * (std::f32::consts::TAU * 6_000.0 * t).sin()
            })
            .collect();
        let out = resample(&input, rate, 8000);
        assert_eq!(out.len(), 8000);
        let pcm: Vec<i16> = out.iter().map(|s| (s * 32767.0) as i16).collect();
        // 6 kHz is above 8 kHz's Nyquist limit: it must not fold back to 2 kHz.
        assert!(tone_power(&pcm, 440.0) > 100.0 * tone_power(&pcm, 2_000.0));
    }
}
