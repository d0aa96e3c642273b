//! The managed-account provider's pages: the worklist dashboard, invoices (dispute, resolve,
//! reject, pay with the rules' outcome in words), timesheets (approve, reject), payroll (a CSV
//! loaded through the same service as the API), bank statements of client accounts (camt.053
//! upload, manual match and unmatch, the difference explained) and the monitoring return
//! (printable, submitted from the page). Every read and write goes through the services the API
//! uses, so another organisation's client is 404 here as there.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, NaiveDate};
use maud::Markup;
use rust_decimal::Decimal;
use serde_json::json;
use uuid::Uuid;

use super::payments::{explain, messages};
use super::session::{AdminSession, CsrfForm};
use super::{labels, AdminError, AdminPath, AdminQuery, AdminResult};
use crate::auth::{token, Actor, Role};
use crate::error::AppError;
use crate::http::error::ApiError;
use crate::http::extract::parse_json;
use crate::http::AppState;
use crate::payments::spend::{self, PaymentOutcome};
use crate::providers::invoices::{self, Action, InvoiceFilter, InvoiceStatus, PayInvoice};
use crate::providers::payroll::{self, PayrollRun};
use crate::providers::payroll_csv::{self, RunHeader};
use crate::providers::returns::{self, Period};
use crate::providers::timesheets::{self, TimesheetFilter, TimesheetStatus};
use crate::reconcile::statements;
use crate::rules::Decision;
use allot_views::pages::payments::Choice;
use allot_views::pages::provider as views;

fn organisation(actor: &Actor) -> AdminResult<Uuid> {
    match (actor.role, actor.organisation_id) {
        (Role::ProviderStaff, Some(org)) => Ok(org),
        _ => Err(AppError::Forbidden.into()),
    }
}

fn day(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

fn status_words(status: InvoiceStatus) -> &'static str {
    match status {
        InvoiceStatus::Received => "To pay",
        InvoiceStatus::PartPaid => "Part paid",
        InvoiceStatus::Paid => "Paid",
        InvoiceStatus::Disputed => "Disputed",
        InvoiceStatus::Rejected => "Rejected",
    }
}

async fn budget_refs(
    tx: &crate::db::Tx<'_>,
    council_id: Uuid,
    ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, String>, AppError> {
    let rows = tx
        .query(
            "SELECT id, reference FROM budgets WHERE council_id = $1 AND id = ANY($2)",
            &[&council_id, &ids],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

// ---------------------------------------------------------------------------------------------
// The worklist

/// The provider's dashboard: what needs doing, each item linking to the page that does it.
pub async fn worklist(state: &AppState, session: &AdminSession) -> AdminResult<Markup> {
    let shell = session.shell(state, "/").await?;
    let actor = session.actor.clone();
    let org = organisation(&actor)?;
    let today = state.clock.today();
    let (name, sections) = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                let name: String = tx
                    .query_one(
                        "SELECT name FROM organisations WHERE council_id = $1 AND id = $2",
                        &[&actor.council_id, &org],
                    )
                    .await?
                    .get(0);
                let all = invoices::list(tx, &actor, InvoiceFilter::default()).await?;
                let mut to_pay: Vec<_> = all
                    .iter()
                    .filter(|i| {
                        matches!(i.status, InvoiceStatus::Received | InvoiceStatus::PartPaid)
                            && i.outstanding.amount() > Decimal::ZERO
                    })
                    .collect();
                to_pay.sort_by_key(|i| (i.due_on.is_none(), i.due_on, i.issued_on));
                let to_pay = to_pay
                    .iter()
                    .map(|i| views::WorkItem {
                        label: format!("Invoice {} from {}", i.invoice_number, i.payee_name),
                        detail: format!(
                            "{} outstanding{}",
                            allot_views::Gbp(i.outstanding.amount()).text(),
                            i.due_on
                                .map(|d| format!(", due {}", day(d)))
                                .unwrap_or_default()
                        ),
                        href: format!("/invoices/{}", i.id),
                    })
                    .collect();
                let disputed = all
                    .iter()
                    .filter(|i| i.status == InvoiceStatus::Disputed)
                    .map(|i| views::WorkItem {
                        label: format!("Invoice {} from {}", i.invoice_number, i.payee_name),
                        detail: i.status_reason.clone().unwrap_or_default(),
                        href: format!("/invoices/{}", i.id),
                    })
                    .collect();
                let sheets = timesheets::list(
                    tx,
                    &actor,
                    TimesheetFilter {
                        status: Some(TimesheetStatus::Submitted),
                        budget_id: None,
                    },
                    today,
                )
                .await?
                .into_iter()
                .filter(|t| t.submitted_by != actor.user_id)
                .map(|t| views::WorkItem {
                    label: format!("{}, week ending {}", t.payee_name, day(t.week_ending)),
                    detail: format!(
                        "{} hours, {}{}",
                        t.total_hours,
                        allot_views::Gbp(t.total.amount()).text(),
                        if t.over_allowance {
                            " — over the plan's allowance"
                        } else {
                            ""
                        }
                    ),
                    href: "/timesheets".into(),
                })
                .collect();
                let payroll_rows = tx
                    .query(
                        "SELECT y.name, t.week_ending FROM timesheets t
                         JOIN payees y ON y.council_id = t.council_id AND y.id = t.payee_id
                         JOIN budget_accounts a ON a.council_id = t.council_id
                              AND a.budget_id = t.budget_id AND a.purpose = 'deployment'
                              AND a.deployment = t.deployment AND a.holder_organisation_id = $2
                         WHERE t.council_id = $1 AND t.status = 'approved'
                           AND NOT EXISTS (SELECT 1 FROM payroll_payslip_claims c
                                           WHERE c.council_id = t.council_id
                                             AND c.budget_id = t.budget_id
                                             AND c.payee_id = t.payee_id
                                             AND t.week_ending BETWEEN c.period_start AND c.period_end)
                         ORDER BY t.week_ending, y.name LIMIT 100",
                        &[&actor.council_id, &org],
                    )
                    .await?;
                let payroll = payroll_rows
                    .iter()
                    .map(|r| views::WorkItem {
                        label: format!(
                            "{}, week ending {}",
                            r.get::<_, String>(0),
                            day(r.get(1))
                        ),
                        detail: "approved hours not yet in a payroll run".into(),
                        href: "/payroll".into(),
                    })
                    .collect();
                let lines = tx
                    .query(
                        "SELECT s.id, s.statement_ref, count(*) FROM bank_statement_lines l
                         JOIN bank_statements s ON s.council_id = l.council_id AND s.id = l.statement_id
                         JOIN budget_accounts a ON a.council_id = l.council_id
                              AND a.account_id = l.account_id AND a.purpose = 'deployment'
                              AND a.holder_organisation_id = $2
                         WHERE l.council_id = $1 AND l.matched_entry_id IS NULL
                         GROUP BY s.id, s.statement_ref, s.imported_at ORDER BY s.imported_at",
                        &[&actor.council_id, &org],
                    )
                    .await?;
                let unmatched = lines
                    .iter()
                    .map(|r| views::WorkItem {
                        label: format!("Statement {}", r.get::<_, String>(1)),
                        detail: format!("{} unmatched lines", r.get::<_, i64>(2)),
                        href: format!("/bank-statements/{}", r.get::<_, Uuid>(0)),
                    })
                    .collect();
                let quarter = returns::last_full_quarter(today);
                let submitted: bool = tx
                    .query_one(
                        "SELECT EXISTS (SELECT 1 FROM organisation_returns
                                        WHERE council_id = $1 AND organisation_id = $2
                                          AND period_from <= $3 AND period_to >= $4)",
                        &[&actor.council_id, &org, &quarter.from, &quarter.to],
                    )
                    .await?
                    .get(0);
                let returns_due = if submitted {
                    Vec::new()
                } else {
                    vec![views::WorkItem {
                        label: format!("Return for {} to {}", day(quarter.from), day(quarter.to)),
                        detail: "not yet submitted to the council".into(),
                        href: format!("/returns?from={}&to={}", quarter.from, quarter.to),
                    }]
                };
                let month_start = today.with_day0(0).unwrap_or(today);
                let figures = returns::compute(
                    tx,
                    &actor,
                    org,
                    Period {
                        from: month_start,
                        to: today,
                    },
                )
                .await?;
                let refs = budget_refs(
                    tx,
                    actor.council_id,
                    figures.accounts.iter().map(|a| a.budget_id).collect(),
                )
                .await?;
                let mut balances = Vec::new();
                for a in &figures.accounts {
                    let reference = refs.get(&a.budget_id).cloned().unwrap_or_default();
                    let closing = allot_views::Gbp(a.closing_balance.amount()).text();
                    if a.weeks_of_funding.is_some_and(|w| w < Decimal::from(2)) {
                        balances.push(views::WorkItem {
                            label: format!("Budget {reference}: low balance"),
                            detail: format!(
                                "{closing}, {} weeks of funding (under 2)",
                                a.weeks_of_funding.unwrap_or_default()
                            ),
                            href: format!("/budgets/{}", a.budget_id),
                        });
                    } else if a.surplus_above_policy.amount() > Decimal::ZERO {
                        balances.push(views::WorkItem {
                            label: format!("Budget {reference}: above the surplus threshold"),
                            detail: format!(
                                "{closing}, {} above {} weeks",
                                allot_views::Gbp(a.surplus_above_policy.amount()).text(),
                                a.surplus_weeks_policy
                            ),
                            href: format!("/budgets/{}", a.budget_id),
                        });
                    }
                }
                let sections = vec![
                    views::WorkSection { heading: "Invoices to pay", empty: "No invoice is waiting to be paid.", items: to_pay },
                    views::WorkSection { heading: "Disputed invoices", empty: "No invoice is disputed.", items: disputed },
                    views::WorkSection { heading: "Timesheets to approve", empty: "No timesheet is waiting for you.", items: sheets },
                    views::WorkSection { heading: "Payroll to load", empty: "Every approved timesheet is in a payroll run.", items: payroll },
                    views::WorkSection { heading: "Unmatched bank lines", empty: "Every bank line is matched.", items: unmatched },
                    views::WorkSection { heading: "Returns due", empty: "The last quarter's return is submitted.", items: returns_due },
                    views::WorkSection { heading: "Client balances", empty: "No client is low on money or above the surplus threshold.", items: balances },
                ];
                Ok((name, sections))
            })
        })
        .await?;
    Ok(views::worklist(&shell, &name, &sections))
}

