//! Ledger pages: an account's statement (`/accounts/{id}`, filtered by `from`/`to`, paged by the
//! statement's cursor) and one entry (`/entries/{id}`). Who may see them: as the statement API.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use super::session::AdminSession;
use super::{labels, AdminPath, AdminQuery, AdminResult};
use crate::budgets::account_history;
use crate::budgets::ledger_view::{self, AccountStatement, EntryDetail, StatementRequest};
use crate::http::AppState;
use crate::ledger::{statement::MAX_LIMIT, Side};
use allot_views::pages::ledger::{
    self as page, AccountPage, BudgetLink, EntryPage, LegRow, RecordValue, SealRow, StatementRow,
};
use allot_views::pages::pictures::{BalancePicture, BalanceRow};

/// Lines on a page unless `limit` says otherwise.
const PAGE_LINES: u32 = 50;

#[derive(Debug, Default, Deserialize)]
pub struct StatementParams {
    from: Option<String>,
    to: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

/// The statement request the parameters ask for, or what is wrong with them.
fn statement_request(params: &StatementParams) -> Result<StatementRequest, Vec<String>> {
    let mut errors = Vec::new();
    let mut date = |value: &Option<String>, name: &str| {
        let text = value.as_deref().map(str::trim).unwrap_or_default();
        if text.is_empty() {
            return None;
        }
        let parsed = NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|d| crate::dates::in_range(d).ok());
        if parsed.is_none() {
            errors.push(format!(
                "Enter the ‘{name}’ date as a date from {} to {}, like 2025-04-01.",
                crate::dates::EARLIEST,
                crate::dates::LATEST
            ));
        }
        parsed
    };
    let from = date(&params.from, "from");
    let to = date(&params.to, "to");
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            errors.push("The ‘from’ date must not be after the ‘to’ date.".into());
        }
    }
    let limit = match params.limit.as_deref().map(str::trim) {
        None | Some("") => PAGE_LINES,
        Some(text) => match text.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                errors.push(format!("Show from 1 to {MAX_LIMIT} lines a page."));
                PAGE_LINES
            }
        },
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(StatementRequest {
        from,
        to,
        cursor: params.cursor.clone().filter(|c| !c.is_empty()),
        limit,
    })
}

/// A link to a page of this statement, keeping the filter.
fn statement_href(id: Uuid, request: &StatementRequest, cursor: Option<&str>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(from) = request.from {
        query.append_pair("from", &from.to_string());
    }
    if let Some(to) = request.to {
        query.append_pair("to", &to.to_string());
    }
    if request.limit != PAGE_LINES {
        query.append_pair("limit", &request.limit.to_string());
    }
    if let Some(cursor) = cursor {
        query.append_pair("cursor", cursor);
    }
    let query = query.finish();
    if query.is_empty() {
        format!("/accounts/{id}")
    } else {
        format!("/accounts/{id}?{query}")
    }
}

/// An account's statement. A filter that cannot be read shows the first page unfiltered with
/// what was wrong (400).
pub async fn account(
    State(state): State<AppState>,
    session: AdminSession,
    AdminPath(id): AdminPath<Uuid>,
    AdminQuery(params): AdminQuery<StatementParams>,
) -> AdminResult<Response> {
    let shell = session.shell(&state, "/budgets").await?;
    let (request, errors) = match statement_request(&params) {
        Ok(request) => (request, Vec::new()),
        Err(errors) => (
            StatementRequest {
                limit: PAGE_LINES,
                ..StatementRequest::default()
            },
            errors,
        ),
    };
    let actor = session.actor.clone();
    let wanted = request.clone();
    let today = state.clock.today();
    let (statement, history) = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                let statement = ledger_view::account_statement(tx, &actor, id, &wanted).await?;
                let history = account_history::history(tx, &actor, id, today).await?;
                Ok((statement, history))
            })
        })
        .await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let mut data = account_page(id, &request, statement, &params, errors);
    data.history = Some(BalancePicture {
        weekly_amount: history.weekly_amount,
        rows: history
            .points
            .into_iter()
            .map(|p| BalanceRow {
                date: p.date,
                balance: p.balance,
                weeks: p.weeks_of_funding,
            })
            .collect(),
    });
    Ok((status, page::account(&shell, &data)).into_response())
}

