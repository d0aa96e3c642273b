//! Idempotent money-moving requests (API.md › Idempotency): the key and a fingerprint of the
//! request are stored with the response in the same transaction as the work, through the
//! ledger's idempotency store. The same key with the same request replays the stored response;
//! with a different request it is refused (409 `idempotency_key_reused`).

use ring::digest::{digest, SHA256};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::ledger::idempotency;

/// A response as first given.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    /// This is a stored response given again.
    pub replayed: bool,
}

/// SHA-256 of what identifies a request: the operation, the caller and the body.
pub fn fingerprint<T: Serialize>(operation: &str, actor: Uuid, body: &T) -> AppResult<Vec<u8>> {
    let body = serde_json::to_vec(body).map_err(|e| AppError::Internal(e.to_string()))?;
    let mut input = Vec::with_capacity(operation.len() + 17 + body.len());
    input.extend_from_slice(operation.as_bytes());
    input.push(0);
    input.extend_from_slice(actor.as_bytes());
    input.extend_from_slice(&body);
    Ok(digest(&SHA256, &input).as_ref().to_vec())
}

/// The stored reply for this key and request, if the request was already done.
pub async fn begin(
    tx: &Tx<'_>,
    council_id: Uuid,
    key: &str,
    fingerprint: &[u8],
) -> AppResult<Option<Reply>> {
    let stored = idempotency::begin(tx, council_id, key, fingerprint).await?;
    Ok(stored.map(|s| Reply {
        status: s.status,
        body: s.body,
        replayed: true,
    }))
}

/// Stores the reply with the key (in the caller's transaction) and returns it.
pub async fn finish<T: Serialize>(
    tx: &Tx<'_>,
    council_id: Uuid,
    key: &str,
    status: u16,
    response: &T,
) -> AppResult<Reply> {
    let body = serde_json::to_value(response).map_err(|e| AppError::Internal(e.to_string()))?;
    idempotency::finish(tx, council_id, key, status, &body).await?;
    Ok(Reply {
        status,
        body,
        replayed: false,
    })
}
