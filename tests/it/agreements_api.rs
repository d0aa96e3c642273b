//! Decision-making agreements and council policy through the API: `capacity_role` for each kind
//! of party, bad input writing nothing, roles, other councils, ending grants, capacity changes,
//! and versioned policy.

use axum::http::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use allot::auth::Role;

use crate::support::scenario::{id, Scenario};

async fn budget(s: &Scenario, has_capacity: bool) -> (Uuid, Uuid) {
    let person = s.person("Alex Agreement", has_capacity, false).await;
    let budget = s
        .approved_budget(
            Scenario::budget_body(person),
            json!([Scenario::line(
                "personal_care",
                "100.00",
                "direct_payment",
                None
            )]),
        )
        .await;
    (person, budget)
}

fn grant(user: Uuid, acting_as: &str) -> Value {
    json!({"user_id": user, "acting_as": acting_as, "powers": ["pay"],
           "max_per_payment": "200.00", "valid_from": "2025-01-01"})
}

async fn count(s: &Scenario) -> i64 {
    allot::db::in_tenant_tx(&s.app.db.pool, s.council.id, |tx| {
        Box::pin(async move {
            Ok(tx
                .query_one("SELECT count(*) FROM agreement_grants", &[])
                .await?
                .get::<_, i64>(0))
        })
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn each_role_must_fit_the_persons_capacity() {
    let s = Scenario::new().await;
    let (_, with_capacity) = budget(&s, true).await;
    let (_, without_capacity) = budget(&s, false).await;
    let (rep, _) = s
        .app
        .user(&s.council, Role::Representative, None, None)
        .await;
    let path = |b: Uuid| format!("/api/v1/budgets/{b}/agreements");
    let token = &s.care_manager.token;
    let cases = [
        (
            with_capacity,
            grant(rep, "nominated_person"),
            StatusCode::CREATED,
        ),
        (
            without_capacity,
            grant(rep, "nominated_person"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            without_capacity,
            grant(rep, "authorised_person"),
            StatusCode::CREATED,
        ),
        (
            with_capacity,
            grant(rep, "authorised_person"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            with_capacity,
            grant(rep, "attorney"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            without_capacity,
            grant(rep, "deputy"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    let mut created = 0;
    for (budget, body, status) in cases {
        let reply = s.app.post(&path(budget), token, body.clone()).await;
        assert_eq!(reply.status, status, "{body}: {}", reply.text);
        if status == StatusCode::CREATED {
            created += 1;
            assert_eq!(reply.json["in_force"], true);
        } else {
            assert_eq!(reply.code(), "capacity_role");
            assert_eq!(reply.json["error"]["details"][0]["rule"], "capacity_role");
        }
    }
    let mut attorney = grant(rep, "attorney");
    attorney["lpa_registered"] = json!(true);
    let reply = s.app.post(&path(with_capacity), token, attorney).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let mut deputy = grant(rep, "deputy");
    deputy["court_order_ref"] = json!("COP 12345678");
    let reply = s.app.post(&path(without_capacity), token, deputy).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(count(&s).await, created + 2);
    let list = s.app.get(&path(with_capacity), token).await;
    assert_eq!(list.json["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn bad_input_wrong_roles_and_other_councils_write_nothing() {
    let s = Scenario::new().await;
    let (_, budget) = budget(&s, true).await;
    let (rep, _) = s
        .app
        .user(&s.council, Role::Representative, None, None)
        .await;
    let path = format!("/api/v1/budgets/{budget}/agreements");
    let base = grant(rep, "nominated_person");
    let with = |field: &str, value: Value| {
        let mut body = base.clone();
        body[field] = value;
        body
    };
    let cases = [
        (with("acting_as", json!("butler")), "invalid_request"),
        (with("powers", json!(["spend"])), "invalid_request"),
        (with("powers", json!([])), "invalid_request"),
        (with("categories", json!(["holidays"])), "invalid_request"),
        (with("max_per_payment", json!(200)), "invalid_amount"),
        (with("max_per_payment", json!("200.001")), "invalid_amount"),
        (with("max_per_payment", json!("-1.00")), "invalid_amount"),
        (with("valid_to", json!("2024-01-01")), "invalid_request"),
        (with("surprise", json!(1)), "invalid_request"),
        (with("user_id", json!(Uuid::new_v4())), "invalid_request"),
        (with("user_id", json!(s.maker.id)), "invalid_request"),
    ];
    for (body, code) in cases {
        let reply = s.app.post(&path, &s.care_manager.token, body.clone()).await;
        assert!(reply.status.is_client_error(), "{body}: {}", reply.text);
        assert_eq!(reply.code(), code, "{body}: {}", reply.text);
    }
    let reply = s.app.post(&path, &s.broker.token, base.clone()).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = s.app.post(&path, &s.maker.token, base.clone()).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let elsewhere = s.elsewhere().await;
    let reply = s
        .app
        .post(&path, &elsewhere.care_manager, base.clone())
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = s.app.get(&path, &elsewhere.care_manager).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(count(&s).await, 0);
}

#[tokio::test]
async fn a_grant_shows_the_budget_to_its_party_until_it_ends_or_stops_fitting() {
    let s = Scenario::new().await;
    let (person, budget) = budget(&s, true).await;
    let (rep, rep_token) = s
        .app
        .user(&s.council, Role::Representative, None, None)
        .await;
    let budget_path = format!("/api/v1/budgets/{budget}");
    assert_eq!(
        s.app.get(&budget_path, &rep_token).await.status,
        StatusCode::NOT_FOUND
    );
    let path = format!("/api/v1/budgets/{budget}/agreements");
    let created = s
        .app
        .post(&path, &s.care_manager.token, grant(rep, "nominated_person"))
        .await;
    let grant_id = id(&created);
    assert_eq!(
        s.app.get(&budget_path, &rep_token).await.status,
        StatusCode::OK
    );
    // The person loses capacity: the nominated person's grant stops fitting.
    let patch = s
        .app
        .patch(
            &format!("/api/v1/people/{person}"),
            &s.care_manager.token,
            json!({"has_capacity": false}),
        )
        .await;
    assert_eq!(patch.status, StatusCode::OK, "{}", patch.text);
    assert_eq!(
        patch.json["grants_stopped"][0]["id"],
        json!(grant_id),
        "{}",
        patch.text
    );
    assert!(patch.json["grants_stopped"][0]["misfit"]
        .as_str()
        .unwrap()
        .contains("capacity"));
    let list = s.app.get(&path, &s.care_manager.token).await;
    assert_eq!(list.json["items"][0]["in_force"], false);
    // Ended: 200, then 409; the party no longer sees the budget.
    let end = format!("{path}/{grant_id}/end");
    let ended = s.app.post(&end, &s.care_manager.token, json!({})).await;
    assert_eq!(ended.status, StatusCode::OK, "{}", ended.text);
    assert!(ended.json["ended_at"].is_string());
    let again = s.app.post(&end, &s.care_manager.token, json!({})).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(
        s.app.get(&budget_path, &rep_token).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn policy_changes_add_versions_and_only_admins_change_it() {
    let s = Scenario::new().await;
    let current = s.app.get("/api/v1/policy", &s.care_manager.token).await;
    assert_eq!(current.status, StatusCode::OK, "{}", current.text);
    assert_eq!(current.json["version"], 1);
    assert_eq!(current.json["receipt_threshold"], "250.00");
    let mut body = current.json.clone();
    body.as_object_mut().unwrap().remove("version");
    body["dp_may_buy_council_services"] = json!(false);
    body["receipt_threshold"] = json!("100");
    body["reason"] = json!("Cabinet decision 12/2026");
    let refused = s
        .app
        .put("/api/v1/policy", &s.care_manager.token, body.clone())
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let changed = s
        .app
        .put("/api/v1/policy", &s.council.admin_token, body.clone())
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.json["version"], 2);
    assert_eq!(changed.json["receipt_threshold"], "100.00");
    let mut bad = body.clone();
    bad["hold_expiry_days"] = json!(0);
    let reply = s
        .app
        .put("/api/v1/policy", &s.council.admin_token, bad)
        .await;
    assert_eq!(reply.code(), "invalid_request", "{}", reply.text);
    let mut bad = body.clone();
    bad["receipt_threshold"] = json!("1.234");
    let reply = s
        .app
        .put("/api/v1/policy", &s.council.admin_token, bad)
        .await;
    assert_eq!(reply.code(), "invalid_amount", "{}", reply.text);
    let mut bad = body;
    bad["gambling_allowed"] = json!(true);
    let reply = s
        .app
        .put("/api/v1/policy", &s.council.admin_token, bad)
        .await;
    assert_eq!(reply.code(), "invalid_request", "{}", reply.text);
    let versions = s.app.get("/api/v1/policy/versions", &s.auditor.token).await;
    let items = versions.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", versions.text);
    assert_eq!(items[0]["reason"], "Cabinet decision 12/2026");
    assert_eq!(items[1]["policy"]["version"], 1);
    // The OpenAPI description lists the new paths.
    let spec = s.app.get("/api/openapi.json", &s.auditor.token).await;
    for path in [
        "/api/v1/budgets/{id}/agreements",
        "/api/v1/budgets/{id}/agreements/{grant_id}/end",
        "/api/v1/policy",
        "/api/v1/policy/versions",
        "/api/v1/payments",
        "/api/v1/payments/{id}/approve",
        "/api/v1/payments/{id}/reject",
        "/api/v1/approvals",
        "/api/v1/budgets/{id}/decisions",
    ] {
        assert!(spec.json["paths"][path].is_object(), "{path} missing");
    }
}

/// The agreement page says in plain words how decisions are made, records a grant from its form,
/// refuses a form without the CSRF token, and escapes what people typed.
#[tokio::test]
async fn the_agreement_page_explains_decisions_and_records_grants() {
    let s = Scenario::new().await;
    let (_, budget) = budget(&s, false).await;
    let (rep, _) = s
        .app
        .user(&s.council, Role::Representative, None, None)
        .await;
    // A party whose name is markup.
    allot::db::in_tenant_tx(&s.app.db.pool, s.council.id, |tx| {
        Box::pin(async move {
            tx.execute(
                "UPDATE users SET name = '<script>alert(1)</script> Jo' WHERE id = $1",
                &[&rep],
            )
            .await?;
            Ok(())
        })
    })
    .await
    .unwrap();
    let (cookie, csrf) = s.app.session(s.council.id, s.care_manager.id).await;
    let path = format!("/budgets/{budget}/agreement");
    let page = s.app.page(&path, &cookie).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("How decisions are made"));
    assert!(page.text.contains("best interests"), "{}", page.text);
    assert!(page
        .text
        .contains("Nobody has been given authority to make payments yet."));
    let rep_id = rep.to_string();
    let fields = vec![
        ("csrf_token", csrf.as_str()),
        ("user_id", rep_id.as_str()),
        ("acting_as", "authorised_person"),
        ("pay", "yes"),
        ("category", "personal_care"),
        ("max_per_payment", "150"),
        ("cosign_above", "100"),
        ("valid_from", "2025-01-01"),
    ];
    let refused = s.app.form(&path, &cookie, &fields[1..]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // A nominated person does not fit someone without capacity: shown in the form, nothing saved.
    let mut misfit = fields.clone();
    misfit[2] = ("acting_as", "nominated_person");
    let shown = s.app.form(&path, &cookie, &misfit).await;
    assert_eq!(
        shown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        shown.text
    );
    assert!(shown.text.contains("nominated person"), "{}", shown.text);
    assert_eq!(count(&s).await, 0);
    let saved = s.app.form(&path, &cookie, &fields).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let page = s.app.page(&path, &cookie).await;
    assert!(
        page.text
            .contains("may pay up to £150.00 a payment for personal care"),
        "{}",
        page.text
    );
    assert!(page
        .text
        .contains("above £100.00 a second person must agree"));
    assert!(!page.text.contains("<script>alert(1)</script>"));
    assert!(page.text.contains("&lt;script&gt;"));
}
