//! The panel's side of calls: API tokens, test calls, call reports, recordings, CSV export and
//! call settings, through the server functions and pages a browser uses.

use regex::Regex;
use reqwest::StatusCode;

use crate::helpers::{Api, Browser, TestApp};
use crate::on_both_databases;

on_both_databases!(
    a_token_is_shown_once_works_with_the_api_and_stops_when_revoked,
    a_test_call_from_the_panel_shows_in_the_report_with_its_recording,
    another_tenants_calls_answer_404_in_the_panel,
    viewers_see_masked_numbers_and_cannot_call_or_manage_tokens,
    the_csv_export_has_a_bom_persian_headers_and_every_call,
    call_settings_are_validated_and_become_the_api_defaults,
    test_call_mistakes_come_back_as_field_errors,
    the_dashboard_counts_todays_calls_and_charts_thirty_days,
    the_api_docs_page_lists_the_operations_with_the_operators_token_prefix,
);

/// Signs up `company` and gives it `minutes` of paid talk time.
async fn operator(app: &TestApp, company: &str, email: &str, minutes: i64) -> (Browser, i64) {
    let browser = app.new_browser();
    app.sign_up(&browser, company, email).await;
    let tenant = app.tenant_id(company).await;
    app.credit_paid(tenant, minutes).await;
    (browser, tenant)
}

