//! Where a read goes: to a streaming replica of the primary when one serves and has
//! replayed what the reader must see, else to the primary.
//!
//! A write's answer carries the WAL position of its commit ([`Reads::commit_position`],
//! sent back as the `ClaimTrack-LSN` header and `extensions.lsn`); a read that brings
//! it back is served by a replica only once that replica has replayed that far
//! (`pg_last_wal_replay_lsn()`), so whoever wrote something reads it, wherever the
//! read lands.
//!
//! A monitor checks every replica every [`POLL`]: whether it is in recovery, and how far
//! it has replayed. Its lag is the time since the primary's WAL first went past the
//! replayed position (the monitor samples the primary's flushed WAL position on the
//! same tick), so an idle primary shows no lag. A replica that is down, lags more than
//! the allowed maximum, or is not in recovery (promoted, or misconfigured) takes no
//! reads until it checks out again. Each replica also has its own [`Health`]
//! watcher, which notices a lost connection at once, and a read that fails on a
//! replica for want of it is answered by the primary instead (reads are repeatable):
//! a replica's outage never reaches a client.

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use tokio::task::JoinHandle;
use tracing::Instrument;

use super::Health;
use super::pipeline::Pipeline;
use crate::config::DbArgs;

/// The header that carries a WAL position: answered with every mutation, sent back by
/// the client on the reads that must see it.
pub const HEADER: &str = "claimtrack-lsn";

/// How often the monitor checks the replicas.
pub const POLL: Duration = Duration::from_millis(100);

/// How long one check may take before the replica counts as down.
const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// How long a replica that failed a read is passed over, unless its monitor sees it
/// answer before then.
const PASS_OVER: Duration = Duration::from_secs(1);

/// A position in PostgreSQL's write-ahead log (`pg_lsn`), written as PostgreSQL writes
/// it: two hexadecimal numbers, `16/B374D848`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lsn(pub u64);

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

/// Why a WAL position could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a WAL position is two hexadecimal numbers of at most 8 digits, as in 16/B374D848")]
pub struct BadLsn;

impl FromStr for Lsn {
    type Err = BadLsn;

    fn from_str(s: &str) -> Result<Self, BadLsn> {
        let (high, low) = s.trim().split_once('/').ok_or(BadLsn)?;
        let half = |part: &str| {
            let well_formed =
                (1..=8).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_hexdigit());
            well_formed
                .then(|| u64::from_str_radix(part, 16).ok())
                .flatten()
                .ok_or(BadLsn)
        };
        Ok(Lsn(half(high)? << 32 | half(low)?))
    }
}

/// The WAL position a read must see: the client's `ClaimTrack-LSN`, in request data.
#[derive(Debug, Clone, Copy)]
pub struct ReadAfter(pub Lsn);

/// In request data: the primary is lost (a replica serves the reads meanwhile), so a
/// write is refused at once rather than after waiting for a connection.
#[derive(Debug, Clone, Copy)]
pub struct PrimaryLost;

/// A replica's state, as its monitor last saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum State {
    /// Not yet checked, or not yet known to have caught up.
    Starting = 0,
    Serving = 1,
    Lagging = 2,
    Down = 3,
    /// It answers, but is not replaying a primary's WAL.
    NotInRecovery = 4,
}

impl State {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::Serving,
            2 => Self::Lagging,
            3 => Self::Down,
            4 => Self::NotInRecovery,
            _ => Self::Starting,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Serving => "serving",
            Self::Lagging => "lagging",
            Self::Down => "down",
            Self::NotInRecovery => "not_in_recovery",
        }
    }
}

struct Replica {
    /// Host, port and database: what logs, metrics and `/readyz` call it.
    name: String,
    db: DatabaseConnection,
    pipeline: Option<Pipeline>,
    health: Health,
    state: AtomicU8,
    /// The last replayed position seen (0: none yet).
    replayed: AtomicU64,
    lag_ms: AtomicU64,
    /// Passed over until then (milliseconds since the router's epoch).
    pass_over_until_ms: AtomicU64,
}

impl Replica {
    fn state(&self) -> State {
        State::from_u8(self.state.load(Ordering::Acquire))
    }

    /// Whether it takes reads at `now` (milliseconds since the router's epoch).
    fn serving(&self, now: u64) -> bool {
        self.state() == State::Serving
            && self.health.is_up()
            && self.pass_over_until_ms.load(Ordering::Acquire) <= now
    }

