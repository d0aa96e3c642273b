//! A budget's decision-making agreement: who may pay and approve, how each important decision is
//! made in plain words, and (for care managers) the form to record a grant.

use chrono::NaiveDate;
use maud::{html, Markup};
use uuid::Uuid;

use crate::components::{csrf_field, error_summary};
use crate::layout::{page, Shell};
use crate::pages::payments::Choice;

#[derive(Debug, Clone)]
pub struct GrantRow {
    pub id: Uuid,
    pub party: String,
    pub acting_as: &'static str,
    pub powers: String,
    pub categories: String,
    /// The money the grant covers, in words ("the direct payment").
    pub deployments: String,
    pub max_per_payment: String,
    pub cosign_above: Option<String>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    /// "In force", or why not, in words.
    pub state: String,
    pub in_force: bool,
    pub ended: bool,
}

/// One important decision and how it is made.
#[derive(Debug, Clone)]
pub struct DecisionWords {
    pub title: &'static str,
    pub sentences: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct GrantValues {
    pub user_id: String,
    pub acting_as: String,
    pub pay: bool,
    pub approve: bool,
    pub category: String,
    /// One deployment, or empty for the party's usual money.
    pub deployment: String,
    pub max_per_payment: String,
    pub cosign_above: String,
    pub valid_from: String,
    pub valid_to: String,
    pub lpa_registered: bool,
    pub court_order_ref: String,
}

pub struct AgreementPage {
    pub budget_id: Uuid,
    pub budget_reference: String,
    pub person_name: String,
    pub grants: Vec<GrantRow>,
    pub decisions: Vec<DecisionWords>,
    pub can_edit: bool,
    pub csrf_token: String,
    pub parties: Vec<Choice>,
    pub acting_as: Vec<Choice>,
    pub categories: Vec<Choice>,
    pub deployments: Vec<Choice>,
    pub values: GrantValues,
    pub errors: Vec<String>,
}

fn day(date: NaiveDate) -> String {
    date.format("%-d %b %Y").to_string()
}

fn select(id: &str, label: &str, choices: &[Choice], chosen: &str) -> Markup {
    html! {
        div.field {
            label for=(id) { (label) }
            select id=(id) name=(id) {
                @for c in choices {
                    option value=(c.value) selected[c.value == chosen] { (c.label) }
                }
            }
        }
    }
}

fn text(id: &str, label: &str, kind: &str, value: &str, hint: Option<&str>) -> Markup {
    html! {
        div.field {
            label for=(id) { (label) }
            @if let Some(hint) = hint { p.hint { (hint) } }
            input type=(kind) id=(id) name=(id) value=(value);
        }
    }
}

fn check(id: &str, label: &str, checked: bool) -> Markup {
    html! {
        div.field.checkbox {
            input type="checkbox" id=(id) name=(id) value="yes" checked[checked];
            label for=(id) { (label) }
        }
    }
}

pub fn agreement(shell: &Shell, data: &AgreementPage) -> Markup {
    let v = &data.values;
    page(
        shell,
        &format!("Decision-making agreement — {}", data.person_name),
        html! {
            p { a href={ "/budgets/" (data.budget_id) } { "Back to budget " (data.budget_reference) } }
            h2 { "How decisions are made" }
            @for d in &data.decisions {
                h3 { (d.title) }
                @for s in &d.sentences { p { (s) } }
            }
            h2 { "Who may pay and approve" }
            @if data.grants.is_empty() {
                p { "Nobody has been given authority yet." }
            } @else {
                table {
                    caption.visually-hidden { "Grants of the agreement, oldest first" }
                    thead { tr {
                        th scope="col" { "Who" } th scope="col" { "Acting as" } th scope="col" { "May" }
                        th scope="col" { "For" } th scope="col" { "Money" }
                        th.num scope="col" { "Up to a payment" }
                        th.num scope="col" { "Second person above" } th scope="col" { "Dates" }
                        th scope="col" { "State" }
                        @if data.can_edit { th scope="col" { "End" } }
                    } }
                    tbody {
                        @for g in &data.grants {
                            tr {
                                td { (g.party) }
                                td { (g.acting_as) }
                                td { (g.powers) }
                                td { (g.categories) }
                                td { (g.deployments) }
                                td.num { "£" (g.max_per_payment) }
                                td.num { @if let Some(c) = &g.cosign_above { "£" (c) } @else { "—" } }
                                td { "From " (day(g.valid_from)) @if let Some(to) = g.valid_to { " to " (day(to)) } }
                                td { span.tag { (g.state) } }
                                @if data.can_edit {
                                    td {
                                        @if !g.ended {
                                            form method="post" action={ "/budgets/" (data.budget_id) "/agreement/" (g.id) "/end" } {
                                                (csrf_field(&data.csrf_token))
                                                button type="submit" aria-label={ "End the grant of " (g.party) } { "End" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if data.can_edit {
                h2 { "Record a grant" }
                (error_summary(&data.errors))
                form method="post" action={ "/budgets/" (data.budget_id) "/agreement" } novalidate {
                    (csrf_field(&data.csrf_token))
                    (select("user_id", "Who", &data.parties, &v.user_id))
                    (select("acting_as", "Acting as", &data.acting_as, &v.acting_as))
                    fieldset {
                        legend { "May" }
                        (check("pay", "Make payments", v.pay))
                        (check("approve", "Approve other people's payments", v.approve))
                    }
                    (select("category", "For", &data.categories, &v.category))
                    (select("deployment", "Money it covers", &data.deployments, &v.deployment))
                    (text("max_per_payment", "Largest single payment, in pounds", "text", &v.max_per_payment, None))
                    (text("cosign_above", "A second person must agree above (optional)", "text", &v.cosign_above, None))
                    (text("valid_from", "From", "date", &v.valid_from, None))
                    (text("valid_to", "Until (optional)", "date", &v.valid_to, None))
                    (check("lpa_registered", "Attorney: the property and financial affairs LPA is registered", v.lpa_registered))
                    (text("court_order_ref", "Deputy: Court of Protection order reference", "text", &v.court_order_ref, None))
                    button.primary type="submit" { "Record the grant" }
                }
            }
        },
    )
}
