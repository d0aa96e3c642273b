//! Background upkeep while serving: expire holds that are due and seal queued entries, for every
//! council that has such work, about once a second; then any other upkeep handed to the loop
//! (the evidence retention purge).

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::chain::seal::seal_pending;
use super::chain::ChainKey;
use super::error::LedgerError;
use super::holds::expire_due_holds;
use crate::db::{anonymous_tx, DbPool};

/// Councils with queued entries or holds due by now.
async fn councils_with_work(pool: &DbPool, now: DateTime<Utc>) -> Result<Vec<Uuid>, LedgerError> {
    let mut client = pool.get().await?;
    let tx = anonymous_tx(&mut client).await?;
    let rows = tx
        .query("SELECT ledger_councils_with_work($1)", &[&now])
        .await?;
    tx.commit().await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// One round, sealing under `key`: returns (holds expired, entries sealed).
pub async fn run_once(
    pool: &DbPool,
    now: DateTime<Utc>,
    key: &ChainKey,
) -> Result<(usize, usize), LedgerError> {
    let (mut expired, mut sealed) = (0, 0);
    // One council's failure is logged and never stops the others' upkeep.
    for council_id in councils_with_work(pool, now).await? {
        match expire_due_holds(pool, council_id, now).await {
            Ok(n) => expired += n,
            Err(e) => tracing::warn!(%council_id, error = %e, "expiring holds failed"),
        }
        match seal_pending(pool, council_id, key).await {
            Ok(n) => sealed += n,
            Err(e) => tracing::warn!(%council_id, error = %e, "sealing entries failed"),
        }
    }
    Ok((expired, sealed))
}

/// More upkeep run in the same loop after the ledger's, each round, with the round's time (the
/// evidence retention job, say). Its own failures are its own to log.
pub type AlsoEachRound = std::sync::Arc<
    dyn Fn(DbPool, DateTime<Utc>) -> crate::db::BoxFuture<'static, ()> + Send + Sync,
>;

/// Runs [`run_once`] every `every` until the task is aborted; failures are logged and retried
/// next round (the queue and the open holds keep the work).
pub fn spawn(
    pool: DbPool,
    clock: crate::clock::Clock,
    key: ChainKey,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    spawn_with(pool, clock, key, every, Vec::new())
}

/// As [`spawn`], with `also` run after the ledger's upkeep in every round.
pub fn spawn_with(
    pool: DbPool,
    clock: crate::clock::Clock,
    key: ChainKey,
    every: Duration,
    also: Vec<AlsoEachRound>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            // A panic in one round is caught here and logged; the next round runs as usual.
            let now = clock.now();
            let round = tokio::spawn({
                let (pool, key) = (pool.clone(), key.clone());
                async move { run_once(&pool, now, &key).await }
            });
            match round.await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "ledger upkeep failed; trying again next round")
                }
                Err(e) => {
                    tracing::error!(error = %e, "ledger upkeep panicked; trying again next round")
                }
            }
            for job in &also {
                if let Err(e) = tokio::spawn(job(pool.clone(), now)).await {
                    tracing::error!(error = %e, "upkeep job panicked; trying again next round");
                }
            }
        }
    })
}

/// All councils' ids (for `allot audit verify`).
pub async fn council_ids(pool: &DbPool) -> Result<Vec<Uuid>, LedgerError> {
    let mut client = pool.get().await?;
    let tx = anonymous_tx(&mut client).await?;
    let rows = tx.query("SELECT ledger_council_ids()", &[]).await?;
    tx.commit().await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
