//! Registering with the trunk (RFC 3261 §10), for providers that only take calls from a
//! registered account: REGISTER with digest authentication, renewed before it expires, retried
//! with a pause when the trunk refuses or does not answer.

use super::message::{param, Message};
use super::transport::Protocol;
use super::{digest, new_branch, random_token, Input, Shared, T1, TRANSACTION_TIMEOUT};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How long to wait before trying again after a failure.
const RETRY: Duration = Duration::from_secs(30);

/// Keeps the account registered for as long as the backend runs.
pub(super) async fn run(
    shared: Arc<Shared>,
    mut inbox: mpsc::UnboundedReceiver<Input>,
    call_id: String,
) {
    let mut cseq = 0u32;
    loop {
        let outcome = register(&shared, &mut inbox, &call_id, &mut cseq).await;
        let pause = match outcome {
            Ok(granted) => {
                shared.registered.store(true, Ordering::Relaxed);
                tracing::info!(seconds = granted.as_secs(), "registered with the SIP trunk");
                // Renew at 80 % of what the trunk granted, and not more often than every 10 s.
                granted.mul_f64(0.8).max(Duration::from_secs(10))
            }
            Err(why) => {
                shared.registered.store(false, Ordering::Relaxed);
                tracing::warn!(
                    why,
                    "could not register with the SIP trunk; retrying in 30 s"
                );
                RETRY
            }
        };
        // Late responses and retransmissions are drained while waiting.
        let until = Instant::now() + pause;
        while let Ok(Some(_)) = tokio::time::timeout_at(until, inbox.recv()).await {}
        if inbox.is_closed() {
            return;
        }
    }
}

/// One registration: REGISTER, answer one challenge, read the expiry granted.
async fn register(
    shared: &Shared,
    inbox: &mut mpsc::UnboundedReceiver<Input>,
    call_id: &str,
    cseq: &mut u32,
) -> Result<Duration, String> {
    let config = &shared.config;
    let user = config.username.clone().unwrap_or_else(|| "pol".into());
    let host = config.trunk.hostport();
    let uri = format!("sip:{host}");
    let tag = random_token(10);
    let mut authorization: Option<(&'static str, String)> = None;
    for _attempt in 0..3 {
        *cseq += 1;
        let mut request = Message::request("REGISTER", uri.clone());
        request
            .push("Via", shared.via(&new_branch()))
            .push("Max-Forwards", "70")
            .push("From", format!("<sip:{user}@{host}>;tag={tag}"))
            .push("To", format!("<sip:{user}@{host}>"))
            .push("Call-ID", call_id.to_owned())
            .push("CSeq", format!("{cseq} REGISTER"))
            .push("Contact", format!("<sip:{user}@{}>", shared.advertised))
            .push("Expires", config.register_expires.as_secs().to_string())
            .push("User-Agent", "Pol");
        if let Some((name, value)) = authorization.take() {
            request.push(name, value);
        }
        let response = transact(shared, inbox, &request, *cseq).await?;
        let code = response.code().unwrap_or(0);
        match code {
            200..=299 => {
                // The expiry granted: on our Contact, else the Expires header, else what we asked.
                let granted = response
                    .headers_named("Contact")
                    .find_map(|c| param(c, "expires")?.parse::<u64>().ok())
                    .or_else(|| response.header("Expires")?.trim().parse().ok())
                    .map(Duration::from_secs)
                    .unwrap_or(config.register_expires);
                return Ok(granted);
            }
            401 | 407 => {
                let (challenge_header, answer_header) = if code == 401 {
                    ("WWW-Authenticate", "Authorization")
                } else {
                    ("Proxy-Authenticate", "Proxy-Authorization")
                };
                let challenge = response
                    .header(challenge_header)
                    .and_then(digest::Challenge::parse)
                    .ok_or_else(|| format!("{code} without a digest challenge we can answer"))?;
                let password = config.password.as_ref().map_or("", |p| p.0.as_str());
                let answer =
                    challenge.answer(&user, password, "REGISTER", &uri, &random_token(12), 1);
                authorization = Some((answer_header, answer));
            }
            423 => {
                return Err(
                    "the trunk wants a longer registration (423); raise POL_SIP_REGISTER_EXPIRES"
                        .into(),
                )
            }
            _ => return Err(format!("the trunk answered {code}")),
        }
    }
    Err("the trunk kept challenging: check POL_SIP_USERNAME and POL_SIP_PASSWORD".into())
}

/// Sends a request and waits for its final response, retransmitting over UDP.
async fn transact(
    shared: &Shared,
    inbox: &mut mpsc::UnboundedReceiver<Input>,
    request: &Message,
    cseq: u32,
) -> Result<Message, String> {
    let udp = shared.transport.protocol() == Protocol::Udp;
    let give_up = Instant::now() + TRANSACTION_TIMEOUT;
    let mut interval = T1;
    let mut next = Instant::now();
    loop {
        if Instant::now() >= next {
            shared
                .transport
                .send(request)
                .await
                .map_err(|e| format!("cannot reach the trunk: {e}"))?;
            next = if udp {
                Instant::now() + interval
            } else {
                give_up
            };
            interval = (interval * 2).min(Duration::from_secs(4));
        }
        match tokio::time::timeout_at(next.min(give_up), inbox.recv()).await {
            Ok(Some(Input::Sip(message, _))) => {
                let ours = message.cseq() == Some((cseq, "REGISTER"));
                if ours && message.code().is_some_and(|c| c >= 200) {
                    return Ok(message);
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => return Err("the backend stopped".into()),
            Err(_) if Instant::now() >= give_up => return Err("the trunk did not answer".into()),
            Err(_) => {}
        }
    }
}
