//! Support plans: lines of need, category, weekly amount and deployment (how the money is held),
//! drafted by a care manager or the budget's broker and approved by a care manager. Every version
//! is kept: a new draft replaces an older draft, and approving a draft supersedes the plan that
//! was in force.

pub mod approve;
pub mod draft;
pub mod load;
pub mod submit;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::budget::statement::WEEKS_PER_YEAR;
use crate::error::AppError;
use crate::money::{Money, PositiveMoney};
use crate::rules::{Category, Deployment};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    Draft,
    Approved,
    /// Was approved; a later version replaced it.
    Superseded,
    /// Was a draft; a later draft replaced it before it was approved.
    Replaced,
}

impl PlanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::Draft => "draft",
            PlanStatus::Approved => "approved",
            PlanStatus::Superseded => "superseded",
            PlanStatus::Replaced => "replaced",
        }
    }
    pub fn parse(text: &str) -> Result<Self, AppError> {
        match text {
            "draft" => Ok(PlanStatus::Draft),
            "approved" => Ok(PlanStatus::Approved),
            "superseded" => Ok(PlanStatus::Superseded),
            "replaced" => Ok(PlanStatus::Replaced),
            other => Err(AppError::Internal(format!("unknown plan status {other}"))),
        }
    }
}

/// One line as sent by the caller.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanLineInput {
    #[schema(value_type = String, example = "personal_care")]
    pub category: Category,
    /// The need this line meets, in the person's words where possible.
    pub need: String,
    /// Required unless the line names a directory cost option, whose amount × `units_per_week`
    /// it then is (given as well, it must be that figure).
    #[schema(value_type = Option<String>, example = "120.00")]
    #[serde(default)]
    pub weekly_amount: Option<PositiveMoney>,
    #[schema(value_type = String, example = "direct_payment")]
    pub deployment: Deployment,
    /// The provider holding the money: required for `managed_account` (a managed-account provider)
    /// and `isf` (an ISF provider); absent otherwise.
    #[serde(default)]
    pub holder_organisation_id: Option<Uuid>,
    /// A service of the council's directory (`GET /api/v1/directory/services`) the line buys.
    #[serde(default)]
    pub directory_service_id: Option<String>,
    /// One of that service's cost options (required with `directory_service_id`).
    #[serde(default)]
    pub cost_option_id: Option<String>,
    /// Units of the cost option a week (hours, sessions, visits...: the option's `unit`), more than
    /// 0 and at most 168, to two places (required with `directory_service_id`).
    #[schema(value_type = Option<String>, example = "10")]
    #[serde(default)]
    pub units_per_week: Option<Decimal>,
}

/// The directory service and cost option a line buys, with the price as it was when drafted.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanLineService {
    pub service_id: String,
    /// The service's name now (absent if no longer in the directory).
    pub service_name: Option<String>,
    pub cost_option_id: String,
    pub cost_option: Option<String>,
    #[schema(value_type = String, example = "24.50")]
    pub unit_amount: Decimal,
    pub unit: String,
    #[schema(value_type = String, example = "10")]
    pub units_per_week: Decimal,
}

/// A plan as sent by the caller.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanInput {
    pub lines: Vec<PlanLineInput>,
    #[serde(default)]
    pub cash_allowed: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanLine {
    pub line_no: i32,
    #[schema(value_type = String, example = "personal_care")]
    pub category: Category,
    pub need: String,
    pub weekly_amount: Money,
    #[schema(value_type = String, example = "direct_payment")]
    pub deployment: Deployment,
    pub holder_organisation_id: Option<Uuid>,
    /// The directory service and cost option the weekly amount was worked out from.
    pub service: Option<PlanLineService>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Plan {
    pub id: Uuid,
    pub budget_id: Uuid,
    pub version: i32,
    pub status: PlanStatus,
    pub cash_allowed: bool,
    pub weekly_total: Money,
    /// The weekly total over 52 weeks, compared with the budget's cost on approval.
    pub annual_total: Money,
    pub lines: Vec<PlanLine>,
    pub drafted_by: Uuid,
    pub drafted_at: DateTime<Utc>,
    pub approved_by: Option<Uuid>,
    pub approved_at: Option<DateTime<Utc>>,
    /// The draft submitted to the care manager (by the broker), waiting for approval or return.
    pub submitted_by: Option<Uuid>,
    pub submitted_at: Option<DateTime<Utc>>,
    /// The care manager returned the draft with these reasons (until it is submitted again).
    pub returned_by: Option<Uuid>,
    pub returned_at: Option<DateTime<Utc>>,
    pub return_reason: Option<String>,
}

impl Plan {
    /// The weekly total of the lines of one deployment (and holder).
    pub fn weekly_for(&self, deployment: Deployment, holder: Option<Uuid>) -> Decimal {
        self.lines
            .iter()
            .filter(|l| l.deployment == deployment && l.holder_organisation_id == holder)
            .map(|l| l.weekly_amount.amount())
            .sum()
    }

    /// The distinct (deployment, holder) pairs of the plan, in a stable order.
    pub fn holdings(&self) -> Vec<(Deployment, Option<Uuid>)> {
        let mut holdings: Vec<_> = self
            .lines
            .iter()
            .map(|l| (l.deployment, l.holder_organisation_id))
            .collect();
        holdings.sort();
        holdings.dedup();
        holdings
    }
}

/// The annual figure of a weekly amount.
pub fn annualise(weekly: Decimal) -> Decimal {
    weekly * Decimal::from(WEEKS_PER_YEAR)
}