// ---------------------------------------------------------------------------------------------
// Invoices

#[derive(serde::Deserialize)]
pub struct InvoiceQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    budget: String,
}

/// Invoices the signed-in user handles, by due date, with filters.
pub async fn invoice_list(
    State(state): State<AppState>,
    session: AdminSession,
    AdminQuery(query): AdminQuery<InvoiceQuery>,
) -> AdminResult<Markup> {
    let shell = session.shell(&state, "/invoices").await?;
    let actor = session.actor.clone();
    let status: Option<InvoiceStatus> = if query.status.is_empty() {
        None
    } else {
        Some(
            serde_json::from_value(json!(query.status)).map_err(|_| AdminError::Page {
                status: StatusCode::BAD_REQUEST,
                title: "This address could not be read",
                message: "Choose a status from the list.".into(),
            })?,
        )
    };
    let wanted = query.budget.trim().to_uppercase();
    let rows = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                let mut all = invoices::list(
                    tx,
                    &actor,
                    InvoiceFilter {
                        status,
                        budget_id: None,
                    },
                )
                .await?;
                let refs = budget_refs(
                    tx,
                    actor.council_id,
                    all.iter().map(|i| i.budget_id).collect(),
                )
                .await?;
                all.sort_by_key(|i| (i.due_on.is_none(), i.due_on, i.issued_on));
                Ok(all
                    .into_iter()
                    .map(|i| views::InvoiceRow {
                        id: i.id.to_string(),
                        invoice_number: i.invoice_number,
                        payee: i.payee_name,
                        budget_reference: refs.get(&i.budget_id).cloned().unwrap_or_default(),
                        due_on: i.due_on.map(day).unwrap_or_else(|| "—".into()),
                        total: i.total.amount(),
                        outstanding: i.outstanding.amount(),
                        status: status_words(i.status).into(),
                    })
                    .filter(|r| wanted.is_empty() || r.budget_reference == wanted)
                    .collect::<Vec<_>>())
            })
        })
        .await?;
    let statuses = [
        ("", "Any"),
        ("received", "To pay"),
        ("part_paid", "Part paid"),
        ("paid", "Paid"),
        ("disputed", "Disputed"),
        ("rejected", "Rejected"),
    ]
    .iter()
    .map(|(v, l)| Choice {
        value: (*v).into(),
        label: (*l).into(),
    })
    .collect();
    Ok(views::invoices(
        &shell,
        &views::InvoicesPage {
            rows,
            statuses,
            status: query.status,
            budget_reference: query.budget,
        },
    ))
}

#[derive(Default)]
struct InvoiceState {
    errors: Vec<String>,
    outcome: Option<(String, Vec<String>)>,
    may_send: bool,
    amount: String,
    reason: String,
    key: Option<String>,
}

