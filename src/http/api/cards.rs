//! Payment cards (issue 14): the registry (`/api/v1/cards`, finance officers) and the card
//! processors' signed events (`/api/v1/card-events`, no bearer token: the Standard Webhooks
//! signature is the authentication).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use uuid::Uuid;

use super::List;
use crate::auth::Actor;
use crate::cards::events::{self, Desk, Received};
use crate::cards::exceptions::{self, CardException, Review};
use crate::cards::signature::Signed;
use crate::cards::{registry, Card, CardAction, NewCard};
use crate::http::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{Json, Path, Query};
use crate::http::AppState;

/// Register a card on a direct-payment or managed-account account (finance officers).
#[utoipa::path(post, path = "/api/v1/cards", tag = "cards", security(("bearer" = [])),
    request_body = NewCard,
    responses((status = 201, body = Card), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "card reference registered already, or no processor")))]
pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    Json(body): Json<NewCard>,
) -> ApiResult<(StatusCode, Json<Card>)> {
    let card = state
        .write(actor.council_id, |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(async move { registry::create(tx, &actor, &body).await })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(card)))
}

/// The council's cards (council staff).
#[utoipa::path(get, path = "/api/v1/cards", tag = "cards", security(("bearer" = [])),
    responses((status = 200, body = List<Card>), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope)))]
pub async fn list(State(state): State<AppState>, actor: Actor) -> ApiResult<Json<List<Card>>> {
    let cards = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { registry::list(tx, &actor).await })
        })
        .await?;
    Ok(Json(List::all(cards)))
}

/// One card (council staff).
#[utoipa::path(get, path = "/api/v1/cards/{id}", tag = "cards", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Card), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Card>> {
    let card = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { registry::get(tx, &actor, id).await })
        })
        .await?;
    Ok(Json(card))
}

async fn change(
    state: AppState,
    actor: Actor,
    id: Uuid,
    action: CardAction,
) -> ApiResult<Json<Card>> {
    let card = state
        .write(actor.council_id, |tx| {
            let actor = actor.clone();
            Box::pin(async move { registry::change(tx, &actor, id, action).await })
        })
        .await?;
    Ok(Json(card))
}

/// Freeze a card: its authorisations are declined `card_frozen` until it is unfrozen.
#[utoipa::path(post, path = "/api/v1/cards/{id}/freeze", tag = "cards", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Card), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "the card is cancelled")))]
pub async fn freeze(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Card>> {
    change(state, actor, id, CardAction::Freeze).await
}

/// Unfreeze a frozen card.
#[utoipa::path(post, path = "/api/v1/cards/{id}/unfreeze", tag = "cards", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Card), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "the card is cancelled")))]
pub async fn unfreeze(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Card>> {
    change(state, actor, id, CardAction::Unfreeze).await
}

/// Cancel a card for good: its authorisations are declined `card_cancelled`.
#[utoipa::path(post, path = "/api/v1/cards/{id}/cancel", tag = "cards", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Card), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn cancel(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Card>> {
    change(state, actor, id, CardAction::Cancel).await
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExceptionsQuery {
    /// `open` (the default: not yet reviewed), `reviewed` or `all`.
    #[param(example = "open")]
    pub status: Option<String>,
}

/// Card money moved without allot's approval at the time (force captures, stand-in
/// authorisations and captures), each with the rules' verdict; newest first (finance officers,
/// auditors).
#[utoipa::path(get, path = "/api/v1/cards/exceptions", tag = "cards", security(("bearer" = [])),
    params(ExceptionsQuery),
    responses((status = 200, body = List<CardException>), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn list_exceptions(
    State(state): State<AppState>,
    actor: Actor,
    Query(query): Query<ExceptionsQuery>,
) -> ApiResult<Json<List<CardException>>> {
    let filter = exceptions::Filter::parse(query.status.as_deref())?;
    let items = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { exceptions::list(tx, &actor, filter).await })
        })
        .await?;
    Ok(Json(List::all(items)))
}

/// Mark an exception reviewed, with a note (finance officers).
#[utoipa::path(post, path = "/api/v1/cards/exceptions/{id}/review", tag = "cards",
    security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = Review,
    responses((status = 200, body = CardException), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "reviewed already")))]
pub async fn review_exception(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(body): Json<Review>,
) -> ApiResult<Json<CardException>> {
    let now = state.clock.now();
    let reviewed = state
        .write(actor.council_id, |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(async move { exceptions::review(tx, &actor, id, &body, now).await })
        })
        .await?;
    Ok(Json(reviewed))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// A card processor's signed event (Standard Webhooks: `webhook-id`, `webhook-timestamp`,
/// `webhook-signature`). `authorization.request` and `authorization.incremental` are answered 200
/// `{"approved", "decline_reason"?, "message"}` (an unknown card too); `authorization.reversal`,
/// `capture`, `force_capture` and `refund` 200 `{"recorded": true, ...}`. Force captures and
/// stand-ins (`stand_in: true`) are posted (or held) and go on the exceptions list. A replayed `webhook-id` gets its first answer. A missing, wrong,
/// stale or future signature is 401 with nothing recorded.
#[utoipa::path(post, path = "/api/v1/card-events", tag = "cards",
    params(("webhook-id" = String, Header), ("webhook-timestamp" = String, Header),
        ("webhook-signature" = String, Header, description = "v1,<base64 HMAC-SHA256 of id.timestamp.body>")),
    request_body(content = Object, description = "{\"type\": \"authorization.request\" | \"authorization.incremental\" | \"authorization.reversal\" | \"capture\" | \"force_capture\" | \"refund\", \"data\": {...}}"),
    responses((status = 200, body = Object), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope, description = "signature missing, wrong, stale or future"),
        (status = 404, body = ErrorEnvelope, description = "no such authorisation"),
        (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn card_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let signed = Signed {
        id: header(&headers, "webhook-id"),
        timestamp: header(&headers, "webhook-timestamp"),
        signature: header(&headers, "webhook-signature"),
        body: &body,
    };
    let desk = Desk {
        pool: &state.pool,
        clock: &state.clock,
        payments: &state.payments,
        processor_keys: &state.processor_keys,
        decision_budget: state.settings.card_decision_budget,
    };
    match events::receive(&desk, &signed).await? {
        Received::Answer(answer) => Ok(Json(answer)),
        Received::Unauthenticated(why) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            format!("The event's signature does not check out: {why}."),
        )),
    }
}
