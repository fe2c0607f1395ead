//! The SDP (RFC 4566) of one audio stream: our offer, and what we need from an answer (RFC 3264).

use crate::g711::Law;
use std::net::{IpAddr, SocketAddr};

/// The RFC 4733 telephone-event payload type we offer (DTMF arrives on it and is ignored).
pub const TELEPHONE_EVENT: u8 = 101;

/// Our offer: one audio stream on `addr` with `codecs` in order of preference.
pub fn offer(addr: SocketAddr, codecs: &[Law], session_id: u64, version: u64) -> Vec<u8> {
    let ip = addr.ip();
    let family = if ip.is_ipv4() { "IP4" } else { "IP6" };
    let mut formats = String::new();
    let mut maps = String::new();
    for law in codecs {
        formats.push_str(&format!(" {}", law.payload_type()));
        maps.push_str(&format!(
            "a=rtpmap:{} {}/8000\r\n",
            law.payload_type(),
            law.name()
        ));
    }
    format!(
        "v=0\r\n\
         o=pol {session_id} {version} IN {family} {ip}\r\n\
         s=pol\r\n\
         c=IN {family} {ip}\r\n\
         t=0 0\r\n\
         m=audio {port} RTP/AVP{formats} {TELEPHONE_EVENT}\r\n\
         {maps}\
         a=rtpmap:{TELEPHONE_EVENT} telephone-event/8000\r\n\
         a=fmtp:{TELEPHONE_EVENT} 0-16\r\n\
         a=ptime:20\r\n\
         a=sendrecv\r\n",
        port = addr.port(),
    )
    .into_bytes()
}

/// What an answer (or an offer from the far end) says about its audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    /// Where to send RTP (`None` when the stream is on hold: address 0.0.0.0 or port 0).
    pub addr: Option<SocketAddr>,
    /// The first G.711 codec listed that we also offered.
    pub law: Law,
}

/// Why an SDP body cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    /// Not SDP, or no audio stream.
    #[error("no usable audio stream in the SDP")]
    NoAudio,
    /// No codec in common.
    #[error("no codec in common")]
    NoCodec,
}

/// Reads the first audio stream of `body`, choosing among `ours`.
pub fn parse(body: &[u8], ours: &[Law]) -> Result<Remote, SdpError> {
    let text = std::str::from_utf8(body).map_err(|_| SdpError::NoAudio)?;
    let mut session_ip: Option<IpAddr> = None;
    let mut media_ip: Option<IpAddr> = None;
    let mut audio: Option<(u16, Vec<u8>)> = None;
    let mut in_audio = false;
    for line in text.lines() {
        let line = line.trim_end();
        if let Some(rest) = line.strip_prefix("c=") {
            let ip = rest
                .split_whitespace()
                .nth(2)
                .and_then(|a| a.split('/').next())
                .and_then(|a| a.parse().ok());
            if audio.is_some() && in_audio {
                media_ip = ip;
            } else if audio.is_none() {
                session_ip = ip;
            }
        } else if let Some(rest) = line.strip_prefix("m=") {
            in_audio = false;
            if audio.is_some() {
                continue;
            }
            let mut parts = rest.split_whitespace();
            if parts.next() != Some("audio") {
                continue;
            }
            let port = parts.next().and_then(|p| p.split('/').next()?.parse().ok());
            let proto = parts.next().unwrap_or("");
            if !proto.starts_with("RTP/") {
                continue;
            }
            let formats = parts.filter_map(|f| f.parse().ok()).collect();
            if let Some(port) = port {
                audio = Some((port, formats));
                in_audio = true;
            }
        }
    }
    let (port, formats) = audio.ok_or(SdpError::NoAudio)?;
    let law = formats
        .iter()
        .filter_map(|pt| Law::from_payload_type(*pt))
        .find(|law| ours.contains(law))
        .ok_or(SdpError::NoCodec)?;
    let ip = media_ip.or(session_ip).ok_or(SdpError::NoAudio)?;
    let addr = (port != 0 && !ip.is_unspecified()).then(|| SocketAddr::new(ip, port));
    Ok(Remote { addr, law })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_offer_reads_back_as_the_preferred_codec() {
        let addr: SocketAddr = "192.0.2.7:20002".parse().unwrap();
        let body = offer(addr, &[Law::A, Law::Mu], 1, 1);
        let text = String::from_utf8(body.clone()).unwrap();
        assert!(text.contains("m=audio 20002 RTP/AVP 8 0 101\r\n"), "{text}");
        let remote = parse(&body, &[Law::A, Law::Mu]).unwrap();
        assert_eq!(remote.addr, Some(addr));
        assert_eq!(remote.law, Law::A);
    }

    #[test]
    fn a_pcmu_only_answer_picks_pcmu_and_media_level_address_wins() {
        let answer = b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0 101\r\nc=IN IP4 10.0.0.2\r\na=rtpmap:0 PCMU/8000\r\n";
        let remote = parse(answer, &[Law::A, Law::Mu]).unwrap();
        assert_eq!(remote.law, Law::Mu);
        assert_eq!(remote.addr, Some("10.0.0.2:6000".parse().unwrap()));
    }

    #[test]
    fn hold_and_mismatches_are_told_apart() {
        let hold = b"v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 6000 RTP/AVP 8\r\n";
        assert_eq!(parse(hold, &[Law::A]).unwrap().addr, None);
        let g729 = b"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 6000 RTP/AVP 18\r\n";
        assert_eq!(parse(g729, &[Law::A, Law::Mu]), Err(SdpError::NoCodec));
        assert_eq!(parse(b"", &[Law::A]), Err(SdpError::NoAudio));
        assert_eq!(
            parse(b"v=0\r\nm=video 5000 RTP/AVP 96\r\n", &[Law::A]),
            Err(SdpError::NoAudio)
        );
        assert_eq!(
            parse(b"m=audio 6000 RTP/AVP 8\r\n\xff", &[Law::A]),
            Err(SdpError::NoAudio)
        );
    }
}
