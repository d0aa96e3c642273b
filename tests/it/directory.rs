//! The service directory: imports from an in-process Open Referral UK feed (3.0 and 1.0
//! envelopes, a malformed page), re-imports that change nothing, services dropped from the feed,
//! search by words, taxonomy term and postcode distance, the published ORUK 3.0 output validated
//! against the profile's compiled JSON Schema, and other councils' ids.

use std::sync::{Arc, Mutex};

use allot::http::extract::{Path, Query};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{TimeZone, Utc};
use serde_json::{json, Value};

use allot::auth::sessions::{self, TokenKind};
use allot::auth::{Actor, Role};
use allot::directory::{feed, import};

use crate::support::{Council, TestApp};

pub const LEEDS: &str = "5a0e6a3e-55c9-4b6f-9d4e-0c7f2b7a1001";
pub const BRADFORD: &str = "5a0e6a3e-55c9-4b6f-9d4e-0c7f2b7a1002";
pub const YORK: &str = "5a0e6a3e-55c9-4b6f-9d4e-0c7f2b7a1003";

#[derive(Clone, Copy, PartialEq)]
pub enum Version {
    V3,
    V1,
}

/// What the in-process feed serves.
pub struct Feed {
    pub version: Version,
    pub services: Vec<Value>,
    /// Services a page of the list.
    pub per_page: usize,
    /// A page (from 1) answered with a body that is not a page.
    pub broken_page: Option<usize>,
}

type Shared = Arc<Mutex<Feed>>;

#[derive(serde::Deserialize)]
struct PageQuery {
    page: Option<usize>,
}

async fn list(State(feed): State<Shared>, Query(q): Query<PageQuery>) -> Response {
    let feed = feed.lock().unwrap();
    let page = q.page.unwrap_or(1);
    if feed.broken_page == Some(page) {
        return axum::Json(json!({"total_pages": 2, "contents": "not a list"})).into_response();
    }
    let total_pages = feed.services.len().div_ceil(feed.per_page).max(1);
    let items: Vec<Value> = feed
        .services
        .iter()
        .skip((page - 1) * feed.per_page)
        .take(feed.per_page)
        .map(|s| json!({"id": s["id"], "name": s["name"]}))
        .collect();
    let body = match feed.version {
        Version::V3 => json!({"total_items": feed.services.len(), "total_pages": total_pages,
                              "page_number": page, "contents": items}),
        Version::V1 => json!({"totalElements": feed.services.len(), "totalPages": total_pages,
                              "number": page, "content": items}),
    };
    axum::Json(body).into_response()
}

