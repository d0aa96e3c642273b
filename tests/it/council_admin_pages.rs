//! The council administrator's pages: organisations, users, policy (versions and what changed),
//! banking and charging parameters, through the same services as the API; refusals beside their
//! fields with what was typed kept; other roles refused.

use axum::http::StatusCode;
use scraper::{Html, Selector};

use crate::support::{TestApp, PASSWORD};
use allot::auth::Role;

fn select(html: &str, css: &str) -> Vec<String> {
    let doc = Html::parse_document(html);
    let selector = Selector::parse(css).unwrap();
    doc.select(&selector)
        .map(|e| e.text().collect::<String>().trim().to_string())
        .collect()
}

fn attr(html: &str, css: &str, name: &str) -> Option<String> {
    let doc = Html::parse_document(html);
    let selector = Selector::parse(css).unwrap();
    doc.select(&selector)
        .next()
        .and_then(|e| e.value().attr(name).map(str::to_string))
}

#[tokio::test]
async fn the_administrator_adds_an_organisation_and_a_user_of_it() {
    let app = TestApp::new().await;
    let council = app.council("Borsetshire").await;
    let (cookie, csrf) = app.session(council.id, council.admin_id).await;

    let empty = app.page("/council/organisations", &cookie).await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.text);
    assert!(
        empty.text.contains("No organisations yet"),
        "{}",
        empty.text
    );

    // Refused: no name, no kind, a bad sort code — each beside its field, what was typed kept.
    let before = app.snapshot().await;
    let refused = app
        .form(
            "/council/organisations",
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("name", ""),
                ("kind", ""),
                ("bank_sort_code", "12-34"),
                ("bank_account_number", "12345678"),
                ("bank_account_name", "Felpersham <Care>"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(
        attr(&refused.text, ".error-summary a[href='#name']", "href").as_deref(),
        Some("#name")
    );
    assert!(select(&refused.text, "#kind-error")[0].contains("Choose the kind"));
    assert_eq!(
        attr(&refused.text, "#bank_account_name", "value").as_deref(),
        Some("Felpersham <Care>")
    );
    // Named and of a kind, the sort code is the service's refusal, shown beside its field.
    let refused = app
        .form(
            "/council/organisations",
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("name", "Felpersham Care"),
                ("kind", "managed_account_provider"),
                ("bank_sort_code", "12-34"),
                ("bank_account_number", "12345678"),
                ("bank_account_name", "Felpersham Care"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(
        select(&refused.text, "#bank_sort_code-error")[0].contains("six digits"),
        "{}",
        refused.text
    );
    assert_eq!(
        attr(&refused.text, "#name", "value").as_deref(),
        Some("Felpersham Care")
    );
    assert_eq!(app.snapshot().await, before, "a refusal writes nothing");

    let added = app
        .form(
            "/council/organisations",
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("name", "Felpersham Care"),
                ("kind", "managed_account_provider"),
                ("bank_sort_code", "12-34-56"),
                ("bank_account_number", "12345678"),
                ("bank_account_name", "Felpersham Care"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    assert!(added.text.contains("Waiting for a finance officer"));
    let listed = app.get("/api/v1/organisations", &council.admin_token).await;
    let org = listed.json["items"][0].clone();
    assert_eq!(org["name"], "Felpersham Care");
    assert_eq!(org["bank_verified"], false);
    let org_id = org["id"].as_str().unwrap().to_string();

    // A provider staff user of it: refused without the organisation, then added.
    let refused = app
        .form(
            "/council/users",
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("name", "Pat Provider"),
                ("email", "pat@felpersham.example"),
                ("role", "provider_staff"),
                ("organisation_id", ""),
                ("person_id", ""),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(
        select(&refused.text, "#organisation_id-error")[0].contains("organisation"),
        "{}",
        refused.text
    );
    assert_eq!(
        attr(&refused.text, "#email", "value").as_deref(),
        Some("pat@felpersham.example")
    );
    let short = app
        .form(
            "/council/users",
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("name", ""),
                ("email", "not an email"),
                ("role", "provider_staff"),
                ("organisation_id", &org_id),
                ("person_id", ""),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    let summary = select(&short.text, ".error-summary a");
    assert_eq!(summary.len(), 3, "{summary:?}");
    assert_eq!(
        attr(&short.text, "#organisation_id option[selected]", "value").as_deref(),
        Some(org_id.as_str())
    );

    let added = app
        .form(
            "/council/users",
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("name", "Pat Provider"),
                ("email", "pat@felpersham.example"),
                ("role", "provider_staff"),
                ("organisation_id", &org_id),
                ("person_id", ""),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    assert!(added.text.contains("Pat Provider can now sign in"));
    // The same address again: beside the email field.
    let again = app
        .form(
            "/council/users",
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("name", "Pat Again"),
                ("email", "pat@felpersham.example"),
                ("role", "auditor"),
                ("organisation_id", ""),
                ("person_id", ""),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(select(&again.text, "#email-error")[0].contains("already exists"));

    let users = app.get("/api/v1/users", &council.admin_token).await;
    let pat = users.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "pat@felpersham.example")
        .unwrap()
        .clone();
    assert_eq!(pat["organisation_id"], org_id.as_str());
    assert_eq!(pat["created_by"], council.admin_id.to_string());

    let org_page = app
        .page(&format!("/council/organisations/{org_id}"), &cookie)
        .await;
    assert_eq!(org_page.status, StatusCode::OK);
    assert!(org_page.text.contains("Pat Provider"));
    assert!(org_page.text.contains("****5678"), "masked");
    let user_page = app
        .page(
            &format!("/council/users/{}", pat["id"].as_str().unwrap()),
            &cookie,
        )
        .await;
    assert_eq!(user_page.status, StatusCode::OK);
    assert!(user_page.text.contains("Felpersham Care"));
    assert_eq!(
        app.page(&format!("/council/users/{}", uuid::Uuid::new_v4()), &cookie)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_policy_change_is_a_new_version_with_what_changed() {
    let app = TestApp::new().await;
    let council = app.council("Borsetshire").await;
    let (cookie, csrf) = app.session(council.id, council.admin_id).await;

    let page = app.page("/council/policy", &cookie).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(
        attr(&page.text, "#receipt_threshold", "value").as_deref(),
        Some("250.00")
    );
    // Every field as the page shows it, then one changed.
    let doc = Html::parse_document(&page.text);
    let inputs = Selector::parse(
        "form[action='/council/policy'] input, form[action='/council/policy'] select",
    )
    .unwrap();
    let mut fields: Vec<(String, String)> = doc
        .select(&inputs)
        .filter_map(|e| {
            let name = e.value().attr("name")?.to_string();
            let value = if e.value().name() == "select" {
                let selected = Selector::parse("option[selected]").unwrap();
                e.select(&selected)
                    .next()
                    .and_then(|o| o.value().attr("value"))
                    .unwrap_or("")
                    .to_string()
            } else {
                e.value().attr("value").unwrap_or("").to_string()
            };
            Some((name, value))
        })
        .collect();
    assert!(fields.iter().any(|(n, v)| n == "csrf_token" && *v == csrf));
    let set = |fields: &mut Vec<(String, String)>, name: &str, value: &str| {
        fields.iter_mut().find(|(n, _)| n == name).unwrap().1 = value.to_string();
    };

    // Refused: a number that is not one, and one the service refuses; nothing stored.
    let mut bad = fields.clone();
    set(&mut bad, "hold_expiry_days", "soon");
    bad.push(("reason".into(), "Longer holds".into()));
    let borrowed: Vec<(&str, &str)> = bad.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let refused = app.form("/council/policy", &cookie, &borrowed).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(select(&refused.text, "#hold_expiry_days-error")[0].contains("whole number"));
    assert_eq!(
        attr(&refused.text, "#hold_expiry_days", "value").as_deref(),
        Some("soon")
    );
    assert_eq!(select(&refused.text, "#reason"), vec!["Longer holds"]);
    let mut bad = fields.clone();
    set(&mut bad, "evidence_retention_years", "2");
    let borrowed: Vec<(&str, &str)> = bad.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let refused = app.form("/council/policy", &cookie, &borrowed).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(
        attr(&refused.text, ".error-summary a", "href").as_deref(),
        Some("#evidence_retention_years"),
        "{}",
        refused.text
    );
    assert!(
        select(&refused.text, "#evidence_retention_years-error")[0]
            .contains("Years evidence is kept after its payment: "),
        "{}",
        refused.text
    );
    let versions = app
        .get("/api/v1/policy/versions", &council.admin_token)
        .await;
    assert_eq!(versions.json["items"].as_array().unwrap().len(), 1);

    set(&mut fields, "hold_expiry_days", "21");
    set(&mut fields, "receipt_threshold", "300");
    fields.push(("reason".into(), "Approvers asked for longer".into()));
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let saved = app.form("/council/policy", &cookie, &borrowed).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    assert!(saved
        .text
        .contains("Version 2 of the policy is now in force"));
    let policy = app.get("/api/v1/policy", &council.admin_token).await;
    assert_eq!(policy.json["version"], 2);
    assert_eq!(policy.json["hold_expiry_days"], 21);
    assert_eq!(policy.json["receipt_threshold"], "300.00");

    let history = app.page("/council/policy/versions", &cookie).await;
    assert_eq!(history.status, StatusCode::OK);
    let changed = select(&history.text, "#version-2 ~ table tbody th");
    assert_eq!(
        changed,
        vec![
            "Days a held payment waits for approval".to_string(),
            "Evidence needed above".to_string()
        ],
        "{}",
        history.text
    );
    let cells = select(&history.text, "table tbody td");
    assert_eq!(cells[..4], ["14", "21", "250.00", "300.00"], "{cells:?}");
    assert!(history.text.contains("Approvers asked for longer"));
}

#[tokio::test]
async fn banking_and_charging_parameters() {
    let app = TestApp::new().await;
    let council = app.council("Borsetshire").await;
    let (cookie, csrf) = app.session(council.id, council.admin_id).await;

    let page = app.page("/council/banking", &cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("have not been set"));
    let refused = app
        .form(
            "/council/banking",
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("service_user_number", "12"),
                ("account_sort_code", "11-22-33"),
                ("account_account_number", "123"),
                ("account_account_name", "Borsetshire CC"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let links: Vec<String> = {
        let doc = Html::parse_document(&refused.text);
        let s = Selector::parse(".error-summary a").unwrap();
        doc.select(&s)
            .filter_map(|a| a.value().attr("href").map(str::to_string))
            .collect()
    };
    assert_eq!(links, ["#service_user_number", "#account_account_number"]);
    assert_eq!(
        attr(&refused.text, "#account_account_name", "value").as_deref(),
        Some("Borsetshire CC")
    );
    let saved = app
        .form(
            "/council/banking",
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("service_user_number", "123456"),
                ("account_sort_code", "11-22-33"),
                ("account_account_number", "12345678"),
                ("account_account_name", "Borsetshire CC"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    let banking = app
        .get("/api/v1/council/banking", &council.admin_token)
        .await;
    assert_eq!(banking.json["service_user_number"], "123456");
    assert_eq!(banking.json["account"]["sort_code"], "112233");

    let charging = app.page("/council/charging?on=2025-06-01", &cookie).await;
    assert_eq!(charging.status, StatusCode::OK, "{}", charging.text);
    assert!(charging.text.contains("Upper capital limit"));
    assert!(charging.text.contains("£23250.00"), "{}", charging.text);
    let bad = app.page("/council/charging?on=June", &cookie).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(attr(&bad.text, "#on", "value").as_deref(), Some("June"));
    let early = app.page("/council/charging?on=1990-01-01", &cookie).await;
    assert_eq!(early.status, StatusCode::NOT_FOUND);
    assert!(select(&early.text, "#on-error")[0].contains("that early"));
}

#[tokio::test]
async fn only_the_administrator_reaches_the_council_pages() {
    let app = TestApp::new().await;
    let council = app.council("Borsetshire").await;
    for role in [Role::CareManager, Role::FinanceOfficer, Role::Auditor] {
        let (user, _) = app.user(&council, role, None, None).await;
        let (cookie, csrf) = app.session(council.id, user).await;
        for path in [
            "/council/organisations",
            "/council/users",
            "/council/policy",
            "/council/policy/versions",
            "/council/banking",
            "/council/charging",
        ] {
            let page = app.page(path, &cookie).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{role:?} {path}");
        }
        let before = app.snapshot().await;
        let posted = app
            .form(
                "/council/organisations",
                &cookie,
                &[("csrf_token", &csrf), ("name", "X"), ("kind", "broker")],
            )
            .await;
        assert_eq!(posted.status, StatusCode::FORBIDDEN);
        assert_eq!(app.snapshot().await, before);
        let nav = select(&app.page("/", &cookie).await.text, "nav a");
        assert!(!nav.contains(&"Organisations".to_string()), "{nav:?}");
    }
    // A form without its CSRF token is refused.
    let (cookie, _) = app.session(council.id, council.admin_id).await;
    let forged = app
        .form(
            "/council/organisations",
            &cookie,
            &[("csrf_token", "forged"), ("name", "X"), ("kind", "broker")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let nav = select(&app.page("/", &cookie).await.text, "nav a");
    for link in ["Organisations", "Users", "Policy", "Banking", "Charging"] {
        assert!(nav.contains(&link.to_string()), "{nav:?}");
    }
}

#[tokio::test]
async fn an_organisations_name_and_bank_details_change_on_its_page() {
    let app = TestApp::new().await;
    let council = app.council("Borsetshire").await;
    let (cookie, csrf) = app.session(council.id, council.admin_id).await;
    let created = app
        .post(
            "/api/v1/organisations",
            &council.admin_token,
            serde_json::json!({"name": "Old Name", "kind": "care_provider"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let org = created.json["id"].as_str().unwrap().to_string();
    let path = format!("/council/organisations/{org}");
    let page = app.page(&path, &cookie).await;
    assert_eq!(
        attr(&page.text, "#name", "value").as_deref(),
        Some("Old Name")
    );

    let before = app.snapshot().await;
    let refused = app
        .form(
            &path,
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("name", "New Name"),
                ("bank_sort_code", "12-34-56"),
                ("bank_account_number", "1234"),
                ("bank_account_name", "New Name"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(select(&refused.text, "#bank_account_number-error")[0].contains("eight digits"));
    assert_eq!(
        attr(&refused.text, "#name", "value").as_deref(),
        Some("New Name")
    );
    assert_eq!(app.snapshot().await, before);

    let saved = app
        .form(
            &path,
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("name", "New Name"),
                ("bank_sort_code", "12-34-56"),
                ("bank_account_number", "12345678"),
                ("bank_account_name", "New Name"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    assert!(saved.text.contains("has been changed"));
    let listed = app.get("/api/v1/organisations", &council.admin_token).await;
    assert_eq!(listed.json["items"][0]["name"], "New Name");
    assert_eq!(listed.json["items"][0]["bank_verified"], false);
    let missing = app
        .form(
            &format!("/council/organisations/{}", uuid::Uuid::new_v4()),
            &cookie,
            &[("csrf_token", &csrf), ("name", "X")],
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}
