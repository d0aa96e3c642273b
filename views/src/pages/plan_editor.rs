use maud::{html, Markup};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::components::{csrf_field, error_summary};
use crate::layout::{page, Shell};
use crate::money::Gbp;

/// The support-plan editor: one row per line (blank rows to add more).
#[derive(Debug, Clone, Default)]
pub struct PlanEditor {
    pub budget_id: Uuid,
    pub reference: String,
    pub person_name: String,
    pub annual_cost: Decimal,
    pub rows: Vec<EditorRow>,
    /// (value, label) choices.
    pub categories: Vec<(&'static str, &'static str)>,
    pub deployments: Vec<(&'static str, &'static str)>,
    /// (id, label) of organisations that can hold money.
    pub holders: Vec<(Uuid, String)>,
    /// (value, label) of the directory's priced cost options a line may buy.
    pub services: Vec<(String, String)>,
    pub cash_allowed: bool,
    pub errors: Vec<String>,
    pub csrf_token: String,
}

/// One row as entered (kept as text so a mistake can be shown back).
#[derive(Debug, Clone, Default)]
pub struct EditorRow {
    pub category: String,
    pub need: String,
    pub weekly_amount: String,
    pub deployment: String,
    pub holder: String,
    /// The directory cost option picked (a value of `PlanEditor::services`), or empty.
    pub service: String,
    /// Units of the cost option a week.
    pub units: String,
    /// How the weekly amount was worked out from the service, when it was.
    pub worked_out: Option<String>,
}

pub fn plan_editor(shell: &Shell, data: &PlanEditor) -> Markup {
    let title = format!("Support plan — {}", data.person_name);
    page(
        shell,
        &title,
        html! {
            (error_summary(&data.errors))
            p {
                "Budget " a href={ "/budgets/" (data.budget_id) } { (data.reference) } ": "
                (Gbp(data.annual_cost)) " a year. Saving makes a new draft; a care manager approves it."
            }
            p.hint { "Leave a row's need empty to drop it. Managed accounts and ISFs need the organisation holding the money." }
            p.hint { "A line may buy a service from the directory: pick the service and its price, and the units a week. The amount a week is then the price × the units (leave the amount empty)." }
            form method="post" action={ "/budgets/" (data.budget_id) "/plan" } novalidate {
                (csrf_field(&data.csrf_token))
                @for (index, row) in data.rows.iter().enumerate() {
                    fieldset.plan-line {
                        legend { "Line " (index + 1) }
                        div.field {
                            label for={ "category_" (index) } { "Category" }
                            select id={ "category_" (index) } name={ "category_" (index) } {
                                @for (value, label) in &data.categories {
                                    option value=(value) selected[row.category == *value] { (label) }
                                }
                            }
                        }
                        div.field {
                            label for={ "need_" (index) } { "Need this meets" }
                            input type="text" id={ "need_" (index) } name={ "need_" (index) } value=(row.need);
                        }
                        div.field {
                            label for={ "service_" (index) } { "Directory service and price" }
                            select id={ "service_" (index) } name={ "service_" (index) } {
                                option value="" selected[row.service.is_empty()] { "None" }
                                @if !row.service.is_empty() && !data.services.iter().any(|(v, _)| *v == row.service) {
                                    option value=(row.service) selected { "As drafted (no longer offered)" }
                                }
                                @for (value, label) in &data.services {
                                    option value=(value) selected[row.service == *value] { (label) }
                                }
                            }
                        }
                        div.field {
                            label for={ "units_" (index) } { "Units a week" }
                            input type="text" inputmode="decimal" id={ "units_" (index) } name={ "units_" (index) } value=(row.units);
                        }
                        @if let Some(worked_out) = &row.worked_out {
                            p.hint id={ "worked_out_" (index) } { (worked_out) }
                        }
                        div.field {
                            label for={ "weekly_" (index) } { "Amount a week (£)" }
                            input type="text" inputmode="decimal" id={ "weekly_" (index) } name={ "weekly_" (index) } value=(row.weekly_amount);
                        }
                        div.field {
                            label for={ "deployment_" (index) } { "How the money is held" }
                            select id={ "deployment_" (index) } name={ "deployment_" (index) } {
                                @for (value, label) in &data.deployments {
                                    option value=(value) selected[row.deployment == *value] { (label) }
                                }
                            }
                        }
                        div.field {
                            label for={ "holder_" (index) } { "Organisation holding it" }
                            select id={ "holder_" (index) } name={ "holder_" (index) } {
                                option value="" selected[row.holder.is_empty()] { "None (person or council)" }
                                @for (id, label) in &data.holders {
                                    @let value = id.to_string();
                                    option value=(value) selected[row.holder == value] { (label) }
                                }
                            }
                        }
                    }
                }
                div.field {
                    label for="cash_allowed" {
                        input type="checkbox" id="cash_allowed" name="cash_allowed" value="yes" checked[data.cash_allowed];
                        " Cash withdrawals allowed"
                    }
                }
                button.primary type="submit" { "Save draft" }
            }
        },
    )
}
