use std::collections::HashMap;

use axum::extract::State;
use maud::Markup;
use uuid::Uuid;

use super::session::AdminSession;
use super::{labels, AdminPath, AdminResult};
use crate::auth::Role;
use crate::budgets::plans::{Plan, PlanStatus};
use crate::budgets::{listing, organisations, view};
use crate::http::AppState;
use allot_views::pages::budget::{
    self as page, AccountRow, BudgetPage, DeploymentGroup, PlanLineRow, PlanSummary,
};
use allot_views::pages::budgets::{budgets, BudgetListRow};
use allot_views::pages::pictures::{SpendingPicture, SpendingRow};

/// The budgets this user may see.
pub async fn list(State(state): State<AppState>, session: AdminSession) -> AdminResult<Markup> {
    let shell = session.shell(&state, "/budgets").await?;
    let actor = session.actor.clone();
    let rows = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { listing::list(tx, &actor, None).await })
        })
        .await?;
    let today = state.clock.today();
    let rows: Vec<BudgetListRow> = rows
        .into_iter()
        .map(|b| BudgetListRow {
            id: b.id,
            reference: b.reference,
            person_id: b.person_id,
            person_name: b.person_name,
            kind: labels::budget_kind_code(&b.kind),
            cost: b.annual_cost,
            plan: labels::plan_state(b.approved_version, b.has_draft),
            next_review: b.next_review,
            review_overdue: b.next_review.is_some_and(|d| d < today),
        })
        .collect();
    Ok(budgets(
        &shell,
        &rows,
        session.actor.role == Role::CareManager,
    ))
}

/// One budget.
pub async fn show(
    State(state): State<AppState>,
    session: AdminSession,
    AdminPath(id): AdminPath<Uuid>,
) -> AdminResult<Markup> {
    render(&state, &session, id, String::new(), Vec::new()).await
}

