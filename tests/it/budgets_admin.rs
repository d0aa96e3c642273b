//! The admin pages for people, budgets, plans, reviews and payment runs: what they show (escaped),
//! CSRF on every form, and the maker-checker flow in the browser.

use axum::http::StatusCode;
use scraper::{Html, Selector};
use serde_json::json;

use crate::support::scenario::{Scenario, PERIOD};

fn texts(html: &str, selector: &str) -> Vec<String> {
    let document = Html::parse_document(html);
    let selector = Selector::parse(selector).unwrap();
    document
        .select(&selector)
        .map(|e| e.text().collect::<String>().trim().to_string())
        .collect()
}

#[tokio::test]
async fn the_budget_page_shows_the_statement_plan_and_balances_escaped() {
    let s = Scenario::new().await;
    let person = s.person("Ann <b>Bold</b>", true, false).await;
    let budget = s
        .approved_budget(
            Scenario::budget_body(person),
            json!([{"category": "personal_care", "need": "<script>alert(1)</script>", "weekly_amount": "100.00",
                    "deployment": "direct_payment"},
                   Scenario::line("day_activities", "50.00", "isf", Some(s.isf_provider))]),
        )
        .await;
    s.release(PERIOD).await;
    let (cookie, _) = s.app.session(s.council.id, s.care_manager.id).await;
    let page = s.app.page(&format!("/budgets/{budget}"), &cookie).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        !page.text.contains("<script>alert"),
        "user text must be escaped"
    );
    assert!(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.text.contains("<b>Bold</b>"));
    let headings = texts(&page.text, "h2");
    assert!(
        headings.iter().any(|h| h.contains("Care Act section 26")),
        "{headings:?}"
    );
    assert!(page.text.contains("£26,000.00"));
    let captions = texts(&page.text, "caption");
    assert!(
        captions.iter().any(|c| c.contains("Direct payment")),
        "{captions:?}"
    );
    assert!(captions
        .iter()
        .any(|c| c.contains("Individual Service Fund") && c.contains("Supported Living Ltd")));
    let cells = texts(&page.text, "td.num");
    assert!(
        cells.contains(&"£400.00".to_string()),
        "the direct payment's balance: {cells:?}"
    );

    let person_page = s.app.page(&format!("/people/{person}"), &cookie).await;
    assert_eq!(person_page.status, StatusCode::OK);
    assert!(texts(&person_page.text, "td a")
        .iter()
        .any(|t| t.starts_with("PB")));
    let people = s.app.page("/people", &cookie).await;
    assert!(people.text.contains(&format!("/people/{person}")));

    // Another organisation's staff get the not-found page.
    let (outsider, _) = s.app.session(s.council.id, s.ma_staff.id).await;
    assert_eq!(
        s.app
            .page(&format!("/budgets/{budget}"), &outsider)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.app.page("/budgets/not-a-uuid", &cookie).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_plan_editor_needs_the_csrf_token_and_shows_mistakes() {
    let s = Scenario::new().await;
    let budget = s
        .budget(Scenario::budget_body(s.person("Bea", true, false).await))
        .await;
    let (cookie, csrf) = s.app.session(s.council.id, s.care_manager.id).await;
    let editor = s
        .app
        .page(&format!("/budgets/{budget}/plan"), &cookie)
        .await;
    assert_eq!(editor.status, StatusCode::OK, "{}", editor.text);
    let labels = texts(&editor.text, "label");
    assert!(
        labels.iter().any(|l| l == "Amount a week (£)"),
        "{labels:?}"
    );

    let path = format!("/budgets/{budget}/plan");
    let line = [
        ("category_0", "personal_care"),
        ("need_0", "Morning help"),
        ("weekly_0", "120.50"),
        ("deployment_0", "direct_payment"),
        ("holder_0", ""),
    ];
    let before = s.app.snapshot().await;
    let no_csrf = s.app.form(&path, &cookie, &line).await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    let mut wrong = line.to_vec();
    wrong.push(("csrf_token", "not-the-token"));
    assert_eq!(
        s.app.form(&path, &cookie, &wrong).await.status,
        StatusCode::FORBIDDEN
    );
    let mut bad_amount = line.to_vec();
    bad_amount[2] = ("weekly_0", "12.345");
    bad_amount.push(("csrf_token", &csrf));
    let refused = s.app.form(&path, &cookie, &bad_amount).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert!(texts(&refused.text, ".error-summary li")
        .iter()
        .any(|e| e.contains("two decimal places")));
    let mut wrong_holder = line.to_vec();
    wrong_holder[3] = ("deployment_0", "managed_account");
    let isf = s.isf_provider.to_string();
    wrong_holder[4] = ("holder_0", &isf);
    wrong_holder.push(("csrf_token", &csrf));
    let refused = s.app.form(&path, &cookie, &wrong_holder).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(s.app.snapshot().await, before);

    let mut good = line.to_vec();
    good.push(("csrf_token", &csrf));
    let saved = s.app.form(&path, &cookie, &good).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let approved = s
        .app
        .form(
            &format!("{path}/approve"),
            &cookie,
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.text);
    let view = s.budget_view(budget).await;
    assert_eq!(view["plan"]["weekly_total"], "120.50");
}

#[tokio::test]
async fn payment_run_pages_follow_maker_checker() {
    let s = Scenario::new().await;
    s.approved_budget(
        Scenario::budget_body(s.person("Cas", true, false).await),
        json!([Scenario::line(
            "personal_care",
            "100.00",
            "direct_payment",
            None
        )]),
    )
    .await;
    s.budget(Scenario::budget_body(s.person("Dan", true, false).await))
        .await;
    let (maker, maker_csrf) = s.app.session(s.council.id, s.maker.id).await;
    let (checker, checker_csrf) = s.app.session(s.council.id, s.checker.id).await;
    let list = s.app.page("/payment-runs", &maker).await;
    assert_eq!(list.status, StatusCode::OK);
    let nav = texts(&list.text, "nav a");
    assert!(nav.contains(&"Payment runs".to_string()), "{nav:?}");

    let fields = [
        ("csrf_token", maker_csrf.as_str()),
        ("idempotency_key", "form-1"),
        ("period_start", PERIOD),
        ("weeks", "4"),
    ];
    let created = s.app.form("/payment-runs", &maker, &fields).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.text);
    let location = created.headers["location"].to_str().unwrap().to_string();
    // The same form sent twice drafts one run.
    let again = s.app.form("/payment-runs", &maker, &fields).await;
    assert_eq!(again.headers["location"].to_str().unwrap(), location);

    let page = s.app.page(&location, &maker).await;
    assert!(
        page.text.contains("plan_not_approved"),
        "the skipped budget and its rule"
    );
    let submitted = s
        .app
        .form(
            &format!("{location}/submit"),
            &maker,
            &[("csrf_token", &maker_csrf)],
        )
        .await;
    assert_eq!(submitted.status, StatusCode::SEE_OTHER);
    let page = s.app.page(&location, &maker).await;
    let buttons = texts(&page.text, "button");
    assert!(
        !buttons.iter().any(|b| b.starts_with("Approve")),
        "the maker is not offered approval: {buttons:?}"
    );
    let own = s
        .app
        .form(
            &format!("{location}/approve"),
            &maker,
            &[("csrf_token", &maker_csrf)],
        )
        .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN);

    let page = s.app.page(&location, &checker).await;
    assert!(texts(&page.text, "button")
        .iter()
        .any(|b| b == "Approve and release"));
    let approved = s
        .app
        .form(
            &format!("{location}/approve"),
            &checker,
            &[("csrf_token", &checker_csrf)],
        )
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.text);
    let page = s.app.page(&location, &checker).await;
    assert!(page.text.contains("Approved and released"));
    let file = s.app.page(&format!("{location}/bacs18"), &checker).await;
    assert_eq!(file.status, StatusCode::OK);
    assert!(file.headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains("bacs18"));

    let (care_manager, _) = s.app.session(s.council.id, s.care_manager.id).await;
    assert_eq!(
        s.app.page(&location, &care_manager).await.status,
        StatusCode::FORBIDDEN
    );
    let reviews = s.app.page("/reviews", &care_manager).await;
    assert_eq!(reviews.status, StatusCode::OK);
}
