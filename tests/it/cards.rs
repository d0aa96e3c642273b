//! Payment cards: the registry and its bad input, the processors' signed events (missing, wrong,
//! stale, future and replayed signatures), authorisations decided by the rules with the
//! cardholder as actor (unknown and frozen cards, blocked merchants, cash, the grant's limits),
//! holds, reversals, captures smaller and larger than the hold, refunds and expiry.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use allot::cards::signature;

use crate::payments_api::{setup, Setup};
use crate::support::Reply;

pub(crate) struct Cards {
    pub(crate) p: Setup,
    pub(crate) key: Vec<u8>,
    pub(crate) card: Uuid,
}

pub(crate) async fn cards() -> Cards {
    cards_in(setup().await).await
}

/// A processor and card `card-1` on the direct payment of the payments scenario `p`.
pub(crate) async fn cards_in(p: Setup) -> Cards {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let created = allot::cards::processors::create(&p.s.app.db.pool, "Test Processor")
        .await
        .expect("processor");
    assert!(created.secret.starts_with("whsec_"));
    let key = signature::parse_secret(&created.secret).expect("secret");
    let reply = register(&p, "card-1").await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let card = reply.json["id"].as_str().unwrap().parse().unwrap();
    Cards { p, key, card }
}

async fn register(p: &Setup, reference: &str) -> Reply {
    p.s.app
        .post(
            "/api/v1/cards",
            &p.s.maker.token,
            json!({"account_id": p.dp_account, "processor_card_ref": reference,
                   "cardholder_user_id": p.holder.0, "last4": "4242"}),
        )
        .await
}

impl Cards {
    pub(crate) fn now(&self) -> i64 {
        self.p.s.app.state.clock.now().timestamp()
    }

    pub(crate) async fn send_signed(
        &self,
        id: &str,
        timestamp: i64,
        signature: Option<String>,
        body: &Value,
    ) -> Reply {
        let body = body.to_string();
        let signature =
            signature.unwrap_or_else(|| signature::sign(&self.key, id, timestamp, body.as_bytes()));
        let request = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/card-events")
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(Body::from(body))
            .unwrap();
        self.p.s.app.send(request).await
    }

    pub(crate) async fn event(&self, kind: &str, data: Value) -> Reply {
        let id = format!("msg_{}", Uuid::new_v4().simple());
        self.send_signed(&id, self.now(), None, &json!({"type": kind, "data": data}))
            .await
    }

    pub(crate) async fn authorize(&self, authorization: &str, amount: &str, mcc: &str) -> Reply {
        self.authorize_card("card-1", authorization, amount, mcc, false)
            .await
    }

