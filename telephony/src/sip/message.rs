//! SIP messages (RFC 3261 §7): parsing from the wire (a UDP datagram or a TCP byte stream) and
//! writing back. Only what a user agent needs: the start line, headers kept in order with their
//! compact forms expanded, and the body.

use std::fmt::Write as _;

/// A request or a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    /// `METHOD uri SIP/2.0`
    Request {
        /// `INVITE`, `BYE`, …
        method: String,
        /// The Request-URI.
        uri: String,
    },
    /// `SIP/2.0 code reason`
    Response {
        /// The status code.
        code: u16,
        /// The reason phrase.
        reason: String,
    },
}

/// One SIP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Request or status line.
    pub start: StartLine,
    /// Headers in order; names in their full form (`Via`, not `v`).
    pub headers: Vec<(String, String)>,
    /// The body (SDP, or empty).
    pub body: Vec<u8>,
}

/// Why bytes are not (yet) a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// More bytes are needed (TCP).
    #[error("incomplete message")]
    Incomplete,
    /// The bytes are not SIP.
    #[error("malformed SIP message: {0}")]
    Malformed(&'static str),
}

/// The longest message accepted (a SIP message over UDP must fit a datagram anyway).
pub const MAX_MESSAGE: usize = 65_535;

fn full_name(name: &str) -> &str {
    match name {
        "v" | "V" => "Via",
        "f" | "F" => "From",
        "t" | "T" => "To",
        "i" | "I" => "Call-ID",
        "m" | "M" => "Contact",
        "l" | "L" => "Content-Length",
        "c" | "C" => "Content-Type",
        "k" | "K" => "Supported",
        _ => name,
    }
}

/// Headers whose values may be comma-separated lists of several entries.
fn is_list(name: &str) -> bool {
    ["Via", "Record-Route", "Route"]
        .iter()
        .any(|n| n.eq_ignore_ascii_case(name))
}

