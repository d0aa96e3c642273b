//! The page shell: skip link, header with the council and the signed-in user, navigation by role,
//! main content, and a sign-out form carrying the CSRF token.

use maud::{html, Markup, DOCTYPE};

/// One link in the navigation.
#[derive(Debug, Clone)]
pub struct NavItem {
    pub label: &'static str,
    pub href: &'static str,
}

/// What every signed-in page shows around its content.
#[derive(Debug, Clone)]
pub struct Shell {
    pub council_name: String,
    pub user_name: String,
    pub role_label: &'static str,
    pub nav: Vec<NavItem>,
    /// The path of the current page, to mark its link.
    pub current: String,
    pub csrf_token: String,
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " — allot" }
            link rel="stylesheet" href="/static/allot.css";
        }
    }
}

/// A signed-in page.
pub fn page(shell: &Shell, title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en-GB" {
            (head(title))
            body {
                a.skip-link href="#main" { "Skip to main content" }
                header.site-header {
                    div.brand { a href="/" { "allot" } span.council { (shell.council_name) } }
                    div.who {
                        span { (shell.user_name) } " · " span.role { (shell.role_label) }
                        form.inline method="post" action="/logout" {
                            input type="hidden" name="csrf_token" value=(shell.csrf_token);
                            button.link type="submit" { "Sign out" }
                        }
                    }
                }
                nav.site-nav aria-label="Main" {
                    ul {
                        @for item in &shell.nav {
                            @let current = shell.current == item.href
                                || (item.href != "/" && shell.current.starts_with(item.href));
                            li { a href=(item.href) aria-current=[current.then_some("page")] { (item.label) } }
                        }
                    }
                }
                main #main tabindex="-1" {
                    h1 { (title) }
                    (content)
                }
            }
        }
    }
}

/// A page for someone not signed in (sign-in, errors).
pub fn bare(title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en-GB" {
            (head(title))
            body {
                a.skip-link href="#main" { "Skip to main content" }
                header.site-header { div.brand { a href="/" { "allot" } } }
                main #main.narrow tabindex="-1" {
                    h1 { (title) }
                    (content)
                }
            }
        }
    }
}
