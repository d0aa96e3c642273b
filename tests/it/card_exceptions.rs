//! Card money moved without allot's approval at the time: force captures, authorisations and
//! captures the network approved while allot was unreachable (`stand_in`) are posted (or held)
//! and put on the finance officers' exceptions list with the rules' verdict; the list's roles,
//! filters and reviews, and bad input.

use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::cards::{cards, Cards};

async fn available(c: &Cards) -> Decimal {
    c.available().await.parse().unwrap()
}

fn pounds(pence: i64) -> Decimal {
    Decimal::new(pence, 2)
}

async fn exceptions(c: &Cards, token: &str, query: &str) -> crate::support::Reply {
    c.p.s
        .app
        .get(&format!("/api/v1/cards/exceptions{query}"), token)
        .await
}

fn by_authorization<'a>(items: &'a [Value], id: &str) -> &'a Value {
    items
        .iter()
        .find(|e| e["authorization_id"] == id)
        .unwrap_or_else(|| panic!("no exception for {id}"))
}

/// The budget's running spending total (all categories) as the rules read it.
async fn spent(c: &Cards) -> Decimal {
    let (council, budget) = (c.p.s.council.id, c.p.budget);
    allot::db::in_tenant_tx(&c.p.s.app.db.pool, council, |tx| {
        Box::pin(async move {
            let total: Decimal = tx
                .query_one(
                    "SELECT coalesce(sum(total), 0) FROM budget_spending WHERE budget_id = $1",
                    &[&budget],
                )
                .await?
                .get(0);
            Ok(total)
        })
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn force_captures_and_stand_ins_are_posted_and_listed_with_the_rules_verdict() {
    let c = cards().await;
    let start = available(&c).await;
    let spent_before = spent(&c).await;
    let finance = c.p.s.maker.token.clone();

    // A force capture at a grocer's (not in the plan): posted all the same.
    let forced = c
        .event(
            "force_capture",
            json!({"authorization_id": "fc-1", "card_ref": "card-1", "amount": "12.00",
                   "currency": "GBP", "merchant": {"name": "Corner Shop", "category_code": "5411"}}),
        )
        .await;
    assert_eq!(forced.status, StatusCode::OK, "{}", forced.text);
    assert_eq!(forced.json["status"], "captured");
    assert!(forced.json["exception_id"].is_string(), "{}", forced.text);
    assert_eq!(available(&c).await, start - pounds(1200));

    // A stand-in authorisation: held whatever the rules say, then captured as usual.
    let stood_in = c
        .event(
            "authorization.request",
            json!({"authorization_id": "si-1", "card_ref": "card-1", "amount": "20.00",
                   "currency": "GBP", "stand_in": true,
                   "merchant": {"name": "Care Agency", "category_code": "8050"}}),
        )
        .await;
    assert_eq!(stood_in.status, StatusCode::OK, "{}", stood_in.text);
    assert_eq!(stood_in.json["approved"], true);
    assert_eq!(available(&c).await, start - pounds(3200));
    let captured = c
        .event(
            "capture",
            json!({"authorization_id": "si-1", "amount": "20.00"}),
        )
        .await;
    assert_eq!(captured.status, StatusCode::OK, "{}", captured.text);
    assert_eq!(available(&c).await, start - pounds(3200));

    // A stand-in capture of an authorisation allot never saw, at a blocked merchant: posted.
    let casino = c
        .event(
            "capture",
            json!({"authorization_id": "sc-1", "amount": "7.00", "stand_in": true,
                   "card_ref": "card-1",
                   "merchant": {"name": "Casino", "category_code": "7995"}}),
        )
        .await;
    assert_eq!(casino.status, StatusCode::OK, "{}", casino.text);
    assert_eq!(casino.json["flags"], json!(["stand_in_capture"]));
    assert_eq!(available(&c).await, start - pounds(3900));
    // All of it counts toward the budget's spending, as the rules read it for later payments.
    assert_eq!(spent(&c).await, spent_before + pounds(3900));

    // Bad input: 4xx, nothing recorded.
    let before = c.p.s.app.snapshot().await;
    for (kind, data, status) in [
        (
            "capture",
            json!({"authorization_id": "sc-2", "amount": "7.00", "stand_in": true}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "capture",
            json!({"authorization_id": "sc-2", "amount": "7.00"}),
            StatusCode::NOT_FOUND,
        ),
        (
            "force_capture",
            json!({"authorization_id": "fc-1", "card_ref": "card-1", "amount": "1.00",
                   "currency": "GBP", "merchant": {"name": "Shop", "category_code": "5411"}}),
            StatusCode::CONFLICT,
        ),
        (
            "force_capture",
            json!({"authorization_id": "fc-2", "card_ref": "card-1", "amount": "1.00",
                   "currency": "EUR", "merchant": {"name": "Shop", "category_code": "5411"}}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "force_capture",
            json!({"authorization_id": "fc-2", "card_ref": "no-such-card", "amount": "1.00",
                   "currency": "GBP", "merchant": {"name": "Shop", "category_code": "5411"}}),
            StatusCode::NOT_FOUND,
        ),
        (
            "force_capture",
            json!({"authorization_id": "fc-2", "card_ref": "card-1", "amount": "-1.00",
                   "currency": "GBP", "merchant": {"name": "Shop", "category_code": "5411"}}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let reply = c.event(kind, data.clone()).await;
        assert_eq!(reply.status, status, "{data}: {}", reply.text);
        assert!(reply.json["error"]["code"].is_string(), "{}", reply.text);
    }
    assert_eq!(c.p.s.app.snapshot().await, before);

    // The list, with each verdict.
    let open = exceptions(&c, &finance, "").await;
    assert_eq!(open.status, StatusCode::OK, "{}", open.text);
    let items = open.json["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 3, "{}", open.text);
    let fc = by_authorization(&items, "fc-1");
    assert_eq!(fc["kind"], "force_capture");
    assert_eq!(fc["amount"], "12.00");
    assert_eq!(fc["verdict_approved"], false);
    assert_eq!(fc["verdict_reason"], "not_in_plan");
    assert_eq!(fc["verdict"]["outcome"], "refuse", "{fc}");
    assert_eq!(fc["status"], "open");
    let si = by_authorization(&items, "si-1");
    assert_eq!(si["kind"], "stand_in_authorization");
    assert_eq!(si["verdict_approved"], true, "{si}");
    let sc = by_authorization(&items, "sc-1");
    assert_eq!(sc["kind"], "stand_in_capture");
    assert_eq!(sc["verdict_reason"], "blocked_merchant");

    // Who may read and review.
    assert_eq!(
        exceptions(&c, &c.p.s.auditor.token, "").await.status,
        StatusCode::OK
    );
    assert_eq!(
        exceptions(&c, &c.p.s.care_manager.token, "").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        exceptions(&c, &c.p.holder.1, "").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        exceptions(&c, &finance, "?status=bogus").await.status,
        StatusCode::BAD_REQUEST
    );
    let id = fc["id"].as_str().unwrap().to_owned();
    let review = |token: String, id: String, body: Value| {
        let app = &c.p.s.app;
        async move {
            app.post(
                &format!("/api/v1/cards/exceptions/{id}/review"),
                &token,
                body,
            )
            .await
        }
    };
    assert_eq!(
        review(
            c.p.s.auditor.token.clone(),
            id.clone(),
            json!({"note": "seen"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    for body in [
        json!({"note": "  "}),
        json!({}),
        json!({"note": "x", "extra": 1}),
    ] {
        let reply = review(finance.clone(), id.clone(), body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.text
        );
    }
    assert_eq!(
        review(
            finance.clone(),
            Uuid::new_v4().to_string(),
            json!({"note": "seen"})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let reviewed = review(
        finance.clone(),
        id.clone(),
        json!({"note": "Groceries bought for the person; agreed with the care manager."}),
    )
    .await;
    assert_eq!(reviewed.status, StatusCode::OK, "{}", reviewed.text);
    assert_eq!(reviewed.json["status"], "reviewed");
    assert_eq!(reviewed.json["reviewed_by"], c.p.s.maker.id.to_string());
    assert_eq!(
        review(finance.clone(), id.clone(), json!({"note": "again"}))
            .await
            .status,
        StatusCode::CONFLICT
    );
    let count = |reply: crate::support::Reply| reply.json["items"].as_array().unwrap().len();
    assert_eq!(count(exceptions(&c, &finance, "?status=open").await), 2);
    assert_eq!(count(exceptions(&c, &finance, "?status=reviewed").await), 1);
    assert_eq!(count(exceptions(&c, &finance, "?status=all").await), 3);

    // A force capture can be refunded like any capture.
    let refunded = c
        .event(
            "refund",
            json!({"authorization_id": "fc-1", "amount": "2.00"}),
        )
        .await;
    assert_eq!(refunded.status, StatusCode::OK, "{}", refunded.text);
    assert_eq!(available(&c).await, start - pounds(3700));
}
