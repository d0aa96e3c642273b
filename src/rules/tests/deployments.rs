//! Grants cover named deployments: `pay` and `approve` only for payments out of money the grant names.

use super::fixtures::*;
use crate::rules::{
    approve, approve_for_deployment, decide, ActingAs, ApprovalNeed, ApprovalOutcome, Approver,
    Approvers, Category, Decision, Deployment, GrantFacts, PendingFacts, Power, RuleCode,
    SpendFacts, SpendRequest,
};
use uuid::Uuid;

fn only(mut grant: GrantFacts, deployments: &[Deployment]) -> GrantFacts {
    grant.deployments = deployments.to_vec();
    grant
}

/// The base facts and request moved to `deployment`, with a personal-care line for it.
fn world_in(deployment: Deployment) -> (SpendFacts, SpendRequest) {
    let (mut f, mut r) = (facts(), request("100.00"));
    f.account.deployment = deployment;
    r.deployment = deployment;
    if let Some(plan) = f.plan.as_mut() {
        plan.lines
            .push(line(Category::PersonalCare, deployment, "10000.00", "0.00"));
    }
    (f, r)
}

#[test]
fn a_grant_pays_only_from_the_deployments_it_names() {
    use Deployment as D;
    // (the payer's grant covers, the payment's deployment, posts)
    let cases: &[(&[Deployment], Deployment, bool)] = &[
        (&[D::DirectPayment], D::DirectPayment, true),
        (&[D::DirectPayment], D::ManagedAccount, false),
        (&[D::DirectPayment], D::Isf, false),
        (&[D::DirectPayment], D::CouncilManaged, false),
        (&[D::Isf], D::Isf, true),
        (&[D::Isf], D::DirectPayment, false),
        (&[D::ManagedAccount, D::Isf], D::ManagedAccount, true),
        (&[D::ManagedAccount, D::Isf], D::Isf, true),
        (&[D::ManagedAccount, D::Isf], D::DirectPayment, false),
        (&[D::CouncilManaged], D::CouncilManaged, true),
    ];
    for &(covers, deployment, posts) in cases {
        let (mut f, r) = world_in(deployment);
        f.grants[0] = only(f.grants[0].clone(), covers);
        let want = if posts {
            vec![]
        } else {
            vec![RuleCode::NoAuthority]
        };
        assert_eq!(
            codes(&decide(&f, &r)),
            want,
            "grant covers {covers:?}, paying from {deployment:?}"
        );
    }
}

#[test]
fn a_person_s_own_grant_does_not_reach_the_isf() {
    let (mut f, r) = world_in(Deployment::Isf);
    f.grants[0] = only(
        grant(PAYER, ActingAs::Person, &[Power::Pay]),
        &[Deployment::DirectPayment],
    );
    let decision = decide(&f, &r);
    assert_eq!(codes(&decision), vec![RuleCode::NoAuthority]);
    let message = &decision.refusals()[0].message;
    assert!(
        message.contains("does not cover payments from the Individual Service Fund"),
        "{message}"
    );
}

#[test]
fn one_of_several_grants_covering_the_deployment_is_enough() {
    let (mut f, r) = world_in(Deployment::Isf);
    let dp = only(f.grants[0].clone(), &[Deployment::DirectPayment]);
    let mut isf = only(f.grants[0].clone(), &[Deployment::Isf]);
    isf.id = Uuid::from_u128(0x999);
    f.grants = vec![dp, isf];
    assert!(is_post(&decide(&f, &r)));
    // The limit that counts is the covering grant's, not the other one's.
    f.grants[0].max_per_payment = d("5000.00");
    f.grants[1].max_per_payment = d("50.00");
    assert_eq!(codes(&decide(&f, &r)), vec![RuleCode::NoAuthority]);
}

