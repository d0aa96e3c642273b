//! Approving a held payment, one approver at a time (RULES.md: `approver_conflict`, `no_authority`).
//!
//! Authority is judged on the facts as they are when the approval is given, not when the payment was held:
//! an approver whose grant has ended since, or no longer fits the person's capacity record, cannot approve.
//! A grant approves only payments out of the deployments it covers.

use super::authority::{grant_can_approve, Spend};
use super::decision::{ApprovalNeed, ApprovalOutcome, Approvers, HoldReason, Refusal, RuleCode};
use super::facts::{GrantFacts, PersonFacts};
use super::money::format_money;
use super::types::{Category, Deployment};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The held payment and the facts its approval depends on, loaded when someone approves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingFacts {
    pub today: NaiveDate,
    pub person: PersonFacts,
    /// Who asked for the payment; they may never approve it.
    pub requested_by: Uuid,
    pub category: Category,
    pub amount: Decimal,
    /// The approvals still needed (from the hold, or from the last `NeedMore`).
    pub outstanding: Vec<ApprovalNeed>,
    /// The budget's current grants.
    pub grants: Vec<GrantFacts>,
}

/// Who is approving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approver {
    pub user_id: Uuid,
    /// Holds the council's care-manager role (which alone may approve spending beyond a plan line).
    pub is_care_manager: bool,
}

/// Applies one approval to a payment out of `deployment`. `already_approved` lists the users whose approvals
/// this payment already has.
///
/// One approval may meet several needs at once (a care manager who also holds an `approve` grant meets both an
/// over-limit and an over-plan-line need): each need asks for a person other than the payer, not for different
/// people per need.
pub fn approve_for_deployment(
    pending: &PendingFacts,
    deployment: Deployment,
    approver: &Approver,
    already_approved: &[Uuid],
) -> ApprovalOutcome {
    judge(pending, Some(deployment), approver, already_approved)
}

/// Applies one approval without knowing the payment's deployment: every grant is judged as if it covered it,
/// as before grants named deployments. Callers that know the deployment (every payment has one) should use
/// [`approve_for_deployment`], which also refuses an approver whose grants do not cover that money.
pub fn approve(
    pending: &PendingFacts,
    approver: &Approver,
    already_approved: &[Uuid],
) -> ApprovalOutcome {
    judge(pending, None, approver, already_approved)
}

/// Whether `grant` lets its party approve the pending payment today. Without a deployment, any deployment the
/// grant covers will do.
fn approves(grant: &GrantFacts, pending: &PendingFacts, deployment: Option<Deployment>) -> bool {
    let can = |deployment: Deployment| {
        grant_can_approve(
            grant,
            &pending.person,
            pending.today,
            Spend {
                category: pending.category,
                deployment,
                amount: pending.amount,
            },
        )
    };
    match deployment {
        Some(deployment) => can(deployment),
        None => grant.deployments.iter().any(|&d| can(d)),
    }
}

fn judge(
    pending: &PendingFacts,
    deployment: Option<Deployment>,
    approver: &Approver,
    already_approved: &[Uuid],
) -> ApprovalOutcome {
    let refuse = |code: RuleCode, message: String| ApprovalOutcome::Refuse {
        refusal: Refusal::new(code, message),
    };
    if approver.user_id == pending.requested_by {
        return refuse(
            RuleCode::ApproverConflict,
            "You asked for this payment, so someone else must approve it.".to_owned(),
        );
    }
    if already_approved.contains(&approver.user_id) {
        return refuse(
            RuleCode::ApproverConflict,
            "You have already approved this payment; the remaining approval must come from someone else.".to_owned(),
        );
    }
    let can_approve_by_grant = pending
        .grants
        .iter()
        .filter(|g| g.user_id == approver.user_id)
        .any(|g| approves(g, pending, deployment));
    let meets = |need: &ApprovalNeed| match need.reason {
        HoldReason::OverPlanLine => approver.is_care_manager,
        HoldReason::OverLimit | HoldReason::Cosign => can_approve_by_grant,
    };
    let (met, remaining): (Vec<&ApprovalNeed>, Vec<&ApprovalNeed>) =
        pending.outstanding.iter().partition(|n| meets(n));
    if met.is_empty() && !remaining.is_empty() {
        let only_plan = remaining
            .iter()
            .all(|n| n.reason == HoldReason::OverPlanLine);
        let message = if only_plan {
            "Only a care manager can approve spending beyond the support plan.".to_owned()
        } else {
            format!(
                "You do not hold an agreement that lets you approve a {} payment of {}.",
                pending.category.label(),
                format_money(pending.amount)
            )
        };
        return refuse(RuleCode::NoAuthority, message);
    }
    if remaining.is_empty() {
        return ApprovalOutcome::Post;
    }
    ApprovalOutcome::NeedMore {
        remaining: remaining
            .into_iter()
            .map(|need| refresh(need, pending, deployment, approver, already_approved))
            .collect(),
    }
}

/// Recomputes who could still meet a need today, leaving out everyone who has already approved.
fn refresh(
    need: &ApprovalNeed,
    pending: &PendingFacts,
    deployment: Option<Deployment>,
    approver: &Approver,
    already: &[Uuid],
) -> ApprovalNeed {
    let eligible_approvers = match need.eligible_approvers {
        Approvers::AnyCareManager => Approvers::AnyCareManager,
        Approvers::Users(_) => {
            let mut users: Vec<Uuid> = pending
                .grants
                .iter()
                .filter(|g| g.user_id != pending.requested_by && approves(g, pending, deployment))
                .map(|g| g.user_id)
                .filter(|u| *u != approver.user_id && !already.contains(u))
                .collect();
            users.sort();
            users.dedup();
            Approvers::Users(users)
        }
    };
    ApprovalNeed {
        reason: need.reason,
        eligible_approvers,
        message: need.message.clone(),
    }
}
