//! The plan editor. The form is turned into the same JSON the API takes and parsed by the same
//! code, so the page and the API accept and refuse exactly the same plans.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{json, Value};
use uuid::Uuid;

use super::session::{AdminSession, CsrfForm};
use super::{labels, AdminPath, AdminResult};
use crate::auth::Role;
use crate::budgets::organisations::{self, OrganisationKind};
use crate::budgets::plans::{approve, draft, submit, Plan, PlanInput};
use crate::budgets::{budget, plans};
use crate::error::AppError;
use crate::http::error::ApiError;
use crate::http::extract::parse_json;
use crate::http::AppState;
use crate::rules::{Category, Deployment};
use allot_views::pages::plan_editor::{plan_editor, EditorRow, PlanEditor};

/// Blank rows offered for new lines.
const BLANK_ROWS: usize = 3;

fn may_edit(session: &AdminSession) -> Result<(), AppError> {
    session.actor.require(&[Role::CareManager, Role::Broker])
}

/// The editor, filled with the draft (or the plan in force).
pub async fn edit(
    State(state): State<AppState>,
    session: AdminSession,
    AdminPath(id): AdminPath<Uuid>,
) -> AdminResult<Response> {
    may_edit(&session)?;
    let editor = editor(&state, &session, id, None, Vec::new()).await?;
    Ok(editor.into_response())
}

/// Saves the form as a new draft.
pub async fn save(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form }: CsrfForm<HashMap<String, String>>,
) -> AdminResult<Response> {
    may_edit(&session)?;
    let rows = rows_from_form(&form);
    let body = form_to_json(&rows, form.contains_key("cash_allowed"));
    let input: PlanInput = match parse_json(body.to_string().as_bytes()) {
        Ok(input) => input,
        Err(e) => return refused(&state, &session, id, rows, e).await,
    };
    let actor = session.actor.clone();
    let saved = state
        .write(actor.council_id, |tx| {
            let (actor, input) = (actor.clone(), input.clone());
            Box::pin(async move { draft::put_draft(tx, &actor, id, &input).await })
        })
        .await;
    match saved {
        Ok(_) => Ok(Redirect::to(&format!("/budgets/{id}")).into_response()),
        Err(
            e @ (AppError::Invalid { .. }
            | AppError::InvalidAmount { .. }
            | AppError::Refused { .. }),
        ) => refused(&state, &session, id, rows, ApiError::from(e)).await,
        Err(e) => Err(e.into()),
    }
}

/// Approves the draft (care managers).
pub async fn approve(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, .. }: CsrfForm<serde::de::IgnoredAny>,
) -> AdminResult<Response> {
    let actor = session.actor.clone();
    state
        .write(actor.council_id, |tx| {
            let actor = actor.clone();
            let now = state.clock.now();
            Box::pin(async move { approve::approve(tx, &actor, id, now).await })
        })
        .await?;
    Ok(Redirect::to(&format!("/budgets/{id}")).into_response())
}

/// Submits the draft to the care manager (the broker).
pub async fn submit(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, .. }: CsrfForm<serde::de::IgnoredAny>,
) -> AdminResult<Response> {
    let actor = session.actor.clone();
    state
        .write(actor.council_id, |tx| {
            let actor = actor.clone();
            Box::pin(async move { submit::submit(tx, &actor, id).await })
        })
        .await?;
    Ok(Redirect::to(&format!("/budgets/{id}")).into_response())
}

#[derive(Debug, serde::Deserialize)]
pub struct ReturnForm {
    #[serde(default)]
    reason: String,
}

