//! The real binary, as a new user runs it: `claimtrack serve` with no DATABASE_URL
//! starts its own PostgreSQL, loads the demo data, answers the journalist's question,
//! and leaves nothing running after SIGTERM. Other commands use the same cluster.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};

const TRUMP_ON_THE_WORKING_GROUP: &str = r#"
query {
  speaker(slug: "donald-trump") {
    name
    statements(filter: {claimIds: [$CLAIM]}) {
      edges { node { statedOn text reportedBy { name } stances { stance claim { slug } } } }
    }
  }
}"#;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Processes whose command line mentions `needle` (the cluster's data dir).
fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(needle) {
                found.push(cmdline);
            }
        }
    }
    found
}

fn post(port: u16, query: &str) -> Value {
    post_as(port, None, query)
}

fn post_as(port: u16, key: Option<&str>, query: &str) -> Value {
    let mut request = ureq::post(&format!("http://127.0.0.1:{port}/graphql"))
        .header("content-type", "application/json");
    if let Some(key) = key {
        request = request.header("authorization", &format!("Bearer {key}"));
    }
    request
        .send_json(json!({ "query": query }))
        .expect("POST /graphql")
        .body_mut()
        .read_json()
        .expect("a JSON response")
}

struct Served {
    child: Child,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM);
        let _ = self.child.wait();
    }
}

fn serve(bin: &Path, data_dir: &Path, port: u16) -> Served {
    let child = Command::new(bin)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env_remove("DATABASE_URL")
        .env("CLAIMTRACK_DATA_DIR", data_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start claimtrack serve");
    Served { child }
}

fn wait_ready(port: u16, limit: Duration) -> Duration {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Ok(mut r) = ureq::get(&format!("http://127.0.0.1:{port}/readyz")).call()
            && r.body_mut()
                .read_to_string()
                .is_ok_and(|b| b.contains("ready"))
        {
            return started.elapsed();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the service was not ready within {limit:?}");
}

#[test]
fn serve_without_database_url_runs_the_demo_and_stops_cleanly_on_sigterm() {
    let bin = tests::claimtrack_binary();
    let data_dir = std::env::temp_dir().join(format!(
        "claimtrack-serve-{}",
        uuid::Uuid::now_v7().simple()
    ));
    let needle = data_dir.to_string_lossy().to_string();
    let port = free_port();

    let mut served = serve(&bin, &data_dir, port);
    let first_start = wait_ready(port, Duration::from_secs(120));
    eprintln!("first start (initdb, migrate, demo data): {first_start:?}");

    let claim = post(
        port,
        r#"{ claim(slug: "russia-us-cyber-security-working-group") { id } }"#,
    );
    let claim_id = claim["data"]["claim"]["id"]
        .as_str()
        .expect("the demo claim")
        .to_owned();
    let answer = post(
        port,
        &TRUMP_ON_THE_WORKING_GROUP.replace("$CLAIM", &format!("\"{claim_id}\"")),
    );
    let edges = answer["data"]["speaker"]["statements"]["edges"]
        .as_array()
        .expect("statements")
        .clone();
    let stances: Vec<(String, String)> = edges
        .iter()
        .map(|e| {
            let node = &e["node"];
            let stance = node["stances"]
                .as_array()
                .expect("stances")
                .iter()
                .find(|s| s["claim"]["slug"] == "russia-us-cyber-security-working-group")
                .expect("a stance on the claim");
            (
                node["statedOn"].as_str().unwrap_or_default().to_owned(),
                stance["stance"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        stances,
        vec![
            ("2017-07-07".to_owned(), "SUPPORTS".to_owned()),
            ("2017-07-09".to_owned(), "SUPPORTS".to_owned()),
            ("2017-07-09".to_owned(), "OPPOSES".to_owned()),
        ]
    );
    assert_eq!(edges[0]["node"]["reportedBy"]["name"], "Sergei Lavrov");

    // A write without a key is refused; an editor key made by the command line, on the
    // cluster the service runs on, writes; an empty statement is refused all the same.
    let create = r#"mutation { createSpeaker(input: {name: "Ada Example", kind: PERSON}) { speaker { id } } }"#;
    let anonymous = post(port, create);
    assert_eq!(
        anonymous["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    let made = Command::new(&bin)
        .args(["keys", "create", "--name", "serve test", "--role", "editor"])
        .env_remove("DATABASE_URL")
        .env("CLAIMTRACK_DATA_DIR", &data_dir)
        .output()
        .expect("run keys create");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let key = String::from_utf8(made.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();
    let created = post_as(port, Some(&key), create);
    assert!(
        created["data"]["createSpeaker"]["speaker"]["id"].is_string(),
        "{created}"
    );
    let refused = post_as(
        port,
        Some(&key),
        r#"mutation { createStatement(input: {speakerId: "00000000-0000-7000-8000-000000000000", text: "  ",
            kind: QUOTE, statedOn: "2017-07-09", language: "en"}) { statement { id } } }"#,
    );
    assert_eq!(refused["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(refused["errors"][0]["extensions"]["field"], "input.text");
    let total = post(port, "{ statements { totalCount } }");
    assert_eq!(total["data"]["statements"]["totalCount"], 7);

    assert!(
        !processes_mentioning(&needle).is_empty(),
        "the embedded cluster should be running"
    );
    kill(Pid::from_raw(served.child.id() as i32), Signal::SIGTERM).expect("SIGTERM");
    let stopping = Instant::now();
    let status = loop {
        if let Some(status) = served.child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            stopping.elapsed() < Duration::from_secs(30),
            "claimtrack did not stop within 30 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "claimtrack exited with {status}");
    assert_eq!(
        processes_mentioning(&needle),
        Vec::<String>::new(),
        "processes left behind after SIGTERM"
    );

    // A second start reuses the cluster and keeps the data; the demo is not loaded twice.
    let port = free_port();
    let served_again = serve(&bin, &data_dir, port);
    let warm_start = wait_ready(port, Duration::from_secs(60));
    eprintln!("warm start: {warm_start:?}");
    let total = post(port, "{ statements { totalCount } }");
    assert_eq!(total["data"]["statements"]["totalCount"], 7);

    // While it runs, another command uses the same cluster and leaves it running.
    let seeded = Command::new(&bin)
        .args(["seed", "--demo"])
        .env_remove("DATABASE_URL")
        .env("CLAIMTRACK_DATA_DIR", &data_dir)
        .output()
        .expect("run seed");
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let total = post(
        port,
        "{ statements { totalCount } speakers { totalCount } }",
    );
    assert_eq!(
        total["data"]["statements"]["totalCount"], 7,
        "seeding twice must not duplicate"
    );
    drop(served_again);
    assert_eq!(
        processes_mentioning(&needle),
        Vec::<String>::new(),
        "processes left behind"
    );

    // With nothing running, a command starts the cluster and stops it again.
    let seeded = Command::new(&bin)
        .args(["seed", "--demo"])
        .env_remove("DATABASE_URL")
        .env("CLAIMTRACK_DATA_DIR", &data_dir)
        .output()
        .expect("run seed");
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    assert_eq!(
        processes_mentioning(&needle),
        Vec::<String>::new(),
        "seed left the cluster running"
    );
    let _ = std::fs::remove_dir_all(&data_dir);
}
