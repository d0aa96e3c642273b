//! Who may pay, and who may approve (RULES.md › Decision-making agreements: `no_authority`).
//!
//! A payer needs a grant with `pay` that works today, fits the person, and covers the category and the
//! deployment the money leaves (a grant covers only the deployments it names). Above the grant's
//! `max_per_payment`, or above its `cosign_above`, the payment is held if another party could approve it and
//! refused if nobody could: a hold nobody can release would only lock the person's money away.

use super::decision::{ApprovalNeed, Approvers, HoldReason, Refusal, RuleCode};
use super::facts::{GrantFacts, PersonFacts};
use super::grants::{
    capacity_role_misfit, counts, covers_category, covers_deployment, fits_person, has_power,
    in_force,
};
use super::money::{format_date, format_money};
use super::types::{Category, Deployment, Power};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use uuid::Uuid;

/// What the agreement says about one payer and one payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayAuthority {
    /// Within the payer's own limits.
    Allowed,
    /// Allowed once this approval is given.
    NeedsApproval(ApprovalNeed),
    /// Not allowed.
    Refused(Refusal),
}

/// The payment being judged: its category, the deployment whose money it is, and its amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spend {
    pub category: Category,
    pub deployment: Deployment,
    pub amount: Decimal,
}

/// Decides whether `actor` may make `payment` on `today`.
pub fn pay_authority(
    grants: &[GrantFacts],
    person: &PersonFacts,
    today: NaiveDate,
    actor: Uuid,
    payment: Spend,
) -> PayAuthority {
    let Spend {
        category, amount, ..
    } = payment;
    let usable = match usable_pay_grants(grants, person, today, actor, payment) {
        Ok(usable) => usable,
        Err(refusal) => return PayAuthority::Refused(refusal),
    };
    // With several usable grants the most permissive wins: any one of them is enough authority on its own.
    if usable
        .iter()
        .any(|g| within_limit(g, amount) && !needs_cosign(g, amount))
    {
        return PayAuthority::Allowed;
    }
    let (reason, message) = match usable.iter().find(|g| within_limit(g, amount)) {
        Some(grant) => (
            HoldReason::Cosign,
            format!(
                "Payments above {} need a second person with authority to approve them.",
                // Every grant within its limit here needs a co-signer (else Allowed above), so the threshold
                // is always present; `amount` is only a harmless stand-in.
                format_money(grant.cosign_above.unwrap_or(amount))
            ),
        ),
        None => (
            HoldReason::OverLimit,
            format!(
                "This payment of {} is above your limit of {} per payment.",
                format_money(amount),
                format_money(highest_limit(&usable))
            ),
        ),
    };
    let approvers = eligible_approvers(grants, person, today, actor, payment);
    if approvers.is_empty() {
        let sentence = format!(
            "{message} Nobody else holds an agreement that lets them approve a {} payment of {}.",
            category.label(),
            format_money(amount)
        );
        return PayAuthority::Refused(Refusal::new(RuleCode::NoAuthority, sentence));
    }
    PayAuthority::NeedsApproval(ApprovalNeed {
        reason,
        eligible_approvers: Approvers::Users(approvers),
        message,
    })
}

