//! Browser test harness: Debian's chromium driven through chromedriver, against allot served on a
//! loopback port.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use thirtyfour::prelude::*;

use super::TestApp;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver on a free port, killed when dropped.
pub struct Driver {
    child: Child,
    pub port: u16,
}

impl Driver {
    pub fn start() -> Driver {
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

pub async fn browser(driver: &Driver, profile: &std::path::Path) -> WebDriver {
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
pub async fn serve(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

/// Waits (up to 10 s) for the page's main heading to become `expected`, after a navigation.
pub async fn wait_heading(browser: &WebDriver, expected: &str) {
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

/// Signs in through the sign-in page and waits for the dashboard.
pub async fn sign_in(
    browser: &WebDriver,
    base: &str,
    email: &str,
    password: &str,
) -> WebDriverResult<()> {
    browser.goto(&format!("{base}/")).await?;
    wait_heading(browser, "Sign in").await;
    browser
        .find(By::Id("email"))
        .await?
        .send_keys(email)
        .await?;
    browser
        .find(By::Id("password"))
        .await?
        .send_keys(password)
        .await?;
    browser
        .find(By::Css("button[type=submit]"))
        .await?
        .click()
        .await?;
    wait_heading(browser, "Dashboard").await;
    Ok(())
}

/// axe-core, vendored from the npm registry (fixtures/axe-core/README.md).
const AXE: &str = include_str!("../../../fixtures/axe-core/axe.min.js");

/// Runs axe-core on the current page against the WCAG 2.x A and AA rules: its serious and
/// critical violations, each with the rule and the elements.
pub async fn serious_violations(browser: &WebDriver) -> Vec<serde_json::Value> {
    browser
        .execute(AXE, Vec::new())
        .await
        .expect("load axe-core");
    let ran = browser
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               axe.run(document, {runOnly: {type: 'tag', values:
                   ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})
                 .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact,
                     help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))))
                 .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));"#,
            Vec::new(),
        )
        .await
        .expect("run axe-core");
    let violations = ran.json().as_array().cloned().unwrap_or_default();
    violations
        .into_iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .collect()
}

/// Fails on any serious or critical violation of the WCAG 2.x A and AA rules on the current page.
pub async fn assert_accessible(browser: &WebDriver) {
    let serious = serious_violations(browser).await;
    let url = browser
        .current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_default();
    assert!(
        serious.is_empty(),
        "accessibility violations on {url}: {}",
        serde_json::to_string_pretty(&serious).unwrap()
    );
}

/// Runs a journey's `steps` with the browser; when they fail (an error or a panic) saves a
/// screenshot of the page as it was to `target/screenshots/<name>.png` and says where. The
/// browser is closed either way, then the failure is passed on.
pub async fn journey<F, Fut>(browser: WebDriver, name: &str, steps: F)
where
    F: FnOnce(WebDriver) -> Fut,
    Fut: std::future::Future<Output = WebDriverResult<()>> + Send + 'static,
{
    let outcome = tokio::spawn(steps(browser.clone())).await;
    if !matches!(outcome, Ok(Ok(()))) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        let path = dir.join(format!("{name}.png"));
        let saved = match std::fs::create_dir_all(&dir) {
            Ok(()) => browser.screenshot(&path).await.is_ok(),
            Err(_) => false,
        };
        if saved {
            eprintln!("screenshot of the failed journey: {}", path.display());
        }
    }
    browser.quit().await.ok();
    match outcome {
        Ok(result) => result.expect("browser steps"),
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// Waits (up to 10 s) for the first element matching `css` to contain `needle`.
pub async fn wait_text(browser: &WebDriver, css: &str, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = String::new();
    while Instant::now() < deadline {
        if let Ok(element) = browser.find(By::Css(css)).await {
            if let Ok(text) = element.text().await {
                if text.contains(needle) {
                    return text;
                }
                seen = text;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("expected {needle:?} in {css}, saw {seen:?}");
}
