//! Calls through the JSON API on the sandbox (time runs 100× faster in tests).
//!
//! Sandbox numbers: `…7ddd` talks ddd seconds, `…0001` busy, `…0002` never answers,
//! `…0003` unreachable.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{spawn_app_with, Api, Backend, TestApp};
use crate::on_both_databases;

on_both_databases!(
    a_call_rings_both_parties_bridges_them_and_ends_with_a_recording,
    talk_of_61_seconds_bills_two_minutes_and_releases_the_rest,
    calls_that_never_connect_cost_nothing,
    a_call_is_cut_at_its_max_duration,
    a_call_limited_by_credit_ends_when_the_held_seconds_run_out,
    the_driver_is_called_first_when_asked,
    a_live_call_can_be_hung_up,
    a_tenant_without_credit_gets_402,
    calls_beyond_the_concurrency_limit_get_429,
    bad_requests_get_problem_documents_with_stable_codes,
    requests_without_a_valid_token_get_401,
    a_revoked_token_stops_working_at_once,
    another_tenants_calls_answer_404_everywhere,
    the_same_idempotency_key_returns_the_same_call,
    calls_are_listed_newest_first_with_filters_and_cursors,
    the_account_shows_balance_and_settings,
    the_compatibility_endpoint_places_calls,
);

async fn a_call_rings_both_parties_bridges_them_and_ends_with_a_recording(app: TestApp) {
    let (tenant, api) = app.operator("Green Taxi", 100).await;

    let placed = api
        .call(
            json!({ "passenger": "0912 123 7030", "driver": "۰۹۳۵۱۲۳۷۹۰۰", "reference": "ride-1" }),
        )
        .await;

    assert_eq!(placed["status"], "queued");
    assert_eq!(placed["sandbox"], true);
    assert_eq!(placed["passenger"], "+989121237030");
    assert_eq!(placed["driver"], "+989351237900");
    assert_eq!(placed["first"], "passenger");
    assert_eq!(placed["max_duration"], 600);
    assert_eq!(placed["billing"]["held_seconds"], 600);
    assert_eq!(placed["billing"]["balance_seconds"], 6000 - 600);
    let id = placed["id"].as_str().unwrap();
    assert!(id.starts_with("call_"));

    let call = api.ended(id).await;
    assert_eq!(call["status"], "completed", "{call}");
    assert_eq!(call["end_cause"], "first_party_hung_up");
    let talk = call["talk_seconds"].as_i64().unwrap();
    assert!((30..=31).contains(&talk), "{call}");
    assert_eq!(call["billed_seconds"], 60);
    assert_eq!(call["cost"]["rial"], 2500);
    assert_eq!(call["cost"]["toman"], "250");
    for leg in call["legs"].as_array().unwrap() {
        for moment in ["dialled_at", "ringing_at", "answered_at", "ended_at"] {
            assert!(leg[moment].is_string(), "{moment} missing on {leg}");
        }
    }
    let events: Vec<&str> = call["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "queued",
            "dialing",
            "ringing",
            "answered",
            "welcome",
            "dialing",
            "ringing",
            "answered",
            "bridged",
            "leg_ended",
            "leg_ended",
            "completed"
        ]
    );
    assert_eq!(app.available_seconds(tenant).await, 6000 - 60);

    let recording = &call["recording"];
    assert_eq!(recording["format"], "audio/wav");
    assert!(
        recording["duration_seconds"].as_f64().unwrap() >= 30.0,
        "{recording}"
    );
    let path = format!("/api/v1/calls/{id}/recording");
    let whole = api.get(&path).await;
    assert_eq!(whole.status, StatusCode::OK);
    assert_eq!(whole.header("content-type"), Some("audio/wav"));
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));
    assert_eq!(&whole.bytes[..4], b"RIFF");
    assert_eq!(
        whole.bytes.len() as i64,
        recording["bytes"].as_i64().unwrap()
    );

    let part = api
        .send(
            api.request(Method::GET, &path)
                .header("range", "bytes=0-99"),
        )
        .await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.bytes, whole.bytes[..100]);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 0-99/{}", whole.bytes.len()).as_str())
    );

    let etag = whole.header("etag").unwrap().to_owned();
    let cached = api
        .send(
            api.request(Method::GET, &path)
                .header("if-none-match", etag),
        )
        .await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
}

