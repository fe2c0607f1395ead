//! The SIP backend: a back-to-back user agent toward one SIP trunk.
//!
//! Every leg is an outbound call (INVITE) to the trunk with its own Call-ID, its own RTP socket
//! and its own task, which runs the INVITE client transaction (retransmissions over UDP, digest
//! authentication on 401/407, CANCEL on the ring timeout or when asked) and then the dialog
//! (BYE either way, in-dialog OPTIONS and re-INVITEs answered). The media of a leg runs in its
//! own task ([`media`]); bridging tells each leg's media task to relay what it receives into the
//! other leg's stream. Recordings are written by [`recorder`].

pub mod digest;
pub mod media;
pub mod message;
pub mod recorder;
mod register;
pub mod rtp;
pub mod sdp;
pub mod transport;

use crate::g711::Law;
use crate::{
    Audio, BackendKind, Cause, Dial, Event, EventSink, LegId, RecordingId, Telephony,
    TelephonyError,
};
use message::{param, uri_of, Message, StartLine};
use rand::Rng;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};
use tokio::time::Instant;
use transport::{Origin, Protocol, Transport};

/// RFC 3261 timer T1 (round-trip estimate).
const T1: Duration = Duration::from_millis(500);
/// RFC 3261 timer T2 (longest retransmission interval of non-INVITE requests).
const T2: Duration = Duration::from_secs(4);
/// RFC 3261 timers B and F: how long a transaction waits for an answer.
const TRANSACTION_TIMEOUT: Duration = Duration::from_secs(32);
/// How long an ended leg still answers retransmissions of the far end's last request.
const LINGER: Duration = Duration::from_secs(4);

/// Where calls go and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trunk {
    /// Host name or address.
    pub host: String,
    /// Port (5060 unless given).
    pub port: u16,
    /// UDP or TCP.
    pub protocol: Protocol,
}

