//! The database: connection pool, migrations, per-transaction tenancy, and the embedded server.
//!
//! Every piece of tenant work runs in a transaction opened by [`tenant_tx`], which switches to the
//! `allot_app` role and sets `app.council_id` with `SET LOCAL` semantics, so nothing leaks to the
//! next borrower of a pooled connection and row-level security applies to every statement.

pub mod data_dir;
pub mod embedded;
pub mod migrate;
pub mod roles;
pub mod testing;

use std::path::PathBuf;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::error::SqlState;
use tokio_postgres::NoTls;
use uuid::Uuid;

pub use deadpool_postgres::{Client, Pool as DbPool, Transaction as Tx};
pub use embedded::{EmbeddedPostgres, ServerOptions};

/// Errors of the database layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Postgres(#[from] tokio_postgres::Error),
}

impl From<deadpool_postgres::PoolError> for DbError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => DbError::Postgres(e),
            other => DbError::Unavailable(other.to_string()),
        }
    }
}

impl DbError {
    /// The SQLSTATE of a server error, if this is one.
    pub fn code(&self) -> Option<&SqlState> {
        match self {
            DbError::Postgres(e) => e.code(),
            DbError::Unavailable(_) => None,
        }
    }

    /// A serialization failure or deadlock: the transaction may succeed if run again.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.code(),
            Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
        )
    }

    /// The connection or server is gone, shutting down, out of resources or too busy (SQLSTATE
    /// classes 08, 57 — which includes a statement timeout — and 53, and a lock timeout): not
    /// the caller's fault, not a bug in a query.
    pub fn is_connection_error(&self) -> bool {
        match self {
            DbError::Unavailable(_) => true,
            DbError::Postgres(e) => {
                let class = e.code().map(|c| &c.code()[..2]);
                e.is_closed()
                    || matches!(class, Some("08" | "57" | "53"))
                    || e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE)
                    || e.code().is_none() && e.as_db_error().is_none()
            }
        }
    }
}

/// Where the database is.
#[derive(Debug, Clone)]
pub enum DbTarget {
    /// An existing server (`DATABASE_URL`).
    Url(String),
    /// The embedded server in this data directory.
    Embedded(PathBuf),
}

/// A connected, migrated database, and the embedded server when there is one.
pub struct Database {
    pub pool: Pool,
    /// The database's name in the embedded cluster (`allot`, or the demo's own).
    pub dbname: String,
    /// Kept so the server is stopped when the database is dropped (if this process started it).
    pub embedded: Option<EmbeddedPostgres>,
}

/// Name of the application database inside the embedded cluster.
pub const EMBEDDED_DBNAME: &str = "allot";

impl Database {
    /// Connects (starting the embedded server if needed) and applies pending migrations.
    pub async fn open(target: &DbTarget, pool_size: usize) -> anyhow::Result<Self> {
        let (config, embedded) = match target {
            DbTarget::Url(url) => (url.parse::<tokio_postgres::Config>()?, None),
            DbTarget::Embedded(dir) => {
                let dir = dir.clone();
                let pg = tokio::task::spawn_blocking(move || {
                    EmbeddedPostgres::start(&dir, &ServerOptions::default())
                })
                .await??;
                create_database_if_missing(&pg, EMBEDDED_DBNAME).await?;
                (pg.config(EMBEDDED_DBNAME), Some(pg))
            }
        };
        let pool = pool_from_config(config, pool_size)?;
        let mut client = pool.get().await.map_err(DbError::from)?;
        migrate::run(&mut client).await?;
        roles::check(&client).await?;
        Ok(Self {
            pool,
            dbname: EMBEDDED_DBNAME.to_owned(),
            embedded,
        })
    }

    /// The pool a server answers requests through: as `allot_server`, the login role that owns
    /// nothing and reaches data only as `allot_app` (see `sql/V16__serving_role.sql`). The
    /// embedded server lets allot's own system user in as that role; with `DATABASE_URL` it is
    /// `app_url` (`ALLOT_APP_DATABASE_URL`), and without one allot serves as the schema owner and
    /// says so.
    pub fn serving_pool(&self, app_url: Option<&str>, pool_size: usize) -> anyhow::Result<Pool> {
        let config = match (&self.embedded, app_url) {
            (_, Some(url)) => url.parse::<tokio_postgres::Config>()?,
            (Some(pg), None) => {
                let mut config = pg.config(&self.dbname);
                config.user("allot_server");
                config
            }
            (None, None) => {
                tracing::warn!(
                    "serving as the schema owner: give allot its own login role with \
                     ALLOT_APP_DATABASE_URL (see the README)"
                );
                return Ok(self.pool.clone());
            }
        };
        pool_from_config(config, pool_size)
    }
}

/// How long a request waits for a free connection before the pool gives up (503 `unavailable`):
/// well inside the request timeout, so the caller hears why.
pub const POOL_WAIT: Duration = Duration::from_secs(5);
/// Longest a connection may take to open.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest one statement may run: work a request (30 s in all) has given up on stops too.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(25);
/// Longest a statement waits for a lock before it gives up (503 `unavailable`).
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(15);
/// A transaction left idle this long is ended by the server, freeing its locks.
pub const IDLE_IN_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(60);

