//! Payment pages: the approvals queue, the payment form (checked by the rules before anything is
//! sent, with any refusal or hold explained in plain words), and a budget's decision log.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::session::{AdminSession, CsrfForm};
use super::{labels, AdminPath, AdminResult};
use crate::auth::token;
use crate::budgets::{accounts, budget, payees};
use crate::error::AppError;
use crate::http::error::ApiError;
use crate::http::extract::parse_json;
use crate::http::AppState;
use crate::payments::spend::{self, NewPayment, Payment, PaymentOutcome};
use crate::rules::{Category, Decision, RuleCode};
use allot_views::components::FieldError;
use allot_views::pages::payments::{
    approvals as approvals_page, decisions as decisions_page, pay as pay_page, ApprovalsPage,
    Choice, DecisionsPage, PayPage, PayValues, PaymentRow,
};

/// The sentences that explain a payment's state: why it waits, why it was refused, what was noted.
fn reasons(payment: &Payment) -> Vec<String> {
    let mut out: Vec<String> = payment
        .approvals_required
        .iter()
        .map(|n| n.message.clone())
        .collect();
    out.extend(
        payment
            .decision
            .refusals()
            .iter()
            .map(|r| r.message.clone()),
    );
    out.extend(payment.decision.flags().iter().map(|f| f.message.clone()));
    out
}

fn row(payment: &Payment) -> PaymentRow {
    PaymentRow {
        id: payment.id,
        budget_id: payment.budget_id,
        requested_at: payment.requested_at,
        requested_by: payment.requested_by_name.clone(),
        payee: payment.payee_name.clone(),
        category: labels::category(payment.category),
        amount: payment.amount.amount(),
        status: payment.status.as_str().to_owned(),
        reasons: reasons(payment),
    }
}

async fn queue_page(
    state: &AppState,
    session: &AdminSession,
    errors: Vec<String>,
) -> AdminResult<maud::Markup> {
    let shell = session.shell(state, "/approvals").await?;
    let actor = session.actor.clone();
    let now = state.clock.now();
    let items = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { spend::approvals_queue(tx, &actor, now).await })
        })
        .await?;
    Ok(approvals_page(
        &shell,
        &ApprovalsPage {
            items: items.iter().map(row).collect(),
            csrf_token: session.csrf_token.clone(),
            errors,
        },
    ))
}

/// The payments the signed-in user could approve.
pub async fn approvals(
    State(state): State<AppState>,
    session: AdminSession,
) -> AdminResult<maud::Markup> {
    queue_page(&state, &session, Vec::new()).await
}

pub(super) fn messages(error: &ApiError) -> Vec<String> {
    let mut out = vec![error.message.clone()];
    out.extend(
        error
            .details
            .iter()
            .filter(|d| d.message != error.message && !error.message.ends_with(&d.message))
            .map(|d| d.message.clone()),
    );
    out
}

async fn act(
    state: &AppState,
    session: AdminSession,
    id: Uuid,
    approve: bool,
) -> AdminResult<Response> {
    let actor = session.actor.clone();
    let now = state.clock.now();
    let done = crate::commands::write(&state.pool, actor.council_id, |tx| {
        let actor = actor.clone();
        Box::pin(async move {
            if approve {
                spend::approve(tx, &actor, id, now).await
            } else {
                spend::reject(tx, &actor, id, now).await
            }
        })
    })
    .await;
    match done {
        Ok(_) => Ok(Redirect::to("/approvals").into_response()),
        Err(AppError::NotFound) => Err(AppError::NotFound.into()),
        Err(e) => {
            let error = ApiError::from(e);
            let status = error.status;
            let page = queue_page(state, &session, messages(&error)).await?;
            Ok((status, page).into_response())
        }
    }
}

#[derive(serde::Deserialize)]
pub struct Empty {}

pub async fn approve(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form: _ }: CsrfForm<Empty>,
) -> AdminResult<Response> {
    act(&state, session, id, true).await
}

pub async fn reject(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form: _ }: CsrfForm<Empty>,
) -> AdminResult<Response> {
    act(&state, session, id, false).await
}

/// The budget's decision log.
pub async fn decisions(
    State(state): State<AppState>,
    session: AdminSession,
    AdminPath(id): AdminPath<Uuid>,
) -> AdminResult<maud::Markup> {
    let shell = session.shell(&state, "/budgets").await?;
    let actor = session.actor.clone();
    let (reference, items) = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                let budget = budget::load::visible(tx, &actor, id).await?;
                let items = spend::decisions(tx, &actor, id, 500).await?;
                Ok((budget.reference, items))
            })
        })
        .await?;
    Ok(decisions_page(
        &shell,
        &DecisionsPage {
            budget_id: id,
            budget_reference: reference,
            items: items.iter().map(row).collect(),
            can_reverse: matches!(
                session.actor.role,
                crate::auth::Role::FinanceOfficer | crate::auth::Role::ProviderStaff
            ),
        },
    ))
}

