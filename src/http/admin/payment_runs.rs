//! Payment-run pages: the list and the form to draft a run, one run with its lines and skips, the
//! maker-checker actions, and the file downloads.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, Days, NaiveDate};
use serde::Deserialize;
use uuid::Uuid;

use super::session::{AdminSession, CsrfForm};
use super::{labels, AdminError, AdminPath, AdminResult};
use crate::auth::{token, users, Role};
use crate::commands;
use crate::error::AppError;
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::payments::runs::create::{self, NewRun, DEFAULT_WEEKS};
use crate::payments::runs::files::{self, PaymentFile};
use crate::payments::runs::{self, approve as actions, PaymentRun, RunStatus};
use allot_views::pages::payment_runs::{
    run as run_page, runs as runs_page, RunLineRow, RunPage, RunRow, RunsPage, SkipRow,
};

/// The next Monday on or after `from`: runs usually start on a Monday.
fn next_monday(from: NaiveDate) -> NaiveDate {
    let days = (7 - from.weekday().num_days_from_monday()) % 7;
    from.checked_add_days(Days::new(u64::from(days)))
        .unwrap_or(from)
}

async fn list_page(
    state: &AppState,
    session: &AdminSession,
    errors: Vec<String>,
    weeks: String,
) -> AdminResult<maud::Markup> {
    let shell = session.shell(state, "/payment-runs").await?;
    let actor = session.actor.clone();
    let runs = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { runs::list(tx, &actor).await })
        })
        .await?;
    let next_start = runs
        .iter()
        .filter(|r| r.status != RunStatus::Rejected)
        .map(|r| r.period_end)
        .max()
        .and_then(|end| end.succ_opt())
        .unwrap_or_else(|| next_monday(state.clock.today()));
    let data = RunsPage {
        runs: runs
            .into_iter()
            .map(|r| RunRow {
                id: r.id,
                period_start: r.period_start,
                period_end: r.period_end,
                status: labels::run_status(r.status),
                total: r.total_amount.amount(),
                lines: r.lines,
                skipped: r.skipped,
            })
            .collect(),
        can_create: session.actor.role == Role::FinanceOfficer,
        next_start: Some(next_start),
        weeks,
        errors,
        csrf_token: session.csrf_token.clone(),
        idempotency_key: token::generate(),
    };
    Ok(runs_page(&shell, &data))
}

pub async fn list(
    State(state): State<AppState>,
    session: AdminSession,
) -> AdminResult<maud::Markup> {
    list_page(&state, &session, Vec::new(), DEFAULT_WEEKS.to_string()).await
}

#[derive(Deserialize)]
pub struct RunForm {
    period_start: String,
    weeks: String,
    idempotency_key: String,
}

