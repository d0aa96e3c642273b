//! Statutory returns from the books: SALT LTS001b-style delivery-mechanism counts with ASCOF 3D,
//! and Client Level Data rows as CSV.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;

use crate::auth::Actor;
use crate::http::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::{Json, Query};
use crate::http::AppState;
use crate::reports::{cld, delivery};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AsOfQuery {
    /// The day counted, `YYYY-MM-DD` (SALT counts at the year end, 31 March).
    pub as_of: NaiveDate,
}

/// Adults (18 and over on `as_of`) in long-term community support on `as_of` by delivery
/// mechanism — `direct_payment_only`, `part_direct_payment`, `cassr_managed_personal_budget`,
/// `cassr_commissioned_support_only` — each person counted once, by age band (18–64, 65 and
/// over), with ASCOF 3D parts 1a and 2a. Finance officers, auditors, care managers and council
/// administrators.
#[utoipa::path(get, path = "/api/v1/reports/delivery-mechanism", tag = "reports",
    security(("bearer" = [])), params(AsOfQuery),
    responses((status = 200, body = delivery::DeliveryMechanismReport),
        (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope)))]
pub async fn delivery_mechanism(
    State(state): State<AppState>,
    actor: Actor,
    Query(query): Query<AsOfQuery>,
) -> ApiResult<Json<delivery::DeliveryMechanismReport>> {
    let report = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { delivery::delivery_mechanism(tx, &actor, query.as_of).await })
        })
        .await?;
    Ok(Json(report))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PeriodQuery {
    /// First day of the period, `YYYY-MM-DD`.
    pub from: NaiveDate,
    /// Last day, included (at most three years after `from`).
    pub to: NaiveDate,
}

/// Client Level Data (R2) as CSV: one row per plan line in force on some day of `from..=to`,
/// with the R2 headings of the fields allot holds. Finance officers, auditors, care managers and
/// council administrators.
#[utoipa::path(get, path = "/api/v1/reports/cld", tag = "reports", security(("bearer" = [])),
    params(PeriodQuery),
    responses((status = 200, body = String, content_type = "text/csv"),
        (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope)))]
pub async fn cld(
    State(state): State<AppState>,
    actor: Actor,
    Query(query): Query<PeriodQuery>,
) -> ApiResult<Response> {
    let (from, to) = (query.from, query.to);
    let rows = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { cld::rows(tx, &actor, from, to).await })
        })
        .await?;
    let body = cld::to_csv(from, to, &rows)?;
    Ok(csv_response(&format!("cld-{from}-{to}.csv"), body))
}

/// A CSV download.
pub(crate) fn csv_response(filename: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}
