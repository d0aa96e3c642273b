//! The statutory returns' pages (a period chooser, a GET form, and the figures as tables; the
//! CLD CSV to download) and the "verify the chain" page (auditors and finance officers).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

use super::session::{AdminSession, CsrfForm};
use super::{AdminQuery, AdminResult};
use crate::auth::Role;
use crate::error::AppError;
use crate::http::AppState;
use crate::reports::{cld, delivery};
use allot_views::pages::reports::{self as views, ChainResult, MeasureRow, MechanismRow};

/// The last 31 March on or before `today`.
fn last_year_end(today: NaiveDate) -> NaiveDate {
    let this = NaiveDate::from_ymd_opt(today.year(), 3, 31).unwrap_or(today);
    if this <= today {
        this
    } else {
        NaiveDate::from_ymd_opt(today.year() - 1, 3, 31).unwrap_or(today)
    }
}

fn long_date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

fn parse_date(field: &str, label: &str, typed: &str) -> Result<NaiveDate, String> {
    typed
        .trim()
        .parse()
        .map_err(|_| format!("Enter {label} as a real date, for example 31/03/2026 ({field})."))
}

#[derive(Debug, Deserialize)]
pub struct AsOfForm {
    #[serde(default)]
    as_of: Option<String>,
}

/// The delivery-mechanism return on a day (default: the last 31 March).
pub async fn delivery_mechanism(
    State(state): State<AppState>,
    session: AdminSession,
    AdminQuery(form): AdminQuery<AsOfForm>,
) -> AdminResult<Response> {
    session.actor.require(crate::reports::REPORT_ROLES)?;
    let shell = session.shell(&state, "/reports/delivery-mechanism").await?;
    let typed = form
        .as_of
        .unwrap_or_else(|| last_year_end(state.clock.today()).to_string());
    let as_of = match parse_date("as_of", "the day counted", &typed) {
        Ok(d) => d,
        Err(message) => {
            let page = views::delivery(
                &shell,
                &views::DeliveryPage {
                    as_of: typed,
                    errors: vec![message],
                    report: None,
                },
            );
            return Ok((StatusCode::BAD_REQUEST, page).into_response());
        }
    };
    let actor = session.actor.clone();
    let report = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { delivery::delivery_mechanism(tx, &actor, as_of).await })
        })
        .await?;
    let rows = report
        .rows
        .iter()
        .map(|r| MechanismRow {
            label: r.mechanism.label().to_owned(),
            aged_18_64: r.aged_18_64,
            aged_65_plus: r.aged_65_plus,
            total: r.total,
        })
        .collect();
    let totals = MechanismRow {
        label: "All".into(),
        aged_18_64: report.total_18_64,
        aged_65_plus: report.total_65_plus,
        total: report.total,
    };
    let shown = |p: &delivery::Proportion| match p.percent {
        Some(percent) => format!("{percent}% ({} of {})", p.numerator, p.denominator),
        None => "No one counted".to_owned(),
    };
    let measure = |label: &str, m: &delivery::Measure| MeasureRow {
        label: label.to_owned(),
        all: shown(&m.aged_18_plus),
        aged_18_64: shown(&m.aged_18_64),
        aged_65_plus: shown(&m.aged_65_plus),
    };
    let measures = vec![
        measure(
            "3D part 1a: receiving self-directed support",
            &report.ascof_3d.part_1a,
        ),
        measure(
            "3D part 2a: receiving direct payments",
            &report.ascof_3d.part_2a,
        ),
    ];
    Ok(views::delivery(
        &shell,
        &views::DeliveryPage {
            as_of: as_of.to_string(),
            errors: Vec::new(),
            report: Some((long_date(as_of), rows, totals, measures)),
        },
    )
    .into_response())
}

