//! The finance officers' pages: payees with their verification queue (`/payees`, verifying
//! through the same service as `POST /api/v1/bank-detail-changes/{id}/verify`), contributions
//! (`/contributions`: record one for a budget, approve or reject those held, as the
//! contributions API) and reversing a payment with a reason (`/payments/{id}/reverse`, as
//! `POST /api/v1/payments/{id}/reverse`). Refusals re-render the form with what was typed and
//! each refusal beside its field.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use super::payments::Empty;
use super::session::{AdminSession, CsrfForm};
use super::{labels, AdminError, AdminPath, AdminResult};
use crate::auth::Role;
use crate::budgets::{bank_changes, listing, payee_queue};
use crate::error::AppError;
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::money::PositiveMoney;
use crate::payments::contributions::{self, Contribution, ContributionStatus, NewContribution};
use crate::payments::reversals;
use allot_views::components::FieldError;
use allot_views::pages::finance::{
    self as page, BudgetChoice, ContributionFields, ContributionRow, ContributionsPage, PayeeRow,
    PayeesPage, ReversePage,
};

/// The refusal of a service as field errors: each detail naming a field the form has is shown
/// beside it; anything else under `fallback`. Not found and forbidden stay error pages.
fn field_errors(
    e: AppError,
    fields: &[&str],
    fallback: &str,
) -> Result<(StatusCode, Vec<FieldError>), AdminError> {
    if matches!(e, AppError::Forbidden) {
        return Err(e.into());
    }
    let api = ApiError::from(e);
    let mut errors: Vec<FieldError> = api
        .details
        .iter()
        .filter_map(|d| {
            let field = d.field.as_deref()?;
            fields
                .contains(&field)
                .then(|| FieldError::new(field, d.message.clone()))
        })
        .collect();
    if errors.is_empty() {
        errors.push(FieldError::new(fallback, api.message));
    }
    Ok((api.status, errors))
}

fn form_key(form: &HashMap<String, String>) -> String {
    form.get("idempotency_key")
        .cloned()
        .filter(|k| crate::commands::claims::valid_key(k))
        .unwrap_or_else(crate::auth::token::generate)
}

// ---- Payees ----

async fn render_payees(
    state: &AppState,
    session: &AdminSession,
    errors: Vec<FieldError>,
) -> AdminResult<maud::Markup> {
    let shell = session.shell(state, "/payees").await?;
    let actor = session.actor.clone();
    let payees = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { payee_queue::list(tx, &actor).await })
        })
        .await?;
    let me = session.actor.user_id;
    let rows = payees
        .into_iter()
        .map(|p| PayeeRow {
            id: p.id,
            name: p.name,
            kind: p.kind.replace('_', " "),
            active: p.active,
            verified: p.bank_verified,
            bank: format!(
                "{} {} ({})",
                p.bank.sort_code, p.bank.account_number, p.bank.account_name
            ),
            own: p.waiting.as_ref().is_some_and(|w| w.changed_by == me),
            waiting: p.waiting.map(|w| (w.changed_by_name, w.changed_at)),
        })
        .collect();
    Ok(page::payees(
        &shell,
        &PayeesPage {
            rows,
            can_verify: session.actor.role == Role::FinanceOfficer,
            csrf_token: session.csrf_token.clone(),
            errors,
        },
    ))
}

/// The council's payees, unverified first (finance officers and auditors).
pub async fn payees(
    State(state): State<AppState>,
    session: AdminSession,
) -> AdminResult<maud::Markup> {
    render_payees(&state, &session, Vec::new()).await
}

/// Verifies the newest change of a payee's bank details, then back to the list (or the list
/// with the refusal beside the payee).
pub async fn verify_payee(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form: _ }: CsrfForm<Empty>,
) -> AdminResult<Response> {
    let actor = session.actor.clone();
    let done = state
        .write(actor.council_id, |tx| {
            let actor = actor.clone();
            Box::pin(async move {
                let change = payee_queue::waiting_change(tx, &actor, id).await?;
                bank_changes::verify(tx, &actor, change).await
            })
        })
        .await;
    match done {
        Ok(_) => Ok(Redirect::to("/payees").into_response()),
        Err(AppError::NotFound) => Err(AppError::NotFound.into()),
        Err(e) => {
            let (status, mut errors) = field_errors(e, &[], "")?;
            for error in &mut errors {
                error.field = format!("payee-{id}");
            }
            let page = render_payees(&state, &session, errors).await?;
            Ok((status, page).into_response())
        }
    }
}

