//! Surplus monitoring and recovery with notice through the API: the list's figures by policy and
//! commitments, notices within the surplus with their letter and SHA-256, the notice period (its
//! last day and the day after), reconsideration blocking recovery and its decision by another
//! officer, recovery capped at commitments, replay by key, the ledger balanced after it, the
//! decision log, and bad input and other councils' ids refused with nothing written.

use axum::http::StatusCode;
use chrono::{TimeZone, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use allot::auth::Role;

use crate::payments_api::{setup, Setup};
use crate::support::Reply;

/// 2 March 2026, 10:00 in London: the notices' issue date.
fn issue_day(t: &Setup) {
    at(t, 2026, 3, 2);
}

fn at(t: &Setup, y: i32, m: u32, d: u32) {
    t.s.app
        .state
        .clock
        .set(Utc.with_ymd_and_hms(y, m, d, 10, 0, 0).unwrap());
}

async fn set_policy(t: &Setup, changes: Value) -> Reply {
    let admin = &t.s.council.admin_token;
    let mut body = t.s.app.get("/api/v1/policy", admin).await.json;
    body.as_object_mut().unwrap().remove("version");
    for (k, v) in changes.as_object().unwrap() {
        body[k] = v.clone();
    }
    t.s.app.put("/api/v1/policy", admin, body).await
}

/// The setup of the payments tests (direct payment 301.00 a week, managed account 120.00, four
/// weeks released: 1,204.00 and 480.00) with a one-week threshold for direct payments, so most
/// of each balance is surplus.
async fn surplus_setup() -> Setup {
    let t = setup().await;
    let reply = set_policy(&t, json!({"surplus_weeks_dp": 1})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    issue_day(&t);
    t
}

async fn invoice(t: &Setup, number: &str, total: &str) {
    let body = json!({
        "budget_id": t.budget, "deployment": "direct_payment", "payee_id": t.agency,
        "category": "personal_care", "invoice_number": number, "issued_on": "2026-02-20",
        "lines": [{"description": "Care", "quantity": "1", "unit_price": total}],
        "total": total
    });
    let reply = t.s.app.post("/api/v1/invoices", &t.holder.1, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
}

fn item<'a>(list: &'a Reply, account: &str) -> &'a Value {
    list.json["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", list.text))
        .iter()
        .find(|i| i["account_id"] == account)
        .unwrap_or_else(|| panic!("no {account} in {}", list.text))
}

async fn issue(t: &Setup, token: &str, account: Uuid, amount: &str) -> Reply {
    t.s.app
        .post(
            &format!("/api/v1/budgets/{}/surplus-notices", t.budget),
            token,
            json!({"account_id": account, "amount": amount,
                   "reasons": "Money has built up <unspent> since the care agency closed."}),
        )
        .await
}

async fn recover(t: &Setup, notice: &str, key: &str) -> Reply {
    t.s.app
        .post_with_key(
            &format!("/api/v1/surplus-notices/{notice}/recover"),
            &t.s.maker.token,
            key,
            json!(null),
        )
        .await
}

/// Every entry's legs balance and every account's totals equal its legs.
async fn ledger_balances(t: &Setup) {
    let (unbalanced, drifted) = allot::db::in_tenant_tx(&t.s.app.db.pool, t.s.council.id, |tx| {
        Box::pin(async move {
            let unbalanced: i64 = tx
                .query_one(
                    "SELECT count(*) FROM (SELECT entry_id FROM ledger_legs GROUP BY entry_id
                       HAVING sum(CASE side WHEN 'C' THEN amount ELSE -amount END) <> 0) e",
                    &[],
                )
                .await?
                .get(0);
            let drifted: i64 = tx
                .query_one(
                    "SELECT count(*) FROM ledger_accounts a
                     WHERE a.posted_credits - a.posted_debits <>
                           (SELECT coalesce(sum(CASE side WHEN 'C' THEN amount ELSE -amount END), 0)
                            FROM ledger_legs l WHERE l.account_id = a.id AND NOT l.pending)",
                    &[],
                )
                .await?
                .get(0);
            Ok((unbalanced, drifted))
        })
    })
    .await
    .unwrap();
    assert_eq!((unbalanced, drifted), (0, 0));
}

