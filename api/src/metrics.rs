//! Prometheus metrics, served at `/metrics`: GraphQL requests by operation name and
//! outcome, their latency, the SQL statements each one issues, how many execute and
//! wait their turn (see [`crate::admission`]), HTTP responses by route and status, and
//! the database pool's size, in-use and idle connections.
//!
//! The registry is process-wide, as Prometheus exporters usually are: every schema and
//! HTTP worker of the process counts into it. SQL statements are attributed to the
//! GraphQL request that issued them through a task-local counter, which the batch
//! loaders of that request carry into the tasks they spawn.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Instant;

use async_graphql::Response;
use prometheus::{
    Encoder, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};
use sea_orm::DatabaseConnection;
use tracing::Instrument;

use crate::graphql::loader::{self, Loaders};

/// Distinct operation names kept as label values; later ones count as `other`, so a
/// client inventing names cannot grow the registry without bound.
const MAX_OPERATION_NAMES: usize = 200;
/// Longest operation name kept as a label value; longer ones count as `other`. With
/// [`MAX_OPERATION_NAMES`], this bounds what the names add to a scrape (some 20
/// series each) to a few hundred kilobytes.
const MAX_OPERATION_NAME_LEN: usize = 64;

/// Latency buckets, in seconds: fine below 10 ms, where the targets are.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0,
];

const SQL_COUNT_BUCKETS: &[f64] = &[
    0.0, 1.0, 2.0, 3.0, 5.0, 8.0, 10.0, 15.0, 20.0, 30.0, 50.0, 100.0, 250.0,
];

tokio::task_local! {
    /// SQL statements issued so far by the GraphQL request this task works for.
    static REQUEST_SQL: Arc<AtomicU64>;
}

/// Every metric of the process.
pub struct Metrics {
    registry: Registry,
    graphql_requests: IntCounterVec,
    graphql_duration: HistogramVec,
    graphql_sql: Histogram,
    sql_statements: IntCounter,
    sql_failed: IntCounter,
    sql_duration: Histogram,
    http_responses: IntCounterVec,
    pool: IntGaugeVec,
    in_flight: IntGaugeVec,
    /// The `waiting` and `executing` series of `in_flight`, resolved once: they change
    /// twice per request.
    waiting: IntGauge,
    executing: IntGauge,
    turned_away: IntCounter,
    compiled: IntCounterVec,
    database_up: IntGauge,
    database_losses: IntCounter,
    subscriptions: IntGauge,
    events_read: IntCounter,
    webhook_deliveries: IntCounterVec,
    reads: IntCounterVec,
    pipelined: IntCounterVec,
    /// The `answered` and `fallback` series of `pipelined`, resolved once.
    pipelined_answered: IntCounter,
    pipelined_fallback: IntCounter,
    replica_lag: GaugeVec,
    replica_serving: IntGaugeVec,
    operation_names: Mutex<HashSet<String>>,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process-wide metrics.
pub fn metrics() -> &'static Metrics {
    &METRICS
}

