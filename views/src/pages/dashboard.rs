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
            @if !data.notes.is_empty() {
                h2 { "For you" }
                ul { @for note in &data.notes { li { (note) } } }
            }
        },
    )
}
