//! Recomputing a council's chain from the rows as they are now.

use serde::Serialize;
use uuid::Uuid;

use super::{link_verifies, load, ChainKey, LinkKind, SignedHead, GENESIS, RECORD_KINDS};
use crate::db::{tenant_tx, DbPool, Tx};
use crate::ledger::audit;
use crate::ledger::error::LedgerError;

/// Links read per round trip.
const PAGE: i64 = 2000;

/// What verification found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct VerifyReport {
    /// Every link recomputes, every entry and record is linked or queued, every account's totals
    /// equal its legs.
    pub ok: bool,
    /// Sealed links (entries, hold resolutions, grants, policy versions, bank-detail changes)
    /// that recomputed correctly, up to the first bad one.
    pub entries_checked: u64,
    /// The first entry (or hold, for a resolution; or grant, policy version, bank-detail change)
    /// whose link does not recompute, that is missing, or that the chain does not know.
    pub first_bad_entry: Option<Uuid>,
    /// The first account whose totals differ from the sum of its legs.
    pub first_bad_account: Option<Uuid>,
    /// What is wrong, in words.
    pub problem: Option<String>,
    /// Entries, resolutions and records written but not yet sealed (normal for a second or so).
    pub unsealed: u64,
    /// The newest link that verified: keep it somewhere else to anchor the chain.
    pub head_position: i64,
    pub head_hash: String,
    /// When all is well: the head signed with the chain key (`allot audit verify --head`).
    pub signed_head: Option<String>,
}

fn fail(report: &mut VerifyReport, entry: Option<Uuid>, problem: String) {
    report.ok = false;
    report.first_bad_entry = entry;
    report.problem = Some(problem);
}

/// Verifies the council's chain under `key` in a transaction of its own.
pub async fn verify(
    pool: &DbPool,
    council_id: Uuid,
    key: &ChainKey,
) -> Result<VerifyReport, LedgerError> {
    let mut client = pool.get().await?;
    let tx = tenant_tx(&mut client, council_id).await?;
    let report = verify_in_tx(&tx, council_id, key).await?;
    tx.commit().await?;
    Ok(report)
}

