//! G.711 (ITU-T, 1988): A-law and µ-law companding between 16-bit linear PCM and one byte per
//! sample. Decoding and transcoding go through 256-entry tables built at compile time;
//! encoding is a handful of integer operations.

/// Which G.711 law a stream uses, with its static RTP payload type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Law {
    /// µ-law, RTP payload type 0 (PCMU).
    Mu,
    /// A-law, RTP payload type 8 (PCMA).
    A,
}

impl Law {
    /// The static RTP payload type (RFC 3551).
    pub const fn payload_type(self) -> u8 {
        match self {
            Law::Mu => 0,
            Law::A => 8,
        }
    }

    /// The law of a static payload type.
    pub const fn from_payload_type(pt: u8) -> Option<Law> {
        match pt {
            0 => Some(Law::Mu),
            8 => Some(Law::A),
            _ => None,
        }
    }

    /// The SDP encoding name.
    pub const fn name(self) -> &'static str {
        match self {
            Law::Mu => "PCMU",
            Law::A => "PCMA",
        }
    }

    /// The encoded value of silence.
    pub const fn silence(self) -> u8 {
        match self {
            Law::Mu => 0xFF,
            Law::A => 0xD5,
        }
    }

    /// Encodes one sample.
    pub fn encode(self, sample: i16) -> u8 {
        match self {
            Law::Mu => ulaw_encode(sample),
            Law::A => alaw_encode(sample),
        }
    }

    /// Decodes one byte.
    pub fn decode(self, byte: u8) -> i16 {
        match self {
            Law::Mu => ULAW_TO_LINEAR[byte as usize],
            Law::A => ALAW_TO_LINEAR[byte as usize],
        }
    }

    /// Rewrites `bytes` encoded in `self` into `to`, in place.
    pub fn transcode(self, to: Law, bytes: &mut [u8]) {
        let table = match (self, to) {
            (Law::A, Law::Mu) => &ALAW_TO_ULAW,
            (Law::Mu, Law::A) => &ULAW_TO_ALAW,
            _ => return,
        };
        for byte in bytes {
            *byte = table[*byte as usize];
        }
    }
}

const ALAW_SEGMENT_ENDS: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];
const ULAW_SEGMENT_ENDS: [i32; 8] = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];

const fn segment(value: i32, ends: &[i32; 8]) -> usize {
    let mut i = 0;
    while i < 8 {
        if value <= ends[i] {
            return i;
        }
        i += 1;
    }
    8
}

/// Encodes a linear sample as A-law (13-bit magnitude, even bits inverted).
pub const fn alaw_encode(sample: i16) -> u8 {
    let mut value = (sample as i32) >> 3;
    let mask = if value >= 0 {
        0xD5
    } else {
        value = -value - 1;
        0x55
    };
    let seg = segment(value, &ALAW_SEGMENT_ENDS);
    if seg >= 8 {
        return (0x7F ^ mask) as u8;
    }
    let mantissa = if seg < 2 {
        (value >> 1) & 0x0F
    } else {
        (value >> seg) & 0x0F
    };
    ((((seg as i32) << 4) | mantissa) ^ mask) as u8
}

/// Decodes an A-law byte.
pub const fn alaw_decode(byte: u8) -> i16 {
    let a = (byte ^ 0x55) as i32;
    let mut t = (a & 0x0F) << 4;
    let seg = (a & 0x70) >> 4;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= seg - 1;
        }
    }
    (if a & 0x80 != 0 { t } else { -t }) as i16
}

/// Encodes a linear sample as µ-law (14-bit magnitude with the 33 bias, all bits inverted).
pub const fn ulaw_encode(sample: i16) -> u8 {
    let mut value = (sample as i32) >> 2;
    let mask = if value < 0 {
        value = -value;
        0x7F
    } else {
        0xFF
    };
    if value > 8159 {
        value = 8159;
    }
    value += 0x21;
    let seg = segment(value, &ULAW_SEGMENT_ENDS);
    if seg >= 8 {
        return (0x7F ^ mask) as u8;
    }
    ((((seg as i32) << 4) | ((value >> (seg + 1)) & 0x0F)) ^ mask) as u8
}

