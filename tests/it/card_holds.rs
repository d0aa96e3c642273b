//! Card holds: incremental authorisations (a further hold decided like a new one; the capture
//! posts the sum of the holds, a reversal voids them all), the timeout path (the policy's decline
//! is recorded before the answer, so a decision that finishes later leaves no hold), and the
//! daily cash limit read under the account's lock (two cash withdrawals racing cannot both pass).

use std::time::Duration;

use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde_json::json;

use crate::cards::{cards, cards_in, declined, Cards};
use crate::payments_api::{setup, setup_in};
use crate::support::scenario::Scenario;
use crate::support::{test_settings, TestApp};

async fn available(c: &Cards) -> Decimal {
    c.available().await.parse().unwrap()
}

fn pounds(pence: i64) -> Decimal {
    Decimal::new(pence, 2)
}

/// A number the council's tables answer (as the app role, in the council).
async fn count(c: &Cards, sql: &'static str) -> i64 {
    let council = c.p.s.council.id;
    allot::db::in_tenant_tx(&c.p.s.app.db.pool, council, |tx| {
        Box::pin(async move { Ok(tx.query_one(sql, &[]).await?.get::<_, i64>(0)) })
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn an_incremental_authorisation_is_a_further_hold_and_the_capture_posts_the_sum() {
    let c = cards().await;
    let start = available(&c).await;
    let approved = c.authorize("inc-1", "10.00", "8050").await;
    assert_eq!(approved.json["approved"], true, "{}", approved.text);
    let more = c
        .event(
            "authorization.incremental",
            json!({"authorization_id": "inc-1", "amount": "5.00"}),
        )
        .await;
    assert_eq!(more.status, StatusCode::OK, "{}", more.text);
    assert_eq!(more.json["approved"], true, "{}", more.text);
    assert_eq!(available(&c).await, start - pounds(1500));
    let increment_payment = more.json["payment_id"].as_str().unwrap().to_owned();

    // Decided like a new authorisation: above the cardholder's co-sign threshold, declined.
    let too_much = c
        .event(
            "authorization.incremental",
            json!({"authorization_id": "inc-1", "amount": "260.00"}),
        )
        .await;
    assert_eq!(declined(&too_much), "no_authority");
    assert_eq!(available(&c).await, start - pounds(1500));

    // A replayed increment gets its first answer and holds nothing more.
    let body = json!({"type": "authorization.incremental",
                      "data": {"authorization_id": "inc-1", "amount": "1.00"}});
    let first = c.send_signed("msg_inc_replay", c.now(), None, &body).await;
    assert_eq!(first.json["approved"], true, "{}", first.text);
    let again = c.send_signed("msg_inc_replay", c.now(), None, &body).await;
    assert_eq!(again.json, first.json);
    assert_eq!(available(&c).await, start - pounds(1600));

    // The capture posts the sum of the holds (10 + 5 + 1).
    let captured = c
        .event(
            "capture",
            json!({"authorization_id": "inc-1", "amount": "16.00"}),
        )
        .await;
    assert_eq!(captured.status, StatusCode::OK, "{}", captured.text);
    assert_eq!(captured.json["authorized"], "16.00");
    assert_eq!(captured.json["flags"], json!([]));
    assert_eq!(
        captured.json["increment_entry_ids"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(available(&c).await, start - pounds(1600));
    let payment =
        c.p.s
            .app
            .get(
                &format!("/api/v1/payments/{increment_payment}"),
                &c.p.holder.1,
            )
            .await;
    assert_eq!(payment.json["status"], "posted", "{}", payment.text);
    assert_eq!(count(&c, "SELECT count(*) FROM ledger_open_holds").await, 0);

    // Nothing can be added to a captured authorisation.
    let closed = c
        .event(
            "authorization.incremental",
            json!({"authorization_id": "inc-1", "amount": "1.00"}),
        )
        .await;
    assert_eq!(declined(&closed), "authorization_not_open");

    // A smaller capture releases the rest of every hold.
    c.authorize("inc-2", "10.00", "8050").await;
    c.event(
        "authorization.incremental",
        json!({"authorization_id": "inc-2", "amount": "10.00"}),
    )
    .await;
    assert_eq!(available(&c).await, start - pounds(3600));
    let smaller = c
        .event(
            "capture",
            json!({"authorization_id": "inc-2", "amount": "12.00"}),
        )
        .await;
    assert_eq!(smaller.status, StatusCode::OK, "{}", smaller.text);
    assert_eq!(available(&c).await, start - pounds(2800));
    assert_eq!(count(&c, "SELECT count(*) FROM ledger_open_holds").await, 0);

    // A reversal voids the increments with the authorisation.
    c.authorize("inc-3", "10.00", "8050").await;
    c.event(
        "authorization.incremental",
        json!({"authorization_id": "inc-3", "amount": "5.00"}),
    )
    .await;
    assert_eq!(available(&c).await, start - pounds(4300));
    let reversed = c
        .event(
            "authorization.reversal",
            json!({"authorization_id": "inc-3"}),
        )
        .await;
    assert_eq!(reversed.status, StatusCode::OK, "{}", reversed.text);
    assert_eq!(available(&c).await, start - pounds(2800));
    assert_eq!(count(&c, "SELECT count(*) FROM ledger_open_holds").await, 0);

    // An unknown authorisation: 404, nothing recorded.
    let before = c.p.s.app.snapshot().await;
    let unknown = c
        .event(
            "authorization.incremental",
            json!({"authorization_id": "nope", "amount": "1.00"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text);
    let bad = c
        .event(
            "authorization.incremental",
            json!({"authorization_id": "inc-3", "amount": "0.00"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert_eq!(c.p.s.app.snapshot().await, before);
}

#[tokio::test]
async fn a_decision_finishing_after_the_timeout_decline_leaves_no_hold() {
    let app = TestApp::with_settings(allot::config::Settings {
        card_decision_budget: Duration::from_millis(300),
        ..test_settings()
    })
    .await;
    let c = cards_in(setup_in(Scenario::in_app(app, "Test Council").await).await).await;
    let start = available(&c).await;
    let council = c.p.s.council.id;
    let account = c.p.dp_account;

    // Another transaction holds the card account's lock: the decision cannot finish in time.
    let mut client = c.p.s.app.db.pool.get().await.unwrap();
    let blocker = allot::db::tenant_tx(&mut client, council).await.unwrap();
    blocker
        .execute(
            "SELECT 1 FROM ledger_accounts WHERE council_id = $1 AND id = $2 FOR UPDATE",
            &[&council, &account],
        )
        .await
        .unwrap();
    let late = c.authorize("t-1", "10.00", "8050").await;
    assert_eq!(declined(&late), "timeout", "{}", late.text);
    // The lock goes; the decision still queued finishes (it would approve).
    blocker.commit().await.unwrap();
    drop(client);

    // The council's requests are decided in arrival order: once this one is answered, the late
    // decision has finished too.
    let next = c.authorize("t-2", "5.00", "8050").await;
    assert_eq!(next.json["approved"], true, "{}", next.text);
    assert_eq!(available(&c).await, start - pounds(500));
    assert_eq!(count(&c, "SELECT count(*) FROM ledger_open_holds").await, 1);
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM card_authorizations
             WHERE authorization_ref = 't-1' AND NOT approved AND decline_reason = 'timeout'
               AND payment_id IS NULL AND hold_entry_id IS NULL"
        )
        .await,
        1
    );
    assert_eq!(count(&c, "SELECT count(*) FROM payments").await, 1);
    // The same authorisation again (another event id) gets the recorded decline.
    let again = c.authorize("t-1", "10.00", "8050").await;
    assert_eq!(declined(&again), "timeout");

    // The network stood in and captures it after all: posted, on the exceptions list.
    let captured = c
        .event(
            "capture",
            json!({"authorization_id": "t-1", "amount": "10.00", "stand_in": true}),
        )
        .await;
    assert_eq!(captured.status, StatusCode::OK, "{}", captured.text);
    assert_eq!(captured.json["flags"], json!(["stand_in_capture"]));
    assert_eq!(available(&c).await, start - pounds(1500));
    let listed =
        c.p.s
            .app
            .get("/api/v1/cards/exceptions", &c.p.s.maker.token)
            .await;
    let items = listed.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", listed.text);
    assert_eq!(items[0]["authorization_id"], "t-1");
    assert_eq!(items[0]["verdict_approved"], true);
}

#[tokio::test]
async fn two_cash_withdrawals_racing_cannot_both_pass_the_daily_limit() {
    let p = setup().await;
    let council = p.s.council.id;
    // The plan allows cash, and ATMs count as personal care in this council.
    {
        let mut client = p.s.app.db.pool.get().await.unwrap();
        let tx = client.transaction().await.unwrap();
        tx.execute(
            "SELECT set_config('app.council_id', $1, true)",
            &[&council.to_string()],
        )
        .await
        .unwrap();
        let changed = tx
            .execute(
                "UPDATE support_plans SET cash_allowed = true
                 WHERE council_id = $1 AND budget_id = $2 AND status = 'approved'",
                &[&council, &p.budget],
            )
            .await
            .unwrap();
        assert_eq!(changed, 1);
        tx.commit().await.unwrap();
    }
    let mut settings =
        p.s.app
            .get("/api/v1/policy", &p.s.council.admin_token)
            .await
            .json;
    settings["card_mcc_categories"]["6011"] = json!("personal_care");
    assert_eq!(settings["card_cash_daily_limit"], "100.00");
    settings.as_object_mut().unwrap().remove("version");
    let put =
        p.s.app
            .put("/api/v1/policy", &p.s.council.admin_token, settings)
            .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    let c = cards_in(p).await;

    for round in 0..3 {
        let (first, second) = (format!("cash-{round}-a"), format!("cash-{round}-b"));
        let (a, b) = tokio::join!(
            c.authorize_card("card-1", &first, "60.00", "6011", true),
            c.authorize_card("card-1", &second, "60.00", "6011", true),
        );
        let approved: Vec<_> = [&a, &b]
            .into_iter()
            .filter(|r| r.json["approved"] == true)
            .collect();
        let refused: Vec<_> = [&a, &b]
            .into_iter()
            .filter(|r| r.json["approved"] == false)
            .collect();
        if round == 0 {
            assert_eq!(approved.len(), 1, "{} / {}", a.text, b.text);
            assert_eq!(
                refused[0].json["decline_reason"], "cash_limit",
                "{}",
                refused[0].text
            );
        } else {
            // 60.00 withdrawn today: neither fits.
            assert!(approved.is_empty(), "{} / {}", a.text, b.text);
        }
        let reversed_nothing = refused
            .iter()
            .all(|r| r.json["decline_reason"] == "cash_limit");
        assert!(reversed_nothing, "{} / {}", a.text, b.text);
    }
    // What is left of the limit still can be withdrawn, and no more.
    let rest = c
        .authorize_card("card-1", "cash-rest", "40.00", "6011", true)
        .await;
    assert_eq!(rest.json["approved"], true, "{}", rest.text);
    let over = c
        .authorize_card("card-1", "cash-over", "0.01", "6011", true)
        .await;
    assert_eq!(declined(&over), "cash_limit");
}
