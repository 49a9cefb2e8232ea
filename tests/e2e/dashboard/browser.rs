//! A real headless Chromium, driven over WebDriver by chromedriver, which
//! each test starts on a free port with a fresh profile. Conditions are
//! awaited by polling the page with a deadline, never by sleeping.

use std::path::{Path, PathBuf};
use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use crate::helpers::{DEADLINE, TestApp};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// One browser at a time: two Chromiums on a two-core machine slow every
/// other test down.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A browser session, its chromedriver, and the server it looks at.
pub struct Browser {
    client: Client,
    base: String,
    driver: tokio::process::Child,
    _profile: tempfile::TempDir,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

impl Browser {
    /// Opens a browser on `app`. The tests that call it are built only with
    /// `SCRAPE_TEST_BROWSER=1` (cfg `scrape_browser`, see build.rs): then
    /// Chromium and chromedriver must be installed.
    pub async fn open(app: &TestApp) -> Browser {
        for program in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(program).exists(),
                "the browser tests are enabled (SCRAPE_TEST_BROWSER) but {program} is missing: \
                 install chromium and chromium-driver"
            );
        }
        let turn = ONE_AT_A_TIME.lock().await;
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("addr").port();
        let driver = tokio::process::Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            // Its own process group, so that Chromium goes with it (see Drop).
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().expect("a profile directory");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("unhandledPromptBehavior".into(), json!("ignore"));
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--disable-crash-reporter", "--disable-breakpad",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let webdriver = format!("http://127.0.0.1:{port}");
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        // chromedriver needs a moment to listen: retry until the deadline.
        let client = tokio::time::timeout(DEADLINE, async {
            loop {
                match Client::with_capabilities_and_connector(&webdriver, &capabilities, connector.clone()).await {
                    Ok(client) => return client,
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        })
        .await
        .expect("a browser session within the deadline");
        Browser { client, base: app.address.clone(), driver, _profile: profile, _turn: turn }
    }

    /// Ends the session (Chromium exits) and chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
    }

    /// Opens a page of the server.
    pub async fn goto(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.expect("page opens");
    }

    /// Runs a script; returns its value.
    pub async fn eval(&self, script: &str) -> Value {
        self.client.execute(script, Vec::new()).await.unwrap_or_else(|e| panic!("script {script:?} fails: {e}"))
    }

    /// Waits until a script returns `true`, failing with `what` after the deadline.
    pub async fn wait_until(&self, what: &str, script: &str) {
        let wrapped = format!("try {{ return !!({script}); }} catch (e) {{ return false; }}");
        let met = tokio::time::timeout(DEADLINE, async {
            loop {
                if self.client.execute(&wrapped, Vec::new()).await.ok() == Some(Value::Bool(true)) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        if met.is_err() {
            let url = self.client.current_url().await.map(|u| u.to_string()).unwrap_or_default();
            panic!("{what}: not so within {DEADLINE:?} (at {url})");
        }
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Clicks a button that asks for confirmation, and confirms.
    pub async fn click_and_confirm(&self, css: &str) {
        self.click(css).await;
        tokio::time::timeout(DEADLINE, async {
            while self.client.accept_alert().await.is_err() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await
        .expect("a confirmation dialog");
    }

    /// Clicks a button that asks for confirmation, and declines.
    pub async fn click_and_dismiss(&self, css: &str) {
        self.click(css).await;
        tokio::time::timeout(DEADLINE, async {
            while self.client.dismiss_alert().await.is_err() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await
        .expect("a confirmation dialog");
    }

    /// The ids of the tasks listed on the page, in their order.
    pub async fn rows(&self) -> Vec<String> {
        let ids = self.eval("return [...document.querySelectorAll('tr[data-task]')].map(r => r.dataset.task);").await;
        ids.as_array().expect("an array").iter().map(|v| v.as_str().expect("an id").to_owned()).collect()
    }

    /// Follows a link or sends a form that loads another page, and waits
    /// until that page is there.
    pub async fn click_to_page(&self, css: &str) {
        self.mark_document().await;
        self.click(css).await;
        self.wait_until(
            "the next page is shown",
            "window.__sameDocument !== true && document.readyState === 'complete'",
        )
        .await;
    }

    /// Types into a field, replacing what it held.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clear");
        field.send_keys(text).await.expect("type");
    }

    /// Picks an option of a single-choice list.
    pub async fn select(&self, css: &str, value: &str) {
        self.find(css).await.select_by_value(value).await.unwrap_or_else(|e| panic!("select {value} in {css}: {e}"));
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("text")
    }

    pub async fn count(&self, css: &str) -> usize {
        self.client.find_all(Locator::Css(css)).await.expect("find all").len()
    }

    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// Marks the document shown, to tell later whether the page was reloaded.
    pub async fn mark_document(&self) {
        self.eval("window.__sameDocument = true; return true;").await;
    }

    pub async fn same_document(&self) -> bool {
        self.eval("return window.__sameDocument === true;").await == Value::Bool(true)
    }

    /// Saves a PNG of the window into docs/screenshots when
    /// `SCRAPE_SCREENSHOTS` is set.
    pub async fn screenshot(&self, name: &str, width: u32, height: u32) {
        if std::env::var_os("SCRAPE_SCREENSHOTS").is_none() {
            return;
        }
        self.client.set_window_size(width, height).await.expect("resize");
        let png = self.client.screenshot().await.expect("screenshot");
        // This package is tests/ in the repository.
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot directory");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write the screenshot");
    }
}

impl Drop for Browser {
    /// A test that failed leaves no Chromium behind: the whole process
    /// group of its chromedriver goes.
    fn drop(&mut self) {
        if let Some(pid) = self.driver.id() {
            let _ = std::process::Command::new("kill").args(["-KILL", "--"]).arg(format!("-{pid}")).status();
        }
    }
}
