//! Hold + settle, the billing work every call does, on SQLite and PostgreSQL.
//!
//! `cargo bench -p server --bench billing` (PostgreSQL from `POL_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`; skipped with a message if unreachable).

// A benchmark that cannot set up must stop loudly, like a test.
#![allow(clippy::expect_used)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use app::backend::billing::{self, Credit};
use app::backend::db::Db;
use app::domain::Rial;

struct Setup {
    db: Db,
    tenant: i64,
    _dir: tempfile::TempDir,
}

async fn setup(kind: &str) -> Option<Setup> {
    let dir = tempfile::tempdir().ok()?;
    let url = match kind {
        "sqlite" => format!("sqlite://{}/bench.db", dir.path().display()),
        _ => {
            use sqlx::Connection;
            let admin = std::env::var("POL_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
            let name = format!("pol_bench_{}", std::process::id());
            let _ = sqlx::query(&format!("drop database if exists {name} with (force)"))
                .execute(&mut conn)
                .await;
            sqlx::query(&format!("create database {name}"))
                .execute(&mut conn)
                .await
                .ok()?;
            format!("{}/{name}", &admin[..admin.rfind('/')?])
        }
    };
    let db = Db::connect(&url).await.ok()?;
    db.migrate().await.ok()?;
    let mut tx = db.begin().await.ok()?;
    let tenant = app::backend::repo::tenants::insert(&mut tx.conn(), "Bench Taxi", 0)
        .await
        .ok()?;
    tx.commit().await.ok()?;
    let credit = Credit {
        seconds: 1_000_000_000,
        rate_per_minute: Rial::from_toman(200),
        increment_seconds: 60,
        amount: Rial::new(0),
        source: "admin",
        payment_id: None,
        kind: "adjustment",
        reason: "bench",
    };
    billing::credit(&db, tenant, &credit).await.ok()?;
    Some(Setup {
        db,
        tenant,
        _dir: dir,
    })
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("hold_and_settle");
    for kind in ["sqlite", "postgres"] {
        let Some(s) = rt.block_on(setup(kind)) else {
            eprintln!("{kind}: database unreachable, not measured");
            continue;
        };
        let counter = Arc::new(AtomicU64::new(0));
        group.throughput(Throughput::Elements(1));
        group.bench_function(BenchmarkId::new("one_call", kind), |b| {
            b.to_async(&rt).iter(|| {
                let (db, tenant, counter) = (s.db.clone(), s.tenant, counter.clone());
                async move {
                    let call = format!("c{}", counter.fetch_add(1, Ordering::Relaxed));
                    let hold = billing::hold(&db, tenant, 300, &call).await.expect("hold");
                    billing::settle(&db, &hold, 95).await.expect("settle");
                }
            })
        });
        group.throughput(Throughput::Elements(16));
        group.bench_function(BenchmarkId::new("sixteen_concurrent_calls", kind), |b| {
            b.to_async(&rt).iter(|| {
                let (db, tenant, counter) = (s.db.clone(), s.tenant, counter.clone());
                async move {
                    let calls: Vec<_> = (0..16)
                        .map(|_| {
                            let (db, counter) = (db.clone(), counter.clone());
                            tokio::spawn(async move {
                                let call = format!("c{}", counter.fetch_add(1, Ordering::Relaxed));
                                let hold =
                                    billing::hold(&db, tenant, 300, &call).await.expect("hold");
                                billing::settle(&db, &hold, 95).await.expect("settle");
                            })
                        })
                        .collect();
                    for call in calls {
                        call.await.expect("task");
                    }
                }
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(8));
    targets = bench
}
criterion_main!(benches);
