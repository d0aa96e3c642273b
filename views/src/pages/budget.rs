use chrono::NaiveDate;
use maud::{html, Markup};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::components::{csrf_field, error_summary};
use crate::layout::{page, Shell};
use crate::money::Gbp;

/// One budget: the s.26 statement, the plan by deployment, balances, reviews and arrears.
#[derive(Debug, Clone, Default)]
pub struct BudgetPage {
    pub id: Uuid,
    pub reference: String,
    pub person_id: Uuid,
    pub person_name: String,
    pub funder: &'static str,
    pub kind: &'static str,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub cost: Decimal,
    pub person_amount: Decimal,
    pub council_amount: Decimal,
    /// The funders: who, what they pay a week, and (s.26) a year after the person's contribution.
    pub funders: Vec<FunderRow>,
    /// The direct payment goes to an account used only for NHS direct payments (reg 10).
    pub nhs_dp_separate_account: bool,
    pub weekly_contribution: Decimal,
    pub contribution_basis: &'static str,
    /// Why the cost differs from the assessment it cites.
    pub cost_reason: Option<String>,
    /// A carer's own budget.
    pub is_carer_budget: bool,
    /// The account the direct payment is paid into, as the viewer may see it (in full, masked),
    /// or none (none recorded, or not theirs to see).
    pub dp_bank: Option<String>,
    /// Changed bank details waiting for a finance officer's verification.
    pub dp_bank_unverified: bool,
    pub plan: Option<PlanSummary>,
    pub draft: Option<PlanSummary>,
    pub accounts: Vec<AccountRow>,
    pub interim: Option<InterimRow>,
    pub reviews: Vec<ReviewRow>,
    pub contributions_expected: Decimal,
    pub contributions_received: Decimal,
    pub arrears: Decimal,
    pub can_edit_plan: bool,
    pub can_approve_plan: bool,
    /// The broker (or a care manager) may submit the draft to the care manager.
    pub can_submit_plan: bool,
    /// What the care manager typed as the reason for returning the draft, kept when refused.
    pub return_reason_typed: String,
    /// Why a form on this page was refused, shown at the top.
    pub errors: Vec<String>,
    pub csrf_token: String,
    /// `(href, text)` of further things the viewer may do with this budget (casework).
    pub actions: Vec<(String, String)>,
    /// Spending against the plan by category, the plan year so far.
    pub spending: Option<crate::pages::pictures::SpendingPicture>,
}

/// One funder of a budget.
#[derive(Debug, Clone)]
pub struct FunderRow {
    /// In words: `the council`, `the NHS (…)`, a fund's name.
    pub who: String,
    pub nhs: bool,
    pub weekly: Decimal,
    /// What the funder pays a year (the council's share less the person's contribution).
    pub yearly: Decimal,
}

#[derive(Debug, Clone)]
pub struct PlanSummary {
    pub version: i32,
    pub status: &'static str,
    pub cash_allowed: bool,
    pub weekly_total: Decimal,
    pub annual_total: Decimal,
    pub groups: Vec<DeploymentGroup>,
    /// When the draft was submitted to the care manager.
    pub submitted_on: Option<NaiveDate>,
    /// Why the care manager returned the draft.
    pub return_reason: Option<String>,
}

/// The lines of one deployment (and holder).
#[derive(Debug, Clone)]
pub struct DeploymentGroup {
    pub deployment: &'static str,
    pub holder: String,
    pub weekly_total: Decimal,
    pub lines: Vec<PlanLineRow>,
}

