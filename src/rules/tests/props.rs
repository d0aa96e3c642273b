//! Properties that must hold for any facts, not just the examples.

use super::fixtures::*;
use crate::rules::money::to_pence;
use crate::rules::respite::check_care_home_stay;
use crate::rules::{
    decide, release_amount, split_evenly, ActingAs, Category, ContributionBasis, Decision,
    Deployment, FlagCode, PayeeKind, Power, Relationship, RuleCode, SpendFacts, SpendRequest,
};
use chrono::Days;
use proptest::prelude::*;
use proptest::sample::select;
use rust_decimal::Decimal;

fn pence(max: i64) -> impl Strategy<Value = Decimal> {
    (0..=max).prop_map(|p| Decimal::new(p, 2))
}

prop_compose! {
    /// A request and facts varied along every axis the rules read.
    fn world()(
        amount in pence(300_000),
        available in pence(300_000),
        spent in pence(1_000_000),
        category in select(Category::ALL),
        deployment in select(Deployment::ALL),
        kind in select(PayeeKind::ALL),
        relationship in select(Relationship::ALL),
        flags in proptest::collection::vec(any::<bool>(), 10),
        acting_as in select(ActingAs::ALL),
        max in pence(300_000),
        cosign in proptest::option::of(pence(300_000)),
        nights in 0u64..40,
    ) -> (SpendFacts, SpendRequest) {
        let (mut f, mut r) = (facts_with_approver(), request("1.00"));
        r.amount = amount;
        r.category = category;
        r.deployment = deployment;
        f.account.deployment = deployment;
        f.account.available_balance = available;
        if let Some(plan) = f.plan.as_mut() {
            plan.lines.push(line(category, deployment, "10000.00", "0.00"));
            plan.lines.iter_mut().for_each(|l| l.spent_this_plan_year = spent);
            plan.approved = flags[0];
            plan.cash_allowed = flags[1];
        }
        f.payee.kind = kind;
        f.payee.relationship = relationship;
        f.payee.lives_with_person = flags[2];
        f.payee.active = flags[3];
        f.payee.bank_verified = flags[4];
        f.person.has_capacity = flags[5];
        f.care_manager_available = flags[6];
        r.is_cash = flags[7];
        r.evidence_attached = flags[8];
        f.grants[0].acting_as = acting_as;
        f.grants[0].lpa_registered = flags[9];
        f.grants[0].max_per_payment = max;
        f.grants[0].cosign_above = cosign;
        if nights > 0 {
            r.stay_from = Some(today());
            r.stay_to = today().checked_add_days(Days::new(nights - 1));
        }
        (f, r)
    }
}

proptest! {
    #[test]
    fn never_moves_money_the_account_does_not_have((f, r) in world()) {
        let decision = decide(&f, &r);
        if r.amount > f.account.available_balance {
            prop_assert!(decision.refusal_codes().contains(&RuleCode::InsufficientFunds));
        }
    }

    #[test]
    fn refusals_and_holds_always_say_why((f, r) in world()) {
        match decide(&f, &r) {
            Decision::Refuse { refusals } => {
                prop_assert!(!refusals.is_empty());
                for refusal in refusals {
                    prop_assert!(refusal.message.ends_with('.'), "{}", refusal.message);
                }
            }
            Decision::Hold { approvals_required, .. } => prop_assert!(!approvals_required.is_empty()),
            Decision::Post { .. } => {}
        }
    }

    #[test]
    fn evidence_is_flagged_exactly_when_due((f, r) in world()) {
        let decision = decide(&f, &r);
        if !matches!(decision, Decision::Refuse { .. }) {
            let flagged = decision.flags().iter().any(|x| x.code == FlagCode::EvidenceRequired);
            prop_assert_eq!(flagged, r.amount > f.policy.receipt_threshold && !r.evidence_attached);
        }
    }

    #[test]
    fn partners_are_refused_from_a_direct_payment_wherever_they_live((mut f, r) in world()) {
        f.payee.family_payment_necessary = false;
        use Relationship as R;
        let partner = matches!(f.payee.relationship, R::Spouse | R::CivilPartner | R::Partner);
        let unrelated = matches!(f.payee.relationship, R::Friend | R::OtherRelative | R::NoRelationship);
        let dp = r.deployment.is_direct_payment();
        let refused = decide(&f, &r).refusal_codes().contains(&RuleCode::FamilyMemberPayment);
        if partner && dp {
            prop_assert!(refused);
        }
        if !dp || unrelated {
            prop_assert!(!refused);
        }
    }

    #[test]
    fn a_payer_without_pay_power_never_posts((mut f, r) in world()) {
        f.grants[0].powers = vec![Power::Approve];
        prop_assert!(decide(&f, &r).refusal_codes().contains(&RuleCode::NoAuthority));
    }

    #[test]
    fn a_payer_whose_grant_does_not_cover_the_deployment_never_posts((mut f, r) in world()) {
        f.grants[0].deployments = Deployment::ALL.iter().copied().filter(|d| *d != r.deployment).collect();
        prop_assert!(decide(&f, &r).refusal_codes().contains(&RuleCode::NoAuthority));
    }

    #[test]
    fn an_excluded_person_s_direct_payment_never_moves((mut f, r) in world()) {
        f.person.excluded_from_direct_payments = true;
        let refused = decide(&f, &r).refusal_codes().contains(&RuleCode::PersonExcluded);
        prop_assert_eq!(refused, r.deployment.is_direct_payment());
    }

    #[test]
    fn a_lone_stay_is_limited_at_28_nights(nights in 1u64..400, deployment in select(Deployment::ALL)) {
        let from = today();
        let to = from.checked_add_days(Days::new(nights - 1));
        let stay = (Some(from), to);
        let refusal = check_care_home_stay(Category::ResidentialRespite, PayeeKind::CareHome, deployment, stay, &[]);
        let refused = refusal.is_some();
        prop_assert_eq!(refused, deployment.is_direct_payment() && nights > 28);
    }

    #[test]
    fn split_evenly_adds_up_and_is_even(total in -10_000_000i64..10_000_000, parts in 1usize..50) {
        let total = Decimal::new(total, 2);
        let split = split_evenly(total, parts);
        prop_assert_eq!(split.len(), parts);
        prop_assert_eq!(split.iter().copied().sum::<Decimal>(), to_pence(total));
        let most = split.iter().copied().max().unwrap_or_default();
        let least = split.iter().copied().min().unwrap_or_default();
        prop_assert!(most - least <= Decimal::new(1, 2));
    }

    #[test]
    fn split_evenly_rounds_odd_totals_to_pence(total in -1_000_000_000i64..1_000_000_000, parts in 1usize..9) {
        let total = Decimal::new(total, 4);
        prop_assert_eq!(split_evenly(total, parts).iter().copied().sum::<Decimal>(), to_pence(total));
    }

    #[test]
    fn release_never_negative_and_net_adds_up(
        weekly in pence(500_000), weeks in 0u32..13, contribution in pence(100_000), reablement in any::<bool>(),
    ) {
        let net = release_amount(weekly, weeks, contribution, ContributionBasis::Net, reablement);
        let gross = release_amount(weekly, weeks, contribution, ContributionBasis::Gross, reablement);
        prop_assert!(net.release >= Decimal::ZERO);
        prop_assert_eq!(net.release + net.contribution_to_pay_in, gross.release);
        prop_assert_eq!(net.contribution_to_pay_in, gross.contribution_owed);
        if reablement {
            prop_assert_eq!(gross.contribution_owed, Decimal::ZERO);
        }
    }
}
