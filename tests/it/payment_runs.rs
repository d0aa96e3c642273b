//! Payment runs through the API: a mixed package end to end, skips with rule codes, maker-checker,
//! idempotency, the periods rule, contributions and arrears.

use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::str::FromStr;
use uuid::Uuid;

use crate::support::scenario::{account, id, Scenario, PERIOD};

fn money(value: &Value) -> Decimal {
    Decimal::from_str(
        value
            .as_str()
            .unwrap_or_else(|| panic!("not an amount: {value}")),
    )
    .unwrap()
}

fn pounds(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

fn line<'a>(run: &'a Value, budget: Uuid, deployment: &str) -> &'a Value {
    run["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["budget_id"] == json!(budget) && l["deployment"] == deployment)
        .unwrap_or_else(|| panic!("no {deployment} line for {budget} in {run}"))
}

/// The council's funding account balance, read through the ledger.
async fn funding_balance(s: &Scenario) -> Decimal {
    let council_id = s.council.id;
    allot::db::in_tenant_tx(&s.app.db.pool, council_id, |tx| {
        Box::pin(async move {
            let account = allot::budgets::accounts::council_account(
                tx,
                council_id,
                allot::budgets::accounts::CouncilPurpose::Funding,
            )
            .await?;
            Ok(allot::ledger::balances(tx, council_id, account)
                .await?
                .posted_balance)
        })
    })
    .await
    .expect("funding balance")
}

