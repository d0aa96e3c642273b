//! Payments above the council's evidence threshold (policy `receipt_threshold`) that still have
//! no evidence 30 days after they were posted (RULES.md `evidence_required`). Reversed payments
//! are left out: no money stayed spent.

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use crate::auth::{Actor, Role};
use crate::budgets::policy;
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::money::Money;

/// Days after posting before a payment without evidence is listed.
pub const EVIDENCE_DUE_DAYS: u64 = 30;

/// Council staff who follow evidence up.
pub const MISSING_ROLES: &[Role] = &[Role::CareManager, Role::FinanceOfficer, Role::Auditor];

/// A posted payment still waiting for its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MissingEvidence {
    pub payment_id: Uuid,
    pub budget_id: Uuid,
    pub account_id: Option<Uuid>,
    pub deployment: String,
    pub payee_name: String,
    #[schema(value_type = String, example = "300.00")]
    pub amount: Money,
    /// The business day the payment was posted.
    pub posted_on: NaiveDate,
    /// The day its evidence was due (posted + 30 days).
    pub due_on: NaiveDate,
}

/// Payments the actor may see that are overdue for evidence on `today`, oldest first.
pub async fn missing(
    tx: &Tx<'_>,
    actor: &Actor,
    today: NaiveDate,
) -> AppResult<Vec<MissingEvidence>> {
    actor.require(MISSING_ROLES)?;
    overdue(tx, actor, None, today).await
}

/// The payments of one budget overdue for evidence (the budget's flag): the caller has checked
/// that the actor may see the budget; payments from accounts they may not see are left out.
pub async fn of_budget(
    tx: &Tx<'_>,
    actor: &Actor,
    budget_id: Uuid,
    today: NaiveDate,
) -> AppResult<Vec<MissingEvidence>> {
    overdue(tx, actor, Some(budget_id), today).await
}

async fn overdue(
    tx: &Tx<'_>,
    actor: &Actor,
    budget_id: Option<Uuid>,
    today: NaiveDate,
) -> AppResult<Vec<MissingEvidence>> {
    let threshold = policy::current(tx, actor.council_id)
        .await?
        .receipt_threshold;
    let posted_by = today
        .checked_sub_days(Days::new(EVIDENCE_DUE_DAYS))
        .ok_or_else(|| AppError::Internal("date out of range".into()))?;
    let rows = tx
        .query(
            "SELECT p.id, p.budget_id, p.account_id, p.deployment, y.name, p.amount,
                    e.effective_date
             FROM payments p
             JOIN ledger_entries e ON e.council_id = p.council_id AND e.id = p.posted_entry_id
             JOIN payees y ON y.council_id = p.council_id AND y.id = p.payee_id
             WHERE p.council_id = $1 AND p.status = 'posted' AND p.amount > $2
               AND e.effective_date <= $3
               AND NOT EXISTS (SELECT 1 FROM payment_evidence v
                               WHERE v.council_id = p.council_id AND v.payment_id = p.id)
               AND NOT EXISTS (SELECT 1 FROM ledger_entries r
                               WHERE r.council_id = p.council_id AND r.reverses = p.posted_entry_id)
               AND can_see_budget($1, $4, p.budget_id)
               AND (p.account_id IS NULL OR can_see_account($1, $4, p.account_id))
               AND ($5::uuid IS NULL OR p.budget_id = $5)
             ORDER BY e.effective_date, p.id
             LIMIT 1000",
            &[
                &actor.council_id,
                &threshold,
                &posted_by,
                &actor.user_id,
                &budget_id,
            ],
        )
        .await?;
    rows.iter()
        .map(|row| {
            let amount: Decimal = row.try_get(5)?;
            let posted_on: NaiveDate = row.try_get(6)?;
            Ok(MissingEvidence {
                payment_id: row.try_get(0)?,
                budget_id: row.try_get(1)?,
                account_id: row.try_get(2)?,
                deployment: row.try_get(3)?,
                payee_name: row.try_get(4)?,
                amount: Money::new(amount).map_err(|e| AppError::Internal(e.to_string()))?,
                posted_on,
                due_on: posted_on + Days::new(EVIDENCE_DUE_DAYS),
            })
        })
        .collect()
}
