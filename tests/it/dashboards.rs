//! Dashboards are worklists: each role sees what is waiting for it, linked to where it is done,
//! with an empty state in plain words; only the council's staff see council-wide figures.

use axum::http::StatusCode;
use chrono::Duration;
use scraper::{Html, Selector};
use serde_json::json;
use uuid::Uuid;

use crate::payments_api::{grant, setup};
use crate::support::scenario::{id, Scenario};
use allot::auth::Role;

/// The items of a worklist section: (link text, href, the whole line).
fn items(html: &str, section: &str) -> Vec<(String, String, String)> {
    let doc = Html::parse_document(html);
    let selector = Selector::parse(&format!("section#{section} li")).unwrap();
    let link = Selector::parse("a").unwrap();
    doc.select(&selector)
        .map(|li| {
            let a = li.select(&link).next().expect("each item is a link");
            (
                a.text().collect::<String>(),
                a.value().attr("href").unwrap_or("").to_string(),
                li.text().collect::<String>(),
            )
        })
        .collect()
}

fn text_of(html: &str, css: &str) -> Vec<String> {
    let doc = Html::parse_document(html);
    let selector = Selector::parse(css).unwrap();
    doc.select(&selector)
        .map(|e| e.text().collect::<String>().trim().to_string())
        .collect()
}

async fn dashboard(s: &Scenario, user: Uuid) -> String {
    let (cookie, _) = s.app.session(s.council.id, user).await;
    let page = s.app.page("/", &cookie).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    page.text
}

