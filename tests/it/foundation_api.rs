//! The foundation through the HTTP API: sign-in, tokens, roles, tenancy, the error envelope.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::json;

use allot::auth::Role;

use crate::support::{TestApp, PASSWORD};

#[tokio::test]
async fn token_sign_in_and_me() {
    let app = TestApp::new().await;
    let council = app.council("Test Council").await;
    let (_, token) = app.user(&council, Role::CareManager, None, None).await;
    let me = app.get("/api/v1/me", &token).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json["role"], "care_manager");
    assert_eq!(me.json["council"]["name"], "Test Council");

    let email = me.json["email"].as_str().unwrap().to_string();
    let signed_in = app
        .call(
            Method::POST,
            "/api/v1/auth/token",
            None,
            Some(json!({"email": email.to_uppercase(), "password": PASSWORD})),
        )
        .await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.text);
    let new_token = signed_in.json["token"].as_str().unwrap();
    assert_eq!(signed_in.json["user"]["role"], "care_manager");
    assert_eq!(
        app.get("/api/v1/me", new_token).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn wrong_credentials_and_bad_tokens_are_401() {
    let app = TestApp::new().await;
    let council = app.council("Test Council").await;
    let (_, token) = app.user(&council, Role::Auditor, None, None).await;
    let email = app.get("/api/v1/me", &token).await.json["email"]
        .as_str()
        .unwrap()
        .to_string();

    let wrong = app
        .call(
            Method::POST,
            "/api/v1/auth/token",
            None,
            Some(json!({"email": email, "password": "not the password"})),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.code(), "invalid_credentials");
    let unknown = app
        .call(
            Method::POST,
            "/api/v1/auth/token",
            None,
            Some(json!({"email": "nobody@x.example", "password": "whatever it is"})),
        )
        .await;
    assert_eq!(unknown.code(), "invalid_credentials");

    for bad in ["garbage", "", &"x".repeat(500)] {
        let reply = app.get("/api/v1/me", bad).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{bad:?}");
        assert_eq!(reply.code(), "unauthenticated");
    }
    let none = app.call(Method::GET, "/api/v1/me", None, None).await;
    assert_eq!(none.code(), "unauthenticated");
    assert!(none.json["error"]["message"].as_str().unwrap().len() > 10);
}

#[tokio::test]
async fn sign_in_is_throttled_after_repeated_failures() {
    let app = TestApp::new().await;
    let council = app.council("Test Council").await;
    let (_, token) = app.user(&council, Role::Auditor, None, None).await;
    let email = app.get("/api/v1/me", &token).await.json["email"]
        .as_str()
        .unwrap()
        .to_string();
    let attempt = |password: &'static str| {
        app.call(
            Method::POST,
            "/api/v1/auth/token",
            None,
            Some(json!({"email": email, "password": password})),
        )
    };
    for _ in 0..app.state.settings.login_max_failures {
        assert_eq!(
            attempt("wrong password!").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    // Even the right password is refused while throttled.
    let throttled = attempt(PASSWORD).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(throttled.code(), "too_many_requests");
}

#[tokio::test]
async fn expired_and_revoked_tokens_are_refused() {
    let app = TestApp::new().await;
    let council = app.council("Test Council").await;
    let (user_id, _) = app.user(&council, Role::Auditor, None, None).await;
    let issued = allot::auth::sessions::issue(
        &app.db.pool,
        council.id,
        user_id,
        allot::auth::sessions::TokenKind::Api,
        std::time::Duration::from_secs(3600),
    )
    .await
    .unwrap();
    assert_eq!(
        app.get("/api/v1/me", &issued.secret).await.status,
        StatusCode::OK
    );
    // Its time runs out (set on the row rather than waited for, and issued with an hour to run
    // so that a busy machine cannot expire it before the first request: no race with the clock).
    app.db
        .pool
        .get()
        .await
        .unwrap()
        .execute(
            "UPDATE auth_tokens SET expires_at = now() - interval '1 second'
             WHERE council_id = $1 AND token_hash = $2",
            &[&council.id, &allot::auth::token::hash(&issued.secret)],
        )
        .await
        .unwrap();
    assert_eq!(
        app.get("/api/v1/me", &issued.secret).await.code(),
        "unauthenticated"
    );

    let live = app.token(council.id, user_id).await;
    allot::auth::sessions::revoke(&app.db.pool, &issued.actor, &live)
        .await
        .unwrap();
    assert_eq!(app.get("/api/v1/me", &live).await.code(), "unauthenticated");
}

#[tokio::test]
async fn roles_are_enforced_with_403() {
    let app = TestApp::new().await;
    let council = app.council("Test Council").await;
    let (_, finance) = app.user(&council, Role::FinanceOfficer, None, None).await;
    let reply = app
        .post(
            "/api/v1/organisations",
            &finance,
            json!({"name": "X", "kind": "broker"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.code(), "forbidden");
    let reply = app
        .post(
            "/api/v1/users",
            &finance,
            json!({"email": "a@b.example", "name": "A", "role": "auditor", "password": PASSWORD}),
        )
        .await;
    assert_eq!(reply.code(), "forbidden");
}

#[tokio::test]
async fn organisations_users_and_people_are_created() {
    let app = TestApp::new().await;
    let council = app.council("Test Council").await;
    let org = app
        .post(
            "/api/v1/organisations",
            &council.admin_token,
            json!({"name": "Managed Accounts Ltd", "kind": "managed_account_provider",
                   "bank": {"sort_code": "12-34-56", "account_number": "12345678", "account_name": "MA Ltd"}}),
        )
        .await;
    assert_eq!(org.status, StatusCode::CREATED, "{}", org.text);
    let org_id = org.json["id"].as_str().unwrap().to_string();

    let user = app
        .post(
            "/api/v1/users",
            &council.admin_token,
            json!({"email": "Staff@MA.example", "name": "Staff", "role": "provider_staff", "password": PASSWORD,
                   "organisation_id": org_id}),
        )
        .await;
    assert_eq!(user.status, StatusCode::CREATED, "{}", user.text);
    assert_eq!(user.json["email"], "staff@ma.example");
    assert!(user.json.get("password_hash").is_none());

    let duplicate = app
        .post(
            "/api/v1/users",
            &council.admin_token,
            json!({"email": "staff@ma.example", "name": "Again", "role": "auditor", "password": PASSWORD}),
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);

    let (_, care_manager) = app.user(&council, Role::CareManager, None, None).await;
    let person = app
        .post(
            "/api/v1/people",
            &care_manager,
            json!({"name": "Jo Bloggs", "date_of_birth": "1950-01-01", "has_capacity": true}),
        )
        .await;
    assert_eq!(person.status, StatusCode::CREATED, "{}", person.text);
    let list = app.get("/api/v1/people", &care_manager).await;
    assert_eq!(list.json["items"].as_array().unwrap().len(), 1);
    assert!(list.json.get("next_cursor").is_some());
}

#[tokio::test]
async fn another_councils_ids_are_404() {
    let app = TestApp::new().await;
    let a = app.council("Council A").await;
    let b = app.council("Council B").await;
    let (_, cm_a) = app.user(&a, Role::CareManager, None, None).await;
    let (_, cm_b) = app.user(&b, Role::CareManager, None, None).await;
    let person = app
        .post(
            "/api/v1/people",
            &cm_a,
            json!({"name": "Only In A", "date_of_birth": "1960-05-05", "has_capacity": false}),
        )
        .await;
    let id = person.json["id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/people/{id}"), &cm_a).await.status,
        StatusCode::OK
    );
    let other = app.get(&format!("/api/v1/people/{id}"), &cm_b).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(other.code(), "not_found");
    assert!(app.get("/api/v1/people", &cm_b).await.json["items"]
        .as_array()
        .unwrap()
        .is_empty());

    // A user of council B cannot be attached to an organisation of council A.
    let org_a = app
        .post(
            "/api/v1/organisations",
            &a.admin_token,
            json!({"name": "Broker A", "kind": "broker"}),
        )
        .await;
    let reply = app
        .post(
            "/api/v1/users",
            &b.admin_token,
            json!({"email": "x@y.example", "name": "X", "role": "broker", "password": PASSWORD,
                   "organisation_id": org_a.json["id"]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/v1/people/not-a-uuid", &cm_a).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bad_input_gets_the_error_envelope_and_changes_nothing() {
    let app = TestApp::new().await;
    let council = app.council("Test Council").await;
    let (_, cm) = app.user(&council, Role::CareManager, None, None).await;
    let cases = [
        ("{not json", "invalid_request"),
        (
            r#"{"name": 5, "date_of_birth": "1950-01-01", "has_capacity": true}"#,
            "invalid_request",
        ),
        (
            r#"{"name": "A", "date_of_birth": "1950-13-01", "has_capacity": true}"#,
            "invalid_request",
        ),
        (
            r#"{"name": "A", "date_of_birth": "1950-01-01", "has_capacity": "yes"}"#,
            "invalid_request",
        ),
        (
            r#"{"name": "A", "date_of_birth": "1950-01-01", "has_capacity": true, "shoe_size": 9}"#,
            "invalid_request",
        ),
        (
            r#"{"name": "", "date_of_birth": "1950-01-01", "has_capacity": true}"#,
            "invalid_request",
        ),
        (
            r#"{"name": "A", "date_of_birth": "2999-01-01", "has_capacity": true}"#,
            "invalid_request",
        ),
        (r#"[]"#, "invalid_request"),
    ];
    for (body, code) in cases {
        let request = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/people")
            .header(header::AUTHORIZATION, format!("Bearer {cm}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap();
        let reply = app.send(request).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.text
        );
        assert_eq!(reply.code(), code, "{body}");
        assert!(reply.json["error"]["message"].is_string());
        assert!(reply.json["error"]["details"].is_array());
    }
    let wrong_type = app
        .post(
            "/api/v1/people",
            &cm,
            json!({"name": 5, "date_of_birth": "1950-01-01", "has_capacity": true}),
        )
        .await;
    assert_eq!(wrong_type.json["error"]["details"][0]["field"], "name");

    let huge = json!({"name": "x".repeat(2 * 1024 * 1024), "date_of_birth": "1950-01-01", "has_capacity": true});
    let reply = app.post("/api/v1/people", &cm, huge).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.code(), "payload_too_large");

    let not_json = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/people")
        .header(header::AUTHORIZATION, format!("Bearer {cm}"))
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("hello"))
        .unwrap();
    assert_eq!(
        app.send(not_json).await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );

    let bad_bank = app
        .post(
            "/api/v1/organisations",
            &council.admin_token,
            json!({"name": "X", "kind": "broker", "bank": {"sort_code": "12-34", "account_number": "12345678", "account_name": "X"}}),
        )
        .await;
    assert_eq!(bad_bank.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad_bank.json["error"]["details"][0]["field"],
        "bank.sort_code"
    );

    assert!(app.get("/api/v1/people", &cm).await.json["items"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(app
        .get("/api/v1/organisations", &council.admin_token)
        .await
        .json["items"]
        .as_array()
        .unwrap()
        .is_empty());
    let unknown_path = app.get("/api/v1/nothing-here", &cm).await;
    assert_eq!(unknown_path.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown_path.code(), "not_found");
}

#[tokio::test]
async fn openapi_describes_the_served_paths() {
    let app = TestApp::new().await;
    let reply = app.call(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let paths = reply.json["paths"].as_object().unwrap();
    for path in [
        "/api/v1/auth/token",
        "/api/v1/me",
        "/api/v1/organisations",
        "/api/v1/users",
        "/api/v1/people",
    ] {
        assert!(paths.contains_key(path), "{path} missing from OpenAPI");
    }
    assert!(reply.json["paths"]["/api/v1/organisations"]["post"]["responses"]["201"].is_object());
    assert_eq!(reply.json["openapi"], "3.1.0");
}

#[tokio::test]
async fn responses_carry_a_request_id() {
    let app = TestApp::new().await;
    let reply = app.call(Method::GET, "/api/openapi.json", None, None).await;
    assert!(reply.headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn an_administrator_adding_a_second_finance_officer_is_in_the_audit_list() {
    let app = TestApp::new().await;
    let council = app.council("Audit Council").await;
    let made = app
        .post(
            "/api/v1/users",
            &council.admin_token,
            json!({"email": "second.officer@council.example", "name": "Second Officer",
                   "role": "finance_officer", "password": PASSWORD}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let (_, auditor) = app.user(&council, Role::Auditor, None, None).await;
    let list = app.get("/api/v1/users", &auditor).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let officer = list.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "second.officer@council.example")
        .cloned()
        .expect("the new officer is listed");
    assert_eq!(officer["role"], "finance_officer");
    assert_eq!(officer["created_by"], json!(council.admin_id));
    assert!(officer["created_by_name"].is_string());
    assert!(officer.get("password_hash").is_none());
    // Other staff do not read the list; nobody else adds users.
    let (_, care_manager) = app.user(&council, Role::CareManager, None, None).await;
    let refused = app.get("/api/v1/users", &care_manager).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let not_yours = app
        .post(
            "/api/v1/users",
            &auditor,
            json!({"email": "x@council.example", "name": "X", "role": "auditor", "password": PASSWORD}),
        )
        .await;
    assert_eq!(not_yours.status, StatusCode::FORBIDDEN);
}
