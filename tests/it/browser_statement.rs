//! The person's own statement in a real browser (Debian's chromium): the person signs in and
//! opens their statement, then the easy-read layout; axe-core finds no serious or critical WCAG
//! A/AA violation on either, and the chart, its table and the pictures are there.

use thirtyfour::prelude::*;

use crate::own_statement::paid;
use crate::support::browser::{assert_accessible, browser, serve, sign_in, wait_heading, Driver};
use crate::support::PASSWORD;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_person_reads_their_statement_and_its_easy_read_layout() {
    let t = paid().await;
    let email = t.s.app.get("/api/v1/me", &t.holder.1).await.json["email"]
        .as_str()
        .unwrap()
        .to_string();
    let base = serve(&t.s.app).await;
    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let browser = browser(&driver, profile.path()).await;
    let result = async {
        sign_in(&browser, &base, &email, PASSWORD).await?;
        browser
            .goto(&format!("{base}/budgets/{}/statement", t.budget))
            .await?;
        wait_heading(&browser, "Budget statement: Pat Payer").await;
        assert_accessible(&browser).await;
        let main = browser.find(By::Css("main")).await?.text().await?;
        assert!(main.contains("You have £1,447.50 left."), "{main}");
        assert!(main.contains("£1,684.00 came into your budget."), "{main}");
        let chart = browser.find(By::Css("svg.spend-chart")).await?;
        assert_eq!(chart.attr("role").await?.as_deref(), Some("img"));
        let rows = browser
            .find_all(By::Css(".statement-table tbody tr"))
            .await?;
        assert_eq!(rows.len(), 3);

        // The period chooser, with easy read ticked.
        browser.find(By::Id("easy_read")).await?.click().await?;
        browser
            .find(By::Css("form.period button[type=submit]"))
            .await?
            .click()
            .await?;
        wait_heading(&browser, "Your money: Pat Payer").await;
        assert_accessible(&browser).await;
        let icons = browser.find_all(By::Css(".icon-heading .icon svg")).await?;
        assert_eq!(icons.len(), 6);
        let main = browser.find(By::Css("main")).await?.text().await?;
        assert!(main.contains("You have £1,447.50 left."), "{main}");
        assert!(main.contains("1 payment is waiting for a yes."), "{main}");
        Ok::<(), WebDriverError>(())
    }
    .await;
    browser.quit().await.ok();
    result.unwrap();
}