/// Returns the submitted draft to the broker with reasons (care managers).
pub async fn return_plan(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form }: CsrfForm<ReturnForm>,
) -> AdminResult<Response> {
    let actor = session.actor.clone();
    let reason = form.reason;
    let returned = state
        .write(actor.council_id, |tx| {
            let (actor, reason) = (actor.clone(), reason.clone());
            Box::pin(async move { submit::return_draft(tx, &actor, id, &reason).await })
        })
        .await;
    match returned {
        Ok(_) => Ok(Redirect::to(&format!("/budgets/{id}")).into_response()),
        // Refused (no reason, too long, nothing submitted): the page again, with what was typed.
        Err(
            e @ (AppError::Invalid { .. } | AppError::Refused { .. } | AppError::Conflict { .. }),
        ) => {
            let error = ApiError::from(e);
            let page =
                super::budgets::render(&state, &session, id, reason, vec![error.message]).await?;
            Ok((status_or_bad_request(error.status), page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn refused(
    state: &AppState,
    session: &AdminSession,
    id: Uuid,
    rows: Vec<EditorRow>,
    error: ApiError,
) -> AdminResult<Response> {
    let mut errors = vec![error.message.clone()];
    errors.extend(
        error
            .details
            .iter()
            .filter(|d| d.message != error.message && !error.message.ends_with(&d.message))
            .map(|d| d.message.clone()),
    );
    let status = error.status;
    let page = editor(state, session, id, Some(rows), errors).await?;
    Ok((status_or_bad_request(status), page).into_response())
}

fn status_or_bad_request(status: StatusCode) -> StatusCode {
    if status.is_client_error() {
        status
    } else {
        StatusCode::BAD_REQUEST
    }
}

/// The rows the form sent, in order, keeping only those with a need or an amount.
fn rows_from_form(form: &HashMap<String, String>) -> Vec<EditorRow> {
    let field = |name: &str, index: usize| {
        form.get(&format!("{name}_{index}"))
            .cloned()
            .unwrap_or_default()
    };
    let count = form.keys().filter(|k| k.starts_with("need_")).count();
    (0..count)
        .map(|index| EditorRow {
            category: field("category", index),
            need: field("need", index),
            weekly_amount: field("weekly", index),
            deployment: field("deployment", index),
            holder: field("holder", index),
            service: field("service", index),
            units: field("units", index),
            worked_out: None,
        })
        .filter(|row| {
            !row.need.trim().is_empty()
                || !row.weekly_amount.trim().is_empty()
                || !row.service.is_empty()
        })
        .collect()
}

fn form_to_json(rows: &[EditorRow], cash_allowed: bool) -> Value {
    let lines: Vec<Value> = rows
        .iter()
        .map(|row| {
            let mut line = json!({
                "category": row.category,
                "need": row.need,
                "weekly_amount": row.weekly_amount.trim().trim_start_matches('£'),
                "deployment": row.deployment,
            });
            if !row.holder.is_empty() {
                line["holder_organisation_id"] = json!(row.holder);
            }
            if !row.service.is_empty() {
                // The picked option's value is `["service id", "cost option id"]`; anything else
                // is sent as it came, for the plan's own checks to refuse.
                let (service, option) = serde_json::from_str::<(String, String)>(&row.service)
                    .unwrap_or_else(|_| (row.service.clone(), String::new()));
                line["directory_service_id"] = json!(service);
                line["cost_option_id"] = json!(option);
                let units = row.units.trim();
                if !units.is_empty() {
                    line["units_per_week"] = json!(units);
                }
                if row.weekly_amount.trim().is_empty() {
                    line.as_object_mut().map(|l| l.remove("weekly_amount"));
                }
            }
            line
        })
        .collect();
    json!({ "lines": lines, "cash_allowed": cash_allowed })
}

fn rows_from_plan(plan: &Plan) -> Vec<EditorRow> {
    plan.lines
        .iter()
        .map(|l| EditorRow {
            category: l.category.as_str().to_string(),
            need: l.need.clone(),
            weekly_amount: l.weekly_amount.to_string(),
            deployment: l.deployment.as_str().to_string(),
            holder: l
                .holder_organisation_id
                .map(|h| h.to_string())
                .unwrap_or_default(),
            service: l
                .service
                .as_ref()
                .map(|sv| service_value(&sv.service_id, &sv.cost_option_id))
                .unwrap_or_default(),
            units: l
                .service
                .as_ref()
                .map(|sv| sv.units_per_week.normalize().to_string())
                .unwrap_or_default(),
            worked_out: l.service.as_ref().map(|sv| {
                format!(
                    "{} {} × £{:.2} per {} = £{} a week",
                    sv.units_per_week.normalize(),
                    plural(&sv.unit, sv.units_per_week),
                    sv.unit_amount,
                    sv.unit,
                    l.weekly_amount
                )
            }),
        })
        .collect()
}

/// The picker's value for a service's cost option.
fn service_value(service_id: &str, cost_option_id: &str) -> String {
    json!([service_id, cost_option_id]).to_string()
}

fn plural(unit: &str, units: rust_decimal::Decimal) -> String {
    if units == rust_decimal::Decimal::ONE {
        unit.to_owned()
    } else {
        format!("{unit}s")
    }
}

async fn editor(
    state: &AppState,
    session: &AdminSession,
    id: Uuid,
    rows: Option<Vec<EditorRow>>,
    errors: Vec<String>,
) -> AdminResult<maud::Markup> {
    let shell = session.shell(state, "/budgets").await?;
    let actor = session.actor.clone();
    let council_id = actor.council_id;
    let (budget, plan, holders) = state
        .in_tenant_tx(council_id, |tx| {
            Box::pin(async move {
                let budget = budget::load::visible(tx, &actor, id).await?;
                let plan = match plans::load::draft(tx, council_id, id).await? {
                    Some(plan) => Some(plan),
                    None => plans::load::approved(tx, council_id, id).await?,
                };
                let person: String = tx
                    .query_one(
                        "SELECT name FROM people WHERE council_id = $1 AND id = $2",
                        &[&council_id, &budget.person_id],
                    )
                    .await?
                    .get(0);
                let holders: Vec<(Uuid, String)> = organisations::list(tx, council_id)
                    .await?
                    .into_iter()
                    .filter_map(|o| match o.kind {
                        OrganisationKind::ManagedAccountProvider => {
                            Some((o.id, format!("{} (managed accounts)", o.name)))
                        }
                        OrganisationKind::IsfProvider => Some((o.id, format!("{} (ISF)", o.name))),
                        _ => None,
                    })
                    .collect();
                let services = crate::directory::options::priced(tx, council_id)
                    .await?
                    .into_iter()
                    .map(|o| {
                        let label = format!(
                            "{} — {}£{:.2} per {}",
                            o.service_name,
                            o.option.map(|n| format!("{n}, ")).unwrap_or_default(),
                            o.amount,
                            o.unit
                        );
                        (service_value(&o.service_id, &o.cost_option_id), label)
                    })
                    .collect::<Vec<_>>();
                Ok(((budget, person), plan, (holders, services)))
            })
        })
        .await?;
    let (holders, services) = holders;
    let ((budget, person_name), cash_allowed) =
        (budget, plan.as_ref().is_some_and(|p| p.cash_allowed));
    let mut rows = rows.unwrap_or_else(|| plan.as_ref().map(rows_from_plan).unwrap_or_default());
    rows.extend((0..BLANK_ROWS).map(|_| EditorRow::default()));
    Ok(plan_editor(
        &shell,
        &PlanEditor {
            budget_id: id,
            reference: budget.reference,
            person_name,
            annual_cost: budget.annual_cost.amount(),
            rows,
            categories: Category::ALL
                .iter()
                .map(|c| (c.as_str(), labels::category(*c)))
                .collect(),
            deployments: Deployment::ALL
                .iter()
                .map(|d| (d.as_str(), labels::deployment(*d)))
                .collect(),
            holders,
            services,
            cash_allowed,
            errors,
            csrf_token: session.csrf_token.clone(),
        },
    ))
}
