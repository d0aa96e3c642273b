//! Plan reviews (Statutory Guidance ch.13; DP Regs 2014 reg 7): the first `first_review_weeks`
//! (policy, default 6, at most 26) after the first approved plan, then at most every 12 months.
//! One open review per budget; completing it schedules the next. Triggers make the open review due
//! now (sql/V25 `review_raise`): a change in capacity, a surplus notice, an audit finding of
//! misuse, three refusals in 28 days, or a request from anyone who may see the budget; a budget
//! without an open review gets one. An overdue review is listed and flagged, never a reason to
//! stop care (LGSCO Leeds 21 003 839).

use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{Actor, Role};
use crate::db::Tx;
use crate::error::{AppError, AppResult};

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
    /// `first`, `annual` or `triggered` (opened by a trigger on a budget without one).
    pub kind: String,
    pub due_on: NaiveDate,
    pub completed_on: Option<NaiveDate>,
    pub outcome: Option<String>,
    pub notes: Option<String>,
    pub overdue: bool,
    /// What made it due now (open reviews): the triggers not yet resolved by a review.
    pub triggers: Vec<ReviewTrigger>,
}

/// Something that made a review due now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReviewTrigger {
    /// `capacity_change`, `surplus_flagged`, `misuse_finding`, `repeated_refusals` or
    /// `requested`.
    pub reason: String,
    pub detail: String,
    pub raised_on: NaiveDate,
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
    let (kind, due_on) = if all == 0 {
        let weeks = crate::budgets::policy::current(tx, council_id)
            .await?
            .first_review_weeks;
        let due_on = approved_on
            .checked_add_days(Days::new(u64::from(weeks) * 7))
            .ok_or_else(|| AppError::invalid("date", "is too far in the future"))?;
        ("first", due_on)
    } else {
        ("annual", add_months(approved_on, REVIEW_MONTHS)?)
    };
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

/// What a review decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewOutcome {
    /// The plan carries on as it is.
    Continue,
    /// The plan is to change (a new plan follows).
    ChangePlan,
    /// The direct payment is to end.
    EndDirectPayment,
}

impl ReviewOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewOutcome::Continue => "continue",
            ReviewOutcome::ChangePlan => "change_plan",
            ReviewOutcome::EndDirectPayment => "end_direct_payment",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        [
            ReviewOutcome::Continue,
            ReviewOutcome::ChangePlan,
            ReviewOutcome::EndDirectPayment,
        ]
        .into_iter()
        .find(|o| o.as_str() == text)
    }
}

/// A review carried out.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompletedReview {
    /// The day it was carried out (today when left out; never in the future).
    #[serde(default, with = "crate::dates::option")]
    #[schema(value_type = String, format = Date, required = false)]
    pub completed_on: Option<NaiveDate>,
    pub outcome: ReviewOutcome,
    /// What was found and agreed (up to 4000 characters).
    #[serde(default)]
    pub notes: Option<String>,
    /// When the next review is due; at most 12 months on (and 12 months when left out).
    #[serde(default, with = "crate::dates::option")]
    pub next_review_on: Option<NaiveDate>,
}

/// Records the open review as done, resolves what triggered it and schedules the next (care
/// managers; 409 when none is open).
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
    let notes = done
        .notes
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if notes.is_some_and(|n| n.chars().count() > 4000) {
        return Err(AppError::invalid("notes", "at most 4000 characters"));
    }
    let completed_on = done.completed_on.unwrap_or(today);
    if completed_on > today {
        return Err(AppError::invalid(
            "completed_on",
            "a review cannot be completed in the future",
        ));
    }
    let latest = add_months(completed_on, REVIEW_MONTHS)?;
    let next = done.next_review_on.unwrap_or(latest);
    if next <= completed_on || next > latest {
        return Err(AppError::invalid(
            "next_review_on",
            "the next review must be after this one and at most 12 months later",
        ));
    }
    let completed = tx
        .query_opt(
            "UPDATE reviews SET completed_on = $3, completed_by = $4, outcome = $5, notes = $6
             WHERE council_id = $1 AND budget_id = $2 AND completed_on IS NULL RETURNING id",
            &[
                &council_id,
                &budget_id,
                &completed_on,
                &actor.user_id,
                &done.outcome.as_str(),
                &notes,
            ],
        )
        .await?;
    let Some(completed) = completed else {
        return Err(AppError::conflict(
            "No review is open for this budget: approve a plan first.",
        ));
    };
    let review_id: Uuid = completed.try_get(0)?;
    tx.execute(
        "UPDATE review_triggers SET resolved_by_review = $3
         WHERE council_id = $1 AND budget_id = $2 AND resolved_by_review IS NULL",
        &[&council_id, &budget_id, &review_id],
    )
    .await?;
    insert(tx, council_id, budget_id, "annual", next).await?;
    let mut open = list_for_budget(tx, council_id, budget_id, today).await?;
    open.retain(|r| r.completed_on.is_none());
    open.pop()
        .ok_or_else(|| AppError::Internal("the review just scheduled is missing".into()))
}

