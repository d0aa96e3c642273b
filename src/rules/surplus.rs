//! Surplus (RULES.md › Monitoring): how many weeks of payments a balance holds, and how much of it
//! is above the council's threshold once what the account already owes is set aside. Used by the
//! organisations' monitoring returns and by the council's surplus list and notices alike, so the
//! two can never disagree.

use rust_decimal::{Decimal, RoundingStrategy};

use super::policy::CouncilPolicy;

/// The council's threshold in weeks for a deployment: `surplus_weeks_isf` for an ISF,
/// `surplus_weeks_dp` for direct payments and managed accounts (which hold a direct payment).
pub fn threshold_weeks(policy: &CouncilPolicy, deployment: &str) -> u32 {
    if deployment == "isf" {
        policy.surplus_weeks_isf
    } else {
        policy.surplus_weeks_dp
    }
}

/// What a balance comes to against the weekly amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assessment {
    /// Balance ÷ weekly amount to one decimal place; none without a weekly amount.
    pub weeks_of_funding: Option<Decimal>,
    /// Balance − commitments − threshold × weekly amount, never below zero (zero without a
    /// weekly amount: nothing can be judged surplus to a plan that pays nothing).
    pub surplus: Decimal,
}

/// Assesses a balance: `commitments` are what the account already owes (holds, invoices,
/// payroll) and are never surplus.
pub fn assess(
    balance: Decimal,
    weekly_amount: Decimal,
    threshold_weeks: u32,
    commitments: Decimal,
) -> Assessment {
    if weekly_amount <= Decimal::ZERO {
        return Assessment {
            weeks_of_funding: None,
            surplus: Decimal::ZERO,
        };
    }
    let mut weeks =
        (balance / weekly_amount).round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero);
    weeks.rescale(1);
    let above = balance - commitments - weekly_amount * Decimal::from(threshold_weeks);
    Assessment {
        weeks_of_funding: Some(weeks),
        surplus: above.max(Decimal::ZERO),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn surplus_is_above_the_threshold_after_commitments() {
        let a = assess(d("1000.00"), d("100.00"), 8, d("50.00"));
        assert_eq!(a.weeks_of_funding, Some(d("10.0")));
        assert_eq!(a.surplus, d("150.00"));
        let none = assess(d("700.00"), d("100.00"), 8, d("0"));
        assert_eq!(none.surplus, Decimal::ZERO);
        let no_plan = assess(d("700.00"), Decimal::ZERO, 8, d("0"));
        assert_eq!(no_plan.weeks_of_funding, None);
        assert_eq!(no_plan.surplus, Decimal::ZERO);
    }

    #[test]
    fn isf_uses_its_own_threshold() {
        let policy = CouncilPolicy::default();
        assert_eq!(threshold_weeks(&policy, "isf"), 4);
        assert_eq!(threshold_weeks(&policy, "direct_payment"), 8);
        assert_eq!(threshold_weeks(&policy, "managed_account"), 8);
    }
}
