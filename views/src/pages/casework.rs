//! Casework forms: a person, a budget with its direct-payment terms, urgent interim support, a
//! family-payment decision, a change in capacity, and a budget holder's request for their own
//! personal assistant to be paid. Every form keeps what was typed when it is refused, shows each
//! refusal beside its field and links to it from the summary at the top.

use maud::{html, Markup};

use crate::components::{csrf_field, field_error_summary, Field, FieldError};
use crate::layout::{page, Shell};

/// How a field is entered.
#[derive(Debug, Clone)]
pub enum Input {
    Text,
    Date,
    Email,
    Tel,
    Money,
    TextArea,
    /// `(value, label)` choices.
    Select(Vec<(String, String)>),
}

/// One field of a casework form, with what was typed.
#[derive(Debug, Clone)]
pub struct FormField {
    pub id: &'static str,
    pub label: String,
    pub hint: Option<String>,
    pub input: Input,
    pub value: String,
}

impl FormField {
    pub fn new(id: &'static str, label: impl Into<String>, input: Input, value: &str) -> Self {
        Self {
            id,
            label: label.into(),
            hint: None,
            input,
            value: value.to_owned(),
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// A group of fields under a legend (or none).
#[derive(Debug, Clone)]
pub struct FieldGroup {
    pub legend: Option<String>,
    pub fields: Vec<FormField>,
}

/// A casework form page.
#[derive(Debug, Clone)]
pub struct CaseForm {
    pub title: String,
    /// Sentences shown above the form.
    pub intro: Vec<String>,
    /// A confirmation of what was just done, shown above the form.
    pub done: Option<String>,
    /// `(href, text)` of the page this form belongs to.
    pub back: Option<(String, String)>,
    pub action: String,
    pub groups: Vec<FieldGroup>,
    pub submit: String,
    pub errors: Vec<FieldError>,
    pub csrf_token: String,
    /// Lines already recorded (for example earlier decisions), shown after the form.
    pub recorded_heading: Option<String>,
    pub recorded: Vec<String>,
}

fn field(f: &FormField, errors: &[FieldError]) -> Markup {
    let field = Field {
        id: f.id,
        label: &f.label,
        value: &f.value,
        hint: f.hint.as_deref(),
        errors,
    };
    match &f.input {
        Input::Text => field.input("text"),
        Input::Date => field.input("date"),
        Input::Email => field.input("email"),
        Input::Tel => field.input("tel"),
        Input::Money => field.money(),
        Input::TextArea => field.textarea(),
        Input::Select(options) => field.select(options),
    }
}

pub fn case_form(shell: &Shell, data: &CaseForm) -> Markup {
    page(
        shell,
        &data.title,
        html! {
            @if let Some((href, text)) = &data.back { p { a href=(href) { (text) } } }
            (field_error_summary(&data.errors))
            @if let Some(done) = &data.done {
                div.notice role="status" { p { (done) } }
            }
            @for sentence in &data.intro { p { (sentence) } }
            form method="post" action=(data.action) novalidate {
                (csrf_field(&data.csrf_token))
                @for group in &data.groups {
                    @if let Some(legend) = &group.legend {
                        fieldset {
                            legend { (legend) }
                            @for f in &group.fields { (field(f, &data.errors)) }
                        }
                    } @else {
                        @for f in &group.fields { (field(f, &data.errors)) }
                    }
                }
                p { button.primary type="submit" { (data.submit) } }
            }
            @if let Some(heading) = &data.recorded_heading {
                h2 { (heading) }
                @if data.recorded.is_empty() {
                    p { "None yet." }
                } @else {
                    ul { @for line in &data.recorded { li { (line) } } }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_form_keeps_what_was_typed_and_links_the_error() {
        let shell = Shell {
            council_name: "C".into(),
            user_name: "U".into(),
            role_label: "Care manager",
            nav: Vec::new(),
            current: "/people".into(),
            csrf_token: "t".into(),
        };
        let html = case_form(
            &shell,
            &CaseForm {
                title: "Add a person".into(),
                intro: Vec::new(),
                done: None,
                back: None,
                action: "/people/new".into(),
                groups: vec![FieldGroup {
                    legend: None,
                    fields: vec![FormField::new("name", "Full name", Input::Text, "<Ann>")],
                }],
                submit: "Add".into(),
                errors: vec![FieldError::new("name", "Enter a name")],
                csrf_token: "t".into(),
                recorded_heading: None,
                recorded: Vec::new(),
            },
        )
        .into_string();
        assert!(html.contains("value=\"&lt;Ann&gt;\""), "{html}");
        assert!(html.contains("href=\"#name\""), "{html}");
        assert!(html.contains("id=\"name-error\""), "{html}");
    }
}
