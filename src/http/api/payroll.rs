//! Payroll runs: the payroll bureau's payslips for personal assistants, checked and paid through
//! the payment path.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;

use crate::auth::Actor;
use crate::error::AppError;
use crate::http::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{body_rejection, Json, Query};
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::AppState;
use crate::providers::payroll::{self, NewPayrollRun, PayrollRun};
use crate::providers::payroll_csv::{self, RunHeader};

/// The run's header when the payslips come as CSV (`Content-Type: text/csv`).
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CsvRunQuery {
    /// The pay period's first day (CSV only; in the JSON body otherwise).
    #[param(value_type = Option<String>, example = "2025-02-03")]
    pub period_start: Option<String>,
    /// The pay period's last day (CSV only).
    #[param(value_type = Option<String>, example = "2025-02-09")]
    pub period_end: Option<String>,
    /// The pay day (CSV only).
    #[param(value_type = Option<String>, example = "2025-02-14")]
    pub pay_date: Option<String>,
    /// The payee tax and National Insurance are paid to (CSV only).
    pub hmrc_payee_id: Option<uuid::Uuid>,
    /// The pension scheme (CSV only; required when a payslip has pension).
    pub pension_payee_id: Option<uuid::Uuid>,
}

/// The CSV's header from the query: every field but the pension payee required (400 naming it).
fn csv_header(query: CsvRunQuery) -> Result<RunHeader, ApiError> {
    let date = |name: &str, value: Option<String>| -> Result<chrono::NaiveDate, ApiError> {
        let value = value.ok_or_else(|| {
            ApiError::from(AppError::invalid(
                name,
                "required as a query parameter with a CSV file",
            ))
        })?;
        chrono::NaiveDate::parse_from_str(&value, "%Y-%m-%d")
            .map_err(|_| AppError::invalid(name, "a date like 2025-02-03").into())
    };
    Ok(RunHeader {
        period_start: date("period_start", query.period_start)?,
        period_end: date("period_end", query.period_end)?,
        pay_date: date("pay_date", query.pay_date)?,
        hmrc_payee_id: query.hmrc_payee_id.ok_or_else(|| {
            ApiError::from(AppError::invalid(
                "hmrc_payee_id",
                "required as a query parameter with a CSV file",
            ))
        })?,
        pension_payee_id: query.pension_payee_id,
    })
}

fn is_csv(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("text/csv"))
}

/// Load a payroll run: every payslip must add up (gross − tax − employee NI − employee pension =
/// net; 422 `payslip_does_not_add_up` naming the payslip), be for a personal assistant of a
/// budget whose money the caller holds (404 otherwise), and, where the PA has timesheets in the
/// period, not be for more than the approved ones (422 `timesheet_not_approved` /
/// `payslip_exceeds_timesheets`); otherwise nothing is paid. Then each payslip is paid through
/// the rules — net pay to the PA (`personal_assistant`), tax and both NI to `hmrc_payee_id`,
/// both pensions to `pension_payee_id` (`employment_costs`) — and reported per payslip: a payslip
/// whose net pay is refused is reported with the rules' codes and nothing else of it is paid; the
/// rest go through. The same Idempotency-Key and body again gives the recorded run.
///
/// The payslips may come as CSV (`Content-Type: text/csv`), one row per payslip with the columns
/// `budget_id`, `payee_id`, `gross`, `tax`, `employee_ni`, `employer_ni`, `employee_pension`,
/// `employer_pension`, `net` and optionally `deployment`, in any order; the period, pay date and
/// payees are then query parameters. A missing or unknown column or a row that cannot be read is
/// 400 naming it; refusals of a payslip name its row (`details[].row`, the header is row 1). The
/// file is checked and paid by the same service as the JSON.
#[utoipa::path(post, path = "/api/v1/payroll-runs", tag = "payroll", security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "1 to 255 visible ASCII characters"),
        CsvRunQuery),
    request_body(content((NewPayrollRun = "application/json"),
        (String = "text/csv", example = "budget_id,payee_id,gross,tax,employee_ni,employer_ni,employee_pension,employer_pension,net"))),
    responses((status = 201, body = PayrollRun), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "idempotency_key_reused or payslip_already_paid"),
        (status = 413, body = ErrorEnvelope), (status = 415, body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope, description = "payslip_does_not_add_up, timesheet_not_approved, payslip_exceeds_timesheets or invalid_amount")))]
pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    key: Result<IdempotencyKey, ApiError>,
    query: Result<Query<CsvRunQuery>, ApiError>,
    request: Request,
) -> ApiResult<Response> {
    let key = key?;
    let Query(query) = query?;
    let csv = is_csv(request.headers());
    let body = if csv {
        let header = csv_header(query)?;
        let bytes = Bytes::from_request(request, &state)
            .await
            .map_err(body_rejection)?;
        payroll_csv::parse(&bytes, header)?
    } else {
        if query.period_start.is_some()
            || query.period_end.is_some()
            || query.pay_date.is_some()
            || query.hmrc_payee_id.is_some()
            || query.pension_payee_id.is_some()
        {
            return Err(AppError::invalid(
                "query",
                "query parameters are for a CSV file; a JSON run carries them in its body",
            )
            .into());
        }
        let Json(body) = Json::<NewPayrollRun>::from_request(request, &state).await?;
        body
    };
    load(&state, &actor, &key, &body)
        .await
        .map_err(|e| {
            if csv {
                ApiError::from(payroll_csv::with_rows(e))
            } else {
                e.into()
            }
        })
        .and_then(|ran| idempotency::respond::<PayrollRun>(StatusCode::CREATED, &ran))
}

/// Checks and pays a run, JSON or CSV alike: the one path both take.
pub(crate) async fn load(
    state: &AppState,
    actor: &Actor,
    key: &IdempotencyKey,
    body: &NewPayrollRun,
) -> Result<crate::commands::Ran<PayrollRun>, AppError> {
    let claim = crate::commands::Claim::new(
        &key.0,
        "POST /api/v1/payroll-runs",
        actor.user_id,
        "/api/v1/payroll-runs",
        body,
    )?;
    let now = state.clock.now();
    payroll::run(
        &state.pool,
        &state.payments,
        actor,
        body,
        &key.0,
        claim,
        now,
    )
    .await
}