impl Metrics {
    fn new() -> Self {
        let registry = Registry::new_custom(Some("claimtrack".into()), None)
            .unwrap_or_else(|_| Registry::new());
        let graphql_requests = IntCounterVec::new(
            Opts::new(
                "graphql_requests_total",
                "GraphQL requests by operation name (`anonymous` when unnamed) and outcome \
                 (`ok`, or the first error's extensions.code)",
            ),
            &["operation", "outcome"],
        );
        let graphql_duration = HistogramVec::new(
            HistogramOpts::new(
                "graphql_request_duration_seconds",
                "Time to parse, validate and execute a GraphQL request",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["operation"],
        );
        let graphql_sql = Histogram::with_opts(
            HistogramOpts::new(
                "graphql_request_sql_statements",
                "SQL statements issued by one GraphQL request",
            )
            .buckets(SQL_COUNT_BUCKETS.to_vec()),
        );
        let sql_statements = IntCounter::new("sql_statements_total", "SQL statements executed");
        let sql_failed =
            IntCounter::new("sql_statements_failed_total", "SQL statements that failed");
        let sql_duration = Histogram::with_opts(
            HistogramOpts::new(
                "sql_statement_duration_seconds",
                "Time from sending a SQL statement to having its result",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
        );
        let http_responses = IntCounterVec::new(
            Opts::new(
                "http_responses_total",
                "HTTP responses by route pattern and status code",
            ),
            &["route", "status"],
        );
        let pool = IntGaugeVec::new(
            Opts::new(
                "db_pool_connections",
                "Database pool connections: `max` (configured), `open`, `in_use`, `idle`",
            ),
            &["state"],
        );
        let in_flight = IntGaugeVec::new(
            Opts::new(
                "graphql_requests_in_flight",
                "GraphQL operations `executing`, `waiting` for their turn to execute, and \
                 the `limit` of those executing at once (a batch counts its operations)",
            ),
            &["state"],
        )
        .unwrap_or_else(|e| invalid_definition(&e));
        let turned_away = IntCounter::new(
            "graphql_requests_turned_away_total",
            "GraphQL requests refused (503) after waiting too long for their turn",
        );
        let compiled = IntCounterVec::new(
            Opts::new(
                "graphql_compiled_total",
                "Queries by how they were answered: `answered` by a compiled document's one \
                 statement; `deferred` to the resolvers by a compiled document (a value they \
                 refuse, a required object gone, a database error); `outside`: a document \
                 the compiler does not cover, with the `reason` (the first field, argument \
                 or construct outside it)",
            ),
            &["result", "reason"],
        );
        let database_up = IntGauge::new(
            "database_up",
            "1 while the database answers (as the service's own listening connection sees \
             it), 0 while it is lost",
        );
        let database_losses = IntCounter::new(
            "database_losses_total",
            "Times the database was lost (a crash, a restart, a cut connection)",
        );
        let subscriptions = IntGauge::new(
            "subscriptions_open",
            "GraphQL subscriptions this instance holds open",
        );
        let events_read = IntCounter::new(
            "events_read_total",
            "Events this instance has read from the event log and handed to its subscriptions",
        );
        let webhook_deliveries = IntCounterVec::new(
            Opts::new(
                "webhook_deliveries_total",
                "Webhook delivery attempts by this instance, by `result`: `delivered` (2xx), \
                 `retry` (another attempt is due later), `failed` (given up after 24 h)",
            ),
            &["result"],
        );
        let reads = IntCounterVec::new(
            Opts::new(
                "reads_total",
                "Queries by the `server` that answered (`primary` or `replica`) and the \
                 `reason`: `replica`; `no_replica` (none configured); `unhealthy` (none \
                 serving); `behind` (none had replayed the client's ClaimTrack-LSN yet); \
                 `fallback` (a replica failed during the read, which the primary answered)",
            ),
            &["server", "reason"],
        );
        let pipelined = IntCounterVec::new(
            Opts::new(
                "sql_pipelined_total",
                "Compiled reads for a pipelined connection, by `result`: `answered`, or \
                 `fallback` (it failed there, or holds a value the pipeline does not bind, \
                 and the pool ran it)",
            ),
            &["result"],
        )
        .unwrap_or_else(|e| invalid_definition(&e));
        let replica_lag = GaugeVec::new(
            Opts::new(
                "replica_lag_seconds",
                "How far each replica's replay is behind the primary's WAL, in seconds",
            ),
            &["replica"],
        );
        let replica_serving = IntGaugeVec::new(
            Opts::new(
                "replica_serving",
                "1 while a replica takes reads, 0 while it is down, lagging or not in recovery",
            ),
            &["replica"],
        );
        let metrics = Self {
            registry,
            reads: reads.unwrap_or_else(|e| invalid_definition(&e)),
            pipelined_answered: pipelined.with_label_values(&["answered"]),
            pipelined_fallback: pipelined.with_label_values(&["fallback"]),
            pipelined,
            replica_lag: replica_lag.unwrap_or_else(|e| invalid_definition(&e)),
            replica_serving: replica_serving.unwrap_or_else(|e| invalid_definition(&e)),
            subscriptions: subscriptions.unwrap_or_else(|e| invalid_definition(&e)),
            events_read: events_read.unwrap_or_else(|e| invalid_definition(&e)),
            webhook_deliveries: webhook_deliveries.unwrap_or_else(|e| invalid_definition(&e)),
            graphql_requests: graphql_requests.unwrap_or_else(|e| invalid_definition(&e)),
            graphql_duration: graphql_duration.unwrap_or_else(|e| invalid_definition(&e)),
            graphql_sql: graphql_sql.unwrap_or_else(|e| invalid_definition(&e)),
            sql_statements: sql_statements.unwrap_or_else(|e| invalid_definition(&e)),
            sql_failed: sql_failed.unwrap_or_else(|e| invalid_definition(&e)),
            sql_duration: sql_duration.unwrap_or_else(|e| invalid_definition(&e)),
            http_responses: http_responses.unwrap_or_else(|e| invalid_definition(&e)),
            pool: pool.unwrap_or_else(|e| invalid_definition(&e)),
            waiting: in_flight.with_label_values(&["waiting"]),
            executing: in_flight.with_label_values(&["executing"]),
            in_flight,
            turned_away: turned_away.unwrap_or_else(|e| invalid_definition(&e)),
            compiled: compiled.unwrap_or_else(|e| invalid_definition(&e)),
            database_up: database_up.unwrap_or_else(|e| invalid_definition(&e)),
            database_losses: database_losses.unwrap_or_else(|e| invalid_definition(&e)),
            operation_names: Mutex::new(HashSet::new()),
        };
        metrics.database_up.set(1);
        let collectors: [Box<dyn prometheus::core::Collector>; 20] = [
            Box::new(metrics.reads.clone()),
            Box::new(metrics.pipelined.clone()),
            Box::new(metrics.replica_lag.clone()),
            Box::new(metrics.replica_serving.clone()),
            Box::new(metrics.subscriptions.clone()),
            Box::new(metrics.events_read.clone()),
            Box::new(metrics.webhook_deliveries.clone()),
            Box::new(metrics.graphql_requests.clone()),
            Box::new(metrics.graphql_duration.clone()),
            Box::new(metrics.graphql_sql.clone()),
            Box::new(metrics.sql_statements.clone()),
            Box::new(metrics.sql_failed.clone()),
            Box::new(metrics.sql_duration.clone()),
            Box::new(metrics.http_responses.clone()),
            Box::new(metrics.pool.clone()),
            Box::new(metrics.in_flight.clone()),
            Box::new(metrics.turned_away.clone()),
            Box::new(metrics.compiled.clone()),
            Box::new(metrics.database_up.clone()),
            Box::new(metrics.database_losses.clone()),
        ];
        for collector in collectors {
            if let Err(e) = metrics.registry.register(collector) {
                tracing::error!(error = %e, "could not register a metric");
            }
        }
        metrics
    }

    /// The text exposition of every metric, with the pool's state read now.
    pub fn render(&self, db: &DatabaseConnection) -> String {
        let pool = db.get_postgres_connection_pool();
        let open = i64::from(pool.size());
        let idle = i64::try_from(pool.num_idle()).unwrap_or(i64::MAX);
        let max = i64::from(pool.options().get_max_connections());
        for (state, value) in [
            ("max", max),
            ("open", open),
            ("in_use", (open - idle).max(0)),
            ("idle", idle),
        ] {
            self.pool.with_label_values(&[state]).set(value);
        }
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "could not encode the metrics");
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Counts one HTTP response.
    pub fn http_response(&self, route: &str, status: u16) {
        self.http_responses
            .with_label_values(&[route, &status.to_string()])
            .inc();
    }

    /// `n` more operations waiting for their turn, until the guard is dropped.
    pub fn waiting(&self, n: usize) -> GaugeGuard {
        GaugeGuard::up(self.waiting.clone(), n)
    }

    /// `n` more operations executing, until the guard is dropped.
    pub fn executing(&self, n: usize) -> GaugeGuard {
        GaugeGuard::up(self.executing.clone(), n)
    }

    /// The bound on operations executing at once. The gauge is the process's: the
    /// service builds one admission; where several are built (tests), the last one's
    /// limit shows.
    pub fn admission_limit(&self, limit: usize) {
        self.in_flight
            .with_label_values(&["limit"])
            .set(i64::try_from(limit).unwrap_or(i64::MAX));
    }

    /// One more subscription open, until the guard is dropped.
    pub fn subscription(&self) -> GaugeGuard {
        GaugeGuard::up(self.subscriptions.clone(), 1)
    }

    /// Counts events read from the log for this instance's subscriptions.
    pub fn events_read(&self, n: usize) {
        self.events_read.inc_by(n as u64);
    }

    /// Counts one webhook delivery attempt by its result.
    pub fn webhook_delivery(&self, result: &str) {
        self.webhook_deliveries.with_label_values(&[result]).inc();
    }

    /// Counts a request refused for want of a turn.
    pub fn turned_away(&self) {
        self.turned_away.inc();
    }

    /// Counts a request for a compiled document: answered by its statement, or not.
    pub fn compiled(&self, answered: bool) {
        let result = if answered { "answered" } else { "deferred" };
        self.compiled.with_label_values(&[result, ""]).inc();
    }

    /// A request for a document outside the compiled part, for `reason`.
    pub fn outside(&self, reason: &str) {
        self.compiled.with_label_values(&["outside", reason]).inc();
    }

    /// The database was lost.
    pub fn database_lost(&self) {
        self.database_up.set(0);
        self.database_losses.inc();
    }

    /// Counts one query by where it was read and why.
    pub fn read(&self, server: &str, reason: &str) {
        self.reads.with_label_values(&[server, reason]).inc();
    }

    /// A compiled read on a pipelined connection: answered there, or left to the pool.
    pub fn pipelined(&self, answered: bool) {
        if answered {
            self.pipelined_answered.inc();
        } else {
            self.pipelined_fallback.inc();
        }
    }

    /// A replica's state, as its monitor last saw it.
    pub fn replica(&self, name: &str, lag_seconds: Option<f64>, serving: bool) {
        if let Some(lag) = lag_seconds {
            self.replica_lag.with_label_values(&[name]).set(lag);
        }
        self.replica_serving
            .with_label_values(&[name])
            .set(i64::from(serving));
    }

    /// The database answers again.
    pub fn database_found(&self) {
        self.database_up.set(1);
    }

    /// Counts one SQL statement, for the process and for the request that issued it.
    pub fn sql_statement(&self, info: &sea_orm::metric::Info<'_>) {
        self.sql_statements.inc();
        if info.failed {
            self.sql_failed.inc();
        }
        self.sql_duration.observe(info.elapsed.as_secs_f64());
        let _outside_a_request =
            REQUEST_SQL.try_with(|count| count.fetch_add(1, Ordering::Relaxed));
        tracing::debug!(target: "claimtrack::sql", elapsed_us = info.elapsed.as_micros() as u64,
            failed = info.failed, sql = %info.statement, "sql");
    }

    fn graphql_request(&self, operation: &str, outcome: &str, seconds: f64, sql: u64) {
        let operation = self.operation_label(operation);
        self.graphql_requests
            .with_label_values(&[operation.as_str(), outcome])
            .inc();
        self.graphql_duration
            .with_label_values(&[operation.as_str()])
            .observe(seconds);
        self.graphql_sql.observe(sql as f64);
    }

    fn operation_label(&self, name: &str) -> String {
        let Ok(mut seen) = self.operation_names.lock() else {
            return "other".into();
        };
        if seen.contains(name) {
            return name.to_owned();
        }
        if seen.len() >= MAX_OPERATION_NAMES || name.len() > MAX_OPERATION_NAME_LEN {
            return "other".into();
        }
        seen.insert(name.to_owned());
        name.to_owned()
    }
}

/// A gauge raised by an amount while this guard lives.
#[derive(Debug)]
pub struct GaugeGuard {
    gauge: IntGauge,
    by: i64,
}

impl GaugeGuard {
    fn up(gauge: IntGauge, by: usize) -> Self {
        let by = i64::try_from(by).unwrap_or(i64::MAX);
        gauge.add(by);
        Self { gauge, by }
    }
}

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.gauge.sub(self.by);
    }
}