/// The budget's page, with what a refused form on it was sent and why it was refused.
pub async fn render(
    state: &AppState,
    session: &AdminSession,
    id: Uuid,
    return_reason_typed: String,
    errors: Vec<String>,
) -> AdminResult<Markup> {
    let shell = session.shell(state, "/budgets").await?;
    let actor = session.actor.clone();
    let council_id = actor.council_id;
    let today = state.clock.today();
    let (budget, names, statement) = state
        .in_tenant_tx(council_id, |tx| {
            Box::pin(async move {
                let budget = view::view(tx, &actor, id, today).await?;
                // A budget that has not started has no plan year to show yet.
                let statement = match crate::budgets::own_statement::own_statement(
                    tx, &actor, id, None, None, today,
                )
                .await
                {
                    Ok(statement) => Some(statement),
                    Err(crate::error::AppError::Invalid { .. }) => None,
                    Err(e) => return Err(e),
                };
                let names: HashMap<Uuid, String> = organisations::list(tx, council_id)
                    .await?
                    .into_iter()
                    .map(|o| (o.id, o.name))
                    .collect();
                Ok((budget, names, statement))
            })
        })
        .await?;
    let role = session.actor.role;
    let summary = |plan: &Plan| plan_summary(plan, &names);
    let data = BudgetPage {
        id: budget.budget.id,
        reference: budget.budget.reference.clone(),
        person_id: budget.person.id,
        person_name: budget.person.name.clone(),
        funder: labels::funder(budget.budget.funder),
        kind: labels::budget_kind(budget.budget.kind),
        start_date: Some(budget.budget.start_date),
        end_date: budget.budget.end_date,
        cost: budget.budget.cost.amount(),
        person_amount: budget.budget.person_amount.amount(),
        council_amount: budget.budget.council_amount.amount(),
        funders: budget
            .budget
            .funding
            .iter()
            .zip(&budget.budget.paid_by)
            .map(|(part, paid)| page::FunderRow {
                who: funder_words(part.funder, part.name.as_deref()),
                nhs: part.funder == crate::budgets::funding::FundingSource::Nhs,
                weekly: part.weekly_amount.amount(),
                yearly: paid.amount.amount(),
            })
            .collect(),
        nhs_dp_separate_account: budget.budget.nhs_dp_separate_account,
        weekly_contribution: budget.budget.weekly_contribution.amount(),
        contribution_basis: match budget.budget.contribution_basis {
            crate::rules::ContributionBasis::Net => "net: paid into the person's account",
            crate::rules::ContributionBasis::Gross => "gross: recovered by the council",
        },
        cost_reason: budget.budget.cost_reason.clone(),
        is_carer_budget: budget.budget.is_carer_budget,
        dp_bank: budget
            .budget
            .bank
            .as_ref()
            .map(|b| format!("{} {} ({})", b.sort_code, b.account_number, b.account_name)),
        dp_bank_unverified: !budget.budget.bank_verified,
        plan: budget.plan.as_ref().map(summary),
        draft: budget.draft_plan.as_ref().map(summary),
        accounts: budget
            .accounts
            .iter()
            .map(|a| AccountRow {
                id: a.id,
                label: match a.deployment {
                    Some(d) => labels::deployment(d).to_string(),
                    None => "Contributions owed".to_string(),
                },
                holder: a.holder.name.clone(),
                posted: a.posted_balance.amount(),
                pending: a.pending_balance.amount(),
                available: a.available_balance.amount(),
            })
            .collect(),
        interim: budget.urgent_interim.as_ref().map(|i| page::InterimRow {
            weekly_amount: i.weekly_amount.amount(),
            start_date: i.start_date,
            end_date: i.end_date,
            reason: i.reason.clone(),
        }),
        reviews: budget
            .reviews
            .iter()
            .map(|r| page::ReviewRow {
                kind: if r.kind == "first" {
                    "First review".into()
                } else {
                    "Annual review".into()
                },
                due_on: r.due_on,
                completed_on: r.completed_on,
                outcome: r.outcome.clone(),
                overdue: r.overdue,
            })
            .collect(),
        contributions_expected: budget.contributions.expected.amount(),
        contributions_received: budget.contributions.received.amount(),
        arrears: budget.contributions.arrears.amount(),
        can_edit_plan: matches!(role, Role::CareManager | Role::Broker),
        can_approve_plan: role == Role::CareManager,
        can_submit_plan: role == Role::Broker,
        return_reason_typed,
        errors,
        csrf_token: session.csrf_token.clone(),
        actions: match role {
            Role::CareManager => vec![
                (
                    format!("/budgets/{}/urgent-interim", budget.budget.id),
                    "Urgent interim support".to_owned(),
                ),
                (
                    format!("/budgets/{}/family-payments", budget.budget.id),
                    "Family-payment decisions".to_owned(),
                ),
                (
                    format!("/people/{}/capacity", budget.person.id),
                    "Change in capacity".to_owned(),
                ),
            ],
            Role::BudgetHolder => vec![(
                "/payee-requests/new".to_owned(),
                "Ask for your personal assistant to be paid".to_owned(),
            )],
            _ => Vec::new(),
        },
        spending: statement.map(|statement| SpendingPicture {
            from: statement.from,
            to: statement.to,
            rows: statement
                .spending
                .iter()
                .map(|l| SpendingRow {
                    label: l.label.clone(),
                    planned: l.planned_value,
                    spent: l.spent_value,
                })
                .collect(),
        }),
    };
    Ok(page::budget(&shell, &data))
}

fn plan_summary(plan: &Plan, names: &HashMap<Uuid, String>) -> PlanSummary {
    let groups = plan
        .holdings()
        .into_iter()
        .map(|(deployment, holder)| DeploymentGroup {
            deployment: labels::deployment(deployment),
            holder: match holder {
                Some(id) => names
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| "an organisation".into()),
                None if deployment == crate::rules::Deployment::DirectPayment => {
                    "the person".into()
                }
                None => "the council".into(),
            },
            weekly_total: plan.weekly_for(deployment, holder),
            lines: plan
                .lines
                .iter()
                .filter(|l| l.deployment == deployment && l.holder_organisation_id == holder)
                .map(|l| PlanLineRow {
                    category: labels::category(l.category),
                    need: l.need.clone(),
                    weekly_amount: l.weekly_amount.amount(),
                    service: l.service.as_ref().map(|s| {
                        format!(
                            "{}{}: £{} per {} × {} a week",
                            s.service_name.as_deref().unwrap_or(&s.service_id),
                            s.cost_option
                                .as_deref()
                                .map(|o| format!(" — {o}"))
                                .unwrap_or_default(),
                            s.unit_amount,
                            s.unit,
                            s.units_per_week
                        )
                    }),
                })
                .collect(),
        })
        .collect();
    PlanSummary {
        version: plan.version,
        status: match plan.status {
            PlanStatus::Draft => "draft",
            PlanStatus::Approved => "approved",
            PlanStatus::Superseded => "superseded",
            PlanStatus::Replaced => "replaced",
        },
        cash_allowed: plan.cash_allowed,
        weekly_total: plan.weekly_total.amount(),
        annual_total: plan.annual_total.amount(),
        groups,
        submitted_on: plan.submitted_at.map(|at| at.date_naive()),
        return_reason: plan.return_reason.clone(),
    }
}

