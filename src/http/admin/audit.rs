//! The auditor's pages: samples (draw one, record findings on its payments) and payments missing
//! evidence. The same services as the API; their refusals are shown above the form.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::session::{AdminSession, CsrfForm};
use super::{AdminPath, AdminResult};
use crate::audit::samples::{self, SampleRequest};
use crate::audit::{findings, NewFinding};
use crate::error::AppError;
use crate::evidence;
use crate::http::error::ApiError;
use crate::http::AppState;
use allot_views::pages::audit::{self as views, MissingRow, SampleRow, SampledRow};

fn refusal_message(e: AppError) -> Result<String, AppError> {
    match e {
        AppError::NotFound | AppError::Forbidden => Err(e),
        other => Ok(ApiError::from(other).message),
    }
}

async fn render_list(
    state: &AppState,
    session: &AdminSession,
    errors: Vec<String>,
) -> AdminResult<maud::Markup> {
    let shell = session.shell(state, "/audit/samples").await?;
    let actor = session.actor.clone();
    let list = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { samples::list(tx, &actor).await })
        })
        .await?;
    let rows = list
        .iter()
        .map(|s| SampleRow {
            id: s.id.to_string(),
            seed: s.seed.clone(),
            period: format!("{} to {}", s.from, s.to),
            drawn: s.items.len(),
            findings: s.findings.len(),
            drawn_at: s.drawn_at.format("%-d %b %Y %H:%M").to_string(),
        })
        .collect();
    Ok(views::samples(
        &shell,
        &views::SamplesPage {
            samples: rows,
            csrf_token: session.csrf_token.clone(),
            errors,
        },
    ))
}

/// The council's samples with a form to draw another (auditors).
pub async fn list(
    State(state): State<AppState>,
    session: AdminSession,
) -> AdminResult<maud::Markup> {
    render_list(&state, &session, Vec::new()).await
}

#[derive(Debug, Deserialize)]
pub struct DrawForm {
    seed: String,
    size: String,
    from: String,
    to: String,
    #[serde(default)]
    min_amount: String,
}

/// Draws a sample and shows it.
pub async fn draw(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<DrawForm>,
) -> AdminResult<Response> {
    let min_amount = form.min_amount.trim();
    let body = json!({
        "seed": form.seed,
        "size": form.size.trim().parse::<u32>().unwrap_or(0),
        "from": form.from,
        "to": form.to,
        "min_amount": (!min_amount.is_empty()).then_some(min_amount),
    });
    let request: SampleRequest = match crate::http::extract::parse_json(body.to_string().as_bytes())
    {
        Ok(request) => request,
        Err(e) => {
            return Ok(render_list(&state, &session, vec![e.message])
                .await?
                .into_response())
        }
    };
    let (actor, id, now) = (session.actor.clone(), Uuid::new_v4(), state.clock.now());
    let drawn = state
        .write(actor.council_id, |tx| {
            let (actor, request) = (actor.clone(), request.clone());
            Box::pin(async move { samples::draw(tx, &actor, id, &request, now).await })
        })
        .await;
    match drawn {
        Ok(sample) => Ok(Redirect::to(&format!("/audit/samples/{}", sample.id)).into_response()),
        Err(e) => {
            let message = refusal_message(e)?;
            Ok(render_list(&state, &session, vec![message])
                .await?
                .into_response())
        }
    }
}

