//! Accounts: opening them, reading their balances (from the row, never by summing history), and
//! locking them for a posting.

use std::collections::HashMap;

use chrono::NaiveDate;
use tokio_postgres::Row;
use uuid::Uuid;

use super::error::LedgerError;
use super::types::{Account, Balances, NewAccount, Totals};
use crate::db::Tx;

/// Opens an account with zero balances.
pub async fn create_account(
    tx: &Tx<'_>,
    council_id: Uuid,
    account: &NewAccount,
) -> Result<Uuid, LedgerError> {
    let kind = account.kind.as_str();
    let kind_ok = kind.len() <= 64
        && kind.starts_with(|c: char| c.is_ascii_lowercase())
        && kind
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !kind_ok {
        return Err(LedgerError::invalid(
            "kind",
            "lower-case letters, digits and _, starting with a letter, at most 64",
        ));
    }
    let name = account.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(LedgerError::invalid("name", "must be 1 to 200 characters"));
    }
    let holder = account.holder.as_deref().map(str::trim);
    if holder.is_some_and(|h| h.is_empty() || h.chars().count() > 200) {
        return Err(LedgerError::invalid(
            "holder",
            "must be 1 to 200 characters",
        ));
    }
    let id = Uuid::new_v4();
    let stmt = tx
        .prepare_cached(
            "INSERT INTO ledger_accounts (council_id, id, kind, name, holder, no_overdraft)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .await?;
    tx.execute(
        &stmt,
        &[
            &council_id,
            &id,
            &kind,
            &name,
            &holder,
            &account.no_overdraft,
        ],
    )
    .await?;
    Ok(id)
}

const SELECT_ACCOUNT: &str =
    "SELECT id, kind, name, holder, no_overdraft, posted_debits, posted_credits,
        pending_debits, pending_credits
     FROM ledger_accounts WHERE council_id = $1 AND id = $2";

/// An account with its balances.
pub async fn account(
    tx: &Tx<'_>,
    council_id: Uuid,
    account_id: Uuid,
) -> Result<Account, LedgerError> {
    let stmt = tx.prepare_cached(SELECT_ACCOUNT).await?;
    let row = tx
        .query_opt(&stmt, &[&council_id, &account_id])
        .await?
        .ok_or(LedgerError::AccountNotFound)?;
    Ok(Account {
        id: row.get(0),
        kind: row.get(1),
        name: row.get(2),
        holder: row.get(3),
        no_overdraft: row.get(4),
        balances: totals_at(&row, 5).balances(),
    })
}

/// An account's balances, read from its row in O(1).
pub async fn balances(
    tx: &Tx<'_>,
    council_id: Uuid,
    account_id: Uuid,
) -> Result<Balances, LedgerError> {
    Ok(account(tx, council_id, account_id).await?.balances)
}

fn totals_at(row: &Row, first: usize) -> Totals {
    Totals {
        posted_debits: row.get(first),
        posted_credits: row.get(first + 1),
        pending_debits: row.get(first + 2),
        pending_credits: row.get(first + 3),
    }
}

/// An account locked for this transaction, with its totals as they stand.
#[derive(Debug, Clone, Copy)]
pub struct Locked {
    pub no_overdraft: bool,
    pub totals: Totals,
}

/// The accounts of a posting, locked, and the council's closed period.
pub struct LockedSet {
    pub accounts: HashMap<Uuid, Locked>,
    /// Entries dated on or before this day are refused.
    pub closed_through: Option<NaiveDate>,
}

/// Key class of the ledger's period advisory lock (the object is the council): postings hold it
/// shared, closing a period holds it exclusively, so a close waits for postings in flight and
/// postings after it see the new period.
pub const PERIOD_LOCK_CLASS: i32 = 0x4c45_4447; // "LEDG"

/// Locks `ids` (any order, duplicates allowed) `FOR UPDATE` in sorted id order in one statement,
/// and takes the period lock shared. Any id that is not an account of the council:
/// [`LedgerError::AccountNotFound`].
pub async fn lock_accounts(
    tx: &Tx<'_>,
    council_id: Uuid,
    ids: &[Uuid],
) -> Result<LockedSet, LedgerError> {
    let mut wanted: Vec<Uuid> = ids.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    // The ORDER BY sits under the row-locking step, so rows are locked in id order: two postings
    // touching the same accounts queue instead of deadlocking.
    let stmt = tx
        .prepare_cached(
            "SELECT a.id, a.no_overdraft, a.posted_debits, a.posted_credits, a.pending_debits,
                    a.pending_credits, p.closed_through
             FROM (SELECT pg_advisory_xact_lock_shared($3, hashtext($1::uuid::text)) AS locked,
                          (SELECT max(closed_through) FROM ledger_period_closes
                           WHERE council_id = $1) AS closed_through
                   OFFSET 0) p
             CROSS JOIN ledger_accounts a
             WHERE a.council_id = $1 AND a.id = ANY($2)
             ORDER BY a.id
             FOR UPDATE OF a",
        )
        .await?;
    let rows = tx
        .query(&stmt, &[&council_id, &wanted, &PERIOD_LOCK_CLASS])
        .await?;
    if rows.len() != wanted.len() {
        return Err(LedgerError::AccountNotFound);
    }
    let closed_through = rows.first().and_then(|r| r.get(6));
    let accounts = rows
        .iter()
        .map(|row| {
            (
                row.get(0),
                Locked {
                    no_overdraft: row.get(1),
                    totals: totals_at(row, 2),
                },
            )
        })
        .collect();
    Ok(LockedSet {
        accounts,
        closed_through,
    })
}
