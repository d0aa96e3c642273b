//! The broker's draft goes to the care manager: the broker submits it, and the care manager
//! approves it (`approve`) or returns it with reasons for the broker to change and submit again.

use uuid::Uuid;

use super::load::draft;
use super::Plan;
use crate::auth::{Actor, Role};
use crate::budgets::budget::load::visible_for_update;
use crate::db::Tx;
use crate::error::{AppError, AppResult};

/// Submits the draft to the care manager (the budget's broker, or a care manager).
pub async fn submit(tx: &Tx<'_>, actor: &Actor, budget_id: Uuid) -> AppResult<Plan> {
    actor.require(&[Role::Broker, Role::CareManager])?;
    let council_id = actor.council_id;
    visible_for_update(tx, actor, budget_id).await?;
    let Some(plan) = draft(tx, council_id, budget_id).await? else {
        return Err(AppError::conflict(
            "There is no draft plan to submit: draft one first.",
        ));
    };
    if plan.submitted_at.is_some() {
        return Err(AppError::conflict(
            "The draft has already been submitted and is waiting for the care manager.",
        ));
    }
    tx.execute(
        "UPDATE support_plans SET submitted_by = $3, submitted_at = now(),
            returned_by = NULL, returned_at = NULL, return_reason = NULL
         WHERE council_id = $1 AND id = $2",
        &[&council_id, &plan.id, &actor.user_id],
    )
    .await?;
    reload(tx, council_id, budget_id).await
}

/// Returns the submitted draft to the broker with the care manager's reasons (care managers).
pub async fn return_draft(
    tx: &Tx<'_>,
    actor: &Actor,
    budget_id: Uuid,
    reason: &str,
) -> AppResult<Plan> {
    actor.require(&[Role::CareManager])?;
    let council_id = actor.council_id;
    visible_for_update(tx, actor, budget_id).await?;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 2000 {
        return Err(AppError::refused(
            "reason_required",
            "Say why the plan is returned (1 to 2000 characters), so the broker knows what to change.",
        ));
    }
    let Some(plan) = draft(tx, council_id, budget_id).await? else {
        return Err(AppError::conflict("There is no draft plan to return."));
    };
    if plan.submitted_at.is_none() {
        return Err(AppError::conflict(
            "The draft has not been submitted, so there is nothing to return.",
        ));
    }
    tx.execute(
        "UPDATE support_plans SET submitted_by = NULL, submitted_at = NULL,
            returned_by = $3, returned_at = now(), return_reason = $4
         WHERE council_id = $1 AND id = $2",
        &[&council_id, &plan.id, &actor.user_id, &reason],
    )
    .await?;
    reload(tx, council_id, budget_id).await
}

async fn reload(tx: &Tx<'_>, council_id: Uuid, budget_id: Uuid) -> AppResult<Plan> {
    draft(tx, council_id, budget_id)
        .await?
        .ok_or_else(|| AppError::Internal("the draft went missing".into()))
}
