use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use crate::auth::{Actor, Role};
use crate::budgets::payees::{self, NewPayee, Payee};
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
    actor.require(&[Role::CareManager, Role::FinanceOfficer, Role::ProviderStaff])?;
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