async fn one(State(feed): State<Shared>, Path(id): Path<String>) -> Response {
    let feed = feed.lock().unwrap();
    match feed.services.iter().find(|s| s["id"] == id.as_str()) {
        Some(service) => axum::Json(service.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Serves `feed` on a loopback port; the address its `/services` hangs from.
pub async fn serve(feed: Feed) -> (String, Shared) {
    let shared = Arc::new(Mutex::new(feed));
    let app = Router::new()
        .route("/services", get(list))
        .route("/services/{id}", get(one))
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), shared)
}

/// A full 3.0 service with one location, one cost option (per hour), a contact and a term.
pub fn service(
    id: &str,
    name: &str,
    postcode: &str,
    lat: f64,
    lon: f64,
    amount: &str,
    term: &str,
) -> Value {
    json!({
        "id": id,
        "name": name,
        "description": format!("{name}: support at home"),
        "status": "active",
        "organization": {"id": format!("{}0", &id[..id.len() - 1]), "name": format!("{name} Ltd"),
                          "description": "A provider"},
        "cost_options": [{"id": format!("{}c", &id[..id.len() - 1]), "option": "Weekday",
                          "amount": amount.parse::<f64>().unwrap(), "amount_description": "per hour"}],
        "service_at_locations": [{"id": format!("{}a", &id[..id.len() - 1]), "location": {
            "id": format!("{}b", &id[..id.len() - 1]), "location_type": "physical", "name": name,
            "latitude": lat, "longitude": lon,
            "addresses": [{"id": format!("{}d", &id[..id.len() - 1]), "address_1": "1 High Street",
                           "city": "Town", "state_province": "", "postal_code": postcode,
                           "country": "GB", "address_type": "physical"}]}}],
        "contacts": [{"id": format!("{}e", &id[..id.len() - 1]), "name": "Reception", "title": "Bookings"}],
        "attributes": [{"id": format!("{}f", &id[..id.len() - 1]), "taxonomy_term": {
            "id": format!("7e{}", &id[2..]), "name": term, "description": term, "taxonomy": "allot"}}]
    })
}

pub fn three_services() -> Vec<Value> {
    vec![
        service(
            LEEDS,
            "Leeds Home Care",
            "LS1 1UR",
            53.7997,
            -1.5492,
            "24.50",
            "Home care",
        ),
        service(
            BRADFORD,
            "Bradford Day Centre",
            "BD1 1HY",
            53.7950,
            -1.7594,
            "18.00",
            "Day opportunities",
        ),
        service(
            YORK,
            "York Sitting Service",
            "YO1 7HH",
            53.9590,
            -1.0815,
            "15.75",
            "Home care",
        ),
    ]
}

pub async fn admin_actor(app: &TestApp, council: &Council) -> Actor {
    sessions::find(&app.db.pool, &council.admin_token, TokenKind::Api)
        .await
        .unwrap()
        .expect("the administrator's token")
        .0
}

/// Reads the feed and stores it as the council's administrator at `now`.
pub async fn import_at(
    app: &TestApp,
    council: &Council,
    base: &str,
    now: chrono::DateTime<Utc>,
) -> Result<import::ImportReport, String> {
    let services = feed::fetch(base, &|_, _| {})
        .await
        .map_err(|e| e.to_string())?;
    let actor = admin_actor(app, council).await;
    import::store(
        &app.state.pool,
        &actor,
        Arc::new(services),
        now,
        Arc::new(|_, _| {}),
    )
    .await
    .map_err(|e| e.to_string())
}

/// A broker of a brokerage of the council, with their token.
pub async fn broker_token(app: &TestApp, council: &Council) -> String {
    let org = app
        .post(
            "/api/v1/organisations",
            &council.admin_token,
            json!({"name": "Brokers", "kind": "broker"}),
        )
        .await;
    assert_eq!(org.status, StatusCode::CREATED, "{}", org.text);
    let org_id = org.json["id"].as_str().unwrap().parse().unwrap();
    app.user(council, Role::Broker, Some(org_id), None).await.1
}

fn day(d: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, d, 9, 0, 0).unwrap()
}

/// Every stored directory row's identity and row version, read as the owner.
async fn row_versions(app: &TestApp) -> Vec<String> {
    let client = app.db.pool.get().await.unwrap();
    let mut out = Vec::new();
    for table in [
        "directory_services",
        "directory_cost_options",
        "directory_locations",
        "directory_contacts",
        "directory_service_terms",
    ] {
        let rows = client
            .query(
                &format!("SELECT id || ':' || xmin::text FROM {table} ORDER BY id"),
                &[],
            )
            .await
            .unwrap();
        out.extend(
            rows.iter()
                .map(|r| format!("{table} {}", r.get::<_, String>(0))),
        );
    }
    let services = client
        .query(
            "SELECT id || ' v' || version || ' ' || updated_at::text || ' ' || status FROM directory_services ORDER BY id",
            &[],
        )
        .await
        .unwrap();
    out.extend(services.iter().map(|r| r.get::<_, String>(0)));
    out
}