    fn set_state(&self, state: State) {
        let was = State::from_u8(self.state.swap(state as u8, Ordering::AcqRel));
        if was != state {
            let lag_ms = self.lag_ms.load(Ordering::Relaxed);
            match state {
                State::Serving => {
                    tracing::info!(replica = %self.name, lag_ms, "replica serves reads")
                }
                State::Starting => {}
                State::Lagging => tracing::warn!(replica = %self.name, lag_ms,
                    "replica lags; it takes no reads until it catches up"),
                State::Down => tracing::warn!(replica = %self.name,
                    "replica does not answer; it takes no reads until it does"),
                State::NotInRecovery => tracing::warn!(replica = %self.name,
                    "replica is not in recovery (promoted, or not a replica); it takes no reads"),
            }
        }
    }
}

/// Where the reads of one request go.
#[derive(Clone)]
pub struct Choice {
    pub db: DatabaseConnection,
    /// The same server's pipelined connections, for compiled reads.
    pub pipeline: Option<Pipeline>,
    /// The replica's index; `None`: the primary.
    replica: Option<usize>,
}

impl Choice {
    /// Whether a replica serves it (and the primary can take over if it fails).
    pub fn on_replica(&self) -> bool {
        self.replica.is_some()
    }
}

/// The router of reads; cheap to clone.
#[derive(Clone)]
pub struct Reads(Arc<Inner>);

impl fmt::Debug for Reads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self.0.replicas.iter().map(|r| &r.name).collect();
        f.debug_struct("Reads").field("replicas", &names).finish()
    }
}

struct Inner {
    primary: DatabaseConnection,
    primary_pipeline: Option<Pipeline>,
    /// Connections to the primary for LISTEN, past any pooler.
    direct: Option<sea_orm::sqlx::PgPool>,
    replicas: Vec<Replica>,
    next: AtomicUsize,
    max_lag: Duration,
    epoch: Instant,
}

impl Reads {
    /// Every read on the primary.
    pub fn primary_only(primary: DatabaseConnection) -> Self {
        Self::with_replicas((primary, None), Vec::new(), Duration::ZERO, None)
    }

    /// The primary and a pool for each replica URL. Pools connect when first used, so a
    /// replica that is down now does not keep the service from starting.
    pub async fn connect(
        primary: DatabaseConnection,
        primary_url: &str,
        settings: &crate::config::Replication,
        args: &DbArgs,
    ) -> Result<Self, DbErr> {
        let urls = &settings.replica_urls;
        let mut replicas = Vec::with_capacity(urls.len());
        for url in urls {
            let name = display_name(url);
            let health = Health::of_replica(&name);
            let mut db = super::connect_lazily(url, args, &health).await?;
            crate::metrics::count_sql(&mut db);
            let pipeline = pipeline(url, &db, args);
            replicas.push((name, db, pipeline, health));
        }
        let direct = match &settings.database_direct_url {
            None => None,
            Some(url) => {
                let options = url
                    .parse::<sea_orm::sqlx::postgres::PgConnectOptions>()
                    .map_err(|e| DbErr::Custom(format!("DATABASE_DIRECT_URL: {e}")))?
                    .application_name("claimtrack");
                Some(
                    sea_orm::sqlx::postgres::PgPoolOptions::new()
                        .max_connections(4)
                        .min_connections(0)
                        .connect_lazy_with(options),
                )
            }
        };
        let primary_pipeline = pipeline(primary_url, &primary, args);
        Ok(Self::with_replicas(
            (primary, primary_pipeline),
            replicas,
            settings.max_lag(),
            direct,
        ))
    }

    /// Every read on the primary, compiled reads pipelined (see [`Pipeline`]) on
    /// `args.pipeline_connections()` connections per thread; `url` is the one `primary`
    /// was made from.
    pub fn primary_pipelined(primary: DatabaseConnection, url: &str, args: &DbArgs) -> Self {
        let pipeline = pipeline(url, &primary, args);
        Self::with_replicas((primary, pipeline), Vec::new(), Duration::ZERO, None)
    }

    fn with_replicas(
        (primary, primary_pipeline): (DatabaseConnection, Option<Pipeline>),
        replicas: Vec<(String, DatabaseConnection, Option<Pipeline>, Health)>,
        max_lag: Duration,
        direct: Option<sea_orm::sqlx::PgPool>,
    ) -> Self {
        let replicas = replicas
            .into_iter()
            .map(|(name, db, pipeline, health)| Replica {
                name,
                db,
                pipeline,
                health,
                state: AtomicU8::new(State::Starting as u8),
                replayed: AtomicU64::new(0),
                lag_ms: AtomicU64::new(0),
                pass_over_until_ms: AtomicU64::new(0),
            })
            .collect();
        Self(Arc::new(Inner {
            primary,
            primary_pipeline,
            direct,
            replicas,
            next: AtomicUsize::new(0),
            max_lag,
            epoch: Instant::now(),
        }))
    }