/// A request for a review now.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// Why a review is needed now (1 to 2000 characters).
    pub reason: String,
}

/// Asks for a review now (anyone who may see the budget; 404 otherwise): the open review becomes
/// due today, or one is opened. Returns the open review.
pub async fn request(
    tx: &Tx<'_>,
    actor: &Actor,
    budget_id: Uuid,
    request: &ReviewRequest,
    today: NaiveDate,
) -> AppResult<Review> {
    let council_id = actor.council_id;
    crate::budgets::budget::load::visible_for_update(tx, actor, budget_id).await?;
    let reason = request.reason.trim();
    if reason.is_empty() || reason.chars().count() > 2000 {
        return Err(AppError::invalid("reason", "1 to 2000 characters of text"));
    }
    tx.execute(
        "SELECT review_raise($1, $2, 'requested', $3, $4, $5)",
        &[&council_id, &budget_id, &reason, &today, &actor.user_id],
    )
    .await?;
    let mut open = list_for_budget(tx, council_id, budget_id, today).await?;
    open.retain(|r| r.completed_on.is_none());
    open.pop()
        .ok_or_else(|| AppError::Internal("the review just raised is missing".into()))
}

/// Open reviews due today or before (overdue, or made due now by a trigger), soonest first.
pub async fn due_now(tx: &Tx<'_>, council_id: Uuid, today: NaiveDate) -> AppResult<Vec<Review>> {
    let sql = format!(
        "{SELECT} WHERE r.council_id = $1 AND r.completed_on IS NULL AND r.due_on <= $2
         ORDER BY r.due_on, b.reference"
    );
    let rows = tx.query(&sql, &[&council_id, &today]).await?;
    rows.iter().map(|r| from_row(r, today)).collect()
}

const SELECT: &str = "SELECT r.id, r.budget_id, b.reference, p.id, p.name, r.kind, r.due_on, r.completed_on, r.outcome,
            r.notes,
            CASE WHEN r.completed_on IS NULL THEN coalesce((
                SELECT jsonb_agg(jsonb_build_object('reason', t.reason, 'detail', t.detail,
                                                    'raised_on', t.raised_on)
                                 ORDER BY t.raised_at, t.id)
                FROM review_triggers t
                WHERE t.council_id = r.council_id AND t.budget_id = r.budget_id
                  AND t.resolved_by_review IS NULL), '[]') ELSE '[]' END
     FROM reviews r
     JOIN budgets b ON b.council_id = r.council_id AND b.id = r.budget_id
     JOIN people p ON p.council_id = b.council_id AND p.id = b.person_id";

fn from_row(row: &tokio_postgres::Row, today: NaiveDate) -> AppResult<Review> {
    let due_on: NaiveDate = row.try_get(6)?;
    let completed_on: Option<NaiveDate> = row.try_get(7)?;
    let triggers: serde_json::Value = row.try_get(10)?;
    let triggers = triggers
        .as_array()
        .map(|list| {
            list.iter()
                .map(|t| ReviewTrigger {
                    reason: t["reason"].as_str().unwrap_or_default().to_owned(),
                    detail: t["detail"].as_str().unwrap_or_default().to_owned(),
                    raised_on: t["raised_on"]
                        .as_str()
                        .and_then(|d| d.parse().ok())
                        .unwrap_or(due_on),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Review {
        id: row.try_get(0)?,
        budget_id: row.try_get(1)?,
        budget_reference: row.try_get(2)?,
        person_id: row.try_get(3)?,
        person_name: row.try_get(4)?,
        kind: row.try_get(5)?,
        due_on,
        completed_on,
        outcome: row.try_get(8)?,
        notes: row.try_get(9)?,
        overdue: completed_on.is_none() && due_on < today,
        triggers,
    })
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
    rows.iter().map(|r| from_row(r, today)).collect()
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
    rows.iter().map(|r| from_row(r, today)).collect()
}
