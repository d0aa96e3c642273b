use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use maud::Markup;
use serde::Deserialize;
use uuid::Uuid;

use super::session::{AdminSession, CsrfForm};
use super::{AdminPath, AdminResult};
use crate::auth::Role;
use crate::budgets::reviews::{self, CompletedReview, Review, ReviewFilter, ReviewOutcome};
use crate::error::AppError;
use crate::http::AppState;
use allot_views::pages::reviews::{
    complete_form, reviews as reviews_page, CompleteForm, ReviewListRow,
};

fn row(review: Review) -> ReviewListRow {
    ReviewListRow {
        budget_id: review.budget_id,
        reference: review.budget_reference,
        person_name: review.person_name,
        kind: match review.kind.as_str() {
            "first" => "First review".into(),
            "triggered" => "Review due now".into(),
            _ => "Annual review".into(),
        },
        due_on: review.due_on,
        triggers: review.triggers.iter().map(trigger_words).collect(),
    }
}

/// A trigger in words.
pub fn trigger_words(t: &crate::budgets::reviews::ReviewTrigger) -> String {
    let what = match t.reason.as_str() {
        "capacity_change" => "Capacity changed",
        "surplus_flagged" => "Surplus flagged",
        "misuse_finding" => "Audit finding of misuse",
        "repeated_refusals" => "Three refusals in 28 days",
        "requested" => "Review asked for",
        other => other,
    };
    format!("{what} ({}): {}", t.raised_on.format("%-d %B %Y"), t.detail)
}

/// Reviews overdue and due soon (care managers).
pub async fn list(State(state): State<AppState>, session: AdminSession) -> AdminResult<Markup> {
    session.actor.require(&[Role::CareManager])?;
    let shell = session.shell(&state, "/reviews").await?;
    let council_id = session.actor.council_id;
    let today = state.clock.today();
    let (overdue, due) = state
        .in_tenant_tx(council_id, |tx| {
            Box::pin(async move {
                Ok((
                    reviews::list(tx, council_id, ReviewFilter::Overdue, today).await?,
                    reviews::list(tx, council_id, ReviewFilter::Due, today).await?,
                ))
            })
        })
        .await?;
    let overdue: Vec<_> = overdue.into_iter().map(row).collect();
    let due: Vec<_> = due.into_iter().map(row).collect();
    Ok(reviews_page(&shell, &overdue, &due))
}

#[derive(Debug, Default, Deserialize)]
pub struct CompleteFields {
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    notes: String,
    #[serde(default)]
    next_review_on: String,
}

async fn render_form(
    state: &AppState,
    session: &AdminSession,
    budget_id: Uuid,
    fields: &CompleteFields,
    errors: Vec<String>,
) -> AdminResult<Markup> {
    session.actor.require(&[Role::CareManager])?;
    let shell = session.shell(state, "/reviews").await?;
    let actor = session.actor.clone();
    let today = state.clock.today();
    let open = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                crate::budgets::budget::load::visible(tx, &actor, budget_id).await?;
                reviews::list_for_budget(tx, actor.council_id, budget_id, today)
                    .await?
                    .into_iter()
                    .find(|r| r.completed_on.is_none())
                    .ok_or(AppError::NotFound)
            })
        })
        .await?;
    Ok(complete_form(
        &shell,
        &CompleteForm {
            budget_id,
            reference: open.budget_reference.clone(),
            person_name: open.person_name.clone(),
            due_on: open.due_on,
            triggers: open.triggers.iter().map(trigger_words).collect(),
            outcome: fields.outcome.clone(),
            notes: fields.notes.clone(),
            next_review_on: fields.next_review_on.clone(),
            errors,
            csrf_token: session.csrf_token.clone(),
        },
    ))
}

/// The form completing a budget's open review (care managers).
pub async fn form(
    State(state): State<AppState>,
    session: AdminSession,
    AdminPath(budget_id): AdminPath<Uuid>,
) -> AdminResult<Markup> {
    render_form(
        &state,
        &session,
        budget_id,
        &CompleteFields::default(),
        Vec::new(),
    )
    .await
}

/// Completes the review and goes back to the reviews list.
pub async fn complete(
    State(state): State<AppState>,
    AdminPath(budget_id): AdminPath<Uuid>,
    CsrfForm { session, form }: CsrfForm<CompleteFields>,
) -> AdminResult<Response> {
    let outcome = ReviewOutcome::parse(&form.outcome);
    let next = form.next_review_on.trim();
    let next = if next.is_empty() {
        Ok(None)
    } else {
        next.parse::<NaiveDate>().map(Some)
    };
    let (Some(outcome), Ok(next_review_on)) = (outcome, next) else {
        let message = if outcome.is_none() {
            "Choose an outcome."
        } else {
            "Next review: give a date."
        };
        return Ok(
            render_form(&state, &session, budget_id, &form, vec![message.to_owned()])
                .await?
                .into_response(),
        );
    };
    let done = CompletedReview {
        completed_on: None,
        outcome,
        notes: Some(form.notes.clone()),
        next_review_on,
    };
    let (actor, today) = (session.actor.clone(), state.clock.today());
    let result = state
        .write(actor.council_id, |tx| {
            let (actor, done) = (actor.clone(), done.clone());
            Box::pin(async move { reviews::complete(tx, &actor, budget_id, &done, today).await })
        })
        .await;
    match result {
        Ok(_) => Ok(Redirect::to("/reviews").into_response()),
        Err(AppError::NotFound) => Err(AppError::NotFound.into()),
        Err(AppError::Forbidden) => Err(AppError::Forbidden.into()),
        Err(e) => {
            let message = crate::http::error::ApiError::from(e).message;
            Ok(
                render_form(&state, &session, budget_id, &form, vec![message])
                    .await?
                    .into_response(),
            )
        }
    }
}
