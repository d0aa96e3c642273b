//! Surplus monitoring and recovery with notice: the council's surplus list, notices (letters kept
//! with their SHA-256), reconsideration and its decision, and recovery through the ledger.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use super::List;
use crate::auth::Actor;
use crate::budgets::surplus::{
    self, Decision, NewNotice, Reconsideration, Recovery, SurplusItem, SurplusNotice,
};
use crate::http::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{Json, Path, Query};
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SurplusQuery {
    /// The day whose closing balances are assessed (default today; not after today).
    pub as_of: Option<NaiveDate>,
}

/// The surplus list: every direct-payment, managed-account and ISF account with its balance at
/// the end of `as_of`, weekly amount, weeks of funding, commitments (pending holds, invoices
/// received and not yet paid, approved timesheets no payroll run has paid — as they stand now),
/// the policy threshold (`surplus_weeks_dp`, `surplus_weeks_isf`) and the surplus above it
/// (finance officers, auditors, care managers).
#[utoipa::path(get, path = "/api/v1/surplus", tag = "surplus", security(("bearer" = [])),
    params(SurplusQuery),
    responses((status = 200, body = List<SurplusItem>), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
    Query(query): Query<SurplusQuery>,
) -> ApiResult<Json<List<SurplusItem>>> {
    let today = state.clock.today();
    let as_of = query.as_of.unwrap_or(today);
    let items = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { surplus::list(tx, &actor, as_of, today).await })
        })
        .await?;
    Ok(Json(List::all(items)))
}

/// Issue a surplus notice (finance officers): `amount` at most the account's surplus now (422
/// `exceeds_surplus`), `reasons` in plain words; the deadline is the issue date plus the policy's
/// `surplus_notice_weeks`. The letter is stored exactly as sent with its SHA-256 and printed at
/// `/surplus-notices/{id}`. Another notice still open on the account: 409.
#[utoipa::path(post, path = "/api/v1/budgets/{id}/surplus-notices", tag = "surplus",
    security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = NewNotice,
    responses((status = 201, body = SurplusNotice), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope, description = "exceeds_surplus or invalid_amount")))]
pub async fn issue(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    body: Result<Json<NewNotice>, ApiError>,
) -> ApiResult<Response> {
    actor.require(&[crate::auth::Role::FinanceOfficer])?;
    let Json(body) = body?;
    let now = state.clock.now();
    let notice = state
        .write(actor.council_id, |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(async move { surplus::issue(tx, &actor, id, &body, now).await })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(notice)).into_response())
}

/// The council's surplus notices, newest first (finance officers, auditors, care managers).
#[utoipa::path(get, path = "/api/v1/surplus-notices", tag = "surplus", security(("bearer" = [])),
    responses((status = 200, body = List<SurplusNotice>), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope)))]
pub async fn notices(
    State(state): State<AppState>,
    actor: Actor,
) -> ApiResult<Json<List<SurplusNotice>>> {
    let items = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { surplus::all(tx, &actor).await })
        })
        .await?;
    Ok(Json(List::all(items)))
}

/// A surplus notice with its letter and what happened to it (council staff; the person, their
/// representatives and the holder's staff for accounts they may see; 404 otherwise).
#[utoipa::path(get, path = "/api/v1/surplus-notices/{id}", tag = "surplus",
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = SurplusNotice), (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<SurplusNotice>> {
    let notice = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { surplus::get(tx, &actor, id).await })
        })
        .await?;
    Ok(Json(notice))
}

/// Ask for a notice to be reconsidered (the person, a representative with a grant on the budget,
/// or staff of the organisation holding the account): the notice becomes
/// `under_reconsideration` and nothing is recovered until it is decided. Council staff: 403;
/// a notice on an account the caller may not see: 404; a notice not issued: 409.
#[utoipa::path(post, path = "/api/v1/surplus-notices/{id}/reconsideration", tag = "surplus",
    security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = Reconsideration,
    responses((status = 200, body = SurplusNotice), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn reconsider(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    body: Result<Json<Reconsideration>, ApiError>,
) -> ApiResult<Json<SurplusNotice>> {
    let Json(body) = body?;
    let now = state.clock.now();
    let notice = state
        .write(actor.council_id, |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(async move { surplus::reconsider(tx, &actor, id, &body, now).await })
        })
        .await?;
    Ok(Json(notice))
}

/// Decide a reconsideration: `upheld`, `reduced` (with the new `amount`) or `withdrawn`, with
/// reasons — by a care manager or finance officer other than the one who issued the notice (403
/// `approver_conflict`). No reconsideration open: 409.
#[utoipa::path(post, path = "/api/v1/surplus-notices/{id}/decision", tag = "surplus",
    security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = Decision,
    responses((status = 200, body = SurplusNotice), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope, description = "invalid_amount")))]
pub async fn decide(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    body: Result<Json<Decision>, ApiError>,
) -> ApiResult<Json<SurplusNotice>> {
    actor.require(&[
        crate::auth::Role::CareManager,
        crate::auth::Role::FinanceOfficer,
    ])?;
    let Json(body) = body?;
    let now = state.clock.now();
    let notice = state
        .write(actor.council_id, |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(async move { surplus::decide(tx, &actor, id, &body, now).await })
        })
        .await?;
    Ok(Json(notice))
}

/// Recover a notice's amount (finance officers): a ledger entry from the account to the council's
/// recovered-funds account, dated today. 422 `notice_period_not_elapsed` on or before the
/// deadline, `under_reconsideration` while a reconsideration is open, `below_commitments` when
/// the account holds no more than it owes (pending holds, unpaid invoices, payroll due); the
/// amount is capped at the balance less those commitments and the rest recorded as `shortfall`
/// (a later recovery may take it). Same key and body again: the first answer.
#[utoipa::path(post, path = "/api/v1/surplus-notices/{id}/recover", tag = "surplus",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("Idempotency-Key" = String, Header, description = "1 to 255 visible ASCII characters")),
    responses((status = 201, body = Recovery), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope, description = "notice_period_not_elapsed, under_reconsideration or below_commitments")))]
pub async fn recover(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    key: Result<IdempotencyKey, ApiError>,
) -> ApiResult<Response> {
    actor.require(&[crate::auth::Role::FinanceOfficer])?;
    let key = key?;
    let path = format!("/api/v1/surplus-notices/{id}/recover");
    let claim = idempotency::claim(
        &key,
        "POST /api/v1/surplus-notices/{id}/recover",
        actor.user_id,
        &path,
        &(),
    )?;
    let now = state.clock.now();
    let ran = state
        .command(actor.council_id, Some(&claim), |tx| {
            let actor = actor.clone();
            Box::pin(async move { surplus::recover(tx, &actor, id, now).await })
        })
        .await?;
    idempotency::respond::<Recovery>(StatusCode::CREATED, &ran)
}
