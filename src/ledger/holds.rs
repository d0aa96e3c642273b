//! Two-phase entries. A hold reserves money: its legs count as pending (a `no_overdraft` account's
//! pending debits already reduce what it can spend). It is then resolved exactly once: posted in
//! full or in part (a new posted entry, linked by `hold_id`, moves the money; the rest is
//! released), voided, or expired once `expires_at` has passed.
//!
//! The account totals follow in the database: recording a hold's resolution releases its pending
//! legs (a trigger), and posting it adds the posting entry's legs like any posting. The checks
//! here ([`Plan::release`]) come first and decide refusals.
//!
//! Exactly once, even racing: resolving locks the hold's accounts first (in id order, like every
//! posting), so resolvers of one hold queue; the one that gets the locks checks the hold is
//! still open (a competitor that resolved it has committed by then), then deletes the hold's row
//! from `ledger_open_holds` and records the outcome in `ledger_hold_resolutions`. Only one
//! transaction can delete the row; the others get [`LedgerError::NotPending`] with nothing
//! written. The resolution's primary key and the unique `hold_id` of posting entries stand
//! behind that in the database.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::accounts::lock_accounts;
use super::entries::{get_entry, leg_from_row};
use super::error::LedgerError;
use super::post::{account_ids, plan_entry, single};
use super::types::{Entry, EntryStatus, Leg, NewEntry};
use super::validate::{check_amount, check_details};
use super::write::{number_legs, Plan, Planned};
use crate::db::retrying;
use crate::db::{tenant_tx, DbPool, Tx};

/// Holds an entry's amounts until `expires_at` (which must be in the future).
pub async fn hold_in_tx(
    tx: &Tx<'_>,
    council_id: Uuid,
    entry: &NewEntry,
    expires_at: DateTime<Utc>,
) -> Result<Entry, LedgerError> {
    if expires_at <= crate::clock::system_now() {
        return Err(LedgerError::invalid("expires_at", "must be in the future"));
    }
    let mut planned = plan_entry(entry, true)?;
    planned.expires_at = Some(expires_at);
    let locked = lock_accounts(tx, council_id, &account_ids(entry)).await?;
    let mut plan = Plan::new(&locked);
    plan.add(planned)?;
    single(plan.write(tx, council_id).await?)
}

/// Posts a pending hold: all of it (`amount` None or the full amount), or part of it (a
/// two-legged hold only), releasing the rest. Returns the new posted entry (its `hold_id` names
/// the hold), dated like the hold, carrying the hold's metadata.
pub async fn post_pending_in_tx(
    tx: &Tx<'_>,
    council_id: Uuid,
    entry_id: Uuid,
    amount: Option<Decimal>,
) -> Result<Entry, LedgerError> {
    post_pending_with_in_tx(
        tx,
        council_id,
        entry_id,
        amount,
        None,
        crate::clock::system_now(),
    )
    .await
}

/// [`post_pending_in_tx`] recording `metadata` (e.g. who approved) on the posting entry instead
/// of the hold's, judging expiry at `now`.
pub async fn post_pending_with_in_tx(
    tx: &Tx<'_>,
    council_id: Uuid,
    entry_id: Uuid,
    amount: Option<Decimal>,
    metadata: Option<serde_json::Value>,
    now: DateTime<Utc>,
) -> Result<Entry, LedgerError> {
    let hold = open_hold(tx, council_id, entry_id).await?;
    if hold.expires_at.is_some_and(|at| at <= now) {
        return Err(LedgerError::HoldExpired);
    }
    let legs = posting_legs(&hold.legs, amount)?;
    let metadata = metadata.unwrap_or_else(|| hold.metadata.clone());
    check_details(&hold.description, &metadata)?;
    let locked = lock_accounts(tx, council_id, &leg_accounts(&hold.legs)).await?;
    still_open(tx, council_id, hold.id).await?;
    let mut plan = Plan::new(&locked);
    plan.release(&hold.legs)?;
    plan.add(Planned {
        id: Uuid::new_v4(),
        pending: false,
        effective_date: hold.effective_date,
        description: hold.description.clone(),
        metadata,
        reverses: None,
        hold_id: Some(hold.id),
        expires_at: None,
        legs,
    })?;
    resolve_one(tx, council_id, hold.id, "posted", &serde_json::json!({})).await?;
    single(plan.write(tx, council_id).await?)
}

