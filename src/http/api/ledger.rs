//! Ledger endpoints: account statements, reversals, and chain verification.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ledger_views::{AccountView, EntryView, StatementView};
use crate::auth::{visibility, Actor, Role};
use crate::http::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{Json, Path, Query};
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::AppState;
use crate::ledger::{self, VerifyReport};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementQuery {
    /// First effective date (inclusive).
    #[serde(default, with = "crate::dates::option")]
    pub from: Option<NaiveDate>,
    /// Last effective date (inclusive).
    #[serde(default, with = "crate::dates::option")]
    pub to: Option<NaiveDate>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Lines per page, 1 to 500 (default 100).
    pub limit: Option<u32>,
}

/// An account's statement: posted lines by effective date with the running balance.
#[utoipa::path(get, path = "/api/v1/accounts/{id}/entries", tag = "ledger", security(("bearer" = [])),
    params(("id" = Uuid, Path), StatementQuery),
    responses((status = 200, body = StatementView), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn statement(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(query): Query<StatementQuery>,
) -> ApiResult<Json<StatementView>> {
    let view = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                visibility::require_account(tx, &actor, id).await?;
                let account = ledger::account(tx, actor.council_id, id).await?;
                let page = ledger::statement(
                    tx,
                    actor.council_id,
                    id,
                    query.from,
                    query.to,
                    query.cursor.as_deref(),
                    query.limit.unwrap_or(100),
                )
                .await?;
                Ok(StatementView {
                    items: page.lines.into_iter().map(Into::into).collect(),
                    next_cursor: page.next_cursor,
                    opening_balance: {
                        let mut opening = page.opening_balance;
                        opening.rescale(2);
                        opening.to_string()
                    },
                    account: AccountView::from(account),
                })
            })
        })
        .await?;
    Ok(Json(view))
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReverseRequest {
    /// Why the payment is reversed (recorded with the reversing entry).
    pub reason: String,
}

/// Reverse a payment: a reversing entry mirrors its posting. `{id}` is a payment's id; anything
/// else (a payment-run line, a contribution) is 404 here and is corrected through its own
/// maker-checker path.
#[utoipa::path(post, path = "/api/v1/payments/{id}/reverse", tag = "ledger", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("Idempotency-Key" = String, Header, description = "1 to 255 visible ASCII characters")),
    request_body = ReverseRequest,
    responses((status = 201, body = EntryView), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope)))]
pub async fn reverse(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    key: Result<IdempotencyKey, ApiError>,
    body: Result<Json<ReverseRequest>, ApiError>,
) -> ApiResult<Response> {
    // The role first, then the key, then the body: the most fundamental refusal wins.
    actor.require(&[Role::FinanceOfficer, Role::ProviderStaff])?;
    let key = key?;
    let Json(body) = body?;
    let path = format!("/api/v1/payments/{id}/reverse");
    let operation = "POST /api/v1/payments/{id}/reverse";
    let claim = idempotency::claim(&key, operation, actor.user_id, &path, &body)?;
    let today = state.clock.today();
    let ran = state
        .command(actor.council_id, Some(&claim), |tx| {
            let (actor, reason) = (actor.clone(), body.reason.clone());
            Box::pin(async move {
                crate::payments::reversals::reverse(tx, &actor, id, &reason, today).await
            })
        })
        .await?;
    let view = crate::commands::Ran {
        value: EntryView::from(ran.value),
        replayed: ran.replayed,
    };
    idempotency::respond(StatusCode::CREATED, &view)
}

/// Recompute the council's ledger hash chain and check every account against its legs.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "ledger", security(("bearer" = [])),
    responses((status = 200, body = VerifyReport), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope)))]
pub async fn verify(State(state): State<AppState>, actor: Actor) -> ApiResult<Json<VerifyReport>> {
    actor.require(&[Role::Auditor])?;
    let report = ledger::verify(&state.pool, actor.council_id, &state.chain_key)
        .await
        .map_err(crate::error::AppError::from)?;
    Ok(Json(report))
}
