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

/// A date or date-time as the API's time filters read it (JavaScript's
/// `Date` of an ISO 8601 text): `2024-01-01`, `2024-01-01T09:30`,
/// `2024-01-01T00:00:00Z`, `2024-06-30T12:00:00.5+02:00`.
pub(crate) fn date_time(field: &str, value: &str) -> Result<()> {
    if is_date_time(value.as_bytes()) {
        Ok(())
    } else {
        Err(Error::validation(
            field,
            format!(
                "{value:?} is not an ISO 8601 date or date-time, e.g. 2024-01-01 or \
                 2024-01-01T00:00:00Z"
            ),
        ))
    }
}

/// `date ["T" hh ":" mm [":" ss ["." fraction]] ["Z" | ("+" | "-") hh ":"
/// mm]]`, each field in its range (a leap second, `:60`, allowed).
fn is_date_time(s: &[u8]) -> bool {
    // The number of `n` digits at `at`, if they are all digits.
    let num = |at: usize, n: usize| -> Option<u32> {
        let digits = s.get(at..at + n)?;
        digits.iter().try_fold(0u32, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let at = |i: usize, c: u8| s.get(i).is_some_and(|b| b.eq_ignore_ascii_case(&c));
    let in_range = |v: Option<u32>, lo: u32, hi: u32| v.is_some_and(|v| (lo..=hi).contains(&v));
    let date = num(0, 4).is_some()
        && at(4, b'-')
        && in_range(num(5, 2), 1, 12)
        && at(7, b'-')
        && in_range(num(8, 2), 1, 31);
    if !date {
        return false;
    }
    if s.len() == 10 {
        return true;
    }
    let hours_minutes =
        at(10, b't') && in_range(num(11, 2), 0, 23) && at(13, b':') && in_range(num(14, 2), 0, 59);
    if !hours_minutes {
        return false;
    }
    let mut i = 16;
    if at(i, b':') {
        if !in_range(num(i + 1, 2), 0, 60) {
            return false;
        }
        i += 3;
        if at(i, b'.') {
            let digits = s[i + 1..].iter().take_while(|d| d.is_ascii_digit()).count();
            if digits == 0 {
                return false;
            }
            i += 1 + digits;
        }
    }
    match s.get(i) {
        None => true,
        Some(b'Z' | b'z') => i + 1 == s.len(),
        Some(b'+' | b'-') => {
            in_range(num(i + 1, 2), 0, 23)
                && at(i + 3, b':')
                && in_range(num(i + 4, 2), 0, 59)
                && i + 6 == s.len()
        }
        _ => false,
    }
}

/// Minutes of an auto-stop, -archive or -delete interval: the API keeps
/// them as a signed 32-bit number, so a larger count is refused here (the
/// server would fail with a 500) rather than sent.
pub(crate) fn minutes(field: &str, minutes: i64) -> Result<()> {
    if minutes > i64::from(i32::MAX) {
        return Err(Error::validation(
            field,
            format!(
                "{minutes} minutes is more than the API keeps (at most {})",
                i32::MAX
            ),
        ));
    }
    Ok(())
}

/// A container image name (`python:3.12`, `registry.example.com/app@sha256:...`),
/// as written after `FROM`: not empty, and without whitespace, control
/// characters or `\`, which no image reference holds and which would add
/// to the `FROM` line (`python:3 AS x`, a line break) or continue it into
/// the next instruction (a trailing `\`).
pub(crate) fn image_name(field: &str, name: &str) -> Result<()> {
    let why = if name.trim().is_empty() {
        "is empty"
    } else if name.contains(|c: char| c.is_whitespace() || c.is_control()) {
        "has whitespace or a control character, which no image name holds"
    } else if name.contains('\\') {
        "has a backslash, which no image name holds"
    } else {
        return Ok(());
    };
    Err(Error::validation(
        field,
        format!("the image name {name:?} {why}"),
    ))
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

/// Environment variables as a process can hold them (`NAME=value`
/// strings ended by NUL): each name not empty and without `=` or a NUL,
/// each value without a NUL. The error names the variable, never its
/// value.
pub(crate) fn env_vars(
    field: &str,
    vars: &std::collections::BTreeMap<String, String>,
) -> Result<()> {
    for (name, value) in vars {
        if name.is_empty() || name.contains(['=', '\0']) {
            return Err(Error::validation(
                field,
                format!("{name:?} is not a valid variable name"),
            ));
        }
        if value.contains('\0') {
            return Err(Error::validation(
                field,
                format!("the value of {name} holds a NUL character"),
            ));
        }
    }
    Ok(())
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
    fn dates_and_date_times() {
        for good in [
            "2024-01-01",
            "2024-01-01T09:30",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00Z",
            "2024-01-01t00:00:00z",
            "2024-01-01T09:30Z",
            "2024-12-31T23:59:60Z",
            "2024-06-30T12:00:00.123456789+02:00",
            "2024-06-30T12:00:00-23:59",
        ] {
            assert!(date_time("t", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "yesterday",
            "2024-1-01",
            "2024-01-01T",
            "2024-01-01T9:30",
            "2024-01-01 00:00:00Z",
            "2024-00-01T00:00:00Z",
            "2024-01-32T00:00:00Z",
            "2024-01-01T00:60:00Z",
            "2024-01-01T00:00:61Z",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00+24:00",
            "2024-01-01T00:00:00+02:00x",
            "2024-01-01T00:00:00Zx",
            "2024-01-01T00:00:00+0200",
            "２024-01-01T00:00:00Z",
            "2024-01-01T00:00:00é",
        ] {
            let err = date_time("createdAtAfter", bad).unwrap_err();
            assert!(err.is_validation(), "{bad}");
        }
    }

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

    #[test]
    fn image_names() {
        for good in [
            "python:3.12",
            "registry.example.com:5000/a/b@sha256:0f",
            "x",
        ] {
            assert!(image_name("image", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            " ",
            "python:3 AS x",
            " python:latest ",
            "alpine\nUSER root",
            "alpine\r",
            "a\tb",
            "a\u{85}b",
            "a\u{7f}",
            "alpine \\",
            "alpine\\",
        ] {
            let err = image_name("image", bad).unwrap_err();
            assert!(
                matches!(&err, Error::Validation { field, .. } if field == "image"),
                "{bad:?}"
            );
        }
    }
}
