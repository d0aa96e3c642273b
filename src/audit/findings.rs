//! An auditor's findings on sampled payments: `ok`, `query` or `misuse`, with a note. Findings are
//! kept as recorded (a later one on the same payment stands beside the earlier, never over it).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio_postgres::Row;
use uuid::Uuid;

use crate::auth::{Actor, Role};
use crate::db::Tx;
use crate::error::{AppError, AppResult};

/// What the auditor found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FindingOutcome {
    Ok,
    Query,
    Misuse,
}

impl FindingOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingOutcome::Ok => "ok",
            FindingOutcome::Query => "query",
            FindingOutcome::Misuse => "misuse",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "ok" => FindingOutcome::Ok,
            "query" => FindingOutcome::Query,
            "misuse" => FindingOutcome::Misuse,
            _ => return None,
        })
    }
}

/// A finding to record.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFinding {
    pub payment_id: Uuid,
    pub outcome: FindingOutcome,
    /// Up to 4000 characters.
    #[serde(default)]
    pub note: String,
}

/// A recorded finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Finding {
    pub id: Uuid,
    pub sample_id: Uuid,
    pub payment_id: Uuid,
    pub outcome: FindingOutcome,
    pub note: String,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, sample_id, payment_id, outcome, note, recorded_by, recorded_at";

fn from_row(row: &Row) -> AppResult<Finding> {
    let outcome: &str = row.try_get("outcome")?;
    Ok(Finding {
        id: row.try_get("id")?,
        sample_id: row.try_get("sample_id")?,
        payment_id: row.try_get("payment_id")?,
        outcome: FindingOutcome::parse(outcome)
            .ok_or_else(|| AppError::Internal(format!("stored finding outcome {outcome}")))?,
        note: row.try_get("note")?,
        recorded_by: row.try_get("recorded_by")?,
        recorded_at: row.try_get("recorded_at")?,
    })
}

/// The sample's findings, oldest first.
pub async fn of_sample(tx: &Tx<'_>, council_id: Uuid, sample_id: Uuid) -> AppResult<Vec<Finding>> {
    let rows = tx
        .query(
            &format!(
                "SELECT {COLUMNS} FROM audit_findings WHERE council_id = $1 AND sample_id = $2
                 ORDER BY recorded_at, id"
            ),
            &[&council_id, &sample_id],
        )
        .await?;
    rows.iter().map(from_row).collect()
}

/// Records a finding on a payment of the sample (auditors only; 404 for an unknown sample, 422
/// `not_in_sample` for a payment the sample does not hold).
pub async fn record(
    tx: &Tx<'_>,
    actor: &Actor,
    sample_id: Uuid,
    id: Uuid,
    new: &NewFinding,
    now: DateTime<Utc>,
) -> AppResult<Finding> {
    actor.require(&[Role::Auditor])?;
    let sample = tx
        .query_opt(
            "SELECT $3 = ANY (items) FROM audit_samples WHERE council_id = $1 AND id = $2",
            &[&actor.council_id, &sample_id, &new.payment_id],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    if !sample.get::<_, bool>(0) {
        return Err(AppError::refused(
            "not_in_sample",
            "Findings are recorded only on payments the sample holds.",
        ));
    }
    if new.note.chars().count() > 4000 {
        return Err(AppError::invalid("note", "at most 4000 characters"));
    }
    let row = tx
        .query_one(
            &format!(
                "INSERT INTO audit_findings (council_id, id, sample_id, payment_id, outcome, note,
                     recorded_by, recorded_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
            ),
            &[
                &actor.council_id,
                &id,
                &sample_id,
                &new.payment_id,
                &new.outcome.as_str(),
                &new.note.trim(),
                &actor.user_id,
                &now,
            ],
        )
        .await?;
    from_row(&row)
}
