use chrono::NaiveDate;
use maud::{html, Markup};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::layout::{page, Shell};
use crate::money::Gbp;

/// A person's page: their record, how to reach them, and their budgets.
#[derive(Debug, Clone, Default)]
pub struct PersonPage {
    pub id: Uuid,
    pub name: String,
    pub date_of_birth: Option<NaiveDate>,
    pub has_capacity: bool,
    pub excluded_from_direct_payments: bool,
    /// (label, value) pairs of contact details that are recorded.
    pub contact: Vec<(&'static str, String)>,
    pub preferred_contact: Option<&'static str>,
    pub communication_formats: Vec<&'static str>,
    pub language: Option<String>,
    pub communication_notes: Option<String>,
    pub budgets: Vec<PersonBudgetRow>,
    /// Refusals of the page's forms, summarised at the top.
    pub errors: Vec<crate::components::FieldError>,
    /// Assessments and carers (council staff), after the budgets.
    pub assessments: Option<Markup>,
    /// `(href, text)` of what the viewer may do for the person (care managers' casework).
    pub actions: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct PersonBudgetRow {
    pub id: Uuid,
    pub reference: String,
    pub kind: &'static str,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub cost: Decimal,
    pub plan: String,
}

pub fn person(shell: &Shell, data: &PersonPage) -> Markup {
    page(
        shell,
        &data.name,
        html! {
            (crate::components::field_error_summary(&data.errors))
            @if !data.actions.is_empty() {
                ul.actions {
                    @for (href, text) in &data.actions { li { a href=(href) { (text) } } }
                }
            }
            dl.summary {
                @if let Some(dob) = data.date_of_birth {
                    dt { "Date of birth" } dd { (dob.format("%-d %B %Y")) }
                }
                dt { "Mental capacity (finances)" }
                dd { @if data.has_capacity { "Has capacity" } @else { "Lacks capacity" } }
                dt { "Direct payments" }
                dd { @if data.excluded_from_direct_payments { strong.tag.bad { "Excluded" } } @else { "Allowed" } }
            }
            h2 { "Contact" }
            @if data.contact.is_empty() {
                p { "No contact details are recorded." }
            } @else {
                dl.summary {
                    @for (label, value) in &data.contact { dt { (label) } dd { (value) } }
                    @if let Some(preferred) = data.preferred_contact { dt { "Prefers" } dd { (preferred) } }
                }
            }
            h2 { "Communication" }
            @if data.communication_formats.is_empty() && data.language.is_none() && data.communication_notes.is_none() {
                p { "No accessible-communication needs are recorded." }
            } @else {
                dl.summary {
                    @if !data.communication_formats.is_empty() {
                        dt { "Formats" } dd { (data.communication_formats.join(", ")) }
                    }
                    @if let Some(language) = &data.language { dt { "Language" } dd { (language) } }
                    @if let Some(notes) = &data.communication_notes { dt { "Notes" } dd { (notes) } }
                }
            }
            h2 { "Budgets" }
            @if data.budgets.is_empty() {
                p { "No budget is recorded." }
            } @else {
                table {
                    caption.visually-hidden { "Budgets of " (data.name) }
                    thead { tr {
                        th scope="col" { "Reference" } th scope="col" { "Kind" } th scope="col" { "From" }
                        th scope="col" { "To" } th.num scope="col" { "Cost a year" } th scope="col" { "Plan" }
                    } }
                    tbody {
                        @for row in &data.budgets {
                            tr {
                                td { a href={ "/budgets/" (row.id) } { (row.reference) } }
                                td { (row.kind) }
                                td { (row.start_date.format("%-d %b %Y")) }
                                td { @if let Some(end) = row.end_date { (end.format("%-d %b %Y")) } @else { "Ongoing" } }
                                td.num { (Gbp(row.cost)) }
                                td { (row.plan) }
                            }
                        }
                    }
                }
            }
            @if let Some(section) = &data.assessments { (section) }
        },
    )
}
