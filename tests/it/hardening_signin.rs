//! Sign-in under attack: wrong passwords fired in parallel are counted and refused atomically, one
//! address cannot try email after email, and a flood of sign-ins does not starve signed-in users
//! (password hashing is bounded and never holds a database connection). Nothing here waits on
//! the wall clock: the windows pass by the application's clock, and the flood is observed at a
//! known point (every sign-in waiting for a turn at hashing the test holds).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request, StatusCode};
use chrono::TimeZone;
use serde_json::json;
use uuid::Uuid;

use allot::auth::Role;
use allot::config::Settings;

use crate::support::{test_settings, Reply, TestApp, PASSWORD};

/// A sign-in from `peer` (as axum's `ConnectInfo` gives it) or from an unknown address.
async fn sign_in(app: &TestApp, peer: Option<&str>, email: &str, password: &str) -> Reply {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/auth/token")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"email": email, "password": password}).to_string(),
        ))
        .unwrap();
    if let Some(peer) = peer {
        let addr: SocketAddr = peer.parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(addr));
    }
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

async fn email_of(app: &TestApp, token: &str) -> String {
    app.get("/api/v1/me", token).await.json["email"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_passwords_are_checked_at_most_the_limit() {
    let app = Arc::new(TestApp::new().await);
    let council = app.council("Council").await;
    let (_, token) = app.user(&council, Role::FinanceOfficer, None, None).await;
    let email = email_of(&app, &token).await;
    let limit = app.state.settings.login_max_failures;

    let attempts: Vec<_> = (0..20)
        .map(|_| {
            let (app, email) = (app.clone(), email.clone());
            tokio::spawn(async move {
                sign_in(&app, None, &email, "not the password at all")
                    .await
                    .status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.unwrap());
    }
    let wrong = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(wrong + refused, 20, "{statuses:?}");
    assert!(
        wrong as i64 <= limit,
        "{wrong} passwords checked: {statuses:?}"
    );
    assert!(refused >= 20 - limit as usize, "{statuses:?}");
    // Every password checked was recorded as a failure; none beyond the limit.
    assert_eq!(failures_recorded(&app, &email).await, wrong as i64);
    // And the right password is now refused too, until the window passes.
    let right = sign_in(&app, None, &email, PASSWORD).await;
    if wrong as i64 == limit {
        assert_eq!(
            right.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            right.text
        );
        assert_eq!(right.code(), "too_many_requests");
    }
}

#[tokio::test]
async fn one_address_cannot_try_email_after_email() {
    let settings = Settings {
        login_max_failures_per_ip: 3,
        ..test_settings()
    };
    let app = TestApp::with_settings(settings).await;
    let council = app.council("Council").await;
    let (_, token) = app.user(&council, Role::Auditor, None, None).await;
    let email = email_of(&app, &token).await;

    let attacker = Some("203.0.113.7:40000");
    for _ in 0..3 {
        let guess = format!("{}@council.example", Uuid::new_v4().simple());
        let reply = sign_in(&app, attacker, &guess, "a guessed password").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text);
    }
    // A fourth email from the same address is refused before any password is checked.
    let reply = sign_in(&app, Some("203.0.113.7:40001"), &email, PASSWORD).await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        reply.text
    );
    assert_eq!(reply.code(), "too_many_requests");
    assert_eq!(failures_recorded(&app, &email).await, 0);
    // Someone else, from another address, signs in as usual.
    let reply = sign_in(&app, Some("198.51.100.2:5000"), &email, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sign_in_flood_does_not_starve_signed_in_users() {
    // Per-address limits off for this test: what is shown is that a sign-in holds no database
    // connection while it waits for its turn at hashing, not that the flood is turned away early.
    // The turns wait as long as the test needs them to.
    let settings = Settings {
        login_max_failures_per_ip: 100_000,
        login_hash_wait: Duration::from_secs(300),
        ..test_settings()
    };
    let app = Arc::new(TestApp::with_settings(settings).await);
    let council = app.council("Council").await;
    let (_, token) = app.user(&council, Role::CareManager, None, None).await;
    assert_eq!(app.get("/api/v1/me", &token).await.status, StatusCode::OK);

    // Every turn at hashing is taken, so each sign-in of the flood records its attempt and then
    // waits: many more of them than the pool has connections.
    const FLOOD: usize = 96;
    assert!(FLOOD > app.db.pool.status().max_size);
    let mut turns = Vec::new();
    for _ in 0..app.state.settings.login_hash_permits {
        turns.push(app.state.sign_in.hashing_permit().await.unwrap());
    }
    let finished = Arc::new(AtomicUsize::new(0));
    let flood: Vec<_> = (0..FLOOD)
        .map(|_| {
            let (app, finished) = (app.clone(), finished.clone());
            tokio::spawn(async move {
                let email = format!("{}@flood.example", Uuid::new_v4().simple());
                let reply = sign_in(&app, None, &email, "a guessed password").await;
                finished.fetch_add(1, Ordering::SeqCst);
                reply.status
            })
        })
        .collect();
    // Ready when every sign-in has recorded its attempt: all are now waiting for a turn.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let recorded: i64 = app
            .db
            .pool
            .get()
            .await
            .unwrap()
            .query_one(
                "SELECT count(*) FROM login_failures WHERE email LIKE '%@flood.example'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if recorded as usize == FLOOD {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {recorded} of {FLOOD} sign-ins got as far as the turn at hashing"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The signed-in user is answered while all of them wait.
    let me = app.get("/api/v1/me", &token).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(finished.load(Ordering::SeqCst), 0);
    drop(turns);
    let mut statuses = Vec::new();
    for attempt in flood {
        statuses.push(attempt.await.unwrap());
    }
    assert!(
        statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn the_throttling_windows_pass_by_the_clock() {
    let settings = Settings {
        login_max_failures_per_ip: 3,
        ..test_settings()
    };
    let app = TestApp::with_settings(settings).await;
    let start = chrono::Utc.with_ymd_and_hms(2026, 2, 2, 9, 0, 0).unwrap();
    app.state.clock.set(start);
    let council = app.council("Council").await;
    let (_, token) = app.user(&council, Role::Auditor, None, None).await;
    let email = email_of(&app, &token).await;
    let limit = app.state.settings.login_max_failures;

    // The email's limit, from addresses of their own.
    for i in 0..limit {
        let peer = format!("198.51.100.{}:5000", i + 1);
        let reply = sign_in(&app, Some(&peer), &email, "not the password at all").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text);
    }
    let fresh = Some("192.0.2.200:1");
    let reply = sign_in(&app, fresh, &email, PASSWORD).await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        reply.text
    );
    // Fourteen minutes on, still refused; sixteen, the window has passed.
    app.state.clock.advance(chrono::Duration::minutes(14));
    let reply = sign_in(&app, fresh, &email, PASSWORD).await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        reply.text
    );
    app.state.clock.advance(chrono::Duration::minutes(2));
    let reply = sign_in(&app, fresh, &email, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);

    // The address's limit, whichever emails it tries.
    let attacker = Some("203.0.113.7:40000");
    for _ in 0..3 {
        let guess = format!("{}@council.example", Uuid::new_v4().simple());
        let reply = sign_in(&app, attacker, &guess, "a guessed password").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text);
    }
    let reply = sign_in(&app, attacker, &email, PASSWORD).await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        reply.text
    );
    app.state.clock.advance(chrono::Duration::minutes(16));
    let reply = sign_in(&app, attacker, &email, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}
