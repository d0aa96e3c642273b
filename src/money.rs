//! Money: pounds sterling as `rust_decimal::Decimal` with at most two decimal places.
//!
//! On the wire money is a JSON string (`"12"`, `"12.5"`, `"12.50"` in; always `"12.50"` out).
//! A JSON number, more than two decimals, or more than `99999999.99` is refused with a message
//! starting [`INVALID_AMOUNT_MARKER`], which the JSON extractor turns into 422 `invalid_amount`.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Prefix of deserialization errors that are amount errors (422, not 400).
pub const INVALID_AMOUNT_MARKER: &str = "invalid amount: ";

/// The largest amount the ledger's NUMERIC(14,2) columns and the API accept.
pub fn max_amount() -> Decimal {
    Decimal::new(9_999_999_999, 2)
}

/// An amount of money, two decimal places, possibly zero or negative (balances).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(Decimal);

/// Why a string is not an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("amounts are written like \"12.50\"")]
    NotANumber,
    #[error("amounts have at most two decimal places")]
    TooManyDecimals,
    #[error("amounts may not exceed 99999999.99")]
    TooLarge,
    #[error("the amount must be more than zero")]
    NotPositive,
}

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// A decimal with at most two places and within the ledger's range.
    pub fn new(value: Decimal) -> Result<Self, AmountError> {
        if value.normalize().scale() > 2 {
            return Err(AmountError::TooManyDecimals);
        }
        if value.abs() > max_amount() {
            return Err(AmountError::TooLarge);
        }
        let mut value = value;
        value.rescale(2);
        Ok(Money(value))
    }

    /// Parses user input: digits with an optional sign and at most two decimal places.
    pub fn parse(text: &str) -> Result<Self, AmountError> {
        let text = text.trim();
        let well_formed = !text.is_empty()
            && text
                .trim_start_matches('-')
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.')
            && text.matches('.').count() <= 1
            && !text.trim_start_matches('-').starts_with('.')
            && !text.ends_with('.');
        if !well_formed {
            return Err(AmountError::NotANumber);
        }
        let value = Decimal::from_str(text).map_err(|_| AmountError::NotANumber)?;
        if text.split_once('.').is_some_and(|(_, frac)| frac.len() > 2) {
            return Err(AmountError::TooManyDecimals);
        }
        Self::new(value)
    }

    /// Parses an amount that must be more than zero (payments, contributions, costs).
    pub fn parse_positive(text: &str) -> Result<Self, AmountError> {
        let money = Self::parse(text)?;
        if money.0 <= Decimal::ZERO {
            return Err(AmountError::NotPositive);
        }
        Ok(money)
    }

    pub fn amount(self) -> Decimal {
        self.0
    }

    pub fn is_positive(self) -> bool {
        self.0 > Decimal::ZERO
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut value = self.0;
        value.rescale(2);
        write!(f, "{value}")
    }
}

impl From<Money> for Decimal {
    fn from(m: Money) -> Decimal {
        m.0
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Money;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount as a string, like \"12.50\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Money, E> {
                Money::parse(v).map_err(|e| E::custom(format!("{INVALID_AMOUNT_MARKER}{e}")))
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Money, E> {
                Err(E::custom(format!(
                    "{INVALID_AMOUNT_MARKER}amounts must be strings, like \"12.50\""
                )))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Money, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Money, E> {
                self.visit_f64(v as f64)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// An amount that must be more than zero; same wire format as [`Money`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct PositiveMoney(Money);

impl PositiveMoney {
    /// Parses user input that must be an amount more than zero.
    pub fn parse(text: &str) -> Result<Self, AmountError> {
        Money::parse_positive(text).map(PositiveMoney)
    }
    pub fn money(self) -> Money {
        self.0
    }
    pub fn amount(self) -> Decimal {
        self.0.amount()
    }
}

impl<'de> Deserialize<'de> for PositiveMoney {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let money = Money::deserialize(deserializer)?;
        if !money.is_positive() {
            return Err(serde::de::Error::custom(format!(
                "{INVALID_AMOUNT_MARKER}{}",
                AmountError::NotPositive
            )));
        }
        Ok(PositiveMoney(money))
    }
}

impl utoipa::PartialSchema for Money {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(r"^-?[0-9]{1,8}(\.[0-9]{1,2})?$"))
            .description(Some(
                "GBP amount as a string with at most two decimal places",
            ))
            .examples([serde_json::json!("12.50")])
            .into()
    }
}
impl utoipa::ToSchema for Money {}

impl utoipa::PartialSchema for PositiveMoney {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(r"^[0-9]{1,8}(\.[0-9]{1,2})?$"))
            .description(Some(
                "GBP amount more than zero, as a string with at most two decimal places",
            ))
            .examples([serde_json::json!("12.50")])
            .into()
    }
}
impl utoipa::ToSchema for PositiveMoney {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_two_places() {
        assert_eq!(Money::parse("12").unwrap().to_string(), "12.00");
        assert_eq!(Money::parse("12.5").unwrap().to_string(), "12.50");
        assert_eq!(Money::parse("0.01").unwrap().to_string(), "0.01");
        assert_eq!(
            Money::parse("99999999.99").unwrap().to_string(),
            "99999999.99"
        );
    }

    #[test]
    fn refuses_bad_amounts() {
        assert_eq!(Money::parse("12.345"), Err(AmountError::TooManyDecimals));
        assert_eq!(Money::parse("100000000.00"), Err(AmountError::TooLarge));
        for bad in [
            "", "abc", "1e3", "12.", ".5", "1,000", "+5", "--1", "1.2.3", " ",
        ] {
            assert_eq!(Money::parse(bad), Err(AmountError::NotANumber), "{bad:?}");
        }
        assert_eq!(Money::parse_positive("0"), Err(AmountError::NotPositive));
        assert_eq!(
            Money::parse_positive("-1.00"),
            Err(AmountError::NotPositive)
        );
    }

    #[test]
    fn json_numbers_are_refused() {
        let err = serde_json::from_str::<Money>("12.5")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with(INVALID_AMOUNT_MARKER), "{err}");
        let ok: Money = serde_json::from_str("\"12.5\"").unwrap();
        assert_eq!(serde_json::to_string(&ok).unwrap(), "\"12.50\"");
    }
}
