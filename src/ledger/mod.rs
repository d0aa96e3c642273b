//! The double-entry ledger: accounts, entries with N legs, holds, balances, closed periods,
//! statements and the hash chain. It knows nothing of budgets or HTTP.
//!
//! # Design
//!
//! - **Accounts** keep four running totals (`posted_debits`, `posted_credits`, `pending_debits`,
//!   `pending_credits`), so balances are read from one row. Balance = credits − debits: money
//!   into a holder's account is a credit to it; a funding source goes negative as it releases
//!   money. A `no_overdraft` account's debits, counting pending ones, may not exceed its posted
//!   credits (checked in Rust under the row lock, and by a CHECK constraint).
//! - **Entries** have N legs whose debits equal their credits: checked in Rust before any SQL
//!   ([`validate`]), and again by after-statement triggers in the database (one query per
//!   statement rather than one per row, so a batch of a thousand entries costs one check). An
//!   entry, its legs and its seal-queue row are written by one statement; legs cannot be added
//!   to an entry afterwards (the database refuses them).
//! - **Totals kept by the database**: a trigger adds each statement's legs to their accounts'
//!   totals, and recording a hold's resolution releases its pending legs; `allot_app` cannot
//!   update the totals itself. The checks in Rust ([`Plan`]) decide refusals before anything is
//!   written; the database is the second wall.
//! - **Append-only**: `allot_app` may only INSERT and SELECT entries, legs, hold resolutions,
//!   period closes and chain links. Corrections are reversing entries ([`reverse_in_tx`]), each
//!   entry reversed at most once (unique index on `reverses`).
//! - **Holds** (pending entries) change status without UPDATE: an open hold has a row in the small
//!   table `ledger_open_holds`; resolving it deletes that row (only one transaction can) and
//!   inserts its outcome into `ledger_hold_resolutions` (primary key: once). Posting a hold writes
//!   a new posted entry linked by `hold_id`. See [`holds`].
//! - **Concurrency**: every writer locks the accounts it touches `FOR UPDATE` in id order in one
//!   statement, so writers queue rather than deadlock; [`post`] (with a pool) retries
//!   serialization failures and deadlocks a bounded number of times, `*_in_tx` functions leave
//!   that to the caller's transaction. Any error from an `*_in_tx` function means the caller's
//!   transaction must be rolled back (most refusals happen before anything is written).
//! - **Time**: `recorded_at` and `effective_date`; closed periods refuse back-dated entries
//!   ([`periods`]).
//! - **Tamper evidence**: a per-council HMAC-SHA256 chain over entries and legs, under a key kept
//!   outside the database, sealed in batches off the posting path ([`chain`]).
//! - **Decisions**: each entry stores the caller's `metadata` (who asked, who approved, rule-set
//!   version, decision) and the chain covers it.

pub mod accounts;
pub mod audit;
pub mod chain;
pub mod entries;
pub mod error;
pub mod holds;
pub mod maintenance;
pub mod periods;
pub mod post;
pub mod reverse;
pub mod statement;
pub mod types;
pub mod validate;
mod write;

pub use accounts::{account, balances, create_account};
pub use accounts::{lock_accounts, LockedSet};
pub use chain::seal::seal_pending;
pub use chain::verify::{verify, verify_in_tx, VerifyReport};
pub use chain::{link_of, ChainKey, ChainLink, SignedHead};
pub use entries::get_entry;
pub use error::LedgerError;
pub use holds::{
    expire_due_holds, expire_due_holds_in_tx, hold_in_tx, post_pending_in_tx,
    post_pending_with_in_tx, void_pending_in_tx, void_pending_with_in_tx,
};
pub use periods::{balance_at, close_period, closed_through};
pub use post::{planned, post, post_batch_in_tx, post_in_tx};
pub use reverse::{reverse_in_tx, reverse_on_in_tx};
pub use statement::{statement, StatementLine, StatementPage};
pub use types::{
    Account, Balances, Entry, EntryStatus, Leg, NewAccount, NewEntry, NewLeg, Side, Totals,
};
pub use write::{Plan, Planned};
