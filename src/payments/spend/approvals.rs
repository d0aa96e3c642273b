//! Held payments: the approvals queue, one approval (posting the payment when it was the last one
//! needed), and rejection. The rules say who may approve (`rules::approve`); these functions
//! check it themselves, so every caller gets the same answer.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::facts;
use super::outcome::{held_visible, load, visible_payment, Payment, PaymentStatus};
use crate::auth::{Actor, Role};
use crate::clock::london_date;
use crate::db::Tx;
use crate::error::{AppError, AppResult, Detail};
use crate::ledger;
use crate::rules::approval::PendingFacts;
use crate::rules::{ApprovalOutcome, Approver, RuleCode};

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string())
}

fn approver(actor: &Actor) -> Approver {
    Approver {
        user_id: actor.user_id,
        is_care_manager: actor.role == Role::CareManager,
    }
}

async fn pending_facts(
    tx: &Tx<'_>,
    council_id: Uuid,
    payment: &Payment,
    now: DateTime<Utc>,
) -> AppResult<PendingFacts> {
    let today = london_date(now);
    let (budgets, _) = facts::budgets(tx, council_id, &[payment.budget_id], today).await?;
    let budget = budgets
        .get(&payment.budget_id)
        .ok_or_else(|| internal("budget facts missing"))?;
    Ok(PendingFacts {
        today,
        person: budget.person,
        requested_by: payment.requested_by,
        category: payment.category,
        amount: payment.amount.amount(),
        outstanding: payment.approvals_required.clone(),
        grants: budget.grants.clone(),
    })
}

/// Held payments the actor could approve now, oldest first.
pub async fn approvals_queue(
    tx: &Tx<'_>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> AppResult<Vec<Payment>> {
    let mut out = Vec::new();
    for payment in held_visible(tx, actor).await? {
        let facts = pending_facts(tx, actor.council_id, &payment, now).await?;
        if !matches!(
            crate::rules::approve_for_deployment(
                &facts,
                payment.deployment,
                &approver(actor),
                &payment.approved_by,
            ),
            ApprovalOutcome::Refuse { .. }
        ) {
            out.push(payment);
        }
    }
    Ok(out)
}

/// The held payment, locked, still waiting (409 once resolved or expired).
async fn held_for_update(
    tx: &Tx<'_>,
    actor: &Actor,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Payment> {
    tx.query_opt(
        &tx.prepare_cached("SELECT 1 FROM payments WHERE council_id = $1 AND id = $2 FOR UPDATE")
            .await?,
        &[&actor.council_id, &id],
    )
    .await?
    .ok_or(AppError::NotFound)?;
    let payment = visible_payment(tx, actor, id).await?;
    if payment.status != PaymentStatus::PendingApproval {
        return Err(AppError::conflict(format!(
            "This payment is {}, not waiting for approval.",
            payment.status.as_str().replace('_', " ")
        )));
    }
    if payment.hold_expires_at.is_some_and(|at| at <= now) {
        return Err(AppError::conflict(
            "This payment waited too long for approval; its hold has expired.",
        ));
    }
    Ok(payment)
}

fn refusal_error(refusal: crate::rules::Refusal) -> AppError {
    match refusal.code {
        RuleCode::ApproverConflict => AppError::Denied {
            code: "approver_conflict",
            message: refusal.message,
        },
        _ => AppError::NoAuthority {
            details: vec![Detail::rule(refusal.code.as_str(), refusal.message.clone())],
            message: refusal.message,
        },
    }
}

/// One approval of a held payment: posts it when it was the last one needed.
pub async fn approve(
    tx: &Tx<'_>,
    actor: &Actor,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Payment> {
    let council_id = actor.council_id;
    let payment = held_for_update(tx, actor, id, now).await?;
    let facts = pending_facts(tx, council_id, &payment, now).await?;
    let record_approval = tx
        .prepare_cached(
            "INSERT INTO payment_approvals (council_id, payment_id, approver_id, approved_at)
             VALUES ($1, $2, $3, $4)",
        )
        .await?;
    match crate::rules::approve_for_deployment(
        &facts,
        payment.deployment,
        &approver(actor),
        &payment.approved_by,
    ) {
        ApprovalOutcome::Refuse { refusal } => return Err(refusal_error(refusal)),
        ApprovalOutcome::NeedMore { remaining } => {
            tx.execute(&record_approval, &[&council_id, &id, &actor.user_id, &now])
                .await?;
            tx.execute(
                &tx.prepare_cached(
                    "UPDATE payments SET outstanding = $3 WHERE council_id = $1 AND id = $2",
                )
                .await?,
                &[
                    &council_id,
                    &id,
                    &serde_json::to_value(&remaining).map_err(internal)?,
                ],
            )
            .await?;
        }
        ApprovalOutcome::Post => {
            tx.execute(&record_approval, &[&council_id, &id, &actor.user_id, &now])
                .await?;
            let hold = payment
                .hold_entry_id
                .ok_or_else(|| internal("held payment without a hold"))?;
            let mut approvers = payment.approved_by.clone();
            approvers.push(actor.user_id);
            let posted = ledger::holds::post_pending_with_in_tx(
                tx,
                council_id,
                hold,
                None,
                Some(json!({
                    "payment_id": id,
                    "requested_by": payment.requested_by,
                    "approved_by": approvers,
                    "decision": payment.decision,
                    "ruleset_version": payment.ruleset_version,
                    "policy_version": payment.policy_version,
                })),
                now,
            )
            .await?;
            tx.execute(
                &tx.prepare_cached(
                    "UPDATE payments SET status = 'posted', outstanding = '[]', posted_entry_id = $3,
                         resolved_at = $5, resolved_by = $4
                     WHERE council_id = $1 AND id = $2",
                )
                .await?,
                &[&council_id, &id, &posted.id, &actor.user_id, &now],
            )
            .await?;
        }
    }
    load(tx, council_id, id).await
}

/// Rejects a held payment, releasing its hold. Anyone who could approve it may reject it, and
/// the person who asked for it may withdraw it.
pub async fn reject(
    tx: &Tx<'_>,
    actor: &Actor,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Payment> {
    let council_id = actor.council_id;
    let payment = held_for_update(tx, actor, id, now).await?;
    if actor.user_id != payment.requested_by {
        let facts = pending_facts(tx, council_id, &payment, now).await?;
        if let ApprovalOutcome::Refuse { refusal } =
            crate::rules::approve_for_deployment(&facts, payment.deployment, &approver(actor), &[])
        {
            return Err(refusal_error(refusal));
        }
    }
    let hold = payment
        .hold_entry_id
        .ok_or_else(|| internal("held payment without a hold"))?;
    ledger::holds::void_pending_with_in_tx(
        tx,
        council_id,
        hold,
        json!({"payment_id": id, "rejected_by": actor.user_id}),
    )
    .await?;
    tx.execute(
        &tx.prepare_cached(
            "UPDATE payments SET status = 'rejected', outstanding = '[]', resolved_at = $4,
             resolved_by = $3
         WHERE council_id = $1 AND id = $2",
        )
        .await?,
        &[&council_id, &id, &actor.user_id, &now],
    )
    .await?;
    load(tx, council_id, id).await
}
