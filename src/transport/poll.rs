//! Waiting for a state: one deadline, one polling schedule, used by every
//! wait in the crate.

use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Pass as a timeout to wait without limit.
///
/// Every wait in this crate has a limit unless the caller passes this value
/// (any duration too large to add to the current time counts the same).
pub const WAIT_FOREVER: Duration = Duration::MAX;

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
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct PollSchedule {
    /// Delay before the first check. Default 100 ms.
    pub first_delay: Duration,
    /// Shortest interval between two checks. Default 140 ms.
    pub min_interval: Duration,
    /// Time waited before the interval starts to grow; until then checks
    /// are `min_interval` apart. Default 1 s.
    pub growth_after: Duration,
    /// Longest interval between two checks. Default 1 s.
    pub max_interval: Duration,
    /// Interval as a fraction of the time waited so far (once
    /// `growth_after` has passed). Default 0.2.
    pub growth: f64,
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

/// A point in time an operation must finish by, or none.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline {
    start: Instant,
    at: Option<Instant>,
}

impl Deadline {
    pub(crate) fn after(limit: Duration) -> Self {
        let start = Instant::now();
        Deadline {
            start,
            at: start.checked_add(limit),
        }
    }

    /// Time left, `None` when there is no limit.
    pub(crate) fn remaining(&self) -> Option<Duration> {
        self.at
            .map(|at| at.saturating_duration_since(Instant::now()))
    }

    pub(crate) fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// `limit` capped to the time left.
    pub(crate) fn cap(&self, limit: Duration) -> Duration {
        match self.remaining() {
            Some(left) => left.min(limit),
            None => limit,
        }
    }

    pub(crate) fn timeout_error(&self, operation: impl Into<String>) -> Error {
        Error::Timeout {
            operation: operation.into(),
            after: self.elapsed(),
        }
    }
}

/// What a check found.
pub(crate) enum Check<T> {
    /// Finished with this value.
    Done(T),
    /// Not yet.
    Pending,
}

/// Calls `check` on `schedule` until it reports `Done`, returns an error,
/// or the deadline passes (then a timeout error naming `operation`).
/// `check` receives the deadline so that its own requests stay inside it.
pub(crate) fn poll_until<T>(
    schedule: &PollSchedule,
    deadline: Deadline,
    operation: &str,
    mut check: impl FnMut(&Deadline) -> Result<Check<T>>,
) -> Result<T> {
    let began = Instant::now();
    let mut checks = 0u32;
    loop {
        let delay = schedule.next_delay(began.elapsed(), checks);
        if let Some(left) = deadline.remaining() {
            if left.is_zero() {
                return Err(deadline.timeout_error(operation));
            }
            std::thread::sleep(delay.min(left));
        } else {
            std::thread::sleep(delay);
        }
        if deadline.remaining() == Some(Duration::ZERO) {
            return Err(deadline.timeout_error(operation));
        }
        checks = checks.saturating_add(1);
        match check(&deadline) {
            Ok(Check::Done(v)) => return Ok(v),
            Ok(Check::Pending) => {}
            // A request cut short by the deadline: the wait timed out.
            Err(e) if e.is_timeout() && deadline.remaining() == Some(Duration::ZERO) => {
                return Err(deadline.timeout_error(operation));
            }
            Err(e) => return Err(e),
        }
        log::trace!("{operation}: still waiting after {checks} checks");
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

    #[test]
    fn forever_has_no_deadline() {
        let d = Deadline::after(WAIT_FOREVER);
        assert_eq!(d.remaining(), None);
        assert_eq!(d.cap(Duration::from_secs(5)), Duration::from_secs(5));
    }

    #[test]
    fn poll_times_out_at_the_deadline() {
        let start = Instant::now();
        let r: Result<()> = poll_until(
            &PollSchedule::default(),
            Deadline::after(Duration::from_millis(300)),
            "waiting for nothing",
            |_| Ok(Check::Pending),
        );
        let took = start.elapsed();
        assert!(r.unwrap_err().is_timeout());
        assert!(
            took >= Duration::from_millis(300) && took < Duration::from_millis(450),
            "{took:?}"
        );
    }
}
