//! Payroll runs: the payroll bureau's payslips for personal assistants, checked and paid through
//! the payment path.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::auth::Actor;
use crate::http::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::Json;
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::AppState;
use crate::providers::payroll::{self, NewPayrollRun, PayrollRun};

/// Load a payroll run: every payslip must add up (gross − tax − employee NI − employee pension =
/// net; 422 `payslip_does_not_add_up` naming the payslip), be for a personal assistant of a
/// budget whose money the caller holds (404 otherwise), and, where the PA has timesheets in the
/// period, not be for more than the approved ones (422 `timesheet_not_approved` /
/// `payslip_exceeds_timesheets`); otherwise nothing is paid. Then each payslip is paid through
/// the rules — net pay to the PA (`personal_assistant`), tax and both NI to `hmrc_payee_id`,
/// both pensions to `pension_payee_id` (`employment_costs`) — and reported per payslip: a payslip
/// whose net pay is refused is reported with the rules' codes and nothing else of it is paid; the
/// rest go through. The same Idempotency-Key and body again gives the recorded run.
#[utoipa::path(post, path = "/api/v1/payroll-runs", tag = "payroll", security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "1 to 255 visible ASCII characters")),
    request_body = NewPayrollRun,
    responses((status = 201, body = PayrollRun), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "idempotency_key_reused"),
        (status = 422, body = ErrorEnvelope, description = "payslip_does_not_add_up, timesheet_not_approved, payslip_exceeds_timesheets or invalid_amount")))]
pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    key: Result<IdempotencyKey, ApiError>,
    body: Result<Json<NewPayrollRun>, ApiError>,
) -> ApiResult<Response> {
    let key = key?;
    let Json(body) = body?;
    let claim = idempotency::claim(
        &key,
        "POST /api/v1/payroll-runs",
        actor.user_id,
        "/api/v1/payroll-runs",
        &body,
    )?;
    let now = state.clock.now();
    let ran = payroll::run(
        &state.pool,
        &state.payments,
        &actor,
        &body,
        &key.0,
        claim,
        now,
    )
    .await?;
    idempotency::respond::<PayrollRun>(StatusCode::CREATED, &ran)
}
