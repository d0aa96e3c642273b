use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use uuid::Uuid;

use super::List;
use crate::auth::password;
use crate::auth::users::{self, NewUser, User, UserRecord};
use crate::auth::{Actor, Role};
use crate::http::error::{ApiError, ApiResult, ErrorEnvelope};
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

/// Create a user of the caller's council (council administrators). The password is hashed
/// outside any transaction, with the same bounded turns as sign-in; the administrator is
/// recorded as the user's maker.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    request_body = CreateUser,
    responses((status = 201, body = User), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope, description = "organisation or person not found"),
        (status = 409, body = ErrorEnvelope, description = "email already used in this council"),
        (status = 429, body = ErrorEnvelope, description = "too many passwords being hashed just now")))]
pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    Json(body): Json<CreateUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    actor.require(&[Role::CouncilAdmin])?;
    let new = NewUser {
        email: body.email,
        name: body.name,
        role: body.role,
        password: body.password,
        organisation_id: body.organisation_id,
        person_id: body.person_id,
    };
    users::check(&new)?;
    let permit = state.sign_in.hashing_permit().await.ok_or_else(|| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "Too many passwords are being checked just now; try again in a moment.",
        )
    })?;
    let (password, iterations) = (new.password.clone(), state.settings.password_iterations);
    let hashed = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        password::hash(&password, iterations)
    })
    .await
    .map_err(|e| crate::error::AppError::Internal(e.to_string()))?;
    let user = state
        .write(actor.council_id, |tx| {
            let (actor, new, hashed) = (actor.clone(), new.clone(), hashed.clone());
            Box::pin(async move { users::create(tx, &actor, &new, &hashed).await })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// The council's users, newest first, with who added each (council administrators, auditors).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = List<UserRecord>), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
) -> ApiResult<Json<List<UserRecord>>> {
    let items = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { users::list(tx, &actor).await })
        })
        .await?;
    Ok(Json(List::all(items)))
}
