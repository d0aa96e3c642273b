//! Payment cards: the council's cards with a form to register one, a card's page (its
//! authorisations with their decisions; freeze, unfreeze and cancel), and the finance officers'
//! exceptions list (money the network moved without allot's approval) with a review form.

use maud::{html, Markup};

use crate::components::{csrf_field, error_summary};
use crate::layout::{page, Shell};

/// One card in the list.
#[derive(Debug, Clone)]
pub struct CardRow {
    pub id: String,
    pub last4: String,
    pub reference: String,
    pub deployment: String,
    pub budget_href: String,
    pub status: String,
}

/// What the register form holds (kept as typed when refused).
#[derive(Debug, Clone, Default)]
pub struct CardForm {
    pub account_id: String,
    pub processor_card_ref: String,
    pub cardholder_user_id: String,
    pub last4: String,
}

pub struct CardsPage {
    pub cards: Vec<CardRow>,
    /// Finance officers register cards.
    pub can_register: bool,
    pub form: CardForm,
    pub csrf_token: String,
    pub errors: Vec<String>,
}

fn field(name: &str, label: &str, hint: &str, value: &str) -> Markup {
    html! {
        div.field {
            label for=(name) { (label) }
            @if !hint.is_empty() { span.hint id={ (name) "-hint" } { (hint) } }
            input id=(name) name=(name) type="text" value=(value) aria-describedby={ (name) "-hint" };
        }
    }
}

pub fn cards(shell: &Shell, data: &CardsPage) -> Markup {
    page(
        shell,
        "Cards",
        html! {
            (error_summary(&data.errors))
            p { "Each card spends from one direct-payment or managed-account account; its cardholder's grant on the budget decides what it may buy." }
            p { a href="/cards/exceptions" { "Card exceptions" } " — money the card network moved without allot's approval." }
            @if data.cards.is_empty() {
                p { "No cards yet." }
            } @else {
                table {
                    caption.visually-hidden { "The council's cards" }
                    thead { tr {
                        th scope="col" { "Card" } th scope="col" { "Processor's reference" }
                        th scope="col" { "Money" } th scope="col" { "Status" }
                    } }
                    tbody {
                        @for c in &data.cards {
                            tr {
                                td { a href={ "/cards/" (c.id) } { "•••• " (c.last4) } }
                                td { (c.reference) }
                                td { a href=(c.budget_href) { (c.deployment) } }
                                td { (c.status) }
                            }
                        }
                    }
                }
            }
            @if data.can_register {
                h2 { "Register a card" }
                form method="post" action="/cards" {
                    (csrf_field(&data.csrf_token))
                    (field("account_id", "Account", "The id of the direct-payment or managed-account account the card spends from.", &data.form.account_id))
                    (field("processor_card_ref", "Processor's reference for the card", "As the processor's events name the card.", &data.form.processor_card_ref))
                    (field("cardholder_user_id", "Cardholder", "The id of the user who uses the card.", &data.form.cardholder_user_id))
                    (field("last4", "Last four digits", "", &data.form.last4))
                    button.primary type="submit" { "Register the card" }
                }
            }
        },
    )
}

/// One authorisation on a card's page.
#[derive(Debug, Clone)]
pub struct AuthorizationRow {
    pub when: String,
    pub id: String,
    pub merchant: String,
    pub amount: String,
    /// "Approved", or "Declined: <reason>".
    pub decision: String,
    pub status: String,
    pub notes: String,
    pub payment_href: Option<String>,
}

pub struct CardPage {
    pub id: String,
    pub last4: String,
    pub reference: String,
    pub status: String,
    pub deployment: String,
    pub budget_href: String,
    pub account_href: String,
    pub authorizations: Vec<AuthorizationRow>,
    pub can_change: bool,
    pub csrf_token: String,
    pub errors: Vec<String>,
}

