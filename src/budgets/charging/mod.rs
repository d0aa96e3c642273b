//! Charging parameters (national, dated, uprated yearly) and the pure calculations on them.
//! The figures live in the `charging_parameters` and `charging_mig_bands` tables, seeded by the
//! migration from the Charging Regulations and DHSC circulars; new years are new rows.

pub mod tariff;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::db::Tx;
use crate::error::{AppError, AppResult};
pub use tariff::{assess_capital, CapitalAssessment, CapitalRules};

/// A Minimum Income Guarantee band (single person, care outside a care home).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MigBand {
    pub band: String,
    pub min_age: i32,
    #[schema(value_type = String)]
    pub weekly_amount: Decimal,
}

/// The parameters in force on a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ChargingParameters {
    pub on: NaiveDate,
    pub capital_valid_from: NaiveDate,
    pub capital: CapitalRules,
    pub mig_valid_from: Option<NaiveDate>,
    pub mig_bands: Vec<MigBand>,
}

impl ChargingParameters {
    /// The MIG band for someone of this age (the band with the highest minimum age they reach).
    pub fn mig_for_age(&self, age: i32) -> Option<&MigBand> {
        self.mig_bands
            .iter()
            .filter(|b| b.min_age <= age)
            .max_by_key(|b| b.min_age)
    }
}

/// Age in whole years on a date.
pub fn age_on(date_of_birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - date_of_birth.year();
    if (on.month(), on.day()) < (date_of_birth.month(), date_of_birth.day()) {
        age -= 1;
    }
    age
}

/// Loads the parameters in force on `on` (404 before the first dated row).
pub async fn parameters_on(tx: &Tx<'_>, on: NaiveDate) -> AppResult<ChargingParameters> {
    let row = tx
        .query_opt(
            "SELECT valid_from, capital_upper, capital_lower, tariff_step, tariff_per_step
             FROM charging_parameters WHERE valid_from <= $1 ORDER BY valid_from DESC LIMIT 1",
            &[&on],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    let bands = tx
        .query(
            "SELECT valid_from, band, min_age, weekly_amount FROM charging_mig_bands
             WHERE valid_from = (SELECT max(valid_from) FROM charging_mig_bands m
                                 WHERE m.valid_from <= $1 AND m.band = charging_mig_bands.band)
             ORDER BY min_age",
            &[&on],
        )
        .await?;
    Ok(ChargingParameters {
        on,
        capital_valid_from: row.get(0),
        capital: CapitalRules {
            capital_upper: row.get(1),
            capital_lower: row.get(2),
            tariff_step: row.get(3),
            tariff_per_step: row.get(4),
        },
        mig_valid_from: bands.iter().map(|b| b.get::<_, NaiveDate>(0)).max(),
        mig_bands: bands
            .iter()
            .map(|b| MigBand {
                band: b.get(1),
                min_age: b.get(2),
                weekly_amount: b.get(3),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_bands() {
        let dob = NaiveDate::from_ymd_opt(2000, 6, 15).unwrap();
        assert_eq!(
            age_on(dob, NaiveDate::from_ymd_opt(2025, 6, 14).unwrap()),
            24
        );
        assert_eq!(
            age_on(dob, NaiveDate::from_ymd_opt(2025, 6, 15).unwrap()),
            25
        );
        let parameters = ChargingParameters {
            on: NaiveDate::from_ymd_opt(2025, 6, 15).unwrap(),
            capital_valid_from: NaiveDate::from_ymd_opt(2015, 4, 1).unwrap(),
            capital: CapitalRules {
                capital_upper: Decimal::new(2325000, 2),
                capital_lower: Decimal::new(1425000, 2),
                tariff_step: Decimal::new(25000, 2),
                tariff_per_step: Decimal::new(100, 2),
            },
            mig_valid_from: None,
            mig_bands: vec![
                MigBand {
                    band: "18_to_24".into(),
                    min_age: 18,
                    weekly_amount: Decimal::new(8915, 2),
                },
                MigBand {
                    band: "25_to_pension_credit_age".into(),
                    min_age: 25,
                    weekly_amount: Decimal::new(11250, 2),
                },
            ],
        };
        assert_eq!(parameters.mig_for_age(24).unwrap().band, "18_to_24");
        assert_eq!(
            parameters.mig_for_age(70).unwrap().band,
            "25_to_pension_credit_age"
        );
        assert!(parameters.mig_for_age(17).is_none());
    }
}
