//! What the benchmarks share: running a request through the schema, timed, failing on
//! any GraphQL error, and percentiles of the times.

use std::time::{Duration, Instant};

use claimtrack::graphql::AppSchema;
use serde_json::Value;

pub type BoxError = Box<dyn std::error::Error>;

/// Runs one request; its time, and its data as JSON. A response with errors fails
/// the benchmark: no number is trusted over an error.
pub async fn timed(
    schema: &AppSchema,
    name: &str,
    query: &str,
    variables: Value,
) -> Result<(Duration, Value), BoxError> {
    let request = async_graphql::Request::new(query)
        .variables(async_graphql::Variables::from_json(variables));
    let started = Instant::now();
    let response = schema.execute(request).await;
    let elapsed = started.elapsed();
    if !response.errors.is_empty() {
        return Err(format!("{name}: {:?}", response.errors).into());
    }
    Ok((elapsed, response.data.into_json()?))
}

/// p50, p95 and p99 of `times`, in milliseconds.
pub fn percentiles(times: &mut [Duration]) -> [f64; 3] {
    times.sort();
    [0.50, 0.95, 0.99].map(|p| {
        let i = ((times.len() as f64 - 1.0) * p).round() as usize;
        times[i].as_secs_f64() * 1000.0
    })
}