fn dp(t: &Setup) -> String {
    t.dp_account.to_string()
}

#[tokio::test]
async fn the_surplus_list_works_out_weeks_commitments_and_surplus_by_policy() {
    let t = surplus_setup().await;
    invoice(&t, "INV-1", "100.00").await;
    let list = t.s.app.get("/api/v1/surplus", &t.s.maker.token).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let row = item(&list, &dp(&t));
    assert_eq!(row["budget_id"], t.budget.to_string());
    assert_eq!(row["deployment"], "direct_payment");
    assert_eq!(row["balance"], "1204.00");
    assert_eq!(row["weekly_amount"], "301.00");
    assert_eq!(row["weeks_of_funding"], "4.0");
    // The invoice received and not paid is a commitment.
    assert_eq!(row["commitments"], "100.00");
    assert_eq!(row["threshold_weeks"], 1);
    // 1204.00 − 100.00 − 1 × 301.00.
    assert_eq!(row["surplus"], "803.00");
    // A managed account holds a direct payment: the DP threshold.
    let ma = list.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["deployment"] == "managed_account")
        .unwrap();
    assert_eq!(ma["balance"], "480.00");
    assert_eq!(ma["threshold_weeks"], 1);
    assert_eq!(ma["surplus"], "360.00");

    // An ISF threshold of its own, and the list before the money came: nothing.
    let before =
        t.s.app
            .get("/api/v1/surplus?as_of=2025-01-01", &t.s.auditor.token)
            .await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text);
    assert_eq!(item(&before, &dp(&t))["balance"], "0.00");
    assert_eq!(item(&before, &dp(&t))["surplus"], "0.00");
    let care =
        t.s.app
            .get("/api/v1/surplus", &t.s.care_manager.token)
            .await;
    assert_eq!(care.status, StatusCode::OK, "{}", care.text);

    // The default policy: eight weeks, so no surplus on four weeks' money.
    let reply = set_policy(&t, json!({"surplus_weeks_dp": 8})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let list = t.s.app.get("/api/v1/surplus", &t.s.maker.token).await;
    assert_eq!(item(&list, &dp(&t))["surplus"], "0.00");

    // Refusals.
    for (path, token, status) in [
        ("/api/v1/surplus", &t.holder.1, StatusCode::FORBIDDEN),
        (
            "/api/v1/surplus",
            &t.s.ma_staff.token,
            StatusCode::FORBIDDEN,
        ),
        (
            "/api/v1/surplus?as_of=2026-03-03",
            &t.s.maker.token,
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/surplus?as_of=yesterday",
            &t.s.maker.token,
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/surplus?when=2026-01-01",
            &t.s.maker.token,
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let reply = t.s.app.get(path, token).await;
        assert_eq!(reply.status, status, "{path}: {}", reply.text);
        assert!(reply.json["error"]["code"].is_string(), "{}", reply.text);
    }
}

#[tokio::test]
async fn a_notice_is_issued_within_the_surplus_and_keeps_the_letter_sent() {
    let t = surplus_setup().await;
    invoice(&t, "INV-1", "100.00").await;
    // Another council's finance officer: the budget is not theirs.
    let other_council = t.s.app.council("Other Council").await;
    let (_, other) =
        t.s.app
            .user(&other_council, Role::FinanceOfficer, None, None)
            .await;
    let before = t.s.app.snapshot().await;
    let too_much = issue(&t, &t.s.maker.token, t.dp_account, "803.01").await;
    assert_eq!(
        too_much.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        too_much.text
    );
    assert_eq!(too_much.code(), "exceeds_surplus");
    for (token, account, amount, status) in [
        (
            &t.s.care_manager.token,
            t.dp_account,
            "10.00",
            StatusCode::FORBIDDEN,
        ),
        (
            &t.s.maker.token,
            Uuid::new_v4(),
            "10.00",
            StatusCode::NOT_FOUND,
        ),
        (
            &t.s.maker.token,
            t.dp_account,
            "0.00",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &t.s.maker.token,
            t.dp_account,
            "1.001",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let reply = issue(&t, token, account, amount).await;
        assert_eq!(reply.status, status, "{amount}: {}", reply.text);
    }
    let no_reasons =
        t.s.app
            .post(
                &format!("/api/v1/budgets/{}/surplus-notices", t.budget),
                &t.s.maker.token,
                json!({"account_id": t.dp_account, "amount": "10.00", "reasons": "  "}),
            )
            .await;
    assert_eq!(
        no_reasons.status,
        StatusCode::BAD_REQUEST,
        "{}",
        no_reasons.text
    );
    assert_eq!(no_reasons.json["error"]["details"][0]["field"], "reasons");
    let theirs = issue(&t, &other, t.dp_account, "10.00").await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{}", theirs.text);
    assert_eq!(t.s.app.snapshot().await, before, "refusals write nothing");

    let issued = issue(&t, &t.s.maker.token, t.dp_account, "500.00").await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text);
    let n = &issued.json;
    assert_eq!(n["status"], "issued");
    assert_eq!(n["amount"], "500.00");
    assert_eq!(n["issued_on"], "2026-03-02");
    // Four weeks' notice by default.
    assert_eq!(n["deadline"], "2026-03-30");
    assert_eq!(n["balance"], "1204.00");
    assert_eq!(n["commitments"], "100.00");
    assert_eq!(n["surplus"], "803.00");
    let letter = n["letter"].as_str().unwrap();
    for words in [
        "£500.00",
        "Money has built up <unspent>",
        "Balance on 2 March 2026: £1204.00",
        "£301.00 a week",
        "4.0 weeks",
        "30 March 2026",
        "on or after 31 March 2026",
        "How to ask us to reconsider",
    ] {
        assert!(letter.contains(words), "{words} in {letter}");
    }
    let sha = hex::encode(ring::digest::digest(&ring::digest::SHA256, letter.as_bytes()).as_ref());
    assert_eq!(n["letter_sha256"], sha);
    let id = n["id"].as_str().unwrap();

    // One open notice per account.
    let again = issue(&t, &t.s.maker.token, t.dp_account, "10.00").await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);

    // The person sees it; the other council and other providers do not.
    let mine =
        t.s.app
            .get(&format!("/api/v1/surplus-notices/{id}"), &t.holder.1)
            .await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.text);
    assert_eq!(mine.json["letter"], n["letter"]);
    for token in [&other, &t.s.isf_staff.token] {
        let reply =
            t.s.app
                .get(&format!("/api/v1/surplus-notices/{id}"), token)
                .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
    }

    // The decision log and the review it made due.
    let log =
        t.s.app
            .get(
                &format!("/api/v1/budgets/{}/decisions", t.budget),
                &t.s.care_manager.token,
            )
            .await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text);
    assert_eq!(log.json["surplus_notices"][0]["id"], id);
    assert_eq!(
        log.json["surplus_notices"][0]["events"][0]["kind"],
        "issued"
    );
    let due =
        t.s.app
            .get("/api/v1/reviews/due", &t.s.care_manager.token)
            .await;
    let review = due.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["budget_id"] == t.budget.to_string())
        .unwrap_or_else(|| panic!("{}", due.text));
    assert_eq!(review["due_on"], "2026-03-02");
    assert_eq!(review["triggers"][0]["reason"], "surplus_flagged");
}

