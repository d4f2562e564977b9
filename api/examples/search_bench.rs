//! Latency of search and similarity on a loaded database, through the real schema (no
//! HTTP): `search` pages (20 hits with highlights) for a mix of queries in the five
//! generated languages, with facets, with filters; `similarStatements` by statement and
//! by text; `Claim.matchingStatements`. Sequential requests; prints p50/p95/p99.
//!
//! `cargo run --release -p claimtrack --example search_bench -- <DATABASE_URL> [iterations]
//! [only]` (load data first with `claimtrack generate --statements 1000000`); `only`
//! runs the cases whose name holds it.

#![expect(
    clippy::print_stdout,
    reason = "a benchmark reports on standard output"
)]

mod common;

use common::{percentiles, timed};

use claimtrack::config::{DbArgs, Limits};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement};
use serde_json::{Value, json};

#[derive(Debug, FromQueryResult)]
struct Sample {
    statement_id: uuid::Uuid,
    speaker_id: uuid::Uuid,
    claim_id: uuid::Uuid,
    text: String,
}

/// What people look for: topics, places, phrases, exclusions and OR, in the five
/// languages of the generated data, two or three words each.
const QUERIES: [&str; 20] = [
    "minimum wage Ohio",
    "workgroups Texas",
    "\"affordable housing\" Michigan",
    "pension system -Florida",
    "cyber security OR border security Iowa",
    "renewable energy jobs",
    "police funding opposition",
    "рабочая группа кибербезопасность",
    "пенсионная система в Москве",
    "малый бизнес Казань",
    "Arbeitsgruppe Cybersicherheit",
    "Mindestlohn Berlin",
    "Rentensystem Leipzig",
    "logement abordable Lyon",
    "salaire minimum Toulouse",
    "\"groupe de travail\" cybersécurité",
    "vivienda asequible Madrid",
    "sistema de pensiones Sevilla",
    "ciberseguridad grupo de trabajo",
    "defence budget Nevada",
];

