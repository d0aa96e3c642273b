use chrono::NaiveDate;
use maud::{html, Markup};
use uuid::Uuid;

use crate::components::{csrf_field, error_summary};
use crate::layout::{page, Shell};

/// An open review in the care manager's list.
#[derive(Debug, Clone)]
pub struct ReviewListRow {
    pub budget_id: Uuid,
    pub reference: String,
    pub person_name: String,
    pub kind: String,
    pub due_on: NaiveDate,
    /// What made it due now, in words.
    pub triggers: Vec<String>,
}

fn table_of(caption: &str, rows: &[ReviewListRow]) -> Markup {
    html! {
        @if rows.is_empty() {
            p { "None." }
        } @else {
            table {
                caption.visually-hidden { (caption) }
                thead { tr { th scope="col" { "Due" } th scope="col" { "Person" } th scope="col" { "Budget" } th scope="col" { "Review" } th scope="col" { "Why now" } th scope="col" { span.visually-hidden { "Action" } } } }
                tbody {
                    @for row in rows {
                        tr {
                            td { (row.due_on.format("%-d %B %Y")) }
                            td { (row.person_name) }
                            td { a href={ "/budgets/" (row.budget_id) } { (row.reference) } }
                            td { (row.kind) }
                            td { @for t in &row.triggers { (t) br; } }
                            td { a href={ "/budgets/" (row.budget_id) "/review" } { "Complete" span.visually-hidden { " the review of " (row.reference) } } }
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

/// The form completing a budget's open review; what was typed is kept on refusal.
pub struct CompleteForm {
    pub budget_id: Uuid,
    pub reference: String,
    pub person_name: String,
    pub due_on: NaiveDate,
    pub triggers: Vec<String>,
    pub outcome: String,
    pub notes: String,
    pub next_review_on: String,
    pub errors: Vec<String>,
    pub csrf_token: String,
}

pub fn complete_form(shell: &Shell, data: &CompleteForm) -> Markup {
    page(
        shell,
        "Complete a review",
        html! {
            (error_summary(&data.errors))
            p { (data.person_name) ", budget " a href={ "/budgets/" (data.budget_id) } { (data.reference) }
                ": review due " (data.due_on.format("%-d %B %Y")) "." }
            @if !data.triggers.is_empty() {
                h2 { "Why it is due now" }
                ul { @for t in &data.triggers { li { (t) } } }
            }
            form method="post" action={ "/budgets/" (data.budget_id) "/review" } {
                (csrf_field(&data.csrf_token))
                fieldset {
                    legend { "Outcome" }
                    @for (value, label) in [("continue", "Continue as planned"), ("change_plan", "Change the plan"), ("end_direct_payment", "End the direct payment")] {
                        div {
                            input type="radio" id={ "outcome-" (value) } name="outcome" value=(value) checked[data.outcome == value];
                            label for={ "outcome-" (value) } { (label) }
                        }
                    }
                }
                label for="notes" { "Notes" }
                textarea #notes name="notes" rows="6" maxlength="4000" { (data.notes) }
                label for="next_review_on" { "Next review (optional)" }
                p.hint #next-hint { "At most 12 months from today; 12 months when left empty." }
                input #next_review_on name="next_review_on" type="date" aria-describedby="next-hint" value=(data.next_review_on);
                p { button.primary type="submit" { "Complete the review" } }
            }
        },
    )
}
