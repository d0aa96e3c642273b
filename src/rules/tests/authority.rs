//! `no_authority`: limits, co-signing, validity dates, categories and powers; who may approve.

use super::fixtures::*;
use crate::rules::{decide, ActingAs, Approvers, Category, Decision, HoldReason, Power, RuleCode};

/// The hold's single need, or a test failure.
fn single_need(decision: &Decision) -> (HoldReason, Approvers) {
    match decision {
        Decision::Hold {
            approvals_required, ..
        } if approvals_required.len() == 1 => (
            approvals_required[0].reason,
            approvals_required[0].eligible_approvers.clone(),
        ),
        other => panic!("expected a hold with one need, got {other:?}"),
    }
}

#[test]
fn max_per_payment_below_at_and_above() {
    for (amount, held) in [("999.99", false), ("1000.00", false), ("1000.01", true)] {
        let decision = decide(&facts_with_approver(), &request(amount));
        if held {
            assert_eq!(
                single_need(&decision),
                (HoldReason::OverLimit, Approvers::Users(vec![APPROVER]))
            );
        } else {
            assert!(is_post(&decision), "{amount}: {decision:?}");
        }
    }
}

#[test]
fn above_the_limit_with_nobody_to_approve_is_refused() {
    let decision = decide(&facts(), &request("1000.01"));
    assert_eq!(codes(&decision), vec![RuleCode::NoAuthority]);
    let message = &decision.refusals()[0].message;
    assert!(
        message.contains("above your limit of £1000.00"),
        "{message}"
    );
    assert!(message.contains("Nobody else"), "{message}");
}

#[test]
fn cosign_above_below_at_and_above() {
    for (amount, held) in [("499.99", false), ("500.00", false), ("500.01", true)] {
        let mut f = facts_with_approver();
        f.grants[0].cosign_above = Some(d("500.00"));
        let decision = decide(&f, &request(amount));
        if held {
            assert_eq!(
                single_need(&decision),
                (HoldReason::Cosign, Approvers::Users(vec![APPROVER]))
            );
        } else {
            assert!(is_post(&decision), "{amount}: {decision:?}");
        }
    }
}

#[test]
fn cosign_with_nobody_to_cosign_is_refused() {
    let mut f = facts();
    f.grants[0].cosign_above = Some(d("500.00"));
    assert_eq!(
        codes(&decide(&f, &request("500.01"))),
        vec![RuleCode::NoAuthority]
    );
}

#[test]
fn approvers_must_cover_the_amount_and_never_include_the_payer() {
    let mut f = facts_with_approver();
    f.grants[1].max_per_payment = d("1200.00");
    let mut own_approval = grant(PAYER, ActingAs::Person, &[Power::Approve]);
    own_approval.max_per_payment = d("5000.00");
    f.grants.push(own_approval);
    // APPROVER can approve up to 1200.00; the payer's own approve power never counts for their payment.
    assert_eq!(
        single_need(&decide(&f, &request("1200.00"))),
        (HoldReason::OverLimit, Approvers::Users(vec![APPROVER]))
    );
    assert_eq!(
        codes(&decide(&f, &request("1200.01"))),
        vec![RuleCode::NoAuthority]
    );
}

#[test]
fn validity_is_inclusive_of_first_and_last_day() {
    let cases = [
        (date(2026, 6, 15), None, true),
        (date(2026, 6, 16), None, false),
        (date(2026, 1, 1), Some(date(2026, 6, 15)), true),
        (date(2026, 1, 1), Some(date(2026, 6, 14)), false),
    ];
    for (from, to, posts) in cases {
        let mut f = facts();
        f.grants[0].valid_from = from;
        f.grants[0].valid_to = to;
        let want = if posts {
            vec![]
        } else {
            vec![RuleCode::NoAuthority]
        };
        assert_eq!(
            codes(&decide(&f, &request("100.00"))),
            want,
            "{from} to {to:?}"
        );
    }
}

#[test]
fn expired_grant_names_the_end_date() {
    let mut f = facts();
    f.grants[0].valid_to = Some(date(2026, 6, 14));
    let decision = decide(&f, &request("100.00"));
    assert!(decision.refusals()[0]
        .message
        .contains("ended on 14 June 2026"));
}

#[test]
fn category_power_and_missing_grant() {
    type Change = fn(&mut crate::rules::SpendFacts);
    let cases: &[(&str, Change, bool)] = &[
        (
            "covers personal care",
            |f| f.grants[0].categories = Some(vec![Category::PersonalCare]),
            true,
        ),
        (
            "covers transport only",
            |f| f.grants[0].categories = Some(vec![Category::Transport]),
            false,
        ),
        (
            "approve only",
            |f| f.grants[0].powers = vec![Power::Approve],
            false,
        ),
        ("no grant", |f| f.grants.clear(), false),
        (
            "someone else's grant",
            |f| f.grants[0].user_id = STRANGER,
            false,
        ),
        (
            "an expired grant beside a current one",
            |f| {
                let mut old = f.grants[0].clone();
                old.valid_to = Some(date(2026, 1, 31));
                f.grants.insert(0, old);
            },
            true,
        ),
    ];
    for (name, change, posts) in cases {
        let mut f = facts();
        change(&mut f);
        let want = if *posts {
            vec![]
        } else {
            vec![RuleCode::NoAuthority]
        };
        assert_eq!(codes(&decide(&f, &request("100.00"))), want, "{name}");
    }
}

#[test]
fn authority_and_plan_holds_are_listed_together() {
    let mut f = facts_with_approver();
    if let Some(p) = f.plan.as_mut() {
        p.lines[0].spent_this_plan_year = d("9500.00");
    }
    match decide(&f, &request("1000.01")) {
        Decision::Hold {
            approvals_required, ..
        } => {
            let reasons: Vec<_> = approvals_required.iter().map(|n| n.reason).collect();
            assert_eq!(
                reasons,
                vec![HoldReason::OverLimit, HoldReason::OverPlanLine]
            );
        }
        other => panic!("expected a hold, got {other:?}"),
    }
}

#[test]
fn approvers_must_cover_the_category() {
    let mut f = facts_with_approver();
    f.grants[1].categories = Some(vec![Category::Transport]);
    assert_eq!(
        codes(&decide(&f, &request("1000.01"))),
        vec![RuleCode::NoAuthority]
    );
    f.grants[1].categories = Some(vec![Category::Transport, Category::PersonalCare]);
    assert!(is_hold(&decide(&f, &request("1000.01"))));
}
