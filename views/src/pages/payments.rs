//! Payment pages: the approvals queue, the payment form (checked before it is sent), and a
//! budget's decision log.

use chrono::{DateTime, NaiveDate, Utc};
use maud::{html, Markup};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::components::{csrf_field, error_summary, field_error_summary, Field, FieldError};
use crate::layout::{page, Shell};
use crate::money::Gbp;

/// A payment as the pages list it.
#[derive(Debug, Clone)]
pub struct PaymentRow {
    pub id: Uuid,
    pub budget_id: Uuid,
    pub requested_at: DateTime<Utc>,
    pub requested_by: String,
    pub payee: String,
    pub category: &'static str,
    pub amount: Decimal,
    pub status: String,
    /// Why it waits, was refused, or what was noted, in sentences.
    pub reasons: Vec<String>,
}

fn when(at: DateTime<Utc>) -> String {
    at.format("%-d %b %Y %H:%M").to_string()
}

fn status_words(status: &str) -> &'static str {
    match status {
        "posted" => "Paid",
        "pending_approval" => "Waiting for approval",
        "rejected" => "Rejected",
        "expired" => "Expired (money released)",
        "refused" => "Refused",
        _ => "Unknown",
    }
}

/// Held payments the signed-in user could approve.
pub struct ApprovalsPage {
    pub items: Vec<PaymentRow>,
    pub csrf_token: String,
    pub errors: Vec<String>,
}

