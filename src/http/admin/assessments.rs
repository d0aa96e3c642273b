//! Assessments and carers on the person's page, and the council's RAS page (`/council/ras`). The
//! forms are turned into the JSON the API takes, parsed by the same code and handed to the same
//! services, so the pages and the API accept and refuse the same things.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::Markup;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::session::{AdminSession, CsrfForm};
use super::{AdminPath, AdminQuery, AdminResult};
use crate::auth::Role;
use crate::budgets::assessments::{self, Assessment, AssessmentKind, NewAssessment, RasChange};
use crate::budgets::carers::{self, NewCarer};
use crate::budgets::people;
use crate::error::AppError;
use crate::http::error::ApiError;
use crate::http::extract::parse_json;
use crate::http::AppState;
use allot_views::components::FieldError;
use allot_views::pages::assessments::{
    assessments_section, ras_page, AssessmentRow, AssessmentsSection, DomainChoice, RasPage, RasRow,
};

/// Blank rows offered on the RAS form for new domains.
const BLANK_RAS_ROWS: usize = 2;

/// What was typed into the person's page forms, and their refusals.
#[derive(Debug, Clone, Default)]
pub struct Typed {
    pub points: Vec<(String, String)>,
    pub notes: String,
    pub kind: String,
    pub carer: String,
    pub errors: Vec<FieldError>,
}

fn gbp(amount: Decimal) -> String {
    format!("£{amount:.2}")
}

fn kind_label(kind: AssessmentKind) -> &'static str {
    match kind {
        AssessmentKind::Needs => "Needs",
        AssessmentKind::Carer => "Carer's needs",
    }
}

fn row(a: &Assessment) -> AssessmentRow {
    AssessmentRow {
        date: a
            .created_at
            .with_timezone(&chrono_tz::Europe::London)
            .format("%-d %B %Y")
            .to_string(),
        kind: kind_label(a.kind),
        ras_version: a.ras_version,
        indicative_weekly: gbp(a.indicative_weekly.amount()),
        workings: a
            .workings
            .iter()
            .map(|w| {
                format!(
                    "{}: {} × {} = {}",
                    w.label,
                    w.points,
                    gbp(w.price_per_point),
                    gbp(w.amount)
                )
            })
            .collect(),
        notes: a.notes.clone(),
    }
}

/// The assessments and carers section of a person's page (council staff; nothing for others).
pub async fn section(
    state: &AppState,
    session: &AdminSession,
    person_id: Uuid,
    typed: Typed,
) -> AdminResult<Option<Markup>> {
    if !assessments::STAFF.contains(&session.actor.role) {
        return Ok(None);
    }
    let actor = session.actor.clone();
    let (ras, listed, links, everyone) = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                let listed = assessments::of_person(tx, &actor, person_id).await?;
                let ras = assessments::current(tx, actor.council_id).await?;
                let links = carers::of_person(tx, &actor, person_id).await?;
                let everyone = people::list(tx, &actor).await?;
                Ok((ras, listed, links, everyone))
            })
        })
        .await?;
    let linked: Vec<Uuid> = links.carers.iter().map(|p| p.person_id).collect();
    let mut carer_choices = vec![(String::new(), "Choose a person".to_owned())];
    carer_choices.extend(
        everyone
            .into_iter()
            .filter(|p| p.id != person_id && !linked.contains(&p.id))
            .map(|p| (p.id.to_string(), p.name)),
    );
    let data = AssessmentsSection {
        person_id,
        csrf_token: session.csrf_token.clone(),
        can_edit: session.actor.role == Role::CareManager,
        ras_version: ras.version,
        domains: ras
            .domains
            .iter()
            .map(|d| DomainChoice {
                name: d.name.clone(),
                label: d.label.clone().unwrap_or_else(|| d.name.clone()),
                max_points: d.max_points,
                price: format!("{} a point", gbp(ras.price_of(d))),
            })
            .collect(),
        points: typed.points,
        notes: typed.notes,
        kind: if typed.kind.is_empty() {
            "needs".to_owned()
        } else {
            typed.kind
        },
        assessments: listed.iter().map(row).collect(),
        cares_for: links
            .cares_for
            .into_iter()
            .map(|p| (p.person_id, p.name))
            .collect(),
        carers: links
            .carers
            .into_iter()
            .map(|p| (p.person_id, p.name))
            .collect(),
        carer_choices,
        carer_typed: typed.carer,
        errors: typed.errors,
    };
    Ok(Some(assessments_section(&data)))
}

