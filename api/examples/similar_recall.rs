//! What the signature bands find of the exact answer: for statements drawn from the
//! whole data set, `similarStatements` through the bands against the exact trigram
//! search, with the same text, threshold and page size. Prints recall (of the exact
//! page's statements, how many the bands list), recall by similarity, and the time of
//! each way.
//!
//! `cargo run --release -p claimtrack --example similar_recall -- <DATABASE_URL> [samples] [min] [page]`

#![expect(
    clippy::print_stdout,
    reason = "a benchmark reports on standard output"
)]

#[expect(dead_code, reason = "this benchmark calls the service, not the schema")]
mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use claimtrack::config::DbArgs;
use claimtrack::service::search::similar::{Strategy, similar_by};
use common::percentiles;
use sea_orm::{DbBackend, FromQueryResult, Statement};

/// Lower bounds of the similarity ranges recall is reported by.
const RANGES: [f32; 5] = [0.5, 0.6, 0.7, 0.8, 0.9];

#[derive(Debug, FromQueryResult)]
struct Sample {
    id: uuid::Uuid,
    text: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .ok_or("usage: similar_recall <DATABASE_URL> [samples] [min] [page]")?;
    let samples: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(30);
    let min: f64 = args.next().map(|n| n.parse()).transpose()?.unwrap_or(0.5);
    let page: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(20);
    let db = claimtrack::db::connect(&url, &DbArgs::default()).await?;
    let drawn = Sample::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT id, text FROM statement TABLESAMPLE SYSTEM (1) REPEATABLE (7) \
         WHERE deleted_at IS NULL LIMIT $1",
        [i64::try_from(samples)?.into()],
    ))
    .all(&db)
    .await?;
    if drawn.is_empty() {
        return Err("no statements: load data first (claimtrack generate)".into());
    }
    let mut exact_times: Vec<Duration> = Vec::new();
    let mut band_times: Vec<Duration> = Vec::new();
    let (mut listed, mut found) = (0usize, 0usize);
    let mut by_range = [(0usize, 0usize); RANGES.len()];
    let mut short = 0usize;
    for sample in &drawn {
        // The statements like the sample's, one way, timed.
        let db = &db;
        let like = |strategy| async move {
            let started = Instant::now();
            let found = similar_by(db, strategy, &sample.text, Some(sample.id), min, page).await;
            found.map(|found| (started.elapsed(), found))
        };
        let (took, exact) = like(Strategy::Trigrams).await?;
        exact_times.push(took);
        let (took, banded) = like(Strategy::Bands).await?;
        band_times.push(took);
        let got: HashSet<uuid::Uuid> = banded.iter().map(|s| s.statement.id).collect();
        if banded.len() < exact.len() {
            short += 1;
        }
        for hit in &exact {
            let hit_found = got.contains(&hit.statement.id);
            listed += 1;
            found += usize::from(hit_found);
            if let Some(range) = RANGES.iter().rposition(|low| hit.similarity >= *low) {
                by_range[range].0 += 1;
                by_range[range].1 += usize::from(hit_found);
            }
        }
    }
    println!(
        "{} statements, minSimilarity {min}, pages of {page}\n",
        drawn.len()
    );
    println!(
        "recall: {found} of the exact pages' {listed} statements ({:.1} %); \
         {short} band pages shorter than the exact one",
        100.0 * found as f64 / listed.max(1) as f64
    );
    for (i, (total, hit)) in by_range.iter().enumerate() {
        let high = RANGES
            .get(i + 1)
            .map_or("1.0".to_owned(), |h| h.to_string());
        println!(
            "  similarity {}–{high}: {hit} of {total} ({:.1} %)",
            RANGES[i],
            100.0 * *hit as f64 / (*total).max(1) as f64
        );
    }
    for (name, times) in [("exact", &mut exact_times), ("bands", &mut band_times)] {
        let [p50, p95, p99] = percentiles(times);
        println!("{name:<6} p50 {p50:.2} ms, p95 {p95:.2} ms, p99 {p99:.2} ms");
    }
    Ok(())
}
