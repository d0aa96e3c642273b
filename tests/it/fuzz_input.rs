//! Hostile input as properties: arbitrary strings (control characters, odd Unicode, huge
//! numbers) in the money parser and in the fields of real requests, and arbitrary JSON at every
//! body-taking endpoint — never a panic, never a 5xx, always the API.md envelope on refusal.
//! `PROPTEST_CASES` sets the number of cases (`just fuzz` runs many more).

use axum::body::Body;
use axum::http::{header, Method, Request};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};

use crate::payments_api::{setup, Setup};
use crate::support::Reply;

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Strings meant to break things: anything, control characters, digits gone wild.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}a-z]{0,40}",
        "[-+]?[0-9]{0,30}(\\.[0-9]{0,12})?([eE][-+]?[0-9]{1,4})?",
        Just("NaN".to_owned()),
        Just("\u{0}".to_owned()),
        Just("9".repeat(400)),
        "\\PC{0,60}",
    ]
}

/// Arbitrary JSON, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        hostile_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::hash_map(hostile_text(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

async fn send(t: &Setup, method: Method, path: &str, token: &str, body: &[u8]) -> Reply {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .body(Body::from(body.to_vec()))
        .unwrap();
    t.s.app.send(request).await
}

fn no_server_error(reply: &Reply, what: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        reply.status.as_u16() < 500,
        "{what}: {} {}",
        reply.status,
        reply.text
    );
    if !reply.status.is_success() {
        prop_assert!(
            reply.json["error"]["code"].is_string() && reply.json["error"]["message"].is_string(),
            "{what}: not the error envelope: {}",
            reply.text
        );
    }
    Ok(())
}

#[test]
fn proptest_the_money_parser_never_panics_and_keeps_two_places() {
    let mut runner = TestRunner::new(Config {
        cases: cases(2_000),
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&hostile_text(), |text| {
            if let Ok(money) = allot::money::Money::parse(&text) {
                prop_assert!(money.amount().scale() == 2);
                prop_assert!(money.amount().abs() <= rust_decimal::Decimal::new(9_999_999_999, 2));
            }
            let _ = serde_json::from_value::<allot::money::PositiveMoney>(json!(text));
            Ok(())
        })
        .unwrap();
}

#[test]
fn proptest_hostile_fields_of_a_payment_never_give_a_server_error() {
    let rt = runtime();
    let t = rt.block_on(setup());
    let fields = prop_oneof![
        Just("memo"),
        Just("amount"),
        Just("category"),
        Just("deployment"),
        Just("service_date"),
        Just("merchant_category"),
        Just("evidence_sha256"),
        Just("stay_from"),
        Just("budget_id"),
    ];
    let mut runner = TestRunner::new(Config {
        cases: cases(48),
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&(fields, hostile_text()), |(field, text)| {
            let mut body = t.body("personal_care", "1.00");
            body[field] = json!(text);
            let reply = rt.block_on(send(
                &t,
                Method::POST,
                "/api/v1/payments",
                &t.holder.1,
                body.to_string().as_bytes(),
            ));
            no_server_error(&reply, &format!("{field}={text:?}"))
        })
        .unwrap();
}

#[test]
fn proptest_arbitrary_json_at_every_body_taking_endpoint_never_gives_a_server_error() {
    let rt = runtime();
    let t = rt.block_on(setup());
    let budget = t.budget;
    let endpoints: Vec<(Method, String, String)> = vec![
        (Method::POST, "/api/v1/payments".into(), t.holder.1.clone()),
        (
            Method::POST,
            "/api/v1/people".into(),
            t.s.care_manager.token.clone(),
        ),
        (
            Method::POST,
            "/api/v1/budgets".into(),
            t.s.care_manager.token.clone(),
        ),
        (
            Method::PATCH,
            format!("/api/v1/budgets/{budget}"),
            t.s.care_manager.token.clone(),
        ),
        (
            Method::PUT,
            format!("/api/v1/budgets/{budget}/plan"),
            t.s.care_manager.token.clone(),
        ),
        (
            Method::POST,
            format!("/api/v1/budgets/{budget}/agreements"),
            t.s.care_manager.token.clone(),
        ),
        (
            Method::POST,
            "/api/v1/payees".into(),
            t.s.maker.token.clone(),
        ),
        (
            Method::POST,
            "/api/v1/payment-runs".into(),
            t.s.maker.token.clone(),
        ),
        (
            Method::POST,
            format!("/api/v1/budgets/{budget}/contributions"),
            t.s.maker.token.clone(),
        ),
        (
            Method::POST,
            "/api/v1/invoices".into(),
            t.s.ma_staff.token.clone(),
        ),
        (Method::POST, "/api/v1/auth/token".into(), String::new()),
    ];
    let mut runner = TestRunner::new(Config {
        cases: cases(64),
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(
            &(0..endpoints.len(), any_json(), any::<bool>()),
            |(which, value, raw)| {
                let (method, path, token) = &endpoints[which];
                // Half the time bytes that are not JSON at all.
                let body = if raw {
                    let mut bytes = value.to_string().into_bytes();
                    bytes.truncate(bytes.len() / 2);
                    bytes
                } else {
                    value.to_string().into_bytes()
                };
                let reply = rt.block_on(send(&t, method.clone(), path, token, &body));
                no_server_error(&reply, &format!("{method} {path} {value}"))
            },
        )
        .unwrap();
}