async fn render_invoice(
    state: &AppState,
    session: &AdminSession,
    id: Uuid,
    s: InvoiceState,
) -> AdminResult<Markup> {
    let shell = session.shell(state, "/invoices").await?;
    let actor = session.actor.clone();
    let (invoice, reference) = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                let invoice = invoices::get(tx, &actor, id).await?;
                let refs = budget_refs(tx, actor.council_id, vec![invoice.budget_id]).await?;
                let reference = refs.get(&invoice.budget_id).cloned().unwrap_or_default();
                Ok((invoice, reference))
            })
        })
        .await?;
    let money = |m: crate::money::Money| allot_views::Gbp(m.amount()).text();
    let mut summary = vec![
        ("From".to_owned(), invoice.payee_name.clone()),
        ("Budget".to_owned(), reference),
        (
            "Paid from".to_owned(),
            labels::deployment(invoice.deployment).into(),
        ),
        ("For".to_owned(), labels::category(invoice.category).into()),
        ("Issued".to_owned(), day(invoice.issued_on)),
        (
            "Due".to_owned(),
            invoice.due_on.map(day).unwrap_or_else(|| "—".into()),
        ),
        ("Total".to_owned(), money(invoice.total)),
        ("Paid".to_owned(), money(invoice.paid)),
        ("Waiting for approval".to_owned(), money(invoice.held)),
        ("Outstanding".to_owned(), money(invoice.outstanding)),
        ("Status".to_owned(), status_words(invoice.status).into()),
    ];
    if let Some(reason) = &invoice.status_reason {
        summary.push(("Why".into(), reason.clone()));
    }
    let open = matches!(
        invoice.status,
        InvoiceStatus::Received | InvoiceStatus::PartPaid
    );
    let nothing_paid = invoice.paid.amount().is_zero() && invoice.held.amount().is_zero();
    Ok(views::invoice(
        &shell,
        &views::InvoicePage {
            id: id.to_string(),
            title: format!("Invoice {}", invoice.invoice_number),
            summary,
            lines: invoice
                .lines
                .iter()
                .map(|l| {
                    (
                        l.description.clone(),
                        l.quantity.normalize().to_string(),
                        l.unit_price.amount(),
                        l.amount.amount(),
                    )
                })
                .collect(),
            payments: invoice
                .payment_ids
                .iter()
                .map(|p| {
                    (
                        format!("/budgets/{}/decisions", invoice.budget_id),
                        format!("Payment {p}"),
                    )
                })
                .collect(),
            csrf_token: session.csrf_token.clone(),
            idempotency_key: s.key.unwrap_or_else(token::generate),
            errors: s.errors,
            outcome: s.outcome,
            may_send: s.may_send,
            amount: s.amount,
            reason: s.reason,
            can_pay: open && invoice.outstanding.amount() > Decimal::ZERO,
            can_dispute: open,
            can_resolve: invoice.status == InvoiceStatus::Disputed,
            can_reject: matches!(
                invoice.status,
                InvoiceStatus::Received | InvoiceStatus::Disputed
            ) && nothing_paid,
        },
    ))
}

pub async fn invoice_show(
    State(state): State<AppState>,
    session: AdminSession,
    AdminPath(id): AdminPath<Uuid>,
) -> AdminResult<Markup> {
    render_invoice(&state, &session, id, InvoiceState::default()).await
}

async fn invoice_refused(
    state: &AppState,
    session: &AdminSession,
    id: Uuid,
    error: AppError,
    mut s: InvoiceState,
) -> AdminResult<Response> {
    if matches!(error, AppError::NotFound) {
        return Err(AppError::NotFound.into());
    }
    let error = ApiError::from(error);
    s.errors = messages(&error);
    let page = render_invoice(state, session, id, s).await?;
    Ok((error.status, page).into_response())
}

/// Dispute, resolve or reject (`action`), with the reason typed kept on a refusal.
pub async fn invoice_decide(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form }: CsrfForm<HashMap<String, String>>,
) -> AdminResult<Response> {
    let reason = form.get("reason").cloned().unwrap_or_default();
    let action = match form.get("action").map(String::as_str) {
        Some("dispute") => Action::Dispute,
        Some("resolve") => Action::Resolve,
        Some("reject") => Action::Reject,
        _ => {
            return Err(AdminError::Page {
                status: StatusCode::BAD_REQUEST,
                title: "The form could not be read",
                message: "Choose dispute, resolve or reject.".into(),
            })
        }
    };
    let actor = session.actor.clone();
    let now = state.clock.now();
    let why = (action != Action::Resolve).then(|| reason.clone());
    let done = state
        .write(actor.council_id, |tx| {
            let (actor, why) = (actor.clone(), why.clone());
            Box::pin(
                async move { invoices::act(tx, &actor, id, action, why.as_deref(), now).await },
            )
        })
        .await;
    match done {
        Ok(_) => Ok(Redirect::to(&format!("/invoices/{id}")).into_response()),
        Err(e) => {
            let s = InvoiceState {
                reason,
                ..InvoiceState::default()
            };
            invoice_refused(&state, &session, id, e, s).await
        }
    }
}

