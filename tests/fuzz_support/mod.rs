//! What the fuzz tests share: a small deterministic PRNG (SplitMix64) and
//! the two settings, `DAYTONA_FUZZ_CASES` (how many cases all the fuzz
//! tests run together; underscores allowed) and `DAYTONA_FUZZ_SEED`.
#![allow(dead_code)]

pub mod shapes;

/// Cases of all the fuzz tests together, by default.
pub const DEFAULT_CASES: u64 = 100_000;

/// SplitMix64: small, fast, and the same everywhere.
pub struct Rng(u64);

impl Rng {
    /// A generator for one test: the configured seed mixed with `salt`.
    pub fn for_test(salt: u64) -> Rng {
        Rng(env_u64("DAYTONA_FUZZ_SEED").unwrap_or(0x5EED_DA77_0A11_2026) ^ salt)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// True once in `one_in` times.
    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    /// One of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A test's share of the cases, in thousandths of `DAYTONA_FUZZ_CASES`
/// (at least one).
pub fn cases(per_mille: u64) -> u64 {
    let total = env_u64("DAYTONA_FUZZ_CASES").unwrap_or(DEFAULT_CASES);
    (total.saturating_mul(per_mille) / 1000).max(1)
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name)
        .ok()?
        .trim()
        .replace('_', "")
        .parse()
        .ok()
}