impl Message {
    /// A request with no headers yet.
    pub fn request(method: &str, uri: impl Into<String>) -> Self {
        Self {
            start: StartLine::Request {
                method: method.to_owned(),
                uri: uri.into(),
            },
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A response to `request`, copying the headers RFC 3261 §8.2.6.2 says to copy.
    pub fn response_to(request: &Message, code: u16, reason: &str) -> Self {
        let mut response = Self {
            start: StartLine::Response {
                code,
                reason: reason.to_owned(),
            },
            headers: Vec::new(),
            body: Vec::new(),
        };
        for (name, value) in &request.headers {
            if ["Via", "From", "To", "Call-ID", "CSeq", "Record-Route"]
                .iter()
                .any(|n| n.eq_ignore_ascii_case(name))
            {
                response.headers.push((name.clone(), value.clone()));
            }
        }
        response
    }

    /// Parses one message from the start of `bytes`; returns it and how many bytes it took.
    /// Over UDP a missing Content-Length means "the rest of the datagram" (`datagram = true`).
    pub fn parse(bytes: &[u8], datagram: bool) -> Result<(Message, usize), ParseError> {
        // Keep-alive CRLFs between messages on a stream (RFC 5626) are skipped by the caller.
        let Some(head_end) = find(bytes, b"\r\n\r\n") else {
            return if bytes.len() > MAX_MESSAGE {
                Err(ParseError::Malformed("headers too long"))
            } else {
                Err(ParseError::Incomplete)
            };
        };
        let head = std::str::from_utf8(&bytes[..head_end])
            .map_err(|_| ParseError::Malformed("headers are not UTF-8"))?;
        let mut lines = head.split("\r\n");
        let first = lines.next().ok_or(ParseError::Malformed("empty"))?;
        let start = parse_start(first)?;
        let mut unfolded: Vec<(&str, String)> = Vec::new();
        for line in lines {
            if line.starts_with([' ', '\t']) {
                // Folded continuation of the previous header.
                let last = unfolded
                    .last_mut()
                    .ok_or(ParseError::Malformed("continuation before any header"))?;
                last.1.push(' ');
                last.1.push_str(line.trim());
                continue;
            }
            let (name, value) = line
                .split_once(':')
                .ok_or(ParseError::Malformed("header without a colon"))?;
            let name = full_name(name.trim());
            if name.is_empty() {
                return Err(ParseError::Malformed("empty header name"));
            }
            unfolded.push((name, value.trim().to_owned()));
        }
        let mut headers: Vec<(String, String)> = Vec::with_capacity(unfolded.len());
        for (name, value) in unfolded {
            if is_list(name) {
                for item in split_list(&value) {
                    headers.push((name.to_owned(), item.to_owned()));
                }
            } else {
                headers.push((name.to_owned(), value));
            }
        }
        let body_start = head_end + 4;
        let length = match headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("Content-Length"))
        {
            Some((_, v)) => v
                .parse::<usize>()
                .map_err(|_| ParseError::Malformed("bad Content-Length"))?,
            None if datagram => bytes.len() - body_start,
            None => return Err(ParseError::Malformed("no Content-Length on a stream")),
        };
        if length > MAX_MESSAGE {
            return Err(ParseError::Malformed("body too long"));
        }
        let end = body_start + length;
        if bytes.len() < end {
            return if datagram {
                Err(ParseError::Malformed("body shorter than Content-Length"))
            } else {
                Err(ParseError::Incomplete)
            };
        }
        let message = Message {
            start,
            headers,
            body: bytes[body_start..end].to_vec(),
        };
        for required in ["Via", "From", "To", "Call-ID", "CSeq"] {
            if message.header(required).is_none() {
                return Err(ParseError::Malformed("a mandatory header is missing"));
            }
        }
        message.cseq().ok_or(ParseError::Malformed("bad CSeq"))?;
        Ok((message, end))
    }

    /// The wire form, with a correct Content-Length.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut head = String::with_capacity(512);
        match &self.start {
            StartLine::Request { method, uri } => {
                let _ = write!(head, "{method} {uri} SIP/2.0\r\n");
            }
            StartLine::Response { code, reason } => {
                let _ = write!(head, "SIP/2.0 {code} {reason}\r\n");
            }
        }
        for (name, value) in &self.headers {
            if !name.eq_ignore_ascii_case("Content-Length") {
                let _ = write!(head, "{name}: {value}\r\n");
            }
        }
        let _ = write!(head, "Content-Length: {}\r\n\r\n", self.body.len());
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }

    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header, in order (list headers already split).
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Appends a header.
    pub fn push(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// Replaces every value of a header with one.
    pub fn set(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.push(name, value)
    }

    /// The method of a request, or of the request a response answers (from CSeq).
    pub fn method(&self) -> &str {
        match &self.start {
            StartLine::Request { method, .. } => method,
            StartLine::Response { .. } => self.cseq().map(|(_, m)| m).unwrap_or(""),
        }
    }

    /// The status code of a response.
    pub fn code(&self) -> Option<u16> {
        match self.start {
            StartLine::Response { code, .. } => Some(code),
            StartLine::Request { .. } => None,
        }
    }

    /// `CSeq: 4711 INVITE` → `(4711, "INVITE")`.
    pub fn cseq(&self) -> Option<(u32, &str)> {
        let (number, method) = self
            .header("CSeq")?
            .trim()
            .split_once(char::is_whitespace)?;
        Some((number.parse().ok()?, method.trim()))
    }

    /// The Call-ID.
    pub fn call_id(&self) -> &str {
        self.header("Call-ID").unwrap_or("")
    }

    /// The branch parameter of the top Via.
    pub fn branch(&self) -> Option<&str> {
        param(self.header("Via")?, "branch")
    }
}

fn parse_start(line: &str) -> Result<StartLine, ParseError> {
    if let Some(rest) = line.strip_prefix("SIP/2.0 ") {
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        let code: u16 = code
            .parse()
            .map_err(|_| ParseError::Malformed("bad status code"))?;
        if !(100..700).contains(&code) {
            return Err(ParseError::Malformed("status code out of range"));
        }
        return Ok(StartLine::Response {
            code,
            reason: reason.to_owned(),
        });
    }
    let mut parts = line.split(' ');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(method), Some(uri), Some("SIP/2.0"), None)
            if !method.is_empty() && method.bytes().all(|b| b.is_ascii_uppercase()) =>
        {
            Ok(StartLine::Request {
                method: method.to_owned(),
                uri: uri.to_owned(),
            })
        }
        _ => Err(ParseError::Malformed("bad request line")),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Splits a header value on commas that are outside quotes and angle brackets.
pub fn split_list(value: &str) -> impl Iterator<Item = &str> {
    let mut items = Vec::new();
    let (mut quoted, mut angled, mut start) = (false, false, 0);
    for (i, c) in value.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '<' if !quoted => angled = true,
            '>' if !quoted => angled = false,
            ',' if !quoted && !angled => {
                items.push(value[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(value[start..].trim());
    items.into_iter().filter(|s| !s.is_empty())
}

/// A `;name=value` parameter of a header value (outside its `<…>` URI), without quotes.
pub fn param<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    let outside = match value.rfind('>') {
        Some(end) => &value[end + 1..],
        None => value,
    };
    outside.split(';').skip(1).find_map(|p| {
        let (key, val) = p.split_once('=').unwrap_or((p, ""));
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| val.trim().trim_matches('"'))
    })
}

/// The URI of a name-addr (`"Name" <sip:a@b>;tag=x` → `sip:a@b`) or of a bare addr-spec.
pub fn uri_of(value: &str) -> &str {
    match (value.find('<'), value.find('>')) {
        (Some(open), Some(close)) if open < close => &value[open + 1..close],
        _ => value.split(';').next().unwrap_or(value).trim(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RINGING: &[u8] = b"SIP/2.0 180 Ringing\r\n\
v: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1;rport=5070, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-0\r\n\
f: <sip:pol@127.0.0.1>;tag=abc\r\n\
t: <sip:09121110001@127.0.0.1>;tag=def\r\n\
i: call-1@pol\r\n\
CSeq: 7 INVITE\r\n\
Record-Route: <sip:proxy1;lr>,\r\n <sip:proxy2;lr>\r\n\
l: 0\r\n\r\n";

    #[test]
    fn a_response_with_compact_and_folded_headers_parses() {
        let (message, used) = Message::parse(RINGING, true).unwrap();
        assert_eq!(used, RINGING.len());
        assert_eq!(message.code(), Some(180));
        assert_eq!(message.method(), "INVITE");
        assert_eq!(message.cseq(), Some((7, "INVITE")));
        assert_eq!(message.call_id(), "call-1@pol");
        assert_eq!(message.branch(), Some("z9hG4bK-1"));
        assert_eq!(message.headers_named("Via").count(), 2);
        let routes: Vec<_> = message.headers_named("Record-Route").collect();
        assert_eq!(routes, ["<sip:proxy1;lr>", "<sip:proxy2;lr>"]);
        assert_eq!(param(message.header("To").unwrap(), "tag"), Some("def"));
        assert_eq!(
            uri_of(message.header("To").unwrap()),
            "sip:09121110001@127.0.0.1"
        );
    }

    #[test]
    fn a_stream_yields_whole_messages_only() {
        let mut stream = RINGING.to_vec();
        stream.extend_from_slice(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP x;branch=z9hG4bK-2\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: 2\r\nCSeq: 1 BYE\r\nContent-Length: 4\r\n\r\nab");
        let (_, used) = Message::parse(&stream, false).unwrap();
        assert_eq!(
            Message::parse(&stream[used..], false),
            Err(ParseError::Incomplete)
        );
        stream.extend_from_slice(b"cd");
        let (second, _) = Message::parse(&stream[used..], false).unwrap();
        assert_eq!(second.body, b"abcd");
    }

    #[test]
    fn written_messages_parse_back_to_themselves() {
        let mut invite = Message::request("INVITE", "sip:09121110001@trunk");
        invite
            .push("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-x;rport")
            .push("From", "<sip:pol@trunk>;tag=1")
            .push("To", "<sip:09121110001@trunk>")
            .push("Call-ID", "c1")
            .push("CSeq", "1 INVITE")
            .push("Content-Type", "application/sdp");
        invite.body = b"v=0\r\n".to_vec();
        let bytes = invite.to_bytes();
        let (back, _) = Message::parse(&bytes, false).unwrap();
        assert_eq!(back.body, invite.body);
        assert_eq!(back.header("Content-Length"), Some("5"));
        let response = Message::response_to(&back, 486, "Busy Here");
        assert_eq!(response.code(), Some(486));
        assert_eq!(response.header("Call-ID"), Some("c1"));
        assert_eq!(response.header("Content-Type"), None);
    }

    #[test]
    fn garbage_is_refused_without_panicking() {
        for bad in [
            &b"hello\r\n\r\n"[..],
            b"SIP/2.0 99 Odd\r\n\r\n",
            b"INVITE sip:a SIP/2.0\r\nVia x\r\n\r\n",
            b"INVITE sip:a SIP/2.0\r\nVia: x\r\nContent-Length: 10\r\n\r\n",
            b"SIP/2.0 200 OK\r\nVia: a\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: x\r\n\r\n",
            b"\xff\xfe\r\n\r\n",
        ] {
            assert!(
                matches!(Message::parse(bad, true), Err(ParseError::Malformed(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        // Every prefix of a good message is either incomplete or an error, never a panic.
        for end in 0..RINGING.len() {
            let _ = Message::parse(&RINGING[..end], false);
            let _ = Message::parse(&RINGING[..end], true);
        }
    }

    #[test]
    fn parameters_inside_the_uri_are_not_header_parameters() {
        let value = "<sip:a@b;transport=tcp;tag=inside>;tag=outside;lr";
        assert_eq!(param(value, "tag"), Some("outside"));
        assert_eq!(param(value, "lr"), Some(""));
        assert_eq!(param(value, "transport"), None);
        assert_eq!(
            split_list("<sip:a,b@c>, \"x, y\" <sip:d>").collect::<Vec<_>>(),
            ["<sip:a,b@c>", "\"x, y\" <sip:d>"]
        );
    }

    #[test]
    fn thousands_of_mangled_messages_never_panic() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let mut invite = Message::request("INVITE", "sip:09121110001@trunk");
        invite
            .push("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-x;rport")
            .push("From", "\"Pol\" <sip:pol@trunk>;tag=1")
            .push("To", "<sip:09121110001@trunk>")
            .push("Call-ID", "c1")
            .push("CSeq", "1 INVITE")
            .push("Content-Type", "application/sdp");
        invite.body = b"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 6000 RTP/AVP 8 0\r\n".to_vec();
        let seeds = [invite.to_bytes(), RINGING.to_vec()];
        for round in 0..3000 {
            let mut bytes = seeds[round % 2].clone();
            for _ in 0..rng.gen_range(1..8) {
                let at = rng.gen_range(0..bytes.len());
                match rng.gen_range(0..4) {
                    0 => bytes[at] = rng.gen(),
                    1 => {
                        bytes.remove(at);
                    }
                    2 => bytes.insert(
                        at,
                        *b":;,<>\"\r\n 0".get(rng.gen_range(0..11)).unwrap_or(&b' '),
                    ),
                    _ => bytes.truncate(at),
                }
                if bytes.is_empty() {
                    break;
                }
            }
            for datagram in [true, false] {
                if let Ok((message, _)) = Message::parse(&bytes, datagram) {
                    // Whatever parses can be read and written back without panicking.
                    let _ = (
                        message.cseq(),
                        message.branch(),
                        message.method(),
                        message.to_bytes(),
                    );
                    for (_, value) in &message.headers {
                        let _ = (
                            param(value, "tag"),
                            uri_of(value),
                            super::super::digest::Challenge::parse(value),
                        );
                    }
                    let _ = super::super::sdp::parse(&message.body, &[crate::g711::Law::A]);
                }
            }
        }
    }
}
