//! `decide`: the plan, funds, payee, council-service, merchant and flag rules, and several failures together.

use super::fixtures::*;
use crate::rules::{
    decide, Approvers, Category, Decision, Deployment, HoldReason, PayeeKind, RuleCode,
};

#[test]
fn base_request_posts_without_flags() {
    assert_eq!(
        decide(&facts(), &request("100.00")),
        Decision::Post { flags: vec![] }
    );
}

#[test]
fn not_in_plan_cases() {
    type Change = fn(&mut crate::rules::SpendFacts, &mut crate::rules::SpendRequest);
    let cases: &[(&str, Change)] = &[
        ("category not in the plan", |_, r| {
            r.category = Category::Transport
        }),
        ("plan not approved", |f, _| {
            if let Some(p) = f.plan.as_mut() {
                p.approved = false;
            }
        }),
        ("no plan at all", |f, _| f.plan = None),
        ("category planned only under another deployment", |f, r| {
            r.category = Category::Equipment;
            to_isf(f, r);
        }),
        ("account of another deployment", |f, _| {
            f.account.deployment = Deployment::Isf
        }),
    ];
    for (name, change) in cases {
        let (mut f, mut r) = (facts(), request("100.00"));
        change(&mut f, &mut r);
        assert_eq!(codes(&decide(&f, &r)), vec![RuleCode::NotInPlan], "{name}");
    }
}

#[test]
fn isf_line_of_the_same_category_is_its_own_line() {
    let (mut f, mut r) = (facts(), request("100.00"));
    to_isf(&mut f, &mut r);
    assert!(is_post(&decide(&f, &r)));
}

#[test]
fn over_plan_line_holds_for_a_care_manager() {
    // 9950.00 spent of 10000.00: 50.00 reaches the allocation exactly, 50.01 goes past it.
    let cases = [("49.99", false), ("50.00", false), ("50.01", true)];
    for (amount, held) in cases {
        let mut f = facts();
        if let Some(p) = f.plan.as_mut() {
            p.lines[0].spent_this_plan_year = d("9950.00");
        }
        let decision = decide(&f, &request(amount));
        if held {
            match &decision {
                Decision::Hold {
                    approvals_required, ..
                } => {
                    assert_eq!(approvals_required.len(), 1);
                    assert_eq!(approvals_required[0].reason, HoldReason::OverPlanLine);
                    assert_eq!(
                        approvals_required[0].eligible_approvers,
                        Approvers::AnyCareManager
                    );
                }
                other => panic!("{amount}: expected a hold, got {other:?}"),
            }
        } else {
            assert!(is_post(&decision), "{amount}: {decision:?}");
        }
    }
}

#[test]
fn over_plan_line_refused_when_no_care_manager_could_approve() {
    let mut f = facts();
    f.care_manager_available = false;
    if let Some(p) = f.plan.as_mut() {
        p.lines[0].spent_this_plan_year = d("10000.00");
    }
    assert_eq!(
        codes(&decide(&f, &request("0.01"))),
        vec![RuleCode::OverPlanLine]
    );
}

#[test]
fn insufficient_funds_at_the_balance_and_a_penny_over() {
    let cases = [("99.99", true), ("100.00", true), ("100.01", false)];
    for (amount, posts) in cases {
        let mut f = facts();
        f.account.available_balance = d("100.00");
        let decision = decide(&f, &request(amount));
        if posts {
            assert!(is_post(&decision), "{amount}: {decision:?}");
        } else {
            assert_eq!(
                codes(&decision),
                vec![RuleCode::InsufficientFunds],
                "{amount}"
            );
        }
    }
}

#[test]
fn payee_must_be_active_verified_and_the_one_asked_for() {
    let cases = [
        (true, true, PAYEE, true),
        (false, true, PAYEE, false),
        (true, false, PAYEE, false),
        (false, false, PAYEE, false),
        (true, true, STRANGER, false),
    ];
    for (active, verified, id, posts) in cases {
        let mut f = facts();
        f.payee.active = active;
        f.payee.bank_verified = verified;
        f.payee.id = id;
        let decision = decide(&f, &request("100.00"));
        let want = if posts {
            vec![]
        } else {
            vec![RuleCode::PayeeNotApproved]
        };
        assert_eq!(
            codes(&decision),
            want,
            "active={active} verified={verified} id={id}"
        );
    }
}