impl Trunk {
    /// Parses `sip:trunk.example[:5060][;transport=udp|tcp]`.
    pub fn parse(uri: &str) -> Result<Trunk, String> {
        let rest = uri
            .trim()
            .strip_prefix("sip:")
            .ok_or("the trunk must be a sip: URI, like sip:trunk.example:5060;transport=udp")?;
        let mut parts = rest.split(';');
        let hostport = parts.next().unwrap_or_default();
        let hostport = hostport.rsplit('@').next().unwrap_or(hostport);
        let (host, port) = match hostport.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(':') => (
                host,
                port.parse::<u16>()
                    .map_err(|_| format!("bad trunk port {port:?}"))?,
            ),
            _ => (hostport, 5060),
        };
        if host.is_empty() || port == 0 {
            return Err("the trunk URI has no host".into());
        }
        let mut protocol = Protocol::Udp;
        for p in parts {
            match p.split_once('=') {
                Some((k, v)) if k.eq_ignore_ascii_case("transport") => {
                    protocol = match v.to_ascii_lowercase().as_str() {
                        "udp" => Protocol::Udp,
                        "tcp" => Protocol::Tcp,
                        other => {
                            return Err(format!("unsupported transport {other:?} (udp or tcp)"))
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(Trunk {
            host: host.trim_matches(['[', ']']).to_owned(),
            port,
            protocol,
        })
    }

    fn hostport(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// A password that never shows in logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(pub String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// Everything the SIP backend is configured with.
#[derive(Debug, Clone, PartialEq)]
pub struct SipConfig {
    /// The trunk.
    pub trunk: Trunk,
    /// Digest user name (also the caller in From when no caller ID is set).
    pub username: Option<String>,
    /// Digest password.
    pub password: Option<Password>,
    /// Local SIP address (`0.0.0.0:5060`).
    pub bind: SocketAddr,
    /// The address put in Via, Contact and SDP (needed when `bind` is a wildcard).
    pub public_ip: Option<IpAddr>,
    /// RTP ports, inclusive; `(0, 0)` lets the system choose.
    pub rtp_ports: (u16, u16),
    /// Codecs offered, in order of preference.
    pub codecs: Vec<Law>,
    /// Calls (pairs of legs) at once; more are refused as busy.
    pub max_calls: usize,
    /// What replaces `+98` when a number is dialled (`0` gives `0912…`, `98` gives `98912…`).
    pub dial_prefix: String,
    /// The number parties see (From and P-Asserted-Identity), unless a dial carries its own.
    pub caller_id: Option<String>,
    /// A party that sends no audio this long is hung up on (`media_timeout`).
    pub media_timeout: Duration,
    /// Recordings encoded at once (each on its own thread).
    pub encoders: usize,
    /// Register the account with the trunk (for providers that want it).
    pub register: bool,
    /// The registration lifetime asked for.
    pub register_expires: Duration,
}

impl SipConfig {
    /// A configuration with the defaults for everything but the trunk.
    pub fn new(trunk: Trunk) -> Self {
        Self {
            trunk,
            username: None,
            password: None,
            bind: SocketAddr::from(([0, 0, 0, 0], 5060)),
            public_ip: None,
            rtp_ports: (20000, 29999),
            codecs: vec![Law::A, Law::Mu],
            max_calls: 500,
            dial_prefix: "0".into(),
            caller_id: None,
            media_timeout: Duration::from_secs(30),
            encoders: 1,
            register: false,
            register_expires: Duration::from_secs(600),
        }
    }

    /// Parses `20000-29999`.
    pub fn parse_ports(value: &str) -> Result<(u16, u16), String> {
        let (first, last) = value
            .split_once('-')
            .ok_or("RTP ports are a range like 20000-29999")?;
        let first: u16 = first.trim().parse().map_err(|_| "bad first RTP port")?;
        let last: u16 = last.trim().parse().map_err(|_| "bad last RTP port")?;
        if first < 1024 || last < first {
            return Err("the RTP port range must be above 1023 and not empty".into());
        }
        Ok((first, last))
    }

    /// Parses `PCMA,PCMU`.
    pub fn parse_codecs(value: &str) -> Result<Vec<Law>, String> {
        let mut codecs = Vec::new();
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let law = match name.to_ascii_uppercase().as_str() {
                "PCMA" | "G711A" => Law::A,
                "PCMU" | "G711U" => Law::Mu,
                _ => return Err(format!("unsupported codec {name:?} (PCMA, PCMU)")),
            };
            if !codecs.contains(&law) {
                codecs.push(law);
            }
        }
        if codecs.is_empty() {
            return Err("at least one codec (PCMA, PCMU)".into());
        }
        Ok(codecs)
    }

    /// The user part dialled for an E.164 number.
    pub fn dialled(&self, e164: &str) -> String {
        let digits: String = e164.chars().filter(char::is_ascii_digit).collect();
        match digits.strip_prefix("98") {
            Some(national) if e164.starts_with('+') => format!("{}{national}", self.dial_prefix),
            _ if e164.starts_with('+') => format!("00{digits}"),
            _ => digits,
        }
    }

    /// The address advertised in Via, Contact and SDP.
    pub fn advertised_ip(&self) -> Result<IpAddr, String> {
        match self.public_ip {
            Some(ip) => Ok(ip),
            None if self.bind.ip().is_unspecified() => {
                Err("POL_SIP_PUBLIC_IP is needed when POL_SIP_BIND listens on every address".into())
            }
            None => Ok(self.bind.ip()),
        }
    }
}

/// What a leg's task is told.
enum Input {
    Sip(Message, Origin),
    HangUp,
    MediaTimeout,
}

struct LegHandle {
    input: mpsc::UnboundedSender<Input>,
    media: media::Media,
    tap: Option<recorder::Tap>,
}

struct Shared {
    config: SipConfig,
    transport: Arc<Transport>,
    advertised: SocketAddr,
    ports: media::Ports,
    encoders: Arc<Semaphore>,
    dialogs: Mutex<HashMap<String, mpsc::UnboundedSender<Input>>>,
    legs: Mutex<HashMap<LegId, LegHandle>>,
    recordings: Mutex<HashMap<RecordingId, recorder::Recording>>,
    next_id: AtomicU64,
    registered: std::sync::atomic::AtomicBool,
}

/// The SIP backend.
pub struct SipTelephony {
    shared: Arc<Shared>,
}

impl SipTelephony {
    /// Binds the SIP address and starts the user agent.
    pub async fn start(config: SipConfig) -> Result<SipTelephony, String> {
        let ip = config.advertised_ip()?;
        let trunk = tokio::net::lookup_host((config.trunk.host.as_str(), config.trunk.port))
            .await
            .map_err(|e| format!("cannot resolve the trunk {}: {e}", config.trunk.host))?
            .next()
            .ok_or_else(|| format!("the trunk {} has no address", config.trunk.host))?;
        let (inbound, mut received) = mpsc::unbounded_channel();
        let transport = Transport::start(config.trunk.protocol, config.bind, trunk, inbound)
            .await
            .map_err(|e| format!("cannot listen for SIP on {}: {e}", config.bind))?;
        let advertised = SocketAddr::new(ip, transport.local().port());
        let ports = media::Ports::new(config.bind.ip(), config.rtp_ports.0, config.rtp_ports.1);
        let shared = Arc::new(Shared {
            encoders: Arc::new(Semaphore::new(config.encoders.max(1))),
            config,
            transport,
            advertised,
            ports,
            dialogs: Mutex::new(HashMap::new()),
            legs: Mutex::new(HashMap::new()),
            recordings: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            registered: std::sync::atomic::AtomicBool::new(false),
        });
        let dispatcher = shared.clone();
        tokio::spawn(async move {
            while let Some((message, origin)) = received.recv().await {
                dispatcher.dispatch(message, origin).await;
            }
        });
        if shared.config.register {
            let call_id = format!("{}@{}", random_token(20), shared.advertised.ip());
            let (input, inbox) = mpsc::unbounded_channel();
            if let Ok(mut dialogs) = shared.dialogs.lock() {
                dialogs.insert(call_id.clone(), input);
            }
            tokio::spawn(register::run(shared.clone(), inbox, call_id));
        }
        tracing::info!(sip = %shared.advertised, trunk = %trunk, "SIP backend ready");
        Ok(SipTelephony { shared })
    }

    /// Whether the last registration with the trunk succeeded (always false without
    /// registration).
    pub fn registered(&self) -> bool {
        self.shared.registered.load(Ordering::Relaxed)
    }

    /// The SIP address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.transport.local()
    }

    /// The media counters of a live leg (for the load benchmark and diagnostics).
    pub fn leg_stats(&self, leg: LegId) -> Option<Arc<media::Stats>> {
        self.shared
            .legs
            .lock()
            .ok()?
            .get(&leg)
            .map(|h| h.media.stats.clone())
    }

    /// Legs alive now.
    pub fn live_legs(&self) -> usize {
        self.shared.legs.lock().map(|l| l.len()).unwrap_or(0)
    }
}

impl Shared {
    async fn dispatch(&self, message: Message, origin: Origin) {
        let target = self
            .dialogs
            .lock()
            .ok()
            .and_then(|d| d.get(message.call_id()).cloned());
        if let Some(leg) = target {
            let _ = leg.send(Input::Sip(message, origin));
            return;
        }
        // Outside any call of ours.
        let StartLine::Request { method, .. } = &message.start else {
            return; // a late response to a finished call
        };
        let (code, reason) = match method.as_str() {
            "ACK" => return,
            "OPTIONS" => (200, "OK"),
            "INVITE" => (403, "Forbidden"),
            _ => (481, "Call/Transaction Does Not Exist"),
        };
        let mut response = Message::response_to(&message, code, reason);
        add_to_tag(&mut response, &random_token(8));
        response.push("Allow", ALLOW);
        let _ = self.transport.reply(&response, &origin).await;
    }

    /// A Via header value for a new request with `branch`.
    fn via(&self, branch: &str) -> String {
        format!(
            "SIP/2.0/{} {};branch={branch};rport",
            self.transport.protocol().via(),
            self.advertised
        )
    }

    fn handle<T>(
        &self,
        leg: LegId,
        f: impl FnOnce(&mut LegHandle) -> T,
    ) -> Result<T, TelephonyError> {
        let mut legs = self
            .legs
            .lock()
            .map_err(|_| TelephonyError::Other("leg table poisoned".into()))?;
        legs.get_mut(&leg)
            .map(f)
            .ok_or(TelephonyError::Unknown("leg"))
    }
}

const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS";

fn random_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

fn new_branch() -> String {
    format!("z9hG4bK{}", random_token(16))
}

fn add_to_tag(response: &mut Message, tag: &str) {
    if let Some(to) = response
        .headers
        .iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case("To"))
    {
        if param(&to.1, "tag").is_none() {
            to.1.push_str(&format!(";tag={tag}"));
        }
    }
}

/// The cause a final failure response stands for.
pub fn cause_of(code: u16) -> Cause {
    match code {
        486 | 600 => Cause::Busy,
        408 | 480 | 487 => Cause::NoAnswer,
        603 => Cause::Rejected,
        404 | 410 | 484 | 503 | 604 => Cause::Unreachable,
        _ => Cause::Failed,
    }
}

#[async_trait::async_trait]
impl Telephony for SipTelephony {
    fn kind(&self) -> BackendKind {
        BackendKind::Sip
    }

    fn enforces_ring_timeout(&self) -> bool {
        true
    }

    async fn place(&self, dial: Dial, events: EventSink) -> Result<LegId, TelephonyError> {
        let shared = &self.shared;
        if self.live_legs() >= shared.config.max_calls.saturating_mul(2) {
            return Err(TelephonyError::Busy);
        }
        let id = LegId(shared.next_id.fetch_add(1, Ordering::Relaxed));
        let socket = shared
            .ports
            .bind()
            .map_err(|e| TelephonyError::Other(format!("no RTP port: {e}")))?;
        let (input, inbox) = mpsc::unbounded_channel();
        let on_timeout = input.clone();
        let media = media::Media::start(
            socket,
            id,
            events.clone(),
            shared.config.media_timeout,
            Box::new(move || {
                let _ = on_timeout.send(Input::MediaTimeout);
            }),
        )
        .map_err(|e| TelephonyError::Other(format!("RTP socket: {e}")))?;
        let rtp = SocketAddr::new(shared.advertised.ip(), media.local.port());
        let call_id = format!("{}@{}", random_token(20), shared.advertised.ip());
        let leg = Leg::new(
            shared.clone(),
            id,
            &dial,
            events,
            inbox,
            &media,
            rtp,
            call_id.clone(),
        );
        if let Ok(mut dialogs) = shared.dialogs.lock() {
            dialogs.insert(call_id, input.clone());
        }
        if let Ok(mut legs) = shared.legs.lock() {
            legs.insert(
                id,
                LegHandle {
                    input,
                    media,
                    tap: None,
                },
            );
        }
        tokio::spawn(leg.run(dial.ring_timeout));
        Ok(id)
    }

    async fn play(&self, leg: LegId, audio: Audio) -> Result<(), TelephonyError> {
        let playing = match audio {
            Audio::Prompt(prompt) => media::Playing::Prompt(prompt),
            Audio::Ringback => media::Playing::Ringback,
        };
        self.shared.handle(leg, |h| {
            let _ = h.media.commands.send(media::Command::Play(playing));
        })
    }

    async fn bridge(&self, a: LegId, b: LegId) -> Result<(), TelephonyError> {
        let (a_sender, a_tap) = self
            .shared
            .handle(a, |h| (h.media.sender.clone(), h.tap.clone()))?;
        let (b_sender, b_tap) = self
            .shared
            .handle(b, |h| (h.media.sender.clone(), h.tap.clone()))?;
        self.shared.handle(a, |h| {
            let _ = h.media.commands.send(media::Command::Bridge(b_sender));
            if let (None, Some(tap)) = (&h.tap, &b_tap) {
                let _ = h
                    .media
                    .commands
                    .send(media::Command::Record(tap.clone(), 1));
            }
        })?;
        self.shared.handle(b, |h| {
            let _ = h.media.commands.send(media::Command::Bridge(a_sender));
            if let (None, Some(tap)) = (&h.tap, &a_tap) {
                let _ = h
                    .media
                    .commands
                    .send(media::Command::Record(tap.clone(), 1));
                h.tap = Some(tap.clone());
            }
        })
    }

    async fn start_recording(
        &self,
        first: LegId,
        path: PathBuf,
        events: EventSink,
    ) -> Result<RecordingId, TelephonyError> {
        let id = RecordingId(self.shared.next_id.fetch_add(1, Ordering::Relaxed));
        let recording = recorder::Recording::start(id, path, events, self.shared.encoders.clone())
            .map_err(|e| TelephonyError::Other(format!("cannot record: {e}")))?;
        let tap = recording.tap();
        self.shared.handle(first, |h| {
            let _ = h
                .media
                .commands
                .send(media::Command::Record(tap.clone(), 0));
            h.tap = Some(tap);
        })?;
        if let Ok(mut recordings) = self.shared.recordings.lock() {
            recordings.insert(id, recording);
        }
        Ok(id)
    }

    async fn stop_recording(&self, recording: RecordingId) -> Result<(), TelephonyError> {
        let mut found = self
            .shared
            .recordings
            .lock()
            .ok()
            .and_then(|mut r| r.remove(&recording))
            .ok_or(TelephonyError::Unknown("recording"))?;
        found.stop();
        Ok(())
    }

    async fn hang_up(&self, leg: LegId) -> Result<(), TelephonyError> {
        let handle = self
            .shared
            .legs
            .lock()
            .ok()
            .and_then(|mut l| l.remove(&leg))
            .ok_or(TelephonyError::Unknown("leg"))?;
        let _ = handle.input.send(Input::HangUp);
        Ok(())
    }
}

/// How the INVITE transaction ended.
enum Invited {
    Answered,
    Failed(Cause, Option<u16>),
    /// The engine hung up before an answer (no event is due).
    Abandoned,
}

/// A request we keep sending until it is answered (UDP) or given up on.
struct Outstanding {
    bytes: Message,
    next: Instant,
    interval: Duration,
    give_up: Instant,
    invite: bool,
}

impl Outstanding {
    fn new(message: Message, invite: bool) -> Self {
        let now = Instant::now();
        Self {
            bytes: message,
            next: now + T1,
            interval: T1,
            give_up: now + TRANSACTION_TIMEOUT,
            invite,
        }
    }

    fn backoff(&mut self) {
        self.interval = if self.invite {
            self.interval * 2
        } else {
            (self.interval * 2).min(T2)
        };
        self.next = Instant::now() + self.interval;
    }
}

struct Leg {
    shared: Arc<Shared>,
    id: LegId,
    events: EventSink,
    inbox: mpsc::UnboundedReceiver<Input>,
    media: mpsc::UnboundedSender<media::Command>,
    call_id: String,
    request_uri: String,
    from: String,
    to: String,
    caller: String,
    cseq: u32,
    invite: Message,
    /// Our RTP address and SDP session id, for answering re-INVITEs with the same stream.
    rtp: SocketAddr,
    session: u64,
    offer: Vec<u8>,
    sdp_version: u64,
    remote_target: Option<String>,
    route: Vec<String>,
    /// The engine hung up: it expects no more events.
    silent: bool,
    /// Final responses we sent, for retransmitted requests.
    answered: Vec<((u32, String), Message)>,
    /// The last ACK we sent for a 2xx, for retransmitted 2xx.
    ack: Option<Message>,
    auth_nc: u32,
}

impl Leg {
    #[allow(clippy::too_many_arguments)]
    fn new(
        shared: Arc<Shared>,
        id: LegId,
        dial: &Dial,
        events: EventSink,
        inbox: mpsc::UnboundedReceiver<Input>,
        media: &media::Media,
        rtp: SocketAddr,
        call_id: String,
    ) -> Self {
        let config = &shared.config;
        let host = config.trunk.hostport();
        let user = config.dialled(&dial.number);
        let caller = dial
            .caller_id
            .as_deref()
            .map(|n| config.dialled(n))
            .or_else(|| config.caller_id.clone())
            .or_else(|| config.username.clone())
            .unwrap_or_else(|| "pol".into());
        let request_uri = format!("sip:{user}@{host}");
        let from = format!("<sip:{caller}@{host}>;tag={}", random_token(10));
        let to = format!("<{request_uri}>");
        let session: u64 = rand::thread_rng().gen_range(1..1_000_000_000);
        let offer = sdp::offer(rtp, &config.codecs, session, 1);
        let mut leg = Leg {
            invite: Message::request("INVITE", request_uri.clone()),
            shared,
            id,
            events,
            inbox,
            media: media.commands.clone(),
            call_id,
            request_uri,
            from,
            to,
            caller,
            cseq: 0,
            rtp,
            session,
            offer,
            sdp_version: 1,
            remote_target: None,
            route: Vec::new(),
            silent: false,
            answered: Vec::new(),
            ack: None,
            auth_nc: 0,
        };
        leg.invite = leg.build_invite(None);
        leg
    }

    fn contact(&self) -> String {
        let transport = match self.shared.transport.protocol() {
            Protocol::Udp => "",
            Protocol::Tcp => ";transport=tcp",
        };
        format!("<sip:pol@{}{transport}>", self.shared.advertised)
    }

    fn build_invite(&mut self, authorization: Option<(&'static str, String)>) -> Message {
        self.cseq += 1;
        let mut invite = Message::request("INVITE", self.request_uri.clone());
        invite
            .push("Via", self.shared.via(&new_branch()))
            .push("Max-Forwards", "70")
            .push("From", self.from.clone())
            .push("To", self.to.clone())
            .push("Call-ID", self.call_id.clone())
            .push("CSeq", format!("{} INVITE", self.cseq))
            .push("Contact", self.contact())
            .push(
                "P-Asserted-Identity",
                format!(
                    "<sip:{}@{}>",
                    self.caller,
                    self.shared.config.trunk.hostport()
                ),
            )
            .push("Allow", ALLOW)
            .push("User-Agent", "Pol")
            .push("Content-Type", "application/sdp");
        if let Some((name, value)) = authorization {
            invite.push(name, value);
        }
        invite.body = self.offer.clone();
        invite
    }

    /// A new request inside the confirmed dialog (next CSeq).
    fn in_dialog(&mut self, method: &str) -> Message {
        self.cseq += 1;
        self.dialog_request(method, self.cseq)
    }

    /// A request to the dialog's remote target through its route set, with CSeq `cseq` (the
    /// INVITE's for the ACK of a 2xx, a new one otherwise).
    fn dialog_request(&self, method: &str, cseq: u32) -> Message {
        let target = self
            .remote_target
            .clone()
            .unwrap_or_else(|| self.request_uri.clone());
        let mut request = Message::request(method, target);
        request
            .push("Via", self.shared.via(&new_branch()))
            .push("Max-Forwards", "70")
            .push("From", self.from.clone())
            .push("To", self.to.clone())
            .push("Call-ID", self.call_id.clone())
            .push("CSeq", format!("{cseq} {method}"));
        for route in &self.route {
            request.push("Route", route.clone());
        }
        request.push("User-Agent", "Pol");
        request
    }

    /// A request of the INVITE's own transaction (same Via branch and CSeq number): the ACK of
    /// a failure response (RFC 3261 §17.1.1.3) or a CANCEL (§9.1).
    fn on_invite_branch(&self, method: &str, to: &str) -> Message {
        let mut request = Message::request(method, self.request_uri.clone());
        request
            .push("Via", self.invite.header("Via").unwrap_or_default())
            .push("Max-Forwards", "70")
            .push("From", self.from.clone())
            .push("To", to.to_owned())
            .push("Call-ID", self.call_id.clone())
            .push("CSeq", format!("{} {method}", self.cseq));
        request
    }

    fn ack_failure(&self, response: &Message) -> Message {
        self.on_invite_branch("ACK", response.header("To").unwrap_or(&self.to))
    }

    /// Sends CANCEL for the pending INVITE; it is retransmitted until answered.
    async fn send_cancel(&self) -> Outstanding {
        let cancel = self.on_invite_branch("CANCEL", &self.to);
        self.send(&cancel).await;
        Outstanding::new(cancel, false)
    }

    /// Sends a request to the trunk; false if it could not be sent at all.
    async fn send(&self, message: &Message) -> bool {
        match self.shared.transport.send(message).await {
            Ok(()) => true,
            Err(err) => {
                tracing::warn!(leg = %self.id, error = %err, "could not send a SIP request");
                false
            }
        }
    }

    async fn reply(
        &mut self,
        request: &Message,
        origin: &Origin,
        code: u16,
        reason: &str,
        sdp: bool,
    ) {
        let mut response = Message::response_to(request, code, reason);
        if code >= 200 {
            response
                .push("Contact", self.contact())
                .push("Allow", ALLOW);
        }
        if sdp {
            self.sdp_version += 1;
            response.push("Content-Type", "application/sdp");
            response.body = sdp::offer(
                self.rtp,
                &self.shared.config.codecs,
                self.session,
                self.sdp_version,
            );
        }
        let _ = self.shared.transport.reply(&response, origin).await;
        if let Some((number, method)) = request.cseq() {
            let key = (number, method.to_owned());
            self.answered.retain(|(k, _)| *k != key);
            self.answered.push((key, response));
            if self.answered.len() > 8 {
                self.answered.remove(0);
            }
        }
    }

    /// Answers a retransmitted request from the cache; true if it was one.
    async fn replay(&self, request: &Message, origin: &Origin) -> bool {
        let Some((number, method)) = request.cseq() else {
            return false;
        };
        if let Some((_, response)) = self
            .answered
            .iter()
            .find(|((n, m), _)| *n == number && m == method)
        {
            let _ = self.shared.transport.reply(response, origin).await;
            return true;
        }
        false
    }

    fn event(&self, event: Event) {
        if !self.silent {
            let _ = self.events.send(event);
        }
    }

    async fn run(mut self, ring_timeout: Duration) {
        match self.inviting(ring_timeout).await {
            Invited::Answered => self.talking().await,
            Invited::Failed(cause, sip_code) => self.event(Event::Failed {
                leg: self.id,
                cause,
                sip_code,
            }),
            Invited::Abandoned => {}
        }
        let _ = self.media.send(media::Command::Stop);
        if let Ok(mut legs) = self.shared.legs.lock() {
            legs.remove(&self.id);
        }
        self.linger().await;
        if let Ok(mut dialogs) = self.shared.dialogs.lock() {
            dialogs.remove(&self.call_id);
        }
    }

    /// The INVITE client transaction, until an answer or a final failure.
    async fn inviting(&mut self, ring_timeout: Duration) -> Invited {
        let udp = self.shared.transport.protocol() == Protocol::Udp;
        let invite = self.invite.clone();
        if !self.send(&invite).await && !udp {
            // No connection to the trunk: nothing will ever answer.
            return Invited::Failed(Cause::Unreachable, None);
        }
        let mut resend = Some(Outstanding::new(self.invite.clone(), true));
        let ring_deadline = Instant::now() + ring_timeout;
        let mut provisional = false;
        let mut rang = false;
        let mut auth_attempts = 0;
        // Why we cancel, once we do: the engine hung up, or the ring timeout passed.
        let mut cancelling: Option<bool> = None;
        let mut cancel_sent = false;
        loop {
            let wake = resend.as_ref().map(|r| {
                if udp {
                    r.next.min(r.give_up)
                } else {
                    r.give_up
                }
            });
            let ring = (cancelling.is_none()).then_some(ring_deadline);
            tokio::select! {
                input = self.inbox.recv() => match input {
                    None => return Invited::Abandoned,
                    Some(Input::HangUp) => {
                        self.silent = true;
                        cancelling = Some(true);
                        if provisional && !cancel_sent {
                            cancel_sent = true;
                            resend = Some(self.send_cancel().await);
                        }
                        if !provisional {
                            // Nothing heard yet: CANCEL must wait for a provisional response
                            // (RFC 3261 §9.1); keep waiting up to the transaction timeout.
                            resend.get_or_insert_with(|| Outstanding::new(self.invite.clone(), true));
                        }
                    }
                    Some(Input::MediaTimeout) => {}
                    Some(Input::Sip(message, origin)) => {
                        let Some(code) = message.code() else {
                            self.early_request(&message, &origin).await;
                            continue;
                        };
                        let Some((number, method)) = message.cseq() else { continue };
                        if method == "CANCEL" {
                            if code >= 200 && resend.as_ref().is_some_and(|r| !r.invite) {
                                resend = None;
                            }
                            continue;
                        }
                        if method != "INVITE" || number != self.cseq {
                            continue;
                        }
                        match code {
                            100..=199 => {
                                provisional = true;
                                if resend.as_ref().is_some_and(|r| r.invite) {
                                    resend = None;
                                }
                                if code != 100 && !rang {
                                    rang = true;
                                    self.event(Event::Ringing(self.id));
                                }
                                if cancelling.is_some() && !cancel_sent {
                                    cancel_sent = true;
                                    resend = Some(self.send_cancel().await);
                                }
                            }
                            200..=299 => {
                                self.confirm(&message).await;
                                if let Some(by_engine) = cancelling {
                                    // Answered as we cancelled: hang up the answered call.
                                    self.bye().await;
                                    return if by_engine {
                                        Invited::Abandoned
                                    } else {
                                        Invited::Failed(Cause::NoAnswer, Some(487))
                                    };
                                }
                                match sdp::parse(&message.body, &self.shared.config.codecs) {
                                    Ok(remote) => {
                                        let _ = self.media.send(media::Command::Remote(remote.addr, remote.law));
                                        return Invited::Answered;
                                    }
                                    Err(err) => {
                                        tracing::warn!(leg = %self.id, error = %err, "answer without usable audio");
                                        self.bye().await;
                                        return Invited::Failed(Cause::Failed, Some(488));
                                    }
                                }
                            }
                            401 | 407 if auth_attempts < 2 && cancelling.is_none() => {
                                let ack = self.ack_failure(&message);
                                self.send(&ack).await;
                                let header = if code == 401 { "WWW-Authenticate" } else { "Proxy-Authenticate" };
                                let answer = message
                                    .header(header)
                                    .and_then(digest::Challenge::parse)
                                    .zip(self.shared.config.username.clone())
                                    .map(|(challenge, user)| {
                                        self.auth_nc += 1;
                                        challenge.answer(
                                            &user,
                                            self.shared
                                                .config
                                                .password
                                                .as_ref()
                                                .map_or("", |p| p.0.as_str()),
                                            "INVITE",
                                            &self.request_uri,
                                            &random_token(12),
                                            self.auth_nc,
                                        )
                                    });
                                let Some(answer) = answer else {
                                    return Invited::Failed(Cause::Failed, Some(code));
                                };
                                auth_attempts += 1;
                                let name = if code == 401 { "Authorization" } else { "Proxy-Authorization" };
                                self.invite = self.build_invite(Some((name, answer)));
                                let invite = self.invite.clone();
                                self.send(&invite).await;
                                resend = Some(Outstanding::new(invite, true));
                                provisional = false;
                            }
                            _ => {
                                let ack = self.ack_failure(&message);
                                self.send(&ack).await;
                                return match cancelling {
                                    Some(true) => Invited::Abandoned,
                                    Some(false) => Invited::Failed(Cause::NoAnswer, Some(code)),
                                    None => Invited::Failed(cause_of(code), Some(code)),
                                };
                            }
                        }
                    }
                },
                _ = sleep_until(wake) => {
                    let Some(outstanding) = resend.as_mut() else { continue };
                    if Instant::now() >= outstanding.give_up {
                        // Nothing came back: the trunk is unreachable, or the CANCEL got lost.
                        return match cancelling {
                            Some(true) => Invited::Abandoned,
                            Some(false) => Invited::Failed(Cause::NoAnswer, None),
                            None => Invited::Failed(Cause::Unreachable, Some(408)),
                        };
                    }
                    let again = outstanding.bytes.clone();
                    outstanding.backoff();
                    self.send(&again).await;
                }
                _ = sleep_until(ring) => {
                    cancelling = Some(false);
                    if provisional {
                        cancel_sent = true;
                        resend = Some(self.send_cancel().await);
                    } else {
                        return Invited::Failed(Cause::NoAnswer, None);
                    }
                }
            }
        }
    }

    /// Takes the dialog from a 2xx and acknowledges it.
    async fn confirm(&mut self, ok: &Message) {
        if let Some(to) = ok.header("To") {
            self.to = to.to_owned();
        }
        self.remote_target = ok.header("Contact").map(|c| uri_of(c).to_owned());
        self.route = ok
            .headers_named("Record-Route")
            .map(str::to_owned)
            .collect::<Vec<_>>();
        self.route.reverse();
        let ack = self.dialog_request("ACK", self.cseq);
        self.send(&ack).await;
        self.ack = Some(ack);
    }

    /// Requests that arrive before the answer (in an early dialog).
    async fn early_request(&mut self, request: &Message, origin: &Origin) {
        if self.replay(request, origin).await {
            return;
        }
        match request.method() {
            "ACK" => {}
            "OPTIONS" => self.reply(request, origin, 200, "OK", false).await,
            _ => {
                self.reply(
                    request,
                    origin,
                    481,
                    "Call/Transaction Does Not Exist",
                    false,
                )
                .await
            }
        }
    }

    /// The confirmed dialog, until either side hangs up.
    async fn talking(&mut self) {
        self.event(Event::Answered(self.id));
        loop {
            let Some(input) = self.inbox.recv().await else {
                return;
            };
            match input {
                Input::HangUp => {
                    self.silent = true;
                    self.bye().await;
                    return;
                }
                Input::MediaTimeout => {
                    tracing::info!(leg = %self.id, "no audio from the party: hanging up");
                    self.event(Event::HungUp {
                        leg: self.id,
                        cause: Cause::MediaTimeout,
                    });
                    self.silent = true;
                    self.bye().await;
                    return;
                }
                Input::Sip(message, origin) => {
                    if message.code().is_some() {
                        self.late_response(&message).await;
                        continue;
                    }
                    if self.replay(&message, &origin).await {
                        continue;
                    }
                    match message.method() {
                        "BYE" => {
                            self.reply(&message, &origin, 200, "OK", false).await;
                            self.event(Event::HungUp {
                                leg: self.id,
                                cause: Cause::HungUp,
                            });
                            return;
                        }
                        "INVITE" => {
                            // A re-INVITE: follow the new address (or hold) and answer with
                            // the same stream.
                            if !message.body.is_empty() {
                                match sdp::parse(&message.body, &self.shared.config.codecs) {
                                    Ok(remote) => {
                                        let _ = self
                                            .media
                                            .send(media::Command::Remote(remote.addr, remote.law));
                                    }
                                    Err(_) => {
                                        self.reply(
                                            &message,
                                            &origin,
                                            488,
                                            "Not Acceptable Here",
                                            false,
                                        )
                                        .await;
                                        continue;
                                    }
                                }
                            }
                            self.reply(&message, &origin, 200, "OK", true).await;
                        }
                        "ACK" => {}
                        "OPTIONS" | "INFO" | "UPDATE" | "NOTIFY" => {
                            self.reply(&message, &origin, 200, "OK", false).await
                        }
                        _ => {
                            self.reply(&message, &origin, 501, "Not Implemented", false)
                                .await
                        }
                    }
                }
            }
        }
    }

    /// A retransmitted 2xx to our INVITE gets our ACK again.
    async fn late_response(&self, response: &Message) {
        let is_invite_ok = response.method() == "INVITE"
            && response.code().is_some_and(|c| (200..300).contains(&c));
        if let (true, Some(ack)) = (is_invite_ok, &self.ack) {
            self.send(ack).await;
        }
    }

    /// Sends BYE and waits (a bounded time) for its answer, answering whatever else arrives.
    async fn bye(&mut self) {
        let bye = self.in_dialog("BYE");
        let cseq = self.cseq;
        self.send(&bye).await;
        let udp = self.shared.transport.protocol() == Protocol::Udp;
        let mut outstanding = Outstanding::new(bye, false);
        loop {
            let wake = if udp {
                outstanding.next.min(outstanding.give_up)
            } else {
                outstanding.give_up
            };
            tokio::select! {
                input = self.inbox.recv() => match input {
                    None => return,
                    Some(Input::Sip(message, origin)) => match message.code() {
                        Some(code) if message.cseq() == Some((cseq, "BYE")) && code >= 200 => return,
                        Some(_) => self.late_response(&message).await,
                        None => {
                            if self.replay(&message, &origin).await {
                                continue;
                            }
                            match message.method() {
                                "ACK" => {}
                                // Both sides hung up at once.
                                "BYE" => {
                                    self.reply(&message, &origin, 200, "OK", false).await;
                                    return;
                                }
                                _ => self.reply(&message, &origin, 481, "Call/Transaction Does Not Exist", false).await,
                            }
                        }
                    },
                    Some(_) => {}
                },
                _ = tokio::time::sleep_until(wake) => {
                    if Instant::now() >= outstanding.give_up {
                        return;
                    }
                    let again = outstanding.bytes.clone();
                    outstanding.backoff();
                    self.send(&again).await;
                }
            }
        }
    }

    /// After the end, still answers retransmissions for a little while (UDP).
    async fn linger(&mut self) {
        if self.shared.transport.protocol() != Protocol::Udp {
            return;
        }
        let until = Instant::now() + LINGER;
        while let Ok(Some(input)) = tokio::time::timeout_at(until, self.inbox.recv()).await {
            if let Input::Sip(message, origin) = input {
                if message.code().is_some() {
                    self.late_response(&message).await;
                } else if !self.replay(&message, &origin).await && message.method() != "ACK" {
                    self.reply(
                        &message,
                        &origin,
                        481,
                        "Call/Transaction Does Not Exist",
                        false,
                    )
                    .await;
                }
            }
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trunk_uris_parse_with_their_transport() {
        assert_eq!(
            Trunk::parse("sip:trunk.example:5080;transport=tcp").unwrap(),
            Trunk {
                host: "trunk.example".into(),
                port: 5080,
                protocol: Protocol::Tcp
            }
        );
        let plain = Trunk::parse("sip:10.0.0.1").unwrap();
        assert_eq!((plain.port, plain.protocol), (5060, Protocol::Udp));
        assert!(Trunk::parse("http://x").is_err());
        assert!(Trunk::parse("sip:x:99999").is_err());
        assert!(Trunk::parse("sip:x;transport=sctp").is_err());
        assert!(Trunk::parse("sip:").is_err());
    }

    #[test]
    fn numbers_are_dialled_in_the_trunks_form() {
        let mut config = SipConfig::new(Trunk::parse("sip:t").unwrap());
        assert_eq!(config.dialled("+989121234567"), "09121234567");
        config.dial_prefix = "98".into();
        assert_eq!(config.dialled("+989121234567"), "989121234567");
        config.dial_prefix = "+98".into();
        assert_eq!(config.dialled("+989121234567"), "+989121234567");
        assert_eq!(config.dialled("+4930123"), "004930123");
    }

    #[test]
    fn settings_refuse_nonsense_with_a_reason() {
        assert_eq!(SipConfig::parse_ports("20000-29999"), Ok((20000, 29999)));
        assert!(SipConfig::parse_ports("30000-20000").is_err());
        assert!(SipConfig::parse_ports("80-90").is_err());
        assert!(SipConfig::parse_ports("20000").is_err());
        assert_eq!(
            SipConfig::parse_codecs("pcmu, PCMA,PCMU"),
            Ok(vec![Law::Mu, Law::A])
        );
        assert!(SipConfig::parse_codecs("G729").is_err());
        assert!(SipConfig::parse_codecs("").is_err());
        let config = SipConfig::new(Trunk::parse("sip:t").unwrap());
        assert!(
            config.advertised_ip().is_err(),
            "0.0.0.0 needs a public address"
        );
    }

    #[test]
    fn failure_codes_map_to_causes() {
        assert_eq!(cause_of(486), Cause::Busy);
        assert_eq!(cause_of(600), Cause::Busy);
        assert_eq!(cause_of(487), Cause::NoAnswer);
        assert_eq!(cause_of(480), Cause::NoAnswer);
        assert_eq!(cause_of(603), Cause::Rejected);
        assert_eq!(cause_of(404), Cause::Unreachable);
        assert_eq!(cause_of(503), Cause::Unreachable);
        assert_eq!(cause_of(500), Cause::Failed);
    }
}
