use maud::{html, Markup};

use crate::components::{csrf_field, error_summary};
use crate::layout::bare;

/// What the sign-in page shows.
#[derive(Debug, Default)]
pub struct LoginForm {
    pub email: String,
    pub errors: Vec<String>,
    pub csrf_token: String,
}

pub fn login(form: &LoginForm) -> Markup {
    bare(
        "Sign in",
        html! {
            (error_summary(&form.errors))
            form method="post" action="/login" novalidate {
                (csrf_field(&form.csrf_token))
                div.field {
                    label for="email" { "Email address" }
                    input #email type="email" name="email" autocomplete="username" required value=(form.email);
                }
                div.field {
                    label for="password" { "Password" }
                    input #password type="password" name="password" autocomplete="current-password" required;
                }
                button.primary type="submit" { "Sign in" }
            }
        },
    )
}
