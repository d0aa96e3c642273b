//! The budget holder's journey in Chromium: a payment refused with a plain explanation beside
//! the field it concerns, then one that posts; then a request for their own personal assistant.

use thirtyfour::prelude::*;

use crate::browser_care_manager::{email_of, press, set, type_into, wait_heading_starting};
use crate::payments_api::setup;
use crate::support::browser::{
    assert_accessible, browser, journey, serve, sign_in, wait_heading, Driver,
};
use crate::support::PASSWORD;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_holder_is_refused_in_plain_words_then_pays_and_asks_for_their_assistant() {
    let t = setup().await;
    let email = email_of(&t.s.app, &t.holder.1).await;
    let base = serve(&t.s.app).await;

    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let browser = browser(&driver, profile.path()).await;
    let driven = browser.clone();
    let (budget, agency) = (t.budget, t.agency);
    let steps = async move {
        sign_in(&browser, &base, &email, PASSWORD).await?;
        assert_accessible(&browser).await;
        browser.find(By::LinkText("Budgets")).await?.click().await?;
        wait_heading(&browser, "Budgets").await;
        assert_accessible(&browser).await;
        browser
            .find(By::Css(format!("main a[href='/budgets/{}']", budget)))
            .await?
            .click()
            .await?;
        let heading = wait_heading_starting(&browser, "Budget PB").await;
        assert_accessible(&browser).await;
        browser
            .find(By::LinkText("Make a payment"))
            .await?
            .click()
            .await?;
        let pay_heading = wait_heading_starting(&browser, "Make a payment from budget").await;
        assert_accessible(&browser).await;

        // Equipment is not in the plan: refused, the reason in plain words beside "What it is for".
        set(&browser, "payee_id", &agency.to_string()).await?;
        set(&browser, "category", "equipment").await?;
        set(&browser, "deployment", "direct_payment").await?;
        type_into(&browser, "amount", "40.00").await?;
        set(&browser, "service_date", "2025-02-10").await?;
        press(&browser, "Check the payment").await?;
        wait_heading(&browser, &pay_heading).await;
        let beside = browser.find(By::Id("category-error")).await?.text().await?;
        assert!(
            beside.contains("The support plan does not include this kind of spending"),
            "{beside}"
        );
        let summary = browser
            .find(By::Css(".error-summary a[href='#category']"))
            .await?;
        assert!(!summary.text().await?.is_empty());
        assert_eq!(
            browser
                .find(By::Id("amount"))
                .await?
                .value()
                .await?
                .as_deref(),
            Some("40.00")
        );
        assert!(browser
            .find_all(By::XPath("//button[normalize-space()='Send the payment']"))
            .await?
            .is_empty());
        assert_accessible(&browser).await;

        // Personal care is: checked, then sent, and it posts.
        set(&browser, "category", "personal_care").await?;
        press(&browser, "Check the payment").await?;
        wait_heading(&browser, &pay_heading).await;
        let notice = browser
            .find(By::Css("section.notice"))
            .await?
            .text()
            .await?;
        assert!(notice.contains("This payment can be made now"), "{notice}");
        assert_accessible(&browser).await;
        press(&browser, "Send the payment").await?;
        wait_heading_starting(&browser, "Decisions on budget").await;
        let row = browser.find(By::Css("tbody tr")).await?.text().await?;
        assert!(row.contains("Paid") && row.contains("40.00"), "{row}");
        assert_accessible(&browser).await;

        // Their own personal assistant, for a finance officer to check.
        browser
            .find(By::LinkText("Back to the budget"))
            .await?
            .click()
            .await?;
        wait_heading(&browser, &heading).await;
        browser
            .find(By::LinkText("Ask for your personal assistant to be paid"))
            .await?
            .click()
            .await?;
        wait_heading(&browser, "Ask for your personal assistant to be paid").await;
        assert_accessible(&browser).await;
        type_into(&browser, "name", "Pam Assistant").await?;
        set(&browser, "relationship", "friend").await?;
        type_into(&browser, "bank_sort_code", "12-34-56").await?;
        type_into(&browser, "bank_account_number", "8765432").await?;
        type_into(&browser, "bank_account_name", "P Assistant").await?;
        press(&browser, "Send the request").await?;
        wait_heading(&browser, "Ask for your personal assistant to be paid").await;
        browser.find(By::Id("bank_account_number-error")).await?;
        assert_eq!(
            browser
                .find(By::Id("name"))
                .await?
                .value()
                .await?
                .as_deref(),
            Some("Pam Assistant")
        );
        assert_accessible(&browser).await;
        type_into(&browser, "bank_account_number", "87654321").await?;
        press(&browser, "Send the request").await?;
        wait_heading(&browser, "Ask for your personal assistant to be paid").await;
        let done = browser.find(By::Css("main .notice")).await?.text().await?;
        assert!(done.contains("Your request was sent"), "{done}");
        assert_accessible(&browser).await;
        WebDriverResult::Ok(())
    };
    journey(driven, "browser_budget_holder", |_| steps).await;

    // The request waits for a finance officer.
    let queue =
        t.s.app
            .get(
                "/api/v1/bank-detail-changes?status=unverified",
                &t.s.maker.token,
            )
            .await;
    assert!(
        queue.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["subject"] == "payee" && c["subject_name"] == "Pam Assistant"),
        "{}",
        queue.text
    );
}
