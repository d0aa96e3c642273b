//! The admin shell: sign-in with CSRF, sessions, navigation, escaping.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use scraper::{Html, Selector};
use serde_json::json;

use allot::auth::Role;

use crate::support::{Reply, TestApp, PASSWORD};

fn cookie_value(reply: &Reply, name: &str) -> Option<String> {
    reply
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .find_map(|v| {
            let v = v.to_str().ok()?;
            let (pair, _) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = pair.split_once('=')?;
            (k == name && !val.is_empty()).then(|| val.to_string())
        })
}

fn select(html: &str, css: &str) -> Vec<String> {
    let doc = Html::parse_document(html);
    let selector = Selector::parse(css).unwrap();
    doc.select(&selector)
        .map(|e| e.text().collect::<String>().trim().to_string())
        .collect()
}

fn attr(html: &str, css: &str, name: &str) -> Option<String> {
    let doc = Html::parse_document(html);
    let selector = Selector::parse(css).unwrap();
    doc.select(&selector)
        .next()
        .and_then(|e| e.value().attr(name))
        .map(str::to_string)
}

async fn form_post(app: &TestApp, path: &str, cookies: &str, body: &str) -> Reply {
    let request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::COOKIE, cookies)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.to_string()))
        .unwrap();
    app.send(request).await
}

async fn page(app: &TestApp, path: &str, cookies: &str) -> Reply {
    let request = Request::builder()
        .uri(path)
        .header(header::COOKIE, cookies)
        .body(Body::empty())
        .unwrap();
    app.send(request).await
}

/// Signs in through the form; returns the session cookie.
async fn sign_in(app: &TestApp, email: &str) -> String {
    let login = app.call(Method::GET, "/login", None, None).await;
    let csrf = cookie_value(&login, "allot_login_csrf").unwrap();
    assert_eq!(
        attr(&login.text, "input[name=csrf_token]", "value").as_deref(),
        Some(csrf.as_str())
    );
    let body = format!(
        "csrf_token={csrf}&email={}&password={}",
        urlencode(email),
        urlencode(PASSWORD)
    );
    let reply = form_post(app, "/login", &format!("allot_login_csrf={csrf}"), &body).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    let session = cookie_value(&reply, "allot_session").expect("session cookie");
    let set_cookie = reply
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        reply.headers.get_all(header::SET_COOKIE).iter().any(|c| {
            let c = c.to_str().unwrap();
            c.starts_with("allot_session=") && c.contains("HttpOnly") && c.contains("SameSite=Lax")
        }),
        "{set_cookie}"
    );
    format!("allot_session={session}")
}

fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

