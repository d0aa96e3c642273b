use axum::extract::State;
use uuid::Uuid;

use crate::auth::Actor;
use crate::budgets::plans::{approve, draft, submit, Plan, PlanInput};
use crate::http::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::{Json, Path};
use crate::http::AppState;

/// Draft the budget's support plan (a new version; the approved plan stays in force until this is approved).
#[utoipa::path(put, path = "/api/v1/budgets/{id}/plan", tag = "plans", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = PlanInput,
    responses((status = 200, body = Plan), (status = 400, body = ErrorEnvelope, description = "unknown category or deployment, holder of the wrong kind"),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope, description = "invalid_amount")))]
pub async fn put(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(body): Json<PlanInput>,
) -> ApiResult<Json<Plan>> {
    let plan = state
        .write(actor.council_id, |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(async move { draft::put_draft(tx, &actor, id, &body).await })
        })
        .await?;
    Ok(Json(plan))
}

/// Approve the draft plan: opens the deployment accounts and schedules the review.
#[utoipa::path(post, path = "/api/v1/budgets/{id}/plan/approve", tag = "plans", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Plan), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "no draft waiting (already approved)"),
        (status = 422, body = ErrorEnvelope, description = "plan_over_budget")))]
pub async fn approve(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Plan>> {
    let plan = state
        .write(actor.council_id, |tx| {
            let actor = actor.clone();
            let now = state.clock.now();
            Box::pin(async move { approve::approve(tx, &actor, id, now).await })
        })
        .await?;
    Ok(Json(plan))
}

/// Submit the draft plan to the care manager (the budget's broker, or a care manager).
#[utoipa::path(post, path = "/api/v1/budgets/{id}/plan/submit", tag = "plans", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Plan), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "no draft, or already submitted")))]
pub async fn submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Plan>> {
    let plan = state
        .write(actor.council_id, |tx| {
            let actor = actor.clone();
            Box::pin(async move { submit::submit(tx, &actor, id).await })
        })
        .await?;
    Ok(Json(plan))
}

/// The care manager's reasons for returning a plan.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnPlan {
    pub reason: String,
}

/// Return the submitted draft to the broker with reasons (care managers).
#[utoipa::path(post, path = "/api/v1/budgets/{id}/plan/return", tag = "plans", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = ReturnPlan,
    responses((status = 200, body = Plan), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "no submitted draft"),
        (status = 422, body = ErrorEnvelope, description = "reason_required")))]
pub async fn return_plan(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(body): Json<ReturnPlan>,
) -> ApiResult<Json<Plan>> {
    let plan = state
        .write(actor.council_id, |tx| {
            let (actor, reason) = (actor.clone(), body.reason.clone());
            Box::pin(async move { submit::return_draft(tx, &actor, id, &reason).await })
        })
        .await?;
    Ok(Json(plan))
}
