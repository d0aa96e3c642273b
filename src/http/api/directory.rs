//! The service directory for brokers, care managers, the person and representatives, and the
//! council's directory published as Open Referral UK 3.0 (`/openreferral/{council_id}/...`,
//! without signing in).

use axum::extract::State;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::Actor;
use crate::directory::{publish, search};
use crate::http::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::{Json, Path, Query};
use crate::http::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DirectoryQuery {
    /// Words in the service's name, description, organisation or taxonomy terms.
    pub search: Option<String>,
    /// A taxonomy term's name or id.
    pub taxonomy_term: Option<String>,
    /// A postcode of a place in the directory: services are ordered by distance from it.
    pub near_postcode: Option<String>,
    /// With `near_postcode`: only services with a location this close (default 10).
    pub within_km: Option<f64>,
    /// From 1; 20 services a page.
    pub page: Option<i64>,
}

/// Search the council's directory of services (active services only). Near a postcode: the
/// distance to each service's nearest location, nearest first; a postcode of no place in the
/// directory is 400.
#[utoipa::path(get, path = "/api/v1/directory/services", tag = "directory", security(("bearer" = [])),
    params(DirectoryQuery),
    responses((status = 200, body = search::SearchPage), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
    Query(query): Query<DirectoryQuery>,
) -> ApiResult<Json<search::SearchPage>> {
    let query = search::SearchQuery {
        search: query.search,
        taxonomy_term: query.taxonomy_term,
        near_postcode: query.near_postcode,
        within_km: query.within_km,
        page: query.page,
    };
    let page = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { search::search(tx, &actor, &query).await })
        })
        .await?;
    Ok(Json(page))
}

/// One service of the directory (whatever its status), with its cost options.
#[utoipa::path(get, path = "/api/v1/directory/services/{id}", tag = "directory", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = search::Service), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> ApiResult<Json<search::Service>> {
    let service = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { search::get(tx, &actor, &id).await })
        })
        .await?;
    Ok(Json(service))
}

/// Open Referral UK: the version and profile of the council's published directory (also at the
/// same path with a trailing slash).
#[utoipa::path(get, path = "/openreferral/{council_id}", tag = "openreferral",
    params(("council_id" = Uuid, Path)),
    responses((status = 200, body = Object, description = "`{version, profile}`"),
        (status = 404, body = ErrorEnvelope)))]
pub async fn oruk_root(
    State(state): State<AppState>,
    Path(council_id): Path<Uuid>,
) -> ApiResult<Json<serde_json::Value>> {
    state
        .in_tenant_tx(council_id, |tx| {
            Box::pin(async move { publish::require_council(tx, council_id).await })
        })
        .await?;
    Ok(Json(publish::root()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OrukPageQuery {
    /// From 1.
    pub page: Option<i64>,
    /// 1 to 200 (default 50).
    pub per_page: Option<i64>,
}

/// Open Referral UK 3.0: a page of the council's services (`{total_items, total_pages,
/// page_number, size, first_page, last_page, empty, contents}`), each in full.
#[utoipa::path(get, path = "/openreferral/{council_id}/services", tag = "openreferral",
    params(("council_id" = Uuid, Path), OrukPageQuery),
    responses((status = 200, body = Object), (status = 400, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn oruk_services(
    State(state): State<AppState>,
    Path(council_id): Path<Uuid>,
    Query(query): Query<OrukPageQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let page = state
        .in_tenant_tx(council_id, |tx| {
            Box::pin(async move { publish::page(tx, council_id, query.page, query.per_page).await })
        })
        .await?;
    Ok(Json(page))
}

/// Open Referral UK 3.0: one service of the council in full.
#[utoipa::path(get, path = "/openreferral/{council_id}/services/{id}", tag = "openreferral",
    params(("council_id" = Uuid, Path), ("id" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorEnvelope)))]
pub async fn oruk_service(
    State(state): State<AppState>,
    Path((council_id, id)): Path<(Uuid, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    let service = state
        .in_tenant_tx(council_id, |tx| {
            Box::pin(async move { publish::one(tx, council_id, &id).await })
        })
        .await?;
    Ok(Json(service))
}
