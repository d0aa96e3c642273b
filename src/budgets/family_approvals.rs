//! The council's recorded decision that paying a family member from a direct payment is
//! *necessary* (DP Regs 2014 reg 3): for one payee and one budget, with the reason. The spending
//! rules read it as `family_payment_necessary`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio_postgres::error::SqlState;
use uuid::Uuid;

use super::budget::load::visible_for_update;
use super::payees;
use crate::auth::{Actor, Role};
use crate::db::Tx;
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFamilyPaymentApproval {
    pub payee_id: Uuid,
    /// Why it is necessary (for the person's care, or to administer the payment).
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FamilyPaymentApproval {
    pub id: Uuid,
    pub budget_id: Uuid,
    pub payee_id: Uuid,
    pub payee_name: String,
    pub reason: String,
    pub approved_by: Uuid,
    pub approved_at: DateTime<Utc>,
}

pub async fn record(
    tx: &Tx<'_>,
    actor: &Actor,
    budget_id: Uuid,
    new: &NewFamilyPaymentApproval,
) -> AppResult<FamilyPaymentApproval> {
    actor.require(&[Role::CareManager])?;
    let council_id = actor.council_id;
    let budget = visible_for_update(tx, actor, budget_id).await?;
    let payee = payees::get(tx, council_id, new.payee_id).await?;
    if payee.person_id.is_some_and(|p| p != budget.person_id) {
        return Err(AppError::invalid(
            "payee_id",
            "this payee is recorded for someone else",
        ));
    }
    let reason = new.reason.trim();
    if reason.is_empty() || reason.chars().count() > 2000 {
        return Err(AppError::invalid(
            "reason",
            "give the reason in 1 to 2000 characters",
        ));
    }
    let id = Uuid::new_v4();
    let inserted = tx
        .query_one(
            "INSERT INTO family_payment_approvals (council_id, id, budget_id, payee_id, reason, approved_by)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING approved_at",
            &[&council_id, &id, &budget_id, &new.payee_id, &reason, &actor.user_id],
        )
        .await;
    let row = match inserted {
        Ok(row) => row,
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            return Err(AppError::conflict(
                "The council has already recorded that paying this payee from this budget is necessary.",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    Ok(FamilyPaymentApproval {
        id,
        budget_id,
        payee_id: payee.id,
        payee_name: payee.name,
        reason: reason.to_string(),
        approved_by: actor.user_id,
        approved_at: row.get(0),
    })
}

/// The decisions recorded for a budget.
pub async fn of_budget(
    tx: &Tx<'_>,
    council_id: Uuid,
    budget_id: Uuid,
) -> AppResult<Vec<FamilyPaymentApproval>> {
    let rows = tx
        .query(
            "SELECT f.id, f.budget_id, f.payee_id, p.name, f.reason, f.approved_by, f.approved_at
             FROM family_payment_approvals f
             JOIN payees p ON p.council_id = f.council_id AND p.id = f.payee_id
             WHERE f.council_id = $1 AND f.budget_id = $2 ORDER BY f.approved_at, f.id",
            &[&council_id, &budget_id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| FamilyPaymentApproval {
            id: row.get(0),
            budget_id: row.get(1),
            payee_id: row.get(2),
            payee_name: row.get(3),
            reason: row.get(4),
            approved_by: row.get(5),
            approved_at: row.get(6),
        })
        .collect())
}
