//! Words for the codes the pages show, so every page says the same thing.

use crate::budgets::budget::{BudgetKind, Funder};
use crate::payments::runs::RunStatus;
use crate::rules::{Category, Deployment};

pub fn deployment(d: Deployment) -> &'static str {
    match d {
        Deployment::DirectPayment => "Direct payment",
        Deployment::ManagedAccount => "Managed account",
        Deployment::Isf => "Individual Service Fund",
        Deployment::CouncilManaged => "Council-managed",
    }
}

pub fn category(c: Category) -> &'static str {
    match c {
        Category::PersonalCare => "Personal care",
        Category::PersonalAssistant => "Personal assistant",
        Category::DomesticSupport => "Domestic support",
        Category::RespiteAtHome => "Respite at home",
        Category::ResidentialRespite => "Residential respite",
        Category::DayActivities => "Day activities",
        Category::Education => "Education",
        Category::Transport => "Transport",
        Category::Equipment => "Equipment",
        Category::HomeAdaptations => "Home adaptations",
        Category::Therapy => "Therapy",
        Category::Brokerage => "Brokerage",
        Category::AccountManagement => "Account management",
        Category::EmploymentCosts => "Employment costs (payroll, HMRC, pension, insurance)",
        Category::Other => "Other",
    }
}

pub fn funder(f: Funder) -> &'static str {
    match f {
        Funder::Council => "the council (adult social care)",
        Funder::Nhs => "the NHS (personal health budget)",
    }
}

pub fn budget_kind(k: BudgetKind) -> &'static str {
    match k {
        BudgetKind::Standard => "Personal budget",
        BudgetKind::Reablement => "Reablement (free, up to six weeks)",
    }
}

pub fn budget_kind_code(code: &str) -> &'static str {
    match code {
        "reablement" => budget_kind(BudgetKind::Reablement),
        _ => budget_kind(BudgetKind::Standard),
    }
}

pub fn run_status(s: RunStatus) -> &'static str {
    match s {
        RunStatus::Draft => "Draft",
        RunStatus::Submitted => "Submitted for approval",
        RunStatus::Approved => "Approved and released",
        RunStatus::Rejected => "Rejected",
    }
}

pub fn plan_state(approved_version: Option<i32>, has_draft: bool) -> String {
    match (approved_version, has_draft) {
        (Some(v), true) => format!("Version {v} approved; a draft waits"),
        (Some(v), false) => format!("Version {v} approved"),
        (None, true) => "Draft waiting for approval".into(),
        (None, false) => "No plan yet".into(),
    }
}
