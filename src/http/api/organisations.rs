use axum::extract::State;
use axum::http::StatusCode;

use uuid::Uuid;

use crate::auth::Actor;
use crate::budgets::organisations::{self, NewOrganisation, Organisation, OrganisationChanges};
use crate::http::api::List;
use crate::http::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::{Json, Path};
use crate::http::AppState;

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
