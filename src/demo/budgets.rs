//! The demo council's money: council banking, budgets of every kind with approved plans (and one
//! draft), urgent interim support, reablement, payees, a family-payment decision, and a first
//! payment run made by one finance officer and approved by the other. Loaded through the same
//! service functions as the API, acting as the demo's staff.

use std::collections::HashMap;

use anyhow::Context;
use chrono::{Datelike, Days, NaiveDate};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::{Actor, Role};
use crate::budgets::bank::BankDetails;
use crate::budgets::bank_changes::{self, ChangeStatus, SubjectKind};
use crate::budgets::budget::{
    self, BudgetKind, DirectPaymentTerms, DpRecipient, Funder, NewBudget,
};
use crate::budgets::family_approvals::{self, NewFamilyPaymentApproval};
use crate::budgets::interim::{self, NewUrgentInterim};
use crate::budgets::payees::{self, NewPayee};
use crate::budgets::plans::{self, PlanInput, PlanLineInput};
use crate::budgets::reviews;
use crate::db::Tx;
use crate::money::{Money, PositiveMoney};
use crate::payments::banking::{self, CouncilBanking};
use crate::payments::runs::{approve as run_actions, create as run_create};
use crate::rules::{Category, ContributionBasis, Deployment, PayeeKind, Relationship};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayeeFixture {
    key: String,
    name: String,
    kind: PayeeKind,
    person: Option<String>,
    relationship: Option<Relationship>,
    #[serde(default)]
    lives_with_person: bool,
    bank: BankDetails,
    #[serde(default)]
    bank_verified: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetFixture {
    key: String,
    person: String,
    funder: Funder,
    #[serde(default)]
    kind: BudgetKind,
    annual_cost: PositiveMoney,
    weekly_contribution: Money,
    contribution_basis: ContributionBasis,
    /// How many weeks before the first payment period the budget started.
    start_weeks_ago: u64,
    broker: Option<String>,
    bank: Option<BankDetails>,
    direct_payment: Option<TermsFixture>,
    plan: Option<PlanFixture>,
    /// Approve the plan (default yes); a draft shows a budget the run skips.
    #[serde(default = "yes")]
    approve: bool,
    interim: Option<InterimFixture>,
    /// Bring the first review forward to this many days from today (negative: overdue).
    review_due_in_days: Option<i64>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TermsFixture {
    #[serde(default)]
    consent_recorded: bool,
    #[serde(default)]
    recipient: DpRecipient,
    /// Email of the nominated or authorised person.
    recipient_user: Option<String>,
    #[serde(default)]
    recipient_agreed: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFixture {
    #[serde(default)]
    cash_allowed: bool,
    lines: Vec<LineFixture>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineFixture {
    category: Category,
    need: String,
    weekly_amount: PositiveMoney,
    deployment: Deployment,
    holder: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InterimFixture {
    weekly_amount: PositiveMoney,
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FamilyApprovalFixture {
    budget: String,
    payee: String,
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunFixture {
    weeks: u32,
    maker: String,
    checker: String,
}

/// The money part of the fixture.
pub struct MoneyFixture {
    pub banking: CouncilBanking,
    pub payees: Vec<PayeeFixture>,
    pub budgets: Vec<BudgetFixture>,
    pub family_payment_approvals: Vec<FamilyApprovalFixture>,
    pub payment_run: RunFixture,
}

/// Who the demo acts as, and the keys of what was loaded before.
pub struct Cast<'a> {
    pub council_id: Uuid,
    pub people: &'a HashMap<String, Uuid>,
    pub organisations: &'a HashMap<String, Uuid>,
    pub users: &'a HashMap<String, Uuid>,
    pub admin_id: Uuid,
}

impl Cast<'_> {
    fn actor(&self, user_id: Uuid, role: Role) -> Actor {
        Actor {
            user_id,
            council_id: self.council_id,
            role,
            email: String::new(),
            name: String::new(),
            organisation_id: None,
            person_id: None,
        }
    }

    fn user(&self, email: &str) -> anyhow::Result<Uuid> {
        self.users
            .get(email)
            .copied()
            .with_context(|| format!("demo: unknown user {email}"))
    }

    fn key(map: &HashMap<String, Uuid>, key: &str) -> anyhow::Result<Uuid> {
        map.get(key)
            .copied()
            .with_context(|| format!("demo: unknown key {key}"))
    }
}

/// The Monday on or after `day`: the demo's first payment period starts then.
pub fn next_monday(day: NaiveDate) -> NaiveDate {
    let days = (7 - day.weekday().num_days_from_monday()) % 7;
    day.checked_add_days(Days::new(u64::from(days)))
        .unwrap_or(day)
}

fn fail(what: &str) -> impl Fn(crate::error::AppError) -> anyhow::Error + '_ {
    move |e| anyhow::anyhow!("demo {what}: {e}")
}

/// What the money part loaded: the approved payment run, and the budgets and payees by key.
pub struct LoadedMoney {
    pub payment_run_id: Uuid,
    pub budgets: HashMap<String, Uuid>,
    pub payees: HashMap<String, Uuid>,
}

/// Loads the money part.
pub async fn load(
    tx: &Tx<'_>,
    cast: &Cast<'_>,
    fixture: &MoneyFixture,
    today: NaiveDate,
) -> anyhow::Result<LoadedMoney> {
    let care_manager = cast.actor(
        cast.user("carol.tregorran@borsetshire.example")?,
        Role::CareManager,
    );
    let admin = cast.actor(cast.admin_id, Role::CouncilAdmin);
    let finance = cast.actor(cast.user(&fixture.payment_run.maker)?, Role::FinanceOfficer);
    banking::set(tx, &admin, &fixture.banking)
        .await
        .map_err(fail("banking"))?;

    let mut payee_ids = HashMap::new();
    for payee in &fixture.payees {
        let new = NewPayee {
            name: payee.name.clone(),
            kind: payee.kind,
            person_id: payee
                .person
                .as_deref()
                .map(|p| Cast::key(cast.people, p))
                .transpose()?,
            relationship: payee.relationship,
            lives_with_person: payee.lives_with_person,
            bank: payee.bank.clone(),
            active: true,
            bank_verified: payee.bank_verified,
            organisation_id: None,
        };
        let created = payees::create(tx, &finance, &new)
            .await
            .map_err(fail(&payee.key))?;
        payee_ids.insert(payee.key.clone(), created.id);
    }

    let period_start = next_monday(today);
    let mut budget_ids = HashMap::new();
    for item in &fixture.budgets {
        let id = load_budget(tx, cast, &care_manager, item, period_start, today).await?;
        budget_ids.insert(item.key.clone(), id);
    }
    for approval in &fixture.family_payment_approvals {
        let new = NewFamilyPaymentApproval {
            payee_id: Cast::key(&payee_ids, &approval.payee)?,
            reason: approval.reason.clone(),
        };
        let budget_id = Cast::key(&budget_ids, &approval.budget)?;
        family_approvals::record(tx, &care_manager, budget_id, &new)
            .await
            .map_err(fail(&approval.budget))?;
    }

    let checker = cast.actor(
        cast.user(&fixture.payment_run.checker)?,
        Role::FinanceOfficer,
    );
    // The providers' and the direct payments' bank details were given by the administrator and
    // the care manager: the second finance officer verifies them before the first run. (Payees
    // the fixture leaves unverified stay so.)
    let waiting = bank_changes::list(tx, &checker, Some(ChangeStatus::Unverified))
        .await
        .map_err(fail("bank details"))?;
    for change in waiting.iter().filter(|c| c.subject != SubjectKind::Payee) {
        bank_changes::verify(tx, &checker, change.id)
            .await
            .map_err(fail("verifying bank details"))?;
    }
    let new_run = run_create::NewRun {
        period_start,
        weeks: fixture.payment_run.weeks,
    };
    let run = run_create::create(tx, &finance, &new_run)
        .await
        .map_err(fail("payment run"))?;
    run_actions::submit(tx, &finance, run.id)
        .await
        .map_err(fail("submitting the run"))?;
    run_actions::approve(tx, &checker, run.id)
        .await
        .map_err(fail("approving the run"))?;
    Ok(LoadedMoney {
        payment_run_id: run.id,
        budgets: budget_ids,
        payees: payee_ids,
    })
}

async fn load_budget(
    tx: &Tx<'_>,
    cast: &Cast<'_>,
    care_manager: &Actor,
    item: &BudgetFixture,
    period_start: NaiveDate,
    today: NaiveDate,
) -> anyhow::Result<Uuid> {
    let start_date = period_start
        .checked_sub_days(Days::new(item.start_weeks_ago * 7))
        .context("demo: start date")?;
    // The demo's plans are approved at the start of the day it is loaded.
    let now = today.and_time(chrono::NaiveTime::MIN).and_utc();
    let end_date = match item.kind {
        BudgetKind::Reablement => start_date.checked_add_days(Days::new(41)),
        BudgetKind::Standard => None,
    };
    let terms = match &item.direct_payment {
        Some(terms) => Some(DirectPaymentTerms {
            consent_recorded: terms.consent_recorded,
            recipient: terms.recipient,
            recipient_user_id: terms
                .recipient_user
                .as_deref()
                .map(|u| cast.user(u))
                .transpose()?,
            recipient_agreed: terms.recipient_agreed,
        }),
        None => None,
    };
    let new = NewBudget {
        person_id: Cast::key(cast.people, &item.person)?,
        funder: item.funder,
        annual_cost: item.annual_cost,
        weekly_contribution: item.weekly_contribution,
        contribution_basis: item.contribution_basis,
        start_date,
        end_date,
        kind: item.kind,
        broker_organisation_id: item
            .broker
            .as_deref()
            .map(|b| Cast::key(cast.organisations, b))
            .transpose()?,
        bank: item.bank.clone(),
        direct_payment: terms,
        assessment_id: None,
        cost_reason: None,
        funding: None,
        // The demo's personal health budgets are paid into accounts kept for NHS money only.
        nhs_dp_separate_account: item.funder == Funder::Nhs,
    };
    let created = budget::create::create(tx, care_manager, &new)
        .await
        .map_err(fail(&item.key))?;
    if let Some(plan) = &item.plan {
        let mut lines = Vec::with_capacity(plan.lines.len());
        for line in &plan.lines {
            lines.push(PlanLineInput {
                category: line.category,
                need: line.need.clone(),
                weekly_amount: Some(line.weekly_amount),
                deployment: line.deployment,
                holder_organisation_id: line
                    .holder
                    .as_deref()
                    .map(|h| Cast::key(cast.organisations, h))
                    .transpose()?,
                directory_service_id: None,
                cost_option_id: None,
                units_per_week: None,
            });
        }
        let input = PlanInput {
            lines,
            cash_allowed: plan.cash_allowed,
        };
        plans::draft::put_draft(tx, care_manager, created.id, &input)
            .await
            .map_err(fail(&item.key))?;
        if item.approve {
            plans::approve::approve(tx, care_manager, created.id, now)
                .await
                .map_err(fail(&item.key))?;
        }
    }
    if let Some(interim_support) = &item.interim {
        let new = NewUrgentInterim {
            weekly_amount: interim_support.weekly_amount,
            start_date,
            reason: interim_support.reason.clone(),
        };
        interim::record(tx, care_manager, created.id, &new)
            .await
            .map_err(fail(&item.key))?;
    }
    if let Some(days) = item.review_due_in_days {
        let due = today
            .checked_add_signed(chrono::Duration::days(days))
            .context("demo: review date")?;
        reviews::bring_forward(tx, cast.council_id, created.id, due)
            .await
            .map_err(fail(&item.key))?;
    }
    Ok(created.id)
}
