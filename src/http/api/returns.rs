//! Monitoring returns to the council: an organisation's return over a period (JSON or CSV), its
//! submission as a hashed snapshot, and the council's list of submitted and overdue returns.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::List;
use crate::auth::Actor;
use crate::error::AppError;
use crate::http::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{Json, Path, Query};
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::AppState;
use crate::providers::returns::{
    self, Period, Return, ReturnListItem, ReturnStatus, SubmittedReturn,
};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReturnQuery {
    /// First day (default: the first day of the last full quarter).
    pub from: Option<NaiveDate>,
    /// Last day, included (default: the last day of the last full quarter).
    pub to: Option<NaiveDate>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

fn period(state: &AppState, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Period {
    let quarter = returns::last_full_quarter(state.clock.today());
    Period {
        from: from.unwrap_or(quarter.from),
        to: to.unwrap_or(quarter.to),
    }
}

fn wants_csv(query: &ReturnQuery, headers: &HeaderMap) -> Result<bool, ApiError> {
    match query.format.as_deref() {
        Some("csv") => Ok(true),
        Some("json") => Ok(false),
        Some(_) => Err(AppError::invalid("format", "must be `json` or `csv`").into()),
        None => Ok(headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| {
                accept
                    .split(',')
                    .any(|m| m.split(';').next().unwrap_or("").trim() == "text/csv")
            })),
    }
}

/// An organisation's monitoring return: one row per client account it holds, every figure from
/// the ledger — opening balance, council money in (payment-run releases), contributions in,
/// spending by category (reversed payments not counted), other movements, closing balance,
/// weeks of funding, surplus above the council's policy, payments without evidence and
/// unmatched bank lines. `?format=csv` or `Accept: text/csv` for CSV. Its staff (their own
/// organisation only), finance officers and auditors.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/returns", tag = "returns", security(("bearer" = [])),
    params(("id" = Uuid, Path), ReturnQuery),
    responses((status = 200, body = Return, content_type = "application/json"),
        (status = 200, body = String, content_type = "text/csv"),
        (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    Query(query): Query<ReturnQuery>,
) -> ApiResult<Response> {
    let csv = wants_csv(&query, &headers)?;
    let period = period(&state, query.from, query.to);
    let ret = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { returns::compute(tx, &actor, id, period).await })
        })
        .await?;
    if csv {
        let body = returns::to_csv(&ret)?;
        let disposition = format!(
            "attachment; filename=\"return-{}-{}-{}.csv\"",
            ret.organisation_id, ret.from, ret.to
        );
        Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            body,
        )
            .into_response())
    } else {
        Ok(Json(ret).into_response())
    }
}

/// The period a return is submitted for.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReturn {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// Submit the organisation's return for a period (its staff only): the return as computed now,
/// stored with the SHA-256 of its JSON and never changed. The same period again is 409
/// `return_already_submitted`. `Idempotency-Key` is optional; with one, the same key and body
/// again gives the stored answer.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/returns", tag = "returns", security(("bearer" = [])),
    params(("id" = Uuid, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "optional; 1 to 255 visible ASCII characters")),
    request_body = NewReturn,
    responses((status = 201, body = SubmittedReturn), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "return_already_submitted or idempotency_key_reused")))]
pub async fn submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    body: Result<Json<NewReturn>, ApiError>,
) -> ApiResult<Response> {
    let Json(body) = body?;
    let key = match headers.contains_key(idempotency::HEADER) {
        true => Some(IdempotencyKey::from_headers(&headers)?),
        false => None,
    };
    let path = format!("/api/v1/organisations/{id}/returns");
    let claim = key
        .map(|key| {
            idempotency::claim(
                &key,
                "POST /api/v1/organisations/{id}/returns",
                actor.user_id,
                &path,
                &body,
            )
        })
        .transpose()?;
    let now = state.clock.now();
    let period = Period {
        from: body.from,
        to: body.to,
    };
    let ran = state
        .command(actor.council_id, claim.as_ref(), |tx| {
            let actor = actor.clone();
            Box::pin(async move { returns::submit(tx, &actor, id, period, now).await })
        })
        .await?;
    idempotency::respond::<SubmittedReturn>(StatusCode::CREATED, &ran)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReturnListQuery {
    /// `submitted` or `overdue` (default: both).
    #[param(value_type = Option<String>)]
    pub status: Option<ReturnStatus>,
}

/// The council's returns: submitted ones (newest first), then overdue ones — an organisation
/// holding client accounts with no submitted return covering the last full quarter. Finance
/// officers and auditors.
#[utoipa::path(get, path = "/api/v1/returns", tag = "returns", security(("bearer" = [])),
    params(ReturnListQuery),
    responses((status = 200, body = List<ReturnListItem>), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
    Query(query): Query<ReturnListQuery>,
) -> ApiResult<Json<List<ReturnListItem>>> {
    let today = state.clock.today();
    let items = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { returns::list(tx, &actor, query.status, today).await })
        })
        .await?;
    Ok(Json(List::all(items)))
}