async fn talk_of_61_seconds_bills_two_minutes_and_releases_the_rest(app: TestApp) {
    let (tenant, api) = app.operator("Blue Taxi", 100).await;

    let placed = api
        .call(json!({ "passenger": "09121237900", "driver": "09351237061" }))
        .await;
    let call = api.ended(placed["id"].as_str().unwrap()).await;

    assert_eq!(call["status"], "completed");
    assert_eq!(call["end_cause"], "second_party_hung_up");
    let talk = call["talk_seconds"].as_i64().unwrap();
    assert!((61..=62).contains(&talk), "{call}");
    assert_eq!(call["billed_seconds"], 120);
    assert_eq!(call["cost"]["rial"], 5000);
    assert_eq!(app.available_seconds(tenant).await, 6000 - 120);
    assert_eq!(
        app.sql_i64("select count(*) from credit_hold where status = 'open'")
            .await,
        0
    );
}

async fn calls_that_never_connect_cost_nothing(app: TestApp) {
    let (tenant, api) = app.operator("Red Taxi", 10).await;

    let busy = api
        .call(json!({ "passenger": "09120000001", "driver": "09351237061", "max_duration": 60 }))
        .await;
    let no_answer = api
        .call(json!({ "passenger": "09121237061", "driver": "09350000002", "ring_timeout": 10, "max_duration": 60 }))
        .await;
    let unreachable = api
        .call(json!({ "passenger": "09120000003", "driver": "09351237061", "max_duration": 60 }))
        .await;

    let busy = api.ended(busy["id"].as_str().unwrap()).await;
    assert_eq!(busy["status"], "busy");
    assert_eq!(busy["legs"][0]["cause"], "busy");
    assert_eq!(busy["legs"][0]["sip_code"], 486);
    assert!(
        busy["legs"][1]["dialled_at"].is_null(),
        "the second party is never rung"
    );
    let no_answer = api.ended(no_answer["id"].as_str().unwrap()).await;
    assert_eq!(no_answer["status"], "no-answer");
    assert_eq!(no_answer["legs"][1]["cause"], "no-answer");
    assert!(
        no_answer["legs"][0]["ended_at"].is_string(),
        "the waiting first party is hung up"
    );
    let unreachable = api.ended(unreachable["id"].as_str().unwrap()).await;
    assert_eq!(unreachable["status"], "failed");
    assert_eq!(unreachable["legs"][0]["sip_code"], 404);

    for call in [&busy, &no_answer, &unreachable] {
        assert_eq!(call["billed_seconds"], 0);
        assert_eq!(call["cost"]["rial"], 0);
    }
    assert_eq!(app.available_seconds(tenant).await, 600);
}

async fn a_call_is_cut_at_its_max_duration(app: TestApp) {
    let (tenant, api) = app.operator("Long Talkers", 100).await;

    let placed = api
        .call(json!({ "passenger": "09121237900", "driver": "09351237900", "max_duration": 30 }))
        .await;
    assert_eq!(placed["max_duration"], 30);
    assert_eq!(placed["billing"]["held_seconds"], 60);
    let call = api.ended(placed["id"].as_str().unwrap()).await;

    assert_eq!(call["status"], "completed");
    assert_eq!(call["end_cause"], "max_duration");
    assert_eq!(call["talk_seconds"], 30);
    assert_eq!(call["billed_seconds"], 60);
    assert_eq!(call["legs"][0]["cause"], "max_duration");
    assert_eq!(app.available_seconds(tenant).await, 6000 - 60);
}

async fn a_call_limited_by_credit_ends_when_the_held_seconds_run_out(app: TestApp) {
    let (tenant, api) = app.operator("Almost Broke", 2).await;

    let placed = api
        .call(json!({ "passenger": "09121237900", "driver": "09351237900" }))
        .await;
    assert_eq!(placed["billing"]["held_seconds"], 120);
    assert_eq!(placed["max_duration"], 120);
    assert_eq!(placed["billing"]["balance_seconds"], 0);
    let call = api.ended(placed["id"].as_str().unwrap()).await;

    assert_eq!(call["end_cause"], "credit_exhausted");
    assert_eq!(call["talk_seconds"], 120);
    assert_eq!(call["billed_seconds"], 120);
    assert_eq!(app.available_seconds(tenant).await, 0);
}

