//! Recomputing a council's chain from the rows as they are now.

use serde::Serialize;
use uuid::Uuid;

use super::{link_verifies, load, ChainKey, SignedHead, GENESIS};
use crate::db::{tenant_tx, DbPool, Tx};
use crate::ledger::audit;
use crate::ledger::error::LedgerError;

/// Links read per round trip.
const PAGE: i64 = 2000;

/// What verification found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct VerifyReport {
    /// Every link recomputes, every entry is linked or queued, every account's totals equal its legs.
    pub ok: bool,
    /// Sealed entries whose links recomputed correctly (up to the first bad one).
    pub entries_checked: u64,
    /// The first entry whose link does not recompute, whose entry is missing, or that the chain
    /// does not know.
    pub first_bad_entry: Option<Uuid>,
    /// The first account whose totals differ from the sum of its legs.
    pub first_bad_account: Option<Uuid>,
    /// What is wrong, in words.
    pub problem: Option<String>,
    /// Entries posted but not yet sealed (normal for a second or so).
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
                "SELECT position, entry_id, prev_hash, hash FROM ledger_chain
                 WHERE council_id = $1 AND position > $2 ORDER BY position LIMIT $3",
                &[&council_id, &position, &PAGE],
            )
            .await?;
        if links.is_empty() {
            break;
        }
        let ids: Vec<Uuid> = links.iter().map(|r| r.get(1)).collect();
        let entries = load(tx, council_id, &ids).await?;
        for link in &links {
            let (at, entry_id): (i64, Uuid) = (link.get(0), link.get(1));
            let (stored_prev, stored): (Vec<u8>, Vec<u8>) = (link.get(2), link.get(3));
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
            let Some(entry) = entries.get(&entry_id) else {
                fail(
                    &mut report,
                    Some(entry_id),
                    format!("entry {entry_id} (link {at}) has been deleted"),
                );
                break 'pages;
            };
            if !link_verifies(key, council_id, at, &prev, entry, &stored) {
                fail(
                    &mut report,
                    Some(entry_id),
                    format!("entry {entry_id} (link {at}) has changed since it was sealed"),
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
                "SELECT e.id FROM ledger_entries e
                 WHERE e.council_id = $1
                   AND NOT EXISTS (SELECT 1 FROM ledger_chain c WHERE c.council_id = e.council_id AND c.entry_id = e.id)
                   AND NOT EXISTS (SELECT 1 FROM ledger_seal_queue q WHERE q.council_id = e.council_id AND q.entry_id = e.id)
                 ORDER BY e.seq LIMIT 1",
                &[&council_id],
            )
            .await?;
        if let Some(row) = unknown {
            let id: Uuid = row.get(0);
            fail(
                &mut report,
                Some(id),
                format!(
                    "entry {id} was not written by the ledger (it is neither sealed nor queued)"
                ),
            );
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