/// What the rules decided, in words.
pub(super) fn explain(decision: &Decision) -> (String, Vec<String>) {
    match decision {
        Decision::Post { flags } => {
            let mut s = vec!["Nothing stops this payment.".to_owned()];
            s.extend(flags.iter().map(|f| f.message.clone()));
            ("This payment can be made now".into(), s)
        }
        Decision::Hold {
            approvals_required,
            flags,
        } => {
            let mut s: Vec<String> = approvals_required
                .iter()
                .map(|n| n.message.clone())
                .collect();
            s.push(
                "If you send it, the money is set aside while it waits, and is released if nobody \
                 approves it in time."
                    .into(),
            );
            s.extend(flags.iter().map(|f| f.message.clone()));
            ("This payment would wait for approval".into(), s)
        }
        Decision::Refuse { refusals } => (
            "This payment cannot be made".into(),
            refusals.iter().map(|r| r.message.clone()).collect(),
        ),
    }
}

fn values(form: &HashMap<String, String>) -> PayValues {
    let get = |k: &str| form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    PayValues {
        payee_id: get("payee_id"),
        category: get("category"),
        deployment: get("deployment"),
        amount: get("amount"),
        service_date: get("service_date"),
        memo: get("memo"),
        stay_from: get("stay_from"),
        stay_to: get("stay_to"),
    }
}

/// The form turned into the API's JSON, so the page and the API accept exactly the same payments.
fn to_json(budget_id: Uuid, v: &PayValues) -> Value {
    let mut body = Map::new();
    body.insert("budget_id".into(), json!(budget_id));
    for (key, value) in [
        ("payee_id", &v.payee_id),
        ("category", &v.category),
        ("deployment", &v.deployment),
        ("amount", &v.amount),
        ("service_date", &v.service_date),
        ("memo", &v.memo),
        ("stay_from", &v.stay_from),
        ("stay_to", &v.stay_to),
    ] {
        if !value.is_empty() {
            body.insert(key.into(), json!(value));
        }
    }
    Value::Object(body)
}

/// Each refusal beside the field it concerns: what its code means in plain words, then the
/// rule's own sentence.
fn refusal_fields(refusals: &[crate::rules::Refusal]) -> Vec<FieldError> {
    refusals
        .iter()
        .map(|r| {
            let (field, plain) = labels::refusal(r.code);
            FieldError::new(field, format!("{plain} {}", r.message))
        })
        .collect()
}

/// The payment form's fields an API error's details name go beside those fields; the rest stay
/// in the summary.
fn split_errors(error: &ApiError) -> (Vec<String>, Vec<FieldError>) {
    const FIELDS: [&str; 8] = [
        "payee_id",
        "category",
        "deployment",
        "amount",
        "service_date",
        "memo",
        "stay_from",
        "stay_to",
    ];
    let beside: Vec<FieldError> = error
        .details
        .iter()
        .filter_map(|d| {
            let field = d.field.as_deref()?;
            FIELDS
                .contains(&field)
                .then(|| FieldError::new(field, d.message.clone()))
        })
        .collect();
    if beside.is_empty() {
        (messages(error), beside)
    } else {
        (Vec::new(), beside)
    }
}

struct PayState {
    values: PayValues,
    errors: Vec<String>,
    field_errors: Vec<FieldError>,
    outcome: Option<(String, Vec<String>)>,
    may_send: bool,
    key: String,
}

async fn render_pay(
    state: &AppState,
    session: &AdminSession,
    id: Uuid,
    pay: PayState,
) -> AdminResult<maud::Markup> {
    let shell = session.shell(state, "/budgets").await?;
    let actor = session.actor.clone();
    let (reference, payee_choices, deployments) = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                let budget = budget::load::visible(tx, &actor, id).await?;
                let list = payees::of_person(tx, actor.council_id, budget.person_id).await?;
                let general = tx
                    .query(
                        "SELECT id FROM payees WHERE council_id = $1 AND person_id IS NULL
                         AND active ORDER BY name LIMIT 200",
                        &[&actor.council_id],
                    )
                    .await?;
                let mut choices: Vec<Choice> = list
                    .iter()
                    .map(|p| Choice {
                        value: p.id.to_string(),
                        label: p.name.clone(),
                    })
                    .collect();
                for row in general {
                    let payee = payees::get(tx, actor.council_id, row.get(0)).await?;
                    choices.push(Choice {
                        value: payee.id.to_string(),
                        label: payee.name,
                    });
                }
                let mut deployments: Vec<Choice> = Vec::new();
                for account in accounts::of_budget(tx, actor.council_id, id).await? {
                    if let Some(d) = account.deployment {
                        if !deployments.iter().any(|c| c.value == d.as_str()) {
                            deployments.push(Choice {
                                value: d.as_str().into(),
                                label: format!(
                                    "{} ({} available)",
                                    labels::deployment(d),
                                    allot_views::money::Gbp(account.available_balance.amount())
                                        .text()
                                ),
                            });
                        }
                    }
                }
                Ok((budget.reference, choices, deployments))
            })
        })
        .await?;
    Ok(pay_page(
        &shell,
        &PayPage {
            budget_id: id,
            budget_reference: reference,
            csrf_token: session.csrf_token.clone(),
            idempotency_key: pay.key,
            payees: payee_choices,
            categories: Category::ALL
                .iter()
                .map(|c| Choice {
                    value: c.as_str().into(),
                    label: labels::category(*c).into(),
                })
                .collect(),
            deployments,
            values: pay.values,
            errors: pay.errors,
            outcome: pay.outcome,
            may_send: pay.may_send,
            field_errors: pay.field_errors,
        },
    ))
}

