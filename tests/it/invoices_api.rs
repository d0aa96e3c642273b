//! Invoices through the API: recorded by the organisation holding the account (or the person for
//! their direct payment), lines adding up, one invoice number per payee, disputes, rejection, and
//! payment through the payment path — whole, in part, replayed, raced — with nothing paid twice.

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::payments_api::{grant, setup, Setup};
use crate::support::Reply;

/// The managed-account provider's staff may pay from the managed account.
pub(crate) async fn provider_setup() -> Setup {
    let t = setup().await;
    grant(
        &t.s,
        t.budget,
        json!({"user_id": t.s.ma_staff.id, "acting_as": "managed_account_provider",
               "powers": ["pay"], "max_per_payment": "1000.00", "valid_from": "2020-01-01"}),
    )
    .await;
    t
}

fn invoice_body(t: &Setup, number: &str) -> Value {
    json!({
        "budget_id": t.budget, "deployment": "managed_account", "payee_id": t.agency,
        "category": "personal_care", "invoice_number": number,
        "issued_on": "2025-02-08", "due_on": "2025-02-22",
        "period_from": "2025-02-03", "period_to": "2025-02-07",
        "lines": [
            {"description": "Morning calls", "quantity": "5", "unit_price": "22.40"},
            {"description": "Evening calls", "quantity": "2.5", "unit_price": "22.40"}
        ],
        "total": "168.00"
    })
}

async fn record(t: &Setup, body: Value) -> Reply {
    t.s.app
        .post("/api/v1/invoices", &t.s.ma_staff.token, body)
        .await
}

async fn pay(t: &Setup, id: &str, key: &str, body: Value) -> Reply {
    t.s.app
        .post_with_key(
            &format!("/api/v1/invoices/{id}/pay"),
            &t.s.ma_staff.token,
            key,
            body,
        )
        .await
}

async fn invoice(t: &Setup, id: &str) -> Value {
    let reply =
        t.s.app
            .get(&format!("/api/v1/invoices/{id}"), &t.s.ma_staff.token)
            .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json
}

#[tokio::test]
async fn an_invoice_is_recorded_once_and_its_lines_add_up() {
    let t = provider_setup().await;
    let created = record(&t, invoice_body(&t, "INV-001")).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json["status"], "received");
    assert_eq!(created.json["total"], "168.00");
    assert_eq!(created.json["outstanding"], "168.00");
    assert_eq!(created.json["lines"][1]["amount"], "56.00");
    assert_eq!(created.json["payee_name"], "Helping Hands");

    let again = record(&t, invoice_body(&t, "INV-001")).await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "duplicate_invoice")
    );
    let mut wrong = invoice_body(&t, "INV-002");
    wrong["total"] = json!("170.00");
    let mismatch = record(&t, wrong).await;
    assert_eq!(
        (mismatch.status, mismatch.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invoice_total_mismatch"),
        "{}",
        mismatch.text
    );
    for (field, value) in [
        ("lines", json!([])),
        (
            "lines",
            json!([{"description": "x", "quantity": "0", "unit_price": "1.00"}]),
        ),
        (
            "lines",
            json!([{"description": "", "quantity": "1", "unit_price": "1.00"}]),
        ),
        ("due_on", json!("2025-01-01")),
        ("invoice_number", json!("   ")),
        ("deployment", json!("piggy_bank")),
        ("surprise", json!(1)),
    ] {
        let mut body = invoice_body(&t, "INV-003");
        body[field] = value.clone();
        let reply = record(&t, body).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{field} {value}: {}",
            reply.text
        );
    }
    let list = t.s.app.get("/api/v1/invoices", &t.s.ma_staff.token).await;
    assert_eq!(
        list.json["items"].as_array().unwrap().len(),
        1,
        "{}",
        list.text
    );
}