/// Checks the payment of an invoice (`action=check`), explaining the rules' outcome in words, or
/// sends it (`action=send`).
pub async fn invoice_pay(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form }: CsrfForm<HashMap<String, String>>,
) -> AdminResult<Response> {
    let amount = form
        .get("amount")
        .map(|a| a.trim().to_owned())
        .unwrap_or_default();
    let key = form
        .get("idempotency_key")
        .cloned()
        .filter(|k| crate::commands::claims::valid_key(k))
        .unwrap_or_else(token::generate);
    let body = if amount.is_empty() {
        json!({})
    } else {
        json!({ "amount": amount })
    };
    let keep = |errors: Vec<String>| InvoiceState {
        errors,
        amount: amount.clone(),
        key: Some(key.clone()),
        ..InvoiceState::default()
    };
    let pay = match parse_json::<PayInvoice>(body.to_string().as_bytes()) {
        Ok(pay) => pay,
        Err(e) => {
            let status = e.status;
            let page = render_invoice(&state, &session, id, keep(messages(&e))).await?;
            return Ok((status, page).into_response());
        }
    };
    let actor = session.actor.clone();
    if form.get("action").map(String::as_str) != Some("send") {
        let now = state.clock.now();
        let pay_check = pay.clone();
        let checked = state
            .in_tenant_tx(actor.council_id, |tx| {
                Box::pin(async move {
                    let new = invoices::payment_for(tx, &actor, id, &pay_check).await?;
                    spend::check(tx, &actor, &new, now).await
                })
            })
            .await;
        return match checked {
            Ok(decision) => {
                let s = InvoiceState {
                    may_send: !matches!(decision, Decision::Refuse { .. }),
                    outcome: Some(explain(&decision)),
                    ..keep(Vec::new())
                };
                Ok(render_invoice(&state, &session, id, s)
                    .await?
                    .into_response())
            }
            Err(e) => invoice_refused(&state, &session, id, e, keep(Vec::new())).await,
        };
    }
    let claim = match crate::commands::Claim::new(
        &key,
        "POST /invoices/{id}/pay",
        actor.user_id,
        &format!("/invoices/{id}/pay"),
        &pay,
    ) {
        Ok(claim) => claim,
        Err(e) => return invoice_refused(&state, &session, id, e, keep(Vec::new())).await,
    };
    let sent = invoices::pay(&state.pool, &state.payments, &actor, id, &pay, claim).await;
    match sent {
        Ok(ran) => match ran.value {
            PaymentOutcome::Posted(_) | PaymentOutcome::Held(_) | PaymentOutcome::Authorized(_) => {
                Ok(Redirect::to(&format!("/invoices/{id}")).into_response())
            }
            PaymentOutcome::Refused { refusals, .. } => {
                let status = if refusals
                    .iter()
                    .any(|r| r.code == crate::rules::RuleCode::NoAuthority)
                {
                    StatusCode::FORBIDDEN
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                let mut sentences: Vec<String> =
                    refusals.iter().map(|r| r.message.clone()).collect();
                if sentences.is_empty() {
                    sentences.push("The payment was refused.".into());
                }
                let s = InvoiceState {
                    outcome: Some(("This payment was refused".into(), sentences)),
                    amount: amount.clone(),
                    ..InvoiceState::default()
                };
                let page = render_invoice(&state, &session, id, s).await?;
                Ok((status, page).into_response())
            }
        },
        Err(e) => invoice_refused(&state, &session, id, e, keep(Vec::new())).await,
    }
}

// ---------------------------------------------------------------------------------------------
// Timesheets

async fn render_timesheets(
    state: &AppState,
    session: &AdminSession,
    errors: Vec<String>,
    typed: Option<(String, String)>,
    typed_entries: Option<(String, String)>,
) -> AdminResult<Markup> {
    let shell = session.shell(state, "/timesheets").await?;
    let actor = session.actor.clone();
    let today = state.clock.today();
    let rows = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                let all = timesheets::list(tx, &actor, TimesheetFilter::default(), today).await?;
                let refs = budget_refs(
                    tx,
                    actor.council_id,
                    all.iter().map(|t| t.budget_id).collect(),
                )
                .await?;
                Ok(all
                    .into_iter()
                    .map(|t| {
                        let own = t.submitted_by == actor.user_id
                            || t.history.iter().any(|v| v.submitted_by == actor.user_id);
                        views::TimesheetRow {
                            correctable: own && t.status != TimesheetStatus::Approved,
                            entries_text: t
                                .entries
                                .iter()
                                .map(|e| {
                                    format!(
                                        "{}, {}, {}",
                                        e.date,
                                        e.hours.normalize(),
                                        e.hourly_rate
                                    )
                                })
                                .collect::<Vec<_>>()
                                .join("\n"),
                            id: t.id.to_string(),
                            week_ending: day(t.week_ending),
                            assistant: t.payee_name.clone(),
                            budget_reference: refs.get(&t.budget_id).cloned().unwrap_or_default(),
                            hours: t.total_hours.to_string(),
                            total: t.total.amount(),
                            allowance: t.weekly_allowance.amount(),
                            over_allowance: t.over_allowance,
                            status: t.status.as_str().replace('_', " "),
                            version: t.version,
                            reason: t.reject_reason.clone(),
                            decidable: t.status == TimesheetStatus::Submitted && !own,
                        }
                    })
                    .collect::<Vec<_>>())
            })
        })
        .await?;
    Ok(views::timesheets(
        &shell,
        &views::TimesheetsPage {
            rows,
            csrf_token: session.csrf_token.clone(),
            errors,
            typed,
            typed_entries,
        },
    ))
}

pub async fn timesheet_list(
    State(state): State<AppState>,
    session: AdminSession,
) -> AdminResult<Markup> {
    render_timesheets(&state, &session, Vec::new(), None, None).await
}

async fn timesheet_act(
    state: &AppState,
    session: AdminSession,
    id: Uuid,
    reject: Option<String>,
) -> AdminResult<Response> {
    let actor = session.actor.clone();
    let now = state.clock.now();
    let done = state
        .write(actor.council_id, |tx| {
            let (actor, reject) = (actor.clone(), reject.clone());
            Box::pin(async move {
                match reject {
                    Some(reason) => timesheets::reject(tx, &actor, id, &reason, now).await,
                    None => timesheets::approve(tx, &actor, id, now).await,
                }
            })
        })
        .await;
    match done {
        Ok(_) => Ok(Redirect::to("/timesheets").into_response()),
        Err(AppError::NotFound) => Err(AppError::NotFound.into()),
        Err(e) => {
            let error = ApiError::from(e);
            let typed = reject.map(|r| (id.to_string(), r));
            let page = render_timesheets(state, &session, messages(&error), typed, None).await?;
            Ok((error.status, page).into_response())
        }
    }
}

pub async fn timesheet_approve(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form: _ }: CsrfForm<HashMap<String, String>>,
) -> AdminResult<Response> {
    timesheet_act(&state, session, id, None).await
}

pub async fn timesheet_reject(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form }: CsrfForm<HashMap<String, String>>,
) -> AdminResult<Response> {
    let reason = form.get("reason").cloned().unwrap_or_default();
    timesheet_act(&state, session, id, Some(reason)).await
}

/// The correction's text (one day a line: date, hours, hourly rate) as the API's JSON, so the
/// page and `POST /api/v1/timesheets/{id}/correct` accept the same entries.
fn correction(text: &str) -> Result<timesheets::TimesheetCorrection, ApiError> {
    let mut entries = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split(',').map(str::trim).collect();
        let [date, hours, rate] = parts[..] else {
            return Err(AppError::invalid(
                &format!("entries line {}", i + 1),
                "a date, the hours and the hourly rate, separated by commas",
            )
            .into());
        };
        entries.push(json!({"date": date, "hours": hours, "hourly_rate": rate}));
    }
    parse_json(json!({ "entries": entries }).to_string().as_bytes())
}