#[tokio::test]
async fn a_3_0_feed_is_imported_and_importing_it_again_changes_nothing() {
    let app = TestApp::new().await;
    let council = app.council("Directory Council").await;
    let (base, _feed) = serve(Feed {
        version: Version::V3,
        services: three_services(),
        per_page: 2,
        broken_page: None,
    })
    .await;
    let report = import_at(&app, &council, &base, day(1)).await.unwrap();
    assert_eq!(
        (
            report.added,
            report.changed,
            report.unchanged,
            report.withdrawn
        ),
        (3, 0, 0, 0)
    );
    let before = row_versions(&app).await;
    assert_eq!(before.len(), 3 * 5 + 3, "{before:?}");

    let broker = broker_token(&app, &council).await;
    let found = app
        .get(&format!("/api/v1/directory/services/{LEEDS}"), &broker)
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text);
    let leeds = &found.json;
    assert_eq!(leeds["name"], "Leeds Home Care");
    assert_eq!(leeds["organisation"]["name"], "Leeds Home Care Ltd");
    assert_eq!(leeds["cost_options"][0]["amount"], "24.50");
    assert_eq!(leeds["cost_options"][0]["unit"], "hour");
    assert_eq!(leeds["locations"][0]["postcode"], "LS1 1UR");
    assert_eq!(leeds["locations"][0]["latitude"], 53.7997);
    assert_eq!(leeds["contacts"][0]["title"], "Bookings");
    assert_eq!(leeds["taxonomy_terms"][0]["name"], "Home care");
    assert_eq!(leeds["version"], 1);

    // A day later, the same feed: nothing is written, not even a row version.
    let again = import_at(&app, &council, &base, day(2)).await.unwrap();
    assert_eq!(
        (again.added, again.changed, again.unchanged, again.withdrawn),
        (0, 0, 3, 0)
    );
    assert_eq!(row_versions(&app).await, before);
}

#[tokio::test]
async fn a_changed_service_moves_on_and_a_dropped_one_becomes_inactive() {
    let app = TestApp::new().await;
    let council = app.council("Directory Council").await;
    let (base, feed) = serve(Feed {
        version: Version::V3,
        services: three_services(),
        per_page: 10,
        broken_page: None,
    })
    .await;
    import_at(&app, &council, &base, day(1)).await.unwrap();
    {
        let mut feed = feed.lock().unwrap();
        feed.services.retain(|s| s["id"] != YORK);
        feed.services[0]["cost_options"][0]["amount"] = json!(26);
    }
    let report = import_at(&app, &council, &base, day(3)).await.unwrap();
    assert_eq!(
        (
            report.added,
            report.changed,
            report.unchanged,
            report.withdrawn
        ),
        (0, 1, 1, 1)
    );
    let (_, care_manager) = app.user(&council, Role::CareManager, None, None).await;
    let leeds = app
        .get(
            &format!("/api/v1/directory/services/{LEEDS}"),
            &care_manager,
        )
        .await;
    assert_eq!(leeds.json["cost_options"][0]["amount"], "26.00");
    assert_eq!(leeds.json["version"], 2);
    let york = app
        .get(&format!("/api/v1/directory/services/{YORK}"), &care_manager)
        .await;
    assert_eq!(
        (
            york.json["status"].as_str(),
            york.json["withdrawn"].as_bool()
        ),
        (Some("inactive"), Some(true))
    );
    let bradford = app
        .get(
            &format!("/api/v1/directory/services/{BRADFORD}"),
            &care_manager,
        )
        .await;
    assert_eq!(bradford.json["version"], 1);
    // The search leaves inactive services out.
    let all = app.get("/api/v1/directory/services", &care_manager).await;
    let names: Vec<&str> = all.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Bradford Day Centre", "Leeds Home Care"]);
    // Back in the feed, it is active again.
    feed.lock()
        .unwrap()
        .services
        .push(three_services().remove(2));
    let back = import_at(&app, &council, &base, day(4)).await.unwrap();
    assert_eq!((back.changed, back.withdrawn), (1, 0));
    let york = app
        .get(&format!("/api/v1/directory/services/{YORK}"), &care_manager)
        .await;
    assert_eq!(
        (
            york.json["status"].as_str(),
            york.json["withdrawn"].as_bool()
        ),
        (Some("active"), Some(false))
    );
}

