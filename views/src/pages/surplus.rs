//! Surplus monitoring: the list with a server-rendered chart of weeks of funding (and the same
//! figures as a table), the notice form, and the notice letter with its reconsideration and
//! decision forms. The letter's text is printed exactly as stored, with its SHA-256.

use chrono::NaiveDate;
use maud::{html, Markup};
use uuid::Uuid;

use crate::charts::{bar_chart, Bar, BarChart, BarRow};
use crate::components::{csrf_field, error_summary};
use crate::layout::{page, Shell};

/// One account on the surplus list.
#[derive(Debug, Clone)]
pub struct SurplusRow {
    pub budget_id: Uuid,
    pub account_id: Uuid,
    pub reference: String,
    pub person_name: String,
    pub deployment: String,
    pub balance: String,
    pub weekly_amount: String,
    /// Weeks of funding as a number for the chart (none without a weekly amount).
    pub weeks: Option<f64>,
    pub weeks_text: String,
    pub commitments: String,
    pub threshold_weeks: u32,
    pub surplus: String,
    pub has_surplus: bool,
}

/// A notice on the list.
#[derive(Debug, Clone)]
pub struct NoticeRow {
    pub id: Uuid,
    pub reference: String,
    pub amount: String,
    pub deadline: NaiveDate,
    pub status: &'static str,
}

pub struct SurplusPage {
    pub as_of: NaiveDate,
    pub rows: Vec<SurplusRow>,
    pub notices: Vec<NoticeRow>,
    /// Finance officers may issue notices.
    pub can_issue: bool,
}

/// A horizontal bar per account: its weeks of funding, with a mark at its threshold.
fn chart(rows: &[SurplusRow]) -> Markup {
    let charted: Vec<&SurplusRow> = rows.iter().filter(|r| r.weeks.is_some()).collect();
    let max = charted
        .iter()
        .map(|r| r.weeks.unwrap_or(0.0).max(f64::from(r.threshold_weeks)))
        .fold(1.0_f64, f64::max)
        .ceil();
    let over = charted.iter().filter(|r| r.has_surplus).count();
    let mut description = format!(
        "{} accounts charted; {over} above their threshold. ",
        charted.len()
    );
    for r in &charted {
        description.push_str(&format!(
            "{} {}: {} weeks, threshold {} weeks. ",
            r.reference, r.deployment, r.weeks_text, r.threshold_weeks
        ));
    }
    let bars: Vec<BarRow> = charted
        .iter()
        .map(|r| BarRow {
            label: format!("{} {}", r.reference, r.deployment),
            bars: vec![Bar {
                value: r.weeks.unwrap_or(0.0),
                text: r.weeks_text.clone(),
                class: if r.has_surplus { "over" } else { "" },
            }],
            mark: Some(f64::from(r.threshold_weeks)),
        })
        .collect();
    html! {
        @if charted.is_empty() {
            p { "No account has a weekly amount to chart." }
        } @else {
            (bar_chart(&BarChart {
                id: "chart",
                class: "",
                title: "Weeks of funding per account",
                description,
                rows: &bars,
                label_width: 220,
                bar_width: 460,
                bar_height: 20,
                axis: Some(("0 weeks".to_string(), format!("{max} weeks"))),
                max: Some(max),
            }))
            p.hint { "Bars in red are above their threshold (the black mark)." }
        }
    }
}

pub fn surplus(shell: &Shell, data: &SurplusPage) -> Markup {
    page(
        shell,
        "Surplus",
        html! {
            form method="get" action="/surplus" {
                label for="as_of" { "Balances at the end of" }
                input #as_of name="as_of" type="date" value=(data.as_of);
                " " button.secondary type="submit" { "Show" }
            }
            h2 { "Weeks of funding" }
            (chart(&data.rows))
            table {
                caption { "Accounts, balances and surplus on " (data.as_of.format("%-d %B %Y")) }
                thead { tr {
                    th scope="col" { "Budget" } th scope="col" { "Person" } th scope="col" { "Account" }
                    th scope="col" { "Balance" } th scope="col" { "Weekly" } th scope="col" { "Weeks" }
                    th scope="col" { "Commitments" } th scope="col" { "Threshold (weeks)" }
                    th scope="col" { "Surplus" }
                    @if data.can_issue { th scope="col" { span.visually-hidden { "Action" } } }
                } }
                tbody {
                    @for r in &data.rows {
                        tr {
                            td { a href={ "/budgets/" (r.budget_id) } { (r.reference) } }
                            td { (r.person_name) }
                            td { (r.deployment) }
                            td { (r.balance) } td { (r.weekly_amount) } td { (r.weeks_text) }
                            td { (r.commitments) } td { (r.threshold_weeks) } td { (r.surplus) }
                            @if data.can_issue {
                                td { @if r.has_surplus {
                                    a href={ "/budgets/" (r.budget_id) "/surplus-notices/new?account_id=" (r.account_id) } {
                                        "Issue a notice" span.visually-hidden { " for " (r.reference) " " (r.deployment) }
                                    }
                                } }
                            }
                        }
                    }
                }
            }
            h2 { "Notices" }
            @if data.notices.is_empty() { p { "None." } } @else {
                table {
                    caption.visually-hidden { "Surplus notices" }
                    thead { tr { th scope="col" { "Budget" } th scope="col" { "Amount" } th scope="col" { "Deadline" } th scope="col" { "Status" } } }
                    tbody { @for n in &data.notices { tr {
                        td { a href={ "/surplus-notices/" (n.id) } { (n.reference) } }
                        td { (n.amount) } td { (n.deadline.format("%-d %B %Y")) } td { (n.status) }
                    } } }
                }
            }
        },
    )
}

