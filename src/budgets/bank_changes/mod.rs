//! The log of bank details set and changed — a direct payment's account on a budget, a payee's,
//! an organisation's — and their verification (RULES.md `bank_details_unverified`).
//!
//! Every time details are given or changed a row records who, when, the old and the new details
//! (in full: they are personal data, kept for the record and shown only [masked]). Changed details
//! are not paid until a finance officer other than the person who changed them verifies them:
//! the subject's `bank_verified` flag, which the payment run and the spending rules read, is false
//! until then. Details a finance officer gives when the subject is first recorded count as
//! verified (as a payee's `bank_verified` always has); given by anyone else, they wait too. A
//! change made while an earlier one still waits supersedes it: only the newest can be verified.
//!
//! [masked]: crate::budgets::bank::BankDetails::masked

mod record;
mod verify;

pub use record::{changed, created};
pub use verify::{get, list, verify};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::budgets::bank::BankDetails;
use crate::error::{AppError, AppResult};

/// What the bank details belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// The account a budget's direct payment is paid into.
    Budget,
    Payee,
    Organisation,
}

/// One subject whose bank details are logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Budget(Uuid),
    Payee(Uuid),
    Organisation(Uuid),
}

impl Subject {
    pub fn kind(self) -> SubjectKind {
        match self {
            Subject::Budget(_) => SubjectKind::Budget,
            Subject::Payee(_) => SubjectKind::Payee,
            Subject::Organisation(_) => SubjectKind::Organisation,
        }
    }

    pub fn id(self) -> Uuid {
        match self {
            Subject::Budget(id) | Subject::Payee(id) | Subject::Organisation(id) => id,
        }
    }

    /// The subject's table and its column in the log (fixed names, never input).
    fn table(self) -> (&'static str, &'static str) {
        match self {
            Subject::Budget(_) => ("budgets", "budget_id"),
            Subject::Payee(_) => ("payees", "payee_id"),
            Subject::Organisation(_) => ("organisations", "organisation_id"),
        }
    }
}

/// Whether a logged change may be paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeStatus {
    /// Waiting for a finance officer other than the one who made it.
    Unverified,
    Verified,
    /// Changed again before anyone verified it.
    Superseded,
}

impl ChangeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeStatus::Unverified => "unverified",
            ChangeStatus::Verified => "verified",
            ChangeStatus::Superseded => "superseded",
        }
    }

    pub fn parse(text: &str) -> AppResult<Self> {
        match text {
            "unverified" => Ok(ChangeStatus::Unverified),
            "verified" => Ok(ChangeStatus::Verified),
            "superseded" => Ok(ChangeStatus::Superseded),
            other => Err(AppError::Internal(format!("unknown change status {other}"))),
        }
    }
}

/// A logged change, as finance officers and auditors see it: the details masked.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BankDetailChange {
    pub id: Uuid,
    pub subject: SubjectKind,
    pub subject_id: Uuid,
    /// The budget's reference, or the payee's or organisation's name.
    pub subject_name: String,
    /// `created` (given when the subject was recorded) or `changed`.
    pub event: String,
    /// Masked; absent when there were none before.
    pub old_bank: Option<BankDetails>,
    /// Masked.
    pub new_bank: BankDetails,
    pub changed_by: Uuid,
    pub changed_by_name: String,
    pub changed_at: DateTime<Utc>,
    pub status: ChangeStatus,
    pub verified_by: Option<Uuid>,
    pub verified_at: Option<DateTime<Utc>>,
}
