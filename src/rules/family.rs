//! Paying family members from a direct payment: Care and Support (Direct Payments) Regulations 2014, reg 3.
//!
//! A direct payment may not pay the person's spouse, civil partner or partner, wherever they live, nor a close
//! relative (or that relative's spouse or partner) who lives in the same household, unless the council has
//! recorded that it is necessary (to meet the person's needs, or to administer the payment). Other relatives and
//! friends may be paid.
//!
//! Reg 3 is about direct payments only. A managed account is a direct payment run by a provider, so it is bound
//! too; an ISF or a council-managed budget is not (see [`Deployment::is_direct_payment`]).

use super::decision::{Refusal, RuleCode};
use super::facts::PayeeFacts;
use super::types::{Deployment, Relationship};

/// How far reg 3 bars a relationship.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FamilyBar {
    /// Barred wherever the payee lives.
    Anywhere,
    /// Barred only if the payee lives in the same household as the person.
    SameHousehold,
    /// Not barred.
    NotBarred,
}

/// Where reg 3 places each relationship.
pub fn family_bar(relationship: Relationship) -> FamilyBar {
    use Relationship as R;
    match relationship {
        R::Spouse | R::CivilPartner | R::Partner => FamilyBar::Anywhere,
        R::Parent
        | R::ParentInLaw
        | R::Child
        | R::ChildInLaw
        | R::Stepchild
        | R::Sibling
        | R::AuntUncle
        | R::Grandparent
        | R::RelativePartner => FamilyBar::SameHousehold,
        R::OtherRelative | R::Friend | R::NoRelationship => FamilyBar::NotBarred,
    }
}

/// `Some(refusal)` if reg 3 forbids paying this payee from this deployment.
pub fn check_family_payment(payee: &PayeeFacts, deployment: Deployment) -> Option<Refusal> {
    if !deployment.is_direct_payment() || payee.family_payment_necessary {
        return None;
    }
    let relation = payee.relationship.label();
    let message = match family_bar(payee.relationship) {
        FamilyBar::Anywhere => format!(
            "This payment would go to the person's {relation}, and direct payments cannot pay a spouse, civil \
             partner or partner, wherever they live, unless the council has recorded that it is necessary."
        ),
        FamilyBar::SameHousehold if payee.lives_with_person => format!(
            "This payment would go to the person's {relation}, who lives in the same household, and direct \
             payments cannot pay a close relative living with the person unless the council has recorded that \
             it is necessary."
        ),
        FamilyBar::SameHousehold | FamilyBar::NotBarred => return None,
    };
    Some(Refusal::new(RuleCode::FamilyMemberPayment, message))
}
