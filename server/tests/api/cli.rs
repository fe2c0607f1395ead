//! The `pol` command line against the same database as a running server.

use std::process::Command;

use crate::helpers::TestApp;
use crate::on_both_databases;

on_both_databases!(
    an_admin_credit_from_the_cli_shows_on_the_dashboard,
    the_cli_refuses_a_credit_without_a_reason,
    a_token_from_the_cli_opens_the_api,
);

fn pol(app: &TestApp, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pol"))
        .args(args)
        .env("DATABASE_URL", &app.state.config.database_url)
        .env("POL_DATA_DIR", &app.state.config.data_dir)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the pol binary runs")
}

async fn an_admin_credit_from_the_cli_shows_on_the_dashboard(app: TestApp) {
    let browser = app.new_browser();
    app.sign_up(&browser, "تاکسی سبز", "green@example.com")
        .await;
    assert!(browser.get("/dashboard").await.body.contains("۰ دقیقه"));

    let out = pol(
        &app,
        &[
            "credit",
            "add",
            "--tenant",
            "تاکسی سبز",
            "--minutes",
            "40",
            "--reason",
            "welcome gift",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("40 min available"));

    assert!(browser.get("/dashboard").await.body.contains("۴۰ دقیقه"));
    assert_eq!(
        app.sql_i64("select count(*) from audit_log where action = 'billing.admin_credit'")
            .await,
        1
    );
    assert_eq!(
        app.sql_i64("select balance_after from ledger_entry").await,
        2400
    );
}

async fn the_cli_refuses_a_credit_without_a_reason(app: TestApp) {
    app.sign_up(&app.new_browser(), "Taxi", "reason@example.com")
        .await;
    let out = pol(
        &app,
        &[
            "credit",
            "add",
            "--tenant",
            "Taxi",
            "--minutes",
            "40",
            "--reason",
            "  ",
        ],
    );
    assert!(!out.status.success());
    let out = pol(
        &app,
        &[
            "credit",
            "add",
            "--tenant",
            "No Such Taxi",
            "--minutes",
            "40",
            "--reason",
            "x",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no tenant"));
    let out = pol(
        &app,
        &[
            "credit",
            "add",
            "--tenant",
            "Taxi",
            "--minutes",
            "-5",
            "--reason",
            "x",
        ],
    );
    assert!(!out.status.success());
    assert_eq!(
        app.sql_i64("select count(*) from ledger_entry").await,
        0,
        "nothing written"
    );
}

async fn a_token_from_the_cli_opens_the_api(app: TestApp) {
    app.sign_up(&app.new_browser(), "تاکسی سبز", "cli-token@example.com")
        .await;

    let out = pol(
        &app,
        &[
            "token",
            "create",
            "--tenant",
            "تاکسی سبز",
            "--name",
            "dispatch server",
        ],
    );

    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(token.starts_with("pol_test_"), "{token}");
    let api = crate::helpers::Api::new(&app.address, &token);
    let account = api.get("/api/v1/account").await;
    assert_eq!(account.status, reqwest::StatusCode::OK);
    assert_eq!(account.body["tenant"]["name"], "تاکسی سبز");
    let refused = pol(
        &app,
        &["token", "create", "--tenant", "تاکسی سبز", "--name", " "],
    );
    assert!(!refused.status.success());
    assert_eq!(app.sql_i64("select count(*) from api_token").await, 1);
}
