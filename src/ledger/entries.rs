//! Reading entries back, with where they stand (a hold's status comes from its resolution).

use tokio_postgres::Row;
use uuid::Uuid;

use super::error::LedgerError;
use super::types::{Entry, EntryStatus, Leg, Side};
use crate::db::Tx;

const SELECT_ENTRY: &str = "
SELECT e.id, e.seq, e.pending, e.effective_date, e.recorded_at, e.description, e.metadata,
       e.reverses, e.hold_id, e.expires_at, r.outcome,
       (SELECT x.id FROM ledger_entries x WHERE x.council_id = e.council_id AND x.reverses = e.id),
       (SELECT x.id FROM ledger_entries x WHERE x.council_id = e.council_id AND x.hold_id = e.id)
FROM ledger_entries e
LEFT JOIN ledger_hold_resolutions r ON r.council_id = e.council_id AND r.hold_id = e.id
WHERE e.council_id = $1 AND e.id = $2";

const SELECT_LEGS: &str = "SELECT leg_no, account_id, side, amount FROM ledger_legs
     WHERE council_id = $1 AND entry_id = $2 ORDER BY leg_no";

/// An entry with its legs and status.
pub async fn get_entry(
    tx: &Tx<'_>,
    council_id: Uuid,
    entry_id: Uuid,
) -> Result<Entry, LedgerError> {
    let stmt = tx.prepare_cached(SELECT_ENTRY).await?;
    let row = tx
        .query_opt(&stmt, &[&council_id, &entry_id])
        .await?
        .ok_or(LedgerError::EntryNotFound)?;
    let stmt = tx.prepare_cached(SELECT_LEGS).await?;
    let legs = tx
        .query(&stmt, &[&council_id, &entry_id])
        .await?
        .iter()
        .map(|row| leg_from_row(row, 0))
        .collect::<Result<Vec<_>, _>>()?;
    entry_from_row(&row, legs)
}

fn entry_from_row(row: &Row, legs: Vec<Leg>) -> Result<Entry, LedgerError> {
    let pending: bool = row.get(2);
    let outcome: Option<String> = row.get(10);
    let status = match (pending, outcome.as_deref()) {
        (false, _) | (true, Some("posted")) => EntryStatus::Posted,
        (true, None) => EntryStatus::Pending,
        (true, Some("voided")) => EntryStatus::Voided,
        (true, Some("expired")) => EntryStatus::Expired,
        (true, Some(other)) => {
            return Err(LedgerError::Internal(format!(
                "unknown hold outcome {other:?}"
            )))
        }
    };
    Ok(Entry {
        id: row.get(0),
        seq: row.get(1),
        status,
        is_hold: pending,
        effective_date: row.get(3),
        recorded_at: row.get(4),
        description: row.get(5),
        metadata: row.get(6),
        reverses: row.get(7),
        hold_id: row.get(8),
        expires_at: row.get(9),
        reversed_by: row.get(11),
        posted_by: row.get(12),
        legs,
    })
}

/// A leg from the columns `leg_no, account_id, side, amount`, starting at column `first`.
pub fn leg_from_row(row: &Row, first: usize) -> Result<Leg, LedgerError> {
    let side: String = row.get(first + 2);
    Ok(Leg {
        leg_no: row.get(first),
        account_id: row.get(first + 1),
        side: Side::from_code(&side)
            .ok_or_else(|| LedgerError::Internal(format!("unknown side {side:?}")))?,
        amount: row.get(first + 3),
    })
}