/// The notice form (finance officers): what was typed is kept on refusal.
pub struct NoticeForm {
    pub budget_id: Uuid,
    pub account_id: Uuid,
    pub reference: String,
    pub deployment: String,
    pub surplus: String,
    pub amount: String,
    pub reasons: String,
    pub errors: Vec<String>,
    pub csrf_token: String,
}

pub fn notice_form(shell: &Shell, data: &NoticeForm) -> Markup {
    page(
        shell,
        "Issue a surplus notice",
        html! {
            (error_summary(&data.errors))
            p { "Budget " (data.reference) ", " (data.deployment) ": surplus now " (data.surplus) "." }
            form method="post" action={ "/budgets/" (data.budget_id) "/surplus-notices" } {
                (csrf_field(&data.csrf_token))
                input type="hidden" name="account_id" value=(data.account_id);
                label for="amount" { "Amount to recover" }
                p.hint #amount-hint { "At most the surplus." }
                input #amount name="amount" inputmode="decimal" aria-describedby="amount-hint" value=(data.amount) required;
                label for="reasons" { "Reasons, in plain words" }
                textarea #reasons name="reasons" rows="5" maxlength="2000" required { (data.reasons) }
                p { button.primary type="submit" { "Issue the notice" } }
            }
        },
    )
}

/// One thing that happened to a notice.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub at: String,
    pub what: String,
    pub text: Option<String>,
}

pub struct NoticePage {
    pub id: Uuid,
    pub status: &'static str,
    pub letter: String,
    pub letter_sha256: String,
    pub events: Vec<EventRow>,
    /// The person, a representative or the holder's staff, while it can be reconsidered.
    pub can_ask: bool,
    /// Another care manager or finance officer, while a reconsideration is open.
    pub can_decide: bool,
    /// A finance officer, while something is left to recover (the service checks the deadline,
    /// any open reconsideration and the commitments).
    pub can_recover: bool,
    /// The recovery's idempotency key: sending the form twice recovers once.
    pub recover_key: String,
    pub grounds: String,
    pub outcome: String,
    pub amount: String,
    pub reasons: String,
    pub errors: Vec<String>,
    pub csrf_token: String,
}

pub fn notice(shell: &Shell, data: &NoticePage) -> Markup {
    page(
        shell,
        "Surplus notice",
        html! {
            p.no-print { "Status: " strong { (data.status) } ". " "Print this page for the letter." }
            (error_summary(&data.errors))
            div.letter { (data.letter) }
            p.hint { "SHA-256 of the letter as sent: " span.letter-hash { (data.letter_sha256) } }
            div.no-print {
                h2 { "What has happened" }
                ul { @for e in &data.events { li { (e.at) ": " (e.what) @if let Some(t) = &e.text { " — " (t) } } } }
                @if data.can_ask {
                    h2 { "Ask us to reconsider" }
                    form method="post" action={ "/surplus-notices/" (data.id) "/reconsideration" } {
                        (csrf_field(&data.csrf_token))
                        label for="grounds" { "Why the amount is wrong" }
                        textarea #grounds name="grounds" rows="5" maxlength="2000" required { (data.grounds) }
                        p { button.primary type="submit" { "Ask us to reconsider" } }
                    }
                }
                @if data.can_recover {
                    h2 { "Recover the surplus" }
                    p { "After the deadline, and unless a reconsideration is open, the amount owed is moved from the "
                        "account to the council's recovered funds. Money needed for what the account has already "
                        "committed (holds, approved invoices, payroll due) is never taken: any shortfall is recorded." }
                    form method="post" action={ "/surplus-notices/" (data.id) "/recover" } {
                        (csrf_field(&data.csrf_token))
                        input type="hidden" name="idempotency_key" value=(data.recover_key);
                        p { button.primary type="submit" { "Recover now" } }
                    }
                }
                @if data.can_decide {
                    h2 { "Decide the reconsideration" }
                    form method="post" action={ "/surplus-notices/" (data.id) "/decision" } {
                        (csrf_field(&data.csrf_token))
                        fieldset {
                            legend { "Outcome" }
                            @for (value, label) in [("upheld", "Upheld"), ("reduced", "Reduced"), ("withdrawn", "Withdrawn")] {
                                div {
                                    input type="radio" id={ "outcome-" (value) } name="outcome" value=(value) checked[data.outcome == value];
                                    label for={ "outcome-" (value) } { (label) }
                                }
                            }
                        }
                        label for="amount" { "Reduced amount (only when reduced)" }
                        input #amount name="amount" inputmode="decimal" value=(data.amount);
                        label for="reasons" { "Reasons" }
                        textarea #reasons name="reasons" rows="4" maxlength="2000" required { (data.reasons) }
                        p { button.primary type="submit" { "Record the decision" } }
                    }
                }
            }
        },
    )
}
