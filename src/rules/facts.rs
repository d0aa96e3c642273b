//! The facts snapshot a spending decision is made on, and the request itself.
//!
//! The caller loads every fact in one database transaction, under the locks it posts under, so the decision
//! and the posting see the same world. Facts are plain values: the rules never look anything up.

use super::policy::CouncilPolicy;
use super::types::{ActingAs, Category, Deployment, PayeeKind, Power, Relationship};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The person whose budget it is, as their record stands now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonFacts {
    /// The care manager's current record of whether the person has capacity to manage a direct payment.
    pub has_capacity: bool,
    /// Excluded from direct payments by the DP Regulations' Schedule (treatment requirements, licence conditions).
    pub excluded_from_direct_payments: bool,
}

/// One line of the current plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanLineFacts {
    pub category: Category,
    pub deployment: Deployment,
    /// The line's allocation for the current plan year.
    pub annual_allocation: Decimal,
    /// Posted and pending spending already charged to this line in the plan year. Where several lines share a
    /// category and deployment, allocations and spending are added up across them.
    pub spent_this_plan_year: Decimal,
}

/// The budget's current support plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanFacts {
    /// Approved by a care manager. A draft plan authorises no spending.
    pub approved: bool,
    /// The plan allows cash withdrawals.
    pub cash_allowed: bool,
    /// When the plan must next be reviewed, if a date has been set.
    pub review_due: Option<NaiveDate>,
    pub lines: Vec<PlanLineFacts>,
}

/// The deployment account the money would leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountFacts {
    pub deployment: Deployment,
    /// Posted credits − posted debits − pending debits: what can be spent now.
    pub available_balance: Decimal,
}

/// Who would receive the money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayeeFacts {
    pub id: Uuid,
    pub kind: PayeeKind,
    pub active: bool,
    pub bank_verified: bool,
    /// Relationship to the person; an unrecorded one is passed as `Relationship::NoRelationship`.
    pub relationship: Relationship,
    pub lives_with_person: bool,
    /// The council has recorded that paying this payee from this budget is necessary (reg 3 exception).
    pub family_payment_necessary: bool,
    /// The organisation the payee is (a broker's own payee, say); `None` for most payees.
    #[serde(default)]
    pub organisation_id: Option<Uuid>,
}

/// One grant of a decision-making agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantFacts {
    pub id: Uuid,
    pub user_id: Uuid,
    pub acting_as: ActingAs,
    pub powers: Vec<Power>,
    /// The categories the grant covers; `None` covers every category.
    pub categories: Option<Vec<Category>>,
    /// The deployments whose money the grant covers: it gives `pay` and `approve` only for payments out of
    /// these (a person's own grant covers their direct payment, not the money an ISF provider holds).
    pub deployments: Vec<Deployment>,
    /// The largest single payment the party may make or approve.
    pub max_per_payment: Decimal,
    /// Payments strictly above this need a second party with `approve` to agree.
    pub cosign_above: Option<Decimal>,
    /// First day the grant works (inclusive).
    pub valid_from: NaiveDate,
    /// Last day the grant works (inclusive); `None` means until ended.
    pub valid_to: Option<NaiveDate>,
    /// For an attorney: a property-and-financial-affairs LPA registered with the Office of the Public Guardian.
    pub lpa_registered: bool,
    /// For a deputy: the Court of Protection order reference.
    pub court_order_ref: Option<String>,
}

/// An earlier care-home stay paid from a direct payment (first and last night, both inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StayFacts {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// Everything a spending decision depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpendFacts {
    /// The council's business date: grants, reviews and holds are judged on it.
    pub today: NaiveDate,
    pub person: PersonFacts,
    /// The current plan, if the budget has one.
    pub plan: Option<PlanFacts>,
    pub account: AccountFacts,
    pub payee: PayeeFacts,
    /// Every grant of the budget's decision-making agreement, for every party.
    pub grants: Vec<GrantFacts>,
    /// Earlier care-home stays paid from this budget's direct payment (any deployment that is a DP).
    pub previous_stays: Vec<StayFacts>,
    pub policy: CouncilPolicy,
    /// The council has at least one care manager who could approve spending beyond a plan line.
    pub care_manager_available: bool,
}

/// A request to pay money out of a deployment account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpendRequest {
    /// The user asking to pay.
    pub actor: Uuid,
    pub category: Category,
    pub deployment: Deployment,
    pub amount: Decimal,
    /// The day the care or item was provided (recorded; authority is judged on `SpendFacts::today`).
    pub service_date: NaiveDate,
    pub payee_id: Uuid,
    /// First night of a care-home stay.
    pub stay_from: Option<NaiveDate>,
    /// Last night of a care-home stay.
    pub stay_to: Option<NaiveDate>,
    /// The card processor's merchant category, for card-style spending.
    pub merchant_category: Option<String>,
    /// A cash withdrawal.
    pub is_cash: bool,
    /// A receipt, invoice or timesheet is attached.
    pub evidence_attached: bool,
    /// The organisation of the user asking to pay (a broker's, a provider's).
    #[serde(default)]
    pub actor_organisation_id: Option<Uuid>,
}