/// The period and layout asked for on the statement page (dates left empty mean the default).
#[derive(Debug, serde::Deserialize)]
pub struct StatementQuery {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    easy_read: Option<String>,
}

fn date_field(
    value: Option<&str>,
    label: &str,
    errors: &mut Vec<String>,
) -> Option<chrono::NaiveDate> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    match chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            errors.push(format!("{label} must be a real date, like 2026-04-01"));
            None
        }
    }
}

/// The person's own statement of a budget (the person, representatives with a grant, staff who
/// may see the budget); easy read when the person asked for it or with `?easy_read=1`.
pub async fn statement(
    State(state): State<AppState>,
    session: AdminSession,
    AdminPath(id): AdminPath<Uuid>,
    super::AdminQuery(query): super::AdminQuery<StatementQuery>,
) -> AdminResult<Markup> {
    use crate::budgets::own_statement;
    use allot_views::pages::statement::{self as views, SpendRow, StatementPage, WaitingRow};
    use rust_decimal::prelude::ToPrimitive;

    let shell = session.shell(&state, "/budgets").await?;
    let today = state.clock.today();
    let mut errors = Vec::new();
    let mut from = date_field(query.from.as_deref(), "From", &mut errors);
    let mut to = date_field(query.to.as_deref(), "To", &mut errors);
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            errors.push("From must be on or before To".to_string());
            (from, to) = (None, None);
        }
    }
    let actor = session.actor.clone();
    let s = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(
                async move { own_statement::own_statement(tx, &actor, id, from, to, today).await },
            )
        })
        .await?;
    let easy_read = match query.easy_read.as_deref() {
        Some("1") | Some("true") | Some("on") => true,
        Some("0") | Some("false") => false,
        _ => s.easy_read,
    };
    let data = StatementPage {
        budget_id: s.budget_id,
        reference: s.reference,
        person_name: s.person_name,
        easy_read,
        from: s.from,
        to: s.to,
        today,
        opening_balance: s.opening_balance,
        money_in: s.money_in,
        money_in_by_funder: if s
            .money_in_by_funder
            .iter()
            .all(|f| f.funder == crate::budgets::funding::FundingSource::Council)
        {
            Vec::new()
        } else {
            s.money_in_by_funder
                .iter()
                .map(|f| {
                    (
                        funder_words(f.funder, f.name.as_deref()),
                        f.amount.to_string(),
                    )
                })
                .collect()
        },
        spending: s
            .spending
            .into_iter()
            .map(|l| SpendRow {
                label: l.label,
                planned: l.planned,
                spent: l.spent,
                planned_value: l.planned_value.to_f64().unwrap_or(0.0),
                spent_value: l.spent_value.to_f64().unwrap_or(0.0),
            })
            .collect(),
        spent_total: s.spent_total,
        other_out: s.other_out,
        left: s.left,
        weekly_plan: s.weekly_plan,
        weeks_left: s.weeks_left,
        waiting: s
            .waiting
            .into_iter()
            .map(|w| WaitingRow {
                label: w.label,
                amount: w.amount,
                service_date: w.service_date,
            })
            .collect(),
        waiting_total: s.waiting_total,
        council_name: s.contact.council_name,
        phone: s.contact.phone,
        email: s.contact.email,
        errors,
    };
    Ok(views::statement(&shell, &data))
}

/// A funder in plain words, as the person's statement and the budget page name it.
pub(crate) fn funder_words(
    funder: crate::budgets::funding::FundingSource,
    name: Option<&str>,
) -> String {
    use crate::budgets::funding::FundingSource;
    match (funder, name) {
        (FundingSource::Council, _) => "the council".to_string(),
        (FundingSource::Nhs, Some(name)) => format!("the NHS ({name})"),
        (FundingSource::Nhs, None) => "the NHS".to_string(),
        (FundingSource::Other, Some(name)) => name.to_string(),
        (FundingSource::Other, None) => "another fund".to_string(),
    }
}
