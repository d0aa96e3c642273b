//! Idempotency claims, set-based: a batch of requests claims its keys with one statement, stores
//! its outcomes with one, and releases the keys of requests that failed on their own with one.
//! The table is the ledger's `idempotency_keys` (`outcome` holds a command's typed outcome).
//!
//! Concurrent requests with the same key serialize on the key's row: the insert waits for a
//! concurrent inserter to commit or roll back, and an existing row is then locked `FOR UPDATE`.
//! Keys are claimed in sorted order so two batches sharing keys queue rather than deadlock.

use ring::digest::{Context, SHA256};
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::ledger::LedgerError;

/// SHA-256 over the parts of a request, each length-prefixed so parts cannot run together.
pub fn fingerprint(parts: &[&[u8]]) -> [u8; 32] {
    let mut context = Context::new(&SHA256);
    for part in parts {
        context.update(&(part.len() as u64).to_be_bytes());
        context.update(part);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(context.finish().as_ref());
    out
}

/// Whether `key` is 1–255 visible ASCII characters (API.md).
pub fn valid_key(key: &str) -> bool {
    (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

/// The identity of one request: scope (operation and caller), key and fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub(super) scope: String,
    pub(super) key: String,
    pub(super) fingerprint: [u8; 32],
}

impl Claim {
    /// Two claims of the same key in the same scope (only one of them may run in a batch).
    pub fn same_key(&self, other: &Claim) -> bool {
        self.scope == other.scope && self.key == other.key
    }
}

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq)]
pub enum Claimed {
    /// Claimed for this transaction: do the work, then [`finish`].
    Fresh,
    /// Already done: this is the stored outcome.
    Done(Value),
}

/// Claims every key (at most once each) in this transaction; one answer per claim, in order.
/// A key used before with a different request is `idempotency_key_reused` for that claim only.
pub async fn claim(
    tx: &Tx<'_>,
    council_id: Uuid,
    claims: &[Claim],
) -> AppResult<Vec<AppResult<Claimed>>> {
    let mut order: Vec<usize> = (0..claims.len()).collect();
    order.sort_by(|&a, &b| {
        (&claims[a].scope, &claims[a].key).cmp(&(&claims[b].scope, &claims[b].key))
    });
    let scopes: Vec<&str> = order.iter().map(|&i| claims[i].scope.as_str()).collect();
    let keys: Vec<&str> = order.iter().map(|&i| claims[i].key.as_str()).collect();
    let prints: Vec<&[u8]> = order.iter().map(|&i| &claims[i].fingerprint[..]).collect();
    let inserted = tx
        .query(
            &tx.prepare_cached(
                "INSERT INTO idempotency_keys (council_id, scope, key, fingerprint)
                 SELECT $1, u.scope, u.key, u.fingerprint
                 FROM unnest($2::text[], $3::text[], $4::bytea[]) WITH ORDINALITY
                      AS u(scope, key, fingerprint, n)
                 ORDER BY u.n
                 ON CONFLICT DO NOTHING RETURNING scope, key",
            )
            .await?,
            &[&council_id, &scopes, &keys, &prints],
        )
        .await?;
    let fresh: std::collections::HashSet<(String, String)> = inserted
        .iter()
        .map(|r| (r.get("scope"), r.get("key")))
        .collect();
    let mut answers: Vec<Option<AppResult<Claimed>>> = claims.iter().map(|_| None).collect();
    let (mut old_scopes, mut old_keys) = (Vec::new(), Vec::new());
    for (i, c) in claims.iter().enumerate() {
        if fresh.contains(&(c.scope.clone(), c.key.clone())) {
            answers[i] = Some(Ok(Claimed::Fresh));
        } else {
            old_scopes.push(c.scope.as_str());
            old_keys.push(c.key.as_str());
        }
    }
    if !old_keys.is_empty() {
        // A new statement, so a new snapshot: rows the insert conflicted with are visible now.
        let rows = tx
            .query(
                &tx.prepare_cached(
                    "SELECT k.scope, k.key, k.fingerprint, k.outcome, k.finished_at IS NOT NULL AS finished
                     FROM idempotency_keys k
                     JOIN unnest($2::text[], $3::text[]) AS u(scope, key)
                       ON k.scope = u.scope AND k.key = u.key
                     WHERE k.council_id = $1
                     ORDER BY k.scope, k.key FOR UPDATE OF k",
                )
                .await?,
                &[&council_id, &old_scopes, &old_keys],
            )
            .await?;
        for row in &rows {
            let (scope, key): (&str, &str) = (row.get("scope"), row.get("key"));
            let stored: Vec<u8> = row.get("fingerprint");
            let outcome: Option<Value> = row.get("outcome");
            let finished: bool = row.get("finished");
            for (i, c) in claims.iter().enumerate() {
                if answers[i].is_some() || c.scope != scope || c.key != key {
                    continue;
                }
                // Fingerprints are hashes of what the caller sent, not secrets.
                answers[i] = Some(if stored != c.fingerprint {
                    Err(LedgerError::IdempotencyKeyReused.into())
                } else {
                    match (finished, &outcome) {
                        (false, _) => Ok(Claimed::Fresh),
                        (true, Some(outcome)) => Ok(Claimed::Done(outcome.clone())),
                        // A key finished without a typed outcome (stored before outcomes were):
                        // nothing this path can give again.
                        (true, None) => Err(LedgerError::IdempotencyKeyReused.into()),
                    }
                });
            }
        }
    }
    answers
        .into_iter()
        .map(|a| a.ok_or_else(|| AppError::Internal("an idempotency key vanished".into())))
        .collect()
}

