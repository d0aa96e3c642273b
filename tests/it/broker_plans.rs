//! The broker's work: a plan line bought from a directory cost option, the draft submitted to
//! the care manager and returned with reasons, and the broker's fee paid from the budget through
//! an invoice, never by the broker to their own organisation (`self_payment`).

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use allot::auth::Role;

use crate::directory::{admin_actor, three_services, LEEDS, YORK};
use crate::payments_api::{bank, grant, payee};
use crate::support::scenario::{id, Scenario, PERIOD};

/// A scenario whose directory holds the three test services, and a budget brokered by the
/// scenario's broker organisation.
async fn brokered() -> (Scenario, Uuid) {
    let s = Scenario::new().await;
    let services = allot::directory::feed::read_file(
        serde_json::to_string(&three_services()).unwrap().as_bytes(),
        "services.json",
    )
    .unwrap();
    let actor = admin_actor(&s.app, &s.council).await;
    allot::directory::import::store(
        &s.app.state.pool,
        &actor,
        Arc::new(services),
        s.app.state.clock.now(),
        Arc::new(|_, _| {}),
    )
    .await
    .unwrap();
    let person = s.person("Bo Brokered", true, false).await;
    let mut body = Scenario::budget_body(person);
    body["broker_organisation_id"] = json!(s.broker_org);
    let budget = s.budget(body).await;
    (s, budget)
}

fn directory_line(service: &str, option: &str, units: &str) -> Value {
    json!({"category": "personal_care", "need": "Help getting up", "deployment": "direct_payment",
           "directory_service_id": service, "cost_option_id": option, "units_per_week": units})
}

fn option_of(service: &str) -> String {
    format!("{}c", &service[..service.len() - 1])
}

