//! Admission: at most a set number of GraphQL operations execute at once; the others
//! wait their turn, first come first served, for a bounded time, then are turned away
//! with 503 and `Retry-After`.
//!
//! An operation that has started holds a partly built answer (its loaders' rows, its
//! result tree) until the answer is serialised, and waits on the database pool for
//! every statement it issues. Without a bound, 64 clients mean 64 partly built answers
//! sharing 16 connections: memory grows with the clients, not with the work done. A
//! request waiting for its turn holds only its decoded body.
//!
//! The default bound is three times the pool size. An operation holds a connection
//! only for its statements, and resolves fields and builds its answer without one:
//! with fewer turns than that, connections sit idle; with three, throughput is that of
//! no bound while memory stays a bounded multiple of the pool's (figures in
//! `bench/RESULTS.md`).
//!
//! A request that times out or whose client goes away gives its turn back at once;
//! a loader batch it had already sent finishes its statement on its own task.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::metrics::{GaugeGuard, metrics};

/// Operations executing at once per pooled connection, when no bound is configured.
pub const TURNS_PER_CONNECTION: usize = 3;

/// The executing operations' turns, shared by every worker of the process.
#[derive(Debug, Clone)]
pub struct Admission {
    turns: Arc<Semaphore>,
    limit: usize,
    wait: Duration,
}

/// A request's turns to execute; waiting requests get them when this is dropped.
#[derive(Debug)]
pub struct Turn {
    _permits: OwnedSemaphorePermit,
    _executing: GaugeGuard,
}

/// The request waited `wait` without getting its turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no turn to execute within {0:?}")]
pub struct Busy(pub Duration);

impl Admission {
    /// At most `limit` (at least one) operations execute at once; a request waits at
    /// most `wait` for its turn.
    pub fn new(limit: usize, wait: Duration) -> Self {
        let limit = limit.clamp(1, Semaphore::MAX_PERMITS);
        metrics().admission_limit(limit);
        Self {
            turns: Arc::new(Semaphore::new(limit)),
            limit,
            wait,
        }
    }

    /// How many operations may execute at once.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Waits, in arrival order, for the turns of a request of `operations` operations
    /// (a batch runs its operations together): one each, and never more than the limit,
    /// so that a batch as large as the limit is still admitted.
    pub async fn enter(&self, operations: usize) -> Result<Turn, Busy> {
        let turns = operations.clamp(1, self.limit);
        let _waiting = metrics().waiting(turns);
        let wanted = u32::try_from(turns).unwrap_or(u32::MAX);
        let permits = self.turns.clone().acquire_many_owned(wanted);
        match tokio::time::timeout(self.wait, permits).await {
            Ok(Ok(permits)) => Ok(Turn {
                _permits: permits,
                _executing: metrics().executing(turns),
            }),
            // The semaphore is never closed; a closed one admits nobody, like a timeout.
            Ok(Err(_)) | Err(_) => {
                metrics().turned_away();
                Err(Busy(self.wait))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request that is still waiting after `settle`, spawned.
    async fn waiter(
        admission: &Admission,
        operations: usize,
        settle: Duration,
    ) -> tokio::task::JoinHandle<Result<Turn, Busy>> {
        let admission = admission.clone();
        let task = tokio::spawn(async move { admission.enter(operations).await });
        tokio::time::sleep(settle).await;
        assert!(!task.is_finished(), "admitted past the limit");
        task
    }

    #[tokio::test]
    async fn turns_are_bounded_and_passed_on_in_arrival_order() {
        let settle = Duration::from_millis(20);
        let admission = Admission::new(2, Duration::from_secs(5));
        let first = admission.enter(1).await.expect("a turn");
        let second = admission.enter(1).await.expect("a turn");
        let short = Admission {
            wait: Duration::from_millis(50),
            ..admission.clone()
        };
        assert_eq!(
            short.enter(1).await.unwrap_err(),
            Busy(Duration::from_millis(50))
        );

        // A batch of two waits for two turns; a single request behind it waits for
        // the batch, though one turn would do for it.
        let batch = waiter(&admission, 2, settle).await;
        let single = waiter(&admission, 1, settle).await;
        drop(first);
        tokio::time::sleep(settle).await;
        assert!(!batch.is_finished(), "the batch ran on one turn");
        assert!(
            !single.is_finished(),
            "a later request went ahead of the batch"
        );
        drop(second);
        let batch = batch
            .await
            .expect("join")
            .expect("the batch gets both turns");
        tokio::time::sleep(settle).await;
        assert!(
            !single.is_finished(),
            "ran beside a batch holding every turn"
        );
        drop(batch);
        single
            .await
            .expect("join")
            .expect("the single request runs last");
    }

    #[tokio::test]
    async fn a_batch_larger_than_the_limit_takes_every_turn() {
        let admission = Admission::new(3, Duration::from_millis(50));
        let batch = admission.enter(10).await.expect("admitted");
        assert_eq!(
            admission.enter(1).await.unwrap_err(),
            Busy(Duration::from_millis(50))
        );
        drop(batch);
        admission
            .enter(1)
            .await
            .expect("a turn once the batch is done");
    }

    #[test]
    fn a_limit_of_zero_still_admits_one() {
        assert_eq!(Admission::new(0, Duration::ZERO).limit(), 1);
    }
}
