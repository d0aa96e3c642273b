//! Drafting a payment run: refuse a period another live run already covers (409), load the facts
//! snapshot, work out lines and skips, store the draft. Runs of a council are drafted and approved
//! one at a time (a transaction-scoped advisory lock), so two officers cannot release a period twice.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::compute::{plan_budget, DraftLine, Period, Skip};
use super::{facts, store, PaymentRun};
use crate::auth::Actor;
use crate::budgets::policy;
use crate::db::Tx;
use crate::error::{AppError, AppResult};

/// Most weeks one run may pay for (a quarter).
pub const MAX_WEEKS: u32 = 13;
/// Policy default: four-weekly in advance.
pub const DEFAULT_WEEKS: u32 = 4;

fn default_weeks() -> u32 {
    DEFAULT_WEEKS
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRun {
    /// First day paid for.
    pub period_start: NaiveDate,
    /// How many weeks (default 4).
    #[serde(default = "default_weeks")]
    pub weeks: u32,
}

/// Serialises run drafting and approval within a council.
pub async fn lock_runs(tx: &Tx<'_>, council_id: Uuid) -> AppResult<()> {
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('allot.payment_runs.' || $1, 0))",
        &[&council_id.to_string()],
    )
    .await?;
    Ok(())
}

pub async fn create(tx: &Tx<'_>, actor: &Actor, new: &NewRun) -> AppResult<PaymentRun> {
    super::require_officer(actor)?;
    let council_id = actor.council_id;
    if new.weeks == 0 || new.weeks > MAX_WEEKS {
        return Err(AppError::invalid(
            "weeks",
            format!("a run pays for 1 to {MAX_WEEKS} weeks"),
        ));
    }
    let period = Period {
        start: new.period_start,
        weeks: new.weeks,
    };
    let last_day = period
        .last_day()
        .ok_or_else(|| AppError::invalid("period_start", "is too far in the future"))?;
    lock_runs(tx, council_id).await?;
    refuse_overlap(tx, council_id, period.start, last_day).await?;
    let (lines, skips) = compute(tx, council_id, period).await?;
    let id = store::insert(tx, council_id, actor.user_id, period, &lines, &skips).await?;
    store::load(tx, council_id, id, false).await
}

/// Lines and skips for the period from the facts as they stand now.
pub async fn compute(
    tx: &Tx<'_>,
    council_id: Uuid,
    period: Period,
) -> AppResult<(Vec<DraftLine>, Vec<Skip>)> {
    let policy = policy::current(tx, council_id).await?;
    let budgets = facts::load(tx, council_id, period).await?;
    let mut lines = Vec::with_capacity(budgets.len());
    let mut skips = Vec::new();
    for budget in &budgets {
        let (mut budget_lines, mut budget_skips) = plan_budget(budget, period, &policy);
        lines.append(&mut budget_lines);
        skips.append(&mut budget_skips);
    }
    Ok((lines, skips))
}

async fn refuse_overlap(
    tx: &Tx<'_>,
    council_id: Uuid,
    first: NaiveDate,
    last: NaiveDate,
) -> AppResult<()> {
    let row = tx
        .query_opt(
            "SELECT status, period_start, period_end FROM payment_runs
             WHERE council_id = $1 AND status <> 'rejected' AND period_start <= $3 AND period_end >= $2
             ORDER BY period_start LIMIT 1",
            &[&council_id, &first, &last],
        )
        .await?;
    let Some(row) = row else {
        return Ok(());
    };
    let status: &str = row.get(0);
    let (start, end): (NaiveDate, NaiveDate) = (row.get(1), row.get(2));
    let what = if status == "approved" {
        "has already been released"
    } else {
        "is already in a run waiting for approval"
    };
    Err(AppError::conflict(format!(
        "The period {} to {} {what}; money is released for a period only once.",
        start.format("%-d %B %Y"),
        end.format("%-d %B %Y")
    )))
}