fn invalid_definition(e: &prometheus::Error) -> ! {
    // The metric definitions above are constant: an error is a bug in them.
    panic!("invalid metric definition: {e}")
}

/// Installs the SQL statement counter on a pool; clones made afterwards share it.
pub fn count_sql(db: &mut DatabaseConnection) {
    db.set_metric_callback(|info| metrics().sql_statement(info));
}

/// Runs one GraphQL request's work, counting the SQL statements it issues (in its own
/// task and in the tasks of the loaders made by [`request_loaders`] inside it).
pub async fn counting_sql<T>(work: impl Future<Output = T>) -> (T, u64) {
    let sql = Arc::new(AtomicU64::new(0));
    let out = REQUEST_SQL.scope(sql.clone(), work).await;
    (out, sql.load(Ordering::Relaxed))
}

/// Counts a GraphQL request: `operation` is the one that ran (`None` when the request
/// was refused before it could run: unparsable, invalid, over a limit), `outcome` as
/// [`outcome`] gives it.
pub fn record_request(operation: Option<&str>, outcome: &str, started: Instant, sql: u64) {
    metrics().graphql_request(
        operation.unwrap_or("invalid"),
        outcome,
        started.elapsed().as_secs_f64(),
        sql,
    );
}

/// A response's outcome as metrics label it: `ok`, or its first error's code.
pub fn outcome(response: &Response) -> String {
    match response.errors.first() {
        None => "ok".to_owned(),
        Some(error) => error
            .extensions
            .as_ref()
            .and_then(|ext| ext.get("code"))
            .and_then(|code| match code {
                async_graphql::Value::String(code) => Some(code.clone()),
                _ => None,
            })
            .unwrap_or_else(|| "INTERNAL".into()),
    }
}

/// Batch loaders for one request, whose tasks keep its span and SQL counter.
pub fn request_loaders(db: DatabaseConnection) -> Loaders {
    let sql = REQUEST_SQL.try_with(Arc::clone).ok();
    loader::loaders_spawning(db, move |task| {
        let task = task.in_current_span();
        match &sql {
            Some(sql) => tokio::spawn(REQUEST_SQL.scope(sql.clone(), task)),
            None => tokio::spawn(task),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_and_late_operation_names_share_one_label() {
        let metrics = Metrics::new();
        assert_eq!(metrics.operation_label("SpeakerPage"), "SpeakerPage");
        let long = "x".repeat(MAX_OPERATION_NAME_LEN + 1);
        assert_eq!(metrics.operation_label(&long), "other");
        for i in 0..MAX_OPERATION_NAMES {
            metrics.operation_label(&format!("Op{i}"));
        }
        assert_eq!(metrics.operation_label("OneTooMany"), "other");
        assert_eq!(metrics.operation_label("SpeakerPage"), "SpeakerPage");
    }
}
