//! The JSON API under load, through the real server on a local port:
//!
//! * `POST /api/v1/calls` from 64 concurrent clients for `POL_BENCH_SECONDS` (default 10); each
//!   call then runs on the sandbox (time 100× faster, not recorded: synthesizing a minute of
//!   audio per call 100× faster than real time would measure the synthesizer) so the engine's
//!   writes load the database as real calls would;
//! * `GET /api/v1/calls` first page and a deep cursor page (and two filtered scans) in a tenant
//!   holding 1,000,000 calls.
//!
//! `cargo bench -p server --bench api` (PostgreSQL from `POL_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`; skipped with a message if unreachable). Prints
//! a Markdown table for docs/benchmarks.md.

// A benchmark that cannot set up must stop loudly, like a test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::backend::config::TelephonyConfig;
use app::backend::db::Db;
use server::{Application, Config};

const CLIENTS: usize = 64;
const SEEDED: i64 = 1_000_000;

struct Stats {
    samples: Vec<Duration>,
}

impl Stats {
    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.samples.clone();
        sorted.sort();
        let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted.get(index).copied().unwrap_or_default()
    }

    fn ms(d: Duration) -> String {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    }

    fn summary(&self) -> String {
        format!(
            "p50 {} · p95 {} · p99 {}",
            Self::ms(self.percentile(0.50)),
            Self::ms(self.percentile(0.95)),
            Self::ms(self.percentile(0.99))
        )
    }
}

async fn database(kind: &str, dir: &std::path::Path) -> Option<String> {
    if kind == "sqlite" {
        return Some(format!("sqlite://{}/bench.db", dir.display()));
    }
    use sqlx::Connection;
    let admin = std::env::var("POL_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
    let name = format!("pol_bench_api_{}", std::process::id());
    let _ = sqlx::query(&format!("drop database if exists {name} with (force)"))
        .execute(&mut conn)
        .await;
    sqlx::query(&format!("create database {name}"))
        .execute(&mut conn)
        .await
        .ok()?;
    Some(format!("{}/{name}", &admin[..admin.rfind('/')?]))
}

async fn exec(db: &Db, sql: &str) {
    match db {
        Db::Sqlite(pool, _) => sqlx::query(sql).execute(pool).await.map(|_| ()),
        Db::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
    }
    .unwrap_or_else(|e| panic!("{e}: {sql}"));
}

async fn scalar(db: &Db, sql: &str) -> i64 {
    match db {
        Db::Sqlite(pool, _) => sqlx::query_scalar(sql).fetch_one(pool).await,
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
    }
    .unwrap_or_else(|e| panic!("{e}: {sql}"))
}

/// A tenant with plenty of credit, no concurrency limit, and a token.
async fn tenant(state: &app::backend::state::AppState, name: &str) -> (i64, String) {
    let (id, _) = app::backend::accounts::create_tenant_for(
        state,
        name,
        &format!("{}@example.com", name.to_lowercase().replace(' ', "-")),
    )
    .await
    .unwrap();
    app::backend::billing::admin_credit(&state.db, id, 1_000_000_000, "bench", None)
        .await
        .unwrap();
    exec(
        &state.db,
        &format!("update tenant set max_concurrent_calls = 1000000 where tenant_id = {id}"),
    )
    .await;
    let (token, _) = app::backend::api_tokens::create(state, id, "bench", None)
        .await
        .unwrap();
    (id, token)
}

async fn post_calls(base: &str, token: &str, seconds: u64) -> (usize, usize, Stats, Duration) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..CLIENTS {
        let client = client.clone();
        let url = format!("{base}/api/v1/calls");
        let token = token.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut failed = 0;
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                let body = serde_json::json!({
                    "passenger": format!("0912{:07}", (worker as u64 * 100_000 + n) % 10_000_000),
                    "driver": format!("0935{:07}", (worker as u64 * 7_919 + n * 13) % 10_000_000),
                    "max_duration": 120,
                    "record": false,
                });
                let t = Instant::now();
                let ok = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == reqwest::StatusCode::CREATED);
                samples.push(t.elapsed());
                if !ok {
                    failed += 1;
                }
            }
            (samples, failed)
        }));
    }
    let mut samples = Vec::new();
    let mut failed = 0;
    for task in tasks {
        let (s, f) = task.await.unwrap();
        samples.extend(s);
        failed += f;
    }
    let elapsed = started.elapsed();
    let ok = samples.len() - failed;
    (ok, failed, Stats { samples }, elapsed)
}