async fn render_sample(
    state: &AppState,
    session: &AdminSession,
    id: Uuid,
    errors: Vec<String>,
) -> AdminResult<maud::Markup> {
    let shell = session.shell(state, "/audit/samples").await?;
    let actor = session.actor.clone();
    let (sample, payments) = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                let sample = samples::get(tx, &actor, id).await?;
                let payments = samples::payments(tx, actor.council_id, &sample).await?;
                Ok((sample, payments))
            })
        })
        .await?;
    let rows = payments
        .into_iter()
        .map(|p| {
            let finding = sample
                .findings
                .iter()
                .rev()
                .find(|f| f.payment_id == p.payment_id)
                .map(|f| (f.outcome.as_str().to_owned(), f.note.clone()));
            SampledRow {
                position: p.position,
                payment_id: p.payment_id.to_string(),
                budget_id: p.budget_id.to_string(),
                payee: p.payee_name,
                amount: format!("£{:.2}", p.amount),
                posted_on: p.posted_on.map(|d| d.to_string()).unwrap_or_default(),
                finding,
                evidence: p.evidence,
            }
        })
        .collect();
    Ok(views::sample(
        &shell,
        &views::SamplePage {
            id: sample.id.to_string(),
            seed: sample.seed.clone(),
            period: format!("{} to {}", sample.from, sample.to),
            rows,
            csrf_token: session.csrf_token.clone(),
            errors,
        },
    ))
}

/// One sample's payments with their findings and a form for each.
pub async fn show(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    session: AdminSession,
) -> AdminResult<maud::Markup> {
    render_sample(&state, &session, id, Vec::new()).await
}

#[derive(Debug, Deserialize)]
pub struct FindingForm {
    payment_id: Uuid,
    outcome: crate::audit::FindingOutcome,
    #[serde(default)]
    note: String,
}

/// Records a finding, then back to the sample.
pub async fn record_finding(
    State(state): State<AppState>,
    AdminPath(sample_id): AdminPath<Uuid>,
    CsrfForm { session, form }: CsrfForm<FindingForm>,
) -> AdminResult<Response> {
    let new = NewFinding {
        payment_id: form.payment_id,
        outcome: form.outcome,
        note: form.note,
    };
    let (actor, id, now) = (session.actor.clone(), Uuid::new_v4(), state.clock.now());
    let done = state
        .write(actor.council_id, |tx| {
            let (actor, new) = (actor.clone(), new.clone());
            Box::pin(async move { findings::record(tx, &actor, sample_id, id, &new, now).await })
        })
        .await;
    match done {
        Ok(_) => Ok(Redirect::to(&format!("/audit/samples/{sample_id}")).into_response()),
        Err(e) => {
            let message = refusal_message(e)?;
            let page = render_sample(&state, &session, sample_id, vec![message]).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

/// Payments overdue for evidence (care managers, finance officers, auditors).
pub async fn missing(
    State(state): State<AppState>,
    session: AdminSession,
) -> AdminResult<maud::Markup> {
    let shell = session.shell(&state, "/evidence/missing").await?;
    let (actor, today) = (session.actor.clone(), state.clock.today());
    let (items, threshold) = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                let items = evidence::missing(tx, &actor, today).await?;
                let policy = crate::budgets::policy::current(tx, actor.council_id).await?;
                Ok((items, policy.receipt_threshold))
            })
        })
        .await?;
    let rows: Vec<MissingRow> = items
        .iter()
        .map(|m| MissingRow {
            payment_id: m.payment_id.to_string(),
            budget_id: m.budget_id.to_string(),
            payee: m.payee_name.clone(),
            amount: format!("£{:.2}", m.amount.amount()),
            posted_on: m.posted_on.to_string(),
            due_on: m.due_on.to_string(),
        })
        .collect();
    Ok(views::missing_evidence(
        &shell,
        &rows,
        &format!("£{threshold:.2}"),
    ))
}

/// An evidence file, for those who may see a payment it is attached to (the evidence viewer).
pub async fn evidence_file(
    State(state): State<AppState>,
    AdminPath(sha256): AdminPath<String>,
    session: AdminSession,
) -> AdminResult<Response> {
    let (actor, store) = (session.actor.clone(), state.evidence.clone());
    let file = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { evidence::fetch(tx, store.as_ref(), &actor, &sha256).await })
        })
        .await?;
    let content_type = match file.media_type {
        evidence::MediaType::Text | evidence::MediaType::Csv => {
            format!("{}; charset=utf-8", file.media_type)
        }
        other => other.to_string(),
    };
    let disposition = format!(
        "inline; filename=\"{}.{}\"",
        file.sha256,
        file.media_type.extension()
    );
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, content_type),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        file.bytes,
    )
        .into_response())
}
