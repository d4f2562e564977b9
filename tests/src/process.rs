//! The real binary as a separate process: `claimtrack serve` on its own port (on a
//! database URL, or on an embedded cluster of its own), a blocking HTTP client, the
//! metrics it exposes, and private PostgreSQL clusters a test may stop, restart or
//! kill without disturbing any other test.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};

/// A loopback port nobody listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// An HTTP client that returns error statuses as responses, on fresh connections.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_idle_connections(0)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .new_agent()
}

/// An HTTP client keeping its connection open between requests (a load generator's).
pub fn keep_alive_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .new_agent()
}

/// Where a service finds its database.
pub enum Database<'a> {
    /// `DATABASE_URL`.
    Url(&'a str),
    /// An embedded cluster in this data dir.
    Embedded(&'a Path),
}

impl Database<'_> {
    fn apply(&self, command: &mut Command) {
        match self {
            Database::Url(url) => command.env("DATABASE_URL", url),
            Database::Embedded(dir) => command
                .env_remove("DATABASE_URL")
                .env("CLAIMTRACK_DATA_DIR", dir),
        };
    }
}

/// Runs a `claimtrack` command to completion; its standard output.
pub fn run_command(database: &Database<'_>, args: &[&str]) -> String {
    let mut command = Command::new(crate::claimtrack_binary());
    command.args(args).stderr(Stdio::inherit());
    database.apply(&mut command);
    let output = command.output().expect("run claimtrack");
    assert!(output.status.success(), "claimtrack {args:?} failed");
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// `claimtrack serve` on its own port, its stderr collected line by line.
pub struct Service {
    child: Child,
    pub port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

impl Service {
    /// Starts the service on `database_url` and waits until it is ready.
    pub fn start(database_url: &str, extra: &[&str]) -> Self {
        Self::start_on(Database::Url(database_url), extra)
    }

    /// Starts the service and waits until it is ready.
    pub fn start_on(database: Database<'_>, extra: &[&str]) -> Self {
        Self::launch(database, extra, &[])
    }

    /// [`Service::start`], with these environment variables set.
    pub fn start_with_env(database_url: &str, extra: &[&str], env: &[(&str, &str)]) -> Self {
        Self::launch(Database::Url(database_url), extra, env)
    }

    fn launch(database: Database<'_>, extra: &[&str], env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let mut command = Command::new(crate::claimtrack_binary());
        command
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(extra)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        database.apply(&mut command);
        let mut child = command.spawn().expect("start claimtrack serve");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("stderr");
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                lines.lock().expect("log lock").push(line);
            }
        });
        let service = Self { child, port, log };
        service.wait_ready(Duration::from_secs(120));
        service
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process still runs.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().expect("wait").is_none()
    }

    /// Resident memory now and at its peak, in KiB (`VmRSS`, `VmHWM`).
    pub fn memory_kib(&self) -> (u64, u64) {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).expect("/proc status");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    pub fn wait_ready(&self, limit: Duration) {
        let started = Instant::now();
        while started.elapsed() < limit {
            if self.readyz().0 == 200 {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "the service was not ready within {limit:?}; its log:\n{}",
            self.log_lines().join("\n")
        );
    }

    /// Status and `Retry-After` of `/readyz`; status 0 when nothing answers.
    pub fn readyz(&self) -> (u16, Option<String>) {
        match agent().get(&self.url("/readyz")).call() {
            Ok(r) => (
                r.status().as_u16(),
                r.headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
            ),
            Err(_) => (0, None),
        }
    }

    /// POSTs a query with a request id; returns the response's id header and body.
    pub fn post(&self, query: &str, request_id: &str) -> (Option<String>, Value) {
        let mut response = agent()
            .post(&self.url("/graphql"))
            .header("content-type", "application/json")
            .header("x-request-id", request_id)
            .send_json(json!({ "query": query }))
            .expect("POST /graphql");
        let id = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (id, response.body_mut().read_json().expect("a JSON body"))
    }

    /// POSTs a body as it is, with these headers (see [`post_raw`]).
    pub fn post_raw(
        &self,
        agent: &ureq::Agent,
        body: &[u8],
        headers: &[(&str, &str)],
    ) -> (u16, String) {
        post_raw(agent, &self.url("/graphql"), body, headers)
    }

    /// POSTs a query (see [`graphql`]).
    pub fn graphql(
        &self,
        agent: &ureq::Agent,
        key: Option<&str>,
        query: &str,
        variables: Value,
    ) -> (u16, Value) {
        graphql(agent, &self.url("/graphql"), key, query, variables)
    }

    pub fn metrics(&self) -> String {
        let mut response = agent()
            .get(&self.url("/metrics"))
            .call()
            .expect("GET /metrics");
        assert_eq!(response.status().as_u16(), 200);
        response.body_mut().read_to_string().expect("metrics text")
    }

    pub fn log_lines(&self) -> Vec<String> {
        self.log.lock().expect("log lock").clone()
    }

    pub fn sigterm(&self) {
        kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM).expect("SIGTERM");
    }

    /// Waits for the process to exit; panics after `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                started.elapsed() < limit,
                "claimtrack did not stop within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM);
        let _ = self.child.wait();
    }
}

