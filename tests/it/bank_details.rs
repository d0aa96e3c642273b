//! Changed bank details (a direct payment's, a payee's, a provider's) are logged and paid only
//! once a finance officer other than the person who changed them has verified them.

use axum::http::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::payments_api::{payee, setup};
use crate::support::scenario::{id, Scenario, PERIOD};

const QUEUE: &str = "/api/v1/bank-detail-changes?status=unverified";

fn new_bank() -> Value {
    json!({"sort_code": "40-40-40", "account_number": "44443333", "account_name": "Someone Else"})
}

/// The waiting changes of one subject.
async fn waiting(s: &Scenario, subject_id: Uuid) -> Vec<Value> {
    let queue = s.app.get(QUEUE, &s.checker.token).await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.text);
    queue.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["subject_id"] == json!(subject_id))
        .cloned()
        .collect()
}

async fn verify(s: &Scenario, change: &Value, token: &str) -> crate::support::Reply {
    let change_id = change["id"].as_str().unwrap();
    s.app
        .post(
            &format!("/api/v1/bank-detail-changes/{change_id}/verify"),
            token,
            json!({}),
        )
        .await
}

async fn reject_run(s: &Scenario, run: Uuid) {
    let rejected = s
        .app
        .post(
            &format!("/api/v1/payment-runs/{run}/reject"),
            &s.maker.token,
            json!({}),
        )
        .await;
    assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.text);
}

