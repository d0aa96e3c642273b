//! What a payment run releases, worked out from a facts snapshot with no I/O: for each budget,
//! one line per deployment (and holder) it may be paid for, or a skip with the rule's code.
//!
//! Eligibility is the rules' `release_eligibility`, asked once per week of the run (so a budget
//! starting, ending or with urgent interim support running out within the period is paid for
//! exactly the weeks it covers). Amounts are the rules' `release_amount`; the weekly contribution
//! is spread over the budget's lines, direct payment first, then managed account, then the rest,
//! never more than a line's own weekly amount. Under the net basis the person pays their share
//! into the account they hold (a direct payment or managed account); on any other line it is
//! recorded as owed, as under the gross basis.

use chrono::{Days, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use uuid::Uuid;

use crate::budgets::bank::BankDetails;
use crate::budgets::funding::{self, FundingPart, FundingSource};
use crate::money::Money;
use crate::rules::{
    release_amount, release_eligibility, ContributionBasis, CouncilPolicy, Deployment, GrantFacts,
    PersonFacts, Refusal, ReleaseFacts,
};

/// Skip reason when the bank details a payment needs are missing (not a RULES.md rule: a
/// payment cannot be made without them).
pub const BANK_DETAILS_MISSING: &str = "bank_details_missing";

/// RULES.md `bank_details_unverified`: changed bank details are not paid until a finance officer
/// other than the one who changed them verifies them.
pub const BANK_DETAILS_UNVERIFIED: &str = "bank_details_unverified";

/// NHS Direct Payments Regulations 2013 reg 10: an NHS direct payment goes to an account used
/// only for it. A direct payment carrying NHS money is skipped when it would share an account
/// with other money (part of a jointly funded budget, or the same bank account as a direct payment
/// of other money in the run).
pub const NHS_ACCOUNT_MIXED: &str = "nhs_account_mixed";

/// A direct payment carrying NHS money whose budget does not say its account is used only for NHS
/// direct payments.
pub const NHS_SEPARATE_ACCOUNT_REQUIRED: &str = "nhs_separate_account_required";

/// The period a run pays for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveDate,
    pub weeks: u32,
}

impl Period {
    /// First day of week `index` (0-based).
    pub fn week_start(&self, index: u32) -> Option<NaiveDate> {
        self.start.checked_add_days(Days::new(u64::from(index) * 7))
    }

    /// Last day paid for.
    pub fn last_day(&self) -> Option<NaiveDate> {
        self.start
            .checked_add_days(Days::new(u64::from(self.weeks) * 7))?
            .pred_opt()
    }
}

/// One deployment (and holder) of a budget's approved plan.
#[derive(Debug, Clone, PartialEq)]
pub struct HoldingFacts {
    pub deployment: Deployment,
    pub holder_organisation_id: Option<Uuid>,
    /// The plan lines of this holding, a week.
    pub weekly: Decimal,
    pub account_id: Uuid,
    /// Where the money goes in the bank: the provider's account for managed accounts and ISFs.
    pub provider_bank: Option<BankDetails>,
    /// Whether a finance officer has verified the provider's bank details as they stand.
    pub provider_bank_verified: bool,
}

/// Urgent interim support recorded for a budget.
#[derive(Debug, Clone, PartialEq)]
pub struct InterimFacts {
    pub weekly: Decimal,
    pub start: NaiveDate,
    pub account_id: Uuid,
}

/// Everything about one budget that the release depends on.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetFacts {
    pub budget_id: Uuid,
    pub reference: String,
    pub person: PersonFacts,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    /// Reablement: no contribution.
    pub free: bool,
    pub weekly_contribution: Decimal,
    pub basis: ContributionBasis,
    pub consent_recorded: bool,
    pub nominated_person_agreed: Option<bool>,
    pub grants: Vec<GrantFacts>,
    /// The account a direct payment is paid into.
    pub dp_bank: Option<BankDetails>,
    /// Whether a finance officer has verified `dp_bank` as it stands.
    pub dp_bank_verified: bool,
    pub plan_approved: bool,
    /// The approved plan's holdings (empty without an approved plan).
    pub holdings: Vec<HoldingFacts>,
    pub interim: Option<InterimFacts>,
    /// The funders' split of the weekly cost (the release is drawn from them in proportion).
    pub funding: Vec<FundingPart>,
    /// The direct payment goes to an account used only for NHS direct payments (reg 10).
    pub nhs_dp_separate_account: bool,
}

/// A line of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftLine {
    pub budget_id: Uuid,
    pub deployment: Deployment,
    pub holder_organisation_id: Option<Uuid>,
    pub account_id: Uuid,
    pub weeks: u32,
    pub amount: Decimal,
    pub contribution_owed: Decimal,
    pub contribution_to_pay_in: Decimal,
    /// Paid from the council's bank (to the person's or the provider's account).
    pub bank: Option<BankDetails>,
    pub payment_reference: String,
}