pub async fn timesheet_correct(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form }: CsrfForm<HashMap<String, String>>,
) -> AdminResult<Response> {
    let text = form.get("entries").cloned().unwrap_or_default();
    let actor = session.actor.clone();
    let now = state.clock.now();
    let done = match correction(&text) {
        Ok(body) => state
            .write(actor.council_id, |tx| {
                let (actor, body) = (actor.clone(), body.clone());
                Box::pin(async move { timesheets::correct(tx, &actor, id, &body, now).await })
            })
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match done {
        Ok(_) => Ok(Redirect::to("/timesheets").into_response()),
        Err(e) if e.status == StatusCode::NOT_FOUND => Err(AppError::NotFound.into()),
        Err(error) => {
            let page = render_timesheets(
                &state,
                &session,
                messages(&error),
                None,
                Some((id.to_string(), text)),
            )
            .await?;
            Ok((error.status, page).into_response())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Payroll

async fn render_payroll(
    state: &AppState,
    session: &AdminSession,
    values: views::PayrollValues,
    errors: Vec<String>,
    run: Option<PayrollRun>,
) -> AdminResult<Markup> {
    let shell = session.shell(state, "/payroll").await?;
    let actor = session.actor.clone();
    organisation(&actor)?;
    let (payees, names) = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                let rows = tx
                    .query(
                        "SELECT id, name, person_id IS NULL AS general FROM payees
                         WHERE council_id = $1 AND active ORDER BY name LIMIT 2000",
                        &[&actor.council_id],
                    )
                    .await?;
                let mut choices = vec![Choice {
                    value: String::new(),
                    label: "Choose a payee".into(),
                }];
                let mut names = HashMap::new();
                for r in &rows {
                    let (id, name): (Uuid, String) = (r.get(0), r.get(1));
                    if r.get::<_, bool>(2) {
                        choices.push(Choice {
                            value: id.to_string(),
                            label: name.clone(),
                        });
                    }
                    names.insert(id, name);
                }
                Ok((choices, names))
            })
        })
        .await?;
    let results = run
        .map(|run| {
            run.results
                .iter()
                .map(|r| views::PayslipLine {
                    row: r.index + 2,
                    assistant: names.get(&r.payee_id).cloned().unwrap_or_default(),
                    status: match r.status.as_str() {
                        "paid" => "Paid".into(),
                        "partly_paid" => "Partly paid".into(),
                        "refused" => "Refused".into(),
                        other => other.into(),
                    },
                    payments: r
                        .payments
                        .iter()
                        .map(|p| {
                            let part = match p.part {
                                payroll::PayrollPart::NetPay => "Net pay",
                                payroll::PayrollPart::TaxAndNi => "Tax and National Insurance",
                                payroll::PayrollPart::Pension => "Pension",
                            };
                            let outcome = match p.outcome.as_str() {
                                "posted" => "paid".to_owned(),
                                "held" => "waiting for approval".to_owned(),
                                _ => format!(
                                    "refused{}",
                                    p.message
                                        .as_ref()
                                        .map(|m| format!(": {m}"))
                                        .unwrap_or_default()
                                ),
                            };
                            format!(
                                "{part} {} to {}: {outcome}",
                                allot_views::Gbp(p.amount.amount()).text(),
                                names.get(&p.payee_id).cloned().unwrap_or_default()
                            )
                        })
                        .collect(),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(views::payroll(
        &shell,
        &views::PayrollPage {
            csrf_token: session.csrf_token.clone(),
            idempotency_key: token::generate(),
            payees,
            columns: format!(
                "{}, and optionally {}",
                payroll_csv::REQUIRED.join(", "),
                payroll_csv::OPTIONAL.join(", ")
            ),
            values,
            errors,
            results,
        },
    ))
}

pub async fn payroll_form(
    State(state): State<AppState>,
    session: AdminSession,
) -> AdminResult<Markup> {
    render_payroll(
        &state,
        &session,
        views::PayrollValues::default(),
        Vec::new(),
        None,
    )
    .await
}

fn run_header(v: &views::PayrollValues) -> Result<RunHeader, AppError> {
    let date = |name: &str, value: &str| {
        NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
            .map_err(|_| AppError::invalid(name, "a date like 2025-02-03"))
    };
    let payee = |name: &str, value: &str| {
        Uuid::parse_str(value.trim()).map_err(|_| AppError::invalid(name, "choose a payee"))
    };
    Ok(RunHeader {
        period_start: date("period_start", &v.period_start)?,
        period_end: date("period_end", &v.period_end)?,
        pay_date: date("pay_date", &v.pay_date)?,
        hmrc_payee_id: payee("hmrc_payee_id", &v.hmrc_payee_id)?,
        pension_payee_id: if v.pension_payee_id.trim().is_empty() {
            None
        } else {
            Some(payee("pension_payee_id", &v.pension_payee_id)?)
        },
    })
}

/// Loads the pasted CSV through the payroll service (the API's), showing each payslip's result,
/// or the refusal with everything typed kept.
pub async fn payroll_submit(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<HashMap<String, String>>,
) -> AdminResult<Response> {
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let values = views::PayrollValues {
        period_start: get("period_start"),
        period_end: get("period_end"),
        pay_date: get("pay_date"),
        hmrc_payee_id: get("hmrc_payee_id"),
        pension_payee_id: get("pension_payee_id"),
        csv: get("csv"),
    };
    let key = form
        .get("idempotency_key")
        .cloned()
        .filter(|k| crate::commands::claims::valid_key(k))
        .unwrap_or_else(token::generate);
    let actor = session.actor.clone();
    let now = state.clock.now();
    let ran = async {
        let run = payroll_csv::parse(values.csv.as_bytes(), run_header(&values)?)?;
        let claim =
            crate::commands::Claim::new(&key, "POST /payroll", actor.user_id, "/payroll", &run)?;
        payroll::run(&state.pool, &state.payments, &actor, &run, &key, claim, now).await
    }
    .await;
    match ran {
        Ok(ran) => {
            let page = render_payroll(
                &state,
                &session,
                views::PayrollValues::default(),
                Vec::new(),
                Some(ran.value),
            )
            .await?;
            Ok((StatusCode::CREATED, page).into_response())
        }
        Err(AppError::NotFound) => Err(AppError::NotFound.into()),
        Err(e) => {
            let error = ApiError::from(payroll_csv::with_rows(e));
            let page = render_payroll(&state, &session, values, messages(&error), None).await?;
            Ok((error.status, page).into_response())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Bank statements

/// The client accounts the organisation holds, each linking to its statements.
pub async fn client_accounts(
    State(state): State<AppState>,
    session: AdminSession,
) -> AdminResult<Markup> {
    let shell = session.shell(&state, "/bank-statements").await?;
    let actor = session.actor.clone();
    let org = organisation(&actor)?;
    let rows = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                let rows = tx
                    .query(
                        "SELECT a.account_id, p.name, b.reference, a.deployment,
                                (l.posted_credits - l.posted_debits)::numeric(14,2)
                         FROM budget_accounts a
                         JOIN budgets b ON b.council_id = a.council_id AND b.id = a.budget_id
                         JOIN people p ON p.council_id = b.council_id AND p.id = b.person_id
                         JOIN ledger_accounts l ON l.council_id = a.council_id AND l.id = a.account_id
                         WHERE a.council_id = $1 AND a.purpose = 'deployment'
                           AND a.holder_organisation_id = $2
                           AND can_see_budget($1, $3, a.budget_id)
                         ORDER BY p.name, b.reference LIMIT 1000",
                        &[&actor.council_id, &org, &actor.user_id],
                    )
                    .await?;
                Ok(rows
                    .iter()
                    .map(|r| views::ClientAccountRow {
                        account_id: r.get::<_, Uuid>(0).to_string(),
                        person: r.get(1),
                        budget_reference: r.get(2),
                        deployment: r
                            .get::<_, String>(3)
                            .parse()
                            .map(labels::deployment)
                            .unwrap_or("")
                            .into(),
                        balance: r.get(4),
                    })
                    .collect::<Vec<_>>())
            })
        })
        .await?;
    Ok(views::client_accounts(&shell, &rows))
}

async fn render_account(
    state: &AppState,
    session: &AdminSession,
    account_id: Uuid,
    errors: Vec<String>,
) -> AdminResult<Markup> {
    let shell = session.shell(state, "/bank-statements").await?;
    let actor = session.actor.clone();
    let (title, rows) = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                statements::require_account(tx, &actor, account_id).await?;
                let name: String = tx
                    .query_one(
                        "SELECT p.name || ' — ' || b.reference FROM budget_accounts a
                         JOIN budgets b ON b.council_id = a.council_id AND b.id = a.budget_id
                         JOIN people p ON p.council_id = b.council_id AND p.id = b.person_id
                         WHERE a.council_id = $1 AND a.account_id = $2",
                        &[&actor.council_id, &account_id],
                    )
                    .await?
                    .get(0);
                let rows = tx
                    .query(
                        "SELECT s.id, s.statement_ref, s.from_date, s.to_date, s.closing_balance,
                                (SELECT count(*) FROM bank_statement_lines l
                                 WHERE l.council_id = s.council_id AND l.statement_id = s.id
                                   AND l.matched_entry_id IS NULL)
                         FROM bank_statements s WHERE s.council_id = $1 AND s.account_id = $2
                         ORDER BY s.to_date DESC NULLS LAST, s.imported_at DESC LIMIT 200",
                        &[&actor.council_id, &account_id],
                    )
                    .await?;
                let rows = rows
                    .iter()
                    .map(|r| {
                        let (from, to): (Option<NaiveDate>, Option<NaiveDate>) =
                            (r.get(2), r.get(3));
                        views::StatementRow {
                            id: r.get::<_, Uuid>(0).to_string(),
                            reference: r.get(1),
                            period: match (from, to) {
                                (Some(f), Some(t)) => format!("{} to {}", day(f), day(t)),
                                _ => "—".into(),
                            },
                            closing: r.get(4),
                            unmatched: r.get(5),
                        }
                    })
                    .collect::<Vec<_>>();
                Ok((format!("Bank statements: {name}"), rows))
            })
        })
        .await?;
    Ok(views::account_statements(
        &shell,
        &views::AccountStatementsPage {
            account_id: account_id.to_string(),
            title,
            csrf_token: session.csrf_token.clone(),
            errors,
            statements: rows,
        },
    ))
}