fn account_page(
    id: Uuid,
    request: &StatementRequest,
    statement: AccountStatement,
    params: &StatementParams,
    errors: Vec<String>,
) -> AccountPage {
    let AccountStatement {
        account,
        owner,
        page: lines,
    } = statement;
    let kind = match owner.as_ref().map(|o| o.deployment) {
        Some(Some(deployment)) => labels::deployment(deployment).to_string(),
        Some(None) => "Contributions owed".to_string(),
        None => account.kind.replace('_', " "),
    };
    let title = match &owner {
        Some(owner) => format!("{kind} — {}", owner.budget_reference),
        None => account.name.clone(),
    };
    AccountPage {
        id,
        title,
        name: account.name,
        kind,
        holder: owner.as_ref().map(|o| o.holder_name.clone()),
        budget: owner.map(|o| BudgetLink {
            id: o.budget_id,
            reference: o.budget_reference,
            person_name: o.person_name,
            visible: o.budget_visible,
        }),
        no_overdraft: account.no_overdraft,
        posted: account.balances.posted_balance,
        pending: account.balances.pending_balance,
        available: account.balances.available_balance,
        from: params.from.clone().unwrap_or_default(),
        to: params.to.clone().unwrap_or_default(),
        errors,
        opening_balance: lines.opening_balance,
        lines: lines
            .lines
            .into_iter()
            .map(|l| StatementRow {
                entry_id: l.entry_id,
                effective_date: l.effective_date,
                description: l.description,
                money_in: (l.side == Side::Credit).then_some(l.amount),
                money_out: (l.side == Side::Debit).then_some(l.amount),
                balance: l.balance,
                reverses: l.reverses,
            })
            .collect(),
        next_href: lines
            .next_cursor
            .as_deref()
            .map(|cursor| statement_href(id, request, Some(cursor))),
        first_href: request
            .cursor
            .is_some()
            .then(|| statement_href(id, request, None)),
        history: None,
    }
}

/// One entry.
pub async fn entry(
    State(state): State<AppState>,
    session: AdminSession,
    AdminPath(id): AdminPath<Uuid>,
) -> AdminResult<Response> {
    let shell = session.shell(&state, "/budgets").await?;
    let actor = session.actor.clone();
    let (detail, reversible) = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                let detail = ledger_view::entry_detail(tx, &actor, id).await?;
                let reversible =
                    crate::payments::reversals::reversible_payment_of_entry(tx, &actor, id).await?;
                Ok((detail, reversible))
            })
        })
        .await?;
    let mut data = entry_page(detail);
    data.reversible_payment = reversible;
    Ok(page::entry(&shell, &data).into_response())
}

fn entry_page(detail: EntryDetail) -> EntryPage {
    let EntryDetail { entry, legs, seal } = detail;
    EntryPage {
        id: entry.id,
        status: entry.status.as_str(),
        is_hold: entry.is_hold,
        effective_date: entry.effective_date,
        recorded_at: entry.recorded_at,
        description: entry.description,
        legs: legs
            .into_iter()
            .map(|l| LegRow {
                account: l.account_name.map(|name| (l.leg.account_id, name)),
                credit: l.leg.side == Side::Credit,
                amount: l.leg.amount,
            })
            .collect(),
        record: record_value(&entry.metadata),
        reverses: entry.reverses,
        reversed_by: entry.reversed_by,
        hold_id: entry.hold_id,
        posted_by: entry.posted_by,
        expires_at: entry.expires_at,
        seal: seal.map(|link| SealRow {
            position: link.position,
            hash: hex::encode(&link.hash),
            prev_hash: hex::encode(&link.prev_hash),
            sealed_at: link.sealed_at,
        }),
        reversible_payment: None,
    }
}

/// The decision record as the page shows it: whatever keys the entry's metadata has.
fn record_value(value: &serde_json::Value) -> RecordValue {
    use serde_json::Value;
    match value {
        Value::Null => RecordValue::Text("none".into()),
        Value::Bool(true) => RecordValue::Text("yes".into()),
        Value::Bool(false) => RecordValue::Text("no".into()),
        Value::Number(n) => RecordValue::Text(n.to_string()),
        Value::String(s) => RecordValue::Text(s.clone()),
        Value::Array(items) => RecordValue::List(items.iter().map(record_value).collect()),
        Value::Object(fields) => RecordValue::Fields(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), record_value(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(from: &str, to: &str, limit: &str) -> StatementParams {
        StatementParams {
            from: Some(from.into()),
            to: Some(to.into()),
            cursor: None,
            limit: Some(limit.into()),
        }
    }

    #[test]
    fn filters_are_read_or_explained() {
        let ok = statement_request(&params("2025-04-01", "", "")).unwrap();
        assert_eq!(ok.from, NaiveDate::from_ymd_opt(2025, 4, 1));
        assert_eq!((ok.to, ok.limit), (None, PAGE_LINES));
        let errors = statement_request(&params("2025-13-01", "2025-04-01", "0")).unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        let backwards = statement_request(&params("2025-05-01", "2025-04-01", "")).unwrap_err();
        assert!(backwards[0].contains("after"), "{backwards:?}");
    }

    #[test]
    fn page_links_keep_the_filter() {
        let id = Uuid::nil();
        let request = statement_request(&params("2025-04-01", "2025-04-30", "10")).unwrap();
        assert_eq!(
            statement_href(id, &request, Some("2025-04-02.7.1")),
            format!("/accounts/{id}?from=2025-04-01&to=2025-04-30&limit=10&cursor=2025-04-02.7.1")
        );
        let plain = StatementRequest {
            limit: PAGE_LINES,
            ..StatementRequest::default()
        };
        assert_eq!(statement_href(id, &plain, None), format!("/accounts/{id}"));
    }

    #[test]
    fn records_keep_every_key() {
        let value =
            serde_json::json!({"requested_by": {"name": "Ann"}, "approvals": [], "ok": true});
        let RecordValue::Fields(fields) = record_value(&value) else {
            panic!("an object becomes fields");
        };
        let mut keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["approvals", "ok", "requested_by"]);
    }
}
