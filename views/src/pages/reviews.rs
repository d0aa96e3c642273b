use chrono::NaiveDate;
use maud::{html, Markup};
use uuid::Uuid;

use crate::layout::{page, Shell};

/// An open review in the care manager's list.
#[derive(Debug, Clone)]
pub struct ReviewListRow {
    pub budget_id: Uuid,
    pub reference: String,
    pub person_name: String,
    pub kind: String,
    pub due_on: NaiveDate,
}

fn table_of(caption: &str, rows: &[ReviewListRow]) -> Markup {
    html! {
        @if rows.is_empty() {
            p { "None." }
        } @else {
            table {
                caption.visually-hidden { (caption) }
                thead { tr { th scope="col" { "Due" } th scope="col" { "Person" } th scope="col" { "Budget" } th scope="col" { "Review" } } }
                tbody {
                    @for row in rows {
                        tr {
                            td { (row.due_on.format("%-d %B %Y")) }
                            td { (row.person_name) }
                            td { a href={ "/budgets/" (row.budget_id) } { (row.reference) } }
                            td { (row.kind) }
                        }
                    }
                }
            }
        }
    }
}

/// Reviews overdue and due in the next four weeks. Overdue reviews never stop care.
pub fn reviews(shell: &Shell, overdue: &[ReviewListRow], due: &[ReviewListRow]) -> Markup {
    page(
        shell,
        "Reviews",
        html! {
            h2 { "Overdue" }
            (table_of("Reviews past their date", overdue))
            h2 { "Due in the next four weeks" }
            (table_of("Reviews due soon", due))
        },
    )
}