#[tokio::test]
async fn the_notice_period_is_policy_and_checked_when_changed() {
    let t = surplus_setup().await;
    for weeks in [0, 27] {
        let reply = set_policy(&t, json!({"surplus_notice_weeks": weeks})).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
        assert_eq!(
            reply.json["error"]["details"][0]["field"],
            "surplus_notice_weeks"
        );
    }
    let reply = set_policy(&t, json!({"surplus_notice_weeks": 2})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["surplus_notice_weeks"], 2);
    let issued = issue(&t, &t.s.maker.token, t.dp_account, "100.00").await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text);
    assert_eq!(issued.json["deadline"], "2026-03-16");
}

#[tokio::test]
async fn recovery_waits_past_the_deadline_replays_by_key_and_keeps_the_ledger_balanced() {
    let t = surplus_setup().await;
    let issued = issue(&t, &t.s.maker.token, t.dp_account, "500.00").await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text);
    let id = issued.json["id"].as_str().unwrap().to_owned();

    // The deadline's last day: not yet.
    at(&t, 2026, 3, 30);
    let before = t.s.app.snapshot().await;
    let early = recover(&t, &id, "rec-early").await;
    assert_eq!(
        early.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        early.text
    );
    assert_eq!(early.code(), "notice_period_not_elapsed");
    assert_eq!(t.s.app.snapshot().await, before);
    // Only finance officers; without a key, 400.
    let cm =
        t.s.app
            .post_with_key(
                &format!("/api/v1/surplus-notices/{id}/recover"),
                &t.s.care_manager.token,
                "rec-cm",
                json!(null),
            )
            .await;
    assert_eq!(cm.status, StatusCode::FORBIDDEN, "{}", cm.text);
    let keyless =
        t.s.app
            .post(
                &format!("/api/v1/surplus-notices/{id}/recover"),
                &t.s.maker.token,
                json!(null),
            )
            .await;
    assert_eq!(keyless.status, StatusCode::BAD_REQUEST, "{}", keyless.text);
    let unknown = recover(&t, &Uuid::new_v4().to_string(), "rec-unknown").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text);

    // The day after: recovered in full.
    at(&t, 2026, 3, 31);
    let taken = recover(&t, &id, "rec-1").await;
    assert_eq!(taken.status, StatusCode::CREATED, "{}", taken.text);
    assert_eq!(taken.json["amount"], "500.00");
    assert_eq!(taken.json["shortfall"], "0.00");
    assert_eq!(taken.json["status"], "recovered");
    assert_eq!(taken.json["effective_date"], "2026-03-31");
    let replay = recover(&t, &id, "rec-1").await;
    assert_eq!(replay.status, StatusCode::CREATED, "{}", replay.text);
    assert_eq!(replay.json, taken.json);
    assert_eq!(
        replay
            .headers
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(t.available().await.to_string(), "704.00");
    let recovered_account = taken.json["to_account_id"].as_str().unwrap();
    let statement =
        t.s.app
            .get(
                &format!("/api/v1/accounts/{recovered_account}/entries"),
                &t.s.auditor.token,
            )
            .await;
    assert_eq!(statement.status, StatusCode::OK, "{}", statement.text);
    assert_eq!(statement.json["account"]["posted_balance"], "500.00");
    ledger_balances(&t).await;

    // Nothing more to recover.
    let again = recover(&t, &id, "rec-2").await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    let log =
        t.s.app
            .get(
                &format!("/api/v1/budgets/{}/decisions", t.budget),
                &t.holder.1,
            )
            .await;
    let events = log.json["surplus_notices"][0]["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{}", log.text);
    assert_eq!(events[1]["kind"], "recovered");
    assert_eq!(events[1]["entry_id"], taken.json["entry_id"]);
}

