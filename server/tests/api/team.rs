//! Invitations, roles, several tenants per person, and the wall between tenants.

use reqwest::StatusCode;

use crate::helpers::{link_in, TestApp};
use crate::on_both_databases;

on_both_databases!(
    another_tenants_ids_answer_not_found_everywhere,
    an_invited_person_creates_an_account_and_joins_the_team,
    a_person_can_belong_to_several_tenants_and_switch,
    the_last_owner_cannot_be_demoted_or_removed,
    viewers_cannot_manage_the_team,
);

async fn another_tenants_ids_answer_not_found_everywhere(app: TestApp) {
    let alice = app.new_browser();
    app.sign_up(&alice, "Alice Taxi", "alice@example.com").await;
    let bob = app.new_browser();
    app.sign_up(&bob, "Bob Cabs", "bob@example.com").await;
    let bob_membership = app.sql_i64("select membership_id from membership m join app_user u on u.user_id = m.user_id where u.email = 'bob@example.com'").await;
    let bob_tenant = app
        .sql_i64("select tenant_id from tenant where name = 'Bob Cabs'")
        .await;

    let page = alice.get(&format!("/settings/team/{bob_membership}")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.body.contains("bob@example.com"));
    let id = bob_membership.to_string();
    let csrf = alice.csrf().await;
    assert_eq!(
        alice.call("member", &[("id", &id)]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        alice
            .call(
                "set_member_role",
                &[("csrf", &csrf), ("id", &id), ("role", "viewer")]
            )
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        alice
            .call("remove_member", &[("csrf", &csrf), ("id", &id)])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        alice
            .call("revoke_invitation", &[("csrf", &csrf), ("id", &id)])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        alice
            .call(
                "switch_tenant",
                &[("csrf", &csrf), ("tenant_id", &bob_tenant.to_string())]
            )
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(!alice.get("/dashboard").await.body.contains("Bob Cabs"));
    let team = alice.get("/settings/team").await;
    assert!(team.body.contains("alice@example.com") && !team.body.contains("bob@example.com"));
    assert_eq!(
        app.sql_i64("select count(*) from membership where role = 'owner'")
            .await,
        2,
        "nothing changed"
    );
}

async fn an_invited_person_creates_an_account_and_joins_the_team(app: TestApp) {
    let owner = app.new_browser();
    app.sign_up(&owner, "Alice Taxi", "owner@example.com").await;
    let csrf = owner.csrf().await;
    let answer = owner
        .call(
            "invite_member",
            &[
                ("csrf", &csrf),
                ("email", "New.Hire@example.com"),
                ("role", "admin"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let mail = app.wait_for_mail(2).await;
    assert!(mail.contains("To: new.hire@example.com"));
    let link = link_in(&mail, "/invite");
    let token = link[link.find("token=").unwrap() + 6..].to_string();

    let invitee = app.new_browser();
    let page = invitee.get(&link).await;
    assert!(page.body.contains("Alice Taxi"), "{}", page.body);
    let csrf = invitee.csrf().await;
    let weak = invitee
        .call(
            "accept_invitation",
            &[
                ("csrf", &csrf),
                ("token", &token),
                ("full_name", "Hire"),
                ("password", "123"),
            ],
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    let joined = invitee
        .call(
            "accept_invitation",
            &[
                ("csrf", &csrf),
                ("token", &token),
                ("full_name", "New Hire"),
                ("password", "hired-and-happy-2026"),
            ],
        )
        .await;
    assert_eq!(joined.status, StatusCode::OK, "{}", joined.body);
    let dashboard = invitee.get("/dashboard").await;
    assert!(dashboard.body.contains("Alice Taxi"));
    assert!(
        !dashboard.body.contains("unverified-banner"),
        "the invitation proved the address"
    );
    assert_eq!(
        app.sql_i64("select count(*) from membership where role = 'admin'")
            .await,
        1
    );

    let again = invitee
        .call("accept_invitation", &[("csrf", &csrf), ("token", &token)])
        .await;
    assert_eq!(again.status, StatusCode::GONE, "an invitation is used once");
    let duplicate = owner
        .call(
            "invite_member",
            &[
                ("csrf", &owner.csrf().await),
                ("email", "new.hire@example.com"),
                ("role", "viewer"),
            ],
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(duplicate.body.contains("AlreadyMember"));
}

async fn a_person_can_belong_to_several_tenants_and_switch(app: TestApp) {
    let browser = app.new_browser();
    app.sign_up(&browser, "First Co", "multi@example.com").await;
    let csrf = browser.csrf().await;
    let created = browser
        .call(
            "create_tenant",
            &[("csrf", &csrf), ("company", "Second Co")],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK);
    assert!(browser.get("/dashboard").await.body.contains("Second Co"));
    let first = app
        .sql_i64("select tenant_id from tenant where name = 'First Co'")
        .await
        .to_string();
    let switched = browser
        .call("switch_tenant", &[("csrf", &csrf), ("tenant_id", &first)])
        .await;
    assert_eq!(switched.status, StatusCode::OK);
    let dashboard = browser.get("/dashboard").await;
    let active = regex::Regex::new(r#"data-testid="dashboard-tenant"[^>]*>([^<]*)<"#).unwrap();
    assert_eq!(&active.captures(&dashboard.body).unwrap()[1], "First Co");
    let companies = browser.get("/settings/companies").await;
    assert!(companies.body.contains("First Co") && companies.body.contains("Second Co"));
}

async fn the_last_owner_cannot_be_demoted_or_removed(app: TestApp) {
    let owner = app.new_browser();
    app.sign_up(&owner, "Solo", "solo@example.com").await;
    let id = app
        .sql_i64("select membership_id from membership")
        .await
        .to_string();
    let csrf = owner.csrf().await;
    let demote = owner
        .call(
            "set_member_role",
            &[("csrf", &csrf), ("id", &id), ("role", "viewer")],
        )
        .await;
    assert_eq!(demote.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(demote.body.contains("LastOwner"));
    let remove = owner
        .call("remove_member", &[("csrf", &csrf), ("id", &id)])
        .await;
    assert_eq!(remove.status, StatusCode::UNPROCESSABLE_ENTITY);
    let nonsense = owner
        .call(
            "set_member_role",
            &[("csrf", &csrf), ("id", &id), ("role", "emperor")],
        )
        .await;
    assert_eq!(nonsense.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.sql_i64("select count(*) from membership where role = 'owner'")
            .await,
        1
    );
}

async fn viewers_cannot_manage_the_team(app: TestApp) {
    let owner = app.new_browser();
    app.sign_up(&owner, "Alice Taxi", "boss@example.com").await;
    let csrf = owner.csrf().await;
    owner
        .call(
            "invite_member",
            &[
                ("csrf", &csrf),
                ("email", "viewer@example.com"),
                ("role", "viewer"),
            ],
        )
        .await;
    let link = link_in(&app.wait_for_mail(2).await, "/invite");
    let token = link[link.find("token=").unwrap() + 6..].to_string();
    let viewer = app.new_browser();
    let vcsrf = viewer.csrf().await;
    let joined = viewer
        .call(
            "accept_invitation",
            &[
                ("csrf", &vcsrf),
                ("token", &token),
                ("full_name", "V"),
                ("password", "viewer-password-9"),
            ],
        )
        .await;
    assert_eq!(joined.status, StatusCode::OK);
    let boss_id = app
        .sql_i64("select membership_id from membership where role = 'owner'")
        .await
        .to_string();
    let answer = viewer
        .call("remove_member", &[("csrf", &vcsrf), ("id", &boss_id)])
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let answer = viewer
        .call(
            "invite_member",
            &[
                ("csrf", &vcsrf),
                ("email", "x@example.com"),
                ("role", "owner"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
}
