//! One leg's media: its own RTP socket (we anchor the audio, so the parties never learn each
//! other's addresses), 20 ms paced generated audio (prompt, ringback, silence) until the leg is
//! bridged, then the other party's packets relayed as they arrive with this leg's own SSRC,
//! sequence numbers and timestamps. Received audio goes to the recording tap, and a leg that
//! stops sending audio for too long is reported.

use super::recorder::Tap;
use super::rtp::{self, Outgoing, FRAME, HEADER};
use crate::audio::{ringback, Prompt};
use crate::g711::Law;
use crate::{Event, EventSink, LegId};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

/// Packets longer than this are not audio we relay.
const MAX_PACKET: usize = 1500;

/// The part of a leg's media the other leg's task uses to relay audio into it.
pub struct Sender {
    socket: Arc<UdpSocket>,
    state: Mutex<SendState>,
}

struct SendState {
    remote: Option<SocketAddr>,
    law: Law,
    out: Outgoing,
}

impl Sender {
    /// Where the next packet goes, its header (from `next`) and the law the party speaks; `None`
    /// while the party's address is unknown.
    fn next(
        &self,
        next: impl FnOnce(&mut Outgoing, u8) -> rtp::Header,
    ) -> Option<(SocketAddr, rtp::Header, Law)> {
        let mut state = self.state.lock().ok()?;
        let remote = state.remote?;
        let law = state.law;
        let header = next(&mut state.out, law.payload_type());
        Some((remote, header, law))
    }

    /// Relays one received packet (header and G.711 payload in `from_law`) to this leg's party.
    fn relay(&self, inbound: &rtp::Header, from_law: Law, payload: &[u8]) {
        let mut packet = [0u8; MAX_PACKET];
        let len = payload.len().min(MAX_PACKET - HEADER);
        let Some((remote, header, law)) =
            self.next(|out, pt| out.next_relayed(inbound, pt, Instant::now()))
        else {
            return;
        };
        let mut head = [0u8; HEADER];
        rtp::write(&mut head, &header);
        packet[..HEADER].copy_from_slice(&head);
        packet[HEADER..HEADER + len].copy_from_slice(&payload[..len]);
        from_law.transcode(law, &mut packet[HEADER..HEADER + len]);
        // Never wait on the relay path: a full socket buffer drops the packet, as the network would.
        let _ = self.socket.try_send_to(&packet[..HEADER + len], remote);
    }

    /// Sends one generated frame of linear samples.
    fn send_generated(&self, samples: &[i16; FRAME as usize]) {
        let mut packet = [0u8; HEADER + FRAME as usize];
        let Some((remote, header, law)) =
            self.next(|out, pt| out.next_generated(pt, Instant::now()))
        else {
            return;
        };
        let mut head = [0u8; HEADER];
        rtp::write(&mut head, &header);
        packet[..HEADER].copy_from_slice(&head);
        for (byte, sample) in packet[HEADER..].iter_mut().zip(samples) {
            *byte = law.encode(*sample);
        }
        let _ = self.socket.try_send_to(&packet, remote);
    }

    fn sent_at(&self) -> Option<Instant> {
        self.state.lock().ok().and_then(|s| s.out.sent_at())
    }
}

/// What a leg's media task is told to do.
pub enum Command {
    /// Where the party's audio goes and which codec it speaks (from the SDP answer).
    Remote(Option<SocketAddr>, Law),
    /// Play a prompt once (then [`Event::PlaybackFinished`]) or ringback until told otherwise.
    Play(Playing),
    /// Relay received audio to this other leg from now on.
    Bridge(Arc<Sender>),
    /// Send received audio to a recording, on this channel (0 left, 1 right).
    Record(Tap, u8),
    /// Stop (the leg ended).
    Stop,
}

/// Called when the party has sent no audio for the timeout.
pub type TimedOut = Box<dyn Fn() + Send + Sync>;

