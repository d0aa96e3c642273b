use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::users::{self, NewUser, User};
use crate::auth::{Actor, Role};
use crate::http::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::Json;
use crate::http::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    email: String,
    name: String,
    role: Role,
    /// At least 12 characters.
    password: String,
    organisation_id: Option<Uuid>,
    person_id: Option<Uuid>,
}

/// Create a user of the caller's council.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    request_body = CreateUser,
    responses((status = 201, body = User), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope, description = "organisation or person not found"),
        (status = 409, body = ErrorEnvelope, description = "email already used")))]
pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    Json(body): Json<CreateUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    actor.require(&[Role::CouncilAdmin])?;
    let iterations = state.settings.password_iterations;
    let new = NewUser {
        email: body.email,
        name: body.name,
        role: body.role,
        password: body.password,
        organisation_id: body.organisation_id,
        person_id: body.person_id,
    };
    let user = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                let id = users::insert(tx, actor.council_id, &new, iterations).await?;
                users::get(tx, actor.council_id, id).await
            })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}