#[tokio::test]
async fn a_mixed_package_is_released_per_deployment_with_net_and_gross_contributions() {
    let s = Scenario::new().await;
    // Net: 40.00 a week reduces the direct payment.
    let mut net = Scenario::budget_body(s.person("Nia", true, false).await);
    net["weekly_contribution"] = json!("40.00");
    let mixed = s
        .approved_budget(
            net,
            json!([
                Scenario::line("personal_assistant", "150.00", "direct_payment", None),
                Scenario::line(
                    "personal_care",
                    "120.00",
                    "managed_account",
                    Some(s.ma_provider)
                ),
                Scenario::line("day_activities", "200.00", "isf", Some(s.isf_provider)),
                Scenario::line("domestic_support", "30.00", "council_managed", None),
            ]),
        )
        .await;
    // Gross: the council releases everything and records 25.00 a week as owed.
    let mut gross = Scenario::budget_body(s.person("Oli", true, false).await);
    gross["weekly_contribution"] = json!("25.00");
    gross["contribution_basis"] = json!("gross");
    let gross = s
        .approved_budget(
            gross,
            json!([Scenario::line(
                "personal_care",
                "100.00",
                "direct_payment",
                None
            )]),
        )
        .await;

    let draft = s.draft_run("mixed-1", PERIOD).await;
    assert_eq!(draft.status, StatusCode::CREATED, "{}", draft.text);
    assert_eq!(draft.json["status"], "draft");
    assert_eq!(draft.json["skipped"], json!([]));
    let run = &draft.json;
    assert_eq!(
        money(&line(run, mixed, "direct_payment")["amount"]),
        pounds("440.00")
    );
    assert_eq!(
        money(&line(run, mixed, "direct_payment")["contribution_to_pay_in"]),
        pounds("160.00")
    );
    assert_eq!(
        money(&line(run, mixed, "managed_account")["amount"]),
        pounds("480.00")
    );
    assert_eq!(money(&line(run, mixed, "isf")["amount"]), pounds("800.00"));
    assert_eq!(
        money(&line(run, mixed, "council_managed")["amount"]),
        pounds("120.00")
    );
    assert_eq!(line(run, mixed, "council_managed")["in_bank_file"], false);
    assert_eq!(
        money(&line(run, gross, "direct_payment")["amount"]),
        pounds("400.00")
    );
    assert_eq!(
        money(&line(run, gross, "direct_payment")["contribution_owed"]),
        pounds("100.00")
    );
    assert_eq!(money(&run["total_amount"]), pounds("2240.00"));
    assert_eq!(money(&run["bank_total"]), pounds("2120.00"));

    // Nothing moves until a second finance officer approves.
    let view = s.budget_view(mixed).await;
    assert_eq!(account(&view, "direct_payment")["posted_balance"], "0.00");
    let approved = s.submit_and_approve(id(&draft)).await;
    assert_eq!(approved["status"], "approved");
    assert!(approved["lines"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["entry_id"].is_string()));

    let view = s.budget_view(mixed).await;
    assert_eq!(account(&view, "direct_payment")["posted_balance"], "440.00");
    assert_eq!(
        account(&view, "managed_account")["posted_balance"],
        "480.00"
    );
    assert_eq!(account(&view, "isf")["available_balance"], "800.00");
    assert_eq!(
        account(&view, "council_managed")["posted_balance"],
        "120.00"
    );
    // The net contribution is expected in the person's own account: arrears until they pay it in.
    assert_eq!(view["contributions"]["expected"], "160.00");
    assert_eq!(view["contributions"]["arrears"], "160.00");
    let gross_view = s.budget_view(gross).await;
    assert_eq!(
        account(&gross_view, "direct_payment")["posted_balance"],
        "400.00"
    );
    let owed = gross_view["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["purpose"] == "contribution_owed")
        .expect("a contributions-owed account");
    assert_eq!(
        owed["posted_balance"], "-100.00",
        "the contribution is recorded as owed"
    );
    // Funding paid 2240.00 out and recorded 100.00 owed back to it.
    assert_eq!(funding_balance(&s).await, pounds("-2140.00"));
}

#[tokio::test]
async fn skipped_budgets_carry_the_rule_codes() {
    let s = Scenario::new().await;
    let line = json!([Scenario::line(
        "personal_care",
        "100.00",
        "direct_payment",
        None
    )]);
    let no_plan = s
        .budget(Scenario::budget_body(s.person("Pat", true, false).await))
        .await;
    let draft_only = s
        .budget(Scenario::budget_body(s.person("Quin", true, false).await))
        .await;
    assert_eq!(
        s.plan(draft_only, line.clone()).await.status,
        StatusCode::OK
    );
    let excluded = s
        .approved_budget(
            Scenario::budget_body(s.person("Rae", true, true).await),
            line.clone(),
        )
        .await;
    let mut no_consent = Scenario::budget_body(s.person("Sol", true, false).await);
    no_consent["direct_payment"] = json!({"consent_recorded": false});
    let no_consent = s.approved_budget(no_consent, line.clone()).await;
    let lacks_capacity = s
        .approved_budget(
            Scenario::budget_body(s.person("Tam", false, false).await),
            line.clone(),
        )
        .await;
    let mut no_bank = Scenario::budget_body(s.person("Uma", true, false).await);
    no_bank.as_object_mut().unwrap().remove("bank");
    let no_bank = s.approved_budget(no_bank, line.clone()).await;
    let fine = s
        .approved_budget(
            Scenario::budget_body(s.person("Val", true, false).await),
            line,
        )
        .await;

    let run = s.draft_run("skips", PERIOD).await;
    assert_eq!(run.status, StatusCode::CREATED, "{}", run.text);
    let reason = |budget: Uuid| -> String {
        run.json["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["budget_id"] == json!(budget))
            .map(|s| s["reason"].as_str().unwrap().to_string())
            .unwrap_or_default()
    };
    assert_eq!(reason(no_plan), "plan_not_approved");
    assert_eq!(reason(draft_only), "plan_not_approved");
    assert_eq!(reason(excluded), "person_excluded");
    assert_eq!(reason(no_consent), "capacity_conditions");
    assert_eq!(reason(lacks_capacity), "capacity_conditions");
    assert_eq!(reason(no_bank), "bank_details_missing");
    assert_eq!(reason(fine), "");
    let lines = run.json["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["budget_id"], json!(fine));
    assert!(run.json["skipped"][0]["message"].as_str().unwrap().len() > 20);
}

#[tokio::test]
async fn maker_checker_and_approval_happen_once() {
    let s = Scenario::new().await;
    let budget = s
        .approved_budget(
            Scenario::budget_body(s.person("Wyn", true, false).await),
            json!([Scenario::line(
                "personal_care",
                "100.00",
                "direct_payment",
                None
            )]),
        )
        .await;
    let draft = s.draft_run("mc", PERIOD).await;
    let run = id(&draft);
    let path = |verb: &str| format!("/api/v1/payment-runs/{run}/{verb}");
    let before = s.app.snapshot().await;
    let too_early = s
        .app
        .post(&path("approve"), &s.checker.token, json!({}))
        .await;
    assert_eq!(
        too_early.status,
        StatusCode::CONFLICT,
        "a draft must be submitted first"
    );
    let auditor = s
        .app
        .post(&path("submit"), &s.auditor.token, json!({}))
        .await;
    assert_eq!(auditor.code(), "forbidden");
    assert_eq!(s.app.snapshot().await, before);

    assert_eq!(
        s.app
            .post(&path("submit"), &s.maker.token, json!({}))
            .await
            .status,
        StatusCode::OK
    );
    let before = s.app.snapshot().await;
    let own = s
        .app
        .post(&path("approve"), &s.maker.token, json!({}))
        .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN);
    assert_eq!(own.code(), "approver_conflict");
    assert_eq!(
        s.app.snapshot().await,
        before,
        "the maker's approval changed nothing"
    );

    let approved = s
        .app
        .post(&path("approve"), &s.checker.token, json!({}))
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    let before = s.app.snapshot().await;
    let twice = s
        .app
        .post(&path("approve"), &s.checker.token, json!({}))
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert_eq!(
        s.app.snapshot().await,
        before,
        "a second approval posted nothing"
    );
    let view = s.budget_view(budget).await;
    assert_eq!(account(&view, "direct_payment")["posted_balance"], "400.00");
    assert_eq!(
        s.app
            .post(&path("reject"), &s.checker.token, json!({}))
            .await
            .status,
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn concurrent_approvals_post_once() {
    let s = Scenario::new().await;
    let budget = s
        .approved_budget(
            Scenario::budget_body(s.person("Xan", true, false).await),
            json!([Scenario::line(
                "personal_care",
                "100.00",
                "direct_payment",
                None
            )]),
        )
        .await;
    let (third, third_token) = s
        .app
        .user(&s.council, allot::auth::Role::FinanceOfficer, None, None)
        .await;
    let _ = third;
    let run = id(&s.draft_run("race", PERIOD).await);
    let path = format!("/api/v1/payment-runs/{run}/approve");
    s.app
        .post(
            &format!("/api/v1/payment-runs/{run}/submit"),
            &s.maker.token,
            json!({}),
        )
        .await;
    let (a, b) = tokio::join!(
        s.app.post(&path, &s.checker.token, json!({})),
        s.app.post(&path, &third_token, json!({}))
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::CONFLICT],
        "{} / {}",
        a.text,
        b.text
    );
    let view = s.budget_view(budget).await;
    assert_eq!(account(&view, "direct_payment")["posted_balance"], "400.00");
}

#[tokio::test]
async fn run_creation_is_idempotent_and_a_period_is_released_once() {
    let s = Scenario::new().await;
    s.approved_budget(
        Scenario::budget_body(s.person("Yas", true, false).await),
        json!([Scenario::line(
            "personal_care",
            "100.00",
            "direct_payment",
            None
        )]),
    )
    .await;
    let missing = s
        .app
        .post(
            "/api/v1/payment-runs",
            &s.maker.token,
            json!({"period_start": PERIOD, "weeks": 4}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.code(), "idempotency_key_required");

    let first = s.draft_run("key-1", PERIOD).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let before = s.app.snapshot().await;
    let replay = s.draft_run("key-1", PERIOD).await;
    assert_eq!(replay.status, StatusCode::CREATED);
    assert_eq!(
        replay.json, first.json,
        "the same key and body give the same reply"
    );
    assert_eq!(s.app.snapshot().await, before, "a replay creates nothing");

    let reused = s
        .app
        .post_with_key(
            "/api/v1/payment-runs",
            &s.maker.token,
            "key-1",
            json!({"period_start": PERIOD, "weeks": 2}),
        )
        .await;
    assert_eq!(reused.status, StatusCode::CONFLICT);
    assert_eq!(reused.code(), "idempotency_key_reused");

    let overlapping = s.draft_run("key-2", "2025-02-17").await;
    assert_eq!(
        overlapping.status,
        StatusCode::CONFLICT,
        "{}",
        overlapping.text
    );
    assert_eq!(overlapping.code(), "conflict");

    s.submit_and_approve(id(&first)).await;
    let before = s.app.snapshot().await;
    let again = s.draft_run("key-3", PERIOD).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("already been released"));
    assert_eq!(s.app.snapshot().await, before);

    let bad_weeks = s
        .app
        .post_with_key(
            "/api/v1/payment-runs",
            &s.maker.token,
            "key-4",
            json!({"period_start": "2025-03-03", "weeks": 0}),
        )
        .await;
    assert_eq!(bad_weeks.status, StatusCode::BAD_REQUEST);
    let next = s.draft_run("key-5", "2025-03-03").await;
    assert_eq!(
        next.status,
        StatusCode::CREATED,
        "the next period is fine: {}",
        next.text
    );
}

#[tokio::test]
async fn a_change_after_the_draft_makes_the_run_stale() {
    let s = Scenario::new().await;
    let person = s.person("Zed", true, false).await;
    s.approved_budget(
        Scenario::budget_body(person),
        json!([Scenario::line(
            "personal_care",
            "100.00",
            "direct_payment",
            None
        )]),
    )
    .await;
    let run = id(&s.draft_run("stale", PERIOD).await);
    s.app
        .post(
            &format!("/api/v1/payment-runs/{run}/submit"),
            &s.maker.token,
            json!({}),
        )
        .await;
    let excluded = s
        .app
        .patch(
            &format!("/api/v1/people/{person}"),
            &s.care_manager.token,
            json!({"excluded_from_direct_payments": true}),
        )
        .await;
    assert_eq!(excluded.status, StatusCode::OK);
    let before = s.app.snapshot().await;
    let approve = s
        .app
        .post(
            &format!("/api/v1/payment-runs/{run}/approve"),
            &s.checker.token,
            json!({}),
        )
        .await;
    assert_eq!(approve.status, StatusCode::CONFLICT, "{}", approve.text);
    assert_eq!(
        s.app.snapshot().await,
        before,
        "nothing was paid to someone now excluded"
    );
    let rejected = s
        .app
        .post(
            &format!("/api/v1/payment-runs/{run}/reject"),
            &s.checker.token,
            json!({}),
        )
        .await;
    assert_eq!(rejected.json["status"], "rejected");
    let redrafted = s.draft_run("stale-2", PERIOD).await;
    assert_eq!(redrafted.status, StatusCode::CREATED);
    assert_eq!(redrafted.json["skipped"][0]["reason"], "person_excluded");
}

#[tokio::test]
async fn contributions_are_paid_in_and_reduce_arrears() {
    let s = Scenario::new().await;
    let mut body = Scenario::budget_body(s.person("Abe", true, false).await);
    body["weekly_contribution"] = json!("30.00");
    let budget = s
        .approved_budget(
            body,
            json!([
                Scenario::line("personal_care", "100.00", "direct_payment", None),
                Scenario::line(
                    "personal_care",
                    "50.00",
                    "managed_account",
                    Some(s.ma_provider)
                )
            ]),
        )
        .await;
    s.release(PERIOD).await;
    let path = format!("/api/v1/budgets/{budget}/contributions");
    let before = s.app.snapshot().await;
    let no_key = s
        .app
        .post(
            &path,
            &s.maker.token,
            json!({"amount": "60.00", "received_on": "2025-02-10"}),
        )
        .await;
    assert_eq!(no_key.code(), "idempotency_key_required");
    for (body, code) in [
        (
            json!({"amount": 60, "received_on": "2025-02-10"}),
            "invalid_amount",
        ),
        (
            json!({"amount": "60.001", "received_on": "2025-02-10"}),
            "invalid_amount",
        ),
        (
            json!({"amount": "-60.00", "received_on": "2025-02-10"}),
            "invalid_amount",
        ),
        (
            json!({"amount": "60.00", "received_on": "2999-02-10"}),
            "invalid_request",
        ),
    ] {
        let reply = s
            .app
            .post_with_key(&path, &s.maker.token, "c-bad", body.clone())
            .await;
        assert_eq!(reply.code(), code, "{body}: {}", reply.text);
    }
    let other_provider = s
        .app
        .post_with_key(
            &path,
            &s.isf_staff.token,
            "c-isf",
            json!({"amount": "60.00", "received_on": "2025-02-10"}),
        )
        .await;
    assert_eq!(other_provider.status, StatusCode::NOT_FOUND);
    assert_eq!(s.app.snapshot().await, before);

    let paid = s
        .app
        .post_with_key(
            &path,
            &s.maker.token,
            "c-1",
            json!({"amount": "60.00", "received_on": "2025-02-10"}),
        )
        .await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text);
    let replay = s
        .app
        .post_with_key(
            &path,
            &s.maker.token,
            "c-1",
            json!({"amount": "60.00", "received_on": "2025-02-10"}),
        )
        .await;
    assert_eq!(replay.json["id"], paid.json["id"]);
    let by_provider = s
        .app
        .post_with_key(
            &path,
            &s.ma_staff.token,
            "c-2",
            json!({"amount": "20.00", "received_on": "2025-02-11"}),
        )
        .await;
    assert_eq!(
        by_provider.status,
        StatusCode::CREATED,
        "{}",
        by_provider.text
    );

    let view = s.budget_view(budget).await;
    // Released 4 x (100 - 30) = 280.00 and 4 x 50 = 200.00; then 60.00 paid in by finance into the
    // direct payment, 20.00 by the provider into the managed account it holds (within the arrears).
    assert_eq!(account(&view, "direct_payment")["posted_balance"], "340.00");
    assert_eq!(
        account(&view, "managed_account")["posted_balance"],
        "220.00"
    );
    assert_eq!(view["contributions"]["expected"], "120.00");
    assert_eq!(view["contributions"]["received"], "80.00");
    assert_eq!(view["contributions"]["arrears"], "40.00");
}

#[tokio::test]
async fn another_councils_run_is_not_found() {
    let s = Scenario::new().await;
    let run = id(&s.draft_run("mine", PERIOD).await);
    let other = s.app.council("Other Council").await;
    let (_, finance) = s
        .app
        .user(&other, allot::auth::Role::FinanceOfficer, None, None)
        .await;
    for path in [
        format!("/api/v1/payment-runs/{run}"),
        format!("/api/v1/payment-runs/{run}/bacs18"),
    ] {
        assert_eq!(
            s.app.get(&path, &finance).await.status,
            StatusCode::NOT_FOUND
        );
    }
    let approve = s
        .app
        .post(
            &format!("/api/v1/payment-runs/{run}/submit"),
            &finance,
            json!({}),
        )
        .await;
    assert_eq!(approve.status, StatusCode::NOT_FOUND);
    let list = s.app.get("/api/v1/payment-runs", &finance).await;
    assert_eq!(list.json["items"], json!([]));
}
