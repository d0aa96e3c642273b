//! The personal budget statement of Care Act 2014 s.26: the cost of meeting the person's needs,
//! the amount the person must pay towards it, and the amount the council (or NHS body) pays.
//! Pure arithmetic on whole pence; the person never pays more than the cost.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::budgets::funding::{apportion, shares, FunderAmount, FundingPart, FundingSource};
use crate::money::Money;

/// Weekly amounts are annualised over 52 weeks, as councils' charging policies do.
pub const WEEKS_PER_YEAR: i64 = 52;

/// The s.26 figures for a year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Statement {
    /// The cost to the council of meeting the needs (the budget).
    pub cost: Money,
    /// What the person pays towards it (their assessed weekly contribution for a year).
    pub person_amount: Money,
    /// What the council (or the NHS body) pays.
    pub council_amount: Money,
    /// What each funder pays: the council's share less the person's contribution (NHS money is
    /// never charged for), the NHS body's and other funds' shares as they are.
    pub paid_by: Vec<FunderAmount>,
}

/// Computes the statement. A free service (reablement) carries no contribution.
pub fn statement(annual_cost: Decimal, weekly_contribution: Decimal, free: bool) -> Statement {
    let contribution = if free {
        Decimal::ZERO
    } else {
        (weekly_contribution.max(Decimal::ZERO) * Decimal::from(WEEKS_PER_YEAR)).min(annual_cost)
    };
    Statement {
        cost: pence(annual_cost),
        person_amount: pence(contribution),
        council_amount: pence(annual_cost - contribution),
        paid_by: vec![FunderAmount {
            funder: FundingSource::Council,
            name: None,
            amount: pence(annual_cost - contribution),
        }],
    }
}

/// The statement of a budget with several funders: the annual cost split between them in
/// proportion to their weekly amounts (to the penny); the contribution applies to the council's
/// share only, and never exceeds it.
pub fn funded_statement(
    annual_cost: Decimal,
    weekly_contribution: Decimal,
    free: bool,
    funding: &[FundingPart],
) -> Statement {
    if funding.is_empty() {
        return statement(annual_cost, weekly_contribution, free);
    }
    let yearly = apportion(pence(annual_cost), &shares(funding));
    let council_share: Decimal = funding
        .iter()
        .zip(&yearly)
        .filter(|(p, _)| p.funder == FundingSource::Council)
        .map(|(_, y)| y.amount())
        .sum();
    let contribution = if free {
        Decimal::ZERO
    } else {
        (weekly_contribution.max(Decimal::ZERO) * Decimal::from(WEEKS_PER_YEAR)).min(council_share)
    };
    let paid_by = funding
        .iter()
        .zip(&yearly)
        .map(|(p, y)| FunderAmount {
            funder: p.funder,
            name: p.name.clone(),
            amount: if p.funder == FundingSource::Council {
                pence(y.amount() - contribution)
            } else {
                *y
            },
        })
        .collect();
    Statement {
        cost: pence(annual_cost),
        person_amount: pence(contribution),
        council_amount: pence(annual_cost - contribution),
        paid_by,
    }
}

/// An amount already in whole pence (inputs are checked to two places), as `Money`. Every amount
/// here lies between zero and the budget's cost, itself a valid `Money`, so the fallback is
/// unreachable.
fn pence(amount: Decimal) -> Money {
    let mut amount = amount;
    amount.rescale(2);
    Money::new(amount).unwrap_or(Money::ZERO)
}

/// The budget's weekly cost (annual cost over 52 weeks), rounded half-up to pence.
pub fn weekly_cost(annual_cost: Decimal) -> Decimal {
    (annual_cost / Decimal::from(WEEKS_PER_YEAR))
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    #[test]
    fn splits_the_cost_between_person_and_council() {
        let s = statement(d("15600.00"), d("45.50"), false);
        assert_eq!(s.cost.to_string(), "15600.00");
        assert_eq!(s.person_amount.to_string(), "2366.00");
        assert_eq!(s.council_amount.to_string(), "13234.00");
        assert_eq!(
            s.person_amount.amount() + s.council_amount.amount(),
            s.cost.amount()
        );
    }

    #[test]
    fn the_person_never_pays_more_than_the_cost() {
        let s = statement(d("1000.00"), d("50.00"), false);
        assert_eq!(s.person_amount.to_string(), "1000.00");
        assert_eq!(s.council_amount.to_string(), "0.00");
    }

    #[test]
    fn reablement_is_free() {
        let s = statement(d("1200.00"), d("30.00"), true);
        assert_eq!(s.person_amount.to_string(), "0.00");
        assert_eq!(s.council_amount.to_string(), "1200.00");
    }

    #[test]
    fn the_contribution_comes_off_the_council_share_only() {
        let funding = vec![
            FundingPart {
                funder: FundingSource::Council,
                name: None,
                weekly_amount: Money::parse("200.00").unwrap(),
            },
            FundingPart {
                funder: FundingSource::Nhs,
                name: None,
                weekly_amount: Money::parse("100.00").unwrap(),
            },
        ];
        // 300 a week for 52 weeks; a contribution of 250 a week is capped at the council's share.
        let s = funded_statement(d("15600.00"), d("250.00"), false, &funding);
        assert_eq!(s.person_amount.to_string(), "10400.00");
        assert_eq!(s.paid_by[0].amount.to_string(), "0.00");
        assert_eq!(s.paid_by[1].amount.to_string(), "5200.00");
        let s = funded_statement(d("15600.00"), d("50.00"), false, &funding);
        assert_eq!(s.person_amount.to_string(), "2600.00");
        assert_eq!(s.paid_by[0].amount.to_string(), "7800.00");
        assert_eq!(s.paid_by[1].amount.to_string(), "5200.00");
    }

    #[test]
    fn weekly_cost_rounds_half_up() {
        assert_eq!(weekly_cost(d("100.00")).to_string(), "1.92");
        assert_eq!(weekly_cost(d("5200.00")).to_string(), "100.00");
        assert_eq!(weekly_cost(d("0.26")).to_string(), "0.01");
    }
}
