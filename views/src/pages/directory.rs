//! The service directory: search by words, taxonomy term and distance from a postcode.

use maud::{html, Markup};

use crate::components::error_summary;
use crate::layout::{page, Shell};

/// What was searched for, as typed.
#[derive(Debug, Clone, Default)]
pub struct DirectoryFilters {
    pub search: String,
    pub taxonomy_term: String,
    pub near_postcode: String,
    pub within_km: String,
}

/// One service found.
#[derive(Debug, Clone)]
pub struct DirectoryRow {
    pub name: String,
    pub organisation: Option<String>,
    pub description: String,
    /// "24.50 per hour (Weekday)" and the like.
    pub costs: Vec<String>,
    pub places: Vec<String>,
    pub terms: Vec<String>,
    pub distance_km: Option<f64>,
}

pub struct DirectoryPage {
    pub filters: DirectoryFilters,
    pub rows: Vec<DirectoryRow>,
    pub total_items: i64,
    pub page: i64,
    pub total_pages: i64,
    pub errors: Vec<String>,
    /// The query string of the same search without the page (for the page links).
    pub query: String,
}

pub fn directory(shell: &Shell, data: &DirectoryPage) -> Markup {
    let f = &data.filters;
    page(
        shell,
        "Service directory",
        html! {
            (error_summary(&data.errors))
            form method="get" action="/directory" role="search" {
                label for="search" { "Words" }
                input id="search" name="search" value=(f.search) maxlength="200";
                label for="taxonomy_term" { "Kind of service (taxonomy term)" }
                input id="taxonomy_term" name="taxonomy_term" value=(f.taxonomy_term) maxlength="200";
                label for="near_postcode" { "Near postcode (of a place in the directory)" }
                input id="near_postcode" name="near_postcode" value=(f.near_postcode) maxlength="10" autocomplete="postal-code";
                label for="within_km" { "Within (km)" }
                input id="within_km" name="within_km" value=(f.within_km) inputmode="decimal" maxlength="6";
                button type="submit" { "Search" }
            }
            @if data.errors.is_empty() {
                p { (data.total_items) " service" @if data.total_items != 1 { "s" } " found." }
                @if !data.rows.is_empty() {
                    table {
                        caption.visually-hidden { "Services found" }
                        thead { tr {
                            th scope="col" { "Service" }
                            th scope="col" { "Costs (indicative)" }
                            th scope="col" { "Where" }
                            th scope="col" { "Kind" }
                        } }
                        tbody {
                            @for row in &data.rows {
                                tr {
                                    td {
                                        strong { (row.name) }
                                        @if let Some(org) = &row.organisation { br; (org) }
                                        @if !row.description.is_empty() { br; (row.description) }
                                    }
                                    td { @for cost in &row.costs { (cost) br; } }
                                    td {
                                        @for place in &row.places { (place) br; }
                                        @if let Some(km) = row.distance_km { (format!("{km:.1} km away")) }
                                    }
                                    td { (row.terms.join(", ")) }
                                }
                            }
                        }
                    }
                }
                @if data.total_pages > 1 {
                    nav aria-label="Pages of results" {
                        p {
                            "Page " (data.page) " of " (data.total_pages) ". "
                            @if data.page > 1 {
                                a href={ "/directory?" (data.query) "&page=" (data.page - 1) } { "Previous page" } " "
                            }
                            @if data.page < data.total_pages {
                                a href={ "/directory?" (data.query) "&page=" (data.page + 1) } { "Next page" }
                            }
                        }
                    }
                }
            }
        },
    )
}
