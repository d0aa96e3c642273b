//! Invoices (the provider's workspace): record, list, dispute, resolve, reject, and pay through
//! the payment path with the same outcomes as `POST /api/v1/payments`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use super::List;
use crate::auth::Actor;
use crate::http::api::payments::outcome_response;
use crate::http::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{Json, Path, Query};
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::AppState;
use crate::payments::spend::Payment;
use crate::providers::invoices::{
    self, Action, Invoice, InvoiceFilter, InvoiceStatus, NewInvoice, PayInvoice, Reason,
};

/// Record an invoice received. The lines must add up to the total (422
/// `invoice_total_mismatch`); the same payee's invoice number twice is 409 `duplicate_invoice`.
/// Provider staff record invoices paid from accounts their organisation holds; the person and
/// their representatives those paid from their direct payment.
#[utoipa::path(post, path = "/api/v1/invoices", tag = "invoices", security(("bearer" = [])),
    request_body = NewInvoice,
    responses((status = 201, body = Invoice), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope, description = "duplicate_invoice"),
        (status = 422, body = ErrorEnvelope, description = "invoice_total_mismatch or invalid_amount")))]
pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    Json(body): Json<NewInvoice>,
) -> ApiResult<(StatusCode, Json<Invoice>)> {
    let now = state.clock.now();
    let invoice = state
        .write(actor.council_id, |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(async move { invoices::record(tx, &actor, &body, now).await })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(invoice)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InvoiceQuery {
    /// `received`, `part_paid`, `paid`, `disputed` or `rejected`.
    #[param(value_type = Option<String>)]
    pub status: Option<InvoiceStatus>,
    pub budget_id: Option<Uuid>,
}

/// The caller's invoices, oldest due first (the provider's worklist).
#[utoipa::path(get, path = "/api/v1/invoices", tag = "invoices", security(("bearer" = [])),
    params(InvoiceQuery),
    responses((status = 200, body = List<Invoice>), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
    Query(query): Query<InvoiceQuery>,
) -> ApiResult<Json<List<Invoice>>> {
    let filter = InvoiceFilter {
        status: query.status,
        budget_id: query.budget_id,
    };
    let items = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { invoices::list(tx, &actor, filter).await })
        })
        .await?;
    Ok(Json(List::all(items)))
}

/// One invoice with what has been paid of it.
#[utoipa::path(get, path = "/api/v1/invoices/{id}", tag = "invoices", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Invoice), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Invoice>> {
    let invoice = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { invoices::get(tx, &actor, id).await })
        })
        .await?;
    Ok(Json(invoice))
}

async fn act(
    state: &AppState,
    actor: Actor,
    id: Uuid,
    action: Action,
    reason: Option<String>,
) -> ApiResult<Json<Invoice>> {
    let now = state.clock.now();
    let invoice = state
        .write(actor.council_id, |tx| {
            let (actor, reason) = (actor.clone(), reason.clone());
            Box::pin(
                async move { invoices::act(tx, &actor, id, action, reason.as_deref(), now).await },
            )
        })
        .await?;
    Ok(Json(invoice))
}

/// Dispute an invoice: it is not paid until the dispute is resolved (a reason is required).
#[utoipa::path(post, path = "/api/v1/invoices/{id}/dispute", tag = "invoices", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = Reason,
    responses((status = 200, body = Invoice), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope, description = "reason_required")))]
pub async fn dispute(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(body): Json<Reason>,
) -> ApiResult<Json<Invoice>> {
    act(&state, actor, id, Action::Dispute, Some(body.reason)).await
}

/// Resolve a dispute: the invoice can be paid again.
#[utoipa::path(post, path = "/api/v1/invoices/{id}/resolve", tag = "invoices", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Invoice), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "not disputed")))]
pub async fn resolve(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Invoice>> {
    act(&state, actor, id, Action::Resolve, None).await
}

/// Reject an invoice nothing has been paid of: it is never paid (a reason is required).
#[utoipa::path(post, path = "/api/v1/invoices/{id}/reject", tag = "invoices", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = Reason,
    responses((status = 200, body = Invoice), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope, description = "reason_required")))]
pub async fn reject(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(body): Json<Reason>,
) -> ApiResult<Json<Invoice>> {
    act(&state, actor, id, Action::Reject, Some(body.reason)).await
}

/// Pay an invoice (all that is outstanding, or `amount` of it): the outcome exactly as `POST
/// /api/v1/payments` gives it — 201 posted, 202 held for approval, 403 `no_authority`, 422 with
/// the rule codes — linked to the invoice. A disputed, rejected or fully paid invoice is 409;
/// more than is outstanding is 422 `invalid_amount`.
#[utoipa::path(post, path = "/api/v1/invoices/{id}/pay", tag = "invoices", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("Idempotency-Key" = String, Header, description = "1 to 255 visible ASCII characters")),
    request_body = PayInvoice,
    responses((status = 201, body = Payment, description = "posted"),
        (status = 202, body = Payment, description = "held for approval"),
        (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "disputed, rejected or paid; idempotency_key_reused"),
        (status = 422, body = ErrorEnvelope, description = "a spending rule refused it, or more than is outstanding")))]
pub async fn pay(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    key: Result<IdempotencyKey, ApiError>,
    body: Result<Json<PayInvoice>, ApiError>,
) -> ApiResult<Response> {
    let key = key?;
    let Json(body) = body?;
    let path = format!("/api/v1/invoices/{id}/pay");
    let claim = idempotency::claim(
        &key,
        "POST /api/v1/invoices/{id}/pay",
        actor.user_id,
        &path,
        &body,
    )?;
    let ran = invoices::pay(&state.pool, &state.payments, &actor, id, &body, claim).await?;
    Ok(outcome_response(&ran))
}
