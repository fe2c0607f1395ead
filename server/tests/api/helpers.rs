//! `spawn_app()` and a small client that behaves like a browser (cookies, forms).

use regex::Regex;
use reqwest::header::{ACCEPT, REFERER};
use reqwest::redirect::Policy;
use reqwest::StatusCode;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;

use server::{Application, Config};

/// Which database a test runs on.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs one async test function once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($($test:ident),* $(,)?) => {
        $(
            mod $test {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_sqlite() {
                    super::$test($crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_postgres() {
                    super::$test($crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await).await
                }
            }
        )*
    };
}

/// A running server and what a test needs to poke at it.
pub struct TestApp {
    pub address: String,
    pub outbox: PathBuf,
    pub state: app::backend::state::AppState,
    _dir: tempfile::TempDir,
    pg_database: Option<String>,
}

fn pg_admin_url() -> String {
    std::env::var("POL_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

async fn create_pg_database() -> (String, String) {
    use sqlx::Connection;
    let name = format!("pol_test_{}", uuid_like());
    let mut conn = sqlx::PgConnection::connect(&pg_admin_url())
        .await
        .expect("PostgreSQL must be running for the tests");
    sqlx::query(&format!("create database {name}"))
        .execute(&mut conn)
        .await
        .expect("failed to create a test database");
    let base = pg_admin_url();
    let url = match base.rfind('/') {
        Some(i) => format!("{}/{name}", &base[..i]),
        None => panic!("POL_TEST_POSTGRES_URL must end with a database name"),
    };
    (name, url)
}

fn uuid_like() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..16)
        .map(|_| char::from(b'a' + rng.gen_range(0..26)))
        .collect()
}

/// Starts the server on a fresh database and a fresh data directory.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Like [`spawn_app`], with a chance to change the configuration first.
pub async fn spawn_app_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let (database_url, pg_database) = match backend {
        Backend::Sqlite => (format!("sqlite://{}/pol.db", dir.path().display()), None),
        Backend::Postgres => {
            let (name, url) = create_pg_database().await;
            (url, Some(name))
        }
    };
    let mut config = Config::for_tests(database_url, dir.path().to_path_buf());
    configure(&mut config);
    let application = Application::build(config).await.expect("the server starts");
    let address = format!("http://127.0.0.1:{}", application.port());
    let state = application.state().clone();
    tokio::spawn(application.run());
    TestApp {
        outbox: dir.path().join("outbox"),
        address,
        state,
        _dir: dir,
        pg_database,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(name) = self.pg_database.take() {
            // Dropping needs async; do it on a thread of its own so the test's runtime is not blocked.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async {
                    use sqlx::Connection;
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&pg_admin_url()).await {
                        let _ =
                            sqlx::query(&format!("drop database if exists {name} with (force)"))
                                .execute(&mut conn)
                                .await;
                    }
                });
            })
            .join();
        }
    }
}

/// An HTTP answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The CSRF token in the page's forms.
    pub fn csrf(&self) -> String {
        let re = Regex::new(r#"name="csrf" value="([^"]+)""#).unwrap();
        re.captures(&self.body)
            .map(|c| c[1].to_string())
            .unwrap_or_else(|| panic!("no csrf field in: {}", self.body))
    }
}

/// A cookie-keeping client that does not follow redirects (tests look at them).
#[derive(Clone)]
pub struct Browser {
    base: String,
    http: reqwest::Client,
}

