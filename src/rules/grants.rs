//! Whether a grant of a decision-making agreement fits the person (`capacity_role`) and is in force.
//!
//! The same test runs when a care manager records a grant (a misfit is refused) and on every payment or
//! approval (a grant that no longer fits, because the person's capacity record changed, simply stops counting).
//! Law: Care Act 2014 s.31 (nominated person — the person has capacity), s.32 (authorised person — the person
//! lacks capacity); Mental Capacity Act 2005 ss.9–14 (lasting powers of attorney take effect only once
//! registered) and s.16 (deputies act under a Court of Protection order).

use super::decision::{Refusal, RuleCode};
use super::facts::{GrantFacts, PersonFacts};
use super::types::{ActingAs, Category, Deployment, Power};
use chrono::NaiveDate;

/// Validates a grant as a care manager records it: `Err` lists every way it does not fit (`capacity_role`).
pub fn validate_grant(grant: &GrantFacts, person: &PersonFacts) -> Result<(), Vec<Refusal>> {
    match capacity_role_misfit(grant, person) {
        Some(refusal) => Err(vec![refusal]),
        None => Ok(()),
    }
}

/// Why this grant's role does not fit the person as their record stands, or `None` if it fits.
pub fn capacity_role_misfit(grant: &GrantFacts, person: &PersonFacts) -> Option<Refusal> {
    let message = match grant.acting_as {
        ActingAs::NominatedPerson if !person.has_capacity => {
            "A nominated person can only act for someone who has capacity to manage a direct payment, and the \
             person's record says they do not; an authorised person is needed instead."
        }
        ActingAs::AuthorisedPerson if person.has_capacity => {
            "An authorised person can only act for someone who lacks capacity to manage a direct payment, and the \
             person's record says they have capacity; they can nominate someone instead."
        }
        ActingAs::Attorney if !grant.lpa_registered => {
            "An attorney can only act once their lasting power of attorney for property and financial affairs \
             has been registered with the Office of the Public Guardian."
        }
        ActingAs::Deputy if !has_court_order(grant) => {
            "A deputy can only act under a Court of Protection order, and no order reference has been recorded."
        }
        _ => return None,
    };
    Some(Refusal::new(RuleCode::CapacityRole, message))
}

/// Whether the grant fits the person (see [`capacity_role_misfit`]).
pub fn fits_person(grant: &GrantFacts, person: &PersonFacts) -> bool {
    capacity_role_misfit(grant, person).is_none()
}

fn has_court_order(grant: &GrantFacts) -> bool {
    // A reference of only spaces is as good as none: nobody could look the order up.
    grant
        .court_order_ref
        .as_deref()
        .is_some_and(|r| !r.trim().is_empty())
}

/// Whether `on` falls within the grant's dates; both the first and the last day count.
pub fn in_force(grant: &GrantFacts, on: NaiveDate) -> bool {
    grant.valid_from <= on && grant.valid_to.is_none_or(|last| on <= last)
}

/// Whether the grant covers the category (`None` covers all).
pub fn covers_category(grant: &GrantFacts, category: Category) -> bool {
    grant
        .categories
        .as_ref()
        .is_none_or(|categories| categories.contains(&category))
}

/// Whether the grant covers payments out of this deployment's money.
pub fn covers_deployment(grant: &GrantFacts, deployment: Deployment) -> bool {
    grant.deployments.contains(&deployment)
}

/// Whether the grant gives this power.
pub fn has_power(grant: &GrantFacts, power: Power) -> bool {
    grant.powers.contains(&power)
}

/// Whether the grant works at all on `on` for this person: in force and fitting their capacity record.
pub fn counts(grant: &GrantFacts, person: &PersonFacts, on: NaiveDate) -> bool {
    in_force(grant, on) && fits_person(grant, person)
}
