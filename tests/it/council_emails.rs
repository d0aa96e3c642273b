//! An email address is unique within a council, not across councils: adding a user whose address
//! another council uses succeeds (a conflict would tell one council of another's staff). Sign-in
//! takes the council when given; without it, the user whose password matches is signed in, and
//! when it matches in more than one council the caller is asked which (400 `council_required`).

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request, StatusCode};
use scraper::{Html, Selector};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::{Council, Reply, TestApp, PASSWORD};

const OTHER_PASSWORD: &str = "another long password";

async fn add_user(app: &TestApp, council: &Council, email: &str, password: &str) -> Reply {
    app.post(
        "/api/v1/users",
        &council.admin_token,
        json!({"email": email, "name": "Sam Shared", "role": "care_manager",
               "password": password}),
    )
    .await
}

async fn sign_in(app: &TestApp, body: Value) -> Reply {
    sign_in_from(app, "192.0.2.10:4000", body).await
}

async fn sign_in_from(app: &TestApp, peer: &str, body: Value) -> Reply {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/auth/token")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let addr: SocketAddr = peer.parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(addr));
    app.send(request).await
}

async fn failures_recorded(app: &TestApp, email: &str) -> i64 {
    let client = app.db.pool.get().await.unwrap();
    client
        .query_one(
            "SELECT count(*) FROM login_failures WHERE email = $1",
            &[&email],
        )
        .await
        .unwrap()
        .get(0)
}

fn shared_email() -> String {
    format!("shared-{}@care.example", Uuid::new_v4().simple())
}

#[tokio::test]
async fn an_email_used_in_another_council_can_be_added_but_not_twice_in_one() {
    let app = TestApp::new().await;
    let north = app.council("North Council").await;
    let south = app.council("South Council").await;
    let email = shared_email();
    let first = add_user(&app, &north, &email, PASSWORD).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    // Another council knows nothing of North's staff: the same address is simply added.
    let second = add_user(&app, &south, &email.to_uppercase(), PASSWORD).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
    assert_eq!(second.json["email"], email.as_str());
    assert_eq!(second.json["council_id"], south.id.to_string());
    // Within one council an address is still one user's.
    let again = add_user(&app, &south, &email, PASSWORD).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert_eq!(again.code(), "conflict");
}