// ---- Contributions ----

fn contribution_row(
    c: &Contribution,
    references: &HashMap<Uuid, String>,
    names: &HashMap<Uuid, String>,
    me: Uuid,
) -> ContributionRow {
    ContributionRow {
        id: c.id,
        budget_id: c.budget_id,
        reference: references
            .get(&c.budget_id)
            .cloned()
            .unwrap_or_else(|| "a budget".into()),
        amount: c.amount.amount(),
        received_on: c.received_on,
        status: match c.status {
            ContributionStatus::Posted => "posted",
            ContributionStatus::PendingApproval => "waiting for approval",
            ContributionStatus::Rejected => "rejected",
        },
        hold_reason: c.hold_reason.clone(),
        recorded_by: names.get(&c.recorded_by).cloned().unwrap_or_default(),
        recorded_at: c.recorded_at,
        own: c.recorded_by == me,
    }
}

async fn render_contributions(
    state: &AppState,
    session: &AdminSession,
    fields: ContributionFields,
    errors: Vec<FieldError>,
    notice: Option<String>,
) -> AdminResult<maud::Markup> {
    let shell = session.shell(state, "/contributions").await?;
    let actor = session.actor.clone();
    let council_id = actor.council_id;
    let (items, budgets, names) = state
        .in_tenant_tx(council_id, |tx| {
            let actor = actor.clone();
            Box::pin(async move {
                let items = contributions::list(tx, &actor, None).await?;
                let budgets = listing::list(tx, &actor, None).await?;
                let names: HashMap<Uuid, String> = tx
                    .query(
                        "SELECT id, name FROM users WHERE council_id = $1",
                        &[&council_id],
                    )
                    .await?
                    .iter()
                    .map(|r| (r.get(0), r.get(1)))
                    .collect();
                Ok((items, budgets, names))
            })
        })
        .await?;
    let references: HashMap<Uuid, String> = budgets
        .iter()
        .map(|b| (b.id, format!("{} — {}", b.reference, b.person_name)))
        .collect();
    let me = session.actor.user_id;
    let (waiting, recent): (Vec<_>, Vec<_>) = items
        .iter()
        .map(|c| contribution_row(c, &references, &names, me))
        .partition(|r| r.status == "waiting for approval");
    Ok(page::contributions(
        &shell,
        &ContributionsPage {
            budgets: budgets
                .iter()
                .map(|b| BudgetChoice {
                    id: b.id,
                    label: format!("{} — {}", b.reference, b.person_name),
                })
                .collect(),
            fields,
            errors,
            can_record: session.actor.role == Role::FinanceOfficer,
            waiting,
            recent: recent.into_iter().take(50).collect(),
            csrf_token: session.csrf_token.clone(),
            idempotency_key: crate::auth::token::generate(),
            notice,
        },
    ))
}

/// The contributions (finance officers and auditors): the form, the queue and the newest.
pub async fn contributions_page(
    State(state): State<AppState>,
    session: AdminSession,
) -> AdminResult<Response> {
    session
        .actor
        .require(&[Role::FinanceOfficer, Role::Auditor])
        .map_err(AdminError::from)?;
    let fields = ContributionFields {
        received_on: state.clock.today().to_string(),
        ..ContributionFields::default()
    };
    Ok(
        render_contributions(&state, &session, fields, Vec::new(), None)
            .await?
            .into_response(),
    )
}