/// Verifies the council's chain under `key`, then looks for entries it does not know and accounts
/// whose totals are not the sum of their legs. A link computed under another key, or with no key,
/// does not verify.
pub async fn verify_in_tx(
    tx: &Tx<'_>,
    council_id: Uuid,
    key: &ChainKey,
) -> Result<VerifyReport, LedgerError> {
    let mut report = VerifyReport {
        ok: true,
        entries_checked: 0,
        first_bad_entry: None,
        first_bad_account: None,
        problem: None,
        unsealed: 0,
        head_position: 0,
        head_hash: hex::encode(GENESIS),
        signed_head: None,
    };
    let (mut position, mut prev) = (0i64, GENESIS.to_vec());
    'pages: loop {
        let links = tx
            .query(
                "SELECT position, kind, entry_id, prev_hash, hash FROM ledger_chain
                 WHERE council_id = $1 AND position > $2 ORDER BY position LIMIT $3",
                &[&council_id, &position, &PAGE],
            )
            .await?;
        if links.is_empty() {
            break;
        }
        let mut keys = Vec::with_capacity(links.len());
        for link in &links {
            let kind = LinkKind::parse(link.get(1))
                .ok_or_else(|| LedgerError::Internal("a link of no known kind".into()))?;
            keys.push((kind, link.get::<_, Uuid>(2)));
        }
        let sealed = load(tx, council_id, &keys).await?;
        for (link, key_of) in links.iter().zip(&keys) {
            let (at, entry_id): (i64, Uuid) = (link.get(0), key_of.1);
            let (stored_prev, stored): (Vec<u8>, Vec<u8>) = (link.get(3), link.get(4));
            let what = format!("{} (link {at})", key_of.0.describe(entry_id));
            if at != position + 1 {
                fail(
                    &mut report,
                    Some(entry_id),
                    format!("link {} is missing", position + 1),
                );
                break 'pages;
            }
            if stored_prev != prev {
                fail(
                    &mut report,
                    Some(entry_id),
                    format!("link {at} does not follow the link before it"),
                );
                break 'pages;
            }
            let Some(now) = sealed.get(key_of) else {
                fail(
                    &mut report,
                    Some(entry_id),
                    format!("{what} has been deleted"),
                );
                break 'pages;
            };
            if !link_verifies(key, council_id, at, &prev, now, &stored) {
                fail(
                    &mut report,
                    Some(entry_id),
                    format!("{what} has changed since it was sealed"),
                );
                break 'pages;
            }
            report.entries_checked += 1;
            position = at;
            prev = stored;
        }
    }
    report.head_position = position;
    report.head_hash = hex::encode(&prev);
    if report.ok {
        let unknown = tx
            .query_opt(
                "SELECT 'entry', e.id FROM ledger_entries e
                 WHERE e.council_id = $1
                   AND NOT EXISTS (SELECT 1 FROM ledger_chain c WHERE c.council_id = e.council_id
                                   AND c.kind = 'entry' AND c.entry_id = e.id)
                   AND NOT EXISTS (SELECT 1 FROM ledger_seal_queue q WHERE q.council_id = e.council_id
                                   AND q.kind = 'entry' AND q.entry_id = e.id)
                 UNION ALL
                 SELECT 'resolution', r.hold_id FROM ledger_hold_resolutions r
                 WHERE r.council_id = $1
                   AND NOT EXISTS (SELECT 1 FROM ledger_chain c WHERE c.council_id = r.council_id
                                   AND c.kind = 'resolution' AND c.entry_id = r.hold_id)
                   AND NOT EXISTS (SELECT 1 FROM ledger_seal_queue q WHERE q.council_id = r.council_id
                                   AND q.kind = 'resolution' AND q.entry_id = r.hold_id)
                 LIMIT 1",
                &[&council_id],
            )
            .await?;
        if let Some(row) = unknown {
            let (kind, id): (&str, Uuid) = (row.get(0), row.get(1));
            let what = if kind == "entry" {
                format!("entry {id}")
            } else {
                format!("the resolution of hold {id}")
            };
            fail(
                &mut report,
                Some(id),
                format!("{what} was not written by the ledger (it is neither sealed nor queued)"),
            );
        }
    }
    if report.ok {
        // Grants, policy versions, bank-detail changes: each row that must be on the chain is.
        for kind in &RECORD_KINDS {
            let sql = format!(
                "SELECT d.id FROM ({}) d
                 WHERE NOT EXISTS (SELECT 1 FROM ledger_chain c WHERE c.council_id = $1
                                   AND c.kind = $2 AND c.entry_id = d.id)
                   AND NOT EXISTS (SELECT 1 FROM ledger_seal_queue q WHERE q.council_id = $1
                                   AND q.kind = $2 AND q.entry_id = d.id)
                 LIMIT 1",
                kind.due
            );
            let unknown = tx
                .query_opt(&sql, &[&council_id, &kind.kind.as_str()])
                .await?;
            if let Some(row) = unknown {
                let id: Uuid = row.get(0);
                fail(
                    &mut report,
                    Some(id),
                    format!(
                        "{} was not written by allot (it is neither sealed nor queued)",
                        kind.kind.describe(id)
                    ),
                );
                break;
            }
        }
    }
    let queued = tx
        .query_one(
            "SELECT count(*) FROM ledger_seal_queue WHERE council_id = $1",
            &[&council_id],
        )
        .await?;
    report.unsealed = u64::try_from(queued.get::<_, i64>(0)).unwrap_or(0);
    let consistency = audit::consistency(tx, council_id).await?;
    if let Some(account) = consistency
        .mismatched_accounts
        .first()
        .or(consistency.overdrawn_accounts.first())
    {
        report.ok = false;
        report.first_bad_account = Some(*account);
        report.problem.get_or_insert_with(|| {
            format!("account {account}'s totals are not the sum of its legs")
        });
    }
    if report.ok {
        if let Some(entry) = consistency.unbalanced_entries.first() {
            fail(
                &mut report,
                Some(*entry),
                format!("entry {entry} does not balance"),
            );
        }
    }
    if report.ok {
        report.signed_head = Some(SignedHead::sign(key, council_id, position, &prev).to_string());
    }
    Ok(report)
}