#[tokio::test]
async fn only_those_who_hold_the_money_record_and_see_invoices() {
    let t = provider_setup().await;
    // The ISF provider's staff hold nothing of this budget.
    let stranger =
        t.s.app
            .post(
                "/api/v1/invoices",
                &t.s.isf_staff.token,
                invoice_body(&t, "X-1"),
            )
            .await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND, "{}", stranger.text);
    // The person may not record invoices against the provider's account, only their own DP.
    let person =
        t.s.app
            .post("/api/v1/invoices", &t.holder.1, invoice_body(&t, "X-2"))
            .await;
    assert_eq!(person.status, StatusCode::NOT_FOUND, "{}", person.text);
    let mut own = invoice_body(&t, "X-3");
    own["deployment"] = json!("direct_payment");
    let mine = t.s.app.post("/api/v1/invoices", &t.holder.1, own).await;
    assert_eq!(mine.status, StatusCode::CREATED, "{}", mine.text);
    // Council staff do not record invoices.
    let staff =
        t.s.app
            .post(
                "/api/v1/invoices",
                &t.s.care_manager.token,
                invoice_body(&t, "X-4"),
            )
            .await;
    assert_eq!(staff.status, StatusCode::FORBIDDEN, "{}", staff.text);

    let recorded = record(&t, invoice_body(&t, "X-5")).await;
    let id = recorded.json["id"].as_str().unwrap();
    for token in [&t.s.isf_staff.token, &t.holder.1] {
        let seen = t.s.app.get(&format!("/api/v1/invoices/{id}"), token).await;
        assert_eq!(seen.status, StatusCode::NOT_FOUND);
        let paid =
            t.s.app
                .post_with_key(&format!("/api/v1/invoices/{id}/pay"), token, "k", json!({}))
                .await;
        assert_eq!(paid.status, StatusCode::NOT_FOUND, "{}", paid.text);
    }
    let elsewhere = t.s.elsewhere().await;
    let other_council =
        t.s.app
            .get(&format!("/api/v1/invoices/{id}"), &elsewhere.care_manager)
            .await;
    assert!(matches!(
        other_council.status,
        StatusCode::NOT_FOUND | StatusCode::FORBIDDEN
    ));
    // The person's list has their own DP invoice, the provider's has theirs.
    let person_list = t.s.app.get("/api/v1/invoices", &t.holder.1).await;
    assert_eq!(person_list.json["items"].as_array().unwrap().len(), 1);
    let provider_list = t.s.app.get("/api/v1/invoices", &t.s.ma_staff.token).await;
    assert_eq!(provider_list.json["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_invoice_is_paid_through_the_rules_in_part_and_in_full_and_never_twice() {
    let t = provider_setup().await;
    let created = record(&t, invoice_body(&t, "INV-100")).await;
    let id = created.json["id"].as_str().unwrap().to_owned();

    let part = pay(&t, &id, "part-1", json!({"amount": "100.00"})).await;
    assert_eq!(part.status, StatusCode::CREATED, "{}", part.text);
    assert_eq!(part.json["status"], "posted");
    assert_eq!(part.json["memo"], "Invoice INV-100");
    let replay = pay(&t, &id, "part-1", json!({"amount": "100.00"})).await;
    assert_eq!(replay.status, StatusCode::CREATED);
    assert_eq!(replay.json["id"], part.json["id"]);
    assert_eq!(replay.headers["idempotent-replayed"], "true");
    let now = invoice(&t, &id).await;
    assert_eq!(now["status"], "part_paid");
    assert_eq!(now["paid"], "100.00");
    assert_eq!(now["outstanding"], "68.00");
    assert_eq!(now["payment_ids"], json!([part.json["id"]]));

    let too_much = pay(&t, &id, "over", json!({"amount": "80.00"})).await;
    assert_eq!(
        (too_much.status, too_much.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_amount"),
        "{}",
        too_much.text
    );
    let rest = pay(&t, &id, "rest", json!({})).await;
    assert_eq!(rest.status, StatusCode::CREATED, "{}", rest.text);
    assert_eq!(rest.json["amount"], "68.00");
    assert_eq!(invoice(&t, &id).await["status"], "paid");
    let twice = pay(&t, &id, "twice", json!({})).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.text);
    // The first key still replays its outcome after the invoice was paid in full.
    let late_replay = pay(&t, &id, "part-1", json!({"amount": "100.00"})).await;
    assert_eq!(late_replay.status, StatusCode::CREATED);
    assert_eq!(late_replay.json["id"], part.json["id"]);

    // A reversed payment is outstanding again.
    let reversed =
        t.s.app
            .post_with_key(
                &format!(
                    "/api/v1/payments/{}/reverse",
                    rest.json["id"].as_str().unwrap()
                ),
                &t.s.maker.token,
                &Uuid::new_v4().to_string(),
                json!({"reason": "paid the wrong invoice"}),
            )
            .await;
    assert_eq!(reversed.status, StatusCode::CREATED, "{}", reversed.text);
    let after = invoice(&t, &id).await;
    assert_eq!(after["status"], "part_paid");
    assert_eq!(after["outstanding"], "68.00");
}

#[tokio::test]
async fn a_disputed_invoice_is_not_paid_and_a_rejected_one_never() {
    let t = provider_setup().await;
    let created = record(&t, invoice_body(&t, "INV-200")).await;
    let id = created.json["id"].as_str().unwrap().to_owned();
    let path = |verb: &str| format!("/api/v1/invoices/{id}/{verb}");
    let token = t.s.ma_staff.token.clone();

    let no_reason =
        t.s.app
            .post(&path("dispute"), &token, json!({"reason": " "}))
            .await;
    assert_eq!(
        (no_reason.status, no_reason.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "reason_required")
    );
    let disputed =
        t.s.app
            .post(
                &path("dispute"),
                &token,
                json!({"reason": "Two calls were missed"}),
            )
            .await;
    assert_eq!(disputed.status, StatusCode::OK, "{}", disputed.text);
    assert_eq!(disputed.json["status"], "disputed");
    let refused = pay(&t, &id, "while-disputed", json!({})).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert_eq!(
        t.payments_rows().await,
        0,
        "nothing recorded for a refused invoice"
    );

    let resolved = t.s.app.post(&path("resolve"), &token, json!({})).await;
    assert_eq!(resolved.json["status"], "received", "{}", resolved.text);
    let rejected =
        t.s.app
            .post(&path("reject"), &token, json!({"reason": "Not our client"}))
            .await;
    assert_eq!(rejected.json["status"], "rejected", "{}", rejected.text);
    let never = pay(&t, &id, "after-reject", json!({})).await;
    assert_eq!(never.status, StatusCode::CONFLICT);
    let again = t.s.app.post(&path("resolve"), &token, json!({})).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn racing_payments_of_one_invoice_pay_it_once() {
    let t = Arc::new(provider_setup().await);
    let created = record(&t, invoice_body(&t, "INV-300")).await;
    let id = created.json["id"].as_str().unwrap().to_owned();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (t, id) = (t.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            pay(&t, &id, &format!("race-{i}"), json!({})).await
        }));
    }
    let mut posted = 0;
    for task in tasks {
        let reply = task.await.unwrap();
        match reply.status {
            StatusCode::CREATED => posted += 1,
            StatusCode::CONFLICT => {}
            other => panic!("{other}: {}", reply.text),
        }
    }
    assert_eq!(posted, 1);
    let now = invoice(&t, &id).await;
    assert_eq!(now["status"], "paid");
    assert_eq!(now["paid"], "168.00");
}