impl Browser {
    pub fn new(base: &str) -> Self {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        // A stalled request fails its test within seconds instead of hanging the run.
        let http = reqwest::Client::builder()
            .cookie_provider(jar)
            .redirect(Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap();
        Self {
            base: base.to_string(),
            http,
        }
    }

    async fn read(res: reqwest::Response) -> Answer {
        let status = res.status();
        let headers = res.headers().clone();
        let location = headers
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
        Answer {
            status,
            location,
            body: res.text().await.unwrap(),
            headers,
        }
    }

    /// GET a page as a browser would.
    pub async fn get(&self, path: &str) -> Answer {
        Self::read(
            self.http
                .get(format!("{}{path}", self.base))
                .header(ACCEPT, "text/html")
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Calls a server function the way the hydrated page does (JSON answers, real status codes).
    pub async fn call(&self, name: &str, form: &[(&str, &str)]) -> Answer {
        let res = self
            .http
            .post(format!("{}/api/{name}", self.base))
            .header(ACCEPT, "application/json")
            .form(form)
            .send()
            .await
            .unwrap();
        Self::read(res).await
    }

    /// Submits a form the way a browser without JavaScript does (answered with a redirect).
    pub async fn submit(&self, from_page: &str, name: &str, form: &[(&str, &str)]) -> Answer {
        let res = self
            .http
            .post(format!("{}/api/{name}", self.base))
            .header(ACCEPT, "text/html,application/xhtml+xml")
            .header(REFERER, format!("{}{from_page}", self.base))
            .form(form)
            .send()
            .await
            .unwrap();
        Self::read(res).await
    }

    /// Posts raw bytes with extra headers (what the upload script does), keeping the cookies.
    pub async fn post_bytes(&self, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Answer {
        let mut request = self.http.post(format!("{}{path}", self.base)).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Self::read(request.send().await.unwrap()).await
    }

    /// The CSRF token of this browser's session.
    pub async fn csrf(&self) -> String {
        self.get("/login").await.csrf()
    }
}

impl TestApp {
    /// A second browser with its own cookies.
    pub fn new_browser(&self) -> Browser {
        Browser::new(&self.address)
    }

    /// Signs up a company through the server function and returns the browser, signed in.
    pub async fn sign_up(&self, browser: &Browser, company: &str, email: &str) -> Answer {
        let csrf = browser.csrf().await;
        let answer = browser
            .call(
                "signup",
                &[
                    ("csrf", &csrf),
                    ("company", company),
                    ("full_name", "Ali Rezaei"),
                    ("email", email),
                    ("mobile", "۰۹۱۲ ۳۴۵ ۶۷۸۹"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "sign-up failed: {}",
            answer.body
        );
        answer
    }

    /// The tenant id of a company by name.
    pub async fn tenant_id(&self, name: &str) -> i64 {
        self.sql_i64(&format!(
            "select tenant_id from tenant where name = '{name}'"
        ))
        .await
    }

    /// Available talk time of a tenant, in minutes.
    pub async fn minutes(&self, tenant_id: i64) -> i64 {
        app::backend::billing::balance(&self.state.db, tenant_id)
            .await
            .unwrap()
            .available_seconds()
            / 60
    }

    /// Signs in; returns the answer.
    pub async fn log_in(&self, browser: &Browser, email: &str, password: &str) -> Answer {
        let csrf = browser.csrf().await;
        browser
            .call(
                "login",
                &[("csrf", &csrf), ("email", email), ("password", password)],
            )
            .await
    }

    /// Every e-mail in the outbox, oldest first, decoded from quoted-printable.
    pub fn mails(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.outbox) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|f| decode_quoted_printable(&std::fs::read_to_string(f).unwrap()))
            .collect()
    }

    /// Waits for the `n`th mail (1-based) to reach the outbox (some are sent in the background).
    pub async fn wait_for_mail(&self, n: usize) -> String {
        for _ in 0..100 {
            let mails = self.mails();
            if mails.len() >= n {
                return mails[n - 1].clone();
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("mail #{n} never arrived; outbox has {}", self.mails().len())
    }

    /// Runs a statement against the app's database (to age tokens, count rows…).
    pub async fn sql_i64(&self, sql: &str) -> i64 {
        match &self.state.db {
            app::backend::db::Db::Sqlite(pool, _) => {
                sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
            }
            app::backend::db::Db::Postgres(pool) => {
                sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
            }
        }
    }

    pub async fn sql_exec(&self, sql: &str) {
        match &self.state.db {
            app::backend::db::Db::Sqlite(pool, _) => {
                sqlx::query(sql).execute(pool).await.map(|_| ()).unwrap()
            }
            app::backend::db::Db::Postgres(pool) => {
                sqlx::query(sql).execute(pool).await.map(|_| ()).unwrap()
            }
        }
    }
}

pub const PASSWORD: &str = "sunny-bridge-4512";

/// The link to `path` in a mail, with its token.
pub fn link_in(mail: &str, path: &str) -> String {
    let re = Regex::new(&format!(
        r"http://[^\s]+{}\?token=[A-Za-z0-9_-]+",
        regex::escape(path)
    ))
    .unwrap();
    let url = re
        .find(mail)
        .unwrap_or_else(|| panic!("no {path} link in mail:\n{mail}"))
        .as_str();
    url[url.find(path).unwrap()..].to_string()
}

fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A dispatch app talking to the JSON API with a bearer token.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub token: String,
    http: reqwest::Client,
}

/// A JSON API answer.
#[derive(Debug)]
pub struct ApiAnswer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub bytes: Vec<u8>,
}

impl ApiAnswer {
    /// The problem document's `code`.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

impl Api {
    pub fn new(base: &str, token: &str) -> Self {
        Self {
            base: base.to_string(),
            token: token.to_string(),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .unwrap(),
        }
    }

    async fn read(res: reqwest::Response) -> ApiAnswer {
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.unwrap().to_vec();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        ApiAnswer {
            status,
            headers,
            body,
            bytes,
        }
    }

    /// A request with the token, ready for more headers.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> ApiAnswer {
        Self::read(request.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> ApiAnswer {
        self.send(self.request(reqwest::Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> ApiAnswer {
        self.send(self.request(reqwest::Method::POST, path).json(body))
            .await
    }

    /// Places a call and expects it accepted.
    pub async fn call(&self, body: Value) -> Value {
        let answer = self.post("/api/v1/calls", &body).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
        answer.body
    }

    /// Polls a call until it has ended (or fails the test after 30 s).
    pub async fn ended(&self, id: &str) -> Value {
        self.until(id, |c| {
            !matches!(
                c["status"].as_str(),
                Some("queued" | "ringing" | "in-progress")
            )
        })
        .await
    }

    /// Polls a call until `done` holds.
    pub async fn until(&self, id: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let call = self.get(&format!("/api/v1/calls/{id}")).await.body;
            if done(&call) {
                return call;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the call never got there: {call}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

impl TestApp {
    /// A tenant with `minutes` of talk time and an API token for it.
    pub async fn operator(&self, name: &str, minutes: i64) -> (i64, Api) {
        let email = format!("{}@example.com", name.to_lowercase().replace(' ', "-"));
        let (tenant_id, _) = app::backend::accounts::create_tenant_for(&self.state, name, &email)
            .await
            .unwrap();
        self.credit_paid(tenant_id, minutes).await;
        (tenant_id, self.api_for(tenant_id).await)
    }

    /// A client of the JSON API with a new token of `tenant_id`.
    pub async fn api_for(&self, tenant_id: i64) -> Api {
        let (token, _) = app::backend::api_tokens::create(&self.state, tenant_id, "dispatch", None)
            .await
            .unwrap();
        Api::new(&self.address, &token)
    }

    /// Gives a tenant `minutes` bought at the standard 250 Toman a minute, so calls have a price.
    pub async fn credit_paid(&self, tenant_id: i64, minutes: i64) {
        if minutes <= 0 {
            return;
        }
        app::backend::billing::credit(
            &self.state.db,
            tenant_id,
            &app::backend::billing::Credit {
                seconds: minutes * 60,
                rate_per_minute: app::domain::Rial::new(2500),
                increment_seconds: 60,
                amount: app::domain::Rial::new(minutes * 2500),
                source: "admin",
                payment_id: None,
                kind: "adjustment",
                reason: "test credit",
            },
        )
        .await
        .unwrap();
    }

    /// Seconds the tenant may still use.
    pub async fn available_seconds(&self, tenant_id: i64) -> i64 {
        app::backend::billing::balance(&self.state.db, tenant_id)
            .await
            .unwrap()
            .available_seconds()
    }
}

/// The real `pol serve` binary on the test app's database and data directory, with `env` on
/// top (crash and several-process tests); killed when dropped.
pub struct Pol {
    pub child: std::process::Child,
    pub base: String,
}

impl Drop for Pol {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn start_pol(app: &TestApp, env: &[(&str, String)]) -> Pol {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_pol"));
    command
        .arg("serve")
        .env("DATABASE_URL", &app.state.config.database_url)
        .env("POL_DATA_DIR", &app.state.config.data_dir)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("POL_ENGINE_STALE_SECONDS", "1")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("the pol binary starts");
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..300 {
        if http.get(format!("{base}/health")).send().await.is_ok() {
            return Pol { child, base };
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("pol serve did not come up");
}
