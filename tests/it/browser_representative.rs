//! The representative's journey in Chromium: co-signs a payment held for their approval, then
//! opens the person whose budget they act on.

use serde_json::json;
use thirtyfour::prelude::*;

use allot::auth::Role;

use crate::browser_care_manager::{email_of, wait_heading_starting};
use crate::payments_api::{grant, setup};
use crate::support::browser::{
    assert_accessible, browser, journey, serve, sign_in, wait_heading, Driver,
};
use crate::support::PASSWORD;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_representative_cosigns_a_held_payment_and_opens_the_person() {
    let t = setup().await;
    let s = &t.s;
    let (rep, rep_token) = s
        .app
        .user(&s.council, Role::Representative, None, None)
        .await;
    grant(
        s,
        t.budget,
        json!({"user_id": rep, "acting_as": "family_member", "powers": ["approve"],
               "max_per_payment": "1000.00", "valid_from": "2020-01-01"}),
    )
    .await;
    // Above the holder's co-sign threshold (250.00): held for the representative.
    let held = t.pay(&t.holder.1, t.body("personal_care", "300.00")).await;
    assert_eq!(
        held.status,
        axum::http::StatusCode::ACCEPTED,
        "{}",
        held.text
    );
    let payment = held.json["id"].as_str().unwrap().to_string();
    let email = email_of(&s.app, &rep_token).await;
    let base = serve(&s.app).await;

    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let browser = browser(&driver, profile.path()).await;
    let driven = browser.clone();
    let budget = t.budget;
    let payment_id = payment.clone();
    let steps = async move {
        sign_in(&browser, &base, &email, PASSWORD).await?;
        assert_accessible(&browser).await;
        browser
            .find(By::LinkText("Approvals"))
            .await?
            .click()
            .await?;
        wait_heading(&browser, "Payments waiting for your approval").await;
        assert_accessible(&browser).await;
        let queue = browser.find(By::Css("main")).await?.text().await?;
        assert!(
            queue.contains("300.00") && queue.contains("Helping Hands"),
            "{queue}"
        );
        browser
            .find(By::Css(format!(
                "form[action='/payments/{payment_id}/approve'] button"
            )))
            .await?
            .click()
            .await?;
        wait_heading(&browser, "Payments waiting for your approval").await;
        assert!(browser
            .find_all(By::Css(format!(
                "form[action='/payments/{payment_id}/approve']"
            )))
            .await?
            .is_empty());
        assert_accessible(&browser).await;

        browser.find(By::LinkText("People")).await?.click().await?;
        wait_heading(&browser, "People").await;
        assert_accessible(&browser).await;
        browser
            .find(By::LinkText("Pat Payer"))
            .await?
            .click()
            .await?;
        wait_heading(&browser, "Pat Payer").await;
        assert_accessible(&browser).await;
        browser
            .find(By::Css(format!("main a[href='/budgets/{}']", budget)))
            .await?
            .click()
            .await?;
        wait_heading_starting(&browser, "Budget PB").await;
        browser
            .find(By::LinkText("Pat Payer"))
            .await?
            .click()
            .await?;
        wait_heading(&browser, "Pat Payer").await;
        WebDriverResult::Ok(())
    };
    journey(driven, "browser_representative", |_| steps).await;

    let after = s
        .app
        .get(
            &format!("/api/v1/payments/{payment}"),
            &s.care_manager.token,
        )
        .await;
    assert_eq!(after.json["status"], "posted", "{}", after.text);
}
