//! Contributions people pay (their assessed charge). Net basis: the person pays it into the
//! account they hold (their direct payment, or failing that their managed account), which the
//! council's release was reduced by. Gross basis (or a budget with no account the person holds):
//! the payment settles the contribution recorded as owed. Either way the money comes from outside
//! allot, through the council's "contributions received" account.
//!
//! Finance officers record what the council received; their contributions post at once. Staff of
//! a managed-account provider record what the person paid into the managed account their
//! organisation holds, and only there (any other account is not theirs to reach: 404). What a
//! provider records beyond what the person owes (the budget's contribution arrears) would be money
//! appearing from nowhere, so it is held — recorded, not posted — until a finance officer approves
//! it (posting it) or rejects it.

mod decide;
mod record;

pub use decide::{approve, reject};
pub use record::record;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{Actor, Role};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::money::{Money, PositiveMoney};

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContribution {
    #[schema(value_type = String, example = "45.50")]
    pub amount: PositiveMoney,
    pub received_on: NaiveDate,
}

/// Where a contribution stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContributionStatus {
    /// In the ledger.
    #[default]
    Posted,
    /// Recorded by a provider for more than the person owes: waits for a finance officer.
    PendingApproval,
    /// Turned down by a finance officer: never posted.
    Rejected,
}

impl ContributionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ContributionStatus::Posted => "posted",
            ContributionStatus::PendingApproval => "pending_approval",
            ContributionStatus::Rejected => "rejected",
        }
    }

    fn parse(text: &str) -> AppResult<Self> {
        match text {
            "posted" => Ok(ContributionStatus::Posted),
            "pending_approval" => Ok(ContributionStatus::PendingApproval),
            "rejected" => Ok(ContributionStatus::Rejected),
            other => Err(AppError::Internal(format!(
                "unknown contribution status {other}"
            ))),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Contribution {
    pub id: Uuid,
    pub budget_id: Uuid,
    pub amount: Money,
    pub received_on: NaiveDate,
    /// Outcomes stored before statuses existed were all posted.
    #[serde(default)]
    pub status: ContributionStatus,
    /// Why it waits for a finance officer.
    #[serde(default)]
    pub hold_reason: Option<String>,
    /// The account credited (once posted).
    pub account_id: Uuid,
    /// The ledger entry, once posted.
    pub entry_id: Option<Uuid>,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
    /// The finance officer who approved or rejected a held contribution.
    #[serde(default)]
    pub resolved_by: Option<Uuid>,
    #[serde(default)]
    pub resolved_at: Option<DateTime<Utc>>,
}

/// Who decides held contributions.
const DECIDERS: &[Role] = &[Role::FinanceOfficer];
/// Who may list contributions.
const READERS: &[Role] = &[Role::FinanceOfficer, Role::Auditor];

const SELECT: &str =
    "SELECT id, budget_id, amount, received_on, status, hold_reason, account_id, entry_id,
                             recorded_by, recorded_at, resolved_by, resolved_at
                      FROM contributions";

/// The council's contributions (finance officers and auditors), newest first, optionally only
/// those with `status` — `pending_approval` is the finance officers' queue.
pub async fn list(
    tx: &Tx<'_>,
    actor: &Actor,
    status: Option<ContributionStatus>,
) -> AppResult<Vec<Contribution>> {
    actor.require(READERS)?;
    let rows = tx
        .query(
            &format!(
                "{SELECT} WHERE council_id = $1 AND ($2::text IS NULL OR status = $2)
                 ORDER BY recorded_at DESC, id LIMIT 1000"
            ),
            &[&actor.council_id, &status.map(ContributionStatus::as_str)],
        )
        .await?;
    rows.iter().map(from_row).collect()
}

async fn load(tx: &Tx<'_>, council_id: Uuid, id: Uuid, lock: bool) -> AppResult<Contribution> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    let row = tx
        .query_opt(
            &format!("{SELECT} WHERE council_id = $1 AND id = $2{lock}"),
            &[&council_id, &id],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    from_row(&row)
}

fn from_row(row: &tokio_postgres::Row) -> AppResult<Contribution> {
    Ok(Contribution {
        id: row.try_get("id")?,
        budget_id: row.try_get("budget_id")?,
        amount: Money::new(row.try_get("amount")?)
            .map_err(|e| AppError::Internal(e.to_string()))?,
        received_on: row.try_get("received_on")?,
        status: ContributionStatus::parse(row.try_get("status")?)?,
        hold_reason: row.try_get("hold_reason")?,
        account_id: row.try_get("account_id")?,
        entry_id: row.try_get("entry_id")?,
        recorded_by: row.try_get("recorded_by")?,
        recorded_at: row.try_get("recorded_at")?,
        resolved_by: row.try_get("resolved_by")?,
        resolved_at: row.try_get("resolved_at")?,
    })
}
