//! Load benchmark of the SIP backend: how many bridged and recorded calls one machine holds.
//!
//! SIPp plays the trunk on loopback and answers every leg with a looping tone, so RTP flows into
//! both legs of every call at 50 packets a second; the backend relays each leg's audio into the
//! other (and back out to SIPp) and records both into a file per call. For each step the
//! benchmark sets up N calls, lets them run, and reads the backend's own receive-side counters:
//! packets lost (sequence gaps, e.g. socket buffers overflowing because the relay fell behind),
//! interarrival jitter (RFC 3550), CPU and memory of this process and of SIPp. It stops at the
//! first step past 0.5 % loss or 5 ms of jitter above the first step's.
//!
//! `ulimit -n 65536; cargo bench -p telephony --bench relay` (needs `sipp`). Steps and the
//! measuring window: `POL_BENCH_STEPS=100,200,400` and `POL_BENCH_SECONDS=10`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use telephony::g711::Law;
use telephony::sip::{SipConfig, SipTelephony, Trunk};
use telephony::{Dial, Event, LegId, Telephony};
use tokio::sync::mpsc;

const SCENARIO: &str = r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="answer with a looping tone">
<recv request="INVITE"/>
<send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]t[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:phone@[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

v=0
o=trunk 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8
a=rtpmap:8 PCMA/8000
]]></send>
<recv request="ACK"/>
<nop><action><exec rtp_stream="tone.raw,-1,8"/></action></nop>
<recv request="BYE"/>
<send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
</scenario>
"#;

/// CPU seconds (user + system) a process has used, from /proc.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Fields 14 and 15 of the line, counted after the command name.
    (ticks(11) + ticks(12)) / 100.0
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

struct Call {
    legs: [LegId; 2],
    events: mpsc::UnboundedReceiver<Event>,
}

struct Row {
    calls: usize,
    /// Packets received per second, as a share of the 50 a second each leg's phone should send.
    inbound_percent: f64,
    packets_per_second: f64,
    setup_per_second: f64,
    loss_percent: f64,
    jitter_mean_ms: f64,
    jitter_p99_ms: f64,
    cpu_percent: f64,
    cpu_per_call: f64,
    sipp_cpu_percent: f64,
    rss_per_call_kib: f64,
    encode_seconds: f64,
}

async fn answered(call: &mut Call) -> bool {
    let mut up = [false, false];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !(up[0] && up[1]) {
        match tokio::time::timeout_at(deadline, call.events.recv()).await {
            Ok(Some(Event::Answered(leg))) => {
                if let Some(i) = call.legs.iter().position(|l| *l == leg) {
                    up[i] = true;
                }
            }
            Ok(Some(Event::Failed { .. } | Event::HungUp { .. })) | Ok(None) | Err(_) => {
                return false
            }
            Ok(Some(_)) => {}
        }
    }
    true
}

async fn step(sip: &SipTelephony, n: usize, seconds: u64, sipp_pid: u32, dir: &Path) -> Row {
    let dial = |number: &str| Dial {
        number: number.into(),
        caller_id: None,
        ring_timeout: Duration::from_secs(30),
    };
    let me = std::process::id();
    let rss_before = rss_kib(me);
    // Set-up: every call's two legs, answered, bridged and recorded.
    let started = Instant::now();
    let mut calls = Vec::with_capacity(n);
    let mut recordings = Vec::with_capacity(n);
    let (rec_tx, mut rec_rx) = mpsc::unbounded_channel();
    for i in 0..n {
        let (tx, events) = mpsc::unbounded_channel();
        let a = sip
            .place(dial(&format!("+98912{:07}", i * 2)), tx.clone())
            .await
            .unwrap();
        let b = sip
            .place(dial(&format!("+98912{:07}", i * 2 + 1)), tx)
            .await
            .unwrap();
        calls.push(Call {
            legs: [a, b],
            events,
        });
    }
    let mut up = 0;
    for (i, call) in calls.iter_mut().enumerate() {
        if answered(call).await {
            up += 1;
            sip.bridge(call.legs[0], call.legs[1]).await.unwrap();
            let path = dir.join(format!("call-{i}.wav"));
            recordings.push(
                sip.start_recording(call.legs[0], path, rec_tx.clone())
                    .await
                    .unwrap(),
            );
        }
    }
    let setup = started.elapsed();
    assert_eq!(up, n, "SIPp answered {up} of {n} calls");
    // Let the streams settle, then measure a window.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let stats: Vec<_> = calls
        .iter()
        .flat_map(|c| c.legs)
        .filter_map(|leg| sip.leg_stats(leg))
        .collect();
    let snapshot = |s: &telephony::sip::media::Stats| {
        (
            s.received.load(Ordering::Relaxed),
            s.lost.load(Ordering::Relaxed),
        )
    };
    let before: Vec<_> = stats.iter().map(|s| snapshot(s)).collect();
    let (cpu0, sipp0, t0) = (cpu_seconds(me), cpu_seconds(sipp_pid), Instant::now());
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let wall = t0.elapsed().as_secs_f64();
    let (cpu1, sipp1) = (cpu_seconds(me), cpu_seconds(sipp_pid));
    let after: Vec<_> = stats.iter().map(|s| snapshot(s)).collect();
    let rss_after = rss_kib(me);
    let (mut received, mut lost) = (0u64, 0u64);
    for (b, a) in before.iter().zip(&after) {
        received += u64::from(a.0 - b.0);
        lost += u64::from(a.1 - b.1);
    }
    let mut jitter: Vec<f64> = stats
        .iter()
        .map(|s| f64::from(s.jitter_us.load(Ordering::Relaxed)) / 1000.0)
        .collect();
    jitter.sort_by(|a, b| a.total_cmp(b));
    let p99 = jitter[(jitter.len() * 99 / 100).min(jitter.len() - 1)];
    let mean = jitter.iter().sum::<f64>() / jitter.len() as f64;
    // Tear down and wait for the recordings to be encoded.
    for call in &calls {
        for leg in call.legs {
            let _ = sip.hang_up(leg).await;
        }
    }
    let encode_start = Instant::now();
    for recording in &recordings {
        let _ = sip.stop_recording(*recording).await;
    }
    let mut ready = 0;
    while ready < recordings.len() {
        match tokio::time::timeout(Duration::from_secs(300), rec_rx.recv()).await {
            Ok(Some(Event::RecordingReady(_, info))) => {
                let _ = std::fs::remove_file(info.path);
                ready += 1;
            }
            Ok(Some(Event::RecordingFailed(_, why))) => panic!("recording failed: {why}"),
            _ => panic!("recordings never finished"),
        }
    }
    let encode_seconds = encode_start.elapsed().as_secs_f64();
    // Give the legs time to say goodbye before the next step.
    while sip.live_legs() > 0 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let cpu = (cpu1 - cpu0) / wall * 100.0;
    let packets_per_second = received as f64 / wall;
    Row {
        calls: n,
        inbound_percent: packets_per_second * 100.0 / (n as f64 * 2.0 * 50.0),
        packets_per_second,
        setup_per_second: n as f64 / setup.as_secs_f64(),
        loss_percent: lost as f64 * 100.0 / (received + lost).max(1) as f64,
        jitter_mean_ms: mean,
        jitter_p99_ms: p99,
        cpu_percent: cpu,
        cpu_per_call: cpu / n as f64,
        sipp_cpu_percent: (sipp1 - sipp0) / wall * 100.0,
        rss_per_call_kib: rss_after.saturating_sub(rss_before) as f64 / n as f64,
        encode_seconds,
    }
}

