//! Posting entries: one, one in a transaction of its own (retried), or a batch in one statement.

use uuid::Uuid;

use super::accounts::lock_accounts;
use super::error::LedgerError;
use super::types::{Entry, NewEntry};
use super::validate::{check_amount, check_entry};
use super::write::{number_legs, Plan, Planned};
use crate::db::{retrying, tenant_tx, DbPool, Tx};

/// Posts an entry in the caller's transaction. Locks its accounts in id order; refuses it
/// (writing nothing) when it does not balance, is dated in a closed period, or would take a
/// `no_overdraft` account below zero counting holds. Not retried: see [`post`].
pub async fn post_in_tx(
    tx: &Tx<'_>,
    council_id: Uuid,
    entry: &NewEntry,
) -> Result<Entry, LedgerError> {
    let planned = plan_entry(entry, false)?;
    let locked = lock_accounts(tx, council_id, &account_ids(entry)).await?;
    let mut plan = Plan::new(&locked);
    plan.add(planned)?;
    single(plan.write(tx, council_id).await?)
}

/// Posts an entry in a transaction of its own, run again (a bounded number of times) after a
/// serialization failure or deadlock.
pub async fn post(pool: &DbPool, council_id: Uuid, entry: &NewEntry) -> Result<Entry, LedgerError> {
    retrying(|| async {
        let mut client = pool.get().await?;
        let tx = tenant_tx(&mut client, council_id).await?;
        let posted = post_in_tx(&tx, council_id, entry).await?;
        tx.commit().await?;
        Ok::<_, LedgerError>(posted)
    })
    .await
}

/// Posts many entries in the caller's transaction with two round trips: every account of the
/// batch is locked once in id order, then all entries, legs and balances are written by one
/// statement. Entries are checked in order; if any is refused, nothing is written. Returns the
/// new entries' ids in the order given.
pub async fn post_batch_in_tx(
    tx: &Tx<'_>,
    council_id: Uuid,
    entries: &[NewEntry],
) -> Result<Vec<Uuid>, LedgerError> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let planned = entries
        .iter()
        .map(|e| plan_entry(e, false))
        .collect::<Result<Vec<_>, _>>()?;
    let ids: Vec<Uuid> = entries.iter().flat_map(account_ids).collect();
    let locked = lock_accounts(tx, council_id, &ids).await?;
    let mut plan = Plan::new(&locked);
    for entry in planned {
        plan.add(entry)?;
    }
    Ok(plan
        .write(tx, council_id)
        .await?
        .into_iter()
        .map(|e| e.id)
        .collect())
}

/// Checks an entry and plans it for a [`Plan`] the caller writes itself (coalesced batches): a
/// posting, or a hold expiring at `hold_expires_at`. The planned entry's id is its id once written.
pub fn planned(
    entry: &NewEntry,
    hold_expires_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<Planned, LedgerError> {
    let mut planned = plan_entry(entry, hold_expires_at.is_some())?;
    planned.expires_at = hold_expires_at;
    Ok(planned)
}

/// Checks a caller's entry and turns it into a planned one (a hold when `pending`).
pub(super) fn plan_entry(entry: &NewEntry, pending: bool) -> Result<Planned, LedgerError> {
    if entry.reverses.is_some() {
        return Err(LedgerError::invalid(
            "reverses",
            "reversing entries are made by reverse_in_tx",
        ));
    }
    check_entry(entry)?;
    let legs = entry
        .legs
        .iter()
        .map(|l| Ok((l.account_id, l.side, check_amount(l.amount)?)))
        .collect::<Result<Vec<_>, LedgerError>>()?;
    Ok(Planned {
        id: Uuid::new_v4(),
        pending,
        effective_date: entry.effective_date,
        description: entry.description.clone(),
        metadata: entry.metadata.clone(),
        reverses: None,
        hold_id: None,
        expires_at: None,
        legs: number_legs(legs),
    })
}

pub fn account_ids(entry: &NewEntry) -> Vec<Uuid> {
    entry.legs.iter().map(|l| l.account_id).collect()
}

/// The one entry a single posting wrote.
pub(super) fn single(mut written: Vec<Entry>) -> Result<Entry, LedgerError> {
    match (written.pop(), written.is_empty()) {
        (Some(entry), true) => Ok(entry),
        _ => Err(LedgerError::Internal("expected exactly one entry".into())),
    }
}
