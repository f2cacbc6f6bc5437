//! How the client retries requests and polls states: plain settings, no
//! clock and no network (the transport applies them).

use std::time::Duration;

/// Pass as a timeout to wait without limit.
///
/// Every wait in this crate has a limit unless the caller passes this value
/// (any duration too large to add to the current time counts the same).
pub const WAIT_FOREVER: Duration = Duration::MAX;

/// The longest time limit or delay handed to a clock or to ureq (about
/// 136 years): far beyond any real wait, and safe to add to
/// `Instant::now()`. Longer ones, [`WAIT_FOREVER`] included, are cut to it.
pub(crate) const LONGEST: Duration = Duration::from_secs(u32::MAX as u64);

/// When and how often idempotent requests are retried.
///
/// Idempotent requests (GET, HEAD, PUT, DELETE) are retried on transport
/// failures, timeouts, 2xx answers whose body is cut short (shorter than
/// its `Content-Length`, or chunked without its end), and on 408, 429, 502,
/// 503 and 504. A whole 2xx answer that does not decode is an
/// [`crate::Error::Decode`] at once: the same answer would come again. Other requests (POST) are
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
/// at least `min_interval` and at most `max_interval`. Once `slow_after`
/// has been waited, the interval is `slow_growth` × the time waited, at
/// least `max_interval` and at most `max_slow_interval`, and each one is
/// shortened by a random fraction of up to `jitter`, so that waits begun
/// together do not poll together. So a quick change is seen quickly, and a
/// slow one costs few requests.
///
/// The default (100 ms first, every 140 ms until 1 s, then 20 % of the time
/// waited, capped at 1 s; after 20 s, 5 % of the time waited, capped at 8 s,
/// less up to 10 % at random) notices a change within 1 s in at most
/// 140 ms, a later one within 20 % of the time waited and never more than
/// 1 s late until 20 s, then within 5 % of the time waited and never more
/// than 8 s late; 14 checks for a change at 3 s, 20 at 8 s, 32 at 20 s,
/// 54 to 57 at 1 minute, 92 to 99 at 5 minutes and 130 to 140 at 10
/// minutes (a poll every second would take 600). `cargo run --release
/// --example bench` measures it.
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
    pub(crate) slow_after: Duration,
    pub(crate) slow_growth: f64,
    pub(crate) max_slow_interval: Duration,
    pub(crate) jitter: f64,
    pub(crate) outage: Duration,
}

/// The default [`PollSchedule::outage`].
const OUTAGE: Duration = Duration::from_secs(60);