#[test]
fn every_failing_rule_is_reported_together() {
    let (mut f, mut r) = (facts(), request("6000.00"));
    r.category = Category::Transport;
    r.merchant_category = Some("gambling".into());
    f.payee.active = false;
    f.payee.relationship = crate::rules::Relationship::Spouse;
    f.grants.clear();
    let got = codes(&decide(&f, &r));
    let want = vec![
        RuleCode::NotInPlan,
        RuleCode::InsufficientFunds,
        RuleCode::PayeeNotApproved,
        RuleCode::FamilyMemberPayment,
        RuleCode::BlockedMerchant,
        RuleCode::NoAuthority,
    ];
    assert_eq!(got, want);
    for refusal in decide(&f, &r).refusals() {
        assert!(refusal.message.ends_with('.'), "{refusal}");
    }
}

#[test]
fn nothing_or_less_is_not_a_payment() {
    for amount in ["0.00", "-5.00"] {
        assert!(
            codes(&decide(&facts(), &request(amount))).contains(&RuleCode::InvalidAmount),
            "{amount}"
        );
    }
}

#[test]
fn refusal_sentences_are_plain_english() {
    let mut f = facts();
    f.payee.relationship = crate::rules::Relationship::Partner;
    f.payee.kind = PayeeKind::Individual;
    let decision = decide(&f, &request("100.00"));
    let message = &decision.refusals()[0].message;
    assert!(
        message.starts_with("This payment would go to the person's partner"),
        "{message}"
    );
    assert!(
        message.contains("direct payments cannot pay a spouse"),
        "{message}"
    );
}

#[test]
fn an_excluded_person_s_direct_payment_is_not_spent() {
    // (deployment, refused as person_excluded)
    let cases = [
        (Deployment::DirectPayment, true),
        (Deployment::ManagedAccount, true),
        (Deployment::Isf, false),
        (Deployment::CouncilManaged, false),
    ];
    for (deployment, refused) in cases {
        let (mut f, mut r) = (facts(), request("100.00"));
        f.person.excluded_from_direct_payments = true;
        f.account.deployment = deployment;
        r.deployment = deployment;
        if let Some(plan) = f.plan.as_mut() {
            plan.lines
                .push(line(Category::PersonalCare, deployment, "10000.00", "0.00"));
        }
        let want = if refused {
            vec![RuleCode::PersonExcluded]
        } else {
            vec![]
        };
        assert_eq!(codes(&decide(&f, &r)), want, "{deployment:?}");
    }
}

#[test]
fn exclusion_is_reported_with_the_other_failures() {
    let mut f = facts();
    f.person.excluded_from_direct_payments = true;
    f.payee.bank_verified = false;
    let decision = decide(&f, &request("100.00"));
    assert_eq!(
        codes(&decision),
        vec![RuleCode::PersonExcluded, RuleCode::PayeeNotApproved]
    );
    assert!(decision.refusals()[0]
        .message
        .contains("excluded from direct payments"));
}

#[test]
fn a_broker_cannot_pay_their_own_organisation() {
    use crate::rules::{ActingAs, Power};
    let broker_org = uuid::Uuid::from_u128(0xb0);
    let mut f = facts();
    f.grants = vec![grant(PAYER, ActingAs::Broker, &[Power::Pay])];
    f.payee.organisation_id = Some(broker_org);
    let mut r = request("100.00");
    r.actor_organisation_id = Some(broker_org);
    assert_eq!(codes(&decide(&f, &r)), vec![RuleCode::SelfPayment]);
    // Another organisation's payee is paid as usual.
    r.actor_organisation_id = Some(uuid::Uuid::from_u128(0xb1));
    assert_eq!(decide(&f, &r), Decision::Post { flags: vec![] });
    // The same payee paid by someone acting as themselves (the person) is not a self-payment.
    r.actor_organisation_id = Some(broker_org);
    f.grants = vec![grant(PAYER, ActingAs::Person, &[Power::Pay])];
    assert_eq!(decide(&f, &r), Decision::Post { flags: vec![] });
}
