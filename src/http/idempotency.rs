//! Idempotent money-moving requests (API.md › Idempotency). The `Idempotency-Key` header:
//! 1–255 visible ASCII characters; missing → 400 `idempotency_key_required`. [`run`] does the
//! work and stores the response with the key in one transaction (the ledger's
//! `idempotency::{begin, finish}`): the same key and request again gives the stored status and
//! body (with `Idempotent-Replayed: true`); the same key with a different request is 409
//! `idempotency_key_reused`. Keys are scoped per operation and per caller.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use uuid::Uuid;

use super::error::{ApiError, ApiResult};
use super::extract::Json;
use super::AppState;
use crate::db::{retry_backoff, tenant_tx, BoxFuture, Tx, MAX_RETRIES};
use crate::error::{AppError, AppResult, Detail};
use crate::ledger::idempotency::{self, Begin};

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
            Ok(key) if idempotency::valid_key(key) => Ok(IdempotencyKey(key.to_string())),
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

/// What identifies a request: the operation, the caller, the path and the body.
pub struct Request<'a, B: Serialize> {
    /// The operation, e.g. `POST /api/v1/payments/{id}/reverse`.
    pub operation: &'a str,
    pub caller: Uuid,
    pub path: &'a str,
    pub body: &'a B,
}

impl<B: Serialize> Request<'_, B> {
    fn scope(&self) -> String {
        format!("{} by {}", self.operation, self.caller)
    }

    fn fingerprint(&self) -> AppResult<[u8; 32]> {
        let body = serde_json::to_vec(self.body).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(idempotency::fingerprint(&[
            self.operation.as_bytes(),
            self.caller.as_bytes(),
            self.path.as_bytes(),
            &body,
        ]))
    }
}

/// Runs `work` once per key: in a tenant transaction with the key claimed, storing its status
/// and body with the key; or replays the stored response. Serialization failures and deadlocks
/// run the whole transaction again (a bounded number of times), so `work` may be called more
/// than once; only a committed run counts.
pub async fn run<B, T, F>(
    state: &AppState,
    council_id: Uuid,
    key: &IdempotencyKey,
    request: Request<'_, B>,
    work: F,
) -> ApiResult<Response>
where
    B: Serialize,
    T: Serialize,
    F: for<'a> Fn(&'a Tx<'a>) -> BoxFuture<'a, AppResult<(StatusCode, T)>>,
{
    let scope = request.scope();
    let fingerprint = request.fingerprint()?;
    let mut tries = 0;
    loop {
        let attempt: AppResult<(u16, serde_json::Value, bool)> = async {
            let mut client = state.pool.get().await?;
            let tx = tenant_tx(&mut client, council_id).await?;
            match idempotency::begin(&tx, council_id, &scope, &key.0, &fingerprint).await? {
                Begin::Replay { status, body } => Ok((status, body, true)),
                Begin::Fresh => {
                    let (status, value) = work(&tx).await?;
                    let body = serde_json::to_value(&value)
                        .map_err(|e| AppError::Internal(e.to_string()))?;
                    idempotency::finish(&tx, council_id, &scope, &key.0, status.as_u16(), &body)
                        .await?;
                    tx.commit().await?;
                    Ok((status.as_u16(), body, false))
                }
            }
        }
        .await;
        match attempt {
            Err(AppError::Db(e)) if e.is_retryable() && tries < MAX_RETRIES => {
                tries += 1;
                tokio::time::sleep(retry_backoff(tries)).await;
            }
            Err(e) => return Err(e.into()),
            Ok((status, body, replayed)) => return Ok(respond(status, body, replayed)),
        }
    }
}

/// A stored or fresh response with its original status; a replay says so in a header.
pub fn respond(status: u16, body: serde_json::Value, replayed: bool) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut response = (status, Json(body)).into_response();
    if replayed {
        response
            .headers_mut()
            .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    response
}

/// Gives a reply of [`crate::payments::idempotent`] with its original status.
pub fn respond_reply(reply: crate::payments::idempotent::Reply) -> Response {
    respond(reply.status, reply.body, reply.replayed)
}
