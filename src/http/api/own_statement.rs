//! The person's own statement of a budget over a period, as JSON or CSV: the same figures as the
//! page `/budgets/{id}/statement`, read from the ledger.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::Actor;
use crate::budgets::own_statement::{self, OwnStatement};
use crate::error::AppError;
use crate::http::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{Json, Path, Query};
use crate::http::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OwnStatementQuery {
    /// First day (default: the start of the plan year, the latest anniversary of the budget's
    /// start).
    pub from: Option<NaiveDate>,
    /// Last day, included (default: today).
    pub to: Option<NaiveDate>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

fn wants_csv(format: Option<&str>, headers: &HeaderMap) -> Result<bool, ApiError> {
    match format {
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

/// The person's statement of a budget: money in, spending by plan category against the plan
/// (weekly amount × weeks in the period), money left and the whole weeks it lasts at the plan's
/// weekly total, payments waiting for approval and whom to contact. Every figure from the ledger.
/// `?format=csv` or `Accept: text/csv` for CSV. The person, representatives with a grant on the
/// budget and staff who may see it; anyone else 404.
#[utoipa::path(get, path = "/api/v1/budgets/{id}/statement", tag = "budgets", security(("bearer" = [])),
    params(("id" = Uuid, Path), OwnStatementQuery),
    responses((status = 200, body = OwnStatement, content_type = "application/json"),
        (status = 200, body = String, content_type = "text/csv"),
        (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    Query(query): Query<OwnStatementQuery>,
) -> ApiResult<Response> {
    let csv = wants_csv(query.format.as_deref(), &headers)?;
    let today = state.clock.today();
    let (from, to) = (query.from, query.to);
    let statement = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(
                async move { own_statement::own_statement(tx, &actor, id, from, to, today).await },
            )
        })
        .await?;
    if csv {
        let body = own_statement::to_csv(&statement)?;
        let disposition = format!(
            "attachment; filename=\"statement-{}-{}-{}.csv\"",
            statement.reference, statement.from, statement.to
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
        Ok(Json(statement).into_response())
    }
}
