//! The ledger's invariants, recomputed from history in SQL: every entry balances and has legs;
//! each account's four totals equal the sums of its legs (posted legs, and the legs of holds
//! still open); no `no_overdraft` account is below zero counting holds. Used by `verify` and by
//! the tests; it reads the whole of a council's history, so it is an audit, not a hot path.

use rust_decimal::Decimal;
use uuid::Uuid;

use super::error::LedgerError;
use crate::db::Tx;

/// What the recomputation found (each list empty when all is well).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Consistency {
    pub entries_checked: u64,
    pub accounts_checked: u64,
    pub unbalanced_entries: Vec<Uuid>,
    pub mismatched_accounts: Vec<Uuid>,
    pub overdrawn_accounts: Vec<Uuid>,
}

impl Consistency {
    pub fn is_ok(&self) -> bool {
        self.unbalanced_entries.is_empty()
            && self.mismatched_accounts.is_empty()
            && self.overdrawn_accounts.is_empty()
    }
}

pub async fn consistency(tx: &Tx<'_>, council_id: Uuid) -> Result<Consistency, LedgerError> {
    let mut report = Consistency::default();
    let entries = tx
        .query(
            "SELECT e.id, s.legs IS NOT NULL AND s.legs >= 2 AND s.debits = s.credits
             FROM ledger_entries e
             LEFT JOIN (SELECT entry_id, count(*) AS legs,
                               coalesce(sum(amount) FILTER (WHERE side = 'D'), 0) AS debits,
                               coalesce(sum(amount) FILTER (WHERE side = 'C'), 0) AS credits
                        FROM ledger_legs WHERE council_id = $1 GROUP BY entry_id) s
                    ON s.entry_id = e.id
             WHERE e.council_id = $1 ORDER BY e.seq",
            &[&council_id],
        )
        .await?;
    report.entries_checked = entries.len() as u64;
    report.unbalanced_entries = entries
        .iter()
        .filter(|r| !r.get::<_, bool>(1))
        .map(|r| r.get(0))
        .collect();
    let accounts = tx
        .query(
            "WITH sums AS (
                 SELECT l.account_id,
                        coalesce(sum(l.amount) FILTER (WHERE NOT l.pending AND l.side = 'D'), 0) AS pd,
                        coalesce(sum(l.amount) FILTER (WHERE NOT l.pending AND l.side = 'C'), 0) AS pc,
                        coalesce(sum(l.amount) FILTER (WHERE h.hold_id IS NOT NULL AND l.side = 'D'), 0) AS ed,
                        coalesce(sum(l.amount) FILTER (WHERE h.hold_id IS NOT NULL AND l.side = 'C'), 0) AS ec
                 FROM ledger_legs l
                 LEFT JOIN ledger_open_holds h ON h.council_id = l.council_id AND h.hold_id = l.entry_id
                 WHERE l.council_id = $1
                 GROUP BY l.account_id)
             SELECT a.id, a.no_overdraft, a.posted_debits, a.posted_credits, a.pending_debits,
                    a.pending_credits, coalesce(s.pd, 0), coalesce(s.pc, 0), coalesce(s.ed, 0),
                    coalesce(s.ec, 0)
             FROM ledger_accounts a LEFT JOIN sums s ON s.account_id = a.id
             WHERE a.council_id = $1 ORDER BY a.id",
            &[&council_id],
        )
        .await?;
    report.accounts_checked = accounts.len() as u64;
    for row in &accounts {
        let id: Uuid = row.get(0);
        let stored: [Decimal; 4] = [row.get(2), row.get(3), row.get(4), row.get(5)];
        let summed: [Decimal; 4] = [row.get(6), row.get(7), row.get(8), row.get(9)];
        if stored != summed {
            report.mismatched_accounts.push(id);
        }
        let no_overdraft: bool = row.get(1);
        if no_overdraft && stored[0] + stored[2] > stored[1] {
            report.overdrawn_accounts.push(id);
        }
    }
    Ok(report)
}