#[tokio::test]
async fn a_1_0_feed_is_read_too() {
    let app = TestApp::new().await;
    let council = app.council("Directory Council").await;
    let old = json!({
        "id": "old-1", "name": "Old Style Service", "description": "from a 1.0 feed", "status": "active",
        "organization": {"id": "org-1", "name": "Old Org", "description": "x"},
        "cost_options": [{"id": "cost-1", "amount": "12.5", "amount_description": "per session", "option": "Group"}],
        "service_at_locations": [{"id": "sal-1", "location": {"id": "loc-1", "name": "Hall",
            "latitude": "53.80", "longitude": "-1.55",
            "physical_addresses": [{"id": "pa-1", "address_1": "2 Road", "city": "Leeds", "postal_code": "ls2 7ab"}]}}],
        "service_taxonomys": [{"id": "st-1", "taxonomy": {"id": "tax-1", "name": "Social activities", "vocabulary": "esd"}}]
    });
    let (base, _) = serve(Feed {
        version: Version::V1,
        services: vec![old],
        per_page: 1,
        broken_page: None,
    })
    .await;
    let report = import_at(&app, &council, &base, day(1)).await.unwrap();
    assert_eq!(report.added, 1);
    let broker = broker_token(&app, &council).await;
    let found = app.get("/api/v1/directory/services/old-1", &broker).await;
    assert_eq!(found.json["cost_options"][0]["amount"], "12.50");
    assert_eq!(found.json["cost_options"][0]["unit"], "session");
    assert_eq!(found.json["locations"][0]["postcode"], "ls2 7ab");
    assert_eq!(found.json["taxonomy_terms"][0]["name"], "Social activities");
    assert_eq!(found.json["taxonomy_terms"][0]["taxonomy"], "esd");
}

#[tokio::test]
async fn a_malformed_page_stops_the_import_and_changes_nothing() {
    let app = TestApp::new().await;
    let council = app.council("Directory Council").await;
    let (base, feed) = serve(Feed {
        version: Version::V3,
        services: three_services(),
        per_page: 2,
        broken_page: None,
    })
    .await;
    import_at(&app, &council, &base, day(1)).await.unwrap();
    let before = app.snapshot().await;
    let versions = row_versions(&app).await;
    {
        let mut feed = feed.lock().unwrap();
        feed.broken_page = Some(2);
        // Page 1 alone would change Leeds and drop York.
        feed.services[0]["name"] = json!("Leeds Home Care (renamed)");
    }
    let error = import_at(&app, &council, &base, day(2)).await.unwrap_err();
    assert!(
        error.contains("page=2") && error.contains("`contents` must be a list"),
        "{error}"
    );
    // A record that is not right (an amount that is not a number) stops it too.
    {
        let mut feed = feed.lock().unwrap();
        feed.broken_page = None;
        feed.services[1]["cost_options"][0]["amount"] = json!("about ten pounds");
    }
    let error = import_at(&app, &council, &base, day(2)).await.unwrap_err();
    assert!(
        error.contains(BRADFORD) && error.contains("amount"),
        "{error}"
    );
    // A saved file that is not JSON.
    let error = feed::read_file(b"{\"contents\": [", "saved.json")
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("saved.json: not JSON"), "{error}");
    // An empty feed would make everything inactive: refused.
    let actor = admin_actor(&app, &council).await;
    let empty = import::store(
        &app.state.pool,
        &actor,
        Arc::new(Vec::new()),
        day(2),
        Arc::new(|_, _| {}),
    )
    .await;
    assert!(empty.is_err());
    assert_eq!(app.snapshot().await, before);
    assert_eq!(row_versions(&app).await, versions);
}

