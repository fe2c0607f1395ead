//! RTP (RFC 3550) packets and the outgoing side of a stream: one SSRC, sequence numbers and
//! timestamps that stay continuous while the source switches between generated audio (prompt,
//! ringback, silence) and the other party's packets.

use std::time::Instant;

/// Bytes of a fixed RTP header.
pub const HEADER: usize = 12;
/// Samples in a 20 ms packet at 8 kHz.
pub const FRAME: u32 = 160;

/// The fields of an RTP header we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Payload type.
    pub payload_type: u8,
    /// Marker bit (start of a talkspurt).
    pub marker: bool,
    /// Sequence number.
    pub seq: u16,
    /// Sampling-clock timestamp.
    pub timestamp: u32,
    /// Synchronisation source.
    pub ssrc: u32,
}

/// Splits a packet into its header and payload; `None` if it is not RTP version 2.
pub fn parse(packet: &[u8]) -> Option<(Header, &[u8])> {
    if packet.len() < HEADER || packet[0] >> 6 != 2 {
        return None;
    }
    let csrc = usize::from(packet[0] & 0x0F) * 4;
    let mut start = HEADER + csrc;
    if packet[0] & 0x10 != 0 {
        let ext = packet.get(start + 2..start + 4)?;
        start += 4 + usize::from(u16::from_be_bytes([ext[0], ext[1]])) * 4;
    }
    let mut end = packet.len();
    if packet[0] & 0x20 != 0 {
        end = end.checked_sub(usize::from(*packet.last()?))?;
    }
    let payload = packet.get(start..end)?;
    let header = Header {
        payload_type: packet[1] & 0x7F,
        marker: packet[1] & 0x80 != 0,
        seq: u16::from_be_bytes([packet[2], packet[3]]),
        timestamp: u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]),
        ssrc: u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]),
    };
    Some((header, payload))
}

/// Writes a header into the first [`HEADER`] bytes of `out`.
pub fn write(out: &mut [u8; HEADER], header: &Header) {
    out[0] = 0x80;
    out[1] = header.payload_type | if header.marker { 0x80 } else { 0 };
    out[2..4].copy_from_slice(&header.seq.to_be_bytes());
    out[4..8].copy_from_slice(&header.timestamp.to_be_bytes());
    out[8..12].copy_from_slice(&header.ssrc.to_be_bytes());
}

/// Where the packets of an outgoing stream come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Nothing,
    Generated,
    /// Relayed from an inbound stream: its SSRC and the offset added to its timestamps.
    Relayed {
        ssrc: u32,
        offset: u32,
    },
}

/// The sending state of one stream: what the far end sees as one continuous source.
#[derive(Debug)]
pub struct Outgoing {
    ssrc: u32,
    seq: u16,
    timestamp: u32,
    sent_at: Option<Instant>,
    source: Source,
}

impl Outgoing {
    /// A stream with a random SSRC, sequence number and timestamp (RFC 3550 §5.1).
    pub fn new(rng: &mut impl rand::Rng) -> Self {
        Self {
            ssrc: rng.gen(),
            seq: rng.gen(),
            timestamp: rng.gen(),
            sent_at: None,
            source: Source::Nothing,
        }
    }

    /// The SSRC.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// When the last packet went out.
    pub fn sent_at(&self) -> Option<Instant> {
        self.sent_at
    }

    /// The timestamp a new source starts at: the last one plus the time since it was sent
    /// (at least one frame), so the far end's jitter buffer sees real time passing.
    fn resume(&self, now: Instant) -> u32 {
        let Some(sent) = self.sent_at else {
            return self.timestamp;
        };
        let elapsed = now.saturating_duration_since(sent).as_micros() / 125;
        let samples = u32::try_from(elapsed).unwrap_or(u32::MAX).max(FRAME);
        self.timestamp.wrapping_add(samples)
    }

    /// The header of the next generated 20 ms frame.
    pub fn next_generated(&mut self, payload_type: u8, now: Instant) -> Header {
        let marker = self.source != Source::Generated;
        if marker {
            self.timestamp = self.resume(now);
            self.source = Source::Generated;
        } else {
            self.timestamp = self.timestamp.wrapping_add(FRAME);
        }
        self.advance(payload_type, marker, now)
    }

