//! Personal assistants' timesheets (the provider's workspace): submitted by whoever holds the
//! money the PA is paid from, approved by someone with an `approve` grant on the budget.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use uuid::Uuid;

use super::List;
use crate::auth::Actor;
use crate::http::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::{Json, Path, Query};
use crate::http::AppState;
use crate::providers::timesheets::{
    self, NewTimesheet, Timesheet, TimesheetCorrection, TimesheetFilter, TimesheetStatus,
};

/// Submit a personal assistant's timesheet for a week. Entries fall within the seven days ending
/// on `week_ending` and not after today, at most 24 hours a day; the payee is a
/// `personal_assistant` (400 otherwise). The same PA's week on this budget twice is 409
/// `duplicate_timesheet`. A week whose timesheets come to more than the plan's weekly amount for
/// personal assistants is flagged (`over_allowance`).
#[utoipa::path(post, path = "/api/v1/timesheets", tag = "timesheets", security(("bearer" = [])),
    request_body = NewTimesheet,
    responses((status = 201, body = Timesheet), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "duplicate_timesheet"),
        (status = 422, body = ErrorEnvelope, description = "invalid_amount")))]
pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    Json(body): Json<NewTimesheet>,
) -> ApiResult<(StatusCode, Json<Timesheet>)> {
    let now = state.clock.now();
    let sheet = state
        .write(actor.council_id, |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(async move { timesheets::submit(tx, &actor, &body, now).await })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(sheet)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TimesheetQuery {
    /// `submitted`, `approved` or `rejected`.
    #[param(value_type = Option<String>)]
    pub status: Option<TimesheetStatus>,
    pub budget_id: Option<Uuid>,
}

/// The timesheets the caller may submit or approve, oldest week first (the worklist).
#[utoipa::path(get, path = "/api/v1/timesheets", tag = "timesheets", security(("bearer" = [])),
    params(TimesheetQuery),
    responses((status = 200, body = List<Timesheet>), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
    Query(query): Query<TimesheetQuery>,
) -> ApiResult<Json<List<Timesheet>>> {
    let filter = TimesheetFilter {
        status: query.status,
        budget_id: query.budget_id,
    };
    let today = state.clock.today();
    let items = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { timesheets::list(tx, &actor, filter, today).await })
        })
        .await?;
    Ok(Json(List::all(items)))
}

/// One timesheet.
#[utoipa::path(get, path = "/api/v1/timesheets/{id}", tag = "timesheets", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Timesheet), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Timesheet>> {
    let today = state.clock.today();
    let sheet = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { timesheets::get(tx, &actor, id, today).await })
        })
        .await?;
    Ok(Json(sheet))
}

/// Approve a submitted timesheet: needs an `approve` grant on the budget covering personal
/// assistants paid from its money (403 `no_authority`), and never by whoever submitted it (403
/// `approver_conflict`). Already approved: 409.
#[utoipa::path(post, path = "/api/v1/timesheets/{id}/approve", tag = "timesheets", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Timesheet), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope, description = "forbidden, no_authority or approver_conflict"),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn approve(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Timesheet>> {
    let now = state.clock.now();
    let sheet = state
        .write(actor.council_id, |tx| {
            let actor = actor.clone();
            Box::pin(async move { timesheets::approve(tx, &actor, id, now).await })
        })
        .await?;
    Ok(Json(sheet))
}

/// Why a timesheet is rejected.
#[derive(Debug, Clone, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectTimesheet {
    /// 1 to 500 characters, read by whoever submitted it.
    pub reason: String,
}

/// Reject a submitted timesheet with a reason (`status: rejected`): by someone who could approve
/// it (403 `no_authority`), never by whoever submitted it (403 `approver_conflict`). No reason:
/// 422 `reason_required`; not waiting for a decision: 409. A rejected timesheet is corrected
/// through `POST /api/v1/timesheets/{id}/correct`.
#[utoipa::path(post, path = "/api/v1/timesheets/{id}/reject", tag = "timesheets", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = RejectTimesheet,
    responses((status = 200, body = Timesheet), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope, description = "forbidden, no_authority or approver_conflict"),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope, description = "reason_required")))]
pub async fn reject(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(body): Json<RejectTimesheet>,
) -> ApiResult<Json<Timesheet>> {
    let now = state.clock.now();
    let sheet = state
        .write(actor.council_id, |tx| {
            let (actor, reason) = (actor.clone(), body.reason.clone());
            Box::pin(async move { timesheets::reject(tx, &actor, id, &reason, now).await })
        })
        .await?;
    Ok(Json(sheet))
}

/// Correct a submitted or rejected timesheet: `entries` replace the week's (checked as when
/// submitted; 400/422 as there) and it is submitted again as its next `version`, with the
/// allowance flag worked out again; the version it replaces is kept in `history`. By whoever may
/// submit it (another's client 404); an approved timesheet is 409.
#[utoipa::path(post, path = "/api/v1/timesheets/{id}/correct", tag = "timesheets", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = TimesheetCorrection,
    responses((status = 200, body = Timesheet), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope, description = "invalid_amount")))]
pub async fn correct(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(body): Json<TimesheetCorrection>,
) -> ApiResult<Json<Timesheet>> {
    let now = state.clock.now();
    let sheet = state
        .write(actor.council_id, |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(async move { timesheets::correct(tx, &actor, id, &body, now).await })
        })
        .await?;
    Ok(Json(sheet))
}