fn main() {
    let steps: Vec<usize> = std::env::var("POL_BENCH_STEPS")
        .unwrap_or_else(|_| "50,100,200,300,400,500,600,700,800,1000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let seconds: u64 = std::env::var("POL_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("uas.xml"), SCENARIO).unwrap();
    let tone: Vec<u8> = (0..8000)
        .map(|i| {
            Law::A
                .encode(((i as f32 * 440.0 / 8000.0 * std::f32::consts::TAU).sin() * 8000.0) as i16)
        })
        .collect();
    std::fs::write(dir.path().join("tone.raw"), tone).unwrap();
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let media = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut sipp = Command::new("sipp")
        .current_dir(dir.path())
        .args([
            "-sf",
            "uas.xml",
            "-i",
            "127.0.0.1",
            "-mi",
            "127.0.0.1",
            "-nostdin",
        ])
        .args(["-p", &port.to_string(), "-mp", &media.to_string()])
        .args(["-rtp_threadtasks", "100", "-max_socket", "60000"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sipp must be installed (Debian's sip-tester)");
    std::thread::sleep(Duration::from_millis(500));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let rows = runtime.block_on(async {
        let mut config =
            SipConfig::new(Trunk::parse(&format!("sip:127.0.0.1:{port}")).unwrap());
        config.bind = "127.0.0.1:0".parse().unwrap();
        config.rtp_ports = (0, 0);
        config.max_calls = 100_000;
        config.media_timeout = Duration::from_secs(120);
        let sip = SipTelephony::start(config).await.unwrap();
        let mut rows: Vec<Row> = Vec::new();
        for n in steps {
            let row = step(&sip, n, seconds, sipp.id(), dir.path()).await;
            eprintln!(
                "{:>5} calls: {:.0} packets/s in ({:.1} % of 50 a leg), loss {:.3} %, jitter mean {:.2} ms p99 {:.2} ms, CPU {:.0} % ({:.3} % per call), SIPp CPU {:.0} %, {:.0} KiB per call, set-up {:.0} calls/s, encoding {:.1} s",
                row.calls, row.packets_per_second, row.inbound_percent, row.loss_percent, row.jitter_mean_ms, row.jitter_p99_ms, row.cpu_percent,
                row.cpu_per_call, row.sipp_cpu_percent, row.rss_per_call_kib, row.setup_per_second,
                row.encode_seconds
            );
            let baseline = rows.first().map_or(row.jitter_p99_ms, |r| r.jitter_p99_ms);
            let over = row.loss_percent > 0.5 || row.jitter_p99_ms - baseline > 5.0;
            rows.push(row);
            if over {
                break;
            }
        }
        rows
    });
    let _ = sipp.kill();
    let _ = sipp.wait();
    println!("| calls | packets in / s (of 50 per leg) | loss | jitter mean / p99 | Pol CPU (of one core) | per call | SIPp CPU | memory per call | set-up | encoding all recordings |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in rows {
        println!(
            "| {} | {:.0} ({:.1} %) | {:.3} % | {:.2} / {:.2} ms | {:.0} % | {:.3} % | {:.0} % | {:.0} KiB | {:.0} calls/s | {:.1} s |",
            r.calls, r.packets_per_second, r.inbound_percent, r.loss_percent, r.jitter_mean_ms, r.jitter_p99_ms, r.cpu_percent, r.cpu_per_call,
            r.sipp_cpu_percent, r.rss_per_call_kib, r.setup_per_second, r.encode_seconds
        );
    }
}
