//! `POST /api/v1/invoices/import`: invoices as CSV, one row per invoice line, with a result for
//! every row.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Actor;
use crate::http::error::{ApiError, ApiResult, ErrorBody, ErrorEnvelope};
use crate::http::extract::{body_rejection, Json, Query};
use crate::http::AppState;
use crate::providers::invoice_import::{self, ImportReport};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Record the invoices that can be, and report the others (default: all or nothing).
    #[serde(default)]
    pub partial: bool,
}

/// What became of one row.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    /// Its invoice was recorded.
    Imported,
    /// Its invoice was not recorded (only with `partial=true`; otherwise nothing is).
    Refused,
}

/// One row's result.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RowResult {
    /// The row (the header is row 1).
    pub row: usize,
    pub status: RowStatus,
    pub invoice_number: Option<String>,
    /// The invoice recorded from this row and the others of the same invoice number.
    pub invoice_id: Option<Uuid>,
    /// Why its invoice was refused.
    pub error: Option<ErrorBody>,
}

/// What an import came to.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ImportResult {
    /// Rows of invoice lines in the file.
    pub rows: usize,
    pub imported_invoices: usize,
    pub imported_rows: usize,
    pub refused_rows: usize,
    /// One per row, in file order.
    pub results: Vec<RowResult>,
}

impl From<&ImportReport> for ImportResult {
    fn from(report: &ImportReport) -> Self {
        let mut results = Vec::with_capacity(report.rows);
        for invoice in &report.invoices {
            for row in &invoice.rows {
                let (status, invoice_id, error) = match &invoice.result {
                    Ok(recorded) => (RowStatus::Imported, Some(recorded.id), None),
                    Err(e) => {
                        let api = ApiError::from(e.copy());
                        let body = ErrorBody {
                            code: api.code,
                            message: api.message,
                            details: api.details,
                        };
                        (RowStatus::Refused, None, Some(body))
                    }
                };
                results.push(RowResult {
                    row: *row,
                    status,
                    invoice_number: invoice.invoice_number.clone(),
                    invoice_id,
                    error,
                });
            }
        }
        results.sort_by_key(|r| r.row);
        let imported_rows = report.imported().map(|i| i.rows.len()).sum();
        Self {
            rows: report.rows,
            imported_invoices: report.imported().count(),
            imported_rows,
            refused_rows: report.rows - imported_rows,
            results,
        }
    }
}

/// Import invoices from CSV (`Content-Type: text/csv`), one row per invoice line. Columns, in
/// any order: `budget_id`, `deployment`, `payee_id`, `category`, `invoice_number`, `issued_on`,
/// `description`, `quantity`, `unit_price`, `total` (the invoice's total: on every line, or on
/// its first only), and optionally `due_on`, `period_from`, `period_to`. Rows with the same
/// `payee_id` and `invoice_number` are one invoice's lines. Each invoice is checked as `POST
/// /api/v1/invoices` checks it. All or nothing unless `partial=true`: a refused file answers
/// with the first refusal's status and code (400, 404, 409 `duplicate_invoice`, 422
/// `invalid_amount` or `invoice_total_mismatch`) and one detail per refused row (`row`,
/// `code`, `field` or `rule`, `message`). A missing or unknown column, malformed CSV or more than
/// 2000 rows is 400 for the file; a body over the size limit 413.
#[utoipa::path(post, path = "/api/v1/invoices/import", tag = "invoices", security(("bearer" = [])),
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv",
        description = "A header row, then one row per invoice line"),
    responses((status = 201, body = ImportResult, description = "invoices recorded (with partial=true, some rows may be refused)"),
        (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "duplicate_invoice"),
        (status = 413, body = ErrorEnvelope), (status = 415, body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope, description = "invalid_amount, invoice_total_mismatch")))]
pub async fn import(
    State(state): State<AppState>,
    actor: Actor,
    Query(query): Query<ImportQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<ImportResult>)> {
    let is_csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("text/csv"));
    if !is_csv {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the invoices as CSV with `Content-Type: text/csv`.",
        ));
    }
    let body = body.map_err(body_rejection)?;
    let report = invoice_import::import(
        &state.pool,
        &actor,
        &body,
        query.partial,
        state.clock.now(),
        Arc::new(|_, _| {}),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(ImportResult::from(&report))))
}