/// What is wrong with the contribution form before the service is asked.
fn read_contribution(
    fields: &ContributionFields,
) -> Result<(Uuid, NewContribution), Vec<FieldError>> {
    let mut errors = Vec::new();
    let budget = Uuid::parse_str(fields.budget_id.trim()).ok();
    if budget.is_none() {
        errors.push(FieldError::new(
            "budget_id",
            "Choose the budget the contribution is for",
        ));
    }
    let amount = PositiveMoney::parse(&fields.amount).ok();
    if amount.is_none() {
        errors.push(FieldError::new(
            "amount",
            "Enter the amount received in pounds, more than zero, like 45.50",
        ));
    }
    let received = NaiveDate::parse_from_str(fields.received_on.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| crate::dates::in_range(d).ok());
    if received.is_none() {
        errors.push(FieldError::new(
            "received_on",
            "Enter the day it was received, like 2025-04-01",
        ));
    }
    match (budget, amount, received) {
        (Some(budget), Some(amount), Some(received_on)) if errors.is_empty() => Ok((
            budget,
            NewContribution {
                amount,
                received_on,
            },
        )),
        _ => Err(errors),
    }
}

/// Records a contribution from the form (finance officers), through the command path with the
/// form's own key, so a form sent twice records once.
pub async fn record_contribution(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<HashMap<String, String>>,
) -> AdminResult<Response> {
    session
        .actor
        .require(&[Role::FinanceOfficer])
        .map_err(AdminError::from)?;
    let fields = ContributionFields {
        budget_id: form.get("budget_id").cloned().unwrap_or_default(),
        amount: form.get("amount").cloned().unwrap_or_default(),
        received_on: form.get("received_on").cloned().unwrap_or_default(),
    };
    let (budget_id, body) = match read_contribution(&fields) {
        Ok(read) => read,
        Err(errors) => {
            let page = render_contributions(&state, &session, fields, errors, None).await?;
            return Ok((StatusCode::BAD_REQUEST, page).into_response());
        }
    };
    let actor = session.actor.clone();
    let path = format!("/api/v1/budgets/{budget_id}/contributions");
    let claim = crate::commands::Claim::new(
        &form_key(&form),
        &format!("POST {path}"),
        actor.user_id,
        &path,
        &body,
    )?;
    let today = state.clock.today();
    let done = state
        .command(actor.council_id, Some(&claim), |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(
                async move { contributions::record(tx, &actor, budget_id, &body, today).await },
            )
        })
        .await;
    match done {
        Ok(ran) => {
            let notice = format!(
                "Recorded {} received on {}: {}.",
                allot_views::Gbp(ran.value.amount.amount()).text(),
                ran.value.received_on.format("%-d %B %Y"),
                match ran.value.status {
                    ContributionStatus::Posted => "posted",
                    _ => "waiting for a finance officer",
                }
            );
            let fields = ContributionFields {
                received_on: today.to_string(),
                ..ContributionFields::default()
            };
            Ok(
                render_contributions(&state, &session, fields, Vec::new(), Some(notice))
                    .await?
                    .into_response(),
            )
        }
        Err(AppError::NotFound) => {
            let errors = vec![FieldError::new(
                "budget_id",
                "Choose a budget of this council that you may see",
            )];
            let page = render_contributions(&state, &session, fields, errors, None).await?;
            Ok((StatusCode::NOT_FOUND, page).into_response())
        }
        Err(e) => {
            let (status, errors) =
                field_errors(e, &["budget_id", "amount", "received_on"], "budget_id")?;
            let page = render_contributions(&state, &session, fields, errors, None).await?;
            Ok((status, page).into_response())
        }
    }
}

async fn decide_contribution(
    state: AppState,
    session: AdminSession,
    id: Uuid,
    approve: bool,
) -> AdminResult<Response> {
    let actor = session.actor.clone();
    let done = state
        .write(actor.council_id, |tx| {
            let actor = actor.clone();
            Box::pin(async move {
                if approve {
                    contributions::approve(tx, &actor, id).await
                } else {
                    contributions::reject(tx, &actor, id).await
                }
            })
        })
        .await;
    match done {
        Ok(_) => Ok(Redirect::to("/contributions").into_response()),
        Err(AppError::NotFound) => Err(AppError::NotFound.into()),
        Err(e) => {
            let (status, errors) = field_errors(e, &[], "")?;
            let fields = ContributionFields {
                received_on: state.clock.today().to_string(),
                ..ContributionFields::default()
            };
            let page = render_contributions(&state, &session, fields, errors, None).await?;
            Ok((status, page).into_response())
        }
    }
}

