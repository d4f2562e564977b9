//! Live bench: subscriptions held by one instance, memory per subscription, fan-out
//! latency from a write to its delivery, and webhook deliveries a second.
//!
//! ```sh
//! cargo build --release -p claimtrack
//! CLAIMTRACK_TEST_BINARY=target/release/claimtrack \
//!   cargo run --release -p tests --example live_bench -- \
//!   --database-url postgres://postgres@127.0.0.1:5432/postgres --steps 1000,10000,20000
//! ```
//!
//! It makes a scratch database of its own on that server (dropped at the end), starts
//! `claimtrack serve` on it, and opens `statementAdded { id text }` subscriptions over
//! real WebSocket connections, `--per-connection` to a connection. At each step it
//! writes `--events` statements one after another (`--gap-ms` apart) and times, for
//! every subscription, the delivery of each from the moment the write was sent (so a
//! figure includes the mutation itself) and from its answer (the commit had happened).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tests::process::{Service, agent, graphql};
use tests::receiver::Receiver;
use tests::ws::Client;
use tokio::sync::mpsc;

struct Args {
    database_url: String,
    steps: Vec<usize>,
    per_connection: usize,
    events: usize,
    gap: Duration,
    webhooks: usize,
    webhook_events: usize,
}

fn args() -> Args {
    let mut out = Args {
        database_url: std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
        steps: vec![1000, 10_000, 20_000],
        per_connection: 100,
        events: 30,
        gap: Duration::from_millis(200),
        webhooks: 10,
        webhook_events: 200,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--database-url" => out.database_url = value,
            "--steps" => {
                out.steps = value
                    .split(',')
                    .map(|n| n.parse().expect("a number"))
                    .collect()
            }
            "--per-connection" => out.per_connection = value.parse().expect("a number"),
            "--events" => out.events = value.parse().expect("a number"),
            "--gap-ms" => out.gap = Duration::from_millis(value.parse().expect("a number")),
            "--webhooks" => out.webhooks = value.parse().expect("a number"),
            "--webhook-events" => out.webhook_events = value.parse().expect("a number"),
            other => panic!("unknown flag {other}"),
        }
    }
    out
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// One delivery: which statement, when it arrived.
type Delivery = (String, Instant);

async fn post(url: &str, key: &str, query: &str, variables: Value) -> Value {
    let (url, key, query) = (url.to_owned(), key.to_owned(), query.to_owned());
    let (status, body) =
        tokio::task::spawn_blocking(move || graphql(&agent(), &url, Some(&key), &query, variables))
            .await
            .expect("join");
    assert_eq!(status, 200, "{body}");
    assert!(body["errors"].is_null(), "{body}");
    body
}

