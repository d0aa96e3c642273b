//! The care manager's journey in Chromium: adds a person (a refusal first, shown beside the
//! field), adds a budget for them, drafts the plan and approves it.

use allot::auth::Role;
use serde_json::json;
use thirtyfour::prelude::*;

use crate::support::browser::{
    assert_accessible, browser, journey, serve, sign_in, wait_heading, Driver,
};
use crate::support::{TestApp, PASSWORD};

/// Sets a field's value as a person choosing it would (dates and drop-downs).
pub async fn set(browser: &WebDriver, id: &str, value: &str) -> WebDriverResult<()> {
    browser
        .execute(
            "const e = document.getElementById(arguments[0]); e.value = arguments[1]; \
             e.dispatchEvent(new Event('change', {bubbles: true}));",
            vec![json!(id), json!(value)],
        )
        .await?;
    Ok(())
}

/// Types into a text field, replacing what it held.
pub async fn type_into(browser: &WebDriver, id: &str, text: &str) -> WebDriverResult<()> {
    let field = browser.find(By::Id(id)).await?;
    field.clear().await?;
    field.send_keys(text).await?;
    Ok(())
}

/// Clicks the button with this text.
pub async fn press(browser: &WebDriver, text: &str) -> WebDriverResult<()> {
    browser
        .find(By::XPath(format!(
            "//main//button[normalize-space()='{text}']"
        )))
        .await?
        .click()
        .await
}

/// Waits (up to 10 s) for the main heading to start with `prefix`; returns it.
pub async fn wait_heading_starting(browser: &WebDriver, prefix: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut seen = String::new();
    while std::time::Instant::now() < deadline {
        if let Ok(element) = browser.find(By::Css("main h1")).await {
            if let Ok(text) = element.text().await {
                if text.starts_with(prefix) {
                    return text;
                }
                seen = text;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("expected a heading starting {prefix:?}, saw {seen:?}");
}

pub async fn email_of(app: &TestApp, token: &str) -> String {
    app.get("/api/v1/me", token).await.json["email"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_care_manager_adds_a_person_and_a_budget_and_approves_the_plan() {
    let app = TestApp::new().await;
    let council = app.council("Borsetshire County Council").await;
    let (_, token) = app.user(&council, Role::CareManager, None, None).await;
    let email = email_of(&app, &token).await;
    let base = serve(&app).await;

    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let browser = browser(&driver, profile.path()).await;
    let driven = browser.clone();
    let steps = async move {
        sign_in(&browser, &base, &email, PASSWORD).await?;
        assert_accessible(&browser).await;
        browser.find(By::LinkText("People")).await?.click().await?;
        wait_heading(&browser, "People").await;
        assert_accessible(&browser).await;
        browser
            .find(By::LinkText("Add a person"))
            .await?
            .click()
            .await?;
        wait_heading(&browser, "Add a person").await;
        assert_accessible(&browser).await;

        // Without a name: the summary links to the field, the error is beside it, the date kept.
        set(&browser, "date_of_birth", "1944-03-12").await?;
        press(&browser, "Add the person").await?;
        wait_heading(&browser, "Add a person").await;
        let summary = browser
            .find(By::Css(".error-summary"))
            .await?
            .text()
            .await?;
        assert!(summary.contains("Full name"), "{summary}");
        browser.find(By::Id("name-error")).await?;
        let kept = browser.find(By::Id("date_of_birth")).await?.value().await?;
        assert_eq!(kept.as_deref(), Some("1944-03-12"));
        assert_accessible(&browser).await;

        type_into(&browser, "name", "Margaret Okafor").await?;
        type_into(&browser, "contact_phone", "0113 496 0000").await?;
        press(&browser, "Add the person").await?;
        wait_heading(&browser, "Margaret Okafor").await;
        assert_accessible(&browser).await;

        browser
            .find(By::LinkText("Add a budget"))
            .await?
            .click()
            .await?;
        wait_heading(&browser, "Add a budget").await;
        assert_accessible(&browser).await;
        type_into(&browser, "annual_cost", "5200.00").await?;
        set(&browser, "start_date", "2025-01-06").await?;
        set(&browser, "direct_payment_consent_recorded", "yes").await?;
        press(&browser, "Add the budget").await?;
        let heading = wait_heading_starting(&browser, "Budget PB").await;
        assert!(heading.ends_with("Margaret Okafor"), "{heading}");
        assert_accessible(&browser).await;

        browser
            .find(By::LinkText("Edit the plan"))
            .await?
            .click()
            .await?;
        wait_heading(&browser, "Support plan — Margaret Okafor").await;
        assert_accessible(&browser).await;
        set(&browser, "category_0", "personal_care").await?;
        type_into(&browser, "need_0", "Help getting up and washed").await?;
        type_into(&browser, "weekly_0", "80.00").await?;
        set(&browser, "deployment_0", "direct_payment").await?;
        press(&browser, "Save draft").await?;
        wait_heading(&browser, &heading).await;
        assert_accessible(&browser).await;
        press(&browser, "Approve version 1").await?;
        wait_heading(&browser, &heading).await;
        let main = browser.find(By::Css("main")).await?.text().await?;
        assert!(main.contains("Version 1 · "), "{main}");
        assert!(!main.contains("No plan has been approved yet"), "{main}");
        assert!(main.contains("Help getting up and washed"), "{main}");
        assert_accessible(&browser).await;
        WebDriverResult::Ok(())
    };
    journey(driven, "browser_care_manager", |_| steps).await;
}