/// Voids a pending hold, releasing all of it. Returns the hold, now voided.
pub async fn void_pending_in_tx(
    tx: &Tx<'_>,
    council_id: Uuid,
    entry_id: Uuid,
) -> Result<Entry, LedgerError> {
    void_pending_with_in_tx(tx, council_id, entry_id, serde_json::json!({})).await
}

/// [`void_pending_in_tx`] recording `metadata` (e.g. who rejected it and why) with the outcome.
pub async fn void_pending_with_in_tx(
    tx: &Tx<'_>,
    council_id: Uuid,
    entry_id: Uuid,
    metadata: serde_json::Value,
) -> Result<Entry, LedgerError> {
    check_details("", &metadata)?;
    let mut hold = open_hold(tx, council_id, entry_id).await?;
    let locked = lock_accounts(tx, council_id, &leg_accounts(&hold.legs)).await?;
    still_open(tx, council_id, hold.id).await?;
    // Checked in Rust first; recording the resolution is what releases the pending totals (a
    // trigger in the database).
    Plan::new(&locked).release(&hold.legs)?;
    resolve_one(tx, council_id, hold.id, "voided", &metadata).await?;
    hold.status = EntryStatus::Voided;
    Ok(hold)
}

/// How many holds one round of expiry resolves (the rest wait for the next round).
const EXPIRY_BATCH: i64 = 500;

/// Expires every pending hold of the council whose `expires_at` is at or before `now`, in the
/// caller's transaction. Returns how many this call expired (a hold resolved meanwhile by
/// someone else is left to them).
pub async fn expire_due_holds_in_tx(
    tx: &Tx<'_>,
    council_id: Uuid,
    now: DateTime<Utc>,
) -> Result<usize, LedgerError> {
    let mut expired = 0;
    loop {
        let (done, more) = expire_due_batch_in_tx(tx, council_id, now).await?;
        expired += done;
        if !more {
            return Ok(expired);
        }
    }
}

