//! The delays between the attempts of a request: the one place that
//! knows the `backoff` crate (unmaintained upstream, RUSTSEC-2025-0012),
//! so that replacing it touches nothing else.

use std::time::Duration;

use backoff::backoff::Backoff;

use crate::config::RetryPolicy;

/// The delays before each retry of one request: `initial_backoff`, then
/// doubling, each randomized by ±50 %, and never more than `max_backoff`
/// (the jitter is applied before the cap, so the cap is the real maximum).
pub(crate) struct Delays {
    schedule: backoff::ExponentialBackoff,
    max: Duration,
}

impl Delays {
    pub(crate) fn new(policy: &RetryPolicy) -> Self {
        Delays {
            schedule: backoff::ExponentialBackoff {
                current_interval: policy.initial_backoff,
                initial_interval: policy.initial_backoff,
                randomization_factor: 0.5,
                multiplier: 2.0,
                max_interval: policy.max_backoff,
                max_elapsed_time: None,
                ..Default::default()
            },
            max: policy.max_backoff,
        }
    }

    /// The delay before the next retry.
    pub(crate) fn next_delay(&mut self) -> Duration {
        self.schedule
            .next_backoff()
            .unwrap_or(self.max)
            .min(self.max)
    }
}

/// A random number from 0 to 1, from the source of the backoff's jitter
/// (a one-second interval randomized by ±100 %, halved).
pub(crate) fn random_fraction() -> f64 {
    let second = Duration::from_secs(1);
    let mut source = backoff::ExponentialBackoff {
        current_interval: second,
        initial_interval: second,
        randomization_factor: 1.0,
        multiplier: 1.0,
        max_interval: second * 2,
        max_elapsed_time: None,
        ..Default::default()
    };
    let drawn = source.next_backoff().unwrap_or(second);
    (drawn.as_secs_f64() / 2.0).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(initial_ms: u64, max_ms: u64) -> RetryPolicy {
        RetryPolicy {
            initial_backoff: Duration::from_millis(initial_ms),
            max_backoff: Duration::from_millis(max_ms),
            ..RetryPolicy::default()
        }
    }

    #[test]
    fn delays_grow_with_jitter_and_never_pass_the_maximum() {
        let defaults = RetryPolicy::default();
        for _ in 0..200 {
            let mut delays = Delays::new(&defaults);
            let got: Vec<Duration> = (0..12).map(|_| delays.next_delay()).collect();
            // 250 ms ± 50 %, then 500 ms ± 50 %, ...
            let first = got[0].as_secs_f64();
            assert!((0.125..=0.375).contains(&first), "{got:?}");
            let second = got[1].as_secs_f64();
            assert!((0.25..=0.75).contains(&second), "{got:?}");
            assert!(got.iter().all(|d| *d <= defaults.max_backoff), "{got:?}");
            // Once the interval has reached the cap, the jitter keeps the
            // delays between half the cap and the cap.
            assert!(
                got[8..].iter().all(|d| *d >= defaults.max_backoff / 2),
                "{got:?}"
            );
        }
    }

    #[test]
    fn the_jitter_is_really_random_below_the_cap() {
        let mut firsts: Vec<Duration> = (0..50)
            .map(|_| Delays::new(&policy(1000, 60_000)).next_delay())
            .collect();
        firsts.sort();
        firsts.dedup();
        assert!(firsts.len() > 10, "{firsts:?}");
    }

    #[test]
    fn random_fractions_spread_over_zero_to_one() {
        let draws: Vec<f64> = (0..2000).map(|_| random_fraction()).collect();
        assert!(draws.iter().all(|f| (0.0..=1.0).contains(f)));
        // Each tenth of the range gets some of 2,000 draws.
        for tenth in 0..10 {
            let lo = f64::from(tenth) / 10.0;
            let n = draws.iter().filter(|f| (lo..lo + 0.1).contains(*f)).count();
            assert!((100..=300).contains(&n), "{tenth}: {n}");
        }
    }

    #[test]
    fn an_initial_delay_above_the_maximum_is_capped() {
        let mut delays = Delays::new(&policy(5000, 100));
        for _ in 0..5 {
            assert!(delays.next_delay() <= Duration::from_millis(100));
        }
        let mut none = Delays::new(&policy(0, 0));
        assert_eq!(none.next_delay(), Duration::ZERO);
        let mut huge = Delays::new(&policy(1000, u64::MAX));
        for _ in 0..80 {
            huge.next_delay();
        }
    }
}
