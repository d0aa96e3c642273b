use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use crate::auth::Actor;
use crate::budgets::budget::update::{self, BudgetChanges};
use crate::budgets::budget::{create, Budget, NewBudget};
use crate::budgets::view::{self, BudgetView};
use crate::http::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::{Json, Path};
use crate::http::AppState;

/// Record a personal budget (Care Act s.26).
#[utoipa::path(post, path = "/api/v1/budgets", tag = "budgets", security(("bearer" = [])),
    request_body = NewBudget,
    responses((status = 201, body = Budget), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope, description = "person, broker or user not found"),
        (status = 422, body = ErrorEnvelope, description = "invalid_amount or capacity_role")))]
pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    Json(body): Json<NewBudget>,
) -> ApiResult<(StatusCode, Json<Budget>)> {
    let budget = state
        .write(actor.council_id, |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(async move { create::create(tx, &actor, &body).await })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(budget)))
}

/// A budget with its plan, accounts and balances, reviews and contribution arrears.
#[utoipa::path(get, path = "/api/v1/budgets/{id}", tag = "budgets", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = BudgetView), (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<BudgetView>> {
    let today = state.clock.today();
    let budget = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { view::view(tx, &actor, id, today).await })
        })
        .await?;
    Ok(Json(budget))
}

/// Change a budget's bank account, direct-payment terms or broker.
#[utoipa::path(patch, path = "/api/v1/budgets/{id}", tag = "budgets", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = BudgetChanges,
    responses((status = 200, body = Budget), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn patch(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(body): Json<BudgetChanges>,
) -> ApiResult<Json<Budget>> {
    let budget = state
        .write(actor.council_id, |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(async move { update::update(tx, &actor, id, &body).await })
        })
        .await?;
    Ok(Json(budget))
}
