//! The finance officers' pages: payees with their bank-detail verification queue, contributions
//! (record one for a budget; approve or reject those held), and reversing a payment with a reason.

use chrono::{DateTime, NaiveDate, Utc};
use maud::{html, Markup};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::components::{csrf_field, field_error_summary, Field, FieldError};
use crate::layout::{page, Shell};
use crate::money::Gbp;

fn when(at: DateTime<Utc>) -> String {
    at.format("%-d %b %Y %H:%M").to_string()
}

fn day(date: NaiveDate) -> String {
    date.format("%-d %b %Y").to_string()
}

/// One payee on the list.
#[derive(Debug, Clone)]
pub struct PayeeRow {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub active: bool,
    pub verified: bool,
    /// Masked.
    pub bank: String,
    /// Who changed the details and when, while they wait for verification.
    pub waiting: Option<(String, DateTime<Utc>)>,
    /// The signed-in officer changed them: someone else verifies.
    pub own: bool,
}

pub struct PayeesPage {
    pub rows: Vec<PayeeRow>,
    pub can_verify: bool,
    pub csrf_token: String,
    pub errors: Vec<FieldError>,
}

pub fn payees(shell: &Shell, data: &PayeesPage) -> Markup {
    let waiting = data.rows.iter().filter(|r| !r.verified).count();
    page(
        shell,
        "Payees",
        html! {
            (field_error_summary(&data.errors))
            p { "Payees whose bank details are not verified are not paid. A finance officer other than the one who gave or changed the details checks them (for example with confirmation of payee) and verifies them here." }
            p { strong { (waiting) } " waiting for verification. The log of every change is on " a href="/bank-details" { "Bank details" } "." }
            @if data.rows.is_empty() {
                p { "No payees yet." }
            } @else {
                table {
                    caption.visually-hidden { "Payees, unverified first" }
                    thead { tr {
                        th scope="col" { "Payee" } th scope="col" { "Kind" } th scope="col" { "Bank details" }
                        th scope="col" { "Verified" } th scope="col" { "Changed" }
                        @if data.can_verify { th scope="col" { "Verify" } }
                    } }
                    tbody {
                        @for r in &data.rows {
                            tr id={ "payee-" (r.id) } {
                                td { (r.name) @if !r.active { " " span.tag { "inactive" } } }
                                td { (r.kind) }
                                td { (r.bank) }
                                td { @if r.verified { "Yes" } @else { span.tag.warn { "Not verified" } } }
                                td { @if let Some((by, at)) = &r.waiting { (when(*at)) " by " (by) } }
                                @if data.can_verify {
                                    td {
                                        @if r.waiting.is_some() {
                                            @if r.own {
                                                "You changed these: another finance officer verifies them."
                                            } @else {
                                                form method="post" action={ "/payees/" (r.id) "/verify" } {
                                                    (csrf_field(&data.csrf_token))
                                                    button.primary type="submit" aria-label={ "Verify the bank details of " (r.name) } { "Verify" }
                                                }
                                            }
                                        }
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

/// A budget to choose on the contribution form.
#[derive(Debug, Clone)]
pub struct BudgetChoice {
    pub id: Uuid,
    pub label: String,
}

/// What was typed on the contribution form.
#[derive(Debug, Clone, Default)]
pub struct ContributionFields {
    pub budget_id: String,
    pub amount: String,
    pub received_on: String,
}

#[derive(Debug, Clone)]
pub struct ContributionRow {
    pub id: Uuid,
    pub budget_id: Uuid,
    pub reference: String,
    pub amount: Decimal,
    pub received_on: NaiveDate,
    pub status: &'static str,
    pub hold_reason: Option<String>,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
    /// The signed-in officer recorded it: someone else decides.
    pub own: bool,
}

pub struct ContributionsPage {
    pub budgets: Vec<BudgetChoice>,
    pub fields: ContributionFields,
    pub errors: Vec<FieldError>,
    /// Finance officers record and decide; auditors read.
    pub can_record: bool,
    pub waiting: Vec<ContributionRow>,
    pub recent: Vec<ContributionRow>,
    pub csrf_token: String,
    /// A fresh key per form, so a form sent twice records once.
    pub idempotency_key: String,
    /// What was just done, in words.
    pub notice: Option<String>,
}

fn contribution_cells(r: &ContributionRow) -> Markup {
    html! {
        td { a href={ "/budgets/" (r.budget_id) } { (r.reference) } }
        td.num { (Gbp(r.amount)) }
        td { (day(r.received_on)) }
        td { (r.recorded_by) " · " (when(r.recorded_at)) }
    }
}

pub fn contributions(shell: &Shell, data: &ContributionsPage) -> Markup {
    let e = &data.errors;
    let mut options = vec![(String::new(), "Choose a budget".to_string())];
    options.extend(
        data.budgets
            .iter()
            .map(|b| (b.id.to_string(), b.label.clone())),
    );
    page(
        shell,
        "Contributions",
        html! {
            (field_error_summary(e))
            @if let Some(n) = &data.notice { div.notice role="status" { p { (n) } } }
            @if data.can_record {
                h2 { "Record a contribution" }
                p { "Money the person paid towards their support. It is posted to the budget at once." }
                form method="post" action="/contributions" novalidate {
                    (csrf_field(&data.csrf_token))
                    input type="hidden" name="idempotency_key" value=(data.idempotency_key);
                    (Field { id: "budget_id", label: "Budget", value: &data.fields.budget_id, hint: None, errors: e }.select(&options))
                    (Field { id: "amount", label: "Amount received", value: &data.fields.amount, hint: Some("In pounds, like 45.50"), errors: e }.money())
                    (Field { id: "received_on", label: "Received on", value: &data.fields.received_on, hint: Some("Not a day in the future"), errors: e }.input("date"))
                    button.primary type="submit" { "Record the contribution" }
                }
            }
            h2 { "Waiting for a decision" }
            @if data.waiting.is_empty() {
                p { "Nothing is waiting." }
            } @else {
                table {
                    caption.visually-hidden { "Contributions waiting for a finance officer" }
                    thead { tr {
                        th scope="col" { "Budget" } th.num scope="col" { "Amount" } th scope="col" { "Received" }
                        th scope="col" { "Recorded" } th scope="col" { "Why it waits" }
                        @if data.can_record { th scope="col" { "Decide" } }
                    } }
                    tbody {
                        @for r in &data.waiting {
                            tr {
                                (contribution_cells(r))
                                td { (r.hold_reason.as_deref().unwrap_or("")) }
                                @if data.can_record {
                                    td {
                                        @if r.own {
                                            "You recorded this: another finance officer decides."
                                        } @else {
                                            form.inline method="post" action={ "/contributions/" (r.id) "/approve" } {
                                                (csrf_field(&data.csrf_token))
                                                button.primary type="submit" aria-label={ "Approve the contribution of " (Gbp(r.amount).text()) " to " (r.reference) } { "Approve" }
                                            }
                                            " "
                                            form.inline method="post" action={ "/contributions/" (r.id) "/reject" } {
                                                (csrf_field(&data.csrf_token))
                                                button.secondary type="submit" aria-label={ "Reject the contribution of " (Gbp(r.amount).text()) " to " (r.reference) } { "Reject" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Recorded" }
            @if data.recent.is_empty() {
                p { "None yet." }
            } @else {
                table.contributions {
                    caption.visually-hidden { "Contributions recorded, newest first" }
                    thead { tr {
                        th scope="col" { "Budget" } th.num scope="col" { "Amount" } th scope="col" { "Received" }
                        th scope="col" { "Recorded" } th scope="col" { "Status" }
                    } }
                    tbody {
                        @for r in &data.recent {
                            tr { (contribution_cells(r)) td { span.tag { (r.status) } } }
                        }
                    }
                }
            }
        },
    )
}

/// The payment to reverse, and the form.
pub struct ReversePage {
    pub payment_id: Uuid,
    pub budget_id: Uuid,
    pub payee: String,
    pub category: String,
    pub amount: Decimal,
    pub service_date: NaiveDate,
    pub status: String,
    pub entry_id: Option<Uuid>,
    pub reversed_by: Option<Uuid>,
    pub reason: String,
    pub errors: Vec<FieldError>,
    pub csrf_token: String,
    pub idempotency_key: String,
}

pub fn reverse(shell: &Shell, data: &ReversePage) -> Markup {
    let e = &data.errors;
    page(
        shell,
        "Reverse a payment",
        html! {
            (field_error_summary(e))
            dl.summary {
                dt { "To" } dd { (data.payee) }
                dt { "For" } dd { (data.category) }
                dt { "Amount" } dd { (Gbp(data.amount)) }
                dt { "Service date" } dd { (day(data.service_date)) }
                dt { "Status" } dd { (data.status) }
                @if let Some(entry) = data.entry_id { dt { "Posted as" } dd { a href={ "/entries/" (entry) } { "Ledger entry" } } }
            }
            p { a href={ "/budgets/" (data.budget_id) "/decisions" } { "The budget's decisions" } }
            @if let Some(reversal) = data.reversed_by {
                p { "This payment is reversed: " a href={ "/entries/" (reversal) } { "the reversing entry" } "." }
            } @else if data.entry_id.is_some() {
                p { "Reversing puts the money back in the account with an entry that mirrors the payment, dated today. The reason is kept with it in the ledger." }
                form method="post" action={ "/payments/" (data.payment_id) "/reverse" } novalidate {
                    (csrf_field(&data.csrf_token))
                    input type="hidden" name="idempotency_key" value=(data.idempotency_key);
                    (Field { id: "reason", label: "Why is it reversed?", value: &data.reason, hint: Some("For example: paid twice, or the wrong payee. Up to 400 characters."), errors: e }.textarea())
                    button.danger type="submit" { "Reverse the payment" }
                }
            } @else {
                p { "This payment was not posted, so there is nothing to reverse." }
            }
        },
    )
}
