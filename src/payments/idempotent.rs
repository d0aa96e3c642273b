//! Idempotent money-moving requests (API.md › Idempotency): the key and a fingerprint of the
//! request are stored with the response in the same transaction as the work, through the
//! ledger's idempotency store. The same key with the same request replays the stored response;
//! with a different request it is refused (409 `idempotency_key_reused`). Keys are scoped per
//! operation and per caller.

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::ledger::idempotency::{self, Begin};

/// A response as first given.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    /// This is a stored response given again.
    pub replayed: bool,
}

/// What identifies a request: the operation (method and path), the caller and the body.
pub struct Claim {
    scope: String,
    fingerprint: [u8; 32],
}

impl Claim {
    pub fn new<T: Serialize>(operation: &str, actor: Uuid, body: &T) -> AppResult<Claim> {
        let body = serde_json::to_vec(body).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(Claim {
            scope: format!("{operation} by {actor}"),
            fingerprint: idempotency::fingerprint(&[operation.as_bytes(), actor.as_bytes(), &body]),
        })
    }
}

/// The stored reply for this key and request, if the request was already done.
pub async fn begin(
    tx: &Tx<'_>,
    council_id: Uuid,
    claim: &Claim,
    key: &str,
) -> AppResult<Option<Reply>> {
    match idempotency::begin(tx, council_id, &claim.scope, key, &claim.fingerprint).await? {
        Begin::Fresh => Ok(None),
        Begin::Replay { status, body } => Ok(Some(Reply {
            status,
            body,
            replayed: true,
        })),
    }
}

/// Stores the reply with the key (in the caller's transaction) and returns it.
pub async fn finish<T: Serialize>(
    tx: &Tx<'_>,
    council_id: Uuid,
    claim: &Claim,
    key: &str,
    status: u16,
    response: &T,
) -> AppResult<Reply> {
    let body = serde_json::to_value(response).map_err(|e| AppError::Internal(e.to_string()))?;
    idempotency::finish(tx, council_id, &claim.scope, key, status, &body).await?;
    Ok(Reply {
        status,
        body,
        replayed: false,
    })
}
