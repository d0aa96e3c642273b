use axum::extract::State;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::sessions::{self, Attempt, TokenKind};
use crate::auth::users::User;
use crate::http::auth::PeerAddress;
use crate::http::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::Json;
use crate::http::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    email: String,
    password: String,
    /// The council to sign in to (its id). Needed only when the email and password are those
    /// of users in more than one council (400 `council_required` says so, with one detail per
    /// such council, `"<id>: <name>"`).
    #[serde(default)]
    council: Option<Uuid>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    /// Opaque bearer token; send as `Authorization: Bearer <token>`.
    token: String,
    expires_in_seconds: u64,
    user: User,
}

/// Exchange an email and password for an API token. Throttled per email and per network address
/// (429 `too_many_requests`), and 429 as well when too many sign-ins are being checked at once.
/// An email address may be used in several councils: without `council`, the user whose password
/// matches is signed in, and 400 `council_required` asks for `council` when the password is
/// right in more than one.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", request_body = TokenRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 400, body = ErrorEnvelope, description = "invalid_request or council_required"),
        (status = 401, body = ErrorEnvelope, description = "invalid_credentials"),
        (status = 429, body = ErrorEnvelope, description = "too_many_requests"),
    ))]
pub async fn create_token(
    State(state): State<AppState>,
    PeerAddress(peer): PeerAddress,
    Json(body): Json<TokenRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let attempt = Attempt {
        email: &body.email,
        password: &body.password,
        kind: TokenKind::Api,
        peer,
        now: state.clock.now(),
        council: body.council,
    };
    let issued = sessions::login(&state.pool, &state.settings, &state.sign_in, attempt).await?;
    let actor = issued.actor;
    Ok(Json(TokenResponse {
        token: issued.secret,
        expires_in_seconds: state.settings.api_token_ttl.as_secs(),
        user: User {
            id: actor.user_id,
            council_id: actor.council_id,
            email: actor.email,
            name: actor.name,
            role: actor.role,
            organisation_id: actor.organisation_id,
            person_id: actor.person_id,
        },
    }))
}
