//! Drafting a plan (`PUT /budgets/{id}/plan`): checks every line, then writes a new version with
//! status `draft`, replacing any earlier draft. The plan in force stays in force until the draft
//! is approved.

use rust_decimal::Decimal;
use uuid::Uuid;

use super::load::to_money;
use super::{annualise, Plan, PlanInput, PlanLine, PlanStatus};
use crate::auth::{Actor, Role};
use crate::budgets::budget::load::visible_for_update;
use crate::budgets::organisations::{self, OrganisationKind};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::money::max_amount;
use crate::rules::Deployment;

/// Most lines a plan may have (a plan is for people to read).
pub const MAX_LINES: usize = 100;

pub async fn put_draft(
    tx: &Tx<'_>,
    actor: &Actor,
    budget_id: Uuid,
    input: &PlanInput,
) -> AppResult<Plan> {
    actor.require(&[Role::CareManager, Role::Broker])?;
    let council_id = actor.council_id;
    // 404 for a budget the actor may not see; a broker sees only the budgets they broker.
    visible_for_update(tx, actor, budget_id).await?;
    let lines = check_lines(tx, council_id, input).await?;
    let weekly_total: Decimal = lines.iter().map(|l| l.weekly_amount.amount()).sum();
    if annualise(weekly_total) > max_amount() {
        return Err(AppError::invalid_amount(
            "lines",
            "the plan's yearly total is larger than any budget can be",
        ));
    }
    tx.execute(
        "UPDATE support_plans SET status = 'replaced', ended_at = now()
         WHERE council_id = $1 AND budget_id = $2 AND status = 'draft'",
        &[&council_id, &budget_id],
    )
    .await?;
    let id = Uuid::new_v4();
    let row = tx
        .query_one(
            "INSERT INTO support_plans (council_id, id, budget_id, version, status, cash_allowed, weekly_total, drafted_by)
             SELECT $1, $2, $3, coalesce(max(version), 0) + 1, 'draft', $4, $5, $6
             FROM support_plans WHERE council_id = $1 AND budget_id = $3
             RETURNING version, drafted_at",
            &[&council_id, &id, &budget_id, &input.cash_allowed, &weekly_total, &actor.user_id],
        )
        .await?;
    let statement = tx
        .prepare_cached(
            "INSERT INTO support_plan_lines (council_id, plan_id, line_no, category, need, weekly_amount,
                                             deployment, holder_organisation_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .await?;
    for line in &lines {
        tx.execute(
            &statement,
            &[
                &council_id,
                &id,
                &line.line_no,
                &line.category.as_str(),
                &line.need,
                &line.weekly_amount.amount(),
                &line.deployment.as_str(),
                &line.holder_organisation_id,
            ],
        )
        .await?;
    }
    Ok(Plan {
        id,
        budget_id,
        version: row.get(0),
        status: PlanStatus::Draft,
        cash_allowed: input.cash_allowed,
        weekly_total: to_money(weekly_total)?,
        annual_total: to_money(annualise(weekly_total))?,
        lines,
        drafted_by: actor.user_id,
        drafted_at: row.get(1),
        approved_by: None,
        approved_at: None,
    })
}

/// Every line checked; errors name the field (`lines[2].holder_organisation_id`).
async fn check_lines(tx: &Tx<'_>, council_id: Uuid, input: &PlanInput) -> AppResult<Vec<PlanLine>> {
    if input.lines.is_empty() {
        return Err(AppError::invalid("lines", "a plan needs at least one line"));
    }
    if input.lines.len() > MAX_LINES {
        return Err(AppError::invalid(
            "lines",
            format!("a plan has at most {MAX_LINES} lines"),
        ));
    }
    let mut lines = Vec::with_capacity(input.lines.len());
    for (index, line) in input.lines.iter().enumerate() {
        let field = |name: &str| format!("lines[{index}].{name}");
        let need = line.need.trim();
        if need.is_empty() || need.chars().count() > 1000 {
            return Err(AppError::invalid(
                &field("need"),
                "describe the need in 1 to 1000 characters",
            ));
        }
        let wanted = match line.deployment {
            Deployment::ManagedAccount => Some(OrganisationKind::ManagedAccountProvider),
            Deployment::Isf => Some(OrganisationKind::IsfProvider),
            Deployment::DirectPayment | Deployment::CouncilManaged => None,
        };
        match (wanted, line.holder_organisation_id) {
            (None, Some(_)) => {
                return Err(AppError::invalid(
                    &field("holder_organisation_id"),
                    format!(
                        "a {} is not held by an organisation: leave this out",
                        line.deployment.label()
                    ),
                ))
            }
            (Some(kind), None) => {
                return Err(AppError::invalid(
                    &field("holder_organisation_id"),
                    format!(
                        "a {} needs the {} holding it",
                        line.deployment.label(),
                        kind_label(kind)
                    ),
                ))
            }
            (Some(kind), Some(holder)) => {
                let organisation = organisations::get(tx, council_id, holder).await?;
                if organisation.kind != kind {
                    return Err(AppError::invalid(
                        &field("holder_organisation_id"),
                        format!(
                            "{} is not a {}, so it cannot hold a {}",
                            organisation.name,
                            kind_label(kind),
                            line.deployment.label()
                        ),
                    ));
                }
            }
            (None, None) => {}
        }
        lines.push(PlanLine {
            // At most MAX_LINES lines: the index always fits.
            line_no: i32::try_from(index + 1).unwrap_or(i32::MAX),
            category: line.category,
            need: need.to_string(),
            weekly_amount: line.weekly_amount.money(),
            deployment: line.deployment,
            holder_organisation_id: line.holder_organisation_id,
        });
    }
    Ok(lines)
}

fn kind_label(kind: OrganisationKind) -> &'static str {
    match kind {
        OrganisationKind::ManagedAccountProvider => "managed-account provider",
        OrganisationKind::IsfProvider => "ISF provider",
        OrganisationKind::Broker => "broker",
        OrganisationKind::CareProvider => "care provider",
        OrganisationKind::UserControlledTrust => "user-controlled trust",
    }
}
