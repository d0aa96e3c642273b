//! A small, valid world that each test changes in one place: the base request posts cleanly, so any other
//! outcome is caused by the change the test makes.

use crate::rules::{
    AccountFacts, ActingAs, Category, CouncilPolicy, Decision, Deployment, GrantFacts, PayeeFacts,
    PayeeKind, PersonFacts, PlanFacts, PlanLineFacts, Power, Relationship, RuleCode, SpendFacts,
    SpendRequest,
};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::str::FromStr;
use uuid::Uuid;

pub const PAYER: Uuid = Uuid::from_u128(0x1);
pub const APPROVER: Uuid = Uuid::from_u128(0x2);
pub const CARE_MANAGER: Uuid = Uuid::from_u128(0x3);
pub const STRANGER: Uuid = Uuid::from_u128(0x4);
pub const PAYEE: Uuid = Uuid::from_u128(0x10);

/// A decimal from text; tests only ever pass literals, so a bad one is a bug in the test.
pub fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_else(|e| panic!("test decimal {s:?}: {e}"))
}

/// A calendar date; tests only pass real ones.
pub fn date(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day)
        .unwrap_or_else(|| panic!("test date {y}-{m}-{day} does not exist"))
}

/// The business date every test runs on.
pub fn today() -> NaiveDate {
    date(2026, 6, 15)
}

pub fn line(
    category: Category,
    deployment: Deployment,
    allocation: &str,
    spent: &str,
) -> PlanLineFacts {
    PlanLineFacts {
        category,
        deployment,
        annual_allocation: d(allocation),
        spent_this_plan_year: d(spent),
    }
}

/// A grant for `user` acting as `acting_as`, with the given powers, no category limit, covering every deployment,
/// a 1000.00 limit and no co-sign threshold, valid from 1 January 2026 with no end.
pub fn grant(user: Uuid, acting_as: ActingAs, powers: &[Power]) -> GrantFacts {
    GrantFacts {
        id: Uuid::from_u128(0x100 + user.as_u128()),
        user_id: user,
        acting_as,
        powers: powers.to_vec(),
        categories: None,
        deployments: Deployment::ALL.to_vec(),
        max_per_payment: d("1000.00"),
        cosign_above: None,
        valid_from: date(2026, 1, 1),
        valid_to: None,
        lpa_registered: false,
        court_order_ref: None,
    }
}

pub fn person_with_capacity() -> PersonFacts {
    PersonFacts {
        has_capacity: true,
        excluded_from_direct_payments: false,
    }
}

pub fn facts() -> SpendFacts {
    let dp = Deployment::DirectPayment;
    SpendFacts {
        today: today(),
        person: person_with_capacity(),
        plan: Some(PlanFacts {
            approved: true,
            cash_allowed: false,
            review_due: Some(date(2026, 12, 1)),
            lines: vec![
                line(Category::PersonalCare, dp, "10000.00", "0.00"),
                line(Category::ResidentialRespite, dp, "5000.00", "0.00"),
                line(Category::Equipment, dp, "2000.00", "0.00"),
                line(Category::PersonalCare, Deployment::Isf, "8000.00", "0.00"),
            ],
        }),
        account: AccountFacts {
            deployment: dp,
            available_balance: d("5000.00"),
        },
        payee: PayeeFacts {
            id: PAYEE,
            kind: PayeeKind::CareAgency,
            active: true,
            bank_verified: true,
            relationship: Relationship::NoRelationship,
            lives_with_person: false,
            family_payment_necessary: false,
            organisation_id: None,
        },
        grants: vec![grant(PAYER, ActingAs::Person, &[Power::Pay])],
        previous_stays: Vec::new(),
        policy: CouncilPolicy::default(),
        care_manager_available: true,
    }
}

/// The same facts with an approver who may approve up to 5000.00 of anything.
pub fn facts_with_approver() -> SpendFacts {
    let mut f = facts();
    let mut approver = grant(APPROVER, ActingAs::FamilyMember, &[Power::Approve]);
    approver.max_per_payment = d("5000.00");
    f.grants.push(approver);
    f
}

pub fn request(amount: &str) -> SpendRequest {
    SpendRequest {
        actor: PAYER,
        category: Category::PersonalCare,
        deployment: Deployment::DirectPayment,
        amount: d(amount),
        service_date: today(),
        payee_id: PAYEE,
        stay_from: None,
        stay_to: None,
        merchant_category: None,
        is_cash: false,
        evidence_attached: true,
        actor_organisation_id: None,
    }
}

/// Moves the facts and request to an ISF deployment (plan line and account included).
pub fn to_isf(f: &mut SpendFacts, r: &mut SpendRequest) {
    f.account.deployment = Deployment::Isf;
    r.deployment = Deployment::Isf;
}

pub fn codes(decision: &Decision) -> Vec<RuleCode> {
    decision.refusal_codes()
}

pub fn is_post(decision: &Decision) -> bool {
    matches!(decision, Decision::Post { .. })
}

pub fn is_hold(decision: &Decision) -> bool {
    matches!(decision, Decision::Hold { .. })
}
