//! Words for the codes the pages show, so every page says the same thing.

use crate::budgets::budget::{BudgetKind, Funder};
use crate::payments::runs::RunStatus;
use crate::rules::{Category, Deployment, RuleCode};

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

/// The payment form's field a refusal concerns, and what its code means in plain words.
pub fn refusal(code: RuleCode) -> (&'static str, &'static str) {
    match code {
        RuleCode::PlanNotApproved => (
            "deployment",
            "This money cannot be spent yet: the support plan has not been approved.",
        ),
        RuleCode::PersonExcluded => (
            "deployment",
            "The person cannot receive direct payments, so this money cannot pay for it.",
        ),
        RuleCode::CapacityConditions => (
            "deployment",
            "The conditions for paying a direct payment for this person are not met just now.",
        ),
        RuleCode::MakerChecker => (
            "amount",
            "Someone else has to approve this payment; you cannot approve your own.",
        ),
        RuleCode::NotInPlan => (
            "category",
            "The support plan does not include this kind of spending from this money.",
        ),
        RuleCode::OverPlanLine => (
            "amount",
            "This is more than the support plan allows for this kind of spending.",
        ),
        RuleCode::InsufficientFunds => (
            "amount",
            "There is not enough money in this account to pay this.",
        ),
        RuleCode::PayeeNotApproved => (
            "payee_id",
            "This payee cannot be paid yet: their bank details are waiting to be checked, or they are not active.",
        ),
        RuleCode::FamilyMemberPayment => (
            "payee_id",
            "A direct payment can pay a close relative who lives with the person only when the council has decided it is necessary.",
        ),
        RuleCode::ResidentialCareLimit => (
            "stay_to",
            "A direct payment pays for at most four weeks (28 days) in a care home in any 12 months, and never for long-term residential care.",
        ),
        RuleCode::CouncilService => (
            "payee_id",
            "A direct payment cannot pay the council for a service the council provides.",
        ),
        RuleCode::BlockedMerchant => (
            "payee_id",
            "Money from a personal budget cannot be spent here.",
        ),
        RuleCode::NoAuthority => (
            "deployment",
            "You are not allowed to pay from this money.",
        ),
        RuleCode::ApproverConflict => (
            "amount",
            "You cannot approve a payment you asked for yourself.",
        ),
        RuleCode::SelfPayment => (
            "payee_id",
            "A broker cannot pay their own organisation; its fee is paid through an invoice by someone else.",
        ),
        RuleCode::CapacityRole => (
            "deployment",
            "The person's capacity does not fit the role of whoever pays.",
        ),
        RuleCode::InvalidAmount => (
            "amount",
            "The amount is not a sum of money that can be paid (more than nothing, to the penny).",
        ),
        RuleCode::NeedsApproval => (
            "amount",
            "This would need someone's approval, which a card payment cannot wait for.",
        ),
        RuleCode::CashLimit => ("amount", "This is more cash than may be taken out in a day."),
    }
}
