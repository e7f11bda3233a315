//! The global per-user command limiter: stops command spam before any handler or database
//! work, on top of each command's own cooldown.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

pub struct CommandLimiter {
    limiter: DefaultKeyedRateLimiter<u64>,
    clock: DefaultClock,
}

impl CommandLimiter {
    /// `burst` commands back to back, then one more every `refill`.
    pub fn new(burst: NonZeroU32, refill: Duration) -> Self {
        let quota = Quota::with_period(refill)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        Self {
            limiter: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
        }
    }

    /// `Err(wait)` when the user must wait before the next command.
    pub fn check(&self, user: u64) -> Result<(), Duration> {
        self.limiter
            .check_key(&user)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Forgets users whose bucket is full again, so memory tracks active users only.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refused_with_a_wait_per_user() {
        let l = CommandLimiter::new(NonZeroU32::new(2).unwrap(), Duration::from_mins(1));
        assert!(l.check(1).is_ok());
        assert!(l.check(1).is_ok());
        let wait = l.check(1).unwrap_err();
        assert!(
            wait > Duration::from_secs(50) && wait <= Duration::from_mins(1),
            "{wait:?}"
        );
        // Another user has their own bucket.
        assert!(l.check(2).is_ok());
    }
}
