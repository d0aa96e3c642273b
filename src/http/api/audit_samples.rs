//! Reproducible audit samples and findings (auditors only). The sampling rule is in
//! [`crate::audit::samples`] and the README.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::List;
use crate::audit::samples::{self, Sample, SampleRequest};
use crate::audit::{findings, Finding, NewFinding};
use crate::auth::{Actor, Role};
use crate::evidence::csv;
use crate::http::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{Json, Path, Query};
use crate::http::AppState;

/// Draw a sample: payments posted in `from..=to` (and of at least `min_amount`, of the given
/// deployments) ordered by SHA-256(seed ‖ payment id), the first `size`.
#[utoipa::path(post, path = "/api/v1/audit/samples", tag = "audit", security(("bearer" = [])),
    request_body = SampleRequest,
    responses((status = 201, body = Sample), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope)))]
pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    body: Result<Json<SampleRequest>, ApiError>,
) -> ApiResult<Response> {
    actor.require(&[Role::Auditor])?;
    let Json(body) = body?;
    let (id, now) = (Uuid::new_v4(), state.clock.now());
    let sample = state
        .write(actor.council_id, |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(async move { samples::draw(tx, &actor, id, &body, now).await })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(sample)).into_response())
}

/// The council's samples, newest first.
#[utoipa::path(get, path = "/api/v1/audit/samples", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = List<Sample>), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope)))]
pub async fn list(State(state): State<AppState>, actor: Actor) -> ApiResult<Json<List<Sample>>> {
    let items = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { samples::list(tx, &actor).await })
        })
        .await?;
    Ok(Json(List::all(items)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SampleQuery {
    /// `csv` for CSV (as does `Accept: text/csv`); JSON otherwise.
    pub format: Option<String>,
}

/// A sample with its findings, as JSON or (`?format=csv` or `Accept: text/csv`) CSV: one row per
/// sampled payment in sampling order with its latest finding.
#[utoipa::path(get, path = "/api/v1/audit/samples/{id}", tag = "audit", security(("bearer" = [])),
    params(("id" = Uuid, Path), SampleQuery),
    responses((status = 200, body = Sample), (status = 200, content_type = "text/csv", body = String),
        (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(query): Query<SampleQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let as_csv = match query.format.as_deref() {
        Some("csv") => true,
        Some("json") => false,
        Some(_) => {
            return Err(ApiError::invalid_request(
                "Query parameter format: `csv` or `json`.",
                vec![crate::error::Detail::field("format", "csv or json")],
            ))
        }
        None => headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/csv")),
    };
    let (sample, rows) = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                let sample = samples::get(tx, &actor, id).await?;
                let rows = if as_csv {
                    samples::payments(tx, actor.council_id, &sample).await?
                } else {
                    Vec::new()
                };
                Ok((sample, rows))
            })
        })
        .await?;
    if !as_csv {
        return Ok(Json(sample).into_response());
    }
    let mut text = csv::line([
        "position",
        "payment_id",
        "budget_id",
        "deployment",
        "payee",
        "amount",
        "posted_on",
        "finding",
        "note",
    ]);
    for row in rows {
        let latest = sample
            .findings
            .iter()
            .rev()
            .find(|f| f.payment_id == row.payment_id);
        text.push_str(&csv::line([
            row.position.to_string(),
            row.payment_id.to_string(),
            row.budget_id.to_string(),
            row.deployment,
            row.payee_name,
            format!("{:.2}", row.amount),
            row.posted_on.map(|d| d.to_string()).unwrap_or_default(),
            latest
                .map(|f| f.outcome.as_str().to_owned())
                .unwrap_or_default(),
            latest.map(|f| f.note.clone()).unwrap_or_default(),
        ]));
    }
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], text).into_response())
}

/// Record a finding on a sampled payment (422 `not_in_sample` for a payment the sample does not
/// hold).
#[utoipa::path(post, path = "/api/v1/audit/samples/{id}/findings", tag = "audit", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = NewFinding,
    responses((status = 201, body = Finding), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn record_finding(
    State(state): State<AppState>,
    actor: Actor,
    Path(sample_id): Path<Uuid>,
    body: Result<Json<NewFinding>, ApiError>,
) -> ApiResult<Response> {
    actor.require(&[Role::Auditor])?;
    let Json(body) = body?;
    let (id, now) = (Uuid::new_v4(), state.clock.now());
    let finding = state
        .write(actor.council_id, |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(async move { findings::record(tx, &actor, sample_id, id, &body, now).await })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(finding)).into_response())
}
