//! Bank reconciliation of client accounts: statement lines (read by [`crate::formats::camt053`])
//! against the ledger's postings of the account — a pure matcher and the store around it.

pub mod bank_csv;
pub mod expected;
pub mod matcher;
pub mod statements;
