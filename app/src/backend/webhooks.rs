//! Webhooks: events are written to an outbox in the same transaction as the change they report,
//! and a background worker delivers them: signed (`Pol-Signature: t=<unix>,v1=<hex
//! HMAC-SHA256(secret, "<t>.<body>")>`), at least once, in order per call and endpoint, retried
//! with exponential backoff for 24 hours. A 2xx answer within 10 s counts as delivered.

use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde_json::{json, Value};
use sha2::Sha256;
use std::net::IpAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::config::Environment;
use super::db::Tx;
use super::now_ms;
use super::repo::calls::{CallRow, LegRow};
use super::repo::webhooks::{self as repo, Attempt, DeliveryRow};
use super::state::AppState;

/// How long an endpoint has to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Deliveries are retried for this long after they were enqueued.
pub const GIVE_UP_AFTER_MS: i64 = 24 * 3600 * 1000;
/// Characters of an answer kept for the delivery log.
const HEAD: usize = 500;

/// Why a webhook setting or delivery was refused.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// Not an http(s) URL with a host.
    #[error("the webhook URL must be an http(s) URL")]
    InvalidUrl,
    /// Resolves to a loopback, private or link-local address (refused in production).
    #[error("the webhook URL points into a private network")]
    PrivateTarget,
    /// The host does not resolve.
    #[error("the webhook host does not resolve")]
    Unresolvable,
    /// No webhook URL is set.
    #[error("no webhook URL is set")]
    NoEndpoint,
    /// No such delivery in this tenant.
    #[error("not found")]
    NotFound,
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

type HmacSha256 = Hmac<Sha256>;

fn hmac_hex(key: &str, message: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = HmacSha256::new_from_slice(key.as_bytes()) else {
        return String::new();
    };
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The `Pol-Signature` header for `body` sent at `timestamp` (Unix seconds).
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    format!(
        "t={timestamp},v1={}",
        hmac_hex(secret, &format!("{timestamp}.{body}"))
    )
}

/// A fresh signing secret, `whsec_` and 256 random bits.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// A recording URL anyone holding it may fetch until `expires` (Unix seconds), signed with the
/// server's secret.
pub fn signed_recording_url(state: &AppState, public_id: &str, expires: i64) -> String {
    let signature = hmac_hex(
        state.config.secret.expose(),
        &format!("recording.{public_id}.{expires}"),
    );
    format!(
        "{}/api/v1/calls/{public_id}/recording?expires={expires}&signature={signature}",
        state.config.public_url
    )
}

/// Whether a signed recording URL is genuine and unexpired.
pub fn verify_recording_signature(
    state: &AppState,
    public_id: &str,
    expires: i64,
    signature: &str,
) -> bool {
    let expected = hmac_hex(
        state.config.secret.expose(),
        &format!("recording.{public_id}.{expires}"),
    );
    expires * 1000 > now_ms() && super::tokens::constant_time_eq(&expected, signature)
}

fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
                || a == 0
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || v6.to_ipv4_mapped().is_some_and(|v4| is_private(IpAddr::V4(v4)))
        }
    }
}

/// Checks a webhook target: an http(s) URL whose host, in production, resolves only to public
/// addresses (no requests into the operator's or our own network).
pub async fn check_target(url: &str, allow_private: bool) -> Result<(), WebhookError> {
    let uri: http::Uri = url.parse().map_err(|_| WebhookError::InvalidUrl)?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    let host = uri.host().filter(|h| !h.is_empty());
    let (true, Some(host)) = (scheme_ok && url.len() <= 2000, host) else {
        return Err(WebhookError::InvalidUrl);
    };
    if allow_private {
        return Ok(());
    }
    let port = uri
        .port_u16()
        .unwrap_or(if uri.scheme_str() == Some("https") {
            443
        } else {
            80
        });
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<_> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| WebhookError::Unresolvable)?
        .collect();
    if addresses.is_empty() {
        return Err(WebhookError::Unresolvable);
    }
    if addresses.iter().any(|a| is_private(a.ip())) {
        return Err(WebhookError::PrivateTarget);
    }
    Ok(())
}

