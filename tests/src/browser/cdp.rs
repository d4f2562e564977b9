//! The DevTools protocol over a pipe (`--remote-debugging-pipe`): chromium reads
//! commands on its fd 3 and writes replies and events on its fd 4, each a JSON message
//! ending in a NUL byte. A shell hands it our stdin and stdout pipes as those fds, so no
//! WebSocket client (nor a port) is needed. Events are recorded as they come.

use std::collections::{HashSet, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{ConsoleMessage, Level};

/// How long one command may take to be answered.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// A running headless chromium and what its page has done so far.
pub(super) struct Browser {
    child: Child,
    commands: ChildStdin,
    messages: Receiver<Value>,
    next_id: u64,
    profile: PathBuf,
    /// chromium's own log (stderr), less its D-Bus complaints: for failure messages.
    log: Arc<Mutex<Vec<String>>>,
    pub record: Record,
}

/// What the page did, from the protocol's events.
pub(super) struct Record {
    pub console: Vec<ConsoleMessage>,
    pub requests: Vec<String>,
    /// Requests sent and neither finished nor failed.
    pub in_flight: HashSet<String>,
    pub last_activity: Instant,
    /// The page's load event fired.
    pub loaded: bool,
    /// Sessions of frames and workers attached and not yet recorded.
    attached: VecDeque<String>,
}

impl Browser {
    /// Starts `chromium` headless on a throwaway profile, able to reach 127.0.0.1 only.
    pub fn launch(chromium: &str, (width, height): (u32, u32)) -> Self {
        let profile =
            std::env::temp_dir().join(format!("claimtrack-chromium-{}", uuid::Uuid::now_v7()));
        let mut child = Command::new("sh")
            // fd 3 and 4 are the pipes; stdin and stdout are not chromium's business.
            .arg("-c")
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>/dev/null"#)
            .arg(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--remote-debugging-pipe",
                &format!("--user-data-dir={}", profile.display()),
                &format!("--window-size={width},{height}"),
                // Host names other than 127.0.0.1 do not resolve, and whatever is not
                // loopback (an address literal) goes to a proxy that is not there.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--proxy-server=127.0.0.1:9",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-default-apps",
                "--disable-extensions",
                "--disable-sync",
                "--hide-scrollbars",
                "--mute-audio",
                "about:blank",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chromium");
        let commands = child.stdin.take().expect("chromium's command pipe");
        let replies = child.stdout.take().expect("chromium's reply pipe");
        let (sender, messages) = channel();
        std::thread::spawn(move || {
            let mut replies = BufReader::new(replies);
            let mut message = Vec::new();
            while matches!(replies.read_until(0, &mut message), Ok(n) if n > 0) {
                message.pop_if(|b| *b == 0);
                let Ok(value) = serde_json::from_slice::<Value>(&message) else {
                    return;
                };
                if sender.send(value).is_err() {
                    return;
                }
                message.clear();
            }
        });
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = log.clone();
        let stderr = child.stderr.take().expect("chromium's stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !line.contains("dbus") && !line.contains("D-Bus") {
                    lines.lock().expect("log lock").push(line);
                }
            }
        });
        Self {
            child,
            commands,
            messages,
            next_id: 0,
            profile,
            log,
            record: Record {
                console: Vec::new(),
                requests: Vec::new(),
                in_flight: HashSet::new(),
                last_activity: Instant::now(),
                loaded: false,
                attached: VecDeque::new(),
            },
        }
    }

    /// Sends a command (to the browser, or to the page's `session`) and returns its
    /// result, recording the events that come meanwhile; a refusal fails the test.
    pub fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        match self.try_call(session, method, params) {
            Ok(result) => result,
            Err(error) => panic!("chromium refused {method}: {error}"),
        }
    }

    /// Sends a command and returns its result, or the error chromium answered.
    fn try_call(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, Value> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        let mut bytes = message.to_string().into_bytes();
        bytes.push(0);
        if let Err(e) = self.commands.write_all(&bytes) {
            panic!("chromium took no command ({e}); its log:\n{}", self.log());
        }
        let deadline = Instant::now() + COMMAND_TIMEOUT;
        loop {
            let Some(message) = self.next_message(deadline) else {
                panic!(
                    "chromium did not answer {method} within {COMMAND_TIMEOUT:?}; its log:\n{}",
                    self.log()
                );
            };
            if message["id"].as_u64() != Some(id) {
                self.record.observe(&message);
                continue;
            }
            return match message.get("error") {
                Some(error) => Err(error.clone()),
                None => Ok(message["result"].clone()),
            };
        }
    }

    /// Follows what runs apart from the page (its frames from other sites, in processes
    /// of their own, and its workers): each is attached paused, so nothing it does
    /// goes unrecorded.
    pub fn follow_children(&mut self, session: Option<&str>) {
        self.call(session, "Target.setAutoAttach", auto_attach());
    }

    /// Starts recording the frames and workers attached since last asked, in the order
    /// they came, and lets them run. A domain one lacks is skipped.
    fn adopt_children(&mut self) {
        while let Some(child) = self.record.attached.pop_front() {
            let child = Some(child.as_str());
            for domain in ["Runtime", "Log", "Network"] {
                let _ = self.try_call(child, &format!("{domain}.enable"), json!({}));
            }
            let _ = self.try_call(child, "Target.setAutoAttach", auto_attach());
            let _ = self.try_call(child, "Runtime.runIfWaitingForDebugger", json!({}));
        }
    }

    /// Evaluates a JavaScript expression in the page; its value. An expression that
    /// throws fails the test.
    pub fn evaluate(&mut self, session: Option<&str>, expression: &str) -> Value {
        let result = self.call(
            session,
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true }),
        );
        if let Some(details) = result.get("exceptionDetails") {
            let thrown = details["exception"]["description"].as_str();
            panic!(
                "`{expression}` threw: {}",
                thrown.unwrap_or(details["text"].as_str().unwrap_or_default())
            );
        }
        result["result"]["value"].clone()
    }

    /// Records events until `done` holds (true) or the deadline passes (false); `done`
    /// is asked again at least every 100 ms.
    pub fn wait(&mut self, deadline: Instant, mut done: impl FnMut(&mut Self) -> bool) -> bool {
        loop {
            self.adopt_children();
            if done(self) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            let tick = deadline.min(Instant::now() + Duration::from_millis(100));
            if let Some(message) = self.next_message(tick) {
                self.record.observe(&message);
            }
        }
    }

    fn next_message(&mut self, deadline: Instant) -> Option<Value> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.messages.recv_timeout(left) {
            Ok(message) => Some(message),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => {
                panic!("chromium went away; its log:\n{}", self.log())
            }
        }
    }

    fn log(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    /// Closes the browser (see `Drop`); its log.
    pub fn close(self) -> String {
        self.log()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Asked to close, chromium leaves its profile tidy; it is killed if it lingers.
        let _ = self
            .commands
            .write_all(b"{\"id\":0,\"method\":\"Browser.close\"}\0");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn auto_attach() -> Value {
    json!({ "autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true })
}

/// A `data:` URL cut to its first 40 characters (fonts run to kilobytes).
fn shortened(url: String) -> String {
    match url.starts_with("data:") && url.len() > 40 {
        true => format!(
            "{}… ({} bytes)",
            &url[..url.floor_char_boundary(40)],
            url.len()
        ),
        false => url,
    }
}

impl Record {
    fn observe(&mut self, event: &Value) {
        let params = &event["params"];
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        match event["method"].as_str().unwrap_or_default() {
            "Page.loadEventFired" => self.loaded = true,
            // A child of a session we follow (not the page, which the browser attached).
            "Target.attachedToTarget" if event.get("sessionId").is_some() => {
                self.attached.push_back(text(&params["sessionId"]));
            }
            "Network.requestWillBeSent" => {
                self.requests
                    .push(shortened(text(&params["request"]["url"])));
                self.in_flight.insert(text(&params["requestId"]));
                self.last_activity = Instant::now();
            }
            "Network.loadingFinished" | "Network.loadingFailed" => {
                self.in_flight.remove(&text(&params["requestId"]));
                self.last_activity = Instant::now();
            }
            "Runtime.consoleAPICalled" => {
                let level = match params["type"].as_str() {
                    Some("error" | "assert") => Level::Error,
                    Some("warning") => Level::Warning,
                    _ => return,
                };
                let args = params["args"].as_array().map(Vec::as_slice).unwrap_or(&[]);
                let words: Vec<String> = args
                    .iter()
                    .map(|a| match &a["value"] {
                        Value::String(s) => s.clone(),
                        Value::Null => text(&a["description"]),
                        value => value.to_string(),
                    })
                    .collect();
                self.console.push(ConsoleMessage {
                    level,
                    source: "console-api".to_owned(),
                    text: words.join(" "),
                    url: params["stackTrace"]["callFrames"][0]["url"]
                        .as_str()
                        .filter(|u| !u.is_empty())
                        .map(str::to_owned),
                });
            }
            "Runtime.exceptionThrown" => {
                let details = &params["exceptionDetails"];
                let description = details["exception"]["description"].as_str();
                self.console.push(ConsoleMessage {
                    level: Level::Error,
                    source: "exception".to_owned(),
                    text: description.map_or_else(|| text(&details["text"]), str::to_owned),
                    url: details["url"].as_str().map(str::to_owned),
                });
            }
            "Log.entryAdded" => {
                let entry = &params["entry"];
                let level = match entry["level"].as_str() {
                    Some("error") => Level::Error,
                    Some("warning") => Level::Warning,
                    _ => return,
                };
                self.console.push(ConsoleMessage {
                    level,
                    source: text(&entry["source"]),
                    text: text(&entry["text"]),
                    url: entry["url"].as_str().map(str::to_owned),
                });
            }
            _ => {}
        }
    }
}
