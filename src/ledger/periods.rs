//! Time: closed periods and point-in-time balances.
//!
//! Every entry has `recorded_at` (when it was written) and `effective_date` (the day it is for).
//! Closing a period through a date refuses any later entry dated on or before it
//! ([`LedgerError::PeriodClosed`]). Postings hold the council's period lock shared; closing takes
//! it exclusively, so a close waits for postings in flight, and the database's own check (in the
//! entries' trigger, with a fresh snapshot) sees a close committed before a posting got the lock.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::accounts::PERIOD_LOCK_CLASS;
use super::error::LedgerError;
use crate::db::Tx;

/// Closes the council's books through `through` (inclusive). Closing an earlier date than one
/// already closed changes nothing. Returns the date the books are now closed through.
pub async fn close_period(
    tx: &Tx<'_>,
    council_id: Uuid,
    through: NaiveDate,
) -> Result<NaiveDate, LedgerError> {
    tx.execute(
        "SELECT pg_advisory_xact_lock($2, hashtext($1::uuid::text))",
        &[&council_id, &PERIOD_LOCK_CLASS],
    )
    .await?;
    tx.execute(
        "INSERT INTO ledger_period_closes (council_id, closed_through) VALUES ($1, $2)
         ON CONFLICT DO NOTHING",
        &[&council_id, &through],
    )
    .await?;
    closed_through(tx, council_id)
        .await?
        .ok_or_else(|| LedgerError::Internal("the period was not closed".into()))
}

/// The last day of the council's closed period, if any.
pub async fn closed_through(
    tx: &Tx<'_>,
    council_id: Uuid,
) -> Result<Option<NaiveDate>, LedgerError> {
    let row = tx
        .query_one(
            "SELECT max(closed_through) FROM ledger_period_closes WHERE council_id = $1",
            &[&council_id],
        )
        .await?;
    Ok(row.get(0))
}

/// An account's posted balance (credits − debits) at the end of `date`, by effective date, as
/// known now (entries recorded later but dated on or before `date` count).
pub async fn balance_at(
    tx: &Tx<'_>,
    council_id: Uuid,
    account_id: Uuid,
    date: NaiveDate,
) -> Result<Decimal, LedgerError> {
    let stmt = tx
        .prepare_cached(
            "SELECT (SELECT coalesce(sum(CASE l.side WHEN 'C' THEN l.amount ELSE -l.amount END), 0)
                     FROM ledger_legs l
                     WHERE l.council_id = a.council_id AND l.account_id = a.id AND NOT l.pending
                       AND l.effective_date <= $3)
             FROM ledger_accounts a WHERE a.council_id = $1 AND a.id = $2",
        )
        .await?;
    let row = tx
        .query_opt(&stmt, &[&council_id, &account_id, &date])
        .await?
        .ok_or(LedgerError::AccountNotFound)?;
    Ok(row.get(0))
}
