//! An auditor in Chromium: signs in, draws a sample on the samples page, records a finding on a
//! sampled payment and sees it listed, then verifies the chain on its page. The payments are made
//! through the API first.

use thirtyfour::prelude::*;

use crate::payments_api::setup;
use crate::support::browser::{
    assert_accessible, browser, journey, serve, sign_in, wait_heading, wait_text, Driver,
};
use crate::support::PASSWORD;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditor_draws_a_sample_records_a_finding_and_verifies_the_chain() {
    let s = setup().await;
    let app = &s.s.app;
    for amount in ["12.00", "13.50", "14.25"] {
        let paid = s.pay(&s.holder.1, s.body("personal_care", amount)).await;
        assert_eq!(
            paid.status,
            axum::http::StatusCode::CREATED,
            "{}",
            paid.text
        );
    }
    allot::ledger::maintenance::run_once(
        &app.state.pool,
        app.state.clock.now(),
        &app.state.chain_key,
    )
    .await
    .unwrap();
    let head = app.get("/api/v1/audit/verify", &s.s.auditor.token).await;
    assert_eq!(head.json["ok"], true, "{}", head.text);
    let head_hash = head.json["head_hash"].as_str().unwrap().to_owned();
    let email = app.get("/api/v1/me", &s.s.auditor.token).await.json["email"]
        .as_str()
        .unwrap()
        .to_owned();
    let today = app.state.clock.today().to_string();
    let base = serve(app).await;

    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let browser = browser(&driver, profile.path()).await;
    journey(browser, "browser_auditor", move |browser| async move {
        sign_in(&browser, &base, &email, PASSWORD).await?;
        assert_accessible(&browser).await;
        browser
            .find(By::LinkText("Audit samples"))
            .await?
            .click()
            .await?;
        wait_heading(&browser, "Audit samples").await;
        assert_accessible(&browser).await;
        browser
            .find(By::Id("seed"))
            .await?
            .send_keys("year-end 2026")
            .await?;
        let size = browser.find(By::Id("size")).await?;
        size.clear().await?;
        size.send_keys("2").await?;
        // Date inputs take their value in the browser's locale when typed; set it as the form
        // sends it.
        browser
            .execute(
                "document.getElementById('from').value = arguments[0];
                 document.getElementById('to').value = arguments[0];",
                vec![serde_json::json!(today)],
            )
            .await?;
        browser
            .find(By::Css("form[action='/audit/samples'] button[type=submit]"))
            .await?
            .click()
            .await?;
        wait_heading(&browser, "Audit sample").await;
        assert_accessible(&browser).await;
        let rows = browser.find_all(By::Css("tbody tr")).await?;
        assert_eq!(rows.len(), 2);
        assert!(rows[0].text().await?.contains("None yet"));

        // A query on the first sampled payment.
        browser
            .find(By::Css("#outcome-1 option[value='query']"))
            .await?
            .click()
            .await?;
        browser
            .find(By::Id("note-1"))
            .await?
            .send_keys("Receipt total differs from the payment")
            .await?;
        browser
            .find(By::Css(
                "button[aria-label='Record a finding on payment 1']",
            ))
            .await?
            .click()
            .await?;
        let row = wait_text(
            &browser,
            "tbody tr",
            "Receipt total differs from the payment",
        )
        .await;
        assert!(row.contains("query"), "{row}");
        assert_accessible(&browser).await;

        // The sample is listed with its finding.
        browser
            .find(By::LinkText("Audit samples"))
            .await?
            .click()
            .await?;
        wait_heading(&browser, "Audit samples").await;
        assert_accessible(&browser).await;
        let listed = browser.find(By::Css("tbody tr")).await?.text().await?;
        assert!(listed.contains("year-end 2026"), "{listed}");
        // Two payments drawn, one finding.
        assert!(listed.ends_with(" 2 1"), "{listed}");

        // Verify the chain.
        browser
            .find(By::LinkText("Verify the chain"))
            .await?
            .click()
            .await?;
        wait_heading(&browser, "Verify the chain").await;
        assert_accessible(&browser).await;
        browser
            .find(By::Css("form[action='/audit/chain'] button[type=submit]"))
            .await?
            .click()
            .await?;
        wait_text(&browser, "main", "The chain verifies").await;
        let shown = browser.find(By::Css("main dl")).await?.text().await?;
        assert!(shown.contains(&head_hash), "{shown}");
        assert_accessible(&browser).await;
        WebDriverResult::Ok(())
    })
    .await;
}
