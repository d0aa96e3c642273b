//! Card authorisations: the spending decision of [`super::decide`] as a till can take it. A card
//! cannot wait for anyone's approval, so what would be held is declined `needs_approval`; cash
//! is limited per card and day (`cash_limit`) on top of the plan's cash rule.

use rust_decimal::Decimal;

use super::decision::{Decision, Refusal, RuleCode};
use super::money::format_money;

/// A cash withdrawal's day so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CashToday {
    /// Cash the card has withdrawn today (authorised or captured).
    pub withdrawn: Decimal,
    /// The council's daily limit per card.
    pub daily_limit: Decimal,
}

/// Turns the spending decision on a card authorisation into approve (`Post`) or decline
/// (`Refuse`, every reason listed).
pub fn decide_card(decision: Decision, amount: Decimal, cash: Option<CashToday>) -> Decision {
    let mut refusals: Vec<Refusal> = decision.refusals().to_vec();
    if let Some(cash) = cash {
        if cash.withdrawn + amount > cash.daily_limit {
            refusals.push(Refusal::new(
                RuleCode::CashLimit,
                format!(
                    "This card may withdraw at most {} in cash a day; {} has been withdrawn today.",
                    format_money(cash.daily_limit),
                    format_money(cash.withdrawn)
                ),
            ));
        }
    }
    if let Decision::Hold {
        approvals_required, ..
    } = &decision
    {
        for need in approvals_required {
            refusals.push(Refusal::new(
                RuleCode::NeedsApproval,
                format!("{} A card payment cannot wait for approval.", need.message),
            ));
        }
    }
    if refusals.is_empty() {
        decision
    } else {
        Decision::Refuse { refusals }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{ApprovalNeed, Approvers, HoldReason};

    fn pounds(p: i64) -> Decimal {
        Decimal::new(p * 100, 2)
    }

    #[test]
    fn a_hold_is_declined_needs_approval() {
        let held = Decision::Hold {
            approvals_required: vec![ApprovalNeed {
                reason: HoldReason::Cosign,
                eligible_approvers: Approvers::AnyCareManager,
                message: "Someone must co-sign.".into(),
            }],
            flags: vec![],
        };
        let decided = decide_card(held, pounds(10), None);
        assert_eq!(decided.refusal_codes(), vec![RuleCode::NeedsApproval]);
    }

    #[test]
    fn cash_beyond_the_daily_limit_is_declined() {
        let cash = CashToday {
            withdrawn: pounds(80),
            daily_limit: pounds(100),
        };
        let post = Decision::Post { flags: vec![] };
        assert_eq!(decide_card(post.clone(), pounds(20), Some(cash)), post);
        let decided = decide_card(post, pounds(21), Some(cash));
        assert_eq!(decided.refusal_codes(), vec![RuleCode::CashLimit]);
    }

    #[test]
    fn refusals_are_kept_with_the_card_ones() {
        let refused = Decision::Refuse {
            refusals: vec![Refusal::new(RuleCode::BlockedMerchant, "blocked")],
        };
        let cash = CashToday {
            withdrawn: pounds(100),
            daily_limit: pounds(100),
        };
        let decided = decide_card(refused, pounds(1), Some(cash));
        assert_eq!(
            decided.refusal_codes(),
            vec![RuleCode::BlockedMerchant, RuleCode::CashLimit]
        );
    }
}
