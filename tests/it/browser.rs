//! Browser tests: real Chromium (Debian's /usr/bin/chromium) driven through chromedriver, against
//! allot served on a loopback port, clicking through as a person would.

use allot::auth::Role;
use serde_json::json;
use thirtyfour::prelude::*;

use crate::support::browser::{
    assert_accessible, browser, serious_violations, serve, wait_heading, Driver,
};
use crate::support::{TestApp, PASSWORD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_care_manager_signs_in_browses_people_and_signs_out() {
    let app = TestApp::new().await;
    let council = app.council("Borsetshire County Council").await;
    let (_, token) = app.user(&council, Role::CareManager, None, None).await;
    let email = app.get("/api/v1/me", &token).await.json["email"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        "/api/v1/people",
        &token,
        json!({"name": "Margaret Okafor", "date_of_birth": "1944-03-12", "has_capacity": true}),
    )
    .await;
    let base = serve(&app).await;

    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let browser = browser(&driver, profile.path()).await;
    let result = async {
        browser.goto(&format!("{base}/")).await?;
        wait_heading(&browser, "Sign in").await;
        assert_accessible(&browser).await;

        // A wrong password keeps us on the form with an error summary.
        browser
            .find(By::Id("email"))
            .await?
            .send_keys(&email)
            .await?;
        browser
            .find(By::Id("password"))
            .await?
            .send_keys("not my password")
            .await?;
        browser
            .find(By::Css("button[type=submit]"))
            .await?
            .click()
            .await?;
        wait_heading(&browser, "Sign in").await;
        let summary = browser
            .find(By::Css(".error-summary"))
            .await?
            .text()
            .await?;
        assert!(summary.contains("not right"), "{summary}");

        browser
            .find(By::Id("password"))
            .await?
            .send_keys(PASSWORD)
            .await?;
        browser
            .find(By::Css("button[type=submit]"))
            .await?
            .click()
            .await?;
        wait_heading(&browser, "Dashboard").await;
        assert_accessible(&browser).await;
        let header = browser.find(By::Css(".site-header")).await?.text().await?;
        assert!(header.contains("Borsetshire County Council"), "{header}");

        browser.find(By::LinkText("People")).await?.click().await?;
        wait_heading(&browser, "People").await;
        assert_accessible(&browser).await;
        let row = browser.find(By::Css("tbody tr")).await?.text().await?;
        assert!(
            row.contains("Margaret Okafor") && row.contains("12 March 1944"),
            "{row}"
        );

        // Keyboard users get a skip link as the first focusable element.
        browser
            .find(By::Css("body"))
            .await?
            .send_keys(Key::Tab)
            .await?;
        let focused = browser.active_element().await?.text().await?;
        assert_eq!(focused, "Skip to main content");

        browser
            .find(By::Css("form[action='/logout'] button"))
            .await?
            .click()
            .await?;
        wait_heading(&browser, "Sign in").await;
        browser.goto(&format!("{base}/people")).await?;
        wait_heading(&browser, "Sign in").await;

        // The accessibility check bites: an image without a text alternative and an unlabelled
        // field are found.
        browser
            .execute(
                "document.querySelector('main').insertAdjacentHTML('beforeend', \
                 '<img src=\"/static/none.png\"><input type=\"text\" name=\"unlabelled\">');",
                Vec::new(),
            )
            .await?;
        let found: Vec<String> = serious_violations(&browser)
            .await
            .iter()
            .map(|v| v["id"].as_str().unwrap_or_default().to_string())
            .collect();
        assert!(
            found.contains(&"image-alt".to_string()) && found.contains(&"label".to_string()),
            "{found:?}"
        );
        WebDriverResult::Ok(())
    }
    .await;
    browser.quit().await.ok();
    result.expect("browser steps");
}
