//! The finance officers' exceptions list: card money the network moved without allot's approval
//! at the time — force captures, authorisations and captures approved by the network while allot
//! was unreachable (`stand_in`) — each with what the rules would have said (the verdict of
//! `rules::decide`, stored when it was posted), until a finance officer marks it reviewed with a
//! note. Finance officers and auditors read it; only finance officers review.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::auth::{Actor, Role};
use crate::db::Tx;
use crate::error::{AppError, AppResult};

/// One exception.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CardException {
    pub id: Uuid,
    /// `force_capture`, `stand_in_authorization` or `stand_in_capture`.
    pub kind: String,
    pub card_id: Uuid,
    pub card_last4: String,
    pub budget_id: Uuid,
    /// The processor's authorisation (or capture) id.
    pub authorization_id: String,
    #[schema(value_type = String, example = "12.00")]
    pub amount: String,
    pub merchant_category: Option<String>,
    pub merchant_name: Option<String>,
    /// The entry that moved (or, for a stand-in authorisation, holds) the money.
    pub entry_id: Uuid,
    /// The rules' decision at the time (`outcome` post, hold or refuse, with its refusals).
    #[schema(value_type = Object)]
    pub verdict: Value,
    /// Whether the rules would have approved it.
    pub verdict_approved: bool,
    /// The decline reason the rules would have given.
    pub verdict_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    /// `open` or `reviewed`.
    pub status: String,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub reviewed_by: Option<Uuid>,
    pub review_note: Option<String>,
}

/// A review (`POST /api/v1/cards/exceptions/{id}/review`).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Review {
    /// What the finance officer found (1 to 2000 characters).
    pub note: String,
}

/// Which exceptions to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Filter {
    #[default]
    Open,
    Reviewed,
    All,
}

impl Filter {
    pub fn parse(text: Option<&str>) -> AppResult<Self> {
        match text {
            None | Some("open") => Ok(Filter::Open),
            Some("reviewed") => Ok(Filter::Reviewed),
            Some("all") => Ok(Filter::All),
            Some(_) => Err(AppError::invalid("status", "open, reviewed or all")),
        }
    }
}

const SELECT: &str = "SELECT e.id, e.kind, e.card_id, c.last4, c.budget_id, e.authorization_ref,
    e.amount::text AS amount, e.merchant_category, e.merchant_name, e.entry_id, e.verdict,
    e.verdict_approved, e.verdict_reason, e.created_at, e.reviewed_at, e.reviewed_by,
    e.review_note
    FROM card_exceptions e JOIN cards c ON c.council_id = e.council_id AND c.id = e.card_id";

fn from_row(row: &Row) -> AppResult<CardException> {
    let reviewed_at: Option<DateTime<Utc>> = row.try_get("reviewed_at")?;
    Ok(CardException {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        card_id: row.try_get("card_id")?,
        card_last4: row.try_get("last4")?,
        budget_id: row.try_get("budget_id")?,
        authorization_id: row.try_get("authorization_ref")?,
        amount: row.try_get("amount")?,
        merchant_category: row.try_get("merchant_category")?,
        merchant_name: row.try_get("merchant_name")?,
        entry_id: row.try_get("entry_id")?,
        verdict: row.try_get("verdict")?,
        verdict_approved: row.try_get("verdict_approved")?,
        verdict_reason: row.try_get("verdict_reason")?,
        created_at: row.try_get("created_at")?,
        status: if reviewed_at.is_some() {
            "reviewed"
        } else {
            "open"
        }
        .into(),
        reviewed_at,
        reviewed_by: row.try_get("reviewed_by")?,
        review_note: row.try_get("review_note")?,
    })
}

/// The council's exceptions, newest first (finance officers and auditors).
pub async fn list(tx: &Tx<'_>, actor: &Actor, filter: Filter) -> AppResult<Vec<CardException>> {
    actor.require(&[Role::FinanceOfficer, Role::Auditor])?;
    let condition = match filter {
        Filter::Open => "AND e.reviewed_at IS NULL",
        Filter::Reviewed => "AND e.reviewed_at IS NOT NULL",
        Filter::All => "",
    };
    let rows = tx
        .query(
            &format!(
                "{SELECT} WHERE e.council_id = $1 {condition}
                 ORDER BY e.created_at DESC, e.id LIMIT 1000"
            ),
            &[&actor.council_id],
        )
        .await?;
    rows.iter().map(from_row).collect()
}

/// One exception (finance officers and auditors).
pub async fn get(tx: &Tx<'_>, actor: &Actor, id: Uuid) -> AppResult<CardException> {
    actor.require(&[Role::FinanceOfficer, Role::Auditor])?;
    let row = tx
        .query_opt(
            &format!("{SELECT} WHERE e.council_id = $1 AND e.id = $2"),
            &[&actor.council_id, &id],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    from_row(&row)
}

/// Marks an exception reviewed with a note (finance officers): 409 once reviewed.
pub async fn review(
    tx: &Tx<'_>,
    actor: &Actor,
    id: Uuid,
    review: &Review,
    now: DateTime<Utc>,
) -> AppResult<CardException> {
    actor.require(&[Role::FinanceOfficer])?;
    let note = review.note.trim();
    if note.is_empty() || note.chars().count() > 2000 {
        return Err(AppError::invalid("note", "1 to 2000 characters"));
    }
    let row = tx
        .query_opt(
            "SELECT reviewed_at FROM card_exceptions WHERE council_id = $1 AND id = $2 FOR UPDATE",
            &[&actor.council_id, &id],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    if row.try_get::<_, Option<DateTime<Utc>>>(0)?.is_some() {
        return Err(AppError::conflict(
            "This exception has been reviewed already.",
        ));
    }
    tx.execute(
        "UPDATE card_exceptions SET reviewed_at = $3, reviewed_by = $4, review_note = $5
         WHERE council_id = $1 AND id = $2",
        &[&actor.council_id, &id, &now, &actor.user_id, &note],
    )
    .await?;
    get(tx, actor, id).await
}
