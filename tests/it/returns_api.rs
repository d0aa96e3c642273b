//! Monitoring returns through the API: an organisation's return computed from a small ledger and
//! checked figure by figure, as JSON and CSV; who may read it; submission as a hashed snapshot;
//! the council's list of submitted and overdue returns; bad input refused.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use allot::auth::Role;

use crate::payments_api::{bank, grant, payee, Setup};
use crate::reconciliation::camt;
use crate::support::scenario::{Scenario, PERIOD};
use crate::support::Reply;

const ALL: &str = "from=2025-01-01&to=2099-12-31";

fn managed_account(view: &Value) -> String {
    view["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["deployment"] == "managed_account")
        .and_then(|a| a["id"].as_str())
        .unwrap()
        .to_owned()
}

async fn get(t: &Setup, token: &str, org: Uuid, query: &str) -> Reply {
    t.s.app
        .get(
            &format!("/api/v1/organisations/{org}/returns?{query}"),
            token,
        )
        .await
}

/// A managed account with: 480.00 released (4 weeks × 120.00), a payment of 40.00 for personal
/// care with evidence, 30.00 for transport without, 25.00 for personal care reversed, and a bank
/// line (7.77 in) that matches nothing.
async fn ledger() -> (Setup, String) {
    let s = Scenario::new().await;
    let person = s.person("Rita Return", true, false).await;
    // The managed account is 120.00 a week: personal care 100.00, transport 20.00.
    let budget = s
        .approved_budget(
            Scenario::budget_body(person),
            json!([
                Scenario::line(
                    "personal_care",
                    "100.00",
                    "managed_account",
                    Some(s.ma_provider)
                ),
                Scenario::line("transport", "20.00", "managed_account", Some(s.ma_provider)),
            ]),
        )
        .await;
    s.release(PERIOD).await;
    grant(
        &s,
        budget,
        json!({"user_id": s.ma_staff.id, "acting_as": "managed_account_provider",
               "powers": ["pay"], "max_per_payment": "1000.00", "valid_from": "2020-01-01"}),
    )
    .await;
    let agency = payee(
        &s,
        json!({"name": "Helping Hands", "kind": "care_agency", "bank": bank(), "bank_verified": true}),
    )
    .await;
    let holder = s
        .app
        .user(&s.council, Role::BudgetHolder, None, Some(person))
        .await;
    let t = Setup {
        s,
        budget,
        person,
        holder,
        agency,
        dp_account: Uuid::nil(),
    };
    let staff = t.s.ma_staff.token.clone();
    let account = managed_account(&t.s.budget_view(t.budget).await);
    let pay = |category: &str, amount: &str, evidence: bool| {
        let mut body = t.body(category, amount);
        body["deployment"] = json!("managed_account");
        if evidence {
            body["evidence_sha256"] = json!("ab".repeat(32));
        }
        body
    };
    for body in [
        pay("personal_care", "40.00", true),
        pay("transport", "30.00", false),
    ] {
        let reply = t.pay(&staff, body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        assert_eq!(reply.json["status"], "posted", "{}", reply.text);
    }
    let reversed = t.pay(&staff, pay("personal_care", "25.00", false)).await;
    assert_eq!(reversed.json["status"], "posted", "{}", reversed.text);
    let reverse =
        t.s.app
            .post_with_key(
                &format!(
                    "/api/v1/payments/{}/reverse",
                    reversed.json["id"].as_str().unwrap()
                ),
                &t.s.maker.token,
                "rev-1",
                json!({"reason": "Paid twice"}),
            )
            .await;
    assert_eq!(reverse.status, StatusCode::CREATED, "{}", reverse.text);
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/accounts/{account}/bank-statements"))
        .header(header::AUTHORIZATION, format!("Bearer {staff}"))
        .header(header::CONTENT_TYPE, "application/xml")
        .body(Body::from(camt(
            "RET",
            "0",
            "7.77",
            &[(true, "7.77", "2025-02-05", None)],
        )))
        .unwrap();
    let imported = t.s.app.send(request).await;
    assert_eq!(imported.status, StatusCode::CREATED, "{}", imported.text);
    assert_eq!(imported.json["unmatched"], 1, "{}", imported.text);
    (t, account)
}

#[tokio::test]
async fn a_return_is_computed_from_the_ledger_and_read_by_who_may() {
    let (t, account) = ledger().await;
    let s = &t.s;
    let reply = get(&t, &s.ma_staff.token, s.ma_provider, ALL).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let rows = reply.json["accounts"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{}", reply.text);
    let row = &rows[0];
    assert_eq!(row["account_id"], account.as_str());
    assert_eq!(row["budget_id"], t.budget.to_string());
    assert_eq!(row["deployment"], "managed_account");
    assert_eq!(row["opening_balance"], "0.00");
    assert_eq!(row["council_money_in"], "480.00");
    assert_eq!(row["contributions_in"], "0.00");
    // The reversed payment is not spending: 40.00 + 30.00.
    assert_eq!(
        row["spending"],
        json!({"personal_care": "40.00", "transport": "30.00"})
    );
    assert_eq!(row["spending_total"], "70.00");
    // The reversed payment and its reversal cancel out.
    assert_eq!(row["other_movements"], "0.00");
    assert_eq!(row["closing_balance"], "410.00");
    assert_eq!(row["weekly_amount"], "120.00");
    // 410.00 ÷ 120.00 = 3.416… weeks.
    assert_eq!(row["weeks_of_funding"], "3.4");
    let policy = s.app.get("/api/v1/policy", &s.maker.token).await;
    let weeks = policy.json["surplus_weeks_dp"].as_u64().unwrap();
    assert_eq!(row["surplus_weeks_policy"], weeks);
    let surplus = (410.0 - 120.0 * weeks as f64).max(0.0);
    assert_eq!(row["surplus_above_policy"], format!("{surplus:.2}"));
    // Of the two payments counted, the transport one has no evidence.
    assert_eq!(row["payments_without_evidence"], 1);
    assert_eq!(row["unreconciled_items"], 1);

    // A period after everything: opening and closing are the balance, nothing moved.
    let later = get(
        &t,
        &s.auditor.token,
        s.ma_provider,
        "from=2099-01-01&to=2099-12-31",
    )
    .await;
    assert_eq!(later.status, StatusCode::OK, "{}", later.text);
    let row = &later.json["accounts"][0];
    assert_eq!(row["opening_balance"], "410.00");
    assert_eq!(row["closing_balance"], "410.00");
    assert_eq!(row["council_money_in"], "0.00");
    assert_eq!(row["spending_total"], "0.00");
    assert_eq!(row["payments_without_evidence"], 0);
    // A period before the release: nothing, and the bank line was booked after it.
    let before = get(
        &t,
        &s.maker.token,
        s.ma_provider,
        "from=2025-01-01&to=2025-01-31",
    )
    .await;
    let row = &before.json["accounts"][0];
    assert_eq!(row["closing_balance"], "0.00");
    assert_eq!(row["unreconciled_items"], 0);

    // CSV, by parameter and by Accept.
    let csv = get(
        &t,
        &s.ma_staff.token,
        s.ma_provider,
        &format!("{ALL}&format=csv"),
    )
    .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    assert!(csv.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let mut reader = csv::Reader::from_reader(csv.text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(records.len(), 1);
    let field = |name: &str| {
        let i = headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name}"));
        records[0][i].to_string()
    };
    assert_eq!(field("account_id"), account);
    assert_eq!(field("council_money_in"), "480.00");
    assert_eq!(field("spending_personal_care"), "40.00");
    assert_eq!(field("spending_transport"), "30.00");
    assert_eq!(field("closing_balance"), "410.00");
    assert_eq!(field("weeks_of_funding"), "3.4");
    assert_eq!(field("payments_without_evidence"), "1");
    assert_eq!(field("unreconciled_items"), "1");
    let request = Request::builder()
        .uri(format!(
            "/api/v1/organisations/{}/returns?{ALL}",
            s.ma_provider
        ))
        .header(header::AUTHORIZATION, format!("Bearer {}", s.auditor.token))
        .header(header::ACCEPT, "text/csv")
        .body(Body::empty())
        .unwrap();
    let by_accept = s.app.send(request).await;
    assert_eq!(by_accept.status, StatusCode::OK);
    assert_eq!(by_accept.text, csv.text);

    // Roles: another organisation's staff 404; roles without returns 403.
    let other = get(&t, &s.isf_staff.token, s.ma_provider, ALL).await;
    assert_eq!(
        (other.status, other.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    for token in [&s.care_manager.token, &s.broker.token, &t.holder.1] {
        let reply = get(&t, token, s.ma_provider, ALL).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::FORBIDDEN, "forbidden")
        );
    }
    let missing = get(&t, &s.maker.token, Uuid::new_v4(), ALL).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // Bad input: 400 with the envelope.
    for query in [
        "from=2025-03-01&to=2025-01-01",
        "from=1066-10-14&to=2025-01-01",
        "from=2025-01-01&to=9999-12-31",
        "from=2025-02-30&to=2025-03-01",
        "from=2025-01-01&to=2025-03-31&colour=red",
        "format=pdf",
    ] {
        let reply = get(&t, &s.ma_staff.token, s.ma_provider, query).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::BAD_REQUEST, "invalid_request"),
            "{query}: {}",
            reply.text
        );
    }
}

#[tokio::test]
async fn a_return_is_submitted_as_a_hashed_snapshot_and_listed_for_the_council() {
    let (t, _) = ledger().await;
    let s = &t.s;
    let path = format!("/api/v1/organisations/{}/returns", s.ma_provider);
    let period = json!({"from": "2025-01-01", "to": "2099-12-31"});
    // The council lists the provider as overdue: it holds an account and has returned nothing.
    let overdue = s
        .app
        .get("/api/v1/returns?status=overdue", &s.auditor.token)
        .await;
    assert_eq!(overdue.status, StatusCode::OK, "{}", overdue.text);
    let items = overdue.json["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .any(|i| i["organisation_id"] == s.ma_provider.to_string() && i["status"] == "overdue"),
        "{}",
        overdue.text
    );

    // Only the organisation's staff submit.
    for token in [&s.maker.token, &s.auditor.token, &s.care_manager.token] {
        let reply = s.app.post(&path, token, period.clone()).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::FORBIDDEN, "forbidden")
        );
    }
    let other = s.app.post(&path, &s.isf_staff.token, period.clone()).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "{}", other.text);
    let bad = s
        .app
        .post(
            &path,
            &s.ma_staff.token,
            json!({"from": "2025-04-01", "to": "2025-01-01"}),
        )
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );

    let submitted = s
        .app
        .post_with_key(&path, &s.ma_staff.token, "ret-1", period.clone())
        .await;
    assert_eq!(submitted.status, StatusCode::CREATED, "{}", submitted.text);
    let snapshot = &submitted.json["snapshot"];
    assert_eq!(snapshot["accounts"][0]["closing_balance"], "410.00");
    // The hash is of the snapshot's JSON as stored.
    let stored: String = {
        let council = s.council.id;
        allot::db::in_tenant_tx(&s.app.db.pool, council, |tx| {
            Box::pin(async move {
                Ok(tx
                    .query_one("SELECT snapshot FROM organisation_returns", &[])
                    .await?
                    .get::<_, String>(0))
            })
        })
        .await
        .unwrap()
    };
    let digest = ring::digest::digest(&ring::digest::SHA256, stored.as_bytes());
    assert_eq!(submitted.json["sha256"], hex::encode(digest.as_ref()));
    assert_eq!(serde_json::from_str::<Value>(&stored).unwrap(), *snapshot);
    // Replayed by key; the same period again without it is a conflict.
    let replay = s
        .app
        .post_with_key(&path, &s.ma_staff.token, "ret-1", period.clone())
        .await;
    assert_eq!(replay.status, StatusCode::CREATED);
    assert_eq!(replay.json["id"], submitted.json["id"]);
    let again = s.app.post(&path, &s.ma_staff.token, period.clone()).await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "return_already_submitted")
    );

    // The council sees it submitted, and the provider no longer overdue.
    let list = s.app.get("/api/v1/returns", &s.maker.token).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let items = list.json["items"].as_array().unwrap();
    assert!(items.iter().any(|i| i["status"] == "submitted"
        && i["id"] == submitted.json["id"]
        && i["sha256"] == submitted.json["sha256"]));
    assert!(!items
        .iter()
        .any(|i| i["status"] == "overdue" && i["organisation_id"] == s.ma_provider.to_string()));
    for token in [&s.ma_staff.token, &s.care_manager.token] {
        let reply = s.app.get("/api/v1/returns", token).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
    }
    let bad = s
        .app
        .get("/api/v1/returns?status=late", &s.maker.token)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    // A submitted return cannot be changed by the application's role.
    let council = s.council.id;
    let changed = allot::db::in_tenant_tx(&s.app.db.pool, council, |tx| {
        Box::pin(async move {
            Ok(tx
                .execute("UPDATE organisation_returns SET snapshot = '{}'", &[])
                .await
                .is_err())
        })
    })
    .await;
    assert!(matches!(changed, Ok(true) | Err(_)), "{changed:?}");
}
