//! Browser sessions: the `allot_session` cookie (HttpOnly, SameSite=Lax, Secure over TLS) names a
//! session whose CSRF token every form must send back as `csrf_token`. Before sign-in, the sign-in
//! form is protected by a double-submit cookie (`allot_login_csrf`). A form field holding a control
//! character is refused (400) before the form is read.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::de::DeserializeOwned;

use super::AdminError;
use crate::auth::sessions::{self, TokenKind};
use crate::auth::{token, Actor, Role};
use crate::http::{control_chars, AppState};
use allot_views::{NavItem, Shell};

pub const SESSION_COOKIE: &str = "allot_session";
pub const LOGIN_CSRF_COOKIE: &str = "allot_login_csrf";

/// A signed-in browser user.
#[derive(Debug, Clone)]
pub struct AdminSession {
    pub actor: Actor,
    pub csrf_token: String,
    pub secret: String,
}

impl AdminSession {
    /// The page shell for this user: council, name, navigation by role.
    pub async fn shell(&self, state: &AppState, current: &str) -> Result<Shell, AdminError> {
        let council_id = self.actor.council_id;
        let council_name = state
            .in_tenant_tx(council_id, |tx| {
                Box::pin(async move { crate::auth::councils::name(tx, council_id).await })
            })
            .await?;
        Ok(Shell {
            council_name,
            user_name: self.actor.name.clone(),
            role_label: self.actor.role.label(),
            nav: navigation(self.actor.role),
            current: current.to_string(),
            csrf_token: self.csrf_token.clone(),
        })
    }
}

/// The links each role sees. Later pages add themselves here.
pub fn navigation(role: Role) -> Vec<NavItem> {
    let mut nav = vec![NavItem {
        label: "Dashboard",
        href: "/",
    }];
    if role != Role::BudgetHolder {
        nav.push(NavItem {
            label: "People",
            href: "/people",
        });
    }
    nav.push(NavItem {
        label: "Budgets",
        href: "/budgets",
    });
    if !matches!(
        role,
        Role::FinanceOfficer | Role::Auditor | Role::CouncilAdmin
    ) {
        nav.push(NavItem {
            label: "Approvals",
            href: "/approvals",
        });
    }
    if role == Role::ProviderStaff {
        for (label, href) in [
            ("Invoices", "/invoices"),
            ("Timesheets", "/timesheets"),
            ("Payroll", "/payroll"),
            ("Bank statements", "/bank-statements"),
            ("Returns", "/returns"),
        ] {
            nav.push(NavItem { label, href });
        }
    }
    if matches!(
        role,
        Role::Broker
            | Role::CareManager
            | Role::BudgetHolder
            | Role::Representative
            | Role::CouncilAdmin
    ) {
        nav.push(NavItem {
            label: "Directory",
            href: "/directory",
        });
    }
    if role == Role::CareManager {
        nav.push(NavItem {
            label: "Reviews",
            href: "/reviews",
        });
    }
    if matches!(role, Role::FinanceOfficer | Role::Auditor) {
        nav.push(NavItem {
            label: "Payment runs",
            href: "/payment-runs",
        });
        nav.push(NavItem {
            label: "Bank details",
            href: "/bank-details",
        });
        nav.push(NavItem {
            label: "Payees",
            href: "/payees",
        });
        nav.push(NavItem {
            label: "Contributions",
            href: "/contributions",
        });
        nav.push(NavItem {
            label: "Cards",
            href: "/cards",
        });
        nav.push(NavItem {
            label: "Card exceptions",
            href: "/cards/exceptions",
        });
    }
    if matches!(role, Role::CouncilAdmin | Role::ProviderStaff) {
        nav.push(NavItem {
            label: "Webhooks",
            href: "/webhooks",
        });
    }
    if matches!(
        role,
        Role::CareManager | Role::FinanceOfficer | Role::Auditor
    ) {
        nav.push(NavItem {
            label: "Surplus",
            href: "/surplus",
        });
    }
    if role == Role::Auditor {
        nav.push(NavItem {
            label: "Audit samples",
            href: "/audit/samples",
        });
    }
    if matches!(
        role,
        Role::CareManager | Role::FinanceOfficer | Role::Auditor
    ) {
        nav.push(NavItem {
            label: "Missing evidence",
            href: "/evidence/missing",
        });
    }
    if matches!(role, Role::Auditor | Role::FinanceOfficer) {
        nav.push(NavItem {
            label: "Verify the chain",
            href: "/audit/chain",
        });
    }
    if role == Role::CouncilAdmin {
        for (label, href) in [
            ("Organisations", "/council/organisations"),
            ("Users", "/council/users"),
            ("Policy", "/council/policy"),
            ("Banking", "/council/banking"),
            ("Charging", "/council/charging"),
        ] {
            nav.push(NavItem { label, href });
        }
    }
    if crate::reports::REPORT_ROLES.contains(&role) {
        nav.push(NavItem {
            label: "Returns",
            href: "/reports/delivery-mechanism",
        });
    }
    if role == Role::CouncilAdmin {
        nav.push(NavItem {
            label: "Resource allocation",
            href: "/council/ras",
        });
    }
    nav
}

/// Builds a cookie that ends with the browser session (the server-side expiry still applies).
pub fn cookie(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((name, value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .path("/")
        .build()
}

impl FromRequestParts<AppState> for AdminSession {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AdminError> {
        let jar = CookieJar::from_headers(&parts.headers);
        let secret = jar
            .get(SESSION_COOKIE)
            .map(|c| c.value().to_string())
            .ok_or(AdminError::SignIn)?;
        if secret.len() > 200 {
            return Err(AdminError::SignIn);
        }
        match sessions::find(&state.pool, &secret, TokenKind::Session).await? {
            Some((actor, Some(csrf_token))) => Ok(AdminSession {
                actor,
                csrf_token,
                secret,
            }),
            _ => Err(AdminError::SignIn),
        }
    }
}

/// A form post from a signed-in user, accepted only with the session's CSRF token.
pub struct CsrfForm<T> {
    pub session: AdminSession,
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = AdminError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, AdminError> {
        let (mut parts, body) = req.into_parts();
        let session = AdminSession::from_request_parts(&mut parts, state).await?;
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|_| AdminError::Page {
                status: axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                title: "The form is too large",
                message: "The form sent more than this page accepts.".into(),
            })?;
        let sent = form_field(&bytes, "csrf_token").ok_or_else(AdminError::csrf)?;
        if !token::same(&sent, &session.csrf_token) {
            return Err(AdminError::csrf());
        }
        refuse_control_chars(&bytes)?;
        let form = serde_urlencoded::from_bytes::<T>(&bytes).map_err(|e| AdminError::Page {
            status: axum::http::StatusCode::BAD_REQUEST,
            title: "The form could not be read",
            message: format!("Go back and check the form: {e}."),
        })?;
        Ok(CsrfForm { session, form })
    }
}

/// 400 when a field of a urlencoded form holds a control character (see
/// [`crate::http::control_chars`]), naming the field.
pub fn refuse_control_chars(bytes: &[u8]) -> Result<(), AdminError> {
    match control_chars::find_in_pairs(form_urlencoded::parse(bytes)) {
        None => Ok(()),
        Some((field, found)) => Err(AdminError::Page {
            status: axum::http::StatusCode::BAD_REQUEST,
            title: "The form could not be read",
            message: format!(
                "Go back and check the form: ‘{field}’ {} (U+{:04X}).",
                control_chars::REASON,
                u32::from(found)
            ),
        }),
    }
}

/// One field of a urlencoded form body.
pub fn form_field(bytes: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(bytes)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