/// The refusal's messages, each tied to the form field it concerns (`field_of` maps the API's
/// field names to the form's ids; anything unmapped goes to `fallback`).
fn field_errors(
    error: &ApiError,
    fallback: &str,
    field_of: impl Fn(&str) -> Option<String>,
) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = error
        .details
        .iter()
        .map(|d| {
            let field = d
                .field
                .as_deref()
                .and_then(&field_of)
                .unwrap_or_else(|| fallback.to_owned());
            FieldError::new(field, d.message.clone())
        })
        .collect();
    if errors.is_empty() {
        errors.push(FieldError::new(fallback, error.message.clone()));
    }
    errors
}

fn status_of(error: &ApiError) -> StatusCode {
    if error.status.is_client_error() {
        error.status
    } else {
        StatusCode::BAD_REQUEST
    }
}

/// Records an assessment from the person's page (care managers).
pub async fn record_assessment(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form }: CsrfForm<HashMap<String, String>>,
) -> AdminResult<Response> {
    session.actor.require(&[Role::CareManager])?;
    let mut points: Vec<(String, String)> = form
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("points_").map(|n| (n.to_owned(), v.clone())))
        .collect();
    points.sort();
    let typed = Typed {
        points: points.clone(),
        notes: form.get("notes").cloned().unwrap_or_default(),
        kind: form.get("kind").cloned().unwrap_or_default(),
        ..Typed::default()
    };
    let mut domains = Map::new();
    let mut errors = Vec::new();
    for (name, value) in &points {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match value.parse::<u32>() {
            Ok(n) => {
                domains.insert(name.clone(), json!(n));
            }
            Err(_) => errors.push(FieldError::new(
                format!("points_{name}"),
                "Enter whole points, like 4",
            )),
        }
    }
    let first_domain = points
        .first()
        .map(|(n, _)| format!("points_{n}"))
        .unwrap_or_else(|| "notes".to_owned());
    if !errors.is_empty() {
        return refused_person(&state, &session, id, typed, errors, StatusCode::BAD_REQUEST).await;
    }
    let body = json!({"domains": domains, "notes": typed.notes, "kind": typed.kind});
    let map_field = |field: &str| -> Option<String> {
        if let Some(name) = field.strip_prefix("domains.") {
            Some(format!("points_{name}"))
        } else if field == "domains" {
            Some(first_domain.clone())
        } else {
            matches!(field, "notes" | "kind").then(|| field.to_owned())
        }
    };
    let input: NewAssessment = match parse_json(body.to_string().as_bytes()) {
        Ok(input) => input,
        Err(e) => {
            let errors = field_errors(&e, &first_domain, map_field);
            return refused_person(&state, &session, id, typed, errors, status_of(&e)).await;
        }
    };
    let actor = session.actor.clone();
    let recorded = state
        .write(actor.council_id, |tx| {
            let (actor, input) = (actor.clone(), input.clone());
            Box::pin(async move { assessments::record(tx, &actor, id, &input).await })
        })
        .await;
    match recorded {
        Ok(_) => Ok(Redirect::to(&format!("/people/{id}#assessments")).into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::InvalidAmount { .. })) => {
            let e = ApiError::from(e);
            let errors = field_errors(&e, &first_domain, map_field);
            refused_person(&state, &session, id, typed, errors, status_of(&e)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Records a carer of the person from their page (care managers).
pub async fn record_carer(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form }: CsrfForm<HashMap<String, String>>,
) -> AdminResult<Response> {
    session.actor.require(&[Role::CareManager])?;
    let typed_carer = form.get("carer_person_id").cloned().unwrap_or_default();
    let typed = Typed {
        carer: typed_carer.clone(),
        ..Typed::default()
    };
    let Ok(carer_person_id) = typed_carer.trim().parse::<Uuid>() else {
        let errors = vec![FieldError::new("carer_person_id", "Choose the carer")];
        return refused_person(&state, &session, id, typed, errors, StatusCode::BAD_REQUEST).await;
    };
    let actor = session.actor.clone();
    let linked = state
        .write(actor.council_id, |tx| {
            let actor = actor.clone();
            Box::pin(
                async move { carers::link(tx, &actor, id, &NewCarer { carer_person_id }).await },
            )
        })
        .await;
    match linked {
        Ok(_) => Ok(Redirect::to(&format!("/people/{id}#carers")).into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            let e = ApiError::from(e);
            let errors = vec![FieldError::new("carer_person_id", e.message.clone())];
            refused_person(&state, &session, id, typed, errors, status_of(&e)).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn refused_person(
    state: &AppState,
    session: &AdminSession,
    id: Uuid,
    typed: Typed,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> AdminResult<Response> {
    let typed = Typed { errors, ..typed };
    let page = super::people::render(state, session, id, typed).await?;
    Ok((status, page).into_response())
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RasPageQuery {
    version: Option<i32>,
}

/// What was typed into the RAS form.
#[derive(Debug, Clone, Default)]
struct RasTyped {
    rows: Vec<RasRow>,
    price_per_point: String,
    reason: String,
    errors: Vec<FieldError>,
}

/// The council's RAS: a version (the one in force by default), the versions, and the form for a
/// new one (council administrators).
pub async fn ras_show(
    State(state): State<AppState>,
    session: AdminSession,
    AdminQuery(query): AdminQuery<RasPageQuery>,
) -> AdminResult<Response> {
    let page = render_ras(&state, &session, query.version, None).await?;
    Ok(page.into_response())
}

async fn render_ras(
    state: &AppState,
    session: &AdminSession,
    version: Option<i32>,
    typed: Option<RasTyped>,
) -> AdminResult<Markup> {
    let shell = session.shell(state, "/council/ras").await?;
    let actor = session.actor.clone();
    let (shown, history) = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                let shown = assessments::version(tx, &actor, version).await?;
                let history = assessments::history(tx, &actor).await?;
                Ok((shown, history))
            })
        })
        .await?;
    let current = history.first().map(|v| v.ras.version).unwrap_or(1);
    let when = |at: Option<chrono::DateTime<chrono::Utc>>| {
        at.map(|t| {
            t.with_timezone(&chrono_tz::Europe::London)
                .format("made %-d %B %Y %H:%M")
                .to_string()
        })
        .unwrap_or_else(|| "the default".to_owned())
    };
    let in_force = history.first().map(|v| v.ras.clone()).unwrap_or_default();
    let typed = typed.unwrap_or_else(|| {
        let mut rows: Vec<RasRow> = in_force
            .domains
            .iter()
            .map(|d| RasRow {
                name: d.name.clone(),
                label: d.label.clone().unwrap_or_default(),
                max_points: d.max_points.to_string(),
                price: d.price_per_point.map(|p| p.to_string()).unwrap_or_default(),
            })
            .collect();
        rows.extend((0..BLANK_RAS_ROWS).map(|_| RasRow::default()));
        RasTyped {
            rows,
            price_per_point: in_force
                .price_per_point
                .map(|p| p.to_string())
                .unwrap_or_default(),
            ..RasTyped::default()
        }
    });
    Ok(ras_page(
        &shell,
        &RasPage {
            version: shown.ras.version,
            current_version: current,
            reason: shown.reason.clone(),
            made: shown.created_at.map(|t| when(Some(t))),
            domains: shown
                .ras
                .domains
                .iter()
                .map(|d| {
                    (
                        d.name.clone(),
                        d.label.clone().unwrap_or_default(),
                        d.max_points,
                        gbp(shown.ras.price_of(d)),
                    )
                })
                .collect(),
            versions: history
                .iter()
                .map(|v| (v.ras.version, when(v.created_at)))
                .collect(),
            can_edit: session.actor.role == Role::CouncilAdmin,
            rows: typed.rows,
            price_per_point: typed.price_per_point,
            change_reason: typed.reason,
            errors: typed.errors,
            csrf_token: session.csrf_token.clone(),
        },
    ))
}

/// Stores the form as a new RAS version (council administrators).
pub async fn ras_save(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<HashMap<String, String>>,
) -> AdminResult<Response> {
    session.actor.require(&[Role::CouncilAdmin])?;
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let count = form.keys().filter(|k| k.starts_with("name_")).count();
    let all_rows: Vec<RasRow> = (0..count)
        .map(|i| RasRow {
            name: field(&format!("name_{i}")),
            label: field(&format!("label_{i}")),
            max_points: field(&format!("max_{i}")),
            price: field(&format!("price_{i}")),
        })
        .collect();
    // The rows kept (a name given), with their index on the form for errors.
    let kept: Vec<(usize, &RasRow)> = all_rows
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.name.trim().is_empty())
        .collect();
    let mut errors = Vec::new();
    let mut domains = Vec::new();
    for (i, row) in &kept {
        let mut domain = json!({"name": row.name.trim()});
        if !row.label.trim().is_empty() {
            domain["label"] = json!(row.label.trim());
        }
        match row.max_points.trim().parse::<u32>() {
            Ok(n) => domain["max_points"] = json!(n),
            Err(_) => errors.push(FieldError::new(
                format!("max_{i}"),
                "Enter the most points as a whole number, like 10",
            )),
        }
        if !row.price.trim().is_empty() {
            domain["price_per_point"] = json!(row.price.trim().trim_start_matches('£'));
        }
        domains.push(domain);
    }
    let mut typed = RasTyped {
        rows: all_rows.clone(),
        price_per_point: field("price_per_point"),
        reason: field("reason"),
        errors: Vec::new(),
    };
    let index_of = |position: usize| kept.get(position).map(|(i, _)| *i).unwrap_or(0);
    let map_field = |api_field: &str| -> Option<String> {
        if let Some(rest) = api_field.strip_prefix("domains[") {
            let (position, tail) = rest.split_once(']')?;
            let index = index_of(position.parse().ok()?);
            let form_field = match tail.trim_start_matches('.') {
                "max_points" => "max",
                "price_per_point" => "price",
                "label" => "label",
                _ => "name",
            };
            Some(format!("{form_field}_{index}"))
        } else {
            match api_field {
                "domains" => Some("name_0".to_owned()),
                "price_per_point" | "reason" => Some(api_field.to_owned()),
                _ => None,
            }
        }
    };
    if !errors.is_empty() {
        typed.errors = errors;
        let page = render_ras(&state, &session, None, Some(typed)).await?;
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    }
    let mut body = json!({"domains": domains});
    let price = typed.price_per_point.trim().trim_start_matches('£');
    if !price.is_empty() {
        body["price_per_point"] = json!(price);
    }
    if !typed.reason.trim().is_empty() {
        body["reason"] = Value::String(typed.reason.clone());
    }
    let change: RasChange = match parse_json(body.to_string().as_bytes()) {
        Ok(change) => change,
        Err(e) => {
            typed.errors = field_errors(&e, "name_0", map_field);
            let page = render_ras(&state, &session, None, Some(typed)).await?;
            return Ok((status_of(&e), page).into_response());
        }
    };
    let actor = session.actor.clone();
    let saved = state
        .write(actor.council_id, |tx| {
            let (actor, change) = (actor.clone(), change.clone());
            Box::pin(async move { assessments::change(tx, &actor, &change).await })
        })
        .await;
    match saved {
        Ok(_) => Ok(Redirect::to("/council/ras").into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::InvalidAmount { .. })) => {
            let e = ApiError::from(e);
            typed.errors = field_errors(&e, "name_0", map_field);
            let page = render_ras(&state, &session, None, Some(typed)).await?;
            Ok((status_of(&e), page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