/// A budget (or one of its deployments) left out of the run, with the rule's code and sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub budget_id: Uuid,
    pub deployment: Option<Deployment>,
    pub reason: String,
    pub message: String,
}

/// Lines and skips for one budget.
pub fn plan_budget(
    facts: &BudgetFacts,
    period: Period,
    policy: &CouncilPolicy,
) -> (Vec<DraftLine>, Vec<Skip>) {
    let mut lines = Vec::new();
    let mut skips = Vec::new();
    let holdings = releasable_holdings(facts);
    if holdings.is_empty() {
        skips.push(Skip {
            budget_id: facts.budget_id,
            deployment: None,
            reason: "plan_not_approved".into(),
            message:
                "The support plan has not been approved yet, so no money can be released for it."
                    .into(),
        });
        return (lines, skips);
    }
    let mut contribution_left = if facts.free || !facts.plan_approved {
        Decimal::ZERO
    } else {
        facts.weekly_contribution.max(Decimal::ZERO)
    };
    for holding in holdings {
        let (weeks, refusals) = eligible_weeks(facts, &holding, period, policy);
        if weeks == 0 {
            if let Some(first) = refusals.first() {
                skips.push(skip(facts, holding.deployment, first));
            }
            continue;
        }
        let (bank, verified) = match holding.deployment {
            Deployment::DirectPayment => (facts.dp_bank.clone(), facts.dp_bank_verified),
            Deployment::ManagedAccount | Deployment::Isf => (
                holding.provider_bank.clone(),
                holding.provider_bank_verified,
            ),
            Deployment::CouncilManaged => (None, true),
        };
        if holding.deployment != Deployment::CouncilManaged && bank.is_none() {
            skips.push(Skip {
                budget_id: facts.budget_id,
                deployment: Some(holding.deployment),
                reason: BANK_DETAILS_MISSING.into(),
                message: match holding.deployment {
                    Deployment::DirectPayment => {
                        "No bank account is recorded for the direct payment.".into()
                    }
                    _ => "No bank account is recorded for the provider holding this money.".into(),
                },
            });
            continue;
        }
        if !verified {
            skips.push(Skip {
                budget_id: facts.budget_id,
                deployment: Some(holding.deployment),
                reason: BANK_DETAILS_UNVERIFIED.into(),
                message: match holding.deployment {
                    Deployment::DirectPayment => {
                        "The bank account for the direct payment was changed and is not paid until a finance officer other than the one who changed it has verified it."
                            .into()
                    }
                    _ => "The bank account of the provider holding this money was changed and is not paid until a finance officer other than the one who changed it has verified it."
                        .into(),
                },
            });
            continue;
        }
        if holding.deployment == Deployment::DirectPayment && funding::has_nhs(&facts.funding) {
            let refusal = if !funding::wholly_nhs(&facts.funding) {
                Some((
                    NHS_ACCOUNT_MIXED,
                    "The direct payment would put NHS money and other money in one account; an NHS direct payment is paid into an account used only for it (NHS Direct Payments Regulations 2013 reg 10).",
                ))
            } else if !facts.nhs_dp_separate_account {
                Some((
                    NHS_SEPARATE_ACCOUNT_REQUIRED,
                    "The budget does not say that the direct payment goes to an account used only for NHS direct payments (NHS Direct Payments Regulations 2013 reg 10).",
                ))
            } else {
                None
            };
            if let Some((reason, message)) = refusal {
                skips.push(Skip {
                    budget_id: facts.budget_id,
                    deployment: Some(holding.deployment),
                    reason: reason.into(),
                    message: message.into(),
                });
                continue;
            }
        }
        // The contribution applies to the council's share of this holding only (NHS money and
        // other funds are never charged for), whole pennies a week.
        let applied = contribution_left.min(council_weekly_cap(facts, holding.weekly, weeks));
        contribution_left -= applied;
        let basis = match (facts.basis, holding.deployment.is_direct_payment()) {
            (ContributionBasis::Net, true) => ContributionBasis::Net,
            _ => ContributionBasis::Gross,
        };
        let amounts = release_amount(holding.weekly, weeks, applied, basis, facts.free);
        lines.push(DraftLine {
            budget_id: facts.budget_id,
            deployment: holding.deployment,
            holder_organisation_id: holding.holder_organisation_id,
            account_id: holding.account_id,
            weeks,
            amount: amounts.release,
            contribution_owed: amounts.contribution_owed,
            contribution_to_pay_in: amounts.contribution_to_pay_in,
            bank: if amounts.release > Decimal::ZERO {
                bank
            } else {
                None
            },
            payment_reference: payment_reference(&facts.reference, holding.deployment),
        });
    }
    (lines, skips)
}