#[derive(Debug, Deserialize)]
pub struct PeriodForm {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

/// The period asked for, or the page's refusal; default: the last year to 31 March.
fn period(
    state: &AppState,
    form: &PeriodForm,
) -> (String, String, Result<(NaiveDate, NaiveDate), String>) {
    let end = last_year_end(state.clock.today());
    let default_from = NaiveDate::from_ymd_opt(end.year() - 1, 4, 1).unwrap_or(end);
    let from = form
        .from
        .clone()
        .unwrap_or_else(|| default_from.to_string());
    let to = form.to.clone().unwrap_or_else(|| end.to_string());
    let parsed = (|| {
        let f = parse_date("from", "the first day", &from)?;
        let t = parse_date("to", "the last day", &to)?;
        if t < f {
            return Err("The last day must be on or after the first day.".to_owned());
        }
        cld::check_period(f, t).map_err(|_| "The period may be at most three years.".to_owned())?;
        Ok((f, t))
    })();
    (from, to, parsed)
}

/// The CLD rows of a period, with the CSV to download.
pub async fn cld_page(
    State(state): State<AppState>,
    session: AdminSession,
    AdminQuery(form): AdminQuery<PeriodForm>,
) -> AdminResult<Response> {
    session.actor.require(crate::reports::REPORT_ROLES)?;
    // Under "Returns" in the navigation.
    let shell = session.shell(&state, "/reports/delivery-mechanism").await?;
    let (from_typed, to_typed, parsed) = period(&state, &form);
    let (from, to) = match parsed {
        Ok(p) => p,
        Err(message) => {
            let page = views::cld(
                &shell,
                &views::CldPage {
                    from: from_typed,
                    to: to_typed,
                    errors: vec![message],
                    rows: None,
                },
            );
            return Ok((StatusCode::BAD_REQUEST, page).into_response());
        }
    };
    let actor = session.actor.clone();
    let rows = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { cld::rows(tx, &actor, from, to).await })
        })
        .await?;
    let shown = rows
        .iter()
        .map(|r| views::CldRow {
            person_id: r.person_id.to_string(),
            person_name: r.person_name.clone(),
            start: long_date(r.start),
            end: r.end.map(long_date).unwrap_or_else(|| "In force".into()),
            mechanism: cld::delivery_mechanism(&r.deployment).to_owned(),
            unit_cost: format!("£{:.2}", r.weekly_amount),
        })
        .collect();
    Ok(views::cld(
        &shell,
        &views::CldPage {
            from: from.to_string(),
            to: to.to_string(),
            errors: Vec::new(),
            rows: Some((shown, format!("/reports/cld.csv?from={from}&to={to}"))),
        },
    )
    .into_response())
}

/// The CLD CSV for a signed-in user (the same as `GET /api/v1/reports/cld`).
pub async fn cld_csv(
    State(state): State<AppState>,
    session: AdminSession,
    AdminQuery(form): AdminQuery<PeriodForm>,
) -> AdminResult<Response> {
    session.actor.require(crate::reports::REPORT_ROLES)?;
    let (_, _, parsed) = period(&state, &form);
    let (from, to) = parsed.map_err(|message| super::AdminError::Page {
        status: StatusCode::BAD_REQUEST,
        title: "This cannot be done",
        message,
    })?;
    let actor = session.actor.clone();
    let rows = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { cld::rows(tx, &actor, from, to).await })
        })
        .await?;
    let body = cld::to_csv(from, to, &rows)?;
    Ok(crate::http::api::reports::csv_response(
        &format!("cld-{from}-{to}.csv"),
        body,
    ))
}

/// Who may verify the chain from the browser.
const CHAIN_ROLES: &[Role] = &[Role::Auditor, Role::FinanceOfficer];

/// The "verify the chain" page with its button.
pub async fn chain(
    State(state): State<AppState>,
    session: AdminSession,
) -> AdminResult<maud::Markup> {
    session.actor.require(CHAIN_ROLES)?;
    let shell = session.shell(&state, "/audit/chain").await?;
    Ok(views::chain(
        &shell,
        &views::ChainPage {
            csrf_token: session.csrf_token.clone(),
            result: None,
        },
    ))
}

/// Verifies the council's chain and shows the result.
pub async fn verify_chain(
    State(state): State<AppState>,
    CsrfForm { session, .. }: CsrfForm<serde::de::IgnoredAny>,
) -> AdminResult<maud::Markup> {
    session.actor.require(CHAIN_ROLES)?;
    let shell = session.shell(&state, "/audit/chain").await?;
    let report = crate::ledger::verify(&state.pool, session.actor.council_id, &state.chain_key)
        .await
        .map_err(AppError::from)?;
    let mut failures = Vec::new();
    if let Some(problem) = &report.problem {
        failures.push(problem.clone());
    }
    if let Some(entry) = report.first_bad_entry {
        failures.push(format!("First link that does not verify: {entry}"));
    }
    if let Some(account) = report.first_bad_account {
        failures.push(format!(
            "First account whose totals differ from its legs: {account}"
        ));
    }
    if !report.ok && failures.is_empty() {
        failures.push("The chain did not verify.".into());
    }
    Ok(views::chain(
        &shell,
        &views::ChainPage {
            csrf_token: session.csrf_token.clone(),
            result: Some(ChainResult {
                ok: report.ok,
                checked: report.entries_checked,
                unsealed: report.unsealed,
                head_position: report.head_position,
                head_hash: report.head_hash.clone(),
                signed_head: report.signed_head.clone(),
                failures,
            }),
        },
    ))
}
