//! Releases packets at the wall-clock time their media time says, on an absolute schedule
//! (anchor + media offset) so rounding and scheduling errors never accumulate.
//!
//! The clock is a trait so tests drive a [`ManualClock`] and check the exact schedule without
//! sleeping. This is the only pacing: the pipeline produces as fast as the sender takes.

use std::time::{Duration, Instant};

pub trait Clock {
    /// Time since an arbitrary fixed origin.
    fn now(&self) -> Duration;
    /// Blocks until `now() >= deadline`.
    fn sleep_until(&mut self, deadline: Duration);
}

/// The monotonic system clock.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn sleep_until(&mut self, deadline: Duration) {
        if let Some(wait) = deadline.checked_sub(self.now()) {
            std::thread::sleep(wait);
        }
    }
}

/// A clock that only moves when told to: sleeping jumps straight to the deadline.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    now: Duration,
    /// Every deadline slept until, in order.
    pub sleeps: Vec<Duration>,
}

impl ManualClock {
    pub fn new() -> Self {
        Self::default()
    }

    /// Time passing outside the pacer (the sender doing work, the machine stalling).
    pub fn advance(&mut self, by: Duration) {
        self.now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        self.now
    }

    fn sleep_until(&mut self, deadline: Duration) {
        self.sleeps.push(deadline);
        self.now = self.now.max(deadline);
    }
}

#[derive(Debug)]
pub struct Pacer<C> {
    clock: C,
    /// Wall time and media time that correspond.
    anchor: Option<(Duration, Duration)>,
    max_lag: Duration,
    /// How often the sender fell more than `max_lag` behind and the schedule was moved.
    pub reanchors: u64,
}

impl<C: Clock> Pacer<C> {
    /// A pacer that tolerates falling up to 500 ms behind before giving up on catching up.
    pub fn new(clock: C) -> Self {
        Self {
            clock,
            anchor: None,
            max_lag: Duration::from_millis(500),
            reanchors: 0,
        }
    }

    #[must_use]
    pub fn with_max_lag(mut self, max_lag: Duration) -> Self {
        self.max_lag = max_lag;
        self
    }

    pub fn clock(&self) -> &C {
        &self.clock
    }

    pub fn clock_mut(&mut self) -> &mut C {
        &mut self.clock
    }

    /// Forgets the schedule: the next packet is released at once and anchors a new one.
    /// Call it after a pause (media time stood still while wall time ran) or a seek.
    pub fn reset(&mut self) {
        self.anchor = None;
    }

    /// Waits until the packet at `media` is due and returns the (clock) time it was released.
    ///
    /// A packet already due goes at once, so a short hiccup is caught up by sending faster.
    /// Beyond `max_lag` behind, catching up would flood the receiver with seconds of media in
    /// a burst, so the schedule restarts from now instead (viewers see a stall, not a burst).
    pub fn wait(&mut self, media: Duration) -> Duration {
        let now = self.clock.now();
        let (wall, base) = *self.anchor.get_or_insert((now, media));
        let due = match media.checked_sub(base) {
            Some(ahead) => wall + ahead,
            // Earlier than the anchor (audio and video interleave loosely): already due.
            None => wall.saturating_sub(base.saturating_sub(media)),
        };
        if now > due + self.max_lag {
            self.anchor = Some((now, media));
            self.reanchors += 1;
            return now;
        }
        if due > now {
            self.clock.sleep_until(due);
            return due;
        }
        now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn packets_leave_at_their_media_time_from_the_first_one() {
        let mut clock = ManualClock::new();
        clock.advance(ms(1000));
        let mut pacer = Pacer::new(clock);
        // The stream starts at media time 5 s (a seek, say): that maps to wall 1 s.
        let released: Vec<Duration> = [5000, 5020, 5040, 5040, 5100]
            .into_iter()
            .map(|m| pacer.wait(ms(m)))
            .collect();
        assert_eq!(released, [ms(1000), ms(1020), ms(1040), ms(1040), ms(1100)]);
        assert_eq!(pacer.clock().sleeps, [ms(1020), ms(1040), ms(1100)]);
    }

    #[test]
    fn work_time_is_absorbed_and_errors_do_not_accumulate() {
        let mut pacer = Pacer::new(ManualClock::new());
        pacer.wait(ms(0));
        for i in 1..=100 {
            // 7 ms of work per 20 ms packet: the sleeps shrink, the schedule holds.
            pacer.clock_mut().advance(ms(7));
            assert_eq!(pacer.wait(ms(20 * i)), ms(20 * i));
        }
        assert_eq!(pacer.clock().now(), ms(2000));
    }

    #[test]
    fn late_packets_go_at_once_and_a_long_stall_restarts_the_schedule() {
        let mut pacer = Pacer::new(ManualClock::new()).with_max_lag(ms(200));
        pacer.wait(ms(0));
        pacer.clock_mut().advance(ms(150));
        // 130 ms behind: sent at once, to catch up.
        assert_eq!(pacer.wait(ms(20)), ms(150));
        assert_eq!(pacer.wait(ms(160)), ms(160));
        assert_eq!(pacer.reanchors, 0);
        // A 1 s stall: the schedule moves instead of bursting 1 s of media.
        pacer.clock_mut().advance(ms(1000));
        assert_eq!(pacer.wait(ms(180)), ms(1160));
        assert_eq!(pacer.reanchors, 1);
        assert_eq!(pacer.wait(ms(200)), ms(1180));
        // Earlier-than-anchor media (an audio packet behind video) is already due.
        assert_eq!(pacer.wait(ms(100)), ms(1180));
    }

    #[test]
    fn reset_after_a_pause_resumes_without_a_burst() {
        let mut pacer = Pacer::new(ManualClock::new());
        pacer.wait(ms(0));
        pacer.wait(ms(40));
        // Paused for 10 s of wall time; media time continues from 60 ms.
        pacer.clock_mut().advance(ms(10_000));
        pacer.reset();
        assert_eq!(pacer.wait(ms(60)), ms(10_040));
        assert_eq!(pacer.wait(ms(80)), ms(10_060));
        assert_eq!(pacer.reanchors, 0);
    }

    #[test]
    fn the_system_clock_sleeps_until_the_deadline() {
        let mut clock = SystemClock::new();
        let deadline = clock.now() + ms(5);
        clock.sleep_until(deadline);
        assert!(clock.now() >= deadline);
    }
}