/// Generated audio.
pub enum Playing {
    /// A prompt, from its start.
    Prompt(Prompt),
    /// Ringback.
    Ringback,
}

/// Counters of one leg's media, for the benchmark and the logs.
#[derive(Debug, Default)]
pub struct Stats {
    /// RTP audio packets received.
    pub received: AtomicU32,
    /// Packets relayed to the other leg.
    pub relayed: AtomicU32,
    /// Packets missing from the received sequence numbers.
    pub lost: AtomicU32,
    /// Interarrival jitter of the received stream (RFC 3550 §6.4.1), in microseconds.
    pub jitter_us: AtomicU32,
}

/// Loss and jitter of a received stream, as RFC 3550 §6.4.1 and A.8 compute them.
#[derive(Debug, Default)]
struct Quality {
    ssrc: Option<u32>,
    last_seq: u16,
    transit: i64,
    /// In timestamp units (1/8000 s), scaled by 16 as in RFC 3550's integer form.
    jitter16: i64,
}

impl Quality {
    /// Accounts for a packet that arrived `arrival` samples after the leg started; returns the
    /// packets missing before it.
    fn packet(&mut self, header: &rtp::Header, arrival: i64) -> u32 {
        let transit = arrival - i64::from(header.timestamp);
        if self.ssrc != Some(header.ssrc) {
            *self = Quality {
                ssrc: Some(header.ssrc),
                last_seq: header.seq,
                transit,
                jitter16: 0,
            };
            return 0;
        }
        let d = (transit - self.transit).abs();
        self.transit = transit;
        self.jitter16 += d - ((self.jitter16 + 8) >> 4);
        let step = header.seq.wrapping_sub(self.last_seq);
        if step == 0 || step > 3000 {
            return 0; // a duplicate or a late packet
        }
        self.last_seq = header.seq;
        u32::from(step - 1)
    }

    fn jitter_us(&self) -> u32 {
        u32::try_from((self.jitter16 >> 4) * 125).unwrap_or(u32::MAX)
    }
}

/// A leg's media, as the signalling side holds it.
pub struct Media {
    /// The local RTP address (what our SDP offers, before any public address is put in).
    pub local: SocketAddr,
    /// The sending half, for bridging.
    pub sender: Arc<Sender>,
    /// Commands to the task.
    pub commands: mpsc::UnboundedSender<Command>,
    /// Counters.
    pub stats: Arc<Stats>,
}

impl Media {
    /// Starts the media task of leg `leg` on `socket`. `timeout` without received audio (once
    /// the leg is answered) calls `timed_out`.
    pub fn start(
        socket: UdpSocket,
        leg: LegId,
        events: EventSink,
        timeout: Duration,
        timed_out: TimedOut,
    ) -> std::io::Result<Media> {
        let local = socket.local_addr()?;
        let socket = Arc::new(socket);
        let sender = Arc::new(Sender {
            socket: socket.clone(),
            state: Mutex::new(SendState {
                remote: None,
                law: Law::A,
                out: Outgoing::new(&mut rand::thread_rng()),
            }),
        });
        let (commands, inbox) = mpsc::unbounded_channel();
        let stats = Arc::new(Stats::default());
        let task = Task {
            leg,
            socket,
            sender: sender.clone(),
            events,
            inbox,
            timeout,
            timed_out,
            stats: stats.clone(),
            law: Law::A,
            remote: None,
            latched: false,
            playing: None,
            peer: None,
            tap: None,
            last_audio: None,
            started: Instant::now(),
            quality: Quality::default(),
        };
        tokio::spawn(task.run());
        Ok(Media {
            local,
            sender,
            commands,
            stats,
        })
    }
}

enum Source {
    Prompt(Prompt, usize),
    Ringback(u64),
}

