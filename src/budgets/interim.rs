//! Urgent interim support (RULES.md › plan_not_approved, exception): money a care manager records
//! as urgent while the plan is agreed. Always council-managed (the council spends it itself),
//! capped at the budget's weekly cost, and limited to the policy's weeks (default 6).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::accounts;
use super::budget::load::visible_for_update;
use super::budget::statement::weekly_cost;
use super::policy;
use crate::auth::{Actor, Role};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::money::{Money, PositiveMoney};
use crate::rules::release::interim_last_day;
use crate::rules::Deployment;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUrgentInterim {
    #[schema(value_type = String, example = "250.00")]
    pub weekly_amount: PositiveMoney,
    #[serde(with = "crate::dates")]
    pub start_date: NaiveDate,
    /// Why it is urgent (hospital discharge, carer breakdown, ...).
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UrgentInterim {
    pub budget_id: Uuid,
    pub weekly_amount: Money,
    pub start_date: NaiveDate,
    /// Last day it may pay for.
    pub end_date: NaiveDate,
    pub reason: String,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
    /// The council-managed account it is released to.
    pub account_id: Uuid,
}

pub async fn record(
    tx: &Tx<'_>,
    actor: &Actor,
    budget_id: Uuid,
    new: &NewUrgentInterim,
) -> AppResult<UrgentInterim> {
    actor.require(&[Role::CareManager])?;
    let council_id = actor.council_id;
    let budget = visible_for_update(tx, actor, budget_id).await?;
    let reason = new.reason.trim();
    if reason.is_empty() || reason.chars().count() > 1000 {
        return Err(AppError::invalid(
            "reason",
            "give the reason in 1 to 1000 characters",
        ));
    }
    let cap = weekly_cost(budget.annual_cost.amount());
    if new.weekly_amount.amount() > cap {
        return Err(AppError::refused(
            "plan_not_approved",
            format!(
                "Urgent interim support is capped at the budget's weekly cost ({}); {} a week is more.",
                // A 52nd of a valid amount, rounded to pence, is itself valid.
                Money::new(cap).unwrap_or(Money::ZERO),
                new.weekly_amount.money()
            ),
        ));
    }
    if new.start_date < budget.start_date {
        return Err(AppError::invalid(
            "start_date",
            "urgent interim support cannot start before the budget does",
        ));
    }
    let policy = policy::current(tx, council_id).await?;
    let end_date = interim_last_day(new.start_date, &policy)
        .ok_or_else(|| AppError::invalid("start_date", "is too far in the future"))?;
    let account_id = accounts::ensure_deployment_account(
        tx,
        council_id,
        &budget,
        Deployment::CouncilManaged,
        None,
    )
    .await?;
    let inserted = tx
        .query_opt(
            "INSERT INTO urgent_interim_support (council_id, budget_id, weekly_amount, start_date, end_date, reason, recorded_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT DO NOTHING RETURNING recorded_at",
            &[&council_id, &budget_id, &new.weekly_amount.amount(), &new.start_date, &end_date, &reason, &actor.user_id],
        )
        .await?;
    let Some(row) = inserted else {
        return Err(AppError::conflict(
            "Urgent interim support has already been recorded for this budget.",
        ));
    };
    Ok(UrgentInterim {
        budget_id,
        weekly_amount: new.weekly_amount.money(),
        start_date: new.start_date,
        end_date,
        reason: reason.to_string(),
        recorded_by: actor.user_id,
        recorded_at: row.get(0),
        account_id,
    })
}

/// The urgent interim support of a budget, if any.
pub async fn of_budget(
    tx: &Tx<'_>,
    council_id: Uuid,
    budget_id: Uuid,
) -> AppResult<Option<UrgentInterim>> {
    let row = tx
        .query_opt(
            "SELECT u.weekly_amount, u.start_date, u.end_date, u.reason, u.recorded_by, u.recorded_at, a.account_id
             FROM urgent_interim_support u
             JOIN budget_accounts a ON a.council_id = u.council_id AND a.budget_id = u.budget_id
                  AND a.purpose = 'deployment' AND a.deployment = 'council_managed'
             WHERE u.council_id = $1 AND u.budget_id = $2",
            &[&council_id, &budget_id],
        )
        .await?;
    row.map(|row| {
        Ok(UrgentInterim {
            budget_id,
            weekly_amount: Money::new(row.get(0)).map_err(|e| AppError::Internal(e.to_string()))?,
            start_date: row.get(1),
            end_date: row.get(2),
            reason: row.get(3),
            recorded_by: row.get(4),
            recorded_at: row.get(5),
            account_id: row.get(6),
        })
    })
    .transpose()
}