pub async fn account_statements(
    State(state): State<AppState>,
    session: AdminSession,
    AdminPath(id): AdminPath<Uuid>,
) -> AdminResult<Markup> {
    render_account(&state, &session, id, Vec::new()).await
}

/// The fields of a `multipart/form-data` body, read with `multer`: name and bytes (file or
/// text). None when the body is not such a form, or is not well-formed.
pub async fn multipart_fields(content_type: &str, body: Bytes) -> Option<Vec<(String, Vec<u8>)>> {
    let boundary = multer::parse_boundary(content_type).ok()?;
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut form = multer::Multipart::new(stream, boundary);
    let mut fields = Vec::new();
    while let Some(field) = form.next_field().await.ok()? {
        let name = field.name()?.to_owned();
        let data = field.bytes().await.ok()?;
        fields.push((name, data.to_vec()));
    }
    Some(fields)
}

/// Uploads a camt.053 statement (a file input; multipart form with the CSRF token).
pub async fn upload_statement(
    State(state): State<AppState>,
    AdminPath(account_id): AdminPath<Uuid>,
    request: Request,
) -> AdminResult<Response> {
    let (mut parts, body) = request.into_parts();
    let session = <AdminSession as axum::extract::FromRequestParts<AppState>>::from_request_parts(
        &mut parts, &state,
    )
    .await?;
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = Bytes::from_request(Request::from_parts(parts, body), &state)
        .await
        .map_err(|_| AdminError::Page {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            title: "The file is too large",
            message: "The statement is larger than this page accepts.".into(),
        })?;
    let fields = multipart_fields(&content_type, bytes)
        .await
        .ok_or_else(|| AdminError::Page {
            status: StatusCode::BAD_REQUEST,
            title: "The form could not be read",
            message: "Send the statement with the form's file field.".into(),
        })?;
    let field = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v);
    let sent = field("csrf_token")
        .and_then(|v| std::str::from_utf8(v).ok())
        .ok_or_else(AdminError::csrf)?;
    if !token::same(sent, &session.csrf_token) {
        return Err(AdminError::csrf());
    }
    let file = field("statement").cloned().unwrap_or_default();
    if file.iter().all(u8::is_ascii_whitespace) {
        let page = render_account(
            &state,
            &session,
            account_id,
            vec!["Choose the statement file to load.".into()],
        )
        .await?;
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    }
    let actor = session.actor.clone();
    // Whose account it is comes first: another's is 404 whatever was sent.
    let checking = actor.clone();
    state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { statements::require_account(tx, &checking, account_id).await })
        })
        .await?;
    match statements::import(&state.pool, &actor, account_id, &file, state.clock.now()).await {
        Ok(view) => Ok(Redirect::to(&format!("/bank-statements/{}", view.id)).into_response()),
        Err(AppError::NotFound) => Err(AppError::NotFound.into()),
        Err(e) => {
            let error = ApiError::from(e);
            let page = render_account(&state, &session, account_id, messages(&error)).await?;
            Ok((error.status, page).into_response())
        }
    }
}

