use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use crate::auth::{Actor, Role};
use crate::http::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::{Json, Path};
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::AppState;
use crate::payments::contributions::{self, Contribution, NewContribution};

/// Record a contribution the person paid (Idempotency-Key required).
#[utoipa::path(post, path = "/api/v1/budgets/{id}/contributions", tag = "budgets", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("Idempotency-Key" = String, Header)), request_body = NewContribution,
    responses((status = 201, body = Contribution), (status = 400, body = ErrorEnvelope, description = "invalid_request or idempotency_key_required"),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope, description = "idempotency_key_reused, or no account yet"),
        (status = 422, body = ErrorEnvelope, description = "invalid_amount")))]
pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    key: IdempotencyKey,
    Json(body): Json<NewContribution>,
) -> ApiResult<Response> {
    actor.require(&[Role::FinanceOfficer, Role::ProviderStaff])?;
    crate::dates::check(&[("received_on", Some(body.received_on))])?;
    let path = format!("/api/v1/budgets/{id}/contributions");
    let operation = format!("POST {path}");
    let claim = idempotency::claim(&key, &operation, actor.user_id, &path, &body)?;
    let today = state.clock.today();
    let ran = state
        .command(actor.council_id, Some(&claim), |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(async move { contributions::record(tx, &actor, id, &body, today).await })
        })
        .await?;
    idempotency::respond(StatusCode::CREATED, &ran)
}