/// POSTs a body as it is to `url`, with these headers; the status and the body as
/// text (status 0 and nothing when no answer came: the connection was refused or cut).
pub fn post_raw(
    agent: &ureq::Agent,
    url: &str,
    body: &[u8],
    headers: &[(&str, &str)],
) -> (u16, String) {
    let mut request = agent.post(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    match request.send(body) {
        Ok(mut r) => (
            r.status().as_u16(),
            r.body_mut().read_to_string().unwrap_or_default(),
        ),
        Err(_) => (0, String::new()),
    }
}

/// POSTs a GraphQL query with variables to `url`, as the holder of `key` when given;
/// the status and the body (`Value::Null` when there is none, with status 0).
pub fn graphql(
    agent: &ureq::Agent,
    url: &str,
    key: Option<&str>,
    query: &str,
    variables: Value,
) -> (u16, Value) {
    let body = json!({ "query": query, "variables": variables }).to_string();
    let bearer = key.map(|k| format!("Bearer {k}"));
    let mut headers = vec![("content-type", "application/json")];
    if let Some(bearer) = &bearer {
        headers.push(("authorization", bearer.as_str()));
    }
    let (status, text) = post_raw(agent, url, body.as_bytes(), &headers);
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The value of one sample line of the exposition, e.g.
/// `claimtrack_graphql_requests_total{operation="Probe",outcome="ok"}`.
pub fn sample(exposition: &str, series: &str) -> Option<f64> {
    exposition.lines().find_map(|line| {
        let rest = line.strip_prefix(series)?.strip_prefix(' ')?;
        rest.trim().parse().ok()
    })
}

/// A PostgreSQL cluster of the test's own, in a scratch data dir: stopping, killing or
/// restarting it disturbs no other test. Dropping it stops it and removes its files.
pub struct PrivateCluster {
    pub options: claimtrack::embedded::ClusterOptions,
}

impl PrivateCluster {
    /// A scratch data dir (nothing started yet); `label` names it.
    pub fn new(label: &str) -> Self {
        let data_dir = std::env::temp_dir().join(format!(
            "claimtrack-{label}-{}",
            uuid::Uuid::now_v7().simple()
        ));
        Self {
            options: claimtrack::embedded::ClusterOptions::new(data_dir),
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.options.data_dir
    }

    /// Initialises and starts the cluster in the scratch data dir.
    pub async fn start(&self) -> claimtrack::embedded::Cluster {
        claimtrack::embedded::Cluster::ensure_running(&self.options)
            .await
            .expect("start a private cluster")
    }

    /// The running server's postmaster pid, from its `postmaster.pid`.
    pub fn postmaster_pid(&self) -> Option<i32> {
        postmaster_pid_in(&std::fs::canonicalize(self.data_dir().join("postgres")).ok()?)
    }
}

/// The pid of the server running in `pgdata`, from its `postmaster.pid`.
pub fn postmaster_pid_in(pgdata: &Path) -> Option<i32> {
    std::fs::read_to_string(pgdata.join("postmaster.pid"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let options = self.options.clone();
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                let _ = rt.block_on(claimtrack::embedded::stop_running(&options));
            }
            let _ = std::fs::remove_dir_all(&options.data_dir);
        })
        .join();
    }
}

/// `pg_ctl` of the server that last ran in `pgdata`, to be run as the account owning
/// the cluster.
fn pg_ctl(pgdata: &Path) -> Command {
    // `postmaster.opts` names the server program of the last start; pg_ctl sits beside it.
    let opts = std::fs::read_to_string(pgdata.join("postmaster.opts")).expect("postmaster.opts");
    let postgres = opts.split_whitespace().next().expect("a program");
    let mut command = Command::new(Path::new(postgres.trim_matches('"')).with_file_name("pg_ctl"));
    command.current_dir("/").stdout(Stdio::null());
    let owner = std::fs::metadata(pgdata).expect("pgdata");
    if nix::unistd::geteuid().is_root() && owner.uid() != 0 {
        command.uid(owner.uid()).gid(owner.gid());
    }
    command
}

/// Starts a stopped cluster again on the port it had.
pub fn restart_cluster(pgdata: &Path, socket_dir: &Path, port: u16) {
    let status = pg_ctl(pgdata)
        .args(["start", "-w", "-t", "60", "-D"])
        .arg(pgdata)
        .arg("-l")
        .arg(pgdata.join("log").join("restart.log"))
        .arg("-o")
        .arg(format!(
            "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={}",
            socket_dir.display()
        ))
        .status()
        .expect("run pg_ctl");
    assert!(status.success(), "pg_ctl start failed");
}

/// `pg_ctl stop` of a running cluster in `mode` (`fast`, `immediate`).
pub fn stop_cluster(pgdata: &Path, mode: &str) {
    let status = pg_ctl(pgdata)
        .args(["stop", "-w", "-t", "60", "-m", mode, "-D"])
        .arg(pgdata)
        .status()
        .expect("run pg_ctl");
    assert!(status.success(), "pg_ctl stop failed");
}

/// `pg_ctl restart -m fast` of a running cluster: every session is ended.
pub fn restart_cluster_fast(pgdata: &Path) {
    let status = pg_ctl(pgdata)
        .args(["restart", "-w", "-t", "60", "-m", "fast", "-D"])
        .arg(pgdata)
        .arg("-l")
        .arg(pgdata.join("log").join("restart.log"))
        .status()
        .expect("run pg_ctl");
    assert!(status.success(), "pg_ctl restart failed");
}