    /// The primary: writes, and what must read the latest (the event log).
    pub fn primary(&self) -> &DatabaseConnection {
        &self.0.primary
    }

    /// Where to LISTEN: the direct connection to the primary when one is configured
    /// (a pooler in transaction mode cannot hold a LISTEN), else the primary's pool.
    pub fn listen_pool(&self) -> sea_orm::sqlx::PgPool {
        self.0
            .direct
            .clone()
            .unwrap_or_else(|| self.0.primary.get_postgres_connection_pool().clone())
    }

    /// Whether some replica serves reads now.
    pub fn serving(&self) -> bool {
        let now = self.now_ms();
        self.0.replicas.iter().any(|r| r.serving(now))
    }

    /// Whether any replica is configured.
    pub fn has_replicas(&self) -> bool {
        !self.0.replicas.is_empty()
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.0.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Where a read goes: the next serving replica (in turn) that has replayed `after`,
    /// else the primary.
    pub fn choose(&self, after: Option<Lsn>) -> Choice {
        let replicas = &self.0.replicas;
        if replicas.is_empty() {
            return self.on_primary("no_replica");
        }
        let now = self.now_ms();
        let start = self.0.next.fetch_add(1, Ordering::Relaxed);
        let mut any_serving = false;
        for offset in 0..replicas.len() {
            let index = (start + offset) % replicas.len();
            let replica = &replicas[index];
            if !replica.serving(now) {
                continue;
            }
            any_serving = true;
            let replayed = Lsn(replica.replayed.load(Ordering::Acquire));
            if after.is_none_or(|after| replayed >= after) {
                crate::metrics::metrics().read("replica", "replica");
                return Choice {
                    db: replica.db.clone(),
                    pipeline: replica.pipeline.clone(),
                    replica: Some(index),
                };
            }
        }
        self.on_primary(if any_serving { "behind" } else { "unhealthy" })
    }

    /// The primary, for a request that writes (not counted as a read).
    pub fn for_writes(&self) -> Choice {
        self.primary_choice()
    }

    fn primary_choice(&self) -> Choice {
        Choice {
            db: self.0.primary.clone(),
            pipeline: self.0.primary_pipeline.clone(),
            replica: None,
        }
    }

    fn on_primary(&self, reason: &str) -> Choice {
        crate::metrics::metrics().read("primary", reason);
        self.primary_choice()
    }

    /// The read `choice` sent to a replica failed for want of it: the replica is passed
    /// over for a while, and the primary answers instead (what this returns).
    pub fn failed(&self, choice: &Choice) -> Choice {
        if let Some(replica) = choice.replica.and_then(|i| self.0.replicas.get(i)) {
            let until = self.now_ms() + u64::try_from(PASS_OVER.as_millis()).unwrap_or(0);
            replica.pass_over_until_ms.store(until, Ordering::Release);
            tracing::warn!(replica = %replica.name, "a read failed on the replica; the primary answers it");
        }
        crate::metrics::metrics().read("primary", "fallback");
        self.primary_choice()
    }

    /// Runs `read` where [`Reads::choose`] sends it and, when it fails on a replica
    /// for want of it (`lost`), once more on the primary. Returns the result and where
    /// the read ended up.
    pub async fn read<T, E, Fut>(
        &self,
        after: Option<Lsn>,
        lost: impl Fn(&E) -> bool,
        read: impl Fn(Choice) -> Fut,
    ) -> (Result<T, E>, Choice)
    where
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        let choice = self.choose(after);
        let result = read(choice.clone()).await;
        match result {
            Err(error) if choice.on_replica() && lost(&error) => {
                let primary = self.failed(&choice);
                (read(primary.clone()).await, primary)
            }
            result => (result, choice),
        }
    }

    /// The primary's WAL position now, past the commit of every transaction that has
    /// returned: what a writer sends back to read its writes.
    pub async fn commit_position(&self) -> Option<Lsn> {
        let sql = "SELECT pg_current_wal_insert_lsn()::text";
        position(&self.0.primary, sql).await.ok()
    }

