//! Shared by the integration tests: an app on a fresh database, and helpers to call it.
#![allow(dead_code)]

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use uuid::Uuid;

use allot::auth::sessions::{self, TokenKind};
use allot::auth::users::{self, NewUser};
use allot::auth::{councils, Role};
use allot::config::Settings;
use allot::db::testing::TestDb;
use allot::AppState;

pub mod browser;
pub mod openapi;
pub mod scenario;

pub const PASSWORD: &str = "a long test password";

/// The router on a database of its own.
pub struct TestApp {
    pub db: TestDb,
    pub state: AppState,
    pub router: Router,
}

/// A council with its administrator signed in.
#[derive(Clone, Debug)]
pub struct Council {
    pub id: Uuid,
    pub admin_id: Uuid,
    pub admin_token: String,
}

/// A response: status, headers and body (parsed as JSON when it is JSON).
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Reply {
    /// The error code of an API.md error envelope.
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }
}

pub fn test_settings() -> Settings {
    Settings {
        password_iterations: allot::auth::password::MIN_ITERATIONS,
        ..Settings::default()
    }
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_settings(test_settings()).await
    }

    pub async fn with_settings(settings: Settings) -> Self {
        let db = TestDb::new().await;
        let state = AppState::new(db.pool.clone(), settings);
        let router = allot::app(state.clone());
        TestApp { db, state, router }
    }

    /// A new council with an administrator and their API token.
    pub async fn council(&self, name: &str) -> Council {
        let email = format!("admin-{}@council.example", Uuid::new_v4().simple());
        let (id, admin_id) = councils::create(
            &self.db.pool,
            name,
            &email,
            PASSWORD,
            self.state.settings.password_iterations,
        )
        .await
        .expect("create council");
        let admin_token = self.token(id, admin_id).await;
        Council {
            id,
            admin_id,
            admin_token,
        }
    }

    /// An API token for a user, issued directly.
    pub async fn token(&self, council_id: Uuid, user_id: Uuid) -> String {
        sessions::issue(
            &self.db.pool,
            council_id,
            user_id,
            TokenKind::Api,
            Duration::from_secs(3600),
        )
        .await
        .expect("issue token")
        .secret
    }

    /// A user of `role` in the council, with their token.
    pub async fn user(
        &self,
        council: &Council,
        role: Role,
        organisation_id: Option<Uuid>,
        person_id: Option<Uuid>,
    ) -> (Uuid, String) {
        let new = NewUser {
            email: format!("{}-{}@test.example", role.as_str(), Uuid::new_v4().simple()),
            name: format!("Test {}", role.label()),
            role,
            password: PASSWORD.to_string(),
            organisation_id,
            person_id,
        };
        let iterations = self.state.settings.password_iterations;
        let council_id = council.id;
        let id = allot::db::in_tenant_tx(&self.db.pool, council_id, |tx| {
            Box::pin(async move { users::insert(tx, council_id, &new, iterations).await })
        })
        .await
        .expect("create user");
        (id, self.token(council.id, id).await)
    }

    /// A browser session for a user: the cookie header value and the session's CSRF token.
    pub async fn session(&self, council_id: Uuid, user_id: Uuid) -> (String, String) {
        let issued = sessions::issue(
            &self.db.pool,
            council_id,
            user_id,
            TokenKind::Session,
            Duration::from_secs(3600),
        )
        .await
        .expect("issue session");
        (
            format!("allot_session={}", issued.secret),
            issued.csrf_token.expect("a session has a CSRF token"),
        )
    }

    /// GETs an admin page with a session cookie.
    pub async fn page(&self, path: &str, cookie: &str) -> Reply {
        let request = Request::builder()
            .method(Method::GET)
            .uri(path)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .expect("request");
        self.send(request).await
    }

    /// POSTs a urlencoded form with a session cookie.
    pub async fn form(&self, path: &str, cookie: &str, fields: &[(&str, &str)]) -> Reply {
        let body = serde_urlencoded::to_string(fields).expect("form");
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request");
        self.send(request).await
    }

    /// Calls the app with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        self.send(request.body(body).expect("request")).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::PUT, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    /// A POST with an `Idempotency-Key` header.
    pub async fn post_with_key(&self, path: &str, token: &str, key: &str, body: Value) -> Reply {
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .header("idempotency-key", key)
            .body(Body::from(body.to_string()))
            .expect("request");
        self.send(request).await
    }

    /// A POST whose body is raw text (to send what `json!` cannot, like numbers with 3 decimals).
    pub async fn post_raw(&self, path: &str, token: &str, body: &str) -> Reply {
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("request");
        self.send(request).await
    }

    /// Row counts of every table that records money or decisions, read as the owner (no RLS):
    /// compared before and after a refused request to show that nothing changed.
    pub async fn snapshot(&self) -> Vec<(String, i64)> {
        let client = self.db.pool.get().await.expect("connection");
        let tables = client
            .query(
                "SELECT table_name::text FROM information_schema.tables
                 WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
                   AND table_name NOT IN ('refinery_schema_history', 'auth_tokens', 'login_failures')
                 ORDER BY 1",
                &[],
            )
            .await
            .expect("tables");
        let mut counts = Vec::new();
        for row in tables {
            let table: String = row.get(0);
            let count: i64 = client
                .query_one(&format!("SELECT count(*) FROM \"{table}\""), &[])
                .await
                .expect("count")
                .get(0);
            counts.push((table, count));
        }
        // Updates show up as a change of the plans', runs' and people's states.
        let states: String = client
            .query_one(
                "SELECT concat_ws('|',
                    (SELECT string_agg(status, ',' ORDER BY id) FROM support_plans),
                    (SELECT string_agg(status, ',' ORDER BY id) FROM payment_runs),
                    (SELECT string_agg(has_capacity::text || excluded_from_direct_payments::text, ',' ORDER BY id) FROM people),
                    (SELECT string_agg(coalesce(entry_id::text, '-'), ',' ORDER BY run_id, line_no) FROM payment_run_lines))",
                &[],
            )
            .await
            .expect("states")
            .get(0);
        counts.push(("states".into(), states.len() as i64));
        counts.push((states, 0));
        counts
    }

    /// Sends any request.
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let text = String::from_utf8_lossy(&bytes).to_string();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            json,
        }
    }
}
