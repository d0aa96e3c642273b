//! Hostile text and dates in requests: control characters (U+0000 and friends) and dates far
//! outside any care record are refused with 400 `invalid_request` naming the field, in every JSON
//! body, query string and form, before anything is written.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use allot::auth::Role;

use crate::support::scenario::{id, Scenario, PERIOD};
use crate::support::{Reply, TestApp};

/// The refusal a bad field must get: 400 `invalid_request`, a detail naming `field`.
#[track_caller]
fn assert_names_field(reply: &Reply, field: &str) {
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_eq!(reply.code(), "invalid_request", "{}", reply.text);
    let details = reply.json["error"]["details"]
        .as_array()
        .unwrap_or_else(|| panic!("no details in {}", reply.text));
    assert!(
        details.iter().any(|d| d["field"] == field),
        "no detail for {field} in {}",
        reply.text
    );
    assert!(!reply.json["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .is_empty());
}

/// A budget someone may pay from: approved plan, first period released, a payee, and a budget
/// holder with a `pay` grant.
struct Payable {
    s: Scenario,
    budget: Uuid,
    payee: Uuid,
    holder_token: String,
}

async fn payable() -> Payable {
    let s = Scenario::new().await;
    let person = s.person("Pat Payer", true, false).await;
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
    s.release(PERIOD).await;
    let (holder_id, holder_token) = s
        .app
        .user(&s.council, Role::BudgetHolder, None, Some(person))
        .await;
    let grant = s
        .app
        .post(
            &format!("/api/v1/budgets/{budget}/agreements"),
            &s.care_manager.token,
            json!({"user_id": holder_id, "acting_as": "self", "powers": ["pay"],
                   "max_per_payment": "500.00", "valid_from": "2020-01-01"}),
        )
        .await;
    assert_eq!(grant.status, StatusCode::CREATED, "{}", grant.text);
    let payee = s
        .app
        .post(
            "/api/v1/payees",
            &s.maker.token,
            json!({"name": "Helping Hands", "kind": "care_agency", "bank_verified": true,
                   "bank": {"sort_code": "30-00-00", "account_number": "12345678", "account_name": "Payee"}}),
        )
        .await;
    assert_eq!(payee.status, StatusCode::CREATED, "{}", payee.text);
    Payable {
        budget,
        payee: id(&payee),
        holder_token,
        s,
    }
}

impl Payable {
    fn payment(&self) -> Value {
        json!({"budget_id": self.budget, "deployment": "direct_payment", "payee_id": self.payee,
               "category": "personal_care", "amount": "10.00", "service_date": "2025-02-10"})
    }

    async fn pay(&self, body: Value) -> Reply {
        self.s
            .app
            .post_with_key(
                "/api/v1/payments",
                &self.holder_token,
                &Uuid::new_v4().to_string(),
                body,
            )
            .await
    }
}

#[tokio::test]
async fn control_characters_in_json_bodies_are_refused_naming_the_field() {
    let t = payable().await;
    let s = &t.s;
    let before = s.app.snapshot().await;

    // A person's name with NUL (PostgreSQL cannot store it: this was a 500).
    for name in ["Pat\u{0}Payer", "Bell\u{7}", "Del\u{7f}", "C1\u{85}control"] {
        let reply = s
            .app
            .post(
                "/api/v1/people",
                &s.care_manager.token,
                json!({"name": name, "date_of_birth": "1960-01-01", "has_capacity": true}),
            )
            .await;
        assert_names_field(&reply, "name");
    }
    // A payment memo.
    let mut body = t.payment();
    body["memo"] = json!("for care\u{0}");
    assert_names_field(&t.pay(body).await, "memo");
    // Nested: a plan line's need.
    let plan = s
        .app
        .put(
            &format!("/api/v1/budgets/{}/plan", t.budget),
            &s.care_manager.token,
            json!({"cash_allowed": false, "lines": [
                {"category": "personal_care", "need": "washing\u{1b}[2J", "weekly_amount": "10.00",
                 "deployment": "direct_payment"}]}),
        )
        .await;
    assert_names_field(&plan, "lines[0].need");
    // Raw DEL and C1 bytes (valid JSON, no escape) are refused as well.
    let raw = format!(
        r#"{{"name": "Raw{}Del", "date_of_birth": "1960-01-01", "has_capacity": true}}"#,
        '\u{7f}'
    );
    let reply = s
        .app
        .post_raw("/api/v1/people", &s.care_manager.token, &raw)
        .await;
    assert_names_field(&reply, "name");
    assert_eq!(s.app.snapshot().await, before, "nothing was written");

    // Tabs, newlines and ordinary non-ASCII text are fine.
    let mut body = t.payment();
    body["memo"] = json!("Week 1:\tcare\r\nWeek 2: café – £10");
    let paid = t.pay(body).await;
    assert!(paid.status.is_success(), "{}", paid.text);
    // An escaped backslash followed by "u0000" is just text.
    let person = s
        .app
        .post_raw(
            "/api/v1/people",
            &s.care_manager.token,
            r#"{"name": "Back\\u0000slash", "date_of_birth": "1960-01-01", "has_capacity": true}"#,
        )
        .await;
    assert_eq!(person.status, StatusCode::CREATED, "{}", person.text);
    assert_eq!(person.json["name"], "Back\\u0000slash");
}

#[tokio::test]
async fn control_characters_in_sign_in_and_queries_are_refused() {
    let app = TestApp::new().await;
    let council = app.council("Council").await;
    let (_, token) = app.user(&council, Role::Auditor, None, None).await;

    let reply = app
        .call(
            Method::POST,
            "/api/v1/auth/token",
            None,
            Some(json!({"email": "someone\u{0}@council.example", "password": "whatever it is"})),
        )
        .await;
    assert_names_field(&reply, "email");
    let reply = app
        .call(
            Method::POST,
            "/api/v1/auth/token",
            None,
            Some(json!({"email": "someone@council.example", "password": "pass\u{0}word"})),
        )
        .await;
    assert_names_field(&reply, "password");

    let reply = app
        .get(
            &format!("/api/v1/accounts/{}/entries?cursor=a%00b", Uuid::new_v4()),
            &token,
        )
        .await;
    assert_names_field(&reply, "cursor");
}

/// A `POST` of a urlencoded form.
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

#[tokio::test]
async fn control_characters_in_admin_forms_are_refused_naming_the_field() {
    let t = payable().await;
    let s = &t.s;
    let before = s.app.snapshot().await;

    // The sign-in form.
    let login = s.app.call(Method::GET, "/login", None, None).await;
    let csrf = login
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("allot_login_csrf="))
        .and_then(|v| v.split(';').next())
        .expect("the sign-in CSRF cookie")
        .to_string();
    let reply = form_post(
        &s.app,
        "/login",
        &format!("allot_login_csrf={csrf}"),
        &format!("csrf_token={csrf}&email=someone%00%40council.example&password=whatever+it+is"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert!(reply.text.contains("email"), "{}", reply.text);

    // A signed-in form (the plan editor): refused before it is read, naming the field.
    let (cookie, csrf) = s.app.session(s.council.id, s.care_manager.id).await;
    let reply = form_post(
        &s.app,
        &format!("/budgets/{}/plan", t.budget),
        &cookie,
        &format!(
            "csrf_token={csrf}&category_0=personal_care&need_0=wash%00ing&weekly_0=10.00&deployment_0=direct_payment"
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert!(reply.text.contains("need_0"), "{}", reply.text);
    assert_eq!(s.app.snapshot().await, before, "nothing was written");
}

#[tokio::test]
async fn absurd_dates_are_refused_naming_the_field() {
    let t = payable().await;
    let s = &t.s;
    let person = s.person("Dee Dates", true, false).await;
    let before = s.app.snapshot().await;

    for dob in ["-5000-01-01", "+12345-01-01", "1899-12-31", "0001-01-01"] {
        let reply = s
            .app
            .post(
                "/api/v1/people",
                &s.care_manager.token,
                json!({"name": "Old", "date_of_birth": dob, "has_capacity": true}),
            )
            .await;
        assert_names_field(&reply, "date_of_birth");
    }
    let mut budget = Scenario::budget_body(person);
    budget["start_date"] = json!("2201-01-01");
    let reply = s
        .app
        .post("/api/v1/budgets", &s.care_manager.token, budget.clone())
        .await;
    assert_names_field(&reply, "start_date");
    budget["start_date"] = json!("2025-01-06");
    budget["end_date"] = json!("9999-12-31");
    let reply = s
        .app
        .post("/api/v1/budgets", &s.care_manager.token, budget)
        .await;
    assert_names_field(&reply, "end_date");

    let agreements = format!("/api/v1/budgets/{}/agreements", t.budget);
    let grant = |valid_from: &str, valid_to: Option<&str>| {
        let mut body = json!({"user_id": s.maker.id, "acting_as": "self", "powers": ["pay"],
                              "max_per_payment": "10.00", "valid_from": valid_from});
        if let Some(to) = valid_to {
            body["valid_to"] = json!(to);
        }
        s.app.post(&agreements, &s.care_manager.token, body)
    };
    assert_names_field(&grant("-0001-01-01", None).await, "valid_from");
    assert_names_field(&grant("2020-01-01", Some("3000-01-01")).await, "valid_to");

    let review = s
        .app
        .post(
            &format!("/api/v1/budgets/{}/reviews", t.budget),
            &s.care_manager.token,
            json!({"completed_on": "-5000-01-01", "outcome": "continue"}),
        )
        .await;
    assert_names_field(&review, "completed_on");
    let interim = s
        .app
        .post(
            &format!("/api/v1/budgets/{}/urgent-interim", t.budget),
            &s.care_manager.token,
            json!({"weekly_amount": "10.00", "start_date": "1066-10-14", "reason": "hastings"}),
        )
        .await;
    assert_names_field(&interim, "start_date");

    // Payments, contributions and payment runs.
    let mut body = t.payment();
    body["service_date"] = json!("-5000-01-01");
    assert_names_field(&t.pay(body).await, "service_date");
    let mut body = t.payment();
    body["stay_from"] = json!("2025-02-01");
    body["stay_to"] = json!("+99999-12-31");
    assert_names_field(&t.pay(body).await, "stay_to");
    let contribution = s
        .app
        .post_with_key(
            &format!("/api/v1/budgets/{}/contributions", t.budget),
            &s.maker.token,
            "contribution-1",
            json!({"amount": "10.00", "received_on": "-5000-01-01"}),
        )
        .await;
    assert_names_field(&contribution, "received_on");
    let run = s
        .app
        .post_with_key(
            "/api/v1/payment-runs",
            &s.maker.token,
            "run-far",
            json!({"period_start": "2500-01-05", "weeks": 4}),
        )
        .await;
    assert_names_field(&run, "period_start");

    // Query strings.
    let statement = s
        .app
        .get(
            &format!(
                "/api/v1/accounts/{}/entries?from=-5000-01-01",
                Uuid::new_v4()
            ),
            &s.auditor.token,
        )
        .await;
    assert_names_field(&statement, "from");
    let charging = s
        .app
        .get(
            "/api/v1/charging-parameters?on=2999-01-01",
            &s.care_manager.token,
        )
        .await;
    assert_names_field(&charging, "on");
    assert_eq!(s.app.snapshot().await, before, "nothing was written");

    // The edges of the range are accepted.
    for dob in ["1900-01-01", "1999-12-31"] {
        let reply = s
            .app
            .post(
                "/api/v1/people",
                &s.care_manager.token,
                json!({"name": "Edge", "date_of_birth": dob, "has_capacity": true}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{dob}: {}", reply.text);
    }
    let statement = s
        .app
        .get(
            &format!(
                "/api/v1/accounts/{}/entries?from=1900-01-01&to=2200-12-31",
                Uuid::new_v4()
            ),
            &s.auditor.token,
        )
        .await;
    assert_eq!(
        statement.status,
        StatusCode::NOT_FOUND,
        "{}",
        statement.text
    );
}

#[tokio::test]
async fn absurd_dates_in_admin_forms_are_refused() {
    let s = Scenario::new().await;
    let (cookie, csrf) = s.app.session(s.council.id, s.maker.id).await;
    let before = s.app.snapshot().await;
    let reply = form_post(
        &s.app,
        "/payment-runs",
        &cookie,
        &format!("csrf_token={csrf}&period_start=2500-01-05&weeks=4&idempotency_key=run-far"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_eq!(s.app.snapshot().await, before, "nothing was written");
}

/// The date range check must not change the published schema: dates stay `string`/`date`.
#[tokio::test]
async fn dates_keep_their_openapi_schema() {
    let app = TestApp::new().await;
    let reply = app.call(Method::GET, "/api/openapi.json", None, None).await;
    let schemas = &reply.json["components"]["schemas"];
    for (schema, field) in [
        ("NewPerson", "date_of_birth"),
        ("NewBudget", "start_date"),
        ("NewGrant", "valid_from"),
        ("NewPayment", "service_date"),
        ("NewRun", "period_start"),
        ("NewContribution", "received_on"),
        ("CompletedReview", "completed_on"),
        ("NewUrgentInterim", "start_date"),
    ] {
        let property = &schemas[schema]["properties"][field];
        assert_eq!(property["type"], "string", "{schema}.{field}: {property}");
        assert_eq!(property["format"], "date", "{schema}.{field}: {property}");
    }
}
