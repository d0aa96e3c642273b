//! Evidence retention (policy `evidence_retention_years`, default 6): an upkeep job removes the
//! bytes of files past retention — stored before the cutoff (today in England less the policy's
//! years) and attached only to payments dated before it (a payment's date is the later of its
//! posting date, or service date when it never posted, and the day it was asked for), none still
//! waiting for approval. A file also attached to a newer payment is kept. The links stay (who
//! attached what, its SHA-256, size and type), so the hash chain is untouched and evidence packs
//! still say what was there; each purge is recorded with the policy version that allowed it, and
//! `GET /api/v1/evidence/{sha256}` answers 410 for a purged file.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::store::{Purged, SharedEvidenceStore};
use crate::db::{anonymous_tx, DbPool, Tx};
use crate::error::AppResult;

/// A recorded purge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PurgeRecord {
    pub sha256: String,
    pub size: i32,
    pub purged_at: DateTime<Utc>,
    pub policy_version: i32,
    pub retention_years: i32,
}

/// The latest purge of this file in the council, if its bytes were ever purged.
pub async fn purge_of(
    tx: &Tx<'_>,
    council_id: Uuid,
    sha256: &str,
) -> AppResult<Option<PurgeRecord>> {
    let row = tx
        .query_opt(
            "SELECT sha256, size, purged_at, policy_version, retention_years FROM evidence_purges
             WHERE council_id = $1 AND sha256 = $2 ORDER BY purged_at DESC LIMIT 1",
            &[&council_id, &sha256],
        )
        .await?;
    row.map(|r| {
        Ok(PurgeRecord {
            sha256: r.try_get(0)?,
            size: r.try_get(1)?,
            purged_at: r.try_get(2)?,
            policy_version: r.try_get(3)?,
            retention_years: r.try_get(4)?,
        })
    })
    .transpose()
}

/// Purges one council's files past retention at `now`, in one transaction of the write path.
pub async fn purge_council(
    pool: &DbPool,
    store: &SharedEvidenceStore,
    council_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Vec<Purged>> {
    crate::commands::write(pool, council_id, |tx| {
        let store = store.clone();
        Box::pin(async move { store.purge_due(tx, council_id, now).await })
    })
    .await
}

/// Councils holding a file stored longer ago than the shortest retention the policy allows.
async fn councils_with_old_files(pool: &DbPool, now: DateTime<Utc>) -> AppResult<Vec<Uuid>> {
    let mut client = pool.get().await?;
    let tx = anonymous_tx(&mut client).await?;
    let rows = tx
        .query("SELECT evidence_councils_with_old_files($1)", &[&now])
        .await?;
    tx.commit().await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// One round of the job over every council with old files: the number of files purged. One
/// council's failure is logged and never stops the others'.
pub async fn run_once(
    pool: &DbPool,
    store: &SharedEvidenceStore,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let mut purged = 0;
    for council_id in councils_with_old_files(pool, now).await? {
        match purge_council(pool, store, council_id, now).await {
            Ok(files) => {
                for f in &files {
                    tracing::info!(%council_id, sha256 = %f.sha256, size = f.size,
                        policy_version = f.policy_version, "evidence purged past retention");
                }
                purged += files.len();
            }
            Err(e) => tracing::warn!(%council_id, error = %e, "purging evidence failed"),
        }
    }
    Ok(purged)
}

/// How often the job looks (it runs in the upkeep loop, which ticks every second).
pub const EVERY: chrono::Duration = chrono::Duration::hours(1);

/// The job for the upkeep loop ([`crate::ledger::maintenance::spawn_with`]): [`run_once`] at
/// most once an [`EVERY`] by the clock it is handed.
pub fn job(store: SharedEvidenceStore) -> crate::ledger::maintenance::AlsoEachRound {
    let last = std::sync::Arc::new(std::sync::Mutex::new(None::<DateTime<Utc>>));
    std::sync::Arc::new(move |pool: DbPool, now: DateTime<Utc>| {
        let (store, last) = (store.clone(), last.clone());
        Box::pin(async move {
            {
                let mut last = match last.lock() {
                    Ok(guard) => guard,
                    Err(poisoned) => poisoned.into_inner(),
                };
                if last.is_some_and(|at| now < at + EVERY) {
                    return;
                }
                *last = Some(now);
            }
            if let Err(e) = run_once(&pool, &store, now).await {
                tracing::warn!(error = %e, "evidence retention failed; trying again later");
            }
        })
    })
}
