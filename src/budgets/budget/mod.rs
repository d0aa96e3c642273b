//! Personal budgets (Care Act 2014 s.26): who it is for, who funds it, the cost, the person's
//! contribution and how it is collected, the dates, the broker, and where a direct payment goes.

pub mod create;
pub mod disclosure;
pub mod load;
pub mod statement;
pub mod update;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::bank::BankDetails;
use super::funding::{FunderAmount, FundingPart, FundingSource};
use crate::error::AppError;
use crate::money::Money;
use crate::rules::{ActingAs, ContributionBasis, Deployment, GrantFacts, Power};
pub use statement::Statement;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Funder {
    /// Adult social care.
    Council,
    /// A personal health budget from an NHS body.
    Nhs,
}

impl Funder {
    pub fn as_str(self) -> &'static str {
        match self {
            Funder::Council => "council",
            Funder::Nhs => "nhs",
        }
    }
    /// The funding source this lead funder is.
    pub fn source(self) -> FundingSource {
        match self {
            Funder::Council => FundingSource::Council,
            Funder::Nhs => FundingSource::Nhs,
        }
    }
    pub fn parse(text: &str) -> Result<Self, AppError> {
        match text {
            "council" => Ok(Funder::Council),
            "nhs" => Ok(Funder::Nhs),
            other => Err(AppError::Internal(format!("unknown funder {other}"))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BudgetKind {
    #[default]
    Standard,
    /// Up to six weeks of reablement: free of charge.
    Reablement,
}

impl BudgetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetKind::Standard => "standard",
            BudgetKind::Reablement => "reablement",
        }
    }
    pub fn parse(text: &str) -> Result<Self, AppError> {
        match text {
            "standard" => Ok(BudgetKind::Standard),
            "reablement" => Ok(BudgetKind::Reablement),
            other => Err(AppError::Internal(format!("unknown budget kind {other}"))),
        }
    }
}

/// Who receives a direct payment (Care Act ss.31–32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DpRecipient {
    /// The person, who has capacity.
    #[default]
    Person,
    /// Someone the person (with capacity) nominated; they must agree.
    NominatedPerson,
    /// Someone authorised for a person who lacks capacity.
    AuthorisedPerson,
}

impl DpRecipient {
    pub fn as_str(self) -> &'static str {
        match self {
            DpRecipient::Person => "person",
            DpRecipient::NominatedPerson => "nominated_person",
            DpRecipient::AuthorisedPerson => "authorised_person",
        }
    }
    pub fn parse(text: &str) -> Result<Self, AppError> {
        match text {
            "person" => Ok(DpRecipient::Person),
            "nominated_person" => Ok(DpRecipient::NominatedPerson),
            "authorised_person" => Ok(DpRecipient::AuthorisedPerson),
            other => Err(AppError::Internal(format!("unknown recipient {other}"))),
        }
    }
}

/// The conditions for paying a direct payment: the person's request and consent, and who receives it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectPaymentTerms {
    /// The person (with capacity) has requested and consented to a direct payment.
    #[serde(default)]
    pub consent_recorded: bool,
    #[serde(default)]
    pub recipient: DpRecipient,
    /// The nominated or authorised person (a user of the council).
    #[serde(default)]
    pub recipient_user_id: Option<Uuid>,
    /// A nominated person has agreed to receive the payment.
    #[serde(default)]
    pub recipient_agreed: bool,
}

impl DirectPaymentTerms {
    /// The terms as the rules see them: an authorised person recorded here is a grant from the
    /// budget's start (the decision-making agreements, when recorded, add their own grants).
    pub fn grants(&self, start_date: NaiveDate) -> Vec<GrantFacts> {
        match (self.recipient, self.recipient_user_id) {
            (DpRecipient::AuthorisedPerson, Some(user_id)) => vec![GrantFacts {
                id: user_id,
                user_id,
                acting_as: ActingAs::AuthorisedPerson,
                powers: vec![Power::Pay],
                categories: None,
                deployments: vec![Deployment::DirectPayment],
                max_per_payment: rust_decimal::Decimal::ZERO,
                cosign_above: None,
                valid_from: start_date,
                valid_to: None,
                lpa_registered: false,
                court_order_ref: None,
            }],
            _ => Vec::new(),
        }
    }

    /// `Some(agreed)` when a nominated person receives the payment.
    pub fn nominated_person_agreed(&self) -> Option<bool> {
        (self.recipient == DpRecipient::NominatedPerson).then_some(self.recipient_agreed)
    }
}

