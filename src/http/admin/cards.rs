//! The card pages: the council's cards with the register form (finance officers), a card's page
//! with its authorisations and the freeze, unfreeze and cancel forms, and the exceptions list with
//! its review form. The same services as the API; refusals are shown above the form, with what
//! was typed kept.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::payments::Empty;
use super::session::{AdminSession, CsrfForm};
use super::{AdminPath, AdminResult};
use crate::auth::Role;
use crate::cards::exceptions::{self, Review};
use crate::cards::{registry, CardAction, NewCard};
use crate::error::AppError;
use crate::http::error::ApiError;
use crate::http::AppState;
use allot_views::pages::cards::{
    self as views, AuthorizationRow, CardForm, CardPage, CardRow, CardsPage, ExceptionRow,
    ExceptionsPage,
};

fn refusal(e: AppError) -> Result<(axum::http::StatusCode, String), AppError> {
    match e {
        AppError::NotFound | AppError::Forbidden => Err(e),
        other => {
            let error = ApiError::from(other);
            Ok((error.status, error.message))
        }
    }
}

fn deployment(text: &str) -> String {
    match text {
        "direct_payment" => "Direct payment".into(),
        "managed_account" => "Managed account".into(),
        other => other.into(),
    }
}

async fn render_list(
    state: &AppState,
    session: &AdminSession,
    form: CardForm,
    errors: Vec<String>,
) -> AdminResult<maud::Markup> {
    let shell = session.shell(state, "/cards").await?;
    let actor = session.actor.clone();
    let cards = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { registry::list(tx, &actor).await })
        })
        .await?;
    Ok(views::cards(
        &shell,
        &CardsPage {
            cards: cards
                .iter()
                .map(|c| CardRow {
                    id: c.id.to_string(),
                    last4: c.last4.clone(),
                    reference: c.processor_card_ref.clone(),
                    deployment: deployment(&c.deployment),
                    budget_href: format!("/budgets/{}", c.budget_id),
                    status: c.status.clone(),
                })
                .collect(),
            can_register: session.actor.role == Role::FinanceOfficer,
            form,
            csrf_token: session.csrf_token.clone(),
            errors,
        },
    ))
}

/// The council's cards (council staff).
pub async fn list(
    State(state): State<AppState>,
    session: AdminSession,
) -> AdminResult<maud::Markup> {
    render_list(&state, &session, CardForm::default(), Vec::new()).await
}

#[derive(Debug, Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    account_id: String,
    #[serde(default)]
    processor_card_ref: String,
    #[serde(default)]
    cardholder_user_id: String,
    #[serde(default)]
    last4: String,
}

/// Registers a card, then its page (or the list with the refusal and the form as typed).
pub async fn register(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<RegisterForm>,
) -> AdminResult<Response> {
    let typed = CardForm {
        account_id: form.account_id.trim().to_owned(),
        processor_card_ref: form.processor_card_ref.clone(),
        cardholder_user_id: form.cardholder_user_id.trim().to_owned(),
        last4: form.last4.clone(),
    };
    let mut errors = Vec::new();
    let account_id = typed.account_id.parse::<Uuid>().ok();
    if account_id.is_none() {
        errors.push("Account: give the account's id.".to_owned());
    }
    let cardholder = typed.cardholder_user_id.parse::<Uuid>().ok();
    if cardholder.is_none() {
        errors.push("Cardholder: give the user's id.".to_owned());
    }
    let (Some(account_id), Some(cardholder_user_id)) = (account_id, cardholder) else {
        let page = render_list(&state, &session, typed, errors).await?;
        return Ok((axum::http::StatusCode::BAD_REQUEST, page).into_response());
    };
    let new = NewCard {
        account_id,
        processor_card_ref: form.processor_card_ref,
        cardholder_user_id,
        last4: form.last4,
        processor_id: None,
    };
    let actor = session.actor.clone();
    let done = crate::commands::write(&state.pool, actor.council_id, |tx| {
        let (actor, new) = (actor.clone(), new.clone());
        Box::pin(async move { registry::create(tx, &actor, &new).await })
    })
    .await;
    match done {
        Ok(card) => Ok(Redirect::to(&format!("/cards/{}", card.id)).into_response()),
        Err(e) => {
            let (status, message) = refusal(e)?;
            let page = render_list(&state, &session, typed, vec![message]).await?;
            Ok((status, page).into_response())
        }
    }
}

async fn render_card(
    state: &AppState,
    session: &AdminSession,
    id: Uuid,
    errors: Vec<String>,
) -> AdminResult<maud::Markup> {
    let shell = session.shell(state, "/cards").await?;
    let actor = session.actor.clone();
    let (card, authorizations) = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                let card = registry::get(tx, &actor, id).await?;
                let authorizations = registry::authorizations(tx, &actor, id).await?;
                Ok((card, authorizations))
            })
        })
        .await?;
    let rows = authorizations
        .iter()
        .map(|a| {
            let mut notes: Vec<String> = a.flags.iter().map(|f| f.replace('_', " ")).collect();
            if a.increments != "0.00" {
                notes.push(format!("further holds {}", a.increments));
            }
            if let Some(captured) = &a.captured_amount {
                notes.push(format!("captured {captured}"));
            }
            if a.is_cash {
                notes.push("cash".into());
            }
            AuthorizationRow {
                when: a.created_at.format("%-d %b %Y %H:%M").to_string(),
                id: a.authorization_id.clone(),
                merchant: format!("{} ({})", a.merchant_name, a.merchant_category),
                amount: a.amount.clone(),
                decision: match (&a.forced, &a.decline_reason) {
                    (Some(forced), _) => format!("Not asked ({})", forced.replace('_', " ")),
                    (None, Some(reason)) => format!("Declined: {}", reason.replace('_', " ")),
                    (None, None) => "Approved".into(),
                },
                status: a.status.clone(),
                notes: notes.join("; "),
                payment_href: a
                    .payment_id
                    .map(|_| format!("/budgets/{}/decisions", card.budget_id)),
            }
        })
        .collect();
    Ok(views::card(
        &shell,
        &CardPage {
            id: card.id.to_string(),
            last4: card.last4.clone(),
            reference: card.processor_card_ref.clone(),
            status: card.status.clone(),
            deployment: deployment(&card.deployment),
            budget_href: format!("/budgets/{}", card.budget_id),
            account_href: format!("/accounts/{}", card.account_id),
            authorizations: rows,
            can_change: session.actor.role == Role::FinanceOfficer,
            csrf_token: session.csrf_token.clone(),
            errors,
        },
    ))
}