impl Default for PollSchedule {
    fn default() -> Self {
        PollSchedule {
            first_delay: Duration::from_millis(100),
            min_interval: Duration::from_millis(140),
            growth_after: Duration::from_secs(1),
            max_interval: Duration::from_secs(1),
            growth: 0.2,
            slow_after: Duration::from_secs(20),
            slow_growth: 0.05,
            max_slow_interval: Duration::from_secs(8),
            jitter: 0.1,
            outage: OUTAGE,
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

    /// Longest interval between two checks until `slow_after`. Default 1 s.
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

    /// Time waited before the slow phase: from then on the interval is
    /// `slow_growth` × the time waited, between `max_interval` and
    /// `max_slow_interval`, with jitter. Default 20 s.
    pub fn slow_after(mut self, after: Duration) -> Self {
        self.slow_after = after;
        self
    }

    /// Interval as a fraction of the time waited so far in the slow phase.
    /// Default 0.05.
    pub fn slow_growth(mut self, fraction: f64) -> Self {
        self.slow_growth = fraction;
        self
    }

    /// Longest interval between two checks in the slow phase. Default 8 s.
    pub fn max_slow_interval(mut self, interval: Duration) -> Self {
        self.max_slow_interval = interval;
        self
    }

    /// Largest fraction by which a slow-phase interval is shortened at
    /// random (0 to 1; 0 turns the jitter off). Default 0.1.
    pub fn jitter(mut self, fraction: f64) -> Self {
        self.jitter = fraction;
        self
    }

    /// How long the checks of a wait may keep failing for reasons that
    /// heal (an answer 502, 503 or 504, a connection refused or cut, a
    /// request that timed out) before the wait gives up with the last
    /// failure: the API restarting does not end a long wait. Each check's
    /// request is first retried by the [`RetryPolicy`]; a wait whose
    /// deadline comes while its checks fail ends with the last failure.
    /// Default 60 s; zero ends the wait at the first failed check.
    pub fn outage(mut self, outage: Duration) -> Self {
        self.outage = outage;
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
            slow_after: Duration::MAX,
            slow_growth: 0.0,
            max_slow_interval: interval,
            jitter: 0.0,
            outage: OUTAGE,
        }
    }

    /// The delay before the next check, `elapsed` after the wait began and
    /// after `checks` checks, without the jitter (the longest it can be).
    pub fn next_delay(&self, elapsed: Duration, checks: u32) -> Duration {
        if checks == 0 {
            return self.first_delay;
        }
        if elapsed >= self.slow_after {
            let cap = self.max_slow_interval.max(self.max_interval);
            return share(elapsed, self.slow_growth)
                .max(self.max_interval)
                .min(cap);
        }
        let grown = if elapsed >= self.growth_after {
            share(elapsed, self.growth)
        } else {
            Duration::ZERO
        };
        grown.max(self.min_interval).min(self.max_interval)
    }

    /// [`next_delay`](Self::next_delay) shortened by `random` (0 to 1) ×
    /// the jitter in the slow phase.
    pub(crate) fn jittered_delay(&self, elapsed: Duration, checks: u32, random: f64) -> Duration {
        let delay = self.next_delay(elapsed, checks);
        if checks == 0 || elapsed < self.slow_after {
            return delay;
        }
        let cut = (self.jitter * random).clamp(0.0, 1.0);
        // Not `mul_f64`, which panics past the longest duration (a delay
        // near `Duration::MAX` rounds up past it as a float); a cut that is
        // not a number leaves the delay whole.
        Duration::try_from_secs_f64(delay.as_secs_f64() * (1.0 - cut))
            .map_or(delay, |cut_delay| cut_delay.min(delay))
    }
}

/// `fraction` × `elapsed`, zero for a fraction that is not a positive
/// number, and the longest duration for a product past it.
fn share(elapsed: Duration, fraction: f64) -> Duration {
    if fraction.is_finite() && fraction > 0.0 {
        Duration::try_from_secs_f64(elapsed.as_secs_f64() * fraction.min(1e6))
            .unwrap_or(Duration::MAX)
    } else {
        Duration::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_elapsed_time_gives_a_delay_without_panicking() {
        let s = PollSchedule::new().growth(1e9).slow_growth(1e9);
        for elapsed in [Duration::MAX, Duration::from_secs(u64::MAX / 2)] {
            let d = s.next_delay(elapsed, 5);
            assert!(d <= s.max_slow_interval.max(s.max_interval), "{d:?}");
            let _ = s.jittered_delay(elapsed, 5, 1.0);
        }
        // No cap and no jitter: the longest delay, kept as it is.
        let s = PollSchedule::new().max_interval(WAIT_FOREVER).jitter(0.0);
        let late = Duration::from_secs(30);
        assert_eq!(s.jittered_delay(late, 5, 0.5), Duration::MAX);
    }

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
            s.next_delay(Duration::from_secs(15), 30),
            Duration::from_secs(1)
        );
    }

    /// The times of the checks of `next` (elapsed, checks) → delay, up to `until`.
    fn check_times(
        mut next: impl FnMut(Duration, u32) -> Duration,
        until: Duration,
    ) -> Vec<Duration> {
        let (mut t, mut times) = (Duration::ZERO, Vec::new());
        while t < until {
            t += next(t, times.len() as u32);
            times.push(t);
        }
        times
    }

    /// The times of the checks of `schedule` up to `until`, each delay
    /// shortened by `random()` × the jitter.
    fn jittered_times(
        schedule: &PollSchedule,
        until: Duration,
        mut random: impl FnMut() -> f64,
    ) -> Vec<Duration> {
        check_times(|e, c| schedule.jittered_delay(e, c, random()), until)
    }

    /// For a change at `at`: the checks it costs and how late it is seen.
    fn seen(times: &[Duration], at: Duration) -> (usize, Duration) {
        let n = times.partition_point(|&c| c < at);
        (n + 1, times[n] - at)
    }

