//! Our own `Json`, `Path` and `Query` extractors. axum's rejections are plain text; these turn
//! every rejection into the API.md envelope: malformed JSON, wrong types, unknown fields and enum
//! values are 400 `invalid_request` naming the field; bad amounts 422 `invalid_amount`; an
//! oversized body 413; an id that is not a UUID 404 (no such thing can exist). Text holding
//! control characters is refused before it is read (see [`super::control_chars`]).
//! The raw axum extractors are banned in `clippy.toml`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::control_chars;
use super::error::ApiError;
use crate::error::Detail;
use crate::money::INVALID_AMOUNT_MARKER;

/// A JSON request body, or a JSON response.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime == "application/json" || mime.ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the request body as JSON with `Content-Type: application/json`.",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        parse_json(&bytes).map(Json)
    }
}

/// Parses JSON with the path of the failing field kept for the error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if let Some((field, found)) = control_chars::find_in_json(bytes) {
        return Err(control_char_error(&field, found));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(json_error)?;
    deserializer.end().map_err(|e| {
        ApiError::invalid_request(
            format!("The request body is not valid JSON: {e}"),
            Vec::new(),
        )
    })?;
    Ok(value)
}

fn json_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    let message = inner.to_string();
    let field = if path == "." { None } else { Some(path) };
    if let Some(pos) = message.find(INVALID_AMOUNT_MARKER) {
        let reason = message[pos + INVALID_AMOUNT_MARKER.len()..]
            .split(" at line ")
            .next()
            .unwrap_or_default()
            .to_string();
        let field_name = field.clone().unwrap_or_else(|| "amount".into());
        return ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_amount",
            format!("{field_name}: {reason}"),
        )
        .with_details(vec![Detail::field(field_name, reason)]);
    }
    let reason = message
        .split(" at line ")
        .next()
        .unwrap_or_default()
        .to_string();
    match inner.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            ApiError::invalid_request(
                format!("The request body is not valid JSON: {reason}"),
                Vec::new(),
            )
        }
        _ => {
            let field_name = field.unwrap_or_else(|| "body".into());
            ApiError::invalid_request(
                format!("{field_name}: {reason}"),
                vec![Detail::field(field_name, reason)],
            )
        }
    }
}

/// 400 `invalid_request` for a field holding a control character.
pub fn control_char_error(field: &str, found: char) -> ApiError {
    ApiError::invalid_request(
        format!("{field}: {}.", control_chars::REASON),
        vec![control_chars::detail(field, found)],
    )
}

pub(crate) fn body_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::payload_too_large()
    } else {
        ApiError::invalid_request("The request body could not be read.", Vec::new())
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        #[allow(clippy::disallowed_types)]
        axum::Json(self.0).into_response()
    }
}

/// Path parameters. Ids that do not parse cannot exist: 404.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        #[allow(clippy::disallowed_types)]
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(_) => Err(ApiError::not_found()),
        }
    }
}

/// Query-string parameters (400 naming the parameter when they do not parse).
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        if let Some((field, found)) = control_chars::find_in_pairs(form_urlencoded_parse(query)) {
            return Err(control_char_error(&field, found));
        }
        let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded_parse(query));
        serde_path_to_error::deserialize(deserializer)
            .map(Query)
            .map_err(|e| {
                let field = e.path().to_string();
                let reason = e.into_inner().to_string();
                ApiError::invalid_request(
                    format!("Query parameter {field}: {reason}"),
                    vec![Detail::field(field, reason)],
                )
            })
    }
}

fn form_urlencoded_parse(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}
