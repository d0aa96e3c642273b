use chrono::NaiveDate;
use maud::{html, Markup};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::layout::{page, Shell};
use crate::money::Gbp;

/// A row of the budgets list.
#[derive(Debug, Clone)]
pub struct BudgetListRow {
    pub id: Uuid,
    pub reference: String,
    pub person_id: Uuid,
    pub person_name: String,
    pub kind: &'static str,
    pub cost: Decimal,
    pub plan: String,
    pub next_review: Option<NaiveDate>,
    pub review_overdue: bool,
}

pub fn budgets(shell: &Shell, rows: &[BudgetListRow], can_add: bool) -> Markup {
    page(
        shell,
        "Budgets",
        html! {
            @if can_add { p { a href="/budgets/new" { "Add a budget" } } }
            @if rows.is_empty() {
                p { "There are no budgets you can see." }
            } @else {
                table {
                    caption.visually-hidden { "Budgets you can see" }
                    thead { tr {
                        th scope="col" { "Reference" } th scope="col" { "Person" } th scope="col" { "Kind" }
                        th.num scope="col" { "Cost a year" } th scope="col" { "Plan" } th scope="col" { "Next review" }
                    } }
                    tbody {
                        @for row in rows {
                            tr {
                                td { a href={ "/budgets/" (row.id) } { (row.reference) } }
                                td { a href={ "/people/" (row.person_id) } { (row.person_name) } }
                                td { (row.kind) }
                                td.num { (Gbp(row.cost)) }
                                td { (row.plan) }
                                td {
                                    @if let Some(due) = row.next_review {
                                        (due.format("%-d %b %Y"))
                                        @if row.review_overdue { " " strong.tag.bad { "Overdue" } }
                                    } @else { "—" }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}
