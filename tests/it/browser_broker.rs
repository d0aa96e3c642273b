//! The broker's journey in Chromium: opens the budget of a person they were asked to help,
//! drafts the plan and submits it to the care manager.

use serde_json::json;
use thirtyfour::prelude::*;

use crate::browser_care_manager::{email_of, press, set, type_into, wait_heading_starting};
use crate::support::browser::{
    assert_accessible, browser, journey, serve, sign_in, wait_heading, Driver,
};
use crate::support::scenario::Scenario;
use crate::support::PASSWORD;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_drafts_a_plan_and_submits_it_to_the_care_manager() {
    let s = Scenario::new().await;
    let person = s.person("Bo Brokered", true, false).await;
    let mut body = Scenario::budget_body(person);
    body["broker_organisation_id"] = json!(s.broker_org);
    let budget = s.budget(body).await;
    // Someone the broker was not asked to help stays out of sight.
    s.person("Not Brokered", true, false).await;
    let email = email_of(&s.app, &s.broker.token).await;
    let base = serve(&s.app).await;

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
        let people = browser.find(By::Css("main")).await?.text().await?;
        assert!(
            people.contains("Bo Brokered") && !people.contains("Not Brokered"),
            "{people}"
        );
        browser
            .find(By::LinkText("Bo Brokered"))
            .await?
            .click()
            .await?;
        wait_heading(&browser, "Bo Brokered").await;
        assert_accessible(&browser).await;
        browser
            .find(By::Css(format!("a[href='/budgets/{budget}']")))
            .await?
            .click()
            .await?;
        let heading = wait_heading_starting(&browser, "Budget PB").await;
        assert_accessible(&browser).await;

        browser
            .find(By::LinkText("Edit the plan"))
            .await?
            .click()
            .await?;
        wait_heading(&browser, "Support plan — Bo Brokered").await;
        assert_accessible(&browser).await;
        set(&browser, "category_0", "personal_care").await?;
        type_into(&browser, "need_0", "Help in the morning").await?;
        type_into(&browser, "weekly_0", "150.00").await?;
        set(&browser, "deployment_0", "direct_payment").await?;
        set(&browser, "category_1", "day_activities").await?;
        type_into(&browser, "need_1", "Time at the allotment club").await?;
        type_into(&browser, "weekly_1", "40.00").await?;
        set(&browser, "deployment_1", "direct_payment").await?;
        press(&browser, "Save draft").await?;
        wait_heading(&browser, &heading).await;
        assert_accessible(&browser).await;
        let main = browser.find(By::Css("main")).await?.text().await?;
        assert!(main.contains("Draft waiting for approval"), "{main}");
        assert!(!main.contains("Approve version"), "{main}");

        press(&browser, "Submit version 1 to the care manager").await?;
        wait_heading(&browser, &heading).await;
        let main = browser.find(By::Css("main")).await?.text().await?;
        assert!(main.contains("Submitted to the care manager on"), "{main}");
        assert_accessible(&browser).await;
        WebDriverResult::Ok(())
    };
    journey(driven, "browser_broker", |_| steps).await;

    // The care manager sees it submitted.
    let view = s.budget_view(budget).await;
    assert!(view["draft_plan"]["submitted_at"].is_string(), "{view}");
}
