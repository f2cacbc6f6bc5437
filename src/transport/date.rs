//! Calendar arithmetic for the few dates the crate reads and writes
//! (`Retry-After`, SigV4 timestamps, the simulator's RFC 3339 times), after
//! Howard Hinnant's civil-date algorithms.

use std::time::{SystemTime, UNIX_EPOCH};

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1–12).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// UTC date and time of `t`: (year, month, day, hour, minute, second, millisecond).
#[cfg_attr(not(any(feature = "images", feature = "testing")), allow(dead_code))]
pub(crate) fn utc(t: SystemTime) -> (i64, u32, u32, u32, u32, u32, u32) {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    let rem = rem as u32;
    (
        year,
        month,
        day,
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        d.subsec_millis(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn round_trips_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(1994, 11, 6), 9075);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        let t = UNIX_EPOCH + Duration::from_millis(784_111_777_250);
        assert_eq!(utc(t), (1994, 11, 6, 8, 49, 37, 250));
        let t = UNIX_EPOCH + Duration::from_secs(86_400 * 11_016);
        assert_eq!(utc(t), (2000, 2, 29, 0, 0, 0, 0));
    }
}
