//! Writing to the ledger: a [`Plan`] collects entries and balance changes against locked
//! accounts, checks them in Rust (closed period, `no_overdraft`, column range), then writes
//! everything in one statement: entries, legs, seal-queue rows and open holds.
//!
//! The account totals are not written here: the database adds every leg to its account's totals
//! (and releases a hold's pending legs when its resolution is recorded) by trigger, and
//! `allot_app` may not update them at all (sql/V8). The plan's running totals are what the
//! refusals are decided on before anything is written; the database's are the second wall.
//!
//! One statement per posting (or per batch) keeps round trips down, and it is also what the
//! database expects: an entry and its legs are inserted by the same statement.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::accounts::LockedSet;
use super::error::LedgerError;
use super::types::{Entry, EntryStatus, Leg, Side, Totals};
use crate::db::Tx;

/// An entry about to be written.
#[derive(Debug, Clone)]
pub struct Planned {
    pub id: Uuid,
    /// A hold: legs count as pending.
    pub pending: bool,
    pub effective_date: NaiveDate,
    pub description: String,
    pub metadata: serde_json::Value,
    pub reverses: Option<Uuid>,
    pub hold_id: Option<Uuid>,
    pub expires_at: Option<DateTime<Utc>>,
    pub legs: Vec<Leg>,
}

/// The largest running total an account's NUMERIC(14,2) columns hold.
fn max_total() -> Decimal {
    Decimal::new(99_999_999_999_999, 2)
}

pub struct Plan {
    no_overdraft: HashMap<Uuid, bool>,
    closed_through: Option<NaiveDate>,
    /// Totals as they will stand (as the database will leave them), to check each entry in order.
    running: HashMap<Uuid, Totals>,
    entries: Vec<Planned>,
}

impl Plan {
    pub fn new(locked: &LockedSet) -> Self {
        Plan {
            no_overdraft: locked
                .accounts
                .iter()
                .map(|(id, a)| (*id, a.no_overdraft))
                .collect(),
            closed_through: locked.closed_through,
            running: locked
                .accounts
                .iter()
                .map(|(id, a)| (*id, a.totals))
                .collect(),
            entries: Vec::new(),
        }
    }

    /// The totals `account_id` would have after `change`, if they fit its columns.
    fn after(&self, account_id: Uuid, change: &Totals) -> Result<Totals, LedgerError> {
        let mut totals = *self
            .running
            .get(&account_id)
            .ok_or(LedgerError::AccountNotFound)?;
        totals.add(change);
        let fits = [
            totals.posted_debits,
            totals.posted_credits,
            totals.pending_debits,
            totals.pending_credits,
        ]
        .iter()
        .all(|t| *t >= Decimal::ZERO && *t <= max_total());
        if !fits {
            return Err(LedgerError::InvalidAmount);
        }
        Ok(totals)
    }

    /// Applies per-account changes all together or not at all: every account is checked (column
    /// range, and `no_overdraft` when `check_overdraft`) before any running total moves, so a
    /// refused entry leaves the plan exactly as it was and the next entry is judged on it.
    fn apply_all(
        &mut self,
        changes: BTreeMap<Uuid, Totals>,
        check_overdraft: bool,
    ) -> Result<(), LedgerError> {
        let mut checked = Vec::with_capacity(changes.len());
        for (account_id, change) in changes {
            let totals = self.after(account_id, &change)?;
            let no_overdraft = self.no_overdraft.get(&account_id).copied().unwrap_or(false);
            if check_overdraft && no_overdraft && !totals.within_no_overdraft() {
                return Err(LedgerError::InsufficientFunds { account_id });
            }
            checked.push((account_id, totals));
        }
        for (account_id, totals) in checked {
            self.running.insert(account_id, totals);
        }
        Ok(())
    }

    /// What `account_id` can spend now, as this plan leaves it (posted credits − posted debits −
    /// pending debits, counting the entries added so far).
    pub fn available(&self, account_id: Uuid) -> Option<Decimal> {
        self.running
            .get(&account_id)
            .map(|t| t.balances().available_balance)
    }

