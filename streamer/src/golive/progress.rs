//! Progress reports for a Plex item playing in Go Live: `/:/timeline` every few seconds and on
//! every change of state (so Plex's Continue Watching shows where the group is), and one
//! scrobble once past 90 % (so Plex marks it watched).
//!
//! A task per playback, fed by a `watch` of the state; the position is the sender thread's
//! atomic. Plex being slow or down never holds up the stream: each report has its own
//! timeout and a failure is only logged.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use lounge_plex::{PlayState, Server, Timeline};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{debug, warn};

/// Plex's own players report every 10 s.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(10);
/// Watched from this share of the duration on, as Plex's players count it.
const WATCHED_PERCENT: u64 = 90;
const REPORT_TIMEOUT: Duration = Duration::from_secs(5);

/// What the reporter needs to know, beside the live position.
pub struct Item {
    pub server: Server,
    pub rating_key: String,
    pub duration_ms: u64,
}

/// The handle the session keeps while the item plays.
pub struct Progress {
    state: watch::Sender<(PlayState, u64)>,
    task: JoinHandle<()>,
}

impl Progress {
    pub fn start(item: Item, position: Arc<AtomicU64>, every: Duration) -> Self {
        let (state, rx) = watch::channel((PlayState::Playing, 0));
        let task = tokio::spawn(report(item, position, every, rx));
        Self { state, task }
    }

    /// Reports a new state at once (pause, resume).
    pub fn set(&self, state: PlayState) {
        self.state
            .send_modify(|s| *s = (state, s.1.wrapping_add(1)));
    }

    /// Reports a jump at once, in the current state.
    pub fn moved(&self) {
        self.state.send_modify(|s| s.1 = s.1.wrapping_add(1));
    }

    /// Reports "stopped" with the last position and waits for it to be sent (bounded).
    pub async fn stop(self) {
        self.set(PlayState::Stopped);
        let mut task = self.task;
        if tokio::time::timeout(REPORT_TIMEOUT + Duration::from_secs(1), &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}

async fn report(
    item: Item,
    position: Arc<AtomicU64>,
    every: Duration,
    mut state: watch::Receiver<(PlayState, u64)>,
) {
    let mut scrobbled = false;
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(100)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        let (now, _) = *state.borrow_and_update();
        // Plex refuses a time past the duration, which a last frame's timestamp can be.
        let time = position.load(Ordering::Relaxed).min(item.duration_ms);
        let timeline = Timeline {
            rating_key: item.rating_key.clone(),
            state: now,
            time,
            duration: item.duration_ms,
        };
        match tokio::time::timeout(REPORT_TIMEOUT, item.server.timeline(&timeline)).await {
            Ok(Ok(())) => debug!(state = now.as_str(), time, "reported progress to Plex"),
            Ok(Err(e)) => warn!(error = %e, "Plex did not take a progress report"),
            Err(_) => warn!("Plex did not answer a progress report in time"),
        }
        if !scrobbled && watched(time, item.duration_ms) {
            scrobbled = true;
            match tokio::time::timeout(REPORT_TIMEOUT, item.server.scrobble(&item.rating_key)).await
            {
                Ok(Ok(())) => debug!(rating_key = %item.rating_key, "marked watched in Plex"),
                Ok(Err(e)) => warn!(error = %e, "Plex did not mark the item watched"),
                Err(_) => warn!("Plex did not answer the scrobble in time"),
            }
        }
        if now == PlayState::Stopped {
            return;
        }
        tokio::select! {
            _ = tick.tick() => {}
            changed = state.changed() => {
                if changed.is_err() {
                    return;
                }
                tick.reset();
            }
        }
    }
}

fn watched(time: u64, duration: u64) -> bool {
    duration > 0 && time.saturating_mul(100) >= duration.saturating_mul(WATCHED_PERCENT)
}

#[cfg(test)]
mod tests {
    use super::watched;

    #[test]
    fn watched_from_ninety_percent() {
        assert!(!watched(899, 1000));
        assert!(watched(900, 1000));
        assert!(!watched(0, 0));
        assert!(watched(u64::MAX, u64::MAX));
    }
}
