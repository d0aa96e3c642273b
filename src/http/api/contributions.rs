//! Contributions received: recorded (posted at once, or held for a finance officer when a
//! provider records more than is owed), the finance officers' queue, approve and reject.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::Actor;
use crate::http::api::List;
use crate::http::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::{Json, Path, Query};
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::AppState;
use crate::payments::contributions::{self, Contribution, ContributionStatus, NewContribution};

/// Record a contribution the person paid (Idempotency-Key required). A finance officer's posts
/// at once (201). Provider staff record only into the managed account their organisation holds
/// (otherwise 404); more than the budget's contribution arrears is held for a finance officer
/// (202, `status: pending_approval`).
#[utoipa::path(post, path = "/api/v1/budgets/{id}/contributions", tag = "budgets", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("Idempotency-Key" = String, Header)), request_body = NewContribution,
    responses((status = 201, body = Contribution, description = "posted"),
        (status = 202, body = Contribution, description = "held for a finance officer: pending_approval"),
        (status = 400, body = ErrorEnvelope, description = "invalid_request or idempotency_key_required"),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope, description = "not found, or an account outside the provider's organisation"),
        (status = 409, body = ErrorEnvelope, description = "idempotency_key_reused, or no account yet"),
        (status = 422, body = ErrorEnvelope, description = "invalid_amount")))]
pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    key: IdempotencyKey,
    Json(body): Json<NewContribution>,
) -> ApiResult<Response> {
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
    let status = match ran.value.status {
        ContributionStatus::PendingApproval => StatusCode::ACCEPTED,
        _ => StatusCode::CREATED,
    };
    idempotency::respond(status, &ran)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ContributionsQuery {
    /// `pending_approval` (the finance officers' queue), `posted` or `rejected`; all when absent.
    #[param(value_type = Option<String>, example = "pending_approval")]
    pub status: Option<ContributionStatus>,
}

/// The council's contributions, newest first (finance officers and auditors).
#[utoipa::path(get, path = "/api/v1/contributions", tag = "budgets", security(("bearer" = [])),
    params(ContributionsQuery),
    responses((status = 200, body = List<Contribution>), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
    Query(query): Query<ContributionsQuery>,
) -> ApiResult<Json<List<Contribution>>> {
    let items = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { contributions::list(tx, &actor, query.status).await })
        })
        .await?;
    Ok(Json(List::all(items)))
}

/// Approve a held contribution (finance officers): it is posted.
#[utoipa::path(post, path = "/api/v1/contributions/{id}/approve", tag = "budgets", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Contribution), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope, description = "forbidden, or approver_conflict"),
        (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "not waiting for approval")))]
pub async fn approve(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Contribution>> {
    let contribution = crate::commands::write(&state.pool, actor.council_id, |tx| {
        let actor = actor.clone();
        Box::pin(async move { contributions::approve(tx, &actor, id).await })
    })
    .await?;
    Ok(Json(contribution))
}

/// Reject a held contribution (finance officers): it is never posted.
#[utoipa::path(post, path = "/api/v1/contributions/{id}/reject", tag = "budgets", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Contribution), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "not waiting for approval")))]
pub async fn reject(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Contribution>> {
    let contribution = crate::commands::write(&state.pool, actor.council_id, |tx| {
        let actor = actor.clone();
        Box::pin(async move { contributions::reject(tx, &actor, id).await })
    })
    .await?;
    Ok(Json(contribution))
}
