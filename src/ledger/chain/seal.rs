//! The sealer: links queued entries, hold resolutions and records onto the council's chain, in
//! recording order, in batches.

use uuid::Uuid;

use super::{link_hash, load, ChainKey, LinkKind, GENESIS, SEAL_LOCK_CLASS};
use crate::db::retrying;
use crate::db::{tenant_tx, DbPool, Tx};
use crate::ledger::error::LedgerError;

/// Entries linked per transaction.
pub const SEAL_BATCH: i64 = 1000;

/// The newest link of a council's chain: (position, hash); (0, zeros) before the first.
pub async fn head(tx: &Tx<'_>, council_id: Uuid) -> Result<(i64, Vec<u8>), LedgerError> {
    let row = tx
        .query_opt(
            "SELECT position, hash FROM ledger_chain WHERE council_id = $1
             ORDER BY position DESC LIMIT 1",
            &[&council_id],
        )
        .await?;
    Ok(row.map_or((0, GENESIS.to_vec()), |r| (r.get(0), r.get(1))))
}

/// Seals up to `limit` queued links (entries, resolutions) in the caller's transaction, under
/// `key`; returns how many.
/// Waits for another sealer of the same council to finish first.
pub async fn seal_batch_in_tx(
    tx: &Tx<'_>,
    council_id: Uuid,
    key: &ChainKey,
    limit: i64,
) -> Result<usize, LedgerError> {
    tx.execute(
        "SELECT pg_advisory_xact_lock($2, hashtext($1::uuid::text))",
        &[&council_id, &SEAL_LOCK_CLASS],
    )
    .await?;
    // Entries in recording order, then resolutions in theirs: a resolution is queued after its
    // hold was recorded (and queued), so a hold is never sealed after its resolution. Then the
    // other records (grants, policy versions, bank-detail changes), kind by kind; a record that
    // can no longer be read stays queued (and unsealed) rather than stop the rest.
    let queued: Vec<(LinkKind, Uuid)> = tx
        .query(
            "SELECT q.kind, q.entry_id FROM ledger_seal_queue q
             LEFT JOIN ledger_entries e
                    ON q.kind = 'entry' AND e.council_id = q.council_id AND e.id = q.entry_id
             LEFT JOIN ledger_hold_resolutions r
                    ON q.kind = 'resolution' AND r.council_id = q.council_id
                   AND r.hold_id = q.entry_id
             WHERE q.council_id = $1
               AND (e.id IS NOT NULL OR r.hold_id IS NOT NULL
                    OR q.kind NOT IN ('entry', 'resolution'))
             ORDER BY CASE q.kind WHEN 'entry' THEN 0 WHEN 'resolution' THEN 1 ELSE 2 END,
                      e.seq, r.resolved_at, q.kind, q.entry_id
             LIMIT $2",
            &[&council_id, &limit],
        )
        .await?
        .iter()
        .map(|r| {
            LinkKind::parse(r.get(0))
                .map(|kind| (kind, r.get(1)))
                .ok_or_else(|| LedgerError::Internal("a queued link of no known kind".into()))
        })
        .collect::<Result<_, _>>()?;
    if queued.is_empty() {
        return Ok(0);
    }
    let sealed = load(tx, council_id, &queued).await?;
    let queued: Vec<(LinkKind, Uuid)> = queued
        .into_iter()
        .filter(|link| {
            matches!(link.0, LinkKind::Entry | LinkKind::Resolution) || sealed.contains_key(link)
        })
        .collect();
    if queued.is_empty() {
        return Ok(0);
    }
    let (mut position, mut prev) = head(tx, council_id).await?;
    let (mut positions, mut kinds, mut ids, mut prevs, mut hashes) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for link in &queued {
        let what = sealed
            .get(link)
            .ok_or_else(|| LedgerError::Internal("a queued link could not be read".into()))?;
        position += 1;
        let hash = link_hash(key, council_id, position, &prev, what).to_vec();
        positions.push(position);
        kinds.push(link.0.as_str());
        ids.push(link.1);
        prevs.push(prev);
        hashes.push(hash.clone());
        prev = hash;
    }
    tx.execute(
        "WITH linked AS (
             INSERT INTO ledger_chain (council_id, position, kind, entry_id, prev_hash, hash)
             SELECT $1, p, k, e, ph, h
             FROM unnest($2::bigint[], $3::text[], $4::uuid[], $5::bytea[], $6::bytea[])
                  AS u(p, k, e, ph, h)
             RETURNING kind, entry_id)
         DELETE FROM ledger_seal_queue q USING linked
         WHERE q.council_id = $1 AND q.kind = linked.kind AND q.entry_id = linked.entry_id",
        &[&council_id, &positions, &kinds, &ids, &prevs, &hashes],
    )
    .await?;
    tracing::info!(council = %council_id, position, head = %hex::encode(&prev), key = key.id(), sealed = ids.len(), "ledger chain sealed");
    Ok(ids.len())
}

/// Seals everything queued for the council (committed before the call) under `key`, batch by
/// batch, each batch in a transaction of its own. Returns how many links were sealed.
pub async fn seal_pending(
    pool: &DbPool,
    council_id: Uuid,
    key: &ChainKey,
) -> Result<usize, LedgerError> {
    let mut total = 0;
    loop {
        let sealed = retrying(|| async {
            let mut client = pool.get().await?;
            let tx = tenant_tx(&mut client, council_id).await?;
            let sealed = seal_batch_in_tx(&tx, council_id, key, SEAL_BATCH).await?;
            tx.commit().await?;
            Ok::<_, LedgerError>(sealed)
        })
        .await?;
        total += sealed;
        if (sealed as i64) < SEAL_BATCH {
            return Ok(total);
        }
    }
}