async fn seed(db: &Db, tenant: i64) -> Duration {
    let started = Instant::now();
    let (series, pad, pad2) = match db {
        Db::Sqlite(..) => (
            format!("(with recursive n(i) as (select 1 union all select i + 1 from n where i < {SEEDED}) select i from n) s"),
            "printf('%07d', i)",
            "printf('%07d', (i * 7919) % 10000000)",
        ),
        Db::Postgres(_) => (
            format!("generate_series(1::bigint, {SEEDED}) as s(i)"),
            "lpad(i::text, 7, '0')",
            "lpad(((i * 7919) % 10000000)::text, 7, '0')",
        ),
    };
    exec(
        db,
        &format!(
            "insert into phone_call (public_id, tenant_id, engine_id, status, sandbox, passenger, driver, \
             first_party, max_duration_seconds, ring_timeout_seconds, record, welcome, held_seconds, \
             talk_seconds, billed_seconds, cost_rial, end_cause, bridged_at, ended_at, created_at, updated_at) \
             select 'call_seed' || i, {tenant}, 'seed', case when i % 10 = 0 then 'busy' else 'completed' end, true, \
             '+98912' || {pad}, '+98935' || {pad2}, 'passenger', 600, 30, false, true, 600, 42, 60, 2500, \
             'first_party_hung_up', 1700000000000 + i * 1000, 1700000042000 + i * 1000, \
             1700000000000 + i * 1000, 1700000042000 + i * 1000 from {series}"
        ),
    )
    .await;
    for (position, party, number) in [
        ("first", "passenger", "passenger"),
        ("second", "driver", "driver"),
    ] {
        exec(
            db,
            &format!(
                "insert into call_leg (phone_call_id, position, party, number, dialled_at, ringing_at, \
                 answered_at, ended_at, cause) select phone_call_id, '{position}', '{party}', {number}, \
                 created_at, created_at + 500, created_at + 3000, ended_at, 'hangup' from phone_call \
                 where tenant_id = {tenant}"
            ),
        )
        .await;
    }
    exec(db, "analyze").await;
    started.elapsed()
}

async fn get_many(client: &reqwest::Client, url: &str, token: &str, n: usize) -> Stats {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let res = client.get(url).bearer_auth(token).send().await.unwrap();
        assert_eq!(res.status(), reqwest::StatusCode::OK, "{url}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert!(!body["data"].as_array().unwrap().is_empty() || url.contains("number="));
        samples.push(t.elapsed());
    }
    Stats { samples }
}

async fn run(kind: &str) {
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = database(kind, dir.path()).await else {
        println!("| {kind} | skipped: database unreachable | |");
        return;
    };
    let mut config = Config::for_tests(url, dir.path().to_path_buf());
    config.telephony = TelephonyConfig::Sandbox { time_scale: 0.01 };
    config.api_rate_limit = 1_000_000;
    let application = Application::build(config).await.unwrap();
    let base = format!("http://127.0.0.1:{}", application.port());
    let state = application.state().clone();
    tokio::spawn(application.run());

    let seconds = std::env::var("POL_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let (_, token) = tenant(&state, "Load Taxi").await;
    let (ok, failed, stats, elapsed) = post_calls(&base, &token, seconds).await;
    println!(
        "| {kind} | POST /calls, 64 clients, {seconds} s | {ok} created ({failed} failed), **{:.0} calls/s** | {} |",
        ok as f64 / elapsed.as_secs_f64(),
        stats.summary()
    );
    // Let the engine finish the calls before reading.
    let drained = Instant::now();
    while state.engine.live_calls() > 0 && drained.elapsed() < Duration::from_secs(120) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "| {kind} | engine drained the calls | {:.1} s after the load stopped | |",
        drained.elapsed().as_secs_f64()
    );

    let (big, token) = tenant(&state, "Big Fleet").await;
    let took = seed(&state.db, big).await;
    println!(
        "| {kind} | seeded {SEEDED} calls (+{} legs) | {:.1} s | |",
        SEEDED * 2,
        took.as_secs_f64()
    );
    let client = Arc::new(reqwest::Client::new());
    let first = get_many(
        &client,
        &format!("{base}/api/v1/calls?limit=50"),
        &token,
        300,
    )
    .await;
    println!(
        "| {kind} | GET /calls first page (50 of 1M), 300 sequential | | {} |",
        first.summary()
    );
    let deep_id = scalar(
        &state.db,
        &format!("select phone_call_id from phone_call where tenant_id = {big} order by phone_call_id desc limit 1 offset 900000"),
    )
    .await;
    let cursor = app::backend::calls::encode_cursor(deep_id);
    let deep = get_many(
        &client,
        &format!("{base}/api/v1/calls?limit=50&cursor={cursor}"),
        &token,
        300,
    )
    .await;
    println!(
        "| {kind} | GET /calls deep cursor (900,000 calls in), 300 sequential | | {} |",
        deep.summary()
    );
    let status = get_many(
        &client,
        &format!("{base}/api/v1/calls?limit=50&status=busy&cursor={cursor}"),
        &token,
        100,
    )
    .await;
    println!(
        "| {kind} | GET /calls?status=busy deep cursor, 100 sequential | | {} |",
        status.summary()
    );
    let number = get_many(
        &client,
        &format!("{base}/api/v1/calls?limit=50&number=5550000"),
        &token,
        10,
    )
    .await;
    println!(
        "| {kind} | GET /calls?number=… (suffix scan of 1M), 10 sequential | | {} |",
        number.summary()
    );
    state.db.close().await;
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    println!("| database | benchmark | result | latency |");
    println!("| --- | --- | --- | --- |");
    for kind in ["sqlite", "postgres"] {
        runtime.block_on(run(kind));
    }
}
