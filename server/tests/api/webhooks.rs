//! Webhooks reaching an operator's endpoint: signed, in order, retried, refused into private
//! networks in production. The receiver here is a real HTTP server on a local port.

use axum::http::HeaderMap;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::helpers::{spawn_app_with, Backend, TestApp};
use crate::on_both_databases;

on_both_databases!(
    call_events_arrive_signed_and_in_order,
    a_failing_endpoint_is_retried_until_it_answers,
    a_delivery_left_in_the_outbox_is_sent_by_the_next_worker,
    the_webhooks_page_saves_tests_rotates_and_resends,
    a_call_that_leaves_little_credit_announces_balance_low,
);

/// What the operator's endpoint received.
#[derive(Clone, Default)]
struct Receiver {
    url: String,
    requests: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    failures_left: Arc<AtomicUsize>,
}

impl Receiver {
    /// An endpoint that answers 500 to the first `failures` requests, then 200.
    async fn start(failures: usize) -> Self {
        let receiver = Receiver {
            failures_left: Arc::new(AtomicUsize::new(failures)),
            ..Receiver::default()
        };
        let state = receiver.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let state = state.clone();
                async move {
                    state.requests.lock().unwrap().push((headers, body));
                    let fail = state
                        .failures_left
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok();
                    if fail {
                        (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "not yet")
                    } else {
                        (axum::http::StatusCode::OK, "thanks")
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, ..receiver }
    }

    fn received(&self) -> Vec<(HeaderMap, String)> {
        self.requests.lock().unwrap().clone()
    }

    /// Waits until `n` requests arrived.
    async fn wait_for(&self, n: usize) -> Vec<(HeaderMap, String)> {
        for _ in 0..1500 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("only {} of {n} webhooks arrived", self.received().len());
    }
}

/// HMAC-SHA256 written out from its definition (RFC 2104), independent of the server's code.
fn hmac_sha256(key: &[u8], message: &[u8]) -> String {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let inner_key: Vec<u8> = block.iter().map(|b| b ^ 0x36).collect();
    let outer_key: Vec<u8> = block.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::digest([inner_key.as_slice(), message].concat());
    hex::encode(Sha256::digest(
        [outer_key.as_slice(), inner.as_slice()].concat(),
    ))
}

/// Checks `Pol-Signature` the way an operator's server would.
fn verify(secret: &str, headers: &HeaderMap, body: &str) {
    let header = headers["pol-signature"].to_str().unwrap();
    let parts: std::collections::HashMap<&str, &str> = header
        .split(',')
        .filter_map(|p| p.split_once('='))
        .collect();
    let t: i64 = parts["t"].parse().unwrap();
    let now = app::backend::now_ms() / 1000;
    assert!((now - t).abs() < 300, "a fresh timestamp");
    assert_eq!(
        parts["v1"],
        hmac_sha256(secret.as_bytes(), format!("{t}.{body}").as_bytes()),
        "the signature verifies"
    );
}

async fn secret_of(app: &TestApp, tenant: i64) -> String {
    app::backend::webhooks::endpoint(&app.state, tenant)
        .await
        .unwrap()
        .1
}

async fn call_events_arrive_signed_and_in_order(app: TestApp) {
    let receiver = Receiver::start(0).await;
    let (tenant, api) = app.operator("Hooked Taxi", 100).await;
    app::backend::webhooks::save_url(&app.state, tenant, &receiver.url)
        .await
        .unwrap();
    let secret = secret_of(&app, tenant).await;

    let call = api
        .call(json!({ "passenger": "09121237010", "driver": "09351237010", "reference": "ride-7" }))
        .await;
    let id = call["id"].as_str().unwrap();
    api.ended(id).await;
    let got = receiver.wait_for(4).await;

    let events: Vec<Value> = got
        .iter()
        .map(|(headers, body)| {
            verify(&secret, headers, body);
            serde_json::from_str(body).unwrap()
        })
        .collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "call.ringing",
            "call.answered",
            "call.completed",
            "recording.ready"
        ]
    );
    let completed = &events[2]["data"];
    assert_eq!(completed["id"], id);
    assert_eq!(completed["status"], "completed");
    assert_eq!(completed["reference"], "ride-7");
    assert_eq!(completed["billed_seconds"], 60);
    assert_eq!(completed["cost"]["rial"], 2500);
    assert_eq!(completed["legs"].as_array().unwrap().len(), 2);
    assert_eq!(got[2].0["pol-event"], "call.completed");

    // The recording link works without a token, and only as signed.
    let url = events[3]["data"]["url"].as_str().unwrap();
    let path = &url[url.find("/api/v1/").unwrap()..];
    let http = reqwest::Client::new();
    let audio = http
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(audio.status(), StatusCode::OK);
    assert_eq!(audio.headers()["content-type"], "audio/wav");
    let forged = path.replace("signature=", "signature=00");
    let refused = http
        .get(format!("{}{forged}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
}

async fn a_failing_endpoint_is_retried_until_it_answers(app: TestApp) {
    let receiver = Receiver::start(2).await;
    let (tenant, _) = app.operator("Flaky Endpoint Cabs", 10).await;
    app::backend::webhooks::save_url(&app.state, tenant, &receiver.url)
        .await
        .unwrap();

    app::backend::webhooks::send_test(&app.state, tenant)
        .await
        .unwrap();
    let got = receiver.wait_for(3).await;

    assert!(
        got.iter().all(|(_, body)| body == &got[0].1),
        "the same event each time"
    );
    let delivery_ids: Vec<_> = got.iter().map(|(h, _)| h["pol-delivery"].clone()).collect();
    assert!(delivery_ids.iter().all(|id| *id == delivery_ids[0]));
    let mut log = Vec::new();
    for _ in 0..200 {
        log = app::backend::webhooks::recent(&app.state, tenant)
            .await
            .unwrap();
        if log[0].status == "delivered" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, "delivered");
    assert_eq!(log[0].attempts, 3);
    assert_eq!(log[0].last_status_code, Some(200));
    assert_eq!(log[0].last_response_head.as_deref(), Some("thanks"));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        receiver.received().len(),
        3,
        "nothing is sent after it was delivered"
    );
}

