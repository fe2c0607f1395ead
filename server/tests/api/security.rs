//! CSRF, throttling, malformed input.

use reqwest::StatusCode;

use crate::helpers::{TestApp, PASSWORD};
use crate::on_both_databases;

on_both_databases!(
    a_post_without_the_csrf_token_is_refused,
    repeated_failed_logins_are_throttled_per_account,
    repeated_failed_logins_are_throttled_per_address,
    malformed_server_function_input_is_a_client_error,
    the_session_cookie_is_http_only_and_same_site,
    the_session_id_changes_at_login,
);

async fn a_post_without_the_csrf_token_is_refused(app: TestApp) {
    app.sign_up(&app.new_browser(), "Taxi", "csrf@example.com")
        .await;
    let browser = app.new_browser();
    browser.csrf().await;
    let missing = browser
        .call(
            "login",
            &[("email", "csrf@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert!(missing.status.is_client_error(), "{:?}", missing.status);
    let forged = browser
        .call(
            "login",
            &[
                ("csrf", "forged"),
                ("email", "csrf@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(forged.json(), serde_json::json!("Csrf"));
    // Another session's token does not work either.
    let other_token = app.new_browser().csrf().await;
    let stolen = browser
        .call(
            "login",
            &[
                ("csrf", &other_token),
                ("email", "csrf@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(stolen.status, StatusCode::FORBIDDEN);
    assert_eq!(
        browser.get("/dashboard").await.status,
        StatusCode::FOUND,
        "still signed out"
    );
    let signup = browser
        .call(
            "signup",
            &[
                ("csrf", ""),
                ("company", "X"),
                ("full_name", "X"),
                ("email", "x@example.com"),
                ("mobile", "09120000000"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(signup.status, StatusCode::FORBIDDEN);
    assert_eq!(app.sql_i64("select count(*) from app_user").await, 1);
}

async fn repeated_failed_logins_are_throttled_per_account(app: TestApp) {
    app.sign_up(&app.new_browser(), "Taxi", "victim@example.com")
        .await;
    for _ in 0..5 {
        let answer = app
            .log_in(
                &app.new_browser(),
                "victim@example.com",
                "guess-guess-guess",
            )
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    let answer = app
        .log_in(&app.new_browser(), "victim@example.com", PASSWORD)
        .await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        answer.json(),
        serde_json::json!({"Throttled": {"minutes": 15}})
    );

    // The page shows "try again in N minutes" in the user's language.
    let browser = app.new_browser();
    let csrf = browser.csrf().await;
    let redirect = browser
        .submit(
            "/login",
            "login",
            &[
                ("csrf", &csrf),
                ("email", "victim@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let back = redirect.location.unwrap();
    let page = browser.get(&back[back.find("/login").unwrap()..]).await;
    assert!(page.body.contains("۱۵ دقیقه"), "{}", page.body);

    // Once the window has passed, the right password works again.
    app.sql_exec("update login_failure set created_at = created_at - 16 * 60 * 1000")
        .await;
    assert_eq!(
        app.log_in(&app.new_browser(), "victim@example.com", PASSWORD)
            .await
            .status,
        StatusCode::OK
    );
}

async fn repeated_failed_logins_are_throttled_per_address(app: TestApp) {
    for i in 0..20 {
        let answer = app
            .log_in(
                &app.new_browser(),
                &format!("spray{i}@example.com"),
                "guess-guess-guess",
            )
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    let answer = app
        .log_in(
            &app.new_browser(),
            "someone-else@example.com",
            "guess-guess-guess",
        )
        .await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
}

async fn malformed_server_function_input_is_a_client_error(app: TestApp) {
    let browser = app.new_browser();
    let csrf = browser.csrf().await;
    let answer = browser.call("login", &[("csrf", &csrf)]).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    let answer = browser.call("member", &[("id", "not-a-number")]).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "signed out first");
    let huge = "x".repeat(200_000);
    let answer = browser
        .call(
            "login",
            &[("csrf", &csrf), ("email", &huge), ("password", &huge)],
        )
        .await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    // The server answered 413 without reading that body and closed the connection: a new client.
    let answer = app.new_browser().get("/no/such/page").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert!(answer.body.contains("not-found"));
}

async fn the_session_cookie_is_http_only_and_same_site(app: TestApp) {
    let answer = app.new_browser().get("/login").await;
    let cookie = answer
        .headers
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("pol_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
}

async fn the_session_id_changes_at_login(app: TestApp) {
    app.sign_up(&app.new_browser(), "Taxi", "fixation@example.com")
        .await;
    let browser = app.new_browser();
    let before = browser
        .get("/login")
        .await
        .headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let login = app.log_in(&browser, "fixation@example.com", PASSWORD).await;
    let after = login
        .headers
        .get("set-cookie")
        .expect("a new cookie at login")
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert_ne!(before, after);
}
