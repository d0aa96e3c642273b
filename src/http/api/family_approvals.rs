use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use crate::auth::Actor;
use crate::budgets::family_approvals::{self, FamilyPaymentApproval, NewFamilyPaymentApproval};
use crate::http::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::{Json, Path};
use crate::http::AppState;

/// Record the council's decision that paying this family member from the budget is necessary (DP Regs reg 3).
#[utoipa::path(post, path = "/api/v1/budgets/{id}/family-payment-approvals", tag = "payees", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = NewFamilyPaymentApproval,
    responses((status = 201, body = FamilyPaymentApproval), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope, description = "already recorded")))]
pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(body): Json<NewFamilyPaymentApproval>,
) -> ApiResult<(StatusCode, Json<FamilyPaymentApproval>)> {
    let approval = state
        .write(actor.council_id, |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(async move { family_approvals::record(tx, &actor, id, &body).await })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(approval)))
}
