//! Surplus pages: the list with its chart (finance officers, auditors, care managers), the notice
//! form (finance officers), the printable letter with the reconsideration and decision forms. The
//! same services as the API; their refusals are shown above the form with what was typed.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use rust_decimal::prelude::ToPrimitive;
use serde::Deserialize;
use uuid::Uuid;

use super::session::{AdminSession, CsrfForm};
use super::{AdminPath, AdminQuery, AdminResult};
use crate::auth::Role;
use crate::budgets::surplus::{
    self, Decision, NewNotice, NoticeStatus, Outcome, Reconsideration, SurplusNotice,
};
use crate::error::AppError;
use crate::http::error::ApiError;
use crate::http::AppState;
use allot_views::pages::surplus::{self as views, EventRow, NoticeRow, SurplusRow};

fn refusal_message(e: AppError) -> Result<String, AppError> {
    match e {
        AppError::NotFound | AppError::Forbidden => Err(e),
        other => Ok(ApiError::from(other).message),
    }
}

fn deployment_label(code: &str) -> String {
    code.parse::<crate::rules::Deployment>()
        .map(|d| super::labels::deployment(d).to_owned())
        .unwrap_or_else(|_| code.to_owned())
}

#[derive(Debug, Deserialize)]
pub struct AsOf {
    #[serde(default)]
    as_of: Option<NaiveDate>,
}

/// The surplus list, chart and notices.
pub async fn list(
    State(state): State<AppState>,
    session: AdminSession,
    AdminQuery(query): AdminQuery<AsOf>,
) -> AdminResult<maud::Markup> {
    let shell = session.shell(&state, "/surplus").await?;
    let actor = session.actor.clone();
    let today = state.clock.today();
    let as_of = query.as_of.unwrap_or(today);
    let (items, notices) = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                Ok((
                    surplus::list(tx, &actor, as_of, today).await?,
                    surplus::all(tx, &actor).await?,
                ))
            })
        })
        .await?;
    let references: std::collections::HashMap<Uuid, String> = items
        .iter()
        .map(|i| (i.budget_id, i.budget_reference.clone()))
        .collect();
    let rows = items
        .into_iter()
        .map(|i| SurplusRow {
            budget_id: i.budget_id,
            account_id: i.account_id,
            reference: i.budget_reference,
            person_name: i.person_name,
            deployment: deployment_label(&i.deployment),
            balance: i.balance.to_string(),
            weekly_amount: i.weekly_amount.to_string(),
            weeks: i.weeks_of_funding.and_then(|w| w.to_f64()),
            weeks_text: i
                .weeks_of_funding
                .map_or_else(|| "—".to_owned(), |w| w.to_string()),
            commitments: i.commitments.to_string(),
            threshold_weeks: i.threshold_weeks,
            has_surplus: i.surplus.is_positive(),
            surplus: i.surplus.to_string(),
        })
        .collect();
    let notices = notices
        .into_iter()
        .map(|n| NoticeRow {
            id: n.id,
            reference: references
                .get(&n.budget_id)
                .cloned()
                .unwrap_or_else(|| n.budget_id.to_string()),
            amount: n.amount_due.to_string(),
            deadline: n.deadline,
            status: n.status.label(),
        })
        .collect();
    Ok(views::surplus(
        &shell,
        &views::SurplusPage {
            as_of,
            rows,
            notices,
            can_issue: session.actor.role == Role::FinanceOfficer,
        },
    ))
}

#[derive(Debug, Deserialize)]
pub struct AccountQuery {
    account_id: Uuid,
}

#[derive(Debug, Deserialize)]
pub struct NoticeFormFields {
    account_id: Uuid,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    reasons: String,
}

async fn render_form(
    state: &AppState,
    session: &AdminSession,
    budget_id: Uuid,
    fields: &NoticeFormFields,
    errors: Vec<String>,
) -> AdminResult<maud::Markup> {
    session.actor.require(&[Role::FinanceOfficer])?;
    let shell = session.shell(state, "/surplus").await?;
    let actor = session.actor.clone();
    let today = state.clock.today();
    let account_id = fields.account_id;
    let item = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                surplus::list(tx, &actor, today, today)
                    .await?
                    .into_iter()
                    .find(|i| i.account_id == account_id && i.budget_id == budget_id)
                    .ok_or(AppError::NotFound)
            })
        })
        .await?;
    Ok(views::notice_form(
        &shell,
        &views::NoticeForm {
            budget_id,
            account_id,
            reference: item.budget_reference,
            deployment: deployment_label(&item.deployment),
            surplus: item.surplus.to_string(),
            amount: fields.amount.clone(),
            reasons: fields.reasons.clone(),
            errors,
            csrf_token: session.csrf_token.clone(),
        },
    ))
}