/// A budget to create.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBudget {
    pub person_id: Uuid,
    pub funder: Funder,
    /// The yearly cost of meeting the person's needs.
    #[schema(value_type = String, example = "15600.00")]
    pub annual_cost: crate::money::PositiveMoney,
    /// The person's assessed weekly contribution ("0" when they pay nothing).
    #[schema(value_type = String, example = "45.50")]
    pub weekly_contribution: Money,
    #[schema(value_type = String, example = "net")]
    pub contribution_basis: ContributionBasis,
    #[serde(with = "crate::dates")]
    pub start_date: NaiveDate,
    #[serde(default, with = "crate::dates::option")]
    pub end_date: Option<NaiveDate>,
    #[serde(default)]
    pub kind: BudgetKind,
    /// The broker organisation drafting the plan with the person, if any.
    #[serde(default)]
    pub broker_organisation_id: Option<Uuid>,
    /// The account a direct payment is paid into.
    #[serde(default)]
    pub bank: Option<BankDetails>,
    #[serde(default)]
    pub direct_payment: Option<DirectPaymentTerms>,
    /// The assessment (of this person) the budget comes from. A carer's assessment makes a
    /// carer's budget.
    #[serde(default)]
    pub assessment_id: Option<Uuid>,
    /// Why the weekly cost differs from the assessment's indicative amount (required then:
    /// 422 `reason_required`).
    #[serde(default)]
    pub cost_reason: Option<String>,
    /// How the weekly cost (annual cost over 52 weeks) is split between funders; the parts add up
    /// to it (422 `funding_mismatch`). Default: `funder` pays it all. `funder` must be one of
    /// them (or `council` when only other funds pay).
    #[serde(default)]
    pub funding: Option<Vec<FundingPart>>,
    /// The direct payment goes to an account used only for NHS direct payments (NHS Direct
    /// Payments Regulations 2013 reg 10). An NHS-funded direct payment is not paid without it.
    #[serde(default)]
    pub nhs_dp_separate_account: bool,
}

/// A budget as stored, with its s.26 statement.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Budget {
    pub id: Uuid,
    pub reference: String,
    pub person_id: Uuid,
    pub funder: Funder,
    pub kind: BudgetKind,
    pub annual_cost: Money,
    pub weekly_contribution: Money,
    #[schema(value_type = String, example = "net")]
    pub contribution_basis: ContributionBasis,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub broker_organisation_id: Option<Uuid>,
    /// The account the direct payment is paid into: in full for finance officers, the person and
    /// their representatives; masked (`**-**-56`, `****5678`) for other council staff; absent for
    /// brokers and providers.
    pub bank: Option<BankDetails>,
    /// False while changed bank details wait for a finance officer's verification (the payment
    /// run skips the direct payment with `bank_details_unverified`).
    pub bank_verified: bool,
    pub direct_payment: DirectPaymentTerms,
    /// Care Act s.26: the cost of meeting the needs.
    pub cost: Money,
    /// Care Act s.26: what the person pays towards it, a year.
    pub person_amount: Money,
    /// Care Act s.26: what the council (or NHS body) pays, a year.
    pub council_amount: Money,
    /// The assessment the budget comes from, when it cites one.
    pub assessment_id: Option<Uuid>,
    /// Why the weekly cost differs from the assessment's indicative amount.
    pub cost_reason: Option<String>,
    /// A carer's own budget (from a carer's assessment): no contribution unless the policy
    /// charges carers, and the carer service type in the returns.
    pub is_carer_budget: bool,
    /// The weekly cost split between the funders (they add up to it).
    pub funding: Vec<FundingPart>,
    /// Care Act s.26: what each funder pays, a year (the council's part less the person's
    /// contribution, which applies to the council's share only).
    pub paid_by: Vec<FunderAmount>,
    /// The direct payment goes to an account used only for NHS direct payments (reg 10).
    pub nhs_dp_separate_account: bool,
}

impl Budget {
    pub fn statement(&self) -> Statement {
        Statement {
            cost: self.cost,
            person_amount: self.person_amount,
            council_amount: self.council_amount,
            paid_by: self.paid_by.clone(),
        }
    }

    /// Whether the person contributes nothing by law (reablement).
    pub fn is_free(&self) -> bool {
        self.kind == BudgetKind::Reablement
    }
}
