use maud::{html, Markup};

use crate::components::stat;
use crate::layout::{page, Shell};

/// The dashboard: what is waiting for this user, section by section, and (for the council's
/// staff only) the council's headline figures.
#[derive(Debug, Default)]
pub struct Dashboard {
    /// One line saying whose work this is ("What is waiting for you, …").
    pub intro: String,
    /// Council staff: people, organisations and users of the council. Never shown to budget
    /// holders, representatives, brokers or provider staff.
    pub council_figures: Option<CouncilFigures>,
    pub sections: Vec<WorkSection>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct CouncilFigures {
    pub people: i64,
    pub organisations: i64,
    pub users: i64,
}

/// One thing waiting, linked to the page where it is done.
#[derive(Debug, Clone)]
pub struct WorkItem {
    pub label: String,
    pub detail: String,
    pub href: String,
    /// Needs doing soon (a hold about to expire, a review overdue).
    pub urgent: bool,
}

/// A heading of the worklist, its items and what to say when there are none.
#[derive(Debug, Clone)]
pub struct WorkSection {
    pub id: &'static str,
    pub heading: &'static str,
    pub empty: &'static str,
    pub items: Vec<WorkItem>,
    /// A link to the page listing them all, with its words.
    pub more: Option<(&'static str, &'static str)>,
}

pub fn dashboard(shell: &Shell, data: &Dashboard) -> Markup {
    page(
        shell,
        "Dashboard",
        html! {
            p.lead { (data.intro) }
            @if let Some(f) = data.council_figures {
                dl.stats aria-label="The council at a glance" {
                    (stat("People", html! { (f.people) }, Some("/people")))
                    (stat("Organisations", html! { (f.organisations) }, None))
                    (stat("Users", html! { (f.users) }, None))
                }
            }
            @for section in &data.sections {
                section.worklist id=(section.id) aria-labelledby={ (section.id) "-heading" } {
                    h2 id={ (section.id) "-heading" } {
                        (section.heading) " "
                        span.tag.warn[!section.items.is_empty()] {
                            (section.items.len())
                            span.visually-hidden { @if section.items.len() == 1 { " item" } @else { " items" } }
                        }
                    }
                    @if section.items.is_empty() {
                        p.hint { (section.empty) }
                    } @else {
                        ul.worklist {
                            @for item in &section.items {
                                li {
                                    a href=(item.href) { (item.label) }
                                    @if !item.detail.is_empty() {
                                        " — "
                                        @if item.urgent { strong.urgent { (item.detail) } } @else { (item.detail) }
                                    }
                                }
                            }
                        }
                    }
                    @if let Some((href, words)) = section.more {
                        p { a href=(href) { (words) } }
                    }
                }
            }
        },
    )
}