/// The notice form for one account (finance officers).
pub async fn new_notice(
    State(state): State<AppState>,
    session: AdminSession,
    AdminPath(budget_id): AdminPath<Uuid>,
    AdminQuery(query): AdminQuery<AccountQuery>,
) -> AdminResult<maud::Markup> {
    let fields = NoticeFormFields {
        account_id: query.account_id,
        amount: String::new(),
        reasons: String::new(),
    };
    render_form(&state, &session, budget_id, &fields, Vec::new()).await
}

/// Issues the notice and shows its letter.
pub async fn issue(
    State(state): State<AppState>,
    AdminPath(budget_id): AdminPath<Uuid>,
    CsrfForm { session, form }: CsrfForm<NoticeFormFields>,
) -> AdminResult<Response> {
    session.actor.require(&[Role::FinanceOfficer])?;
    let amount = match crate::money::Money::parse(form.amount.trim()) {
        Ok(amount) => amount,
        Err(e) => {
            return Ok(render_form(
                &state,
                &session,
                budget_id,
                &form,
                vec![format!("Amount: {e}")],
            )
            .await?
            .into_response())
        }
    };
    let new = NewNotice {
        account_id: form.account_id,
        amount,
        reasons: form.reasons.clone(),
    };
    let (actor, now) = (session.actor.clone(), state.clock.now());
    let issued = state
        .write(actor.council_id, |tx| {
            let (actor, new) = (actor.clone(), new.clone());
            Box::pin(async move { surplus::issue(tx, &actor, budget_id, &new, now).await })
        })
        .await;
    match issued {
        Ok(notice) => Ok(Redirect::to(&format!("/surplus-notices/{}", notice.id)).into_response()),
        Err(e) => {
            let message = refusal_message(e)?;
            Ok(
                render_form(&state, &session, budget_id, &form, vec![message])
                    .await?
                    .into_response(),
            )
        }
    }
}

/// What was typed on the letter page's forms, kept on refusal.
#[derive(Debug, Default, Deserialize)]
pub struct NoticeFields {
    #[serde(default)]
    grounds: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    reasons: String,
}

fn event_label(kind: &str, outcome: Option<&str>) -> String {
    match (kind, outcome) {
        ("issued", _) => "Notice issued".into(),
        ("reconsideration_requested", _) => "Reconsideration asked for".into(),
        ("decided", Some(outcome)) => format!("Reconsidered: {outcome}"),
        ("recovered", _) => "Recovered".into(),
        (other, _) => other.into(),
    }
}

async fn render_notice(
    state: &AppState,
    session: &AdminSession,
    id: Uuid,
    fields: &NoticeFields,
    errors: Vec<String>,
) -> AdminResult<maud::Markup> {
    let shell = session.shell(state, "/surplus").await?;
    let actor = session.actor.clone();
    let notice: SurplusNotice = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { surplus::get(tx, &actor, id).await })
        })
        .await?;
    let role = session.actor.role;
    let can_ask = matches!(
        role,
        Role::BudgetHolder | Role::Representative | Role::ProviderStaff
    ) && matches!(
        notice.status,
        NoticeStatus::Issued | NoticeStatus::PartRecovered
    );
    let can_decide = matches!(role, Role::CareManager | Role::FinanceOfficer)
        && notice.issued_by != session.actor.user_id
        && notice.status == NoticeStatus::UnderReconsideration;
    let can_recover = role == Role::FinanceOfficer
        && matches!(
            notice.status,
            NoticeStatus::Issued | NoticeStatus::PartRecovered
        );
    let events = notice
        .events
        .iter()
        .map(|e| EventRow {
            at: e
                .at
                .with_timezone(&chrono_tz::Europe::London)
                .format("%-d %B %Y %H:%M")
                .to_string(),
            what: match (&e.amount, e.kind.as_str()) {
                (Some(amount), "recovered") => format!(
                    "{} {amount}{}",
                    event_label(&e.kind, e.outcome.as_deref()),
                    e.shortfall
                        .filter(|s| s.is_positive())
                        .map(|s| format!(" (shortfall {s})"))
                        .unwrap_or_default()
                ),
                (Some(amount), _) => format!(
                    "{}, amount owed {amount}",
                    event_label(&e.kind, e.outcome.as_deref())
                ),
                (None, _) => event_label(&e.kind, e.outcome.as_deref()),
            },
            text: e.text.clone(),
        })
        .collect();
    Ok(views::notice(
        &shell,
        &views::NoticePage {
            id: notice.id,
            status: notice.status.label(),
            letter: notice.letter,
            letter_sha256: notice.letter_sha256,
            events,
            can_ask,
            can_decide,
            can_recover,
            recover_key: crate::auth::token::generate(),
            grounds: fields.grounds.clone(),
            outcome: fields.outcome.clone(),
            amount: fields.amount.clone(),
            reasons: fields.reasons.clone(),
            errors,
            csrf_token: session.csrf_token.clone(),
        },
    ))
}

