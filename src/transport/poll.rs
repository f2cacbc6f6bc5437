//! Waiting for a state: one deadline, one polling schedule, used by every
//! wait in the crate, with the changes the API announces heard between the
//! checks when they can be (`crate::events`).

use std::time::{Duration, Instant};

use crate::config::{PollSchedule, LONGEST};
pub(crate) use crate::deadline::Deadline;
use crate::error::{Error, Result};
use crate::telemetry::Child;
use crate::transport::retry::random_fraction;

/// What a check found.
pub(crate) enum Check<T> {
    /// Finished with this value.
    Done(T),
    /// Not yet.
    Pending,
}

/// Pushed state changes a wait listens to between its checks (the API's
/// events, see `crate::events`).
pub(crate) trait Listen {
    /// Whether changes are being heard now: the checks are then only a
    /// safety net, [`SAFETY_POLL`] apart.
    fn healthy(&self) -> bool;

    /// Waits at most `wait` for a change of the awaited object (its new
    /// state, as the server sent it); `None` when none came in time, or at
    /// once when the source stopped being healthy.
    fn next(&mut self, wait: Duration) -> Option<serde_json::Value>;
}

/// A wait that hears changes still checks every 3 to 4 s (jittered): for
/// changes missed while the connection was being re-established.
pub(crate) const SAFETY_POLL: Duration = Duration::from_secs(3);

/// What the caller of [`wait_until`] holds of the awaited object.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Held {
    /// Its state read after the listening began (the answer to the
    /// request of the change): every later change will be heard.
    Current,
    /// Nothing, or a state read before the listening began: a change made
    /// since may never be heard, so the first check is made at once and
    /// the next on the schedule.
    Stale,
}