pub fn approvals(shell: &Shell, data: &ApprovalsPage) -> Markup {
    page(
        shell,
        "Payments waiting for your approval",
        html! {
            (error_summary(&data.errors))
            @if data.items.is_empty() {
                p { "Nothing is waiting for you." }
            } @else {
                table {
                    caption.visually-hidden { "Payments waiting for approval, oldest first" }
                    thead { tr {
                        th scope="col" { "Asked" } th scope="col" { "By" } th scope="col" { "To" }
                        th scope="col" { "For" } th.num scope="col" { "Amount" }
                        th scope="col" { "Why it waits" } th scope="col" { "Decide" }
                    } }
                    tbody {
                        @for p in &data.items {
                            tr {
                                td { (when(p.requested_at)) }
                                td { (p.requested_by) }
                                td { (p.payee) }
                                td { (p.category) }
                                td.num { (Gbp(p.amount)) }
                                td { @for r in &p.reasons { p { (r) } } }
                                td {
                                    form method="post" action={ "/payments/" (p.id) "/approve" } {
                                        (csrf_field(&data.csrf_token))
                                        button.primary type="submit" aria-label={ "Approve " (Gbp(p.amount).text()) " to " (p.payee) } { "Approve" }
                                    }
                                    form method="post" action={ "/payments/" (p.id) "/reject" } {
                                        (csrf_field(&data.csrf_token))
                                        button type="submit" aria-label={ "Reject " (Gbp(p.amount).text()) " to " (p.payee) } { "Reject" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// A budget's decisions, newest first.
pub struct DecisionsPage {
    pub budget_id: Uuid,
    pub budget_reference: String,
    pub items: Vec<PaymentRow>,
    /// Finance officers (and provider staff) may reverse posted payments.
    pub can_reverse: bool,
}

pub fn decisions(shell: &Shell, data: &DecisionsPage) -> Markup {
    page(
        shell,
        &format!("Decisions on budget {}", data.budget_reference),
        html! {
            p { a href={ "/budgets/" (data.budget_id) } { "Back to the budget" } }
            @if data.items.is_empty() {
                p { "No payment has been asked for yet." }
            } @else {
                table {
                    caption.visually-hidden { "Every payment asked for and what was decided, newest first" }
                    thead { tr {
                        th scope="col" { "Asked" } th scope="col" { "By" } th scope="col" { "To" }
                        th scope="col" { "For" } th.num scope="col" { "Amount" }
                        th scope="col" { "Decision" } th scope="col" { "Why" }
                    } }
                    tbody {
                        @for p in &data.items {
                            tr {
                                td { (when(p.requested_at)) }
                                td { (p.requested_by) }
                                td { (p.payee) }
                                td { (p.category) }
                                td.num { (Gbp(p.amount)) }
                                td {
                                    span.tag { (status_words(&p.status)) }
                                    @if data.can_reverse && p.status == "posted" {
                                        " " a href={ "/payments/" (p.id) "/reverse" } {
                                            "Reverse" span.visually-hidden { " the payment of " (Gbp(p.amount).text()) " to " (p.payee) }
                                        }
                                    }
                                }
                                td { @for r in &p.reasons { p { (r) } } }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// One choice of a select.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// The payment form, with the outcome of a check (or of sending it) when there is one.
pub struct PayPage {
    pub budget_id: Uuid,
    pub budget_reference: String,
    pub csrf_token: String,
    pub idempotency_key: String,
    pub payees: Vec<Choice>,
    pub categories: Vec<Choice>,
    pub deployments: Vec<Choice>,
    pub values: PayValues,
    pub errors: Vec<String>,
    /// What the rules would decide, in words: a heading and sentences.
    pub outcome: Option<(String, Vec<String>)>,
    /// The check passed (or would be held): the form may be sent.
    pub may_send: bool,
    /// Refusals beside the fields they concern, in plain words, linked from the summary.
    pub field_errors: Vec<FieldError>,
}

#[derive(Debug, Clone, Default)]
pub struct PayValues {
    pub payee_id: String,
    pub category: String,
    pub deployment: String,
    pub amount: String,
    pub service_date: String,
    pub memo: String,
    pub stay_from: String,
    pub stay_to: String,
}

fn select(
    id: &str,
    label: &str,
    choices: &[Choice],
    chosen: &str,
    errors: &[FieldError],
) -> Markup {
    let options: Vec<(String, String)> = choices
        .iter()
        .map(|c| (c.value.clone(), c.label.clone()))
        .collect();
    Field {
        id,
        label,
        value: chosen,
        hint: None,
        errors,
    }
    .select(&options)
}

fn text_field(
    id: &str,
    label: &str,
    kind: &str,
    value: &str,
    hint: Option<&str>,
    errors: &[FieldError],
) -> Markup {
    Field {
        id,
        label,
        value,
        hint,
        errors,
    }
    .input(kind)
}

pub fn pay(shell: &Shell, data: &PayPage) -> Markup {
    let v = &data.values;
    page(
        shell,
        &format!("Make a payment from budget {}", data.budget_reference),
        html! {
            p { a href={ "/budgets/" (data.budget_id) } { "Back to the budget" } }
            (error_summary(&data.errors))
            (field_error_summary(&data.field_errors))
            @if let Some((heading, sentences)) = &data.outcome {
                section.notice aria-live="polite" {
                    h2 { (heading) }
                    @for s in sentences { p { (s) } }
                }
            }
            form method="post" action={ "/budgets/" (data.budget_id) "/pay" } novalidate {
                (csrf_field(&data.csrf_token))
                input type="hidden" name="idempotency_key" value=(data.idempotency_key);
                @let fe = data.field_errors.as_slice();
                (select("payee_id", "Who is paid", &data.payees, &v.payee_id, fe))
                (select("category", "What it is for", &data.categories, &v.category, fe))
                (select("deployment", "Which money", &data.deployments, &v.deployment, fe))
                (text_field("amount", "Amount in pounds", "text", &v.amount, Some("For example 120.50"), fe))
                (text_field("service_date", "Day of the care or purchase", "date", &v.service_date, None, fe))
                (text_field("memo", "Note (optional)", "text", &v.memo, None, fe))
                (text_field("stay_from", "Care-home stay: first night (respite only)", "date", &v.stay_from, None, fe))
                (text_field("stay_to", "Care-home stay: last night (respite only)", "date", &v.stay_to, None, fe))
                button type="submit" name="action" value="check" { "Check the payment" }
                @if data.may_send {
                    " "
                    button.primary type="submit" name="action" value="send" { "Send the payment" }
                }
            }
        },
    )
}

/// A date for a form field.
pub fn form_date(date: Option<NaiveDate>) -> String {
    date.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}
