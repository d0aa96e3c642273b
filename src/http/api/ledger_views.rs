//! JSON shapes of ledger resources. Amounts are strings with two decimals (balances can exceed
//! the input range of `Money`, so they are plain decimals written to two places).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use crate::ledger::{Account, Entry, EntryStatus, Side, StatementLine};

/// A decimal written with exactly two places.
fn pounds(mut value: Decimal) -> String {
    value.rescale(2);
    value.to_string()
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    pub id: Uuid,
    pub kind: String,
    pub name: String,
    pub holder: Option<String>,
    pub no_overdraft: bool,
    #[schema(example = "120.00")]
    pub posted_balance: String,
    #[schema(example = "100.00")]
    pub pending_balance: String,
    #[schema(example = "100.00")]
    pub available_balance: String,
}

impl From<Account> for AccountView {
    fn from(a: Account) -> Self {
        AccountView {
            id: a.id,
            kind: a.kind,
            name: a.name,
            holder: a.holder,
            no_overdraft: a.no_overdraft,
            posted_balance: pounds(a.balances.posted_balance),
            pending_balance: pounds(a.balances.pending_balance),
            available_balance: pounds(a.balances.available_balance),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StatementLineView {
    pub entry_id: Uuid,
    pub effective_date: NaiveDate,
    pub recorded_at: DateTime<Utc>,
    pub description: String,
    pub side: Side,
    #[schema(example = "12.50")]
    pub amount: String,
    /// Posted balance after this line (credits − debits).
    #[schema(example = "87.50")]
    pub balance: String,
    /// Set when this line's entry reverses another.
    pub reverses: Option<Uuid>,
}

impl From<StatementLine> for StatementLineView {
    fn from(l: StatementLine) -> Self {
        StatementLineView {
            entry_id: l.entry_id,
            effective_date: l.effective_date,
            recorded_at: l.recorded_at,
            description: l.description,
            side: l.side,
            amount: pounds(l.amount),
            balance: pounds(l.balance),
            reverses: l.reverses,
        }
    }
}

/// A page of an account's statement (`{"items","next_cursor"}` plus the account).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StatementView {
    pub items: Vec<StatementLineView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// Balance before the first line of this page.
    #[schema(example = "100.00")]
    pub opening_balance: String,
    pub account: AccountView,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LegView {
    pub account_id: Uuid,
    pub side: Side,
    #[schema(example = "12.50")]
    pub amount: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EntryView {
    pub id: Uuid,
    pub status: EntryStatus,
    pub effective_date: NaiveDate,
    pub recorded_at: DateTime<Utc>,
    pub description: String,
    pub reverses: Option<Uuid>,
    pub hold_id: Option<Uuid>,
    pub legs: Vec<LegView>,
    /// Who asked, who approved, the rule-set version and the decision.
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
}

impl From<Entry> for EntryView {
    fn from(e: Entry) -> Self {
        EntryView {
            id: e.id,
            status: e.status,
            effective_date: e.effective_date,
            recorded_at: e.recorded_at,
            description: e.description,
            reverses: e.reverses,
            hold_id: e.hold_id,
            legs: e
                .legs
                .into_iter()
                .map(|l| LegView {
                    account_id: l.account_id,
                    side: l.side,
                    amount: pounds(l.amount),
                })
                .collect(),
            metadata: e.metadata,
        }
    }
}
