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
    /// The demo: its shared password and each user (role, name, email, what to try).
    pub demo: Option<DemoList>,
}

#[derive(Debug, Clone, Default)]
pub struct DemoList {
    pub password: String,
    pub users: Vec<(String, String, String, String)>,
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
            @if let Some(demo) = &form.demo {
                section.demo aria-labelledby="demo-users" {
                    h2 id="demo-users" { "Try the demo" }
                    p { "Every demo user's password is " code { (demo.password) } ". Sign in as any of them:" }
                    table {
                        caption.visually-hidden { "Demo users and what each can try" }
                        thead { tr { th scope="col" { "Who" } th scope="col" { "Email address" } th scope="col" { "What to try" } } }
                        tbody { @for (role, name, email, try_this) in &demo.users { tr {
                            td { (name) br; span.hint { (role) } }
                            td { code { (email) } }
                            td { (try_this) }
                        } } }
                    }
                }
            }
        },
    )
}
