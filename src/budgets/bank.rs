//! UK bank details, checked for form: a six-digit sort code and an eight-digit account number.
//! (Whether the account exists is for the bank's confirmation-of-payee, not for allot.) Details
//! are personal data: shown in full only to those who pay or own them, otherwise [`masked`].
//!
//! [`masked`]: BankDetails::masked

use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BankDetails {
    /// Six digits, with or without dashes: `12-34-56` or `123456`.
    pub sort_code: String,
    /// Eight digits.
    pub account_number: String,
    pub account_name: String,
}

impl BankDetails {
    /// The sort code as six digits, dashes and spaces removed.
    pub fn sort_code_digits(&self) -> String {
        self.sort_code
            .chars()
            .filter(|c| *c != '-' && *c != ' ')
            .collect()
    }

    /// The details as stored: the sort code as six digits, the name trimmed.
    pub fn normalised(&self) -> BankDetails {
        BankDetails {
            sort_code: self.sort_code_digits(),
            account_number: self.account_number.clone(),
            account_name: self.account_name.trim().to_string(),
        }
    }

    /// Checks the form of every field; `prefix` names the object in errors (e.g. `bank`).
    pub fn validate(&self, prefix: &str) -> AppResult<()> {
        let sort_code = self.sort_code_digits();
        if sort_code.len() != 6 || !sort_code.chars().all(|c| c.is_ascii_digit()) {
            return Err(AppError::invalid(
                &format!("{prefix}.sort_code"),
                "a sort code is six digits, like 12-34-56",
            ));
        }
        if self.account_number.len() != 8
            || !self.account_number.chars().all(|c| c.is_ascii_digit())
        {
            return Err(AppError::invalid(
                &format!("{prefix}.account_number"),
                "an account number is eight digits",
            ));
        }
        let name = self.account_name.trim();
        if name.is_empty() || name.chars().count() > 70 {
            return Err(AppError::invalid(
                &format!("{prefix}.account_name"),
                "must be 1 to 70 characters",
            ));
        }
        Ok(())
    }

    /// The details as shown to someone who may know an account is on file but not which:
    /// the last two digits of the sort code and the last four of the account number
    /// (`**-**-56`, `****5678`), and the name.
    pub fn masked(&self) -> BankDetails {
        fn tail(text: &str, keep: usize) -> String {
            let digits: Vec<char> = text.chars().filter(char::is_ascii_digit).collect();
            digits[digits.len().saturating_sub(keep)..].iter().collect()
        }
        BankDetails {
            sort_code: format!("**-**-{}", tail(&self.sort_code, 2)),
            account_number: format!("****{}", tail(&self.account_number, 4)),
            account_name: self.account_name.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bank(sort_code: &str, account_number: &str, account_name: &str) -> BankDetails {
        BankDetails {
            sort_code: sort_code.into(),
            account_number: account_number.into(),
            account_name: account_name.into(),
        }
    }

    #[test]
    fn accepts_well_formed_details() {
        assert!(bank("12-34-56", "12345678", "A Person")
            .validate("bank")
            .is_ok());
        assert!(bank("123456", "00000001", "A Person")
            .validate("bank")
            .is_ok());
    }

    #[test]
    fn masks_all_but_the_last_digits() {
        let masked = bank("12-34-56", "12345678", "A Person").masked();
        assert_eq!(masked.sort_code, "**-**-56");
        assert_eq!(masked.account_number, "****5678");
        assert_eq!(masked.account_name, "A Person");
        assert_eq!(bank("", "", "A").masked().account_number, "****");
    }

    #[test]
    fn refuses_malformed_details() {
        assert!(bank("12-34-5", "12345678", "A").validate("bank").is_err());
        assert!(bank("12-34-5a", "12345678", "A").validate("bank").is_err());
        assert!(bank("123456", "1234567", "A").validate("bank").is_err());
        assert!(bank("123456", "123456789", "A").validate("bank").is_err());
        assert!(bank("123456", "12345678", " ").validate("bank").is_err());
    }
}
