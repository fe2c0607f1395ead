//! Real calls through the SIP backend, with SIPp playing the trunk and both phones on loopback:
//! the call record (status, causes, SIP codes, times) and the recording's channels are checked.

use crate::helpers::{spawn_app_with, start_pol, Backend, TestApp};
use app::backend::config::TelephonyConfig;
use serde_json::{json, Value};
use std::f32::consts::TAU;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use telephony::audio::tone_power;
use telephony::g711::Law;
use telephony::sip::{Password, SipConfig, Trunk};

const PASSENGER: &str = "09120000111";
const DRIVER: &str = "09120000222";

/// Runs a test once on SQLite and once on PostgreSQL, each with its own SIPp.
macro_rules! on_both {
    ($($test:ident),* $(,)?) => {
        $(
            mod $test {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_sqlite() {
                    super::$test($crate::helpers::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_postgres() {
                    super::$test($crate::helpers::Backend::Postgres).await
                }
            }
        )*
    };
}

on_both!(
    both_parties_answer_and_each_channel_carries_its_own_party,
    a_busy_first_party_ends_the_call_before_the_second_is_dialled,
    a_second_party_who_never_answers_is_cancelled_at_the_ring_timeout,
    a_407_challenge_is_answered_and_the_far_end_hangs_up_first,
    a_pcmu_only_trunk_gets_pcmu_and_the_recording_still_has_both_parties,
    a_party_whose_audio_stops_is_hung_up_for_media_timeout,
    the_welcome_message_and_ringback_reach_the_first_party,
    calls_work_over_tcp_too,
    an_api_hangup_sends_bye_to_both_parties,
    the_account_registers_with_the_trunk_before_calling,
    a_crash_mid_call_keeps_the_recording_up_to_the_crash,
);

/// What one phone does when its INVITE arrives.
#[derive(Clone, Copy)]
enum Phone {
    /// 486 Busy Here.
    Busy,
    /// Rings until cancelled (then 487).
    NeverAnswers,
    /// Rings for `ring_ms`, answers, streams `tone` (a raw G.711 file name, looped or once),
    /// then waits for our BYE or sends its own after `hangup_ms`.
    Answers {
        ring_ms: u32,
        tone: Option<(&'static str, bool)>,
        hangup_ms: Option<u32>,
    },
}

/// A SIPp trunk scenario: each INVITE is one phone, told apart by the dialled number.
struct Trunkside {
    challenge: bool,
    /// Expect (and verify) a REGISTER before the calls.
    register: bool,
    /// The caller ID both INVITEs must carry in From and P-Asserted-Identity.
    caller: Option<&'static str>,
    pcmu: bool,
    first: Phone,
    second: Phone,
}

impl Trunkside {
    fn xml(&self) -> String {
        let mut x = String::from(
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?>\n<scenario name=\"pol trunk\">\n",
        );
        let capture = format!(
            "<action>\
               <ereg regexp=\"INVITE sip:{PASSENGER}@\" search_in=\"msg\" check_it=\"false\" assign_to=\"first\"/>\
               <ereg regexp=\"([0-9]+) INVITE\" search_in=\"hdr\" header=\"CSeq:\" check_it=\"true\" assign_to=\"junk1,invcseq\"/>\
               <ereg regexp=\".*\" search_in=\"hdr\" header=\"From:\" check_it=\"true\" assign_to=\"fromhdr\"/>\
               <ereg regexp=\"&lt;(sip:[^&gt;]*)&gt;\" search_in=\"hdr\" header=\"Contact:\" check_it=\"true\" assign_to=\"junk2,contact\"/>\
             </action>"
        );
        let capture = match self.caller {
            Some(number) => capture.replace(
                "</action>",
                &format!(
                    "<ereg regexp=\"sip:{number}@\" search_in=\"hdr\" header=\"From:\" check_it=\"true\" assign_to=\"from_id\"/>\
                     <ereg regexp=\"sip:{number}@\" search_in=\"hdr\" header=\"P-Asserted-Identity:\" check_it=\"true\" assign_to=\"pai_id\"/></action>"
                ),
            ),
            None => capture,
        };
        if self.register {
            x += "<recv request=\"REGISTER\" optional=\"true\" next=\"12\"/>\n";
        }
        x += &format!("<recv request=\"INVITE\">{capture}</recv>\n");
        if self.challenge {
            // The second phone's trunk asks with 401, which SIPp verifies cryptographically; the
            // first phone's asks with 407 (what proxies send), whose answer SIPp can only check
            // for form: user, realm, our nonce back, the request URI and a 32-digit response.
            x += "<nop hide=\"true\" test=\"first\" next=\"5\"/>\n";
            x += &response(
                "401 Unauthorized",
                "WWW-Authenticate: Digest realm=\"pol.test\", nonce=\"n[call_number]x[pid]\", qop=\"auth\"\n",
            );
            x += "<recv request=\"ACK\"/>\n";
            x += &format!(
                "<recv request=\"INVITE\">{}</recv>\n",
                capture.replace(
                    "<action>",
                    "<action><verifyauth assign_to=\"authok\" username=\"pol\" password=\"s3cret\"/>"
                )
            );
            x += "<nop hide=\"true\" test=\"authok\" next=\"3\"/>\n";
            x += &response("403 Forbidden", "");
            x += "<recv request=\"ACK\" next=\"19\"/>\n<label id=\"5\"/>\n";
            x += &response(
                "407 Proxy Authentication Required",
                "Proxy-Authenticate: Digest realm=\"pol.test\", nonce=\"n[call_number]x[pid]\"\n",
            );
            x += "<recv request=\"ACK\"/>\n";
            x += &format!(
                "<recv request=\"INVITE\">{}</recv>\n",
                capture.replace(
                    "<action>",
                    "<action><ereg regexp=\"Digest username=&quot;pol&quot;, realm=&quot;pol.test&quot;, nonce=&quot;n[0-9]+x[0-9]+&quot;, uri=&quot;sip:09120000111@127.0.0.1:[0-9]+&quot;, response=&quot;[0-9a-f]{32}&quot;\" search_in=\"hdr\" header=\"Proxy-Authorization:\" check_it=\"true\" assign_to=\"pauth\"/>"
                )
            );
            x += "<label id=\"3\"/>\n";
        }
        // SIPp refuses variables that are set but never used; every phone uses a different few.
        let pauth = if self.challenge { "[$pauth]" } else { "" };
        let caller = if self.caller.is_some() {
            "[$from_id][$pai_id]"
        } else {
            ""
        };
        x += &format!("<nop hide=\"true\"><action><log message=\"[$junk1][$junk2][$fromhdr][$contact][$invcseq]{pauth}{caller}\"/></action></nop>\n");
        x += "<nop hide=\"true\" test=\"first\" next=\"10\"/>\n";
        x += &self.phone(self.second);
        x += "<nop hide=\"true\" next=\"19\"/>\n<label id=\"10\"/>\n";
        x += &self.phone(self.first);
        if self.register {
            // A REGISTER: challenged with 401, the answer verified, then 200; a bad answer
            // fails the SIPp call (a wait that times out), so SIPp exits 1.
            x += "<nop hide=\"true\" next=\"19\"/>\n<label id=\"12\"/>\n";
            x += &response(
                "401 Unauthorized",
                "WWW-Authenticate: Digest realm=\"pol.test\", nonce=\"r[call_number]x[pid]\", qop=\"auth\"\n",
            );
            x += "<recv request=\"REGISTER\"><action><verifyauth assign_to=\"regok\" username=\"pol\" password=\"s3cret\"/></action></recv>\n";
            x += "<nop hide=\"true\" test=\"regok\" next=\"13\"/>\n";
            x += &response("403 Forbidden", "");
            x += "<recv request=\"NEVER\" timeout=\"200\"/>\n<label id=\"13\"/>\n";
            x += &response("200 OK", "Expires: 3600\n");
        }
        x += "<label id=\"19\"/>\n</scenario>\n";
        x
    }

    fn phone(&self, phone: Phone) -> String {
        let mut x = String::new();
        match phone {
            Phone::Busy => {
                x += &response("486 Busy Here", "");
                x += "<recv request=\"ACK\"/>\n";
            }
            Phone::NeverAnswers => {
                x += &response("180 Ringing", "");
                x += "<recv request=\"CANCEL\"/>\n";
                x += &response("200 OK", "");
                x += &raw_response("487 Request Terminated", "CSeq: [$invcseq] INVITE\n", "");
                x += "<recv request=\"ACK\"/>\n";
            }
            Phone::Answers {
                ring_ms,
                tone,
                hangup_ms,
            } => {
                x += &response("180 Ringing", "");
                x += &format!("<pause milliseconds=\"{ring_ms}\"/>\n");
                let (pt, name) = if self.pcmu { (0, "PCMU") } else { (8, "PCMA") };
                let sdp = format!(
                    "v=0\no=trunk 1 1 IN IP[local_ip_type] [local_ip]\ns=-\nc=IN IP[media_ip_type] [media_ip]\nt=0 0\nm=audio [media_port] RTP/AVP {pt}\na=rtpmap:{pt} {name}/8000\n"
                );
                x += &raw_response(
                    "200 OK",
                    "CSeq: [$invcseq] INVITE\nContent-Type: application/sdp\n",
                    &sdp,
                );
                x += "<recv request=\"ACK\"/>\n";
                if let Some((file, looped)) = tone {
                    let loops = if looped { -1 } else { 1 };
                    x += &format!(
                        "<nop><action><exec rtp_stream=\"{file},{loops},{pt}\"/></action></nop>\n"
                    );
                }
                match hangup_ms {
                    None => {
                        x += "<recv request=\"BYE\"/>\n";
                        x += &response("200 OK", "");
                    }
                    Some(ms) => {
                        x += &format!("<pause milliseconds=\"{ms}\"/>\n");
                        x += "<send retrans=\"500\"><![CDATA[\n\
BYE [$contact] SIP/2.0\n\
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n\
From: <sip:phone@[local_ip]>;tag=[pid]t[call_number]\n\
To: [$fromhdr]\n\
Call-ID: [call_id]\n\
CSeq: 1 BYE\n\
Max-Forwards: 70\n\
Content-Length: 0\n\n]]></send>\n";
                        x += "<recv response=\"200\"/>\n";
                    }
                }
            }
        }
        x
    }
}

/// A response to the last request, with our To tag.
fn response(status: &str, extra: &str) -> String {
    raw_response(status, &format!("[last_CSeq:]\n{extra}"), "")
}

fn raw_response(status: &str, headers: &str, body: &str) -> String {
    let length = if body.is_empty() {
        "Content-Length: 0".to_owned()
    } else {
        "Content-Length: [len]".to_owned()
    };
    format!(
        "<send><![CDATA[\nSIP/2.0 {status}\n[last_Via:]\n[last_From:]\n[last_To:];tag=[pid]t[call_number]\n[last_Call-ID:]\n{headers}Contact: <sip:phone@[local_ip]:[local_port];transport=[transport]>\n{length}\n\n{body}]]></send>\n"
    )
}

/// A running SIPp, killed when dropped.
struct Sipp {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Sipp {
    /// Starts SIPp as the trunk for `calls` INVITEs (legs).
    async fn start(dir: &Path, scenario: &Trunkside, calls: u32, echo: bool, tcp: bool) -> Sipp {
        let port = free_port(tcp);
        let media = free_port(false);
        std::fs::write(dir.join("trunk.xml"), scenario.xml()).unwrap();
        for (name, freq, law) in [
            ("tone440a.raw", 440.0, Law::A),
            ("tone1000a.raw", 1000.0, Law::A),
            ("tone440u.raw", 440.0, Law::Mu),
            ("tone1000u.raw", 1000.0, Law::Mu),
        ] {
            std::fs::write(dir.join(name), tone(freq, law, 8000)).unwrap();
        }
        let mut command = Command::new("sipp");
        command
            .current_dir(dir)
            .args(["-sf", "trunk.xml", "-i", "127.0.0.1", "-mi", "127.0.0.1"])
            .args(["-p", &port.to_string(), "-mp", &media.to_string()])
            .args(["-m", &calls.to_string(), "-nostdin", "-timeout", "60s"])
            .args(["-trace_err", "-error_file", "errors.log"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(dir.join("stderr.log")).unwrap(),
            ));
        if echo {
            command.arg("-rtp_echo");
        }
        if tcp {
            command.args(["-t", "t1"]);
        }
        let child = command
            .spawn()
            .expect("SIPp (Debian's sip-tester) must be installed for the SIP tests");
        // SIPp binds its ports within a few milliseconds of starting.
        tokio::time::sleep(Duration::from_millis(500)).await;
        Sipp {
            child,
            port,
            dir: dir.to_owned(),
        }
    }

    /// Waits for SIPp to finish its calls; it exits 0 only if every call went as scripted.
    async fn finished(mut self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let errors =
                    std::fs::read_to_string(self.dir.join("errors.log")).unwrap_or_default();
                let stderr =
                    std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default();
                assert!(
                    status.success(),
                    "SIPp saw a call go off script ({status}):\n{errors}\n{stderr}"
                );
                return;
            }
            assert!(std::time::Instant::now() < deadline, "SIPp never finished");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Sipp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port(tcp: bool) -> u16 {
    if tcp {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    } else {
        std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }
}

/// `samples` of a sine at `freq` as raw G.711, what SIPp streams.
fn tone(freq: f32, law: Law, samples: usize) -> Vec<u8> {
    (0..samples)
        .map(|i| law.encode(((TAU * freq * i as f32 / 8000.0).sin() * 10000.0) as i16))
        .collect()
}

/// The app, with the SIP backend pointed at `sipp`.
async fn app_for(
    backend: Backend,
    sipp: &Sipp,
    tcp: bool,
    tune: impl FnOnce(&mut SipConfig),
) -> TestApp {
    let transport = if tcp { "tcp" } else { "udp" };
    let mut sip = SipConfig::new(
        Trunk::parse(&format!(
            "sip:127.0.0.1:{};transport={transport}",
            sipp.port
        ))
        .unwrap(),
    );
    sip.bind = "127.0.0.1:0".parse().unwrap();
    sip.rtp_ports = (0, 0);
    sip.username = Some("pol".into());
    sip.password = Some(Password("s3cret".into()));
    tune(&mut sip);
    spawn_app_with(backend, move |config| {
        config.telephony = TelephonyConfig::Sip(Box::new(sip));
    })
    .await
}

fn leg<'a>(call: &'a Value, position: &str) -> &'a Value {
    call["legs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["position"] == position)
        .unwrap_or_else(|| panic!("no {position} leg in {call}"))
}

/// The recording's left and right channels.
async fn channels(api: &crate::helpers::Api, call: &Value) -> (Vec<i16>, Vec<i16>) {
    assert_eq!(call["recording"]["format"], "audio/mpeg", "{call}");
    let id = call["id"].as_str().unwrap();
    let answer = api.get(&format!("/api/v1/calls/{id}/recording")).await;
    assert_eq!(answer.status, reqwest::StatusCode::OK);
    decode_stereo(&answer.bytes)
}

/// Decodes an MP3 into its two channels (symphonia, as the welcome decoder does).
fn decode_stereo(bytes: &[u8]) -> (Vec<i16>, Vec<i16>) {
    use symphonia::core::audio::SampleBuffer;
    use symphonia::core::codecs::DecoderOptions;
    use symphonia::core::formats::FormatOptions;
    use symphonia::core::io::MediaSourceStream;
    use symphonia::core::meta::MetadataOptions;
    use symphonia::core::probe::Hint;
    let source = MediaSourceStream::new(
        Box::new(std::io::Cursor::new(bytes.to_vec())),
        Default::default(),
    );
    let mut hint = Hint::new();
    hint.with_extension("mp3");
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            source,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .unwrap();
    let mut format = probed.format;
    let track = format.default_track().unwrap().clone();
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .unwrap();
    let (mut left, mut right) = (Vec::new(), Vec::new());
    while let Ok(packet) = format.next_packet() {
        let Ok(decoded) = decoder.decode(&packet) else {
            continue;
        };
        let mut buffer = SampleBuffer::<i16>::new(decoded.capacity() as u64, *decoded.spec());
        buffer.copy_interleaved_ref(decoded);
        for pair in buffer.samples().chunks_exact(2) {
            left.push(pair[0]);
            right.push(pair[1]);
        }
    }
    (left, right)
}

/// Whether `freq` dominates `other` in `samples` by at least 20 dB.
fn dominates(samples: &[i16], freq: f32, other: f32) -> bool {
    tone_power(samples, freq) > 100.0 * tone_power(samples, other).max(1e-12)
}

fn call_request(extra: Value) -> Value {
    let mut body = json!({
        "passenger": PASSENGER,
        "driver": DRIVER,
        "first": "passenger",
        "welcome": false,
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

/// A phone that answers after `ring_ms` and streams `tone` until we hang up.
fn talker(ring_ms: u32, tone: &'static str) -> Phone {
    Phone::Answers {
        ring_ms,
        tone: Some((tone, true)),
        hangup_ms: None,
    }
}

impl Trunkside {
    fn new(first: Phone, second: Phone) -> Self {
        Self {
            challenge: false,
            register: false,
            caller: None,
            pcmu: false,
            first,
            second,
        }
    }
}

#[derive(Default)]
struct Options {
    /// Phones send back what they receive.
    echo: bool,
    /// The backend registers with the trunk.
    register: bool,
    tcp: bool,
    media_timeout: Option<Duration>,
}

/// SIPp as the trunk, the app pointed at it, and an operator with 10 minutes.
struct Rig {
    sipp: Option<Sipp>,
    port: u16,
    /// The backend's SIP port.
    sip_port: u16,
    app: TestApp,
    api: crate::helpers::Api,
    tenant: i64,
    _dir: tempfile::TempDir,
}

impl Rig {
    async fn start(backend: Backend, trunk: Trunkside, legs: u32, options: Options) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let sipp = Sipp::start(dir.path(), &trunk, legs, options.echo, options.tcp).await;
        let sip_port = free_port(options.tcp);
        let app = app_for(backend, &sipp, options.tcp, |sip| {
            sip.bind = SocketAddr::from(([127, 0, 0, 1], sip_port));
            sip.register = options.register;
            if let Some(timeout) = options.media_timeout {
                sip.media_timeout = timeout;
            }
        })
        .await;
        let (tenant, api) = app.operator("Narenji", 10).await;
        Rig {
            port: sipp.port,
            sip_port,
            sipp: Some(sipp),
            app,
            api,
            tenant,
            _dir: dir,
        }
    }

    /// Places a call (the defaults of [`call_request`] plus `extra`), waits until `done` holds
    /// and SIPp has played its whole script.
    async fn call(&mut self, extra: Value, done: impl Fn(&Value) -> bool) -> Value {
        let created = self.api.call(call_request(extra)).await;
        let call = self.api.until(created["id"].as_str().unwrap(), done).await;
        if let Some(sipp) = self.sipp.take() {
            sipp.finished().await;
        }
        call
    }

    /// Waits for a call placed otherwise to end with its recording, and for SIPp's script.
    async fn call_ended(&mut self, id: &str) -> Value {
        let call = self.api.until(id, completed_with_recording).await;
        if let Some(sipp) = self.sipp.take() {
            sipp.finished().await;
        }
        call
    }

    /// Throws garbage and stray requests at the backend's SIP port: it answers what deserves an
    /// answer (OPTIONS 200, a BYE for no call 481, an INVITE 403) and keeps working.
    async fn survives_junk(&self) {
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let target = ("127.0.0.1", self.sip_port);
        let mut junk: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"\r\n\r\n".to_vec(),
            b"INVITE sip:x SIP/2.0\r\n\r\n".to_vec(),
            vec![0xFF; 1400],
            b"SIP/2.0 200 OK\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: nobody\r\nCSeq: 1 INVITE\r\n\r\n".to_vec(),
        ];
        junk.extend((0..50).map(|i| (0..i * 7).map(|j| (j * 31 + i) as u8).collect()));
        for datagram in &junk {
            socket.send_to(datagram, target).await.unwrap();
        }
        for (method, code) in [("OPTIONS", "200"), ("BYE", "481"), ("INVITE", "403")] {
            let request = format!(
                "{method} sip:pol@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-junk-{method}\r\n\
                 From: <sip:stranger@example.com>;tag=s\r\nTo: <sip:pol@127.0.0.1>\r\nCall-ID: junk-{method}\r\n\
                 CSeq: 1 {method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
                local = socket.local_addr().unwrap()
            );
            socket.send_to(request.as_bytes(), target).await.unwrap();
            let mut buf = [0u8; 2048];
            let (len, _) = tokio::time::timeout(Duration::from_secs(5), socket.recv_from(&mut buf))
                .await
                .expect("the backend answers")
                .unwrap();
            let answer = String::from_utf8_lossy(&buf[..len]);
            assert!(
                answer.starts_with(&format!("SIP/2.0 {code} ")),
                "{method}: {answer}"
            );
            assert!(answer.contains(&format!("Call-ID: junk-{method}")));
        }
    }

    /// The recording's left and right channels.
    async fn channels(&self, call: &Value) -> (Vec<i16>, Vec<i16>) {
        channels(&self.api, call).await
    }
}

fn ended(call: &Value) -> bool {
    !matches!(
        call["status"].as_str(),
        Some("queued" | "ringing" | "in-progress")
    )
}

fn completed_with_recording(call: &Value) -> bool {
    call["status"] == "completed" && !call["recording"].is_null()
}

/// The last `seconds` of conversation, less a little at the very end.
fn last(samples: &[i16], seconds: f32) -> &[i16] {
    let end = samples.len().saturating_sub(800);
    &samples[end.saturating_sub((seconds * 8000.0) as usize)..end]
}

async fn both_parties_answer_and_each_channel_carries_its_own_party(backend: Backend) {
    let mut trunk = Trunkside::new(talker(200, "tone440a.raw"), talker(500, "tone1000a.raw"));
    trunk.caller = Some("02191000000");
    let mut rig = Rig::start(backend, trunk, 2, Options::default()).await;
    // The operator's own line is what both parties see (checked by SIPp in From and PAI).
    rig.app
        .sql_exec(&format!(
            "update tenant set caller_id = '02191000000' where tenant_id = {}",
            rig.tenant
        ))
        .await;
    let call = rig
        .call(json!({ "max_duration": 3 }), completed_with_recording)
        .await;

    assert_eq!(call["end_cause"], "max_duration", "{call}");
    assert_eq!(call["talk_seconds"], 3);
    assert_eq!(call["billed_seconds"], 60);
    assert_eq!(leg(&call, "first")["sip_code"], Value::Null);
    let (left, right) = rig.channels(&call).await;
    // About 0.5 s of ringing plus 3 s of talk.
    assert!(
        (24_000..40_000).contains(&left.len()),
        "{} samples",
        left.len()
    );
    assert!(
        dominates(last(&left, 2.0), 440.0, 1000.0),
        "left is the first party (440 Hz)"
    );
    assert!(
        dominates(last(&right, 2.0), 1000.0, 440.0),
        "right is the second party (1000 Hz)"
    );
    // The right channel is silent until the second party answers.
    assert!(right[..2000].iter().all(|s| s.abs() < 200));
    let bytes = call["recording"]["bytes"].as_i64().unwrap();
    assert!(
        (5_000..20_000).contains(&bytes),
        "about 24 kbit/s: {bytes} bytes"
    );
}

async fn a_busy_first_party_ends_the_call_before_the_second_is_dialled(backend: Backend) {
    let trunk = Trunkside::new(Phone::Busy, Phone::Busy);
    let mut rig = Rig::start(backend, trunk, 1, Options::default()).await;
    rig.survives_junk().await;
    let call = rig.call(json!({}), ended).await;
    assert_eq!(call["status"], "busy", "{call}");
    let first = leg(&call, "first");
    assert_eq!(first["cause"], "busy");
    assert_eq!(first["sip_code"], 486);
    assert_eq!(call["billed_seconds"], 0);
    assert_eq!(
        rig.app.available_seconds(rig.tenant).await,
        600,
        "the hold is released"
    );
}

async fn a_second_party_who_never_answers_is_cancelled_at_the_ring_timeout(backend: Backend) {
    let trunk = Trunkside::new(talker(100, "tone440a.raw"), Phone::NeverAnswers);
    let mut rig = Rig::start(backend, trunk, 2, Options::default()).await;
    let started = std::time::Instant::now();
    let call = rig.call(json!({ "ring_timeout": 5 }), ended).await;
    assert_eq!(call["status"], "no-answer", "{call}");
    let second = leg(&call, "second");
    assert_eq!(second["cause"], "no-answer");
    assert_eq!(second["sip_code"], 487, "our CANCEL ended the INVITE");
    assert!(
        started.elapsed() >= Duration::from_secs(5),
        "it rang the full 5 s"
    );
    assert_eq!(call["billed_seconds"], 0);
}

/// The second phone hangs up after 1.5 s of conversation.
fn hangs_up_first() -> Phone {
    Phone::Answers {
        ring_ms: 100,
        tone: Some(("tone1000a.raw", true)),
        hangup_ms: Some(1500),
    }
}

async fn a_407_challenge_is_answered_and_the_far_end_hangs_up_first(backend: Backend) {
    let mut trunk = Trunkside::new(talker(100, "tone440a.raw"), hangs_up_first());
    trunk.challenge = true;
    let mut rig = Rig::start(backend, trunk, 2, Options::default()).await;
    let call = rig.call(json!({}), completed_with_recording).await;
    assert_eq!(call["end_cause"], "second_party_hung_up", "{call}");
    assert_eq!(leg(&call, "second")["cause"], "hangup");
    let talk = call["talk_seconds"].as_i64().unwrap();
    assert!((1..=3).contains(&talk), "talked about 1.5 s: {talk}");
}

async fn a_pcmu_only_trunk_gets_pcmu_and_the_recording_still_has_both_parties(backend: Backend) {
    let first = Phone::Answers {
        ring_ms: 100,
        tone: Some(("tone1000u.raw", true)),
        hangup_ms: Some(2500),
    };
    let mut trunk = Trunkside::new(first, talker(100, "tone440u.raw"));
    trunk.pcmu = true;
    let mut rig = Rig::start(backend, trunk, 2, Options::default()).await;
    let call = rig.call(json!({}), completed_with_recording).await;
    assert_eq!(call["end_cause"], "first_party_hung_up", "{call}");
    let (left, right) = rig.channels(&call).await;
    assert!(
        dominates(last(&left, 1.2), 1000.0, 440.0),
        "left: the first party's 1000 Hz"
    );
    assert!(
        dominates(last(&right, 1.2), 440.0, 1000.0),
        "right: the second party's 440 Hz"
    );
}

async fn a_party_whose_audio_stops_is_hung_up_for_media_timeout(backend: Backend) {
    // One second of audio, then nothing.
    let first = Phone::Answers {
        ring_ms: 100,
        tone: Some(("tone440a.raw", false)),
        hangup_ms: None,
    };
    let trunk = Trunkside::new(first, talker(100, "tone1000a.raw"));
    let options = Options {
        media_timeout: Some(Duration::from_secs(2)),
        ..Options::default()
    };
    let mut rig = Rig::start(backend, trunk, 2, options).await;
    let call = rig.call(json!({}), ended).await;
    assert_eq!(call["status"], "completed", "{call}");
    assert_eq!(call["end_cause"], "first_party_hung_up");
    assert_eq!(leg(&call, "first")["cause"], "media_timeout");
    let talk = call["talk_seconds"].as_i64().unwrap();
    assert!(
        (1..=5).contains(&talk),
        "hung up about 2 s after the audio stopped: {talk}"
    );
}

async fn the_welcome_message_and_ringback_reach_the_first_party(backend: Backend) {
    // Both phones send back whatever they receive (SIPp's RTP echo), so what the first party
    // heard is in the left channel.
    let silent = |ring_ms| Phone::Answers {
        ring_ms,
        tone: None,
        hangup_ms: None,
    };
    let trunk = Trunkside::new(silent(100), silent(2500));
    let options = Options {
        echo: true,
        ..Options::default()
    };
    let mut rig = Rig::start(backend, trunk, 2, options).await;
    let call = rig
        .call(
            json!({ "welcome": true, "max_duration": 1 }),
            completed_with_recording,
        )
        .await;
    let (left, _) = rig.channels(&call).await;
    // The built-in welcome chime (notes at 659, 784 and 1047 Hz) in the first 1.6 s…
    let chime = &left[..12_800];
    assert!(
        tone_power(chime, 659.25) > 100.0 * tone_power(chime, 425.0),
        "the chime came back"
    );
    // …then the 425 Hz ringback while the second party rings.
    assert!(
        dominates(&left[14_000..20_000], 425.0, 659.25),
        "ringback came back"
    );
}

async fn calls_work_over_tcp_too(backend: Backend) {
    let mut trunk = Trunkside::new(talker(100, "tone440a.raw"), hangs_up_first());
    trunk.challenge = true;
    let options = Options {
        tcp: true,
        ..Options::default()
    };
    let mut rig = Rig::start(backend, trunk, 2, options).await;
    let call = rig.call(json!({}), completed_with_recording).await;
    assert_eq!(call["end_cause"], "second_party_hung_up", "{call}");
    let (left, right) = rig.channels(&call).await;
    assert!(dominates(last(&left, 0.9), 440.0, 1000.0));
    assert!(dominates(last(&right, 0.9), 1000.0, 440.0));
}

async fn an_api_hangup_sends_bye_to_both_parties(backend: Backend) {
    let trunk = Trunkside::new(talker(100, "tone440a.raw"), talker(100, "tone1000a.raw"));
    let mut rig = Rig::start(backend, trunk, 2, Options::default()).await;
    let created = rig.api.call(call_request(json!({}))).await;
    let id = created["id"].as_str().unwrap().to_owned();
    rig.api.until(&id, |c| c["status"] == "in-progress").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let answer = rig
        .api
        .post(&format!("/api/v1/calls/{id}/hangup"), &json!({}))
        .await;
    assert_eq!(answer.status, reqwest::StatusCode::OK, "{:?}", answer.body);
    // SIPp's script ends only when each phone has received our BYE and answered it.
    let call = rig.call_ended(&id).await;
    assert_eq!(call["status"], "completed", "{call}");
    assert_eq!(call["end_cause"], "api_hangup");
    for position in ["first", "second"] {
        assert!(!leg(&call, position)["ended_at"].is_null());
    }
}

async fn the_account_registers_with_the_trunk_before_calling(backend: Backend) {
    let mut trunk = Trunkside::new(Phone::Busy, Phone::Busy);
    trunk.register = true;
    let options = Options {
        register: true,
        ..Options::default()
    };
    // One REGISTER (challenged, verified by SIPp) and one INVITE.
    let mut rig = Rig::start(backend, trunk, 2, options).await;
    let call = rig.call(json!({}), ended).await;
    assert_eq!(call["status"], "busy", "{call}");
}

async fn a_crash_mid_call_keeps_the_recording_up_to_the_crash(backend: Backend) {
    let trunk = Trunkside::new(talker(100, "tone440a.raw"), talker(100, "tone1000a.raw"));
    // The test app only holds the database; the call runs in a separate `pol` process.
    let rig = Rig::start(backend, trunk, 2, Options::default()).await;
    let rtp = 30_000 + 2 * (std::process::id() % 4000) as u16;
    let sip_env = [
        ("POL_TELEPHONY", "sip".to_owned()),
        ("POL_SIP_TRUNK", format!("sip:127.0.0.1:{}", rig.port)),
        ("POL_SIP_BIND", "127.0.0.1:0".to_owned()),
        ("POL_SIP_USERNAME", "pol".to_owned()),
        ("POL_RTP_PORTS", format!("{rtp}-{}", rtp + 100)),
    ];
    let mut first = start_pol(&rig.app, &sip_env).await;
    let there = crate::helpers::Api::new(&first.base, &rig.api.token);
    let placed = there.call(call_request(json!({}))).await;
    let id = placed["id"].as_str().unwrap().to_owned();
    there.until(&id, |c| c["status"] == "in-progress").await;
    // Three seconds of conversation reach the recorder's file (it appends once a second).
    tokio::time::sleep(Duration::from_secs(3)).await;
    first.child.kill().unwrap();
    first.child.wait().unwrap();

    let _second = start_pol(&rig.app, &[]).await;
    let call = rig.api.until(&id, completed_with_recording).await;
    assert_eq!(call["end_cause"], "server_restart", "{call}");
    let (left, right) = rig.channels(&call).await;
    assert!(
        left.len() >= 12_000,
        "at least 1.5 s kept: {} samples",
        left.len()
    );
    assert!(dominates(last(&left, 0.9), 440.0, 1000.0));
    assert!(dominates(last(&right, 0.9), 1000.0, 440.0));
    let raw_left = std::fs::read_dir(rig.app.state.config.data_dir.join("media/recordings"))
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .filter(|f| {
            f.as_ref()
                .unwrap()
                .path()
                .to_string_lossy()
                .ends_with(".alaw.wav")
        })
        .count();
    assert_eq!(raw_left, 0, "the raw file is gone once encoded");
}