/// A query's name, text, and variables for the i-th request.
type Case = (&'static str, &'static str, Box<dyn Fn(usize) -> Value>);

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .ok_or("usage: search_bench <DATABASE_URL> [iterations] [only]")?;
    let iterations: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(500);
    let only = args.next().unwrap_or_default();
    let db = claimtrack::db::connect(&url, &DbArgs::default()).await?;
    let schema = claimtrack::graphql::build_schema(db.clone(), &Limits::default());
    // Real statements, speakers and claims spread over the whole data set.
    let samples = Sample::find_by_statement(Statement::from_string(
        DbBackend::Postgres,
        "SELECT s.id AS statement_id, s.speaker_id, st.claim_id, s.text FROM statement s TABLESAMPLE SYSTEM (1) \
         JOIN stance st ON st.statement_id = s.id LIMIT 2000",
    ))
    .all(&db)
    .await?;
    if samples.is_empty() {
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
    println!("{statements} statements; {iterations} sequential requests per query\n");
    println!(
        "{:<44} {:>8} {:>8} {:>8} {:>10}",
        "query", "p50 ms", "p95 ms", "p99 ms", "avg hits"
    );
    let samples = std::sync::Arc::new(samples);
    // The i-th request's sample, spread over the whole sample.
    let sample = move |i: usize| {
        let samples = samples.clone();
        move |j: usize| -> Sample {
            let s = &samples[(i + j * 7919) % samples.len()];
            Sample {
                statement_id: s.statement_id,
                speaker_id: s.speaker_id,
                claim_id: s.claim_id,
                text: s.text.clone(),
            }
        }
    };
    let (s1, s2, s3, s4, s5) = (sample(0), sample(1), sample(2), sample(3), sample(4));
    let cases: Vec<Case> = vec![
        (
            "search, 20 hits with highlights",
            "query($q: String!) { search(query: $q, first: 20) { edges { cursor node { rank highlight statement { id text } } } pageInfo { hasNextPage } } }",
            Box::new(|i| json!({ "q": QUERIES[i % QUERIES.len()] })),
        ),
        (
            "search, next page (after the first)",
            "query($q: String!, $after: String) { search(query: $q, first: 20, after: $after) { edges { cursor node { rank highlight statement { id } } } pageInfo { hasNextPage } } }",
            Box::new(|i| json!({ "q": QUERIES[i % QUERIES.len()], "after": null })),
        ),
        (
            "search + totalCount + facets",
            "query($q: String!) { search(query: $q, first: 20) { totalCount facets { speakers { count } topics { count } stances { stance count } languages { language count } years { year count } } edges { node { rank highlight statement { id } } } } }",
            Box::new(|i| json!({ "q": QUERIES[i % QUERIES.len()] })),
        ),
        (
            "search, one word, language filter",
            "query($q: String!, $l: String) { search(query: $q, first: 20, filter: {language: $l}) { edges { node { rank highlight statement { id } } } } }",
            Box::new(|i| {
                let (q, l) = [
                    ("workgroups", "en"),
                    ("Москве", "ru"),
                    ("Arbeitsgruppe", "de"),
                    ("Lyon", "fr"),
                    ("Madrid", "es"),
                ][i % 5];
                json!({ "q": q, "l": l })
            }),
        ),
        (
            "search, speaker filter",
            "query($q: String!, $s: ID!) { search(query: $q, first: 20, filter: {speakerIds: [$s]}) { edges { node { rank highlight statement { id } } } } }",
            Box::new(move |i| {
                let q = ["taxes", "налоги", "Steuern", "impôts", "impuestos"][i % 5];
                json!({ "q": q, "s": s1(i).speaker_id })
            }),
        ),
        (
            "similarStatements(statementId), min 0.5",
            "query($id: ID!) { similarStatements(statementId: $id, minSimilarity: 0.5, first: 20) { similarity statement { id text } } }",
            Box::new(move |i| json!({ "id": s2(i).statement_id })),
        ),
        (
            "similarStatements(text), min 0.6",
            "query($t: String!) { similarStatements(text: $t, minSimilarity: 0.6, first: 20) { similarity statement { id } } }",
            Box::new(move |i| json!({ "t": s3(i).text })),
        ),
        (
            "Claim.matchingStatements, min 0.5",
            "query($c: ID!) { claim(id: $c) { matchingStatements(minSimilarity: 0.5, first: 20) { similarity statement { id } } } }",
            Box::new(move |i| json!({ "c": s4(i).claim_id })),
        ),
        (
            "search by claim, claimIds filter",
            "query($c: ID!) { search(query: \"percent OR процентов OR Prozent OR cent OR ciento\", first: 20, filter: {claimIds: [$c]}) { edges { node { rank statement { id } } } } }",
            Box::new(move |i| json!({ "c": s5(i).claim_id })),
        ),
    ];
    for (name, query, vars) in cases.iter().filter(|(name, ..)| name.contains(&only)) {
        // Check one answer for errors before trusting any number.
        timed(&schema, name, query, vars(0)).await?;
        let mut times = Vec::with_capacity(iterations);
        let mut found = 0usize;
        for i in 0..iterations {
            let mut variables = vars(i);
            // The second page: ask for the first one's end cursor first (not timed).
            if variables.get("after").is_some() {
                let (_, data) = timed(
                    &schema,
                    name,
                    "query($q: String!) { search(query: $q, first: 20) { pageInfo { endCursor } } }",
                    variables.clone(),
                )
                .await?;
                variables["after"] = data["search"]["pageInfo"]["endCursor"].clone();
            }
            let (elapsed, data) = timed(&schema, name, query, variables).await?;
            times.push(elapsed);
            found += count_hits(&data);
        }
        let [p50, p95, p99] = percentiles(&mut times);
        println!(
            "{:<44} {:>8.2} {:>8.2} {:>8.2} {:>10.1}",
            name,
            p50,
            p95,
            p99,
            found as f64 / iterations as f64
        );
    }
    Ok(())
}

/// Hits on the page (search edges, or similar statements).
fn count_hits(data: &Value) -> usize {
    if let Some(edges) = data["search"]["edges"].as_array() {
        return edges.len();
    }
    if let Some(list) = data["similarStatements"].as_array() {
        return list.len();
    }
    data["claim"]["matchingStatements"]
        .as_array()
        .map_or(0, Vec::len)
}