/// The printable letter and what has happened to the notice.
pub async fn show(
    State(state): State<AppState>,
    session: AdminSession,
    AdminPath(id): AdminPath<Uuid>,
) -> AdminResult<maud::Markup> {
    render_notice(&state, &session, id, &NoticeFields::default(), Vec::new()).await
}

async fn after(
    state: &AppState,
    session: &AdminSession,
    id: Uuid,
    fields: &NoticeFields,
    done: Result<SurplusNotice, AppError>,
) -> AdminResult<Response> {
    match done {
        Ok(_) => Ok(Redirect::to(&format!("/surplus-notices/{id}")).into_response()),
        Err(e) => {
            let message = refusal_message(e)?;
            Ok(render_notice(state, session, id, fields, vec![message])
                .await?
                .into_response())
        }
    }
}

/// Asks for reconsideration from the letter page.
pub async fn reconsider(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form }: CsrfForm<NoticeFields>,
) -> AdminResult<Response> {
    let request = Reconsideration {
        grounds: form.grounds.clone(),
    };
    let (actor, now) = (session.actor.clone(), state.clock.now());
    let done = state
        .write(actor.council_id, |tx| {
            let (actor, request) = (actor.clone(), request.clone());
            Box::pin(async move { surplus::reconsider(tx, &actor, id, &request, now).await })
        })
        .await;
    after(&state, &session, id, &form, done).await
}

/// Recovers the notice's amount from the letter page (finance officers), as
/// `POST /api/v1/surplus-notices/{id}/recover` does: the form's key makes a second send replay
/// the first recovery instead of taking money twice.
pub async fn recover(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form }: CsrfForm<std::collections::HashMap<String, String>>,
) -> AdminResult<Response> {
    let actor = session.actor.clone();
    let key = form
        .get("idempotency_key")
        .cloned()
        .filter(|k| crate::commands::claims::valid_key(k))
        .unwrap_or_else(crate::auth::token::generate);
    let path = format!("/api/v1/surplus-notices/{id}/recover");
    let claim = crate::commands::Claim::new(
        &key,
        "POST /api/v1/surplus-notices/{id}/recover",
        actor.user_id,
        &path,
        &(),
    )?;
    let now = state.clock.now();
    let done = state
        .command(actor.council_id, Some(&claim), |tx| {
            let actor = actor.clone();
            Box::pin(async move { surplus::recover(tx, &actor, id, now).await })
        })
        .await;
    match done {
        Ok(_) => Ok(Redirect::to(&format!("/surplus-notices/{id}")).into_response()),
        Err(e) => {
            let message = refusal_message(e)?;
            Ok(render_notice(
                &state,
                &session,
                id,
                &NoticeFields::default(),
                vec![message],
            )
            .await?
            .into_response())
        }
    }
}

/// Records the decision on a reconsideration from the letter page.
pub async fn decide(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form }: CsrfForm<NoticeFields>,
) -> AdminResult<Response> {
    let outcome = match form.outcome.as_str() {
        "upheld" => Some(Outcome::Upheld),
        "reduced" => Some(Outcome::Reduced),
        "withdrawn" => Some(Outcome::Withdrawn),
        _ => None,
    };
    let amount = form.amount.trim();
    let amount = if amount.is_empty() {
        Ok(None)
    } else {
        crate::money::Money::parse(amount).map(Some)
    };
    let (Some(outcome), Ok(amount)) = (outcome, amount) else {
        let message = if outcome.is_none() {
            "Choose an outcome.".to_owned()
        } else {
            "Reduced amount: give an amount like 120.00.".to_owned()
        };
        return Ok(render_notice(&state, &session, id, &form, vec![message])
            .await?
            .into_response());
    };
    let decision = Decision {
        outcome,
        amount,
        reasons: form.reasons.clone(),
    };
    let (actor, now) = (session.actor.clone(), state.clock.now());
    let done = state
        .write(actor.council_id, |tx| {
            let (actor, decision) = (actor.clone(), decision.clone());
            Box::pin(async move { surplus::decide(tx, &actor, id, &decision, now).await })
        })
        .await;
    after(&state, &session, id, &form, done).await
}