struct Task {
    leg: LegId,
    socket: Arc<UdpSocket>,
    sender: Arc<Sender>,
    events: EventSink,
    inbox: mpsc::UnboundedReceiver<Command>,
    timeout: Duration,
    timed_out: TimedOut,
    stats: Arc<Stats>,
    law: Law,
    remote: Option<SocketAddr>,
    latched: bool,
    playing: Option<Source>,
    peer: Option<Arc<Sender>>,
    tap: Option<(Tap, u8)>,
    last_audio: Option<Instant>,
    started: Instant,
    quality: Quality,
}

impl Task {
    async fn run(mut self) {
        let mut pace = tokio::time::interval(Duration::from_millis(20));
        pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut watch = tokio::time::interval(Duration::from_millis(200));
        watch.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut buf = [0u8; MAX_PACKET];
        loop {
            let generating = self.peer.is_none() && self.remote.is_some();
            tokio::select! {
                command = self.inbox.recv() => match command {
                    None | Some(Command::Stop) => break,
                    Some(command) => self.command(command),
                },
                received = self.socket.recv_from(&mut buf) => {
                    if let Ok((len, from)) = received {
                        self.received(&buf[..len], from);
                    }
                },
                _ = pace.tick(), if generating => self.generate(),
                _ = watch.tick() => {
                    if self.watch() {
                        (self.timed_out)();
                        self.last_audio = None;
                    }
                },
            }
        }
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::Remote(remote, law) => {
                self.remote = remote;
                self.law = law;
                self.latched = false;
                if let Ok(mut state) = self.sender.state.lock() {
                    state.remote = remote;
                    state.law = law;
                }
                self.last_audio.get_or_insert_with(Instant::now);
            }
            Command::Play(Playing::Prompt(prompt)) => {
                self.playing = Some(Source::Prompt(prompt, 0))
            }
            Command::Play(Playing::Ringback) => self.playing = Some(Source::Ringback(0)),
            Command::Bridge(peer) => {
                self.playing = None;
                self.peer = Some(peer);
            }
            Command::Record(tap, channel) => self.tap = Some((tap, channel)),
            Command::Stop => {}
        }
    }

    fn received(&mut self, packet: &[u8], from: SocketAddr) {
        let Some((header, payload)) = rtp::parse(packet) else {
            return;
        };
        let Some(law) = Law::from_payload_type(header.payload_type) else {
            // Telephone events, comfort noise and anything else: not audio we relay.
            return;
        };
        let now = Instant::now();
        self.stats.received.fetch_add(1, Ordering::Relaxed);
        let arrival =
            i64::try_from(now.duration_since(self.started).as_micros() / 125).unwrap_or(0);
        let lost = self.quality.packet(&header, arrival);
        if lost > 0 {
            self.stats.lost.fetch_add(lost, Ordering::Relaxed);
        }
        self.stats
            .jitter_us
            .store(self.quality.jitter_us(), Ordering::Relaxed);
        self.last_audio = Some(now);
        if !self.latched && self.remote.is_some_and(|r| r != from) {
            // Symmetric RTP (RFC 4961): behind NAT the party's packets come from another
            // address than its SDP said; answer where they come from.
            self.remote = Some(from);
            if let Ok(mut state) = self.sender.state.lock() {
                state.remote = Some(from);
            }
        }
        self.latched = true;
        if let Some((tap, channel)) = &self.tap {
            tap.send(*channel, law, payload);
        }
        if let Some(peer) = &self.peer {
            peer.relay(&header, law, payload);
            self.stats.relayed.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn generate(&mut self) {
        let mut frame = [0i16; FRAME as usize];
        let mut finished = false;
        match &mut self.playing {
            Some(Source::Prompt(prompt, at)) => {
                let samples = prompt.samples();
                let end = (*at + FRAME as usize).min(samples.len());
                frame[..end - *at].copy_from_slice(&samples[*at..end]);
                *at = end;
                finished = end >= samples.len();
            }
            Some(Source::Ringback(n)) => {
                for sample in frame.iter_mut() {
                    *sample = ringback(*n);
                    *n += 1;
                }
            }
            None => {}
        }
        self.sender.send_generated(&frame);
        if finished {
            self.playing = None;
            let _ = self.events.send(Event::PlaybackFinished(self.leg));
        }
    }

    /// Keeps a bridged leg's stream alive while the other party is silent, and tells whether
    /// this party has been silent past the timeout.
    fn watch(&mut self) -> bool {
        if self.peer.is_some() {
            // The other party sends nothing (muted, or discontinuous transmission): a frame of
            // silence every 200 ms keeps this party's NAT binding and media timers happy.
            let quiet = self
                .sender
                .sent_at()
                .is_none_or(|at| at.elapsed() >= Duration::from_millis(200));
            if quiet && self.remote.is_some() {
                self.sender.send_generated(&[0; FRAME as usize]);
            }
        }
        self.last_audio
            .is_some_and(|at| at.elapsed() >= self.timeout)
    }
}

/// Binds RTP sockets in a port range, round robin, even ports only (RFC 3550 §11).
pub struct Ports {
    ip: std::net::IpAddr,
    first: u16,
    count: u32,
    next: AtomicU32,
}

impl Ports {
    /// Ports `first..=last` on `ip`; `first = 0` lets the system choose.
    pub fn new(ip: std::net::IpAddr, first: u16, last: u16) -> Self {
        Self {
            ip,
            first,
            count: (u32::from(last.saturating_sub(first)) / 2 + 1).max(1),
            next: AtomicU32::new(0),
        }
    }

    /// A bound socket, or an error when every port of the range is taken.
    pub fn bind(&self) -> std::io::Result<UdpSocket> {
        if self.first == 0 {
            let socket = std::net::UdpSocket::bind((self.ip, 0))?;
            socket.set_nonblocking(true)?;
            return UdpSocket::from_std(socket);
        }
        for _ in 0..self.count {
            let slot = self.next.fetch_add(1, Ordering::Relaxed) % self.count;
            let port = u32::from(self.first) + slot * 2;
            let Ok(port) = u16::try_from(port) else {
                continue;
            };
            if let Ok(socket) = std::net::UdpSocket::bind((self.ip, port)) {
                socket.set_nonblocking(true)?;
                return UdpSocket::from_std(socket);
            }
        }
        Err(std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            "every RTP port of the range is in use",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(seq: u16, timestamp: u32) -> rtp::Header {
        rtp::Header {
            payload_type: 8,
            marker: false,
            seq,
            timestamp,
            ssrc: 9,
        }
    }

    #[test]
    fn a_steady_stream_has_no_jitter_and_no_loss() {
        let mut quality = Quality::default();
        for i in 0..100u16 {
            let lost = quality.packet(&header(i, u32::from(i) * 160), i64::from(i) * 160 + 40);
            assert_eq!(lost, 0);
        }
        assert_eq!(quality.jitter_us(), 0);
    }

    #[test]
    fn gaps_count_as_lost_and_late_packets_as_jitter() {
        let mut quality = Quality::default();
        let mut lost = 0;
        for i in 0..200u16 {
            if i % 10 == 5 {
                continue; // one packet in ten never arrives
            }
            // Every other packet arrives 2 ms (16 samples) late.
            let late = if i % 2 == 0 { 16 } else { 0 };
            lost += quality.packet(&header(i, u32::from(i) * 160), i64::from(i) * 160 + late);
        }
        assert_eq!(lost, 20);
        let jitter = quality.jitter_us();
        assert!((1_000..2_500).contains(&jitter), "{jitter} µs");
        // A duplicate and a reordered packet are not losses.
        assert_eq!(quality.packet(&header(199, 199 * 160), 199 * 160), 0);
        assert_eq!(quality.packet(&header(150, 150 * 160), 199 * 160), 0);
    }
}
