//! Faults and abuse, against the real binary over real HTTP, on real PostgreSQL
//! servers that are killed and restarted by their pids:
//!
//! - `kill -9` of the embedded postmaster under 16 writers: no acknowledged write is
//!   lost, none is half written, the service process never restarts, and it answers
//!   again within 5 s of the database being back (which the service sees to itself);
//! - a clean restart of an external server: no client sees an error 2 s after it is up;
//! - SIGTERM under 16 writers: every acknowledged write is there, the exit is clean;
//! - abusive documents (deep nesting, duplicate fields, exponential fragments,
//!   inflating bodies, invented operation names) are refused or merged at once, with no
//!   SQL, and the process stays up;
//! - a read soak at 64 connections keeps resident memory flat.
//!
//! Each test prints its figures (`figure: …` lines). `bench/faults` runs them on the
//! release binary with the full soak (`CLAIMTRACK_FAULTS_SOAK_SECS=60`) and collects
//! the figures for bench/RESULTS.md; in the test suite they run on the debug binary
//! with a short soak, and the timing bounds meant for the release binary are loosened
//! unless `CLAIMTRACK_FAULTS_STRICT` is set.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use flate2::Compression;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use sea_orm::{ConnectionTrait, Database as Connect, Statement};
use serde_json::{Value, json};
use tests::TestDb;
use tests::http::gzip;
use tests::process::{
    Database, PrivateCluster, Service, graphql, keep_alive_agent, restart_cluster_fast,
    run_command, sample,
};

const CREATE_SPEAKER: &str = "mutation Write($name: String!) {
    createSpeaker(input: { name: $name, kind: PERSON }) { speaker { id } }
}";

fn strict() -> bool {
    std::env::var_os("CLAIMTRACK_FAULTS_STRICT").is_some()
}

/// A bound on the release binary's time, loosened tenfold for a debug build on a
/// busy machine unless the run is strict.
fn bound(release: Duration) -> Duration {
    if strict() { release } else { release * 10 }
}

fn figure(name: &str, value: impl std::fmt::Display) {
    eprintln!("figure: {name} = {value}");
}

/// What one writer or reader saw.
#[derive(Default)]
struct Seen {
    /// Acknowledged writes: when, and the id written.
    acknowledged: Vec<(Instant, String)>,
    /// Failures: when, the HTTP status (0: no answer) and the error's code.
    failures: Vec<(Instant, u16, String)>,
    answered: usize,
}

impl Seen {
    fn merge(all: Vec<JoinHandle<Seen>>) -> Seen {
        let mut seen = Seen::default();
        for one in all {
            let one = one.join().expect("a client thread");
            seen.acknowledged.extend(one.acknowledged);
            seen.failures.extend(one.failures);
            seen.answered += one.answered;
        }
        seen
    }

    fn codes(&self) -> Vec<(u16, String)> {
        let mut codes: Vec<(u16, String)> = self
            .failures
            .iter()
            .map(|(_, status, code)| (*status, code.clone()))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        codes.sort();
        codes
    }
}

/// `n` writers creating speakers until `stop`, each on a connection of its own.
fn writers(
    service: &Service,
    key: &str,
    n: usize,
    stop: &Arc<AtomicBool>,
) -> Vec<JoinHandle<Seen>> {
    (0..n)
        .map(|w| {
            let (url, key, stop) = (service.url("/graphql"), key.to_owned(), stop.clone());
            std::thread::spawn(move || {
                let agent = keep_alive_agent();
                let mut seen = Seen::default();
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let name = format!("Writer {w} number {i}");
                    let (status, body) = graphql(
                        &agent,
                        &url,
                        Some(&key),
                        CREATE_SPEAKER,
                        json!({ "name": name }),
                    );
                    let id = body["data"]["createSpeaker"]["speaker"]["id"].as_str();
                    match (status, id) {
                        (200, Some(id)) => seen.acknowledged.push((Instant::now(), id.to_owned())),
                        _ => {
                            let code = body["errors"][0]["extensions"]["code"]
                                .as_str()
                                .unwrap_or_default()
                                .to_owned();
                            seen.failures.push((Instant::now(), status, code));
                            std::thread::sleep(Duration::from_millis(20));
                        }
                    }
                    seen.answered += 1;
                }
                seen
            })
        })
        .collect()
}