fn skipped(run: &Value, budget: Uuid) -> Vec<Value> {
    run["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["budget_id"] == json!(budget))
        .cloned()
        .collect()
}

fn lines(run: &Value, budget: Uuid) -> Vec<Value> {
    run["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["budget_id"] == json!(budget))
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_changed_direct_payment_account_is_paid_only_after_a_second_officer_verifies_it() {
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
    let changed = s
        .app
        .patch(
            &format!("/api/v1/budgets/{budget}"),
            &s.care_manager.token,
            json!({"bank": new_bank()}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.json["bank_verified"], false);

    let waiting_changes = waiting(&s, budget).await;
    assert_eq!(waiting_changes.len(), 1, "{waiting_changes:?}");
    let change = &waiting_changes[0];
    assert_eq!(change["subject"], "budget");
    assert_eq!(change["status"], "unverified");
    assert_eq!(change["changed_by"], json!(s.care_manager.id));
    assert_eq!(change["new_bank"]["account_number"], "****3333");
    assert_eq!(change["old_bank"]["account_number"], "****9911");
    assert!(!change.to_string().contains("44443333"), "shown masked");

    // The run skips the direct payment, with the rule's code and a sentence.
    let draft = s.draft_run("r-1", PERIOD).await;
    assert_eq!(draft.status, StatusCode::CREATED, "{}", draft.text);
    assert!(lines(&draft.json, budget).is_empty(), "{}", draft.text);
    let skips = skipped(&draft.json, budget);
    assert_eq!(skips.len(), 1, "{}", draft.text);
    assert_eq!(skips[0]["reason"], "bank_details_unverified");
    assert!(skips[0]["message"].as_str().unwrap().len() > 20);
    reject_run(&s, id(&draft)).await;

    // Only a finance officer verifies.
    let before = s.app.snapshot().await;
    for token in [&s.care_manager.token, &s.auditor.token, &s.ma_staff.token] {
        let refused = verify(&s, change, token).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    }
    assert_eq!(s.app.snapshot().await, before);
    let verified = verify(&s, change, &s.checker.token).await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.text);
    assert_eq!(verified.json["status"], "verified");
    assert_eq!(verified.json["verified_by"], json!(s.checker.id));
    let again = verify(&s, change, &s.maker.token).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert!(waiting(&s, budget).await.is_empty());

    // Now the run pays the new account.
    let draft = s.draft_run("r-2", PERIOD).await;
    assert_eq!(lines(&draft.json, budget).len(), 1, "{}", draft.text);
    assert!(skipped(&draft.json, budget).is_empty());
    let run = s.submit_and_approve(id(&draft)).await;
    let run_id = run["id"].as_str().unwrap();
    let file = s
        .app
        .get(
            &format!("/api/v1/payment-runs/{run_id}/bacs18"),
            &s.maker.token,
        )
        .await;
    assert!(file.text.contains("404040"), "{}", file.text);
    assert!(file.text.contains("44443333"), "{}", file.text);
}

#[tokio::test]
async fn details_set_when_a_budget_is_recorded_wait_for_a_finance_officer_too() {
    let s = Scenario::new().await;
    let person = s.person("Gil", true, false).await;
    let created = s
        .app
        .post(
            "/api/v1/budgets",
            &s.care_manager.token,
            Scenario::budget_body(person),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json["bank_verified"], false);
    let budget = id(&created);
    let plan = s
        .plan(
            budget,
            json!([Scenario::line(
                "personal_care",
                "100.00",
                "direct_payment",
                None
            )]),
        )
        .await;
    assert_eq!(plan.status, StatusCode::OK);
    assert_eq!(s.approve_plan(budget).await.status, StatusCode::OK);
    let change = waiting(&s, budget).await;
    assert_eq!(change.len(), 1);
    assert!(change[0]["old_bank"].is_null());
    let draft = s.draft_run("r-1", PERIOD).await;
    assert_eq!(
        skipped(&draft.json, budget)[0]["reason"],
        "bank_details_unverified"
    );
}

#[tokio::test]
async fn a_change_after_a_run_is_drafted_stops_its_approval() {
    let s = Scenario::new().await;
    let person = s.person("Hal", true, false).await;
    let budget = s
        .approved_budget(
            Scenario::budget_body(person),
            json!([
                Scenario::line("personal_care", "100.00", "direct_payment", None),
                Scenario::line(
                    "domestic_support",
                    "50.00",
                    "managed_account",
                    Some(s.ma_provider)
                )
            ]),
        )
        .await;
    let draft = s.draft_run("r-1", PERIOD).await;
    assert_eq!(lines(&draft.json, budget).len(), 2, "{}", draft.text);
    let run = id(&draft);
    let submitted = s
        .app
        .post(
            &format!("/api/v1/payment-runs/{run}/submit"),
            &s.maker.token,
            json!({}),
        )
        .await;
    assert_eq!(submitted.status, StatusCode::OK);

    // The provider's bank account is changed by the council's administrator.
    let changed = s
        .app
        .patch(
            &format!("/api/v1/organisations/{}", s.ma_provider),
            &s.council.admin_token,
            json!({"bank": new_bank()}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.json["bank_verified"], false);
    let approve = s
        .app
        .post(
            &format!("/api/v1/payment-runs/{run}/approve"),
            &s.checker.token,
            json!({}),
        )
        .await;
    assert_eq!(approve.status, StatusCode::CONFLICT, "{}", approve.text);
    reject_run(&s, run).await;
    let draft = s.draft_run("r-2", PERIOD).await;
    let skips = skipped(&draft.json, budget);
    assert_eq!(skips.len(), 1, "{}", draft.text);
    assert_eq!(skips[0]["deployment"], "managed_account");
    assert_eq!(skips[0]["reason"], "bank_details_unverified");
    reject_run(&s, id(&draft)).await;

    // Verified: paid to the new account.
    let change = waiting(&s, s.ma_provider).await;
    assert_eq!(change[0]["subject"], "organisation");
    assert_eq!(
        verify(&s, &change[0], &s.checker.token).await.status,
        StatusCode::OK
    );
    let draft = s.draft_run("r-3", PERIOD).await;
    assert_eq!(lines(&draft.json, budget).len(), 2, "{}", draft.text);
    let stale = id(&draft);

    // Changed and verified again after the draft: the draft would pay the old account, so it is stale.
    let changed = s
        .app
        .patch(
            &format!("/api/v1/organisations/{}", s.ma_provider),
            &s.council.admin_token,
            json!({"bank": {"sort_code": "70-70-70", "account_number": "77778888", "account_name": "Managed Accounts CIC"}}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    let change = waiting(&s, s.ma_provider).await;
    assert_eq!(
        verify(&s, &change[0], &s.maker.token).await.status,
        StatusCode::OK
    );
    let submitted = s
        .app
        .post(
            &format!("/api/v1/payment-runs/{stale}/submit"),
            &s.maker.token,
            json!({}),
        )
        .await;
    assert_eq!(submitted.status, StatusCode::OK);
    let approve = s
        .app
        .post(
            &format!("/api/v1/payment-runs/{stale}/approve"),
            &s.checker.token,
            json!({}),
        )
        .await;
    assert_eq!(approve.status, StatusCode::CONFLICT, "{}", approve.text);
    reject_run(&s, stale).await;
    let draft = s.draft_run("r-4", PERIOD).await;
    assert_eq!(lines(&draft.json, budget).len(), 2, "{}", draft.text);
    let run = s.submit_and_approve(id(&draft)).await;
    let run_id = run["id"].as_str().unwrap();
    let file = s
        .app
        .get(
            &format!("/api/v1/payment-runs/{run_id}/bacs18"),
            &s.maker.token,
        )
        .await;
    assert!(file.text.contains("77778888"), "{}", file.text);
}

#[tokio::test]
async fn a_verified_payee_whose_bank_details_change_is_not_paid_until_verified_again() {
    let t = setup().await;
    let s = &t.s;
    let pay = t.pay(&t.holder.1, t.body("personal_care", "10.00")).await;
    assert_eq!(pay.status, StatusCode::CREATED, "{}", pay.text);

    // The finance officer who recorded the payee changes its account.
    let changed = s
        .app
        .patch(
            &format!("/api/v1/payees/{}", t.agency),
            &s.maker.token,
            json!({"bank": new_bank()}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.json["bank_verified"], false);
    let refused = t.pay(&t.holder.1, t.body("personal_care", "10.00")).await;
    assert_eq!(refused.code(), "payee_not_approved", "{}", refused.text);

    let change = waiting(s, t.agency).await;
    assert_eq!(change.len(), 1);
    assert_eq!(change[0]["subject"], "payee");
    let own = verify(s, &change[0], &s.maker.token).await;
    assert_eq!(own.status, StatusCode::FORBIDDEN, "{}", own.text);
    assert_eq!(own.code(), "approver_conflict");
    let verified = verify(s, &change[0], &s.checker.token).await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.text);
    let payee_now = s
        .app
        .get(&format!("/api/v1/payees/{}", t.agency), &s.maker.token)
        .await;
    assert_eq!(payee_now.json["bank_verified"], true);
    assert_eq!(payee_now.json["bank"]["account_number"], "44443333");
    let paid = t.pay(&t.holder.1, t.body("personal_care", "10.00")).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text);

    // A later change supersedes one still waiting: only the newest can be verified.
    let first = s
        .app
        .patch(
            &format!("/api/v1/payees/{}", t.agency),
            &s.care_manager.token,
            json!({"bank": {"sort_code": "50-50-50", "account_number": "55556666", "account_name": "Helping Hands"}}),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let older = waiting(s, t.agency).await;
    let second = s
        .app
        .patch(
            &format!("/api/v1/payees/{}", t.agency),
            &s.care_manager.token,
            json!({"bank": {"sort_code": "60-60-60", "account_number": "66667777", "account_name": "Helping Hands"}}),
        )
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    let superseded = verify(s, &older[0], &s.checker.token).await;
    assert_eq!(
        superseded.status,
        StatusCode::CONFLICT,
        "{}",
        superseded.text
    );
    let newest = waiting(s, t.agency).await;
    assert_eq!(newest.len(), 1);
    assert_eq!(newest[0]["new_bank"]["account_number"], "****7777");
}

#[tokio::test]
async fn a_payee_recorded_by_anyone_but_finance_waits_for_verification() {
    let s = Scenario::new().await;
    let by_care_manager = s
        .app
        .post(
            "/api/v1/payees",
            &s.care_manager.token,
            json!({"name": "Village Helpers", "kind": "care_agency", "bank": new_bank()}),
        )
        .await;
    assert_eq!(by_care_manager.status, StatusCode::CREATED);
    assert_eq!(by_care_manager.json["bank_verified"], false);
    let payee_id = id(&by_care_manager);
    let change = waiting(&s, payee_id).await;
    assert_eq!(change.len(), 1, "{change:?}");
    assert!(change[0]["old_bank"].is_null());

    // Recorded as verified by a finance officer: nothing to verify.
    let by_finance = payee(
        &s,
        json!({"name": "Checked Ltd", "kind": "care_agency", "bank": new_bank(), "bank_verified": true}),
    )
    .await;
    assert!(waiting(&s, by_finance).await.is_empty());
    let all = s
        .app
        .get(
            "/api/v1/bank-detail-changes?status=verified",
            &s.auditor.token,
        )
        .await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert!(all.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["subject_id"] == json!(by_finance)));

    assert_eq!(
        verify(&s, &change[0], &s.maker.token).await.status,
        StatusCode::OK
    );
    let now = s
        .app
        .get(&format!("/api/v1/payees/{payee_id}"), &s.maker.token)
        .await;
    assert_eq!(now.json["bank_verified"], true);
}

#[tokio::test]
async fn the_queue_is_for_finance_and_refusals_write_nothing() {
    let s = Scenario::new().await;
    let before = s.app.snapshot().await;
    for token in [&s.care_manager.token, &s.broker.token, &s.ma_staff.token] {
        let reply = s.app.get(QUEUE, token).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    }
    let bad = s
        .app
        .get("/api/v1/bank-detail-changes?status=maybe", &s.maker.token)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert_eq!(bad.code(), "invalid_request");
    let unknown = s
        .app
        .post(
            &format!("/api/v1/bank-detail-changes/{}/verify", Uuid::new_v4()),
            &s.maker.token,
            json!({}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let organisations = s
        .app
        .patch(
            &format!("/api/v1/organisations/{}", s.ma_provider),
            &s.care_manager.token,
            json!({"bank": new_bank()}),
        )
        .await;
    assert_eq!(organisations.status, StatusCode::FORBIDDEN);
    let payees = s
        .app
        .patch(
            &format!("/api/v1/payees/{}", Uuid::new_v4()),
            &s.care_manager.token,
            json!({"bank": new_bank()}),
        )
        .await;
    assert_eq!(payees.status, StatusCode::NOT_FOUND);
    assert_eq!(s.app.snapshot().await, before);

    // Another council's change is not found.
    let other = s.app.council("Other Council").await;
    let organisation = s
        .app
        .post(
            "/api/v1/organisations",
            &other.admin_token,
            json!({"name": "Far Away Care", "kind": "care_provider", "bank": new_bank()}),
        )
        .await;
    assert_eq!(
        organisation.status,
        StatusCode::CREATED,
        "{}",
        organisation.text
    );
    let client = s.app.db.pool.get().await.unwrap();
    let other_change: Uuid = client
        .query_one(
            "SELECT id FROM bank_detail_changes WHERE organisation_id = $1",
            &[&id(&organisation)],
        )
        .await
        .unwrap()
        .get(0);
    let elsewhere = s
        .app
        .post(
            &format!("/api/v1/bank-detail-changes/{other_change}/verify"),
            &s.maker.token,
            json!({}),
        )
        .await;
    assert_eq!(
        elsewhere.status,
        StatusCode::NOT_FOUND,
        "{}",
        elsewhere.text
    );
}

#[tokio::test]
async fn openapi_describes_the_controls() {
    let app = crate::support::TestApp::new().await;
    let reply = app
        .call(axum::http::Method::GET, "/api/openapi.json", None, None)
        .await;
    let paths = &reply.json["paths"];
    for (path, method, status) in [
        ("/api/v1/bank-detail-changes", "get", "200"),
        ("/api/v1/bank-detail-changes/{id}", "get", "200"),
        ("/api/v1/bank-detail-changes/{id}/verify", "post", "403"),
        ("/api/v1/bank-detail-changes/{id}/verify", "post", "409"),
        ("/api/v1/payees/{id}", "patch", "200"),
        ("/api/v1/organisations/{id}", "patch", "200"),
        ("/api/v1/budgets/{id}/contributions", "post", "202"),
        ("/api/v1/contributions", "get", "200"),
        ("/api/v1/contributions/{id}/approve", "post", "200"),
        ("/api/v1/contributions/{id}/reject", "post", "409"),
    ] {
        assert!(
            paths[path][method]["responses"][status].is_object(),
            "{method} {path} {status} missing from OpenAPI"
        );
    }
    let schemas = &reply.json["components"]["schemas"];
    assert!(schemas["Contribution"]["properties"]["status"].is_object());
    assert!(schemas["Budget"]["properties"]["bank_verified"].is_object());
}

#[tokio::test]
async fn finance_officers_verify_from_the_bank_details_page() {
    let s = Scenario::new().await;
    let changed = s
        .app
        .patch(
            &format!("/api/v1/organisations/{}", s.isf_provider),
            &s.council.admin_token,
            json!({"bank": new_bank()}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    let payee = s
        .app
        .post(
            "/api/v1/payees",
            &s.maker.token,
            json!({"name": "Maker's Pick", "kind": "care_agency", "bank": new_bank()}),
        )
        .await;
    assert_eq!(payee.status, StatusCode::CREATED);
    let (maker, maker_csrf) = s.app.session(s.council.id, s.maker.id).await;
    let page = s.app.page("/bank-details", &maker).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("Bank details to verify"));
    assert!(page.text.contains("Supported Living Ltd"));
    assert!(page.text.contains("****3333"));
    assert!(!page.text.contains("44443333"), "details are masked");
    assert!(
        page.text.contains("You changed these"),
        "the maker's own payee"
    );

    let organisation_change = waiting(&s, s.isf_provider).await;
    let payee_change = waiting(&s, id(&payee)).await;
    let path = |change: &Value| {
        format!(
            "/bank-details/{}/verify",
            change["id"].as_str().unwrap_or_default()
        )
    };
    let no_csrf = s
        .app
        .form(&path(&organisation_change[0]), &maker, &[])
        .await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    let own = s
        .app
        .form(
            &path(&payee_change[0]),
            &maker,
            &[("csrf_token", maker_csrf.as_str())],
        )
        .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN, "{}", own.text);
    assert!(own.text.contains("other than the one who changed them"));
    let verified = s
        .app
        .form(
            &path(&organisation_change[0]),
            &maker,
            &[("csrf_token", maker_csrf.as_str())],
        )
        .await;
    assert_eq!(verified.status, StatusCode::SEE_OTHER, "{}", verified.text);
    assert!(waiting(&s, s.isf_provider).await.is_empty());

    let (care_manager, _) = s.app.session(s.council.id, s.care_manager.id).await;
    let refused = s.app.page("/bank-details", &care_manager).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}
