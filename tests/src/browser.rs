//! A real browser for the pages the service renders: Debian's headless `chromium`,
//! driven over the DevTools protocol (see [`cdp`]), on a throwaway profile, with every
//! host but 127.0.0.1 unreachable so a page that needs the internet fails visibly.
//! [`open`] loads a page and returns what a test asserts on: the DOM after the scripts
//! ran, the console's errors and warnings, every URL the page requested (its frames'
//! and workers' too), and a screenshot under `target/screenshots/` (a CI artefact, not
//! committed).
//!
//! ```no_run
//! let page = tests::browser::open("http://127.0.0.1:8080/", "home");
//! assert!(page.errors().is_empty(), "{:#?}", page.console);
//! assert!(page.off_host_requests().is_empty(), "{:#?}", page.requests);
//! ```

mod cdp;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Debian's `chromium` (`apt-get install chromium`).
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// How to load a page.
#[derive(Debug, Clone)]
pub struct Options {
    /// A JavaScript expression polled (every 100 ms or so) until it is truthy before the
    /// page is taken: for a page that renders after a request of its own. It may act on
    /// the page (click a link) when that is harmless to repeat. An expression that
    /// throws fails the test. `None`: the load event, then a moment without requests.
    pub wait_until: Option<String>,
    /// How long loading and waiting may take in all; past it the test fails, with what
    /// the page showed.
    pub timeout: Duration,
    /// The window's width and height in CSS pixels (and the screenshot's).
    pub window: (u32, u32),
}

impl Default for Options {
    fn default() -> Self {
        Self {
            wait_until: None,
            timeout: Duration::from_secs(30),
            window: (1280, 800),
        }
    }
}

impl Options {
    /// The defaults, waiting until `expression` is truthy.
    pub fn until(expression: &str) -> Self {
        Self {
            wait_until: Some(expression.to_owned()),
            ..Self::default()
        }
    }
}

/// How serious a console message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
}

/// An error or a warning the page's console showed: from `console.error`/`warn`, an
/// uncaught exception, or the browser itself (a refused or failed load, a
/// Content-Security-Policy violation).
#[derive(Debug, Clone)]
pub struct ConsoleMessage {
    pub level: Level,
    /// `console-api`, `exception`, `navigation`, or the browser's log source
    /// (`network`, `security`, `javascript`, …).
    pub source: String,
    pub text: String,
    /// The script or resource it is about, when known.
    pub url: Option<String>,
}

/// A page as the browser left it.
#[derive(Debug, Clone)]
pub struct Page {
    pub url: String,
    /// `document.documentElement.outerHTML` after the scripts ran.
    pub dom: String,
    /// `document.body.innerText`: what a reader sees.
    pub text: String,
    /// Errors and warnings, in the order they came.
    pub console: Vec<ConsoleMessage>,
    /// Every URL the page requested, the page itself first, redirects included
    /// (`data:` URLs cut short).
    pub requests: Vec<String>,
    /// The PNG screenshot taken last.
    pub screenshot: PathBuf,
}

impl Page {
    /// The console's errors.
    pub fn errors(&self) -> Vec<&ConsoleMessage> {
        self.console
            .iter()
            .filter(|m| m.level == Level::Error)
            .collect()
    }

    /// Requests for anything not on 127.0.0.1 (`data:` and `blob:` URLs are not
    /// requests to a host).
    pub fn off_host_requests(&self) -> Vec<&str> {
        self.requests
            .iter()
            .map(String::as_str)
            .filter(|u| !(u.starts_with("data:") || u.starts_with("blob:")))
            .filter(|u| url::Url::parse(u).map_or(true, |u| u.host_str() != Some("127.0.0.1")))
            .collect()
    }
}

/// Loads `url` with the default [`Options`]; the screenshot is `target/screenshots/{name}.png`.
pub fn open(url: &str, name: &str) -> Page {
    open_with(url, name, &Options::default())
}

/// Loads `url` in a fresh headless chromium and returns the page once it has loaded
/// (see [`Options::wait_until`]); the screenshot is `target/screenshots/{name}.png`.
/// Fails the test when chromium is not installed, or when the page does not come within
/// the timeout (after writing the screenshot).
pub fn open_with(url: &str, name: &str, options: &Options) -> Page {
    assert!(
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "a screenshot name of letters, digits, - and _: {name:?}"
    );
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: the browser tests need Debian's chromium \
         (apt-get install chromium)"
    );
    let deadline = Instant::now() + options.timeout;
    let mut browser = cdp::Browser::launch(CHROMIUM, options.window);
    let target = browser.call(None, "Target.createTarget", json!({ "url": "about:blank" }));
    let target_id = target["targetId"].clone();
    let attached = browser.call(
        None,
        "Target.attachToTarget",
        json!({ "targetId": target_id, "flatten": true }),
    );
    let session = attached["sessionId"]
        .as_str()
        .expect("a DevTools session")
        .to_owned();
    let tab = Some(session.as_str());
    for domain in ["Page", "Runtime", "Log", "Network"] {
        browser.call(tab, &format!("{domain}.enable"), json!({}));
    }
    browser.follow_children(tab);
    let navigated = browser.call(tab, "Page.navigate", json!({ "url": url }));
    if let Some(error) = navigated["errorText"].as_str() {
        browser.record.console.push(ConsoleMessage {
            level: Level::Error,
            source: "navigation".to_owned(),
            text: error.to_owned(),
            url: Some(url.to_owned()),
        });
    }
    let mut waited = browser.wait(deadline, |b| b.record.loaded);
    if waited && let Some(expression) = &options.wait_until {
        waited = browser.wait(deadline, |b| truthy(&b.evaluate(tab, expression)));
    }
    // Whatever the page asks for next (or after its condition) is recorded too.
    let quiet = Duration::from_millis(500);
    browser.wait(deadline.min(Instant::now() + Duration::from_secs(5)), |b| {
        b.record.in_flight.is_empty() && b.record.last_activity.elapsed() >= quiet
    });
    let dom = browser.evaluate(tab, "document.documentElement.outerHTML");
    let text = browser.evaluate(tab, "document.body ? document.body.innerText : ''");
    let shot = browser.call(tab, "Page.captureScreenshot", json!({ "format": "png" }));
    let screenshot = screenshot_path(name);
    write_screenshot(&screenshot, shot["data"].as_str().unwrap_or_default());
    let page = Page {
        url: url.to_owned(),
        dom: dom.as_str().unwrap_or_default().to_owned(),
        text: text.as_str().unwrap_or_default().to_owned(),
        console: std::mem::take(&mut browser.record.console),
        requests: std::mem::take(&mut browser.record.requests),
        screenshot,
    };
    let log = browser.close();
    assert!(
        waited,
        "{url} did not {} within {:?}; screenshot {}\nconsole: {:#?}\nrequests: {:#?}\n\
         chromium's log:\n{log}",
        match &options.wait_until {
            Some(expression) => format!("load and make `{expression}` true"),
            None => "load".to_owned(),
        },
        options.timeout,
        page.screenshot.display(),
        page.console,
        page.requests,
    );
    page
}

/// JavaScript's truthiness of a value `Runtime.evaluate` returned.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0 && !n.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// `target/screenshots/{name}.png` (`CARGO_TARGET_DIR` when set).
fn screenshot_path(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::workspace_dir().join("target"));
    target.join("screenshots").join(format!("{name}.png"))
}

fn write_screenshot(path: &Path, base64_png: &str) {
    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD
        .decode(base64_png)
        .expect("a base64 screenshot");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("create target/screenshots");
    }
    std::fs::write(path, png).expect("write the screenshot");
}
