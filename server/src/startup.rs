//! Building and running the server.

use anyhow::Context;
use leptos::config::{Env, LeptosOptions};
use std::sync::Arc;
use tokio::net::TcpListener;
use tower_sessions::ExpiredDeletion;

use app::backend::config::{Config, PaymentConfig, TelephonyConfig};
use app::backend::db::Db;
use app::backend::engine::Engine;
use app::backend::gateway::{TestGateway, Zarinpal};
use app::backend::mail::Mailer;
use app::backend::payments::Gateways;
use app::backend::rate_limit::RateLimiter;
use app::backend::session_store::Store;
use app::backend::state::AppState;

/// A server bound to its port, ready to run.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    state: AppState,
}

/// Rendering options: from cargo-leptos's environment variables when it runs us, else defaults
/// matching `[[workspace.metadata.leptos]]` in Cargo.toml.
fn leptos_options(config: &Config) -> LeptosOptions {
    let var = |key: &str, default: &str| std::env::var(key).unwrap_or_else(|_| default.to_owned());
    let env = match var("LEPTOS_ENV", "PROD").as_str() {
        "DEV" | "dev" | "development" => Env::DEV,
        _ => Env::PROD,
    };
    LeptosOptions::builder()
        .output_name(var("LEPTOS_OUTPUT_NAME", "pol"))
        .site_root(var("LEPTOS_SITE_ROOT", "target/site"))
        .site_pkg_dir(var("LEPTOS_SITE_PKG_DIR", "pkg"))
        .site_addr(config.site_addr)
        .env(env)
        .reload_port(
            var("LEPTOS_RELOAD_PORT", "3001")
                .parse::<u32>()
                .unwrap_or(3001),
        )
        .build()
}

/// The payment gateways the configuration asks for.
fn gateways(config: &Config, db: &Db) -> anyhow::Result<Gateways> {
    Ok(match &config.payment {
        PaymentConfig::Test => {
            let test = Arc::new(TestGateway::new(db.clone(), &config.public_url));
            Gateways {
                current: test.clone(),
                test: Some(test),
            }
        }
        PaymentConfig::Zarinpal {
            base_url,
            merchant_id,
            timeout,
        } => Gateways {
            current: Arc::new(Zarinpal::new(base_url, merchant_id.clone(), *timeout)?),
            test: None,
        },
    })
}

/// The call engine over the configured telephony backend.
async fn engine(config: &Config) -> anyhow::Result<Engine> {
    let telephony: telephony::SharedTelephony = match &config.telephony {
        TelephonyConfig::Sandbox { time_scale } => {
            let scale = telephony::TimeScale::new(*time_scale)
                .context("the sandbox time scale must be between 0.001 and 1")?;
            Arc::new(telephony::sandbox::Sandbox::new(scale))
        }
        TelephonyConfig::Sip(sip) => Arc::new(
            telephony::sip::SipTelephony::start(sip.as_ref().clone())
                .await
                .map_err(|why| anyhow::anyhow!("SIP backend: {why}"))?,
        ),
    };
    Ok(Engine::new(
        telephony,
        config.data_dir.join("media"),
        config.engine_stale_after,
    ))
}

/// The API's operations as its OpenAPI document lists them.
fn api_operations() -> Vec<app::backend::state::ApiOperation> {
    let document = crate::api_v1::openapi();
    let mut operations = Vec::new();
    for (path, item) in &document.paths.paths {
        let methods = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("DELETE", &item.delete),
        ];
        for (method, operation) in methods {
            if let Some(operation) = operation {
                operations.push(app::backend::state::ApiOperation {
                    method: method.to_owned(),
                    path: path.clone(),
                    summary: operation
                        .summary
                        .clone()
                        .or_else(|| operation.description.clone())
                        .unwrap_or_default(),
                });
            }
        }
    }
    operations
}

/// Connects to the database and applies migrations.
pub async fn connect(config: &Config) -> anyhow::Result<Db> {
    let db = Db::connect(&config.database_url).await?;
    db.migrate().await?;
    Ok(db)
}

/// Everything the handlers share.
pub async fn state(config: Config) -> anyhow::Result<AppState> {
    let db = connect(&config).await?;
    let mailer = Mailer::from_config(&config)?;
    let leptos_options = leptos_options(&config);
    let gateways = Arc::new(gateways(&config, &db)?);
    Ok(AppState {
        engine: engine(&config).await?,
        api_limiter: Arc::new(RateLimiter::new(config.api_rate_limit)),
        api_operations: Arc::new(api_operations()),
        db,
        mailer,
        gateways,
        leptos_options,
        config: Arc::new(config),
    })
}

impl Application {
    /// Connects, migrates and binds (port 0 picks a free port).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let addr = config.site_addr;
        let state = state(config).await?;
        app::backend::hashing::warm_up();
        // Announce this engine before it takes calls, so no other engine mistakes them for a
        // dead engine's.
        {
            let mut tx = state.db.begin().await?;
            app::backend::repo::calls::engine_alive(
                &mut tx.conn(),
                state.engine.id(),
                app::backend::now_ms(),
            )
            .await?;
            tx.commit().await?;
        }
        let router = crate::routes::router(state.clone());
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("failed to listen on {addr}"))?;
        Ok(Self {
            listener,
            router,
            state,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Shared state (tests use it to reach the database).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT/SIGTERM.
    pub async fn run(self) -> anyhow::Result<()> {
        let store = Store::new(&self.state.db);
        let reconciler = tokio::spawn(reconcile_payments(self.state.clone()));
        let supervisor = tokio::spawn(app::backend::engine::supervise(self.state.clone()));
        let webhooks = tokio::spawn(app::backend::webhooks::run(self.state.clone()));
        let cleanup =
            tokio::spawn(store.continuously_delete_expired(std::time::Duration::from_secs(3600)));
        tracing::info!(addr = %self.listener.local_addr()?, db = self.state.db.kind(), "serving the panel");
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the HTTP server failed")?;
        cleanup.abort();
        reconciler.abort();
        // Calls in progress are hung up and billed for their talk so far.
        self.state
            .engine
            .shut_down(std::time::Duration::from_secs(10))
            .await;
        supervisor.abort();
        webhooks.abort();
        self.state.db.close().await;
        Ok(())
    }
}

/// Every minute, re-verifies payments the payer's callback did not settle.
async fn reconcile_payments(state: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        match app::backend::payments::reconcile(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(settled = n, "reconciled pending payments"),
            Err(err) => tracing::warn!(error = %err, "payment reconciliation failed"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// Finds a tenant by id or exact name for the CLI; an ambiguous name is an error.
pub async fn resolve_tenant(state: &AppState, tenant: &str) -> anyhow::Result<i64> {
    use app::backend::repo::tenants;
    let mut tx = state.db.read().await?;
    if let Ok(id) = tenant.trim().parse::<i64>() {
        if let Some(row) = tenants::find(&mut tx.conn(), id).await? {
            return Ok(row.tenant_id);
        }
    }
    match tenants::find_by_name(&mut tx.conn(), tenant.trim())
        .await?
        .as_slice()
    {
        [one] => Ok(one.tenant_id),
        [] => anyhow::bail!("no tenant with id or name {tenant:?}"),
        many => anyhow::bail!("{} tenants are named {tenant:?}; use the id", many.len()),
    }
}