#[tokio::test]
async fn only_council_administrators_import() {
    let app = TestApp::new().await;
    let council = app.council("Directory Council").await;
    let (care_manager_id, _) = app.user(&council, Role::CareManager, None, None).await;
    let token = app.token(council.id, care_manager_id).await;
    let actor = sessions::find(&app.db.pool, &token, TokenKind::Api)
        .await
        .unwrap()
        .unwrap()
        .0;
    let services = feed::read_file(
        serde_json::to_string(&three_services()).unwrap().as_bytes(),
        "f",
    )
    .unwrap();
    let refused = import::store(
        &app.state.pool,
        &actor,
        Arc::new(services),
        day(1),
        Arc::new(|_, _| {}),
    )
    .await;
    assert!(matches!(refused, Err(allot::error::AppError::Forbidden)));
}

#[tokio::test]
async fn services_are_found_by_words_term_and_distance_from_a_postcode() {
    let app = TestApp::new().await;
    let council = app.council("Directory Council").await;
    let (base, _) = serve(Feed {
        version: Version::V3,
        services: three_services(),
        per_page: 2,
        broken_page: None,
    })
    .await;
    import_at(&app, &council, &base, day(1)).await.unwrap();
    let broker = broker_token(&app, &council).await;
    let names = |reply: &crate::support::Reply| -> Vec<String> {
        reply.json["items"]
            .as_array()
            .unwrap_or_else(|| panic!("{}", reply.text))
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect()
    };
    // Leeds to Bradford is about 14 km; to York about 34 km.
    let near = app
        .get(
            "/api/v1/directory/services?near_postcode=ls11ur&within_km=20",
            &broker,
        )
        .await;
    assert_eq!(near.status, StatusCode::OK, "{}", near.text);
    assert_eq!(names(&near), vec!["Leeds Home Care", "Bradford Day Centre"]);
    assert_eq!(near.json["items"][0]["distance_km"], 0.0);
    let bradford_km = near.json["items"][1]["distance_km"].as_f64().unwrap();
    assert!((13.5..15.0).contains(&bradford_km), "{bradford_km}");
    let wider = app
        .get(
            "/api/v1/directory/services?near_postcode=LS1%201UR&within_km=50",
            &broker,
        )
        .await;
    assert_eq!(
        names(&wider),
        vec![
            "Leeds Home Care",
            "Bradford Day Centre",
            "York Sitting Service"
        ]
    );
    let york_km = wider.json["items"][2]["distance_km"].as_f64().unwrap();
    assert!((33.0..36.0).contains(&york_km), "{york_km}");
    assert_eq!(wider.json["total_items"], 3);
    // Nearest first from York.
    let from_york = app
        .get(
            "/api/v1/directory/services?near_postcode=YO1+7HH&within_km=50",
            &broker,
        )
        .await;
    assert_eq!(
        names(&from_york),
        vec![
            "York Sitting Service",
            "Leeds Home Care",
            "Bradford Day Centre"
        ]
    );
    // Terms and words.
    let home_care = app
        .get(
            "/api/v1/directory/services?taxonomy_term=home%20care",
            &broker,
        )
        .await;
    assert_eq!(
        names(&home_care),
        vec!["Leeds Home Care", "York Sitting Service"]
    );
    let both = app
        .get(
            "/api/v1/directory/services?taxonomy_term=Home+care&near_postcode=LS1+1UR&within_km=20",
            &broker,
        )
        .await;
    assert_eq!(names(&both), vec!["Leeds Home Care"]);
    let words = app
        .get("/api/v1/directory/services?search=sitting", &broker)
        .await;
    assert_eq!(names(&words), vec!["York Sitting Service"]);
    let wildcard = app
        .get("/api/v1/directory/services?search=%25", &broker)
        .await;
    assert_eq!(names(&wildcard), Vec::<String>::new());
    // Refusals.
    let unknown = app
        .get("/api/v1/directory/services?near_postcode=SW1A+1AA", &broker)
        .await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
    let not_postcode = app
        .get("/api/v1/directory/services?near_postcode=hello", &broker)
        .await;
    assert_eq!(not_postcode.status, StatusCode::BAD_REQUEST);
    let far = app
        .get(
            "/api/v1/directory/services?near_postcode=LS1+1UR&within_km=0",
            &broker,
        )
        .await;
    assert_eq!(far.status, StatusCode::BAD_REQUEST);
    let page = app.get("/api/v1/directory/services?page=0", &broker).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    let unknown_param = app
        .get("/api/v1/directory/services?colour=red", &broker)
        .await;
    assert_eq!(unknown_param.status, StatusCode::BAD_REQUEST);
    // Who may search: not provider staff or finance officers.
    let (_, finance) = app.user(&council, Role::FinanceOfficer, None, None).await;
    let refused = app.get("/api/v1/directory/services", &finance).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let anonymous = app
        .call(
            axum::http::Method::GET,
            "/api/v1/directory/services",
            None,
            None,
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

fn validator() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(include_str!("../../fixtures/openreferral-uk/service.json")).unwrap();
    jsonschema::draft202012::new(&schema).expect("the compiled ORUK schema")
}

fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[tokio::test]
async fn the_published_directory_is_open_referral_uk_3_0() {
    let app = TestApp::new().await;
    let council = app.council("Directory Council").await;
    let mut services = three_services();
    // The profile's own example service, unedited, goes through as well.
    services.push(
        serde_json::from_str(include_str!(
            "../../fixtures/openreferral-uk/service_full.json"
        ))
        .unwrap(),
    );
    let (base, feed) = serve(Feed {
        version: Version::V3,
        services,
        per_page: 3,
        broken_page: None,
    })
    .await;
    import_at(&app, &council, &base, day(1)).await.unwrap();
    // One dropped: published as inactive.
    feed.lock().unwrap().services.retain(|s| s["id"] != YORK);
    import_at(&app, &council, &base, day(2)).await.unwrap();

    let root = app
        .call(
            axum::http::Method::GET,
            &format!("/openreferral/{}/", council.id),
            None,
            None,
        )
        .await;
    assert_eq!(root.status, StatusCode::OK, "{}", root.text);
    assert_eq!(root.json["version"], "3.0");
    assert!(root.json["profile"].as_str().is_some());
    let bare = app
        .call(
            axum::http::Method::GET,
            &format!("/openreferral/{}", council.id),
            None,
            None,
        )
        .await;
    assert_eq!(bare.json, root.json);

    let validator = validator();
    let mut published = Vec::new();
    for page in 1..=2 {
        let reply = app
            .call(
                axum::http::Method::GET,
                &format!(
                    "/openreferral/{}/services?page={page}&per_page=3",
                    council.id
                ),
                None,
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(reply.json["total_items"], 4);
        assert_eq!(reply.json["total_pages"], 2);
        assert_eq!(reply.json["page_number"], page);
        assert_eq!(reply.json["first_page"], page == 1);
        assert_eq!(reply.json["last_page"], page == 2);
        published.extend(reply.json["contents"].as_array().unwrap().iter().cloned());
    }
    assert_eq!(published.len(), 4);
    for service in &published {
        let problems = errors(&validator, service);
        assert!(problems.is_empty(), "{}: {problems:?}", service["id"]);
        let id = service["id"].as_str().unwrap();
        let one = app
            .call(
                axum::http::Method::GET,
                &format!("/openreferral/{}/services/{id}", council.id),
                None,
                None,
            )
            .await;
        assert_eq!(one.status, StatusCode::OK);
        assert_eq!(&one.json, service);
    }
    let york = published.iter().find(|s| s["id"] == YORK).unwrap();
    assert_eq!(york["status"], "inactive");
    let leeds = published.iter().find(|s| s["id"] == LEEDS).unwrap();
    assert_eq!(leeds["cost_options"][0]["amount"], 24.5);
    assert_eq!(
        leeds["service_at_locations"][0]["location"]["addresses"][0]["postal_code"],
        "LS1 1UR"
    );
    assert_eq!(leeds["attributes"][0]["taxonomy_term"]["name"], "Home care");
    // The schema is really checked: a service with a status it does not know fails.
    let mut wrong = leeds.clone();
    wrong["status"] = json!("open");
    assert!(!errors(&validator, &wrong).is_empty());
    let mut no_name = leeds.clone();
    no_name.as_object_mut().unwrap().remove("name");
    assert!(!errors(&validator, &no_name).is_empty());
    // Bad paging.
    let bad = app
        .call(
            axum::http::Method::GET,
            &format!("/openreferral/{}/services?per_page=1000", council.id),
            None,
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn another_councils_services_are_not_found() {
    let app = TestApp::new().await;
    let council = app.council("Directory Council").await;
    let other = app.council("Other Council").await;
    let (base, _) = serve(Feed {
        version: Version::V3,
        services: three_services(),
        per_page: 3,
        broken_page: None,
    })
    .await;
    import_at(&app, &council, &base, day(1)).await.unwrap();
    let other_broker = broker_token(&app, &other).await;
    let hidden = app
        .get(
            &format!("/api/v1/directory/services/{LEEDS}"),
            &other_broker,
        )
        .await;
    assert_eq!(
        (hidden.status, hidden.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let none = app.get("/api/v1/directory/services", &other_broker).await;
    assert_eq!(none.json["total_items"], 0);
    let public = app
        .call(
            axum::http::Method::GET,
            &format!("/openreferral/{}/services/{LEEDS}", other.id),
            None,
            None,
        )
        .await;
    assert_eq!(public.status, StatusCode::NOT_FOUND);
    let listed = app
        .call(
            axum::http::Method::GET,
            &format!("/openreferral/{}/services", other.id),
            None,
            None,
        )
        .await;
    assert_eq!(
        (
            listed.json["total_items"].as_i64(),
            listed.json["empty"].as_bool()
        ),
        (Some(0), Some(true))
    );
    let nobody = app
        .call(
            axum::http::Method::GET,
            &format!("/openreferral/{}/", uuid::Uuid::new_v4()),
            None,
            None,
        )
        .await;
    assert_eq!(
        (nobody.status, nobody.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let not_an_id = app
        .call(
            axum::http::Method::GET,
            "/openreferral/borsetshire/services",
            None,
            None,
        )
        .await;
    assert_eq!(not_an_id.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_directory_page_searches_with_filters_and_keeps_what_was_typed() {
    let app = TestApp::new().await;
    let council = app.council("Directory Council").await;
    let mut services = three_services();
    services[2]["name"] = json!("York <script>alert(1)</script> Sitters");
    let (base, _) = serve(Feed {
        version: Version::V3,
        services,
        per_page: 3,
        broken_page: None,
    })
    .await;
    import_at(&app, &council, &base, day(1)).await.unwrap();
    let (care_manager, _) = app.user(&council, Role::CareManager, None, None).await;
    let (cookie, _) = app.session(council.id, care_manager).await;
    let near = app
        .page(
            "/directory?search=&taxonomy_term=&near_postcode=LS1+1UR&within_km=20",
            &cookie,
        )
        .await;
    assert_eq!(near.status, StatusCode::OK, "{}", near.text);
    assert!(near.text.contains("Leeds Home Care") && near.text.contains("Bradford Day Centre"));
    assert!(near.text.contains("km away") && near.text.contains("£24.50 per hour (Weekday)"));
    assert!(!near.text.contains("Sitters"));
    let all = app.page("/directory", &cookie).await;
    assert!(
        all.text
            .contains("York &lt;script&gt;alert(1)&lt;/script&gt; Sitters"),
        "{}",
        all.text
    );
    assert!(!all.text.contains("<script>alert(1)"));
    let unknown = app
        .page("/directory?near_postcode=SW1A+1AA&within_km=5", &cookie)
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(
        unknown.text.contains("error-summary") && unknown.text.contains("value=\"SW1A 1AA\""),
        "{}",
        unknown.text
    );
    let (finance, _) = app.user(&council, Role::FinanceOfficer, None, None).await;
    let (finance_cookie, _) = app.session(council.id, finance).await;
    let refused = app.page("/directory", &finance_cookie).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}