/// Drafts a run from the form (the form's key makes a double submission draft it once).
pub async fn create(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<RunForm>,
) -> AdminResult<Response> {
    runs::require_officer(&session.actor)?;
    let parsed = NaiveDate::parse_from_str(form.period_start.trim(), "%Y-%m-%d");
    let Some(period_start) = parsed.ok().and_then(|d| crate::dates::in_range(d).ok()) else {
        return again(
            &state,
            &session,
            &form,
            format!(
                "Enter the first day paid for as a date from {} to {}.",
                crate::dates::EARLIEST,
                crate::dates::LATEST
            ),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let Ok(weeks) = form.weeks.trim().parse::<u32>() else {
        return again(
            &state,
            &session,
            &form,
            "Enter the number of weeks, from 1 to 13.".into(),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let key = form.idempotency_key.clone();
    if key.is_empty() || key.len() > 255 {
        return Err(AdminError::csrf());
    }
    let actor = session.actor.clone();
    let new = NewRun {
        period_start,
        weeks,
    };
    let claim = commands::Claim::new(
        &key,
        "POST /api/v1/payment-runs",
        actor.user_id,
        "/api/v1/payment-runs",
        &new,
    )?;
    let created = state
        .command(actor.council_id, Some(&claim), |tx| {
            let (actor, new) = (actor.clone(), new.clone());
            Box::pin(async move { create::create(tx, &actor, &new).await })
        })
        .await;
    match created {
        Ok(ran) => Ok(Redirect::to(&format!("/payment-runs/{}", ran.value.id)).into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            let api = ApiError::from(e);
            again(&state, &session, &form, api.message, api.status).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The list page again, with what went wrong.
async fn again(
    state: &AppState,
    session: &AdminSession,
    form: &RunForm,
    message: String,
    status: StatusCode,
) -> AdminResult<Response> {
    let page = list_page(state, session, vec![message], form.weeks.clone()).await?;
    Ok((status, page).into_response())
}

async fn name_of(
    tx: &crate::db::Tx<'_>,
    council_id: Uuid,
    id: Option<Uuid>,
) -> Result<Option<String>, AppError> {
    match id {
        Some(id) => Ok(Some(users::get(tx, council_id, id).await?.name)),
        None => Ok(None),
    }
}

/// One run.
pub async fn show(
    State(state): State<AppState>,
    session: AdminSession,
    AdminPath(id): AdminPath<Uuid>,
) -> AdminResult<maud::Markup> {
    let shell = session.shell(&state, "/payment-runs").await?;
    let actor = session.actor.clone();
    let council_id = actor.council_id;
    let (run, names) = state
        .in_tenant_tx(council_id, |tx| {
            Box::pin(async move {
                let run = runs::get(tx, &actor, id).await?;
                let names = (
                    name_of(tx, council_id, Some(run.created_by))
                        .await?
                        .unwrap_or_default(),
                    name_of(tx, council_id, run.submitted_by).await?,
                    name_of(tx, council_id, run.approved_by).await?,
                );
                Ok((run, names))
            })
        })
        .await?;
    Ok(run_page(&shell, &page_data(&session, &run, names)))
}

fn page_data(
    session: &AdminSession,
    run: &PaymentRun,
    names: (String, Option<String>, Option<String>),
) -> RunPage {
    let officer = session.actor.role == Role::FinanceOfficer;
    let me = session.actor.user_id;
    let is_maker = run.created_by == me || run.submitted_by == Some(me);
    RunPage {
        id: run.id,
        status: labels::run_status(run.status),
        period_start: Some(run.period_start),
        period_end: Some(run.period_end),
        total: run.total_amount.amount(),
        bank_total: run.bank_total.amount(),
        made_by: names.0,
        submitted_by: names.1,
        approved_by: names.2,
        lines: run
            .lines
            .iter()
            .map(|l| RunLineRow {
                budget_id: l.budget_id,
                reference: l.budget_reference.clone(),
                person_name: l.person_name.clone(),
                deployment: labels::deployment(l.deployment),
                weeks: l.weeks,
                amount: l.amount.amount(),
                contribution_owed: l.contribution_owed.amount(),
                contribution_to_pay_in: l.contribution_to_pay_in.amount(),
                paid_to: match (&l.payee_name, l.in_bank_file) {
                    (Some(name), true) => format!("{name} (bank)"),
                    _ => "Stays in allot".to_string(),
                },
            })
            .collect(),
        skipped: run
            .skipped
            .iter()
            .map(|s| SkipRow {
                budget_id: s.budget_id,
                reference: s.budget_reference.clone(),
                person_name: s.person_name.clone(),
                deployment: s
                    .deployment
                    .map(labels::deployment)
                    .unwrap_or("Whole budget")
                    .to_string(),
                reason: s.reason.clone(),
                message: s.message.clone(),
            })
            .collect(),
        can_submit: officer && run.status == RunStatus::Draft,
        can_approve: officer && run.status == RunStatus::Submitted && !is_maker,
        can_reject: officer && matches!(run.status, RunStatus::Draft | RunStatus::Submitted),
        can_download: run.status == RunStatus::Approved && run.bank_total.is_positive(),
        approve_note: (officer && run.status == RunStatus::Submitted && is_maker)
            .then(|| "You made this run, so another finance officer must approve it.".to_string()),
        errors: Vec::new(),
        csrf_token: session.csrf_token.clone(),
    }
}

async fn act(
    state: AppState,
    session: AdminSession,
    id: Uuid,
    verb: &'static str,
) -> AdminResult<Response> {
    let actor = session.actor.clone();
    commands::write(&state.pool, actor.council_id, |tx| {
        let actor = actor.clone();
        Box::pin(async move {
            match verb {
                "submit" => actions::submit(tx, &actor, id).await,
                "approve" => actions::approve(tx, &actor, id).await,
                _ => actions::reject(tx, &actor, id).await,
            }
        })
    })
    .await?;
    Ok(Redirect::to(&format!("/payment-runs/{id}")).into_response())
}

pub async fn submit(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, .. }: CsrfForm<serde::de::IgnoredAny>,
) -> AdminResult<Response> {
    act(state, session, id, "submit").await
}

pub async fn approve(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, .. }: CsrfForm<serde::de::IgnoredAny>,
) -> AdminResult<Response> {
    act(state, session, id, "approve").await
}

pub async fn reject(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, .. }: CsrfForm<serde::de::IgnoredAny>,
) -> AdminResult<Response> {
    act(state, session, id, "reject").await
}

fn download(file: PaymentFile, content_type: &'static str) -> Response {
    let disposition = format!("attachment; filename=\"{}\"", file.file_name);
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        file.content,
    )
        .into_response()
}

pub async fn bacs18(
    State(state): State<AppState>,
    session: AdminSession,
    AdminPath(id): AdminPath<Uuid>,
) -> AdminResult<Response> {
    let actor = session.actor.clone();
    let file = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { files::bacs18(tx, &actor, id).await })
        })
        .await?;
    Ok(download(file, "text/plain; charset=us-ascii"))
}

pub async fn pain001(
    State(state): State<AppState>,
    session: AdminSession,
    AdminPath(id): AdminPath<Uuid>,
) -> AdminResult<Response> {
    let actor = session.actor.clone();
    let file = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { files::pain001(tx, &actor, id).await })
        })
        .await?;
    Ok(download(file, "application/xml; charset=utf-8"))
}
