//! The gateway's send budget. Discord closes a connection (4008) that sends more than 120
//! payloads in 60 s, heartbeats included. Heartbeats must never wait behind the owner's ops,
//! so they bypass the limiter and the limiter is sized to leave room for them.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// How many payloads one connection may send per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendQuota {
    pub sends: u32,
    pub per: Duration,
}

impl SendQuota {
    /// Discord's limit for the main gateway.
    pub const DISCORD: Self = Self {
        sends: 120,
        per: Duration::from_mins(1),
    };
}

impl Default for SendQuota {
    fn default() -> Self {
        Self::DISCORD
    }
}

/// Sends kept back from the owner's ops in any window: every heartbeat the window can hold,
/// the identify or resume, and one heartbeat Discord may ask for out of turn.
pub(super) fn reserved(quota: SendQuota, heartbeat_interval: Duration) -> u32 {
    let interval = heartbeat_interval.max(Duration::from_millis(1));
    let heartbeats = quota.per.as_nanos().div_ceil(interval.as_nanos()) as u32;
    heartbeats.saturating_add(1).saturating_add(2)
}

/// The GCRA shape for the owner's ops: a burst plus a steady rate whose sum over any window
/// stays one below what is left after the reserve (GCRA lets `burst + window / period` cells
/// through in a window, and a cell landing on the window's edge can count on both sides).
pub(super) fn shape(quota: SendQuota, heartbeat_interval: Duration) -> (NonZeroU32, Duration) {
    let available = quota
        .sends
        .saturating_sub(reserved(quota, heartbeat_interval))
        .max(2);
    let burst = (available / 2).max(1);
    let steady = (available - burst).saturating_sub(1).max(1);
    let period = quota.per / steady;
    (
        NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN),
        period.max(Duration::from_micros(1)),
    )
}

/// One connection's limiter for the owner's ops.
pub(super) struct SendBudget {
    limiter: DefaultDirectRateLimiter,
}

impl SendBudget {
    pub fn new(quota: SendQuota, heartbeat_interval: Duration) -> Self {
        let (burst, period) = shape(quota, heartbeat_interval);
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        Self {
            limiter: RateLimiter::direct(quota),
        }
    }

    /// Resolves when one more op may go out (and takes its cell).
    pub async fn ready(&self) {
        self.limiter.until_ready().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The most cells a GCRA shape lets through in any window, counting both edges.
    fn worst_window(burst: u32, period: Duration, window: Duration) -> u32 {
        burst + (window.as_nanos() / period.as_nanos()) as u32 + 1
    }

    #[test]
    fn ops_plus_heartbeats_stay_under_discords_limit() {
        let quota = SendQuota::DISCORD;
        let interval = Duration::from_millis(41_250);
        let (burst, period) = shape(quota, interval);
        let ops = worst_window(burst.get(), period, quota.per);
        assert!(ops + reserved(quota, interval) <= 120, "{ops}");
        // Not needlessly slow either: most of the budget is usable.
        assert!(ops >= 100, "{ops}");
    }

    #[test]
    fn small_test_quotas_with_fast_heartbeats_still_fit() {
        for (sends, per_ms, hb_ms) in [(24, 2_000, 1_000), (20, 3_000, 500), (200, 10_000, 100)] {
            let quota = SendQuota {
                sends,
                per: Duration::from_millis(per_ms),
            };
            let interval = Duration::from_millis(hb_ms);
            let (burst, period) = shape(quota, interval);
            let ops = worst_window(burst.get(), period, quota.per);
            let heartbeats = (per_ms / hb_ms) as u32 + 1;
            assert!(
                ops + heartbeats < sends,
                "{sends}/{per_ms}ms with heartbeats every {hb_ms}ms: {ops} ops"
            );
        }
    }
}
