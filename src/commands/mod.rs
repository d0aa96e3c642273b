//! The one command path. Every change a caller asks for — through the API, an admin form, the
//! command line or a background job — runs through [`run`] (or, for payments, the coalescing
//! [`PaymentDesk`], built on the same claims and retry policy):
//!
//! - a tenant transaction (`allot_app`, `app.council_id`; see [`crate::db::tenant_tx`]);
//! - an idempotency claim, when the caller sent a key: the key, the caller, the operation and a
//!   fingerprint of the request. The same key and request again gives the stored outcome (a
//!   domain value, so every caller renders a replay as it renders a fresh one); the same key with
//!   a different request is 409 `idempotency_key_reused`;
//! - one bounded retry policy for serialization failures and deadlocks
//!   ([`crate::db::retrying`]): the whole transaction runs again, so `work` may run more than once
//!   and only a committed run counts.
//!
//! Errors roll the transaction back and store nothing, so the key is free again.

pub mod claims;
pub mod coalesce;

use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

use crate::db::{retrying, tenant_tx, BoxFuture, DbPool, Tx};
use crate::error::{AppError, AppResult};
use claims::{fingerprint, valid_key};

pub use claims::Claim;
pub use coalesce::PaymentDesk;

/// What a command came to, and whether it is a stored outcome given again.
#[derive(Debug, Clone, PartialEq)]
pub struct Ran<T> {
    pub value: T,
    pub replayed: bool,
}

impl Claim {
    /// The claim of one request: `operation` names the command (e.g. `POST /api/v1/payments`),
    /// `target` what it acts on (e.g. the path with ids), `body` what was asked.
    pub fn new<B: Serialize>(
        key: &str,
        operation: &str,
        caller: Uuid,
        target: &str,
        body: &B,
    ) -> AppResult<Claim> {
        if !valid_key(key) {
            return Err(AppError::invalid(
                "Idempotency-Key",
                "1 to 255 visible ASCII characters",
            ));
        }
        let body = serde_json::to_vec(body).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(Claim {
            scope: format!("{operation} by {caller}"),
            key: key.to_owned(),
            fingerprint: fingerprint(&[
                operation.as_bytes(),
                caller.as_bytes(),
                target.as_bytes(),
                &body,
            ]),
        })
    }
}

/// Runs `work` as one command for `council_id`: in a tenant transaction, under the claim when
/// there is one (replaying a stored outcome instead of running again), retried on serialization
/// failures and deadlocks, committed when `work` succeeds.
pub async fn run<T, F>(
    pool: &DbPool,
    council_id: Uuid,
    claim: Option<&Claim>,
    work: F,
) -> AppResult<Ran<T>>
where
    T: Serialize + DeserializeOwned,
    F: for<'a> Fn(&'a Tx<'a>) -> BoxFuture<'a, AppResult<T>>,
{
    let work = &work;
    retrying(move || async move {
        let mut client = pool.get().await?;
        let tx = tenant_tx(&mut client, council_id).await?;
        if let Some(claim) = claim {
            let claimed = claims::claim(&tx, council_id, std::slice::from_ref(claim)).await?;
            if let Some(claims::Claimed::Done(stored)) = claimed.into_iter().next().transpose()? {
                return Ok(Ran {
                    value: claims::stored_outcome(stored)?,
                    replayed: true,
                });
            }
        }
        let value = work(&tx).await?;
        if let Some(claim) = claim {
            let outcome =
                serde_json::to_value(&value).map_err(|e| AppError::Internal(e.to_string()))?;
            claims::finish(&tx, council_id, &[(claim, outcome)]).await?;
        }
        tx.commit().await?;
        Ok(Ran {
            value,
            replayed: false,
        })
    })
    .await
}

/// [`run`] without an idempotency key: a change that is safe to repeat or guarded by its own
/// state (approving a held payment, submitting a run), still retried on deadlocks.
pub async fn write<T, F>(pool: &DbPool, council_id: Uuid, work: F) -> AppResult<T>
where
    F: for<'a> Fn(&'a Tx<'a>) -> BoxFuture<'a, AppResult<T>>,
{
    let work = &work;
    retrying(move || async move {
        let mut client = pool.get().await?;
        let tx = tenant_tx(&mut client, council_id).await?;
        let value = work(&tx).await?;
        tx.commit().await?;
        Ok(value)
    })
    .await
}
