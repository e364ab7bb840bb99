//! Headless Chromium through chromedriver (Debian's `chromium` and `chromium-driver`), driven
//! with fantoccini over WebDriver. Each test starts its own chromedriver on a free port and
//! saves a numbered screenshot of each step under `target/browser-screenshots/<test>/`.

use std::{
    path::PathBuf,
    process::Stdio,
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tokio::process::{Child, Command};

fn binary(env: &str, default: &str) -> String {
    let path = std::env::var(env).unwrap_or_else(|_| default.to_owned());
    assert!(
        std::path::Path::new(&path).is_file(),
        "{path} not found: browser tests need Debian's chromium and chromium-driver \
         (apt-get install chromium chromium-driver; .ci/checks/storefront.sh installs pinned versions) \
         or {env} pointing at the binary"
    );
    path
}

/// Where this run's screenshots go: `<target dir>/browser-screenshots/<test>/`.
fn screenshot_dir(test: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("browser-screenshots").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create screenshot directory");
    dir
}

/// A browser session for one test.
pub struct Driver {
    pub client: Client,
    chromedriver: Child,
    /// Chromium's profile folder; removed when the driver drops, after `Drop` killed the browser.
    _profile: tempfile::TempDir,
    shots: PathBuf,
    step: AtomicUsize,
}

impl Driver {
    /// Starts chromedriver and a headless Chromium with a `width` x `height` window.
    pub async fn start(test: &str, width: u32, height: u32) -> Driver {
        let chromedriver_bin = binary("CHROMEDRIVER", "/usr/bin/chromedriver");
        let chromium_bin = binary("CHROME_BIN", "/usr/bin/chromium");
        let port = shopkit::localdb::free_port().expect("free port");
        // Its own process group, which Chromium joins: dropping the driver (also when a test
        // panics) kills the group, so no browser outlives the test.
        let chromedriver = Command::new(chromedriver_bin)
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while !reqwest::get(format!("{url}/status")).await.is_ok_and(|r| r.status().is_success()) {
            assert!(Instant::now() < deadline, "chromedriver did not start within 20 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile =
            tempfile::Builder::new().prefix("storefront-chromium-").tempdir().expect("chromium profile folder");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium_bin,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-extensions", "--hide-scrollbars",
                    format!("--user-data-dir={}", profile.path().display()),
                    format!("--window-size={width},{height}")],
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&url)
            .await
            .expect("start a Chromium session");
        client.set_window_size(width, height).await.expect("window size");
        Driver { client, chromedriver, _profile: profile, shots: screenshot_dir(test), step: AtomicUsize::new(0) }
    }

    /// Saves a screenshot of the current page as `NN-label.png`.
    pub async fn shot(&self, label: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        let n = self.step.fetch_add(1, Ordering::SeqCst) + 1;
        std::fs::write(self.shots.join(format!("{n:02}-{label}.png")), png).expect("write screenshot");
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The first element matching `css`, waiting up to 20 s for it to appear.
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self.client.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) => panic!("find {css} on {}: {e}", self.path().await),
        }
    }

    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        element.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let element = self.find(css).await;
        element.clear().await.unwrap_or_else(|e| panic!("clear {css}: {e}"));
        element.send_keys(value).await.unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// The visible text of the first element matching `css`. Retried for up to 20 s when the
    /// element goes stale (the page it was found on was replaced by the next one meanwhile).
    pub async fn text(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match self.find(css).await.text().await {
                Ok(text) => return text,
                Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(50)).await,
                Err(e) => panic!("text of {css}: {e}"),
            }
        }
    }

    /// Waits (up to 20 s) until the current URL contains `part` (a query after a GET form).
    pub async fn wait_for_url_containing(&self, part: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.client.current_url().await.expect("url").as_str().contains(part) {
            assert!(Instant::now() < deadline, "the URL never contained {part}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The path of the current page.
    pub async fn path(&self) -> String {
        self.client.current_url().await.expect("url").path().to_owned()
    }

    /// The elements that stick out of the window on the right (sideways scrolling on a phone),
    /// as `tag.class` names; empty when the page fits.
    pub async fn overflowing_elements(&self) -> Vec<String> {
        let found = self
            .client
            .execute(
                "return Array.from(document.querySelectorAll('body *'))
                   .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
                   .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''));",
                vec![],
            )
            .await
            .expect("measure");
        serde_json::from_value(found).unwrap_or_default()
    }

    /// Waits (up to 20 s) until the browser is at `path`: a click that submits a form returns
    /// before the next page has loaded when the machine is busy.
    pub async fn wait_for_path(&self, path: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.path().await != path {
            assert!(Instant::now() < deadline, "still at {} instead of {path}", self.path().await);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Reloads the current page.
    pub async fn refresh_check(&self) {
        self.client.refresh().await.expect("reload");
    }

    /// Ends the browser session (then `Drop` stops chromedriver and the browser).
    /// From the cart's Check out: the delivery form (a Paris address, standard shipping), then
    /// the review page, whose "Place order" opens the pay page. Screenshots `<label>-delivery`
    /// and `<label>-review`.
    pub async fn check_out_to_paris(&self, label: &str) {
        self.click("#checkout").await;
        self.wait_for_path("/checkout/delivery").await;
        self.fill("input[name=line1]", "12 rue des Lilas").await;
        self.fill("input[name=postal_code]", "75011").await;
        self.fill("input[name=city]", "Paris").await;
        self.shot(&format!("{label}-delivery")).await;
        self.click("#to-review").await;
        self.wait_for_path("/checkout/review").await;
        self.shot(&format!("{label}-review")).await;
        self.click("#place-order").await;
        self.find("#card-number").await;
    }

    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(pid) = self.chromedriver.id() {
            let _ = std::process::Command::new("kill").args(["-KILL", "--", &format!("-{pid}")]).status();
        }
    }
}
