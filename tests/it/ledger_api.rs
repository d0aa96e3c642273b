//! The ledger's HTTP endpoints: statements, reversals (idempotent), chain verification.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use allot::auth::Role;
use allot::ledger;

use crate::ledger_support::{account, d, fund, transfer};
use crate::support::{Reply, TestApp};

/// POST with a JSON body and an optional Idempotency-Key.
async fn post_keyed(
    app: &TestApp,
    path: &str,
    token: &str,
    key: Option<&str>,
    body: Value,
) -> Reply {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    app.send(request.body(Body::from(body.to_string())).unwrap())
        .await
}

#[tokio::test]
async fn statements_page_for_staff_and_hide_everything_else() {
    let app = TestApp::new().await;
    let council = app.council("Statement Council").await;
    let other = app.council("Other Council").await;
    let (_, finance) = app.user(&council, Role::FinanceOfficer, None, None).await;
    let (_, care_manager) = app.user(&council, Role::CareManager, None, None).await;
    let person = app
        .post(
            "/api/v1/people",
            &care_manager,
            json!({"name": "Pat", "date_of_birth": "1960-02-03", "has_capacity": true}),
        )
        .await;
    let person_id: Uuid = person.json["id"].as_str().unwrap().parse().unwrap();
    let (_, holder_token) = app
        .user(&council, Role::BudgetHolder, None, Some(person_id))
        .await;
    let (_, other_finance) = app.user(&other, Role::FinanceOfficer, None, None).await;
    let funding = account(&app.db.pool, council.id, "council_funding", false).await;
    let holder = account(&app.db.pool, council.id, "direct_payment", true).await;
    for amount in ["10", "20", "30.5"] {
        fund(&app.db.pool, council.id, funding, holder, amount).await;
    }

    let page = app
        .get(
            &format!("/api/v1/accounts/{holder}/entries?limit=2"),
            &finance,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(page.json["items"].as_array().unwrap().len(), 2);
    assert_eq!(page.json["items"][1]["balance"], "30.00");
    assert_eq!(page.json["items"][0]["side"], "credit");
    assert_eq!(page.json["account"]["posted_balance"], "60.50");
    let cursor = page.json["next_cursor"].as_str().unwrap().to_string();
    let rest = app
        .get(
            &format!("/api/v1/accounts/{holder}/entries?limit=2&cursor={cursor}"),
            &finance,
        )
        .await;
    assert_eq!(rest.json["items"][0]["balance"], "60.50");
    assert_eq!(rest.json["opening_balance"], "30.00");
    assert!(rest.json["next_cursor"].is_null());
    let funding_page = app
        .get(
            &format!("/api/v1/accounts/{funding}/entries?from=2025-04-01&to=2025-04-01"),
            &finance,
        )
        .await;
    assert_eq!(funding_page.json["items"][2]["balance"], "-60.50");

    for path in [
        format!("/api/v1/accounts/{}/entries", Uuid::new_v4()),
        "/api/v1/accounts/not-a-uuid/entries".to_string(),
    ] {
        let reply = app.get(&path, &finance).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::NOT_FOUND, "not_found"),
            "{path}"
        );
    }
    // Another council's staff, and a budget holder who is not linked to it, see nothing.
    for token in [&other_finance, &holder_token] {
        let reply = app
            .get(&format!("/api/v1/accounts/{holder}/entries"), token)
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
    }
    for query in [
        "limit=0",
        "limit=501",
        "limit=x",
        "from=2025-13-01",
        "cursor=junk",
        "from=2025-05-01&to=2025-04-01",
    ] {
        let reply = app
            .get(
                &format!("/api/v1/accounts/{holder}/entries?{query}"),
                &finance,
            )
            .await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::BAD_REQUEST, "invalid_request"),
            "{query}: {}",
            reply.text
        );
    }
    let anonymous = app
        .call(
            Method::GET,
            &format!("/api/v1/accounts/{holder}/entries"),
            None,
            None,
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn only_payments_are_reversed_through_the_payment_path() {
    // A payment-run release (or any other ledger entry) is not a payment: one officer cannot
    // reverse it here; corrections of releases go through maker-checker.
    let app = TestApp::new().await;
    let council = app.council("Reversal Council").await;
    let (_, finance) = app.user(&council, Role::FinanceOfficer, None, None).await;
    let pool = &app.db.pool;
    let funding = account(pool, council.id, "council_funding", false).await;
    let holder = account(pool, council.id, "direct_payment", true).await;
    let release = ledger::post(pool, council.id, &transfer(funding, holder, "40"))
        .await
        .unwrap();
    let body = json!({"reason": "Released to the wrong account"});
    for path in [
        format!("/api/v1/payments/{}/reverse", release.id),
        format!("/api/v1/payments/{}/reverse", Uuid::new_v4()),
        "/api/v1/payments/nope/reverse".into(),
    ] {
        let reply = post_keyed(&app, &path, &finance, Some("k1"), body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{path}: {}",
            reply.text
        );
    }
    assert_eq!(
        crate::ledger_support::balances(pool, council.id, holder)
            .await
            .posted_balance,
        d("40")
    );
}

#[tokio::test]
async fn auditors_verify_the_chain() {
    let app = TestApp::new().await;
    let council = app.council("Audit Council").await;
    let (_, auditor) = app.user(&council, Role::Auditor, None, None).await;
    let (_, finance) = app.user(&council, Role::FinanceOfficer, None, None).await;
    let funding = account(&app.db.pool, council.id, "council_funding", false).await;
    let holder = account(&app.db.pool, council.id, "direct_payment", true).await;
    fund(&app.db.pool, council.id, funding, holder, "12").await;
    ledger::seal_pending(&app.db.pool, council.id, &app.state.chain_key)
        .await
        .unwrap();
    let reply = app.get("/api/v1/audit/verify", &auditor).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["ok"], true);
    assert_eq!(reply.json["entries_checked"], 1);
    assert!(reply.json["first_bad_entry"].is_null());
    // The head, signed with the server's chain key.
    let head: ledger::SignedHead = reply.json["signed_head"]
        .as_str()
        .expect("a signed head")
        .parse()
        .unwrap();
    assert!(head.verifies(&app.state.chain_key));
    assert_eq!((head.council_id, head.position), (council.id, 1));
    let forbidden = app.get("/api/v1/audit/verify", &finance).await;
    assert_eq!(
        (forbidden.status, forbidden.code()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    let admin = app.get("/api/v1/audit/verify", &council.admin_token).await;
    assert_eq!(admin.status, StatusCode::FORBIDDEN);
    let anonymous = app
        .call(Method::GET, "/api/v1/audit/verify", None, None)
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    let openapi = app.call(Method::GET, "/api/openapi.json", None, None).await;
    for path in [
        "/api/v1/accounts/{id}/entries",
        "/api/v1/payments/{id}/reverse",
        "/api/v1/audit/verify",
    ] {
        assert!(
            openapi.json["paths"][path].is_object(),
            "{path} missing from OpenAPI"
        );
    }
}
