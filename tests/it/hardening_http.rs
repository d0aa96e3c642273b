//! Response headers every answer carries, and a database that is gone or saturated: 503
//! `unavailable` in the API.md envelope, never a 500 or an empty body.

use std::time::Duration;

use axum::http::{header, Method, StatusCode};
use scraper::{Html, Selector};

use allot::auth::Role;
use allot::config::Settings;
use allot::AppState;

use crate::support::{test_settings, Reply, TestApp};

#[track_caller]
fn assert_hardened(reply: &Reply, what: &str) {
    let h = &reply.headers;
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(csp.contains("default-src 'self'"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-eval"), "{what}: {csp}");
    let referrer = h["referrer-policy"].to_str().unwrap();
    assert!(
        referrer == "no-referrer" || referrer == "same-origin",
        "{what}: {referrer}"
    );
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = TestApp::new().await;
    let council = app.council("Council").await;
    let (user_id, token) = app.user(&council, Role::CareManager, None, None).await;
    let (cookie, _) = app.session(council.id, user_id).await;

    let me = app.get("/api/v1/me", &token).await;
    let unauthenticated = app.call(Method::GET, "/api/v1/me", None, None).await;
    let missing = app
        .call(Method::GET, "/api/v1/nothing-here", None, None)
        .await;
    let login = app.call(Method::GET, "/login", None, None).await;
    let dashboard = app.page("/", &cookie).await;
    let people = app.page("/people", &cookie).await;
    for (reply, what) in [
        (&me, "API answer"),
        (&unauthenticated, "API error"),
        (&missing, "API 404"),
        (&login, "sign-in page"),
        (&dashboard, "dashboard"),
        (&people, "people page"),
    ] {
        assert_hardened(reply, what);
        assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store", "{what}");
    }
    // Static assets may be cached, and are still not sniffed.
    let css = app.call(Method::GET, "/static/allot.css", None, None).await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.headers["x-content-type-options"], "nosniff");
    assert_ne!(css.headers[header::CACHE_CONTROL], "no-store");

    // The policy allows no inline script, so the pages must not have any.
    for page in [&login, &dashboard, &people] {
        let doc = Html::parse_document(&page.text);
        let inline = Selector::parse("script:not([src])").unwrap();
        assert_eq!(doc.select(&inline).count(), 0, "{}", page.text);
        let all = Selector::parse("*").unwrap();
        for element in doc.select(&all) {
            for (name, _) in element.value().attrs() {
                assert!(
                    !name.starts_with("on"),
                    "inline handler {name} in {}",
                    page.text
                );
            }
            assert!(element.value().attr("style").is_none(), "{}", page.text);
        }
    }
}

/// The app over a pool whose server is not there (a port nothing listens on).
fn app_without_database(settings: Settings) -> axum::Router {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = tokio_postgres::Config::new();
    config
        .host("127.0.0.1")
        .port(port)
        .user("allot")
        .dbname("allot");
    let pool = allot::db::pool_from_config(config, 4).unwrap();
    allot::app(AppState::new(pool, settings))
}

#[track_caller]
fn assert_unavailable(reply: &Reply, what: &str) {
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{what}: {}",
        reply.text
    );
    assert_eq!(reply.code(), "unavailable", "{what}: {}", reply.text);
    assert!(
        reply.json["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .len()
            > 10,
        "{what}: {}",
        reply.text
    );
    assert!(
        reply.json["error"]["details"].is_array(),
        "{what}: {}",
        reply.text
    );
}

#[tokio::test]
async fn a_database_that_is_gone_is_503_unavailable() {
    let router = app_without_database(test_settings());
    let app = TestApp::new().await;
    let app = TestApp { router, ..app };
    let me = app.get("/api/v1/me", "some-token").await;
    assert_unavailable(&me, "me");
    let sign_in = app
        .call(
            Method::POST,
            "/api/v1/auth/token",
            None,
            Some(serde_json::json!({"email": "a@b.example", "password": "whatever it is"})),
        )
        .await;
    assert_unavailable(&sign_in, "sign-in");
    let page = app.page("/", "allot_session=abc").await;
    assert_eq!(
        page.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        page.text
    );
}

/// Every connection of the pool held elsewhere: a request waits for the pool, not for ever.
#[tokio::test]
async fn a_saturated_pool_is_503_unavailable_with_the_envelope() {
    // A request timeout far beyond the pool's wait: the 503 can only be the pool giving up (that
    // the pool gives up first with the real settings is checked below, without a stopwatch).
    let app = TestApp::with_settings(Settings {
        request_timeout: Duration::from_secs(3600),
        ..test_settings()
    })
    .await;
    let council = app.council("Council").await;
    let (_, token) = app.user(&council, Role::CareManager, None, None).await;
    let size = app.db.pool.status().max_size;
    let mut held = Vec::new();
    for _ in 0..size {
        held.push(app.db.pool.get().await.unwrap());
    }

    // The pool gives up: 503 with the envelope.
    let me = app.get("/api/v1/me", &token).await;
    assert_unavailable(&me, "pool wait");

    // A request that outlives the request timeout gets the envelope too.
    let router = allot::app(AppState::new(
        app.db.pool.clone(),
        Settings {
            request_timeout: Duration::from_millis(300),
            ..test_settings()
        },
    ));
    let quick = TestApp { router, ..app };
    let me = quick.get("/api/v1/me", &token).await;
    assert_unavailable(&me, "request timeout");
    let page = quick.page("/", "allot_session=abc").await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.text.contains("<html"), "{}", page.text);

    drop(held);
    let app = TestApp {
        router: allot::app(quick.state.clone()),
        ..quick
    };
    assert_eq!(app.get("/api/v1/me", &token).await.status, StatusCode::OK);
}

#[test]
fn the_pool_gives_up_before_the_request_does() {
    assert!(allot::db::POOL_WAIT < Settings::default().request_timeout);
}

/// Work a request has given up on stops on the server too: every pooled session has timeouts.
#[tokio::test]
async fn pooled_sessions_run_under_timeouts() {
    let app = TestApp::new().await;
    let client = app.db.pool.get().await.unwrap();
    for (setting, expected) in [
        ("statement_timeout", "25s"),
        ("lock_timeout", "15s"),
        ("idle_in_transaction_session_timeout", "1min"),
    ] {
        let value: String = client
            .query_one(&format!("SHOW {setting}"), &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(value, expected, "{setting}");
    }
}
