use maud::{html, Markup};

use crate::layout::bare;

/// An error page with a heading, a sentence, and a way back.
pub fn error(title: &str, message: &str) -> Markup {
    bare(
        title,
        html! {
            p { (message) }
            p { a href="/" { "Go to the dashboard" } }
        },
    )
}
