//! Waiting for a state: one deadline, one polling schedule, used by every
//! wait in the crate.

use std::time::{Duration, Instant};

use crate::config::PollSchedule;
use crate::error::{Error, Result};

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