    /// The header for relaying an inbound packet with `inbound` header.
    pub fn next_relayed(&mut self, inbound: &Header, payload_type: u8, now: Instant) -> Header {
        let marker = match self.source {
            Source::Relayed { ssrc, offset } if ssrc == inbound.ssrc => {
                self.timestamp = inbound.timestamp.wrapping_add(offset);
                inbound.marker
            }
            _ => {
                let start = self.resume(now);
                self.source = Source::Relayed {
                    ssrc: inbound.ssrc,
                    offset: start.wrapping_sub(inbound.timestamp),
                };
                self.timestamp = start;
                true
            }
        };
        self.advance(payload_type, marker, now)
    }

    fn advance(&mut self, payload_type: u8, marker: bool, now: Instant) -> Header {
        self.seq = self.seq.wrapping_add(1);
        self.sent_at = Some(now);
        Header {
            payload_type,
            marker,
            seq: self.seq,
            timestamp: self.timestamp,
            ssrc: self.ssrc,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use std::time::Duration;

    fn stream() -> Outgoing {
        Outgoing::new(&mut rand::rngs::StdRng::seed_from_u64(7))
    }

    #[test]
    fn headers_round_trip_and_odd_packets_are_refused() {
        let header = Header {
            payload_type: 8,
            marker: true,
            seq: 65535,
            timestamp: u32::MAX,
            ssrc: 0xDEADBEEF,
        };
        let mut packet = [0u8; HEADER + 3];
        let mut head = [0u8; HEADER];
        write(&mut head, &header);
        packet[..HEADER].copy_from_slice(&head);
        packet[HEADER..].copy_from_slice(b"abc");
        assert_eq!(parse(&packet), Some((header, &b"abc"[..])));
        assert_eq!(parse(&packet[..5]), None);
        let mut v1 = packet;
        v1[0] = 0x40;
        assert_eq!(parse(&v1), None);
        let mut padded = packet;
        padded[0] |= 0x20;
        padded[HEADER + 2] = 200; // padding longer than the packet
        assert_eq!(parse(&padded), None);
        let mut extended = packet;
        extended[0] |= 0x10; // extension header that does not fit
        assert_eq!(parse(&extended), None);
    }

    #[test]
    fn generated_frames_advance_by_one_frame_each() {
        let mut out = stream();
        let now = Instant::now();
        let first = out.next_generated(8, now);
        let second = out.next_generated(8, now + Duration::from_millis(20));
        assert!(first.marker && !second.marker);
        assert_eq!(second.seq, first.seq.wrapping_add(1));
        assert_eq!(second.timestamp, first.timestamp.wrapping_add(FRAME));
        assert_eq!(first.ssrc, second.ssrc);
    }

    #[test]
    fn switching_to_relayed_audio_keeps_one_ssrc_and_continuous_numbers() {
        let mut out = stream();
        let start = Instant::now();
        let mut last = out.next_generated(8, start);
        for i in 1..50u32 {
            last = out.next_generated(8, start + Duration::from_millis(20 * u64::from(i)));
        }
        // The other party's packets carry their own numbering; ours continue.
        let mut inbound = Header {
            payload_type: 8,
            marker: false,
            seq: 10,
            timestamp: 123_456,
            ssrc: 42,
        };
        let at = start + Duration::from_millis(1000);
        let relayed = out.next_relayed(&inbound, 8, at);
        assert_eq!(relayed.ssrc, last.ssrc);
        assert_eq!(relayed.seq, last.seq.wrapping_add(1));
        assert_eq!(relayed.timestamp, last.timestamp.wrapping_add(FRAME));
        assert!(relayed.marker);
        inbound.timestamp += FRAME;
        inbound.seq += 1;
        let next = out.next_relayed(&inbound, 8, at + Duration::from_millis(20));
        assert_eq!(next.timestamp, relayed.timestamp.wrapping_add(FRAME));
        assert_eq!(next.seq, relayed.seq.wrapping_add(1));
        assert!(!next.marker);
        // A pause in generated audio shows as elapsed time, not as a jump backwards.
        let later = out.next_generated(8, at + Duration::from_millis(520));
        assert_eq!(later.timestamp, next.timestamp.wrapping_add(4000));
    }

    #[test]
    fn random_bytes_are_never_mistaken_for_more_than_they_hold() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        for _ in 0..20_000 {
            let len = rng.gen_range(0..64);
            let mut packet: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            if let Some(first) = packet.first_mut() {
                *first = (*first & 0x3F) | 0x80; // version 2, any flags
            }
            if let Some((_, payload)) = parse(&packet) {
                assert!(payload.len() + HEADER <= packet.len());
            }
        }
    }
}
