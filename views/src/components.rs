//! Small pieces shared by pages.

use maud::{html, Markup};

/// An error summary at the top of a form, announced to screen readers.
pub fn error_summary(messages: &[String]) -> Markup {
    html! {
        @if !messages.is_empty() {
            div.error-summary role="alert" tabindex="-1" {
                h2 { "There is a problem" }
                ul { @for m in messages { li { (m) } } }
            }
        }
    }
}

/// A hidden CSRF field for a form.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf_token" value=(token); }
}

/// A labelled summary figure on a dashboard.
pub fn stat(label: &str, value: Markup, href: Option<&str>) -> Markup {
    html! {
        div.stat {
            dt { (label) }
            dd { @if let Some(href) = href { a href=(href) { (value) } } @else { (value) } }
        }
    }
}
