//! Sign-up, verification, login, logout and password reset.

use reqwest::StatusCode;

use crate::helpers::{link_in, TestApp, PASSWORD};
use crate::on_both_databases;

on_both_databases!(
    signing_up_then_verifying_then_logging_in_reaches_the_dashboard,
    signing_up_twice_with_the_same_email_is_refused_and_writes_nothing,
    bad_sign_up_input_gets_an_error_for_every_field_and_writes_nothing,
    a_wrong_password_and_an_unknown_email_get_the_same_answer,
    a_verification_link_works_once_and_expires,
    a_password_reset_signs_out_other_sessions_and_its_link_works_once,
    the_dashboard_sends_visitors_to_the_login_page,
    the_language_switch_is_remembered_for_the_user,
);

async fn signing_up_then_verifying_then_logging_in_reaches_the_dashboard(app: TestApp) {
    let browser = app.new_browser();
    let answer = app
        .sign_up(&browser, "تاکسی نارنجی", "Owner@Example.com")
        .await;
    assert_eq!(answer.location.as_deref(), Some("/dashboard"));

    let dashboard = browser.get("/dashboard").await;
    assert_eq!(dashboard.status, StatusCode::OK);
    assert!(
        dashboard.body.contains("تاکسی نارنجی"),
        "tenant name on the dashboard"
    );
    assert!(dashboard.body.contains(r#"dir="rtl""#));
    assert!(dashboard.body.contains("unverified-banner"));
    assert!(
        dashboard.body.contains("۰ دقیقه"),
        "balance 0 in Persian digits"
    );

    let mail = app.wait_for_mail(1).await;
    assert!(mail.contains("To: owner@example.com"), "{mail}");
    let verify = browser.get(&link_in(&mail, "/verify-email")).await;
    assert_eq!(verify.status, StatusCode::OK);
    assert!(
        verify.body.contains("ایمیل شما تأیید شد"),
        "{}",
        verify.body
    );
    assert!(!browser
        .get("/dashboard")
        .await
        .body
        .contains("unverified-banner"));

    let csrf = browser.get("/dashboard").await.csrf();
    let logout = browser
        .submit("/dashboard", "logout", &[("csrf", &csrf)])
        .await;
    assert_eq!(logout.status, StatusCode::FOUND);
    assert_eq!(
        browser.get("/dashboard").await.status,
        StatusCode::FOUND,
        "signed out"
    );

    let login = app.log_in(&browser, "owner@example.com", PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let dashboard = browser.get("/dashboard").await;
    assert!(dashboard.body.contains("تاکسی نارنجی"));
    assert_eq!(
        app.sql_i64("select count(*) from app_user where mobile = '+989123456789'")
            .await,
        1,
        "mobile stored as E.164"
    );
}

async fn signing_up_twice_with_the_same_email_is_refused_and_writes_nothing(app: TestApp) {
    app.sign_up(&app.new_browser(), "First Taxi", "dup@example.com")
        .await;
    let other = app.new_browser();
    let csrf = other.csrf().await;
    let answer = other
        .call(
            "signup",
            &[
                ("csrf", &csrf),
                ("company", "Second Taxi"),
                ("full_name", "B"),
                ("email", " DUP@example.com "),
                ("mobile", "09121111111"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = answer.json();
    assert_eq!(body["Invalid"]["fields"][0]["field"], "email");
    assert_eq!(body["Invalid"]["fields"][0]["problem"], "EmailTaken");
    assert_eq!(
        app.sql_i64("select count(*) from tenant").await,
        1,
        "no half-written tenant"
    );
    assert_eq!(app.sql_i64("select count(*) from membership").await, 1);
}

async fn bad_sign_up_input_gets_an_error_for_every_field_and_writes_nothing(app: TestApp) {
    let browser = app.new_browser();
    let csrf = browser.csrf().await;
    let answer = browser
        .call(
            "signup",
            &[
                ("csrf", &csrf),
                ("company", "   "),
                ("full_name", "\u{0}"),
                ("email", "not-an-email"),
                ("mobile", "021-8877 6655"),
                ("password", "1234567890"),
            ],
        )
        .await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.body
    );
    let body = answer.json();
    let fields: Vec<(String, String)> = body["Invalid"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap().to_string(),
                f["problem"].to_string(),
            )
        })
        .collect();
    let names: Vec<&str> = fields.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        names,
        ["company", "full_name", "email", "mobile", "password"],
        "{fields:?}"
    );
    assert!(fields[3].1.contains("NotMobile"));
    assert!(fields[4].1.contains("TooCommon"));
    // Typed values come back so the form can be refilled, the password never does.
    assert!(answer.body.contains("not-an-email"));
    assert!(!answer.body.contains("1234567890"));
    assert_eq!(app.sql_i64("select count(*) from app_user").await, 0);

    // Without JavaScript the same mistake comes back as a redirect to the form with the error.
    let answer = browser
        .submit(
            "/signup",
            "signup",
            &[
                ("csrf", &csrf),
                ("company", ""),
                ("full_name", ""),
                ("email", "x"),
                ("mobile", "x"),
                ("password", "x"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::FOUND);
    let back = answer.location.unwrap();
    assert!(
        back.contains("/signup?") && back.contains("__err="),
        "{back}"
    );
    let page = browser.get(&back[back.find("/signup").unwrap()..]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("این بخش را پر کنید"),
        "field error rendered on the server"
    );
}

async fn a_wrong_password_and_an_unknown_email_get_the_same_answer(app: TestApp) {
    app.sign_up(&app.new_browser(), "Taxi", "known@example.com")
        .await;
    let wrong = app
        .log_in(
            &app.new_browser(),
            "known@example.com",
            "wrong-password-123",
        )
        .await;
    let unknown = app
        .log_in(
            &app.new_browser(),
            "nobody@example.com",
            "wrong-password-123",
        )
        .await;
    let junk = app
        .log_in(&app.new_browser(), "'; drop table app_user; --", "x")
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.status, unknown.status);
    assert_eq!(wrong.body, unknown.body);
    assert_eq!(wrong.body, junk.body);
    assert_eq!(wrong.json(), serde_json::json!("InvalidCredentials"));
}

async fn a_verification_link_works_once_and_expires(app: TestApp) {
    let browser = app.new_browser();
    app.sign_up(&browser, "Taxi", "verify@example.com").await;
    let link = link_in(&app.wait_for_mail(1).await, "/verify-email");
    assert!(browser.get(&link).await.body.contains("ایمیل شما تأیید شد"));
    let again = browser.get(&link).await;
    assert!(
        again.body.contains("پیوند نامعتبر"),
        "a used link is refused: {}",
        again.body
    );

    // A second account whose link has expired.
    let other = app.new_browser();
    app.sign_up(&other, "Taxi 2", "late@example.com").await;
    let link = link_in(&app.wait_for_mail(2).await, "/verify-email");
    app.sql_exec("update email_token set expires_at = 1 where used_at is null")
        .await;
    let token = &link[link.find("token=").unwrap() + 6..];
    let answer = other.call("verify_email", &[("token", token)]).await;
    assert_eq!(answer.status, StatusCode::GONE);
    assert_eq!(answer.json(), serde_json::json!("LinkInvalid"));
    assert_eq!(
        app.sql_i64("select count(*) from app_user where email_verified_at is not null")
            .await,
        1
    );
}

async fn a_password_reset_signs_out_other_sessions_and_its_link_works_once(app: TestApp) {
    let laptop = app.new_browser();
    app.sign_up(&laptop, "Taxi", "reset@example.com").await;
    assert_eq!(laptop.get("/dashboard").await.status, StatusCode::OK);

    let phone = app.new_browser();
    let csrf = phone.csrf().await;
    let answer = phone
        .call(
            "forgot_password",
            &[("csrf", &csrf), ("email", "reset@example.com")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    // Unknown addresses get the same answer and no mail.
    let answer = phone
        .call(
            "forgot_password",
            &[("csrf", &csrf), ("email", "ghost@example.com")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);

    let mail = app.wait_for_mail(2).await;
    let link = link_in(&mail, "/reset-password");
    let token = link[link.find("token=").unwrap() + 6..].to_string();
    assert_eq!(phone.get(&link).await.status, StatusCode::OK);
    let weak = phone
        .call(
            "reset_password",
            &[("csrf", &csrf), ("token", &token), ("password", "short")],
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    let done = phone
        .call(
            "reset_password",
            &[
                ("csrf", &csrf),
                ("token", &token),
                ("password", "brand-new-secret-77"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.location.as_deref(), Some("/login?reset=1"));

    assert_eq!(
        laptop.get("/dashboard").await.status,
        StatusCode::FOUND,
        "the other session is signed out"
    );
    let reused = phone
        .call(
            "reset_password",
            &[
                ("csrf", &phone.csrf().await),
                ("token", &token),
                ("password", "another-secret-88"),
            ],
        )
        .await;
    assert_eq!(reused.status, StatusCode::GONE);
    assert_eq!(
        app.log_in(&app.new_browser(), "reset@example.com", PASSWORD)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.log_in(
            &app.new_browser(),
            "reset@example.com",
            "brand-new-secret-77"
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(app.mails().len(), 2, "no mail for the unknown address");
}

async fn the_dashboard_sends_visitors_to_the_login_page(app: TestApp) {
    let answer = app.new_browser().get("/dashboard").await;
    assert_eq!(answer.status, StatusCode::FOUND);
    assert_eq!(answer.location.as_deref(), Some("/login?next=/dashboard"));
}

async fn the_language_switch_is_remembered_for_the_user(app: TestApp) {
    let browser = app.new_browser();
    app.sign_up(&browser, "Taxi", "lang@example.com").await;
    let csrf = browser.csrf().await;
    let answer = browser
        .submit(
            "/dashboard",
            "set_language",
            &[("csrf", &csrf), ("lang", "en")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::FOUND);
    let page = browser.get("/dashboard").await;
    assert!(
        page.body.contains(r#"<html lang="en" dir="ltr""#),
        "{}",
        &page.body[..200.min(page.body.len())]
    );
    assert!(page.body.contains("0 min"));

    // A new session of the same person opens in English too.
    let other = app.new_browser();
    assert_eq!(
        app.log_in(&other, "lang@example.com", PASSWORD)
            .await
            .status,
        StatusCode::OK
    );
    assert!(other.get("/dashboard").await.body.contains(r#"lang="en""#));
    let bad = browser
        .call("set_language", &[("csrf", &csrf), ("lang", "de")])
        .await;
    assert_eq!(bad.status, StatusCode::NOT_FOUND);
}