    #[test]
    fn the_slow_phase_grows_to_its_cap() {
        let s = PollSchedule::default();
        let at = |secs: u64| s.next_delay(Duration::from_secs(secs), 40);
        assert_eq!(at(19), Duration::from_secs(1));
        assert_eq!(at(20), Duration::from_secs(1));
        assert_eq!(at(60), Duration::from_secs(3));
        assert_eq!(at(120), Duration::from_secs(6));
        assert_eq!(at(600), Duration::from_secs(8));
        // The jitter shortens slow-phase delays only, by at most 10 %.
        let t = Duration::from_secs(100);
        assert_eq!(s.jittered_delay(t, 40, 0.0), Duration::from_secs(5));
        assert_eq!(s.jittered_delay(t, 40, 1.0), Duration::from_millis(4500));
        let early = Duration::from_secs(10);
        assert_eq!(s.jittered_delay(early, 20, 1.0), s.next_delay(early, 20));
        // A fixed schedule stays fixed, however long the wait.
        let f = PollSchedule::fixed(Duration::from_millis(10));
        assert_eq!(
            f.jittered_delay(Duration::from_secs(3600), 9, 1.0),
            Duration::from_millis(10)
        );
    }

    #[test]
    fn default_schedule_meets_its_targets_for_every_change_time() {
        // Arithmetic on the schedule, no clock: for a change at each
        // millisecond up to 10 minutes, the check that sees it and its
        // lateness, with no jitter and with the most jitter (each delay
        // 10 % short), the two ends of what a wait can do.
        let s = PollSchedule::default();
        let until = Duration::from_secs(601);
        let longest = jittered_times(&s, until, || 0.0);
        let shortest = jittered_times(&s, until, || 1.0);
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
        for times in [&longest, &shortest] {
            for ms in 1..=600_000u64 {
                let at = Duration::from_millis(ms);
                let (checks, late) = seen(times, at);
                if ms <= 1000 {
                    assert!(late <= Duration::from_millis(140), "{ms} ms: {late:?} late");
                } else if ms <= 20_000 {
                    assert!(
                        late <= at / 5 && late <= s.max_interval,
                        "{ms} ms: {late:?}"
                    );
                } else {
                    assert!(
                        late <= at / 20 && late <= s.max_slow_interval,
                        "{ms} ms: {late:?}"
                    );
                }
                if (3000..=30_000).contains(&ms) {
                    let (theirs, _) = seen(&official_times, at);
                    assert!(2 * checks <= theirs, "{ms} ms: {checks} checks vs {theirs}");
                }
            }
            let checks_at = |secs| seen(times, Duration::from_secs(secs)).0;
            // Up to 20 s, the figures of the schedule without a slow phase.
            assert_eq!((checks_at(3), checks_at(8), checks_at(20)), (14, 20, 32));
            assert!(checks_at(600) < 150, "{}", checks_at(600));
        }
        let at = |times: &[Duration], secs| seen(times, Duration::from_secs(secs)).0;
        // Checks for a change at 1, 5 and 10 minutes: no jitter, most jitter.
        assert_eq!(
            [60, 300, 600].map(|t| (at(&longest, t), at(&shortest, t))),
            [(54, 57), (92, 99), (130, 140)]
        );
    }

    /// The most checks of `waits` that fall within any `window`, from `from`.
    fn crowd(waits: &[Vec<Duration>], from: Duration, window: Duration) -> usize {
        let mut all: Vec<Duration> = waits
            .iter()
            .flatten()
            .copied()
            .filter(|&t| t >= from)
            .collect();
        all.sort();
        let mut most = 0;
        for (i, &t) in all.iter().enumerate() {
            let n = all[i..].partition_point(|&u| u < t + window);
            most = most.max(n);
        }
        most
    }

    #[test]
    fn sixty_four_waits_begun_together_spread_out() {
        let s = PollSchedule::default();
        let until = Duration::from_secs(600);
        // A fixed-seed generator (xorshift) stands in for the random source.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut random = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let waits: Vec<Vec<Duration>> = (0..64)
            .map(|_| jittered_times(&s, until, &mut random))
            .collect();
        let fixed: Vec<Vec<Duration>> = (0..64)
            .map(|_| jittered_times(&s.clone().jitter(0.0), until, || 0.0))
            .collect();
        let window = Duration::from_millis(100);
        // Without jitter all 64 check in the same instant, every time.
        assert_eq!(crowd(&fixed, Duration::from_secs(60), window), 64);
        // With it, a minute into the wait at most a quarter of them check
        // within any 100 ms, after two minutes at most a sixth (about 6
        // would be a uniform spread's worst window).
        let after = |secs| crowd(&waits, Duration::from_secs(secs), window);
        assert!(after(60) <= 16, "{}", after(60));
        assert!(after(120) <= 10, "{}", after(120));
        assert!(after(300) <= 10, "{}", after(300));
    }
}
