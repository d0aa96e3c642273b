use maud::{html, Markup};

use crate::components::stat;
use crate::layout::{page, Shell};

/// Figures for the council dashboard.
#[derive(Debug, Default)]
pub struct Dashboard {
    pub people: i64,
    pub organisations: i64,
    pub users: i64,
    /// Role-specific lines of guidance ("what needs you today").
    pub notes: Vec<String>,
    /// Care managers and council administrators: open reviews past their date or due now
    /// (budget id, reference, person, due date in words, why).
    pub reviews_due: Vec<DueReview>,
    /// Whether each review links to its completion form (care managers) or to the budget.
    pub can_complete_reviews: bool,
}

/// A review on the care manager's dashboard.
#[derive(Debug, Clone)]
pub struct DueReview {
    pub budget_id: uuid::Uuid,
    pub reference: String,
    pub person_name: String,
    pub due: String,
    pub why: Vec<String>,
}

pub fn dashboard(shell: &Shell, data: &Dashboard) -> Markup {
    page(
        shell,
        "Dashboard",
        html! {
            dl.stats {
                (stat("People", html! { (data.people) }, Some("/people")))
                (stat("Organisations", html! { (data.organisations) }, None))
                (stat("Users", html! { (data.users) }, None))
            }
            @if !data.reviews_due.is_empty() {
                h2 { "Reviews overdue or due now" }
                table {
                    caption.visually-hidden { "Reviews overdue" }
                    thead { tr { th scope="col" { "Due" } th scope="col" { "Person" } th scope="col" { "Budget" } th scope="col" { "Why" } } }
                    tbody { @for r in &data.reviews_due { tr {
                        td { (r.due) } td { (r.person_name) }
                        td {
                            @if data.can_complete_reviews {
                                a href={ "/budgets/" (r.budget_id) "/review" } { (r.reference) }
                            } @else {
                                a href={ "/budgets/" (r.budget_id) } { (r.reference) }
                            }
                        }
                        td { @for w in &r.why { (w) br; } }
                    } } }
                }
            }
            @if !data.notes.is_empty() {
                h2 { "For you" }
                ul { @for note in &data.notes { li { (note) } } }
            }
        },
    )
}
