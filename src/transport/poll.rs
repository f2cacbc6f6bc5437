//! Waiting for a state: one deadline, one polling schedule, used by every
//! wait in the crate.

use std::time::{Duration, Instant};

use crate::config::PollSchedule;
use crate::error::{Error, Result};
use crate::telemetry::Child;
use crate::transport::retry::random_fraction;

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
///
/// A check answered 429 (once the request's own retries are spent) does
/// not end the wait: the next one comes after the server's `Retry-After`
/// when that is longer than the schedule's delay; a `Retry-After` past the
/// deadline returns the error at once.
pub(crate) fn poll_until<T>(
    schedule: &PollSchedule,
    deadline: Deadline,
    operation: &str,
    mut check: impl FnMut(&Deadline) -> Result<Check<T>>,
) -> Result<T> {
    let began = Instant::now();
    let mut checks = 0u32;
    let mut asked: Option<Duration> = None;
    loop {
        let planned = schedule.jittered_delay(began.elapsed(), checks, random_fraction());
        let delay = asked.take().map_or(planned, |d| d.max(planned));
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
        let span = Child::poll(checks);
        let checked = check(&deadline);
        span.end(checked.as_ref().err());
        match checked {
            Ok(Check::Done(v)) => return Ok(v),
            Ok(Check::Pending) => {}
            // A request cut short by the deadline: the wait timed out.
            Err(e) if e.is_timeout() && deadline.remaining() == Some(Duration::ZERO) => {
                return Err(deadline.timeout_error(operation));
            }
            Err(e) if e.is_rate_limited() => {
                let wanted = e.api().and_then(|a| a.retry_after);
                if let (Some(want), Some(left)) = (wanted, deadline.remaining()) {
                    if want > left {
                        return Err(e);
                    }
                }
                log::debug!("{operation}: rate limited, checking again later");
                asked = wanted;
            }
            Err(e) => return Err(e),
        }
        log::trace!("{operation}: still waiting after {checks} checks");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PollSchedule;
    use crate::config::WAIT_FOREVER;

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
