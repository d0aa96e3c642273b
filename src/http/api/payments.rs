//! Payments out of deployment accounts: decided by the rules, posted, held for approval, or
//! refused (API.md › `POST /api/v1/payments`, approve, reject; the approvals queue and the
//! budget's decision log).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::List;
use crate::auth::Actor;
use crate::commands::Ran;
use crate::http::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{Json, Path, Query};
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::AppState;
use crate::payments::spend::{self, NewPayment, Payment, PaymentOutcome};
use crate::rules::RuleCode;

/// A payment outcome as API.md has it: 201 posted, 202 held, or the refusal envelope — 403
/// `no_authority` when the actor lacks authority, else 422 with the first failed rule's code —
/// with one detail per failed rule and the `payment_id` the refusal is recorded under.
pub fn outcome_response(ran: &Ran<PaymentOutcome>) -> Response {
    let response = match &ran.value {
        PaymentOutcome::Posted(payment) | PaymentOutcome::Authorized(payment) => {
            (StatusCode::CREATED, Json(payment)).into_response()
        }
        PaymentOutcome::Held(payment) => (StatusCode::ACCEPTED, Json(payment)).into_response(),
        PaymentOutcome::Refused {
            payment_id,
            refusals,
        } => {
            let authority = refusals.iter().find(|r| r.code == RuleCode::NoAuthority);
            let (status, first) = match authority {
                Some(r) => (StatusCode::FORBIDDEN, Some(r)),
                None => (StatusCode::UNPROCESSABLE_ENTITY, refusals.first()),
            };
            let (code, message) = first
                .map(|r| (r.code.as_str(), r.message.clone()))
                .unwrap_or(("refused", "The payment was refused.".to_owned()));
            let details: Vec<_> = refusals
                .iter()
                .map(|r| json!({"rule": r.code.as_str(), "message": r.message}))
                .collect();
            let body = json!({"error": {"code": code, "message": message, "details": details,
                                        "payment_id": payment_id}});
            (status, Json(body)).into_response()
        }
    };
    idempotency::with_replay(response, ran.replayed)
}

/// Pay someone from a budget's deployment account. The rules decide: 201 posted, 202 held for
/// approval (the money is reserved), 403 `no_authority`, or 422 with the failed rule's code and
/// one detail per failed rule. Refusals are recorded as decisions too.
#[utoipa::path(post, path = "/api/v1/payments", tag = "payments", security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "1 to 255 visible ASCII characters")),
    request_body = NewPayment,
    responses((status = 201, body = Payment, description = "posted"),
        (status = 202, body = Payment, description = "held: pending_approval, with approvals_required"),
        (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope, description = "no_authority"),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope, description = "a spending rule refused it")))]
pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    key: Result<IdempotencyKey, ApiError>,
    body: Result<Json<NewPayment>, ApiError>,
) -> ApiResult<Response> {
    let key = key?;
    let Json(body) = body?;
    check_dates(&body)?;
    let path = "/api/v1/payments";
    let claim = idempotency::claim(&key, "POST /api/v1/payments", actor.user_id, path, &body)?;
    let ran = state.payments.pay(&actor, body, Some(claim)).await?;
    Ok(outcome_response(&ran))
}

/// Holds the payment's dates to the range of [`crate::dates`] (its type lives with the payments
/// service, so the check is made here rather than as it is read).
pub(crate) fn check_dates(new: &NewPayment) -> crate::error::AppResult<()> {
    crate::dates::check(&[
        ("service_date", Some(new.service_date)),
        ("stay_from", new.stay_from),
        ("stay_to", new.stay_to),
    ])
}

/// A payment with its decision.
#[utoipa::path(get, path = "/api/v1/payments/{id}", tag = "payments", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Payment), (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Payment>> {
    let payment = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { spend::visible_payment(tx, &actor, id).await })
        })
        .await?;
    Ok(Json(payment))
}

/// Approve a held payment: posts it, or waits for the next co-signer. 403 `approver_conflict`
/// for the person who asked for it; 403 `no_authority` for someone who may not approve it.
#[utoipa::path(post, path = "/api/v1/payments/{id}/approve", tag = "payments", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Payment), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "not waiting for approval (resolved or expired)")))]
pub async fn approve(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Payment>> {
    let now = state.clock.now();
    let payment = crate::commands::write(&state.pool, actor.council_id, |tx| {
        let actor = actor.clone();
        Box::pin(async move { spend::approve(tx, &actor, id, now).await })
    })
    .await?;
    Ok(Json(payment))
}

/// Reject a held payment: its hold is voided and the money released.
#[utoipa::path(post, path = "/api/v1/payments/{id}/reject", tag = "payments", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Payment), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope)))]
pub async fn reject(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Payment>> {
    let now = state.clock.now();
    let payment = crate::commands::write(&state.pool, actor.council_id, |tx| {
        let actor = actor.clone();
        Box::pin(async move { spend::reject(tx, &actor, id, now).await })
    })
    .await?;
    Ok(Json(payment))
}

/// Held payments the caller could approve now.
#[utoipa::path(get, path = "/api/v1/approvals", tag = "payments", security(("bearer" = [])),
    responses((status = 200, body = List<Payment>), (status = 401, body = ErrorEnvelope)))]
pub async fn queue(State(state): State<AppState>, actor: Actor) -> ApiResult<Json<List<Payment>>> {
    let now = state.clock.now();
    let items = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { spend::approvals_queue(tx, &actor, now).await })
        })
        .await?;
    Ok(Json(List::all(items)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DecisionsQuery {
    /// Newest decisions first, at most this many (1 to 500, default 100).
    pub limit: Option<u32>,
}

/// The budget's decision log: `items` are the payment requests and what the rules decided;
/// `surplus_notices` the council's surplus notices on the budget's accounts the caller may see,
/// each with its events (issued, reconsideration requested, decided, recovered).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct DecisionLog {
    pub items: Vec<Payment>,
    /// Always absent: the log is one page.
    pub next_cursor: Option<String>,
    pub surplus_notices: Vec<crate::budgets::surplus::SurplusNotice>,
}

/// The budget's decision log: every payment request and what the rules decided, and the surplus
/// notices with their reconsiderations, decisions and recoveries.
#[utoipa::path(get, path = "/api/v1/budgets/{id}/decisions", tag = "payments", security(("bearer" = [])),
    params(("id" = Uuid, Path), DecisionsQuery),
    responses((status = 200, body = DecisionLog), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn decisions(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(query): Query<DecisionsQuery>,
) -> ApiResult<Json<DecisionLog>> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(crate::error::AppError::invalid("limit", "1 to 500").into());
    }
    let log = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                let items = spend::decisions(tx, &actor, id, i64::from(limit)).await?;
                let surplus_notices = crate::budgets::surplus::of_budget(tx, &actor, id).await?;
                Ok(DecisionLog {
                    items,
                    next_cursor: None,
                    surplus_notices,
                })
            })
        })
        .await?;
    Ok(Json(log))
}
