use axum::extract::State;
use axum::http::StatusCode;

use uuid::Uuid;

use crate::auth::Actor;
use crate::budgets::organisations::{self, NewOrganisation, Organisation, OrganisationChanges};
use crate::http::api::List;
use crate::http::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::{Json, Path, Query};
use crate::http::AppState;
use crate::providers::fees::{self, Fee, FeeCharge, NewFee};
use chrono::NaiveDate;
use serde::Deserialize;

/// Register an organisation (provider, broker, care provider, trust).
#[utoipa::path(post, path = "/api/v1/organisations", tag = "organisations", security(("bearer" = [])),
    request_body = NewOrganisation,
    responses((status = 201, body = Organisation), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    Json(body): Json<NewOrganisation>,
) -> ApiResult<(StatusCode, Json<Organisation>)> {
    let organisation = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { organisations::create(tx, &actor, &body).await })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(organisation)))
}

/// Change an organisation's name or bank details. Changed bank details are not paid until a
/// finance officer other than the one who changed them verifies them.
#[utoipa::path(patch, path = "/api/v1/organisations/{id}", tag = "organisations", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = OrganisationChanges,
    responses((status = 200, body = Organisation), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn patch(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(body): Json<OrganisationChanges>,
) -> ApiResult<Json<Organisation>> {
    let organisation = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { organisations::update(tx, &actor, id, &body).await })
        })
        .await?;
    Ok(Json(organisation))
}

/// The council's organisations.
#[utoipa::path(get, path = "/api/v1/organisations", tag = "organisations", security(("bearer" = [])),
    responses((status = 200, body = List<Organisation>), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
) -> ApiResult<Json<List<Organisation>>> {
    if !actor.role.is_council_staff() {
        return Err(crate::error::AppError::Forbidden.into());
    }
    let items = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { organisations::list(tx, actor.council_id).await })
        })
        .await?;
    Ok(Json(List::all(items)))
}

/// Set the monthly fee the organisation (a managed-account provider) charges each client account
/// it holds, from `from`'s month: by the organisation's own staff (another organisation 404,
/// other roles 403), paid in their name through the spending rules by the monthly upkeep
/// (category `account_management`), once per account and month. `payee_id` defaults to the
/// organisation's only active payee (400 when there is not exactly one).
#[utoipa::path(put, path = "/api/v1/organisations/{id}/fee", tag = "organisations",
    security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = NewFee,
    responses((status = 200, body = Fee), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope, description = "invalid_amount")))]
pub async fn put_fee(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(body): Json<NewFee>,
) -> ApiResult<Json<Fee>> {
    let now = state.clock.now();
    let fee = state
        .write(actor.council_id, |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(async move { fees::set(tx, &actor, id, &body, now).await })
        })
        .await?;
    Ok(Json(fee))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ChargesQuery {
    /// Only this month's charges (any day of it, `YYYY-MM-DD`).
    #[serde(default, with = "crate::dates::option")]
    #[param(value_type = Option<String>)]
    pub month: Option<NaiveDate>,
}

/// The fee charged to each client account, month by month: `posted`, `held` or `refused` (with
/// the rule codes and the payment the refusal is recorded under). The organisation's staff,
/// finance officers and auditors.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/fee-charges", tag = "organisations",
    security(("bearer" = [])), params(("id" = Uuid, Path), ChargesQuery),
    responses((status = 200, body = List<FeeCharge>), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn fee_charges(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(query): Query<ChargesQuery>,
) -> ApiResult<Json<List<FeeCharge>>> {
    let items = state
        .in_tenant_tx(actor.council_id, |tx| {
            let actor = actor.clone();
            Box::pin(async move { fees::charges(tx, &actor, id, query.month).await })
        })
        .await?;
    Ok(Json(List::all(items)))
}