/// Opens `count` subscriptions on one connection; every delivery goes to `out`.
async fn connection(
    ws: String,
    count: usize,
    after: Option<String>,
    out: mpsc::UnboundedSender<Delivery>,
) {
    let mut client = Client::connect_as(&ws, None).await;
    for _ in 0..count {
        client
            .subscribe(
                "subscription($after: ID) { statementAdded(after: $after) { id text } }",
                json!({ "after": after }),
            )
            .await;
    }
    // Tell the opener this connection's subscriptions are sent.
    let _ = out.send((String::new(), Instant::now()));
    loop {
        match client.receive(Duration::from_secs(3600)).await {
            Some(Ok(message)) => {
                if message["type"] == "next" {
                    let id = message["payload"]["data"]["statementAdded"]["id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    if out.send((id, Instant::now())).is_err() {
                        return;
                    }
                }
            }
            _ => return,
        }
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = args();
    let scratch = format!("claimtrack_live_bench_{}", std::process::id());
    let admin_url = tests::with_db(&args.database_url, "postgres");
    let admin = sea_orm::Database::connect(&admin_url)
        .await
        .expect("connect to the server");
    use sea_orm::ConnectionTrait;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {scratch}"))
        .await
        .expect("create the scratch database");
    let url = tests::with_db(&args.database_url, &scratch);
    let service = Service::start(
        &url,
        &[
            "--rate-limit-per-ip",
            "0",
            "--rate-limit-per-key",
            "0",
            "--webhook-allow-private",
        ],
    );
    let key = tests::process::run_command(
        &tests::process::Database::Url(&url),
        &["keys", "create", "--role", "admin", "--name", "bench"],
    );
    let key = key
        .split_whitespace()
        .find(|w| w.starts_with("ct_"))
        .expect("a key")
        .to_owned();
    let gql = service.url("/graphql");
    let speaker = post(
        &gql,
        &key,
        "mutation { createSpeaker(input: {name: \"Bench\", kind: PERSON}) { speaker { id } } }",
        json!({}),
    )
    .await["data"]["createSpeaker"]["speaker"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // One statement first, so that every subscription can start after an event.
    post(
        &gql,
        &key,
        "mutation($i: CreateStatementInput!) { createStatement(input: $i) { statement { id } } }",
        json!({ "i": { "speakerId": speaker, "text": "the first", "kind": "QUOTE", "statedOn": "2024-01-01", "language": "en" } }),
    )
    .await;
    // Webhooks first, with no subscription open: deliveries a second to a receiver on
    // loopback.
    let receiver = Arc::new(Receiver::start(Vec::new()));
    for _ in 0..args.webhooks {
        post(
            &gql,
            &key,
            "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { secret } }",
            json!({ "i": { "url": receiver.url("/hook"), "eventTypes": ["STATEMENT_CREATED"] } }),
        )
        .await;
    }
    // Eight writers at once, so that the deliveries, not the writes, set the pace.
    let started = Instant::now();
    let writers = (0..8).map(|w| {
        let (gql, key, speaker) = (gql.clone(), key.clone(), speaker.clone());
        let events = args.webhook_events;
        async move {
            for n in (w..events).step_by(8) {
                post(
                    &gql,
                    &key,
                    "mutation($i: CreateStatementInput!) { createStatement(input: $i) { statement { id } } }",
                    json!({ "i": { "speakerId": speaker, "text": format!("hooked {n}"), "kind": "QUOTE", "statedOn": "2024-01-01", "language": "en" } }),
                )
                .await;
            }
        }
    });
    futures::future::join_all(writers).await;
    let writing = started.elapsed().as_secs_f64();
    let expected = args.webhooks * args.webhook_events;
    let r = receiver.clone();
    tokio::task::spawn_blocking(move || {
        r.wait_for(Duration::from_secs(600), |got| got.len() >= expected)
    })
    .await
    .expect("join");
    let secs = started.elapsed().as_secs_f64();
    println!(
        "webhooks: {} deliveries ({} webhooks × {} events) in {secs:.2} s from the first write ({writing:.2} s writing): {:.0} deliveries/s",
        expected,
        args.webhooks,
        args.webhook_events,
        expected as f64 / secs
    );
    // Then no more webhooks, for the subscriptions' figures.
    let hooks = post(&gql, &key, "{ webhooks { id } }", json!({})).await;
    for hook in hooks["data"]["webhooks"].as_array().expect("webhooks") {
        post(
            &gql,
            &key,
            "mutation($id: ID!) { deleteWebhook(id: $id) { id } }",
            json!({ "id": hook["id"] }),
        )
        .await;
    }
    let ws = format!("ws://127.0.0.1:{}/graphql/ws", service.port);
    let (tx, mut rx) = mpsc::unbounded_channel::<Delivery>();
    let (rss_start, _) = service.memory_kib();
    println!(
        "service RSS before any subscription: {:.1} MiB",
        rss_start as f64 / 1024.0
    );
    let mut open = 0usize;
    let mut written = 0usize;
    println!(
        "| subscriptions | connections | open in s | RSS MiB | KiB per subscription | deliveries | send→delivery p50 ms | p99 ms | max ms | answer→delivery p50 ms | p99 ms |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &target in &args.steps {
        let opening = Instant::now();
        let mut connections = 0;
        // The new subscriptions start after the log's last event, wherever the server
        // is when each arrives: none misses the next write.
        let marker: Option<String> = {
            use sea_orm::ConnectionTrait;
            let db = sea_orm::Database::connect(&url).await.expect("connect");
            let row = db
                .query_one_raw(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    "SELECT id::text AS id FROM event WHERE pos IS NOT NULL ORDER BY pos DESC LIMIT 1",
                ))
                .await
                .expect("the last event");
            db.close().await.ok();
            row.map(|r| r.try_get::<String>("", "id").expect("id"))
        };
        while open < target {
            let count = args.per_connection.min(target - open);
            tokio::spawn(connection(ws.clone(), count, marker.clone(), tx.clone()));
            open += count;
            connections += 1;
        }
        // Every new connection says when its subscriptions are sent.
        let mut ready = 0;
        while ready < connections {
            let (id, _) = rx.recv().await.expect("a connection");
            if id.is_empty() {
                ready += 1;
            }
        }
        // A subscription is in place once the server has run its stream's first poll;
        // one write, delivered to all, proves it.
        let mut sent: HashMap<String, (Instant, Instant)> = HashMap::new();
        let write = |n: usize| {
            let (gql, key, speaker) = (gql.clone(), key.clone(), speaker.clone());
            async move {
                let started = Instant::now();
                let body = post(
                    &gql,
                    &key,
                    "mutation($i: CreateStatementInput!) { createStatement(input: $i) { statement { id } } }",
                    json!({ "i": { "speakerId": speaker, "text": format!("bench statement {n}"), "kind": "QUOTE", "statedOn": "2024-01-01", "language": "en" } }),
                )
                .await;
                let id = body["data"]["createStatement"]["statement"]["id"]
                    .as_str()
                    .expect("id")
                    .to_owned();
                (id, started, Instant::now())
            }
        };
        let (warm, _, _) = write(written).await;
        written += 1;
        let mut warm_count = 0;
        let deadline = Instant::now() + Duration::from_secs(120);
        while warm_count < open && Instant::now() < deadline {
            if let Ok(Some((id, _))) =
                tokio::time::timeout(Duration::from_secs(30), rx.recv()).await
                && id == warm
            {
                warm_count += 1;
            }
        }
        assert_eq!(warm_count, open, "every subscription got the first write");
        let open_secs = opening.elapsed().as_secs_f64();
        let (rss, _) = service.memory_kib();
        // The measured writes.
        let mut from_send = Vec::new();
        let mut from_answer = Vec::new();
        let expected = open * args.events;
        let collector = {
            let events = args.events;
            let gap = args.gap;
            let mut writes = Vec::new();
            for _ in 0..events {
                let (id, s, a) = write(written).await;
                written += 1;
                sent.insert(id.clone(), (s, a));
                writes.push(id);
                // Deliveries are read meanwhile below; this loop only paces.
                tokio::time::sleep(gap).await;
                while let Ok((id, at)) = rx.try_recv() {
                    from_send.push((id, at));
                }
            }
            writes
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        while from_send.len() < expected && Instant::now() < deadline {
            if let Ok(Some(d)) = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
                from_send.push(d);
            }
        }
        let _ = collector;
        let mut send_ms = Vec::new();
        for (id, at) in &from_send {
            if let Some((s, a)) = sent.get(id) {
                send_ms.push(at.duration_since(*s).as_secs_f64() * 1000.0);
                from_answer.push(at.saturating_duration_since(*a).as_secs_f64() * 1000.0);
            }
        }
        send_ms.sort_by(f64::total_cmp);
        from_answer.sort_by(f64::total_cmp);
        println!(
            "| {open} | {} | {open_secs:.1} | {:.1} | {:.2} | {}/{} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            open.div_ceil(args.per_connection),
            rss as f64 / 1024.0,
            (rss.saturating_sub(rss_start)) as f64 / open as f64,
            send_ms.len(),
            expected,
            percentile(&send_ms, 50.0),
            percentile(&send_ms, 99.0),
            send_ms.last().copied().unwrap_or(f64::NAN),
            percentile(&from_answer, 50.0),
            percentile(&from_answer, 99.0),
        );
    }

    drop(service);
    admin
        .execute_unprepared(&format!("DROP DATABASE {scratch} WITH (FORCE)"))
        .await
        .ok();
}