/// What a check of [`wait_until`] looks at.
pub(crate) enum Look<'a> {
    /// Fetch the state (the deadline bounds the request).
    Poll(&'a Deadline),
    /// A state change heard: judge it without a request.
    Heard(&'a serde_json::Value),
}

/// Calls `check` on `schedule` until it reports `Done`, returns an error,
/// or the deadline passes (then a timeout error naming `operation`); a
/// deadline that comes before the first planned check has that check made
/// at once instead.
/// `check` receives the deadline so that its own requests stay inside it.
///
/// Between the checks it also judges the changes `listen` hears: while
/// that is healthy the checks come only [`SAFETY_POLL`] apart, otherwise on
/// `schedule`, and so does the first check once it is healthy again (a
/// change made while it was not would not be heard). A wait whose caller
/// holds a [`Held::Stale`] state makes its first check at once and the
/// next on `schedule`.
///
/// A check answered 429 (once the request's own retries are spent) does
/// not end the wait: the next one comes after the server's `Retry-After`
/// when that is longer than the schedule's delay; a `Retry-After` past the
/// deadline, or longer than `max_retry_after` (the retry policy's limit),
/// returns the error at once. Checks that fail for a reason that heals
/// ([`heals`]) do not end it either, until they have been failing for the
/// schedule's `outage`; a deadline that comes while they fail ends the
/// wait with the last failure rather than a bare timeout.
pub(crate) fn wait_until<T>(
    schedule: &PollSchedule,
    deadline: Deadline,
    max_retry_after: Duration,
    operation: &str,
    held: Held,
    mut listen: Option<&mut (dyn Listen + Send + 'static)>,
    mut check: impl FnMut(Look<'_>) -> Result<Check<T>>,
) -> Result<T> {
    let began = Instant::now();
    let mut checks = 0u32;
    let mut asked: Option<Duration> = None;
    // Since when the checks have been failing for a reason that heals, and
    // the last failure: what a wait whose time runs out then ends with.
    let mut failing: Option<(Instant, Error)> = None;
    let ended = |failing: Option<(Instant, Error)>| match failing {
        Some((_, e)) => e,
        None => deadline.timeout_error(operation),
    };
    // Whether every change since the last check (or since the wait began)
    // will be heard: the changes were heard then already. A connection
    // that came back since may have missed one, which the next check,
    // made on the schedule, sees.
    let mut covered = held == Held::Current && listen.as_ref().is_some_and(|l| l.healthy());
    loop {
        let healthy = listen.as_ref().is_some_and(|l| l.healthy());
        let planned = if checks == 0 && held == Held::Stale {
            Duration::ZERO
        } else if healthy && covered {
            SAFETY_POLL.mul_f64(1.0 + random_fraction() / 3.0)
        } else {
            schedule.jittered_delay(began.elapsed(), checks, random_fraction())
        };
        let delay = asked.take().map_or(planned, |d| d.max(planned));
        let left = deadline.remaining();
        if left == Some(Duration::ZERO) {
            return Err(ended(failing));
        }
        // A deadline before the first planned check: that check is made at
        // once, so that no wait ends without having looked.
        let delay = if checks == 0 && left.is_some_and(|l| l <= delay) {
            Duration::ZERO
        } else {
            deadline.cap(delay).min(LONGEST)
        };
        match listen.as_deref_mut() {
            Some(l) => {
                let due = Instant::now() + delay;
                loop {
                    let left = due.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    let Some(heard) = l.next(left) else {
                        break;
                    };
                    if let Check::Done(v) = check(Look::Heard(&heard))? {
                        return Ok(v);
                    }
                }
            }
            None => std::thread::sleep(delay),
        }
        if deadline.remaining() == Some(Duration::ZERO) {
            return Err(ended(failing));
        }
        covered = listen.as_ref().is_some_and(|l| l.healthy());
        checks = checks.saturating_add(1);
        let span = Child::poll(checks);
        let asked_at = Instant::now();
        let checked = check(Look::Poll(&deadline));
        span.end(checked.as_ref().err());
        if checked.is_ok() {
            failing = None;
        }
        match checked {
            Ok(Check::Done(v)) => return Ok(v),
            Ok(Check::Pending) => {}
            // A request cut short by the deadline: the wait timed out (with
            // the last failure, when the checks were failing).
            Err(e) if e.is_timeout() && deadline.remaining() == Some(Duration::ZERO) => {
                return Err(ended(failing));
            }
            Err(e) if e.is_rate_limited() => {
                let wanted = e.api().and_then(|a| a.retry_after);
                if let Some(want) = wanted {
                    if want > max_retry_after || deadline.remaining().is_some_and(|l| want > l) {
                        return Err(e);
                    }
                }
                log::debug!("{operation}: rate limited, checking again later");
                asked = wanted;
            }
            Err(e) if heals(&e) => {
                let since = failing.take().map_or(asked_at, |(since, _)| since);
                if since.elapsed() >= schedule.outage {
                    return Err(e);
                }
                log::debug!("{operation}: the check failed ({e}), checking again later");
                failing = Some((since, e));
            }
            Err(e) => return Err(e),
        }
        log::trace!("{operation}: still waiting after {checks} checks");
    }
}

/// Whether a failed check may succeed later without anything changing on
/// the client's side: the API or a proxy in front of it unavailable for a
/// while (502, 503, 504), the connection refused or cut, the request timed
/// out.
fn heals(e: &Error) -> bool {
    e.is_transport() || e.is_timeout() || e.api().is_some_and(|a| matches!(a.status, 502..=504))
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

    /// Changes heard from `up` on; none is ever delivered (the one the
    /// test makes comes while it is down, and is lost).
    struct Reconnecting {
        up: Instant,
    }

    impl Listen for Reconnecting {
        fn healthy(&self) -> bool {
            Instant::now() >= self.up
        }

        fn next(&mut self, wait: Duration) -> Option<serde_json::Value> {
            std::thread::sleep(wait);
            None
        }
    }

    #[test]
    fn a_connection_back_during_a_check_does_not_skip_the_next_check() {
        // The first check (50 ms to 150 ms) sees the old state; the change
        // (at 120 ms) is made while the connection is down; the connection
        // is back (100 ms) before the check ends. Trusting it at once would
        // leave the change to the safety poll, 3 s or more later.
        let began = Instant::now();
        let changed = began + Duration::from_millis(120);
        let mut listen = Reconnecting {
            up: began + Duration::from_millis(100),
        };
        let r: Result<()> = wait_until(
            &PollSchedule::fixed(Duration::from_millis(50)),
            Deadline::after(Duration::from_secs(10)),
            Duration::from_secs(60),
            "waiting for a change",
            Held::Current,
            Some(&mut listen),
            |look| {
                let asked = Instant::now();
                std::thread::sleep(Duration::from_millis(100));
                Ok(match look {
                    Look::Poll(_) if asked >= changed => Check::Done(()),
                    _ => Check::Pending,
                })
            },
        );
        r.unwrap();
        let took = began.elapsed();
        assert!(took < Duration::from_secs(2), "{took:?}");
    }

    #[test]
    fn poll_times_out_at_the_deadline() {
        let start = Instant::now();
        let r: Result<()> = wait_until(
            &PollSchedule::default(),
            Deadline::after(Duration::from_millis(300)),
            Duration::from_secs(60),
            "waiting for nothing",
            Held::Current,
            None,
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
