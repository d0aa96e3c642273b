//! The provider's workspace in a real browser (Debian's chromium): provider staff sign in, see
//! the worklist, pay an invoice with the rules' outcome checked first, load a payroll CSV, upload
//! a camt.053 statement (fixtures/camt053/browser_statement.001.08.xml) and match its unmatched
//! line by hand. The data is set up through the API first; the clock is set so the invoice is paid
//! on 20 February 2025, five banking days before the bank books it.

use axum::http::StatusCode;
use chrono::{TimeZone, Utc};
use serde_json::json;
use thirtyfour::prelude::*;
use uuid::Uuid;

use crate::payments_api::{bank, grant, payee};
use crate::support::browser::{
    assert_accessible, browser, journey, serve, sign_in, wait_heading, wait_text, Driver,
};
use crate::support::scenario::{id, Scenario, PERIOD};
use crate::support::PASSWORD;

/// A managed-account client with an invoice to pay and payees for payroll.
pub(crate) struct Workspace {
    pub s: Scenario,
    pub budget: Uuid,
    pub invoice: Uuid,
    pub pa: Uuid,
    pub hmrc: Uuid,
    pub pension: Uuid,
}

pub(crate) async fn workspace() -> Workspace {
    let s = Scenario::new().await;
    let person = s.person("Rosa Client", true, false).await;
    let budget = s
        .approved_budget(
            Scenario::budget_body(person),
            json!([
                Scenario::line("personal_care", "100.00", "direct_payment", None),
                Scenario::line(
                    "personal_care",
                    "120.00",
                    "managed_account",
                    Some(s.ma_provider)
                ),
                Scenario::line(
                    "personal_assistant",
                    "200.00",
                    "managed_account",
                    Some(s.ma_provider)
                ),
                Scenario::line(
                    "employment_costs",
                    "60.00",
                    "managed_account",
                    Some(s.ma_provider)
                ),
            ]),
        )
        .await;
    s.release(PERIOD).await;
    grant(
        &s,
        budget,
        json!({"user_id": s.ma_staff.id, "acting_as": "managed_account_provider",
               "powers": ["pay", "approve"], "max_per_payment": "1000.00",
               "valid_from": "2020-01-01"}),
    )
    .await;
    let agency = payee(
        &s,
        json!({"name": "Helping Hands", "kind": "care_agency", "bank": bank(), "bank_verified": true}),
    )
    .await;
    let pa = payee(
        &s,
        json!({"name": "Sam Assistant", "kind": "personal_assistant", "bank": bank(),
               "bank_verified": true}),
    )
    .await;
    let hmrc = payee(
        &s,
        json!({"name": "HMRC PAYE", "kind": "council_service", "bank": bank(), "bank_verified": true}),
    )
    .await;
    let pension = payee(
        &s,
        json!({"name": "Workplace Pensions", "kind": "retailer", "bank": bank(), "bank_verified": true}),
    )
    .await;
    s.app
        .state
        .clock
        .set(Utc.with_ymd_and_hms(2025, 2, 20, 10, 0, 0).unwrap());
    let invoice = s
        .app
        .post(
            "/api/v1/invoices",
            &s.ma_staff.token,
            json!({"budget_id": budget, "deployment": "managed_account", "payee_id": agency,
                   "category": "personal_care", "invoice_number": "B-1",
                   "issued_on": "2025-02-08", "due_on": "2025-02-22",
                   "lines": [{"description": "Morning calls", "quantity": "5", "unit_price": "16.80"}],
                   "total": "84.00"}),
        )
        .await;
    assert_eq!(invoice.status, StatusCode::CREATED, "{}", invoice.text);
    Workspace {
        invoice: id(&invoice),
        s,
        budget,
        pa,
        hmrc,
        pension,
    }
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_staff_pay_an_invoice_load_payroll_and_reconcile_a_statement() {
    let fixture = format!(
        "{}/fixtures/camt053/browser_statement.001.08.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    let valid = std::process::Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(format!(
            "{}/fixtures/xsd/camt.053.001.08.xsd",
            env!("CARGO_MANIFEST_DIR")
        ))
        .arg(&fixture)
        .output()
        .expect("xmllint (libxml2-utils) is installed");
    assert!(valid.status.success(), "the fixture is valid camt.053");

    let w = workspace().await;
    let email = w.s.app.get("/api/v1/me", &w.s.ma_staff.token).await.json["email"]
        .as_str()
        .unwrap()
        .to_string();
    let base = serve(&w.s.app).await;
    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let browser = browser(&driver, profile.path()).await;
    let (budget, pa, hmrc, pension) = (w.budget, w.pa, w.hmrc, w.pension);
    journey(browser, "browser_provider", move |browser| async move {
        sign_in(&browser, &base, &email, PASSWORD).await?;
        assert_accessible(&browser).await;
        // The worklist links the invoice to pay.
        wait_text(&browser, "main", "Invoices to pay").await;
        browser
            .find(By::LinkText("Invoice B-1 from Helping Hands"))
            .await?
            .click()
            .await?;
        wait_heading(&browser, "Invoice B-1").await;
        assert_accessible(&browser).await;

        // Check first: the rules' outcome in words; then send.
        browser
            .find(By::Css("button[value=check]"))
            .await?
            .click()
            .await?;
        wait_text(&browser, ".notice", "This payment can be made now").await;
        assert_accessible(&browser).await;
        browser
            .find(By::Css("button[value=send]"))
            .await?
            .click()
            .await?;
        wait_text(&browser, "dl.summary", "Outstanding\n£0.00").await;
        assert_accessible(&browser).await;
        let summary = browser.find(By::Css("dl.summary")).await?.text().await?;
        assert!(summary.contains("Status\nPaid"), "{summary}");

        // Payroll: the bureau's CSV pasted with the period and payees.
        browser.find(By::LinkText("Payroll")).await?.click().await?;
        wait_heading(&browser, "Payroll").await;
        assert_accessible(&browser).await;
        set_value(&browser, "period_start", "2025-02-03").await?;
        set_value(&browser, "period_end", "2025-02-09").await?;
        set_value(&browser, "pay_date", "2025-02-14").await?;
        browser
            .find(By::Css(format!("#hmrc_payee_id option[value='{}']", hmrc)))
            .await?
            .click()
            .await?;
        browser
            .find(By::Css(format!(
                "#pension_payee_id option[value='{}']",
                pension
            )))
            .await?
            .click()
            .await?;
        browser
            .find(By::Id("csv"))
            .await?
            .send_keys(format!(
                "budget_id,payee_id,gross,tax,employee_ni,employer_ni,employee_pension,employer_pension,net\n{},{},168.75,10.00,5.00,7.00,5.00,3.00,148.75",
                budget, pa
            ))
            .await?;
        browser
            .find(By::Css("form[action='/payroll'] button.primary"))
            .await?
            .click()
            .await?;
        wait_text(&browser, ".notice", "The payroll run was loaded").await;
        assert_accessible(&browser).await;
        let results = browser.find(By::Css(".notice table")).await?.text().await?;
        assert!(
            results.contains("Sam Assistant")
                && results.contains("Net pay £148.75 to Sam Assistant: paid")
                && results.contains("Tax and National Insurance £22.00 to HMRC PAYE: paid"),
            "{results}"
        );

        // The bank statement: upload the camt.053 file, then match its line by hand.
        browser
            .find(By::LinkText("Bank statements"))
            .await?
            .click()
            .await?;
        wait_heading(&browser, "Bank statements").await;
        assert_accessible(&browser).await;
        browser.find(By::LinkText("Rosa Client")).await?.click().await?;
        wait_text(&browser, "main h1", "Bank statements: Rosa Client").await;
        assert_accessible(&browser).await;
        browser
            .find(By::Id("statement"))
            .await?
            .send_keys(&fixture)
            .await?;
        browser
            .find(By::Css("form[enctype='multipart/form-data'] button.primary"))
            .await?
            .click()
            .await?;
        wait_heading(&browser, "Bank statement BROWSER-1").await;
        assert_accessible(&browser).await;
        let lines = browser.find(By::Css("main table")).await?.text().await?;
        assert!(lines.contains("Unmatched"), "{lines}");
        let summary = browser.find(By::Css(".notice")).await?.text().await?;
        assert!(summary.contains("The difference explained"), "{summary}");
        let option = browser
            .find(By::Css("#posting-1 option"))
            .await?
            .text()
            .await?;
        assert!(option.contains("£84.00"), "{option}");
        browser
            .find(By::Css("button[aria-label='Match line 1']"))
            .await?
            .click()
            .await?;
        wait_text(&browser, "main table", "by hand").await;
        let summary = browser.find(By::Css("dl.summary")).await?.text().await?;
        assert!(summary.contains("Lines unmatched\n0"), "{summary}");
        assert_accessible(&browser).await;
        WebDriverResult::Ok(())
    })
    .await;
}
