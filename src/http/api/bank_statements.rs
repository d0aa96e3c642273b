//! Bank statements of client accounts and their reconciliation: import (camt.053), view, and a
//! person's matching and unmatching of lines.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::Actor;
use crate::http::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{body_rejection, Json, Path};
use crate::http::AppState;
use crate::reconcile::statements::{self, StatementView};

/// Import a bank statement of a client account: ISO 20022 camt.053 (`.001.02` or `.001.08`, by
/// the root namespace) as `application/xml`. One statement per file; only booked (`BOOK`)
/// entries become lines. Refused: a document that is not such a statement (400 naming the
/// element), one whose opening balance plus credits less debits is not its closing balance (422
/// `statement_does_not_balance`), the same statement again by id and sequence or content (409
/// `statement_already_imported`). Lines are matched to the account's postings by reference
/// (`EndToEndId`, remittance), else by amount and date within ± 3 banking days when there is
/// exactly one candidate; the rest are left for a person. Staff of the organisation holding the
/// account only (another's account is 404).
#[utoipa::path(post, path = "/api/v1/accounts/{id}/bank-statements", tag = "reconciliation",
    security(("bearer" = [])), params(("id" = Uuid, Path, description = "the client account")),
    request_body(content = String, content_type = "application/xml", description = "camt.053"),
    responses((status = 201, body = StatementView), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "statement_already_imported"),
        (status = 413, body = ErrorEnvelope), (status = 415, body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope, description = "statement_does_not_balance")))]
pub async fn import(
    State(state): State<AppState>,
    actor: Actor,
    Path(account_id): Path<Uuid>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<StatementView>)> {
    // Whose account it is comes first: another's is 404 whatever was sent.
    let checking = actor.clone();
    state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { statements::require_account(tx, &checking, account_id).await })
        })
        .await?;
    let is_xml = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| mime.trim().to_ascii_lowercase())
        .is_some_and(|mime| mime == "application/xml" || mime == "text/xml");
    if !is_xml {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the statement as camt.053 XML with `Content-Type: application/xml`.",
        ));
    }
    let body = body.map_err(body_rejection)?;
    let view =
        statements::import(&state.pool, &actor, account_id, &body, state.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// A bank statement with its lines, what each is matched to, the unmatched postings of the
/// account, and the difference between the bank's closing balance and the ledger's.
#[utoipa::path(get, path = "/api/v1/bank-statements/{id}", tag = "reconciliation",
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = StatementView), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<StatementView>> {
    let view = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { statements::get(tx, &actor, id).await })
        })
        .await?;
    Ok(Json(view))
}

/// A posting to match a line to.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchLine {
    /// The ledger entry (of the same account, direction and amount).
    pub posting_id: Uuid,
}

/// Match a statement line to a posting by hand (400 if the posting is not one of the account
/// with the line's amount and direction; 409 if either is already matched).
#[utoipa::path(post, path = "/api/v1/bank-statement-lines/{id}/match", tag = "reconciliation",
    security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = MatchLine,
    responses((status = 200, body = StatementView), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn match_line(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(body): Json<MatchLine>,
) -> ApiResult<Json<StatementView>> {
    let now = state.clock.now();
    let view = state
        .write(actor.council_id, |tx| {
            let actor = actor.clone();
            let posting_id = body.posting_id;
            Box::pin(async move { statements::match_line(tx, &actor, id, posting_id, now).await })
        })
        .await?;
    Ok(Json(view))
}

/// Take a line's match away (409 if it has none).
#[utoipa::path(post, path = "/api/v1/bank-statement-lines/{id}/unmatch", tag = "reconciliation",
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = StatementView), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope)))]
pub async fn unmatch_line(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<StatementView>> {
    let view = state
        .write(actor.council_id, |tx| {
            let actor = actor.clone();
            Box::pin(async move { statements::unmatch_line(tx, &actor, id).await })
        })
        .await?;
    Ok(Json(view))
}
