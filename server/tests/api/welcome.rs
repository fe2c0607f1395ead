//! The welcome message: uploaded in each format, refused with a clear message when it is not a
//! usable message, played to the first party of every call.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Browser, TestApp};
use crate::on_both_databases;

on_both_databases!(
    every_supported_format_becomes_the_welcome_message_calls_play,
    unusable_files_are_refused_with_a_message_in_the_users_language,
    the_second_party_hears_the_welcome_too_when_the_operator_asks,
);

const FIXTURES: [(&str, &[u8]); 3] = [
    (
        "welcome.flac",
        include_bytes!("../../../telephony/tests/fixtures/welcome.flac"),
    ),
    (
        "welcome.ogg",
        include_bytes!("../../../telephony/tests/fixtures/welcome.ogg"),
    ),
    (
        "welcome.mp3",
        include_bytes!("../../../telephony/tests/fixtures/welcome.mp3"),
    ),
];

async fn upload(browser: &Browser, name: &str, bytes: &[u8]) -> crate::helpers::Answer {
    let csrf = browser.csrf().await;
    browser
        .post_bytes(
            "/settings/welcome",
            &[("x-csrf-token", &csrf), ("x-filename", name)],
            bytes.to_vec(),
        )
        .await
}

/// Energy of 16-bit samples at `freq` Hz (Goertzel), at 8 kHz.
fn power(samples: &[i16], freq: f32) -> f32 {
    let k = 2.0 * (std::f32::consts::TAU * freq / 8000.0).cos();
    let (mut s1, mut s2) = (0.0f32, 0.0f32);
    for &x in samples {
        let s = f32::from(x) / 32768.0 + k * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    s1 * s1 + s2 * s2 - k * s1 * s2
}

async fn every_supported_format_becomes_the_welcome_message_calls_play(app: TestApp) {
    let browser = app.new_browser();
    app.sign_up(&browser, "Voice Taxi", "voice@example.com")
        .await;
    let tenant = app.tenant_id("Voice Taxi").await;
    app.credit_paid(tenant, 30).await;

    for (name, bytes) in FIXTURES {
        let answer = upload(&browser, name, bytes).await;
        assert_eq!(answer.status, StatusCode::OK, "{name}: {}", answer.body);
        let duration = answer.json()["duration_ms"].as_i64().unwrap();
        assert!((1450..1750).contains(&duration), "{name}: {duration} ms");
        let settings = browser.call("call_settings", &[]).await.json();
        assert_eq!(settings["welcome_message"]["name"], name);
    }
    let preview = browser.get("/settings/welcome/preview").await;
    assert_eq!(preview.status, StatusCode::OK);
    assert_eq!(preview.headers["content-type"], "audio/wav");
    assert_eq!(
        app.sql_i64("select count(*) from welcome_message").await,
        1,
        "each upload replaces the last"
    );

    // A call plays it: the first party's channel opens with 440 Hz, not the built-in chime.
    let api = app.api_for(tenant).await;
    let call = api
        .call(json!({ "passenger": "09121237010", "driver": "09351237010" }))
        .await;
    let id = call["id"].as_str().unwrap();
    api.ended(id).await;
    let wav = api
        .get(&format!("/api/v1/calls/{id}/recording"))
        .await
        .bytes;
    let left: Vec<i16> = wav[44..]
        .chunks_exact(4)
        .map(|frame| i16::from_le_bytes([frame[0], frame[1]]))
        .take(8000)
        .collect();
    assert!(
        power(&left, 440.0) > 20.0 * power(&left, 659.25),
        "the uploaded message plays"
    );

    let csrf = browser.csrf().await;
    browser.call("delete_welcome", &[("csrf", &csrf)]).await;
    assert_eq!(
        browser.get("/settings/welcome/preview").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.sql_i64("select count(*) from welcome_message").await, 0);
}

async fn unusable_files_are_refused_with_a_message_in_the_users_language(app: TestApp) {
    let browser = app.new_browser();
    app.sign_up(&browser, "Picky Taxi", "picky@example.com")
        .await;
    let silent_wav = {
        let mut wav = b"RIFF".to_vec();
        let data = vec![0u8; 16_000];
        wav.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
        wav.extend_from_slice(b"WAVEfmt ");
        wav.extend_from_slice(&16u32.to_le_bytes());
        wav.extend_from_slice(&1u16.to_le_bytes());
        wav.extend_from_slice(&1u16.to_le_bytes());
        wav.extend_from_slice(&8000u32.to_le_bytes());
        wav.extend_from_slice(&16000u32.to_le_bytes());
        wav.extend_from_slice(&2u16.to_le_bytes());
        wav.extend_from_slice(&16u16.to_le_bytes());
        wav.extend_from_slice(b"data");
        wav.extend_from_slice(&(data.len() as u32).to_le_bytes());
        wav.extend_from_slice(&data);
        wav
    };
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("empty.wav", Vec::new(), "خالی"),
        (
            "notes.txt",
            b"just some text, not audio".to_vec(),
            "صوتی نیست",
        ),
        ("quiet.wav", silent_wav, "صدایی شنیده نمی‌شود"),
        ("cut.mp3", FIXTURES[2].1[..600].to_vec(), ""),
    ];
    for (name, bytes, message) in cases {
        let answer = upload(&browser, name, &bytes).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        let body = answer.json();
        assert_eq!(body["ok"], false);
        assert!(
            body["message"].as_str().unwrap().contains(message),
            "{name}: {body}"
        );
    }
    let huge = upload(&browser, "huge.wav", &vec![0u8; 6 * 1024 * 1024]).await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    let forged = browser
        .post_bytes(
            "/settings/welcome",
            &[("x-csrf-token", "forged")],
            FIXTURES[0].1.to_vec(),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(app.sql_i64("select count(*) from welcome_message").await, 0);
}

async fn the_second_party_hears_the_welcome_too_when_the_operator_asks(app: TestApp) {
    let browser = app.new_browser();
    app.sign_up(&browser, "Polite Taxi", "polite@example.com")
        .await;
    let tenant = app.tenant_id("Polite Taxi").await;
    app.credit_paid(tenant, 30).await;
    let csrf = browser.csrf().await;
    let saved = browser
        .call(
            "save_call_settings",
            &[
                ("csrf", &csrf),
                ("first_party", "passenger"),
                ("max_duration", "600"),
                ("ring_timeout", "30"),
                ("welcome", "on"),
                ("welcome_second", "on"),
            ],
        )
        .await;
    assert!(saved.status.is_success() || saved.status.is_redirection());
    let api = app.api_for(tenant).await;

    let call = api
        .call(json!({ "passenger": "09121237010", "driver": "09351237010" }))
        .await;
    let call = api.ended(call["id"].as_str().unwrap()).await;

    let welcomes: Vec<&str> = call["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "welcome")
        .map(|e| e["leg"].as_str().unwrap())
        .collect();
    assert_eq!(welcomes, ["first", "second"]);
    assert_eq!(call["status"], "completed");
    let account = api.get("/api/v1/account").await.body;
    assert_eq!(account["settings"]["welcome_to_second"], true);
}