#[tokio::test]
async fn each_role_sees_its_own_waiting_items_with_links() {
    let t = setup().await;
    let s = &t.s;
    let cosigner = s
        .app
        .user(&s.council, Role::Representative, None, None)
        .await;
    grant(
        s,
        t.budget,
        json!({"user_id": cosigner.0, "acting_as": "family_member", "powers": ["approve"],
               "max_per_payment": "1000.00", "valid_from": "2020-01-01"}),
    )
    .await;

    // Nothing waits yet: plain words, no items.
    let rep_page = dashboard(s, cosigner.0).await;
    assert!(items(&rep_page, "approvals").is_empty());
    assert!(text_of(&rep_page, "section#approvals p.hint")[0]
        .contains("No payments are waiting for your approval"));

    let posted = t.pay(&t.holder.1, t.body("personal_care", "20.00")).await;
    assert_eq!(posted.status, StatusCode::CREATED, "{}", posted.text);
    let held = t.pay(&t.holder.1, t.body("personal_care", "300.00")).await;
    assert_eq!(held.status, StatusCode::ACCEPTED, "{}", held.text);

    // The representative may approve it; near the end of its hold it is flagged.
    let rep_page = dashboard(s, cosigner.0).await;
    let approvals = items(&rep_page, "approvals");
    assert_eq!(approvals.len(), 1, "{rep_page}");
    assert_eq!(approvals[0].0, "£300.00 to Helping Hands");
    assert_eq!(approvals[0].1, "/approvals");
    assert!(approvals[0].2.contains("held until"), "{approvals:?}");
    s.app.state.clock.advance(Duration::days(13));
    let approvals = items(&dashboard(s, cosigner.0).await, "approvals");
    assert!(
        approvals[0].2.contains("the hold ends soon"),
        "{approvals:?}"
    );

    // The budget holder sees their own payment waiting for someone else, and nothing of the
    // council's: no figures of people, organisations or users.
    let holder_page = dashboard(s, t.holder.0).await;
    let own = items(&holder_page, "your-payments");
    assert_eq!(own.len(), 1, "{holder_page}");
    assert_eq!(own[0].1, format!("/budgets/{}/decisions", t.budget));
    assert!(items(&holder_page, "approvals").is_empty());
    assert!(text_of(&holder_page, ".stats").is_empty(), "{holder_page}");
    assert!(!holder_page.contains("Organisations"), "{holder_page}");
    assert!(!holder_page.contains("Users"), "{holder_page}");
    assert!(text_of(&rep_page, ".stats").is_empty());

    // Finance officers: bank details someone else changed; a run drafted and submitted by the
    // maker is the checker's to approve, not the maker's; the maker's own draft is theirs.
    let org = s
        .app
        .post(
            "/api/v1/organisations",
            &s.council.admin_token,
            json!({"name": "New Care Ltd", "kind": "care_provider",
                   "bank": {"sort_code": "44-55-66", "account_number": "11223344", "account_name": "New Care"}}),
        )
        .await;
    assert_eq!(org.status, StatusCode::CREATED, "{}", org.text);
    let submitted = s.draft_run("run-march", "2025-03-03").await;
    assert_eq!(submitted.status, StatusCode::CREATED, "{}", submitted.text);
    let run = id(&submitted);
    let reply = s
        .app
        .post(
            &format!("/api/v1/payment-runs/{run}/submit"),
            &s.maker.token,
            json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let draft = s.draft_run("run-april", "2025-03-31").await;
    assert_eq!(draft.status, StatusCode::CREATED, "{}", draft.text);
    let draft = id(&draft);

    let checker = dashboard(s, s.checker.id).await;
    let banks = items(&checker, "bank-details");
    assert!(
        banks
            .iter()
            .any(|(label, href, _)| label.contains("New Care Ltd") && href == "/bank-details"),
        "{banks:?}"
    );
    assert_eq!(
        items(&checker, "runs-to-approve")
            .iter()
            .map(|i| i.1.clone())
            .collect::<Vec<_>>(),
        vec![format!("/payment-runs/{run}")]
    );
    assert!(items(&checker, "runs-to-submit").is_empty());
    assert_eq!(
        text_of(&checker, ".stats dt").len(),
        3,
        "staff see the figures"
    );

    let maker = dashboard(s, s.maker.id).await;
    assert!(items(&maker, "runs-to-approve").is_empty(), "not their own");
    assert_eq!(
        items(&maker, "runs-to-submit")
            .iter()
            .map(|i| i.1.clone())
            .collect::<Vec<_>>(),
        vec![format!("/payment-runs/{draft}")]
    );

    // The care manager: a plan submitted for approval, linked to the plan page.
    let person = s.person("Sam Submitted", true, false).await;
    let budget = s.budget(Scenario::budget_body(person)).await;
    let plan = s
        .plan(
            budget,
            json!([Scenario::line(
                "personal_care",
                "50.00",
                "direct_payment",
                None
            )]),
        )
        .await;
    assert_eq!(plan.status, StatusCode::OK, "{}", plan.text);
    let before = dashboard(s, s.care_manager.id).await;
    assert!(items(&before, "plans-submitted").is_empty());
    let reply = s
        .app
        .post(
            &format!("/api/v1/budgets/{budget}/plan/submit"),
            &s.care_manager.token,
            json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let cm = dashboard(s, s.care_manager.id).await;
    let plans = items(&cm, "plans-submitted");
    assert_eq!(plans.len(), 1, "{cm}");
    assert!(plans[0].0.starts_with("Sam Submitted"));
    assert_eq!(plans[0].1, format!("/budgets/{budget}/plan"));

    // The auditor: a sample drawn with payments still to check.
    let empty = dashboard(s, s.auditor.id).await;
    assert!(text_of(&empty, "section#samples p.hint")[0].contains("None of your samples"));
    assert!(empty.contains("href=\"/audit/chain\""));
    let sample = s
        .app
        .post(
            "/api/v1/audit/samples",
            &s.auditor.token,
            json!({"seed": "dashboard", "size": 1, "from": "2020-01-01", "to": "2099-12-31"}),
        )
        .await;
    assert_eq!(sample.status, StatusCode::CREATED, "{}", sample.text);
    let auditor = dashboard(s, s.auditor.id).await;
    let samples = items(&auditor, "samples");
    assert_eq!(samples.len(), 1, "{auditor}");
    assert_eq!(samples[0].1, format!("/audit/samples/{}", id(&sample)));
    assert!(samples[0].2.contains("1 of 1 payments without a finding"));
}

#[tokio::test]
async fn a_broker_sees_only_their_drafts_and_an_administrator_what_is_left_to_set_up() {
    let s = Scenario::new().await;
    let person = s.person("Bo Brokered", true, false).await;
    let mut body = Scenario::budget_body(person);
    body["broker_organisation_id"] = json!(s.broker_org);
    let budget = s.budget(body).await;
    let other = s.person("Not Brokered", true, false).await;
    let other_budget = s.budget(Scenario::budget_body(other)).await;
    for b in [budget, other_budget] {
        let plan = s
            .plan(
                b,
                json!([Scenario::line(
                    "personal_care",
                    "50.00",
                    "direct_payment",
                    None
                )]),
            )
            .await;
        assert_eq!(plan.status, StatusCode::OK, "{}", plan.text);
    }
    let broker = dashboard(&s, s.broker.id).await;
    let drafts = items(&broker, "plans-to-submit");
    assert_eq!(drafts.len(), 1, "{broker}");
    assert_eq!(drafts[0].1, format!("/budgets/{budget}/plan"));
    assert!(!broker.contains("Not Brokered"));
    assert!(text_of(&broker, ".stats").is_empty(), "{broker}");

    // The scenario's council is set up: nothing for the administrator there.
    let admin = dashboard(&s, s.council.admin_id).await;
    assert!(items(&admin, "setup").is_empty(), "{admin}");
    assert!(text_of(&admin, "section#setup p.hint")[0].contains("The council is set up"));

    // A new council: banking and organisations to do.
    let fresh = s.app.council("Fresh Council").await;
    let (cookie, _) = s.app.session(fresh.id, fresh.admin_id).await;
    let page = s.app.page("/", &cookie).await;
    let setup = items(&page.text, "setup");
    let links: Vec<&str> = setup.iter().map(|i| i.1.as_str()).collect();
    assert_eq!(
        links,
        ["/council/banking", "/council/organisations"],
        "{setup:?}"
    );
    assert!(text_of(&page.text, "p.lead")[0].contains("2 things are waiting"));
}

#[tokio::test]
async fn a_held_contribution_waits_on_the_finance_officers_dashboard_until_decided() {
    let s = Scenario::new().await;
    let mut body = Scenario::budget_body(s.person("Cora Contributes", true, false).await);
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
    s.release(crate::support::scenario::PERIOD).await;
    let empty = dashboard(&s, s.maker.id).await;
    assert!(items(&empty, "contributions").is_empty());
    assert!(text_of(&empty, "section#contributions p.hint")[0].contains("No contributions"));

    let held = s
        .app
        .post_with_key(
            &format!("/api/v1/budgets/{budget}/contributions"),
            &s.ma_staff.token,
            "big",
            json!({"amount": "50000.00", "received_on": "2025-02-10"}),
        )
        .await;
    assert_eq!(held.status, StatusCode::ACCEPTED, "{}", held.text);
    let page = dashboard(&s, s.maker.id).await;
    let waiting = items(&page, "contributions");
    assert_eq!(waiting.len(), 1, "{page}");
    assert!(
        waiting[0].0.starts_with("£50,000.00 into budget"),
        "{waiting:?}"
    );
    assert_eq!(waiting[0].1, format!("/budgets/{budget}"));
    // Not on a care manager's.
    let cm = dashboard(&s, s.care_manager.id).await;
    assert!(!cm.contains("£50,000.00"));

    let decided = s
        .app
        .post(
            &format!("/api/v1/contributions/{}/reject", id(&held)),
            &s.maker.token,
            json!({}),
        )
        .await;
    assert_eq!(decided.status, StatusCode::OK, "{}", decided.text);
    assert!(items(&dashboard(&s, s.maker.id).await, "contributions").is_empty());
}
