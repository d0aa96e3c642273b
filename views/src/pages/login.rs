use maud::{html, Markup};

use crate::components::{csrf_field, error_summary};
use crate::layout::bare;

/// What the sign-in page shows.
#[derive(Debug, Default)]
pub struct LoginForm {
    pub email: String,
    /// The council the person named (its id), if any.
    pub council: String,
    /// When the email and password fit users of several councils: those councils (id, name),
    /// offered to choose among.
    pub councils: Vec<(String, String)>,
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
                @if form.councils.is_empty() {
                    div.field {
                        label for="council" { "Council (optional)" }
                        p.hint { "Only if your email address is used in more than one council: that council's id." }
                        input #council type="text" name="council" autocomplete="off" value=(form.council);
                    }
                } @else {
                    div.field {
                        label for="council" { "Council" }
                        p.hint { "Your email address is used in more than one council. Choose the one to sign in to." }
                        select #council name="council" required {
                            @for (id, name) in &form.councils {
                                option value=(id) selected[*id == form.council] { (name) }
                            }
                        }
                    }
                }
                button.primary type="submit" { "Sign in" }
            }
        },
    )
}