/// A pool over these connection settings. Connections are checked cheaply when reused, and each
/// session runs under the timeouts above (set at connection, so every statement has them).
pub fn pool_from_config(mut config: tokio_postgres::Config, size: usize) -> anyhow::Result<Pool> {
    config.application_name("allot");
    config.connect_timeout(CONNECT_TIMEOUT);
    let limits = session_limits();
    let options = match config.get_options() {
        Some(given) if !given.trim().is_empty() => format!("{given} {limits}"),
        _ => limits,
    };
    config.options(&options);
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Ok(Pool::builder(manager)
        .max_size(size)
        .wait_timeout(Some(POOL_WAIT))
        .create_timeout(Some(CONNECT_TIMEOUT))
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .build()?)
}

/// The `-c` options that put a session under the timeouts.
fn session_limits() -> String {
    let ms = |d: Duration| d.as_millis();
    format!(
        "-c statement_timeout={} -c lock_timeout={} -c idle_in_transaction_session_timeout={}",
        ms(STATEMENT_TIMEOUT),
        ms(LOCK_TIMEOUT),
        ms(IDLE_IN_TRANSACTION_TIMEOUT)
    )
}

/// Creates a database in the embedded cluster unless it exists.
pub async fn create_database_if_missing(pg: &EmbeddedPostgres, dbname: &str) -> anyhow::Result<()> {
    let (client, connection) = pg.config("postgres").connect(NoTls).await?;
    let task = tokio::spawn(connection);
    let exists = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&dbname])
        .await?
        .is_some();
    if !exists {
        let sql = format!("CREATE DATABASE \"{}\"", dbname.replace('"', "\"\""));
        if let Err(e) = client.batch_execute(&sql).await {
            // Another process may have created it in the meantime.
            if e.code() != Some(&SqlState::DUPLICATE_DATABASE) {
                return Err(e.into());
            }
        }
    }
    drop(client);
    let _ = task.await;
    Ok(())
}

/// Opens a transaction acting for one council: role `allot_app`, `app.council_id` set locally.
pub async fn tenant_tx(client: &mut Client, council_id: Uuid) -> Result<Tx<'_>, DbError> {
    let tx = client.transaction().await?;
    let stmt = tx
        .prepare_cached(
            "SELECT set_config('role', 'allot_app', true), set_config('app.council_id', $1, true)",
        )
        .await?;
    tx.execute(&stmt, &[&council_id.to_string()]).await?;
    Ok(tx)
}

/// Runs `work` in one tenant transaction and commits it if `work` succeeds (rolls back otherwise).
pub async fn in_tenant_tx<T, F>(
    pool: &Pool,
    council_id: Uuid,
    work: F,
) -> crate::error::AppResult<T>
where
    F: for<'a> FnOnce(&'a Tx<'a>) -> BoxFuture<'a, crate::error::AppResult<T>>,
{
    let mut client = pool.get().await?;
    let tx = tenant_tx(&mut client, council_id).await?;
    let value = work(&tx).await?;
    tx.commit().await?;
    Ok(value)
}

/// A boxed future borrowing a transaction, as taken by [`in_tenant_tx`].
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// A transaction as `allot_app` with no council: sees no tenant rows (sign-in lookups only).
pub async fn anonymous_tx(client: &mut Client) -> Result<Tx<'_>, DbError> {
    let tx = client.transaction().await?;
    tx.batch_execute("SET LOCAL ROLE allot_app").await?;
    Ok(tx)
}

/// How many times a transaction is run again after a serialization failure or deadlock.
pub const MAX_RETRIES: u32 = 8;

/// Backoff before retry `attempt` (1-based): a few milliseconds, growing, with jitter.
fn retry_backoff(attempt: u32) -> Duration {
    let base = 2u64.saturating_pow(attempt.min(6));
    let mut jitter = [0u8; 1];
    // A failed random draw only removes the jitter; the retry still happens.
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut jitter);
    Duration::from_millis(base + u64::from(jitter[0] % 8))
}

/// An error that says whether the transaction that failed with it may succeed if run again.
pub trait Retryable {
    fn is_retryable(&self) -> bool;
}

impl Retryable for DbError {
    fn is_retryable(&self) -> bool {
        DbError::is_retryable(self)
    }
}

impl Retryable for crate::error::AppError {
    fn is_retryable(&self) -> bool {
        matches!(self, crate::error::AppError::Db(e) if e.is_retryable())
    }
}

/// The one retry policy: runs `attempt` (each run opens and commits its own transaction) until it
/// succeeds, fails for good, or has been retried [`MAX_RETRIES`] times after serialization
/// failures or deadlocks, with a short growing backoff.
pub async fn retrying<T, E, F, Fut>(mut attempt: F) -> Result<T, E>
where
    E: Retryable + std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let mut tries = 0;
    loop {
        match attempt().await {
            Err(e) if e.is_retryable() && tries < MAX_RETRIES => {
                tries += 1;
                tracing::debug!(error = %e, tries, "running a transaction again");
                tokio::time::sleep(retry_backoff(tries)).await;
            }
            result => return result,
        }
    }
}
