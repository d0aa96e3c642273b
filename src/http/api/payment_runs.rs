use axum::extract::State;
use axum::http::header;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use crate::auth::Actor;
use crate::http::api::List;
use crate::http::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::{Json, Path};
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::AppState;
use crate::payments::runs::create::{self, NewRun};
use crate::payments::runs::files::{self, PaymentFile};
use crate::payments::runs::{self, approve, PaymentRun, RunSummary};

/// Draft a payment run for a period (Idempotency-Key required).
#[utoipa::path(post, path = "/api/v1/payment-runs", tag = "payment-runs", security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header)), request_body = NewRun,
    responses((status = 201, body = PaymentRun), (status = 400, body = ErrorEnvelope, description = "invalid_request or idempotency_key_required"),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "period already released (conflict) or idempotency_key_reused")))]
pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    key: IdempotencyKey,
    Json(body): Json<NewRun>,
) -> ApiResult<Response> {
    runs::require_officer(&actor)?;
    crate::dates::check(&[("period_start", Some(body.period_start))])?;
    let path = "/api/v1/payment-runs";
    let claim = idempotency::claim(
        &key,
        "POST /api/v1/payment-runs",
        actor.user_id,
        path,
        &body,
    )?;
    let ran = state
        .command(actor.council_id, Some(&claim), |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(async move { create::create(tx, &actor, &body).await })
        })
        .await?;
    idempotency::respond(StatusCode::CREATED, &ran)
}

/// The council's payment runs.
#[utoipa::path(get, path = "/api/v1/payment-runs", tag = "payment-runs", security(("bearer" = [])),
    responses((status = 200, body = List<RunSummary>), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
) -> ApiResult<Json<List<RunSummary>>> {
    let items = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { runs::list(tx, &actor).await })
        })
        .await?;
    Ok(Json(List::all(items)))
}

/// One payment run with its lines and skipped budgets.
#[utoipa::path(get, path = "/api/v1/payment-runs/{id}", tag = "payment-runs", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = PaymentRun), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<PaymentRun>> {
    let run = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { runs::get(tx, &actor, id).await })
        })
        .await?;
    Ok(Json(run))
}

/// Submit a draft run for approval (the maker).
#[utoipa::path(post, path = "/api/v1/payment-runs/{id}/submit", tag = "payment-runs", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = PaymentRun), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "not a draft")))]
pub async fn submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<PaymentRun>> {
    let run = crate::commands::write(&state.pool, actor.council_id, |tx| {
        let actor = actor.clone();
        Box::pin(async move { approve::submit(tx, &actor, id).await })
    })
    .await?;
    Ok(Json(run))
}

/// Approve a submitted run (a different finance officer): posts every line to the ledger.
#[utoipa::path(post, path = "/api/v1/payment-runs/{id}/approve", tag = "payment-runs", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = PaymentRun), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope, description = "forbidden or approver_conflict (the maker)"),
        (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "already approved, not submitted, or budgets changed since the draft")))]
pub async fn approve(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<PaymentRun>> {
    let run = crate::commands::write(&state.pool, actor.council_id, |tx| {
        let actor = actor.clone();
        Box::pin(async move { approve::approve(tx, &actor, id).await })
    })
    .await?;
    Ok(Json(run))
}

/// Reject a draft or submitted run (its period can then be drafted again).
#[utoipa::path(post, path = "/api/v1/payment-runs/{id}/reject", tag = "payment-runs", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = PaymentRun), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "already approved or rejected")))]
pub async fn reject(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<PaymentRun>> {
    let run = crate::commands::write(&state.pool, actor.council_id, |tx| {
        let actor = actor.clone();
        Box::pin(async move { approve::reject(tx, &actor, id).await })
    })
    .await?;
    Ok(Json(run))
}

fn download(file: PaymentFile, content_type: &'static str) -> Response {
    let disposition = format!("attachment; filename=\"{}\"", file.file_name);
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        file.content,
    )
        .into_response()
}

/// The approved run's Bacs Standard 18 file.
#[utoipa::path(get, path = "/api/v1/payment-runs/{id}/bacs18", tag = "payment-runs", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, content_type = "text/plain", body = String), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "not approved, nothing paid through the bank, or the council's banking not set")))]
pub async fn bacs18(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let file = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { files::bacs18(tx, &actor, id).await })
        })
        .await?;
    Ok(download(file, "text/plain; charset=us-ascii"))
}

/// The approved run's ISO 20022 pain.001.001.03 file.
#[utoipa::path(get, path = "/api/v1/payment-runs/{id}/pain001", tag = "payment-runs", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, content_type = "application/xml", body = String), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "not approved, nothing paid through the bank, or the council's banking not set")))]
pub async fn pain001(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let file = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { files::pain001(tx, &actor, id).await })
        })
        .await?;
    Ok(download(file, "application/xml; charset=utf-8"))
}
