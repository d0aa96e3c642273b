//! The rules allot enforces before money moves (RULES.md), as pure functions of a facts snapshot.
//!
//! Nothing here does I/O, reads a clock or touches the database: the caller loads the facts in the same
//! transaction it posts in, calls a function here, and stores the answer with the entry together with
//! [`RULESET_VERSION`] and the council's policy version, so any decision can be replayed and explained later.
//!
//! Sources:
//! - Care Act 2014 s.26 (personal budgets), ss.31–33 (direct payments: capacity, nominated and authorised
//!   persons, use only for the needs in the plan);
//! - Care and Support (Direct Payments) Regulations 2014 (SI 2014/2871): reg 3 (paying family members), the
//!   limit on care-home stays, and the Schedule of people excluded from direct payments;
//! - Care and Support Statutory Guidance ch.11–12; Care and Support (Charging and Assessment of Resources)
//!   Regulations 2014 (SI 2014/2672);
//! - Mental Capacity Act 2005 (lasting powers of attorney, deputies);
//! - Local Government and Social Care Ombudsman decisions: never stop care because a review is overdue.
//!
//! Entry points: [`decide`] (spending), [`approve_for_deployment`] (one approval of a held payment),
//! [`release_eligibility`] and [`release_amount`] (payment runs), [`validate_grant`] (recording an agreement),
//! [`split_evenly`].

pub mod approval;
pub mod authority;
pub mod cards;
pub mod decision;
pub mod facts;
pub mod family;
pub mod grants;
pub mod money;
pub mod policy;
pub mod release;
pub mod respite;
pub mod spending;
pub mod surplus;
pub mod types;

#[cfg(test)]
mod tests;

pub use approval::{approve, approve_for_deployment, Approver, PendingFacts};
pub use cards::{decide_card, CashToday};
pub use decision::{
    ApprovalNeed, ApprovalOutcome, Approvers, Decision, Flag, FlagCode, HoldReason, Refusal,
    RuleCode,
};
pub use facts::{
    AccountFacts, GrantFacts, PayeeFacts, PersonFacts, PlanFacts, PlanLineFacts, SpendFacts,
    SpendRequest, StayFacts,
};
pub use grants::validate_grant;
pub use money::split_evenly;
pub use policy::{CardTimeoutDecision, CouncilPolicy};
pub use release::{release_amount, release_eligibility, ReleaseAmount, ReleaseFacts};
pub use spending::decide;
pub use types::{
    ActingAs, Category, ContributionBasis, Deployment, PayeeKind, Power, Relationship, UnknownValue,
};

/// The version of these rules, stored with every decision. Change it whenever a rule's outcome can change.
pub const RULESET_VERSION: &str = "2026-11-30.1";