/// A statement with its lines, matched and unmatched, forms to match and unmatch by hand, and
/// the difference between the bank and the ledger explained.
pub async fn statement_show(
    State(state): State<AppState>,
    session: AdminSession,
    AdminPath(id): AdminPath<Uuid>,
) -> AdminResult<Markup> {
    render_statement(&state, &session, id, Vec::new()).await
}

async fn render_statement(
    state: &AppState,
    session: &AdminSession,
    id: Uuid,
    errors: Vec<String>,
) -> AdminResult<Markup> {
    let shell = session.shell(state, "/bank-statements").await?;
    let actor = session.actor.clone();
    let view = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { statements::get(tx, &actor, id).await })
        })
        .await?;
    let gbp = |m: crate::money::Money| allot_views::Gbp(m.amount()).text();
    let signed = |direction: &str, amount: Decimal| {
        if direction == "debit" {
            -amount
        } else {
            amount
        }
    };
    let lines = view
        .lines
        .iter()
        .map(|l| {
            let description = [&l.counterparty, &l.remittance, &l.end_to_end_id]
                .iter()
                .filter_map(|v| v.as_deref())
                .collect::<Vec<_>>()
                .join(" · ");
            views::BankLineRow {
                id: l.id.to_string(),
                line_no: l.line_no,
                booked_on: day(l.booked_on),
                description,
                amount: signed(&l.direction, l.amount.amount()),
                matched: l.matched_by.as_ref().map(|how| {
                    match how.as_str() {
                        "reference" => "by reference",
                        "amount_and_date" => "by amount and date",
                        _ => "by hand",
                    }
                    .to_owned()
                }),
                candidates: view
                    .unmatched_postings
                    .iter()
                    .filter(|p| p.direction == l.direction && p.amount == l.amount)
                    .map(|p| Choice {
                        value: p.posting_id.to_string(),
                        label: format!(
                            "{} — {} — {}",
                            day(p.effective_date),
                            p.description,
                            gbp(p.amount)
                        ),
                    })
                    .collect(),
            }
        })
        .collect();
    let mut explanation = vec![format!(
        "The bank's closing balance is {}; the ledger's balance on the statement's last day is {}: a difference of {}.",
        gbp(view.closing_balance),
        gbp(view.ledger_balance),
        gbp(view.difference)
    )];
    explanation.push(format!(
        "Bank lines not yet matched come to {}, and ledger postings no bank line is matched to come to {}.",
        gbp(view.unmatched_lines_total),
        gbp(view.unmatched_postings_total)
    ));
    if view.unexplained.amount().is_zero() {
        explanation.push("Together they explain the whole difference.".into());
    } else {
        explanation.push(format!(
            "{} of the difference is not explained by unmatched items: check earlier statements of this account.",
            gbp(view.unexplained)
        ));
    }
    let summary = vec![
        ("Statement".to_owned(), view.statement_ref.clone()),
        ("Format".to_owned(), view.format.clone()),
        (
            "Period".to_owned(),
            match (view.from_date, view.to_date) {
                (Some(f), Some(t)) => format!("{} to {}", day(f), day(t)),
                _ => "—".into(),
            },
        ),
        ("Opening balance".to_owned(), gbp(view.opening_balance)),
        ("Closing balance".to_owned(), gbp(view.closing_balance)),
        ("Lines matched".to_owned(), view.matched.to_string()),
        ("Lines unmatched".to_owned(), view.unmatched.to_string()),
    ];
    Ok(views::statement(
        &shell,
        &views::StatementPage {
            title: format!("Bank statement {}", view.statement_ref),
            account_id: view.account_id.to_string(),
            csrf_token: session.csrf_token.clone(),
            errors,
            summary,
            explanation,
            lines,
            unmatched_postings: view
                .unmatched_postings
                .iter()
                .map(|p| {
                    (
                        day(p.effective_date),
                        p.description.clone(),
                        signed(&p.direction, p.amount.amount()),
                    )
                })
                .collect(),
        },
    ))
}

async fn line_act(
    state: &AppState,
    session: AdminSession,
    line_id: Uuid,
    posting: Option<Uuid>,
) -> AdminResult<Response> {
    let actor = session.actor.clone();
    let now = state.clock.now();
    let done = state
        .write(actor.council_id, |tx| {
            let actor = actor.clone();
            Box::pin(async move {
                match posting {
                    Some(p) => statements::match_line(tx, &actor, line_id, p, now).await,
                    None => statements::unmatch_line(tx, &actor, line_id).await,
                }
            })
        })
        .await;
    let error = match done {
        Ok(view) => {
            return Ok(Redirect::to(&format!("/bank-statements/{}", view.id)).into_response())
        }
        Err(AppError::NotFound) => return Err(AppError::NotFound.into()),
        Err(e) => ApiError::from(e),
    };
    // The refusal is shown on the statement the line belongs to (which the service has just
    // let this user reach, or it would have answered 404).
    let statement: Option<Uuid> = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                Ok(tx
                    .query_opt(
                        "SELECT statement_id FROM bank_statement_lines
                         WHERE council_id = $1 AND id = $2",
                        &[&actor.council_id, &line_id],
                    )
                    .await?
                    .map(|r| r.get(0)))
            })
        })
        .await?;
    let Some(statement) = statement else {
        return Err(AppError::NotFound.into());
    };
    let page = render_statement(state, &session, statement, messages(&error)).await?;
    Ok((error.status, page).into_response())
}

pub async fn line_match(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form }: CsrfForm<HashMap<String, String>>,
) -> AdminResult<Response> {
    let posting = form
        .iter()
        .find(|(k, _)| k.starts_with("posting"))
        .and_then(|(_, v)| Uuid::parse_str(v.trim()).ok())
        .ok_or_else(|| AdminError::Page {
            status: StatusCode::BAD_REQUEST,
            title: "The form could not be read",
            message: "Choose the posting to match the line to.".into(),
        })?;
    line_act(&state, session, id, Some(posting)).await
}

pub async fn line_unmatch(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form: _ }: CsrfForm<HashMap<String, String>>,
) -> AdminResult<Response> {
    line_act(&state, session, id, None).await
}

// ---------------------------------------------------------------------------------------------
// Returns

#[derive(serde::Deserialize)]
pub struct PeriodQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

fn period(from: &str, to: &str, today: NaiveDate) -> Result<Period, AppError> {
    if from.trim().is_empty() && to.trim().is_empty() {
        return Ok(returns::last_full_quarter(today));
    }
    let date = |name: &str, v: &str| {
        NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
            .map_err(|_| AppError::invalid(name, "a date like 2025-03-31"))
    };
    Ok(Period {
        from: date("from", from)?,
        to: date("to", to)?,
    })
}