#[tokio::test]
async fn a_plan_line_names_a_cost_option_and_its_weekly_amount_is_worked_out() {
    let (s, budget) = brokered().await;
    let path = format!("/api/v1/budgets/{budget}/plan");
    let reply = s
        .app
        .put(
            &path,
            &s.broker.token,
            json!({"lines": [
                directory_line(LEEDS, &option_of(LEEDS), "10.5"),
                Scenario::line("transport", "15.00", "direct_payment", None),
            ]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let line = &reply.json["lines"][0];
    // 24.50 an hour × 10.5 hours a week.
    assert_eq!(line["weekly_amount"], "257.25");
    assert_eq!(line["service"]["service_id"], LEEDS);
    assert_eq!(line["service"]["service_name"], "Leeds Home Care");
    assert_eq!(line["service"]["unit_amount"], "24.50");
    assert_eq!(line["service"]["unit"], "hour");
    assert_eq!(line["service"]["units_per_week"], "10.50");
    assert_eq!(reply.json["weekly_total"], "272.25");
    assert!(reply.json["lines"][1]["service"].is_null());
    // Given as well, the weekly amount must be the one worked out.
    let mut wrong = directory_line(LEEDS, &option_of(LEEDS), "10");
    wrong["weekly_amount"] = json!("200.00");
    let before = s.app.snapshot().await;
    let refused = s
        .app
        .put(&path, &s.broker.token, json!({"lines": [wrong]}))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(
        refused.json["error"]["details"][0]["field"],
        "lines[0].weekly_amount"
    );
    let mut right = directory_line(LEEDS, &option_of(LEEDS), "10");
    right["weekly_amount"] = json!("245.00");
    let cases = [
        (
            directory_line(LEEDS, "no-such-option", "10"),
            "lines[0].cost_option_id",
        ),
        (
            directory_line(LEEDS, &option_of(LEEDS), "0"),
            "lines[0].units_per_week",
        ),
        (
            directory_line(LEEDS, &option_of(LEEDS), "169"),
            "lines[0].units_per_week",
        ),
        (
            directory_line(LEEDS, &option_of(LEEDS), "1.005"),
            "lines[0].units_per_week",
        ),
        (
            json!({"category": "personal_care", "need": "x", "deployment": "direct_payment",
                "cost_option_id": option_of(LEEDS), "units_per_week": "2"}),
            "lines[0].directory_service_id",
        ),
        (
            json!({"category": "personal_care", "need": "x", "deployment": "direct_payment"}),
            "lines[0].weekly_amount",
        ),
        // Another service's option.
        (
            directory_line(YORK, &format!("{}x", &LEEDS[..LEEDS.len() - 1]), "2"),
            "lines[0].cost_option_id",
        ),
    ];
    for (line, field) in cases {
        let refused = s
            .app
            .put(&path, &s.broker.token, json!({"lines": [line]}))
            .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{field}: {}",
            refused.text
        );
        assert_eq!(
            refused.json["error"]["details"][0]["field"], field,
            "{}",
            refused.text
        );
    }
    assert_eq!(s.app.snapshot().await, before);
    let accepted = s
        .app
        .put(&path, &s.broker.token, json!({"lines": [right]}))
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
    // The budget shows the plan as drafted, service and all.
    let view = s.budget_view(budget).await;
    let text = view.to_string();
    assert!(
        text.contains("Leeds Home Care") || text.contains(LEEDS),
        "{text}"
    );
}

#[tokio::test]
async fn the_broker_submits_and_the_care_manager_returns_with_reasons_then_approves() {
    let (s, budget) = brokered().await;
    let plan_path = format!("/api/v1/budgets/{budget}/plan");
    let submit = format!("{plan_path}/submit");
    let give_back = format!("{plan_path}/return");
    // Nothing to submit yet.
    let nothing = s.app.post(&submit, &s.broker.token, json!({})).await;
    assert_eq!(nothing.status, StatusCode::CONFLICT, "{}", nothing.text);
    let drafted = s
        .app
        .put(
            &plan_path,
            &s.broker.token,
            json!({"lines": [directory_line(LEEDS, &option_of(LEEDS), "4")]}),
        )
        .await;
    assert_eq!(drafted.status, StatusCode::OK, "{}", drafted.text);
    // Returning what was not submitted: 409.
    let early = s
        .app
        .post(
            &give_back,
            &s.care_manager.token,
            json!({"reason": "too soon"}),
        )
        .await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    let submitted = s.app.post(&submit, &s.broker.token, json!({})).await;
    assert_eq!(submitted.status, StatusCode::OK, "{}", submitted.text);
    assert_eq!(submitted.json["status"], "draft");
    assert_eq!(submitted.json["submitted_by"], json!(s.broker.id));
    assert!(submitted.json["submitted_at"].is_string());
    let twice = s.app.post(&submit, &s.broker.token, json!({})).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    // Only care managers return; a reason is required.
    let by_broker = s
        .app
        .post(&give_back, &s.broker.token, json!({"reason": "mine"}))
        .await;
    assert_eq!(by_broker.status, StatusCode::FORBIDDEN);
    let before = s.app.snapshot().await;
    let no_reason = s
        .app
        .post(&give_back, &s.care_manager.token, json!({"reason": "  "}))
        .await;
    assert_eq!(
        (no_reason.status, no_reason.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "reason_required")
    );
    assert_eq!(s.app.snapshot().await, before);
    let returned = s
        .app
        .post(
            &give_back,
            &s.care_manager.token,
            json!({"reason": "Four hours will not cover mornings."}),
        )
        .await;
    assert_eq!(returned.status, StatusCode::OK, "{}", returned.text);
    assert_eq!(
        returned.json["return_reason"],
        "Four hours will not cover mornings."
    );
    assert!(returned.json["submitted_at"].is_null());
    assert_eq!(returned.json["returned_by"], json!(s.care_manager.id));
    // The broker changes the plan and submits again; the care manager approves.
    let redrafted = s
        .app
        .put(
            &plan_path,
            &s.broker.token,
            json!({"lines": [directory_line(LEEDS, &option_of(LEEDS), "7")]}),
        )
        .await;
    assert_eq!(redrafted.status, StatusCode::OK);
    let again = s.app.post(&submit, &s.broker.token, json!({})).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert!(again.json["return_reason"].is_null());
    let approved = s.approve_plan(budget).await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    assert_eq!(approved.json["lines"][0]["weekly_amount"], "171.50");
    // Another council's broker and care manager cannot reach the budget.
    let elsewhere = s.elsewhere().await;
    let hidden = s
        .app
        .post(&give_back, &elsewhere.care_manager, json!({"reason": "x"}))
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    // Nor a broker of another organisation of this council.
    let other_org = s
        .app
        .post(
            "/api/v1/organisations",
            &s.council.admin_token,
            json!({"name": "Other Brokers", "kind": "broker"}),
        )
        .await;
    let (_, other_broker) = s
        .app
        .user(&s.council, Role::Broker, Some(id(&other_org)), None)
        .await;
    let not_theirs = s.app.post(&submit, &other_broker, json!({})).await;
    assert_eq!(not_theirs.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_brokers_fee_goes_through_an_invoice_and_a_broker_never_pays_themselves() {
    let s = Scenario::new().await;
    let person = s.person("Fee Payer", true, false).await;
    let mut body = Scenario::budget_body(person);
    body["broker_organisation_id"] = json!(s.broker_org);
    let budget = s
        .approved_budget(
            body,
            json!([
                Scenario::line("personal_care", "100.00", "direct_payment", None),
                Scenario::line("brokerage", "50.00", "direct_payment", None),
            ]),
        )
        .await;
    s.release(PERIOD).await;
    // The broker's organisation as a payee, recorded by a finance officer for the fee.
    let fee_payee = payee(
        &s,
        json!({"name": "Independent Brokerage", "kind": "care_agency", "bank": bank(),
               "bank_verified": true, "organisation_id": s.broker_org}),
    )
    .await;
    let agency = payee(
        &s,
        json!({"name": "Helping Hands", "kind": "care_agency", "bank": bank(), "bank_verified": true}),
    )
    .await;
    grant(
        &s,
        budget,
        json!({"user_id": s.broker.id, "acting_as": "broker", "powers": ["pay"],
               "max_per_payment": "500.00", "valid_from": "2020-01-01"}),
    )
    .await;
    let holder = s
        .app
        .user(&s.council, Role::BudgetHolder, None, Some(person))
        .await;
    grant(
        &s,
        budget,
        json!({"user_id": holder.0, "acting_as": "self", "powers": ["pay"],
               "max_per_payment": "500.00", "valid_from": "2020-01-01"}),
    )
    .await;
    let pay = |payee_id: Uuid, category: &str| {
        json!({"budget_id": budget, "deployment": "direct_payment", "payee_id": payee_id,
               "category": category, "amount": "40.00", "service_date": "2025-02-10"})
    };
    // The broker paying their own organisation: refused, and recorded as refused.
    let own = s
        .app
        .post_with_key(
            "/api/v1/payments",
            &s.broker.token,
            "fee-1",
            pay(fee_payee, "brokerage"),
        )
        .await;
    assert_eq!(
        (own.status, own.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "self_payment"),
        "{}",
        own.text
    );
    // The broker may pay someone else under the grant.
    let other = s
        .app
        .post_with_key(
            "/api/v1/payments",
            &s.broker.token,
            "care-1",
            pay(agency, "personal_care"),
        )
        .await;
    assert_eq!(other.status, StatusCode::CREATED, "{}", other.text);
    // The fee: the broker's invoice, recorded and paid from the budget by the person.
    let invoice = s
        .app
        .post(
            "/api/v1/invoices",
            &holder.1,
            json!({"budget_id": budget, "deployment": "direct_payment", "payee_id": fee_payee,
                   "category": "brokerage", "invoice_number": "IB-001", "issued_on": "2025-02-07",
                   "lines": [{"description": "Support planning, 2 hours", "quantity": "2", "unit_price": "20.00"}],
                   "total": "40.00"}),
        )
        .await;
    assert_eq!(invoice.status, StatusCode::CREATED, "{}", invoice.text);
    let paid = s
        .app
        .post_with_key(
            &format!("/api/v1/invoices/{}/pay", id(&invoice)),
            &holder.1,
            "inv-1",
            json!({}),
        )
        .await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text);
    assert_eq!(paid.json["status"], "posted");
    // Provider staff cannot name another organisation on a payee.
    let mismatched = s
        .app
        .post("/api/v1/payees", &s.ma_staff.token,
              json!({"name": "X", "kind": "care_agency", "bank": bank(), "organisation_id": s.broker_org}))
        .await;
    assert_eq!(
        mismatched.status,
        StatusCode::BAD_REQUEST,
        "{}",
        mismatched.text
    );
}

#[tokio::test]
async fn the_budget_page_shows_the_service_and_lets_the_broker_submit_and_the_care_manager_return()
{
    let (s, budget) = brokered().await;
    let drafted = s
        .app
        .put(
            &format!("/api/v1/budgets/{budget}/plan"),
            &s.broker.token,
            json!({"lines": [directory_line(LEEDS, &option_of(LEEDS), "3")]}),
        )
        .await;
    assert_eq!(drafted.status, StatusCode::OK, "{}", drafted.text);
    let (broker_cookie, broker_csrf) = s.app.session(s.council.id, s.broker.id).await;
    let page = s
        .app
        .page(&format!("/budgets/{budget}"), &broker_cookie)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text
            .contains("Leeds Home Care — Weekday: £24.50 per hour × 3.00 a week"),
        "{}",
        page.text
    );
    assert!(page.text.contains("to the care manager"));
    let submitted = s
        .app
        .form(
            &format!("/budgets/{budget}/plan/submit"),
            &broker_cookie,
            &[("csrf_token", &broker_csrf)],
        )
        .await;
    assert_eq!(
        submitted.status,
        StatusCode::SEE_OTHER,
        "{}",
        submitted.text
    );
    let (cm_cookie, cm_csrf) = s.app.session(s.council.id, s.care_manager.id).await;
    let page = s.app.page(&format!("/budgets/{budget}"), &cm_cookie).await;
    assert!(
        page.text.contains("Submitted to the care manager on")
            && page.text.contains("return-reason")
    );
    // Refused (too long): the budget's page again, saying why, with what was typed kept.
    let too_long = format!("Keep <this> {}", "x".repeat(2000));
    let refused = s
        .app
        .form(
            &format!("/budgets/{budget}/plan/return"),
            &cm_cookie,
            &[("csrf_token", &cm_csrf), ("reason", &too_long)],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert!(
        refused.text.contains("There is a problem")
            && refused.text.contains("Say why the plan is returned")
            && refused.text.contains("Keep &lt;this&gt; xxx"),
        "{}",
        refused.text
    );
    let returned = s
        .app
        .form(
            &format!("/budgets/{budget}/plan/return"),
            &cm_cookie,
            &[
                ("csrf_token", &cm_csrf),
                ("reason", "Add the <evening> calls"),
            ],
        )
        .await;
    assert_eq!(returned.status, StatusCode::SEE_OTHER, "{}", returned.text);
    let page = s
        .app
        .page(&format!("/budgets/{budget}"), &broker_cookie)
        .await;
    assert!(
        page.text.contains("Add the &lt;evening&gt; calls"),
        "{}",
        page.text
    );
    // Without the CSRF token nothing happens.
    let forged = s
        .app
        .form(
            &format!("/budgets/{budget}/plan/submit"),
            &broker_cookie,
            &[],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}