    /// Starts watching the replicas (nothing to watch: no task). Returns the tasks, to
    /// abort on shutdown.
    pub fn watch(&self) -> Vec<JoinHandle<()>> {
        if self.0.replicas.is_empty() {
            return Vec::new();
        }
        let mut tasks: Vec<_> = self
            .0
            .replicas
            .iter()
            .map(|r| r.health.watch(r.db.get_postgres_connection_pool().clone()))
            .collect();
        let reads = self.clone();
        tasks.push(tokio::spawn(
            async move {
                let mut samples = Samples::default();
                let mut tick = tokio::time::interval(POLL);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    reads.check(&mut samples).await;
                }
            }
            .instrument(tracing::Span::current()),
        ));
        tasks
    }

    /// One round of the monitor: samples the primary, then checks every replica.
    async fn check(&self, samples: &mut Samples) {
        let flushed = tokio::time::timeout(
            CHECK_TIMEOUT,
            position(&self.0.primary, "SELECT pg_current_wal_flush_lsn()::text"),
        )
        .await;
        if let Ok(Ok(flushed)) = flushed {
            samples.push(Instant::now(), flushed, self.0.max_lag + 2 * POLL);
        }
        let checks = self.0.replicas.iter().map(|replica| async move {
            let sql = "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text";
            let checked = tokio::time::timeout(
                CHECK_TIMEOUT,
                replica
                    .db
                    .query_one_raw(Statement::from_string(DbBackend::Postgres, sql)),
            )
            .await;
            let row = match checked {
                Ok(Ok(Some(row))) => row,
                Ok(Ok(None)) => return (replica, None),
                Ok(Err(error)) => {
                    tracing::debug!(replica = %replica.name, %error, "replica check failed");
                    return (replica, None);
                }
                Err(_) => {
                    tracing::debug!(replica = %replica.name, "replica check timed out");
                    return (replica, None);
                }
            };
            let in_recovery: bool = row.try_get_by_index(0).unwrap_or(false);
            let replayed: Option<String> = row.try_get_by_index(1).ok().flatten();
            let replayed = replayed.and_then(|s| s.parse::<Lsn>().ok());
            (replica, Some(replayed.filter(|_| in_recovery)))
        });
        for (replica, seen) in futures::future::join_all(checks).await {
            let state = match seen {
                None => State::Down,
                Some(None) => State::NotInRecovery,
                Some(Some(replayed)) => {
                    replica.replayed.fetch_max(replayed.0, Ordering::AcqRel);
                    let (lag, exact) = match samples.lag(replayed, Instant::now()) {
                        Lag::Known(lag) => (lag, true),
                        Lag::AtLeast(lag) => (lag, false),
                    };
                    let lag_ms = u64::try_from(lag.as_millis()).unwrap_or(u64::MAX);
                    replica.lag_ms.store(lag_ms, Ordering::Relaxed);
                    match (lag <= self.0.max_lag, exact) {
                        (false, _) => State::Lagging,
                        (true, true) => State::Serving,
                        // Behind every sample kept, not yet for long: not yet trusted.
                        (true, false) => State::Starting,
                    }
                }
            };
            match state {
                // A replica restored from an older backup replays from further back.
                State::Down | State::NotInRecovery => replica.replayed.store(0, Ordering::Release),
                State::Serving => replica.pass_over_until_ms.store(0, Ordering::Release),
                State::Starting | State::Lagging => {}
            }
            replica.set_state(state);
            let lag = replica.lag_ms.load(Ordering::Relaxed) as f64 / 1000.0;
            let known = matches!(state, State::Serving | State::Lagging).then_some(lag);
            crate::metrics::metrics().replica(&replica.name, known, state == State::Serving);
        }
    }

    /// Each replica's state, lag and replayed position, for `/readyz`.
    pub fn report(&self) -> Vec<serde_json::Value> {
        self.0
            .replicas
            .iter()
            .map(|r| {
                let state = if r.health.is_up() {
                    r.state()
                } else {
                    State::Down
                };
                let replayed = r.replayed.load(Ordering::Acquire);
                serde_json::json!({
                    "replica": r.name,
                    "state": state.label(),
                    "lagMs": r.lag_ms.load(Ordering::Relaxed),
                    "replayed": (replayed > 0).then(|| Lsn(replayed).to_string()),
                })
            })
            .collect()
    }
}

/// A WAL position read by `sql` (one `pg_lsn` as text).
async fn position(db: &DatabaseConnection, sql: &str) -> Result<Lsn, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?
        .ok_or_else(|| DbErr::Custom("no WAL position".into()))?;
    let text: Option<String> = row.try_get_by_index(0)?;
    text.and_then(|t| t.parse().ok())
        .ok_or_else(|| DbErr::Custom("no WAL position".into()))
}

