use chrono::NaiveDate;
use maud::{html, Markup};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::components::{csrf_field, error_summary};
use crate::layout::{page, Shell};
use crate::money::Gbp;

/// The list of runs and the form to draft the next.
#[derive(Debug, Clone, Default)]
pub struct RunsPage {
    pub runs: Vec<RunRow>,
    pub can_create: bool,
    pub next_start: Option<NaiveDate>,
    pub weeks: String,
    pub errors: Vec<String>,
    pub csrf_token: String,
    /// A fresh key per form, so a double-submitted form drafts one run.
    pub idempotency_key: String,
}

#[derive(Debug, Clone)]
pub struct RunRow {
    pub id: Uuid,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub status: &'static str,
    pub total: Decimal,
    pub lines: i64,
    pub skipped: i64,
}

fn day(date: NaiveDate) -> String {
    date.format("%-d %b %Y").to_string()
}

pub fn runs(shell: &Shell, data: &RunsPage) -> Markup {
    page(
        shell,
        "Payment runs",
        html! {
            (error_summary(&data.errors))
            @if data.can_create {
                h2 { "Draft a run" }
                form method="post" action="/payment-runs" novalidate {
                    (csrf_field(&data.csrf_token))
                    input type="hidden" name="idempotency_key" value=(data.idempotency_key);
                    div.field {
                        label for="period_start" { "First day paid for" }
                        p.hint { "Runs pay four weeks in advance." }
                        input type="date" id="period_start" name="period_start"
                            value=[data.next_start.map(|d| d.format("%Y-%m-%d").to_string())];
                    }
                    div.field {
                        label for="weeks" { "Weeks" }
                        input type="number" id="weeks" name="weeks" min="1" max="13" value=(data.weeks);
                    }
                    button.primary type="submit" { "Draft the run" }
                }
            }
            h2 { "Runs" }
            @if data.runs.is_empty() {
                p { "No payment run has been made yet." }
            } @else {
                table {
                    caption.visually-hidden { "Payment runs, newest first" }
                    thead { tr {
                        th scope="col" { "Period" } th scope="col" { "Status" } th.num scope="col" { "Total" }
                        th.num scope="col" { "Lines" } th.num scope="col" { "Skipped" }
                    } }
                    tbody {
                        @for run in &data.runs {
                            tr {
                                td { a href={ "/payment-runs/" (run.id) } { (day(run.period_start)) " to " (day(run.period_end)) } }
                                td { span.tag { (run.status) } }
                                td.num { (Gbp(run.total)) }
                                td.num { (run.lines) }
                                td.num { (run.skipped) }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// One run: its lines, what was skipped and why, and what can be done next.
#[derive(Debug, Clone, Default)]
pub struct RunPage {
    pub id: Uuid,
    pub status: &'static str,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub total: Decimal,
    pub bank_total: Decimal,
    pub made_by: String,
    pub submitted_by: Option<String>,
    pub approved_by: Option<String>,
    pub lines: Vec<RunLineRow>,
    pub skipped: Vec<SkipRow>,
    pub can_submit: bool,
    pub can_approve: bool,
    pub can_reject: bool,
    pub can_download: bool,
    /// Why this user cannot approve (they made it), shown instead of the button.
    pub approve_note: Option<String>,
    pub errors: Vec<String>,
    pub csrf_token: String,
}

#[derive(Debug, Clone)]
pub struct RunLineRow {
    pub budget_id: Uuid,
    pub reference: String,
    pub person_name: String,
    pub deployment: &'static str,
    pub weeks: i32,
    pub amount: Decimal,
    pub contribution_owed: Decimal,
    pub contribution_to_pay_in: Decimal,
    pub paid_to: String,
}

#[derive(Debug, Clone)]
pub struct SkipRow {
    pub budget_id: Uuid,
    pub reference: String,
    pub person_name: String,
    pub deployment: String,
    pub reason: String,
    pub message: String,
}

fn action(id: Uuid, verb: &str, label: &str, class: &str, csrf: &str) -> Markup {
    html! {
        form.inline method="post" action={ "/payment-runs/" (id) "/" (verb) } {
            (csrf_field(csrf))
            button class=(class) type="submit" { (label) }
        }
        " "
    }
}

/// The run's lines added up by the kind of money they release, in the order first met.
fn by_deployment(lines: &[RunLineRow]) -> Vec<crate::pages::pictures::DeploymentTotal> {
    let mut totals: Vec<crate::pages::pictures::DeploymentTotal> = Vec::new();
    for line in lines {
        match totals.iter_mut().find(|t| t.label == line.deployment) {
            Some(t) => {
                t.lines += 1;
                t.total += line.amount;
            }
            None => totals.push(crate::pages::pictures::DeploymentTotal {
                label: line.deployment.to_string(),
                lines: 1,
                total: line.amount,
            }),
        }
    }
    totals
}

pub fn run(shell: &Shell, data: &RunPage) -> Markup {
    let title = match (data.period_start, data.period_end) {
        (Some(start), Some(end)) => format!("Payment run {} to {}", day(start), day(end)),
        _ => "Payment run".to_string(),
    };
    page(
        shell,
        &title,
        html! {
            (error_summary(&data.errors))
            dl.summary {
                dt { "Status" } dd { span.tag { (data.status) } }
                dt { "Total released" } dd { (Gbp(data.total)) }
                dt { "Paid through the bank" } dd { (Gbp(data.bank_total)) }
                dt { "Made by" } dd { (data.made_by) }
                @if let Some(name) = &data.submitted_by { dt { "Submitted by" } dd { (name) } }
                @if let Some(name) = &data.approved_by { dt { "Approved by" } dd { (name) } }
            }
            p {
                @if data.can_submit { (action(data.id, "submit", "Submit for approval", "primary", &data.csrf_token)) }
                @if data.can_approve { (action(data.id, "approve", "Approve and release", "primary", &data.csrf_token)) }
                @if data.can_reject { (action(data.id, "reject", "Reject", "danger", &data.csrf_token)) }
            }
            @if let Some(note) = &data.approve_note { p.notice { (note) } }
            @if data.can_download {
                h2 { "Payment files" }
                ul {
                    li { a href={ "/payment-runs/" (data.id) "/bacs18" } download { "Bacs Standard 18 file" } }
                    li { a href={ "/payment-runs/" (data.id) "/pain001" } download { "ISO 20022 pain.001 file" } }
                }
            }
            (crate::pages::pictures::run_totals(&by_deployment(&data.lines)))
            h2 { "Lines" }
            @if data.lines.is_empty() {
                p { "Nothing is released in this run." }
            } @else {
                table {
                    caption.visually-hidden { "Money released to each account" }
                    thead { tr {
                        th scope="col" { "Budget" } th scope="col" { "Person" } th scope="col" { "Held as" }
                        th.num scope="col" { "Weeks" } th.num scope="col" { "Released" }
                        th.num scope="col" { "Contribution owed" } th.num scope="col" { "Person pays in" }
                        th scope="col" { "Paid to" }
                    } }
                    tbody {
                        @for line in &data.lines {
                            tr {
                                td { a href={ "/budgets/" (line.budget_id) } { (line.reference) } }
                                td { (line.person_name) } td { (line.deployment) }
                                td.num { (line.weeks) } td.num { (Gbp(line.amount)) }
                                td.num { (Gbp(line.contribution_owed)) } td.num { (Gbp(line.contribution_to_pay_in)) }
                                td { (line.paid_to) }
                            }
                        }
                    }
                }
            }
            h2 { "Skipped" }
            @if data.skipped.is_empty() {
                p { "No budget was skipped." }
            } @else {
                table {
                    caption.visually-hidden { "Budgets left out of this run and why" }
                    thead { tr {
                        th scope="col" { "Budget" } th scope="col" { "Person" } th scope="col" { "Held as" }
                        th scope="col" { "Rule" } th scope="col" { "Why" }
                    } }
                    tbody {
                        @for skip in &data.skipped {
                            tr {
                                td { a href={ "/budgets/" (skip.budget_id) } { (skip.reference) } }
                                td { (skip.person_name) } td { (skip.deployment) }
                                td { code { (skip.reason) } } td { (skip.message) }
                            }
                        }
                    }
                }
            }
        },
    )
}
