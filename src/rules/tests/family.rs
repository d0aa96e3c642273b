//! DP Regs reg 3: every relationship, in and out of the household, each deployment, and the necessary-exception.

use super::fixtures::*;
use crate::rules::family::{check_family_payment, family_bar, FamilyBar};
use crate::rules::{decide, Deployment, PayeeKind, Relationship as R, RuleCode};

/// Every relationship with whether it is refused when living elsewhere and when living with the person.
const TABLE: &[(R, bool, bool)] = &[
    (R::Spouse, true, true),
    (R::CivilPartner, true, true),
    (R::Partner, true, true),
    (R::Parent, false, true),
    (R::ParentInLaw, false, true),
    (R::Child, false, true),
    (R::ChildInLaw, false, true),
    (R::Stepchild, false, true),
    (R::Sibling, false, true),
    (R::AuntUncle, false, true),
    (R::Grandparent, false, true),
    (R::RelativePartner, false, true),
    (R::OtherRelative, false, false),
    (R::Friend, false, false),
    (R::NoRelationship, false, false),
];

#[test]
fn the_table_covers_every_relationship() {
    assert_eq!(TABLE.len(), R::ALL.len());
    for r in R::ALL {
        assert!(
            TABLE.iter().any(|(t, _, _)| t == r),
            "{r} missing from the table"
        );
    }
}

#[test]
fn reg_3_for_each_relationship_and_household() {
    for &(relationship, refused_elsewhere, refused_at_home) in TABLE {
        for (lives_with, refused) in [(false, refused_elsewhere), (true, refused_at_home)] {
            for deployment in [Deployment::DirectPayment, Deployment::ManagedAccount] {
                let mut f = facts();
                f.payee.kind = PayeeKind::PersonalAssistant;
                f.payee.relationship = relationship;
                f.payee.lives_with_person = lives_with;
                let got = check_family_payment(&f.payee, deployment).map(|r| r.code);
                let want = refused.then_some(RuleCode::FamilyMemberPayment);
                assert_eq!(
                    got, want,
                    "{relationship} lives_with={lives_with} {deployment}"
                );
            }
        }
    }
}

#[test]
fn reg_3_does_not_bind_isf_or_council_managed_money() {
    for &(relationship, _, _) in TABLE {
        for deployment in [Deployment::Isf, Deployment::CouncilManaged] {
            let mut f = facts();
            f.payee.relationship = relationship;
            f.payee.lives_with_person = true;
            assert_eq!(
                check_family_payment(&f.payee, deployment),
                None,
                "{relationship} {deployment}"
            );
        }
    }
}

#[test]
fn the_councils_necessary_decision_lifts_the_bar() {
    for &(relationship, _, _) in TABLE {
        let mut f = facts();
        f.payee.relationship = relationship;
        f.payee.lives_with_person = true;
        f.payee.family_payment_necessary = true;
        assert_eq!(
            check_family_payment(&f.payee, Deployment::DirectPayment),
            None,
            "{relationship}"
        );
    }
}

#[test]
fn bars_match_the_regulation() {
    assert_eq!(family_bar(R::CivilPartner), FamilyBar::Anywhere);
    assert_eq!(family_bar(R::RelativePartner), FamilyBar::SameHousehold);
    assert_eq!(family_bar(R::Friend), FamilyBar::NotBarred);
}

#[test]
fn decide_refuses_a_sibling_at_home_and_posts_one_living_elsewhere() {
    for (lives_with, posts) in [(true, false), (false, true)] {
        let mut f = facts();
        f.payee.relationship = R::Sibling;
        f.payee.lives_with_person = lives_with;
        let decision = decide(&f, &request("100.00"));
        if posts {
            assert!(is_post(&decision), "{decision:?}");
        } else {
            assert_eq!(codes(&decision), vec![RuleCode::FamilyMemberPayment]);
            let message = &decision.refusals()[0].message;
            assert!(
                message.contains("brother or sister, who lives in the same household"),
                "{message}"
            );
        }
    }
}