#[test]
fn only_approvers_covering_the_deployment_are_offered() {
    let (mut f, r) = world_in(Deployment::Isf);
    f.grants[0] = only(f.grants[0].clone(), &[Deployment::Isf]);
    let mut dp_approver = grant(APPROVER, ActingAs::FamilyMember, &[Power::Approve]);
    dp_approver.max_per_payment = d("5000.00");
    f.grants
        .push(only(dp_approver.clone(), &[Deployment::DirectPayment]));
    let over = SpendRequest {
        amount: d("1000.01"),
        ..r.clone()
    };
    // Nobody could approve ISF money, so the payment above the payer's limit is refused.
    assert_eq!(codes(&decide(&f, &over)), vec![RuleCode::NoAuthority]);
    let mut isf_approver = only(dp_approver, &[Deployment::Isf]);
    isf_approver.user_id = STRANGER;
    f.grants.push(isf_approver);
    match decide(&f, &over) {
        Decision::Hold {
            approvals_required, ..
        } => assert_eq!(
            approvals_required[0].eligible_approvers,
            Approvers::Users(vec![STRANGER])
        ),
        other => panic!("expected a hold, got {other:?}"),
    }
}

/// A co-sign hold on an ISF payment, with APPROVER's approve grant covering only the direct payment and
/// STRANGER's covering the ISF.
fn isf_cosign_case() -> PendingFacts {
    let (mut f, r) = world_in(Deployment::Isf);
    f.grants[0] = only(f.grants[0].clone(), &[Deployment::Isf]);
    f.grants[0].cosign_above = Some(d("50.00"));
    let mut dp_approver = grant(APPROVER, ActingAs::FamilyMember, &[Power::Approve]);
    dp_approver.max_per_payment = d("5000.00");
    let mut isf_approver = dp_approver.clone();
    isf_approver.user_id = STRANGER;
    f.grants
        .push(only(dp_approver, &[Deployment::DirectPayment]));
    f.grants.push(only(isf_approver, &[Deployment::Isf]));
    let outstanding: Vec<ApprovalNeed> = match decide(&f, &r) {
        Decision::Hold {
            approvals_required, ..
        } => approvals_required,
        other => panic!("expected a hold, got {other:?}"),
    };
    assert_eq!(
        outstanding[0].eligible_approvers,
        Approvers::Users(vec![STRANGER])
    );
    PendingFacts {
        today: f.today,
        person: f.person,
        requested_by: r.actor,
        category: r.category,
        amount: r.amount,
        outstanding,
        grants: f.grants,
    }
}

fn by(user: Uuid) -> Approver {
    Approver {
        user_id: user,
        is_care_manager: false,
    }
}

#[test]
fn an_approver_approves_only_money_their_grant_covers() {
    let p = isf_cosign_case();
    match approve_for_deployment(&p, Deployment::Isf, &by(APPROVER), &[]) {
        ApprovalOutcome::Refuse { refusal } => assert_eq!(refusal.code, RuleCode::NoAuthority),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(
        approve_for_deployment(&p, Deployment::Isf, &by(STRANGER), &[]),
        ApprovalOutcome::Post
    );
    // Had the payment been out of the direct payment, APPROVER's grant would have covered it.
    assert_eq!(
        approve_for_deployment(&p, Deployment::DirectPayment, &by(APPROVER), &[]),
        ApprovalOutcome::Post
    );
}

#[test]
fn without_a_deployment_any_covered_deployment_will_do() {
    let p = isf_cosign_case();
    assert_eq!(approve(&p, &by(APPROVER), &[]), ApprovalOutcome::Post);
    assert_eq!(approve(&p, &by(STRANGER), &[]), ApprovalOutcome::Post);
}

#[test]
fn remaining_approvers_are_those_covering_the_deployment() {
    let mut p = isf_cosign_case();
    // Also beyond the plan: the care manager meets that need, and the co-sign need remains.
    p.outstanding.push(ApprovalNeed {
        reason: crate::rules::HoldReason::OverPlanLine,
        eligible_approvers: Approvers::AnyCareManager,
        message: "Beyond the plan.".into(),
    });
    let care_manager = Approver {
        user_id: CARE_MANAGER,
        is_care_manager: true,
    };
    match approve_for_deployment(&p, Deployment::Isf, &care_manager, &[]) {
        ApprovalOutcome::NeedMore { remaining } => assert_eq!(
            remaining[0].eligible_approvers,
            Approvers::Users(vec![STRANGER])
        ),
        other => panic!("expected one more approval, got {other:?}"),
    }
}
