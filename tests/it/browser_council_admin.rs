//! The council administrator in Chromium: signs in, adds an organisation (after a refusal shown
//! beside its field) and a user of it, changes a policy value and sees the new version and what
//! changed; looks at the banking and charging pages. axe-core on every page visited; a screenshot
//! is saved under target/screenshots when a step fails.

use thirtyfour::prelude::*;

use crate::support::browser::{
    assert_accessible, browser, journey, serve, sign_in, wait_heading, wait_text, Driver,
};
use crate::support::{TestApp, PASSWORD};

async fn follow(browser: &WebDriver, link: &str, heading: &str) -> WebDriverResult<()> {
    browser.find(By::LinkText(link)).await?.click().await?;
    wait_heading(browser, heading).await;
    assert_accessible(browser).await;
    Ok(())
}

async fn type_into(browser: &WebDriver, id: &str, text: &str) -> WebDriverResult<()> {
    let field = browser.find(By::Id(id)).await?;
    field.clear().await?;
    field.send_keys(text).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_administrator_sets_up_an_organisation_a_user_and_the_policy() {
    let app = TestApp::new().await;
    let council = app.council("Borsetshire County Council").await;
    let email = app.get("/api/v1/me", &council.admin_token).await.json["email"]
        .as_str()
        .unwrap()
        .to_owned();
    let base = serve(&app).await;
    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let browser = browser(&driver, profile.path()).await;

    journey(
        browser,
        "browser_council_admin",
        move |browser| async move {
            sign_in(&browser, &base, &email, PASSWORD).await?;
            assert_accessible(&browser).await;
            let setup = browser.find(By::Css("section#setup")).await?.text().await?;
            assert!(setup.contains("Set the council's bank account"), "{setup}");

            // An organisation: refused without its kind, then added.
            follow(&browser, "Organisations", "Organisations").await?;
            type_into(&browser, "name", "Felpersham Managed Accounts").await?;
            browser
                .find(By::Css(
                    "form[action='/council/organisations'] button[type=submit]",
                ))
                .await?
                .click()
                .await?;
            let summary = wait_text(&browser, ".error-summary", "Choose the kind").await;
            assert!(summary.contains("There is a problem"), "{summary}");
            assert_accessible(&browser).await;
            assert_eq!(
                browser
                    .find(By::Id("name"))
                    .await?
                    .value()
                    .await?
                    .as_deref(),
                Some("Felpersham Managed Accounts")
            );
            browser
                .find(By::Css("#kind option[value='managed_account_provider']"))
                .await?
                .click()
                .await?;
            type_into(&browser, "bank_sort_code", "11-22-33").await?;
            type_into(&browser, "bank_account_number", "12345678").await?;
            type_into(&browser, "bank_account_name", "Felpersham MA").await?;
            browser
                .find(By::Css(
                    "form[action='/council/organisations'] button[type=submit]",
                ))
                .await?
                .click()
                .await?;
            wait_text(&browser, "main", "has been added").await;
            assert_accessible(&browser).await;
            let row = browser.find(By::Css("tbody tr")).await?.text().await?;
            assert!(row.contains("Felpersham Managed Accounts"), "{row}");
            assert!(row.contains("Waiting for a finance officer"), "{row}");

            // A user of it.
            follow(&browser, "Users", "Users").await?;
            type_into(&browser, "name", "Adam Macy").await?;
            type_into(&browser, "email", "adam.macy@felpersham.example").await?;
            browser
                .find(By::Css("#role option[value='provider_staff']"))
                .await?
                .click()
                .await?;
            browser
                .find(By::XPath(
                    "//select[@id='organisation_id']/option[text()='Felpersham Managed Accounts']",
                ))
                .await?
                .click()
                .await?;
            type_into(&browser, "password", "a long first password").await?;
            browser
                .find(By::Css("form[action='/council/users'] button[type=submit]"))
                .await?
                .click()
                .await?;
            wait_text(&browser, "main", "Adam Macy can now sign in").await;
            assert_accessible(&browser).await;
            browser
                .find(By::LinkText("Adam Macy"))
                .await?
                .click()
                .await?;
            wait_heading(&browser, "Adam Macy").await;
            assert_accessible(&browser).await;
            let shown = browser.find(By::Css("main dl")).await?.text().await?;
            assert!(shown.contains("Felpersham Managed Accounts"), "{shown}");

            // The policy: a value changed is a new version, with what changed.
            follow(&browser, "Policy", "Council policy").await?;
            type_into(&browser, "hold_expiry_days", "21").await?;
            type_into(&browser, "reason", "Approvers asked for longer").await?;
            browser
                .find(By::Css(
                    "form[action='/council/policy'] button[type=submit]",
                ))
                .await?
                .click()
                .await?;
            wait_text(&browser, "main", "Version 2 of the policy is now in force").await;
            assert_accessible(&browser).await;
            follow(
                &browser,
                "see every version and what changed",
                "Policy versions",
            )
            .await?;
            let changed = browser
                .find(By::Css("section[aria-labelledby='version-2'] table"))
                .await?
                .text()
                .await?;
            assert!(
                changed.contains("Days a held payment waits for approval 14 21"),
                "{changed}"
            );
            let why = browser
                .find(By::Css("section[aria-labelledby='version-2'] dl"))
                .await?
                .text()
                .await?;
            assert!(why.contains("Approvers asked for longer"), "{why}");

            follow(&browser, "Banking", "Council banking").await?;
            follow(&browser, "Charging", "Charging parameters").await?;
            WebDriverResult::Ok(())
        },
    )
    .await;

    let listed = app.get("/api/v1/users", &council.admin_token).await;
    assert!(listed.text.contains("adam.macy@felpersham.example"));
    let policy = app.get("/api/v1/policy", &council.admin_token).await;
    assert_eq!(policy.json["hold_expiry_days"], 21);
}
