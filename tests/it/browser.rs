//! Browser tests: real Chromium (Debian's /usr/bin/chromium) driven through chromedriver, against
//! allot served on a loopback port, clicking through as a person would.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use allot::auth::Role;
use serde_json::json;
use thirtyfour::prelude::*;

use crate::support::{TestApp, PASSWORD};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver on a free port, killed when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start() -> Driver {
        for path in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(path).exists(),
                "{path} is missing: install Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
            );
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Driver { child, port }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn browser(driver: &Driver, profile: &std::path::Path) -> WebDriver {
    let mut caps = DesiredCapabilities::chrome();
    caps.set_binary(CHROMIUM).unwrap();
    for arg in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--no-first-run",
        "--window-size=1280,900",
    ] {
        caps.add_arg(arg).unwrap();
    }
    caps.add_arg(&format!("--user-data-dir={}", profile.display()))
        .unwrap();
    WebDriver::new(format!("http://127.0.0.1:{}", driver.port), caps)
        .await
        .expect("start Chromium")
}

/// Serves the test app on a loopback port.
async fn serve(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

/// Waits (up to 10 s) for the page's main heading to become `expected`, after a navigation.
async fn wait_heading(browser: &WebDriver, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = String::new();
    while Instant::now() < deadline {
        if let Ok(element) = browser.find(By::Css("main h1")).await {
            if let Ok(text) = element.text().await {
                if text == expected {
                    return;
                }
                seen = text;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("expected the heading {expected:?}, saw {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_care_manager_signs_in_browses_people_and_signs_out() {
    let app = TestApp::new().await;
    let council = app.council("Borsetshire County Council").await;
    let (_, token) = app.user(&council, Role::CareManager, None, None).await;
    let email = app.get("/api/v1/me", &token).await.json["email"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        "/api/v1/people",
        &token,
        json!({"name": "Margaret Okafor", "date_of_birth": "1944-03-12", "has_capacity": true}),
    )
    .await;
    let base = serve(&app).await;

    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let browser = browser(&driver, profile.path()).await;
    let result = async {
        browser.goto(&format!("{base}/")).await?;
        wait_heading(&browser, "Sign in").await;

        // A wrong password keeps us on the form with an error summary.
        browser
            .find(By::Id("email"))
            .await?
            .send_keys(&email)
            .await?;
        browser
            .find(By::Id("password"))
            .await?
            .send_keys("not my password")
            .await?;
        browser
            .find(By::Css("button[type=submit]"))
            .await?
            .click()
            .await?;
        wait_heading(&browser, "Sign in").await;
        let summary = browser
            .find(By::Css(".error-summary"))
            .await?
            .text()
            .await?;
        assert!(summary.contains("not right"), "{summary}");

        browser
            .find(By::Id("password"))
            .await?
            .send_keys(PASSWORD)
            .await?;
        browser
            .find(By::Css("button[type=submit]"))
            .await?
            .click()
            .await?;
        wait_heading(&browser, "Dashboard").await;
        let header = browser.find(By::Css(".site-header")).await?.text().await?;
        assert!(header.contains("Borsetshire County Council"), "{header}");

        browser.find(By::LinkText("People")).await?.click().await?;
        wait_heading(&browser, "People").await;
        let row = browser.find(By::Css("tbody tr")).await?.text().await?;
        assert!(
            row.contains("Margaret Okafor") && row.contains("12 March 1944"),
            "{row}"
        );

        // Keyboard users get a skip link as the first focusable element.
        browser
            .find(By::Css("body"))
            .await?
            .send_keys(Key::Tab)
            .await?;
        let focused = browser.active_element().await?.text().await?;
        assert_eq!(focused, "Skip to main content");

        browser
            .find(By::Css("form[action='/logout'] button"))
            .await?
            .click()
            .await?;
        wait_heading(&browser, "Sign in").await;
        browser.goto(&format!("{base}/people")).await?;
        wait_heading(&browser, "Sign in").await;
        WebDriverResult::Ok(())
    }
    .await;
    browser.quit().await.ok();
    result.expect("browser steps");
}
