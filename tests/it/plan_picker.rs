//! The plan editor's service picker: a line bought from a directory service's cost option with
//! units a week, its weekly amount worked out on save (through the page and through the API) and
//! shown; a refused save keeps what was typed and writes nothing.

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::directory::{admin_actor, three_services, LEEDS, YORK};
use crate::support::scenario::{Scenario, START};

async fn with_directory() -> (Scenario, Uuid) {
    let s = Scenario::new().await;
    let services = allot::directory::feed::read_file(
        serde_json::to_string(&three_services()).unwrap().as_bytes(),
        "services.json",
    )
    .unwrap();
    let actor = admin_actor(&s.app, &s.council).await;
    allot::directory::import::store(
        &s.app.state.pool,
        &actor,
        Arc::new(services),
        s.app.state.clock.now(),
        Arc::new(|_, _| {}),
    )
    .await
    .unwrap();
    let person = s.person("Pat Picker", true, false).await;
    let mut body = Scenario::budget_body(person);
    body["broker_organisation_id"] = json!(s.broker_org);
    body["start_date"] = json!(START);
    let budget = s.budget(body).await;
    (s, budget)
}

fn option_of(service: &str) -> String {
    format!("{}c", &service[..service.len() - 1])
}

fn picked(service: &str) -> String {
    json!([service, option_of(service)]).to_string()
}

#[tokio::test]
async fn a_broker_picks_a_service_and_units_on_the_page_and_sees_the_weekly_amount() {
    let (s, budget) = with_directory().await;
    let (cookie, csrf) = s.app.session(s.council.id, s.broker.id).await;
    let path = format!("/budgets/{budget}/plan");
    let editor = s.app.page(&path, &cookie).await;
    assert_eq!(editor.status, StatusCode::OK, "{}", editor.text);
    assert!(
        editor
            .text
            .contains("Leeds Home Care — Weekday, £24.50 per hour"),
        "{}",
        editor.text
    );
    assert!(editor.text.contains(r#"<label for="service_0">"#));
    assert!(editor.text.contains(r#"<label for="units_0">"#));

    let leeds = picked(LEEDS);
    let fields = |units: &'static str, leeds: &str| {
        vec![
            ("csrf_token".to_owned(), csrf.clone()),
            ("category_0".into(), "personal_care".into()),
            ("need_0".into(), "Help getting up".into()),
            ("service_0".into(), leeds.to_owned()),
            ("units_0".into(), units.into()),
            ("weekly_0".into(), String::new()),
            ("deployment_0".into(), "direct_payment".into()),
            ("holder_0".into(), String::new()),
        ]
    };
    let as_refs = |f: &[(String, String)]| {
        f.iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<Vec<_>>()
    };

    // More than 168 units a week is refused: the form again with what was typed, nothing saved.
    let before = s.app.snapshot().await;
    let too_many = as_refs(&fields("200", &leeds));
    let too_many: Vec<(&str, &str)> = too_many
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let refused = s.app.form(&path, &cookie, &too_many).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(refused.text.contains("units_per_week"), "{}", refused.text);
    assert!(
        refused
            .text
            .contains(r#"id="units_0" name="units_0" value="200""#),
        "{}",
        refused.text
    );
    assert!(refused.text.contains(r#"value="Help getting up""#));
    let selected = format!(
        r#"<option value="{}" selected>"#,
        maud::html! { (leeds) }.into_string()
    );
    assert!(refused.text.contains(&selected), "{}", refused.text);
    assert_eq!(s.app.snapshot().await, before);

    // 10.5 hours at 24.50: 257.25 a week, worked out on save.
    let good = as_refs(&fields("10.5", &leeds));
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let saved = s.app.form(&path, &cookie, &good).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let plan = s
        .app
        .get(&format!("/api/v1/budgets/{budget}"), &s.care_manager.token)
        .await;
    assert!(plan.text.contains("257.25"), "{}", plan.text);
    let again = s.app.page(&path, &cookie).await;
    assert!(
        again
            .text
            .contains("10.5 hours × £24.50 per hour = £257.25 a week"),
        "{}",
        again.text
    );
    assert!(again.text.contains(&selected), "{}", again.text);
    assert!(again.text.contains(r#"value="257.25""#), "{}", again.text);
}

#[tokio::test]
async fn a_line_saved_through_the_api_shows_its_worked_out_amount_in_the_editor() {
    let (s, budget) = with_directory().await;
    let reply = s
        .app
        .put(
            &format!("/api/v1/budgets/{budget}/plan"),
            &s.care_manager.token,
            json!({"lines": [{"category": "personal_care", "need": "Company in the afternoon",
                              "deployment": "direct_payment", "directory_service_id": YORK,
                              "cost_option_id": option_of(YORK), "units_per_week": "4"}]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    // 4 hours at 15.75.
    assert_eq!(reply.json["lines"][0]["weekly_amount"], "63.00");
    let (cookie, _) = s.app.session(s.council.id, s.care_manager.id).await;
    let editor = s
        .app
        .page(&format!("/budgets/{budget}/plan"), &cookie)
        .await;
    assert_eq!(editor.status, StatusCode::OK, "{}", editor.text);
    assert!(
        editor
            .text
            .contains("4 hours × £15.75 per hour = £63.00 a week"),
        "{}",
        editor.text
    );
    let selected = format!(
        r#"<option value="{}" selected>"#,
        maud::html! { (picked(YORK)) }.into_string()
    );
    assert!(editor.text.contains(&selected), "{}", editor.text);
    assert!(editor
        .text
        .contains(r#"id="units_0" name="units_0" value="4""#));
}
