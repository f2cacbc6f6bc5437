//! The calendar date of a time, for the few timestamps the crate writes
//! (SigV4's `x-amz-date`, the simulator's RFC 3339 times): read from
//! `httpdate`'s IMF-fixdate, so the crate has no calendar arithmetic.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A UTC date and time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Utc {
    pub(crate) year: u16,
    pub(crate) month: u8,
    pub(crate) day: u8,
    pub(crate) hour: u8,
    pub(crate) minute: u8,
    pub(crate) second: u8,
    pub(crate) millisecond: u16,
}

/// The last second `httpdate` can write (9999-12-31T23:59:59Z).
const LAST: Duration = Duration::from_secs(253_402_300_799);

/// The UTC date and time of `t`, clamped to 1970–9999.
pub(crate) fn utc(t: SystemTime) -> Utc {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default().min(LAST);
    // `Sun, 06 Nov 1994 08:49:37 GMT`: fixed width, four-digit year.
    let text = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(since.as_secs()));
    let field = |range: std::ops::Range<usize>| -> u16 {
        text.get(range).and_then(|s| s.parse().ok()).unwrap_or(0)
    };
    let month = match text.get(8..11) {
        Some("Jan") => 1,
        Some("Feb") => 2,
        Some("Mar") => 3,
        Some("Apr") => 4,
        Some("May") => 5,
        Some("Jun") => 6,
        Some("Jul") => 7,
        Some("Aug") => 8,
        Some("Sep") => 9,
        Some("Oct") => 10,
        Some("Nov") => 11,
        _ => 12,
    };
    Utc {
        year: field(12..16),
        month,
        day: field(5..7) as u8,
        hour: field(17..19) as u8,
        minute: field(20..22) as u8,
        second: field(23..25) as u8,
        millisecond: since.subsec_millis() as u16,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64, millis: u64) -> Utc {
        utc(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis))
    }

    fn date(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> Utc {
        Utc {
            year,
            month,
            day,
            hour,
            minute,
            second,
            millisecond: 0,
        }
    }

    #[test]
    fn known_dates() {
        assert_eq!(at(0, 0), date(1970, 1, 1, 0, 0, 0));
        assert_eq!(
            at(784_111_777, 250),
            Utc {
                millisecond: 250,
                ..date(1994, 11, 6, 8, 49, 37)
            }
        );
        assert_eq!(at(951_782_400, 0), date(2000, 2, 29, 0, 0, 0));
        assert_eq!(at(4_107_542_399, 0), date(2100, 2, 28, 23, 59, 59));
        assert_eq!(at(1_700_003_723, 0), date(2023, 11, 14, 23, 15, 23));
        // Every month of a leap year, each with its number of days.
        let mut days = [0u32; 12];
        for d in 0..366 {
            let u = at(1_704_067_200 + d * 86_400, 0);
            assert_eq!(u.year, 2024);
            days[usize::from(u.month) - 1] += 1;
        }
        assert_eq!(days, [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]);
    }

    #[test]
    fn out_of_range_times_are_clamped() {
        assert_eq!(
            utc(UNIX_EPOCH - Duration::from_secs(10)),
            date(1970, 1, 1, 0, 0, 0)
        );
        assert_eq!(
            utc(UNIX_EPOCH + Duration::from_secs(u64::MAX / 4)),
            date(9999, 12, 31, 23, 59, 59)
        );
    }
}
