//! The finance officers' pages over HTTP: payees verified by a second officer, contributions
//! recorded, approved and rejected, payments reversed with a reason — refusals keep what was
//! typed, name their field and write nothing — and the pictures' tables carrying the ledger's
//! figures (the budget's spending against plan, an account's month ends, a run's deployments).

use std::str::FromStr;

use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde_json::json;
use uuid::Uuid;

use crate::payments_api::{bank, payee, setup};
use crate::support::scenario::{account, id, Scenario, PERIOD};
use allot_views::Gbp;

fn gbp(text: &str) -> String {
    Gbp(Decimal::from_str(text).unwrap()).text()
}

/// The part of `html` from the first `start` to the next `</table>` after it.
fn table<'a>(html: &'a str, start: &str) -> &'a str {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("{start} in {html}"));
    let to = html[from..].find("</table>").unwrap() + from;
    &html[from..to]
}

fn location(reply: &crate::support::Reply) -> String {
    reply
        .headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn a_payee_is_verified_by_a_second_finance_officer_from_the_payees_page() {
    let s = Scenario::new().await;
    let unverified = payee(
        &s,
        json!({"name": "Zed Unverified", "kind": "care_agency", "bank": bank()}),
    )
    .await;
    payee(
        &s,
        json!({"name": "Able Verified", "kind": "retailer", "bank": bank(), "bank_verified": true}),
    )
    .await;
    let (maker, maker_csrf) = s.app.session(s.council.id, s.maker.id).await;
    let list = s.app.page("/payees", &maker).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let zed = list.text.find("Zed Unverified").unwrap();
    let able = list.text.find("Able Verified").unwrap();
    assert!(zed < able, "unverified first");
    assert!(list.text.contains("**-**-00") && list.text.contains("****5678"));
    assert!(!list.text.contains("12345678"), "masked");
    assert!(list.text.contains("You changed these"));

    // The one who gave the details cannot verify them: refused on the page, nothing changed.
    let before = s.app.snapshot().await;
    let own = s
        .app
        .form(
            &format!("/payees/{unverified}/verify"),
            &maker,
            &[("csrf_token", &maker_csrf)],
        )
        .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN, "{}", own.text);
    assert!(own.text.contains("other than the one who changed them"));
    assert!(own.text.contains(&format!("href=\"#payee-{unverified}\"")));
    assert_eq!(s.app.snapshot().await, before);
    // Without the CSRF token nothing is done either.
    let (checker, checker_csrf) = s.app.session(s.council.id, s.checker.id).await;
    let forged = s
        .app
        .form(&format!("/payees/{unverified}/verify"), &checker, &[])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(s.app.snapshot().await, before);

    let done = s
        .app
        .form(
            &format!("/payees/{unverified}/verify"),
            &checker,
            &[("csrf_token", &checker_csrf)],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    assert_eq!(location(&done), "/payees");
    let seen = s
        .app
        .get(&format!("/api/v1/payees/{unverified}"), &s.checker.token)
        .await;
    assert_eq!(seen.json["bank_verified"], true, "{}", seen.text);
    // Nothing waits now: a second verification is refused (409).
    let again = s
        .app
        .form(
            &format!("/payees/{unverified}/verify"),
            &checker,
            &[("csrf_token", &checker_csrf)],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);

    // Auditors read the list without buttons; care managers may not see it.
    let (auditor, _) = s.app.session(s.council.id, s.auditor.id).await;
    let read = s.app.page("/payees", &auditor).await;
    assert_eq!(read.status, StatusCode::OK);
    assert!(!read.text.contains("/verify\""));
    let (cm, _) = s.app.session(s.council.id, s.care_manager.id).await;
    assert_eq!(
        s.app.page("/payees", &cm).await.status,
        StatusCode::FORBIDDEN
    );
}

/// A net-basis budget owing 30.00 a week, its first period released (120.00 owed).
async fn owing(s: &Scenario) -> Uuid {
    let mut body = Scenario::budget_body(s.person("Cora Contributor", true, false).await);
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

#[tokio::test]
async fn the_contribution_form_refuses_bad_input_keeping_what_was_typed_and_records_once() {
    let s = Scenario::new().await;
    let budget = owing(&s).await;
    let (maker, csrf) = s.app.session(s.council.id, s.maker.id).await;
    let form = s.app.page("/contributions", &maker).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    assert!(form.text.contains("Cora Contributor"));
    let budget_text = budget.to_string();

    let before = s.app.snapshot().await;
    let bad = s
        .app
        .form(
            "/contributions",
            &maker,
            &[
                ("csrf_token", &csrf),
                ("idempotency_key", "form-1"),
                ("budget_id", &budget_text),
                ("amount", "12.345<b>"),
                ("received_on", "2025-13-40"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    for words in [
        "value=\"12.345&lt;b&gt;\"",
        "value=\"2025-13-40\"",
        "href=\"#amount\"",
        "id=\"amount-error\"",
        "href=\"#received_on\"",
        "id=\"received_on-error\"",
        &format!("<option value=\"{budget}\" selected>"),
    ] {
        assert!(bad.text.contains(words), "{words} in {}", bad.text);
    }
    let missing = s
        .app
        .form(
            "/contributions",
            &maker,
            &[("csrf_token", &csrf), ("amount", "0"), ("received_on", "")],
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(missing.text.contains("href=\"#budget_id\""));
    assert!(missing.text.contains("href=\"#amount\""));
    // The service's own refusal (a day in the future) is shown beside its field too.
    let future = (s.app.state.clock.today() + chrono::Duration::days(3)).to_string();
    let later = s
        .app
        .form(
            "/contributions",
            &maker,
            &[
                ("csrf_token", &csrf),
                ("budget_id", &budget_text),
                ("amount", "45.50"),
                ("received_on", &future),
            ],
        )
        .await;
    assert_eq!(later.status, StatusCode::BAD_REQUEST, "{}", later.text);
    assert!(
        later.text.contains("id=\"received_on-error\""),
        "{}",
        later.text
    );
    assert!(later.text.contains("value=\"45.50\""));
    assert_eq!(s.app.snapshot().await, before, "refusals write nothing");

    // Recorded once, however often the form is sent.
    let today = s.app.state.clock.today().to_string();
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("idempotency_key", "form-2"),
        ("budget_id", budget_text.as_str()),
        ("amount", "45.50"),
        ("received_on", today.as_str()),
    ];
    let first = s.app.form("/contributions", &maker, &fields).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert!(first.text.contains("Recorded £45.50"), "{}", first.text);
    let second = s.app.form("/contributions", &maker, &fields).await;
    assert_eq!(second.status, StatusCode::OK);
    let listed = s.app.get("/api/v1/contributions", &s.maker.token).await;
    let items = listed.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", listed.text);
    assert_eq!(items[0]["status"], "posted");
    assert_eq!(items[0]["amount"], "45.50");
    let view = s.budget_view(budget).await;
    assert_eq!(view["contributions"]["received"], "45.50");

    // Others may not record.
    let (cm, cm_csrf) = s.app.session(s.council.id, s.care_manager.id).await;
    assert_eq!(
        s.app.page("/contributions", &cm).await.status,
        StatusCode::FORBIDDEN
    );
    let (auditor, auditor_csrf) = s.app.session(s.council.id, s.auditor.id).await;
    let read = s.app.page("/contributions", &auditor).await;
    assert_eq!(read.status, StatusCode::OK);
    assert!(!read.text.contains("Record the contribution"));
    for (cookie, token) in [(&cm, &cm_csrf), (&auditor, &auditor_csrf)] {
        let refused = s
            .app
            .form(
                "/contributions",
                cookie,
                &[
                    ("csrf_token", token),
                    ("budget_id", &budget_text),
                    ("amount", "1.00"),
                    ("received_on", &today),
                ],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn held_contributions_are_approved_or_rejected_from_the_queue() {
    let s = Scenario::new().await;
    let budget = owing(&s).await;
    let path = format!("/api/v1/budgets/{budget}/contributions");
    let big = s
        .app
        .post_with_key(
            &path,
            &s.ma_staff.token,
            "big",
            json!({"amount": "500.00", "received_on": "2025-02-10"}),
        )
        .await;
    assert_eq!(big.status, StatusCode::ACCEPTED, "{}", big.text);
    let bigger = s
        .app
        .post_with_key(
            &path,
            &s.ma_staff.token,
            "bigger",
            json!({"amount": "900.00", "received_on": "2025-02-10"}),
        )
        .await;
    assert_eq!(bigger.status, StatusCode::ACCEPTED, "{}", bigger.text);
    let (maker, csrf) = s.app.session(s.council.id, s.maker.id).await;
    let queue = s.app.page("/contributions", &maker).await;
    assert!(queue
        .text
        .contains("aria-label=\"Approve the contribution of £500.00"));
    assert!(queue.text.contains("Waiting for a decision"));

    let approved = s
        .app
        .form(
            &format!("/contributions/{}/approve", id(&big)),
            &maker,
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.text);
    let rejected = s
        .app
        .form(
            &format!("/contributions/{}/reject", id(&bigger)),
            &maker,
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(rejected.status, StatusCode::SEE_OTHER, "{}", rejected.text);
    let listed = s.app.get("/api/v1/contributions", &s.maker.token).await;
    let status = |id: Uuid| {
        listed.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == json!(id))
            .map(|c| c["status"].clone())
            .unwrap()
    };
    assert_eq!(status(crate::support::scenario::id(&big)), "posted");
    assert_eq!(status(crate::support::scenario::id(&bigger)), "rejected");
    // Decided once: a second decision is refused on the page (409), nothing changes.
    let before = s.app.snapshot().await;
    let again = s
        .app
        .form(
            &format!("/contributions/{}/approve", id(&bigger)),
            &maker,
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert!(again.text.contains("There is a problem"));
    assert_eq!(s.app.snapshot().await, before);
}

#[tokio::test]
async fn a_reversal_needs_a_reason_and_keeps_what_was_typed() {
    let t = setup().await;
    let s = &t.s;
    let paid = t.pay(&t.holder.1, t.body("personal_care", "12.00")).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text);
    let payment = id(&paid);
    let entry = paid.json["entry_id"].as_str().unwrap().to_string();
    let (maker, csrf) = s.app.session(s.council.id, s.maker.id).await;

    // The budget's decisions and the payment's entry offer the reversal; the form shows the
    // payment.
    let decisions = s
        .app
        .page(&format!("/budgets/{}/decisions", t.budget), &maker)
        .await;
    assert!(decisions
        .text
        .contains(&format!("href=\"/payments/{payment}/reverse\"")));
    let shown = s.app.page(&format!("/entries/{entry}"), &maker).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text);
    assert!(shown
        .text
        .contains(&format!("href=\"/payments/{payment}/reverse\"")));
    let form = s
        .app
        .page(&format!("/payments/{payment}/reverse"), &maker)
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    assert!(form.text.contains("Helping Hands") && form.text.contains("£12.00"));

    let before = s.app.snapshot().await;
    let path = format!("/payments/{payment}/reverse");
    let blank = s
        .app
        .form(&path, &maker, &[("csrf_token", &csrf), ("reason", "   ")])
        .await;
    assert_eq!(blank.status, StatusCode::BAD_REQUEST, "{}", blank.text);
    assert!(blank.text.contains("href=\"#reason\""));
    assert!(blank.text.contains("id=\"reason-error\""));
    let long = format!("Paid twice <{}>", "x".repeat(400));
    let too_long = s
        .app
        .form(&path, &maker, &[("csrf_token", &csrf), ("reason", &long)])
        .await;
    assert_eq!(too_long.status, StatusCode::BAD_REQUEST);
    assert!(too_long.text.contains(&format!(
        ">Paid twice &lt;{}&gt;</textarea>",
        "x".repeat(400)
    )));
    // The budget holder may not reverse; nothing was written by any of this.
    let (holder, holder_csrf) = s.app.session(s.council.id, t.holder.0).await;
    let theirs = s
        .app
        .form(
            &path,
            &holder,
            &[("csrf_token", &holder_csrf), ("reason", "Mine")],
        )
        .await;
    assert_eq!(theirs.status, StatusCode::FORBIDDEN);
    assert_eq!(s.app.snapshot().await, before);

    let fields = [
        ("csrf_token", csrf.as_str()),
        ("idempotency_key", "reverse-1"),
        ("reason", "Paid twice"),
    ];
    let done = s.app.form(&path, &maker, &fields).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    let reversal = location(&done);
    assert!(reversal.starts_with("/entries/"), "{reversal}");
    // Sent again with the same key: the same reversal, not a second one.
    let again = s.app.form(&path, &maker, &fields).await;
    assert_eq!(location(&again), reversal);
    let page = s.app.page(&reversal, &maker).await;
    assert!(page.text.contains("Paid twice"), "{}", page.text);
    let original = s.app.page(&format!("/entries/{entry}"), &maker).await;
    assert!(original.text.contains("Reversed by"));
    assert!(!original.text.contains("Reverse this payment"));
    let form = s.app.page(&path, &maker).await;
    assert!(form.text.contains("This payment is reversed"));
    // A second reversal with another key is refused by the ledger (409) on the page, which
    // now says the payment is reversed.
    let before = s.app.snapshot().await;
    let twice = s
        .app
        .form(&path, &maker, &[("csrf_token", &csrf), ("reason", "Again")])
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.text);
    assert!(twice.text.contains("There is a problem"));
    assert!(twice.text.contains("This payment is reversed"));
    assert_eq!(s.app.snapshot().await, before);
}

#[tokio::test]
async fn the_pictures_tables_carry_the_ledgers_figures() {
    let t = setup().await;
    let s = &t.s;
    for amount in ["12.00", "30.50"] {
        let paid = t.pay(&t.holder.1, t.body("personal_care", amount)).await;
        assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text);
    }
    let (maker, _) = s.app.session(s.council.id, s.maker.id).await;

    // The budget page: spending against plan, as the statement works it out.
    let statement = s
        .app
        .get(
            &format!("/api/v1/budgets/{}/statement", t.budget),
            &s.maker.token,
        )
        .await;
    assert_eq!(statement.status, StatusCode::OK, "{}", statement.text);
    let budget_page = s.app.page(&format!("/budgets/{}", t.budget), &maker).await;
    assert_eq!(budget_page.status, StatusCode::OK, "{}", budget_page.text);
    assert!(budget_page
        .text
        .contains("aria-labelledby=\"spending-title spending-desc\""));
    let spending = table(&budget_page.text, "<table class=\"spending-table\">");
    let lines = statement.json["spending"].as_array().unwrap();
    assert!(!lines.is_empty());
    for line in lines {
        let row = format!(
            "<th scope=\"row\">{}</th><td class=\"num\"><span class=\"money\">{}</span></td><td class=\"num\"><span class=\"money\">{}</span></td>",
            line["label"].as_str().unwrap(),
            gbp(line["planned"].as_str().unwrap()),
            gbp(line["spent"].as_str().unwrap())
        );
        assert!(spending.contains(&row), "{row} in {spending}");
    }
    assert!(spending.contains("£42.50"), "{spending}");

    // The account page: twelve month ends and today, today's being the posted balance.
    let view = s.budget_view(t.budget).await;
    let dp = account(&view, "direct_payment");
    let account_page = s
        .app
        .page(&format!("/accounts/{}", t.dp_account), &maker)
        .await;
    assert_eq!(account_page.status, StatusCode::OK, "{}", account_page.text);
    let history = table(&account_page.text, "<table class=\"history-table\">");
    assert_eq!(history.matches("<tr>").count(), 14, "{history}");
    let today = s.app.state.clock.today().format("%-d %B %Y").to_string();
    let posted = gbp(dp["posted_balance"].as_str().unwrap());
    assert!(
        history.contains(&format!(
            "<th scope=\"row\">{today}</th><td class=\"num\"><span class=\"money\">{posted}</span>"
        )),
        "{today} {posted} in {history}"
    );
    assert!(account_page
        .text
        .contains("aria-labelledby=\"balance-title balance-desc\""));
    assert!(account_page
        .text
        .contains("aria-labelledby=\"weeks-title weeks-desc\""));

    // The run page: the run's total by deployment, adding up to the run's total.
    let runs = s.app.get("/api/v1/payment-runs", &s.maker.token).await;
    let run_id = runs.json["items"][0]["id"].as_str().unwrap().to_string();
    let run = s
        .app
        .get(&format!("/api/v1/payment-runs/{run_id}"), &s.maker.token)
        .await;
    let run_page = s.app.page(&format!("/payment-runs/{run_id}"), &maker).await;
    assert_eq!(run_page.status, StatusCode::OK, "{}", run_page.text);
    let totals = table(&run_page.text, "<table class=\"run-totals\">");
    let mut by: std::collections::BTreeMap<String, Decimal> = Default::default();
    for line in run.json["lines"].as_array().unwrap() {
        *by.entry(line["deployment"].as_str().unwrap().to_string())
            .or_default() += Decimal::from_str(line["amount"].as_str().unwrap()).unwrap();
    }
    assert_eq!(by.len(), 2, "{}", run.text);
    for (deployment, total) in by {
        let label = match deployment.as_str() {
            "direct_payment" => "Direct payment",
            _ => "Managed account",
        };
        assert!(totals.contains(label), "{label} in {totals}");
        assert!(totals.contains(&Gbp(total).text()), "{total} in {totals}");
    }
    assert!(totals.contains(&gbp(run.json["total_amount"].as_str().unwrap())));
    assert!(run_page
        .text
        .contains("aria-labelledby=\"by-deployment-title by-deployment-desc\""));
}

#[tokio::test]
async fn the_auditors_pages_lead_to_sampling_payments_for_evidence() {
    let s = Scenario::new().await;
    let (auditor, _) = s.app.session(s.council.id, s.auditor.id).await;
    for path in ["/evidence/missing", "/audit/chain"] {
        let page = s.app.page(path, &auditor).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert!(
            page.text.contains("<a href=\"/audit/samples\">sampl"),
            "{path}: {}",
            page.text
        );
    }
    let samples = s.app.page("/audit/samples", &auditor).await;
    assert_eq!(samples.status, StatusCode::OK);
    // Finance officers do not sample: no link to a page they may not use.
    let (maker, _) = s.app.session(s.council.id, s.maker.id).await;
    let page = s.app.page("/evidence/missing", &maker).await;
    assert!(!page.text.contains("href=\"/audit/samples\""));
}
