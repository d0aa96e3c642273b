use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use crate::auth::Actor;
use crate::budgets::payees::{self, NewPayee, Payee, PayeeChanges};
use crate::http::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::{Json, Path};
use crate::http::AppState;

/// Record a payee.
#[utoipa::path(post, path = "/api/v1/payees", tag = "payees", security(("bearer" = [])),
    request_body = NewPayee,
    responses((status = 201, body = Payee), (status = 400, body = ErrorEnvelope, description = "malformed bank details, unknown kind or relationship"),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope, description = "person not found")))]
pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    Json(body): Json<NewPayee>,
) -> ApiResult<(StatusCode, Json<Payee>)> {
    let payee = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { payees::create(tx, &actor, &body).await })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(payee)))
}

/// One payee (council staff, and the provider that recorded it).
#[utoipa::path(get, path = "/api/v1/payees/{id}", tag = "payees", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Payee), (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Payee>> {
    let payee = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { payees::visible(tx, &actor, id).await })
        })
        .await?;
    Ok(Json(payee))
}

/// Change a payee's name, bank details or whether it is active. Changed bank details make the
/// payee unverified (payments to it are refused `payee_not_approved`) until a finance officer
/// other than the one who changed them verifies them.
#[utoipa::path(patch, path = "/api/v1/payees/{id}", tag = "payees", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = PayeeChanges,
    responses((status = 200, body = Payee), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn patch(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(body): Json<PayeeChanges>,
) -> ApiResult<Json<Payee>> {
    let payee = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { payees::update(tx, &actor, id, &body).await })
        })
        .await?;
    Ok(Json(payee))
}
