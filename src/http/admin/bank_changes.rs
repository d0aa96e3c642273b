//! The finance officers' "Bank details to verify" page: changed bank details waiting for a
//! finance officer other than the one who changed them, each with a verify button.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;

use super::payments::Empty;
use super::session::{AdminSession, CsrfForm};
use super::{AdminPath, AdminResult};
use crate::auth::Role;
use crate::budgets::bank::BankDetails;
use crate::budgets::bank_changes::{self, BankDetailChange, ChangeStatus, SubjectKind};
use crate::error::AppError;
use crate::http::error::ApiError;
use crate::http::AppState;
use allot_views::pages::bank_changes::{bank_changes as page, BankChangeRow, BankChangesPage};

fn shown(bank: &BankDetails) -> String {
    format!(
        "{} {} ({})",
        bank.sort_code, bank.account_number, bank.account_name
    )
}

fn row(change: &BankDetailChange, me: Uuid) -> BankChangeRow {
    let (subject, subject_href) = match change.subject {
        SubjectKind::Budget => (
            "Direct payment",
            Some(format!("/budgets/{}", change.subject_id)),
        ),
        SubjectKind::Payee => ("Payee", None),
        SubjectKind::Organisation => ("Organisation", None),
    };
    BankChangeRow {
        id: change.id,
        subject,
        subject_name: change.subject_name.clone(),
        subject_href,
        old: change.old_bank.as_ref().map(shown),
        new: shown(&change.new_bank),
        changed_by: change.changed_by_name.clone(),
        changed_at: change.changed_at,
        own: change.changed_by == me,
    }
}

async fn render(
    state: &AppState,
    session: &AdminSession,
    errors: Vec<String>,
) -> AdminResult<maud::Markup> {
    let shell = session.shell(state, "/bank-details").await?;
    let actor = session.actor.clone();
    let items = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(
                async move { bank_changes::list(tx, &actor, Some(ChangeStatus::Unverified)).await },
            )
        })
        .await?;
    let me = session.actor.user_id;
    Ok(page(
        &shell,
        &BankChangesPage {
            items: items.iter().map(|c| row(c, me)).collect(),
            can_verify: session.actor.role == Role::FinanceOfficer,
            csrf_token: session.csrf_token.clone(),
            errors,
        },
    ))
}

/// The changes waiting for verification (finance officers and auditors).
pub async fn list(
    State(state): State<AppState>,
    session: AdminSession,
) -> AdminResult<maud::Markup> {
    render(&state, &session, Vec::new()).await
}

/// Verifies one change, then back to the list (or the list with the refusal explained).
pub async fn verify(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form: _ }: CsrfForm<Empty>,
) -> AdminResult<Response> {
    let actor = session.actor.clone();
    let done = crate::commands::write(&state.pool, actor.council_id, |tx| {
        let actor = actor.clone();
        Box::pin(async move { bank_changes::verify(tx, &actor, id).await })
    })
    .await;
    match done {
        Ok(_) => Ok(Redirect::to("/bank-details").into_response()),
        Err(AppError::NotFound) => Err(AppError::NotFound.into()),
        Err(AppError::Forbidden) => Err(AppError::Forbidden.into()),
        Err(e) => {
            let error = ApiError::from(e);
            let status = error.status;
            let page = render(&state, &session, vec![error.message]).await?;
            Ok((status, page).into_response())
        }
    }
}
