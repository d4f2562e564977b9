//! Scaling out on PostgreSQL's own machinery, with real processes: a streaming replica
//! made by `pg_basebackup -R` serves the queries; a writer that sends back its
//! `ClaimTrack-LSN` always reads its write; a replica that stops, is killed or falls
//! behind is passed over without an error reaching a client, and takes reads again
//! once it is back.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tests::process::{Database, Service, keep_alive_agent, run_command, sample};
use tests::replica::Replicated;

const CREATE_SPEAKER: &str =
    "mutation($input: CreateSpeakerInput!) { createSpeaker(input: $input) { speaker { id } } }";
const SPEAKER: &str = "query($id: ID!) { speaker(id: $id) { id name } }";

/// A POST of `query` with `variables`, as `key`, sending `lsn` back when given: the
/// status, the `ClaimTrack-LSN` answered, and the body.
fn post(
    agent: &ureq::Agent,
    service: &Service,
    key: &str,
    lsn: Option<&str>,
    query: &str,
    variables: Value,
) -> (u16, Option<String>, Value) {
    let bearer = format!("Bearer {key}");
    let mut request = agent
        .post(&service.url("/graphql"))
        .header("content-type", "application/json")
        .header("authorization", &bearer);
    if let Some(lsn) = lsn {
        request = request.header("ClaimTrack-LSN", lsn);
    }
    let body = json!({ "query": query, "variables": variables }).to_string();
    match request.send(body.as_bytes()) {
        Ok(mut r) => {
            let lsn = r
                .headers()
                .get("claimtrack-lsn")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = r.body_mut().read_json().unwrap_or(Value::Null);
            (r.status().as_u16(), lsn, body)
        }
        Err(_) => (0, None, Value::Null),
    }
}

/// Reads counted at `/metrics` by server and reason.
fn reads(service: &Service, server: &str, reason: &str) -> f64 {
    let series = format!("claimtrack_reads_total{{reason=\"{reason}\",server=\"{server}\"}}");
    sample(&service.metrics(), &series).unwrap_or(0.0)
}