#[tokio::test]
async fn recovery_never_takes_what_commitments_need() {
    let t = surplus_setup().await;
    invoice(&t, "INV-1", "100.00").await;
    let issued = issue(&t, &t.s.maker.token, t.dp_account, "803.00").await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text);
    let id = issued.json["id"].as_str().unwrap().to_owned();
    // More owed since the notice: 1,100.00 of the 1,204.00 is committed.
    invoice(&t, "INV-2", "1000.00").await;
    at(&t, 2026, 4, 1);
    let taken = recover(&t, &id, "cap-1").await;
    assert_eq!(taken.status, StatusCode::CREATED, "{}", taken.text);
    assert_eq!(taken.json["amount"], "104.00");
    assert_eq!(taken.json["shortfall"], "699.00");
    assert_eq!(taken.json["commitments"], "1100.00");
    assert_eq!(taken.json["status"], "part_recovered");
    ledger_balances(&t).await;
    // Now the balance is exactly what is owed: nothing can be taken.
    let before = t.s.app.snapshot().await;
    let nothing = recover(&t, &id, "cap-2").await;
    assert_eq!(
        nothing.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        nothing.text
    );
    assert_eq!(nothing.code(), "below_commitments");
    assert_eq!(t.s.app.snapshot().await, before);
    let notice =
        t.s.app
            .get(&format!("/api/v1/surplus-notices/{id}"), &t.s.auditor.token)
            .await;
    assert_eq!(notice.json["recovered"], "104.00");
    assert_eq!(notice.json["events"][1]["shortfall"], "699.00");
}

