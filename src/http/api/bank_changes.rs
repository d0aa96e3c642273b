//! Bank details set and changed, and their verification by a second finance officer
//! (RULES.md `bank_details_unverified`).

use axum::extract::State;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::Actor;
use crate::budgets::bank_changes::{self, BankDetailChange, ChangeStatus};
use crate::http::api::List;
use crate::http::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::{Json, Path, Query};
use crate::http::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ChangesQuery {
    /// `unverified` (the finance officers' queue), `verified` or `superseded`; all when absent.
    #[param(value_type = Option<String>, example = "unverified")]
    pub status: Option<ChangeStatus>,
}

/// The log of bank details set and changed (finance officers and auditors), newest first, the
/// details masked.
#[utoipa::path(get, path = "/api/v1/bank-detail-changes", tag = "bank details", security(("bearer" = [])),
    params(ChangesQuery),
    responses((status = 200, body = List<BankDetailChange>), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
    Query(query): Query<ChangesQuery>,
) -> ApiResult<Json<List<BankDetailChange>>> {
    let items = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { bank_changes::list(tx, &actor, query.status).await })
        })
        .await?;
    Ok(Json(List::all(items)))
}

/// One logged change (finance officers and auditors).
#[utoipa::path(get, path = "/api/v1/bank-detail-changes/{id}", tag = "bank details", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = BankDetailChange), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<BankDetailChange>> {
    let change = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { bank_changes::get(tx, &actor, id).await })
        })
        .await?;
    Ok(Json(change))
}

/// Verify changed bank details (a finance officer other than the one who changed them): from now
/// on they are paid. 403 `approver_conflict` for the one who changed them; 409 when already
/// verified or changed again since.
#[utoipa::path(post, path = "/api/v1/bank-detail-changes/{id}/verify", tag = "bank details", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = BankDetailChange), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope, description = "forbidden, or approver_conflict"),
        (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "verified already, or superseded by a later change")))]
pub async fn verify(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<BankDetailChange>> {
    let change = crate::commands::write(&state.pool, actor.council_id, |tx| {
        let actor = actor.clone();
        Box::pin(async move { bank_changes::verify(tx, &actor, id).await })
    })
    .await?;
    Ok(Json(change))
}
