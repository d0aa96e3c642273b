//! Two finance officers in Chromium, one browser session: the first verifies a payee whose bank
//! details the second gave, records a contribution, drafts a payment run and submits it, and
//! signs out; the second signs in and approves the run. Every page visited is checked with axe.

use serde_json::json;
use thirtyfour::prelude::*;

use crate::payments_api::bank;
use crate::support::browser::{
    assert_accessible, browser, journey, serve, sign_in, wait_heading, wait_text, Driver,
};
use crate::support::scenario::{id, Scenario, PERIOD};
use crate::support::PASSWORD;

async fn set_value(browser: &WebDriver, id: &str, value: &str) -> WebDriverResult<()> {
    let element = browser.find(By::Id(id)).await?;
    browser
        .execute(
            "arguments[0].value = arguments[1];",
            vec![element.to_json()?, json!(value)],
        )
        .await?;
    Ok(())
}

async fn email(s: &Scenario, token: &str) -> String {
    s.app.get("/api/v1/me", token).await.json["email"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finance_officer_verifies_a_payee_and_submits_a_run_that_a_second_approves() {
    let s = Scenario::new().await;
    let person = s.person("Rita Runner", true, false).await;
    let budget = s
        .approved_budget(
            Scenario::budget_body(person),
            json!([
                Scenario::line("personal_care", "100.00", "direct_payment", None),
                Scenario::line(
                    "personal_care",
                    "50.00",
                    "managed_account",
                    Some(s.ma_provider)
                ),
            ]),
        )
        .await;
    // The checker gives a personal assistant's bank details: the maker verifies them.
    let pa = s
        .app
        .post(
            "/api/v1/payees",
            &s.checker.token,
            json!({"name": "Pam Assistant", "kind": "personal_assistant", "bank": bank()}),
        )
        .await;
    assert_eq!(pa.status, axum::http::StatusCode::CREATED, "{}", pa.text);
    let pa = id(&pa);
    let maker = email(&s, &s.maker.token).await;
    let checker = email(&s, &s.checker.token).await;
    let base = serve(&s.app).await;
    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let browser = browser(&driver, profile.path()).await;
    let today = s.app.state.clock.today().to_string();

    journey(browser, "browser_finance", move |browser| async move {
        sign_in(&browser, &base, &maker, PASSWORD).await?;
        assert_accessible(&browser).await;

        // The payee waits, unverified, at the top of the list.
        browser.find(By::LinkText("Payees")).await?.click().await?;
        wait_heading(&browser, "Payees").await;
        assert_accessible(&browser).await;
        let first = browser.find(By::Css("tbody tr")).await?.text().await?;
        assert!(
            first.contains("Pam Assistant") && first.contains("Not verified"),
            "{first}"
        );
        browser
            .find(By::Css(
                "button[aria-label='Verify the bank details of Pam Assistant']",
            ))
            .await?
            .click()
            .await?;
        wait_heading(&browser, "Payees").await;
        let row = wait_text(&browser, &format!("#payee-{pa}"), "Yes").await;
        assert!(!row.contains("Not verified"), "{row}");
        assert_accessible(&browser).await;

        // A contribution the person paid, recorded for their budget.
        browser
            .find(By::LinkText("Contributions"))
            .await?
            .click()
            .await?;
        wait_heading(&browser, "Contributions").await;
        assert_accessible(&browser).await;
        browser
            .find(By::Css(format!("#budget_id option[value='{budget}']")))
            .await?
            .click()
            .await?;
        browser
            .find(By::Id("amount"))
            .await?
            .send_keys("25.00")
            .await?;
        set_value(&browser, "received_on", &today).await?;
        browser
            .find(By::Css("form[action='/contributions'] button[type=submit]"))
            .await?
            .click()
            .await?;
        wait_text(&browser, ".notice", "Recorded £25.00").await;
        assert_accessible(&browser).await;

        // Draft the run, then submit it.
        browser
            .find(By::LinkText("Payment runs"))
            .await?
            .click()
            .await?;
        wait_heading(&browser, "Payment runs").await;
        assert_accessible(&browser).await;
        set_value(&browser, "period_start", PERIOD).await?;
        let weeks = browser.find(By::Id("weeks")).await?;
        weeks.clear().await?;
        weeks.send_keys("4").await?;
        browser
            .find(By::Css("form[action='/payment-runs'] button[type=submit]"))
            .await?
            .click()
            .await?;
        wait_text(&browser, "main h1", "Payment run").await;
        wait_text(&browser, "dl.summary", "Draft").await;
        let totals = browser
            .find(By::Css("table.run-totals"))
            .await?
            .text()
            .await?;
        assert!(
            totals.contains("Direct payment 1 £400.00")
                && totals.contains("Managed account 1 £200.00"),
            "{totals}"
        );
        let chart = browser.find(By::Css("svg.run-chart")).await?;
        assert_eq!(chart.attr("role").await?.as_deref(), Some("img"));
        assert_accessible(&browser).await;
        browser
            .find(By::XPath(
                "//button[normalize-space()='Submit for approval']",
            ))
            .await?
            .click()
            .await?;
        wait_text(&browser, "dl.summary", "Submitted for approval").await;
        assert_accessible(&browser).await;
        let run_url = browser.current_url().await?.to_string();
        // The one who submitted it may not approve it.
        assert!(browser
            .find_all(By::XPath(
                "//button[normalize-space()='Approve and release']"
            ))
            .await?
            .is_empty());

        browser
            .find(By::XPath("//button[normalize-space()='Sign out']"))
            .await?
            .click()
            .await?;
        wait_heading(&browser, "Sign in").await;
        assert_accessible(&browser).await;

        // The second officer approves.
        sign_in(&browser, &base, &checker, PASSWORD).await?;
        browser.goto(&run_url).await?;
        wait_text(&browser, "dl.summary", "Submitted for approval").await;
        assert_accessible(&browser).await;
        browser
            .find(By::XPath(
                "//button[normalize-space()='Approve and release']",
            ))
            .await?
            .click()
            .await?;
        let summary = wait_text(&browser, "dl.summary", "Approved and released").await;
        assert!(summary.contains("£600.00"), "{summary}");
        assert_accessible(&browser).await;
        WebDriverResult::Ok(())
    })
    .await;
}
