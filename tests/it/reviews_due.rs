//! Reviews that happen: the first review from policy, triggers that make a review due now (a
//! request, a change in capacity, three refusals in 28 days, a misuse finding), completing one
//! with an outcome and notes, the due list and the care manager's dashboard.

use axum::http::StatusCode;
use chrono::{TimeZone, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::payments_api::{setup, Setup};
use crate::support::scenario::Scenario;
use crate::support::Reply;

fn at(s: &Scenario, y: i32, m: u32, d: u32) {
    s.app
        .state
        .clock
        .set(Utc.with_ymd_and_hms(y, m, d, 10, 0, 0).unwrap());
}

async fn set_policy(s: &Scenario, changes: Value) -> Reply {
    let admin = &s.council.admin_token;
    let mut body = s.app.get("/api/v1/policy", admin).await.json;
    body.as_object_mut().unwrap().remove("version");
    for (k, v) in changes.as_object().unwrap() {
        body[k] = v.clone();
    }
    s.app.put("/api/v1/policy", admin, body).await
}

async fn due(s: &Scenario) -> Vec<Value> {
    let reply = s
        .app
        .get("/api/v1/reviews/due", &s.care_manager.token)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json["items"].as_array().unwrap().clone()
}

fn of_budget(list: &[Value], budget: Uuid) -> Option<&Value> {
    list.iter().find(|r| r["budget_id"] == budget.to_string())
}

fn reasons(review: &Value) -> Vec<String> {
    review["triggers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["reason"].as_str().unwrap().to_owned())
        .collect()
}

/// The payments setup with the clock at 2 March 2026.
async fn dated_setup() -> Setup {
    let t = setup().await;
    at(&t.s, 2026, 3, 2);
    t
}

#[tokio::test]
async fn the_first_review_follows_the_policy_and_completing_one_sets_the_next() {
    let s = Scenario::new().await;
    at(&s, 2026, 3, 2);
    for weeks in [0, 27] {
        let reply = set_policy(&s, json!({"first_review_weeks": weeks})).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
        assert_eq!(
            reply.json["error"]["details"][0]["field"],
            "first_review_weeks"
        );
    }
    let policy = s.app.get("/api/v1/policy", &s.maker.token).await;
    assert_eq!(policy.json["first_review_weeks"], 6, "{}", policy.text);
    let reply = set_policy(&s, json!({"first_review_weeks": 10})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let person = s.person("Rhona Review", true, false).await;
    let budget = s
        .approved_budget(
            Scenario::budget_body(person),
            json!([Scenario::line(
                "personal_care",
                "100.00",
                "direct_payment",
                None
            )]),
        )
        .await;
    let view = s.budget_view(budget).await;
    // Ten weeks after the approval (dated by the plan's approval time).
    let approved: chrono::NaiveDate = view["plan"]["approved_at"].as_str().unwrap()[..10]
        .parse()
        .unwrap();
    let first = approved + chrono::Days::new(70);
    assert_eq!(view["next_review_due"], first.to_string(), "{view}");
    assert!(of_budget(&due(&s).await, budget).is_none());

    // The due date passes: overdue, on the due list and the dashboard.
    let late = first + chrono::Days::new(1);
    s.app
        .state
        .clock
        .set(Utc.from_utc_datetime(&late.and_hms_opt(10, 0, 0).unwrap()));
    let list = due(&s).await;
    let review = of_budget(&list, budget).expect("overdue");
    assert_eq!(review["overdue"], true);
    let (cookie, _) = s.app.session(s.council.id, s.care_manager.id).await;
    let dashboard = s.app.page("/", &cookie).await;
    assert_eq!(dashboard.status, StatusCode::OK, "{}", dashboard.text);
    assert!(
        dashboard.text.contains("Reviews overdue") && dashboard.text.contains("Rhona Review"),
        "{}",
        dashboard.text
    );
    // The council's administrator sees it too, linked to the budget rather than the form.
    let (admin_cookie, _) = s.app.session(s.council.id, s.council.admin_id).await;
    let council_view = s.app.page("/", &admin_cookie).await;
    assert!(
        council_view.text.contains("Reviews overdue")
            && council_view.text.contains("Rhona Review")
            && council_view
                .text
                .contains(&format!("href=\"/budgets/{budget}\"")),
        "{}",
        council_view.text
    );

    let path = format!("/api/v1/budgets/{budget}/reviews");
    for body in [
        json!({"outcome": "fine"}),
        json!({"outcome": "continue", "notes": "x".repeat(4001)}),
        json!({"outcome": "continue", "completed_on": (late + chrono::Days::new(1)).to_string()}),
        json!({"outcome": "continue", "next_review_on": (late + chrono::Months::new(12) + chrono::Days::new(1)).to_string()}),
    ] {
        let reply = s.app.post(&path, &s.care_manager.token, body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    }
    let refused = s
        .app
        .post(&path, &s.maker.token, json!({"outcome": "continue"}))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    let done = s
        .app
        .post(
            &path,
            &s.care_manager.token,
            json!({"outcome": "change_plan", "notes": "More evening support."}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(done.json["kind"], "annual");
    // At most every twelve months.
    assert_eq!(
        done.json["due_on"],
        (late + chrono::Months::new(12)).to_string()
    );
    let view = s.budget_view(budget).await;
    let reviews = view["reviews"].as_array().unwrap();
    let completed = reviews
        .iter()
        .find(|r| !r["completed_on"].is_null())
        .unwrap_or_else(|| panic!("{view}"));
    assert_eq!(completed["outcome"], "change_plan");
    assert_eq!(completed["notes"], "More evening support.");
    assert!(of_budget(&due(&s).await, budget).is_none());
}

#[tokio::test]
async fn anyone_who_sees_the_budget_may_ask_for_a_review_now() {
    let t = dated_setup().await;
    let s = &t.s;
    let path = format!("/api/v1/budgets/{}/review-requests", t.budget);
    let elsewhere = s.elsewhere().await;
    let before = s.app.snapshot().await;
    for (token, body, status) in [
        (&t.holder.1, json!({"reason": " "}), StatusCode::BAD_REQUEST),
        (&t.holder.1, json!({}), StatusCode::BAD_REQUEST),
        (
            &elsewhere.care_manager,
            json!({"reason": "Please"}),
            StatusCode::NOT_FOUND,
        ),
        // An ISF provider with no account on this budget.
        (
            &s.isf_staff.token,
            json!({"reason": "Please"}),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let reply = s.app.post(&path, token, body).await;
        assert_eq!(reply.status, status, "{}", reply.text);
    }
    let unknown = s
        .app
        .post(
            &format!("/api/v1/budgets/{}/review-requests", Uuid::new_v4()),
            &s.care_manager.token,
            json!({"reason": "Please"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text);
    assert_eq!(s.app.snapshot().await, before, "refusals write nothing");

    let asked = s
        .app
        .post(
            &path,
            &t.holder.1,
            json!({"reason": "My needs have changed since my fall."}),
        )
        .await;
    assert_eq!(asked.status, StatusCode::CREATED, "{}", asked.text);
    assert_eq!(asked.json["due_on"], "2026-03-02");
    assert_eq!(asked.json["triggers"][0]["reason"], "requested");
    assert_eq!(
        asked.json["triggers"][0]["detail"],
        "My needs have changed since my fall."
    );
    // The managed account's provider may ask too.
    let staff = s
        .app
        .post(&path, &s.ma_staff.token, json!({"reason": "Calls missed."}))
        .await;
    assert_eq!(staff.status, StatusCode::CREATED, "{}", staff.text);
    let list = due(s).await;
    let review = of_budget(&list, t.budget).expect("due now");
    assert_eq!(reasons(review), ["requested", "requested"]);
    assert_eq!(review["overdue"], false);

    // Completing it resolves what made it due.
    let done = s
        .app
        .post(
            &format!("/api/v1/budgets/{}/reviews", t.budget),
            &s.care_manager.token,
            json!({"outcome": "continue", "notes": "Needs met."}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(done.json["triggers"], json!([]));
    assert!(of_budget(&due(s).await, t.budget).is_none());
}

#[tokio::test]
async fn capacity_refusals_and_misuse_make_a_review_due_now() {
    let t = dated_setup().await;
    let s = &t.s;
    assert!(of_budget(&due(s).await, t.budget).is_none());

    // A change in capacity.
    let changed = s
        .app
        .patch(
            &format!("/api/v1/people/{}", t.person),
            &s.care_manager.token,
            json!({"has_capacity": false}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    let list = due(s).await;
    let review = of_budget(&list, t.budget).expect("due after capacity change");
    assert_eq!(review["due_on"], "2026-03-02");
    assert_eq!(reasons(review), ["capacity_change"]);
    let done = s
        .app
        .post(
            &format!("/api/v1/budgets/{}/reviews", t.budget),
            &s.care_manager.token,
            json!({"outcome": "continue"}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    // Capacity back, so the person may pay again; that is a change too.
    let back = s
        .app
        .patch(
            &format!("/api/v1/people/{}", t.person),
            &s.care_manager.token,
            json!({"has_capacity": true}),
        )
        .await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.text);
    let done = s
        .app
        .post(
            &format!("/api/v1/budgets/{}/reviews", t.budget),
            &s.care_manager.token,
            json!({"outcome": "continue"}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert!(of_budget(&due(s).await, t.budget).is_none());

    // Two refusals: not yet; the third within 28 days: due now.
    for n in 0..3 {
        if n == 2 {
            assert!(of_budget(&due(s).await, t.budget).is_none());
        }
        let refused = t.pay(&t.holder.1, t.body("equipment", "5.00")).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.text
        );
    }
    let list = due(s).await;
    let review = of_budget(&list, t.budget).expect("due after three refusals");
    assert_eq!(reasons(review), ["repeated_refusals"]);
    let done = s
        .app
        .post(
            &format!("/api/v1/budgets/{}/reviews", t.budget),
            &s.care_manager.token,
            json!({"outcome": "end_direct_payment", "notes": "Repeated refusals."}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);

    // An audit finding of misuse on a payment of the budget.
    let paid = t.pay(&t.holder.1, t.body("personal_care", "20.00")).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text);
    let sample = s
        .app
        .post(
            "/api/v1/audit/samples",
            &s.auditor.token,
            json!({"seed": "s", "size": 1, "from": "2020-01-01", "to": "2099-12-31"}),
        )
        .await;
    assert_eq!(sample.status, StatusCode::CREATED, "{}", sample.text);
    let payment = sample.json["items"][0].clone();
    let ok = s
        .app
        .post(
            &format!(
                "/api/v1/audit/samples/{}/findings",
                sample.json["id"].as_str().unwrap()
            ),
            &s.auditor.token,
            json!({"payment_id": payment, "outcome": "ok", "note": ""}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text);
    assert!(
        of_budget(&due(s).await, t.budget).is_none(),
        "ok is no trigger"
    );
    let misuse = s
        .app
        .post(
            &format!(
                "/api/v1/audit/samples/{}/findings",
                sample.json["id"].as_str().unwrap()
            ),
            &s.auditor.token,
            json!({"payment_id": payment, "outcome": "misuse", "note": "Holiday spending."}),
        )
        .await;
    assert_eq!(misuse.status, StatusCode::CREATED, "{}", misuse.text);
    let list = due(s).await;
    let review = of_budget(&list, t.budget).expect("due after misuse");
    assert_eq!(reasons(review), ["misuse_finding"]);
}

#[tokio::test]
async fn a_care_manager_completes_a_review_in_the_browser() {
    let t = dated_setup().await;
    let s = &t.s;
    let asked = s
        .app
        .post(
            &format!("/api/v1/budgets/{}/review-requests", t.budget),
            &t.holder.1,
            json!({"reason": "New <carer> needed."}),
        )
        .await;
    assert_eq!(asked.status, StatusCode::CREATED, "{}", asked.text);
    let (cookie, csrf) = s.app.session(s.council.id, s.care_manager.id).await;
    let list = s.app.page("/reviews", &cookie).await;
    assert!(list.text.contains("Review asked for"), "{}", list.text);
    assert!(
        list.text.contains("New &lt;carer&gt; needed."),
        "{}",
        list.text
    );
    let path = format!("/budgets/{}/review", t.budget);
    let form = s.app.page(&path, &cookie).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    assert!(form.text.contains("Why it is due now"), "{}", form.text);
    let refused = s
        .app
        .form(
            &path,
            &cookie,
            &[("csrf_token", &csrf), ("notes", "Kept <notes>")],
        )
        .await;
    assert!(
        refused.text.contains("Choose an outcome."),
        "{}",
        refused.text
    );
    assert!(
        refused.text.contains("Kept &lt;notes&gt;"),
        "{}",
        refused.text
    );
    let done = s
        .app
        .form(
            &path,
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("outcome", "change_plan"),
                ("notes", "A new plan with a second carer."),
                ("next_review_on", "2026-09-01"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    let view = s.budget_view(t.budget).await;
    assert_eq!(view["next_review_due"], "2026-09-01", "{view}");
    assert!(of_budget(&due(s).await, t.budget).is_none());
    // Others may not.
    let (holder, _) = s.app.session(s.council.id, t.holder.0).await;
    assert_eq!(
        s.app.page(&path, &holder).await.status,
        StatusCode::FORBIDDEN
    );
}