    pub(crate) async fn authorize_card(
        &self,
        card: &str,
        authorization: &str,
        amount: &str,
        mcc: &str,
        is_cash: bool,
    ) -> Reply {
        let reply = self
            .event(
                "authorization.request",
                json!({"authorization_id": authorization, "card_ref": card, "amount": amount,
                       "currency": "GBP", "is_cash": is_cash,
                       "merchant": {"name": "A Merchant", "category_code": mcc, "city": "Leeds"}}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        reply
    }

    pub(crate) async fn available(&self) -> String {
        let view = self.p.s.budget_view(self.p.budget).await;
        crate::support::scenario::account(&view, "direct_payment")["available_balance"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

pub(crate) fn declined(reply: &Reply) -> &str {
    assert_eq!(reply.json["approved"], false, "{}", reply.text);
    reply.json["decline_reason"].as_str().unwrap_or("")
}

#[tokio::test]
async fn cards_are_registered_frozen_and_cancelled_by_finance_officers() {
    let c = cards().await;
    let p = &c.p;
    assert_eq!(register(p, "card-1").await.status, StatusCode::CONFLICT);
    let bad = |body: Value| {
        let token = p.s.maker.token.clone();
        async move { p.s.app.post("/api/v1/cards", &token, body).await }
    };
    for body in [
        json!({"account_id": p.dp_account, "processor_card_ref": "x", "cardholder_user_id": p.holder.0, "last4": "42a2"}),
        json!({"account_id": Uuid::new_v4(), "processor_card_ref": "x", "cardholder_user_id": p.holder.0, "last4": "4242"}),
        json!({"account_id": p.dp_account, "processor_card_ref": "x", "cardholder_user_id": Uuid::new_v4(), "last4": "4242"}),
        json!({"account_id": p.dp_account, "processor_card_ref": "", "cardholder_user_id": p.holder.0, "last4": "4242"}),
        json!({"account_id": p.dp_account, "processor_card_ref": "x", "cardholder_user_id": p.holder.0}),
        json!({"account_id": p.dp_account, "processor_card_ref": "x", "cardholder_user_id": p.holder.0, "last4": "4242", "pin": "1234"}),
    ] {
        let reply = bad(body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.text
        );
        assert_eq!(reply.code(), "invalid_request");
    }
    let by_care_manager = p
        .s
        .app
        .post(
            "/api/v1/cards",
            &p.s.care_manager.token,
            json!({"account_id": p.dp_account, "processor_card_ref": "y", "cardholder_user_id": p.holder.0, "last4": "4242"}),
        )
        .await;
    assert_eq!(by_care_manager.status, StatusCode::FORBIDDEN);

    let path = |action: &str| format!("/api/v1/cards/{}/{action}", c.card);
    let frozen =
        p.s.app
            .post(&path("freeze"), &p.s.maker.token, json!({}))
            .await;
    assert_eq!(frozen.status, StatusCode::OK, "{}", frozen.text);
    assert_eq!(frozen.json["status"], "frozen");
    let active =
        p.s.app
            .post(&path("unfreeze"), &p.s.maker.token, json!({}))
            .await;
    assert_eq!(active.json["status"], "active");
    let cancelled =
        p.s.app
            .post(&path("cancel"), &p.s.maker.token, json!({}))
            .await;
    assert_eq!(cancelled.json["status"], "cancelled");
    let again =
        p.s.app
            .post(&path("freeze"), &p.s.maker.token, json!({}))
            .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let list = p.s.app.get("/api/v1/cards", &p.s.auditor.token).await;
    assert_eq!(list.json["items"].as_array().unwrap().len(), 1);
    let one =
        p.s.app
            .get(&format!("/api/v1/cards/{}", c.card), &p.s.maker.token)
            .await;
    assert_eq!(one.json["last4"], "4242");
    let holder = p.s.app.get("/api/v1/cards", &p.holder.1).await;
    assert_eq!(holder.status, StatusCode::FORBIDDEN);
    let nobody =
        p.s.app
            .get(
                &format!("/api/v1/cards/{}", Uuid::new_v4()),
                &p.s.maker.token,
            )
            .await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_signatures_are_refused_with_nothing_recorded() {
    let c = cards().await;
    let body = json!({"type": "authorization.request", "data": {"authorization_id": "a-1",
        "card_ref": "card-1", "amount": "5.00", "currency": "GBP",
        "merchant": {"name": "Taxi", "category_code": "4121"}}});
    let before = c.p.s.app.snapshot().await;
    let now = c.now();
    let other = signature::new_key().unwrap();
    let text = body.to_string();
    for (timestamp, sig) in [
        (now, Some(String::new())),
        (
            now,
            Some(signature::sign(&other, "msg_1", now, text.as_bytes())),
        ),
        (now, Some("v1,bm90IGEgc2lnbmF0dXJl".to_owned())),
        (now - 400, None),
        (now + 400, None),
    ] {
        let reply = c.send_signed("msg_1", timestamp, sig, &body).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text);
        assert_eq!(reply.code(), "unauthenticated");
    }
    // A signature over another body does not fit this one.
    let signed_for_other = signature::sign(&c.key, "msg_1", now, b"{}");
    let reply = c
        .send_signed("msg_1", now, Some(signed_for_other), &body)
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(c.p.s.app.snapshot().await, before, "nothing recorded");
}

#[tokio::test]
async fn authorisations_are_decided_by_the_rules_and_replays_get_the_first_answer() {
    let c = cards().await;
    let before = c.available().await;
    // A taxi is transport, a line of the plan: approved, the money held.
    let approved = c.authorize("auth-1", "10.00", "4121").await;
    assert_eq!(approved.json["approved"], true, "{}", approved.text);
    let after: rust_decimal::Decimal = c.available().await.parse().unwrap();
    let before: rust_decimal::Decimal = before.parse().unwrap();
    assert_eq!(before - after, rust_decimal::Decimal::new(1000, 2));
    let payment = approved.json["payment_id"].as_str().unwrap();
    let recorded =
        c.p.s
            .app
            .get(&format!("/api/v1/payments/{payment}"), &c.p.holder.1)
            .await;
    assert_eq!(recorded.json["status"], "authorized", "{}", recorded.text);
    assert_eq!(recorded.json["requested_by"], c.p.holder.0.to_string());

    // A replayed webhook-id gets the first answer, whatever changed since.
    let body = json!({"type": "authorization.request", "data": {"authorization_id": "auth-2",
        "card_ref": "card-1", "amount": "5.00", "currency": "GBP",
        "merchant": {"name": "Taxi", "category_code": "4121"}}});
    let first = c.send_signed("msg_replay", c.now(), None, &body).await;
    assert_eq!(first.json["approved"], true, "{}", first.text);
    c.p.s
        .app
        .post(
            &format!("/api/v1/cards/{}/freeze", c.card),
            &c.p.s.maker.token,
            json!({}),
        )
        .await;
    let replay = c.send_signed("msg_replay", c.now(), None, &body).await;
    assert_eq!(replay.status, StatusCode::OK);
    assert_eq!(replay.json, first.json);
    assert_eq!(
        declined(&c.authorize("auth-3", "5.00", "4121").await),
        "card_frozen"
    );
    c.p.s
        .app
        .post(
            &format!("/api/v1/cards/{}/unfreeze", c.card),
            &c.p.s.maker.token,
            json!({}),
        )
        .await;

    let unknown = c
        .authorize_card("no-such-card", "auth-4", "5.00", "4121", false)
        .await;
    assert_eq!(declined(&unknown), "unknown_card");
    assert_eq!(
        declined(&c.authorize("auth-5", "5.00", "7995").await),
        "blocked_merchant"
    );
    // Groceries are not in the plan (the default map leaves them `other`).
    assert_eq!(
        declined(&c.authorize("auth-6", "5.00", "5411").await),
        "not_in_plan"
    );
    // Cash, where the plan does not allow it.
    assert_eq!(
        declined(&c.authorize("auth-7", "20.00", "6011").await),
        "blocked_merchant"
    );
    // Above the cardholder's co-sign threshold (250.00) with nobody to co-sign: no authority.
    assert_eq!(
        declined(&c.authorize("auth-8", "260.00", "8050").await),
        "no_authority"
    );
    // With a co-signer the payment would wait for them; a till cannot wait.
    let cosigner =
        c.p.s
            .app
            .user(
                &c.p.s.council,
                allot::auth::Role::Representative,
                None,
                None,
            )
            .await;
    crate::payments_api::grant(
        &c.p.s,
        c.p.budget,
        json!({"user_id": cosigner.0, "acting_as": "family_member", "powers": ["approve"],
               "max_per_payment": "1000.00", "valid_from": "2020-01-01"}),
    )
    .await;
    assert_eq!(
        declined(&c.authorize("auth-9", "260.00", "8050").await),
        "needs_approval"
    );
    // Declines are recorded like payments' refusals.
    let decisions =
        c.p.s
            .app
            .get(
                &format!("/api/v1/budgets/{}/decisions", c.p.budget),
                &c.p.s.care_manager.token,
            )
            .await;
    let refused = decisions.json["items"]
        .as_array()
        .map(|items| items.iter().filter(|d| d["status"] == "refused").count())
        .unwrap_or(0);
    assert!(refused >= 4, "{}", decisions.text);

    // Bad events after a good signature: 400, nothing recorded.
    let before = c.p.s.app.snapshot().await;
    for data in [
        json!({"authorization_id": "b-1", "card_ref": "card-1", "amount": 5, "currency": "GBP", "merchant": {"name": "X", "category_code": "4121"}}),
        json!({"authorization_id": "b-1", "card_ref": "card-1", "amount": "5.00", "currency": "EUR", "merchant": {"name": "X", "category_code": "4121"}}),
        json!({"authorization_id": "b-1", "card_ref": "card-1", "amount": "5.00", "currency": "GBP", "merchant": {"name": "X", "category_code": "41x1"}}),
        json!({"authorization_id": "", "card_ref": "card-1", "amount": "5.00", "currency": "GBP", "merchant": {"name": "X", "category_code": "4121"}}),
    ] {
        let reply = c.event("authorization.request", data.clone()).await;
        assert!(reply.status.is_client_error(), "{data}: {}", reply.text);
        assert!(reply.json["error"]["code"].is_string(), "{}", reply.text);
    }
    let reply = c.event("no.such.type", json!({})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(c.p.s.app.snapshot().await, before);
}

#[tokio::test]
async fn captures_reversals_refunds_and_expiry() {
    let c = cards().await;
    let p = &c.p;
    // Restaurants count as personal care here (a council's own map).
    let mut settings =
        p.s.app
            .get("/api/v1/policy", &p.s.council.admin_token)
            .await
            .json;
    settings["card_mcc_categories"]["5812"] = json!("personal_care");
    settings.as_object_mut().unwrap().remove("version");
    let put =
        p.s.app
            .put("/api/v1/policy", &p.s.council.admin_token, settings)
            .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    let start: rust_decimal::Decimal = c.available().await.parse().unwrap();
    let money = |pence: i64| rust_decimal::Decimal::new(pence, 2);

    // Reversal: the hold is voided.
    assert_eq!(
        c.authorize("r-1", "30.00", "4121").await.json["approved"],
        true
    );
    let reversed = c
        .event("authorization.reversal", json!({"authorization_id": "r-1"}))
        .await;
    assert_eq!(reversed.status, StatusCode::OK, "{}", reversed.text);
    assert_eq!(
        c.available()
            .await
            .parse::<rust_decimal::Decimal>()
            .unwrap(),
        start
    );
    let captured_after_reversal = c
        .event(
            "capture",
            json!({"authorization_id": "r-1", "amount": "30.00"}),
        )
        .await;
    assert_eq!(captured_after_reversal.status, StatusCode::CONFLICT);

    // A smaller capture releases the rest.
    assert_eq!(
        c.authorize("c-1", "20.00", "4121").await.json["approved"],
        true
    );
    let captured = c
        .event(
            "capture",
            json!({"authorization_id": "c-1", "amount": "15.00"}),
        )
        .await;
    assert_eq!(captured.status, StatusCode::OK, "{}", captured.text);
    assert_eq!(
        c.available()
            .await
            .parse::<rust_decimal::Decimal>()
            .unwrap(),
        start - money(1500)
    );

    // A restaurant capture above the hold, within 20 %: the extra posts on its own, flagged.
    assert_eq!(
        c.authorize("c-2", "50.00", "5812").await.json["approved"],
        true
    );
    let too_much = c
        .event(
            "capture",
            json!({"authorization_id": "c-2", "amount": "60.01"}),
        )
        .await;
    assert_eq!(
        too_much.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        too_much.text
    );
    let tipped = c
        .event(
            "capture",
            json!({"authorization_id": "c-2", "amount": "58.00"}),
        )
        .await;
    assert_eq!(tipped.status, StatusCode::OK, "{}", tipped.text);
    assert_eq!(tipped.json["flags"], json!(["over_capture"]));
    assert!(tipped.json["extra_entry_id"].is_string());
    assert_eq!(
        c.available()
            .await
            .parse::<rust_decimal::Decimal>()
            .unwrap(),
        start - money(7300)
    );
    // A taxi capture above the hold is not allowed... (taxis may take tips too: 4121 is listed)
    assert_eq!(
        c.authorize("c-3", "10.00", "8050").await.json["approved"],
        true
    );
    let over_care = c
        .event(
            "capture",
            json!({"authorization_id": "c-3", "amount": "10.50"}),
        )
        .await;
    assert_eq!(over_care.status, StatusCode::UNPROCESSABLE_ENTITY);
    c.event("authorization.reversal", json!({"authorization_id": "c-3"}))
        .await;

    // A refund puts money back, never more than was captured.
    let refund_too_much = c
        .event(
            "refund",
            json!({"authorization_id": "c-1", "amount": "15.01"}),
        )
        .await;
    assert_eq!(refund_too_much.status, StatusCode::UNPROCESSABLE_ENTITY);
    let refunded = c
        .event(
            "refund",
            json!({"authorization_id": "c-1", "amount": "5.00"}),
        )
        .await;
    assert_eq!(refunded.status, StatusCode::OK, "{}", refunded.text);
    assert_eq!(
        c.available()
            .await
            .parse::<rust_decimal::Decimal>()
            .unwrap(),
        start - money(6800)
    );

    // Expiry: the hold is released; a capture afterwards still posts, flagged.
    assert_eq!(
        c.authorize("e-1", "12.00", "4121").await.json["approved"],
        true
    );
    let later = p.s.app.state.clock.now() + chrono::Duration::days(8);
    let council = p.s.council.id;
    allot::db::in_tenant_tx(&p.s.app.db.pool, council, |tx| {
        Box::pin(async move {
            allot::ledger::expire_due_holds_in_tx(tx, council, later)
                .await
                .map_err(allot::error::AppError::from)
        })
    })
    .await
    .unwrap();
    assert_eq!(
        c.available()
            .await
            .parse::<rust_decimal::Decimal>()
            .unwrap(),
        start - money(6800)
    );
    let late = c
        .event(
            "capture",
            json!({"authorization_id": "e-1", "amount": "12.00"}),
        )
        .await;
    assert_eq!(late.status, StatusCode::OK, "{}", late.text);
    assert_eq!(late.json["flags"], json!(["captured_after_expiry"]));
    assert_eq!(
        c.available()
            .await
            .parse::<rust_decimal::Decimal>()
            .unwrap(),
        start - money(8000)
    );
    let unknown = c
        .event(
            "capture",
            json!({"authorization_id": "nope", "amount": "1.00"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

/// The processors' keys are kept in memory: a processor made after they were read is accepted at
/// once; an authorisation's answer is recorded with its decision; and one whose stored answer is
/// gone is answered from the decision, holding nothing twice.
#[tokio::test]
async fn a_new_processor_is_heard_at_once_and_a_lost_answer_is_rebuilt_from_the_decision() {
    let c = cards().await;
    // The first event reads and keeps the keys.
    let first = c.authorize("auth-kept", "4.00", "4121").await;
    assert_eq!(first.json["approved"], true, "{}", first.text);

    let second = allot::cards::processors::create(&c.p.s.app.db.pool, "Second Processor")
        .await
        .expect("processor");
    let key = signature::parse_secret(&second.secret).expect("secret");
    let body = json!({"type": "authorization.request", "data": {"authorization_id": "auth-other",
        "card_ref": "card-1", "amount": "1.00", "currency": "GBP",
        "merchant": {"name": "Taxi", "category_code": "4121"}}})
    .to_string();
    let now = c.now();
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/card-events")
        .header("content-type", "application/json")
        .header("webhook-id", "msg_second")
        .header("webhook-timestamp", now.to_string())
        .header(
            "webhook-signature",
            signature::sign(&key, "msg_second", now, body.as_bytes()),
        )
        .body(Body::from(body))
        .unwrap();
    let reply = c.p.s.app.send(request).await;
    // The second processor does not know card-1 (it is the first processor's reference).
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(declined(&reply), "unknown_card");

    // An approved authorisation whose stored answer was lost.
    let body = json!({"type": "authorization.request", "data": {"authorization_id": "auth-lost",
        "card_ref": "card-1", "amount": "6.00", "currency": "GBP",
        "merchant": {"name": "Taxi", "category_code": "4121"}}});
    let answered = c.send_signed("msg_lost", c.now(), None, &body).await;
    assert_eq!(answered.json["approved"], true, "{}", answered.text);
    let available = c.available().await;
    let owner = c.p.s.app.db.pool.get().await.unwrap();
    let stored: Value = owner
        .query_one(
            "SELECT answer FROM card_event_receipts WHERE webhook_id = 'msg_lost'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, answered.json);
    let gone = owner
        .execute(
            "DELETE FROM card_event_receipts WHERE webhook_id = 'msg_lost'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(gone, 1);
    let replay = c.send_signed("msg_lost", c.now(), None, &body).await;
    assert_eq!(replay.status, StatusCode::OK, "{}", replay.text);
    assert_eq!(replay.json["approved"], true, "{}", replay.text);
    assert_eq!(c.available().await, available, "held once");
    let holds: i64 = owner
        .query_one(
            "SELECT count(*) FROM card_authorizations WHERE authorization_ref = 'auth-lost'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(holds, 1);
}
