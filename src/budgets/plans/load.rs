//! Reading plans: the approved one in force, the draft being worked on, and every version.

use std::str::FromStr;

use rust_decimal::Decimal;
use uuid::Uuid;

use super::{annualise, Plan, PlanLine, PlanLineService, PlanStatus};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::money::Money;
use crate::rules::{Category, Deployment};

const PLAN_COLUMNS: &str = "id, budget_id, version, status, cash_allowed, weekly_total, drafted_by,
     drafted_at, approved_by, approved_at, submitted_by, submitted_at, returned_by, returned_at, return_reason";

/// The plan in force (approved), if any.
pub async fn approved(tx: &Tx<'_>, council_id: Uuid, budget_id: Uuid) -> AppResult<Option<Plan>> {
    with_status(tx, council_id, budget_id, PlanStatus::Approved).await
}

/// The draft waiting for approval, if any.
pub async fn draft(tx: &Tx<'_>, council_id: Uuid, budget_id: Uuid) -> AppResult<Option<Plan>> {
    with_status(tx, council_id, budget_id, PlanStatus::Draft).await
}

async fn with_status(
    tx: &Tx<'_>,
    council_id: Uuid,
    budget_id: Uuid,
    status: PlanStatus,
) -> AppResult<Option<Plan>> {
    let sql = format!(
        "SELECT {PLAN_COLUMNS} FROM support_plans WHERE council_id = $1 AND budget_id = $2 AND status = $3"
    );
    let Some(row) = tx
        .query_opt(
            &tx.prepare_cached(&sql).await?,
            &[&council_id, &budget_id, &status.as_str()],
        )
        .await?
    else {
        return Ok(None);
    };
    let mut plan = plan_from_row(&row)?;
    plan.lines = lines(tx, council_id, plan.id).await?;
    Ok(Some(plan))
}

/// Every version of the budget's plan, newest first (lines included).
pub async fn history(tx: &Tx<'_>, council_id: Uuid, budget_id: Uuid) -> AppResult<Vec<Plan>> {
    let sql = format!(
        "SELECT {PLAN_COLUMNS} FROM support_plans WHERE council_id = $1 AND budget_id = $2 ORDER BY version DESC"
    );
    let rows = tx
        .query(&tx.prepare_cached(&sql).await?, &[&council_id, &budget_id])
        .await?;
    let mut plans = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut plan = plan_from_row(row)?;
        plan.lines = lines(tx, council_id, plan.id).await?;
        plans.push(plan);
    }
    Ok(plans)
}

async fn lines(tx: &Tx<'_>, council_id: Uuid, plan_id: Uuid) -> AppResult<Vec<PlanLine>> {
    let rows = tx
        .query(
            &tx.prepare_cached(
                "SELECT l.line_no, l.category, l.need, l.weekly_amount, l.deployment, l.holder_organisation_id,
                    l.directory_service_id, s.name, l.cost_option_id, o.option, l.unit_amount, l.unit,
                    l.units_per_week
             FROM support_plan_lines l
             LEFT JOIN directory_services s ON s.council_id = l.council_id AND s.id = l.directory_service_id
             LEFT JOIN directory_cost_options o ON o.council_id = l.council_id
                  AND o.service_id = l.directory_service_id AND o.id = l.cost_option_id
             WHERE l.council_id = $1 AND l.plan_id = $2 ORDER BY l.line_no",
            )
            .await?,
            &[&council_id, &plan_id],
        )
        .await?;
    rows.iter()
        .map(|row| {
            Ok(PlanLine {
                line_no: row.get(0),
                category: Category::from_str(row.get(1))
                    .map_err(|e| AppError::Internal(e.to_string()))?,
                need: row.get(2),
                weekly_amount: to_money(row.get(3))?,
                deployment: Deployment::from_str(row.get(4))
                    .map_err(|e| AppError::Internal(e.to_string()))?,
                holder_organisation_id: row.get(5),
                service: match (
                    row.get::<_, Option<String>>(6),
                    row.get::<_, Option<String>>(8),
                ) {
                    (Some(service_id), Some(cost_option_id)) => Some(PlanLineService {
                        service_id,
                        service_name: row.get(7),
                        cost_option_id,
                        cost_option: row.get(9),
                        unit_amount: row.get(10),
                        unit: row.get(11),
                        units_per_week: row.get(12),
                    }),
                    _ => None,
                },
            })
        })
        .collect()
}

fn plan_from_row(row: &tokio_postgres::Row) -> AppResult<Plan> {
    let weekly_total: Decimal = row.get(5);
    Ok(Plan {
        id: row.get(0),
        budget_id: row.get(1),
        version: row.get(2),
        status: PlanStatus::parse(row.get(3))?,
        cash_allowed: row.get(4),
        weekly_total: to_money(weekly_total)?,
        annual_total: to_money(annualise(weekly_total))?,
        lines: Vec::new(),
        drafted_by: row.get(6),
        drafted_at: row.get(7),
        approved_by: row.get(8),
        approved_at: row.get(9),
        submitted_by: row.get(10),
        submitted_at: row.get(11),
        returned_by: row.get(12),
        returned_at: row.get(13),
        return_reason: row.get(14),
    })
}

pub(crate) fn to_money(value: Decimal) -> AppResult<Money> {
    Money::new(value).map_err(|e| AppError::Internal(format!("{value}: {e}")))
}