async fn render_return(
    state: &AppState,
    session: &AdminSession,
    from: String,
    to: String,
    mut errors: Vec<String>,
    notice: Option<(String, Vec<String>)>,
) -> AdminResult<(StatusCode, Markup)> {
    let shell = session.shell(state, "/returns").await?;
    let actor = session.actor.clone();
    let org = organisation(&actor)?;
    let mut status = StatusCode::OK;
    let wanted = match period(&from, &to, state.clock.today())
        .and_then(|p| returns::check_period(p).map(|()| p))
    {
        Ok(p) => Some(p),
        Err(e) => {
            let e = ApiError::from(e);
            status = e.status;
            errors.extend(messages(&e));
            None
        }
    };
    let shown = wanted.unwrap_or_else(|| returns::last_full_quarter(state.clock.today()));
    let computed = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                let ret = returns::compute(tx, &actor, org, shown).await?;
                let refs = budget_refs(
                    tx,
                    actor.council_id,
                    ret.accounts.iter().map(|a| a.budget_id).collect(),
                )
                .await?;
                let submitted = tx
                    .query_opt(
                        "SELECT submitted_at, snapshot_sha256 FROM organisation_returns
                         WHERE council_id = $1 AND organisation_id = $2
                           AND period_from = $3 AND period_to = $4",
                        &[&actor.council_id, &org, &shown.from, &shown.to],
                    )
                    .await?
                    .map(|r| {
                        format!(
                            "on {} (SHA-256 {})",
                            r.get::<_, chrono::DateTime<chrono::Utc>>(0)
                                .format("%-d %b %Y %H:%M"),
                            r.get::<_, String>(1)
                        )
                    });
                Ok((ret, refs, submitted))
            })
        })
        .await;
    let (ret, refs, submitted) = match computed {
        Ok(v) => v,
        Err(AppError::NotFound) => return Err(AppError::NotFound.into()),
        Err(e) => return Err(e.into()),
    };
    let gbp = |m: crate::money::Money| allot_views::Gbp(m.amount()).text();
    let columns = [
        "Budget",
        "Money",
        "Opening",
        "Council money in",
        "Contributions in",
        "Spending",
        "Other",
        "Closing",
        "Weeks of funding",
        "Surplus above policy",
        "Payments without evidence",
        "Unreconciled bank lines",
    ]
    .iter()
    .map(|c| (*c).to_owned())
    .collect();
    let rows = ret
        .accounts
        .iter()
        .map(|a| {
            let spending = a
                .spending
                .iter()
                .map(|(c, m)| format!("{} {}", c.replace('_', " "), gbp(*m)))
                .collect::<Vec<_>>();
            vec![
                refs.get(&a.budget_id).cloned().unwrap_or_default(),
                a.deployment.replace('_', " "),
                gbp(a.opening_balance),
                gbp(a.council_money_in),
                gbp(a.contributions_in),
                if spending.is_empty() {
                    gbp(a.spending_total)
                } else {
                    format!("{} ({})", gbp(a.spending_total), spending.join("; "))
                },
                gbp(a.other_movements),
                gbp(a.closing_balance),
                a.weeks_of_funding
                    .map(|w| w.to_string())
                    .unwrap_or_else(|| "—".into()),
                gbp(a.surplus_above_policy),
                a.payments_without_evidence.to_string(),
                a.unreconciled_items.to_string(),
            ]
        })
        .collect();
    Ok((
        status,
        views::return_page(
            &shell,
            &views::ReturnPage {
                title: format!("Return: {}", ret.organisation_name),
                from: if wanted.is_some() {
                    shown.from.to_string()
                } else {
                    from
                },
                to: if wanted.is_some() {
                    shown.to.to_string()
                } else {
                    to
                },
                csrf_token: session.csrf_token.clone(),
                errors,
                notice,
                columns,
                rows,
                submitted: if wanted.is_some() {
                    submitted
                } else {
                    Some(String::new())
                },
            },
        ),
    ))
}

pub async fn return_show(
    State(state): State<AppState>,
    session: AdminSession,
    AdminQuery(query): AdminQuery<PeriodQuery>,
) -> AdminResult<Response> {
    Ok(
        render_return(&state, &session, query.from, query.to, Vec::new(), None)
            .await?
            .into_response(),
    )
}

pub async fn return_submit(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<HashMap<String, String>>,
) -> AdminResult<Response> {
    let from = form.get("from").cloned().unwrap_or_default();
    let to = form.get("to").cloned().unwrap_or_default();
    let actor = session.actor.clone();
    let org = organisation(&actor)?;
    let now = state.clock.now();
    let done = match period(&from, &to, state.clock.today()) {
        Ok(p) => {
            state
                .write(actor.council_id, |tx| {
                    let actor = actor.clone();
                    Box::pin(async move { returns::submit(tx, &actor, org, p, now).await })
                })
                .await
        }
        Err(e) => Err(e),
    };
    match done {
        Ok(submitted) => {
            let notice = Some((
                "The return was submitted".to_owned(),
                vec![format!("Its SHA-256 is {}.", submitted.sha256)],
            ));
            let (_, page) = render_return(&state, &session, from, to, Vec::new(), notice).await?;
            Ok((StatusCode::CREATED, page).into_response())
        }
        Err(AppError::NotFound) => Err(AppError::NotFound.into()),
        Err(e) => {
            let error = ApiError::from(e);
            let (_, page) =
                render_return(&state, &session, from, to, messages(&error), None).await?;
            Ok((error.status, page).into_response())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::multipart_fields;
    use bytes::Bytes;

    #[tokio::test]
    async fn multipart_fields_are_read() {
        let body: &[u8] = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nabc\r\n--XyZ\r\nContent-Disposition: form-data; name=\"statement\"; filename=\"s.xml\"\r\nContent-Type: text/xml\r\n\r\n<a>\r\n</a>\r\n--XyZ--\r\n";
        let read = |content_type: &'static str, body: &'static [u8]| {
            multipart_fields(content_type, Bytes::from_static(body))
        };
        let fields = read("multipart/form-data; boundary=XyZ", body)
            .await
            .unwrap();
        assert_eq!(fields[0], ("csrf_token".into(), b"abc".to_vec()));
        assert_eq!(fields[1], ("statement".into(), b"<a>\r\n</a>".to_vec()));
        assert!(read("application/x-www-form-urlencoded", body)
            .await
            .is_none());
        assert!(
            read("multipart/form-data; boundary=XyZ", b"--XyZ\r\nbroken")
                .await
                .is_none()
        );
    }
}