/// Expires at most one batch of due holds; returns how many it expired and whether more may be due.
async fn expire_due_batch_in_tx(
    tx: &Tx<'_>,
    council_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(usize, bool), LedgerError> {
    let due = tx
        .query(
            "SELECT hold_id FROM ledger_open_holds WHERE council_id = $1 AND expires_at <= $2
             ORDER BY expires_at, hold_id LIMIT $3",
            &[&council_id, &now, &EXPIRY_BATCH],
        )
        .await?;
    let ids: Vec<Uuid> = due.iter().map(|r| r.get(0)).collect();
    if ids.is_empty() {
        return Ok((0, false));
    }
    let rows = tx
        .query(
            "SELECT entry_id, leg_no, account_id, side, amount FROM ledger_legs
             WHERE council_id = $1 AND entry_id = ANY($2) ORDER BY entry_id, leg_no",
            &[&council_id, &ids],
        )
        .await?;
    let mut legs: Vec<(Uuid, Leg)> = Vec::with_capacity(rows.len());
    for row in &rows {
        legs.push((row.get(0), leg_from_row(row, 1)?));
    }
    let accounts: Vec<Uuid> = legs.iter().map(|(_, l)| l.account_id).collect();
    let locked = lock_accounts(tx, council_id, &accounts).await?;
    let resolved = resolve(
        tx,
        council_id,
        &ids,
        "expired",
        &serde_json::json!({}),
        Some(now),
    )
    .await?;
    let released: Vec<Leg> = legs
        .into_iter()
        .filter(|(hold, _)| resolved.contains(hold))
        .map(|(_, leg)| leg)
        .collect();
    // The resolutions just recorded released these in the database; an error here (a total
    // out of range) rolls that back.
    Plan::new(&locked).release(&released)?;
    Ok((resolved.len(), (ids.len() as i64) >= EXPIRY_BATCH))
}

/// Expires the council's due holds, each batch in a transaction of its own (committed before the
/// next begins, so a long backlog neither holds its accounts' locks for long nor is lost by a
/// failure late in it), each retried on deadlocks.
pub async fn expire_due_holds(
    pool: &DbPool,
    council_id: Uuid,
    now: DateTime<Utc>,
) -> Result<usize, LedgerError> {
    let mut expired = 0;
    loop {
        let (done, more) = retrying(|| async {
            let mut client = pool.get().await?;
            let tx = tenant_tx(&mut client, council_id).await?;
            let batch = expire_due_batch_in_tx(&tx, council_id, now).await?;
            tx.commit().await?;
            Ok::<_, LedgerError>(batch)
        })
        .await?;
        expired += done;
        if !more {
            return Ok(expired);
        }
    }
}

/// The hold, if it is one and still pending.
async fn open_hold(tx: &Tx<'_>, council_id: Uuid, entry_id: Uuid) -> Result<Entry, LedgerError> {
    let hold = get_entry(tx, council_id, entry_id).await?;
    if !hold.is_hold || hold.status != EntryStatus::Pending {
        return Err(LedgerError::NotPending);
    }
    Ok(hold)
}

/// After its accounts are locked: whoever resolved the hold first has committed (they held those
/// locks), so a fresh read tells whether it is still open, before anything is planned or written.
async fn still_open(tx: &Tx<'_>, council_id: Uuid, hold_id: Uuid) -> Result<(), LedgerError> {
    let stmt = tx
        .prepare_cached("SELECT 1 FROM ledger_open_holds WHERE council_id = $1 AND hold_id = $2")
        .await?;
    match tx.query_opt(&stmt, &[&council_id, &hold_id]).await? {
        Some(_) => Ok(()),
        None => Err(LedgerError::NotPending),
    }
}

fn leg_accounts(legs: &[Leg]) -> Vec<Uuid> {
    legs.iter().map(|l| l.account_id).collect()
}

/// The legs that post `amount` of a hold: all of them, or both legs of a two-legged hold scaled
/// down to `amount`.
fn posting_legs(hold: &[Leg], amount: Option<Decimal>) -> Result<Vec<Leg>, LedgerError> {
    let full = || number_legs(hold.iter().map(|l| (l.account_id, l.side, l.amount)));
    let Some(amount) = amount else {
        return Ok(full());
    };
    let amount = check_amount(amount)?;
    let total: Decimal = hold
        .iter()
        .filter(|l| l.side == super::types::Side::Debit)
        .map(|l| l.amount)
        .sum();
    if amount > total {
        return Err(LedgerError::InvalidAmount);
    }
    if amount == total {
        return Ok(full());
    }
    if hold.len() != 2 {
        return Err(LedgerError::invalid(
            "amount",
            "a hold of more than two legs can only be posted in full",
        ));
    }
    Ok(number_legs(
        hold.iter().map(|l| (l.account_id, l.side, amount)),
    ))
}

/// Resolves one open hold; if it is not open any more someone else resolved it first.
async fn resolve_one(
    tx: &Tx<'_>,
    council_id: Uuid,
    hold: Uuid,
    outcome: &str,
    metadata: &serde_json::Value,
) -> Result<(), LedgerError> {
    let resolved = resolve(tx, council_id, &[hold], outcome, metadata, None).await?;
    if resolved.is_empty() {
        return Err(LedgerError::NotPending);
    }
    Ok(())
}

/// Resolves open holds with `outcome` (queued for the hash chain like an entry); returns those
/// this transaction resolved (a hold already resolved by another transaction is skipped). With
/// `due`, only holds expiring by then.
async fn resolve(
    tx: &Tx<'_>,
    council_id: Uuid,
    holds: &[Uuid],
    outcome: &str,
    metadata: &serde_json::Value,
    due: Option<DateTime<Utc>>,
) -> Result<Vec<Uuid>, LedgerError> {
    let stmt = tx
        .prepare_cached(
            "WITH d AS (
                 DELETE FROM ledger_open_holds
                 WHERE council_id = $1 AND hold_id = ANY($2) AND ($5::timestamptz IS NULL OR expires_at <= $5)
                 RETURNING hold_id
             ), r AS (
                 INSERT INTO ledger_hold_resolutions (council_id, hold_id, outcome, metadata)
                 SELECT $1, hold_id, $3, $4 FROM d
                 RETURNING hold_id
             ), q AS (
                 INSERT INTO ledger_seal_queue (council_id, kind, entry_id)
                 SELECT $1, 'resolution', hold_id FROM r
             )
             SELECT hold_id FROM r",
        )
        .await?;
    let rows = tx
        .query(&stmt, &[&council_id, &holds, &outcome, metadata, &due])
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
