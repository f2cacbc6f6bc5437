//! Argument checks shared by every layer: each failure is an
//! [`Error::Validation`] naming the field, returned before any request.

use std::time::Duration;

use crate::error::{Error, Result};

/// Not empty (nor only whitespace).
pub(crate) fn non_empty(field: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        Err(Error::validation(field, "must not be empty"))
    } else {
        Ok(())
    }
}

/// [`non_empty`] when set.
pub(crate) fn non_empty_opt(field: &str, value: Option<&str>) -> Result<()> {
    value.map_or(Ok(()), |v| non_empty(field, v))
}

/// Whether `segment` is `.` or `..`: URLs resolve those (in any spelling,
/// `%2E` included) against the path before it, so they cannot be sent as a
/// value.
pub(crate) fn is_dot_segment(segment: &str) -> bool {
    matches!(segment, "." | "..")
}

/// A value sent as one segment of a URL path (an id, a name): not empty,
/// and not `.` or `..` (see [`is_dot_segment`]).
pub(crate) fn path_segment(field: &str, value: &str) -> Result<()> {
    non_empty(field, value)?;
    if is_dot_segment(value) {
        return Err(Error::validation(
            field,
            format!("{value:?} cannot be sent in a URL path"),
        ));
    }
    Ok(())
}

/// A page size the API accepts: 1 to 200.
pub(crate) fn page_limit(limit: u32) -> Result<()> {
    if (1..=200).contains(&limit) {
        Ok(())
    } else {
        Err(Error::validation(
            "limit",
            format!("must be 1 to 200, got {limit}"),
        ))
    }
}

/// A wait limit: more than zero ([`crate::WAIT_FOREVER`] for none).
pub(crate) fn timeout(timeout: Duration) -> Result<()> {
    if timeout.is_zero() {
        Err(Error::validation(
            "timeout",
            "must be more than zero (WAIT_FOREVER waits without limit)",
        ))
    } else {
        Ok(())
    }
}

/// `duration` in whole `unit`s (seconds, minutes), rounded up, as the API
/// takes a time: more than zero, at most `u32::MAX` units.
pub(crate) fn whole_units(field: &str, duration: Duration, unit: Duration) -> Result<u32> {
    if duration.is_zero() {
        return Err(Error::validation(field, "must be more than zero"));
    }
    let nanos = duration.as_nanos().div_ceil(unit.as_nanos().max(1));
    u32::try_from(nanos).map_err(|_| {
        Error::validation(
            field,
            format!("must be at most {} times {unit:?}", u32::MAX),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_whole_units_rounded_up() {
        let s = Duration::from_secs(1);
        let m = Duration::from_secs(60);
        assert_eq!(whole_units("t", Duration::from_millis(1), s).unwrap(), 1);
        assert_eq!(whole_units("t", Duration::from_millis(2500), s).unwrap(), 3);
        assert_eq!(whole_units("t", Duration::from_secs(600), s).unwrap(), 600);
        assert_eq!(whole_units("t", Duration::from_secs(61), m).unwrap(), 2);
        assert_eq!(whole_units("t", Duration::from_secs(3600), m).unwrap(), 60);
        assert!(whole_units("t", Duration::ZERO, s)
            .unwrap_err()
            .is_validation());
        assert!(whole_units("t", Duration::MAX, s)
            .unwrap_err()
            .is_validation());
    }
}
