//! Operability, over real HTTP against the real binary: `/metrics` counts requests by
//! operation and outcome, every log line of a request names its id, SIGTERM lets the
//! request in flight finish, requests past the concurrency bound wait their turn or
//! are turned away, and `/readyz` follows the database down and back up
//! without a restart of the service.

use std::sync::Arc;
use std::time::{Duration, Instant};

use entity::ApiRole;
use sea_orm::{ConnectionTrait, DatabaseTransaction, Statement, TransactionTrait};
use serde_json::{Value, json};
use tests::process::{PrivateCluster, Service, agent, restart_cluster, sample};
use tests::{TestDb, scalar};

const PROBE: &str = "query OpsProbe { statements(first: 5) { totalCount edges { node { text speaker { name } } } } }";

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_requests_by_operation_and_outcome() {
    let db = TestDb::new().await;
    db.ok(
        r#"mutation { createSpeaker(input: {name: "Ada Example", kind: PERSON}) { speaker { id } } }"#,
        json!({}),
    )
    .await;
    let url = db.url();
    tokio::task::spawn_blocking(move || {
        let service = Service::start(&url, &["--no-migrate"]);
        let ok = r#"claimtrack_graphql_requests_total{operation="OpsProbe",outcome="ok"}"#;
        let refused =
            r#"claimtrack_graphql_requests_total{operation="OpsBroken",outcome="BAD_USER_INPUT"}"#;
        let latency = r#"claimtrack_graphql_request_duration_seconds_count{operation="OpsProbe"}"#;
        let before = service.metrics();
        assert_eq!(sample(&before, ok), None, "{before}");

        let (_, body) = service.post(PROBE, "ops-probe-1");
        assert_eq!(body["data"]["statements"]["totalCount"], 0, "{body}");
        let after_one = service.metrics();
        assert_eq!(sample(&after_one, ok), Some(1.0), "{after_one}");
        assert_eq!(sample(&after_one, latency), Some(1.0), "{after_one}");

        service.post(PROBE, "ops-probe-2");
        let (_, body) = service.post(
            r#"query OpsBroken { statement(id: "not-a-uuid") { id } }"#,
            "ops-broken",
        );
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        let after = service.metrics();
        assert_eq!(sample(&after, ok), Some(2.0), "{after}");
        assert_eq!(sample(&after, refused), Some(1.0), "{after}");
        // The first probe runs its page query and its count at least; the second, the
        // same document seen before, is answered by one compiled statement.
        let sql = sample(&after, "claimtrack_graphql_request_sql_statements_sum")
            .expect("SQL statements per request");
        assert!(sql >= 3.0, "{after}");
        let compiled = r#"claimtrack_graphql_compiled_total{reason="",result="answered"}"#;
        assert_eq!(sample(&after, compiled), Some(1.0), "{after}");
        let max = sample(&after, r#"claimtrack_db_pool_connections{state="max"}"#);
        assert_eq!(max, Some(16.0), "{after}");
        let open = sample(&after, r#"claimtrack_db_pool_connections{state="open"}"#)
            .expect("open connections");
        let idle = sample(&after, r#"claimtrack_db_pool_connections{state="idle"}"#)
            .expect("idle connections");
        let in_use = sample(&after, r#"claimtrack_db_pool_connections{state="in_use"}"#)
            .expect("connections in use");
        assert!((1.0..=16.0).contains(&open), "{after}");
        assert_eq!(open, idle + in_use, "{after}");
        assert!(
            after.contains(r#"claimtrack_http_responses_total{route="/graphql",status="200"} 3"#),
            "{after}"
        );
    })
    .await
    .expect("the test thread");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_log_line_of_a_request_names_its_id_and_the_response_returns_it() {
    let db = TestDb::new().await;
    let url = db.url();
    tokio::task::spawn_blocking(move || {
        let service = Service::start(
            &url,
            &[
                "--no-migrate",
                "--log-format",
                "json",
                "--log",
                "warn,claimtrack::http=info,claimtrack::sql=debug",
            ],
        );
        let (id, body) = service.post(PROBE, "ops-log-check");
        assert!(body.get("errors").is_none(), "{body}");
        assert_eq!(id.as_deref(), Some("ops-log-check"));
        // A strange incoming id is replaced by a fresh one.
        let (fresh, _) = service.post(PROBE, "not a sane id");
        let fresh = fresh.expect("a request id");
        assert_ne!(fresh, "not a sane id");
        assert!(uuid::Uuid::parse_str(&fresh).is_ok(), "{fresh}");

        // The access line is written after the response: wait for it.
        let started = Instant::now();
        let mut lines = Vec::new();
        while started.elapsed() < Duration::from_secs(10) {
            lines = service
                .log_lines()
                .iter()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter(|l| l["span"]["request_id"] == "ops-log-check")
                .collect::<Vec<_>>();
            if lines.iter().any(|l| l["message"] == "request served") {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let served = lines
            .iter()
            .find(|l| l["message"] == "request served")
            .unwrap_or_else(|| panic!("no access line: {:#?}", service.log_lines()));
        assert_eq!(served["status"], 200);
        assert_eq!(served["path"], "/graphql");
        // The page, its count and the speakers' batch (from a loader's own task) all
        // log inside the request's span.
        let sql = lines.iter().filter(|l| l["message"] == "sql").count();
        assert!(sql >= 2, "{lines:#?}");
        // Apart from the maintenance timer's own (key reloads, use times) and the
        // event log's readers (`live`), every SQL line belongs to a request.
        let all = service.log_lines();
        let unattributed: Vec<&String> = all
            .iter()
            .filter(|l| l.contains("\"message\":\"sql\"") && !l.contains("\"request_id\""))
            .filter(|l| {
                !l.contains("\"name\":\"maintenance\"") && !l.contains("\"name\":\"live\"")
            })
            .collect();
        assert!(
            unattributed.is_empty(),
            "SQL logged outside any request, the maintenance timer or the live jobs: {unattributed:#?}"
        );
        assert!(all.iter().all(|l| serde_json::from_str::<Value>(l).is_ok()));
    })
    .await
    .expect("the test thread");
}

/// The backend of the service waiting on a lock, if there is one yet.
async fn service_waits_on_a_lock(db: &TestDb) -> bool {
    let row = db
        .db()
        .query_one_raw(Statement::from_string(
            db.db().get_database_backend(),
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND application_name = 'claimtrack' AND wait_event_type = 'Lock'"
                .to_owned(),
        ))
        .await
        .expect("pg_stat_activity")
        .expect("a row");
    row.try_get_by_index::<i64>(0).expect("a count") > 0
}

/// Keys used since the last maintenance tick are recorded on the way out: the write
/// goes through a connection of its own, as the workers' connections stop with them.
#[tokio::test(flavor = "multi_thread")]
async fn the_use_of_a_key_just_before_sigterm_is_recorded() {
    let db = TestDb::new().await;
    let key = db.key(ApiRole::Reader).await;
    let url = db.url();
    let log = tokio::task::spawn_blocking(move || {
        let mut service = Service::start(&url, &["--no-migrate"]);
        // Requests at once, so that the workers open connections of their own.
        std::thread::scope(|scope| {
            for _ in 0..16 {
                scope.spawn(|| {
                    let query =
                        "{ statements(first: 5) { totalCount } claims(first: 5) { totalCount } }";
                    let (status, body) = service.graphql(&agent(), Some(&key), query, json!({}));
                    assert_eq!(
                        (status, &body["data"]["claims"]["totalCount"]),
                        (200, &json!(0)),
                        "{body}"
                    );
                });
            }
        });
        service.sigterm();
        let status = service.wait_exit(Duration::from_secs(30));
        assert!(status.success(), "claimtrack exited with {status}");
        service.log_lines()
    })
    .await
    .expect("the service");
    assert_eq!(
        scalar::<i64>(
            db.db(),
            "SELECT count(*) FROM api_key WHERE last_used_at IS NOT NULL"
        )
        .await,
        1,
        "the key's use was not recorded: {log:#?}"
    );
    assert!(
        !log.iter()
            .any(|l| l.contains("cannot record API key use times")),
        "{log:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_the_request_in_flight_finish_then_exits_zero() {
    let db = TestDb::new().await;
    let mut service = {
        let url = db.url();
        tokio::task::spawn_blocking(move || Service::start(&url, &["--no-migrate"]))
            .await
            .expect("start")
    };
    let (lock, in_flight) = request_held_on_a_lock(&db, &service).await;

    service.sigterm();
    let stopping = Instant::now();
    // It stops accepting at once, while the request is still in flight.
    let refused = Instant::now();
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", service.port)).is_err() {
            break;
        }
        assert!(
            refused.elapsed() < Duration::from_secs(5),
            "new connections are still accepted after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !in_flight.is_finished(),
        "the request ended before the lock was released"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    lock.rollback().await.expect("release the lock");

    let (status, _, body) = in_flight.join().expect("the client thread");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["statements"]["totalCount"], 0, "{body}");
    let exit = tokio::task::spawn_blocking(move || {
        let status = service.wait_exit(Duration::from_secs(30));
        (status, service.log_lines())
    })
    .await
    .expect("wait");
    let (status, log) = exit;
    assert!(
        status.success(),
        "claimtrack exited with {status}: {log:#?}"
    );
    assert!(
        stopping.elapsed() < Duration::from_secs(30),
        "{:?} from SIGTERM to exit",
        stopping.elapsed()
    );
    assert!(
        log.iter().any(|l| l.contains("stopped")),
        "no final log line: {log:#?}"
    );
}

/// POSTs a query on a thread of its own: its status, `Retry-After` and body, once
/// answered.
fn post_in_background(url: String, query: &'static str) -> Answer {
    std::thread::spawn(move || {
        let mut response = agent()
            .post(&url)
            .header("content-type", "application/json")
            .send_json(json!({ "query": query }))
            .expect("an answer");
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (
            status,
            retry_after,
            response.body_mut().read_json().expect("JSON"),
        )
    })
}

type Answer = std::thread::JoinHandle<(u16, Option<String>, Value)>;

/// A request in flight: the statement table is held (until the returned transaction
/// ends) and a query on it has reached the database and waits there.
async fn request_held_on_a_lock(db: &TestDb, service: &Service) -> (DatabaseTransaction, Answer) {
    let lock = db.db().begin().await.expect("begin");
    lock.execute_unprepared("LOCK TABLE statement IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock");
    let answer = post_in_background(
        service.url("/graphql"),
        "query Slow { statements { totalCount } }",
    );
    let waiting = Instant::now();
    while !service_waits_on_a_lock(db).await {
        assert!(
            waiting.elapsed() < Duration::from_secs(30),
            "the request never reached the database"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (lock, answer)
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_past_the_concurrency_bound_wait_their_turn_or_are_turned_away() {
    let db = TestDb::new().await;
    let service = {
        let url = db.url();
        let args = [
            "--no-migrate",
            "--max-concurrent-requests",
            "1",
            "--queue-timeout-ms",
            "3000",
        ];
        tokio::task::spawn_blocking(move || Service::start(&url, &args))
            .await
            .expect("start")
    };
    let (lock, holder) = request_held_on_a_lock(&db, &service).await;
    let graphql = service.url("/graphql");

    // A request that needs no locked table still waits for the one turn, then is
    // refused with a code and a time to come back.
    let asked = Instant::now();
    let (status, retry_after, body) = post_in_background(graphql.clone(), "{ viewer { role } }")
        .join()
        .expect("the client thread");
    assert_eq!(status, 503, "{body}");
    assert_eq!(retry_after.as_deref(), Some("1"));
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "RATE_LIMITED",
        "{body}"
    );
    assert!(
        asked.elapsed() >= Duration::from_millis(2900),
        "refused after {:?}, before its wait was over",
        asked.elapsed()
    );
    let metrics = service.metrics();
    assert_eq!(
        sample(&metrics, "claimtrack_graphql_requests_turned_away_total"),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        sample(
            &metrics,
            r#"claimtrack_graphql_requests_in_flight{state="executing"}"#
        ),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        sample(
            &metrics,
            r#"claimtrack_graphql_requests_in_flight{state="limit"}"#
        ),
        Some(1.0),
        "{metrics}"
    );
    // Health and readiness are never queued.
    assert_eq!(service.readyz().0, 200);

    // A request arriving now waits; it runs as soon as the turn is free.
    let queued = post_in_background(graphql, "query Queued { viewer { role } }");
    let seen_waiting = Instant::now();
    loop {
        let metrics = service.metrics();
        if sample(
            &metrics,
            r#"claimtrack_graphql_requests_in_flight{state="waiting"}"#,
        ) == Some(1.0)
        {
            break;
        }
        assert!(
            seen_waiting.elapsed() < Duration::from_secs(2),
            "the second request is not waiting: {metrics}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !queued.is_finished(),
        "the second request ran beside the first"
    );
    lock.rollback().await.expect("release the lock");

    let (status, _, body) = holder.join().expect("the client thread");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["statements"]["totalCount"], 0, "{body}");
    let (status, _, body) = queued.join().expect("the client thread");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["viewer"]["role"], "ANONYMOUS", "{body}");
    let metrics = service.metrics();
    assert_eq!(
        sample(
            &metrics,
            r#"claimtrack_graphql_requests_in_flight{state="executing"}"#
        ),
        Some(0.0),
        "{metrics}"
    );
    assert_eq!(
        sample(&metrics, "claimtrack_graphql_requests_turned_away_total"),
        Some(1.0),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn readiness_follows_the_database_down_and_back_up_without_a_restart() {
    // A private cluster: stopping it disturbs no other test.
    let private = PrivateCluster::new("ops");
    let cluster = private.start().await;
    assert!(cluster.owned());
    let url = cluster.database_url().to_owned();
    let (port, pgdata, socket_dir) = (
        cluster.port(),
        cluster.cluster_dir().to_path_buf(),
        cluster.socket_dir().to_path_buf(),
    );
    let service = {
        let url = url.clone();
        tokio::task::spawn_blocking(move || Service::start(&url, &[]))
            .await
            .expect("start")
    };
    let service = Arc::new(service);

    cluster.stop().await.expect("stop the cluster");
    let down = {
        let service = service.clone();
        tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let readyz = loop {
                let readyz = service.readyz();
                if readyz.0 == 503 || started.elapsed() > Duration::from_secs(20) {
                    break readyz;
                }
                std::thread::sleep(Duration::from_millis(100));
            };
            // Readiness and queries are answered at once, not after a wait for a
            // connection: the service knows the database is gone.
            let asked = Instant::now();
            let readyz_again = service.readyz();
            let readyz_took = asked.elapsed();
            let asked = Instant::now();
            let (status, body) =
                service.graphql(&agent(), None, "{ statements { totalCount } }", json!({}));
            (
                readyz,
                readyz_again,
                readyz_took,
                status,
                body,
                asked.elapsed(),
            )
        })
        .await
        .expect("probe")
    };
    let ((status, retry_after), readyz_again, readyz_took, query_status, body, took) = down;
    assert_eq!(status, 503, "readyz while the database is down");
    assert_eq!(retry_after.as_deref(), Some("5"));
    assert_eq!(readyz_again.0, 503);
    assert!(
        readyz_took < Duration::from_millis(200),
        "readyz took {readyz_took:?}"
    );
    assert_eq!(query_status, 503, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAVAILABLE",
        "{body}"
    );
    assert!(took < Duration::from_millis(200), "a query waited {took:?}");

    tokio::task::spawn_blocking(move || restart_cluster(&pgdata, &socket_dir, port))
        .await
        .expect("restart");
    let up = {
        let service = service.clone();
        tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            while service.readyz().0 != 200 {
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "readyz did not recover on its own"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
            service.post("{ statements { totalCount } }", "ops-db-up").1
        })
        .await
        .expect("probe")
    };
    assert_eq!(up["data"]["statements"]["totalCount"], 0, "{up}");

    // The service first, then the cluster under it.
    drop(service);
    drop(private);
}