/// The one replica's state as `/readyz` reports it.
fn replica_state(service: &Service) -> String {
    let mut response = keep_alive_agent()
        .get(&service.url("/readyz"))
        .call()
        .expect("GET /readyz");
    let body: Value = response.body_mut().read_json().expect("JSON");
    body["replicas"][0]["state"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn wait_for_state(service: &Service, wanted: &str, limit: Duration) -> Duration {
    let began = Instant::now();
    loop {
        if replica_state(service) == wanted {
            return began.elapsed();
        }
        assert!(
            began.elapsed() < limit,
            "the replica was not {wanted} within {limit:?} (it is {}); the service's log:\n{}",
            replica_state(service),
            service.log_lines().join("\n")
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A service on the pair's primary, reading from its replica, and an editor's key.
fn serve(pair: &Replicated, extra: &[&str]) -> (Service, String) {
    let mut args = vec![
        "--database-replica-url",
        pair.replica_url.as_str(),
        "--rate-limit-per-ip",
        "0",
        "--rate-limit-per-key",
        "0",
    ];
    args.extend_from_slice(extra);
    let service = Service::start(&pair.primary_url, &args);
    let key = run_command(
        &Database::Url(&pair.primary_url),
        &["keys", "create", "--name", "scale", "--role", "editor"],
    );
    (service, key.trim().to_owned())
}

/// A primary and its replica, caught up, and a service reading from it that sees the
/// replica serving, with an editor's key.
async fn serving_pair(label: &str, max_lag_ms: &str) -> (Replicated, Service, String) {
    let pair = Replicated::start(label).await;
    let (service, key) = serve(&pair, &["--replica-max-lag-ms", max_lag_ms]);
    pair.caught_up(Duration::from_secs(30)).await;
    wait_for_state(&service, "serving", Duration::from_secs(30));
    (pair, service, key)
}

/// Creates a speaker through `service`; its id and the write's `ClaimTrack-LSN`.
fn create_speaker(
    agent: &ureq::Agent,
    service: &Service,
    key: &str,
    name: &str,
) -> (Value, String) {
    let input = json!({ "input": { "name": name, "kind": "PERSON" } });
    let (status, lsn, created) = post(agent, service, key, None, CREATE_SPEAKER, input);
    assert!(status == 200 && created["errors"].is_null(), "{created}");
    let lsn = lsn.expect("a write answers with its WAL position");
    assert_eq!(created["extensions"]["lsn"], lsn.as_str());
    (
        created["data"]["createSpeaker"]["speaker"]["id"].clone(),
        lsn,
    )
}

/// Reads a speaker back through `service`, after `lsn` when given; the body.
fn read_speaker(
    agent: &ureq::Agent,
    service: &Service,
    key: &str,
    lsn: Option<&str>,
    id: &Value,
) -> Value {
    post(agent, service, key, lsn, SPEAKER, json!({ "id": id })).2
}

async fn on_replica(pair: &Replicated, sql: &str) {
    let replica = sea_orm::Database::connect(&pair.replica_url)
        .await
        .expect("connect to the replica");
    sea_orm::ConnectionTrait::execute_unprepared(&replica, sql)
        .await
        .expect("run on the replica");
    replica.close().await.ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_replica_serves_reads_and_a_writer_always_reads_its_write() {
    let (pair, service, key) = serving_pair("scale-replica", "60000").await;
    let agent = keep_alive_agent();

    // Replay paused: the replica stays where it is, so what it serves is plainly its own.
    on_replica(&pair, "SELECT pg_wal_replay_pause()").await;
    let (id, lsn) = create_speaker(&agent, &service, &key, "Grace Hopper");

    // Without the position, the replica answers: it has not replayed the write.
    let replica_before = reads(&service, "replica", "replica");
    let plain = read_speaker(&agent, &service, &key, None, &id);
    assert_eq!(plain["data"]["speaker"], Value::Null, "{plain}");
    assert!(reads(&service, "replica", "replica") > replica_before);

    // With it, the primary answers while the replica is behind: the write is there.
    let behind_before = reads(&service, "primary", "behind");
    let mine = read_speaker(&agent, &service, &key, Some(&lsn), &id);
    assert_eq!(mine["data"]["speaker"]["name"], "Grace Hopper", "{mine}");
    assert!(reads(&service, "primary", "behind") > behind_before);

    // Replay resumed: once the replica has the write, it serves the writer too.
    on_replica(&pair, "SELECT pg_wal_replay_resume()").await;
    pair.caught_up(Duration::from_secs(30)).await;
    let began = Instant::now();
    loop {
        let before = reads(&service, "replica", "replica");
        let read = read_speaker(&agent, &service, &key, Some(&lsn), &id);
        assert_eq!(read["data"]["speaker"]["name"], "Grace Hopper", "{read}");
        if reads(&service, "replica", "replica") > before {
            break;
        }
        assert!(
            began.elapsed() < Duration::from_secs(10),
            "the replica never took the read"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // The same position sent as `extensions.lsn` (the way over WebSocket) works alike.
    on_replica(&pair, "SELECT pg_wal_replay_pause()").await;
    let (id, lsn) = create_speaker(&agent, &service, &key, "Katherine Johnson");
    let body = json!({ "query": SPEAKER, "variables": { "id": id }, "extensions": { "lsn": lsn } });
    let (_, text) = service.post_raw(
        &agent,
        body.to_string().as_bytes(),
        &[
            ("content-type", "application/json"),
            ("authorization", &format!("Bearer {key}")),
        ],
    );
    assert!(text.contains("Katherine Johnson"), "{text}");
    on_replica(&pair, "SELECT pg_wal_replay_resume()").await;

    // A position the service cannot read is refused, naming the header.
    let (status, _, refused) = post(
        &agent,
        &service,
        &key,
        Some("yesterday"),
        SPEAKER,
        json!({ "id": id }),
    );
    assert_eq!(status, 400);
    assert_eq!(refused["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("ClaimTrack-LSN")
    );

    // Editors writing and reading back at once, concurrently: no write is ever missed.
    let service = Arc::new(service);
    let missed = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..6)
        .map(|w| {
            let (service, key, missed) = (service.clone(), key.clone(), missed.clone());
            std::thread::spawn(move || {
                let agent = keep_alive_agent();
                for i in 0..25 {
                    let name = format!("Editor {w} speaker {i}");
                    let (id, lsn) = create_speaker(&agent, &service, &key, &name);
                    // Some at once, some a moment later, when the replica may have it.
                    std::thread::sleep(Duration::from_millis((i % 4) * 60));
                    let read = read_speaker(&agent, &service, &key, Some(&lsn), &id);
                    if read["data"]["speaker"]["name"] != name.as_str() {
                        missed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().expect("a writer");
    }
    assert_eq!(
        missed.load(Ordering::Relaxed),
        0,
        "a writer missed its own write"
    );
    assert!(reads(&service, "replica", "replica") > 0.0);
}

/// The benchmark's read scenarios (`bench/scenarios`), with the variables their
/// `# variables:` SQL picks on `db`.
async fn bench_reads(db: &sea_orm::DatabaseConnection) -> Vec<(String, String, Value)> {
    let dir = tests::workspace_dir().join("bench").join("scenarios");
    let mut reads = Vec::new();
    for entry in std::fs::read_dir(dir).expect("bench/scenarios") {
        let path = entry.expect("an entry").path();
        let text = std::fs::read_to_string(&path).expect("a scenario");
        if text.lines().any(|l| l.trim() == "# writes") {
            continue;
        }
        let picked = match text.lines().find_map(|l| l.strip_prefix("# variables:")) {
            Some(sql) => {
                let json: String =
                    tests::scalar(db, &format!("SELECT ({})::text", sql.trim())).await;
                let value: Value = serde_json::from_str(&json).expect("variables");
                match value {
                    Value::Array(mut all) => all.swap_remove(0),
                    one => one,
                }
            }
            None => json!({}),
        };
        let query: String = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        let name = path
            .file_stem()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        reads.push((name, query, picked));
    }
    reads
}

#[tokio::test(flavor = "multi_thread")]
async fn every_benchmarked_read_runs_on_a_replica_as_on_the_primary() {
    let pair = Replicated::start("scale-reads").await;
    let (service, key) = serve(&pair, &["--replica-max-lag-ms", "60000"]);
    run_command(
        &Database::Url(&pair.primary_url),
        &["generate", "--statements", "600"],
    );
    pair.caught_up(Duration::from_secs(30)).await;
    wait_for_state(&service, "serving", Duration::from_secs(30));
    let primary = sea_orm::Database::connect(&pair.primary_url)
        .await
        .expect("connect");
    let reads_list = bench_reads(&primary).await;
    assert!(reads_list.len() >= 6, "{} scenarios", reads_list.len());
    let agent = keep_alive_agent();
    for (name, query, variables) in reads_list {
        // Twice: the resolvers answer first, then the compiled statement where there is one.
        for round in 0..2 {
            let before = reads(&service, "replica", "replica");
            let (status, _, body) = post(&agent, &service, &key, None, &query, variables.clone());
            assert_eq!(status, 200, "{name}: {body}");
            assert!(body["errors"].is_null(), "{name} (round {round}): {body}");
            assert!(body["data"].is_object(), "{name}: {body}");
            assert!(
                reads(&service, "replica", "replica") > before,
                "{name}: not on the replica"
            );
        }
    }
    // The ClaimReview feed and a journalist's page are reads too.
    let speaker: String =
        tests::scalar(&primary, "SELECT slug FROM speaker ORDER BY id LIMIT 1").await;
    for path in [
        "/claimreview.json".to_owned(),
        format!("/speakers/{speaker}"),
    ] {
        let before = reads(&service, "replica", "replica");
        let mut response = agent.get(&service.url(&path)).call().expect("GET");
        assert_eq!(response.status().as_u16(), 200, "{path}");
        assert!(
            !response
                .body_mut()
                .read_to_string()
                .expect("a body")
                .is_empty()
        );
        assert!(
            reads(&service, "replica", "replica") > before,
            "{path}: not on the replica"
        );
    }
    primary.close().await.ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replica_outage_reaches_no_client_and_a_restarted_replica_serves_again() {
    let (pair, service, key) = serving_pair("scale-outage", "1000").await;
    let service = Arc::new(service);

    // Readers all along; every answer must be a whole one.
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (service, key) = (service.clone(), key.clone());
            let (stop, failures, answered) = (stop.clone(), failures.clone(), answered.clone());
            std::thread::spawn(move || {
                let agent = keep_alive_agent();
                let query = "{ speakers(first: 5) { totalCount nodes { id name } } }";
                while !stop.load(Ordering::Relaxed) {
                    let (status, _, body) = post(&agent, &service, &key, None, query, json!({}));
                    if status == 200
                        && body["errors"].is_null()
                        && body["data"]["speakers"].is_object()
                    {
                        answered.fetch_add(1, Ordering::Relaxed);
                    } else {
                        failures.fetch_add(1, Ordering::Relaxed);
                        eprintln!("a read failed: {status} {body}");
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let served_before = reads(&service, "replica", "replica");
    assert!(served_before > 0.0, "the replica served no reads");

    // Stopped at once, with its sessions cut mid-read.
    pair.stop_replica("immediate");
    let gone = wait_for_state(&service, "down", Duration::from_secs(5));
    assert!(
        gone <= Duration::from_millis(1000),
        "noticed only after {gone:?}"
    );
    let primary_before = reads(&service, "primary", "unhealthy");
    std::thread::sleep(Duration::from_millis(700));
    assert!(
        reads(&service, "primary", "unhealthy") > primary_before,
        "the primary took no reads"
    );

    // Back: it serves again.
    pair.start_replica();
    wait_for_state(&service, "serving", Duration::from_secs(30));
    let served = reads(&service, "replica", "replica");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        reads(&service, "replica", "replica") > served,
        "the restarted replica took no reads"
    );

    // Killed (SIGKILL to its postmaster): the same.
    let pid = pair.replica_pid().expect("the replica runs");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill the replica");
    wait_for_state(&service, "down", Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(500));
    // A killed postmaster leaves its backends to notice and exit; start it once they have.
    let began = Instant::now();
    loop {
        let started =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| pair.start_replica()));
        if started.is_ok() {
            break;
        }
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "the replica did not start again"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    wait_for_state(&service, "serving", Duration::from_secs(30));

    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        reader.join().expect("a reader");
    }
    assert_eq!(
        failures.load(Ordering::Relaxed),
        0,
        "a client saw the outage"
    );
    assert!(answered.load(Ordering::Relaxed) > 100);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replica_too_far_behind_is_passed_over_until_it_catches_up() {
    let (pair, service, key) = serving_pair("scale-lag", "500").await;
    let agent = keep_alive_agent();

    on_replica(&pair, "SELECT pg_wal_replay_pause()").await;
    create_speaker(&agent, &service, &key, "Behind");
    let lagging = wait_for_state(&service, "lagging", Duration::from_secs(5));
    assert!(
        lagging < Duration::from_secs(2),
        "lagging noticed after {lagging:?}"
    );
    // Passed over: a plain read sees the write, from the primary.
    let (_, _, read) = post(
        &agent,
        &service,
        &key,
        None,
        "{ speakers(first: 100) { nodes { name } } }",
        json!({}),
    );
    assert!(read.to_string().contains("Behind"), "{read}");

    on_replica(&pair, "SELECT pg_wal_replay_resume()").await;
    wait_for_state(&service, "serving", Duration::from_secs(10));
    let metrics = service.metrics();
    assert!(
        metrics.contains("claimtrack_replica_lag_seconds{replica="),
        "{metrics}"
    );
    assert!(
        metrics.contains("claimtrack_replica_serving{replica="),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_instances_share_one_database_through_pgbouncer() {
    let private = tests::process::PrivateCluster::new("scale-pooler");
    let cluster = private.start().await;
    let direct = cluster.database_url().to_owned();
    let pooler = tests::pooler::Pooler::start(&direct, cluster.cluster_dir(), "session", 12);

    // Through the pooler, the session settings still hold: sent with SET, not as
    // startup options (which PgBouncer refuses).
    let args = claimtrack::config::DbArgs {
        db_behind_pooler: true,
        db_statement_timeout_ms: 4_321,
        ..Default::default()
    };
    let db = claimtrack::db::connect(&pooler.url, &args)
        .await
        .expect("connect through the pooler");
    let timeout: String = tests::scalar(&db, "SHOW statement_timeout").await;
    let plans: String = tests::scalar(&db, "SHOW plan_cache_mode").await;
    let jit: String = tests::scalar(&db, "SHOW jit").await;
    assert_eq!(
        (timeout.as_str(), plans.as_str(), jit.as_str()),
        ("4321ms", "force_generic_plan", "off")
    );
    db.close().await.ok();

    let through_pooler = |extra: &[&str]| {
        let mut args = vec![
            "--db-behind-pooler",
            "--db-pool-size",
            "5",
            "--rate-limit-per-key",
            "0",
            "--rate-limit-per-ip",
            "0",
        ];
        args.extend_from_slice(extra);
        Service::start_with_env(&pooler.url, &args, &[("DATABASE_DIRECT_URL", &direct)])
    };
    let first = through_pooler(&[]);
    let second = through_pooler(&["--no-migrate"]);
    let key = run_command(
        &Database::Url(&direct),
        &["keys", "create", "--name", "pooled", "--role", "editor"],
    );
    let key = key.trim().to_owned();
    let queries_before = pooler.stat("STATS", "total_query_count");

    // Three editors on each instance, each reading its writes back through the other.
    let services = Arc::new([first, second]);
    let editors: Vec<_> = (0..6)
        .map(|e| {
            let (services, key) = (services.clone(), key.clone());
            std::thread::spawn(move || {
                let agent = keep_alive_agent();
                let (mine, other) = (&services[e % 2], &services[(e + 1) % 2]);
                for i in 0..15 {
                    let name = format!("Pooled {e}-{i}");
                    let (id, lsn) = create_speaker(&agent, mine, &key, &name);
                    let read = read_speaker(&agent, other, &key, Some(&lsn), &id);
                    assert_eq!(read["data"]["speaker"]["name"], name.as_str(), "{read}");
                }
            })
        })
        .collect();
    for editor in editors {
        editor.join().expect("an editor");
    }
    let primary = sea_orm::Database::connect(&direct).await.expect("connect");
    let written: i64 = tests::scalar(
        &primary,
        "SELECT count(*) FROM speaker WHERE name LIKE 'Pooled %'",
    )
    .await;
    assert_eq!(written, 90);
    // Every statement went through the pooler, over at most its 12 server connections.
    assert!(pooler.stat("STATS", "total_query_count") - queries_before >= 180);
    let servers: i64 = tests::scalar(
        &primary,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = 'claimtrack' AND application_name = 'claimtrack' AND client_port IS NOT NULL",
    )
    .await;
    assert!(servers <= 12 + 4, "{servers} server connections");
    // Behind a pooler, compiled reads take the pool's connections: none of their own
    // holds a server connection beside the pools.
    let pipelined: i64 = tests::scalar(
        &primary,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = 'claimtrack' AND application_name LIKE '% pipeline'",
    )
    .await;
    assert_eq!(pipelined, 0);
    primary.close().await.ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_revoked_on_one_instance_stops_working_on_every_instance_at_once() {
    let db = tests::TestDb::new().await;
    let url = db.url();
    let open = [
        "--no-migrate",
        "--rate-limit-per-key",
        "0",
        "--rate-limit-per-ip",
        "0",
    ];
    let (a, b) = (Service::start(&url, &open), Service::start(&url, &open));
    let admin = db.key(entity::ApiRole::Admin).await;
    let agent = keep_alive_agent();
    // Three rounds: each must beat the 5 s reload timer by far, so the timer cannot be
    // what made them (a round lands within 300 ms of a tick by chance 6 % of the time).
    for round in 0..3 {
        let (_, _, made) = post(
            &agent,
            &a,
            &admin,
            None,
            "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id } secret } }",
            json!({ "input": { "name": format!("Dashboard {round}"), "role": "READER" } }),
        );
        let id = made["data"]["createApiKey"]["apiKey"]["id"].clone();
        let secret = made["data"]["createApiKey"]["secret"]
            .as_str()
            .unwrap_or_else(|| panic!("a key: {made}"))
            .to_owned();
        let viewer = "{ viewer { role } }";
        let (status, _, seen) = post(&agent, &b, &secret, None, viewer, json!({}));
        assert_eq!(
            (status, &seen["data"]["viewer"]["role"]),
            (200, &json!("READER")),
            "{seen}"
        );

        let (_, _, revoked) = post(
            &agent,
            &a,
            &admin,
            None,
            "mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { apiKey { id } } }",
            json!({ "input": { "id": id } }),
        );
        assert!(revoked["errors"].is_null(), "{revoked}");
        let began = Instant::now();
        loop {
            let (status, _, _) = post(&agent, &b, &secret, None, viewer, json!({}));
            if status == 401 {
                break;
            }
            assert!(
                began.elapsed() < Duration::from_millis(300),
                "round {round}: the other instance still took the revoked key after {:?}",
                began.elapsed()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn subscriptions_follow_the_primary_while_the_replica_is_behind() {
    let (pair, service, key) = serving_pair("scale-live", "60000").await;
    let agent = keep_alive_agent();
    let (speaker, _) = create_speaker(&agent, &service, &key, "Ada Lovelace");
    let (_, _, claim) = post(
        &agent,
        &service,
        &key,
        None,
        "mutation($input: CreateClaimInput!) { createClaim(input: $input) { claim { id } } }",
        json!({ "input": { "text": "Engines can compose music" } }),
    );
    let claim = claim["data"]["createClaim"]["claim"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a claim: {claim}"))
        .to_owned();
    let url = format!("ws://127.0.0.1:{}/graphql/ws", service.port);
    let mut subscriber = tests::ws::Client::connect_as(&url, Some(&key)).await;
    let op = subscriber
        .subscribe(
            "subscription { statementAdded { id text speaker { name } } }",
            json!({}),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The replica holds nothing of what follows: the event and the records it names
    // come from the primary.
    on_replica(&pair, "SELECT pg_wal_replay_pause()").await;
    let input = tests::fixtures::said(
        speaker.as_str().expect("an id"),
        &claim,
        "SUPPORTS",
        "2024-03-01",
    );
    let (_, _, created) = post(
        &agent,
        &service,
        &key,
        None,
        "mutation($input: CreateStatementInput!) { createStatement(input: $input) { statement { id } } }",
        json!({ "input": input }),
    );
    let id = created["data"]["createStatement"]["statement"]["id"].clone();
    assert!(id.is_string(), "{created}");
    let payload = subscriber.next_payload(&op, Duration::from_secs(10)).await;
    assert_eq!(payload["data"]["statementAdded"]["id"], id, "{payload}");
    assert_eq!(
        payload["data"]["statementAdded"]["speaker"]["name"],
        "Ada Lovelace"
    );
    // A plain query meanwhile reads the replica, which has not seen it.
    let (_, _, plain) = post(
        &agent,
        &service,
        &key,
        None,
        "query($id: ID!) { statement(id: $id) { id } }",
        json!({ "id": id }),
    );
    assert_eq!(plain["data"]["statement"], Value::Null, "{plain}");
    on_replica(&pair, "SELECT pg_wal_replay_resume()").await;
    subscriber.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn while_the_primary_is_down_reads_go_on_from_the_replica_and_writes_fail_fast() {
    let (pair, service, key) = serving_pair("scale-primary-down", "60000").await;
    let agent = keep_alive_agent();
    let (id, lsn) = create_speaker(&agent, &service, &key, "Before the outage");
    pair.caught_up(Duration::from_secs(30)).await;

    pair.stop_primary("immediate");
    let began = Instant::now();
    loop {
        let (status, _) = service.readyz();
        if status == 200 && service_status(&service) == "reads only" {
            break;
        }
        assert!(
            began.elapsed() < Duration::from_secs(5),
            "still {status} after 5 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Reads, the writer's own included (the replica has it), are answered in full.
    for _ in 0..20 {
        let (status, _, read) = post(
            &agent,
            &service,
            &key,
            Some(&lsn),
            SPEAKER,
            json!({ "id": id }),
        );
        assert_eq!(status, 200, "{read}");
        assert_eq!(
            read["data"]["speaker"]["name"], "Before the outage",
            "{read}"
        );
    }
    let (status, _, list) = post(
        &agent,
        &service,
        &key,
        None,
        "{ speakers(first: 5) { totalCount } }",
        json!({}),
    );
    assert!(status == 200 && list["errors"].is_null(), "{list}");
    // A write is refused at once, 503 with UNAVAILABLE, instead of waiting for a connection.
    let asked = Instant::now();
    let input = json!({ "input": { "name": "During the outage", "kind": "PERSON" } });
    let (status, _, refused) = post(&agent, &service, &key, None, CREATE_SPEAKER, input);
    assert_eq!(status, 503, "{refused}");
    assert_eq!(refused["errors"][0]["extensions"]["code"], "UNAVAILABLE");
    assert!(
        asked.elapsed() < Duration::from_millis(500),
        "refused after {:?}",
        asked.elapsed()
    );

    // Back: writes work again.
    pair.start_primary();
    let began = Instant::now();
    loop {
        if service_status(&service) == "ready" {
            break;
        }
        assert!(
            began.elapsed() < Duration::from_secs(15),
            "the primary was not found again"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    create_speaker(&agent, &service, &key, "After the outage");
}

/// `/readyz`'s `status`.
fn service_status(service: &Service) -> String {
    let Ok(mut response) = keep_alive_agent().get(&service.url("/readyz")).call() else {
        return String::new();
    };
    let body: Value = response.body_mut().read_json().unwrap_or(Value::Null);
    body["status"].as_str().unwrap_or_default().to_owned()
}
