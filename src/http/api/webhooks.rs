//! Webhooks out (issue 14): endpoints (`/api/v1/webhooks`, council administrators for the
//! council, provider staff for their organisation), their delivery log, and the hosts the
//! council allows plain http for.

use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use super::List;
use crate::auth::Actor;
use crate::http::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::{Json, Path};
use crate::http::AppState;
use crate::webhooks::endpoints::{self, CreatedEndpoint, HttpHosts};
use crate::webhooks::{Delivery, Endpoint, NewEndpoint};

/// Register an endpoint; the `whsec_` secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    request_body = NewEndpoint,
    responses((status = 201, body = CreatedEndpoint),
        (status = 400, body = ErrorEnvelope, description = "bad URL, a private address, http for a host not allowed, an unknown event"),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    Json(body): Json<NewEndpoint>,
) -> ApiResult<(StatusCode, Json<CreatedEndpoint>)> {
    let allow_private = state.settings.webhook_allow_private;
    let now = state.clock.now();
    let created = state
        .write(actor.council_id, |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            let sealer = crate::webhooks::secrets::SecretSealer::new(&state.chain_key);
            Box::pin(async move {
                endpoints::create(tx, &actor, &body, allow_private, &sealer, now).await
            })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// The endpoints the caller manages.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = List<Endpoint>), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope)))]
pub async fn list(State(state): State<AppState>, actor: Actor) -> ApiResult<Json<List<Endpoint>>> {
    let items = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { endpoints::list(tx, &actor).await })
        })
        .await?;
    Ok(Json(List::all(items)))
}

/// One endpoint.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Endpoint), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Endpoint>> {
    let endpoint = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { endpoints::get(tx, &actor, id).await })
        })
        .await?;
    Ok(Json(endpoint))
}

/// Delete an endpoint: nothing more is sent to it.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn delete(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    state
        .write(actor.council_id, |tx| {
            let actor = actor.clone();
            Box::pin(async move { endpoints::delete(tx, &actor, id).await })
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An endpoint's delivery log, newest first: every attempt's time, answer and error.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks",
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = List<Delivery>), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn deliveries(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<List<Delivery>>> {
    let items = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { endpoints::deliveries(tx, &actor, id).await })
        })
        .await?;
    Ok(Json(List::all(items)))
}

/// The hosts the council allows plain http webhooks to (council administrators).
#[utoipa::path(get, path = "/api/v1/webhook-http-hosts", tag = "webhooks",
    security(("bearer" = [])),
    responses((status = 200, body = HttpHosts), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope)))]
pub async fn get_http_hosts(
    State(state): State<AppState>,
    actor: Actor,
) -> ApiResult<Json<HttpHosts>> {
    let hosts = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { endpoints::get_http_hosts(tx, &actor).await })
        })
        .await?;
    Ok(Json(hosts))
}

/// Replace the hosts the council allows plain http webhooks to (council administrators).
#[utoipa::path(put, path = "/api/v1/webhook-http-hosts", tag = "webhooks",
    security(("bearer" = [])), request_body = HttpHosts,
    responses((status = 200, body = HttpHosts), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn put_http_hosts(
    State(state): State<AppState>,
    actor: Actor,
    Json(body): Json<HttpHosts>,
) -> ApiResult<Json<HttpHosts>> {
    let hosts = state
        .write(actor.council_id, |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(async move { endpoints::set_http_hosts(tx, &actor, &body).await })
        })
        .await?;
    Ok(Json(hosts))
}
