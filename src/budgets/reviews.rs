//! Plan reviews (Statutory Guidance ch.13): the first within 6 months of the first approved plan,
//! then at most every 12 months. One open review per budget; completing it schedules the next.
//! An overdue review is listed and flagged, never a reason to stop care (LGSCO Leeds 21 003 839).

use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{Actor, Role};
use crate::db::Tx;
use crate::error::{AppError, AppResult};

/// First review: within six months of the first approved plan.
pub const FIRST_REVIEW_MONTHS: u32 = 6;
/// Later reviews: at most twelve months apart.
pub const REVIEW_MONTHS: u32 = 12;
/// A review is listed as "due" this many days before its date.
pub const DUE_SOON_DAYS: u64 = 28;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewFilter {
    /// Open reviews due within the next four weeks (not yet overdue).
    Due,
    /// Open reviews whose date has passed.
    Overdue,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Review {
    pub id: Uuid,
    pub budget_id: Uuid,
    pub budget_reference: String,
    pub person_id: Uuid,
    pub person_name: String,
    /// `first` or `annual`.
    pub kind: String,
    pub due_on: NaiveDate,
    pub completed_on: Option<NaiveDate>,
    pub outcome: Option<String>,
    pub overdue: bool,
}

/// Schedules the next review when a plan is approved, unless one is already open.
pub async fn schedule_after_approval(
    tx: &Tx<'_>,
    council_id: Uuid,
    budget_id: Uuid,
    approved_on: NaiveDate,
) -> AppResult<()> {
    let row = tx
        .query_one(
            "SELECT count(*) FILTER (WHERE completed_on IS NULL), count(*)
             FROM reviews WHERE council_id = $1 AND budget_id = $2",
            &[&council_id, &budget_id],
        )
        .await?;
    let (open, all): (i64, i64) = (row.get(0), row.get(1));
    if open > 0 {
        return Ok(());
    }
    let (kind, months) = if all == 0 {
        ("first", FIRST_REVIEW_MONTHS)
    } else {
        ("annual", REVIEW_MONTHS)
    };
    let due_on = add_months(approved_on, months)?;
    insert(tx, council_id, budget_id, kind, due_on).await
}

async fn insert(
    tx: &Tx<'_>,
    council_id: Uuid,
    budget_id: Uuid,
    kind: &str,
    due_on: NaiveDate,
) -> AppResult<()> {
    tx.execute(
        "INSERT INTO reviews (council_id, id, budget_id, kind, due_on) VALUES ($1, $2, $3, $4, $5)",
        &[&council_id, &Uuid::new_v4(), &budget_id, &kind, &due_on],
    )
    .await?;
    Ok(())
}

fn add_months(date: NaiveDate, months: u32) -> AppResult<NaiveDate> {
    date.checked_add_months(Months::new(months))
        .ok_or_else(|| AppError::invalid("date", "is too far in the future"))
}

/// Brings the open review forward (a trigger: a fall, a hospital stay, a change in the family).
/// Never later than already scheduled: the 6- and 12-month limits only ever tighten.
pub async fn bring_forward(
    tx: &Tx<'_>,
    council_id: Uuid,
    budget_id: Uuid,
    due_on: NaiveDate,
) -> AppResult<()> {
    let updated = tx
        .execute(
            "UPDATE reviews SET due_on = $3
             WHERE council_id = $1 AND budget_id = $2 AND completed_on IS NULL AND due_on >= $3",
            &[&council_id, &budget_id, &due_on],
        )
        .await?;
    if updated == 0 {
        return Err(AppError::conflict(
            "No open review is due after that date: a review can be brought forward, never put back.",
        ));
    }
    Ok(())
}

/// A review carried out.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompletedReview {
    #[serde(with = "crate::dates")]
    pub completed_on: NaiveDate,
    pub outcome: String,
    /// When the next review is due; at most 12 months on (and 12 months when left out).
    #[serde(default, with = "crate::dates::option")]
    pub next_review_on: Option<NaiveDate>,
}

