//! The ledger's values: what callers give it and what it gives back.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Which side of an account a leg is on. Balance = credits − debits, so money *into* a holder
/// account is a credit to it, and a funding source releasing money is debited (and goes negative).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Debit,
    Credit,
}

impl Side {
    /// The code stored in `ledger_legs.side`.
    pub fn code(self) -> &'static str {
        match self {
            Side::Debit => "D",
            Side::Credit => "C",
        }
    }

    pub fn from_code(code: &str) -> Option<Side> {
        match code {
            "D" => Some(Side::Debit),
            "C" => Some(Side::Credit),
            _ => None,
        }
    }

    pub fn opposite(self) -> Side {
        match self {
            Side::Debit => Side::Credit,
            Side::Credit => Side::Debit,
        }
    }

    /// The effect of `amount` on this side on a balance (credits − debits).
    pub fn signed(self, amount: Decimal) -> Decimal {
        match self {
            Side::Debit => -amount,
            Side::Credit => amount,
        }
    }
}

/// An account to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    /// What the account is for, e.g. `council_funding`, `direct_payment` (lower case, `_`).
    pub kind: String,
    pub name: String,
    /// Who holds the money, in the caller's terms (e.g. `person:<id>`).
    pub holder: Option<String>,
    /// Debits, counting pending ones, may not exceed posted credits.
    pub no_overdraft: bool,
}

/// An account with its balances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: Uuid,
    pub kind: String,
    pub name: String,
    pub holder: Option<String>,
    pub no_overdraft: bool,
    pub balances: Balances,
}

/// One leg of an entry to post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLeg {
    pub account_id: Uuid,
    pub side: Side,
    /// More than zero, at most two decimal places.
    pub amount: Decimal,
}

/// An entry to post (or hold).
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry {
    /// The day the entry is for (closed periods refuse earlier days).
    pub effective_date: NaiveDate,
    pub description: String,
    pub legs: Vec<NewLeg>,
    /// Who asked, who approved, the rule-set version and the decision.
    pub metadata: serde_json::Value,
    /// Set only by [`crate::ledger::reverse_in_tx`]; other posting functions refuse it.
    pub reverses: Option<Uuid>,
}

/// Where an entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryStatus {
    /// A hold not yet resolved.
    Pending,
    /// Posted directly, or a hold that was posted (in full or in part).
    Posted,
    /// A hold released by a void.
    Voided,
    /// A hold released because its time ran out.
    Expired,
}

impl EntryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryStatus::Pending => "pending",
            EntryStatus::Posted => "posted",
            EntryStatus::Voided => "voided",
            EntryStatus::Expired => "expired",
        }
    }
}

/// A leg as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leg {
    pub leg_no: i16,
    pub account_id: Uuid,
    pub side: Side,
    pub amount: Decimal,
}

/// An entry as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub id: Uuid,
    pub status: EntryStatus,
    /// Whether this entry is a hold (its legs were pending, whatever happened to it since).
    pub is_hold: bool,
    pub effective_date: NaiveDate,
    pub recorded_at: DateTime<Utc>,
    pub description: String,
    pub metadata: serde_json::Value,
    pub legs: Vec<Leg>,
    /// The entry this one reverses.
    pub reverses: Option<Uuid>,
    /// The entry that reversed this one, if any.
    pub reversed_by: Option<Uuid>,
    /// For the posting of a hold: the hold.
    pub hold_id: Option<Uuid>,
    /// For a posted hold: the entry that posted it.
    pub posted_by: Option<Uuid>,
    /// For a hold: when it expires unless resolved.
    pub expires_at: Option<DateTime<Utc>>,
    /// Order of recording (across councils).
    pub seq: i64,
}

/// Balances of an account (API.md › Balances), all as credits − debits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Balances {
    /// Posted credits − posted debits.
    pub posted_balance: Decimal,
    /// The balance if every pending entry posted.
    pub pending_balance: Decimal,
    /// Posted credits − posted debits − pending debits: what can be spent now.
    pub available_balance: Decimal,
}

/// The four running totals kept on an account row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    pub posted_debits: Decimal,
    pub posted_credits: Decimal,
    pub pending_debits: Decimal,
    pub pending_credits: Decimal,
}

impl Totals {
    pub fn balances(&self) -> Balances {
        let posted = self.posted_credits - self.posted_debits;
        Balances {
            posted_balance: posted,
            pending_balance: posted + self.pending_credits - self.pending_debits,
            available_balance: posted - self.pending_debits,
        }
    }

    /// Whether a `no_overdraft` account may have these totals.
    pub fn within_no_overdraft(&self) -> bool {
        self.posted_debits + self.pending_debits <= self.posted_credits
    }

    pub fn add(&mut self, other: &Totals) {
        self.posted_debits += other.posted_debits;
        self.posted_credits += other.posted_credits;
        self.pending_debits += other.pending_debits;
        self.pending_credits += other.pending_credits;
    }

    /// Adds a leg as posted or as pending.
    pub fn add_leg(&mut self, side: Side, amount: Decimal, pending: bool) {
        match (side, pending) {
            (Side::Debit, false) => self.posted_debits += amount,
            (Side::Credit, false) => self.posted_credits += amount,
            (Side::Debit, true) => self.pending_debits += amount,
            (Side::Credit, true) => self.pending_credits += amount,
        }
    }
}
