//! The person's own statement: its figures equal the ledger's (money in, spending by category,
//! what is left), payments waiting for approval, JSON and CSV alike; the easy-read page in short
//! sentences without jargon; and whoever may not see the budget gets not found.

use std::collections::BTreeMap;
use std::str::FromStr;

use axum::http::StatusCode;
use chrono::{TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use allot::auth::Role;

use crate::payments_api::{grant, setup, Setup};

fn dec(value: &Value) -> Decimal {
    Decimal::from_str(
        value
            .as_str()
            .unwrap_or_else(|| panic!("not an amount: {value}")),
    )
    .unwrap()
}

/// 3 March 2025, 10:00: within the budget's first plan year (it starts on 6 January 2025).
fn march(t: &Setup) {
    t.s.app
        .state
        .clock
        .set(Utc.with_ymd_and_hms(2025, 3, 3, 10, 0, 0).unwrap());
}

/// The setup of the payments tests with payments in three categories and one held for a
/// co-signature (above 250.00).
pub(crate) async fn paid() -> Setup {
    let t = setup().await;
    march(&t);
    for (category, amount) in [
        ("personal_care", "60.00"),
        ("personal_care", "25.50"),
        ("residential_respite", "150.00"),
        ("transport", "1.00"),
    ] {
        let mut body = t.body(category, amount);
        if category == "residential_respite" {
            body["stay_from"] = json!("2025-02-10");
            body["stay_to"] = json!("2025-02-12");
        }
        let reply = t.pay(&t.holder.1, body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        assert_eq!(reply.json["status"], "posted", "{}", reply.text);
    }
    let cosigner =
        t.s.app
            .user(&t.s.council, Role::Representative, None, None)
            .await;
    grant(
        &t.s,
        t.budget,
        json!({"user_id": cosigner.0, "acting_as": "family_member", "powers": ["approve"],
               "max_per_payment": "1000.00", "valid_from": "2020-01-01"}),
    )
    .await;
    let held = t.pay(&t.holder.1, t.body("personal_care", "300.00")).await;
    assert_eq!(held.status, StatusCode::ACCEPTED, "{}", held.text);
    assert_eq!(held.json["status"], "pending_approval", "{}", held.text);
    t
}

/// Credits, debits and the closing balance of the budget's accounts over the period, read from
/// the ledger's own statement API.
async fn ledger_figures(t: &Setup, from: &str, to: &str) -> (Decimal, Decimal, Decimal, Decimal) {
    let view = t.s.budget_view(t.budget).await;
    let (mut opening, mut credits, mut debits, mut closing) =
        (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    for account in view["accounts"].as_array().unwrap() {
        if account["deployment"].is_null() {
            continue;
        }
        let id = account["id"].as_str().unwrap();
        let page =
            t.s.app
                .get(
                    &format!("/api/v1/accounts/{id}/entries?from={from}&to={to}&limit=500"),
                    &t.s.auditor.token,
                )
                .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert!(page.json["next_cursor"].is_null());
        let open = dec(&page.json["opening_balance"]);
        opening += open;
        let mut balance = open;
        for line in page.json["items"].as_array().unwrap() {
            match line["side"].as_str().unwrap() {
                "credit" => credits += dec(&line["amount"]),
                _ => debits += dec(&line["amount"]),
            }
            balance = dec(&line["balance"]);
        }
        closing += balance;
    }
    (opening, credits, debits, closing)
}

#[tokio::test]
async fn the_statement_figures_equal_the_ledgers() {
    let t = paid().await;
    let path = format!("/api/v1/budgets/{}/statement", t.budget);
    let reply = t.s.app.get(&path, &t.holder.1).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let s = &reply.json;
    // The default period: the plan year so far.
    assert_eq!(s["from"], "2025-01-06");
    assert_eq!(s["to"], "2025-03-03");

    let (opening, credits, debits, closing) = ledger_figures(&t, "2025-01-06", "2025-03-03").await;
    assert_eq!(dec(&s["opening_balance"]), opening);
    assert_eq!(dec(&s["money_in"]), credits);
    assert_eq!(dec(&s["spent_total"]) + dec(&s["other_out"]), debits);
    assert_eq!(dec(&s["left"]), closing);
    // Four weeks released: 301.00 × 4 direct payment and 120.00 × 4 managed account.
    assert_eq!(s["money_in"], "1684.00");
    assert_eq!(s["spent_total"], "236.50");
    assert_eq!(s["other_out"], "0.00");
    assert_eq!(s["left"], "1447.50");

    let spent: BTreeMap<String, (String, String)> = s["spending"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["category"].as_str().unwrap().to_string(),
                (
                    l["planned"].as_str().unwrap().to_string(),
                    l["spent"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect();
    // 57 days = 8 1/7 weeks of the plan: personal care 220.00 a week (both deployments).
    assert_eq!(spent["personal_care"], ("1791.43".into(), "85.50".into()));
    assert_eq!(
        spent["residential_respite"],
        ("1628.57".into(), "150.00".into())
    );
    assert_eq!(spent["transport"], ("8.14".into(), "1.00".into()));
    // 1447.50 at the plan's 421.00 a week: three whole weeks.
    assert_eq!(s["weekly_plan"], "421.00");
    assert_eq!(s["weeks_left"], 3);
    // The co-signed payment waits, and is not spent.
    assert_eq!(s["waiting"].as_array().unwrap().len(), 1);
    assert_eq!(s["waiting_total"], "300.00");
    assert_eq!(s["waiting"][0]["category"], "personal_care");

    // A chosen period: before the money came, nothing came in and nothing is left.
    let early =
        t.s.app
            .get(
                &format!("{path}?from=2025-01-06&to=2025-01-31"),
                &t.holder.1,
            )
            .await;
    assert_eq!(early.status, StatusCode::OK, "{}", early.text);
    assert_eq!(early.json["money_in"], "0.00");
    assert_eq!(early.json["spent_total"], "0.00");
    assert_eq!(early.json["left"], "0.00");

    // The CSV carries the same figures, by `?format=csv` or by `Accept`.
    let csv =
        t.s.app
            .get(&format!("{path}?format=csv"), &t.holder.1)
            .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    assert!(csv.headers[axum::http::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(
        csv.text
            .starts_with("section,category,label,planned,amount\n"),
        "{}",
        csv.text
    );
    for row in [
        "money_in,,Money in,,1684.00",
        "spent,personal_care,Personal care,1791.43,85.50",
        "spent,transport,Transport,8.14,1.00",
        "spent_total,,Spent,,236.50",
        "left,,Money left,,1447.50",
        "weeks_left,,Weeks left,421.00,3",
        "waiting_total,,Waiting for approval,,300.00",
    ] {
        assert!(csv.text.lines().any(|l| l == row), "{row} in {}", csv.text);
    }
    let request = axum::http::Request::builder()
        .uri(&path)
        .header(
            axum::http::header::AUTHORIZATION,
            format!("Bearer {}", t.holder.1),
        )
        .header(axum::http::header::ACCEPT, "text/csv")
        .body(axum::body::Body::empty())
        .unwrap();
    let by_accept = t.s.app.send(request).await;
    assert_eq!(by_accept.status, StatusCode::OK);
    assert_eq!(by_accept.text, csv.text);

    // Bad input: 400 with the envelope.
    for bad in [
        "?from=2025-03-01&to=2025-02-01",
        "?from=yesterday",
        "?format=xml",
        "?period=2025",
    ] {
        let reply = t.s.app.get(&format!("{path}{bad}"), &t.holder.1).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {}",
            reply.text
        );
        assert!(reply.json["error"]["code"].is_string(), "{}", reply.text);
    }
}

#[tokio::test]
async fn staff_who_may_see_the_budget_see_it_and_others_get_not_found() {
    let t = paid().await;
    let path = format!("/api/v1/budgets/{}/statement", t.budget);
    for token in [
        &t.s.care_manager.token,
        &t.s.auditor.token,
        &t.s.maker.token,
    ] {
        let reply = t.s.app.get(&path, token).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(reply.json["left"], "1447.50");
    }
    // Another person's own sign-in, another council's care manager, an unknown budget.
    let other = t.s.person("Olive Other", true, false).await;
    let (other_user, other_token) =
        t.s.app
            .user(&t.s.council, Role::BudgetHolder, None, Some(other))
            .await;
    let elsewhere = t.s.app.council("Elsewhere Council").await;
    let (_, foreign) =
        t.s.app
            .user(&elsewhere, Role::CareManager, None, None)
            .await;
    for token in [&other_token, &foreign] {
        let reply = t.s.app.get(&path, token).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
        let reply = t.s.app.get(&format!("{path}?format=csv"), token).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
    }
    let unknown =
        t.s.app
            .get(
                &format!("/api/v1/budgets/{}/statement", uuid::Uuid::new_v4()),
                &t.holder.1,
            )
            .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // The page alike.
    let page = format!("/budgets/{}/statement", t.budget);
    let (cookie, _) = t.s.app.session(t.s.council.id, other_user).await;
    assert_eq!(
        t.s.app.page(&page, &cookie).await.status,
        StatusCode::NOT_FOUND
    );
    let (cookie, _) = t.s.app.session(t.s.council.id, t.holder.0).await;
    let mine = t.s.app.page(&page, &cookie).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.text);
    assert!(mine.text.contains("£1,447.50"), "{}", mine.text);
    assert!(mine.text.contains("role=\"img\""));
    assert!(mine.text.contains("<table class=\"statement-table\">"));
}

const JARGON: [&str; 3] = ["deployment", "ledger", "posted"];

/// The text of the page's `main`, each element's text on its own line (tags are line breaks), then
/// cut into sentences at full stops, question and exclamation marks followed by a space or the
/// end of a line.
fn sentences(html: &str) -> Vec<String> {
    let start = html.find("<main").expect("a main element");
    let end = html[start..].find("</main>").expect("main closes") + start;
    let main = &html[start..end];
    let mut text = String::new();
    let mut in_tag = false;
    for c in main.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push('\n');
            }
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"");
    let mut out = Vec::new();
    for line in text.lines() {
        let mut current = String::new();
        let chars: Vec<char> = line.chars().collect();
        for (i, c) in chars.iter().enumerate() {
            current.push(*c);
            let next = chars.get(i + 1);
            if matches!(c, '.' | '!' | '?') && next.is_none_or(|n| n.is_whitespace()) {
                out.push(current.trim().to_string());
                current.clear();
            }
        }
        if !current.trim().is_empty() {
            out.push(current.trim().to_string());
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

#[tokio::test]
async fn the_easy_read_statement_uses_short_sentences_and_no_jargon() {
    let t = paid().await;
    // The person asked for easy read: the page is easy read without asking.
    let reply =
        t.s.app
            .patch(
                &format!("/api/v1/people/{}", t.person),
                &t.s.care_manager.token,
                json!({"communication": {"formats": ["easy_read"]}}),
            )
            .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let api =
        t.s.app
            .get(
                &format!("/api/v1/budgets/{}/statement", t.budget),
                &t.holder.1,
            )
            .await;
    assert_eq!(api.json["easy_read"], true);

    let (cookie, _) = t.s.app.session(t.s.council.id, t.holder.0).await;
    let page =
        t.s.app
            .page(&format!("/budgets/{}/statement", t.budget), &cookie)
            .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("statement easy-read"), "{}", page.text);
    // Pictures beside headings, hidden from screen readers.
    assert!(page.text.matches("class=\"icon-heading\"").count() >= 5);
    assert!(page.text.contains("aria-hidden=\"true\""));
    // The same figures as the API.
    assert!(page.text.contains("£1,447.50"));
    assert!(page.text.contains("£236.50"));
    assert!(page.text.contains("£300.00"));

    let all = sentences(&page.text);
    assert!(all.len() > 20, "{all:?}");
    for sentence in &all {
        let words = sentence.split_whitespace().count();
        assert!(words < 15, "{words} words: {sentence:?}");
        let lower = sentence.to_lowercase();
        for word in JARGON {
            assert!(!lower.contains(word), "{word} in {sentence:?}");
        }
    }
    // The ordinary layout by asking for it, and easy read again by `?easy_read=1` for anyone.
    let plain =
        t.s.app
            .page(
                &format!("/budgets/{}/statement?easy_read=0", t.budget),
                &cookie,
            )
            .await;
    assert!(!plain.text.contains("easy-read"), "{}", plain.text);
    let (staff, _) = t.s.app.session(t.s.council.id, t.s.care_manager.id).await;
    let easy =
        t.s.app
            .page(
                &format!(
                    "/budgets/{}/statement?easy_read=1&from=2025-02-01&to=",
                    t.budget
                ),
                &staff,
            )
            .await;
    assert_eq!(easy.status, StatusCode::OK, "{}", easy.text);
    assert!(
        easy.text.contains("It starts on 1 February 2025."),
        "{}",
        easy.text
    );
    // A period that is not a date is said so, with the default period shown.
    let bad =
        t.s.app
            .page(
                &format!("/budgets/{}/statement?from=soon", t.budget),
                &staff,
            )
            .await;
    assert_eq!(bad.status, StatusCode::OK, "{}", bad.text);
    assert!(bad.text.contains("error-summary"), "{}", bad.text);
    assert!(
        bad.text.contains("From must be a real date"),
        "{}",
        bad.text
    );
}

#[tokio::test]
async fn the_council_contact_details_come_from_policy() {
    let t = paid().await;
    let admin = &t.s.council.admin_token;
    let mut body = t.s.app.get("/api/v1/policy", admin).await.json;
    body.as_object_mut().unwrap().remove("version");
    let mut bad = body.clone();
    bad["contact_phone"] = json!("   ");
    let reply = t.s.app.put("/api/v1/policy", admin, bad).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    body["contact_phone"] = json!("0300 555 0199");
    body["contact_email"] = json!("budgets@council.example");
    let reply = t.s.app.put("/api/v1/policy", admin, body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let s =
        t.s.app
            .get(
                &format!("/api/v1/budgets/{}/statement", t.budget),
                &t.holder.1,
            )
            .await;
    assert_eq!(s.json["contact"]["phone"], "0300 555 0199");
    assert_eq!(s.json["contact"]["email"], "budgets@council.example");
    let (cookie, _) = t.s.app.session(t.s.council.id, t.holder.0).await;
    let page =
        t.s.app
            .page(
                &format!("/budgets/{}/statement?easy_read=1", t.budget),
                &cookie,
            )
            .await;
    assert!(page.text.contains("on 0300 555 0199."), "{}", page.text);
    assert!(
        page.text.contains("Email budgets@council.example."),
        "{}",
        page.text
    );
}
