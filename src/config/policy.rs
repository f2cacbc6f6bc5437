//! How the client retries requests and polls states: plain settings, no
//! clock and no network (the transport applies them).

use std::time::Duration;

/// Pass as a timeout to wait without limit.
///
/// Every wait in this crate has a limit unless the caller passes this value
/// (any duration too large to add to the current time counts the same).
pub const WAIT_FOREVER: Duration = Duration::MAX;

/// When and how often idempotent requests are retried.
///
/// Idempotent requests (GET, HEAD, PUT, DELETE) are retried on transport
/// failures, timeouts, 2xx answers whose body is cut short or does not
/// decode, and on 408, 429, 502, 503 and 504. Other requests (POST) are
/// retried only on 429 or when the connection was refused, which proves the
/// server never saw them. A request whose body is streamed (an upload) is
/// sent again only when the connection was refused.
///
/// ```
/// use std::time::Duration;
/// use daytona::{DaytonaConfig, RetryPolicy};
///
/// let policy = RetryPolicy::new()
///     .max_attempts(6)
///     .initial_backoff(Duration::from_millis(100))
///     .max_backoff(Duration::from_secs(4));
/// let config = DaytonaConfig::new().retry_policy(policy);
/// # let _ = config;
/// ```
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct RetryPolicy {
    pub(crate) max_attempts: u32,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The default policy: 4 attempts, 250 ms then doubling up to 8 s,
    /// `Retry-After` honoured up to 60 s.
    pub fn new() -> Self {
        Self::default()
    }

    /// Attempts in all, the first included (1 = never retry; 0 is refused
    /// by [`crate::Daytona::new`]). Default 4.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// Delay before the first retry. Default 250 ms.
    pub fn initial_backoff(mut self, delay: Duration) -> Self {
        self.initial_backoff = delay;
        self
    }

    /// Longest delay between two attempts. Default 8 s.
    pub fn max_backoff(mut self, delay: Duration) -> Self {
        self.max_backoff = delay;
        self
    }

    /// Longest `Retry-After` the client honours; a server asking for more
    /// gets its error returned at once. Default 60 s.
    pub fn max_retry_after(mut self, delay: Duration) -> Self {
        self.max_retry_after = delay;
        self
    }
}

/// When a wait checks the state again.
///
/// The first check comes `first_delay` after the request that started the
/// change; the next ones come `min_interval` apart until `growth_after` has
/// been waited, and then the interval is `growth` × the time waited so far,
/// at least `min_interval` and at most `max_interval`. So a quick change is
/// seen quickly, and a slow one costs few requests.
///
/// The default (100 ms first, every 140 ms until 1 s, then 20 % of the time
/// waited, capped at 1 s) notices a change within 1 s in at most 140 ms, a
/// later one within 20 % of the time waited and never more than 1 s late,
/// and spends at most half the checks of a schedule polling every 100 ms
/// for 5 s then 10 % less often each time (up to 1 s) once the change takes
/// 3 s or more: 14 checks for a change at 3 s, 20 at 8 s, 32 at 20 s.
/// `cargo run --release --example bench` measures it.
///
/// ```
/// use std::time::Duration;
/// use daytona::{DaytonaConfig, PollSchedule};
///
/// let schedule = PollSchedule::new()
///     .first_delay(Duration::from_millis(50))
///     .max_interval(Duration::from_secs(2));
/// let config = DaytonaConfig::new().poll_schedule(schedule);
/// # let _ = config;
/// ```
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct PollSchedule {
    pub(crate) first_delay: Duration,
    pub(crate) min_interval: Duration,
    pub(crate) growth_after: Duration,
    pub(crate) max_interval: Duration,
    pub(crate) growth: f64,
}

impl Default for PollSchedule {
    fn default() -> Self {
        PollSchedule {
            first_delay: Duration::from_millis(100),
            min_interval: Duration::from_millis(140),
            growth_after: Duration::from_secs(1),
            max_interval: Duration::from_secs(1),
            growth: 0.2,
        }
    }
}

impl PollSchedule {
    /// The default schedule (see above).
    pub fn new() -> Self {
        Self::default()
    }

    /// Delay before the first check. Default 100 ms.
    pub fn first_delay(mut self, delay: Duration) -> Self {
        self.first_delay = delay;
        self
    }

    /// Shortest interval between two checks. Default 140 ms.
    pub fn min_interval(mut self, interval: Duration) -> Self {
        self.min_interval = interval;
        self
    }