/// `n` readers asking `query` until `stop`, each on a connection of its own.
fn readers(
    service: &Service,
    query: &'static str,
    n: usize,
    stop: &Arc<AtomicBool>,
) -> Vec<JoinHandle<Seen>> {
    (0..n)
        .map(|_| {
            let (url, stop) = (service.url("/graphql"), stop.clone());
            std::thread::spawn(move || {
                let agent = keep_alive_agent();
                let mut seen = Seen::default();
                while !stop.load(Ordering::Relaxed) {
                    let (status, body) = graphql(&agent, &url, None, query, json!({}));
                    if status != 200 || body.get("errors").is_some() {
                        let code = body["errors"][0]["extensions"]["code"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned();
                        seen.failures.push((Instant::now(), status, code));
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    seen.answered += 1;
                }
                seen
            })
        })
        .collect()
}

/// The ids of the speakers in the database at `url`, and how many have no revision.
async fn speakers_in(url: &str) -> (HashSet<String>, i64) {
    let db = Connect::connect(url).await.expect("connect");
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id::text FROM speaker",
        ))
        .await
        .expect("speakers");
    let ids = rows
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).expect("an id"))
        .collect();
    let unrevised = tests::scalar::<i64>(
        &db,
        "SELECT count(*) FROM speaker s WHERE NOT EXISTS \
         (SELECT 1 FROM revision r WHERE r.entity_id = s.id AND r.action = 'CREATE')",
    )
    .await;
    db.close().await.ok();
    (ids, unrevised)
}

/// Whether the postmaster of the cluster is a new one, up and accepting connections.
fn cluster_back(cluster: &PrivateCluster, killed: i32) -> bool {
    let Ok(pgdata) = std::fs::canonicalize(cluster.data_dir().join("postgres")) else {
        return false;
    };
    let Ok(pid_file) = std::fs::read_to_string(pgdata.join("postmaster.pid")) else {
        return false;
    };
    let lines: Vec<&str> = pid_file.lines().map(str::trim).collect();
    lines
        .first()
        .and_then(|p| p.parse::<i32>().ok())
        .is_some_and(|p| p != killed)
        && lines.get(7) == Some(&"ready")
}