    /// Adds an entry, all or nothing: refuses it (changing nothing) if it is dated in a closed
    /// period or would take a `no_overdraft` account below zero (counting holds).
    pub fn add(&mut self, entry: Planned) -> Result<(), LedgerError> {
        if self
            .closed_through
            .is_some_and(|c| entry.effective_date <= c)
        {
            return Err(LedgerError::PeriodClosed);
        }
        let mut changes: BTreeMap<Uuid, Totals> = BTreeMap::new();
        for leg in &entry.legs {
            changes
                .entry(leg.account_id)
                .or_default()
                .add_leg(leg.side, leg.amount, entry.pending);
        }
        self.apply_all(changes, true)?;
        self.entries.push(entry);
        Ok(())
    }

    /// Whether no entry has been added (so there is nothing to write).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Takes a hold's legs off the pending totals (it was posted, voided or expired): checks that
    /// the totals stay in range, as the database's release will leave them when the resolution is
    /// recorded.
    pub fn release(&mut self, legs: &[Leg]) -> Result<(), LedgerError> {
        let mut changes: BTreeMap<Uuid, Totals> = BTreeMap::new();
        for leg in legs {
            changes
                .entry(leg.account_id)
                .or_default()
                .add_leg(leg.side, -leg.amount, true);
        }
        self.apply_all(changes, false)
    }

    /// Adds accounts locked after the plan was made (opened in this transaction).
    pub fn extend(&mut self, locked: &LockedSet) {
        for (id, account) in &locked.accounts {
            self.no_overdraft.insert(*id, account.no_overdraft);
            self.running.entry(*id).or_insert(account.totals);
        }
    }

    /// Writes the plan's entries in one statement (nothing at all when there are none); returns
    /// the entries as recorded (status posted, or pending for holds), in the order they were added.
    pub async fn write(self, tx: &Tx<'_>, council_id: Uuid) -> Result<Vec<Entry>, LedgerError> {
        if self.entries.is_empty() {
            return Ok(Vec::new());
        }
        let n = self.entries.len();
        let mut ids = Vec::with_capacity(n);
        let mut pending = Vec::with_capacity(n);
        let mut dates = Vec::with_capacity(n);
        let mut descriptions = Vec::with_capacity(n);
        let mut metadata = Vec::with_capacity(n);
        let mut reverses = Vec::with_capacity(n);
        let mut hold_ids = Vec::with_capacity(n);
        let mut expires = Vec::with_capacity(n);
        let (mut leg_entry, mut leg_no, mut leg_account, mut leg_side, mut leg_amount) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for e in &self.entries {
            ids.push(e.id);
            pending.push(e.pending);
            dates.push(e.effective_date);
            descriptions.push(e.description.as_str());
            metadata.push(&e.metadata);
            reverses.push(e.reverses);
            hold_ids.push(e.hold_id);
            expires.push(e.expires_at);
            for leg in &e.legs {
                leg_entry.push(e.id);
                leg_no.push(leg.leg_no);
                leg_account.push(leg.account_id);
                leg_side.push(leg.side.code());
                leg_amount.push(leg.amount);
            }
        }
        let stmt = tx.prepare_cached(WRITE).await?;
        let rows = tx
            .query(
                &stmt,
                &[
                    &council_id,
                    &ids,
                    &pending,
                    &dates,
                    &descriptions,
                    &metadata,
                    &reverses,
                    &hold_ids,
                    &expires,
                    &leg_entry,
                    &leg_no,
                    &leg_account,
                    &leg_side,
                    &leg_amount,
                ],
            )
            .await?;
        let recorded: HashMap<Uuid, (i64, DateTime<Utc>)> = rows
            .iter()
            .map(|r| (r.get(0), (r.get(1), r.get(2))))
            .collect();
        self.entries
            .into_iter()
            .map(|e| {
                let (seq, recorded_at) = *recorded
                    .get(&e.id)
                    .ok_or_else(|| LedgerError::Internal("an entry was not recorded".into()))?;
                Ok(Entry {
                    id: e.id,
                    status: if e.pending {
                        EntryStatus::Pending
                    } else {
                        EntryStatus::Posted
                    },
                    is_hold: e.pending,
                    effective_date: e.effective_date,
                    recorded_at,
                    description: e.description,
                    metadata: e.metadata,
                    legs: e.legs,
                    reverses: e.reverses,
                    reversed_by: None,
                    hold_id: e.hold_id,
                    posted_by: None,
                    expires_at: e.expires_at,
                    seq,
                })
            })
            .collect()
    }
}

