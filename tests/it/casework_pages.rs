//! The casework pages: a care manager adds a person and a budget, records urgent interim support,
//! a family-payment decision and a change in capacity; a budget holder asks for their own
//! personal assistant to be paid; a representative sees the person whose budget they act on; a
//! refused payment on the pay page is explained beside the field it concerns. Each refusal keeps
//! what was typed and shows the field's error; each success writes what the API would; another
//! council's ids are 404.

use axum::http::StatusCode;
use serde_json::json;
use uuid::Uuid;

use allot::auth::Role;

use crate::payments_api::{bank, grant, payee, setup};
use crate::support::scenario::{Scenario, START};
use crate::support::Reply;

fn location(reply: &Reply) -> String {
    reply.headers["location"].to_str().unwrap().to_string()
}

/// The field's error is shown beside it and linked from the summary.
fn assert_field_error(reply: &Reply, field: &str) {
    assert!(
        reply.text.contains(&format!("id=\"{field}-error\"")),
        "no error beside {field}: {}",
        reply.text
    );
    assert!(
        reply.text.contains(&format!("href=\"#{field}\"")),
        "no link to {field} in the summary: {}",
        reply.text
    );
}

async fn count(s: &Scenario, table: &str) -> i64 {
    let sql = format!("SELECT count(*) FROM {table}");
    allot::db::in_tenant_tx(&s.app.db.pool, s.council.id, |tx| {
        Box::pin(async move { Ok(tx.query_one(&sql, &[]).await?.get::<_, i64>(0)) })
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_care_manager_adds_a_person_as_the_api_would() {
    let s = Scenario::new().await;
    let (cookie, csrf) = s.app.session(s.council.id, s.care_manager.id).await;
    let people = s.app.page("/people", &cookie).await;
    assert!(
        people.text.contains("href=\"/people/new\""),
        "{}",
        people.text
    );
    let form = s.app.page("/people/new", &cookie).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);

    // No name: refused beside the name, what was typed kept, nothing written.
    let refused = s
        .app
        .form(
            "/people/new",
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("name", ""),
                ("date_of_birth", "1950-02-03"),
                ("has_capacity", "yes"),
                ("excluded_from_direct_payments", "no"),
                ("contact_phone", "0113 496 0000"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_field_error(&refused, "name");
    assert!(
        refused.text.contains("value=\"1950-02-03\""),
        "{}",
        refused.text
    );
    assert!(
        refused.text.contains("value=\"0113 496 0000\""),
        "{}",
        refused.text
    );
    // A phone number the service refuses: beside the phone field.
    let refused = s
        .app
        .form(
            "/people/new",
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("name", "Ada <Lovelace>"),
                ("date_of_birth", "1950-02-03"),
                ("has_capacity", "no"),
                ("excluded_from_direct_payments", "no"),
                ("contact_phone", "call me"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_field_error(&refused, "contact_phone");
    assert!(
        refused.text.contains("value=\"Ada &lt;Lovelace&gt;\""),
        "{}",
        refused.text
    );
    assert_eq!(count(&s, "people").await, 0);
    // Without the session's CSRF token: refused.
    let forged = s
        .app
        .form(
            "/people/new",
            &cookie,
            &[("name", "X"), ("date_of_birth", "1950-02-03")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let added = s
        .app
        .form(
            "/people/new",
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("name", "Ada Lovelace"),
                ("date_of_birth", "1950-02-03"),
                ("has_capacity", "no"),
                ("excluded_from_direct_payments", "no"),
                ("contact_email", "ada@example.org"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text);
    let path = location(&added);
    let id = path.trim_start_matches("/people/");
    let person = s
        .app
        .get(&format!("/api/v1/people/{id}"), &s.care_manager.token)
        .await;
    assert_eq!(person.status, StatusCode::OK, "{}", person.text);
    // What the API records for the same body.
    let by_api = s
        .app
        .post(
            "/api/v1/people",
            &s.care_manager.token,
            json!({"name": "Ada Lovelace", "date_of_birth": "1950-02-03", "has_capacity": false,
                   "excluded_from_direct_payments": false, "contact": {"email": "ada@example.org"}}),
        )
        .await;
    let by_api = s
        .app
        .get(
            &format!("/api/v1/people/{}", by_api.json["id"].as_str().unwrap()),
            &s.care_manager.token,
        )
        .await;
    let mut page_json = person.json.clone();
    let mut api_json = by_api.json.clone();
    page_json["id"] = json!(null);
    api_json["id"] = json!(null);
    assert_eq!(page_json, api_json);
    let shown = s.app.page(&path, &cookie).await;
    assert!(
        shown.text.contains("Record a change in capacity"),
        "{}",
        shown.text
    );
    assert!(
        shown.text.contains(&format!("/budgets/new?person_id={id}")),
        "{}",
        shown.text
    );

    // Other roles may not add people.
    let (finance, _) = s.app.session(s.council.id, s.maker.id).await;
    assert_eq!(
        s.app.page("/people/new", &finance).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_care_manager_adds_a_budget_with_direct_payment_terms() {
    let s = Scenario::new().await;
    let person = s.person("Bea Budget", true, false).await;
    let (rep, _) = s
        .app
        .user(&s.council, Role::Representative, None, None)
        .await;
    let (cookie, csrf) = s.app.session(s.council.id, s.care_manager.id).await;
    let list = s.app.page("/budgets", &cookie).await;
    assert!(list.text.contains("href=\"/budgets/new\""), "{}", list.text);
    let form = s
        .app
        .page(&format!("/budgets/new?person_id={person}"), &cookie)
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    assert!(
        form.text
            .contains(&format!("<option value=\"{person}\" selected")),
        "{}",
        form.text
    );
    let person_s = person.to_string();
    let rep_s = rep.to_string();
    let fields = |cost: &'static str, recipient: &'static str, user: &str| {
        vec![
            ("csrf_token".to_string(), csrf.clone()),
            ("person_id".into(), person_s.clone()),
            ("funder".into(), "council".into()),
            ("kind".into(), "standard".into()),
            ("annual_cost".into(), cost.into()),
            ("weekly_contribution".into(), "12.50".into()),
            ("contribution_basis".into(), "net".into()),
            ("start_date".into(), START.into()),
            ("end_date".into(), String::new()),
            ("broker_organisation_id".into(), s.broker_org.to_string()),
            ("direct_payment_consent_recorded".into(), "yes".into()),
            ("direct_payment_recipient".into(), recipient.into()),
            ("direct_payment_recipient_user_id".into(), user.to_string()),
            ("direct_payment_recipient_agreed".into(), "yes".into()),
            ("bank_sort_code".into(), "20-00-00".into()),
            ("bank_account_number".into(), "55779911".into()),
            ("bank_account_name".into(), "Bea Budget".into()),
        ]
    };
    let post = |fields: Vec<(String, String)>| {
        let cookie = cookie.clone();
        let app = &s.app;
        async move {
            let borrowed: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            app.form("/budgets/new", &cookie, &borrowed).await
        }
    };
    // An amount that is not one: beside the cost, what was typed kept.
    let refused = post(fields("lots", "nominated_person", &rep_s)).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert_field_error(&refused, "annual_cost");
    assert!(refused.text.contains("value=\"lots\""), "{}", refused.text);
    assert!(
        refused.text.contains("value=\"55779911\""),
        "{}",
        refused.text
    );
    // An authorised person for someone with capacity: capacity_role, beside the recipient.
    let refused = post(fields("15600.00", "authorised_person", &rep_s)).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert_field_error(&refused, "direct_payment_recipient");
    // A bad sort code: beside the sort code.
    let mut bad_bank = fields("15600.00", "nominated_person", &rep_s);
    bad_bank[14].1 = "12".into();
    let refused = post(bad_bank).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_field_error(&refused, "bank_sort_code");
    assert_eq!(count(&s, "budgets").await, 0);

    let added = post(fields("15600.00", "nominated_person", &rep_s)).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text);
    let path = location(&added);
    let budget = s.app.get(&format!("/api/v1{path}"), &s.maker.token).await;
    assert_eq!(budget.status, StatusCode::OK, "{}", budget.text);
    let b = &budget.json["budget"];
    let b = if b.is_null() { &budget.json } else { b };
    assert_eq!(b["annual_cost"], "15600.00", "{}", budget.text);
    assert_eq!(b["weekly_contribution"], "12.50");
    assert_eq!(b["broker_organisation_id"], json!(s.broker_org));
    assert_eq!(
        b["direct_payment"],
        json!({"consent_recorded": true, "recipient": "nominated_person",
               "recipient_user_id": rep, "recipient_agreed": true})
    );
    assert_eq!(b["bank_verified"], false);
    // The bank details wait in the finance officers' queue.
    let queue = s
        .app
        .get(
            "/api/v1/bank-detail-changes?status=unverified",
            &s.maker.token,
        )
        .await;
    assert_eq!(
        queue.json["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        queue.text
    );
    let page = s.app.page(&path, &cookie).await;
    for link in ["/urgent-interim", "/family-payments", "/capacity"] {
        assert!(page.text.contains(link), "{link}: {}", page.text);
    }

    // Another council's person: 404, nothing written.
    let elsewhere = s.elsewhere().await;
    let mut foreign = fields("15600.00", "person", "");
    foreign[1].1 = elsewhere.person.to_string();
    let refused = post(foreign).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.text);
    assert_eq!(count(&s, "budgets").await, 1);
}

#[tokio::test]
async fn urgent_interim_support_and_a_family_payment_decision_are_recorded_from_the_budget() {
    let s = Scenario::new().await;
    let person = s.person("Cy Interim", true, false).await;
    let budget = s.budget(Scenario::budget_body(person)).await;
    let (cookie, csrf) = s.app.session(s.council.id, s.care_manager.id).await;
    let path = format!("/budgets/{budget}/urgent-interim");
    assert_eq!(s.app.page(&path, &cookie).await.status, StatusCode::OK);
    // Over the budget's weekly cost (26000 / 52 = 500): refused beside the amount.
    let refused = s
        .app
        .form(
            &path,
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("weekly_amount", "900.00"),
                ("start_date", START),
                ("reason", "Hospital discharge"),
            ],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert_field_error(&refused, "weekly_amount");
    assert!(
        refused.text.contains("Hospital discharge"),
        "{}",
        refused.text
    );
    // No reason: beside the reason.
    let refused = s
        .app
        .form(
            &path,
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("weekly_amount", "250.00"),
                ("start_date", START),
                ("reason", " "),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_field_error(&refused, "reason");
    assert_eq!(count(&s, "urgent_interim_support").await, 0);
    let done = s
        .app
        .form(
            &path,
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("weekly_amount", "250.00"),
                ("start_date", START),
                ("reason", "Hospital discharge"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    let view = s.budget_view(budget).await;
    assert_eq!(view["urgent_interim"]["weekly_amount"], "250.00", "{view}");
    assert_eq!(view["urgent_interim"]["reason"], "Hospital discharge");

    // A family-payment decision for the person's sister.
    let sister = payee(
        &s,
        json!({"name": "Sal Sister", "kind": "personal_assistant", "person_id": person,
               "relationship": "sibling", "lives_with_person": true, "bank": bank()}),
    )
    .await;
    let path = format!("/budgets/{budget}/family-payments");
    let form = s.app.page(&path, &cookie).await;
    assert!(form.text.contains("Sal Sister"), "{}", form.text);
    let refused = s
        .app
        .form(
            &path,
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("payee_id", &sister.to_string()),
                ("reason", ""),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_field_error(&refused, "reason");
    assert!(
        refused
            .text
            .contains(&format!("<option value=\"{sister}\" selected")),
        "{}",
        refused.text
    );
    // A payee id of another council: beside the payee, nothing written.
    let refused = s
        .app
        .form(
            &path,
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("payee_id", &Uuid::new_v4().to_string()),
                ("reason", "Needed"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.text);
    assert_field_error(&refused, "payee_id");
    assert_eq!(count(&s, "family_payment_approvals").await, 0);
    let done = s
        .app
        .form(
            &path,
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("payee_id", &sister.to_string()),
                ("reason", "Only she can give the care at night"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    let shown = s.app.page(&path, &cookie).await;
    assert!(
        shown.text.contains("Only she can give the care at night"),
        "{}",
        shown.text
    );
    assert_eq!(count(&s, "family_payment_approvals").await, 1);

    // Another council's care manager: both pages are 404.
    let elsewhere = s.app.council("Elsewhere").await;
    let (other, _) = s.app.user(&elsewhere, Role::CareManager, None, None).await;
    let (other_cookie, other_csrf) = s.app.session(elsewhere.id, other).await;
    for page in ["urgent-interim", "family-payments"] {
        let path = format!("/budgets/{budget}/{page}");
        assert_eq!(
            s.app.page(&path, &other_cookie).await.status,
            StatusCode::NOT_FOUND
        );
        let posted = s
            .app
            .form(
                &path,
                &other_cookie,
                &[
                    ("csrf_token", &other_csrf),
                    ("payee_id", &sister.to_string()),
                    ("weekly_amount", "1.00"),
                    ("start_date", START),
                    ("reason", "x"),
                ],
            )
            .await;
        assert_eq!(posted.status, StatusCode::NOT_FOUND, "{page}");
    }
}

#[tokio::test]
async fn a_change_in_capacity_is_recorded_as_the_api_records_it() {
    let s = Scenario::new().await;
    let person = s.person("Di Capacity", true, false).await;
    let (cookie, csrf) = s.app.session(s.council.id, s.care_manager.id).await;
    let path = format!("/people/{person}/capacity");
    let form = s.app.page(&path, &cookie).await;
    assert!(
        form.text.contains("<option value=\"yes\" selected"),
        "{}",
        form.text
    );
    let refused = s
        .app
        .form(
            &path,
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("has_capacity", "perhaps"),
                ("excluded_from_direct_payments", "no"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_field_error(&refused, "has_capacity");
    let done = s
        .app
        .form(
            &path,
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("has_capacity", "no"),
                ("excluded_from_direct_payments", "no"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    let after = s
        .app
        .get(&format!("/api/v1/people/{person}"), &s.care_manager.token)
        .await;
    assert_eq!(after.json["has_capacity"], false);
    assert_eq!(count(&s, "person_changes").await, 1);

    let elsewhere = s.app.council("Elsewhere").await;
    let (other, _) = s.app.user(&elsewhere, Role::CareManager, None, None).await;
    let (other_cookie, other_csrf) = s.app.session(elsewhere.id, other).await;
    assert_eq!(
        s.app.page(&path, &other_cookie).await.status,
        StatusCode::NOT_FOUND
    );
    let posted = s
        .app
        .form(
            &path,
            &other_cookie,
            &[
                ("csrf_token", &other_csrf),
                ("has_capacity", "yes"),
                ("excluded_from_direct_payments", "no"),
            ],
        )
        .await;
    assert_eq!(posted.status, StatusCode::NOT_FOUND);
    assert_eq!(count(&s, "person_changes").await, 1);
}

#[tokio::test]
async fn a_budget_holder_asks_for_their_personal_assistant_and_a_finance_officer_verifies_it() {
    let t = setup().await;
    let s = &t.s;
    let (cookie, csrf) = s.app.session(s.council.id, t.holder.0).await;
    let budget_page = s.app.page(&format!("/budgets/{}", t.budget), &cookie).await;
    assert!(
        budget_page.text.contains("/payee-requests/new"),
        "{}",
        budget_page.text
    );
    let before = count(s, "payees").await;
    let refused = s
        .app
        .form(
            "/payee-requests/new",
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("name", "Pam Assistant"),
                ("relationship", "none"),
                ("lives_with_person", "no"),
                ("bank_sort_code", "1234"),
                ("bank_account_number", "87654321"),
                ("bank_account_name", "P Assistant"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_field_error(&refused, "bank_sort_code");
    assert!(
        refused.text.contains("value=\"Pam Assistant\""),
        "{}",
        refused.text
    );
    assert!(
        refused.text.contains("value=\"87654321\""),
        "{}",
        refused.text
    );
    assert_eq!(count(s, "payees").await, before);

    let sent = s
        .app
        .form(
            "/payee-requests/new",
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("name", "Pam Assistant"),
                ("relationship", "friend"),
                ("lives_with_person", "no"),
                ("bank_sort_code", "12-34-56"),
                ("bank_account_number", "87654321"),
                ("bank_account_name", "P Assistant"),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text);
    let confirmed = s.app.page(&location(&sent), &cookie).await;
    assert!(
        confirmed.text.contains("Your request was sent"),
        "{}",
        confirmed.text
    );
    // An unverified payee of the person's own, waiting in the finance officers' queue.
    let queue = s
        .app
        .get(
            "/api/v1/bank-detail-changes?status=unverified",
            &s.maker.token,
        )
        .await;
    let waiting: Vec<_> = queue.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["subject"] == "payee")
        .cloned()
        .collect();
    assert_eq!(waiting.len(), 1, "{}", queue.text);
    let payee_id = waiting[0]["subject_id"].as_str().unwrap().to_string();
    let payee = s
        .app
        .get(&format!("/api/v1/payees/{payee_id}"), &s.maker.token)
        .await;
    assert_eq!(payee.json["kind"], "personal_assistant", "{}", payee.text);
    assert_eq!(payee.json["person_id"], json!(t.person));
    assert_eq!(payee.json["relationship"], "friend");
    assert_eq!(payee.json["bank_verified"], false);
    // Until verified, a payment to the PA is refused on the pay page, explained beside the payee.
    let pay = |key: &'static str| {
        let cookie = cookie.clone();
        let csrf = csrf.clone();
        let payee_id = payee_id.clone();
        let budget = t.budget;
        let app = &s.app;
        async move {
            app.form(
                &format!("/budgets/{budget}/pay"),
                &cookie,
                &[
                    ("csrf_token", &csrf),
                    ("idempotency_key", key),
                    ("payee_id", &payee_id),
                    ("category", "personal_care"),
                    ("deployment", "direct_payment"),
                    ("amount", "40.00"),
                    ("service_date", "2025-02-10"),
                    ("action", "send"),
                ],
            )
            .await
        }
    };
    let refused = pay("pa-pay-1").await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert_field_error(&refused, "payee_id");
    assert!(
        refused.text.contains("waiting to be checked"),
        "{}",
        refused.text
    );
    // The finance officer verifies (a second person); then it posts.
    let change = waiting[0]["id"].as_str().unwrap();
    let verified = s
        .app
        .post(
            &format!("/api/v1/bank-detail-changes/{change}/verify"),
            &s.maker.token,
            json!({}),
        )
        .await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.text);
    let posted = pay("pa-pay-2").await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.text);

    // Through the API: only their own personal assistant, never verified by themselves.
    for body in [
        json!({"name": "Agency", "kind": "care_agency", "person_id": t.person, "bank": bank()}),
        json!({"name": "Someone", "kind": "personal_assistant", "bank": bank()}),
        json!({"name": "Mine", "kind": "personal_assistant", "person_id": t.person, "bank": bank(),
               "bank_verified": true}),
    ] {
        let reply = s.app.post("/api/v1/payees", &t.holder.1, body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    }
    // Staff do not use the budget holder's request page.
    let (staff, _) = s.app.session(s.council.id, s.care_manager.id).await;
    assert_eq!(
        s.app.page("/payee-requests/new", &staff).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_representative_sees_the_people_whose_budgets_they_act_on() {
    let t = setup().await;
    let s = &t.s;
    let (rep, _) = s
        .app
        .user(&s.council, Role::Representative, None, None)
        .await;
    let (cookie, _) = s.app.session(s.council.id, rep).await;
    let person_path = format!("/people/{}", t.person);
    // No grant yet: nobody, and the person is not theirs to see.
    let empty = s.app.page("/people", &cookie).await;
    assert!(!empty.text.contains("Pat Payer"), "{}", empty.text);
    assert_eq!(
        s.app.page(&person_path, &cookie).await.status,
        StatusCode::NOT_FOUND
    );
    grant(
        s,
        t.budget,
        json!({"user_id": rep, "acting_as": "family_member", "powers": ["approve"],
               "max_per_payment": "1000.00", "valid_from": "2020-01-01"}),
    )
    .await;
    let people = s.app.page("/people", &cookie).await;
    assert!(people.text.contains("Pat Payer"), "{}", people.text);
    assert!(!people.text.contains("/people/new"), "{}", people.text);
    let budget_page = s.app.page(&format!("/budgets/{}", t.budget), &cookie).await;
    assert!(
        budget_page.text.contains(&person_path),
        "{}",
        budget_page.text
    );
    let person = s.app.page(&person_path, &cookie).await;
    assert_eq!(person.status, StatusCode::OK, "{}", person.text);
    assert!(
        person.text.contains(&format!("/budgets/{}", t.budget)),
        "{}",
        person.text
    );
    assert!(!person.text.contains("/capacity"), "{}", person.text);
    // Another person of the council stays out of sight.
    let other = s.person("Not Theirs", true, false).await;
    assert_eq!(
        s.app
            .page(&format!("/people/{other}"), &cookie)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

/// The budget form cites the person's assessment (a cost that differs needs a reason, shown beside
/// the reason's box) and splits the cost between funders (parts that do not add up are refused
/// beside the council's part, what was typed kept, nothing written).
#[tokio::test]
async fn the_budget_form_cites_an_assessment_and_splits_the_cost_between_funders() {
    let s = Scenario::new().await;
    let person = s.person("Fay Funded", true, false).await;
    let assessed = s
        .app
        .post(
            &format!("/api/v1/people/{person}/assessments"),
            &s.care_manager.token,
            json!({"kind": "needs", "domains": {"nutrition": 10, "dressing": 10}, "notes": "Two domains"}),
        )
        .await;
    assert_eq!(assessed.status, StatusCode::CREATED, "{}", assessed.text);
    let assessment = assessed.json["id"].as_str().unwrap().to_owned();
    assert_eq!(
        assessed.json["indicative_weekly"], "200.00",
        "{}",
        assessed.text
    );
    let (cookie, csrf) = s.app.session(s.council.id, s.care_manager.id).await;
    let form = s
        .app
        .page(&format!("/budgets/new?person_id={person}"), &cookie)
        .await;
    assert!(
        form.text
            .contains(&format!("<option value=\"{assessment}\"")),
        "{}",
        form.text
    );
    let person_s = person.to_string();
    let fields = |reason: &str, council: &str| {
        vec![
            ("csrf_token".to_string(), csrf.clone()),
            ("person_id".into(), person_s.clone()),
            ("funder".into(), "council".into()),
            ("kind".into(), "standard".into()),
            ("annual_cost".into(), "15600.00".into()),
            ("weekly_contribution".into(), "0".into()),
            ("contribution_basis".into(), "net".into()),
            ("start_date".into(), START.into()),
            ("assessment_id".into(), assessment.clone()),
            ("cost_reason".into(), reason.to_owned()),
            ("council_weekly".into(), council.to_owned()),
            ("nhs_weekly".into(), "100.00".into()),
            ("other_weekly".into(), String::new()),
            ("other_name".into(), String::new()),
            ("nhs_dp_separate_account".into(), "yes".into()),
            ("direct_payment_consent_recorded".into(), "no".into()),
            ("direct_payment_recipient".into(), "person".into()),
            ("direct_payment_recipient_agreed".into(), "no".into()),
        ]
    };
    let post = |fields: Vec<(String, String)>| {
        let cookie = cookie.clone();
        let app = &s.app;
        async move {
            let borrowed: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            app.form("/budgets/new", &cookie, &borrowed).await
        }
    };
    // 300.00 a week against an indicative 200.00, and no reason.
    let refused = post(fields("", "200.00")).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert_field_error(&refused, "cost_reason");
    // Parts of 190.00 and 100.00 against 300.00 a week.
    let refused = post(fields("Needs two carers at times", "190.00")).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert_field_error(&refused, "council_weekly");
    assert!(
        refused.text.contains("value=\"190.00\""),
        "{}",
        refused.text
    );
    assert_eq!(count(&s, "budgets").await, 0);

    let added = post(fields("Needs two carers at times", "200.00")).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text);
    let path = location(&added);
    let budget = s.app.get(&format!("/api/v1{path}"), &s.maker.token).await;
    let b = &budget.json["budget"];
    let b = if b.is_null() { &budget.json } else { b };
    assert_eq!(b["assessment_id"], json!(assessment), "{}", budget.text);
    assert_eq!(b["cost_reason"], "Needs two carers at times");
    assert_eq!(b["nhs_dp_separate_account"], true);
    let funders: Vec<(String, String)> = b["funding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["funder"].as_str().unwrap().to_owned(),
                f["weekly_amount"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        funders,
        vec![
            ("council".to_owned(), "200.00".to_owned()),
            ("nhs".to_owned(), "100.00".to_owned())
        ],
        "{}",
        budget.text
    );
}
