//! A whole task by keyboard only, in Chromium: the council administrator signs in and adds an
//! organisation using Tab, Shift-Tab, Enter, Space and typing, never the mouse. Every element
//! that takes the focus shows it (an outline), and after a refused form the focus lands on the
//! error summary, whose link leads to the field. axe-core on every page visited.

use std::time::{Duration, Instant};

use serde_json::Value;
use thirtyfour::prelude::*;

use crate::support::browser::journey;
use crate::support::browser::{assert_accessible, browser, serve, wait_heading, Driver};
use crate::support::{TestApp, PASSWORD};

async fn keys(browser: &WebDriver, text: &str) -> WebDriverResult<()> {
    browser.action_chain().send_keys(text).perform().await
}

async fn press(browser: &WebDriver, key: Key) -> WebDriverResult<()> {
    browser.action_chain().send_keys(key).perform().await
}

async fn shift_tab(browser: &WebDriver) -> WebDriverResult<()> {
    browser
        .action_chain()
        .key_down(Key::Shift)
        .key_down(Key::Tab)
        .key_up(Key::Tab)
        .key_up(Key::Shift)
        .perform()
        .await
}

/// What has the focus: tag, id, class, text, and whether an outline or ring shows it.
async fn focused(browser: &WebDriver) -> WebDriverResult<Value> {
    Ok(browser
        .execute(
            r#"const e = document.activeElement;
               const s = getComputedStyle(e);
               return {tag: e.tagName.toLowerCase(), id: e.id || '', class: e.className || '',
                       text: (e.innerText || e.value || '').trim().slice(0, 80),
                       href: e.getAttribute('href') || '',
                       visible: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2)
                                || s.boxShadow !== 'none'};"#,
            Vec::new(),
        )
        .await?
        .json()
        .clone())
}

async fn assert_focus_visible(browser: &WebDriver) -> WebDriverResult<Value> {
    let now = focused(browser).await?;
    assert_eq!(now["visible"], true, "focus not visible on {now}");
    Ok(now)
}

/// Presses Tab until `wanted` holds of the focused element (at most 60 times), checking that
/// each element passed through shows its focus.
async fn tab_until(
    browser: &WebDriver,
    what: &str,
    wanted: impl Fn(&Value) -> bool,
) -> WebDriverResult<Value> {
    for _ in 0..60 {
        press(browser, Key::Tab).await?;
        let now = assert_focus_visible(browser).await?;
        if wanted(&now) {
            return Ok(now);
        }
    }
    panic!("Tab never reached {what}");
}

/// Waits (up to 10 s) for the focus to satisfy `wanted` (after a page loads).
async fn wait_focus(browser: &WebDriver, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Value::Null;
    while Instant::now() < deadline {
        if let Ok(now) = focused(browser).await {
            if wanted(&now) {
                return now;
            }
            seen = now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("expected the focus on {what}, saw {seen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organisation_is_added_by_keyboard_alone() {
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

    journey(browser, "browser_keyboard", move |browser| async move {
        browser.goto(&format!("{base}/login")).await?;
        wait_heading(&browser, "Sign in").await;
        assert_accessible(&browser).await;
        // The skip link comes first.
        press(&browser, Key::Tab).await?;
        let first = assert_focus_visible(&browser).await?;
        assert_eq!(first["text"], "Skip to main content", "{first}");
        tab_until(&browser, "the email field", |f| f["id"] == "email").await?;
        keys(&browser, &email).await?;
        press(&browser, Key::Tab).await?;
        assert_eq!(focused(&browser).await?["id"], "password");
        keys(&browser, PASSWORD).await?;
        press(&browser, Key::Enter).await?;
        wait_heading(&browser, "Dashboard").await;
        assert_accessible(&browser).await;

        tab_until(&browser, "the Organisations link", |f| {
            f["tag"] == "a" && f["text"] == "Organisations"
        })
        .await?;
        press(&browser, Key::Enter).await?;
        wait_heading(&browser, "Organisations").await;
        assert_accessible(&browser).await;

        // Sent without a name or kind: the focus lands on the error summary.
        tab_until(&browser, "the name field", |f| f["id"] == "name").await?;
        tab_until(&browser, "the add button", |f| {
            f["tag"] == "button" && f["text"] == "Add the organisation"
        })
        .await?;
        press(&browser, Key::Enter).await?;
        let summary = wait_focus(&browser, "the error summary", |f| {
            f["class"].as_str().unwrap_or("").contains("error-summary")
        })
        .await;
        assert_eq!(summary["visible"], true, "{summary}");
        assert!(
            summary["text"]
                .as_str()
                .unwrap()
                .contains("There is a problem"),
            "{summary}"
        );
        assert_accessible(&browser).await;

        // Its first link leads to the name field.
        let link = tab_until(&browser, "the summary's first link", |f| f["tag"] == "a").await?;
        assert_eq!(link["href"], "#name", "{link}");
        press(&browser, Key::Enter).await?;
        let at = wait_focus(&browser, "the name field", |f| f["id"] == "name").await;
        assert_eq!(at["visible"], true, "{at}");
        keys(&browser, "Borchester Brokerage").await?;

        // The kind, chosen by typing on the drop-down; Shift-Tab goes back to it.
        press(&browser, Key::Tab).await?;
        assert_eq!(focused(&browser).await?["id"], "kind");
        keys(&browser, "Broker").await?;
        press(&browser, Key::Tab).await?;
        assert_eq!(
            assert_focus_visible(&browser).await?["id"],
            "bank_sort_code"
        );
        shift_tab(&browser).await?;
        assert_eq!(assert_focus_visible(&browser).await?["id"], "kind");
        let kind = browser.find(By::Id("kind")).await?.value().await?;
        assert_eq!(kind.as_deref(), Some("broker"));

        // Space on the button sends the form.
        tab_until(&browser, "the add button", |f| {
            f["tag"] == "button" && f["text"] == "Add the organisation"
        })
        .await?;
        press(&browser, Key::Space).await?;
        // The page changes under the search: a missing `main` is the navigation still going.
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut seen = String::new();
        while !seen.contains("The organisation Borchester Brokerage has been added") {
            assert!(Instant::now() < deadline, "not added: {seen}");
            tokio::time::sleep(Duration::from_millis(100)).await;
            if let Ok(main) = browser.find(By::Css("main")).await {
                seen = main.text().await.unwrap_or_default();
            }
        }
        assert_accessible(&browser).await;
        WebDriverResult::Ok(())
    })
    .await;

    let listed = app.get("/api/v1/organisations", &council.admin_token).await;
    assert_eq!(listed.json["items"][0]["name"], "Borchester Brokerage");
    assert_eq!(listed.json["items"][0]["kind"], "broker");
}
