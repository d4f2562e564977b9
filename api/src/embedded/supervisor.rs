//! Keeping the embedded cluster running while the service runs. A server that stops
//! (it crashed, its postmaster was killed, someone stopped it) is started again within
//! a second, on the port it had, so the service's pool simply connects again; on
//! another port only when that one is taken, and then the service is told the new one.
//! Failures to start are retried, backing off to ten seconds, for as long as the
//! service runs.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use super::Cluster;

/// How often the server's process is looked at.
const EVERY: Duration = Duration::from_millis(250);
/// Longest wait between failed starts.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// A cluster under supervision; [`Supervisor::stop`] hands it back.
pub struct Supervisor {
    cluster: Arc<Mutex<Cluster>>,
    task: JoinHandle<()>,
}

impl Supervisor {
    /// Starts watching `cluster`; `moved` is told the port after a start on another one.
    pub fn start(
        cluster: Cluster,
        bin_dir: Option<PathBuf>,
        moved: impl Fn(u16) + Send + 'static,
    ) -> Self {
        let cluster = Arc::new(Mutex::new(cluster));
        let watched = cluster.clone();
        let task = tokio::spawn(async move {
            let mut backoff = EVERY;
            loop {
                tokio::time::sleep(backoff).await;
                let mut cluster = watched.lock().await;
                if cluster.is_running() {
                    backoff = EVERY;
                    continue;
                }
                tracing::warn!(
                    port = cluster.port(),
                    "the embedded PostgreSQL stopped; starting it again"
                );
                let before = cluster.port();
                match cluster.revive(bin_dir.as_deref()).await {
                    Ok(port) => {
                        backoff = EVERY;
                        if port != before {
                            tracing::warn!(
                                before,
                                port,
                                "the embedded PostgreSQL listens on another port now"
                            );
                            moved(port);
                        }
                    }
                    Err(error) => {
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                        tracing::error!(%error, retry_in_ms = backoff.as_millis() as u64,
                            "cannot start the embedded PostgreSQL again");
                    }
                }
            }
        });
        Self { cluster, task }
    }

    /// Stops watching and hands the cluster back (to be stopped, say). The task held
    /// the only other reference, and it has ended, so the cluster always comes back.
    pub async fn stop(self) -> Option<Cluster> {
        self.task.abort();
        let _aborted = self.task.await;
        Arc::try_unwrap(self.cluster).ok().map(Mutex::into_inner)
    }
}
