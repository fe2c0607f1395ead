//! Top-ups through the built-in test gateway and through Zarinpal (against a local fake that
//! follows its published v4 contract).

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::backend::config::{PaymentConfig, Secret};

use crate::helpers::{spawn_app_with, Backend, Browser, TestApp};
use crate::on_both_databases;

on_both_databases!(
    buying_each_package_with_the_test_gateway_credits_each_once,
    a_cancelled_test_payment_credits_nothing_and_offers_a_retry,
    bad_top_up_amounts_are_refused_with_a_field_error,
    another_tenants_payments_answer_not_found,
);

/// The path and query of an absolute URL.
fn path_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/').map_or("/".into(), |i| rest[i..].to_string())
}

/// Starts a top-up and returns the gateway URL the payer is sent to.
async fn start_top_up(browser: &Browser, amount: &str) -> String {
    let csrf = browser.csrf().await;
    let answer = browser
        .call("start_top_up", &[("csrf", &csrf), ("amount", amount)])
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.location.expect("a redirect to the gateway")
}

/// Pays (or cancels) on the test gateway page and follows the gateway back to Pol.
async fn decide_on_test_gateway(browser: &Browser, gateway_url: &str, decision: &str) -> String {
    let page = browser.get(&path_of(gateway_url)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("test-gateway") && page.body.contains("حالت آزمایشی"),
        "clearly labelled"
    );
    let authority = gateway_url.rsplit('/').next().unwrap().to_string();
    let answer = browser
        .call(
            "test_gateway_decide",
            &[
                ("csrf", &page.csrf()),
                ("authority", &authority),
                ("decision", decision),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let callback = answer.location.unwrap();
    let back = browser.get(&callback).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER);
    back.location.unwrap()
}

async fn buying_each_package_with_the_test_gateway_credits_each_once(app: TestApp) {
    let browser = app.new_browser();
    app.sign_up(&browser, "Package Taxi", "packages@example.com")
        .await;
    let tenant = app.tenant_id("Package Taxi").await;
    assert!(
        browser.get("/dashboard").await.body.contains("low-balance"),
        "no credit: warned"
    );
    let mut expected = 0;
    for (toman, minutes) in [
        ("10000", 40),
        ("۲۰٬۰۰۰", 80),
        ("50,000", 250),
        ("100000", 500),
    ] {
        let gateway = start_top_up(&browser, toman).await;
        let result = decide_on_test_gateway(&browser, &gateway, "pay").await;
        expected += minutes;
        assert_eq!(app.minutes(tenant).await, expected, "after {toman}");
        let page = browser.get(&result).await;
        assert!(
            page.body.contains("payment-result") && page.body.contains("پرداخت موفق بود"),
            "{}",
            page.body
        );

        // The same callback again (a replay, or the payer pressing reload) credits nothing more.
        let authority = gateway.rsplit('/').next().unwrap();
        browser
            .get(&format!(
                "/payments/callback?Authority={authority}&Status=OK"
            ))
            .await;
        assert_eq!(
            app.minutes(tenant).await,
            expected,
            "a replayed callback credits nothing"
        );
    }
    assert_eq!(
        app.sql_i64("select count(*) from payment where status = 'paid'")
            .await,
        4
    );
    assert_eq!(app.sql_i64("select count(*) from credit_lot").await, 4);
    let history = browser.get("/billing/payments").await;
    assert_eq!(history.body.matches("status-paid").count(), 4);
    let dashboard = browser.get("/dashboard").await;
    assert!(
        dashboard.body.contains("۸۷۰ دقیقه"),
        "balance in Persian digits"
    );
    let (replayed, _) = app::backend::billing::replay(&app.state.db, tenant)
        .await
        .unwrap();
    assert_eq!(replayed, 870 * 60);
}

async fn a_cancelled_test_payment_credits_nothing_and_offers_a_retry(app: TestApp) {
    let browser = app.new_browser();
    app.sign_up(&browser, "Cancel Taxi", "cancel@example.com")
        .await;
    let tenant = app.tenant_id("Cancel Taxi").await;
    let gateway = start_top_up(&browser, "20000").await;
    let result = decide_on_test_gateway(&browser, &gateway, "cancel").await;
    assert_eq!(app.minutes(tenant).await, 0);
    let page = browser.get(&result).await;
    assert!(
        page.body.contains("لغو شد") && page.body.contains(r#"href="/billing""#),
        "{}",
        page.body
    );
    // A forged "OK" after cancelling is verified with the gateway and still credits nothing.
    let authority = gateway.rsplit('/').next().unwrap();
    browser
        .get(&format!(
            "/payments/callback?Authority={authority}&Status=OK"
        ))
        .await;
    assert_eq!(app.minutes(tenant).await, 0);
    assert_eq!(
        browser
            .get("/payments/callback?Authority=nonsense&Status=OK")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

async fn bad_top_up_amounts_are_refused_with_a_field_error(app: TestApp) {
    let browser = app.new_browser();
    app.sign_up(&browser, "Amount Taxi", "amount@example.com")
        .await;
    let csrf = browser.csrf().await;
    for (amount, problem) in [
        ("9999", "AmountOutOfRange"),
        ("50000001", "AmountOutOfRange"),
        ("ten", "NotANumber"),
        ("", "Required"),
        ("-10000", "AmountOutOfRange"),
        ("99999999999999999999", "NotANumber"),
    ] {
        let answer = browser
            .call("start_top_up", &[("csrf", &csrf), ("amount", amount)])
            .await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{amount}: {}",
            answer.body
        );
        assert!(answer.body.contains(problem), "{amount}: {}", answer.body);
    }
    assert_eq!(
        app.sql_i64("select count(*) from payment").await,
        0,
        "nothing written"
    );
}

async fn another_tenants_payments_answer_not_found(app: TestApp) {
    let alice = app.new_browser();
    app.sign_up(&alice, "Alice Taxi", "alice-pay@example.com")
        .await;
    let gateway = start_top_up(&alice, "10000").await;
    decide_on_test_gateway(&alice, &gateway, "pay").await;
    let payment = app.sql_i64("select payment_id from payment").await;

    let bob = app.new_browser();
    app.sign_up(&bob, "Bob Taxi", "bob-pay@example.com").await;
    assert_eq!(
        bob.get(&format!("/billing/payments/{payment}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        bob.call("payment", &[("id", &payment.to_string())])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(!bob
        .get("/billing/payments")
        .await
        .body
        .contains("status-paid"));
    assert_eq!(
        alice
            .get(&format!("/billing/payments/{payment}"))
            .await
            .status,
        StatusCode::OK
    );
}

/// A payment as the fake gateway knows it: amount in Rial, paid by the payer, verified by Pol.
#[derive(Clone, Copy)]
struct FakePayment(i64, bool, bool);

/// A local Zarinpal that follows the v4 contract.
#[derive(Clone, Default)]
struct FakeZarinpal {
    payments: Arc<Mutex<HashMap<String, FakePayment>>>,
    verify_delay_ms: Arc<AtomicU64>,
    verify_calls: Arc<AtomicU64>,
}

const MERCHANT: &str = "11111111-2222-3333-4444-555555555555";

impl FakeZarinpal {
    async fn start(&self) -> String {
        let app = Router::new()
            .route("/pg/v4/payment/request.json", post(fake_request))
            .route("/pg/v4/payment/verify.json", post(fake_verify))
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    /// The payer completes the payment on the gateway's page.
    fn pay(&self, authority: &str) {
        self.payments.lock().unwrap().get_mut(authority).unwrap().1 = true;
    }
}

async fn fake_request(State(fake): State<FakeZarinpal>, Json(body): Json<Value>) -> Json<Value> {
    if body["merchant_id"] != MERCHANT {
        return Json(
            json!({"data": [], "errors": {"code": -10, "message": "Terminal is not valid.", "validations": []}}),
        );
    }
    let amount = body["amount"].as_i64().unwrap_or(0);
    if amount < 1000 || body["callback_url"].as_str().is_none() {
        return Json(
            json!({"data": [], "errors": {"code": -9, "message": "The input params invalid, validation error.", "validations": []}}),
        );
    }
    let mut payments = fake.payments.lock().unwrap();
    let authority = format!("A{:035}", payments.len() + 1);
    payments.insert(authority.clone(), FakePayment(amount, false, false));
    Json(
        json!({"data": {"code": 100, "message": "Success", "authority": authority, "fee_type": "Merchant", "fee": 100}, "errors": []}),
    )
}

async fn fake_verify(State(fake): State<FakeZarinpal>, Json(body): Json<Value>) -> Json<Value> {
    fake.verify_calls.fetch_add(1, Ordering::SeqCst);
    let delay = fake.verify_delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let authority = body["authority"].as_str().unwrap_or_default();
    let amount = body["amount"].as_i64().unwrap_or(0);
    let error = |code: i64, message: &str| {
        Json(json!({"data": [], "errors": {"code": code, "message": message, "validations": []}}))
    };
    let mut payments = fake.payments.lock().unwrap();
    let Some(entry) = payments.get_mut(authority) else {
        return error(-54, "Invalid authority.");
    };
    if entry.0 != amount {
        return error(-50, "Session is not valid, amounts values is not the same.");
    }
    if !entry.1 {
        return error(-51, "Session is not active, paid try.");
    }
    let code = if entry.2 { 101 } else { 100 };
    entry.2 = true;
    Json(
        json!({"data": {"code": code, "message": "Verified", "card_hash": "1EBE3EBEBE35C7EC0F8D6EE4F2F859107A87822CA179BC9528767EA7B5489B69", "card_pan": "502229******5995", "ref_id": 201, "fee_type": "Merchant", "fee": 0}, "errors": []}),
    )
}

async fn zarinpal_app(backend: Backend, fake: &FakeZarinpal, merchant: &str) -> TestApp {
    let base_url = fake.start().await;
    let merchant = merchant.to_string();
    spawn_app_with(backend, move |config| {
        config.payment = PaymentConfig::Zarinpal {
            base_url,
            merchant_id: Secret::new(merchant),
            timeout: Duration::from_millis(500),
        };
    })
    .await
}

macro_rules! on_both_with_zarinpal {
    ($($test:ident),* $(,)?) => {
        $(
            mod $test {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_sqlite() { super::$test($crate::helpers::Backend::Sqlite).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_postgres() { super::$test($crate::helpers::Backend::Postgres).await }
            }
        )*
    };
}

on_both_with_zarinpal!(
    zarinpal_happy_path_credits_once_even_when_the_callback_is_replayed,
    zarinpal_cancel_and_forged_callbacks_credit_nothing,
    zarinpal_amount_mismatch_is_refused,
    zarinpal_verify_timeout_is_settled_by_reconciliation,
    zarinpal_refusing_to_open_a_payment_is_a_clear_error,
);

async fn zarinpal_happy_path_credits_once_even_when_the_callback_is_replayed(backend: Backend) {
    let fake = FakeZarinpal::default();
    let app = zarinpal_app(backend, &fake, MERCHANT).await;
    let browser = app.new_browser();
    app.sign_up(&browser, "Zarin Taxi", "zarin@example.com")
        .await;
    let tenant = app.tenant_id("Zarin Taxi").await;
    let gateway = start_top_up(&browser, "50000").await;
    assert!(gateway.contains("/pg/StartPay/A"), "{gateway}");
    let authority = gateway.rsplit('/').next().unwrap().to_string();
    assert_eq!(
        fake.payments.lock().unwrap()[&authority].0,
        500_000,
        "amounts are sent in Rial"
    );

    fake.pay(&authority);
    let back = browser
        .get(&format!(
            "/payments/callback?Authority={authority}&Status=OK"
        ))
        .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER);
    assert_eq!(app.minutes(tenant).await, 250);
    let page = browser.get(&back.location.unwrap()).await;
    assert!(
        page.body.contains("۲۰۱"),
        "the gateway's reference in Persian digits: {}",
        page.body
    );
    assert!(page.body.contains("502229******5995"));

    for _ in 0..3 {
        browser
            .get(&format!(
                "/payments/callback?Authority={authority}&Status=OK"
            ))
            .await;
    }
    assert_eq!(app.minutes(tenant).await, 250, "replays credit nothing");
    assert_eq!(
        fake.verify_calls.load(Ordering::SeqCst),
        1,
        "a closed payment is not verified again"
    );
}

async fn zarinpal_cancel_and_forged_callbacks_credit_nothing(backend: Backend) {
    let fake = FakeZarinpal::default();
    let app = zarinpal_app(backend, &fake, MERCHANT).await;
    let browser = app.new_browser();
    app.sign_up(&browser, "Zarin Taxi", "zarin-cancel@example.com")
        .await;
    let tenant = app.tenant_id("Zarin Taxi").await;

    let gateway = start_top_up(&browser, "10000").await;
    let authority = gateway.rsplit('/').next().unwrap().to_string();
    browser
        .get(&format!(
            "/payments/callback?Authority={authority}&Status=NOK"
        ))
        .await;
    assert_eq!(
        app.sql_i64("select count(*) from payment where status = 'canceled'")
            .await,
        1
    );

    // Someone forges "OK" for a payment never paid: the gateway says -51 and nothing is credited.
    let gateway = start_top_up(&browser, "10000").await;
    let unpaid = gateway.rsplit('/').next().unwrap().to_string();
    browser
        .get(&format!("/payments/callback?Authority={unpaid}&Status=OK"))
        .await;
    assert_eq!(app.minutes(tenant).await, 0);
    assert_eq!(
        app.sql_i64("select count(*) from payment where status = 'failed'")
            .await,
        1
    );
    assert_eq!(
        browser
            .get("/payments/callback?Authority=A999&Status=OK")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        browser.get("/payments/callback?Status=OK").await.status,
        StatusCode::BAD_REQUEST
    );
}

async fn zarinpal_amount_mismatch_is_refused(backend: Backend) {
    let fake = FakeZarinpal::default();
    let app = zarinpal_app(backend, &fake, MERCHANT).await;
    let browser = app.new_browser();
    app.sign_up(&browser, "Zarin Taxi", "zarin-tamper@example.com")
        .await;
    let tenant = app.tenant_id("Zarin Taxi").await;
    let gateway = start_top_up(&browser, "10000").await;
    let authority = gateway.rsplit('/').next().unwrap().to_string();
    // The payer paid a tampered, smaller amount at the gateway.
    fake.payments.lock().unwrap().get_mut(&authority).unwrap().0 = 1_000;
    fake.pay(&authority);
    browser
        .get(&format!(
            "/payments/callback?Authority={authority}&Status=OK"
        ))
        .await;
    assert_eq!(app.minutes(tenant).await, 0);
    let failure = match &app.state.db {
        app::backend::db::Db::Sqlite(pool, _) => {
            sqlx::query_scalar::<_, String>("select failure from payment")
                .fetch_one(pool)
                .await
                .unwrap()
        }
        app::backend::db::Db::Postgres(pool) => {
            sqlx::query_scalar::<_, String>("select failure from payment")
                .fetch_one(pool)
                .await
                .unwrap()
        }
    };
    assert!(failure.contains("-50"), "{failure}");
}

async fn zarinpal_verify_timeout_is_settled_by_reconciliation(backend: Backend) {
    let fake = FakeZarinpal::default();
    let app = zarinpal_app(backend, &fake, MERCHANT).await;
    let browser = app.new_browser();
    app.sign_up(&browser, "Zarin Taxi", "zarin-timeout@example.com")
        .await;
    let tenant = app.tenant_id("Zarin Taxi").await;
    let gateway = start_top_up(&browser, "20000").await;
    let authority = gateway.rsplit('/').next().unwrap().to_string();
    fake.pay(&authority);

    fake.verify_delay_ms.store(2_000, Ordering::SeqCst);
    let back = browser
        .get(&format!(
            "/payments/callback?Authority={authority}&Status=OK"
        ))
        .await;
    let page = browser.get(&back.location.unwrap()).await;
    assert!(
        page.body.contains("در انتظار تأیید"),
        "the payer is told it is being confirmed"
    );
    assert_eq!(app.minutes(tenant).await, 0);

    // The gateway recovers; the background job asks again once the payment is a few minutes old.
    fake.verify_delay_ms.store(0, Ordering::SeqCst);
    assert_eq!(
        app::backend::payments::reconcile(&app.state).await.unwrap(),
        0,
        "too fresh to reconcile"
    );
    app.sql_exec("update payment set created_at = created_at - 5 * 60 * 1000")
        .await;
    assert_eq!(
        app::backend::payments::reconcile(&app.state).await.unwrap(),
        1
    );
    assert_eq!(app.minutes(tenant).await, 80);
    assert_eq!(
        app::backend::payments::reconcile(&app.state).await.unwrap(),
        0,
        "nothing left pending"
    );
    browser
        .get(&format!(
            "/payments/callback?Authority={authority}&Status=OK"
        ))
        .await;
    assert_eq!(app.minutes(tenant).await, 80, "credited once");
}

async fn zarinpal_refusing_to_open_a_payment_is_a_clear_error(backend: Backend) {
    let fake = FakeZarinpal::default();
    let app = zarinpal_app(backend, &fake, "not-our-merchant").await;
    let browser = app.new_browser();
    app.sign_up(&browser, "Zarin Taxi", "zarin-merchant@example.com")
        .await;
    let csrf = browser.csrf().await;
    let answer = browser
        .call("start_top_up", &[("csrf", &csrf), ("amount", "10000")])
        .await;
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY);
    assert_eq!(answer.json(), json!("GatewayUnavailable"));
    assert_eq!(
        app.sql_i64("select count(*) from payment where status = 'failed'")
            .await,
        1
    );
}
