//! The OpenAPI document: served, generated from the code, and checked against what the API
//! really answers and against the reviewed copy in docs/openapi.json.

use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::on_both_databases;

on_both_databases!(
    the_openapi_document_matches_the_committed_copy,
    real_answers_have_exactly_the_documented_fields,
);

async fn document(app: &TestApp) -> (String, Value) {
    let text = reqwest::get(format!("{}/api/v1/openapi.json", app.address))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let json = serde_json::from_str(&text).unwrap();
    (text, json)
}

async fn the_openapi_document_matches_the_committed_copy(app: TestApp) {
    let (served, doc) = document(&app).await;

    assert_eq!(doc["openapi"], "3.1.0");
    for (path, method) in [
        ("/api/v1/calls", "post"),
        ("/api/v1/calls", "get"),
        ("/api/v1/calls/{id}", "get"),
        ("/api/v1/calls/{id}/hangup", "post"),
        ("/api/v1/calls/{id}/recording", "get"),
        ("/api/v1/account", "get"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is documented"
        );
    }
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json"))
            .unwrap();
    assert!(
        served.trim() == committed.trim(),
        "the API changed: run `cargo run -p server --bin pol -- openapi > docs/openapi.json` and review the diff"
    );
}

/// The property names of a schema (following `$ref`s into components).
fn properties(doc: &Value, name: &str) -> Vec<String> {
    let mut keys: Vec<String> = doc["components"]["schemas"][name]["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("schema {name}"))
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

async fn real_answers_have_exactly_the_documented_fields(app: TestApp) {
    let (_, doc) = document(&app).await;
    let (_, api) = app.operator("Schema Cabs", 10).await;

    let created = api
        .call(json!({ "passenger": "09121237005", "driver": "09351237005" }))
        .await;
    let call = api.ended(created["id"].as_str().unwrap()).await;
    let page = api.get("/api/v1/calls").await.body;
    let account = api.get("/api/v1/account").await.body;
    let problem = api
        .post("/api/v1/calls", &json!({ "passenger": "1", "driver": "2" }))
        .await
        .body;

    assert_eq!(keys(&created), properties(&doc, "Call"));
    let mut without_billing = properties(&doc, "Call");
    without_billing.retain(|k| k != "billing");
    assert_eq!(keys(&call), without_billing);
    assert_eq!(keys(&call["legs"][0]), properties(&doc, "Leg"));
    assert_eq!(keys(&call["recording"]), properties(&doc, "Recording"));
    assert_eq!(
        keys(&call["timeline"][0]),
        properties(&doc, "TimelineEntry")
    );
    assert_eq!(keys(&call["cost"]), properties(&doc, "Money"));
    assert_eq!(keys(&page), properties(&doc, "CallPage"));
    assert_eq!(keys(&account), properties(&doc, "Account"));
    assert_eq!(keys(&account["balance"]), properties(&doc, "Balance"));
    assert_eq!(keys(&account["settings"]), properties(&doc, "Settings"));
    let mut problem_keys = properties(&doc, "Problem");
    problem_keys.retain(|k| k != "field" || problem.get("field").is_some());
    assert_eq!(keys(&problem), problem_keys);
    let mut request = properties(&doc, "CallRequest");
    request.sort();
    assert_eq!(
        request,
        [
            "callback_url",
            "driver",
            "first",
            "max_duration",
            "passenger",
            "record",
            "reference",
            "ring_timeout",
            "welcome"
        ]
    );
}