/// The payment form.
pub async fn pay_form(
    State(state): State<AppState>,
    session: AdminSession,
    AdminPath(id): AdminPath<Uuid>,
) -> AdminResult<maud::Markup> {
    let pay = PayState {
        values: PayValues {
            service_date: state.clock.today().format("%Y-%m-%d").to_string(),
            ..PayValues::default()
        },
        errors: Vec::new(),
        field_errors: Vec::new(),
        outcome: None,
        may_send: false,
        key: token::generate(),
    };
    render_pay(&state, &session, id, pay).await
}

/// Checks the payment (`action=check`), or sends it (`action=send`) once checked.
pub async fn pay_submit(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form }: CsrfForm<HashMap<String, String>>,
) -> AdminResult<Response> {
    let v = values(&form);
    let key = form
        .get("idempotency_key")
        .cloned()
        .filter(|k| crate::commands::claims::valid_key(k))
        .unwrap_or_else(token::generate);
    let parsed = parse_json::<NewPayment>(to_json(id, &v).to_string().as_bytes()).and_then(|new| {
        crate::http::api::payments::check_dates(&new)?;
        Ok(new)
    });
    let new = match parsed {
        Ok(new) => new,
        Err(e) => {
            let status = e.status;
            let (errors, field_errors) = split_errors(&e);
            let pay = PayState {
                values: v,
                errors,
                field_errors,
                outcome: None,
                may_send: false,
                key,
            };
            let page = render_pay(&state, &session, id, pay).await?;
            return Ok((status, page).into_response());
        }
    };
    let actor = session.actor.clone();
    let send = form.get("action").map(String::as_str) == Some("send");
    if !send {
        let now = state.clock.now();
        let checked = state
            .in_tenant_tx(actor.council_id, |tx| {
                Box::pin(async move { spend::check(tx, &actor, &new, now).await })
            })
            .await;
        let pay = match checked {
            Ok(decision) => PayState {
                may_send: !matches!(decision, Decision::Refuse { .. }),
                outcome: Some(explain(&decision)),
                field_errors: match &decision {
                    Decision::Refuse { refusals } => refusal_fields(refusals),
                    _ => Vec::new(),
                },
                values: v,
                errors: Vec::new(),
                key,
            },
            Err(AppError::NotFound) => return Err(AppError::NotFound.into()),
            Err(e) => {
                let (errors, field_errors) = split_errors(&ApiError::from(e));
                PayState {
                    errors,
                    field_errors,
                    values: v,
                    outcome: None,
                    may_send: false,
                    key,
                }
            }
        };
        return Ok(render_pay(&state, &session, id, pay).await?.into_response());
    }
    let claim = crate::commands::Claim::new(
        &key,
        "POST /budgets/{id}/pay",
        actor.user_id,
        &format!("/budgets/{id}/pay"),
        &new,
    )?;
    let sent = state.payments.pay(&actor, new, Some(claim)).await;
    match sent {
        Ok(ran) => match ran.value {
            PaymentOutcome::Posted(_) | PaymentOutcome::Held(_) | PaymentOutcome::Authorized(_) => {
                Ok(Redirect::to(&format!("/budgets/{id}/decisions")).into_response())
            }
            PaymentOutcome::Refused { refusals, .. } => {
                let no_authority = refusals.iter().any(|r| r.code == RuleCode::NoAuthority);
                let mut sentences: Vec<String> =
                    refusals.iter().map(|r| r.message.clone()).collect();
                if sentences.is_empty() {
                    sentences.push("The payment was refused.".into());
                }
                let pay = PayState {
                    values: v,
                    errors: Vec::new(),
                    field_errors: refusal_fields(&refusals),
                    outcome: Some(("This payment was refused".into(), sentences)),
                    may_send: false,
                    key: token::generate(),
                };
                let status = if no_authority {
                    StatusCode::FORBIDDEN
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                let page = render_pay(&state, &session, id, pay).await?;
                Ok((status, page).into_response())
            }
        },
        Err(AppError::NotFound) => Err(AppError::NotFound.into()),
        Err(e) => {
            let error = ApiError::from(e);
            let status = error.status;
            let (errors, field_errors) = split_errors(&error);
            let pay = PayState {
                errors,
                field_errors,
                values: v,
                outcome: None,
                may_send: false,
                key,
            };
            let page = render_pay(&state, &session, id, pay).await?;
            Ok((status, page).into_response())
        }
    }
}
