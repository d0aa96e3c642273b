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
}