#[derive(Debug, Clone)]
pub struct PlanLineRow {
    pub category: &'static str,
    pub need: String,
    pub weekly_amount: Decimal,
    /// The directory service and cost option the amount was worked out from, in words.
    pub service: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AccountRow {
    /// The ledger account, whose statement the row links to.
    pub id: Uuid,
    pub label: String,
    pub holder: String,
    pub posted: Decimal,
    pub pending: Decimal,
    pub available: Decimal,
}

#[derive(Debug, Clone)]
pub struct InterimRow {
    pub weekly_amount: Decimal,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct ReviewRow {
    pub kind: String,
    pub due_on: NaiveDate,
    pub completed_on: Option<NaiveDate>,
    pub outcome: Option<String>,
    pub overdue: bool,
}

fn day(date: NaiveDate) -> String {
    date.format("%-d %B %Y").to_string()
}

fn plan_section(plan: &PlanSummary, caption: &str) -> Markup {
    html! {
        p {
            "Version " (plan.version) " · " (plan.status) " · "
            (Gbp(plan.weekly_total)) " a week, " (Gbp(plan.annual_total)) " a year"
            @if plan.cash_allowed { " · cash withdrawals allowed" }
        }
        @for group in &plan.groups {
            table {
                caption { (caption) ": " (group.deployment) " — held by " (group.holder) }
                thead { tr { th scope="col" { "Category" } th scope="col" { "Need" } th.num scope="col" { "A week" } } }
                tbody {
                    @for line in &group.lines {
                        tr {
                            td { (line.category) }
                            td { (line.need) @if let Some(service) = &line.service { br; (service) } }
                            td.num { (Gbp(line.weekly_amount)) }
                        }
                    }
                }
                tfoot { tr { th scope="row" colspan="2" { "Total" } td.num { (Gbp(group.weekly_total)) } } }
            }
        }
    }
}

/// The funders in words: the lead funder alone, or every funder ("the council and the NHS").
fn funded_by(data: &BudgetPage) -> String {
    if data.funders.len() < 2 {
        return data.funder.to_string();
    }
    let names: Vec<&str> = data.funders.iter().map(|f| f.who.as_str()).collect();
    match names.split_last() {
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

pub fn budget(shell: &Shell, data: &BudgetPage) -> Markup {
    let title = format!("Budget {} — {}", data.reference, data.person_name);
    page(
        shell,
        &title,
        html! {
            (error_summary(&data.errors))
            p { "For " a href={ "/people/" (data.person_id) } { (data.person_name) } ". " (data.kind) ", funded by " (funded_by(data)) "." }
            p.actions {
                a href={ "/budgets/" (data.id) "/pay" } { "Make a payment" }
                " · "
                a href={ "/budgets/" (data.id) "/decisions" } { "Payments and decisions" }
                " · "
                a href={ "/budgets/" (data.id) "/agreement" } { "Decision-making agreement" }
                @for (href, text) in &data.actions { " · " a href=(href) { (text) } }
            }
            h2 { "Personal budget statement (Care Act section 26)" }
            dl.summary {
                dt { "Cost of meeting needs, a year" } dd { (Gbp(data.cost)) }
                dt { "Paid by the person, a year" } dd { (Gbp(data.person_amount)) " (" (Gbp(data.weekly_contribution)) " a week, " (data.contribution_basis) ")" }
                @if data.funders.is_empty() {
                    dt { "Paid by the council, a year" } dd { (Gbp(data.council_amount)) }
                }
                @for f in &data.funders {
                    dt { "Paid by " (f.who) ", a year" } dd { (Gbp(f.yearly)) }
                }
                @if data.is_carer_budget { dt { "Whose budget" } dd { "A carer's own budget (from a carer's assessment)" } }
                @if let Some(reason) = &data.cost_reason { dt { "Why the cost differs from the assessment" } dd { (reason) } }
                @if let Some(start) = data.start_date { dt { "From" } dd { (day(start)) } }
                @if let Some(end) = data.end_date { dt { "Until" } dd { (day(end)) } }
                @if let Some(bank) = &data.dp_bank {
                    dt { "Direct payment paid into" }
                    dd {
                        (bank)
                        @if data.dp_bank_unverified { " — waiting for a finance officer to verify it; not paid until then" }
                    }
                }
            }
            @if data.funders.len() > 1 || data.funders.iter().any(|f| f.nhs || f.who != "the council") {
                h2 { "Funders" }
                table.funders {
                    caption { "Who pays for this budget" }
                    thead { tr { th scope="col" { "Funder" } th.num scope="col" { "A week" } th.num scope="col" { "A year" } } }
                    tbody {
                        @for f in &data.funders {
                            tr { th scope="row" { (f.who) } td.num { (Gbp(f.weekly)) } td.num { (Gbp(f.yearly)) } }
                        }
                    }
                }
                p { "The person's contribution applies to the council's share only: NHS money is never charged for." }
                @if data.funders.iter().any(|f| f.nhs) {
                    @if data.nhs_dp_separate_account {
                        p { "The direct payment goes to an account used only for NHS direct payments." }
                    } @else {
                        p { "No account used only for NHS direct payments is recorded: a direct payment of NHS money is not paid until one is." }
                    }
                }
            }
            h2 { "Support plan" }
            @match &data.plan {
                Some(plan) => { (plan_section(plan, "Approved plan")) }
                None => { p { "No plan has been approved yet." } }
            }
            @if let Some(draft) = &data.draft {
                h2 { "Draft waiting for approval" }
                (plan_section(draft, "Draft"))
                @if let Some(on) = draft.submitted_on {
                    p { "Submitted to the care manager on " (day(on)) "." }
                }
                @if let Some(reason) = &draft.return_reason {
                    p { strong { "Returned by the care manager: " } (reason) }
                }
                @if data.can_submit_plan && draft.submitted_on.is_none() {
                    form method="post" action={ "/budgets/" (data.id) "/plan/submit" } {
                        (csrf_field(&data.csrf_token))
                        button.primary type="submit" { "Submit version " (draft.version) " to the care manager" }
                    }
                }
                @if data.can_approve_plan && draft.submitted_on.is_some() {
                    form method="post" action={ "/budgets/" (data.id) "/plan/return" } {
                        (csrf_field(&data.csrf_token))
                        label for="return-reason" { "Why the plan goes back to the broker" }
                        textarea id="return-reason" name="reason" required maxlength="2000" rows="3" { (data.return_reason_typed) }
                        button type="submit" { "Return version " (draft.version) }
                    }
                }
                @if data.can_approve_plan {
                    form method="post" action={ "/budgets/" (data.id) "/plan/approve" } {
                        (csrf_field(&data.csrf_token))
                        button.primary type="submit" { "Approve version " (draft.version) }
                    }
                }
            }
            @if data.can_edit_plan {
                p { a href={ "/budgets/" (data.id) "/plan" } { "Edit the plan" } }
            }
            @if let Some(interim) = &data.interim {
                h2 { "Urgent interim support" }
                p.notice {
                    (Gbp(interim.weekly_amount)) " a week, council-managed, from " (day(interim.start_date))
                    " to " (day(interim.end_date)) ". " (interim.reason)
                }
            }
            h2 { "Accounts" }
            @if data.accounts.is_empty() {
                p { "Accounts are opened when a plan is approved." }
            } @else {
                table {
                    caption.visually-hidden { "Balances of this budget's accounts" }
                    thead { tr {
                        th scope="col" { "Account" } th scope="col" { "Held by" }
                        th.num scope="col" { "Posted" } th.num scope="col" { "Pending" } th.num scope="col" { "Available" }
                    } }
                    tbody {
                        @for account in &data.accounts {
                            tr {
                                td { a href={ "/accounts/" (account.id) } { (account.label) } }
                                td { (account.holder) }
                                td.num { (Gbp(account.posted)) } td.num { (Gbp(account.pending)) }
                                td.num { (Gbp(account.available)) }
                            }
                        }
                    }
                }
            }
            @if let Some(spending) = &data.spending { (crate::pages::pictures::spending(spending)) }
            h2 { "Contributions" }
            dl.summary {
                dt { "Expected so far" } dd { (Gbp(data.contributions_expected)) }
                dt { "Received" } dd { (Gbp(data.contributions_received)) }
                dt { "Arrears" } dd {
                    (Gbp(data.arrears))
                    @if data.arrears > Decimal::ZERO { " " strong.tag.warn { "In arrears" } }
                }
            }
            h2 { "Reviews" }
            @if data.reviews.is_empty() {
                p { "The first review is scheduled when a plan is approved." }
            } @else {
                table {
                    caption.visually-hidden { "Reviews of this budget" }
                    thead { tr { th scope="col" { "Review" } th scope="col" { "Due" } th scope="col" { "Done" } th scope="col" { "Outcome" } } }
                    tbody {
                        @for review in &data.reviews {
                            tr {
                                td { (review.kind) }
                                td { (day(review.due_on)) @if review.overdue { " " strong.tag.bad { "Overdue" } } }
                                td { @if let Some(done) = review.completed_on { (day(done)) } @else { "Not yet" } }
                                td { @if let Some(outcome) = &review.outcome { (outcome) } }
                            }
                        }
                    }
                }
            }
        },
    )
}
