//! Audio at telephone quality: 8 kHz, 16-bit PCM. Prompts, tones, a small speech-like
//! synthesiser for the sandbox, and a WAV writer browsers can play.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::f32::consts::TAU;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Samples per second of everything here (G.711's rate).
pub const RATE: u32 = 8000;

/// A prompt to play to a leg: mono 8 kHz PCM, ready for G.711.
#[derive(Clone, PartialEq, Eq)]
pub struct Prompt {
    samples: Arc<[i16]>,
}

impl std::fmt::Debug for Prompt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Prompt({} ms)", self.duration().as_millis())
    }
}

impl Prompt {
    /// A prompt from mono 8 kHz samples.
    pub fn from_samples(samples: Vec<i16>) -> Self {
        Self {
            samples: samples.into(),
        }
    }

    /// The samples.
    pub fn samples(&self) -> &[i16] {
        &self.samples
    }

    /// How long it plays.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.samples.len() as f64 / f64::from(RATE))
    }

    /// The built-in welcome used until an operator uploads their own: a soft three-note chime
    /// (about 1.6 s), so the first party knows the call is being connected.
    pub fn chime() -> Self {
        let notes = [(659.25_f32, 0.0_f32), (783.99, 0.35), (1046.5, 0.7)];
        let len = (RATE as f32 * 1.6) as usize;
        let mut samples = vec![0i16; len];
        for (freq, start) in notes {
            let first = (start * RATE as f32) as usize;
            for (i, sample) in samples.iter_mut().enumerate().skip(first) {
                let t = (i - first) as f32 / RATE as f32;
                let envelope = (1.0 - (-t * 60.0).exp()) * (-t * 3.2).exp();
                let value = (TAU * freq * t).sin() + 0.25 * (TAU * 2.0 * freq * t).sin();
                *sample = sample.saturating_add((value * envelope * 6000.0) as i16);
            }
        }
        Self::from_samples(samples)
    }
}

/// The Iranian ringback tone (425 Hz, 1 s on, 4 s off) at sample `n` since it started.
pub fn ringback(n: u64) -> i16 {
    let cycle = u64::from(RATE) * 5;
    if n % cycle < u64::from(RATE) {
        let t = n as f32 / RATE as f32;
        ((TAU * 425.0 * t).sin() * 3000.0) as i16
    } else {
        0
    }
}

/// Vowel formants (F1, F2, F3) in Hz: a, e, i, o, u.
const VOWELS: [[f32; 3]; 5] = [
    [730.0, 1090.0, 2440.0],
    [530.0, 1840.0, 2480.0],
    [270.0, 2290.0, 3010.0],
    [570.0, 840.0, 2410.0],
    [300.0, 870.0, 2240.0],
];

/// A voice: its pitch and how it shapes syllables.
#[derive(Debug, Clone, Copy)]
pub struct Voice {
    /// Fundamental frequency in Hz.
    pub pitch: f32,
}

impl Voice {
    /// A low voice (the sandbox's first party).
    pub const LOW: Voice = Voice { pitch: 115.0 };
    /// A high voice (the sandbox's second party).
    pub const HIGH: Voice = Voice { pitch: 205.0 };
}

/// Writes `len` samples of speech-like sound into `out`: syllables of harmonic tones shaped by
/// vowel formants, with a falling intonation. Deterministic for a given `rng`.
pub fn speak(voice: Voice, out: &mut [i16], rng: &mut StdRng) {
    let mut at = 0usize;
    let len = out.len();
    while at < len {
        let syllable = (RATE as f32 * rng.gen_range(0.12..0.26)) as usize;
        let gap = (RATE as f32 * rng.gen_range(0.02..0.09)) as usize;
        let end = (at + syllable).min(len);
        let vowel = VOWELS[rng.gen_range(0..VOWELS.len())];
        // Intonation falls over the turn.
        let progress = at as f32 / len.max(1) as f32;
        let pitch = voice.pitch * (1.12 - 0.22 * progress) * rng.gen_range(0.95..1.05);
        let harmonics = ((3400.0 / pitch) as usize).max(1);
        let gains: Vec<f32> = (1..=harmonics)
            .map(|h| {
                let f = h as f32 * pitch;
                vowel
                    .iter()
                    .enumerate()
                    .map(|(k, formant)| {
                        let bandwidth = 80.0 + 40.0 * k as f32;
                        let x = (f - formant) / bandwidth;
                        (1.0 / (1.0 + x * x)) / (1.0 + k as f32)
                    })
                    .sum::<f32>()
            })
            .collect();
        let norm: f32 = gains.iter().sum::<f32>().max(1e-3);
        for (i, sample) in out[at..end].iter_mut().enumerate() {
            let t = i as f32 / RATE as f32;
            let phase = i as f32 / (end - at).max(1) as f32;
            let envelope = (phase * std::f32::consts::PI).sin().powf(0.6);
            let value: f32 = gains
                .iter()
                .enumerate()
                .map(|(h, g)| g * (TAU * (h + 1) as f32 * pitch * t).sin())
                .sum();
            *sample = (value / norm * envelope * 9000.0) as i16;
        }
        at = end + gap;
    }
}

