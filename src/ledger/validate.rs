//! The checks an entry passes before any SQL runs (the database checks balance again).

use rust_decimal::Decimal;

use super::error::LedgerError;
use super::types::{NewEntry, Side};
use crate::money::max_amount;

/// Most legs one entry may have (a payment run posts many entries, not one huge one).
pub const MAX_LEGS: usize = 100;
/// Longest description, in characters (the column's limit).
pub const MAX_DESCRIPTION: usize = 500;
/// Largest metadata document, in bytes of JSON.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;

/// An amount a leg may carry: more than zero, at most two places, within NUMERIC(14,2) of a leg.
pub fn check_amount(amount: Decimal) -> Result<Decimal, LedgerError> {
    if amount <= Decimal::ZERO || amount > max_amount() || amount.normalize().scale() > 2 {
        return Err(LedgerError::InvalidAmount);
    }
    let mut amount = amount;
    amount.rescale(2);
    Ok(amount)
}

/// Checks an entry's description and metadata (the decision record: a JSON object).
pub fn check_details(description: &str, metadata: &serde_json::Value) -> Result<(), LedgerError> {
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(LedgerError::invalid(
            "description",
            format!("at most {MAX_DESCRIPTION} characters"),
        ));
    }
    if !metadata.is_object() {
        return Err(LedgerError::invalid("metadata", "must be a JSON object"));
    }
    if metadata.to_string().len() > MAX_METADATA_BYTES {
        return Err(LedgerError::invalid(
            "metadata",
            format!("at most {MAX_METADATA_BYTES} bytes of JSON"),
        ));
    }
    Ok(())
}

/// Checks an entry's legs, description and metadata; the legs must balance.
pub fn check_entry(entry: &NewEntry) -> Result<(), LedgerError> {
    check_details(&entry.description, &entry.metadata)?;
    if entry.legs.len() > MAX_LEGS {
        return Err(LedgerError::invalid(
            "legs",
            format!("at most {MAX_LEGS} legs in one entry"),
        ));
    }
    let (mut debits, mut credits) = (Decimal::ZERO, Decimal::ZERO);
    let (mut has_debit, mut has_credit) = (false, false);
    for leg in &entry.legs {
        let amount = check_amount(leg.amount)?;
        match leg.side {
            Side::Debit => {
                debits += amount;
                has_debit = true;
            }
            Side::Credit => {
                credits += amount;
                has_credit = true;
            }
        }
    }
    if !(has_debit && has_credit) {
        return Err(LedgerError::EmptyEntry);
    }
    if debits != credits {
        return Err(LedgerError::Unbalanced);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::types::NewLeg;
    use chrono::NaiveDate;
    use std::str::FromStr;
    use uuid::Uuid;

    fn entry(legs: &[(Side, &str)]) -> NewEntry {
        NewEntry {
            effective_date: NaiveDate::from_ymd_opt(2025, 4, 1).unwrap(),
            description: "test".into(),
            legs: legs
                .iter()
                .map(|(side, amount)| NewLeg {
                    account_id: Uuid::new_v4(),
                    side: *side,
                    amount: Decimal::from_str(amount).unwrap(),
                })
                .collect(),
            metadata: serde_json::json!({}),
            reverses: None,
        }
    }

    #[test]
    fn balanced_entries_pass() {
        assert!(check_entry(&entry(&[(Side::Debit, "10"), (Side::Credit, "10.00")])).is_ok());
        let split = entry(&[
            (Side::Debit, "10.01"),
            (Side::Credit, "5"),
            (Side::Credit, "5.01"),
        ]);
        assert!(check_entry(&split).is_ok());
    }

    #[test]
    fn bad_entries_are_refused_with_their_reason() {
        assert!(matches!(
            check_entry(&entry(&[(Side::Debit, "10"), (Side::Credit, "9.99")])),
            Err(LedgerError::Unbalanced)
        ));
        assert!(matches!(
            check_entry(&entry(&[])),
            Err(LedgerError::EmptyEntry)
        ));
        assert!(matches!(
            check_entry(&entry(&[(Side::Debit, "10"), (Side::Debit, "10")])),
            Err(LedgerError::EmptyEntry)
        ));
        for bad in ["0", "-1", "0.001", "100000000"] {
            assert!(
                matches!(
                    check_entry(&entry(&[(Side::Debit, bad), (Side::Credit, bad)])),
                    Err(LedgerError::InvalidAmount)
                ),
                "{bad}"
            );
        }
        let mut not_object = entry(&[(Side::Debit, "1"), (Side::Credit, "1")]);
        not_object.metadata = serde_json::json!([1]);
        assert!(matches!(
            check_entry(&not_object),
            Err(LedgerError::Invalid {
                field: "metadata",
                ..
            })
        ));
    }

    #[test]
    fn amounts_are_kept_to_two_places() {
        assert_eq!(
            check_amount(Decimal::from_str("12.5").unwrap())
                .unwrap()
                .to_string(),
            "12.50"
        );
        assert_eq!(
            check_amount(Decimal::from_str("12.500").unwrap())
                .unwrap()
                .to_string(),
            "12.50"
        );
    }
}
