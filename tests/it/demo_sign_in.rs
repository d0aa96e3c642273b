//! The demo's sign-in page lists each demo user and what they can try; every demo user's
//! dashboard is a worklist of their own.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::support::{test_settings, TestApp};

#[tokio::test]
async fn the_demo_sign_in_page_lists_each_user_and_what_to_try() {
    let app = TestApp::new().await;
    let loaded = allot::demo::load(
        &app.db.pool,
        allot::auth::password::MIN_ITERATIONS,
        app.state.clock.now(),
    )
    .await
    .expect("the demo loads");

    // Without the demo, the sign-in page lists nobody.
    let plain = app.call(Method::GET, "/login", None, None).await;
    assert!(!plain.text.contains("Try the demo"));

    let settings = allot::config::Settings {
        demo_sign_ins: Some(std::sync::Arc::new(allot::demo::sign_ins(&loaded))),
        ..test_settings()
    };
    let demo = allot::app(allot::AppState::new(app.db.pool.clone(), settings));
    let reply = demo
        .oneshot(
            Request::builder()
                .method(Method::GET)
                .uri("/login")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    let html = String::from_utf8(
        reply
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    assert!(html.contains("Try the demo"), "{html}");
    assert!(html.contains(&loaded.password));
    assert_eq!(loaded.signins.len(), 16);
    for signin in &loaded.signins {
        assert!(html.contains(&signin.email), "{}", signin.email);
        assert!(!signin.try_this.is_empty());
    }
    assert!(html.contains("change a policy value and see the new version"));

    // Every demo user's dashboard answers, and only council staff see council-wide figures.
    for signin in &loaded.signins {
        let user = *loaded
            .users
            .get(&signin.email)
            .unwrap_or(&uuid::Uuid::nil());
        let user = if user.is_nil() {
            // The administrator is made with the council.
            let council = loaded.council_id;
            let email = signin.email.clone();
            allot::db::in_tenant_tx(&app.db.pool, council, |tx| {
                Box::pin(async move {
                    Ok(tx
                        .query_one("SELECT id FROM users WHERE email = $1", &[&email])
                        .await?
                        .get::<_, uuid::Uuid>(0))
                })
            })
            .await
            .unwrap()
        } else {
            user
        };
        let (cookie, _) = app.session(loaded.council_id, user).await;
        let page = app.page("/", &cookie).await;
        assert_eq!(
            page.status,
            StatusCode::OK,
            "{}: {}",
            signin.email,
            page.text
        );
        let staff = signin.role.is_council_staff();
        assert_eq!(
            page.text.contains("class=\"stats\""),
            staff,
            "{}: {}",
            signin.email,
            page.text
        );
    }
}
