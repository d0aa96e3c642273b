//! Budgets, people's preferences, support plans, payees, reviews and visibility through the API.

use axum::http::StatusCode;
use serde_json::json;

use allot::auth::Role;

use crate::support::scenario::{account, id, Scenario, START};

#[tokio::test]
async fn people_carry_contact_and_communication_preferences() {
    let s = Scenario::new().await;
    let created = s
        .app
        .post(
            "/api/v1/people",
            &s.care_manager.token,
            json!({"name": "Ada Lovelace", "date_of_birth": "1951-12-10", "has_capacity": true,
                   "contact": {"phone": "01632 960 001", "preferred": "phone"},
                   "communication": {"formats": ["large_print", "easy_read"], "language": "Welsh"}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json["contact"]["preferred"], "phone");
    assert_eq!(
        created.json["communication"]["formats"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let person = id(&created);

    let changed = s
        .app
        .patch(
            &format!("/api/v1/people/{person}"),
            &s.care_manager.token,
            json!({"has_capacity": false, "communication": {"formats": ["braille"]}}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.json["has_capacity"], false);
    assert_eq!(changed.json["communication"]["formats"], json!(["braille"]));
    assert_eq!(changed.json["communication"]["language"], json!(null));
    let client = s.app.db.pool.get().await.unwrap();
    let history: serde_json::Value = client
        .query_one(
            "SELECT changes FROM person_changes WHERE person_id = $1",
            &[&person],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(history["has_capacity"], json!({"from": true, "to": false}));

    let finance = s
        .app
        .patch(
            &format!("/api/v1/people/{person}"),
            &s.maker.token,
            json!({"has_capacity": true}),
        )
        .await;
    assert_eq!(finance.status, StatusCode::FORBIDDEN);
    let bad = s
        .app
        .patch(
            &format!("/api/v1/people/{person}"),
            &s.care_manager.token,
            json!({"contact": {"preferred": "pigeon"}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad.json["error"]["details"][0]["field"],
        "contact.preferred"
    );
}

#[tokio::test]
async fn a_budget_states_cost_person_and_council_amounts() {
    let s = Scenario::new().await;
    let person = s.person("Bea", true, false).await;
    let mut body = Scenario::budget_body(person);
    body["annual_cost"] = json!("15600");
    body["weekly_contribution"] = json!("45.5");
    let reply = s
        .app
        .post("/api/v1/budgets", &s.care_manager.token, body)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.json["cost"], "15600.00");
    assert_eq!(reply.json["person_amount"], "2366.00");
    assert_eq!(reply.json["council_amount"], "13234.00");
    assert!(reply.json["reference"].as_str().unwrap().starts_with("PB"));
    let view = s.budget_view(id(&reply)).await;
    assert_eq!(view["council_amount"], "13234.00");
    assert_eq!(view["person"]["name"], "Bea");
    assert_eq!(view["plan"], json!(null));
    assert_eq!(view["accounts"], json!([]));
}

#[tokio::test]
async fn bad_budget_input_is_refused_and_changes_nothing() {
    let s = Scenario::new().await;
    let other = s.elsewhere().await;
    let person = s.person("Cy", true, false).await;
    let before = s.app.snapshot().await;
    let base = Scenario::budget_body(person);
    let with = |field: &str, value: serde_json::Value| {
        let mut body = base.clone();
        body[field] = value;
        body
    };
    let cases = [
        (
            with("annual_cost", json!(26000)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_amount",
        ),
        (
            with("annual_cost", json!("26000.001")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_amount",
        ),
        (
            with("annual_cost", json!("-5.00")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_amount",
        ),
        (
            with("annual_cost", json!("0")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_amount",
        ),
        (
            with("weekly_contribution", json!("-1.00")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_amount",
        ),
        (
            with("weekly_contribution", json!(12.5)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_amount",
        ),
        (
            with("funder", json!("lottery")),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            with("contribution_basis", json!("sideways")),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            with(
                "bank",
                json!({"sort_code": "12-34-5", "account_number": "12345678", "account_name": "X"}),
            ),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            with(
                "bank",
                json!({"sort_code": "12-34-56", "account_number": "1234567", "account_name": "X"}),
            ),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            with("broker_organisation_id", json!(s.ma_provider)),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            with("broker_organisation_id", json!(other.broker_org)),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            with("person_id", json!(other.person)),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            {
                // Reablement is free: a contribution is refused.
                let mut body = with("kind", json!("reablement"));
                body["end_date"] = json!("2025-02-10");
                body["weekly_contribution"] = json!("5.00");
                body
            },
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            with("direct_payment", json!({"recipient": "nominated_person"})),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
    ];
    for (body, status, code) in cases {
        let reply = s
            .app
            .post("/api/v1/budgets", &s.care_manager.token, body.clone())
            .await;
        assert_eq!(reply.status, status, "{body}: {}", reply.text);
        assert_eq!(reply.code(), code, "{body}");
        assert!(reply.json["error"]["message"].as_str().unwrap().len() > 5);
    }
    let three_places = s
        .app
        .post_raw(
            "/api/v1/budgets",
            &s.care_manager.token,
            &base.to_string().replace("\"26000.00\"", "26000.005"),
        )
        .await;
    assert_eq!(three_places.code(), "invalid_amount");
    let sort_code = s
        .app
        .post(
            "/api/v1/budgets",
            &s.care_manager.token,
            with(
                "bank",
                json!({"sort_code": "1234567", "account_number": "12345678", "account_name": "X"}),
            ),
        )
        .await;
    assert_eq!(
        sort_code.json["error"]["details"][0]["field"],
        "bank.sort_code"
    );
    let forbidden = s
        .app
        .post("/api/v1/budgets", &s.maker.token, base.clone())
        .await;
    assert_eq!(forbidden.code(), "forbidden");
    assert_eq!(
        s.app.snapshot().await,
        before,
        "a refused request changed the database"
    );
}

#[tokio::test]
async fn plans_refuse_bad_lines_and_change_nothing() {
    let s = Scenario::new().await;
    let other = s.elsewhere().await;
    let person = s.person("Dee", true, false).await;
    let budget = s.budget(Scenario::budget_body(person)).await;
    let before = s.app.snapshot().await;
    let line = Scenario::line;
    let cases = [
        (
            json!([line("hairdressing", "10.00", "direct_payment", None)]),
            StatusCode::BAD_REQUEST,
            "lines[0].category",
        ),
        (
            json!([line("transport", "10.00", "piggy_bank", None)]),
            StatusCode::BAD_REQUEST,
            "lines[0].deployment",
        ),
        (
            json!([
                line("transport", "10.00", "direct_payment", None),
                line(
                    "personal_care",
                    "10.00",
                    "managed_account",
                    Some(s.isf_provider)
                )
            ]),
            StatusCode::BAD_REQUEST,
            "lines[1].holder_organisation_id",
        ),
        (
            json!([line("personal_care", "10.00", "isf", Some(s.broker_org))]),
            StatusCode::BAD_REQUEST,
            "lines[0].holder_organisation_id",
        ),
        (
            json!([line("personal_care", "10.00", "isf", None)]),
            StatusCode::BAD_REQUEST,
            "lines[0].holder_organisation_id",
        ),
        (
            json!([line(
                "personal_care",
                "10.00",
                "direct_payment",
                Some(s.ma_provider)
            )]),
            StatusCode::BAD_REQUEST,
            "lines[0].holder_organisation_id",
        ),
        (
            json!([line(
                "personal_care",
                "10.00",
                "isf",
                Some(other.isf_provider)
            )]),
            StatusCode::NOT_FOUND,
            "",
        ),
        (
            json!([line("personal_care", "-10.00", "direct_payment", None)]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "lines[0].weekly_amount",
        ),
        (
            json!([line("personal_care", "10.005", "direct_payment", None)]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "lines[0].weekly_amount",
        ),
        (
            json!([{"category": "transport", "need": "x", "weekly_amount": 10, "deployment": "direct_payment"}]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "lines[0].weekly_amount",
        ),
        (json!([]), StatusCode::BAD_REQUEST, "lines"),
    ];
    for (lines, status, field) in cases {
        let reply = s.plan(budget, lines.clone()).await;
        assert_eq!(reply.status, status, "{lines}: {}", reply.text);
        if !field.is_empty() {
            assert_eq!(reply.json["error"]["details"][0]["field"], field, "{lines}");
        }
    }
    let elsewhere = s
        .app
        .put(
            &format!("/api/v1/budgets/{budget}/plan"),
            &other.care_manager,
            json!({"lines": [line("transport", "10.00", "direct_payment", None)]}),
        )
        .await;
    assert_eq!(
        elsewhere.status,
        StatusCode::NOT_FOUND,
        "another council's budget"
    );
    assert_eq!(
        s.app.snapshot().await,
        before,
        "a refused plan changed the database"
    );
}

#[tokio::test]
async fn approval_checks_the_budget_opens_accounts_and_happens_once() {
    let s = Scenario::new().await;
    let person = s.person("Eve", true, false).await;
    let budget = s.budget(Scenario::budget_body(person)).await;
    // 500.01 a week is 26000.52 a year: over the 26000.00 budget.
    let over = s
        .plan(
            budget,
            json!([Scenario::line(
                "personal_care",
                "500.01",
                "direct_payment",
                None
            )]),
        )
        .await;
    assert_eq!(over.status, StatusCode::OK, "{}", over.text);
    let before = s.app.snapshot().await;
    let refused = s.approve_plan(budget).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert_eq!(refused.code(), "plan_over_budget");
    assert_eq!(
        refused.json["error"]["details"][0]["rule"],
        "plan_over_budget"
    );
    assert_eq!(s.app.snapshot().await, before);

    let lines = json!([
        Scenario::line("personal_assistant", "200.00", "direct_payment", None),
        Scenario::line(
            "personal_care",
            "150.00",
            "managed_account",
            Some(s.ma_provider)
        ),
        Scenario::line(
            "account_management",
            "10.00",
            "managed_account",
            Some(s.ma_provider)
        ),
        Scenario::line("day_activities", "100.00", "isf", Some(s.isf_provider)),
        Scenario::line("domestic_support", "40.00", "council_managed", None),
    ]);
    assert_eq!(s.plan(budget, lines).await.status, StatusCode::OK);
    let approved = s.approve_plan(budget).await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    assert_eq!(approved.json["status"], "approved");
    assert_eq!(approved.json["annual_total"], "26000.00");

    let view = s.budget_view(budget).await;
    let accounts = view["accounts"].as_array().unwrap();
    assert_eq!(
        accounts.len(),
        4,
        "one per deployment and holder: {accounts:?}"
    );
    assert_eq!(account(&view, "direct_payment")["holder"]["kind"], "person");
    assert_eq!(
        account(&view, "managed_account")["holder"]["organisation_id"],
        json!(s.ma_provider)
    );
    assert_eq!(
        account(&view, "isf")["holder"]["organisation_id"],
        json!(s.isf_provider)
    );
    assert_eq!(
        account(&view, "council_managed")["holder"]["kind"],
        "council"
    );
    assert_eq!(account(&view, "direct_payment")["posted_balance"], "0.00");
    let first_review = view["next_review_due"].as_str().unwrap();
    let today = allot::clock::system_now().date_naive();
    let due: chrono::NaiveDate = first_review.parse().unwrap();
    assert!(
        due > today && due <= today + chrono::Months::new(6),
        "{first_review}"
    );

    let before = s.app.snapshot().await;
    let again = s.approve_plan(budget).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "conflict");
    assert_eq!(s.app.snapshot().await, before);
}

#[tokio::test]
async fn a_new_plan_version_supersedes_the_old_and_keeps_it() {
    let s = Scenario::new().await;
    let person = s.person("Fay", true, false).await;
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
    let v2 = s
        .plan(
            budget,
            json!([
                Scenario::line("personal_care", "120.00", "direct_payment", None),
                Scenario::line("therapy", "30.00", "isf", Some(s.isf_provider))
            ]),
        )
        .await;
    assert_eq!(v2.json["version"], 2);
    let view = s.budget_view(budget).await;
    assert_eq!(
        view["plan"]["version"], 1,
        "the approved plan stays in force"
    );
    assert_eq!(view["draft_plan"]["version"], 2);
    // A second draft replaces the first draft.
    let v3 = s
        .plan(
            budget,
            json!([Scenario::line(
                "personal_care",
                "130.00",
                "direct_payment",
                None
            )]),
        )
        .await;
    assert_eq!(v3.json["version"], 3);
    assert_eq!(s.approve_plan(budget).await.status, StatusCode::OK);
    let view = s.budget_view(budget).await;
    assert_eq!(view["plan"]["version"], 3);
    assert_eq!(view["draft_plan"], json!(null));
    let client = s.app.db.pool.get().await.unwrap();
    let statuses: Vec<String> = client
        .query(
            "SELECT status FROM support_plans WHERE budget_id = $1 ORDER BY version",
            &[&budget],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(statuses, ["superseded", "replaced", "approved"]);
    let lines: i64 = client
        .query_one(
            "SELECT count(*) FROM support_plan_lines l JOIN support_plans p ON p.council_id = l.council_id AND p.id = l.plan_id
             WHERE p.budget_id = $1",
            &[&budget],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(lines, 4, "every version's lines are kept");
}

#[tokio::test]
async fn who_may_see_a_budget() {
    let s = Scenario::new().await;
    let person = s.person("Gus", true, false).await;
    let mut body = Scenario::budget_body(person);
    body["broker_organisation_id"] = json!(s.broker_org);
    let budget = s
        .approved_budget(
            body,
            json!([Scenario::line(
                "personal_care",
                "100.00",
                "managed_account",
                Some(s.ma_provider)
            )]),
        )
        .await;
    let other_person = s.person("Hal", true, false).await;
    let other_budget = s
        .approved_budget(
            Scenario::budget_body(other_person),
            json!([Scenario::line(
                "personal_care",
                "100.00",
                "isf",
                Some(s.isf_provider)
            )]),
        )
        .await;
    let path = format!("/api/v1/budgets/{budget}");
    let (_, holder) = s
        .app
        .user(&s.council, Role::BudgetHolder, None, Some(person))
        .await;
    let (_, other_holder) = s
        .app
        .user(&s.council, Role::BudgetHolder, None, Some(other_person))
        .await;
    let (_, representative) = s
        .app
        .user(&s.council, Role::Representative, None, None)
        .await;
    let other_broker_org = s
        .app
        .post(
            "/api/v1/organisations",
            &s.council.admin_token,
            json!({"name": "Other Brokers", "kind": "broker"}),
        )
        .await;
    let (_, other_broker) = s
        .app
        .user(&s.council, Role::Broker, Some(id(&other_broker_org)), None)
        .await;

    for (who, token, status) in [
        ("care manager", &s.care_manager.token, StatusCode::OK),
        ("auditor", &s.auditor.token, StatusCode::OK),
        ("holding provider", &s.ma_staff.token, StatusCode::OK),
        (
            "provider of another organisation",
            &s.isf_staff.token,
            StatusCode::NOT_FOUND,
        ),
        ("the budget's broker", &s.broker.token, StatusCode::OK),
        ("another broker", &other_broker, StatusCode::NOT_FOUND),
        ("the budget holder", &holder, StatusCode::OK),
        (
            "another budget holder",
            &other_holder,
            StatusCode::NOT_FOUND,
        ),
        (
            "a representative with no agreement",
            &representative,
            StatusCode::NOT_FOUND,
        ),
    ] {
        let reply = s.app.get(&path, token).await;
        assert_eq!(reply.status, status, "{who}: {}", reply.text);
        if status == StatusCode::NOT_FOUND {
            assert_eq!(reply.code(), "not_found");
        }
    }
    assert_eq!(
        s.app
            .get(
                &format!("/api/v1/budgets/{other_budget}"),
                &s.isf_staff.token
            )
            .await
            .status,
        StatusCode::OK
    );
    // People follow budgets.
    let people = s.app.get("/api/v1/people", &s.ma_staff.token).await;
    let names: Vec<&str> = people.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Gus"]);
    assert_eq!(
        s.app
            .get(&format!("/api/v1/people/{other_person}"), &s.ma_staff.token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // The broker drafts plans for the budgets they broker, and only those.
    let line = json!([Scenario::line(
        "personal_care",
        "90.00",
        "managed_account",
        Some(s.ma_provider)
    )]);
    let drafted = s
        .app
        .put(
            &format!("/api/v1/budgets/{budget}/plan"),
            &s.broker.token,
            json!({"lines": line}),
        )
        .await;
    assert_eq!(drafted.status, StatusCode::OK, "{}", drafted.text);
    let not_theirs = s
        .app
        .put(
            &format!("/api/v1/budgets/{other_budget}/plan"),
            &s.broker.token,
            json!({"lines": line}),
        )
        .await;
    assert_eq!(not_theirs.status, StatusCode::NOT_FOUND);
    let approve = s
        .app
        .post(
            &format!("/api/v1/budgets/{budget}/plan/approve"),
            &s.broker.token,
            json!({}),
        )
        .await;
    assert_eq!(approve.code(), "forbidden", "only care managers approve");
}

#[tokio::test]
async fn another_councils_budget_is_not_found() {
    let s = Scenario::new().await;
    let person = s.person("Ida", true, false).await;
    let budget = s.budget(Scenario::budget_body(person)).await;
    let (_, other_cm) = {
        let other = s.app.council("Other Council").await;
        s.app.user(&other, Role::CareManager, None, None).await
    };
    for reply in [
        s.app
            .get(&format!("/api/v1/budgets/{budget}"), &other_cm)
            .await,
        s.app
            .post(
                &format!("/api/v1/budgets/{budget}/plan/approve"),
                &other_cm,
                json!({}),
            )
            .await,
        s.app
            .put(
                &format!("/api/v1/budgets/{budget}/plan"),
                &other_cm,
                json!({"lines": [Scenario::line("transport", "5.00", "direct_payment", None)]}),
            )
            .await,
    ] {
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
        assert_eq!(reply.code(), "not_found");
    }
}

#[tokio::test]
async fn payees_and_family_payment_decisions() {
    let s = Scenario::new().await;
    let person = s.person("Jo", true, false).await;
    let budget = s.budget(Scenario::budget_body(person)).await;
    let payee = |bank_sort: &str, account: &str| {
        json!({"name": "Sam Jones", "kind": "personal_assistant", "person_id": person, "relationship": "sibling",
               "lives_with_person": true,
               "bank": {"sort_code": bank_sort, "account_number": account, "account_name": "S Jones"}})
    };
    let before = s.app.snapshot().await;
    for (body, field) in [
        (payee("12-34-5", "12345678"), "bank.sort_code"),
        (payee("12-34-56", "123456789"), "bank.account_number"),
        (payee("12-34-56", "1234567a"), "bank.account_number"),
    ] {
        let reply = s
            .app
            .post("/api/v1/payees", &s.care_manager.token, body)
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert_eq!(reply.json["error"]["details"][0]["field"], field);
    }
    let mut verified = payee("12-34-56", "12345678");
    verified["bank_verified"] = json!(true);
    let not_finance = s
        .app
        .post("/api/v1/payees", &s.care_manager.token, verified.clone())
        .await;
    assert_eq!(
        not_finance.json["error"]["details"][0]["field"],
        "bank_verified"
    );
    let mut unknown = payee("12-34-56", "12345678");
    unknown["relationship"] = json!("neighbour_of_a_friend");
    assert_eq!(
        s.app
            .post("/api/v1/payees", &s.care_manager.token, unknown)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(s.app.snapshot().await, before);

    let created = s.app.post("/api/v1/payees", &s.maker.token, verified).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json["active"], true);
    assert_eq!(created.json["bank_verified"], true);
    assert_eq!(created.json["bank"]["sort_code"], "123456");
    let payee_id = id(&created);

    let path = format!("/api/v1/budgets/{budget}/family-payment-approvals");
    let reason =
        json!({"payee_id": payee_id, "reason": "Only her brother can support her at night."});
    let approved = s
        .app
        .post(&path, &s.care_manager.token, reason.clone())
        .await;
    assert_eq!(approved.status, StatusCode::CREATED, "{}", approved.text);
    assert_eq!(
        s.app
            .post(&path, &s.care_manager.token, reason.clone())
            .await
            .status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        s.app.post(&path, &s.maker.token, reason).await.code(),
        "forbidden"
    );
    let view = s.budget_view(budget).await;
    assert_eq!(
        view["family_payment_approvals"][0]["payee_name"],
        "Sam Jones"
    );

    let someone_else = s.person("Kim", true, false).await;
    let other_budget = s.budget(Scenario::budget_body(someone_else)).await;
    let wrong_person = s
        .app
        .post(
            &format!("/api/v1/budgets/{other_budget}/family-payment-approvals"),
            &s.care_manager.token,
            json!({"payee_id": payee_id, "reason": "x"}),
        )
        .await;
    assert_eq!(wrong_person.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn reviews_due_and_overdue_are_listed_for_care_managers() {
    let s = Scenario::new().await;
    let line = json!([Scenario::line(
        "personal_care",
        "100.00",
        "council_managed",
        None
    )]);
    let soon = s
        .approved_budget(
            Scenario::budget_body(s.person("Lou", true, false).await),
            line.clone(),
        )
        .await;
    let late = s
        .approved_budget(
            Scenario::budget_body(s.person("Max", true, false).await),
            line.clone(),
        )
        .await;
    let later = s
        .approved_budget(
            Scenario::budget_body(s.person("Ned", true, false).await),
            line,
        )
        .await;
    let today = allot::clock::system_now().date_naive();
    let client = s.app.db.pool.get().await.unwrap();
    for (budget, days) in [(soon, 10), (late, -3)] {
        client
            .execute(
                "UPDATE reviews SET due_on = $2 WHERE budget_id = $1",
                &[&budget, &(today + chrono::Duration::days(days))],
            )
            .await
            .unwrap();
    }
    let due = s
        .app
        .get("/api/v1/reviews?status=due", &s.care_manager.token)
        .await;
    assert_eq!(due.status, StatusCode::OK, "{}", due.text);
    let ids = |reply: &crate::support::Reply| -> Vec<String> {
        reply.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["budget_id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&due), [soon.to_string()]);
    let overdue = s
        .app
        .get("/api/v1/reviews?status=overdue", &s.care_manager.token)
        .await;
    assert_eq!(ids(&overdue), [late.to_string()]);
    assert_eq!(overdue.json["items"][0]["overdue"], true);
    assert!(!ids(&overdue).contains(&later.to_string()));
    assert_eq!(
        s.app
            .get("/api/v1/reviews?status=whenever", &s.care_manager.token)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        s.app
            .get("/api/v1/reviews?status=due", &s.maker.token)
            .await
            .code(),
        "forbidden"
    );

    let done = s
        .app
        .post(
            &format!("/api/v1/budgets/{late}/reviews"),
            &s.care_manager.token,
            json!({"completed_on": today, "outcome": "continue", "notes": "Plan still meets his needs."}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(done.json["kind"], "annual");
    let next: chrono::NaiveDate = done.json["due_on"].as_str().unwrap().parse().unwrap();
    assert_eq!(next, today + chrono::Months::new(12));
    let too_late = s
        .app
        .post(
            &format!("/api/v1/budgets/{soon}/reviews"),
            &s.care_manager.token,
            json!({"completed_on": today, "outcome": "continue", "next_review_on": today + chrono::Months::new(13)}),
        )
        .await;
    assert_eq!(too_late.status, StatusCode::BAD_REQUEST);
    let overdue = s
        .app
        .get("/api/v1/reviews?status=overdue", &s.care_manager.token)
        .await;
    assert!(ids(&overdue).is_empty());
}

#[tokio::test]
async fn urgent_interim_support_and_reablement_have_limits() {
    let s = Scenario::new().await;
    let person = s.person("Ola", true, false).await;
    let budget = s.budget(Scenario::budget_body(person)).await;
    let path = format!("/api/v1/budgets/{budget}/urgent-interim");
    // The budget costs 26000.00 a year: 500.00 a week.
    let over = s
        .app
        .post(
            &path,
            &s.care_manager.token,
            json!({"weekly_amount": "500.01", "start_date": START, "reason": "Discharge"}),
        )
        .await;
    assert_eq!(
        over.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        over.text
    );
    assert_eq!(over.code(), "plan_not_approved");
    let ok = s
        .app
        .post(
            &path,
            &s.care_manager.token,
            json!({"weekly_amount": "500.00", "start_date": START, "reason": "Discharge"}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text);
    assert_eq!(
        ok.json["end_date"], "2025-02-16",
        "six weeks, first day included"
    );
    let twice = s
        .app
        .post(
            &path,
            &s.care_manager.token,
            json!({"weekly_amount": "100.00", "start_date": START, "reason": "Again"}),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    let view = s.budget_view(budget).await;
    assert_eq!(
        account(&view, "council_managed")["holder"]["kind"],
        "council"
    );

    let mut reablement = Scenario::budget_body(person);
    reablement["kind"] = json!("reablement");
    reablement["end_date"] = json!("2025-02-17");
    let too_long = s
        .app
        .post("/api/v1/budgets", &s.care_manager.token, reablement.clone())
        .await;
    assert_eq!(too_long.status, StatusCode::BAD_REQUEST);
    assert_eq!(too_long.json["error"]["details"][0]["field"], "end_date");
    reablement["end_date"] = json!("2025-02-16");
    let free = s
        .app
        .post("/api/v1/budgets", &s.care_manager.token, reablement)
        .await;
    assert_eq!(free.status, StatusCode::CREATED, "{}", free.text);
    assert_eq!(free.json["person_amount"], "0.00");
}

#[tokio::test]
async fn charging_parameters_are_dated_data() {
    let s = Scenario::new().await;
    let reply = s
        .app
        .get(
            "/api/v1/charging-parameters?on=2025-06-01&capital=15000.00",
            &s.care_manager.token,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.json["parameters"]["capital"]["capital_upper"],
        "23250.00"
    );
    assert_eq!(reply.json["capital_assessment"]["outcome"], "tariff");
    assert_eq!(reply.json["capital_assessment"]["weekly_income"], "3.00");
    let over = s
        .app
        .get(
            "/api/v1/charging-parameters?capital=30000.00",
            &s.care_manager.token,
        )
        .await;
    assert_eq!(
        over.json["capital_assessment"]["outcome"],
        "above_upper_limit"
    );
    let before = s
        .app
        .get(
            "/api/v1/charging-parameters?on=2010-01-01",
            &s.care_manager.token,
        )
        .await;
    assert_eq!(before.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn openapi_describes_the_budget_and_payment_paths() {
    let app = crate::support::TestApp::new().await;
    let reply = app
        .call(axum::http::Method::GET, "/api/openapi.json", None, None)
        .await;
    let paths = reply.json["paths"].as_object().unwrap();
    for (path, method, status) in [
        ("/api/v1/people/{id}", "patch", "200"),
        ("/api/v1/budgets", "post", "201"),
        ("/api/v1/budgets/{id}", "get", "200"),
        ("/api/v1/budgets/{id}/plan", "put", "200"),
        ("/api/v1/budgets/{id}/plan/approve", "post", "422"),
        (
            "/api/v1/budgets/{id}/family-payment-approvals",
            "post",
            "201",
        ),
        ("/api/v1/budgets/{id}/contributions", "post", "201"),
        ("/api/v1/payees", "post", "201"),
        ("/api/v1/payment-runs", "post", "201"),
        ("/api/v1/payment-runs/{id}/submit", "post", "200"),
        ("/api/v1/payment-runs/{id}/approve", "post", "403"),
        ("/api/v1/payment-runs/{id}/bacs18", "get", "200"),
        ("/api/v1/payment-runs/{id}/pain001", "get", "200"),
        ("/api/v1/reviews", "get", "200"),
    ] {
        assert!(
            paths[path][method]["responses"][status].is_object(),
            "{method} {path} {status} missing from OpenAPI"
        );
    }
}

#[tokio::test]
async fn budget_references_count_per_council() {
    // A council's references say nothing of how many budgets other councils have.
    let s = Scenario::new().await;
    let elsewhere = s.elsewhere().await;
    let mut references = Vec::new();
    for _ in 0..2 {
        let person = s.person("Counted", true, false).await;
        let reply = s
            .app
            .post(
                "/api/v1/budgets",
                &s.care_manager.token,
                Scenario::budget_body(person),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        references.push(reply.json["reference"].as_str().unwrap().to_owned());
    }
    let there = s
        .app
        .post(
            "/api/v1/budgets",
            &elsewhere.care_manager,
            Scenario::budget_body(elsewhere.person),
        )
        .await;
    assert_eq!(there.status, StatusCode::CREATED, "{}", there.text);
    assert_eq!(references, vec!["PB000001", "PB000002"]);
    assert_eq!(there.json["reference"], "PB000001");
}
