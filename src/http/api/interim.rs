use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use crate::auth::Actor;
use crate::budgets::interim::{self, NewUrgentInterim, UrgentInterim};
use crate::http::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::{Json, Path};
use crate::http::AppState;

/// Record urgent interim support (council-managed, capped, at most the policy's weeks).
#[utoipa::path(post, path = "/api/v1/budgets/{id}/urgent-interim", tag = "budgets", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = NewUrgentInterim,
    responses((status = 201, body = UrgentInterim), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope, description = "already recorded"),
        (status = 422, body = ErrorEnvelope, description = "over the cap (plan_not_approved) or invalid_amount")))]
pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(body): Json<NewUrgentInterim>,
) -> ApiResult<(StatusCode, Json<UrgentInterim>)> {
    let recorded = state
        .write(actor.council_id, |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(async move { interim::record(tx, &actor, id, &body).await })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(recorded)))
}