#[tokio::test]
async fn reconsideration_blocks_recovery_until_another_officer_decides() {
    let t = surplus_setup().await;
    let issued = issue(&t, &t.s.maker.token, t.dp_account, "500.00").await;
    let id = issued.json["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/surplus-notices/{id}/reconsideration");
    let decision = format!("/api/v1/surplus-notices/{id}/decision");
    let grounds = json!({"grounds": "The money is set aside for respite booked in April."});

    // Not yet asked: nothing to decide.
    let early =
        t.s.app
            .post(
                &decision,
                &t.s.checker.token,
                json!({"outcome": "upheld", "reasons": "x"}),
            )
            .await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.text);

    for (token, body, status) in [
        (
            &t.s.care_manager.token,
            grounds.clone(),
            StatusCode::FORBIDDEN,
        ),
        // Provider staff of an organisation not holding the account.
        (&t.s.isf_staff.token, grounds.clone(), StatusCode::NOT_FOUND),
        (&t.holder.1, json!({"grounds": ""}), StatusCode::BAD_REQUEST),
        (&t.holder.1, json!({"why": "x"}), StatusCode::BAD_REQUEST),
    ] {
        let reply = t.s.app.post(&path, token, body).await;
        assert_eq!(reply.status, status, "{}", reply.text);
    }
    let asked = t.s.app.post(&path, &t.holder.1, grounds.clone()).await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.text);
    assert_eq!(asked.json["status"], "under_reconsideration");
    let twice = t.s.app.post(&path, &t.holder.1, grounds.clone()).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.text);

    // Past the deadline, still nothing is taken while it is open.
    at(&t, 2026, 4, 2);
    let blocked = recover(&t, &id, "blocked").await;
    assert_eq!(
        blocked.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        blocked.text
    );
    assert_eq!(blocked.code(), "under_reconsideration");

    // Not the issuer, not the auditor; a reduced amount must be given and lower.
    let own =
        t.s.app
            .post(
                &decision,
                &t.s.maker.token,
                json!({"outcome": "upheld", "reasons": "It stands."}),
            )
            .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN, "{}", own.text);
    assert_eq!(own.code(), "approver_conflict");
    let auditor =
        t.s.app
            .post(
                &decision,
                &t.s.auditor.token,
                json!({"outcome": "upheld", "reasons": "It stands."}),
            )
            .await;
    assert_eq!(auditor.status, StatusCode::FORBIDDEN, "{}", auditor.text);
    for (body, status) in [
        (
            json!({"outcome": "reduced", "reasons": "Respite."}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"outcome": "reduced", "amount": "600.00", "reasons": "Respite."}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"outcome": "upheld", "amount": "100.00", "reasons": "Respite."}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"outcome": "cancelled", "reasons": "Respite."}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"outcome": "upheld", "reasons": ""}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let reply = t.s.app.post(&decision, &t.s.checker.token, body).await;
        assert_eq!(reply.status, status, "{}", reply.text);
    }
    let reduced =
        t.s.app
            .post(
                &decision,
                &t.s.care_manager.token,
                json!({"outcome": "reduced", "amount": "200.00",
                   "reasons": "The April respite booking is confirmed."}),
            )
            .await;
    assert_eq!(reduced.status, StatusCode::OK, "{}", reduced.text);
    assert_eq!(reduced.json["status"], "issued");
    assert_eq!(reduced.json["amount_due"], "200.00");
    let taken = recover(&t, &id, "after-decision").await;
    assert_eq!(taken.status, StatusCode::CREATED, "{}", taken.text);
    assert_eq!(taken.json["amount"], "200.00");
    let log =
        t.s.app
            .get(
                &format!("/api/v1/budgets/{}/decisions", t.budget),
                &t.s.maker.token,
            )
            .await;
    let kinds: Vec<&str> = log.json["surplus_notices"][0]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "issued",
            "reconsideration_requested",
            "decided",
            "recovered"
        ]
    );
    assert_eq!(
        log.json["surplus_notices"][0]["events"][2]["outcome"],
        "reduced"
    );

    // The holder's staff may ask too, and a withdrawn notice is never recovered.
    let ma_account = t.s.budget_view(t.budget).await["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["deployment"] == "managed_account")
        .map(|a| a["id"].as_str().unwrap().parse::<Uuid>().unwrap())
        .unwrap();
    let on_ma = issue(&t, &t.s.checker.token, ma_account, "100.00").await;
    assert_eq!(on_ma.status, StatusCode::CREATED, "{}", on_ma.text);
    let ma_id = on_ma.json["id"].as_str().unwrap().to_owned();
    let asked =
        t.s.app
            .post(
                &format!("/api/v1/surplus-notices/{ma_id}/reconsideration"),
                &t.s.ma_staff.token,
                grounds,
            )
            .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.text);
    let withdrawn =
        t.s.app
            .post(
                &format!("/api/v1/surplus-notices/{ma_id}/decision"),
                &t.s.maker.token,
                json!({"outcome": "withdrawn", "reasons": "Agreed."}),
            )
            .await;
    assert_eq!(withdrawn.status, StatusCode::OK, "{}", withdrawn.text);
    assert_eq!(withdrawn.json["status"], "withdrawn");
    at(&t, 2026, 6, 1);
    let none = recover(&t, &ma_id, "withdrawn").await;
    assert_eq!(none.status, StatusCode::CONFLICT, "{}", none.text);
}

