use chrono::NaiveDate;
use maud::{html, Markup};
use uuid::Uuid;

use crate::layout::{page, Shell};

/// A row of the people list.
#[derive(Debug, Clone)]
pub struct PersonRow {
    pub id: Uuid,
    pub name: String,
    pub date_of_birth: NaiveDate,
    pub has_capacity: bool,
    pub excluded_from_direct_payments: bool,
}

pub fn people(shell: &Shell, rows: &[PersonRow], can_add: bool) -> Markup {
    page(
        shell,
        "People",
        html! {
            @if can_add { p { a href="/people/new" { "Add a person" } } }
            @if rows.is_empty() {
                p { "There is nobody here you can see yet." }
            } @else {
                table {
                    caption.visually-hidden { "People whose budgets you can see" }
                    thead { tr {
                        th scope="col" { "Name" }
                        th scope="col" { "Date of birth" }
                        th scope="col" { "Mental capacity (finances)" }
                        th scope="col" { "Direct payments" }
                    } }
                    tbody {
                        @for row in rows {
                            tr {
                                td { a href={ "/people/" (row.id) } { (row.name) } }
                                td { (row.date_of_birth.format("%-d %B %Y")) }
                                td { @if row.has_capacity { "Has capacity" } @else { "Lacks capacity" } }
                                td { @if row.excluded_from_direct_payments { strong { "Excluded" } } @else { "Allowed" } }
                            }
                        }
                    }
                }
            }
        },
    )
}