/// Records the open review as done and schedules the next (care managers; 409 when none is open).
pub async fn complete(
    tx: &Tx<'_>,
    actor: &Actor,
    budget_id: Uuid,
    done: &CompletedReview,
    today: NaiveDate,
) -> AppResult<Review> {
    actor.require(&[Role::CareManager])?;
    let council_id = actor.council_id;
    crate::budgets::budget::load::visible_for_update(tx, actor, budget_id).await?;
    let outcome = done.outcome.trim();
    if outcome.is_empty() || outcome.chars().count() > 2000 {
        return Err(AppError::invalid(
            "outcome",
            "describe the outcome in 1 to 2000 characters",
        ));
    }
    if done.completed_on > today {
        return Err(AppError::invalid(
            "completed_on",
            "a review cannot be completed in the future",
        ));
    }
    let latest = add_months(done.completed_on, REVIEW_MONTHS)?;
    let next = done.next_review_on.unwrap_or(latest);
    if next <= done.completed_on || next > latest {
        return Err(AppError::invalid(
            "next_review_on",
            "the next review must be after this one and at most 12 months later",
        ));
    }
    let updated = tx
        .execute(
            "UPDATE reviews SET completed_on = $3, completed_by = $4, outcome = $5
             WHERE council_id = $1 AND budget_id = $2 AND completed_on IS NULL",
            &[
                &council_id,
                &budget_id,
                &done.completed_on,
                &actor.user_id,
                &outcome,
            ],
        )
        .await?;
    if updated == 0 {
        return Err(AppError::conflict(
            "No review is open for this budget: approve a plan first.",
        ));
    }
    insert(tx, council_id, budget_id, "annual", next).await?;
    let mut open = list_for_budget(tx, council_id, budget_id, today).await?;
    open.retain(|r| r.completed_on.is_none());
    open.pop()
        .ok_or_else(|| AppError::Internal("the review just scheduled is missing".into()))
}

const SELECT: &str = "SELECT r.id, r.budget_id, b.reference, p.id, p.name, r.kind, r.due_on, r.completed_on, r.outcome
     FROM reviews r
     JOIN budgets b ON b.council_id = r.council_id AND b.id = r.budget_id
     JOIN people p ON p.council_id = b.council_id AND p.id = b.person_id";

fn from_row(row: &tokio_postgres::Row, today: NaiveDate) -> Review {
    let due_on: NaiveDate = row.get(6);
    let completed_on: Option<NaiveDate> = row.get(7);
    Review {
        id: row.get(0),
        budget_id: row.get(1),
        budget_reference: row.get(2),
        person_id: row.get(3),
        person_name: row.get(4),
        kind: row.get(5),
        due_on,
        completed_on,
        outcome: row.get(8),
        overdue: completed_on.is_none() && due_on < today,
    }
}

/// Every review of a budget, oldest first.
pub async fn list_for_budget(
    tx: &Tx<'_>,
    council_id: Uuid,
    budget_id: Uuid,
    today: NaiveDate,
) -> AppResult<Vec<Review>> {
    let sql = format!(
        "{SELECT} WHERE r.council_id = $1 AND r.budget_id = $2 ORDER BY r.due_on, r.created_at"
    );
    let rows = tx.query(&sql, &[&council_id, &budget_id]).await?;
    Ok(rows.iter().map(|r| from_row(r, today)).collect())
}

/// Open reviews that are due soon or overdue, soonest first.
pub async fn list(
    tx: &Tx<'_>,
    council_id: Uuid,
    filter: ReviewFilter,
    today: NaiveDate,
) -> AppResult<Vec<Review>> {
    let soon = today
        .checked_add_days(Days::new(DUE_SOON_DAYS))
        .unwrap_or(today);
    let sql = format!(
        "{SELECT} WHERE r.council_id = $1 AND r.completed_on IS NULL
           AND (($2 AND r.due_on < $3) OR (NOT $2 AND r.due_on >= $3 AND r.due_on <= $4))
         ORDER BY r.due_on, b.reference"
    );
    let overdue = filter == ReviewFilter::Overdue;
    let rows = tx
        .query(&sql, &[&council_id, &overdue, &today, &soon])
        .await?;
    Ok(rows.iter().map(|r| from_row(r, today)).collect())
}