/// Numbers legs 1.. in the order given.
pub fn number_legs(legs: impl IntoIterator<Item = (Uuid, Side, Decimal)>) -> Vec<Leg> {
    legs.into_iter()
        .zip(1i16..)
        .map(|((account_id, side, amount), leg_no)| Leg {
            leg_no,
            account_id,
            side,
            amount,
        })
        .collect()
}

const WRITE: &str = "
WITH e AS (
    INSERT INTO ledger_entries (council_id, id, pending, effective_date, description, metadata,
                                reverses, hold_id, expires_at)
    SELECT $1, u.id, u.pending, u.effective_date, u.description, u.metadata, u.reverses,
           u.hold_id, u.expires_at
    FROM unnest($2::uuid[], $3::bool[], $4::date[], $5::text[], $6::jsonb[], $7::uuid[],
                $8::uuid[], $9::timestamptz[])
         AS u(id, pending, effective_date, description, metadata, reverses, hold_id, expires_at)
    RETURNING id, seq, recorded_at, pending, effective_date, expires_at
), l AS (
    INSERT INTO ledger_legs (council_id, entry_id, leg_no, account_id, side, amount,
                             effective_date, entry_seq, pending)
    SELECT $1, v.entry_id, v.leg_no, v.account_id, v.side, v.amount, e.effective_date, e.seq,
           e.pending
    FROM unnest($10::uuid[], $11::int2[], $12::uuid[], $13::text[], $14::numeric[])
         AS v(entry_id, leg_no, account_id, side, amount)
    JOIN e ON e.id = v.entry_id
), q AS (
    INSERT INTO ledger_seal_queue (council_id, entry_id) SELECT $1, id FROM e
), h AS (
    INSERT INTO ledger_open_holds (council_id, hold_id, expires_at)
    SELECT $1, id, expires_at FROM e WHERE pending
)
SELECT id, seq, recorded_at FROM e";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::accounts::Locked;

    fn planned(legs: &[(Uuid, Side, i64)], pending: bool) -> Planned {
        Planned {
            id: Uuid::new_v4(),
            pending,
            effective_date: NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
            description: "test".into(),
            metadata: serde_json::json!({}),
            reverses: None,
            hold_id: None,
            expires_at: None,
            legs: number_legs(
                legs.iter()
                    .map(|(a, side, pence)| (*a, *side, Decimal::new(*pence, 2))),
            ),
        }
    }

    #[test]
    fn a_refused_entry_leaves_the_plan_as_it_was() {
        let (funded, empty, payee) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let mut funded_totals = Totals::default();
        funded_totals.add_leg(Side::Credit, Decimal::new(10_000, 2), false);
        let locked = LockedSet {
            accounts: HashMap::from([
                (
                    funded,
                    Locked {
                        no_overdraft: true,
                        totals: funded_totals,
                    },
                ),
                (
                    empty,
                    Locked {
                        no_overdraft: true,
                        totals: Totals::default(),
                    },
                ),
                (
                    payee,
                    Locked {
                        no_overdraft: false,
                        totals: Totals::default(),
                    },
                ),
            ]),
            closed_through: None,
        };
        let mut plan = Plan::new(&locked);
        // Takes 60.00 from the funded account and 1.00 from the empty one: refused as a whole.
        let refused = plan.add(planned(
            &[
                (funded, Side::Debit, 6_000),
                (empty, Side::Debit, 100),
                (payee, Side::Credit, 6_100),
            ],
            false,
        ));
        assert!(matches!(
            refused,
            Err(LedgerError::InsufficientFunds { account_id }) if account_id == empty
        ));
        assert_eq!(plan.available(funded), Some(Decimal::new(10_000, 2)));
        assert_eq!(plan.available(payee), Some(Decimal::ZERO));
        assert!(plan.is_empty());
        // The next entry is judged on the balances as they were.
        plan.add(planned(
            &[(funded, Side::Debit, 10_000), (payee, Side::Credit, 10_000)],
            true,
        ))
        .unwrap();
        assert_eq!(plan.available(funded), Some(Decimal::ZERO));
        assert!(plan
            .add(planned(
                &[(funded, Side::Debit, 1), (payee, Side::Credit, 1)],
                false
            ))
            .is_err());
    }
}