/// The actor's grants that could authorise this payment apart from its amount, or the most telling reason
/// there are none. Filters narrow step by step so the sentence names the first thing that rules them out.
fn usable_pay_grants<'a>(
    grants: &'a [GrantFacts],
    person: &PersonFacts,
    today: NaiveDate,
    actor: Uuid,
    payment: Spend,
) -> Result<Vec<&'a GrantFacts>, Refusal> {
    let category = payment.category;
    let refuse = |message: String| Err(Refusal::new(RuleCode::NoAuthority, message));
    let own: Vec<&GrantFacts> = grants.iter().filter(|g| g.user_id == actor).collect();
    if own.is_empty() {
        return refuse(
            "You do not have a decision-making agreement for this budget, so you cannot make payments from it."
                .to_owned(),
        );
    }
    let paying: Vec<&GrantFacts> = own
        .into_iter()
        .filter(|g| has_power(g, Power::Pay))
        .collect();
    if paying.is_empty() {
        return refuse(
            "Your agreement for this budget lets you approve payments but not make them."
                .to_owned(),
        );
    }
    let fitting: Vec<&GrantFacts> = paying
        .iter()
        .copied()
        .filter(|g| fits_person(g, person))
        .collect();
    if fitting.is_empty() {
        // Every grant here failed the capacity_role test, so each has a misfit sentence; the first explains.
        let reason = paying
            .iter()
            .find_map(|g| capacity_role_misfit(g, person))
            .map(|r| r.message)
            .unwrap_or_default();
        return refuse(format!(
            "Your agreement for this budget does not count at the moment. {reason}"
        ));
    }
    let current: Vec<&GrantFacts> = fitting
        .iter()
        .copied()
        .filter(|g| in_force(g, today))
        .collect();
    if current.is_empty() {
        return refuse(date_sentence(&fitting, today));
    }
    let deployment = payment.deployment;
    let this_money: Vec<&GrantFacts> = current
        .into_iter()
        .filter(|g| covers_deployment(g, deployment))
        .collect();
    if this_money.is_empty() {
        return refuse(format!(
            "Your agreement for this budget does not cover payments from the {}.",
            deployment.label()
        ));
    }
    let covering: Vec<&GrantFacts> = this_money
        .into_iter()
        .filter(|g| covers_category(g, category))
        .collect();
    if covering.is_empty() {
        return refuse(format!(
            "Your agreement for this budget does not cover {} payments.",
            category.label()
        ));
    }
    Ok(covering)
}

/// Why none of these grants is in force today: ended, or not started yet.
fn date_sentence(grants: &[&GrantFacts], today: NaiveDate) -> String {
    let not_started = grants
        .iter()
        .filter(|g| g.valid_from > today)
        .map(|g| g.valid_from)
        .min();
    match not_started {
        Some(start) => format!(
            "Your agreement for this budget only starts on {}, so you cannot make payments yet.",
            format_date(start)
        ),
        None => {
            let ended = grants.iter().filter_map(|g| g.valid_to).max();
            match ended {
                Some(last) => format!(
                    "Your agreement for this budget ended on {}, so you can no longer make payments from it.",
                    format_date(last)
                ),
                None => "Your agreement for this budget is not in force today.".to_owned(),
            }
        }
    }
}

fn within_limit(grant: &GrantFacts, amount: Decimal) -> bool {
    amount <= grant.max_per_payment
}

fn needs_cosign(grant: &GrantFacts, amount: Decimal) -> bool {
    grant
        .cosign_above
        .is_some_and(|threshold| amount > threshold)
}

fn highest_limit(grants: &[&GrantFacts]) -> Decimal {
    grants
        .iter()
        .map(|g| g.max_per_payment)
        .max()
        .unwrap_or(Decimal::ZERO)
}

/// Whether this grant lets its party approve this payment today: `approve` power, in force, fitting the person,
/// covering the category and the deployment, and an amount within the approver's own `max_per_payment`.
pub fn grant_can_approve(
    grant: &GrantFacts,
    person: &PersonFacts,
    today: NaiveDate,
    payment: Spend,
) -> bool {
    has_power(grant, Power::Approve)
        && counts(grant, person, today)
        && covers_deployment(grant, payment.deployment)
        && covers_category(grant, payment.category)
        && within_limit(grant, payment.amount)
}

/// Users other than the payer who could approve this payment today, sorted and without repeats.
pub fn eligible_approvers(
    grants: &[GrantFacts],
    person: &PersonFacts,
    today: NaiveDate,
    payer: Uuid,
    payment: Spend,
) -> Vec<Uuid> {
    let mut users: Vec<Uuid> = grants
        .iter()
        .filter(|g| g.user_id != payer && grant_can_approve(g, person, today, payment))
        .map(|g| g.user_id)
        .collect();
    users.sort();
    users.dedup();
    users
}
