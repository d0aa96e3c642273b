//! Contributions recorded by providers: only into an account their organisation holds, and held
//! for a finance officer when they are more than the person owes (the budget's arrears).

use axum::http::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use allot::auth::Role;

use crate::support::scenario::{account, id, Scenario, PERIOD};

/// A net-basis budget paying 30.00 a week in: a direct payment of 100.00 and a managed account of
/// 50.00 a week held by the scenario's managed-account provider; the first period released (so
/// 4 x 30.00 = 120.00 is owed).
async fn funded(s: &Scenario) -> Uuid {
    let mut body = Scenario::budget_body(s.person("Cora", true, false).await);
    body["weekly_contribution"] = json!("30.00");
    let budget = s
        .approved_budget(
            body,
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
    s.release(PERIOD).await;
    budget
}

fn contribution(amount: &str) -> Value {
    json!({"amount": amount, "received_on": "2025-02-10"})
}

async fn record(
    s: &Scenario,
    budget: Uuid,
    token: &str,
    key: &str,
    amount: &str,
) -> crate::support::Reply {
    s.app
        .post_with_key(
            &format!("/api/v1/budgets/{budget}/contributions"),
            token,
            key,
            contribution(amount),
        )
        .await
}

#[tokio::test]
async fn a_provider_never_credits_the_persons_own_account_and_large_sums_wait_for_finance() {
    let s = Scenario::new().await;
    let budget = funded(&s).await;
    let view = s.budget_view(budget).await;
    let dp = account(&view, "direct_payment")["id"].clone();
    let ma = account(&view, "managed_account")["id"].clone();
    assert_eq!(view["contributions"]["arrears"], "120.00");

    let held = record(&s, budget, &s.ma_staff.token, "big", "50000.00").await;
    assert_eq!(held.status, StatusCode::ACCEPTED, "{}", held.text);
    assert_eq!(held.json["status"], "pending_approval");
    assert_eq!(
        held.json["account_id"], ma,
        "into the account the provider holds"
    );
    assert!(held.json["entry_id"].is_null());
    let view = s.budget_view(budget).await;
    assert_eq!(account(&view, "direct_payment")["posted_balance"], "280.00");
    assert_eq!(
        account(&view, "managed_account")["posted_balance"],
        "200.00"
    );
    assert_eq!(view["contributions"]["received"], "0.00");
    assert_eq!(view["contributions"]["arrears"], "120.00");

    // The same key again: the same held contribution, nothing new.
    let replay = record(&s, budget, &s.ma_staff.token, "big", "50000.00").await;
    assert_eq!(replay.status, StatusCode::ACCEPTED);
    assert_eq!(replay.json["id"], held.json["id"]);

    // The finance officer's queue shows it; a provider has no queue.
    let queue = s
        .app
        .get(
            "/api/v1/contributions?status=pending_approval",
            &s.checker.token,
        )
        .await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.text);
    assert_eq!(queue.json["items"].as_array().unwrap().len(), 1);
    assert_eq!(queue.json["items"][0]["id"], held.json["id"]);
    let provider_queue = s
        .app
        .get(
            "/api/v1/contributions?status=pending_approval",
            &s.ma_staff.token,
        )
        .await;
    assert_eq!(provider_queue.status, StatusCode::FORBIDDEN);

    let approved = s
        .app
        .post(
            &format!("/api/v1/contributions/{}/approve", id(&held)),
            &s.checker.token,
            json!({}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    assert_eq!(approved.json["status"], "posted");
    assert!(approved.json["entry_id"].is_string());
    assert_eq!(approved.json["resolved_by"], json!(s.checker.id));
    let view = s.budget_view(budget).await;
    assert_eq!(account(&view, "direct_payment")["posted_balance"], "280.00");
    assert_eq!(
        account(&view, "managed_account")["posted_balance"],
        "50200.00"
    );
    assert_eq!(view["contributions"]["arrears"], "0.00");
    assert_ne!(dp, ma);
}

#[tokio::test]
async fn what_is_owed_posts_at_once_and_only_finance_resolves_the_rest() {
    let s = Scenario::new().await;
    let budget = funded(&s).await;
    let within = record(&s, budget, &s.ma_staff.token, "c-1", "20.00").await;
    assert_eq!(within.status, StatusCode::CREATED, "{}", within.text);
    assert_eq!(within.json["status"], "posted");
    // 100.00 is still owed: a penny more waits.
    let above = record(&s, budget, &s.ma_staff.token, "c-2", "100.01").await;
    assert_eq!(above.status, StatusCode::ACCEPTED, "{}", above.text);
    let pending = id(&above);
    // A finance officer's own contribution posts at once, whatever its size (as before).
    let finance = record(&s, budget, &s.maker.token, "c-3", "50000.00").await;
    assert_eq!(finance.status, StatusCode::CREATED, "{}", finance.text);
    assert_eq!(finance.json["status"], "posted");

    let person = s.person("Holder", true, false).await;
    let holder = s
        .app
        .user(&s.council, Role::BudgetHolder, None, Some(person))
        .await;
    let other = s.app.council("Other Council").await;
    let (_, other_finance) = s.app.user(&other, Role::FinanceOfficer, None, None).await;
    let before = s.app.snapshot().await;
    for token in [
        &s.ma_staff.token,
        &s.care_manager.token,
        &s.auditor.token,
        &holder.1,
    ] {
        for action in ["approve", "reject"] {
            let reply = s
                .app
                .post(
                    &format!("/api/v1/contributions/{pending}/{action}"),
                    token,
                    json!({}),
                )
                .await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{action}: {}",
                reply.text
            );
            assert_eq!(reply.code(), "forbidden");
        }
    }
    let unknown = s
        .app
        .post(
            &format!("/api/v1/contributions/{}/approve", Uuid::new_v4()),
            &s.checker.token,
            json!({}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let elsewhere = s
        .app
        .post(
            &format!("/api/v1/contributions/{pending}/approve"),
            &other_finance,
            json!({}),
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    assert_eq!(s.app.snapshot().await, before, "refusals wrote nothing");

    let rejected = s
        .app
        .post(
            &format!("/api/v1/contributions/{pending}/reject"),
            &s.checker.token,
            json!({}),
        )
        .await;
    assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.text);
    assert_eq!(rejected.json["status"], "rejected");
    assert!(rejected.json["entry_id"].is_null());
    for action in ["approve", "reject"] {
        let again = s
            .app
            .post(
                &format!("/api/v1/contributions/{pending}/{action}"),
                &s.checker.token,
                json!({}),
            )
            .await;
        assert_eq!(
            again.status,
            StatusCode::CONFLICT,
            "{action}: {}",
            again.text
        );
    }
    let view = s.budget_view(budget).await;
    // 20.00 from the provider into the managed account; 50,000.00 from finance into the direct payment.
    assert_eq!(
        account(&view, "managed_account")["posted_balance"],
        "220.00"
    );
    assert_eq!(
        account(&view, "direct_payment")["posted_balance"],
        "50280.00"
    );
    assert_eq!(view["contributions"]["received"], "50020.00");
}

#[tokio::test]
async fn a_provider_reaches_no_account_its_organisation_does_not_hold() {
    let s = Scenario::new().await;
    // Gross basis: the contribution is the council's to recover, into no provider's account.
    let mut body = Scenario::budget_body(s.person("Dee", true, false).await);
    body["weekly_contribution"] = json!("30.00");
    body["contribution_basis"] = json!("gross");
    let gross = s
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
    // Net basis, but the provider holds an individual service fund: contributions are not paid into it.
    let mut body = Scenario::budget_body(s.person("Eli", true, false).await);
    body["weekly_contribution"] = json!("30.00");
    let isf = s
        .approved_budget(
            body,
            json!([
                Scenario::line("personal_care", "100.00", "direct_payment", None),
                Scenario::line("personal_care", "100.00", "isf", Some(s.isf_provider))
            ]),
        )
        .await;
    s.release(PERIOD).await;
    let before = s.app.snapshot().await;
    for (budget, token) in [(gross, &s.ma_staff.token), (isf, &s.isf_staff.token)] {
        let reply = record(&s, budget, token, "k", "10.00").await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
        assert_eq!(reply.code(), "not_found");
    }
    assert_eq!(s.app.snapshot().await, before);
}
