//! What claim matching through the word index finds of the exact answer: for claims
//! drawn from the whole data set, `Claim.matchingStatements` through the word index
//! against the exact trigram search, with the same threshold and page size. Prints
//! recall (of the exact page's statements, how many the word index lists), how many
//! pages list the same similarities in the same order, and the time of each way.
//!
//! `cargo run --release -p claimtrack --example matching_recall -- <DATABASE_URL> [samples] [min] [page]`

#![expect(
    clippy::print_stdout,
    reason = "a benchmark reports on standard output"
)]

#[expect(dead_code, reason = "this benchmark calls the service, not the schema")]
mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use claimtrack::config::DbArgs;
use claimtrack::service::search::similar::{Strategy, matching_by};
use common::percentiles;
use entity::claim;
use sea_orm::{DbBackend, EntityTrait, Statement};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .ok_or("usage: matching_recall <DATABASE_URL> [samples] [min] [page]")?;
    let samples: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(30);
    let min: f64 = args.next().map(|n| n.parse()).transpose()?.unwrap_or(0.5);
    let page: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(20);
    let db = claimtrack::db::connect(&url, &DbArgs::default()).await?;
    // Claims that statements take stances on, as `search_bench` draws them.
    let drawn = claim::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT c.* FROM claim c WHERE c.id IN (SELECT st.claim_id FROM statement s \
               TABLESAMPLE SYSTEM (1) REPEATABLE (7) JOIN stance st ON st.statement_id = s.id) \
             AND c.deleted_at IS NULL ORDER BY c.id LIMIT $1",
            [i64::try_from(samples)?.into()],
        ))
        .all(&db)
        .await?;
    if drawn.is_empty() {
        return Err("no claims: load data first (claimtrack generate)".into());
    }
    let mut exact_times: Vec<Duration> = Vec::new();
    let mut word_times: Vec<Duration> = Vec::new();
    let (mut listed, mut found, mut same, mut short) = (0usize, 0usize, 0usize, 0usize);
    for claim in &drawn {
        let db = &db;
        let like = |strategy| async move {
            let started = Instant::now();
            let found = matching_by(db, strategy, claim, min, page).await;
            found.map(|found| (started.elapsed(), found))
        };
        let (took, exact) = like(Strategy::Trigrams).await?;
        exact_times.push(took);
        let (took, worded) = like(Strategy::Bands).await?;
        word_times.push(took);
        let got: HashSet<uuid::Uuid> = worded.iter().map(|s| s.statement.id).collect();
        short += usize::from(worded.len() < exact.len());
        let similarities = |list: &[claimtrack::service::search::similar::Similar]| -> Vec<f32> {
            list.iter().map(|s| s.similarity).collect()
        };
        let agree = similarities(&exact) == similarities(&worded);
        same += usize::from(agree);
        if !agree {
            println!(
                "differs: {:?}\n  exact {:?}\n  words {:?}",
                claim.text,
                similarities(&exact),
                similarities(&worded)
            );
        }
        for hit in &exact {
            listed += 1;
            found += usize::from(got.contains(&hit.statement.id));
        }
    }
    println!(
        "{} claims, minSimilarity {min}, pages of {page}\n",
        drawn.len()
    );
    println!(
        "recall: {found} of the exact pages' {listed} statements ({:.1} %); \
         {same} of {} pages list the same similarities in the same order; \
         {short} word pages shorter than the exact one",
        100.0 * found as f64 / listed.max(1) as f64,
        drawn.len()
    );
    for (name, times) in [("exact", &mut exact_times), ("words", &mut word_times)] {
        let [p50, p95, p99] = percentiles(times);
        println!("{name:<6} p50 {p50:.2} ms, p95 {p95:.2} ms, p99 {p99:.2} ms");
    }
    Ok(())
}
