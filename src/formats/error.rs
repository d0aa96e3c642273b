//! The one error type both encoders return.
//!
//! Every variant names the offending input field (for example `payments[3].reference`) so a
//! finance officer can be told exactly which payee record to fix before a run is released.

use rust_decimal::Decimal;

/// Why a payment file could not be produced. Nothing is ever half-written: an encoder either
/// returns the whole file or one of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The XML writer failed (it writes into memory, so this should not happen).
    #[error("writing the file: {0}")]
    Write(String),

    /// A payment file with no payments would be rejected by the bank, so it is refused here.
    #[error("no payments: a payment file needs at least one payment")]
    NoPayments,

    /// The count does not fit the file's count fields.
    #[error("too many payments: {count} is more than the {max} this file format can carry")]
    TooManyPayments { count: usize, max: usize },

    #[error("{field}: a sort code must be 6 digits, got {value:?}")]
    InvalidSortCode { field: String, value: String },

    #[error("{field}: an account number must be 8 digits, got {value:?}")]
    InvalidAccountNumber { field: String, value: String },

    #[error("service user number must be 6 digits, got {value:?}")]
    InvalidServiceUserNumber { value: String },

    #[error("file serial must be from 1 to 999999, got {value}")]
    InvalidFileSerial { value: u32 },

    #[error("{field}: the amount must be greater than zero, got {amount}")]
    NonPositiveAmount { field: String, amount: Decimal },

    #[error("{field}: the amount must be whole pence (at most 2 decimal places), got {amount}")]
    SubPennyAmount { field: String, amount: Decimal },

    #[error("{field}: the amount {amount} is larger than the format allows ({max})")]
    AmountTooLarge {
        field: String,
        amount: Decimal,
        max: Decimal,
    },

    /// Empty after removing characters the format cannot carry (or simply blank).
    #[error("{field}: must not be empty (after removing characters the format cannot carry)")]
    EmptyText { field: String },

    #[error("{field}: {value:?} is {length} characters; at most {max} are allowed")]
    TextTooLong {
        field: String,
        value: String,
        length: usize,
        max: usize,
    },

    #[error("{field}: {reason}")]
    InvalidText { field: String, reason: String },

    #[error("{field}: {value:?} is not a usable IBAN: {reason}")]
    InvalidIban {
        field: String,
        value: String,
        reason: String,
    },

    #[error("{field}: {date} cannot be used: {reason}")]
    InvalidDate {
        field: String,
        date: String,
        reason: String,
    },
}
