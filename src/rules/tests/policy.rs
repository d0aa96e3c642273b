//! Council policy rules in `decide`: council services, blocked merchants and cash, and the audit flags.

use super::fixtures::*;
use crate::rules::{decide, Deployment, FlagCode, PayeeKind, RuleCode};

#[test]
fn council_services_follow_policy_for_direct_payments_only() {
    let cases = [
        (true, Deployment::DirectPayment, true),
        (false, Deployment::DirectPayment, false),
        (false, Deployment::Isf, true),
    ];
    for (allowed, deployment, posts) in cases {
        let (mut f, mut r) = (facts(), request("100.00"));
        if deployment == Deployment::Isf {
            to_isf(&mut f, &mut r);
        }
        f.payee.kind = PayeeKind::CouncilService;
        f.policy.dp_may_buy_council_services = allowed;
        let want = if posts {
            vec![]
        } else {
            vec![RuleCode::CouncilService]
        };
        assert_eq!(
            codes(&decide(&f, &r)),
            want,
            "allowed={allowed} {deployment}"
        );
    }
}

#[test]
fn blocked_merchants_and_cash() {
    let cases: &[(Option<&str>, bool, bool, usize)] = &[
        (Some("gambling"), false, false, 1),
        (Some(" Tobacco "), false, false, 1),
        (Some("groceries"), false, false, 0),
        (None, true, false, 1),
        (None, true, true, 0),
        (Some("alcohol"), true, false, 2),
    ];
    for (merchant, cash, cash_allowed, refusals) in cases {
        let (mut f, mut r) = (facts(), request("20.00"));
        r.merchant_category = merchant.map(str::to_owned);
        r.is_cash = *cash;
        if let Some(p) = f.plan.as_mut() {
            p.cash_allowed = *cash_allowed;
        }
        let got = codes(&decide(&f, &r));
        assert_eq!(
            got,
            vec![RuleCode::BlockedMerchant; *refusals],
            "{merchant:?} cash={cash}"
        );
    }
}

#[test]
fn evidence_flag_above_the_threshold_only() {
    let cases = [
        ("250.00", false, false),
        ("250.01", false, true),
        ("250.01", true, false),
    ];
    for (amount, evidence, flagged) in cases {
        let mut r = request(amount);
        r.evidence_attached = evidence;
        let decision = decide(&facts(), &r);
        assert!(is_post(&decision), "{amount}: {decision:?}");
        let has_flag = decision
            .flags()
            .iter()
            .any(|f| f.code == FlagCode::EvidenceRequired);
        assert_eq!(has_flag, flagged, "{amount} evidence={evidence}");
    }
}

#[test]
fn review_overdue_is_flagged_but_the_payment_posts() {
    let cases = [
        (Some(date(2026, 6, 14)), true),
        (Some(today()), false),
        (None, false),
    ];
    for (due, flagged) in cases {
        let mut f = facts();
        if let Some(p) = f.plan.as_mut() {
            p.review_due = due;
        }
        let decision = decide(&f, &request("100.00"));
        assert!(is_post(&decision), "{due:?}: {decision:?}");
        let has_flag = decision
            .flags()
            .iter()
            .any(|f| f.code == FlagCode::ReviewOverdue);
        assert_eq!(has_flag, flagged, "{due:?}");
    }
}