#[test]
fn killing_the_embedded_postgres_under_sixteen_writers_loses_nothing_acknowledged() {
    let cluster = PrivateCluster::new("faults-kill");
    let database = Database::Embedded(cluster.data_dir());
    let mut service = Service::start_on(
        Database::Embedded(cluster.data_dir()),
        &["--no-demo", "--rate-limit-per-key", "0"],
    );
    let pid = service.pid();
    let key = run_command(
        &database,
        &["keys", "create", "--name", "faults", "--role", "editor"],
    );
    let key = key.trim();

    let stop = Arc::new(AtomicBool::new(false));
    let load = writers(&service, key, 16, &stop);
    std::thread::sleep(Duration::from_millis(1500));
    let postmaster = cluster.postmaster_pid().expect("a running postmaster");
    kill(Pid::from_raw(postmaster), Signal::SIGKILL).expect("kill -9 the postmaster");
    let killed_at = Instant::now();
    let back_at = loop {
        if cluster_back(&cluster, postmaster) {
            break Instant::now();
        }
        assert!(
            killed_at.elapsed() < Duration::from_secs(60),
            "the service did not start its database again: {:#?}",
            service.log_lines()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    // Writing goes on until well after the first write acknowledged again.
    std::thread::sleep(Duration::from_secs(4));
    stop.store(true, Ordering::Relaxed);
    let seen = Seen::merge(load);

    assert!(service.running(), "the service process ended");
    assert_eq!(service.pid(), pid, "the service process was replaced");
    let answering_at = seen
        .acknowledged
        .iter()
        .map(|(at, _)| *at)
        .filter(|at| *at > back_at)
        .min()
        .expect("writes acknowledged after the database was back");
    let before_kill = seen
        .acknowledged
        .iter()
        .filter(|(at, _)| *at < killed_at)
        .count();
    assert!(before_kill > 0, "no write before the kill");
    let recovery = answering_at.saturating_duration_since(back_at);
    assert!(
        recovery < Duration::from_secs(5),
        "answering again {recovery:?} after the database was back"
    );
    // What failed, failed as unavailable: nothing internal, nothing unexplained.
    for (_, status, code) in &seen.failures {
        assert!(
            *status == 503 && code == "UNAVAILABLE",
            "a write failed with {status} {code}: {:?}; the service's log:\n{}",
            seen.codes(),
            service.log_lines().join("\n")
        );
    }
    let url = tokio::runtime::Runtime::new()
        .expect("a runtime")
        .block_on(async {
            let url = claimtrack::embedded::status(&cluster.options)
                .await
                .expect("status")
                .expect("the cluster runs");
            speakers_in(&url).await
        });
    let (stored, unrevised) = url;
    let lost: Vec<&String> = seen
        .acknowledged
        .iter()
        .map(|(_, id)| id)
        .filter(|id| !stored.contains(*id))
        .collect();
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    assert_eq!(unrevised, 0, "a speaker without its revision");
    figure("kill.acknowledged", seen.acknowledged.len());
    figure("kill.refused_503", seen.failures.len());
    figure(
        "kill.database_back_ms",
        back_at.duration_since(killed_at).as_millis(),
    );
    figure("kill.answering_after_back_ms", recovery.as_millis());
    figure("kill.lost", lost.len());
    service.sigterm();
    assert!(service.wait_exit(Duration::from_secs(30)).success());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clean_restart_of_an_external_database_reaches_no_client_two_seconds_after() {
    let private = PrivateCluster::new("faults-restart");
    let cluster = private.start().await;
    let url = cluster.database_url().to_owned();
    let pgdata = cluster.cluster_dir().to_path_buf();
    let (up_at, seen, service) = tokio::task::spawn_blocking(move || {
        let service = Service::start(&url, &["--rate-limit-per-ip", "0"]);
        let stop = Arc::new(AtomicBool::new(false));
        let load = readers(&service, "{ speakers(first: 5) { totalCount } }", 8, &stop);
        std::thread::sleep(Duration::from_millis(1000));
        restart_cluster_fast(&pgdata);
        let up_at = Instant::now();
        std::thread::sleep(Duration::from_secs(5));
        stop.store(true, Ordering::Relaxed);
        (up_at, Seen::merge(load), service)
    })
    .await
    .expect("the load");
    let late: Vec<&(Instant, u16, String)> = seen
        .failures
        .iter()
        .filter(|(at, _, _)| *at > up_at + Duration::from_secs(2))
        .collect();
    assert!(
        late.is_empty(),
        "errors 2 s after the restart: {:?}",
        seen.codes()
    );
    for (_, status, code) in &seen.failures {
        assert!(
            *status == 503 && code == "UNAVAILABLE",
            "a read failed with {status} {code}"
        );
    }
    assert!(seen.answered > 100, "only {} reads", seen.answered);
    figure("restart.reads", seen.answered);
    figure("restart.refused_during_restart", seen.failures.len());
    figure("restart.errors_after_2s", late.len());
    // The compiled reads' pipelined connections, lost with the server, are opened again
    // (the pool answered meanwhile): reads sent now are answered on them.
    let pipelined = |service: &Service| {
        sample(
            &service.metrics(),
            "claimtrack_sql_pipelined_total{result=\"answered\"}",
        )
        .unwrap_or(0.0)
    };
    let service = tokio::task::spawn_blocking(move || {
        let before = pipelined(&service);
        let agent = keep_alive_agent();
        let deadline = Instant::now() + Duration::from_secs(20);
        while pipelined(&service) <= before {
            assert!(Instant::now() < deadline, "the pipeline is not back");
            let query = "{ speakers(first: 5) { totalCount } }";
            let (status, _) = graphql(&agent, &service.url("/graphql"), None, query, json!({}));
            assert_eq!(status, 200);
            std::thread::sleep(Duration::from_millis(50));
        }
        service
    })
    .await
    .expect("the pipeline back");
    drop(service);
    cluster.stop().await.expect("stop the cluster");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_under_sixteen_writers_keeps_every_acknowledged_write() {
    let db = TestDb::new().await;
    let key = db.key(entity::ApiRole::Editor).await;
    let url = db.url();
    let (seen, status, took) = tokio::task::spawn_blocking(move || {
        let mut service = Service::start(&url, &["--no-migrate", "--rate-limit-per-key", "0"]);
        let stop = Arc::new(AtomicBool::new(false));
        let load = writers(&service, &key, 16, &stop);
        std::thread::sleep(Duration::from_millis(1500));
        service.sigterm();
        let asked = Instant::now();
        let status = service.wait_exit(Duration::from_secs(30));
        let took = asked.elapsed();
        stop.store(true, Ordering::Relaxed);
        (Seen::merge(load), status, took)
    })
    .await
    .expect("the load");
    assert!(status.success(), "exit status {status}");
    let (stored, unrevised) = speakers_in(&db.url()).await;
    let lost = seen
        .acknowledged
        .iter()
        .filter(|(_, id)| !stored.contains(id))
        .count();
    assert_eq!(lost, 0, "acknowledged writes lost");
    assert_eq!(unrevised, 0, "a speaker without its revision");
    for (_, status, code) in &seen.failures {
        assert!(
            *status == 0 || *status == 503,
            "a write got {status} {code} while the service stopped"
        );
    }
    figure("sigterm.acknowledged", seen.acknowledged.len());
    figure("sigterm.exit_ms", took.as_millis());
}

/// SQL statements the service's GraphQL requests have issued, from its metrics.
fn request_sql(service: &Service) -> f64 {
    sample(
        &service.metrics(),
        "claimtrack_graphql_request_sql_statements_sum",
    )
    .unwrap_or(0.0)
}

/// A document nesting an argument value `n` deep: `{a:{a:…1…}}`.
fn nested_value(n: usize) -> String {
    format!("{{ nosuch(x: {}1{}) }}", "{a:".repeat(n), "}".repeat(n))
}

#[tokio::test(flavor = "multi_thread")]
async fn abusive_documents_are_refused_or_merged_at_once_without_sql() {
    let db = TestDb::new().await;
    let speaker = db
        .created("mutation { createSpeaker(input: { name: \"Abuse Target\", kind: PERSON }) { speaker { id } } }")
        .await;
    let claim = db
        .created("mutation { createClaim(input: { text: \"An abused claim\" }) { claim { id } } }")
        .await;
    let url = db.url();
    tokio::task::spawn_blocking(move || {
        let mut service = Service::start(&url, &["--no-migrate", "--rate-limit-per-ip", "0"]);
        let pid = service.pid();
        let agent = keep_alive_agent();
        let json_headers = [("content-type", "application/json")];

        // Refused before anything recursive or any SQL runs.
        let deep_selection = format!("{{ {}id{} }}", "speaker { ".repeat(2000), " }".repeat(2000));
        let deep_list = format!("{{ nosuch(x: {}1{}) }}", "[".repeat(2000), "]".repeat(2000));
        let deep_directive = format!(
            "{{ viewer @include(if: {}true{}) {{ role }} }}",
            "{a:".repeat(2000),
            "}".repeat(2000)
        );
        let variants = format!(
            "query({}) {{ {} }}",
            (0..9).map(|i| format!("$v{i}: Boolean!")).collect::<Vec<_>>().join(" "),
            (0..9)
                .map(|i| format!("scorecard(speakerId: \"{speaker}\") @include(if: $v{i}) {{ statements }}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let refused: Vec<(&str, String)> = vec![
            ("deep value", nested_value(2000)),
            ("deep selection", deep_selection),
            ("deep list", deep_list),
            ("deep directive argument", deep_directive),
            ("nine variants under one key", variants),
            ("NUL in a lookup", "{ claim(slug: \"a\\u0000b\") { slug } }".to_owned()),
            ("NUL in a search", "{ search(query: \"cyber\\u0000\") { totalCount } }".to_owned()),
            ("document over 32 KiB", format!("{{ viewer {{ role }} }} #{}", "x".repeat(40_000))),
        ];
        for (name, query) in refused {
            let sql = request_sql(&service);
            let asked = Instant::now();
            let (status, body) = service.graphql(&agent, None, &query, json!({}));
            let took = asked.elapsed();
            assert_eq!(status, 200, "{name}: {body}");
            assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{name}: {body}");
            assert!(body["data"].is_null(), "{name}: {body}");
            assert_eq!(request_sql(&service), sql, "{name} ran SQL");
            assert!(took < bound(Duration::from_millis(50)), "{name} took {took:?}");
            figure(&format!("abuse.refused.{}_ms", name.replace(' ', "_")), format!("{:.1}", took.as_secs_f64() * 1000.0));
        }
        // The same through GET.
        let get = format!("{}?query={}", service.url("/graphql"), url::form_urlencoded::byte_serialize(nested_value(2000).as_bytes()).collect::<String>());
        let mut response = agent.get(&get).call().expect("GET");
        let body: Value = response.body_mut().read_json().expect("JSON");
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");

        // Fields repeated under one key run once: as many statements as one of them.
        let once = |query: &str| {
            let sql = request_sql(&service);
            let asked = Instant::now();
            let variables = json!({ "s": speaker, "c": claim });
            let (status, body) = service.graphql(&agent, None, query, variables);
            assert_eq!(status, 200, "{body}");
            assert!(body.get("errors").is_none(), "{body}");
            (request_sql(&service) - sql, asked.elapsed())
        };
        // Written tight, as an abuser would, to fit under the document limit.
        let scorecard = "scorecard(speakerId:$s){statements}";
        let (one_scorecard, _) = once(&format!("query($s: ID!) {{ {scorecard} }}"));
        let (repeated, took) = once(&format!("query($s: ID!) {{ {} }}", scorecard.repeat(908)));
        assert_eq!(repeated, one_scorecard, "908 scorecards ran {repeated} statements, one runs {one_scorecard}");
        assert!(took < bound(Duration::from_millis(50)), "908 scorecards took {took:?}");
        figure("abuse.merged.scorecard_x908_sql", repeated);
        figure("abuse.merged.scorecard_x908_ms", format!("{:.1}", took.as_secs_f64() * 1000.0));
        let history = "positionHistory(speakerId:$s,claimId:$c){stance}";
        let (single, _) = once(&format!("query($s: ID!, $c: ID!) {{ {history} }}"));
        let (repeated, _) = once(&format!("query($s: ID!, $c: ID!) {{ {} }}", history.repeat(600)));
        assert_eq!(repeated, single, "600 histories ran {repeated} statements");
        figure("abuse.merged.position_history_x600_sql", repeated);
        let mut fragments = String::from("query($s: ID!) { ...F0 }");
        for i in 0..25 {
            fragments.push_str(&format!(" fragment F{i} on Query {{ ...F{n} ...F{n} }}", n = i + 1));
        }
        fragments.push_str(&format!(" fragment F25 on Query {{ {scorecard} }}"));
        let (sql, took) = once(&fragments);
        assert_eq!(sql, one_scorecard, "2^25 spreads of one scorecard ran {sql} statements");
        assert!(took < bound(Duration::from_millis(50)), "2^25 fragment spreads took {took:?}");
        figure("abuse.merged.fragments_2pow25_ms", format!("{:.1}", took.as_secs_f64() * 1000.0));

        // Bodies: an empty batch, one that inflates past the limit, one that is no gzip.
        let (status, _) = service.post_raw(&agent, b"[]", &json_headers);
        assert_eq!(status, 400);
        let (rss_before, _) = service.memory_kib();
        let mut bomb = b"{\"query\":\"{ viewer { role } }\",\"x\":\"".to_vec();
        bomb.extend(std::iter::repeat_n(b'a', 64 * 1024 * 1024));
        bomb.extend(b"\"}");
        let bomb = gzip(&bomb, Compression::best());
        let gzip_headers = [("content-type", "application/json"), ("content-encoding", "gzip")];
        let bombs: Vec<_> = (0..4)
            .map(|_| {
                let (url, bomb) = (service.url("/graphql"), bomb.clone());
                std::thread::spawn(move || {
                    tests::process::post_raw(&keep_alive_agent(), &url, &bomb, &[("content-type", "application/json"), ("content-encoding", "gzip")])
                })
            })
            .collect();
        for bomb in bombs {
            let (status, text) = bomb.join().expect("a client");
            assert_eq!(status, 413, "{text}");
            let body: Value = serde_json::from_str(&text).expect("a JSON body");
            assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        }
        let (rss_after, _) = service.memory_kib();
        assert!(
            rss_after < rss_before + 64 * 1024,
            "four inflating bodies took resident memory from {rss_before} to {rss_after} KiB"
        );
        figure("abuse.gzip_bombs_rss_growth_kib", rss_after.saturating_sub(rss_before));
        let (status, text) = service.post_raw(&agent, b"no gzip at all", &gzip_headers);
        assert_eq!(status, 400);
        assert!(text.contains("not valid gzip data"), "{text}");

        // Invented operation names: the scrape and the memory stay small.
        let (rss_before, _) = service.memory_kib();
        for i in 0..250 {
            let name = format!("N{i}{}", "x".repeat(32_000));
            let body = json!({ "query": format!("query {name} {{ viewer {{ role }} }}"), "operationName": name }).to_string();
            let (status, _) = service.post_raw(&agent, body.as_bytes(), &json_headers);
            assert_eq!(status, 200);
        }
        let scrape = service.metrics();
        let (rss_after, _) = service.memory_kib();
        assert!(scrape.len() < 1024 * 1024, "a scrape of {} bytes", scrape.len());
        assert!(rss_after < rss_before + 32 * 1024, "resident memory from {rss_before} to {rss_after} KiB");
        figure("abuse.operation_names_scrape_bytes", scrape.len());

        assert!(service.running(), "the service ended");
        assert_eq!(service.pid(), pid);
        assert_eq!(service.readyz().0, 200);
    })
    .await
    .expect("the test thread");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_soak_at_sixty_four_connections_keeps_memory_flat() {
    let seconds: u64 = std::env::var("CLAIMTRACK_FAULTS_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let db = TestDb::new().await;
    let url = db.url();
    tokio::task::spawn_blocking(move || {
        run_command(&Database::Url(&url), &["seed", "--demo"]);
        let service = Service::start(&url, &["--no-migrate", "--rate-limit-per-ip", "0"]);
        let page = "query Soak { speaker(slug: \"donald-trump\") { name statements(first: 20) { totalCount edges { node { text statedOn stances { stance claim { slug } } appearances { article { title outlet { name } } } } } } } }";
        let stop = Arc::new(AtomicBool::new(false));
        let load = readers(&service, page, 64, &stop);
        std::thread::sleep(Duration::from_secs(3));
        let (warm, _) = service.memory_kib();
        let started = Instant::now();
        std::thread::sleep(Duration::from_secs(seconds));
        stop.store(true, Ordering::Relaxed);
        let (end, peak) = service.memory_kib();
        let seen = Seen::merge(load);
        let rate = seen.answered as f64 / (started.elapsed().as_secs_f64() + 3.0);
        assert!(seen.failures.is_empty(), "{} failures: {:?}", seen.failures.len(), seen.codes());
        let growth = (end as f64 - warm as f64) / warm as f64;
        assert!(growth < 0.10, "resident memory grew {:.1} % ({warm} to {end} KiB)", growth * 100.0);
        figure("soak.seconds", seconds);
        figure("soak.requests", seen.answered);
        figure("soak.requests_per_second", format!("{rate:.0}"));
        figure("soak.rss_warm_kib", warm);
        figure("soak.rss_end_kib", end);
        figure("soak.rss_peak_kib", peak);
        figure("soak.rss_growth_percent", format!("{:.1}", growth * 100.0));
    })
    .await
    .expect("the test thread");
}