/// Places a test call from the panel and waits for it to end; returns its public id.
async fn test_call(app: &TestApp, browser: &Browser, passenger: &str, driver: &str) -> String {
    let csrf = browser.csrf().await;
    let answer = browser
        .call(
            "test_call",
            &[
                ("csrf", &csrf),
                ("passenger", passenger),
                ("driver", driver),
            ],
        )
        .await;
    assert!(
        answer.status.is_success() || answer.status.is_redirection(),
        "{:?} {}",
        answer.status,
        answer.body
    );
    let id: String = match &app.state.db {
        app::backend::db::Db::Sqlite(pool, _) => sqlx::query_scalar(
            "select public_id from phone_call order by phone_call_id desc limit 1",
        )
        .fetch_one(pool)
        .await
        .unwrap(),
        app::backend::db::Db::Postgres(pool) => sqlx::query_scalar(
            "select public_id from phone_call order by phone_call_id desc limit 1",
        )
        .fetch_one(pool)
        .await
        .unwrap(),
    };
    for _ in 0..1500 {
        let live = app
            .sql_i64(&format!(
                "select count(*) from phone_call where public_id = '{id}' and status in ('queued', 'ringing', 'in-progress')"
            ))
            .await;
        if live == 0 {
            return id;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the test call never ended");
}

async fn a_token_is_shown_once_works_with_the_api_and_stops_when_revoked(app: TestApp) {
    let (browser, _) = operator(&app, "Token Taxi", "token@example.com", 10).await;
    let csrf = browser.csrf().await;

    let created = browser
        .call("create_api_token", &[("csrf", &csrf), ("name", "dispatch")])
        .await;
    assert!(created.status.is_success() || created.status.is_redirection());
    let page = browser.get("/settings/tokens").await;
    let token = Regex::new(r"pol_test_[A-Za-z0-9_-]{43}")
        .unwrap()
        .find(&page.body)
        .expect("the new token is on the page")
        .as_str()
        .to_owned();
    let again = browser.get("/settings/tokens").await;
    assert!(!again.body.contains(&token), "shown only once");
    assert!(
        again.body.contains(&token[..13]),
        "its prefix stays visible"
    );
    assert_eq!(
        app.sql_i64(&format!(
            "select count(*) from api_token where token_hash = '{}'",
            token
        ))
        .await,
        0,
        "only the hash is stored"
    );

    let api = Api::new(&app.address, &token);
    assert_eq!(api.get("/api/v1/account").await.status, StatusCode::OK);
    let id = app.sql_i64("select api_token_id from api_token").await;
    let revoked = browser
        .call(
            "revoke_api_token",
            &[("csrf", &csrf), ("id", &id.to_string())],
        )
        .await;
    assert!(revoked.status.is_success() || revoked.status.is_redirection());
    assert_eq!(
        api.get("/api/v1/account").await.status,
        StatusCode::UNAUTHORIZED
    );
    let forged = browser
        .call("create_api_token", &[("csrf", "forged"), ("name", "x")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}

async fn a_test_call_from_the_panel_shows_in_the_report_with_its_recording(app: TestApp) {
    let (browser, _) = operator(&app, "Report Taxi", "report@example.com", 10).await;

    let id = test_call(&app, &browser, "09121237030", "09351237020").await;

    let report = browser.get("/calls").await;
    assert!(
        report.body.contains(&format!("/calls/{id}")),
        "{}",
        report.body
    );
    assert!(
        report.body.contains("۰۹۱۲۱۲۳۷۰۳۰"),
        "numbers in Persian digits"
    );
    let detail = browser.get(&format!("/calls/{id}")).await;
    assert_eq!(detail.status, StatusCode::OK);
    assert!(detail.body.contains("انجام شد"));
    assert!(detail.body.contains(&format!("/calls/{id}/recording")));
    let audio = browser.get(&format!("/calls/{id}/recording")).await;
    assert_eq!(audio.status, StatusCode::OK);
    assert_eq!(
        audio.headers.get("content-type").unwrap(),
        "audio/wav",
        "browsers play it"
    );
    let json = browser.call("call", &[("id", &id)]).await.json();
    assert_eq!(json["call"]["status"], "completed");
    assert_eq!(json["legs"].as_array().unwrap().len(), 2);
}

async fn another_tenants_calls_answer_404_in_the_panel(app: TestApp) {
    let (alice, _) = operator(&app, "Alice Taxi", "alice@example.com", 10).await;
    let (bob, _) = operator(&app, "Bob Cabs", "bob@example.com", 10).await;
    let id = test_call(&app, &alice, "09121237010", "09351237010").await;

    assert_eq!(
        bob.get(&format!("/calls/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        bob.call("call", &[("id", &id)]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        bob.get(&format!("/calls/{id}/recording")).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(!bob.get("/calls").await.body.contains(&id));
    assert!(!bob.get("/calls/export.csv").await.body.contains(&id));
    let anonymous = app.new_browser();
    assert_eq!(
        anonymous
            .get(&format!("/calls/{id}/recording"))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

async fn viewers_see_masked_numbers_and_cannot_call_or_manage_tokens(app: TestApp) {
    let (browser, tenant) = operator(&app, "Viewer Taxi", "viewer@example.com", 10).await;
    let id = test_call(&app, &browser, "09121237010", "09351237010").await;
    app.sql_exec(&format!(
        "update membership set role = 'viewer' where tenant_id = {tenant}"
    ))
    .await;

    let report = browser.get("/calls").await;
    assert!(report.body.contains("۰۹۱۲***۷۰۱۰"), "{}", report.body);
    assert!(
        !report.body.contains("href=\"/settings/tokens\""),
        "no token link for viewers"
    );
    assert!(!report.body.contains("۰۹۱۲۱۲۳۷۰۱۰"));
    let detail = browser.call("call", &[("id", &id)]).await.json();
    assert_eq!(detail["call"]["passenger"], "0912***7010");
    assert_eq!(detail["legs"][0]["number"], "0912***7010");
    let csv = browser.get("/calls/export.csv").await.body;
    assert!(csv.contains("0912***7010") && !csv.contains("+989121237010"));
    let csrf = browser.csrf().await;
    let call = browser
        .call(
            "test_call",
            &[
                ("csrf", &csrf),
                ("passenger", "09121234567"),
                ("driver", "09351234567"),
            ],
        )
        .await;
    assert_eq!(call.status, StatusCode::FORBIDDEN);
    assert_eq!(
        browser.call("api_tokens", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    let token = browser
        .call("create_api_token", &[("csrf", &csrf), ("name", "sneaky")])
        .await;
    assert_eq!(token.status, StatusCode::FORBIDDEN);
    assert_eq!(app.sql_i64("select count(*) from api_token").await, 0);
}

async fn the_csv_export_has_a_bom_persian_headers_and_every_call(app: TestApp) {
    let (browser, _) = operator(&app, "Export Taxi", "export@example.com", 10).await;
    let mut ids = Vec::new();
    for driver in ["09351237010", "09350000001", "09351237020"] {
        ids.push(test_call(&app, &browser, "09121237030", driver).await);
    }

    let csv = browser.get("/calls/export.csv").await;

    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(
        csv.headers.get("content-type").unwrap(),
        "text/csv; charset=utf-8"
    );
    assert!(csv.body.starts_with('\u{feff}'), "a BOM for Excel");
    let lines: Vec<&str> = csv.body.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 4, "{}", csv.body);
    assert!(lines[0].contains("مسافر") && lines[0].contains("راننده"));
    for id in &ids {
        assert!(csv.body.contains(id.as_str()));
    }
    assert!(lines[1].contains(ids[2].as_str()), "newest first");
    let busy = browser.get("/calls/export.csv?status=busy").await.body;
    assert_eq!(busy.trim_end().split("\r\n").count(), 2);
    assert!(busy.contains("مشغول"));
}

async fn call_settings_are_validated_and_become_the_api_defaults(app: TestApp) {
    let (browser, tenant) = operator(&app, "Settings Taxi", "settings@example.com", 10).await;
    let csrf = browser.csrf().await;

    let bad = browser
        .call(
            "save_call_settings",
            &[
                ("csrf", &csrf),
                ("first_party", "nobody"),
                ("max_duration", "5"),
                ("ring_timeout", "abc"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = bad.json()["Invalid"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["first_party", "max_duration", "ring_timeout"]);

    let good = browser
        .call(
            "save_call_settings",
            &[
                ("csrf", &csrf),
                ("first_party", "driver"),
                ("max_duration", "۱۲۰"),
                ("ring_timeout", "20"),
                ("welcome", "on"),
                ("caller_id", "09121234567"),
            ],
        )
        .await;
    assert!(good.status.is_success() || good.status.is_redirection());
    let api = app.api_for(tenant).await;
    let account = api.get("/api/v1/account").await.body;
    assert_eq!(account["settings"]["first"], "driver");
    assert_eq!(account["settings"]["max_duration"], 120);
    assert_eq!(account["settings"]["record"], false);
    assert_eq!(
        account["settings"]["caller_id"],
        serde_json::Value::Null,
        "an operator cannot choose the number its calls show"
    );
    let call = api
        .call(serde_json::json!({ "passenger": "09121237010", "driver": "09351237010", "max_duration": 3600 }))
        .await;
    assert_eq!(call["first"], "driver");
    assert_eq!(call["max_duration"], 120, "the tenant's limit is a ceiling");
    assert_eq!(call["record"], false);
}

async fn test_call_mistakes_come_back_as_field_errors(app: TestApp) {
    let (browser, _) = operator(&app, "Sloppy Taxi", "sloppy@example.com", 0).await;
    let csrf = browser.csrf().await;
    let attempt = |passenger: &'static str, driver: &'static str| {
        let browser = browser.clone();
        let csrf = csrf.clone();
        async move {
            browser
                .call(
                    "test_call",
                    &[
                        ("csrf", &csrf),
                        ("passenger", passenger),
                        ("driver", driver),
                    ],
                )
                .await
        }
    };

    let bad = attempt("0912", "09351234567").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["Invalid"]["fields"][0]["field"], "passenger");
    let same = attempt("09121234567", "+989121234567").await;
    assert_eq!(same.json()["Invalid"]["fields"][0]["field"], "driver");
    let broke = attempt("09121234567", "09351234567").await;
    assert_eq!(broke.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(app.sql_i64("select count(*) from phone_call").await, 0);
}

async fn the_dashboard_counts_todays_calls_and_charts_thirty_days(app: TestApp) {
    let (browser, _) = operator(&app, "Busy Taxi", "busy@example.com", 70).await;
    test_call(&app, &browser, "09121237030", "09351237020").await;
    test_call(&app, &browser, "09121237030", "09350000001").await;

    let dashboard = browser.call("dashboard", &[]).await.json();

    let days = dashboard["days"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    let today = &days[29];
    assert_eq!(today["calls"], 2);
    assert_eq!(today["answered"], 1, "the busy call never connected");
    assert_eq!(today["billed_seconds"], 60);
    assert_eq!(today["cost_rial"], 2500);
    assert!(days[..29].iter().all(|d| d["calls"] == 0));
    // 70 minutes minus one, at 60 s a week (8 s a day): 4,132 s / 8 s.
    assert_eq!(dashboard["days_left"], (70 * 60 - 60) / (60 / 7));
    let page = browser.get("/dashboard").await.body;
    assert!(page.contains("<svg") && page.matches("<rect").count() == 30);
    assert!(
        page.contains("data-testid=\"today-calls\" class=\"stat-value\">۲<"),
        "today's calls in Persian digits"
    );
}

async fn the_api_docs_page_lists_the_operations_with_the_operators_token_prefix(app: TestApp) {
    let (browser, tenant) = operator(&app, "Docs Taxi", "docs@example.com", 0).await;
    let (token, _) = app::backend::api_tokens::create(&app.state, tenant, "dispatch", None)
        .await
        .unwrap();

    let docs = browser.call("api_docs", &[]).await.json();
    let page = browser.get("/docs").await;

    assert_eq!(docs["token_prefix"], token[..13]);
    let operations: Vec<String> = docs["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            format!(
                "{} {}",
                o["method"].as_str().unwrap(),
                o["path"].as_str().unwrap()
            )
        })
        .collect();
    for expected in [
        "POST /api/v1/calls",
        "GET /api/v1/calls",
        "GET /api/v1/calls/{id}",
        "POST /api/v1/calls/{id}/hangup",
        "GET /api/v1/calls/{id}/recording",
        "GET /api/v1/account",
    ] {
        assert!(
            operations.iter().any(|o| o == expected),
            "{expected} in {operations:?}"
        );
    }
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(&format!("Bearer {}…", &token[..13])),
        "examples use the prefix"
    );
    assert!(!page.body.contains(&token), "never the token itself");
    assert!(page.body.contains("insufficient_credit"));
}