#[tokio::test]
async fn the_pages_chart_the_surplus_issue_a_notice_print_it_and_reconsider() {
    let t = surplus_setup().await;
    let app = &t.s.app;
    let (maker, maker_csrf) = app.session(t.s.council.id, t.s.maker.id).await;
    let list = app.page("/surplus", &maker).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    for words in [
        r#"role="img""#,
        r#"<title id="chart-title">Weeks of funding per account</title>"#,
        "<desc id=\"chart-desc\">",
        "Accounts, balances and surplus on 2 March 2026",
        "1204.00",
        "903.00",
        "Issue a notice",
    ] {
        assert!(list.text.contains(words), "{words} in {}", list.text);
    }
    let (auditor, _) = app.session(t.s.council.id, t.s.auditor.id).await;
    let seen = app.page("/surplus?as_of=2026-03-01", &auditor).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.text);
    assert!(!seen.text.contains("Issue a notice"));
    let (holder, holder_csrf) = app.session(t.s.council.id, t.holder.0).await;
    assert_eq!(
        app.page("/surplus", &holder).await.status,
        StatusCode::FORBIDDEN
    );

    let form_path = format!(
        "/budgets/{}/surplus-notices/new?account_id={}",
        t.budget, t.dp_account
    );
    let form = app.page(&form_path, &maker).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    assert!(form.text.contains("surplus now 903.00"), "{}", form.text);
    let post = format!("/budgets/{}/surplus-notices", t.budget);
    let account = t.dp_account.to_string();
    let refused = app
        .form(
            &post,
            &maker,
            &[
                ("csrf_token", &maker_csrf),
                ("account_id", &account),
                ("amount", "904.00"),
                ("reasons", "Keep <this> text"),
            ],
        )
        .await;
    assert!(
        refused.text.contains("There is a problem"),
        "{}",
        refused.text
    );
    assert!(
        refused.text.contains("Keep &lt;this&gt; text"),
        "{}",
        refused.text
    );
    assert!(
        refused.text.contains(r#"value="904.00""#),
        "{}",
        refused.text
    );
    let no_csrf = app
        .form(
            &post,
            &maker,
            &[
                ("account_id", &account),
                ("amount", "100.00"),
                ("reasons", "x"),
            ],
        )
        .await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN, "{}", no_csrf.text);
    let issued = app
        .form(
            &post,
            &maker,
            &[
                ("csrf_token", &maker_csrf),
                ("account_id", &account),
                ("amount", "300.00"),
                ("reasons", "Unspent since January."),
            ],
        )
        .await;
    assert_eq!(issued.status, StatusCode::SEE_OTHER, "{}", issued.text);
    let letter_path = issued.headers["location"].to_str().unwrap().to_owned();
    assert!(letter_path.starts_with("/surplus-notices/"));
    let notice_id = letter_path.trim_start_matches("/surplus-notices/");
    let api = app
        .get(&format!("/api/v1/surplus-notices/{notice_id}"), &t.holder.1)
        .await;

    // The person's letter: the text as stored, its hash, the form to ask for reconsideration.
    let letter = app.page(&letter_path, &holder).await;
    assert_eq!(letter.status, StatusCode::OK, "{}", letter.text);
    assert!(letter.text.contains("How to ask us to reconsider"));
    assert!(letter
        .text
        .contains(api.json["letter_sha256"].as_str().unwrap()));
    assert!(letter.text.contains("/reconsideration"), "{}", letter.text);
    assert!(!letter.text.contains("Decide the reconsideration"));
    let asked = app
        .form(
            &format!("{letter_path}/reconsideration"),
            &holder,
            &[
                ("csrf_token", &holder_csrf),
                ("grounds", "Respite is booked."),
            ],
        )
        .await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER, "{}", asked.text);

    // The issuer may not decide; another finance officer may.
    let own = app.page(&letter_path, &maker).await;
    assert!(!own.text.contains("Decide the reconsideration"));
    let (checker, checker_csrf) = app.session(t.s.council.id, t.s.checker.id).await;
    let page = app.page(&letter_path, &checker).await;
    assert!(
        page.text.contains("Decide the reconsideration"),
        "{}",
        page.text
    );
    let bad = app
        .form(
            &format!("{letter_path}/decision"),
            &checker,
            &[
                ("csrf_token", &checker_csrf),
                ("outcome", "reduced"),
                ("amount", "lots"),
                ("reasons", "Partly <booked>."),
            ],
        )
        .await;
    assert!(bad.text.contains("There is a problem"), "{}", bad.text);
    assert!(bad.text.contains("Partly &lt;booked&gt;."), "{}", bad.text);
    let decided = app
        .form(
            &format!("{letter_path}/decision"),
            &checker,
            &[
                ("csrf_token", &checker_csrf),
                ("outcome", "reduced"),
                ("amount", "150.00"),
                ("reasons", "Half is booked."),
            ],
        )
        .await;
    assert_eq!(decided.status, StatusCode::SEE_OTHER, "{}", decided.text);
    let after = app
        .get(&format!("/api/v1/surplus-notices/{notice_id}"), &t.holder.1)
        .await;
    assert_eq!(after.json["amount_due"], "150.00");
    assert_eq!(after.json["status"], "issued");
    let shown = app.page(&letter_path, &holder).await;
    assert!(
        shown.text.contains("Reconsidered: reduced"),
        "{}",
        shown.text
    );
    assert!(!shown.text.contains("Recover the surplus"));

    // A finance officer recovers from the letter page: refused in place before the deadline,
    // then once after it, however often the form is sent.
    let page = app.page(&letter_path, &maker).await;
    assert!(page.text.contains("Recover the surplus"), "{}", page.text);
    let available = t.available().await;
    let recover_form = [
        ("csrf_token", maker_csrf.as_str()),
        ("idempotency_key", "page-recovery-1"),
    ];
    let early = app
        .form(&format!("{letter_path}/recover"), &maker, &recover_form)
        .await;
    assert_eq!(early.status, StatusCode::OK, "{}", early.text);
    assert!(early.text.contains("There is a problem"), "{}", early.text);
    assert_eq!(t.available().await, available);
    at(&t, 2026, 3, 31);
    for _ in 0..2 {
        let sent = app
            .form(&format!("{letter_path}/recover"), &maker, &recover_form)
            .await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text);
    }
    let recovered = app
        .get(&format!("/api/v1/surplus-notices/{notice_id}"), &t.holder.1)
        .await;
    assert_eq!(recovered.json["status"], "recovered", "{}", recovered.text);
    assert_eq!(
        (available - t.available().await).to_string(),
        "150.00",
        "taken once"
    );
    let csrf_missing = app
        .form(
            &format!("{letter_path}/recover"),
            &maker,
            &[("idempotency_key", "page-recovery-2")],
        )
        .await;
    assert_eq!(csrf_missing.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_notice_raises_its_webhook_event_and_other_councils_reach_nothing() {
    let app = crate::support::TestApp::with_settings(allot::config::Settings {
        webhook_allow_private: true,
        ..crate::support::test_settings()
    })
    .await;
    let s = crate::support::scenario::Scenario::in_app(app, "Test Council").await;
    let t = crate::payments_api::setup_in(s).await;
    let reply = set_policy(&t, json!({"surplus_weeks_dp": 1})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    issue_day(&t);
    let admin = &t.s.council.admin_token;
    let hosts =
        t.s.app
            .put(
                "/api/v1/webhook-http-hosts",
                admin,
                json!({"hosts": ["127.0.0.1"]}),
            )
            .await;
    assert_eq!(hosts.status, StatusCode::OK, "{}", hosts.text);
    let endpoint =
        t.s.app
            .post(
                "/api/v1/webhooks",
                admin,
                json!({"url": "http://127.0.0.1:9/hook", "events": ["surplus_notice.issued"]}),
            )
            .await;
    assert_eq!(endpoint.status, StatusCode::CREATED, "{}", endpoint.text);
    let issued = issue(&t, &t.s.maker.token, t.dp_account, "250.00").await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text);
    let id = issued.json["id"].as_str().unwrap().to_owned();
    let payload: Value = allot::db::in_tenant_tx(&t.s.app.db.pool, t.s.council.id, |tx| {
        Box::pin(async move {
            Ok(tx
                .query_one(
                    "SELECT payload FROM webhook_events WHERE event_type = 'surplus_notice.issued'",
                    &[],
                )
                .await?
                .get(0))
        })
    })
    .await
    .unwrap();
    assert_eq!(payload["data"]["surplus_notice_id"], id);
    assert_eq!(payload["data"]["amount"], "250.00");
    assert_eq!(payload["data"]["deadline"], "2026-03-30");
    assert_eq!(
        payload["data"]["letter_sha256"],
        issued.json["letter_sha256"]
    );

    // Another council's staff reach none of it by id.
    let other = t.s.app.council("Other Council").await;
    let (_, officer) = t.s.app.user(&other, Role::FinanceOfficer, None, None).await;
    let (_, manager) = t.s.app.user(&other, Role::CareManager, None, None).await;
    at(&t, 2026, 4, 1);
    let before = t.s.app.snapshot().await;
    let attempts = [
        t.s.app
            .get(&format!("/api/v1/surplus-notices/{id}"), &manager)
            .await,
        t.s.app
            .post(
                &format!("/api/v1/surplus-notices/{id}/decision"),
                &manager,
                json!({"outcome": "withdrawn", "reasons": "Mine now."}),
            )
            .await,
        t.s.app
            .post_with_key(
                &format!("/api/v1/surplus-notices/{id}/recover"),
                &officer,
                "theirs",
                json!(null),
            )
            .await,
    ];
    for reply in attempts {
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
    }
    let listed = t.s.app.get("/api/v1/surplus-notices", &officer).await;
    assert_eq!(listed.json["items"], json!([]), "{}", listed.text);
    assert_eq!(t.s.app.snapshot().await, before);
    let ours =
        t.s.app
            .get("/api/v1/surplus-notices", &t.s.auditor.token)
            .await;
    assert_eq!(ours.json["items"][0]["id"], id, "{}", ours.text);
}
