//! The point in time an operation must finish by: of a request, of a wait,
//! of the local work a call does (reading a build context). Knows nothing
//! of the network.

use std::time::{Duration, Instant};

use crate::error::Error;

/// A point in time an operation must finish by, or none.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline {
    start: Instant,
    at: Option<Instant>,
}

impl Deadline {
    /// `limit` from now (none when the time cannot be told that far).
    pub(crate) fn after(limit: Duration) -> Self {
        let start = Instant::now();
        Deadline {
            start,
            at: start.checked_add(limit),
        }
    }

    /// No limit.
    #[cfg(feature = "images")]
    pub(crate) fn none() -> Self {
        Deadline {
            start: Instant::now(),
            at: None,
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

    /// Once the time is up, an [`Error::Timeout`] for `what` (called only
    /// then): for long local work (reading a build context) that checks
    /// between its steps.
    #[cfg(feature = "images")]
    pub(crate) fn check(&self, what: impl FnOnce() -> String) -> crate::error::Result<()> {
        match self.remaining() {
            Some(Duration::ZERO) => Err(self.timeout_error(what())),
            _ => Ok(()),
        }
    }

    /// [`check`](Self::check) as an I/O error of kind `TimedOut` (for a
    /// reader), its message naming `what`.
    #[cfg(feature = "images")]
    pub(crate) fn check_io(&self, what: impl FnOnce() -> String) -> std::io::Result<()> {
        self.check(what)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::TimedOut, e.to_string()))
    }
}
