//! Decision-making agreements: the grants recorded on a budget (RULES.md › Decision-making
//! agreements). A grant that does not fit the person is refused with 422 `capacity_role`.

use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use super::List;
use crate::auth::Actor;
use crate::budgets::agreements::{self, Grant, NewGrant};
use crate::http::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::{Json, Path};
use crate::http::AppState;

/// Record a grant on the budget's decision-making agreement.
#[utoipa::path(post, path = "/api/v1/budgets/{id}/agreements", tag = "agreements", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = NewGrant,
    responses((status = 201, body = Grant), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope, description = "capacity_role, or invalid_amount")))]
pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(body): Json<NewGrant>,
) -> ApiResult<(StatusCode, Json<Grant>)> {
    let grant = state
        .write(actor.council_id, |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(async move { agreements::record(tx, &actor, id, &body).await })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(grant)))
}

/// Every grant of the budget's agreement, ended ones too, with whether each is in force now.
#[utoipa::path(get, path = "/api/v1/budgets/{id}/agreements", tag = "agreements", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = List<Grant>), (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<List<Grant>>> {
    let grants = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { agreements::list(tx, &actor, id).await })
        })
        .await?;
    Ok(Json(List::all(grants)))
}

/// End a grant: it stays on record and stops counting from now.
#[utoipa::path(post, path = "/api/v1/budgets/{id}/agreements/{grant_id}/end", tag = "agreements", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("grant_id" = Uuid, Path)),
    responses((status = 200, body = Grant), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "already ended")))]
pub async fn end(
    State(state): State<AppState>,
    actor: Actor,
    Path((id, grant_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Json<Grant>> {
    let grant = state
        .write(actor.council_id, |tx| {
            let actor = actor.clone();
            Box::pin(async move { agreements::end(tx, &actor, id, grant_id).await })
        })
        .await?;
    Ok(Json(grant))
}
