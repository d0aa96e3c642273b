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

/// One refusal tied to a form field: `field` is the input's `id`, so the
/// summary links to it and the message is shown beside it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The error summary for a form whose refusals name their fields: each
/// message links to its field. Messages without a field are listed as text.
/// It takes the focus when the page loads, so keyboard and screen-reader users
/// start from what went wrong.
pub fn field_error_summary(errors: &[FieldError]) -> Markup {
    html! {
        @if !errors.is_empty() {
            div.error-summary role="alert" tabindex="-1" autofocus {
                h2 { "There is a problem" }
                ul {
                    @for e in errors {
                        li {
                            @if e.field.is_empty() { (e.message) }
                            @else { a href={ "#" (e.field) } { (e.message) } }
                        }
                    }
                }
            }
        }
    }
}

/// What a field needs to be drawn: its id/name, label, what was typed, an
/// optional hint, and the refusal for it (if any) from `errors`.
pub struct Field<'a> {
    pub id: &'a str,
    pub label: &'a str,
    pub value: &'a str,
    pub hint: Option<&'a str>,
    pub errors: &'a [FieldError],
}

impl Field<'_> {
    fn error(&self) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == self.id)
            .map(|e| e.message.as_str())
    }

    fn described_by(&self) -> Option<String> {
        let mut ids = Vec::new();
        if self.hint.is_some() {
            ids.push(format!("{}-hint", self.id));
        }
        if self.error().is_some() {
            ids.push(format!("{}-error", self.id));
        }
        (!ids.is_empty()).then(|| ids.join(" "))
    }

    fn head(&self) -> Markup {
        html! {
            label for=(self.id) { (self.label) }
            @if let Some(h) = self.hint { p.hint id={ (self.id) "-hint" } { (h) } }
            @if let Some(e) = self.error() {
                p.field-error id={ (self.id) "-error" } { span.visually-hidden { "Error: " } (e) }
            }
        }
    }

    /// A text input (`kind` is the input type: text, date, email, number…).
    pub fn input(&self, kind: &str) -> Markup {
        let invalid = self.error().is_some();
        html! {
            div.field.field--error[invalid] {
                (self.head())
                input id=(self.id) name=(self.id) type=(kind) value=(self.value)
                    aria-describedby=[self.described_by()] aria-invalid=[invalid.then_some("true")];
            }
        }
    }

    /// A money input: text with a decimal keypad.
    pub fn money(&self) -> Markup {
        let invalid = self.error().is_some();
        html! {
            div.field.field--error[invalid] {
                (self.head())
                input id=(self.id) name=(self.id) type="text" inputmode="decimal" value=(self.value)
                    aria-describedby=[self.described_by()] aria-invalid=[invalid.then_some("true")];
            }
        }
    }

    /// A multi-line text box.
    pub fn textarea(&self) -> Markup {
        let invalid = self.error().is_some();
        html! {
            div.field.field--error[invalid] {
                (self.head())
                textarea id=(self.id) name=(self.id) rows="4"
                    aria-describedby=[self.described_by()] aria-invalid=[invalid.then_some("true")] { (self.value) }
            }
        }
    }

    /// A drop-down of `(value, label)` options with the typed value selected.
    pub fn select(&self, options: &[(String, String)]) -> Markup {
        let invalid = self.error().is_some();
        html! {
            div.field.field--error[invalid] {
                (self.head())
                select id=(self.id) name=(self.id)
                    aria-describedby=[self.described_by()] aria-invalid=[invalid.then_some("true")] {
                    @for (value, label) in options {
                        option value=(value) selected[value == self.value] { (label) }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_field_keeps_what_was_typed_and_shows_its_error_beside_it() {
        let errors = vec![FieldError::new("amount", "Enter an amount like 12.50")];
        let html = Field {
            id: "amount",
            label: "Amount",
            value: "12.505<b>",
            hint: Some("In pounds"),
            errors: &errors,
        }
        .money()
        .into_string();
        assert!(html.contains("value=\"12.505&lt;b&gt;\""), "{html}");
        assert!(html.contains("id=\"amount-error\""), "{html}");
        assert!(
            html.contains("aria-describedby=\"amount-hint amount-error\""),
            "{html}"
        );
        assert!(html.contains("aria-invalid=\"true\""), "{html}");
        let summary = field_error_summary(&errors).into_string();
        assert!(summary.contains("href=\"#amount\""), "{summary}");
    }

    #[test]
    fn a_field_without_a_refusal_is_plain() {
        let html = Field {
            id: "name",
            label: "Name",
            value: "",
            hint: None,
            errors: &[FieldError::new("other", "x")],
        }
        .input("text")
        .into_string();
        assert!(!html.contains("aria-invalid"), "{html}");
        assert!(!html.contains("field--error"), "{html}");
    }
}
