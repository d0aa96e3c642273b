//! Sign-in and sign-out pages.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;

use super::session::{
    cookie, form_field, refuse_control_chars, CsrfForm, LOGIN_CSRF_COOKIE, SESSION_COOKIE,
};
use super::{AdminError, AdminResult};
use crate::auth::sessions::{self, Attempt, LoginError, TokenKind};
use crate::auth::token;
use crate::http::auth::PeerAddress;
use crate::http::AppState;
use allot_views::pages::login::{login, DemoList, LoginForm};

/// The demo's users and what each can try, when allot runs the demo.
fn demo_list(state: &AppState) -> Option<DemoList> {
    state.settings.demo_sign_ins.as_ref().map(|demo| DemoList {
        password: demo.password.clone(),
        users: demo
            .users
            .iter()
            .map(|u| {
                (
                    u.role.to_owned(),
                    u.name.clone(),
                    u.email.clone(),
                    u.try_this.to_owned(),
                )
            })
            .collect(),
    })
}

/// The sign-in form, with a fresh double-submit CSRF cookie.
pub async fn show(State(state): State<AppState>, jar: CookieJar) -> Response {
    let csrf = token::generate();
    let jar = jar.add(cookie(
        LOGIN_CSRF_COOKIE,
        csrf.clone(),
        state.settings.secure_cookies,
    ));
    let form = LoginForm {
        csrf_token: csrf,
        demo: demo_list(&state),
        ..Default::default()
    };
    (jar, login(&form)).into_response()
}

/// Checks the form, signs in, and sets the session cookie.
pub async fn submit(
    State(state): State<AppState>,
    PeerAddress(peer): PeerAddress,
    jar: CookieJar,
    body: Bytes,
) -> AdminResult<Response> {
    let sent_csrf = form_field(&body, "csrf_token").unwrap_or_default();
    let cookie_csrf = jar
        .get(LOGIN_CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    if sent_csrf.is_empty() || !token::same(&sent_csrf, &cookie_csrf) {
        return Err(AdminError::csrf());
    }
    refuse_control_chars(&body)?;
    let email = form_field(&body, "email").unwrap_or_default();
    let password = form_field(&body, "password").unwrap_or_default();
    let council_text = form_field(&body, "council").unwrap_or_default();
    let again = |status: StatusCode, message: String, councils: Vec<(String, String)>| {
        let form = LoginForm {
            email: email.clone(),
            council: council_text.trim().to_string(),
            councils,
            errors: vec![message],
            csrf_token: sent_csrf.clone(),
            demo: demo_list(&state),
        };
        Ok((status, login(&form)).into_response())
    };
    if email.trim().is_empty() || password.is_empty() {
        return again(
            StatusCode::BAD_REQUEST,
            "Enter your email address and password.".into(),
            Vec::new(),
        );
    }
    let council = match council_text.trim() {
        "" => None,
        text => match text.parse::<uuid::Uuid>() {
            Ok(id) => Some(id),
            Err(_) => {
                return again(
                    StatusCode::BAD_REQUEST,
                    "The council is not right: leave it empty, or give the council's id.".into(),
                    Vec::new(),
                )
            }
        },
    };
    let attempt = Attempt {
        email: &email,
        password: &password,
        kind: TokenKind::Session,
        peer,
        now: state.clock.now(),
        council,
    };
    match sessions::login(&state.pool, &state.settings, &state.sign_in, attempt).await {
        Ok(issued) => {
            let jar = jar
                .add(cookie(
                    SESSION_COOKIE,
                    issued.secret,
                    state.settings.secure_cookies,
                ))
                .remove(LOGIN_CSRF_COOKIE);
            Ok((jar, Redirect::to("/")).into_response())
        }
        Err(e @ LoginError::InvalidCredentials) => {
            again(StatusCode::UNAUTHORIZED, e.to_string(), Vec::new())
        }
        Err(e @ (LoginError::TooManyAttempts | LoginError::Busy)) => {
            again(StatusCode::TOO_MANY_REQUESTS, e.to_string(), Vec::new())
        }
        Err(ref e @ LoginError::CouncilRequired { ref councils }) => {
            let choices = councils
                .iter()
                .map(|(id, name)| (id.to_string(), name.clone()))
                .collect();
            again(StatusCode::BAD_REQUEST, e.to_string(), choices)
        }
        Err(LoginError::App(e)) => Err(e.into()),
    }
}

/// Ends the session (a CSRF-checked form post) and clears the cookie.
pub async fn logout(
    State(state): State<AppState>,
    jar: CookieJar,
    CsrfForm { session, .. }: CsrfForm<serde::de::IgnoredAny>,
) -> AdminResult<Response> {
    sessions::revoke(&state.pool, &session.actor, &session.secret).await?;
    let jar = jar.remove(axum_extra::extract::cookie::Cookie::build(SESSION_COOKIE).path("/"));
    Ok((jar, Redirect::to("/login")).into_response())
}
