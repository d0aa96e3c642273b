//! Releasing money to a deployment account in a payment run (RULES.md › Money release).
//!
//! Law: Care Act 2014 ss.24–25 (the care and support plan the money pays for), ss.31–32 (a direct payment to a
//! person with capacity needs their request and consent, and a nominated person's agreement; for a person
//! without capacity it goes to an authorised person), Care and Support (Direct Payments) Regulations 2014 Schedule
//! (people excluded from direct payments), Care Act s.26 and the Charging Regulations (contributions).

use super::decision::{Refusal, RuleCode};
use super::facts::{GrantFacts, PersonFacts};
use super::grants::counts;
use super::money::{format_date, to_pence};
use super::policy::CouncilPolicy;
use super::types::{ActingAs, ContributionBasis, Deployment};
use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Everything a release decision depends on, for one deployment of one budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseFacts {
    pub deployment: Deployment,
    /// First day of the period the release pays for.
    pub period_start: NaiveDate,
    pub person: PersonFacts,
    pub plan_approved: bool,
    /// The day urgent interim support began, if a care manager recorded it as such.
    pub urgent_interim_from: Option<NaiveDate>,
    /// The person has requested and consented to the direct payment.
    pub consent_recorded: bool,
    /// `Some(agreed)` when a nominated person receives the direct payment: whether they agreed to.
    pub nominated_person_agreed: Option<bool>,
    /// The budget's grants (an authorised person is found among them).
    pub grants: Vec<GrantFacts>,
    pub policy: CouncilPolicy,
}

/// Whether this deployment may receive money in this run; `Err` lists every reason it may not.
pub fn release_eligibility(facts: &ReleaseFacts) -> Result<(), Vec<Refusal>> {
    let mut refusals = Vec::new();
    if !facts.plan_approved && !interim_applies(facts) {
        refusals.push(Refusal::new(
            RuleCode::PlanNotApproved,
            plan_sentence(facts),
        ));
    }
    if facts.deployment.is_direct_payment() {
        if facts.person.excluded_from_direct_payments {
            refusals.push(Refusal::new(
                RuleCode::PersonExcluded,
                "The person is excluded from receiving direct payments (for example by a treatment requirement \
                 or licence condition), so no direct payment can be released.",
            ));
        }
        refusals.extend(capacity_conditions(facts));
    }
    if refusals.is_empty() {
        Ok(())
    } else {
        Err(refusals)
    }
}

/// The last day urgent interim support may be paid for: `interim_max_weeks` after it began, first day included.
pub fn interim_last_day(started: NaiveDate, policy: &CouncilPolicy) -> Option<NaiveDate> {
    let days = u64::from(policy.interim_max_weeks) * 7;
    started
        .checked_add_days(Days::new(days))
        .and_then(|d| d.pred_opt())
}

fn interim_applies(facts: &ReleaseFacts) -> bool {
    let Some(started) = facts.urgent_interim_from else {
        return false;
    };
    // Interim support is money the council spends itself while the plan is agreed; never a DP or ISF.
    facts.deployment == Deployment::CouncilManaged
        && started <= facts.period_start
        && interim_last_day(started, &facts.policy).is_some_and(|last| facts.period_start <= last)
}

fn plan_sentence(facts: &ReleaseFacts) -> String {
    match facts.urgent_interim_from {
        Some(_) if facts.deployment != Deployment::CouncilManaged => {
            "The support plan has not been approved, and urgent interim support can only be council-managed, so \
             nothing can be released to this account."
                .to_owned()
        }
        Some(started) => format!(
            "The support plan has not been approved, and this period is outside the {} weeks of urgent interim \
             support that began on {}.",
            facts.policy.interim_max_weeks,
            format_date(started)
        ),
        None => "The support plan has not been approved yet, so no money can be released for it.".to_owned(),
    }
}

/// `capacity_conditions` for a direct payment (Care Act ss.31–32).
fn capacity_conditions(facts: &ReleaseFacts) -> Vec<Refusal> {
    let refuse = |message: &str| Refusal::new(RuleCode::CapacityConditions, message);
    let mut refusals = Vec::new();
    if facts.person.has_capacity {
        if !facts.consent_recorded {
            refusals.push(refuse(
                "The person's consent to receiving a direct payment has not been recorded.",
            ));
        }
        if facts.nominated_person_agreed == Some(false) {
            refusals.push(refuse(
                "The nominated person who would receive the direct payment has not agreed to receive it.",
            ));
        }
    } else {
        let has_authorised = facts.grants.iter().any(|g| {
            g.acting_as == ActingAs::AuthorisedPerson
                && counts(g, &facts.person, facts.period_start)
        });
        if !has_authorised {
            refusals.push(refuse(
                "The person lacks capacity to manage a direct payment and no authorised person is in place to \
                 receive it.",
            ));
        }
    }
    refusals
}

/// How much to release for a period, and what contribution that leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseAmount {
    /// What the council pays into the account.
    pub release: Decimal,
    /// Gross basis: the contribution the council records as owed by the person.
    pub contribution_owed: Decimal,
    /// Net basis: the contribution the person is expected to pay into the account themselves.
    pub contribution_to_pay_in: Decimal,
}

/// The release for `weeks` of a deployment whose plan lines total `lines_weekly_total` a week.
///
/// Net: the release is reduced by the contribution, never below zero, and the person pays that in. Gross: the
/// council releases everything and records the contribution as owed. Reablement (Care Act s.14 and the Charging
/// Regulations: free for up to 6 weeks) carries no contribution. A contribution is never more than the care it
/// pays towards (s.26), so it is capped at the period's cost. Negative inputs are treated as zero.
pub fn release_amount(
    lines_weekly_total: Decimal,
    weeks: u32,
    weekly_contribution: Decimal,
    basis: ContributionBasis,
    reablement: bool,
) -> ReleaseAmount {
    let weeks = Decimal::from(weeks);
    let cost = to_pence(lines_weekly_total.max(Decimal::ZERO) * weeks);
    let contribution = if reablement {
        Decimal::ZERO
    } else {
        to_pence(weekly_contribution.max(Decimal::ZERO) * weeks).min(cost)
    };
    match basis {
        ContributionBasis::Net => ReleaseAmount {
            release: cost - contribution,
            contribution_owed: to_pence(Decimal::ZERO),
            contribution_to_pay_in: contribution,
        },
        ContributionBasis::Gross => ReleaseAmount {
            release: cost,
            contribution_owed: contribution,
            contribution_to_pay_in: to_pence(Decimal::ZERO),
        },
    }
}
