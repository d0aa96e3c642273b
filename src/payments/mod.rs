//! Money moving: payment runs (releases from council funding to deployment accounts) and
//! contributions received. Each turns a request into rules checks and ledger entries in one
//! transaction.

pub mod banking;
pub mod contributions;
pub mod reversals;
pub mod runs;
pub mod spend;
