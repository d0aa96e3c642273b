//! Corrections: a reversing entry mirrors a posted entry (every leg on the other side), is dated
//! today, and names the original in `reverses`. An entry is reversed at most once (a unique index
//! on `reverses`); history is never edited.

use chrono::NaiveDate;
use uuid::Uuid;

use super::accounts::lock_accounts;
use super::entries::get_entry;
use super::error::LedgerError;
use super::post::single;
use super::types::{Entry, EntryStatus};
use super::validate::check_details;
use super::write::{number_legs, Plan, Planned};
use crate::db::Tx;

/// Longest reason, in characters (it becomes part of the entry's description).
pub const MAX_REASON: usize = 400;

/// Reverses a posted entry. Given a hold that was posted, reverses the entry that posted it; a
/// hold still pending (void it instead), voided or expired moved no money: [`LedgerError::NotPosted`].
/// Reversing can be refused like any posting (a `no_overdraft` account that has spent the money,
/// a closed period).
pub async fn reverse_in_tx(
    tx: &Tx<'_>,
    council_id: Uuid,
    entry_id: Uuid,
    reason: &str,
    metadata: serde_json::Value,
) -> Result<Entry, LedgerError> {
    let today = crate::clock::london_date(crate::clock::system_now());
    reverse_on_in_tx(tx, council_id, entry_id, reason, metadata, today).await
}

/// [`reverse_in_tx`] dated `on` (the council's business date, from the caller's clock).
pub async fn reverse_on_in_tx(
    tx: &Tx<'_>,
    council_id: Uuid,
    entry_id: Uuid,
    reason: &str,
    metadata: serde_json::Value,
    on: NaiveDate,
) -> Result<Entry, LedgerError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON {
        return Err(LedgerError::invalid(
            "reason",
            format!("must be 1 to {MAX_REASON} characters"),
        ));
    }
    let serde_json::Value::Object(mut metadata) = metadata else {
        return Err(LedgerError::invalid("metadata", "must be a JSON object"));
    };
    metadata
        .entry("reason")
        .or_insert_with(|| serde_json::Value::String(reason.to_string()));

    let mut original = get_entry(tx, council_id, entry_id).await?;
    if original.is_hold {
        match (original.status, original.posted_by) {
            (EntryStatus::Posted, Some(posting)) => {
                original = get_entry(tx, council_id, posting).await?;
            }
            _ => return Err(LedgerError::NotPosted),
        }
    }
    if original.reversed_by.is_some() {
        return Err(LedgerError::AlreadyReversed);
    }
    let accounts: Vec<Uuid> = original.legs.iter().map(|l| l.account_id).collect();
    let locked = lock_accounts(tx, council_id, &accounts).await?;
    // Someone may have reversed it while this transaction waited for the locks.
    let reversed = tx
        .query_opt(
            "SELECT id FROM ledger_entries WHERE council_id = $1 AND reverses = $2",
            &[&council_id, &original.id],
        )
        .await?;
    if reversed.is_some() {
        return Err(LedgerError::AlreadyReversed);
    }
    let planned = Planned {
        id: Uuid::new_v4(),
        pending: false,
        effective_date: on,
        description: format!("Reversal: {reason}"),
        metadata: serde_json::Value::Object(metadata),
        reverses: Some(original.id),
        hold_id: None,
        expires_at: None,
        legs: number_legs(
            original
                .legs
                .iter()
                .map(|l| (l.account_id, l.side.opposite(), l.amount)),
        ),
    };
    check_details(&planned.description, &planned.metadata)?;
    let mut plan = Plan::new(&locked);
    plan.add(planned)?;
    single(plan.write(tx, council_id).await?)
}
