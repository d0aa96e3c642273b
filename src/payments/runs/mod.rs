//! Payment runs (RULES.md › Money release): a finance officer drafts a run for a period (4 weeks
//! in advance by default), which lists what each budget's deployments get and which budgets are
//! skipped and why; they submit it; a different finance officer approves it, which posts every
//! line to the ledger in one batch. The approved run gives the Bacs Standard 18 and pain.001 files.

pub mod approve;
pub mod compute;
pub mod create;
pub mod facts;
pub mod files;
pub mod store;
#[cfg(test)]
mod tests;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{Actor, Role};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::money::Money;
use crate::rules::Deployment;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Draft,
    Submitted,
    Approved,
    Rejected,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Draft => "draft",
            RunStatus::Submitted => "submitted",
            RunStatus::Approved => "approved",
            RunStatus::Rejected => "rejected",
        }
    }
    pub fn parse(text: &str) -> Result<Self, AppError> {
        match text {
            "draft" => Ok(RunStatus::Draft),
            "submitted" => Ok(RunStatus::Submitted),
            "approved" => Ok(RunStatus::Approved),
            "rejected" => Ok(RunStatus::Rejected),
            other => Err(AppError::Internal(format!("unknown run status {other}"))),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RunLine {
    pub line_no: i32,
    pub budget_id: Uuid,
    pub budget_reference: String,
    pub person_name: String,
    #[schema(value_type = String, example = "direct_payment")]
    pub deployment: Deployment,
    pub holder_organisation_id: Option<Uuid>,
    pub account_id: Uuid,
    pub weeks: i32,
    /// What the council releases into the account for the period.
    pub amount: Money,
    /// Gross basis (or a line the person does not hold): the contribution recorded as owed.
    pub contribution_owed: Money,
    /// Net basis: what the person is expected to pay into the account themselves.
    pub contribution_to_pay_in: Money,
    /// Paid through the bank (direct payments and providers); council-managed money moves inside allot.
    pub in_bank_file: bool,
    pub payee_name: Option<String>,
    pub payment_reference: String,
    /// The ledger entry, once the run is approved.
    pub entry_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RunSkip {
    pub budget_id: Uuid,
    pub budget_reference: String,
    pub person_name: String,
    #[schema(value_type = Option<String>, example = "direct_payment")]
    pub deployment: Option<Deployment>,
    /// The rule's code (RULES.md): `plan_not_approved`, `person_excluded`, `capacity_conditions`,
    /// `bank_details_unverified`, or `bank_details_missing`.
    pub reason: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PaymentRun {
    pub id: Uuid,
    pub status: RunStatus,
    pub period_start: NaiveDate,
    /// Last day paid for.
    pub period_end: NaiveDate,
    pub weeks: i32,
    pub total_amount: Money,
    /// The part paid through the bank (the total of the payment files).
    pub bank_total: Money,
    pub lines: Vec<RunLine>,
    pub skipped: Vec<RunSkip>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub submitted_by: Option<Uuid>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub approved_by: Option<Uuid>,
    pub approved_at: Option<DateTime<Utc>>,
    pub rejected_by: Option<Uuid>,
    pub rejected_at: Option<DateTime<Utc>>,
    /// The Bacs file serial, once approved.
    pub file_serial: Option<i32>,
}

/// A run in a list (no lines).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RunSummary {
    pub id: Uuid,
    pub status: RunStatus,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub weeks: i32,
    pub total_amount: Money,
    pub lines: i64,
    pub skipped: i64,
    pub created_by: Uuid,
    pub approved_by: Option<Uuid>,
}

/// Who makes, submits, approves and rejects runs.
const OFFICERS: &[Role] = &[Role::FinanceOfficer];
/// Who may read runs and their payment files.
const READERS: &[Role] = &[Role::FinanceOfficer, Role::Auditor];

/// Refuses (403 `forbidden`) anyone but a finance officer.
pub(crate) fn require_officer(actor: &Actor) -> AppResult<()> {
    actor.require(OFFICERS)
}

/// Refuses (403 `forbidden`) anyone but finance officers and auditors.
pub(crate) fn require_reader(actor: &Actor) -> AppResult<()> {
    actor.require(READERS)
}

/// The council's runs, for those who may read them.
pub async fn list(tx: &Tx<'_>, actor: &Actor) -> AppResult<Vec<RunSummary>> {
    require_reader(actor)?;
    store::list(tx, actor.council_id).await
}

/// One run with its lines and skipped budgets, for those who may read it.
pub async fn get(tx: &Tx<'_>, actor: &Actor, id: Uuid) -> AppResult<PaymentRun> {
    require_reader(actor)?;
    store::load(tx, actor.council_id, id, false).await
}