async fn email_of(app: &TestApp, token: &str) -> String {
    app.get("/api/v1/me", token).await.json["email"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_sign_in() {
    let app = TestApp::new().await;
    for path in ["/", "/people"] {
        let reply = app.call(Method::GET, path, None, None).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(reply.headers[header::LOCATION], "/login");
    }
    let login = app.call(Method::GET, "/login", None, None).await;
    assert_eq!(login.status, StatusCode::OK);
    assert_eq!(select(&login.text, "h1"), vec!["Sign in"]);
    assert_eq!(
        attr(&login.text, "label[for=email]", "for").as_deref(),
        Some("email")
    );
    assert!(login.text.contains("lang=\"en-GB\""));
}

#[tokio::test]
async fn sign_in_shows_the_dashboard_with_navigation_by_role() {
    let app = TestApp::new().await;
    let council = app.council("Ambridge Borough").await;
    let (_, token) = app.user(&council, Role::CareManager, None, None).await;
    let cookies = sign_in(&app, &email_of(&app, &token).await).await;
    let dashboard = page(&app, "/", &cookies).await;
    assert_eq!(dashboard.status, StatusCode::OK);
    assert_eq!(select(&dashboard.text, "main h1"), vec!["Dashboard"]);
    assert!(select(&dashboard.text, ".council").contains(&"Ambridge Borough".to_string()));
    let nav = select(&dashboard.text, "nav a");
    assert!(nav.contains(&"People".to_string()), "{nav:?}");
    assert_eq!(
        attr(&dashboard.text, "nav a[aria-current=page]", "href").as_deref(),
        Some("/")
    );
}

#[tokio::test]
async fn wrong_password_on_the_form_is_401_and_then_throttled() {
    let app = TestApp::new().await;
    let council = app.council("Council").await;
    let (_, token) = app.user(&council, Role::Auditor, None, None).await;
    let email = email_of(&app, &token).await;
    let login = app.call(Method::GET, "/login", None, None).await;
    let csrf = cookie_value(&login, "allot_login_csrf").unwrap();
    let body = format!(
        "csrf_token={csrf}&email={}&password=wrong+password",
        urlencode(&email)
    );
    let cookie = format!("allot_login_csrf={csrf}");
    for _ in 0..app.state.settings.login_max_failures {
        let reply = form_post(&app, "/login", &cookie, &body).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert!(select(&reply.text, ".error-summary li")[0].contains("not right"));
    }
    let reply = form_post(&app, "/login", &cookie, &body).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let app = TestApp::new().await;
    let council = app.council("Council").await;
    let (_, token) = app.user(&council, Role::Auditor, None, None).await;
    let email = email_of(&app, &token).await;

    // Sign-in without the double-submit cookie, or with a different one.
    let body = format!(
        "csrf_token=abc&email={}&password={}",
        urlencode(&email),
        urlencode(PASSWORD)
    );
    assert_eq!(
        form_post(&app, "/login", "", &body).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        form_post(&app, "/login", "allot_login_csrf=xyz", &body)
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // Sign-out without or with a wrong token leaves the session working.
    let cookies = sign_in(&app, &email).await;
    assert_eq!(
        form_post(&app, "/logout", &cookies, "").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        form_post(&app, "/logout", &cookies, "csrf_token=forged")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let dashboard = page(&app, "/", &cookies).await;
    assert_eq!(dashboard.status, StatusCode::OK);

    let csrf = attr(
        &dashboard.text,
        "form[action='/logout'] input[name=csrf_token]",
        "value",
    )
    .unwrap();
    let out = form_post(&app, "/logout", &cookies, &format!("csrf_token={csrf}")).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page(&app, "/", &cookies).await.status,
        StatusCode::SEE_OTHER,
        "session ended"
    );
}

#[tokio::test]
async fn user_data_is_escaped() {
    let app = TestApp::new().await;
    let council = app.council("Council <b>").await;
    let (_, cm) = app.user(&council, Role::CareManager, None, None).await;
    let reply = app
        .post(
            "/api/v1/people",
            &cm,
            json!({"name": "<script>alert('x')</script>", "date_of_birth": "1950-01-01", "has_capacity": true}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let cookies = sign_in(&app, &email_of(&app, &cm).await).await;
    let people = page(&app, "/people", &cookies).await;
    assert!(!people.text.contains("<script>alert"));
    assert!(people.text.contains("&lt;script&gt;"));
    assert!(!people.text.contains("Council <b>"));
    assert_eq!(
        select(&people.text, "tbody td a"),
        vec!["<script>alert('x')</script>"]
    );
}

#[tokio::test]
async fn budget_holders_see_only_themselves() {
    let app = TestApp::new().await;
    let council = app.council("Council").await;
    let (_, cm) = app.user(&council, Role::CareManager, None, None).await;
    let mut ids = Vec::new();
    for name in ["Ann", "Bob"] {
        let reply = app
            .post(
                "/api/v1/people",
                &cm,
                json!({"name": name, "date_of_birth": "1950-01-01", "has_capacity": true}),
            )
            .await;
        ids.push(
            reply.json["id"]
                .as_str()
                .unwrap()
                .parse::<uuid::Uuid>()
                .unwrap(),
        );
    }
    let (_, holder) = app
        .user(&council, Role::BudgetHolder, None, Some(ids[0]))
        .await;
    let list = app.get("/api/v1/people", &holder).await;
    let names: Vec<&str> = list.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Ann"]);
    assert_eq!(
        app.get(&format!("/api/v1/people/{}", ids[1]), &holder)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn unknown_pages_are_html_404() {
    let app = TestApp::new().await;
    let reply = app.call(Method::GET, "/no-such-page", None, None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(select(&reply.text, "h1"), vec!["Page not found"]);
}
