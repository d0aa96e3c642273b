//! Drafting a payment run: refuse a period another live run already covers (409), load the facts
//! snapshot, work out lines and skips, store the draft. Runs of a council are drafted and approved
//! one at a time (a transaction-scoped advisory lock), so two officers cannot release a period twice.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use std::collections::HashSet;

use super::compute::{plan_budget, BudgetFacts, DraftLine, Period, Skip, NHS_ACCOUNT_MIXED};
use super::{facts, store, PaymentRun};
use crate::auth::Actor;
use crate::budgets::{funding, policy};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::rules::Deployment;

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
    separate_nhs_accounts(&budgets, &mut lines, &mut skips);
    Ok((lines, skips))
}

/// An NHS direct payment goes to an account used only for it (NHS Direct Payments Regulations
/// 2013 reg 10): a wholly NHS-funded direct payment whose bank account also receives a direct
/// payment of other money in the run is skipped with `nhs_account_mixed`.
fn separate_nhs_accounts(
    budgets: &[BudgetFacts],
    lines: &mut Vec<DraftLine>,
    skips: &mut Vec<Skip>,
) {
    let nhs: HashSet<Uuid> = budgets
        .iter()
        .filter(|b| funding::wholly_nhs(&b.funding))
        .map(|b| b.budget_id)
        .collect();
    if nhs.is_empty() {
        return;
    }
    let account = |line: &DraftLine| {
        line.bank
            .as_ref()
            .filter(|_| line.deployment == Deployment::DirectPayment)
            .map(|b| (b.sort_code_digits(), b.account_number.clone()))
    };
    let other_money: HashSet<(String, String)> = lines
        .iter()
        .filter(|l| !nhs.contains(&l.budget_id))
        .filter_map(account)
        .collect();
    lines.retain(|line| {
        let mixed = nhs.contains(&line.budget_id)
            && account(line).is_some_and(|a| other_money.contains(&a));
        if mixed {
            skips.push(Skip {
                budget_id: line.budget_id,
                deployment: Some(line.deployment),
                reason: NHS_ACCOUNT_MIXED.into(),
                message: "The direct payment's bank account also receives a direct payment of other money; an NHS direct payment is paid into an account used only for it (NHS Direct Payments Regulations 2013 reg 10).".into(),
            });
        }
        !mixed
    });
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
