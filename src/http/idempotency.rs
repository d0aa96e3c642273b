//! Idempotent money-moving requests (API.md › Idempotency). The `Idempotency-Key` header:
//! 1–255 visible ASCII characters; missing → 400 `idempotency_key_required`. The work runs as a
//! command ([`crate::commands`]) under the key's [`Claim`]: the same key and request again gives
//! the stored outcome, rendered with its original status (and `Idempotent-Replayed: true`); the
//! same key with a different request is 409 `idempotency_key_reused`. Keys are scoped per
//! operation and per caller.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use uuid::Uuid;

use super::error::{ApiError, ApiResult};
use super::extract::Json;
use crate::commands::claims::valid_key;
use crate::commands::{Claim, Ran};
use crate::error::{AppError, Detail};

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// A checked idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(pub String);

impl IdempotencyKey {
    /// The key from request headers (call it after the role check, so a role that may not do
    /// the thing at all hears 403 first).
    pub fn from_headers(headers: &HeaderMap) -> Result<Self, ApiError> {
        let Some(value) = headers.get(HEADER) else {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "idempotency_key_required",
                "This request moves money: send an `Idempotency-Key` header so it can be retried safely.",
            ));
        };
        match value.to_str() {
            Ok(key) if valid_key(key) => Ok(IdempotencyKey(key.to_string())),
            _ => Err(ApiError::invalid_request(
                "Idempotency-Key: 1 to 255 visible ASCII characters.",
                vec![Detail::field(
                    "Idempotency-Key",
                    "1 to 255 visible ASCII characters",
                )],
            )),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        Self::from_headers(&parts.headers)
    }
}

/// The claim of a request with this key (see [`crate::commands`]): the operation, the caller,
/// the path and the body identify it.
pub fn claim<B: Serialize>(
    key: &IdempotencyKey,
    operation: &str,
    caller: Uuid,
    path: &str,
    body: &B,
) -> ApiResult<Claim> {
    Ok(Claim::new(&key.0, operation, caller, path, body)?)
}

/// A command's outcome as a response: its status and body, and `Idempotent-Replayed: true`
/// when it is a stored outcome given again.
pub fn respond<T: Serialize>(status: StatusCode, ran: &Ran<T>) -> ApiResult<Response> {
    let body = serde_json::to_value(&ran.value).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(with_replay(
        (status, Json(body)).into_response(),
        ran.replayed,
    ))
}

/// Marks a response as a replay of a stored outcome.
pub fn with_replay(mut response: Response, replayed: bool) -> Response {
    if replayed {
        response
            .headers_mut()
            .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    response
}
