//! Assessments and carers on the person's page, and the council's Resource Allocation System.

use maud::{html, Markup};
use uuid::Uuid;

use crate::components::{csrf_field, field_error_summary, Field, FieldError};
use crate::layout::{page, Shell};

/// One need domain of the RAS as the assessment form offers it.
#[derive(Debug, Clone, Default)]
pub struct DomainChoice {
    pub name: String,
    pub label: String,
    pub max_points: u32,
    /// "£10.00 a point".
    pub price: String,
}

/// One stored assessment with how its amount was worked out.
#[derive(Debug, Clone, Default)]
pub struct AssessmentRow {
    pub date: String,
    pub kind: &'static str,
    pub ras_version: i32,
    pub indicative_weekly: String,
    /// "Managing and maintaining nutrition: 4 × £10.00 = £40.00".
    pub workings: Vec<String>,
    pub notes: String,
}

/// The assessments and carers part of a person's page.
#[derive(Debug, Clone, Default)]
pub struct AssessmentsSection {
    pub person_id: Uuid,
    pub csrf_token: String,
    /// Care managers see the forms.
    pub can_edit: bool,
    pub ras_version: i32,
    pub domains: Vec<DomainChoice>,
    /// What was typed: points by domain name, notes, kind.
    pub points: Vec<(String, String)>,
    pub notes: String,
    pub kind: String,
    pub assessments: Vec<AssessmentRow>,
    pub cares_for: Vec<(Uuid, String)>,
    pub carers: Vec<(Uuid, String)>,
    /// (id, name) of the people who could be recorded as this person's carer.
    pub carer_choices: Vec<(String, String)>,
    pub carer_typed: String,
    pub errors: Vec<FieldError>,
}

fn people_list(people: &[(Uuid, String)]) -> Markup {
    html! {
        ul {
            @for (id, name) in people {
                li { a href={ "/people/" (id) } { (name) } }
            }
        }
    }
}

