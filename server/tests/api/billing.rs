//! Prepaid credit under concurrency, on both databases.

use app::backend::billing::{self, BillingError, Credit};
use app::domain::Rial;

use crate::helpers::TestApp;
use crate::on_both_databases;

on_both_databases!(fifty_concurrent_holds_against_ten_minutes_grant_exactly_ten);

async fn fifty_concurrent_holds_against_ten_minutes_grant_exactly_ten(app: TestApp) {
    app.sign_up(&app.new_browser(), "Taxi", "billing@example.com")
        .await;
    let tenant = app.sql_i64("select tenant_id from tenant").await;
    let db = app.state.db.clone();
    let ten_minutes = Credit {
        seconds: 600,
        rate_per_minute: Rial::from_toman(250),
        increment_seconds: 60,
        amount: Rial::from_toman(2_500),
        source: "admin",
        payment_id: None,
        kind: "adjustment",
        reason: "test credit",
    };
    billing::credit(&db, tenant, &ten_minutes).await.unwrap();

    let calls: Vec<_> = (0..50)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move { billing::hold(&db, tenant, 60, &format!("call-{i}")).await })
        })
        .collect();
    let mut granted = 0;
    for call in calls {
        match call.await.unwrap() {
            Ok(hold) => {
                assert_eq!(hold.seconds, 60);
                granted += 1;
            }
            Err(BillingError::InsufficientCredit { available_seconds }) => {
                assert_eq!(available_seconds, 0)
            }
            Err(other) => panic!("unexpected: {other}"),
        }
    }
    assert_eq!(granted, 10);
    let balance = billing::balance(&db, tenant).await.unwrap();
    assert_eq!((balance.total_seconds, balance.held_seconds), (600, 600));
    let (replayed, entries) = billing::replay(&db, tenant).await.unwrap();
    assert_eq!(replayed, 0);
    assert_eq!(entries.len(), 11, "one credit and ten holds");
    assert_eq!(app.sql_i64("select count(*) from credit_hold").await, 10);
}
