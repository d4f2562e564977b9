//! Request rate limits, one bucket per API key and one per client IP address for
//! requests without a key (GCRA buckets from `governor`). A refused request gets 429,
//! `Retry-After` and the code RATE_LIMITED.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

use crate::config::Access;

/// Whose bucket a request draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    Key(Uuid),
    Ip(IpAddr),
}

/// The limiters of one process.
pub struct RateLimits {
    per_key: Option<DefaultKeyedRateLimiter<Uuid>>,
    per_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    clock: DefaultClock,
}

impl RateLimits {
    pub fn new(access: &Access) -> Self {
        let quota = |per_minute: u32| {
            let rate = NonZeroU32::new(per_minute)?;
            let burst = per_minute.saturating_mul(access.rate_limit_burst_seconds) / 60;
            Some(
                Quota::per_minute(rate)
                    .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN)),
            )
        };
        Self {
            per_key: quota(access.rate_limit_per_key).map(RateLimiter::keyed),
            per_ip: quota(access.rate_limit_per_ip).map(RateLimiter::keyed),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one request from the bucket; when it is empty, says how long to wait.
    pub fn check(&self, bucket: Bucket) -> Result<(), Duration> {
        let outcome = match bucket {
            Bucket::Key(id) => self.per_key.as_ref().map(|l| l.check_key(&id)),
            Bucket::Ip(ip) => self.per_ip.as_ref().map(|l| l.check_key(&ip)),
        };
        match outcome {
            Some(Err(not_until)) => Err(not_until.wait_time_from(self.clock.now())),
            _ => Ok(()),
        }
    }

    /// Drops buckets that have refilled, so memory follows the recent callers only.
    pub fn forget_idle(&self) {
        if let Some(l) = &self.per_key {
            l.retain_recent();
            l.shrink_to_fit();
        }
        if let Some(l) = &self.per_ip {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}

/// Whole seconds for `Retry-After`, never 0.
pub fn retry_after_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(per_ip: u32, per_key: u32) -> Access {
        Access {
            rate_limit_per_ip: per_ip,
            rate_limit_per_key: per_key,
            // A minute's worth at once: the bucket holds exactly the rate.
            rate_limit_burst_seconds: 60,
            ..Access::default()
        }
    }

    #[test]
    fn a_bucket_runs_dry_and_others_do_not() {
        let limits = RateLimits::new(&access(3, 5));
        let ip = Bucket::Ip(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..3 {
            assert!(limits.check(ip).is_ok());
        }
        let wait = limits.check(ip).err();
        // Three a minute: the next one comes free within 20 s.
        assert!(wait.is_some_and(|w| w > Duration::ZERO && w <= Duration::from_secs(20)));
        // Another address and a key have buckets of their own.
        assert!(
            limits
                .check(Bucket::Ip(IpAddr::from([10, 0, 0, 2])))
                .is_ok()
        );
        let key = Bucket::Key(Uuid::now_v7());
        for _ in 0..5 {
            assert!(limits.check(key).is_ok());
        }
        assert!(limits.check(key).is_err());
    }

    #[test]
    fn zero_turns_a_limit_off() {
        let limits = RateLimits::new(&access(0, 0));
        for _ in 0..10_000 {
            assert!(
                limits
                    .check(Bucket::Ip(IpAddr::from([10, 0, 0, 1])))
                    .is_ok()
            );
        }
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_seconds(Duration::from_secs(3)), 3);
    }
}
