//! Whether the database answers, known without asking it on a request's path.
//!
//! [`Health::watch`] runs a task holding one connection of its own, LISTENing, so the
//! moment PostgreSQL goes away (a crash, a restart, a cut connection) its socket says
//! so, with no polling. From then on:
//! - the service is not ready (`/readyz` answers 503 at once) and GraphQL requests get
//!   503 with `Retry-After` at once, instead of each waiting for a pooled connection;
//! - pooled connections opened before the loss are discarded as they are checked out
//!   ([`Health::predates_loss`], which the pool's `before_acquire` asks), instead of
//!   failing the request that draws them: a restarted server has ended every session
//!   they held;
//! - the task connects again, every 100 ms at first, backing off to a second, and the
//!   service is ready as soon as it succeeds.
//!
//! A pool nobody watches (commands, tests) is always taken to be up.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sea_orm::sqlx::postgres::{PgListener, PgPool, PgPoolOptions};

/// The channel the watcher listens on (nothing is sent on it: the listening
/// connection is there to notice when it ends).
const CHANNEL: &str = "claimtrack_health";
/// First wait before connecting again after a failure; it doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// How long one attempt to connect may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// No loss recorded.
const NEVER: u64 = u64::MAX;

/// The database's state as the watcher last saw it; cheap to clone and to ask.
#[derive(Clone)]
pub struct Health(Arc<Inner>);

struct Inner {
    /// The replica watched (see [`Health::of_replica`]); `None`: the primary.
    replica: Option<String>,
    /// What `lost_at_ms` counts from.
    epoch: Instant,
    watched: AtomicBool,
    up: AtomicBool,
    /// When the database was last lost, in milliseconds since `epoch`.
    lost_at_ms: AtomicU64,
}

impl Default for Health {
    fn default() -> Self {
        Self::of(None)
    }
}

impl Health {
    /// The health of a read replica, `name` in logs: its loss is logged as the
    /// replica's, and the service's own database metrics stay the primary's.
    pub fn of_replica(name: &str) -> Self {
        Self::of(Some(name.to_owned()))
    }

    fn of(replica: Option<String>) -> Self {
        Self(Arc::new(Inner {
            replica,
            epoch: Instant::now(),
            watched: AtomicBool::new(false),
            up: AtomicBool::new(true),
            lost_at_ms: AtomicU64::new(NEVER),
        }))
    }

    /// Whether a watcher keeps this up to date.
    pub fn is_watched(&self) -> bool {
        self.0.watched.load(Ordering::Acquire)
    }

    /// Whether the database answers (always, when nobody watches).
    pub fn is_up(&self) -> bool {
        self.0.up.load(Ordering::Acquire)
    }

    /// Whether a connection opened `age` ago was opened before the database was last
    /// lost, and so is dead.
    pub fn predates_loss(&self, age: Duration) -> bool {
        let lost_at = self.0.lost_at_ms.load(Ordering::Acquire);
        if lost_at == NEVER {
            return false;
        }
        let now = self.0.epoch.elapsed();
        let opened_at = now.saturating_sub(age);
        opened_at <= Duration::from_millis(lost_at)
    }

    fn lost(&self) {
        if self.0.up.swap(false, Ordering::AcqRel) {
            let at = u64::try_from(self.0.epoch.elapsed().as_millis()).unwrap_or(NEVER - 1);
            self.0.lost_at_ms.store(at, Ordering::Release);
            match &self.0.replica {
                None => {
                    crate::metrics::metrics().database_lost();
                    tracing::warn!("lost the database; answering 503 until it is back");
                }
                Some(replica) => {
                    tracing::warn!(
                        replica,
                        "lost a replica; its reads go elsewhere until it is back"
                    );
                }
            }
        }
    }

    fn found(&self) {
        if !self.0.up.swap(true, Ordering::AcqRel) {
            match &self.0.replica {
                None => {
                    crate::metrics::metrics().database_found();
                    tracing::info!("the database answers again");
                }
                Some(replica) => tracing::info!(replica, "the replica answers again"),
            }
        }
    }

    /// Watches the database `pool` connects to (it connects the way the pool does at
    /// the time, so it follows the pool to a new address) until the task is aborted.
    pub fn watch(&self, pool: PgPool) -> tokio::task::JoinHandle<()> {
        self.0.watched.store(true, Ordering::Release);
        let health = self.clone();
        tokio::spawn(async move {
            let mut backoff = MIN_BACKOFF;
            loop {
                if health.listen_until_lost(&pool).await {
                    backoff = MIN_BACKOFF;
                } else {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        })
    }

    /// Connects and listens until the connection ends; whether it was made.
    async fn listen_until_lost(&self, pool: &PgPool) -> bool {
        let own = PgPoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_lazy_with((*pool.connect_options()).clone());
        let connected = async {
            let mut listener = PgListener::connect_with(&own).await?;
            listener.eager_reconnect(false);
            listener.ignore_pool_close_event(true);
            // A replica in recovery refuses LISTEN; an idle connection still ends
            // when its server does.
            if self.0.replica.is_none() {
                listener.listen(CHANNEL).await?;
            }
            Ok::<_, sea_orm::sqlx::Error>(listener)
        };
        let mut listener = match connected.await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::debug!(%error, "the database does not answer");
                self.lost();
                return false;
            }
        };
        self.found();
        // Notifications are not used; a lost connection or an error ends the wait.
        while let Ok(Some(_)) = listener.try_recv().await {}
        self.lost();
        drop(listener);
        own.close().await;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_connections_opened_before_the_last_loss_are_stale() {
        let health = Health::default();
        assert!(health.is_up());
        assert!(!health.predates_loss(Duration::from_secs(3600)));
        std::thread::sleep(Duration::from_millis(20));
        health.lost();
        assert!(!health.is_up());
        // Opened a second ago, before the loss: stale. Opened just now: fresh.
        assert!(health.predates_loss(Duration::from_secs(1)));
        std::thread::sleep(Duration::from_millis(20));
        assert!(!health.predates_loss(Duration::from_millis(5)));
        health.found();
        assert!(health.is_up());
        assert!(health.predates_loss(Duration::from_secs(1)));
    }
}
