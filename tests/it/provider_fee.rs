//! The managed-account provider's monthly fee: set by the organisation's own staff, charged by
//! the upkeep once per client account and month through the payment path and its rules (on the
//! injected clock), visible on the client's statement; a refusal is recorded and listed, never
//! forced; bad input is refused with nothing written.

use axum::http::StatusCode;
use chrono::{TimeZone, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::payments_api::{bank, grant};
use crate::support::scenario::{account, id, Scenario, PERIOD};

struct Fees {
    s: Scenario,
    /// A client whose plan has an `account_management` line.
    with_line: Uuid,
    /// A client whose plan has none.
    without_line: Uuid,
}

async fn fee_setup() -> Fees {
    let s = Scenario::new().await;
    let mut budgets = Vec::new();
    for (name, fee_line) in [("Fee Payer", true), ("No Fee Line", false)] {
        let person = s.person(name, true, false).await;
        let mut lines = vec![Scenario::line(
            "personal_care",
            "120.00",
            "managed_account",
            Some(s.ma_provider),
        )];
        if fee_line {
            lines.push(Scenario::line(
                "account_management",
                "10.00",
                "managed_account",
                Some(s.ma_provider),
            ));
        }
        budgets.push(
            s.approved_budget(Scenario::budget_body(person), Value::Array(lines))
                .await,
        );
    }
    s.release(PERIOD).await;
    for budget in &budgets {
        grant(
            &s,
            *budget,
            json!({"user_id": s.ma_staff.id, "acting_as": "managed_account_provider",
                   "powers": ["pay"], "max_per_payment": "1000.00", "valid_from": "2020-01-01"}),
        )
        .await;
    }
    // The provider's own payee, recorded by its staff and verified by a finance officer.
    let payee = s
        .app
        .post(
            "/api/v1/payees",
            &s.ma_staff.token,
            json!({"name": "Managed Accounts Ltd (fees)", "kind": "care_agency", "bank": bank()}),
        )
        .await;
    assert_eq!(payee.status, StatusCode::CREATED, "{}", payee.text);
    let queue = s
        .app
        .get(
            "/api/v1/bank-detail-changes?status=unverified",
            &s.maker.token,
        )
        .await;
    for change in queue.json["items"].as_array().unwrap() {
        if change["subject"] == "payee" {
            let verified = s
                .app
                .post(
                    &format!(
                        "/api/v1/bank-detail-changes/{}/verify",
                        change["id"].as_str().unwrap()
                    ),
                    &s.maker.token,
                    json!({}),
                )
                .await;
            assert_eq!(verified.status, StatusCode::OK, "{}", verified.text);
        }
    }
    Fees {
        s,
        with_line: budgets[0],
        without_line: budgets[1],
    }
}

async fn charges(t: &Fees, token: &str) -> Vec<Value> {
    let reply =
        t.s.app
            .get(
                &format!("/api/v1/organisations/{}/fee-charges", t.s.ma_provider),
                token,
            )
            .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json["items"].as_array().unwrap().clone()
}

async fn upkeep(t: &Fees) -> usize {
    let state = &t.s.app.state;
    allot::providers::fees::run_once(&state.pool, &state.payments, state.clock.now())
        .await
        .unwrap()
}

fn of_budget(items: &[Value], budget: Uuid, month: &str) -> Value {
    items
        .iter()
        .find(|c| c["budget_id"] == json!(budget) && c["month"] == month)
        .unwrap_or_else(|| panic!("no charge of {budget} for {month}: {items:?}"))
        .clone()
}

#[tokio::test]
async fn the_fee_is_charged_once_a_month_through_the_rules() {
    let t = fee_setup().await;
    let path = format!("/api/v1/organisations/{}/fee", t.s.ma_provider);
    let body = json!({"monthly_amount": "35.00", "from": "2025-02-10"});
    // Only the organisation's own staff set it.
    let council = t.s.app.put(&path, &t.s.maker.token, body.clone()).await;
    assert_eq!(council.status, StatusCode::FORBIDDEN, "{}", council.text);
    let other = t.s.app.put(&path, &t.s.isf_staff.token, body.clone()).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "{}", other.text);
    let set = t.s.app.put(&path, &t.s.ma_staff.token, body).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    assert_eq!(set.json["monthly_amount"], "35.00");
    assert_eq!(set.json["from_month"], "2025-02-01");

    // January: before the fee starts, nothing is charged.
    let clock = &t.s.app.state.clock;
    clock.set(Utc.with_ymd_and_hms(2025, 1, 31, 12, 0, 0).unwrap());
    assert_eq!(upkeep(&t).await, 0);
    // February: each client once — posted where the plan has the line, refused where not.
    clock.set(Utc.with_ymd_and_hms(2025, 2, 10, 9, 0, 0).unwrap());
    assert_eq!(upkeep(&t).await, 2);
    let feb = charges(&t, &t.s.ma_staff.token).await;
    assert_eq!(feb.len(), 2, "{feb:?}");
    let posted = of_budget(&feb, t.with_line, "2025-02-01");
    assert_eq!(posted["outcome"], "posted", "{posted}");
    assert_eq!(posted["amount"], "35.00");
    let refused = of_budget(&feb, t.without_line, "2025-02-01");
    assert_eq!(refused["outcome"], "refused", "{refused}");
    assert_eq!(refused["codes"], json!(["not_in_plan"]), "{refused}");
    assert!(
        refused["payment_id"].is_string(),
        "the refusal is recorded as a payment"
    );

    // On the client's statement.
    let budget = t.s.budget_view(t.with_line).await;
    let managed = account(&budget, "managed_account")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let statement =
        t.s.app
            .get(
                &format!("/api/v1/accounts/{managed}/entries"),
                &t.s.ma_staff.token,
            )
            .await;
    assert_eq!(statement.status, StatusCode::OK, "{}", statement.text);
    let fee_lines: Vec<&Value> = statement.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["amount"] == "35.00")
        .collect();
    assert_eq!(fee_lines.len(), 1, "{}", statement.text);
    let payment =
        t.s.app
            .get(
                &format!(
                    "/api/v1/payments/{}",
                    posted["payment_id"].as_str().unwrap()
                ),
                &t.s.ma_staff.token,
            )
            .await;
    assert_eq!(payment.status, StatusCode::OK, "{}", payment.text);
    assert_eq!(payment.json["category"], "account_management");
    assert_eq!(payment.json["status"], "posted");

    // The upkeep again, later in the month: nothing more, nothing written.
    clock.set(Utc.with_ymd_and_hms(2025, 2, 27, 18, 0, 0).unwrap());
    let before = t.s.app.snapshot().await;
    assert_eq!(upkeep(&t).await, 0);
    assert_eq!(t.s.app.snapshot().await, before);

    // March: again, once.
    clock.set(Utc.with_ymd_and_hms(2025, 3, 3, 9, 0, 0).unwrap());
    assert_eq!(upkeep(&t).await, 2);
    assert_eq!(upkeep(&t).await, 0);
    let all = charges(&t, &t.s.maker.token).await;
    assert_eq!(all.len(), 4, "{all:?}");
    assert_eq!(
        of_budget(&all, t.with_line, "2025-03-01")["outcome"],
        "posted"
    );
    assert_eq!(
        of_budget(&all, t.without_line, "2025-03-01")["outcome"],
        "refused"
    );
    let march =
        t.s.app
            .get(
                &format!(
                    "/api/v1/organisations/{}/fee-charges?month=2025-03-15",
                    t.s.ma_provider
                ),
                &t.s.auditor.token,
            )
            .await;
    assert_eq!(
        march.json["items"].as_array().unwrap().len(),
        2,
        "{}",
        march.text
    );
    // Another organisation's staff do not see them; council staff other than finance and
    // audit may not.
    let isf =
        t.s.app
            .get(
                &format!("/api/v1/organisations/{}/fee-charges", t.s.ma_provider),
                &t.s.isf_staff.token,
            )
            .await;
    assert_eq!(isf.status, StatusCode::NOT_FOUND);
    let care =
        t.s.app
            .get(
                &format!("/api/v1/organisations/{}/fee-charges", t.s.ma_provider),
                &t.s.care_manager.token,
            )
            .await;
    assert_eq!(care.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_bad_fee_is_refused_and_writes_nothing() {
    let t = fee_setup().await;
    let path = format!("/api/v1/organisations/{}/fee", t.s.ma_provider);
    let before = t.s.app.snapshot().await;
    for (body, status) in [
        (
            json!({"monthly_amount": "0.00", "from": "2025-02-01"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"monthly_amount": "10000.01", "from": "2025-02-01"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"monthly_amount": "35.001", "from": "2025-02-01"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"monthly_amount": "35.00", "from": "1999-02-01"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"monthly_amount": "35.00", "from": "2025-02-01", "payee_id": Uuid::new_v4()}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"monthly_amount": "35.00", "from": "2025-02-01", "colour": "red"}),
            StatusCode::BAD_REQUEST,
        ),
        (json!({"monthly_amount": "35.00"}), StatusCode::BAD_REQUEST),
    ] {
        let reply = t.s.app.put(&path, &t.s.ma_staff.token, body.clone()).await;
        assert_eq!(reply.status, status, "{body}: {}", reply.text);
    }
    assert_eq!(t.s.app.snapshot().await, before, "nothing written");
    // A payee that is not the organisation's own.
    let someone = t
        .s
        .app
        .post(
            "/api/v1/payees",
            &t.s.maker.token,
            json!({"name": "Someone Else", "kind": "care_agency", "bank": bank(), "bank_verified": true}),
        )
        .await;
    let before_payee = t.s.app.snapshot().await;
    let reply =
        t.s.app
            .put(
                &path,
                &t.s.ma_staff.token,
                json!({"monthly_amount": "35.00", "from": "2025-02-01", "payee_id": id(&someone)}),
            )
            .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_eq!(t.s.app.snapshot().await, before_payee);
    // An ISF provider's staff cannot set one on their own organisation here.
    let isf =
        t.s.app
            .put(
                &format!("/api/v1/organisations/{}/fee", t.s.isf_provider),
                &t.s.isf_staff.token,
                json!({"monthly_amount": "35.00", "from": "2025-02-01"}),
            )
            .await;
    assert_eq!(isf.status, StatusCode::BAD_REQUEST, "{}", isf.text);
    assert!(charges(&t, &t.s.ma_staff.token).await.is_empty());
}