/// The section (its forms' error summary goes at the top of the page: `PersonPage::errors`).
pub fn assessments_section(data: &AssessmentsSection) -> Markup {
    let typed = |name: &str| {
        data.points
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    html! {
        h2 id="carers" { "Carers" }
        @if data.carers.is_empty() && data.cares_for.is_empty() {
            p { "No carer is recorded." }
        }
        @if !data.carers.is_empty() {
            h3 { "Cared for by" }
            (people_list(&data.carers))
        }
        @if !data.cares_for.is_empty() {
            h3 { "Cares for" }
            (people_list(&data.cares_for))
        }
        @if data.can_edit {
            form method="post" action={ "/people/" (data.person_id) "/carers" } novalidate {
                (csrf_field(&data.csrf_token))
                (Field { id: "carer_person_id", label: "Record a carer of this person", value: &data.carer_typed,
                         hint: Some("The carer must already be recorded as a person."), errors: &data.errors }
                    .select(&data.carer_choices))
                button type="submit" { "Record carer" }
            }
        }
        h2 id="assessments" { "Assessments" }
        @if data.assessments.is_empty() {
            p { "No assessment is recorded." }
        } @else {
            table {
                caption.visually-hidden { "Assessments" }
                thead { tr {
                    th scope="col" { "Date" } th scope="col" { "Kind" } th scope="col" { "RAS version" }
                    th.num scope="col" { "Indicative amount a week" } th scope="col" { "How it was worked out" }
                } }
                tbody {
                    @for row in &data.assessments {
                        tr {
                            td { (row.date) }
                            td { (row.kind) }
                            td { (row.ras_version) }
                            td.num { (row.indicative_weekly) }
                            td {
                                ul { @for w in &row.workings { li { (w) } } }
                                @if !row.notes.is_empty() { p { (row.notes) } }
                            }
                        }
                    }
                }
            }
        }
        @if data.can_edit {
            h3 { "Record an assessment" }
            p.hint { "Points for each need under RAS version " (data.ras_version) "; leave a need empty for no points." }
            form method="post" action={ "/people/" (data.person_id) "/assessments" } novalidate {
                (csrf_field(&data.csrf_token))
                (Field { id: "kind", label: "Whose needs", value: &data.kind, hint: None, errors: &data.errors }
                    .select(&[("needs".to_owned(), "The person's needs".to_owned()),
                              ("carer".to_owned(), "A carer's needs (a carer's budget)".to_owned())]))
                @for d in &data.domains {
                    @let id = format!("points_{}", d.name);
                    @let label = format!("{} (0 to {} points)", d.label, d.max_points);
                    (Field { id: &id, label: &label, value: typed(&d.name), hint: Some(&d.price), errors: &data.errors }
                        .input("text"))
                }
                (Field { id: "notes", label: "Notes", value: &data.notes, hint: None, errors: &data.errors }.textarea())
                button.primary type="submit" { "Record assessment" }
            }
        }
    }
}

/// One row of the RAS form (kept as typed).
#[derive(Debug, Clone, Default)]
pub struct RasRow {
    pub name: String,
    pub label: String,
    pub max_points: String,
    pub price: String,
}

/// The council's RAS: the version shown, the versions, and (for administrators) a form for a new one.
#[derive(Debug, Clone, Default)]
pub struct RasPage {
    pub version: i32,
    pub current_version: i32,
    pub reason: Option<String>,
    pub made: Option<String>,
    /// (name, label, max points, price a point) of the version shown.
    pub domains: Vec<(String, String, u32, String)>,
    pub versions: Vec<(i32, String)>,
    pub can_edit: bool,
    pub rows: Vec<RasRow>,
    pub price_per_point: String,
    pub change_reason: String,
    pub errors: Vec<FieldError>,
    pub csrf_token: String,
}

pub fn ras_page(shell: &Shell, data: &RasPage) -> Markup {
    page(
        shell,
        "Resource Allocation System",
        html! {
            (field_error_summary(&data.errors))
            p {
                "Version " (data.version)
                @if data.version == data.current_version { " (in force)" }
                @if let Some(made) = &data.made { ", " (made) }
                @if let Some(reason) = &data.reason { ": " (reason) }
                "."
            }
            table {
                caption { "Need domains of version " (data.version) }
                thead { tr {
                    th scope="col" { "Name" } th scope="col" { "Need" }
                    th.num scope="col" { "Points" } th.num scope="col" { "Price a point" }
                } }
                tbody {
                    @for (name, label, max, price) in &data.domains {
                        tr { td { (name) } td { (label) } td.num { "0 to " (max) } td.num { (price) } }
                    }
                }
            }
            h2 { "Versions" }
            ul {
                @for (version, when) in &data.versions {
                    li { a href={ "/council/ras?version=" (version) } { "Version " (version) } " — " (when) }
                }
            }
            @if data.can_edit {
                h2 { "Make a new version" }
                p.hint { "One need a row; leave a row's name empty to drop it. A need without its own price uses the price for every need." }
                form method="post" action="/council/ras" novalidate {
                    (csrf_field(&data.csrf_token))
                    @for (index, row) in data.rows.iter().enumerate() {
                        fieldset {
                            legend { "Need " (index + 1) }
                            @let (name, label, max, price) = (format!("name_{index}"), format!("label_{index}"),
                                format!("max_{index}"), format!("price_{index}"));
                            (Field { id: &name, label: "Name (lower-case letters, digits and _)", value: &row.name, hint: None, errors: &data.errors }.input("text"))
                            (Field { id: &label, label: "Label", value: &row.label, hint: None, errors: &data.errors }.input("text"))
                            (Field { id: &max, label: "Most points", value: &row.max_points, hint: None, errors: &data.errors }.input("text"))
                            (Field { id: &price, label: "Price a point (£, optional)", value: &row.price, hint: None, errors: &data.errors }.money())
                        }
                    }
                    (Field { id: "price_per_point", label: "Price a point for every need without its own (£)", value: &data.price_per_point, hint: None, errors: &data.errors }.money())
                    (Field { id: "reason", label: "Why it changes", value: &data.change_reason, hint: None, errors: &data.errors }.textarea())
                    button.primary type="submit" { "Save as a new version" }
                }
            }
        },
    )
}