/// A card with its authorisations (council staff).
pub async fn show(
    State(state): State<AppState>,
    session: AdminSession,
    AdminPath(id): AdminPath<Uuid>,
) -> AdminResult<maud::Markup> {
    render_card(&state, &session, id, Vec::new()).await
}

async fn change(
    state: AppState,
    session: AdminSession,
    id: Uuid,
    action: CardAction,
) -> AdminResult<Response> {
    let actor = session.actor.clone();
    let done = crate::commands::write(&state.pool, actor.council_id, |tx| {
        let actor = actor.clone();
        Box::pin(async move { registry::change(tx, &actor, id, action).await })
    })
    .await;
    match done {
        Ok(_) => Ok(Redirect::to(&format!("/cards/{id}")).into_response()),
        Err(e) => {
            let (status, message) = refusal(e)?;
            let page = render_card(&state, &session, id, vec![message]).await?;
            Ok((status, page).into_response())
        }
    }
}

pub async fn freeze(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form: _ }: CsrfForm<Empty>,
) -> AdminResult<Response> {
    change(state, session, id, CardAction::Freeze).await
}

pub async fn unfreeze(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form: _ }: CsrfForm<Empty>,
) -> AdminResult<Response> {
    change(state, session, id, CardAction::Unfreeze).await
}

pub async fn cancel(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form: _ }: CsrfForm<Empty>,
) -> AdminResult<Response> {
    change(state, session, id, CardAction::Cancel).await
}

async fn render_exceptions(
    state: &AppState,
    session: &AdminSession,
    failed: Option<(String, String)>,
    errors: Vec<String>,
) -> AdminResult<maud::Markup> {
    let shell = session.shell(state, "/cards/exceptions").await?;
    let actor = session.actor.clone();
    let items = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { exceptions::list(tx, &actor, exceptions::Filter::All).await })
        })
        .await?;
    let rows = items
        .iter()
        .map(|e| ExceptionRow {
            id: e.id.to_string(),
            when: e.created_at.format("%-d %b %Y %H:%M").to_string(),
            kind: match e.kind.as_str() {
                "force_capture" => "Captured with no authorisation".into(),
                "stand_in_authorization" => "Approved by the network".into(),
                "stand_in_capture" => "Captured after the network approved it".into(),
                other => other.to_owned(),
            },
            card: format!("•••• {}", e.card_last4),
            card_href: format!("/cards/{}", e.card_id),
            authorization_id: e.authorization_id.clone(),
            merchant: match (&e.merchant_name, &e.merchant_category) {
                (Some(name), Some(mcc)) => format!("{name} ({mcc})"),
                (Some(name), None) => name.clone(),
                _ => String::new(),
            },
            amount: e.amount.clone(),
            verdict: match &e.verdict_reason {
                _ if e.verdict_approved => "Would have approved".into(),
                Some(reason) => format!("Would have declined: {}", reason.replace('_', " ")),
                None => "Would have declined".into(),
            },
            reviewed: e.reviewed_at.map(|at| {
                format!(
                    "Reviewed {}: {}",
                    at.format("%-d %b %Y"),
                    e.review_note.as_deref().unwrap_or("")
                )
            }),
        })
        .collect();
    Ok(views::exceptions(
        &shell,
        &ExceptionsPage {
            items: rows,
            can_review: session.actor.role == Role::FinanceOfficer,
            failed,
            csrf_token: session.csrf_token.clone(),
            errors,
        },
    ))
}

/// The exceptions list (finance officers and auditors).
pub async fn exceptions_list(
    State(state): State<AppState>,
    session: AdminSession,
) -> AdminResult<maud::Markup> {
    render_exceptions(&state, &session, None, Vec::new()).await
}

#[derive(Debug, Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    note: String,
}

/// Marks an exception reviewed, then back to the list (or the list with the refusal).
pub async fn review(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form }: CsrfForm<ReviewForm>,
) -> AdminResult<Response> {
    let actor = session.actor.clone();
    let now = state.clock.now();
    let review = Review {
        note: form.note.clone(),
    };
    let done = crate::commands::write(&state.pool, actor.council_id, |tx| {
        let (actor, review) = (actor.clone(), review.clone());
        Box::pin(async move { exceptions::review(tx, &actor, id, &review, now).await })
    })
    .await;
    match done {
        Ok(_) => Ok(Redirect::to("/cards/exceptions").into_response()),
        Err(e) => {
            let (status, message) = refusal(e)?;
            let page = render_exceptions(
                &state,
                &session,
                Some((id.to_string(), form.note)),
                vec![message],
            )
            .await?;
            Ok((status, page).into_response())
        }
    }
}