#[tokio::test]
async fn sign_in_finds_the_council_whose_password_matches_or_asks_which() {
    let app = TestApp::new().await;
    let north = app.council("North Council").await;
    let south = app.council("South Council").await;
    let east = app.council("East Council").await;
    let email = shared_email();
    for (council, password) in [(&north, PASSWORD), (&south, OTHER_PASSWORD)] {
        let added = add_user(&app, council, &email, password).await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    }

    // The old contract: email and password alone, each password to its own council.
    let reply = sign_in(&app, json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["user"]["council_id"], north.id.to_string());
    let me = app
        .get("/api/v1/me", reply.json["token"].as_str().unwrap())
        .await;
    assert_eq!(
        me.json["council"]["id"],
        north.id.to_string(),
        "{}",
        me.text
    );
    let reply = sign_in(&app, json!({"email": email, "password": OTHER_PASSWORD})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["user"]["council_id"], south.id.to_string());

    // A wrong password is one failure for the email, however many councils use it.
    let reply = sign_in(
        &app,
        json!({"email": email, "password": "not either password"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text);
    assert_eq!(reply.code(), "invalid_credentials");
    assert_eq!(failures_recorded(&app, &email).await, 1);

    // Naming the council checks only that council's user.
    let reply = sign_in(
        &app,
        json!({"email": email, "password": OTHER_PASSWORD, "council": north.id}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text);
    let reply = sign_in(
        &app,
        json!({"email": email, "password": PASSWORD, "council": east.id}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text);
    let reply = sign_in(
        &app,
        json!({"email": email, "password": OTHER_PASSWORD, "council": south.id}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["user"]["council_id"], south.id.to_string());

    // A council that is not an id is the caller's mistake.
    let reply = sign_in(
        &app,
        json!({"email": email, "password": PASSWORD, "council": "north"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_eq!(reply.code(), "invalid_request");
    assert!(reply.text.contains("council"), "{}", reply.text);

    // The same password in two councils: the caller must say which.
    let added = add_user(&app, &east, &email, PASSWORD).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    let before = failures_recorded(&app, &email).await;
    let reply = sign_in(&app, json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_eq!(reply.code(), "council_required");
    assert!(reply.json["error"]["message"].is_string(), "{}", reply.text);
    let details = reply.json["error"]["details"].as_array().unwrap();
    let named: Vec<&str> = details
        .iter()
        .map(|d| {
            assert_eq!(d["field"], "council");
            d["message"].as_str().unwrap()
        })
        .collect();
    assert_eq!(named.len(), 2, "{}", reply.text);
    assert!(named
        .iter()
        .any(|m| m.starts_with(&north.id.to_string()) && m.ends_with("North Council")));
    assert!(named
        .iter()
        .any(|m| m.starts_with(&east.id.to_string()) && m.ends_with("East Council")));
    assert!(
        !reply.text.contains(&south.id.to_string()),
        "{}",
        reply.text
    );
    // The right password is no failure.
    assert_eq!(failures_recorded(&app, &email).await, before);
    let reply = sign_in(
        &app,
        json!({"email": email, "password": PASSWORD, "council": east.id}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["user"]["council_id"], east.id.to_string());
}

#[tokio::test]
async fn throttling_counts_per_email_and_per_address_across_councils() {
    let app = TestApp::new().await;
    let north = app.council("North Council").await;
    let south = app.council("South Council").await;
    let email = shared_email();
    for council in [&north, &south] {
        let added = add_user(&app, council, &email, PASSWORD).await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    }
    let limit = app.state.settings.login_max_failures;
    for i in 0..limit {
        // From a new address each time: the email's own limit is what is tested.
        let peer = format!("198.51.100.{}:5000", i + 1);
        let reply = sign_in_from(
            &app,
            &peer,
            json!({"email": email, "password": "wrong guess!"}),
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text);
    }
    assert_eq!(failures_recorded(&app, &email).await, limit);
    // The email is now refused before any password is checked, with a council or without.
    for body in [
        json!({"email": email, "password": PASSWORD}),
        json!({"email": email, "password": PASSWORD, "council": north.id}),
    ] {
        let reply = sign_in_from(&app, "203.0.113.99:1", body).await;
        assert_eq!(
            reply.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            reply.text
        );
        assert_eq!(reply.code(), "too_many_requests");
    }
}

fn select(html: &str, css: &str) -> Vec<(String, String)> {
    let doc = Html::parse_document(html);
    let selector = Selector::parse(css).unwrap();
    doc.select(&selector)
        .map(|e| {
            (
                e.value().attr("value").unwrap_or_default().to_string(),
                e.text().collect::<String>().trim().to_string(),
            )
        })
        .collect()
}

async fn form_sign_in(app: &TestApp, fields: &[(&str, &str)]) -> Reply {
    let page = app.call(Method::GET, "/login", None, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(select(&page.text, "input[name=council]").len(), 1);
    let csrf = page
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .find_map(|v| {
            let v = v.to_str().ok()?;
            let pair = v.split(';').next()?;
            pair.strip_prefix("allot_login_csrf=").map(str::to_string)
        })
        .unwrap();
    let mut all = vec![("csrf_token", csrf.as_str())];
    all.extend_from_slice(fields);
    let body = serde_urlencoded::to_string(&all).unwrap();
    let request = Request::builder()
        .method(Method::POST)
        .uri("/login")
        .header(header::COOKIE, format!("allot_login_csrf={csrf}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    app.send(request).await
}

#[tokio::test]
async fn the_sign_in_page_offers_the_councils_when_the_password_fits_several() {
    let app = TestApp::new().await;
    let north = app.council("North Council").await;
    let south = app.council("South Council").await;
    let email = shared_email();
    for council in [&north, &south] {
        let added = add_user(&app, council, &email, PASSWORD).await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    }
    let reply = form_sign_in(&app, &[("email", &email), ("password", PASSWORD)]).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    let mut offered = select(&reply.text, "select[name=council] option");
    offered.sort();
    let mut expected = vec![
        (north.id.to_string(), "North Council".to_string()),
        (south.id.to_string(), "South Council".to_string()),
    ];
    expected.sort();
    assert_eq!(offered, expected);

    let south_id = south.id.to_string();
    let reply = form_sign_in(
        &app,
        &[
            ("email", &email),
            ("password", PASSWORD),
            ("council", &south_id),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    let session = reply
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .find_map(|v| {
            let pair = v.to_str().ok()?.split(';').next()?.to_string();
            pair.starts_with("allot_session=").then_some(pair)
        })
        .unwrap();
    let dashboard = app.page("/", &session).await;
    assert_eq!(dashboard.status, StatusCode::OK);
    assert!(
        dashboard.text.contains("South Council"),
        "{}",
        dashboard.text
    );

    // A council that is not an id is refused on the form, as a form error.
    let reply = form_sign_in(
        &app,
        &[
            ("email", &email),
            ("password", PASSWORD),
            ("council", "south"),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert!(
        reply.text.contains("The council is not right"),
        "{}",
        reply.text
    );
}