pub fn card(shell: &Shell, data: &CardPage) -> Markup {
    let title = format!("Card ending {}", data.last4);
    page(
        shell,
        &title,
        html! {
            (error_summary(&data.errors))
            dl.summary {
                dt { "Status" } dd { (data.status) }
                dt { "Processor's reference" } dd { (data.reference) }
                dt { "Spends from" } dd { a href=(data.budget_href) { (data.deployment) } " (" a href=(data.account_href) { "account" } ")" }
            }
            @if data.can_change && data.status != "cancelled" {
                div.actions {
                    @if data.status == "active" {
                        form method="post" action={ "/cards/" (data.id) "/freeze" } {
                            (csrf_field(&data.csrf_token))
                            button type="submit" { "Freeze the card" }
                        }
                    } @else {
                        form method="post" action={ "/cards/" (data.id) "/unfreeze" } {
                            (csrf_field(&data.csrf_token))
                            button type="submit" { "Unfreeze the card" }
                        }
                    }
                    form method="post" action={ "/cards/" (data.id) "/cancel" } {
                        (csrf_field(&data.csrf_token))
                        button.warning type="submit" { "Cancel the card for good" }
                    }
                }
            }
            h2 { "Authorisations" }
            @if data.authorizations.is_empty() {
                p { "None yet." }
            } @else {
                table {
                    caption.visually-hidden { "The card's authorisations, newest first" }
                    thead { tr {
                        th scope="col" { "When" } th scope="col" { "Authorisation" }
                        th scope="col" { "Merchant" } th scope="col" { "Amount" }
                        th scope="col" { "Decision" } th scope="col" { "Status" } th scope="col" { "Notes" }
                    } }
                    tbody {
                        @for a in &data.authorizations {
                            tr {
                                td { (a.when) }
                                td { @match &a.payment_href { Some(href) => a href=(href) { (a.id) }, None => (a.id) } }
                                td { (a.merchant) }
                                td.num { (a.amount) }
                                td { (a.decision) }
                                td { (a.status) }
                                td { (a.notes) }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// One exception.
#[derive(Debug, Clone)]
pub struct ExceptionRow {
    pub id: String,
    pub when: String,
    pub kind: String,
    pub card: String,
    pub card_href: String,
    pub authorization_id: String,
    pub merchant: String,
    pub amount: String,
    /// What the rules would have said.
    pub verdict: String,
    pub reviewed: Option<String>,
}

pub struct ExceptionsPage {
    pub items: Vec<ExceptionRow>,
    pub can_review: bool,
    /// The exception whose review was refused, and the note as typed.
    pub failed: Option<(String, String)>,
    pub csrf_token: String,
    pub errors: Vec<String>,
}

pub fn exceptions(shell: &Shell, data: &ExceptionsPage) -> Markup {
    page(
        shell,
        "Card exceptions",
        html! {
            (error_summary(&data.errors))
            p { "Card money the network moved without allot's approval at the time: captures with no authorisation, and authorisations or captures the network approved while allot could not be reached. Each is posted; the verdict is what the spending rules would have said. Review each and note what you found." }
            @if data.items.is_empty() {
                p { "There are no exceptions." }
            } @else {
                table {
                    caption.visually-hidden { "Card exceptions, newest first" }
                    thead { tr {
                        th scope="col" { "When" } th scope="col" { "What" } th scope="col" { "Card" }
                        th scope="col" { "Merchant" } th scope="col" { "Amount" }
                        th scope="col" { "The rules' verdict" } th scope="col" { "Review" }
                    } }
                    tbody {
                        @for e in &data.items {
                            tr {
                                td { (e.when) }
                                td { (e.kind) br; small { (e.authorization_id) } }
                                td { a href=(e.card_href) { (e.card) } }
                                td { (e.merchant) }
                                td.num { (e.amount) }
                                td { (e.verdict) }
                                td {
                                    @if let Some(reviewed) = &e.reviewed {
                                        (reviewed)
                                    } @else if data.can_review {
                                        @let typed = data.failed.as_ref().filter(|(id, _)| *id == e.id).map(|(_, n)| n.as_str()).unwrap_or("");
                                        form method="post" action={ "/cards/exceptions/" (e.id) "/review" } {
                                            (csrf_field(&data.csrf_token))
                                            label for={ "note-" (e.id) } { "Note" }
                                            textarea id={ "note-" (e.id) } name="note" rows="2" { (typed) }
                                            button type="submit" { "Mark reviewed" }
                                        }
                                    } @else {
                                        "Open"
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
