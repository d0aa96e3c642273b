//! The `Idempotency-Key` header of money-moving requests (API.md): 1–255 visible ASCII
//! characters; missing → 400 `idempotency_key_required`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::extract::Json;
use crate::error::Detail;
use crate::payments::idempotent::Reply;

pub const HEADER: &str = "idempotency-key";

/// A checked idempotency key.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub String);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(HEADER) else {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "idempotency_key_required",
                "This request moves money: send an `Idempotency-Key` header so it can be retried safely.",
            ));
        };
        let key = value.to_str().unwrap_or_default();
        if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ApiError::invalid_request(
                "Idempotency-Key: 1 to 255 visible ASCII characters.",
                vec![Detail::field(
                    "Idempotency-Key",
                    "1 to 255 visible ASCII characters",
                )],
            ));
        }
        Ok(IdempotencyKey(key.to_string()))
    }
}

/// Gives a stored or fresh reply with its original status; a replay says so in a header.
pub fn respond(reply: Reply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    let mut response = (status, Json(reply.body)).into_response();
    if reply.replayed {
        response.headers_mut().insert(
            "idempotent-replayed",
            axum::http::HeaderValue::from_static("true"),
        );
    }
    response
}
