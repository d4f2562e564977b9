//! Latency of the positions-over-time queries on a loaded database, through the real
//! schema (no HTTP): `positionHistory`, a 20-event `timeline` page (by speaker and by
//! claim), and "as of" queries. Sequential requests; prints p50/p95/p99 per query,
//! and per request the SQL statements run and the time spent in them (from the pool's
//! metric callback, pool checkout excluded).
//!
//! `cargo run --release -p claimtrack --example positions_bench -- <DATABASE_URL> [iterations]`
//! (load data first with `claimtrack generate --statements 1000000`).

#![expect(
    clippy::print_stdout,
    reason = "a benchmark reports on standard output"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
mod common;

use common::{percentiles, timed};

use claimtrack::config::{DbArgs, Limits};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement};
use serde_json::{Value, json};

#[derive(Debug, FromQueryResult)]
struct Pair {
    speaker_id: uuid::Uuid,
    claim_id: uuid::Uuid,
    statement_id: uuid::Uuid,
}

/// A query's name, text, and variables for one sampled pair.
type Case = (&'static str, &'static str, Box<dyn Fn(&Pair) -> Value>);

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .ok_or("usage: positions_bench <DATABASE_URL> [iterations]")?;
    let iterations: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(500);
    let mut db = claimtrack::db::connect(&url, &DbArgs::default()).await?;
    // SQL statements run, and microseconds spent running them.
    let sql = Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
    let seen = sql.clone();
    db.set_metric_callback(move |info| {
        seen.0.fetch_add(1, Ordering::Relaxed);
        seen.1
            .fetch_add(info.elapsed.as_micros() as u64, Ordering::Relaxed);
    });
    let schema = claimtrack::graphql::build_schema(db.clone(), &Limits::default());
    // Real (speaker, claim) pairs spread over the whole data set.
    let pairs = Pair::find_by_statement(Statement::from_string(
        DbBackend::Postgres,
        "SELECT s.speaker_id, st.claim_id, s.id AS statement_id FROM statement s TABLESAMPLE SYSTEM (1) \
         JOIN stance st ON st.statement_id = s.id LIMIT 2000",
    ))
    .all(&db)
    .await?;
    if pairs.is_empty() {
        return Err("no statements: load data first (claimtrack generate)".into());
    }
    let statements: i64 = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT COUNT(*) FROM statement",
        ))
        .await?
        .map(|r| r.try_get_by_index(0))
        .transpose()?
        .unwrap_or(0);
    let now = chrono::Utc::now().to_rfc3339();
    println!("{statements} statements; {iterations} sequential requests per query\n");
    println!(
        "{:<44} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "query", "p50 ms", "p95 ms", "p99 ms", "SQL/req", "SQL ms"
    );
    let cases: Vec<Case> = vec![
        (
            "positionHistory",
            "query($s: ID!, $c: ID!) { positionHistory(speakerId: $s, claimId: $c) { stance statedOn reported statement { id } } }",
            Box::new(|p: &Pair| json!({ "s": p.speaker_id, "c": p.claim_id })),
        ),
        (
            "timeline, 20 events, by speaker",
            "query($s: ID!) { timeline(first: 20, filter: {speakerIds: [$s]}) { edges { cursor node { at kind statement { id } verdict { id } link { id } change { days } } } pageInfo { hasNextPage } } }",
            Box::new(|p: &Pair| json!({ "s": p.speaker_id })),
        ),
        (
            "timeline, 20 events, by claim",
            "query($c: ID!) { timeline(first: 20, filter: {claimIds: [$c]}) { edges { cursor node { at kind statement { id } verdict { id } link { id } change { days } } } pageInfo { hasNextPage } } }",
            Box::new(|p: &Pair| json!({ "c": p.claim_id })),
        ),
        (
            "positionHistory asOf",
            "query($s: ID!, $c: ID!, $at: DateTime!) { positionHistory(speakerId: $s, claimId: $c, asOf: $at) { stance statedOn } }",
            Box::new(move |p: &Pair| json!({ "s": p.speaker_id, "c": p.claim_id, "at": now })),
        ),
        (
            "statement asOf",
            "query($id: ID!, $at: DateTime!) { statement(id: $id, asOf: $at) { text stances { stance } } }",
            Box::new(
                |p: &Pair| json!({ "id": p.statement_id, "at": chrono::Utc::now().to_rfc3339() }),
            ),
        ),
        (
            "statements asOf, by speaker",
            "query($s: ID!, $at: DateTime!) { statements(asOf: $at, filter: {speakerIds: [$s]}) { totalCount edges { node { id text } } } }",
            Box::new(
                |p: &Pair| json!({ "s": p.speaker_id, "at": chrono::Utc::now().to_rfc3339() }),
            ),
        ),
        (
            "timeline asOf, 20 events, by speaker",
            "query($s: ID!, $at: DateTime!) { timeline(asOf: $at, first: 20, filter: {speakerIds: [$s]}) { edges { node { at kind } } } }",
            Box::new(
                |p: &Pair| json!({ "s": p.speaker_id, "at": chrono::Utc::now().to_rfc3339() }),
            ),
        ),
    ];
    for (name, query, vars) in &cases {
        // Check one answer for errors before trusting any number.
        timed(&schema, name, query, vars(&pairs[0])).await?;
        let mut times = Vec::with_capacity(iterations);
        sql.0.store(0, Ordering::Relaxed);
        sql.1.store(0, Ordering::Relaxed);
        for i in 0..iterations {
            let pair = &pairs[(i * 7919) % pairs.len()];
            times.push(timed(&schema, name, query, vars(pair)).await?.0);
        }
        let [p50, p95, p99] = percentiles(&mut times);
        let per_request = |n: u64| n as f64 / iterations as f64;
        println!(
            "{:<44} {:>8.2} {:>8.2} {:>8.2} {:>8.1} {:>8.2}",
            name,
            p50,
            p95,
            p99,
            per_request(sql.0.load(Ordering::Relaxed)),
            per_request(sql.1.load(Ordering::Relaxed)) / 1000.0,
        );
    }
    Ok(())
}
