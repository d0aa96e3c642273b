//! Payment files the council's bank accepts: Bacs Standard 18 and ISO 20022 pain.001.001.03;
//! bank statements it sends back: ISO 20022 camt.053 ([`camt053`]).
//!
//! Everything here is pure: no I/O, no clock, no database. Callers pass every date in and get
//! text back, so the same payment run always produces a byte-identical file — an auditor can
//! re-download a file months later and compare it with what was sent.
//!
//! * [`encode_bacs18`] — Bacs Standard 18 (direct credits with one balancing contra), as imported
//!   by Bacstel-IP submission software. Layout notes live in [`bacs18`].
//! * [`encode_pain001`] — `pain.001.001.03` CustomerCreditTransferInitiation in GBP. The schema it
//!   is tested against is kept in `fixtures/xsd/pain.001.001.03.xsd`.
//!
//! Money is `rust_decimal::Decimal` throughout and totals are summed exactly; an amount that is
//! not whole pence is refused rather than rounded, because rounding would make the file disagree
//! with the ledger.

pub mod bacs18;
mod bacs_chars;
pub mod camt053;
pub mod error;
pub mod pain001;

pub use bacs18::{encode_bacs18, encode_bacs18_with, BacsFile, BacsPayment, LabelWidth};
pub use bacs_chars::clean_bacs_text;
pub use error::FormatError;
pub use pain001::{encode_pain001, Pain001, Pain001Payment};

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

/// A UK bank account as held on a payee or on the council's funding account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankAccount {
    /// Six digits; `12-34-56` and `12 34 56` are accepted and normalised.
    pub sort_code: String,
    /// Eight digits; spaces and hyphens are ignored. Shorter UK account numbers must be
    /// zero-padded by the caller as the bank instructs — guessing the padding could pay the
    /// wrong account.
    pub account_number: String,
    /// The account holder's name.
    pub name: String,
}

/// Removes the separators people commonly type, then insists on exactly `len` ASCII digits.
fn digits_only(raw: &str, len: usize) -> Option<String> {
    let cleaned: String = raw.chars().filter(|c| *c != ' ' && *c != '-').collect();
    (cleaned.len() == len && cleaned.bytes().all(|b| b.is_ascii_digit())).then_some(cleaned)
}

fn sort_code(field: &str, raw: &str) -> Result<String, FormatError> {
    digits_only(raw, 6).ok_or_else(|| FormatError::InvalidSortCode {
        field: field.to_owned(),
        value: raw.to_owned(),
    })
}

fn account_number(field: &str, raw: &str) -> Result<String, FormatError> {
    digits_only(raw, 8).ok_or_else(|| FormatError::InvalidAccountNumber {
        field: field.to_owned(),
        value: raw.to_owned(),
    })
}

/// Checks an amount is positive, whole pence and at most `max`, and returns it in pence.
///
/// `max` is expressed in pounds so the error can show the limit the way people read money.
fn amount_in_pence(field: &str, amount: Decimal, max: Decimal) -> Result<u64, FormatError> {
    if amount <= Decimal::ZERO {
        return Err(FormatError::NonPositiveAmount {
            field: field.to_owned(),
            amount,
        });
    }
    if amount > max {
        return Err(FormatError::AmountTooLarge {
            field: field.to_owned(),
            amount,
            max,
        });
    }
    // `amount <= max` (at most 10^16 here) so multiplying by 100 cannot overflow a Decimal.
    let pence = amount * Decimal::ONE_HUNDRED;
    if !pence.fract().is_zero() {
        return Err(FormatError::SubPennyAmount {
            field: field.to_owned(),
            amount,
        });
    }
    // A whole, positive number no larger than 10^18 always fits a u64; the fallback error is
    // unreachable but keeps this free of panics.
    pence.to_u64().ok_or_else(|| FormatError::AmountTooLarge {
        field: field.to_owned(),
        amount,
        max,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_codes_accept_common_separators_only() {
        assert_eq!(sort_code("f", "12-34-56"), Ok("123456".to_owned()));
        assert_eq!(sort_code("f", "12 34 56"), Ok("123456".to_owned()));
        assert_eq!(sort_code("f", "123456"), Ok("123456".to_owned()));
        for bad in ["12345", "1234567", "12.34.56", "12345a", "", "１２３４５６"] {
            assert!(
                matches!(
                    sort_code("f", bad),
                    Err(FormatError::InvalidSortCode { .. })
                ),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn account_numbers_must_be_eight_digits() {
        assert_eq!(account_number("f", "1234 5678"), Ok("12345678".to_owned()));
        for bad in ["1234567", "123456789", "ABCDEFGH", ""] {
            assert!(
                matches!(
                    account_number("f", bad),
                    Err(FormatError::InvalidAccountNumber { .. })
                ),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn amounts_convert_to_exact_pence() {
        let max = Decimal::new(99_999_999_999, 2);
        assert_eq!(amount_in_pence("f", Decimal::new(12345, 2), max), Ok(12345));
        // Trailing zeros beyond two places are still whole pence.
        assert_eq!(amount_in_pence("f", Decimal::new(10500, 3), max), Ok(1050));
        assert_eq!(amount_in_pence("f", Decimal::new(7, 0), max), Ok(700));
        assert_eq!(amount_in_pence("f", max, max), Ok(99_999_999_999));
        assert!(matches!(
            amount_in_pence("f", Decimal::new(10001, 3), max),
            Err(FormatError::SubPennyAmount { .. })
        ));
        assert!(matches!(
            amount_in_pence("f", Decimal::ZERO, max),
            Err(FormatError::NonPositiveAmount { .. })
        ));
        assert!(matches!(
            amount_in_pence("f", Decimal::new(-1, 2), max),
            Err(FormatError::NonPositiveAmount { .. })
        ));
        assert!(matches!(
            amount_in_pence("f", Decimal::new(100_000_000_000, 2), max),
            Err(FormatError::AmountTooLarge { .. })
        ));
    }
}
