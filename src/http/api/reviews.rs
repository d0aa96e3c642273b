use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::{Actor, Role};
use crate::budgets::reviews::{self, CompletedReview, Review, ReviewFilter, ReviewRequest};
use crate::http::api::List;
use crate::http::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::{Json, Path, Query};
use crate::http::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReviewQuery {
    /// `due` (within four weeks) or `overdue`.
    status: ReviewFilter,
}

/// Reviews due soon or overdue (care managers).
#[utoipa::path(get, path = "/api/v1/reviews", tag = "reviews", security(("bearer" = [])),
    params(ReviewQuery),
    responses((status = 200, body = List<Review>), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
    Query(query): Query<ReviewQuery>,
) -> ApiResult<Json<List<Review>>> {
    actor.require(&[Role::CareManager])?;
    let today = state.clock.today();
    let items = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { reviews::list(tx, actor.council_id, query.status, today).await })
        })
        .await?;
    Ok(Json(List::all(items)))
}

/// Record the budget's open review as done; returns the next one scheduled.
#[utoipa::path(post, path = "/api/v1/budgets/{id}/reviews", tag = "reviews", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = CompletedReview,
    responses((status = 200, body = Review), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope, description = "no open review")))]
pub async fn complete(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(body): Json<CompletedReview>,
) -> ApiResult<Json<Review>> {
    let today = state.clock.today();
    let next = state
        .write(actor.council_id, |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(async move { reviews::complete(tx, &actor, id, &body, today).await })
        })
        .await?;
    Ok(Json(next))
}

/// Ask for a review now (anyone who may see the budget; 404 otherwise): the open review becomes
/// due today, or one is opened. Returns the open review with what made it due.
#[utoipa::path(post, path = "/api/v1/budgets/{id}/review-requests", tag = "reviews",
    security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = ReviewRequest,
    responses((status = 201, body = Review), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn request(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(body): Json<ReviewRequest>,
) -> ApiResult<(StatusCode, Json<Review>)> {
    let today = state.clock.today();
    let review = state
        .write(actor.council_id, |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(async move { reviews::request(tx, &actor, id, &body, today).await })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(review)))
}

/// Open reviews due today or before — overdue, or made due now by a trigger (a change in
/// capacity, a surplus notice, a misuse finding, three refusals in 28 days, a request) — soonest
/// first (care managers).
#[utoipa::path(get, path = "/api/v1/reviews/due", tag = "reviews", security(("bearer" = [])),
    responses((status = 200, body = List<Review>), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope)))]
pub async fn due(State(state): State<AppState>, actor: Actor) -> ApiResult<Json<List<Review>>> {
    actor.require(&[Role::CareManager])?;
    let today = state.clock.today();
    let items = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { reviews::due_now(tx, actor.council_id, today).await })
        })
        .await?;
    Ok(Json(List::all(items)))
}