/// Decodes a µ-law byte.
pub const fn ulaw_decode(byte: u8) -> i16 {
    let u = !byte as i32;
    let mut t = ((u & 0x0F) << 3) + 0x84;
    t <<= (u & 0x70) >> 4;
    (if u & 0x80 != 0 { 0x84 - t } else { t - 0x84 }) as i16
}

const fn decode_table(law_a: bool) -> [i16; 256] {
    let mut out = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        out[i] = if law_a {
            alaw_decode(i as u8)
        } else {
            ulaw_decode(i as u8)
        };
        i += 1;
    }
    out
}

const fn transcode_table(from_a: bool) -> [u8; 256] {
    let mut out = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        out[i] = if from_a {
            ulaw_encode(alaw_decode(i as u8))
        } else {
            alaw_encode(ulaw_decode(i as u8))
        };
        i += 1;
    }
    out
}

static ALAW_TO_LINEAR: [i16; 256] = decode_table(true);
static ULAW_TO_LINEAR: [i16; 256] = decode_table(false);
static ALAW_TO_ULAW: [u8; 256] = transcode_table(true);
static ULAW_TO_ALAW: [u8; 256] = transcode_table(false);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_encodes_to_the_well_known_bytes() {
        assert_eq!(alaw_encode(0), 0xD5);
        assert_eq!(ulaw_encode(0), 0xFF);
        assert_eq!(Law::A.silence(), alaw_encode(0));
        assert_eq!(Law::Mu.silence(), ulaw_encode(0));
        assert_eq!(ulaw_decode(0xFF), 0);
        assert_eq!(alaw_decode(0xD5), 8);
    }

    #[test]
    fn every_sample_survives_a_round_trip_within_its_segment_step() {
        for law in [Law::A, Law::Mu] {
            for sample in (i16::MIN..=i16::MAX).step_by(7) {
                let back = law.decode(law.encode(sample));
                let error = (i32::from(back) - i32::from(sample)).abs();
                // The quantisation step grows with the magnitude: 1/16 of it at most, plus the
                // clipping of µ-law at ±32124.
                let allowed =
                    (i32::from(sample).abs() / 16).max(16) + 700 * i32::from(law == Law::Mu);
                assert!(error <= allowed, "{law:?} {sample} → {back}");
            }
        }
    }

    #[test]
    fn every_byte_decodes_and_encodes_back_to_itself() {
        for byte in 0..=255u8 {
            assert_eq!(alaw_encode(alaw_decode(byte)), byte, "A-law {byte:#x}");
            let mu = ulaw_encode(ulaw_decode(byte));
            // µ-law has two zeros (0x7F and 0xFF); both decode to 0 and 0 encodes to 0xFF.
            assert!(
                mu == byte || (byte == 0x7F && mu == 0xFF),
                "µ-law {byte:#x}"
            );
        }
    }

    #[test]
    fn transcoding_keeps_the_signal() {
        let mut bytes: Vec<u8> = (-3000..3000).step_by(10).map(alaw_encode).collect();
        let original = bytes.clone();
        Law::A.transcode(Law::Mu, &mut bytes);
        for (a, mu) in original.iter().zip(&bytes) {
            let diff = (i32::from(alaw_decode(*a)) - i32::from(ulaw_decode(*mu))).abs();
            assert!(diff <= 64, "{a:#x} → {mu:#x}");
        }
    }

    #[test]
    fn payload_types_are_the_static_ones() {
        assert_eq!(Law::from_payload_type(0), Some(Law::Mu));
        assert_eq!(Law::from_payload_type(8), Some(Law::A));
        assert_eq!(Law::from_payload_type(18), None);
        assert_eq!(Law::A.payload_type(), 8);
    }
}