async fn a_delivery_left_in_the_outbox_is_sent_by_the_next_worker(app: TestApp) {
    // A process that died after writing the event but before sending it left only the row.
    let receiver = Receiver::start(0).await;
    let (tenant, _) = app.operator("Survivor Cabs", 10).await;
    let secret = secret_of(&app, tenant).await;
    let body = r#"{"type":"call.completed","data":{"id":"call_left_behind"}}"#;
    app.sql_exec(&format!(
        "insert into webhook_delivery (tenant_id, event, url, payload, attempts, next_attempt_at, created_at) \
         values ({tenant}, 'call.completed', '{}', '{body}', 2, 0, {})",
        receiver.url,
        app::backend::now_ms()
    ))
    .await;

    let got = receiver.wait_for(1).await;

    assert_eq!(got[0].1, body);
    verify(&secret, &got[0].0, &got[0].1);
}

async fn the_webhooks_page_saves_tests_rotates_and_resends(app: TestApp) {
    let receiver = Receiver::start(0).await;
    let browser = app.new_browser();
    app.sign_up(&browser, "Panel Hooks", "hooks@example.com")
        .await;
    let tenant = app.tenant_id("Panel Hooks").await;
    let csrf = browser.csrf().await;

    let bad = browser
        .call(
            "save_webhook",
            &[("csrf", &csrf), ("url", "ftp://example.com")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let saved = browser
        .call("save_webhook", &[("csrf", &csrf), ("url", &receiver.url)])
        .await;
    assert!(saved.status.is_success() || saved.status.is_redirection());
    let before = secret_of(&app, tenant).await;
    browser
        .call("rotate_webhook_secret", &[("csrf", &csrf)])
        .await;
    let after = secret_of(&app, tenant).await;
    assert_ne!(before, after);
    assert!(after.starts_with("whsec_"));

    browser.call("test_webhook", &[("csrf", &csrf)]).await;
    let got = receiver.wait_for(1).await;
    verify(&after, &got[0].0, &got[0].1);
    let page = browser.call("webhooks", &[]).await.json();
    let id = page["deliveries"][0]["id"].as_i64().unwrap();
    browser
        .call(
            "resend_webhook",
            &[("csrf", &csrf), ("id", &id.to_string())],
        )
        .await;
    let got = receiver.wait_for(2).await;
    assert_eq!(got[0].1, got[1].1, "the same event again");

    // Another tenant cannot resend it.
    let other = app.new_browser();
    app.sign_up(&other, "Nosy Cabs", "nosy@example.com").await;
    let other_csrf = other.csrf().await;
    let refused = other
        .call(
            "resend_webhook",
            &[("csrf", &other_csrf), ("id", &id.to_string())],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
}

/// In production, webhook targets inside private networks are refused, when saved and when sent.
async fn production_refuses_private_webhook_targets(backend: Backend) {
    let app = spawn_app_with(backend, |config| {
        config.env = app::backend::config::Environment::Production;
    })
    .await;
    let (tenant, api) = app.operator("Careful Cabs", 10).await;

    let saved =
        app::backend::webhooks::save_url(&app.state, tenant, "http://127.0.0.1:9/hook").await;
    assert!(matches!(
        saved,
        Err(app::backend::webhooks::WebhookError::PrivateTarget)
    ));
    let call = api
        .call(json!({ "passenger": "09121237005", "driver": "09351237005", "callback_url": "http://169.254.169.254/latest" }))
        .await;
    api.ended(call["id"].as_str().unwrap()).await;
    let mut log = Vec::new();
    for _ in 0..200 {
        log = app::backend::webhooks::recent(&app.state, tenant)
            .await
            .unwrap();
        if log.iter().any(|d| d.attempts > 0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let tried: Vec<_> = log.iter().filter(|d| d.attempts > 0).collect();
    assert!(!tried.is_empty());
    for delivery in tried {
        assert_ne!(delivery.status, "delivered");
        assert!(delivery.last_error.as_deref().unwrap().contains("private"));
    }
}

mod production_refuses_private_webhook_targets {
    use crate::helpers::Backend;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite() {
        super::production_refuses_private_webhook_targets(Backend::Sqlite).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres() {
        super::production_refuses_private_webhook_targets(Backend::Postgres).await
    }
}

async fn a_call_that_leaves_little_credit_announces_balance_low(app: TestApp) {
    let receiver = Receiver::start(0).await;
    let (tenant, api) = app.operator("Low Cabs", 31).await;
    app::backend::webhooks::save_url(&app.state, tenant, &receiver.url)
        .await
        .unwrap();

    let call = api
        .call(json!({ "passenger": "09121237061", "driver": "09351237900", "record": false }))
        .await;
    api.ended(call["id"].as_str().unwrap()).await;
    let got = receiver.wait_for(4).await;

    let low: Vec<Value> = got
        .iter()
        .map(|(_, body)| serde_json::from_str::<Value>(body).unwrap())
        .filter(|e| e["type"] == "balance.low")
        .collect();
    assert_eq!(
        low.len(),
        1,
        "31 minutes minus two is under the 30-minute threshold"
    );
    assert_eq!(low[0]["data"]["balance_seconds"], 31 * 60 - 120);
}
