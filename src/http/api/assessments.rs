//! Assessment to indicative budget: the council's Resource Allocation System (versioned), a
//! person's assessments, and carers.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use uuid::Uuid;

use super::List;
use crate::auth::Actor;
use crate::budgets::assessments::{self, Assessment, NewAssessment, RasChange, RasVersion};
use crate::budgets::carers::{self, CarerLinks, NewCarer};
use crate::http::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::{Json, Path, Query};
use crate::http::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RasQuery {
    /// A past version (default: the one in force).
    pub version: Option<i32>,
}

/// The RAS in force, or `?version=` (council staff; an unknown version 404).
#[utoipa::path(get, path = "/api/v1/ras", tag = "assessments", security(("bearer" = [])),
    params(RasQuery),
    responses((status = 200, body = RasVersion), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn get_ras(
    State(state): State<AppState>,
    actor: Actor,
    Query(query): Query<RasQuery>,
) -> ApiResult<Json<RasVersion>> {
    let ras = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { assessments::version(tx, &actor, query.version).await })
        })
        .await?;
    Ok(Json(ras))
}

/// Change the RAS: a new version (council administrators). Assessments keep the version they
/// were priced under.
#[utoipa::path(put, path = "/api/v1/ras", tag = "assessments", security(("bearer" = [])),
    request_body = RasChange,
    responses((status = 200, body = RasVersion), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope)))]
pub async fn put_ras(
    State(state): State<AppState>,
    actor: Actor,
    Json(body): Json<RasChange>,
) -> ApiResult<Json<RasVersion>> {
    let changed = state
        .write(actor.council_id, |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(async move { assessments::change(tx, &actor, &body).await })
        })
        .await?;
    Ok(Json(changed))
}

/// Every version of the RAS, newest first (council staff).
#[utoipa::path(get, path = "/api/v1/ras/versions", tag = "assessments", security(("bearer" = [])),
    responses((status = 200, body = List<RasVersion>), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope)))]
pub async fn ras_versions(
    State(state): State<AppState>,
    actor: Actor,
) -> ApiResult<Json<List<RasVersion>>> {
    let versions = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { assessments::history(tx, &actor).await })
        })
        .await?;
    Ok(Json(List::all(versions)))
}

/// Assess a person (care managers): points per need domain of the RAS in force → 201 with
/// `indicative_weekly` and how it was worked out. An unknown domain, points out of range or an
/// unknown field 400, nothing written; a person of another council 404.
#[utoipa::path(post, path = "/api/v1/people/{id}/assessments", tag = "assessments",
    security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = NewAssessment,
    responses((status = 201, body = Assessment), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(body): Json<NewAssessment>,
) -> ApiResult<(StatusCode, Json<Assessment>)> {
    let assessment = state
        .write(actor.council_id, |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(async move { assessments::record(tx, &actor, id, &body).await })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(assessment)))
}

/// A person's assessments, newest first (council staff).
#[utoipa::path(get, path = "/api/v1/people/{id}/assessments", tag = "assessments",
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = List<Assessment>), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<List<Assessment>>> {
    let items = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { assessments::of_person(tx, &actor, id).await })
        })
        .await?;
    Ok(Json(List::all(items)))
}

/// Record the person's carer (care managers): a link both ways, 201 with the person's links.
/// Oneself 400; either person of another council 404; the same link again 409.
#[utoipa::path(post, path = "/api/v1/people/{id}/carers", tag = "assessments",
    security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = NewCarer,
    responses((status = 201, body = CarerLinks), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn link_carer(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(body): Json<NewCarer>,
) -> ApiResult<(StatusCode, Json<CarerLinks>)> {
    let links = state
        .write(actor.council_id, |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(async move { carers::link(tx, &actor, id, &body).await })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(links)))
}
