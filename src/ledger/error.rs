//! The ledger's error, and how it reads to an API caller.
//!
//! Checks happen in Rust before any SQL where they can (a typed error, nothing written); the
//! database checks the same things again and its refusals are mapped back here by SQLSTATE and
//! constraint name, never by message text.

use tokio_postgres::error::SqlState;
use uuid::Uuid;

use crate::db::DbError;
use crate::error::AppError;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("the entry's debits and credits are not equal")]
    Unbalanced,
    #[error("an entry needs at least one debit leg and one credit leg")]
    EmptyEntry,
    #[error("amounts must be more than zero, with at most two decimal places, and not more than 99999999.99")]
    InvalidAmount,
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("there is not enough money in the account for this")]
    InsufficientFunds { account_id: Uuid },
    #[error("no such account")]
    AccountNotFound,
    #[error("no such entry")]
    EntryNotFound,
    #[error(
        "this entry is not a pending hold any more: it has already been posted, voided or expired"
    )]
    NotPending,
    #[error("this hold has expired; it can no longer be posted")]
    HoldExpired,
    #[error("only posted entries can be reversed; a hold that is still pending can be voided")]
    NotPosted,
    #[error("this entry has already been reversed")]
    AlreadyReversed,
    #[error("the entry is dated in a closed period")]
    PeriodClosed,
    #[error("this Idempotency-Key was already used for a different request")]
    IdempotencyKeyReused,
    /// Something that cannot happen unless the database or the code is wrong.
    #[error("internal ledger error: {0}")]
    Internal(String),
    #[error(transparent)]
    Db(DbError),
}

/// Custom SQLSTATEs raised by the triggers of `sql/V2__ledger.sql`.
const UNBALANCED: &str = "LD001";
const PERIOD_CLOSED: &str = "LD002";
const LEG_MISMATCH: &str = "LD003";

impl LedgerError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        LedgerError::Invalid {
            field,
            message: message.into(),
        }
    }

    /// A transaction that failed with this error may succeed if run again.
    pub fn is_retryable(&self) -> bool {
        matches!(self, LedgerError::Db(e) if e.is_retryable())
    }
}

impl crate::db::Retryable for LedgerError {
    fn is_retryable(&self) -> bool {
        LedgerError::is_retryable(self)
    }
}

impl From<DbError> for LedgerError {
    fn from(e: DbError) -> Self {
        let Some(db) = (match &e {
            DbError::Postgres(pg) => pg.as_db_error(),
            DbError::Unavailable(_) => None,
        }) else {
            return LedgerError::Db(e);
        };
        let constraint = db.constraint().unwrap_or_default();
        match db.code().code() {
            UNBALANCED => return LedgerError::Unbalanced,
            PERIOD_CLOSED => return LedgerError::PeriodClosed,
            // A leg that disagrees with its entry is a bug in the ledger, not the caller's doing.
            LEG_MISMATCH => return LedgerError::Db(e),
            _ => {}
        }
        let code = db.code();
        if *code == SqlState::UNIQUE_VIOLATION {
            match constraint {
                "ledger_entries_reverses_key" => return LedgerError::AlreadyReversed,
                "ledger_entries_hold_key" | "ledger_hold_resolutions_pkey" => {
                    return LedgerError::NotPending
                }
                _ => {}
            }
        }
        if *code == SqlState::NUMERIC_VALUE_OUT_OF_RANGE {
            return LedgerError::InvalidAmount;
        }
        LedgerError::Db(e)
    }
}

impl From<tokio_postgres::Error> for LedgerError {
    fn from(e: tokio_postgres::Error) -> Self {
        DbError::Postgres(e).into()
    }
}

impl From<deadpool_postgres::PoolError> for LedgerError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        DbError::from(e).into()
    }
}

impl From<LedgerError> for AppError {
    fn from(e: LedgerError) -> Self {
        let message = e.to_string();
        match e {
            LedgerError::Unbalanced | LedgerError::EmptyEntry => AppError::invalid("legs", message),
            LedgerError::Invalid { field, message } => AppError::invalid(field, message),
            LedgerError::InvalidAmount => AppError::invalid_amount("amount", message),
            LedgerError::InsufficientFunds { .. } => {
                AppError::refused("insufficient_funds", "The available balance does not cover this amount.")
            }
            LedgerError::AccountNotFound | LedgerError::EntryNotFound => AppError::NotFound,
            LedgerError::NotPending
            | LedgerError::HoldExpired
            | LedgerError::NotPosted
            | LedgerError::AlreadyReversed
            | LedgerError::PeriodClosed => AppError::conflict(capitalise(&message)),
            LedgerError::IdempotencyKeyReused => AppError::Conflict {
                code: "idempotency_key_reused",
                message: "This Idempotency-Key was already used for a different request. Use a new key for a new request.".into(),
            },
            LedgerError::Internal(what) => AppError::Internal(what),
            LedgerError::Db(e) => AppError::Db(e),
        }
    }
}

/// A message as a sentence: capital first letter, full stop.
fn capitalise(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_api_kinds() {
        let refused = AppError::from(LedgerError::InsufficientFunds {
            account_id: Uuid::nil(),
        });
        assert!(
            matches!(refused, AppError::Refused { ref code, .. } if code == "insufficient_funds")
        );
        assert!(matches!(
            AppError::from(LedgerError::EntryNotFound),
            AppError::NotFound
        ));
        assert!(matches!(
            AppError::from(LedgerError::AlreadyReversed),
            AppError::Conflict { code: "conflict", ref message } if message == "This entry has already been reversed."
        ));
        assert!(matches!(
            AppError::from(LedgerError::IdempotencyKeyReused),
            AppError::Conflict {
                code: "idempotency_key_reused",
                ..
            }
        ));
        assert!(matches!(
            AppError::from(LedgerError::InvalidAmount),
            AppError::InvalidAmount { .. }
        ));
    }
}