fn allow_private(state: &AppState) -> bool {
    state.config.env != Environment::Production
}

fn iso(ms: Option<i64>) -> Value {
    super::rfc3339(ms).map_or(Value::Null, Value::String)
}

/// A call as webhooks describe it.
pub fn call_data(call: &CallRow, legs: &[LegRow]) -> Value {
    json!({
        "id": call.public_id,
        "status": call.status,
        "sandbox": call.sandbox,
        "reference": call.reference,
        "passenger": call.passenger,
        "driver": call.driver,
        "first": call.first_party,
        "end_cause": call.end_cause,
        "talk_seconds": call.talk_seconds,
        "billed_seconds": call.billed_seconds,
        "cost": call.cost_rial.map(|r| json!({
            "rial": r,
            "toman": crate::domain::Rial::new(r).toman().normalize().to_string(),
        })),
        "legs": legs.iter().map(|l| json!({
            "position": l.position,
            "party": l.party,
            "number": l.number,
            "answered_at": iso(l.answered_at),
            "ended_at": iso(l.ended_at),
            "cause": l.cause,
            "sip_code": l.sip_code,
        })).collect::<Vec<_>>(),
        "created_at": iso(Some(call.created_at)),
        "ended_at": iso(call.ended_at),
    })
}

/// Puts `event` in the outbox for the tenant's endpoint and the call's own `callback_url`,
/// inside the caller's transaction. Creates the tenant's signing secret if it has none.
pub async fn enqueue_in(
    tx: &mut Tx,
    tenant_id: i64,
    call: Option<(i64, Option<&str>)>,
    event: &str,
    data: Value,
) -> sqlx::Result<()> {
    let Some(endpoint) = repo::endpoint(&mut tx.conn(), tenant_id).await? else {
        return Ok(());
    };
    let mut urls: Vec<&str> = Vec::new();
    if let Some(url) = call.and_then(|(_, url)| url) {
        urls.push(url);
    }
    if let Some(url) = endpoint.webhook_url.as_deref() {
        if !urls.contains(&url) {
            urls.push(url);
        }
    }
    if urls.is_empty() {
        return Ok(());
    }
    let now = now_ms();
    if endpoint.webhook_secret.is_none() {
        repo::set_secret(&mut tx.conn(), tenant_id, &new_secret(), now).await?;
    }
    let mut id = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut id);
    let payload = json!({
        "id": format!("evt_{}", hex::encode(id)),
        "type": event,
        "created_at": iso(Some(now)),
        "data": data,
    })
    .to_string();
    for url in urls {
        repo::enqueue(
            &mut tx.conn(),
            tenant_id,
            call.map(|(id, _)| id),
            event,
            url,
            &payload,
            now,
        )
        .await?;
    }
    Ok(())
}

fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(TIMEOUT)
            // A redirect could lead into a private network past the target check.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("Pol-Webhooks/1")
            .build()
            .unwrap_or_default()
    })
}

/// Delay before retry number `attempts` (1 = after the first failure): `base`, twice that,
/// four times, … capped at an hour (with the default 10 s: 10 s, 20 s, 40 s, …).
pub fn backoff(base: Duration, attempts: i64) -> Duration {
    let exponent = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    base.saturating_mul(1 << exponent)
        .min(Duration::from_secs(3600))
}

