//! Approving held payments: conflicts, authority, co-signing and care-manager approval.

use super::fixtures::*;
use crate::rules::{
    approve, decide, ApprovalNeed, ApprovalOutcome, Approver, Approvers, Decision, HoldReason,
    PendingFacts, RuleCode, SpendFacts, SpendRequest,
};

/// The pending facts for a request that `decide` holds.
fn pending(f: &SpendFacts, r: &SpendRequest) -> PendingFacts {
    let outstanding: Vec<ApprovalNeed> = match decide(f, r) {
        Decision::Hold {
            approvals_required, ..
        } => approvals_required,
        other => panic!("expected a hold, got {other:?}"),
    };
    PendingFacts {
        today: f.today,
        person: f.person,
        requested_by: r.actor,
        category: r.category,
        amount: r.amount,
        outstanding,
        grants: f.grants.clone(),
    }
}

fn cosign_case() -> PendingFacts {
    let mut f = facts_with_approver();
    f.grants[0].cosign_above = Some(d("500.00"));
    pending(&f, &request("600.00"))
}

fn by(user: uuid::Uuid) -> Approver {
    Approver {
        user_id: user,
        is_care_manager: false,
    }
}

fn refusal_code(outcome: &ApprovalOutcome) -> Option<RuleCode> {
    match outcome {
        ApprovalOutcome::Refuse { refusal } => Some(refusal.code),
        _ => None,
    }
}

#[test]
fn a_payer_never_approves_their_own_payment() {
    let mut p = cosign_case();
    // Even holding an approve grant of their own.
    p.grants[0].powers.push(crate::rules::Power::Approve);
    assert_eq!(
        refusal_code(&approve(&p, &by(PAYER), &[])),
        Some(RuleCode::ApproverConflict)
    );
}

#[test]
fn cosign_needs_a_second_party_and_one_is_enough() {
    let p = cosign_case();
    assert_eq!(approve(&p, &by(APPROVER), &[]), ApprovalOutcome::Post);
}

#[test]
fn the_same_approver_cannot_approve_twice() {
    let p = cosign_case();
    assert_eq!(
        refusal_code(&approve(&p, &by(APPROVER), &[APPROVER])),
        Some(RuleCode::ApproverConflict)
    );
}

#[test]
fn someone_without_an_approve_grant_has_no_authority() {
    let p = cosign_case();
    assert_eq!(
        refusal_code(&approve(&p, &by(STRANGER), &[])),
        Some(RuleCode::NoAuthority)
    );
    let care_manager = Approver {
        user_id: CARE_MANAGER,
        is_care_manager: true,
    };
    // The care-manager role approves spending beyond the plan, not beyond a party's agreed limits.
    assert_eq!(
        refusal_code(&approve(&p, &care_manager, &[])),
        Some(RuleCode::NoAuthority)
    );
}

#[test]
fn approval_is_judged_on_the_grants_of_the_day() {
    let mut p = cosign_case();
    p.today = date(2026, 7, 1);
    p.grants[1].valid_to = Some(date(2026, 6, 30));
    assert_eq!(
        refusal_code(&approve(&p, &by(APPROVER), &[])),
        Some(RuleCode::NoAuthority)
    );
    p.grants[1].valid_to = Some(date(2026, 7, 1));
    assert_eq!(approve(&p, &by(APPROVER), &[]), ApprovalOutcome::Post);
}

#[test]
fn over_plan_line_needs_a_care_manager() {
    let mut f = facts();
    if let Some(p) = f.plan.as_mut() {
        p.lines[0].spent_this_plan_year = d("10000.00");
    }
    let p = pending(&f, &request("10.00"));
    assert_eq!(
        refusal_code(&approve(&p, &by(APPROVER), &[])),
        Some(RuleCode::NoAuthority)
    );
    let care_manager = Approver {
        user_id: CARE_MANAGER,
        is_care_manager: true,
    };
    assert_eq!(approve(&p, &care_manager, &[]), ApprovalOutcome::Post);
}

#[test]
fn cosign_and_plan_needs_are_met_one_after_the_other() {
    let mut f = facts_with_approver();
    f.grants[0].cosign_above = Some(d("500.00"));
    if let Some(p) = f.plan.as_mut() {
        p.lines[0].spent_this_plan_year = d("9800.00");
    }
    let mut p = pending(&f, &request("600.00"));
    let remaining = match approve(&p, &by(APPROVER), &[]) {
        ApprovalOutcome::NeedMore { remaining } => remaining,
        other => panic!("expected one more approval, got {other:?}"),
    };
    assert_eq!(remaining.len(), 1);
    assert_eq!(remaining[0].reason, HoldReason::OverPlanLine);
    assert_eq!(remaining[0].eligible_approvers, Approvers::AnyCareManager);
    p.outstanding = remaining;
    let care_manager = Approver {
        user_id: CARE_MANAGER,
        is_care_manager: true,
    };
    assert_eq!(
        approve(&p, &care_manager, &[APPROVER]),
        ApprovalOutcome::Post
    );
}

#[test]
fn remaining_needs_list_who_can_still_meet_them() {
    let mut f = facts_with_approver();
    f.grants[0].cosign_above = Some(d("500.00"));
    let mut second = f.grants[1].clone();
    second.user_id = STRANGER;
    f.grants.push(second);
    if let Some(p) = f.plan.as_mut() {
        p.lines[0].spent_this_plan_year = d("9800.00");
    }
    let p = pending(&f, &request("600.00"));
    // A care manager meets the plan need first; the co-sign need remains, open to both approvers.
    let care_manager = Approver {
        user_id: CARE_MANAGER,
        is_care_manager: true,
    };
    match approve(&p, &care_manager, &[]) {
        ApprovalOutcome::NeedMore { remaining } => {
            assert_eq!(
                remaining[0].eligible_approvers,
                Approvers::Users(vec![APPROVER, STRANGER])
            );
        }
        other => panic!("expected one more approval, got {other:?}"),
    }
    // Anyone who has already approved is left out of the list.
    match approve(&p, &care_manager, &[STRANGER]) {
        ApprovalOutcome::NeedMore { remaining } => {
            assert_eq!(
                remaining[0].eligible_approvers,
                Approvers::Users(vec![APPROVER])
            );
        }
        other => panic!("expected one more approval, got {other:?}"),
    }
}
