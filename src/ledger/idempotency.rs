//! Idempotency keys: a money-moving request carries a key; its effect and its response are
//! stored in the same transaction, so a retry gets the first response again and nothing is done
//! twice. The same key with a different request (by fingerprint) is refused.
//!
//! Usage, inside the transaction that does the work:
//! `begin` → `Replay` (answer with the stored response) or `Fresh` (do the work, then `finish`
//! with the response, then commit). If the work fails, roll back: the key is then free again.
//!
//! Concurrent requests with the same key serialize on the key's row: `begin` inserts it
//! (`ON CONFLICT DO NOTHING`, which waits for a concurrent inserter to commit or roll back) and
//! otherwise locks the existing row `FOR UPDATE`, so the second request sees the first one's
//! stored response.

use ring::digest::{Context, SHA256};
use uuid::Uuid;

use super::error::LedgerError;
use crate::db::Tx;

/// What `begin` found.
#[derive(Debug, Clone, PartialEq)]
pub enum Begin {
    /// A new request (or an unfinished key left by a committed transaction): do the work.
    Fresh,
    /// Already done with the same request: give this response again, do nothing.
    Replay {
        status: u16,
        body: serde_json::Value,
    },
}

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

fn check(scope: &str, key: &str) -> Result<(), LedgerError> {
    if scope.is_empty() || scope.len() > 200 {
        return Err(LedgerError::invalid("scope", "must be 1 to 200 bytes"));
    }
    if !valid_key(key) {
        return Err(LedgerError::invalid(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters",
        ));
    }
    Ok(())
}

/// Claims `key` within `scope` for this transaction, or finds its stored response.
pub async fn begin(
    tx: &Tx<'_>,
    council_id: Uuid,
    scope: &str,
    key: &str,
    fingerprint: &[u8],
) -> Result<Begin, LedgerError> {
    check(scope, key)?;
    if fingerprint.len() != 32 {
        return Err(LedgerError::invalid(
            "fingerprint",
            "must be a SHA-256 digest",
        ));
    }
    let insert = tx
        .prepare_cached(
            "INSERT INTO idempotency_keys (council_id, scope, key, fingerprint)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1",
        )
        .await?;
    if !tx
        .query(&insert, &[&council_id, &scope, &key, &fingerprint])
        .await?
        .is_empty()
    {
        return Ok(Begin::Fresh);
    }
    // A new statement, so a new snapshot: the row the insert conflicted with is visible now.
    let select = tx
        .prepare_cached(
            "SELECT fingerprint, response_status, response_body FROM idempotency_keys
             WHERE council_id = $1 AND scope = $2 AND key = $3 FOR UPDATE",
        )
        .await?;
    let row = tx
        .query_opt(&select, &[&council_id, &scope, &key])
        .await?
        // The conflicting row was committed (the insert waited for it) and is never deleted.
        .ok_or_else(|| LedgerError::Internal("an idempotency key vanished".into()))?;
    let stored: Vec<u8> = row.get(0);
    // Fingerprints are not secrets (they are hashes of what the caller sent): a plain comparison.
    if stored != fingerprint {
        return Err(LedgerError::IdempotencyKeyReused);
    }
    let status: Option<i16> = row.get(1);
    let body: Option<serde_json::Value> = row.get(2);
    match (status, body) {
        (Some(status), Some(body)) => Ok(Begin::Replay {
            status: u16::try_from(status)
                .map_err(|_| LedgerError::Internal("stored response status out of range".into()))?,
            body,
        }),
        _ => Ok(Begin::Fresh),
    }
}

/// Stores the response for a key claimed by [`begin`] in this transaction.
pub async fn finish(
    tx: &Tx<'_>,
    council_id: Uuid,
    scope: &str,
    key: &str,
    status: u16,
    body: &serde_json::Value,
) -> Result<(), LedgerError> {
    check(scope, key)?;
    let status = i16::try_from(status)
        .ok()
        .filter(|s| (100..=599).contains(s))
        .ok_or_else(|| LedgerError::invalid("status", "must be an HTTP status"))?;
    let stmt = tx
        .prepare_cached(
            "UPDATE idempotency_keys SET response_status = $4, response_body = $5, finished_at = now()
             WHERE council_id = $1 AND scope = $2 AND key = $3 AND finished_at IS NULL",
        )
        .await?;
    let updated = tx
        .execute(&stmt, &[&council_id, &scope, &key, &status, body])
        .await?;
    if updated != 1 {
        return Err(LedgerError::Internal(
            "idempotency finish without a matching begin in this transaction".into(),
        ));
    }
    Ok(())
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
