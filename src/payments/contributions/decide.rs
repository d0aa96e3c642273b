//! A finance officer's decision on a held contribution: approve (post it) or reject (never post
//! it). The contribution row is locked, so it is decided once; the one who recorded it never
//! decides it.

use uuid::Uuid;

use super::record::{post, PostFor};
use super::{load, Contribution, ContributionStatus, DECIDERS};
use crate::auth::Actor;
use crate::db::Tx;
use crate::error::{AppError, AppResult};

/// Posts a held contribution into the account it was recorded for.
pub async fn approve(tx: &Tx<'_>, actor: &Actor, id: Uuid) -> AppResult<Contribution> {
    let held = held(tx, actor, id).await?;
    let reference: String = tx
        .query_one(
            "SELECT reference FROM budgets WHERE council_id = $1 AND id = $2",
            &[&actor.council_id, &held.budget_id],
        )
        .await?
        .try_get("reference")?;
    let entry_id = post(
        tx,
        actor,
        PostFor {
            contribution_id: held.id,
            budget_id: held.budget_id,
            reference: &reference,
            account_id: held.account_id,
            amount: held.amount.amount(),
            received_on: held.received_on,
            requested_by: held.recorded_by,
            approved_by: Some(actor.user_id),
        },
    )
    .await?;
    resolve(tx, actor, id, ContributionStatus::Posted, Some(entry_id)).await
}

/// Turns a held contribution down: nothing is posted.
pub async fn reject(tx: &Tx<'_>, actor: &Actor, id: Uuid) -> AppResult<Contribution> {
    held(tx, actor, id).await?;
    resolve(tx, actor, id, ContributionStatus::Rejected, None).await
}

/// The held contribution, locked: 403 for anyone but a finance officer (and for the one who
/// recorded it), 404 if there is none, 409 once it is decided.
async fn held(tx: &Tx<'_>, actor: &Actor, id: Uuid) -> AppResult<Contribution> {
    actor.require(DECIDERS)?;
    let contribution = load(tx, actor.council_id, id, true).await?;
    if contribution.status != ContributionStatus::PendingApproval {
        return Err(AppError::conflict(format!(
            "This contribution is not waiting for approval: it is {}.",
            contribution.status.as_str().replace('_', " ")
        )));
    }
    if contribution.recorded_by == actor.user_id {
        return Err(AppError::Denied {
            code: "approver_conflict",
            message:
                "A held contribution is decided by someone other than the one who recorded it."
                    .into(),
        });
    }
    Ok(contribution)
}

async fn resolve(
    tx: &Tx<'_>,
    actor: &Actor,
    id: Uuid,
    status: ContributionStatus,
    entry_id: Option<Uuid>,
) -> AppResult<Contribution> {
    tx.execute(
        "UPDATE contributions SET status = $3, entry_id = $4, resolved_by = $5, resolved_at = now()
         WHERE council_id = $1 AND id = $2",
        &[
            &actor.council_id,
            &id,
            &status.as_str(),
            &entry_id,
            &actor.user_id,
        ],
    )
    .await?;
    load(tx, actor.council_id, id, false).await
}
