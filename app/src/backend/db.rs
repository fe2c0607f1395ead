//! The database: SQLite (embedded default) or PostgreSQL, chosen at run time from the URL.
//!
//! SQL is written once in the subset both dialects share (`$1` placeholders, `returning`,
//! `on conflict`). [`on_conn!`] compiles each query body once per backend, so every repo function
//! is type-checked against both drivers without going through `sqlx::Any`.

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// Serialises SQLite writers inside this process. SQLite allows one writer at a time; without
/// this, concurrent `begin immediate`s spin in SQLite's busy handler (sleeping up to 100 ms a
/// try) instead of waiting their turn in a fair queue.
pub type WriteLock = Arc<tokio::sync::Mutex<()>>;

/// A connection pool to one of the supported databases.
#[derive(Clone, Debug)]
pub enum Db {
    /// The embedded default.
    Sqlite(SqlitePool, WriteLock),
    /// For installations with several `pol` processes.
    Postgres(PgPool),
}

/// A connection borrowed from a pool or a transaction; what every repo function takes.
pub enum Conn<'a> {
    /// SQLite.
    Sqlite(&'a mut SqliteConnection),
    /// PostgreSQL.
    Postgres(&'a mut PgConnection),
}

/// A transaction on either database.
pub enum Tx {
    /// SQLite, begun with `begin immediate` while holding the process's write lock.
    Sqlite(
        Transaction<'static, Sqlite>,
        Option<tokio::sync::OwnedMutexGuard<()>>,
    ),
    /// PostgreSQL.
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$c` bound to the concrete connection (`&mut &mut SqliteConnection` or
/// `&mut &mut PgConnection`); use `&mut **$c` as the executor.
#[macro_export]
macro_rules! on_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::backend::db::Conn::Sqlite($c) => $body,
            $crate::backend::db::Conn::Postgres($c) => $body,
        }
    };
}

impl Db {
    /// Connects to `url` (`sqlite://path` or `postgres://…`), creating a SQLite file if missing.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options =
                PgConnectOptions::from_str(url).context("failed to parse DATABASE_URL")?;
            let pool = PgPoolOptions::new()
                .max_connections(20)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .context("failed to connect to PostgreSQL")?;
            Ok(Self::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            if let Some(path) = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
            {
                let path = path.split('?').next().unwrap_or(path);
                if let Some(parent) = std::path::Path::new(path)
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("failed to create {}", parent.display()))?;
                }
            }
            let options = SqliteConnectOptions::from_str(url)
                .context("failed to parse DATABASE_URL")?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(15))
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(15))
                .connect_with(options)
                .await
                .context("failed to open the SQLite database")?;
            Ok(Self::Sqlite(pool, Arc::new(tokio::sync::Mutex::new(()))))
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite:// or postgres://")
        }
    }

    /// Applies pending migrations, ours and the session store's.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Db::Sqlite(pool, _) => {
                SQLITE_MIGRATIONS
                    .run(pool)
                    .await
                    .context("failed to migrate the SQLite database")?;
                tower_sessions_sqlx_store::SqliteStore::new(pool.clone())
                    .migrate()
                    .await
                    .context("failed to migrate the session table")?;
            }
            Db::Postgres(pool) => {
                POSTGRES_MIGRATIONS
                    .run(pool)
                    .await
                    .context("failed to migrate the PostgreSQL database")?;
                tower_sessions_sqlx_store::PostgresStore::new(pool.clone())
                    .migrate()
                    .await
                    .context("failed to migrate the session table")?;
            }
        }
        Ok(())
    }

    /// Begins a transaction; on SQLite it takes the write lock at once.
    pub async fn begin(&self) -> sqlx::Result<Tx> {
        Ok(match self {
            Db::Sqlite(pool, lock) => {
                let guard = lock.clone().lock_owned().await;
                Tx::Sqlite(pool.begin_with("begin immediate").await?, Some(guard))
            }
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Begins a read-only unit of work (a plain transaction; cheap on both databases).
    pub async fn read(&self) -> sqlx::Result<Tx> {
        Ok(match self {
            Db::Sqlite(pool, _) => Tx::Sqlite(pool.begin().await?, None),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Closes the pool.
    pub async fn close(&self) {
        match self {
            Db::Sqlite(pool, _) => pool.close().await,
            Db::Postgres(pool) => pool.close().await,
        }
    }

    /// Which database this is, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Db::Sqlite(..) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }
}

impl Tx {
    /// The connection inside the transaction, for repo functions.
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(tx, _) => Conn::Sqlite(tx),
            Tx::Postgres(tx) => Conn::Postgres(tx),
        }
    }

    /// Commits.
    pub async fn commit(self) -> sqlx::Result<()> {
        match self {
            Tx::Sqlite(tx, _) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }
}

/// Whether `err` is a unique-constraint violation (on either database).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}
