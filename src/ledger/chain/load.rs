//! Reading what links seal from the rows as they are now.

use std::collections::HashMap;

use uuid::Uuid;

use super::records::{load_records, RECORD_KINDS};
use super::{ChainEntry, ChainLeg, ChainResolution, LinkKind, Sealed};
use crate::db::Tx;
use crate::ledger::error::LedgerError;

/// Loads what `links` seal (kind and id), as stored now; anything missing is simply absent.
pub async fn load(
    tx: &Tx<'_>,
    council_id: Uuid,
    links: &[(LinkKind, Uuid)],
) -> Result<HashMap<(LinkKind, Uuid), Sealed>, LedgerError> {
    let ids_of = |kind: LinkKind| -> Vec<Uuid> {
        links
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, id)| *id)
            .collect()
    };
    let mut loaded: HashMap<(LinkKind, Uuid), Sealed> = HashMap::with_capacity(links.len());
    let entries = ids_of(LinkKind::Entry);
    if !entries.is_empty() {
        for (id, entry) in load_entries(tx, council_id, &entries).await? {
            loaded.insert((LinkKind::Entry, id), Sealed::Entry(entry));
        }
    }
    let holds = ids_of(LinkKind::Resolution);
    if !holds.is_empty() {
        let stmt = tx
            .prepare_cached(
                "SELECT hold_id, outcome, metadata::text, resolved_at
                 FROM ledger_hold_resolutions WHERE council_id = $1 AND hold_id = ANY($2)",
            )
            .await?;
        for r in tx.query(&stmt, &[&council_id, &holds]).await? {
            let resolution = ChainResolution {
                hold_id: r.get(0),
                outcome: r.get(1),
                metadata: r.get(2),
                resolved_at: r.get(3),
            };
            loaded.insert(
                (LinkKind::Resolution, resolution.hold_id),
                Sealed::Resolution(resolution),
            );
        }
    }
    for kind in &RECORD_KINDS {
        let ids = ids_of(kind.kind);
        if ids.is_empty() {
            continue;
        }
        for (id, record) in load_records(tx, council_id, kind, &ids).await? {
            loaded.insert((kind.kind, id), Sealed::Record(record));
        }
    }
    Ok(loaded)
}

/// Loads entries and their legs, as stored, by id (missing ids are simply absent).
async fn load_entries(
    tx: &Tx<'_>,
    council_id: Uuid,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, ChainEntry>, LedgerError> {
    let stmt = tx
        .prepare_cached(
            "SELECT id, seq, pending, effective_date, recorded_at, description, metadata::text,
                    reverses, hold_id, expires_at
             FROM ledger_entries WHERE council_id = $1 AND id = ANY($2)",
        )
        .await?;
    let mut entries: HashMap<Uuid, ChainEntry> = tx
        .query(&stmt, &[&council_id, &ids])
        .await?
        .iter()
        .map(|r| {
            let entry = ChainEntry {
                id: r.get(0),
                seq: r.get(1),
                pending: r.get(2),
                effective_date: r.get(3),
                recorded_at: r.get(4),
                description: r.get(5),
                metadata: r.get(6),
                reverses: r.get(7),
                hold_id: r.get(8),
                expires_at: r.get(9),
                legs: Vec::new(),
            };
            (entry.id, entry)
        })
        .collect();
    let stmt = tx
        .prepare_cached(
            "SELECT entry_id, leg_no, account_id, side, amount, effective_date, entry_seq, pending
             FROM ledger_legs WHERE council_id = $1 AND entry_id = ANY($2)
             ORDER BY entry_id, leg_no",
        )
        .await?;
    for r in tx.query(&stmt, &[&council_id, &ids]).await? {
        let entry_id: Uuid = r.get(0);
        // Legs whose entry is gone stay unattached; the missing entry is what verify reports.
        if let Some(entry) = entries.get_mut(&entry_id) {
            entry.legs.push(ChainLeg {
                leg_no: r.get(1),
                account_id: r.get(2),
                side: r.get(3),
                amount: r.get(4),
                effective_date: r.get(5),
                entry_seq: r.get(6),
                pending: r.get(7),
            });
        }
    }
    Ok(entries)
}
