//! Tariff income from capital (Charging Regulations reg 25): capital at or below the lower limit
//! is ignored; between the limits, every step (250.00) or part of one above the lower limit counts
//! as a fixed weekly income (1.00); above the upper limit the person pays the full cost of their
//! care. The limits and the step come from the dated parameters, never from constants here.

use rust_decimal::Decimal;
use serde::Serialize;

/// The capital rules in force on some date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CapitalRules {
    #[schema(value_type = String)]
    pub capital_upper: Decimal,
    #[schema(value_type = String)]
    pub capital_lower: Decimal,
    #[schema(value_type = String)]
    pub tariff_step: Decimal,
    #[schema(value_type = String)]
    pub tariff_per_step: Decimal,
}

/// What the person's capital means for charging.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CapitalAssessment {
    /// At or below the lower limit: no tariff income.
    Disregarded,
    /// Between the limits: this weekly tariff income counts towards what they can pay.
    Tariff {
        #[schema(value_type = String)]
        weekly_income: Decimal,
    },
    /// Above the upper limit: the person pays the full cost of their care.
    AboveUpperLimit,
}

/// Assesses capital (negative capital counts as none).
pub fn assess_capital(capital: Decimal, rules: &CapitalRules) -> CapitalAssessment {
    if capital > rules.capital_upper {
        return CapitalAssessment::AboveUpperLimit;
    }
    let above_lower = capital - rules.capital_lower;
    if above_lower <= Decimal::ZERO || rules.tariff_step <= Decimal::ZERO {
        return CapitalAssessment::Disregarded;
    }
    // "or part of" a step counts as a whole step.
    let steps = (above_lower / rules.tariff_step).ceil();
    let mut weekly_income = steps * rules.tariff_per_step;
    weekly_income.rescale(2);
    CapitalAssessment::Tariff { weekly_income }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn england_2015() -> CapitalRules {
        CapitalRules {
            capital_upper: d("23250.00"),
            capital_lower: d("14250.00"),
            tariff_step: d("250.00"),
            tariff_per_step: d("1.00"),
        }
    }

    #[test]
    fn tariff_income_per_step_or_part() {
        let rules = england_2015();
        let tariff = |capital: &str| assess_capital(d(capital), &rules);
        assert_eq!(tariff("0"), CapitalAssessment::Disregarded);
        assert_eq!(tariff("14250.00"), CapitalAssessment::Disregarded);
        assert_eq!(
            tariff("14250.01"),
            CapitalAssessment::Tariff {
                weekly_income: d("1.00")
            }
        );
        assert_eq!(
            tariff("14500.00"),
            CapitalAssessment::Tariff {
                weekly_income: d("1.00")
            }
        );
        assert_eq!(
            tariff("14500.01"),
            CapitalAssessment::Tariff {
                weekly_income: d("2.00")
            }
        );
        assert_eq!(
            tariff("23250.00"),
            CapitalAssessment::Tariff {
                weekly_income: d("36.00")
            }
        );
        assert_eq!(tariff("23250.01"), CapitalAssessment::AboveUpperLimit);
        assert_eq!(tariff("-5.00"), CapitalAssessment::Disregarded);
    }

    #[test]
    fn follows_the_parameters_given() {
        let rules = CapitalRules {
            capital_upper: d("100000.00"),
            capital_lower: d("20000.00"),
            tariff_step: d("500.00"),
            tariff_per_step: d("1.00"),
        };
        assert_eq!(
            assess_capital(d("21000.00"), &rules),
            CapitalAssessment::Tariff {
                weekly_income: d("2.00")
            }
        );
    }
}
