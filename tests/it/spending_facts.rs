//! What a spending decision counts: reversed payments stop counting toward their plan line and
//! toward care-home stays; stays paid from a managed account count toward the person's 28 days
//! as those from a direct payment do.

use axum::http::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::payments_api::{bank, grant, payee, setup};
use crate::support::scenario::{Scenario, PERIOD};

async fn reverse(s: &Scenario, payment: &Value) {
    let path = format!(
        "/api/v1/payments/{}/reverse",
        payment["id"].as_str().unwrap()
    );
    let reply = s
        .app
        .post_with_key(
            &path,
            &s.maker.token,
            &Uuid::new_v4().to_string(),
            json!({"reason": "paid in error"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
}

#[tokio::test]
async fn a_reversed_payment_no_longer_counts_toward_its_plan_line() {
    // Transport is 1.00 a week: 52.00 a plan year.
    let t = setup().await;
    let first = t.pay(&t.holder.1, t.body("transport", "50.00")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let over = t.pay(&t.holder.1, t.body("transport", "10.00")).await;
    assert_eq!(over.status, StatusCode::ACCEPTED, "beyond the line: held");
    reverse(&t.s, &first.json).await;
    // 10.00 held + 10.00 now = 20.00 of 52.00: within the line again.
    let after = t.pay(&t.holder.1, t.body("transport", "10.00")).await;
    assert_eq!(after.status, StatusCode::CREATED, "{}", after.text);
}

#[tokio::test]
async fn care_home_stays_from_a_managed_account_count_toward_the_limit() {
    let s = Scenario::new().await;
    let person = s.person("Rose Respite", true, false).await;
    let budget = s
        .approved_budget(
            Scenario::budget_body(person),
            json!([
                Scenario::line("residential_respite", "200.00", "direct_payment", None),
                Scenario::line(
                    "residential_respite",
                    "200.00",
                    "managed_account",
                    Some(s.ma_provider)
                ),
            ]),
        )
        .await;
    s.release(PERIOD).await;
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
    grant(
        &s,
        budget,
        json!({"user_id": s.ma_staff.id, "acting_as": "managed_account_provider",
               "powers": ["pay"], "max_per_payment": "500.00", "valid_from": "2020-01-01"}),
    )
    .await;
    let care_home = payee(
        &s,
        json!({"name": "Seaview Care Home", "kind": "care_home", "bank": bank(), "bank_verified": true}),
    )
    .await;
    let stay = |deployment: &str, from: &str, to: &str| {
        json!({"budget_id": budget, "deployment": deployment, "payee_id": care_home,
               "category": "residential_respite", "amount": "100.00",
               "service_date": "2025-02-10", "stay_from": from, "stay_to": to})
    };
    let from_managed = s
        .app
        .post_with_key(
            "/api/v1/payments",
            &s.ma_staff.token,
            "ma-stay",
            stay("managed_account", "2025-02-01", "2025-02-20"),
        )
        .await;
    assert_eq!(
        from_managed.status,
        StatusCode::CREATED,
        "{}",
        from_managed.text
    );
    // 20 nights from the managed account, then 10 less than four weeks later: 30 nights.
    let direct = stay("direct_payment", "2025-02-25", "2025-03-06");
    let refused = s
        .app
        .post_with_key("/api/v1/payments", &holder.1, "dp-stay-1", direct.clone())
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "residential_care_limit"),
        "{}",
        refused.text
    );
    // Once the managed-account stay is reversed it no longer counts.
    reverse(&s, &from_managed.json).await;
    let allowed = s
        .app
        .post_with_key("/api/v1/payments", &holder.1, "dp-stay-2", direct)
        .await;
    assert_eq!(allowed.status, StatusCode::CREATED, "{}", allowed.text);
}

use allot::auth::Role;

/// Spending this plan year as the database's running totals have it, and as counted afresh from
/// the payments (posted or held, not expired, rejected or reversed).
async fn spending_both_ways(t: &crate::payments_api::Setup) -> (String, String) {
    let (council, budget) = (t.s.council.id, t.budget);
    allot::db::in_tenant_tx(&t.s.app.db.pool, council, |tx| {
        Box::pin(async move {
            let kept = tx
                .query_one(
                    "SELECT coalesce(sum(total), 0)::text FROM budget_spending
                     WHERE budget_id = $1 AND category = 'transport'",
                    &[&budget],
                )
                .await?
                .get::<_, String>(0);
            let counted = tx
                .query_one(
                    "SELECT coalesce(sum(pm.amount), 0)::numeric(16,2)::text FROM payments pm
                     WHERE pm.budget_id = $1 AND pm.category = 'transport'
                       AND pm.status IN ('posted', 'pending_approval')
                       AND NOT EXISTS (SELECT 1 FROM ledger_hold_resolutions r
                                       WHERE r.hold_id = pm.hold_entry_id AND r.outcome = 'expired')
                       AND NOT EXISTS (SELECT 1 FROM ledger_entries rev
                                       WHERE rev.reverses = pm.posted_entry_id)",
                    &[&budget],
                )
                .await?
                .get::<_, String>(0);
            Ok((kept, counted))
        })
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn running_spending_totals_follow_posting_holds_rejection_expiry_and_reversal() {
    let t = setup().await;
    let s = &t.s;
    let posted = t.pay(&t.holder.1, t.body("transport", "50.00")).await;
    assert_eq!(posted.status, StatusCode::CREATED, "{}", posted.text);
    let mut held = Vec::new();
    for _ in 0..3 {
        let reply = t.pay(&t.holder.1, t.body("transport", "10.00")).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
        held.push(reply.json["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        spending_both_ways(&t).await,
        ("80.00".into(), "80.00".into())
    );
    let decide = |payment: &str, how: &str| {
        let path = format!("/api/v1/payments/{payment}/{how}");
        let token = s.care_manager.token.clone();
        async move { s.app.post(&path, &token, json!({})).await }
    };
    let rejected = decide(&held[0], "reject").await;
    assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.text);
    assert_eq!(
        spending_both_ways(&t).await,
        ("70.00".into(), "70.00".into())
    );
    let approved = decide(&held[1], "approve").await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    assert_eq!(
        spending_both_ways(&t).await,
        ("70.00".into(), "70.00".into())
    );
    let expired = allot::ledger::expire_due_holds(
        &s.app.db.pool,
        s.council.id,
        allot::clock::system_now() + chrono::Duration::days(15),
    )
    .await
    .unwrap();
    assert_eq!(expired, 1);
    assert_eq!(
        spending_both_ways(&t).await,
        ("60.00".into(), "60.00".into())
    );
    // Rejecting the expired one changes nothing, and is refused anyway.
    let late = decide(&held[2], "reject").await;
    assert!(late.status.is_client_error(), "{}", late.text);
    reverse(s, &posted.json).await;
    assert_eq!(
        spending_both_ways(&t).await,
        ("10.00".into(), "10.00".into())
    );
}