pub async fn approve_contribution(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form: _ }: CsrfForm<Empty>,
) -> AdminResult<Response> {
    decide_contribution(state, session, id, true).await
}

pub async fn reject_contribution(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form: _ }: CsrfForm<Empty>,
) -> AdminResult<Response> {
    decide_contribution(state, session, id, false).await
}

// ---- Reversals ----

#[derive(Debug, Deserialize)]
pub struct ReverseForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    idempotency_key: String,
}

async fn render_reverse(
    state: &AppState,
    session: &AdminSession,
    id: Uuid,
    reason: String,
    errors: Vec<FieldError>,
) -> AdminResult<maud::Markup> {
    let shell = session.shell(state, "/budgets").await?;
    let actor = session.actor.clone();
    let (payment, reversed_by) = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { reversals::for_reversal(tx, &actor, id).await })
        })
        .await?;
    Ok(page::reverse(
        &shell,
        &ReversePage {
            payment_id: payment.id,
            budget_id: payment.budget_id,
            payee: payment.payee_name.clone(),
            category: labels::category(payment.category).to_string(),
            amount: payment.amount.amount(),
            service_date: payment.service_date,
            status: payment.status.as_str().replace('_', " "),
            entry_id: payment.entry_id,
            reversed_by,
            reason,
            errors,
            csrf_token: session.csrf_token.clone(),
            idempotency_key: crate::auth::token::generate(),
        },
    ))
}

/// The reversal form for one payment (finance officers; provider staff of the holder).
pub async fn reverse_form(
    State(state): State<AppState>,
    session: AdminSession,
    AdminPath(id): AdminPath<Uuid>,
) -> AdminResult<maud::Markup> {
    render_reverse(&state, &session, id, String::new(), Vec::new()).await
}

/// Reverses the payment with the reason given, then shows the reversing entry. Without a reason
/// (or one too long) the form comes back with what was typed.
pub async fn reverse(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form }: CsrfForm<ReverseForm>,
) -> AdminResult<Response> {
    session
        .actor
        .require(&[Role::FinanceOfficer, Role::ProviderStaff])
        .map_err(AdminError::from)?;
    let reason = form.reason.trim().to_string();
    if reason.is_empty() || reason.chars().count() > crate::ledger::reverse::MAX_REASON {
        let errors = vec![FieldError::new(
            "reason",
            format!(
                "Say why the payment is reversed, in 1 to {} characters",
                crate::ledger::reverse::MAX_REASON
            ),
        )];
        let page = render_reverse(&state, &session, id, form.reason, errors).await?;
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    }
    let actor = session.actor.clone();
    let key = Some(form.idempotency_key.clone())
        .filter(|k| crate::commands::claims::valid_key(k))
        .unwrap_or_else(crate::auth::token::generate);
    let path = format!("/api/v1/payments/{id}/reverse");
    let body = serde_json::json!({ "reason": reason });
    let claim = crate::commands::Claim::new(
        &key,
        "POST /api/v1/payments/{id}/reverse",
        actor.user_id,
        &path,
        &body,
    )?;
    let today = state.clock.today();
    let done = state
        .command(actor.council_id, Some(&claim), |tx| {
            let (actor, reason) = (actor.clone(), reason.clone());
            Box::pin(async move { reversals::reverse(tx, &actor, id, &reason, today).await })
        })
        .await;
    match done {
        Ok(ran) => Ok(Redirect::to(&format!("/entries/{}", ran.value.id)).into_response()),
        Err(AppError::NotFound) => Err(AppError::NotFound.into()),
        Err(e) => {
            let (status, errors) = field_errors(e, &["reason"], "reason")?;
            let page = render_reverse(&state, &session, id, form.reason, errors).await?;
            Ok((status, page).into_response())
        }
    }
}