async fn the_driver_is_called_first_when_asked(app: TestApp) {
    let (_, api) = app.operator("Driver First", 10).await;

    let call = api
        .call(json!({ "passenger": "09121237005", "driver": "09351237900", "first": "driver", "welcome": false, "record": false }))
        .await;
    let call = api.ended(call["id"].as_str().unwrap()).await;

    assert_eq!(call["first"], "driver");
    assert_eq!(call["legs"][0]["party"], "driver");
    assert_eq!(call["legs"][0]["number"], "+989351237900");
    assert_eq!(call["legs"][1]["party"], "passenger");
    assert!(call["recording"].is_null());
    let events: Vec<&str> = call["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert!(!events.contains(&"welcome"), "{events:?}");
}

async fn a_live_call_can_be_hung_up(app: TestApp) {
    let (tenant, api) = app.operator("Impatient", 100).await;
    let placed = api
        .call(json!({ "passenger": "09121237900", "driver": "09351237900" }))
        .await;
    let id = placed["id"].as_str().unwrap();
    api.until(id, |c| c["status"] == "in-progress").await;

    let answer = api
        .post(&format!("/api/v1/calls/{id}/hangup"), &json!({}))
        .await;

    assert_eq!(answer.status, StatusCode::OK);
    let call = api.ended(id).await;
    assert_eq!(call["status"], "completed");
    assert_eq!(call["end_cause"], "api_hangup");
    let billed = call["billed_seconds"].as_i64().unwrap();
    assert_eq!(app.available_seconds(tenant).await, 6000 - billed);
    // Hanging up an ended call changes nothing.
    let again = api
        .post(&format!("/api/v1/calls/{id}/hangup"), &json!({}))
        .await;
    assert_eq!(again.body["billed_seconds"], billed);
}

async fn a_tenant_without_credit_gets_402(app: TestApp) {
    let (_, api) = app.operator("Empty Pockets", 0).await;

    let answer = api
        .post(
            "/api/v1/calls",
            &json!({ "passenger": "09121234567", "driver": "09351234567" }),
        )
        .await;

    assert_eq!(answer.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(
        answer.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(answer.code(), "insufficient_credit");
    assert_eq!(app.sql_i64("select count(*) from phone_call").await, 0);
}

async fn calls_beyond_the_concurrency_limit_get_429(app: TestApp) {
    let (tenant, api) = app.operator("Small Fleet", 100).await;
    app.sql_exec(&format!(
        "update tenant set max_concurrent_calls = 1 where tenant_id = {tenant}"
    ))
    .await;
    let first = api
        .call(json!({ "passenger": "09121237900", "driver": "09351237900" }))
        .await;

    let second = api
        .post(
            "/api/v1/calls",
            &json!({ "passenger": "09121234567", "driver": "09351234567" }),
        )
        .await;

    assert_eq!(second.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(second.code(), "concurrency_limit");
    assert_eq!(second.body["limit"], 1);
    let id = first["id"].as_str().unwrap();
    api.post(&format!("/api/v1/calls/{id}/hangup"), &json!({}))
        .await;
    api.ended(id).await;
    // Nothing of the refused call was kept: one call, one hold.
    assert_eq!(app.sql_i64("select count(*) from phone_call").await, 1);
    assert_eq!(app.sql_i64("select count(*) from credit_hold").await, 1);
}

async fn bad_requests_get_problem_documents_with_stable_codes(app: TestApp) {
    let (_, api) = app.operator("Typos Inc", 10).await;
    let post = |body: serde_json::Value| {
        let api = api.clone();
        async move { api.post("/api/v1/calls", &body).await }
    };

    let bad_driver = post(json!({ "passenger": "09121234567", "driver": "12345" })).await;
    assert_eq!(bad_driver.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_driver.code(), "invalid_number");
    assert_eq!(bad_driver.body["field"], "driver");

    let same = post(json!({ "passenger": "09121234567", "driver": "+989121234567" })).await;
    assert_eq!(same.code(), "same_number");

    let invalid = post(json!({ "passenger": "09121234567", "driver": "09351234567", "max_duration": 0, "first": "nobody" })).await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid.code(), "validation");
    let fields: Vec<&str> = invalid.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["first", "max_duration"]);

    let unknown =
        post(json!({ "passenger": "09121234567", "driver": "09351234567", "max_duraton": 60 }))
            .await;
    assert_eq!(unknown.code(), "validation");
    assert_eq!(unknown.body["errors"][0]["field"], "max_duraton");
    assert_eq!(unknown.body["errors"][0]["code"], "unknown_field");

    let missing = post(json!({ "passenger": "09121234567" })).await;
    assert_eq!(missing.body["errors"][0]["field"], "driver");

    let garbage = api
        .send(
            api.request(Method::POST, "/api/v1/calls")
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    assert_eq!(garbage.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(garbage.body["errors"][0]["code"], "invalid_json");

    let huge = api
        .send(
            api.request(Method::POST, "/api/v1/calls")
                .header("content-type", "application/json")
                .body(format!("{{\"reference\": \"{}\"}}", "x".repeat(100_000))),
        )
        .await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(huge.code(), "body_too_large");
    let wrong_method = api.send(api.request(Method::DELETE, "/api/v1/calls")).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.code(), "method_not_allowed");

    let bad_list = api.get("/api/v1/calls?limit=500&status=lost").await;
    assert_eq!(bad_list.code(), "validation");
    let unknown_call = api.get("/api/v1/calls/call_doesnotexist").await;
    assert_eq!(unknown_call.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown_call.code(), "not_found");
    assert_eq!(app.sql_i64("select count(*) from phone_call").await, 0);
}

async fn requests_without_a_valid_token_get_401(app: TestApp) {
    let anonymous = Api::new(&app.address, "");
    let forged = Api::new(
        &app.address,
        "pol_test_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    );

    for api in [&anonymous, &forged] {
        let answer = api.get("/api/v1/account").await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.code(), "unauthorized");
        assert_eq!(answer.header("www-authenticate"), Some("Bearer"));
    }
}

async fn a_revoked_token_stops_working_at_once(app: TestApp) {
    let (tenant, api) = app.operator("Careful", 10).await;
    assert_eq!(api.get("/api/v1/account").await.status, StatusCode::OK);
    let token_id = app
        .sql_i64(&format!(
            "select api_token_id from api_token where tenant_id = {tenant}"
        ))
        .await;

    app::backend::api_tokens::revoke(&app.state, tenant, token_id, None)
        .await
        .unwrap();

    assert_eq!(
        api.get("/api/v1/account").await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn another_tenants_calls_answer_404_everywhere(app: TestApp) {
    let (_, alice) = app.operator("Alice Cabs", 10).await;
    let (_, bob) = app.operator("Bob Cabs", 10).await;
    let call = alice
        .call(json!({ "passenger": "09121237010", "driver": "09351237010" }))
        .await;
    let id = call["id"].as_str().unwrap();
    alice.ended(id).await;

    for answer in [
        bob.get(&format!("/api/v1/calls/{id}")).await,
        bob.get(&format!("/api/v1/calls/{id}/recording")).await,
        bob.post(&format!("/api/v1/calls/{id}/hangup"), &json!({}))
            .await,
    ] {
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{:?}", answer.body);
        assert_eq!(answer.code(), "not_found");
    }
    let list = bob.get("/api/v1/calls").await;
    assert_eq!(list.body["data"].as_array().unwrap().len(), 0);
    assert_eq!(
        alice
            .get(&format!("/api/v1/calls/{id}/recording"))
            .await
            .status,
        StatusCode::OK
    );
}

async fn the_same_idempotency_key_returns_the_same_call(app: TestApp) {
    let (tenant, api) = app.operator("Retry Happy", 100).await;
    let body =
        json!({ "passenger": "09121237010", "driver": "09351237010", "reference": "ride-9" });
    let send = |body: serde_json::Value| {
        let api = api.clone();
        async move {
            api.send(
                api.request(Method::POST, "/api/v1/calls")
                    .header("idempotency-key", "ride-9-call")
                    .json(&body),
            )
            .await
        }
    };

    let first = send(body.clone()).await;
    let retry = send(body.clone()).await;
    let other = send(json!({ "passenger": "09121237010", "driver": "09351237011" })).await;

    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(retry.status, StatusCode::CREATED);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(first.body["id"], retry.body["id"]);
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(other.code(), "idempotency_key_reused");
    assert_eq!(app.sql_i64("select count(*) from phone_call").await, 1);
    api.ended(first.body["id"].as_str().unwrap()).await;
    assert_eq!(app.available_seconds(tenant).await, 6000 - 60);
}

async fn calls_are_listed_newest_first_with_filters_and_cursors(app: TestApp) {
    let (_, api) = app.operator("Busy Fleet", 100).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let call = api
            .call(json!({
                "passenger": format!("0912123700{i}"),
                "driver": "09350000001",
                "reference": format!("ride-{i}"),
            }))
            .await;
        ids.push(call["id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        api.ended(id).await;
    }

    let first_page = api.get("/api/v1/calls?limit=2").await;
    let page_ids = |page: &serde_json::Value| -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(page_ids(&first_page.body), [ids[4].clone(), ids[3].clone()]);
    let cursor = first_page.body["next_cursor"].as_str().unwrap();
    // A call placed now does not disturb the pages after the cursor.
    api.call(json!({ "passenger": "09121237009", "driver": "09351237001" }))
        .await;
    let second_page = api
        .get(&format!("/api/v1/calls?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(
        page_ids(&second_page.body),
        [ids[2].clone(), ids[1].clone()]
    );
    let cursor = second_page.body["next_cursor"].as_str().unwrap();
    let last_page = api
        .get(&format!("/api/v1/calls?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(page_ids(&last_page.body), [ids[0].clone()]);
    assert!(last_page.body["next_cursor"].is_null());

    let by_number = api.get("/api/v1/calls?number=7003").await;
    assert_eq!(page_ids(&by_number.body), [ids[3].clone()]);
    let by_local_number = api.get("/api/v1/calls?number=09121237002").await;
    assert_eq!(page_ids(&by_local_number.body), [ids[2].clone()]);
    let by_reference = api.get("/api/v1/calls?reference=ride-1").await;
    assert_eq!(page_ids(&by_reference.body), [ids[1].clone()]);
    let busy = api.get("/api/v1/calls?status=busy").await;
    assert_eq!(busy.body["data"].as_array().unwrap().len(), 5);
    let today = api.get("/api/v1/calls?from=2020-01-01&to=2099-12-31").await;
    assert_eq!(today.body["data"].as_array().unwrap().len(), 6);
    let jalali = api.get("/api/v1/calls?from=1400/01/01&to=1478/12/29").await;
    assert_eq!(
        jalali.body["data"].as_array().unwrap().len(),
        6,
        "Jalali dates work too"
    );
    let long_ago = api.get("/api/v1/calls?to=2020-01-01").await;
    assert_eq!(long_ago.body["data"].as_array().unwrap().len(), 0);
}

async fn the_account_shows_balance_and_settings(app: TestApp) {
    let (_, api) = app.operator("Numbers Co", 40).await;

    let account = api.get("/api/v1/account").await.body;

    assert_eq!(account["tenant"]["name"], "Numbers Co");
    assert_eq!(account["sandbox"], true);
    assert_eq!(account["balance"]["seconds"], 2400);
    assert_eq!(account["balance"]["minutes"], 40);
    assert_eq!(account["settings"]["first"], "passenger");
    assert_eq!(account["settings"]["max_duration"], 600);
    assert_eq!(account["settings"]["max_concurrent_calls"], 10);
}

async fn the_compatibility_endpoint_places_calls(app: TestApp) {
    let (_, api) = app.operator("Old School", 10).await;
    let http = reqwest::Client::new();

    let ok: serde_json::Value = http
        .get(format!(
            "{}/api.php?token={}&passenger=09121237010&driver=09351237010&limit=60",
            app.address, api.token
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ok["ok"], true, "{ok}");
    assert_eq!(ok["max_duration"], 60);
    let call = api.ended(ok["call_id"].as_str().unwrap()).await;
    assert_eq!(call["status"], "completed");

    let form = http
        .post(format!("{}/api.php", app.address))
        .form(&[
            ("token", api.token.as_str()),
            ("passenger", "0912"),
            ("driver", "09351237010"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = form.json().await.unwrap();
    assert_eq!(body["ok"], false);
    assert_eq!(body["code"], "invalid_number");

    let refused = http
        .get(format!(
            "{}/api.php?token=nope&passenger=1&driver=2",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
}

// A `pol` process killed mid-call, and the one that starts after it.
use crate::helpers::{start_pol, Pol};

/// The real binary on the test app's database, with fast sandbox time.
async fn start(app: &TestApp) -> Pol {
    start_pol(app, &[("POL_SANDBOX_TIME_SCALE", "0.05".to_owned())]).await
}

async fn a_call_cut_by_a_crash_is_billed_for_its_known_talk_after_restart(app: TestApp) {
    let (tenant, api) = app.operator("Crash Test Cabs", 100).await;
    let mut first = start(&app).await;
    let api = Api::new(&first.base, &api.token);
    let placed = api
        .call(json!({ "passenger": "09121237900", "driver": "09351237900" }))
        .await;
    let id = placed["id"].as_str().unwrap().to_owned();
    api.until(&id, |c| c["status"] == "in-progress").await;
    // Wait for a talk-time checkpoint (every 10 s of call time: 0.5 s here).
    let known = loop {
        let known = app
            .sql_i64(&format!(
                "select known_talk_seconds from phone_call where public_id = '{id}'"
            ))
            .await;
        if known >= 10 {
            break known;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };

    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let still_live = app
        .sql_i64(&format!(
            "select count(*) from phone_call where public_id = '{id}' and status = 'in-progress'"
        ))
        .await;
    assert_eq!(still_live, 1, "the dead server could not end its call");
    let second = start(&app).await;
    let api = Api::new(&second.base, &api.token);
    let call = api.ended(&id).await;

    assert_eq!(call["status"], "completed", "{call}");
    assert_eq!(call["end_cause"], "server_restart");
    let talk = call["talk_seconds"].as_i64().unwrap();
    assert!(
        talk >= known,
        "billed for at least the talk known before the crash: {call}"
    );
    let billed = call["billed_seconds"].as_i64().unwrap();
    assert_eq!(billed, (talk + 59) / 60 * 60);
    assert_eq!(app.available_seconds(tenant).await, 6000 - billed);
    assert_eq!(
        app.sql_i64("select count(*) from credit_hold where status = 'open'")
            .await,
        0
    );
    for leg in call["legs"].as_array().unwrap() {
        assert_eq!(leg["cause"], "server_restart");
    }
}

/// Several `pol` processes share one database: a hang-up asked of one reaches the call another
/// runs.
async fn a_hangup_reaches_a_call_running_in_another_process(app: TestApp) {
    let (_, here) = app.operator("Two Servers Cabs", 100).await;
    let other = start(&app).await;
    let there = Api::new(&other.base, &here.token);
    let placed = there
        .call(json!({ "passenger": "09121237900", "driver": "09351237900" }))
        .await;
    let id = placed["id"].as_str().unwrap().to_owned();
    there.until(&id, |c| c["status"] == "in-progress").await;

    let answer = here
        .post(&format!("/api/v1/calls/{id}/hangup"), &json!({}))
        .await;

    assert_eq!(answer.status, StatusCode::OK);
    let call = here.ended(&id).await;
    assert_eq!(call["status"], "completed");
    assert_eq!(call["end_cause"], "api_hangup");
    assert!(call["talk_seconds"].as_i64().unwrap() < 900);
}

on_both_databases!(
    a_call_cut_by_a_crash_is_billed_for_its_known_talk_after_restart,
    a_hangup_reaches_a_call_running_in_another_process,
);

/// A token over its budget is told to slow down, with a `Retry-After`.
async fn a_token_over_its_request_budget_gets_429_with_retry_after(backend: Backend) {
    let app = spawn_app_with(backend, |config| config.api_rate_limit = 1).await;
    let (_, api) = app.operator("Chatty Dispatch", 10).await;

    let answers = [
        api.get("/api/v1/account").await,
        api.get("/api/v1/account").await,
        api.get("/api/v1/account").await,
    ];

    assert_eq!(answers[0].status, StatusCode::OK);
    assert_eq!(
        answers[1].status,
        StatusCode::OK,
        "a burst of two is allowed"
    );
    assert_eq!(answers[2].status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(answers[2].code(), "rate_limited");
    assert_eq!(answers[2].header("retry-after"), Some("1"));
}

mod a_token_over_its_request_budget_gets_429_with_retry_after {
    use crate::helpers::Backend;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite() {
        super::a_token_over_its_request_budget_gets_429_with_retry_after(Backend::Sqlite).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres() {
        super::a_token_over_its_request_budget_gets_429_with_retry_after(Backend::Postgres).await
    }
}
