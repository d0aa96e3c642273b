//! Evidence on payments: attaching files, reading them back, payments still waiting for theirs,
//! and a budget's evidence pack. The file's type is judged by its bytes (415
//! `unsupported_media_type`), its size by this route's own body limit (413 `payload_too_large`);
//! either way nothing is stored. Another council's payment or file is 404, as is a file attached
//! only to payments the caller may not see.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use super::List;
use crate::auth::Actor;
use crate::error::Detail;
use crate::evidence::{self, Attachment, EvidenceFile, EvidenceKind, FileRefusal, MissingEvidence};
use crate::http::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{body_rejection, Json, Path, Query};
use crate::http::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttachQuery {
    /// `receipt`, `invoice`, `timesheet`, `bank_statement` or `other`.
    pub kind: Option<String>,
}

fn kind_of(query: Result<Query<AttachQuery>, ApiError>) -> ApiResult<EvidenceKind> {
    let Query(query) = query?;
    let reason = "one of receipt, invoice, timesheet, bank_statement, other";
    query
        .kind
        .as_deref()
        .and_then(|k| k.parse().ok())
        .ok_or_else(|| {
            ApiError::invalid_request(
                format!("Query parameter kind: {reason}."),
                vec![Detail::field("kind", reason)],
            )
        })
}

fn refusal(refusal: FileRefusal) -> ApiError {
    match refusal {
        FileRefusal::TooLarge => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "The file is larger than 10 MB.",
        ),
        FileRefusal::UnsupportedType(message) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            message,
        ),
    }
}

/// Attach a file to a payment as evidence (the file is the request body, at most 10 MB, with its
/// own `Content-Type`: `application/pdf`, `image/jpeg`, `image/png`, `image/heic`, `text/plain`
/// or `text/csv`, checked against the file's first bytes). The same file is stored once however
/// often it is attached.
#[utoipa::path(post, path = "/api/v1/payments/{id}/evidence", tag = "evidence", security(("bearer" = [])),
    params(("id" = Uuid, Path), AttachQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "The file: PDF, JPEG, PNG, HEIC, plain text or CSV, with its own Content-Type"),
    responses((status = 201, body = Attachment), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope),
        (status = 413, body = ErrorEnvelope), (status = 415, body = ErrorEnvelope)))]
pub async fn attach(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    query: Result<Query<AttachQuery>, ApiError>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    // Who may, and whether the payment is theirs to evidence, before anything about the file:
    // nobody learns of a payment by probing it with files.
    actor.require(evidence::attach::ATTACH_ROLES)?;
    {
        let actor = actor.clone();
        state
            .in_tenant_tx(actor.council_id, |tx| {
                Box::pin(async move { evidence::attachable_payment(tx, &actor, id).await })
            })
            .await?;
    }
    let kind = kind_of(query)?;
    let bytes = body.map_err(body_rejection)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let file = EvidenceFile::check(content_type, bytes).map_err(refusal)?;
    let now = state.clock.now();
    let attachment = state
        .write(actor.council_id, |tx| {
            let (actor, file, store) = (actor.clone(), file.clone(), state.evidence.clone());
            Box::pin(async move {
                evidence::attach(tx, store.as_ref(), &actor, id, kind, &file, now).await
            })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(attachment)).into_response())
}

/// The evidence attached to a payment.
#[utoipa::path(get, path = "/api/v1/payments/{id}/evidence", tag = "evidence", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = List<Attachment>), (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<List<Attachment>>> {
    let items = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { evidence::of_payment(tx, &actor, id).await })
        })
        .await?;
    Ok(Json(List::all(items)))
}

/// A file by its SHA-256, for those who may see a payment it is attached to.
#[utoipa::path(get, path = "/api/v1/evidence/{sha256}", tag = "evidence", security(("bearer" = [])),
    params(("sha256" = String, Path, description = "64 lower-case hex digits")),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>,
            description = "The file with its own Content-Type"),
        (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    actor: Actor,
    Path(sha256): Path<String>,
) -> ApiResult<Response> {
    let store = state.evidence.clone();
    let file = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { evidence::fetch(tx, store.as_ref(), &actor, &sha256).await })
        })
        .await?;
    let content_type = match file.media_type {
        evidence::MediaType::Text | evidence::MediaType::Csv => {
            format!("{}; charset=utf-8", file.media_type)
        }
        other => other.to_string(),
    };
    let disposition = format!(
        "inline; filename=\"{}.{}\"",
        file.sha256,
        file.media_type.extension()
    );
    let mut response = file.bytes.into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, content_type),
        (header::CONTENT_DISPOSITION, disposition),
    ] {
        headers.insert(
            name,
            HeaderValue::from_str(&value).map_err(|_| ApiError::internal())?,
        );
    }
    Ok(response)
}

/// Posted payments above the council's evidence threshold (policy `receipt_threshold`) with no
/// evidence 30 days after posting, oldest first.
#[utoipa::path(get, path = "/api/v1/evidence/missing", tag = "evidence", security(("bearer" = [])),
    responses((status = 200, body = List<MissingEvidence>), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope)))]
pub async fn missing(
    State(state): State<AppState>,
    actor: Actor,
) -> ApiResult<Json<List<MissingEvidence>>> {
    let today = state.clock.today();
    let items = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { evidence::missing(tx, &actor, today).await })
        })
        .await?;
    Ok(Json(List::all(items)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PackQuery {
    /// First date (inclusive) of statement lines and payments.
    #[serde(default, with = "crate::dates::option")]
    pub from: Option<NaiveDate>,
    /// Last date (inclusive).
    #[serde(default, with = "crate::dates::option")]
    pub to: Option<NaiveDate>,
}

/// A zip of the budget's account statements (CSV), its payments' evidence files (named by
/// payment) and `manifest.csv` with the SHA-256 of every file.
#[utoipa::path(get, path = "/api/v1/budgets/{id}/evidence-pack", tag = "evidence", security(("bearer" = [])),
    params(("id" = Uuid, Path), PackQuery),
    responses((status = 200, content_type = "application/zip", body = Vec<u8>),
        (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn pack(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(query): Query<PackQuery>,
) -> ApiResult<Response> {
    let store = state.evidence.clone();
    let zip = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                evidence::evidence_pack(tx, store.as_ref(), &actor, id, query.from, query.to).await
            })
        })
        .await?;
    let disposition = format!("attachment; filename=\"evidence-pack-{id}.zip\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        zip,
    )
        .into_response())
}
