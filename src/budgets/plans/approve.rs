//! Approving the draft plan (care managers): the yearly total must fit within the budget's cost
//! (422 `plan_over_budget`); the plan in force is superseded; every deployment (and holder) of the
//! plan gets its ledger account; the next review is scheduled. All in the caller's transaction.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::load::{approved, draft};
use super::{Plan, PlanStatus};
use crate::auth::{Actor, Role};
use crate::budgets::accounts;
use crate::budgets::budget::load::visible_for_update;
use crate::budgets::reviews;
use crate::db::Tx;
use crate::error::{AppError, AppResult};

/// `now` is the application's clock: the approval time and the superseded plan's end.
pub async fn approve(
    tx: &Tx<'_>,
    actor: &Actor,
    budget_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Plan> {
    actor.require(&[Role::CareManager])?;
    let council_id = actor.council_id;
    let budget = visible_for_update(tx, actor, budget_id).await?;
    let Some(mut plan) = draft(tx, council_id, budget_id).await? else {
        return Err(AppError::conflict(
            "There is no draft plan waiting for approval: it may already have been approved.",
        ));
    };
    if plan.annual_total.amount() > budget.annual_cost.amount() {
        return Err(AppError::refused(
            "plan_over_budget",
            format!(
                "The plan costs {} a year ({} a week), more than the budget of {}. Reduce the plan or \
                 reassess the budget.",
                plan.annual_total, plan.weekly_total, budget.annual_cost
            ),
        ));
    }
    let previous = approved(tx, council_id, budget_id).await?;
    if let Some(previous) = &previous {
        tx.execute(
            "UPDATE support_plans SET status = 'superseded', ended_at = $3
             WHERE council_id = $1 AND id = $2",
            &[&council_id, &previous.id, &now],
        )
        .await?;
    }
    let row = tx
        .query_one(
            "UPDATE support_plans SET status = 'approved', approved_by = $3, approved_at = $4
             WHERE council_id = $1 AND id = $2 RETURNING approved_at",
            &[&council_id, &plan.id, &actor.user_id, &now],
        )
        .await?;
    plan.status = PlanStatus::Approved;
    plan.approved_by = Some(actor.user_id);
    plan.approved_at = Some(row.get(0));

    for (deployment, holder) in plan.holdings() {
        accounts::ensure_deployment_account(tx, council_id, &budget, deployment, holder).await?;
    }
    // Contributions recorded as owed (gross basis, or lines the person does not hold) need an
    // account to be owed in.
    if !budget.weekly_contribution.amount().is_zero() && !budget.is_free() {
        accounts::ensure_contribution_account(tx, council_id, &budget).await?;
    }
    let approved_on = plan
        .approved_at
        .map(|at| at.date_naive())
        .ok_or_else(|| AppError::Internal("an approved plan without its approval time".into()))?;
    reviews::schedule_after_approval(tx, council_id, budget_id, approved_on).await?;
    Ok(plan)
}
