//! Decision-making agreements and council policy through the API: `capacity_role` for each kind
//! of party, bad input writing nothing, roles, other councils, ending grants, capacity changes,
//! the deployments a grant covers (and their backfill by V6), seeing a budget only through a
//! grant that still counts, and versioned policy.

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
    // A grant that does not fit shows nothing.
    assert_eq!(
        s.app.get(&budget_path, &rep_token).await.status,
        StatusCode::NOT_FOUND
    );
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
    // No money named in the form: the authorised person's grant covers the direct payment.
    assert!(
        page.text
            .contains("a payment for personal care from the direct payment"),
        "{}",
        page.text
    );
    assert!(!page.text.contains("<script>alert(1)</script>"));
    assert!(page.text.contains("&lt;script&gt;"));
}

/// The council's business date, as the database has it.
async fn london_today(s: &Scenario) -> chrono::NaiveDate {
    allot::db::in_tenant_tx(&s.app.db.pool, s.council.id, |tx| {
        Box::pin(async move { allot::budgets::today(tx).await })
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_grant_covers_the_usual_money_of_its_party_or_the_deployments_named() {
    let s = Scenario::new().await;
    let person = s.person("Dee Ployment", true, false).await;
    let budget = s
        .approved_budget(
            Scenario::budget_body(person),
            json!([
                Scenario::line("personal_care", "100.00", "direct_payment", None),
                Scenario::line(
                    "personal_care",
                    "50.00",
                    "managed_account",
                    Some(s.ma_provider)
                ),
                Scenario::line("day_activities", "80.00", "isf", Some(s.isf_provider)),
            ]),
        )
        .await;
    // A budget whose accounts the providers do not hold (yet).
    let (_, dp_only) = self::budget(&s, true).await;
    let (holder, _) = s
        .app
        .user(&s.council, Role::BudgetHolder, None, Some(person))
        .await;
    let (rep, _) = s
        .app
        .user(&s.council, Role::Representative, None, None)
        .await;
    let path = |b: Uuid| format!("/api/v1/budgets/{b}/agreements");
    let token = &s.care_manager.token;
    let cases = [
        (budget, grant(holder, "self"), json!(["direct_payment"])),
        (
            budget,
            grant(rep, "nominated_person"),
            json!(["direct_payment"]),
        ),
        (
            budget,
            grant(rep, "family_member"),
            json!(["direct_payment"]),
        ),
        (
            budget,
            grant(s.broker.id, "broker"),
            json!(["direct_payment"]),
        ),
        (
            budget,
            grant(s.ma_staff.id, "managed_account_provider"),
            json!(["managed_account"]),
        ),
        (
            budget,
            grant(s.isf_staff.id, "isf_provider"),
            json!(["isf"]),
        ),
        (
            dp_only,
            grant(s.ma_staff.id, "managed_account_provider"),
            json!(["managed_account"]),
        ),
        (
            dp_only,
            grant(s.isf_staff.id, "isf_provider"),
            json!(["isf"]),
        ),
    ];
    for (budget, body, want) in cases {
        let reply = s.app.post(&path(budget), token, body.clone()).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{body}: {}", reply.text);
        assert_eq!(reply.json["deployments"], want, "{body}");
    }
    // Named deployments are kept, in a fixed order.
    let mut named = grant(rep, "nominated_person");
    named["deployments"] = json!(["managed_account", "direct_payment"]);
    let reply = s.app.post(&path(budget), token, named).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(
        reply.json["deployments"],
        json!(["direct_payment", "managed_account"])
    );
    let grant_id = id(&reply);
    let list = s.app.get(&path(budget), token).await;
    let listed = list.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == json!(grant_id))
        .cloned()
        .unwrap();
    assert_eq!(
        listed["deployments"],
        json!(["direct_payment", "managed_account"])
    );
    let stored: Vec<String> = allot::db::in_tenant_tx(&s.app.db.pool, s.council.id, |tx| {
        Box::pin(async move {
            Ok(tx
                .query_one(
                    "SELECT deployments FROM agreement_grants WHERE id = $1",
                    &[&grant_id],
                )
                .await?
                .get(0))
        })
    })
    .await
    .unwrap();
    assert_eq!(stored, ["direct_payment", "managed_account"]);
}

#[tokio::test]
async fn unknown_empty_repeated_or_council_managed_deployments_are_refused() {
    let s = Scenario::new().await;
    let (_, budget) = budget(&s, true).await;
    let (rep, _) = s
        .app
        .user(&s.council, Role::Representative, None, None)
        .await;
    let path = format!("/api/v1/budgets/{budget}/agreements");
    let with = |deployments: Value| {
        let mut body = grant(rep, "nominated_person");
        body["deployments"] = deployments;
        body
    };
    for deployments in [
        json!(["cash"]),
        json!("direct_payment"),
        json!([]),
        json!(["isf", "isf"]),
        json!(["direct_payment", "council_managed"]),
    ] {
        let body = with(deployments.clone());
        let reply = s.app.post(&path, &s.care_manager.token, body).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{deployments}: {}",
            reply.text
        );
        assert_eq!(reply.code(), "invalid_request", "{}", reply.text);
        let field = reply.json["error"]["details"][0]["field"]
            .as_str()
            .unwrap_or_default();
        assert!(
            field.starts_with("deployments"),
            "{deployments}: {}",
            reply.text
        );
    }
    let reply = s
        .app
        .post(
            &path,
            &s.care_manager.token,
            with(json!(["council_managed"])),
        )
        .await;
    assert!(
        reply.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("council staff"),
        "{}",
        reply.text
    );
    assert_eq!(count(&s).await, 0);
    // The OpenAPI description documents the field.
    let spec = s.app.get("/api/openapi.json", &s.auditor.token).await;
    assert!(
        spec.json["components"]["schemas"]["NewGrant"]["properties"]["deployments"].is_object(),
        "{}",
        spec.json["components"]["schemas"]["NewGrant"]
    );
}

#[tokio::test]
async fn a_grant_past_its_last_day_shows_nothing_and_a_later_one_already_shows_the_budget() {
    let s = Scenario::new().await;
    let (_, budget) = budget(&s, true).await;
    let today = london_today(&s).await;
    let day = |offset: i64| (today + chrono::Duration::days(offset)).to_string();
    let path = format!("/api/v1/budgets/{budget}/agreements");
    let budget_path = format!("/api/v1/budgets/{budget}");
    let account = crate::support::scenario::account(&s.budget_view(budget).await, "direct_payment")
        ["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let entries_path = format!("/api/v1/accounts/{account}/entries");
    // (first day, last day, sees the budget)
    let cases = [
        (day(-100), Some(day(-1)), false),
        (day(-100), Some(day(0)), true),
        (day(-100), None, true),
        (day(30), Some(day(60)), true),
    ];
    for (from, to, sees) in cases {
        let (rep, rep_token) = s
            .app
            .user(&s.council, Role::Representative, None, None)
            .await;
        let mut body = grant(rep, "family_member");
        body["valid_from"] = json!(from);
        body["valid_to"] = json!(to);
        let reply = s.app.post(&path, &s.care_manager.token, body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        let want = if sees {
            StatusCode::OK
        } else {
            StatusCode::NOT_FOUND
        };
        let reply = s.app.get(&budget_path, &rep_token).await;
        assert_eq!(reply.status, want, "{from} to {to:?}: {}", reply.text);
        let reply = s.app.get(&entries_path, &rep_token).await;
        assert_eq!(reply.status, want, "{from} to {to:?}: {}", reply.text);
    }
}

#[tokio::test]
async fn an_authorised_person_sees_the_budget_only_while_the_person_lacks_capacity() {
    let s = Scenario::new().await;
    let (person, budget) = budget(&s, false).await;
    let (rep, rep_token) = s
        .app
        .user(&s.council, Role::Representative, None, None)
        .await;
    let created = s
        .app
        .post(
            &format!("/api/v1/budgets/{budget}/agreements"),
            &s.care_manager.token,
            grant(rep, "authorised_person"),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let budget_path = format!("/api/v1/budgets/{budget}");
    let capacity = |has: bool| {
        let s = &s;
        async move {
            let patch = s
                .app
                .patch(
                    &format!("/api/v1/people/{person}"),
                    &s.care_manager.token,
                    json!({"has_capacity": has}),
                )
                .await;
            assert_eq!(patch.status, StatusCode::OK, "{}", patch.text);
        }
    };
    assert_eq!(
        s.app.get(&budget_path, &rep_token).await.status,
        StatusCode::OK
    );
    capacity(true).await;
    assert_eq!(
        s.app.get(&budget_path, &rep_token).await.status,
        StatusCode::NOT_FOUND
    );
    // The record changes back: the grant fits again, and so the budget shows again.
    capacity(false).await;
    assert_eq!(
        s.app.get(&budget_path, &rep_token).await.status,
        StatusCode::OK
    );
}

/// Grants recorded before V6 (here on a database migrated to V5) get the deployments their party
/// would get today: the direct payment for the person and those acting for them; for a provider,
/// the deployments its organisation holds on the budget, or the one it provides if none.
#[tokio::test]
async fn v6_backfills_deployments_from_the_accounts_each_provider_holds() {
    use tokio_postgres::NoTls;

    let test_db = allot::db::testing::TestDb::new().await;
    let mut server = test_db.config.clone();
    server.dbname("postgres");
    let (admin, connection) = server.connect(NoTls).await.unwrap();
    let admin_task = tokio::spawn(connection);
    let name = format!("t_{}", Uuid::new_v4().simple());
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let mut config = test_db.config.clone();
    config.dbname(&name);
    let (mut db, connection) = config.connect(NoTls).await.unwrap();
    let task = tokio::spawn(connection);

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sql");
    let mut migrations = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let sql = std::fs::read_to_string(&path).unwrap();
        migrations.push(refinery::Migration::unapplied(&file, &sql).unwrap());
    }
    refinery::Runner::new(&migrations)
        .set_target(refinery::Target::Version(5))
        .run_async(&mut db)
        .await
        .unwrap();
    db.batch_execute(V5_GRANTS).await.unwrap();
    let applied = allot::db::migrate::run(&mut db).await.unwrap();
    assert!(
        applied.iter().any(|m| m.contains("grant_deployments")),
        "{applied:?}"
    );

    let rows = db
        .query(
            "SELECT id::text, deployments FROM agreement_grants ORDER BY id",
            &[],
        )
        .await
        .unwrap();
    let got: Vec<(String, Vec<String>)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    let want: Vec<(String, Vec<String>)> = [
        ("101", vec!["direct_payment"]),
        ("102", vec!["direct_payment"]),
        ("103", vec!["direct_payment"]),
        ("104", vec!["direct_payment"]),
        ("105", vec!["managed_account"]),
        ("106", vec!["isf"]),
        ("107", vec!["managed_account"]),
        ("108", vec!["managed_account", "isf"]),
    ]
    .into_iter()
    .map(|(id, d)| {
        (
            format!("00000000-0000-0000-0000-000000000{id}"),
            d.into_iter().map(str::to_owned).collect(),
        )
    })
    .collect();
    assert_eq!(got, want);
    // The column is now required, non-empty and limited to the four deployments.
    for bad in ["NULL", "'{}'", "'{cash}'", "ARRAY['isf', NULL]"] {
        let result = db
            .execute(
                &format!(
                    "UPDATE agreement_grants SET deployments = {bad} WHERE acting_as = 'self'"
                ),
                &[],
            )
            .await;
        assert!(result.is_err(), "{bad} was accepted");
    }
    db.execute(
        "UPDATE agreement_grants SET deployments = '{isf,council_managed}' WHERE acting_as = 'self'",
        &[],
    )
    .await
    .unwrap();
    drop(db);
    let _ = task.await;
    drop(admin);
    let _ = admin_task.await;
}

/// A council as V5 left it: a managed-account provider holding the managed account, an ISF
/// provider holding nothing, and a provider holding both an ISF and a managed account, with
/// grants for every kind of party.
const V5_GRANTS: &str = "
INSERT INTO councils (id, name) VALUES ('00000000-0000-0000-0000-0000000000c1', 'Backfill council');
INSERT INTO organisations (council_id, id, name, kind) VALUES
  ('00000000-0000-0000-0000-0000000000c1', '00000000-0000-0000-0000-0000000000a1', 'MA provider', 'managed_account_provider'),
  ('00000000-0000-0000-0000-0000000000c1', '00000000-0000-0000-0000-0000000000a2', 'ISF provider', 'isf_provider'),
  ('00000000-0000-0000-0000-0000000000c1', '00000000-0000-0000-0000-0000000000a3', 'Both', 'isf_provider'),
  ('00000000-0000-0000-0000-0000000000c1', '00000000-0000-0000-0000-0000000000a4', 'Brokers', 'broker');
INSERT INTO people (council_id, id, name, date_of_birth, has_capacity) VALUES
  ('00000000-0000-0000-0000-0000000000c1', '00000000-0000-0000-0000-0000000000b1', 'Person', '1950-01-01', true);
INSERT INTO users (council_id, id, email, name, role, organisation_id, person_id, password_iterations,
                   password_salt, password_hash)
SELECT '00000000-0000-0000-0000-0000000000c1', u.id::uuid, u.email, u.email, u.role, u.org::uuid,
       u.person::uuid, 100000, decode(repeat('00', 16), 'hex'), decode(repeat('00', 32), 'hex')
  FROM (VALUES
    ('00000000-0000-0000-0000-0000000000d1', 'cm@backfill.example', 'care_manager', NULL, NULL),
    ('00000000-0000-0000-0000-0000000000d2', 'self@backfill.example', 'budget_holder', NULL,
     '00000000-0000-0000-0000-0000000000b1'),
    ('00000000-0000-0000-0000-0000000000d3', 'rep@backfill.example', 'representative', NULL, NULL),
    ('00000000-0000-0000-0000-0000000000d4', 'broker@backfill.example', 'broker',
     '00000000-0000-0000-0000-0000000000a4', NULL),
    ('00000000-0000-0000-0000-0000000000d5', 'ma@backfill.example', 'provider_staff',
     '00000000-0000-0000-0000-0000000000a1', NULL),
    ('00000000-0000-0000-0000-0000000000d6', 'isf@backfill.example', 'provider_staff',
     '00000000-0000-0000-0000-0000000000a2', NULL),
    ('00000000-0000-0000-0000-0000000000d7', 'both@backfill.example', 'provider_staff',
     '00000000-0000-0000-0000-0000000000a3', NULL)
  ) AS u (id, email, role, org, person);
INSERT INTO budgets (council_id, id, reference, person_id, funder, annual_cost, weekly_contribution,
                     contribution_basis, start_date, created_by)
VALUES ('00000000-0000-0000-0000-0000000000c1', '00000000-0000-0000-0000-0000000000e1', 'PB000001',
        '00000000-0000-0000-0000-0000000000b1', 'council', 15600, 0, 'net', '2026-01-01',
        '00000000-0000-0000-0000-0000000000d1');
INSERT INTO budget_accounts (council_id, account_id, budget_id, purpose, deployment, holder_kind,
                             holder_organisation_id)
SELECT '00000000-0000-0000-0000-0000000000c1', a.id::uuid, '00000000-0000-0000-0000-0000000000e1',
       'deployment', a.deployment, a.kind, a.org::uuid
  FROM (VALUES
    ('00000000-0000-0000-0000-0000000000f1', 'direct_payment', 'person', NULL),
    ('00000000-0000-0000-0000-0000000000f2', 'managed_account', 'organisation',
     '00000000-0000-0000-0000-0000000000a1'),
    ('00000000-0000-0000-0000-0000000000f3', 'isf', 'organisation', '00000000-0000-0000-0000-0000000000a3'),
    ('00000000-0000-0000-0000-0000000000f4', 'managed_account', 'organisation',
     '00000000-0000-0000-0000-0000000000a3'),
    ('00000000-0000-0000-0000-0000000000f5', 'council_managed', 'council', NULL)
  ) AS a (id, deployment, kind, org);
INSERT INTO agreement_grants (council_id, id, budget_id, user_id, acting_as, powers, max_per_payment,
                              valid_from, recorded_by)
SELECT '00000000-0000-0000-0000-0000000000c1', g.id::uuid, '00000000-0000-0000-0000-0000000000e1',
       g.user_id::uuid, g.acting_as, ARRAY['pay'], 100, '2026-01-01', '00000000-0000-0000-0000-0000000000d1'
  FROM (VALUES
    ('00000000-0000-0000-0000-000000000101', '00000000-0000-0000-0000-0000000000d2', 'self'),
    ('00000000-0000-0000-0000-000000000102', '00000000-0000-0000-0000-0000000000d3', 'nominated_person'),
    ('00000000-0000-0000-0000-000000000103', '00000000-0000-0000-0000-0000000000d3', 'family_member'),
    ('00000000-0000-0000-0000-000000000104', '00000000-0000-0000-0000-0000000000d4', 'broker'),
    ('00000000-0000-0000-0000-000000000105', '00000000-0000-0000-0000-0000000000d5', 'managed_account_provider'),
    ('00000000-0000-0000-0000-000000000106', '00000000-0000-0000-0000-0000000000d6', 'isf_provider'),
    ('00000000-0000-0000-0000-000000000107', '00000000-0000-0000-0000-0000000000d6', 'managed_account_provider'),
    ('00000000-0000-0000-0000-000000000108', '00000000-0000-0000-0000-0000000000d7', 'isf_provider')
  ) AS g (id, user_id, acting_as);
";