/// A synthetic conversation of `frames` samples per channel: the two voices take turns, each
/// silent while the other talks. Returns (left, right).
pub fn conversation(frames: usize, seed: u64) -> (Vec<i16>, Vec<i16>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut left = vec![0i16; frames];
    let mut right = vec![0i16; frames];
    let mut at = (RATE as f32 * 0.3) as usize;
    let mut left_turn = false;
    while at < frames {
        let turn = (RATE as f32 * rng.gen_range(1.2..3.5)) as usize;
        let end = (at + turn).min(frames);
        let (channel, voice) = if left_turn {
            (&mut left, Voice::LOW)
        } else {
            (&mut right, Voice::HIGH)
        };
        speak(voice, &mut channel[at..end], &mut rng);
        at = end + (RATE as f32 * rng.gen_range(0.2..0.7)) as usize;
        left_turn = !left_turn;
    }
    (left, right)
}

/// Writes interleaved 16-bit PCM at 8 kHz as a WAV file, through a temporary file renamed into
/// place so a reader never sees half a file. Returns the file's size.
fn write_wav(
    path: &Path,
    channels: u16,
    interleaved: impl Iterator<Item = i16>,
    samples: usize,
) -> std::io::Result<u64> {
    let data_len = u32::try_from(samples * 2)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "audio too long"))?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let partial = path.with_extension("partial");
    {
        let mut out = BufWriter::new(std::fs::File::create(&partial)?);
        out.write_all(b"RIFF")?;
        out.write_all(&(36 + data_len).to_le_bytes())?;
        out.write_all(b"WAVEfmt ")?;
        out.write_all(&16u32.to_le_bytes())?;
        out.write_all(&1u16.to_le_bytes())?; // PCM
        out.write_all(&channels.to_le_bytes())?;
        out.write_all(&RATE.to_le_bytes())?;
        out.write_all(&(RATE * 2 * u32::from(channels)).to_le_bytes())?; // bytes per second
        out.write_all(&(2 * channels).to_le_bytes())?; // block align
        out.write_all(&16u16.to_le_bytes())?; // bits per sample
        out.write_all(b"data")?;
        out.write_all(&data_len.to_le_bytes())?;
        for sample in interleaved.take(samples) {
            out.write_all(&sample.to_le_bytes())?;
        }
        out.flush()?;
        out.get_ref().sync_all()?;
    }
    std::fs::rename(&partial, path)?;
    Ok(44 + u64::from(data_len))
}

/// Writes 16-bit PCM stereo at 8 kHz as a WAV file (left and right cut to the shorter).
pub fn write_wav_stereo(path: &Path, left: &[i16], right: &[i16]) -> std::io::Result<u64> {
    let frames = left.len().min(right.len());
    let interleaved = left.iter().zip(right).flat_map(|(l, r)| [*l, *r]);
    write_wav(path, 2, interleaved, frames * 2)
}

/// Writes 16-bit PCM mono at 8 kHz as a WAV file.
pub fn write_wav_mono(path: &Path, samples: &[i16]) -> std::io::Result<u64> {
    write_wav(path, 1, samples.iter().copied(), samples.len())
}

/// Energy of `samples` at `freq` (Goertzel), normalised by length; for tests and analysis.
pub fn tone_power(samples: &[i16], freq: f32) -> f32 {
    let k = 2.0 * (TAU * freq / RATE as f32).cos();
    let (mut s1, mut s2) = (0.0f32, 0.0f32);
    for &x in samples {
        let s = f32::from(x) / 32768.0 + k * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    (s1 * s1 + s2 * s2 - k * s1 * s2) / (samples.len().max(1) as f32).powi(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rms(samples: &[i16]) -> f64 {
        let sum: f64 = samples.iter().map(|&s| f64::from(s).powi(2)).sum();
        (sum / samples.len().max(1) as f64).sqrt()
    }

    #[test]
    fn the_chime_is_audible_and_short() {
        let chime = Prompt::chime();
        assert!(chime.duration() > Duration::from_secs(1));
        assert!(chime.duration() < Duration::from_secs(2));
        assert!(rms(chime.samples()) > 500.0);
    }

    #[test]
    fn ringback_is_one_second_of_425_hz_then_four_of_silence() {
        let on: Vec<i16> = (0..8000).map(ringback).collect();
        let off: Vec<i16> = (8000..40000).map(ringback).collect();
        assert!(tone_power(&on, 425.0) > 100.0 * tone_power(&on, 1000.0));
        assert!(off.iter().all(|&s| s == 0));
    }

    #[test]
    fn the_two_voices_take_turns_on_their_own_channels() {
        let (left, right) = conversation(8000 * 20, 7);
        assert!(rms(&left) > 300.0, "the left voice speaks");
        assert!(rms(&right) > 300.0, "the right voice speaks");
        let overlap = left
            .iter()
            .zip(&right)
            .filter(|(l, r)| **l != 0 && **r != 0)
            .count();
        assert_eq!(overlap, 0, "they do not talk over each other");
        // The low voice has its energy lower in the spectrum.
        assert!(tone_power(&left, 115.0) > tone_power(&right, 115.0));
    }

    #[test]
    fn a_wav_file_has_a_correct_header_and_length() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.wav");
        let bytes = write_wav_stereo(&path, &[1, 2, 3], &[4, 5, 6]).unwrap();
        let data = std::fs::read(&path).unwrap();
        assert_eq!(bytes as usize, data.len());
        assert_eq!(&data[0..4], b"RIFF");
        assert_eq!(&data[8..16], b"WAVEfmt ");
        assert_eq!(u16::from_le_bytes([data[22], data[23]]), 2);
        assert_eq!(
            u32::from_le_bytes([data[24], data[25], data[26], data[27]]),
            8000
        );
        assert_eq!(&data[44..48], &[1, 0, 4, 0]);
        assert!(!path.with_extension("partial").exists());
    }
}
