//! Platform admin pages: hidden from everyone else, manual credit/debit, tariff tiers.

use reqwest::StatusCode;

use crate::helpers::{Browser, TestApp};
use crate::on_both_databases;

on_both_databases!(
    the_admin_pages_do_not_exist_for_operators,
    a_platform_admin_credits_and_debits_with_a_reason,
    a_new_tier_prices_new_top_ups_and_old_lots_keep_their_rate,
    falling_below_the_threshold_mails_the_owners_once_per_crossing,
    a_platform_admin_gives_a_company_its_caller_id,
);

const ADMIN_PASSWORD: &str = "platform-admin-pass-1";

async fn admin_browser(app: &TestApp) -> Browser {
    app::backend::accounts::create_platform_admin(&app.state, "root@pol.example", ADMIN_PASSWORD)
        .await
        .unwrap();
    let browser = app.new_browser();
    assert_eq!(
        app.log_in(&browser, "root@pol.example", ADMIN_PASSWORD)
            .await
            .status,
        StatusCode::OK
    );
    browser
}

async fn the_admin_pages_do_not_exist_for_operators(app: TestApp) {
    let owner = app.new_browser();
    app.sign_up(&owner, "Taxi", "operator@example.com").await;
    assert_eq!(owner.get("/admin").await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        owner.get("/admin/tariffs").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        owner.call("admin_tenants", &[]).await.status,
        StatusCode::NOT_FOUND
    );
    let csrf = owner.csrf().await;
    let tenant = app.tenant_id("Taxi").await.to_string();
    let answer = owner
        .call(
            "admin_adjust",
            &[
                ("csrf", &csrf),
                ("tenant_id", &tenant),
                ("minutes", "1000"),
                ("reason", "free money"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    let answer = owner
        .call(
            "admin_add_tier",
            &[
                ("csrf", &csrf),
                ("min_amount", "0"),
                ("rate", "1"),
                ("increment", "60"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    let answer = owner
        .call(
            "admin_set_caller_id",
            &[
                ("csrf", &csrf),
                ("tenant_id", &tenant),
                ("caller_id", "110"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(app.sql_i64("select count(*) from ledger_entry").await, 0);
    assert_eq!(
        app.sql_i64("select count(*) from tenant where caller_id is not null")
            .await,
        0
    );
}

/// `admin_set_caller_id` with one value.
async fn set_caller_id(
    admin: &Browser,
    csrf: &str,
    tenant: i64,
    number: &str,
) -> crate::helpers::Answer {
    let tenant = tenant.to_string();
    admin
        .call(
            "admin_set_caller_id",
            &[
                ("csrf", csrf),
                ("tenant_id", &tenant),
                ("caller_id", number),
            ],
        )
        .await
}

async fn a_platform_admin_gives_a_company_its_caller_id(app: TestApp) {
    let owner = app.new_browser();
    app.sign_up(&owner, "Caller Taxi", "caller-owner@example.com")
        .await;
    let tenant = app.tenant_id("Caller Taxi").await;
    let admin = admin_browser(&app).await;
    let csrf = admin.csrf().await;
    let stored = format!(
        "select count(*) from tenant where tenant_id = {tenant} and caller_id = '02191000000'"
    );

    let bad = set_caller_id(&admin, &csrf, tenant, "021-abc").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["Invalid"]["fields"][0]["field"], "caller_id");
    let good = set_caller_id(&admin, &csrf, tenant, "۰۲۱ ۹۱۰۰ ۰۰۰۰").await;
    assert!(good.status.is_success() || good.status.is_redirection());
    assert_eq!(app.sql_i64(&stored).await, 1);
    assert_eq!(
        app.sql_i64("select count(*) from audit_log where action = 'caller_id_set'")
            .await,
        1
    );
    let api = app.api_for(tenant).await;
    let account = api.get("/api/v1/account").await.body;
    assert_eq!(account["settings"]["caller_id"], "02191000000");
    let page = admin.get("/admin").await;
    assert!(page.body.contains("۰۲۱۹۱۰۰۰۰۰۰"), "the admin page lists it");

    // Saving the call settings does not touch it; an empty value gives the default back.
    let owner_csrf = owner.csrf().await;
    let saved = owner
        .call(
            "save_call_settings",
            &[
                ("csrf", &owner_csrf),
                ("first_party", "passenger"),
                ("max_duration", "600"),
                ("ring_timeout", "30"),
            ],
        )
        .await;
    assert!(saved.status.is_success() || saved.status.is_redirection());
    assert_eq!(app.sql_i64(&stored).await, 1);
    let cleared = set_caller_id(&admin, &csrf, tenant, "").await;
    assert!(cleared.status.is_success() || cleared.status.is_redirection());
    assert_eq!(app.sql_i64(&stored).await, 0);
    let nobody = set_caller_id(&admin, &csrf, 999_999, "110").await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
}

async fn a_platform_admin_credits_and_debits_with_a_reason(app: TestApp) {
    let owner = app.new_browser();
    app.sign_up(&owner, "Credit Taxi", "credit-owner@example.com")
        .await;
    let tenant = app.tenant_id("Credit Taxi").await;
    let id = tenant.to_string();
    let admin = admin_browser(&app).await;
    assert!(admin.get("/admin").await.body.contains("Credit Taxi"));
    let csrf = admin.csrf().await;

    let answer = admin
        .call(
            "admin_adjust",
            &[
                ("csrf", &csrf),
                ("tenant_id", &id),
                ("minutes", "۴۰"),
                ("reason", "welcome"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(app.minutes(tenant).await, 40);
    assert!(owner.get("/dashboard").await.body.contains("۴۰ دقیقه"));

    let too_much = admin
        .call(
            "admin_adjust",
            &[
                ("csrf", &csrf),
                ("tenant_id", &id),
                ("minutes", "-50"),
                ("reason", "oops"),
            ],
        )
        .await;
    assert_eq!(too_much.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(too_much.body.contains("ExceedsBalance"));
    let no_reason = admin
        .call(
            "admin_adjust",
            &[
                ("csrf", &csrf),
                ("tenant_id", &id),
                ("minutes", "-10"),
                ("reason", "  "),
            ],
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    let junk = admin
        .call(
            "admin_adjust",
            &[
                ("csrf", &csrf),
                ("tenant_id", &id),
                ("minutes", "ten"),
                ("reason", "x"),
            ],
        )
        .await;
    assert!(junk.body.contains("NotANumber"));
    let ghost = admin
        .call(
            "admin_adjust",
            &[
                ("csrf", &csrf),
                ("tenant_id", "999999"),
                ("minutes", "10"),
                ("reason", "x"),
            ],
        )
        .await;
    assert_eq!(ghost.status, StatusCode::NOT_FOUND);

    let debit = admin
        .call(
            "admin_adjust",
            &[
                ("csrf", &csrf),
                ("tenant_id", &id),
                ("minutes", "-10"),
                ("reason", "refund reversal"),
            ],
        )
        .await;
    assert_eq!(debit.status, StatusCode::OK, "{}", debit.body);
    assert_eq!(app.minutes(tenant).await, 30);
    assert_eq!(
        app.sql_i64("select count(*) from ledger_entry where kind = 'adjustment'")
            .await,
        2
    );
    assert_eq!(
        app.sql_i64("select count(*) from audit_log where action like 'billing.admin_%'")
            .await,
        2
    );
    let (replayed, _) = app::backend::billing::replay(&app.state.db, tenant)
        .await
        .unwrap();
    assert_eq!(replayed, 30 * 60);
}

async fn a_new_tier_prices_new_top_ups_and_old_lots_keep_their_rate(app: TestApp) {
    let owner = app.new_browser();
    app.sign_up(&owner, "Tier Taxi", "tier-owner@example.com")
        .await;
    let buy = |browser: Browser| async move {
        let csrf = browser.csrf().await;
        let start = browser
            .call("start_top_up", &[("csrf", &csrf), ("amount", "10000")])
            .await;
        let gateway = start.location.unwrap();
        let authority = gateway.rsplit('/').next().unwrap().to_string();
        let page = browser.get(&format!("/pay/test/{authority}")).await;
        let decided = browser
            .call(
                "test_gateway_decide",
                &[
                    ("csrf", &page.csrf()),
                    ("authority", &authority),
                    ("decision", "pay"),
                ],
            )
            .await;
        browser.get(&decided.location.unwrap()).await;
    };
    buy(owner.clone()).await;
    let admin = admin_browser(&app).await;
    let csrf = admin.csrf().await;
    let bad = admin
        .call(
            "admin_add_tier",
            &[
                ("csrf", &csrf),
                ("min_amount", "0"),
                ("rate", "0"),
                ("increment", "60"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let added = admin
        .call(
            "admin_add_tier",
            &[
                ("csrf", &csrf),
                ("min_amount", "0"),
                ("rate", "100"),
                ("increment", "60"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    assert!(admin.get("/admin/tariffs").await.body.contains("۱۰۰ تومان"));
    buy(owner.clone()).await;

    let tenant = app.tenant_id("Tier Taxi").await;
    assert_eq!(app.minutes(tenant).await, 40 + 100);
    assert_eq!(
        app.sql_i64("select count(*) from credit_lot where rate_rial_per_minute = 2500")
            .await,
        1,
        "the old lot keeps 250 T/min"
    );
    assert_eq!(
        app.sql_i64("select count(*) from credit_lot where rate_rial_per_minute = 1000")
            .await,
        1
    );
}

async fn falling_below_the_threshold_mails_the_owners_once_per_crossing(app: TestApp) {
    let owner = app.new_browser();
    app.sign_up(&owner, "Low Taxi", "low-owner@example.com")
        .await;
    let id = app.tenant_id("Low Taxi").await.to_string();
    let admin = admin_browser(&app).await;
    let csrf = admin.csrf().await;
    let adjust = |minutes: &'static str| {
        let (admin, csrf, id) = (admin.clone(), csrf.clone(), id.clone());
        async move {
            let answer = admin
                .call(
                    "admin_adjust",
                    &[
                        ("csrf", &csrf),
                        ("tenant_id", &id),
                        ("minutes", minutes),
                        ("reason", "test"),
                    ],
                )
                .await;
            assert_eq!(answer.status, StatusCode::OK, "{minutes}: {}", answer.body);
        }
    };
    let warnings = |app: &TestApp| {
        app.mails()
            .iter()
            .filter(|m| m.contains("دقیقه مکالمه برای"))
            .count()
    };
    adjust("40").await;
    adjust("-15").await;
    assert_eq!(warnings(&app), 1, "40 → 25 minutes crosses 30");
    assert!(app
        .mails()
        .iter()
        .any(|m| m.contains("تنها ۲۵ دقیقه") && m.contains("To: low-owner@example.com")));
    adjust("-5").await;
    assert_eq!(warnings(&app), 1, "still below: no second mail");
    assert!(owner.get("/dashboard").await.body.contains("low-balance"));
    adjust("20").await;
    adjust("-20").await;
    assert_eq!(
        warnings(&app),
        2,
        "back above, then below again: a new warning"
    );
}