/// The most contribution a week a holding can carry: its council share over `weeks` weeks (as the
/// release is apportioned), a week, rounded down to the penny. The whole holding when the council
/// is the only funder.
pub fn council_weekly_cap(facts: &BudgetFacts, weekly: Decimal, weeks: u32) -> Decimal {
    if facts.funding.is_empty()
        || facts
            .funding
            .iter()
            .all(|p| p.funder == FundingSource::Council)
    {
        return weekly;
    }
    let Ok(gross) = Money::new(
        (weekly.max(Decimal::ZERO) * Decimal::from(weeks))
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero),
    ) else {
        return Decimal::ZERO;
    };
    let parts = funding::apportion(gross, &funding::shares(&facts.funding));
    let council: Decimal = facts
        .funding
        .iter()
        .zip(&parts)
        .filter(|(p, _)| p.funder == FundingSource::Council)
        .map(|(_, m)| m.amount())
        .sum();
    if weeks == 0 {
        return Decimal::ZERO;
    }
    (council / Decimal::from(weeks)).round_dp_with_strategy(2, RoundingStrategy::ToZero)
}

/// The approved plan's holdings in contribution order, or the interim support's council-managed
/// holding when there is no approved plan.
fn releasable_holdings(facts: &BudgetFacts) -> Vec<HoldingFacts> {
    if facts.plan_approved {
        let mut holdings = facts.holdings.clone();
        holdings.sort_by_key(|h| (contribution_order(h.deployment), h.holder_organisation_id));
        return holdings;
    }
    match &facts.interim {
        Some(interim) => vec![HoldingFacts {
            deployment: Deployment::CouncilManaged,
            holder_organisation_id: None,
            weekly: interim.weekly,
            account_id: interim.account_id,
            provider_bank: None,
            provider_bank_verified: true,
        }],
        None => Vec::new(),
    }
}

fn contribution_order(deployment: Deployment) -> u8 {
    match deployment {
        Deployment::DirectPayment => 0,
        Deployment::ManagedAccount => 1,
        Deployment::Isf => 2,
        Deployment::CouncilManaged => 3,
    }
}

/// How many weeks of the period this holding may be paid for, and the refusals of the weeks it may not.
fn eligible_weeks(
    facts: &BudgetFacts,
    holding: &HoldingFacts,
    period: Period,
    policy: &CouncilPolicy,
) -> (u32, Vec<Refusal>) {
    let mut weeks = 0;
    let mut refusals = Vec::new();
    for index in 0..period.weeks {
        let Some(week_start) = period.week_start(index) else {
            break;
        };
        let Some(week_end) = week_start.checked_add_days(Days::new(6)) else {
            break;
        };
        let covered =
            facts.start_date <= week_end && facts.end_date.is_none_or(|end| end >= week_start);
        if !covered {
            continue;
        }
        // Judge the week on its first day the budget (or the interim support) is in force.
        let mut day = week_start.max(facts.start_date);
        if let Some(interim) = facts.interim.as_ref().filter(|_| !facts.plan_approved) {
            if interim.start > day && interim.start <= week_end {
                day = interim.start;
            }
        }
        let release = ReleaseFacts {
            deployment: holding.deployment,
            period_start: day,
            person: facts.person,
            plan_approved: facts.plan_approved,
            urgent_interim_from: facts.interim.as_ref().map(|i| i.start),
            consent_recorded: facts.consent_recorded,
            nominated_person_agreed: facts.nominated_person_agreed,
            grants: facts.grants.clone(),
            policy: policy.clone(),
        };
        match release_eligibility(&release) {
            Ok(()) => weeks += 1,
            Err(mut refused) => {
                if refusals.is_empty() {
                    refusals.append(&mut refused);
                }
            }
        }
    }
    if weeks == 0 && refusals.is_empty() {
        // Not in force in any week of the period: nothing to pay and nothing refused.
        return (0, Vec::new());
    }
    (weeks, refusals)
}

fn skip(facts: &BudgetFacts, deployment: Deployment, refusal: &Refusal) -> Skip {
    Skip {
        budget_id: facts.budget_id,
        deployment: Some(deployment),
        reason: refusal.code.as_str().to_string(),
        message: refusal.message.clone(),
    }
}

/// The reference on the bank payment: the budget reference and the deployment (at most 18
/// characters, as Bacs allows).
pub fn payment_reference(budget_reference: &str, deployment: Deployment) -> String {
    let code = match deployment {
        Deployment::DirectPayment => "DP",
        Deployment::ManagedAccount => "MA",
        Deployment::Isf => "ISF",
        Deployment::CouncilManaged => "CM",
    };
    let mut reference = format!("{budget_reference} {code}");
    reference.truncate(18);
    reference
}