    /// Time waited before the interval starts to grow; until then checks
    /// are `min_interval` apart. Default 1 s.
    pub fn growth_after(mut self, after: Duration) -> Self {
        self.growth_after = after;
        self
    }

    /// Longest interval between two checks. Default 1 s.
    pub fn max_interval(mut self, interval: Duration) -> Self {
        self.max_interval = interval;
        self
    }

    /// Interval as a fraction of the time waited so far (once
    /// `growth_after` has passed). Default 0.2.
    pub fn growth(mut self, fraction: f64) -> Self {
        self.growth = fraction;
        self
    }

    /// A fixed interval, as simple schedules want.
    pub fn fixed(interval: Duration) -> Self {
        PollSchedule {
            first_delay: interval,
            min_interval: interval,
            growth_after: Duration::ZERO,
            max_interval: interval,
            growth: 0.0,
        }
    }

    /// The delay before the next check, `elapsed` after the wait began and
    /// after `checks` checks.
    pub fn next_delay(&self, elapsed: Duration, checks: u32) -> Duration {
        if checks == 0 {
            return self.first_delay;
        }
        let growing = elapsed >= self.growth_after;
        let grown = if growing && self.growth.is_finite() && self.growth > 0.0 {
            elapsed.mul_f64(self.growth.min(1e6))
        } else {
            Duration::ZERO
        };
        grown.max(self.min_interval).min(self.max_interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_schedule_grows_and_caps() {
        let s = PollSchedule::default();
        assert_eq!(s.next_delay(Duration::ZERO, 0), Duration::from_millis(100));
        assert_eq!(
            s.next_delay(Duration::from_millis(100), 1),
            Duration::from_millis(140)
        );
        // Still 140 ms just before 1 s (20 % would be 188 ms).
        assert_eq!(
            s.next_delay(Duration::from_millis(940), 7),
            Duration::from_millis(140)
        );
        assert_eq!(
            s.next_delay(Duration::from_millis(1080), 8),
            Duration::from_millis(216)
        );
        assert_eq!(
            s.next_delay(Duration::from_secs(2), 10),
            Duration::from_millis(400)
        );
        assert_eq!(
            s.next_delay(Duration::from_secs(60), 40),
            Duration::from_secs(1)
        );
    }

    /// The times of the checks of `next` (elapsed, checks) → delay, up to `until`.
    fn check_times(next: impl Fn(Duration, u32) -> Duration, until: Duration) -> Vec<Duration> {
        let (mut t, mut times) = (Duration::ZERO, Vec::new());
        while t < until {
            t += next(t, times.len() as u32);
            times.push(t);
        }
        times
    }

    #[test]
    fn default_schedule_meets_its_targets_for_every_change_time() {
        // Arithmetic on the schedule, no clock: for a change at each
        // millisecond up to 30 s, the check that sees it and its lateness.
        let s = PollSchedule::default();
        let ours = check_times(|e, c| s.next_delay(e, c), Duration::from_secs(31));
        // The official SDKs' schedule: every 100 ms for 5 s, then 10 %
        // longer each time, up to 1 s.
        let mut official_times = Vec::new();
        let (mut t, mut interval) = (Duration::ZERO, Duration::from_millis(100));
        while t < Duration::from_secs(31) {
            if t >= Duration::from_secs(5) {
                interval = interval.mul_f64(1.1).min(Duration::from_secs(1));
            }
            t += interval;
            official_times.push(t);
        }
        let seen = |times: &[Duration], at: Duration| {
            let n = times.partition_point(|&c| c < at);
            (n + 1, times[n] - at)
        };
        for ms in 1..=30_000u64 {
            let at = Duration::from_millis(ms);
            let (checks, late) = seen(&ours, at);
            if ms <= 1000 {
                assert!(late <= Duration::from_millis(140), "{ms} ms: {late:?} late");
            } else {
                assert!(
                    late <= at / 5 && late <= s.max_interval,
                    "{ms} ms: {late:?}"
                );
            }
            if ms >= 3000 {
                let (theirs, _) = seen(&official_times, at);
                assert!(2 * checks <= theirs, "{ms} ms: {checks} checks vs {theirs}");
            }
        }
        let checks_at = |secs| seen(&ours, Duration::from_secs(secs)).0;
        assert_eq!((checks_at(3), checks_at(8), checks_at(20)), (14, 20, 32));
    }
}
