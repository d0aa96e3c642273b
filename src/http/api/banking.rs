use axum::extract::State;

use crate::auth::{Actor, Role};
use crate::http::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::Json;
use crate::http::AppState;
use crate::payments::banking::{self, CouncilBanking};

/// Set the council's bank account and Bacs service user number (for payment files).
#[utoipa::path(put, path = "/api/v1/council/banking", tag = "payment-runs", security(("bearer" = [])),
    request_body = CouncilBanking,
    responses((status = 200, body = CouncilBanking), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn put(
    State(state): State<AppState>,
    actor: Actor,
    Json(body): Json<CouncilBanking>,
) -> ApiResult<Json<CouncilBanking>> {
    let banking = state
        .write(actor.council_id, |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(async move { banking::set(tx, &actor, &body).await })
        })
        .await?;
    Ok(Json(banking))
}

/// The council's bank account and service user number.
#[utoipa::path(get, path = "/api/v1/council/banking", tag = "payment-runs", security(("bearer" = [])),
    responses((status = 200, body = CouncilBanking), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope, description = "not set yet")))]
pub async fn get(State(state): State<AppState>, actor: Actor) -> ApiResult<Json<CouncilBanking>> {
    actor.require(&[Role::CouncilAdmin, Role::FinanceOfficer, Role::Auditor])?;
    let banking = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { banking::get(tx, actor.council_id).await })
        })
        .await?;
    Ok(Json(banking))
}