/// A URL's host, port and database, without its user or password.
fn display_name(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) => format!(
            "{}:{}{}",
            parsed.host_str().unwrap_or("localhost"),
            parsed.port().unwrap_or(5432),
            parsed.path()
        ),
        Err(_) => "replica".to_owned(),
    }
}

/// How far behind the primary a replayed position is.
#[derive(Debug, PartialEq, Eq)]
enum Lag {
    Known(Duration),
    /// Behind even the oldest sample kept: at least this much.
    AtLeast(Duration),
}

/// The primary's flushed WAL position over the last stretch of time, oldest first.
#[derive(Default)]
struct Samples(VecDeque<(Instant, Lsn)>);

impl Samples {
    /// Records a sample; drops those older than `keep`, keeping the newest always.
    fn push(&mut self, at: Instant, lsn: Lsn, keep: Duration) {
        self.0.push_back((at, lsn));
        while self.0.len() > 1
            && self
                .0
                .front()
                .is_some_and(|(t, _)| at.duration_since(*t) > keep)
        {
            self.0.pop_front();
        }
    }

    /// The time since the primary first went past `replayed`: nothing sampled past it
    /// means no lag.
    fn lag(&self, replayed: Lsn, now: Instant) -> Lag {
        match self.0.iter().position(|(_, lsn)| *lsn > replayed) {
            None => Lag::Known(Duration::ZERO),
            Some(0) => Lag::AtLeast(self.0.front().map_or(Duration::ZERO, |(t, _)| now - *t)),
            Some(i) => Lag::Known(now - self.0[i].0),
        }
    }
}

/// The pipeline to the server `db` connects to, as `args` configure it.
fn pipeline(url: &str, db: &DatabaseConnection, args: &DbArgs) -> Option<Pipeline> {
    Pipeline::new(
        url,
        db.get_postgres_connection_pool(),
        args.pipeline_connections(),
        super::session_settings(args),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_read_and_write_as_postgresql_writes_them() {
        for text in ["0/0", "16/B374D848", "FFFFFFFF/FFFFFFFF", "0/3000148"] {
            let lsn: Lsn = text.parse().expect("valid");
            assert_eq!(lsn.to_string(), text);
        }
        assert_eq!(
            "16/b374d848".parse::<Lsn>().map(|l| l.to_string()),
            Ok("16/B374D848".into())
        );
        assert!("1/0".parse::<Lsn>().expect("valid") > "0/FFFFFFFF".parse().expect("valid"));
        for bad in [
            "",
            "0",
            "/1",
            "1/",
            "x/1",
            "123456789/0",
            "0/-1",
            "1/2/3",
            "+1/2",
            "0/ 1",
        ] {
            assert_eq!(bad.parse::<Lsn>(), Err(BadLsn), "{bad:?}");
        }
    }

    #[test]
    fn lag_is_the_time_since_the_primary_went_past_the_replayed_position() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let mut samples = Samples::default();
        let keep = Duration::from_secs(10);
        samples.push(at(0), Lsn(100), keep);
        samples.push(at(100), Lsn(200), keep);
        samples.push(at(200), Lsn(200), keep);
        samples.push(at(300), Lsn(300), keep);
        let now = at(400);
        // Caught up with the newest: no lag, however old the samples.
        assert_eq!(samples.lag(Lsn(300), now), Lag::Known(Duration::ZERO));
        // The primary went past 200 at 300 ms.
        assert_eq!(
            samples.lag(Lsn(200), now),
            Lag::Known(Duration::from_millis(100))
        );
        assert_eq!(
            samples.lag(Lsn(150), now),
            Lag::Known(Duration::from_millis(300))
        );
        // Behind the oldest sample: only a lower bound is known.
        assert_eq!(
            samples.lag(Lsn(50), now),
            Lag::AtLeast(Duration::from_millis(400))
        );
    }

    #[test]
    fn old_samples_go_and_the_newest_stays() {
        let start = Instant::now();
        let mut samples = Samples::default();
        let keep = Duration::from_millis(250);
        for i in 0..10u64 {
            samples.push(start + Duration::from_millis(i * 100), Lsn(i), keep);
        }
        assert_eq!(samples.0.len(), 3);
        let mut one = Samples::default();
        one.push(start, Lsn(1), Duration::ZERO);
        one.push(start + Duration::from_secs(5), Lsn(2), Duration::ZERO);
        assert_eq!(one.0.len(), 1);
    }

    #[test]
    fn names_leave_credentials_out() {
        assert_eq!(
            display_name("postgres://user:secret@db2.example:5433/claimtrack?sslmode=require"),
            "db2.example:5433/claimtrack"
        );
    }
}
