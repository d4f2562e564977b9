//! Admission: at most a set number of GraphQL requests execute at once; the others
//! wait their turn, first come first served, for a bounded time, then are turned away
//! with 503 and `Retry-After`.
//!
//! A request that has started holds a partly built answer (its loaders' rows, its
//! result tree) until it is sent, and each one waits on the database pool for every
//! statement it issues. Without a bound, 64 clients mean 64 partly built answers
//! sharing 16 connections: memory grows with the clients, not with the work done. A
//! request waiting for its turn holds only its decoded body.
//!
//! The default bound is three times the pool size. A request holds a connection only
//! for its statements and resolves fields and writes its answer without one, so fewer
//! turns than that leave connections idle (a 1M-statement nested page ran at 292 QPS
//! with one turn per connection, 318–336 with two, 365–373 with three, 308–373 without
//! a bound), while the memory held stays a bound multiple of the pool's.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::metrics::{QueueGauge, metrics};

/// Requests executing at once per pooled connection, when no bound is configured.
pub const TURNS_PER_CONNECTION: usize = 3;

/// The executing requests' turns, shared by every worker of the process.
#[derive(Debug, Clone)]
pub struct Admission {
    turns: Arc<Semaphore>,
    limit: usize,
    wait: Duration,
}

/// A request's turn to execute; the next waiting request gets it when this is dropped.
#[derive(Debug)]
pub struct Turn {
    _permit: OwnedSemaphorePermit,
    _executing: QueueGauge,
}

/// The request waited `wait` without getting a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no turn to execute within {0:?}")]
pub struct Busy(pub Duration);

impl Admission {
    /// At most `limit` (at least one) requests execute at once; a request waits at most
    /// `wait` for its turn.
    pub fn new(limit: usize, wait: Duration) -> Self {
        let limit = limit.max(1);
        metrics().admission_limit(limit);
        Self {
            turns: Arc::new(Semaphore::new(limit)),
            limit,
            wait,
        }
    }

    /// How many requests may execute at once.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Waits for a turn, in arrival order.
    pub async fn enter(&self) -> Result<Turn, Busy> {
        let _waiting = metrics().waiting();
        let permit = tokio::time::timeout(self.wait, self.turns.clone().acquire_owned()).await;
        match permit {
            Ok(Ok(permit)) => Ok(Turn {
                _permit: permit,
                _executing: metrics().executing(),
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

    #[tokio::test]
    async fn turns_are_bounded_and_passed_on_in_arrival_order() {
        let admission = Admission::new(2, Duration::from_millis(50));
        let first = admission.enter().await.expect("a turn");
        let _second = admission.enter().await.expect("a turn");
        assert_eq!(
            admission.enter().await.unwrap_err(),
            Busy(Duration::from_millis(50))
        );

        let waiter = {
            let admission = Admission {
                wait: Duration::from_secs(5),
                ..admission.clone()
            };
            tokio::spawn(async move { admission.enter().await.map(|_| ()) })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished(), "a third request ran beside two");
        drop(first);
        waiter
            .await
            .expect("join")
            .expect("the waiter gets the freed turn");
    }

    #[test]
    fn a_limit_of_zero_still_admits_one() {
        assert_eq!(Admission::new(0, Duration::ZERO).limit(), 1);
    }
}
