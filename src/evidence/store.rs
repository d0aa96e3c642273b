//! Where evidence bytes live, behind a small trait held in application state. The default keeps
//! them in PostgreSQL (`evidence_blobs`, in the caller's transaction, so a file and its link are
//! stored together or not at all); an object store can implement the same two calls later
//! without touching callers.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::{BoxFuture, Tx};
use crate::error::AppResult;

/// Content-addressed storage of evidence files, one namespace per council.
pub trait EvidenceStore: Send + Sync {
    /// Stores `bytes` under `sha256` (the caller computed it). Storing the same file again is a
    /// no-op.
    fn put<'a>(
        &'a self,
        tx: &'a Tx<'a>,
        council_id: Uuid,
        sha256: &'a str,
        bytes: &'a Bytes,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, AppResult<()>>;

    /// The bytes stored under `sha256`, if any.
    fn get<'a>(
        &'a self,
        tx: &'a Tx<'a>,
        council_id: Uuid,
        sha256: &'a str,
    ) -> BoxFuture<'a, AppResult<Option<Bytes>>>;

    /// Removes the bytes of every file of the council (the transaction's) that is past retention
    /// at `now` — stored before the cutoff and attached only to payments dated before it (see
    /// [`super::retention`]) — records each removal in `evidence_purges` and returns them.
    fn purge_due<'a>(
        &'a self,
        tx: &'a Tx<'a>,
        council_id: Uuid,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, AppResult<Vec<Purged>>>;
}

/// A file whose bytes a purge removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purged {
    pub sha256: String,
    pub size: i32,
    /// The council policy version whose `evidence_retention_years` applied.
    pub policy_version: i32,
    pub retention_years: i32,
}

/// The store in application state.
pub type SharedEvidenceStore = Arc<dyn EvidenceStore>;

/// Blobs in the `evidence_blobs` table (nothing else to run).
#[derive(Debug, Default, Clone, Copy)]
pub struct PgEvidenceStore;

impl EvidenceStore for PgEvidenceStore {
    fn put<'a>(
        &'a self,
        tx: &'a Tx<'a>,
        council_id: Uuid,
        sha256: &'a str,
        bytes: &'a Bytes,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            let body: &[u8] = bytes;
            // Waits while a purge of the council runs, so a file attached meanwhile is stored
            // again rather than linked to bytes being removed.
            tx.execute("SELECT evidence_store_lock()", &[]).await?;
            tx.execute(
                "INSERT INTO evidence_blobs (council_id, sha256, bytes, stored_at)
                 VALUES ($1, $2, $3, $4) ON CONFLICT (council_id, sha256) DO NOTHING",
                &[&council_id, &sha256, &body, &now],
            )
            .await?;
            Ok(())
        })
    }

    fn get<'a>(
        &'a self,
        tx: &'a Tx<'a>,
        council_id: Uuid,
        sha256: &'a str,
    ) -> BoxFuture<'a, AppResult<Option<Bytes>>> {
        Box::pin(async move {
            let row = tx
                .query_opt(
                    "SELECT bytes FROM evidence_blobs WHERE council_id = $1 AND sha256 = $2",
                    &[&council_id, &sha256],
                )
                .await?;
            Ok(row.map(|r| Bytes::from(r.get::<_, Vec<u8>>(0))))
        })
    }

    fn purge_due<'a>(
        &'a self,
        tx: &'a Tx<'a>,
        council_id: Uuid,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, AppResult<Vec<Purged>>> {
        Box::pin(async move {
            // The rule and the deletion are the database's (allot_app may not delete evidence);
            // the function acts only for the transaction's council, which must be this one.
            let rows = tx
                .query(
                    "SELECT * FROM evidence_purge_due($1, $2)",
                    &[&council_id, &now],
                )
                .await?;
            rows.iter()
                .map(|r| {
                    Ok(Purged {
                        sha256: r.try_get(0)?,
                        size: r.try_get(1)?,
                        policy_version: r.try_get(2)?,
                        retention_years: r.try_get(3)?,
                    })
                })
                .collect()
        })
    }
}
