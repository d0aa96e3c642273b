//! Schema migrations: the files in `sql/` (`V{n}__name.sql`), embedded at build time and applied
//! in order, each in its own transaction, under a PostgreSQL advisory lock so that several allot
//! processes starting together apply them once. A database whose applied history no longer
//! matches the files (an applied migration edited or removed) is refused.

use tokio_postgres::Client;

refinery::embed_migrations!("sql");

/// Advisory lock key: "allot" in ASCII, so it is recognisable in pg_locks.
const MIGRATION_LOCK_KEY: i64 = 0x0061_6c6c_6f74;

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("database error while migrating: {0}")]
    Db(#[from] tokio_postgres::Error),
    #[error("migrations refused: {0}")]
    Refused(#[from] refinery::Error),
}

/// Applies every pending migration; returns the names of those applied now.
pub async fn run(client: &mut Client) -> Result<Vec<String>, MigrateError> {
    // A migration may rightly take longer than a request's statement (an index on a big table),
    // and waiting for another process's migrations is no lock to give up on: lift the pool's
    // session timeouts for this connection, and restore them after.
    client
        .batch_execute("SET statement_timeout = 0; SET lock_timeout = 0")
        .await?;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK_KEY])
        .await?;
    let runner = migrations::runner()
        .set_abort_divergent(true)
        .set_abort_missing(true);
    let result = runner.run_async(client).await;
    // Unlock even when the run failed; the session lock would otherwise live as long as the pool.
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK_KEY])
        .await?;
    client
        .batch_execute("RESET statement_timeout; RESET lock_timeout")
        .await?;
    let report = result?;
    Ok(report
        .applied_migrations()
        .iter()
        .map(|m| m.to_string())
        .collect())
}