/// Stores each claimed key's outcome (in the claiming transaction).
pub async fn finish(tx: &Tx<'_>, council_id: Uuid, done: &[(&Claim, Value)]) -> AppResult<()> {
    if done.is_empty() {
        return Ok(());
    }
    let scopes: Vec<&str> = done.iter().map(|(c, _)| c.scope.as_str()).collect();
    let keys: Vec<&str> = done.iter().map(|(c, _)| c.key.as_str()).collect();
    let outcomes: Vec<&Value> = done.iter().map(|(_, o)| o).collect();
    let updated = tx
        .execute(
            &tx.prepare_cached(
                "UPDATE idempotency_keys k SET outcome = u.outcome, finished_at = now()
                 FROM unnest($2::text[], $3::text[], $4::jsonb[]) AS u(scope, key, outcome)
                 WHERE k.council_id = $1 AND k.scope = u.scope AND k.key = u.key
                   AND k.finished_at IS NULL",
            )
            .await?,
            &[&council_id, &scopes, &keys, &outcomes],
        )
        .await?;
    if updated != done.len() as u64 {
        return Err(AppError::Internal(
            "an idempotency outcome without a claim in this transaction".into(),
        ));
    }
    Ok(())
}

/// Releases claims taken in this transaction for requests that then failed on their own.
pub async fn release(tx: &Tx<'_>, council_id: Uuid, claims: &[&Claim]) -> AppResult<()> {
    if claims.is_empty() {
        return Ok(());
    }
    let scopes: Vec<&str> = claims.iter().map(|c| c.scope.as_str()).collect();
    let keys: Vec<&str> = claims.iter().map(|c| c.key.as_str()).collect();
    tx.execute(
        &tx.prepare_cached(
            "DELETE FROM idempotency_keys k USING unnest($2::text[], $3::text[]) AS u(scope, key)
             WHERE k.council_id = $1 AND k.scope = u.scope AND k.key = u.key
               AND k.finished_at IS NULL",
        )
        .await?,
        &[&council_id, &scopes, &keys],
    )
    .await?;
    Ok(())
}

/// A stored outcome as the command's type.
pub fn stored_outcome<T: DeserializeOwned>(stored: Value) -> AppResult<T> {
    serde_json::from_value(stored)
        .map_err(|e| AppError::Internal(format!("a stored outcome no longer reads: {e}")))
}

/// The stored outcome of a key already done, read without claiming it (a caller that must
/// prepare a request first looks here, so a replay answers even when the preparation no longer
/// would: an invoice paid since, say). Another request under the key is `idempotency_key_reused`.
pub async fn peek(tx: &Tx<'_>, council_id: Uuid, claim: &Claim) -> AppResult<Option<Value>> {
    let row = tx
        .query_opt(
            &tx.prepare_cached(
                "SELECT fingerprint, outcome FROM idempotency_keys
                 WHERE council_id = $1 AND scope = $2 AND key = $3 AND finished_at IS NOT NULL",
            )
            .await?,
            &[&council_id, &claim.scope, &claim.key],
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let stored: Vec<u8> = row.get("fingerprint");
    if stored != claim.fingerprint {
        return Err(LedgerError::IdempotencyKeyReused.into());
    }
    let outcome: Option<Value> = row.get("outcome");
    outcome
        .map(Some)
        .ok_or_else(|| LedgerError::IdempotencyKeyReused.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_separate_parts() {
        assert_ne!(fingerprint(&[b"ab", b"c"]), fingerprint(&[b"a", b"bc"]));
        assert_eq!(fingerprint(&[b"ab", b"c"]), fingerprint(&[b"ab", b"c"]));
    }

    #[test]
    fn keys_are_visible_ascii() {
        assert!(valid_key("abc-123_X"));
        assert!(valid_key(&"k".repeat(255)));
        for bad in ["", "with space", "tab\t", "é", &"k".repeat(256)] {
            assert!(!valid_key(bad), "{bad:?}");
        }
    }
}