async fn attempt(state: &AppState, delivery: &DeliveryRow) -> Result<(), WebhookError> {
    let secret = {
        let mut tx = state.db.read().await?;
        repo::endpoint(&mut tx.conn(), delivery.tenant_id)
            .await?
            .and_then(|e| e.webhook_secret)
            .unwrap_or_default()
    };
    let started = Instant::now();
    let outcome = match check_target(&delivery.url, allow_private(state)).await {
        Err(err) => Err((None, None, err.to_string())),
        Ok(()) => {
            let timestamp = now_ms() / 1000;
            let response = client()
                .post(&delivery.url)
                .header(http::header::CONTENT_TYPE, "application/json")
                .header(
                    "pol-signature",
                    signature(&secret, timestamp, &delivery.payload),
                )
                .header("pol-event", &delivery.event)
                .header("pol-delivery", delivery.webhook_delivery_id.to_string())
                .body(delivery.payload.clone())
                .send()
                .await;
            match response {
                Ok(response) => {
                    let code = i64::from(response.status().as_u16());
                    let success = response.status().is_success();
                    let text = response.text().await.unwrap_or_default();
                    let head: String = text.chars().take(HEAD).collect();
                    if success {
                        Ok((code, head))
                    } else {
                        Err((Some(code), Some(head), format!("HTTP {code}")))
                    }
                }
                Err(err) if err.is_timeout() => Err((None, None, "timed out after 10 s".into())),
                Err(err) if err.is_connect() => Err((None, None, "could not connect".into())),
                Err(_) => Err((None, None, "request failed".into())),
            }
        }
    };
    let response_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let now = now_ms();
    let record = match &outcome {
        Ok((code, head)) => Attempt {
            status: "delivered",
            status_code: Some(*code),
            response_ms,
            response_head: Some(head),
            error: None,
            next_attempt_at: now,
        },
        Err((code, head, error)) => {
            let next = now
                + i64::try_from(
                    backoff(state.config.webhook_backoff, delivery.attempts + 1).as_millis(),
                )
                .unwrap_or(i64::MAX);
            let gave_up = next > delivery.created_at + GIVE_UP_AFTER_MS;
            Attempt {
                status: if gave_up { "failed" } else { "pending" },
                status_code: *code,
                response_ms,
                response_head: head.as_deref(),
                error: Some(error),
                next_attempt_at: next,
            }
        }
    };
    let mut tx = state.db.begin().await?;
    repo::record(&mut tx.conn(), delivery.webhook_delivery_id, &record, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Sends what is due; returns how many attempts were made.
pub async fn deliver_due(state: &AppState) -> Result<usize, WebhookError> {
    let now = now_ms();
    let due = {
        let mut tx = state.db.read().await?;
        repo::due(&mut tx.conn(), now, 20).await?
    };
    let mut claimed = Vec::new();
    if !due.is_empty() {
        // Lease them past the timeout so another process does not send them too.
        let until = now + 60_000;
        let mut tx = state.db.begin().await?;
        for delivery in due {
            if repo::claim(
                &mut tx.conn(),
                delivery.webhook_delivery_id,
                delivery.next_attempt_at,
                until,
            )
            .await?
            {
                claimed.push(delivery);
            }
        }
        tx.commit().await?;
    }
    let attempts = claimed.len();
    let results = futures_util::future::join_all(claimed.iter().map(|d| attempt(state, d))).await;
    for result in results {
        result?;
    }
    Ok(attempts)
}

/// The delivery worker: runs until the process stops; deliveries survive restarts in the outbox.
pub async fn run(state: AppState) {
    loop {
        let pause = match deliver_due(&state).await {
            Ok(0) => Duration::from_millis(500),
            Ok(_) => Duration::from_millis(20),
            Err(err) => {
                tracing::warn!(error = %err, "webhook delivery failed");
                Duration::from_secs(2)
            }
        };
        tokio::time::sleep(pause).await;
    }
}

/// The tenant's webhook URL and secret (the secret created if missing, so it can be shown).
pub async fn endpoint(
    state: &AppState,
    tenant_id: i64,
) -> Result<(Option<String>, String), WebhookError> {
    let mut tx = state.db.begin().await?;
    let endpoint = repo::endpoint(&mut tx.conn(), tenant_id)
        .await?
        .ok_or(WebhookError::NotFound)?;
    let secret = match endpoint.webhook_secret {
        Some(secret) => secret,
        None => {
            let secret = new_secret();
            repo::set_secret(&mut tx.conn(), tenant_id, &secret, now_ms()).await?;
            secret
        }
    };
    tx.commit().await?;
    Ok((endpoint.webhook_url, secret))
}

/// Sets or clears (empty `url`) the tenant's webhook URL.
pub async fn save_url(state: &AppState, tenant_id: i64, url: &str) -> Result<(), WebhookError> {
    let url = url.trim();
    if !url.is_empty() {
        check_target(url, allow_private(state)).await?;
    }
    let mut tx = state.db.begin().await?;
    repo::set_url(
        &mut tx.conn(),
        tenant_id,
        (!url.is_empty()).then_some(url),
        now_ms(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Replaces the signing secret; deliveries from now on use the new one.
pub async fn rotate_secret(state: &AppState, tenant_id: i64) -> Result<String, WebhookError> {
    let secret = new_secret();
    let mut tx = state.db.begin().await?;
    repo::set_secret(&mut tx.conn(), tenant_id, &secret, now_ms()).await?;
    tx.commit().await?;
    Ok(secret)
}

/// Sends a `webhook.test` event to the tenant's URL.
pub async fn send_test(state: &AppState, tenant_id: i64) -> Result<(), WebhookError> {
    let mut tx = state.db.begin().await?;
    let endpoint = repo::endpoint(&mut tx.conn(), tenant_id)
        .await?
        .ok_or(WebhookError::NotFound)?;
    if endpoint.webhook_url.is_none() {
        return Err(WebhookError::NoEndpoint);
    }
    enqueue_in(
        &mut tx,
        tenant_id,
        None,
        "webhook.test",
        json!({ "message": "Pol can reach your webhook endpoint." }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sends a delivery again (as a new delivery with the same body).
pub async fn resend(state: &AppState, tenant_id: i64, id: i64) -> Result<(), WebhookError> {
    let mut tx = state.db.begin().await?;
    let delivery = repo::find(&mut tx.conn(), tenant_id, id)
        .await?
        .ok_or(WebhookError::NotFound)?;
    repo::enqueue(
        &mut tx.conn(),
        tenant_id,
        delivery.phone_call_id,
        &delivery.event,
        &delivery.url,
        &delivery.payload,
        now_ms(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The tenant's latest deliveries.
pub async fn recent(state: &AppState, tenant_id: i64) -> Result<Vec<DeliveryRow>, WebhookError> {
    let mut tx = state.db.read().await?;
    Ok(repo::recent(&mut tx.conn(), tenant_id, 100).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            hmac_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let header = signature("whsec_test", 1_700_000_000, r#"{"a":1}"#);
        assert_eq!(
            header,
            format!(
                "t=1700000000,v1={}",
                hmac_hex("whsec_test", r#"1700000000.{"a":1}"#)
            )
        );
    }

    #[test]
    fn retries_back_off_exponentially_up_to_an_hour() {
        let base = Duration::from_secs(10);
        assert_eq!(backoff(base, 1), Duration::from_secs(10));
        assert_eq!(backoff(base, 2), Duration::from_secs(20));
        assert_eq!(backoff(base, 4), Duration::from_secs(80));
        assert_eq!(backoff(base, 12), Duration::from_secs(3600));
        assert_eq!(backoff(base, 1000), Duration::from_secs(3600));
    }

    #[test]
    fn private_and_local_addresses_are_recognised() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.1.1",
            "172.16.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_private(private.parse().unwrap()), "{private}");
        }
        for public in ["8.8.8.8", "185.143.232.10", "2001:4860:4860::8888"] {
            assert!(!is_private(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn production_refuses_targets_inside_private_networks() {
        assert!(matches!(
            check_target("http://127.0.0.1:8080/hook", false).await,
            Err(WebhookError::PrivateTarget)
        ));
        assert!(matches!(
            check_target("http://localhost/hook", false).await,
            Err(WebhookError::PrivateTarget)
        ));
        assert!(matches!(
            check_target("http://[::1]/hook", false).await,
            Err(WebhookError::PrivateTarget)
        ));
        assert!(check_target("http://127.0.0.1:8080/hook", true)
            .await
            .is_ok());
        assert!(matches!(
            check_target("ftp://example.com/hook", true).await,
            Err(WebhookError::InvalidUrl)
        ));
        assert!(matches!(
            check_target("not a url", true).await,
            Err(WebhookError::InvalidUrl)
        ));
    }
}
