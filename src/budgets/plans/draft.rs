//! Drafting a plan (`PUT /budgets/{id}/plan`): checks every line, then writes a new version with
//! status `draft`, replacing any earlier draft. The plan in force stays in force until the draft
//! is approved.

use rust_decimal::Decimal;
use uuid::Uuid;

use super::load::to_money;
use super::{annualise, Plan, PlanInput, PlanLine, PlanLineInput, PlanLineService, PlanStatus};
use crate::auth::{Actor, Role};
use crate::budgets::budget::load::visible_for_update;
use crate::budgets::organisations::{self, OrganisationKind};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::money::{max_amount, Money};
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
                                             deployment, holder_organisation_id, directory_service_id,
                                             cost_option_id, unit_amount, unit, units_per_week)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
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
                &line.service.as_ref().map(|s| s.service_id.clone()),
                &line.service.as_ref().map(|s| s.cost_option_id.clone()),
                &line.service.as_ref().map(|s| s.unit_amount),
                &line.service.as_ref().map(|s| s.unit.clone()),
                &line.service.as_ref().map(|s| s.units_per_week),
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
        submitted_by: None,
        submitted_at: None,
        returned_by: None,
        returned_at: None,
        return_reason: None,
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
        let (weekly_amount, service) = priced(tx, council_id, line, &field).await?;
        lines.push(PlanLine {
            // At most MAX_LINES lines: the index always fits.
            line_no: i32::try_from(index + 1).unwrap_or(i32::MAX),
            category: line.category,
            need: need.to_string(),
            weekly_amount,
            deployment: line.deployment,
            holder_organisation_id: line.holder_organisation_id,
            service,
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

/// A line's weekly amount: as given, or a directory cost option's amount × units a week (to the
/// penny, halves away from zero).
async fn priced(
    tx: &Tx<'_>,
    council_id: Uuid,
    line: &PlanLineInput,
    field: &(dyn Fn(&str) -> String + Sync),
) -> AppResult<(Money, Option<PlanLineService>)> {
    let Some(service_id) = line.directory_service_id.as_deref() else {
        if line.cost_option_id.is_some() || line.units_per_week.is_some() {
            return Err(AppError::invalid(
                &field("directory_service_id"),
                "cost_option_id and units_per_week need the directory service they belong to",
            ));
        }
        return line
            .weekly_amount
            .map(|w| (w.money(), None))
            .ok_or_else(|| AppError::invalid(&field("weekly_amount"), "give the weekly amount"));
    };
    let Some(cost_option_id) = line.cost_option_id.as_deref() else {
        return Err(AppError::invalid(
            &field("cost_option_id"),
            "choose one of the service's cost options",
        ));
    };
    let units = match line.units_per_week {
        Some(u) if u > Decimal::ZERO && u <= Decimal::from(168) && u.scale() <= 2 => u,
        _ => {
            return Err(AppError::invalid(
                &field("units_per_week"),
                "the units a week: more than 0, at most 168, to two places",
            ))
        }
    };
    let found = tx
        .query_opt(
            "SELECT s.name, s.status, s.withdrawn, o.option, o.amount, o.unit
             FROM directory_cost_options o
             JOIN directory_services s ON s.council_id = o.council_id AND s.id = o.service_id
             WHERE o.council_id = $1 AND o.service_id = $2 AND o.id = $3",
            &[&council_id, &service_id, &cost_option_id],
        )
        .await?;
    let Some(row) = found else {
        return Err(AppError::invalid(
            &field("cost_option_id"),
            "no such cost option of that directory service",
        ));
    };
    let (name, status, withdrawn): (String, String, bool) = (row.get(0), row.get(1), row.get(2));
    if status != "active" || withdrawn {
        return Err(AppError::invalid(
            &field("directory_service_id"),
            format!("{name} is not active in the directory"),
        ));
    }
    let Some(unit_amount) = row
        .get::<_, Option<Decimal>>(4)
        .filter(|a| *a > Decimal::ZERO)
    else {
        return Err(AppError::invalid(
            &field("cost_option_id"),
            "this cost option has no amount to work the weekly amount out from",
        ));
    };
    let weekly = (unit_amount * units)
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let weekly = Money::parse_positive(&weekly.to_string())
        .map_err(|e| AppError::invalid_amount(&field("units_per_week"), e.to_string()))?;
    if let Some(given) = line.weekly_amount {
        if given.amount() != weekly.amount() {
            return Err(AppError::invalid(
                &field("weekly_amount"),
                format!(
                    "{unit_amount} × {units} a week is {weekly}: leave weekly_amount out or give that"
                ),
            ));
        }
    }
    Ok((
        weekly,
        Some(PlanLineService {
            service_id: service_id.to_string(),
            service_name: Some(name),
            cost_option_id: cost_option_id.to_string(),
            cost_option: row.get(3),
            unit_amount,
            unit: row.get(5),
            units_per_week: {
                let mut u = units;
                u.rescale(2);
                u
            },
        }),
    ))
}
