//! Bank statements of client accounts and their reconciliation: import (camt.053 or CSV), view,
//! and a person's matching and unmatching of lines.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::Actor;
use crate::error::AppError;
use crate::http::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{body_rejection, Json, Path, Query};
use crate::http::AppState;
use crate::reconcile::bank_csv;
use crate::reconcile::statements::{self, Source, StatementView};

/// How to read a CSV statement (none of these with camt.053).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatementQuery {
    /// `barclays`, `lloyds` or `natwest`; without it (and without a mapping) told from the
    /// header row.
    pub layout: Option<String>,
    /// Column mapping: the heading of the date column.
    pub date_column: Option<String>,
    /// The heading of a signed amount column (money out negative).
    pub amount_column: Option<String>,
    /// Instead of `amount_column`: the money-out column…
    pub debit_column: Option<String>,
    /// …and the money-in column.
    pub credit_column: Option<String>,
    pub description_column: Option<String>,
    pub reference_column: Option<String>,
    /// The balance after each row.
    pub balance_column: Option<String>,
    /// A strftime format, e.g. `%d/%m/%Y` (default: `dd/mm/yyyy`, `yyyy-mm-dd`, `dd Mon yyyy`).
    pub date_format: Option<String>,
    /// Required when the file has no balance column; else checked against it.
    pub opening_balance: Option<String>,
    pub closing_balance: Option<String>,
}

impl StatementQuery {
    fn is_empty(&self) -> bool {
        self.layout.is_none()
            && !self.has_mapping()
            && self.opening_balance.is_none()
            && self.closing_balance.is_none()
    }

    fn has_mapping(&self) -> bool {
        [
            &self.date_column,
            &self.amount_column,
            &self.debit_column,
            &self.credit_column,
            &self.description_column,
            &self.reference_column,
            &self.balance_column,
            &self.date_format,
        ]
        .iter()
        .any(|v| v.is_some())
    }

    /// The CSV reading options (400 naming a parameter that does not make sense).
    pub fn options(&self) -> Result<bank_csv::Options, AppError> {
        let layout =
            match &self.layout {
                None => None,
                Some(name) => Some(bank_csv::Layout::parse(name).ok_or_else(|| {
                    AppError::invalid("layout", "one of barclays, lloyds, natwest")
                })?),
            };
        let mapping = if self.has_mapping() {
            let date_column = self.date_column.clone().ok_or_else(|| {
                AppError::invalid("date_column", "required with a column mapping")
            })?;
            let split = self.debit_column.is_some() || self.credit_column.is_some();
            if self.amount_column.is_some() == split
                || (split && (self.debit_column.is_none() || self.credit_column.is_none()))
            {
                return Err(AppError::invalid(
                    "amount_column",
                    "give amount_column, or debit_column and credit_column",
                ));
            }
            Some(bank_csv::Mapping {
                date_column,
                amount_column: self.amount_column.clone(),
                debit_column: self.debit_column.clone(),
                credit_column: self.credit_column.clone(),
                description_column: self.description_column.clone(),
                reference_column: self.reference_column.clone(),
                balance_column: self.balance_column.clone(),
                account_column: None,
                date_format: self.date_format.clone(),
            })
        } else {
            None
        };
        let balance = |value: &Option<String>, name: &str| {
            value
                .as_deref()
                .map(|v| bank_csv::amount(v).map_err(|m| AppError::invalid(name, m)))
                .transpose()
        };
        Ok(bank_csv::Options {
            layout,
            mapping,
            opening_balance: balance(&self.opening_balance, "opening_balance")?,
            closing_balance: balance(&self.closing_balance, "closing_balance")?,
        })
    }
}

/// Import a bank statement of a client account: ISO 20022 camt.053 (`.001.02` or `.001.08`, by
/// the root namespace) as `application/xml`, or a bank's CSV export as `text/csv` — the
/// Barclays, Lloyds or NatWest layout (`layout=`, or told from the header row), or any CSV with
/// a column mapping (`date_column`, `amount_column` or `debit_column` and `credit_column`,
/// optional `description_column`, `reference_column`, `balance_column`, `date_format`). The
/// balances of a CSV statement come from its balance column, else from `opening_balance` and
/// `closing_balance`. One statement per file; only booked (`BOOK`) camt.053 entries become
/// lines. Refused: a document that is not such a statement (400 naming the element, the missing
/// column, or the row and column of a bad date or amount), one whose opening balance plus
/// credits less debits is not its closing balance (422 `statement_does_not_balance`), the same
/// statement again by id and sequence or content (409 `statement_already_imported`). Lines are
/// matched to the account's postings by reference (`EndToEndId`, remittance), else by amount and
/// date within ± 3 banking days when there is exactly one candidate; money in that matches no
/// posting is matched to the person's expected contributions; the rest are left for a person.
/// Staff of the organisation holding the account only (another's account is 404).
#[utoipa::path(post, path = "/api/v1/accounts/{id}/bank-statements", tag = "reconciliation",
    security(("bearer" = [])), params(("id" = Uuid, Path, description = "the client account"),
        StatementQuery),
    request_body(content = String, content_type = "application/xml",
        description = "camt.053, or CSV with `Content-Type: text/csv`"),
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
    Query(query): Query<StatementQuery>,
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
    let mime = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| mime.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let source = match mime.as_str() {
        "application/xml" | "text/xml" => {
            if !query.is_empty() {
                return Err(AppError::invalid(
                    "layout",
                    "the CSV parameters do not apply to a camt.053 statement",
                )
                .into());
            }
            Source::Camt053
        }
        "text/csv" => Source::Csv(Box::new(query.options()?)),
        _ => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the statement as camt.053 XML with `Content-Type: application/xml`, or \
                 as CSV with `Content-Type: text/csv`.",
            ))
        }
    };
    let body = body.map_err(body_rejection)?;
    let view = statements::import_from(
        &state.pool,
        &actor,
        account_id,
        &body,
        &source,
        state.clock.now(),
        std::sync::Arc::new(|_, _| {}),
    )
    .await?;
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
