//! Bank details waiting for a finance officer's verification, with a verify button each.

use chrono::{DateTime, Utc};
use maud::{html, Markup};
use uuid::Uuid;

use crate::components::{csrf_field, error_summary};
use crate::layout::{page, Shell};

/// One change of bank details, already masked.
#[derive(Debug, Clone)]
pub struct BankChangeRow {
    pub id: Uuid,
    /// "Direct payment", "Payee", "Organisation".
    pub subject: &'static str,
    pub subject_name: String,
    /// A page about the subject, when there is one.
    pub subject_href: Option<String>,
    /// The details before (masked), or none when they were first given.
    pub old: Option<String>,
    pub new: String,
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
    /// Changed by the signed-in officer: someone else verifies it.
    pub own: bool,
}

pub struct BankChangesPage {
    pub items: Vec<BankChangeRow>,
    /// Finance officers verify; auditors only read.
    pub can_verify: bool,
    pub csrf_token: String,
    pub errors: Vec<String>,
}

pub fn bank_changes(shell: &Shell, data: &BankChangesPage) -> Markup {
    page(
        shell,
        "Bank details to verify",
        html! {
            (error_summary(&data.errors))
            p { "Changed bank details are not paid until a finance officer other than the one who changed them has checked them (for example with confirmation of payee or a letter from the bank) and verified them here." }
            @if data.items.is_empty() {
                p { "Nothing is waiting." }
            } @else {
                table {
                    caption.visually-hidden { "Bank details waiting for verification, newest first" }
                    thead { tr {
                        th scope="col" { "Changed" } th scope="col" { "By" } th scope="col" { "For" }
                        th scope="col" { "Before" } th scope="col" { "Now" }
                        @if data.can_verify { th scope="col" { "Verify" } }
                    } }
                    tbody {
                        @for c in &data.items {
                            tr {
                                td { (c.changed_at.format("%-d %b %Y %H:%M")) }
                                td { (c.changed_by) }
                                td {
                                    (c.subject) ": "
                                    @match &c.subject_href {
                                        Some(href) => a href=(href) { (c.subject_name) },
                                        None => (c.subject_name),
                                    }
                                }
                                td { (c.old.as_deref().unwrap_or("None (first given)")) }
                                td { (c.new) }
                                @if data.can_verify {
                                    td {
                                        @if c.own {
                                            "You changed these: another finance officer verifies them."
                                        } @else {
                                            form method="post" action={ "/bank-details/" (c.id) "/verify" } {
                                                (csrf_field(&data.csrf_token))
                                                button.primary type="submit" aria-label={ "Verify the bank details of " (c.subject_name) } { "Verify" }
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
