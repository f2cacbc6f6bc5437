//! Parsing never panics nor takes more than linear time: random and
//! mutated Dockerfile text through `Image::dockerfile_commands`, random
//! wildcards over a small tree (compared with a plain backtracking
//! matcher), and random `Retry-After` values through the SDK over HTTP.
//! Each case gives a value or a typed error.
//!
//! Deterministic: a small PRNG (SplitMix64) seeded per test. By default
//! 4,000 Dockerfiles, 4,000 wildcards and 200 `Retry-After` answers;
//! `DAYTONA_FUZZ_CASES` scales them (as a share of 100,000, like
//! `decode_fuzz`), `DAYTONA_FUZZ_SEED` picks another seed:
//!
//! ```sh
//! DAYTONA_FUZZ_CASES=10000000 cargo test --release --test input_fuzz
//! ```

mod common;
mod fault_server;
mod fuzz_support;
mod temp;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use daytona::{Daytona, DaytonaConfig, RetryPolicy};
use fault_server::{Action, FaultServer};
use fuzz_support::{cases, Rng};

#[cfg(feature = "images")]
mod images {
    use super::*;
    use daytona::Error;
    use temp::TempDir;

    // ---------------------------------------------------------------------------
    // Dockerfile lines

    /// Pieces of Dockerfile text: keywords, flags (some cut in the middle of a
    /// character), quotes, escapes, here-documents, wildcards and multi-byte
    /// characters. No `/`: every source stays one name inside the tree.
    const PIECES: &[&str] = &[
        "COPY",
        "ADD",
        "RUN",
        "FROM",
        "copy",
        "--from=",
        "--fromé",
        "--from",
        "--chown=",
        "--chmod",
        "--link",
        "--é",
        "--",
        "-",
        "=",
        "é",
        "€",
        "🦀",
        "\u{301}",
        "a",
        "b",
        "*",
        "**",
        "?",
        "[",
        "]",
        "[a-",
        "[^",
        "\\",
        "`",
        "\"",
        "'",
        "<<",
        "<<-EOF",
        "EOF",
        "2<<",
        "[\"",
        "\"]",
        ",",
        " ",
        " ",
        " ",
        "\t",
        "\n",
        "\r\n",
        "\\\n",
        "#",
        "# escape=`\n",
        ".",
        "..",
        "$",
        "\u{0}",
        "\u{FEFF}",
    ];

    fn dockerfile(rng: &mut Rng) -> String {
        let mut text = String::new();
        for _ in 0..rng.below(40) {
            let piece: &&str = rng.pick(PIECES);
            text.push_str(piece);
            if rng.below(3) == 0 {
                text.push(' ');
            }
        }
        text
    }

    #[test]
    fn dockerfile_text_never_panics() {
        let tree = TempDir::new("fuzz-dockerfile");
        for name in ["a", "b", "é", "ab", "a b", "[", "]", "*"] {
            tree.file(name, "x");
        }
        tree.file("sub/a", "x");
        let mut rng = Rng::for_test(1);
        let n = cases(40);
        let started = Instant::now();
        for case in 0..n {
            let text = dockerfile(&mut rng);
            let result = catch_unwind(AssertUnwindSafe(|| {
                daytona::Image::base("alpine").dockerfile_commands([&text], Some(&tree.root))
            }));
            match result {
                Ok(Ok(_)) | Ok(Err(Error::Validation { .. })) | Ok(Err(Error::Io { .. })) => {}
                Ok(Err(other)) => panic!("case {case}: {text:?}: unexpected {other:?}"),
                Err(_) => panic!("case {case} panicked: {text:?}"),
            }
        }
        eprintln!("{n} Dockerfiles in {:?}", started.elapsed());
    }

    // ---------------------------------------------------------------------------
    // wildcards

    /// Go's `filepath.Match` on one name, for a well-formed pattern, written
    /// the plain way (backtracking at every star): the reference.
    fn reference(p: &[char], n: &[char]) -> bool {
        let Some((&first, rest)) = p.split_first() else {
            return n.is_empty();
        };
        match first {
            '*' => (0..=n.len()).any(|skip| reference(rest, &n[skip..])),
            '?' => !n.is_empty() && reference(rest, &n[1..]),
            '[' => {
                let Some(&c) = n.first() else { return false };
                let (negated, mut i) = match rest.first() {
                    Some('^') => (true, 1),
                    _ => (false, 0),
                };
                let mut hit = false;
                let mut first_range = true;
                loop {
                    if rest[i] == ']' && !first_range {
                        i += 1;
                        break;
                    }
                    first_range = false;
                    let mut lo = rest[i];
                    if lo == '\\' {
                        i += 1;
                        lo = rest[i];
                    }
                    i += 1;
                    let mut hi = lo;
                    if rest[i] == '-' {
                        i += 1;
                        hi = rest[i];
                        if hi == '\\' {
                            i += 1;
                            hi = rest[i];
                        }
                        i += 1;
                    }
                    hit |= lo <= c && c <= hi;
                }
                hit != negated && reference(&rest[i..], &n[1..])
            }
            '\\' => n.first() == Some(&rest[0]) && reference(&rest[1..], &n[1..]),
            c => n.first() == Some(&c) && reference(rest, &n[1..]),
        }
    }

    /// Whether Go's `filepath.Match` accepts `p` (no `ErrBadPattern`): every
    /// backslash escapes a character, every class is closed, has a range, and
    /// neither starts a range with `-` or `]` nor ends one with them.
    fn well_formed(p: &[char]) -> bool {
        let mut i = 0;
        while i < p.len() {
            match p[i] {
                '\\' if i + 1 == p.len() => return false,
                '\\' => i += 2,
                '[' => {
                    i += 1;
                    if p.get(i) == Some(&'^') {
                        i += 1;
                    }
                    let mut ranges = 0;
                    loop {
                        if p.get(i) == Some(&']') && ranges > 0 {
                            i += 1;
                            break;
                        }
                        for end in 0..2 {
                            if end == 1 {
                                if p.get(i) != Some(&'-') {
                                    break;
                                }
                                i += 1;
                            }
                            match p.get(i) {
                                None | Some('-') | Some(']') => return false,
                                Some('\\') if i + 1 >= p.len() => return false,
                                Some('\\') => i += 2,
                                Some(_) => i += 1,
                            }
                        }
                        ranges += 1;
                    }
                }
                _ => i += 1,
            }
        }
        true
    }

    #[test]
    fn wildcards_match_as_go_does_in_linear_time() {
        const ALPHABET: &[char] = &['a', 'b', 'é'];
        const PATTERN: &[&str] = &[
            "a", "b", "é", "*", "*", "?", "[ab]", "[^a]", "[a-é]", "[é]", "\\a", "\\*", "[", "]",
            "-", "[]]", "[a-", "\\",
        ];
        let tree = TempDir::new("fuzz-glob");
        let mut names = Vec::new();
        let mut rng = Rng::for_test(2);
        for _ in 0..40 {
            let name: String = (0..1 + rng.below(6)).map(|_| *rng.pick(ALPHABET)).collect();
            tree.file(&name, "x");
            names.push(name);
        }
        names.sort();
        names.dedup();
        let n = cases(40);
        let (mut compared, mut refused) = (0, 0);
        for case in 0..n {
            let pattern: String = (0..1 + rng.below(8)).map(|_| *rng.pick(PATTERN)).collect();
            // `**` alone is Docker's "any folders", not a name pattern.
            if !pattern.contains(['*', '?', '[']) || pattern == "**" {
                continue;
            }
            // JSON form, whose words Docker still reads as shell words:
            // the backslashes doubled, the matcher gets the pattern as it is.
            let line = format!(
                "COPY [{}, \"/dst/\"]",
                serde_json::Value::String(pattern.replace('\\', "\\\\"))
            );
            let started = Instant::now();
            let result =
                daytona::Image::base("alpine").dockerfile_commands([&line], Some(&tree.root));
            assert!(
                started.elapsed() < Duration::from_secs(1),
                "case {case}: {pattern:?} took {:?}",
                started.elapsed()
            );
            let got: Vec<String> = match result {
                Ok(image) => image
                    .contexts()
                    .iter()
                    .map(|c| c.archive_path.clone())
                    .collect(),
                Err(Error::Validation { message, .. })
                    if message.contains("not a valid pattern") =>
                {
                    let p: Vec<char> = pattern.chars().collect();
                    assert!(!well_formed(&p), "case {case}: {pattern:?} refused");
                    refused += 1;
                    continue;
                }
                Err(Error::Validation { message, .. }) if message.contains("matches nothing") => {
                    Vec::new()
                }
                Err(other) => panic!("case {case}: {pattern:?}: {other:?}"),
            };
            let p: Vec<char> = pattern.chars().collect();
            assert!(well_formed(&p), "case {case}: {pattern:?} accepted");
            let want: Vec<String> = names
                .iter()
                .filter(|name| reference(&p, &name.chars().collect::<Vec<_>>()))
                .cloned()
                .collect();
            assert_eq!(got, want, "case {case}: {pattern:?}");
            compared += 1;
        }
        assert!(compared > n / 4 && refused > 0, "{compared} {refused}");
        eprintln!("{compared} wildcards compared, {refused} refused as malformed");
    }
}

// ---------------------------------------------------------------------------
// Retry-After

fn retry_after(rng: &mut Rng) -> String {
    const DAYS: &[&str] = &["Sun", "Mon", "Sunday", "Fri", "Xyz", ""];
    const MONTHS: &[&str] = &["Nov", "Dec", "Jan", "Foo", ""];
    let number = |rng: &mut Rng| -> String {
        match rng.below(6) {
            0 => u64::MAX.to_string(),
            1 => "99999999999999999999999999999999".to_string(),
            2 => rng.below(100).to_string(),
            3 => format!("-{}", rng.below(100)),
            4 => (rng.next() % 100_000).to_string(),
            _ => rng.next().to_string(),
        }
    };
    match rng.below(5) {
        0 => number(rng),
        1 => format!(
            "{}, {} {} {} {}:{}:{} GMT",
            rng.pick(DAYS),
            number(rng),
            rng.pick(MONTHS),
            number(rng),
            number(rng),
            number(rng),
            number(rng)
        ),
        2 => format!(
            "{}, {}-{}-{} 08:49:37 GMT",
            rng.pick(DAYS),
            number(rng),
            rng.pick(MONTHS),
            number(rng)
        ),
        3 => format!(
            "{} {} {} 08:49:37 {}",
            rng.pick(DAYS),
            rng.pick(MONTHS),
            number(rng),
            number(rng)
        ),
        _ => {
            let len = rng.below(30);
            (0..len)
                .map(|_| char::from(b' ' + (rng.below(95) as u8)))
                .collect()
        }
    }
}

#[test]
fn retry_after_values_never_panic_nor_wait_past_the_policy() {
    let mut rng = Rng::for_test(3);
    let values: Vec<String> = (0..cases(2)).map(|_| retry_after(&mut rng)).collect();
    let shared = std::sync::Arc::new(values.clone());
    let server = FaultServer::forgetful(move |seen| {
        // The case number is the sandbox id.
        let i: usize = seen.path().rsplit('/').next().unwrap().parse().unwrap();
        Action::json(429, &serde_json::json!({"message": "slow down"}))
            .header("Retry-After", shared[i].trim())
    });
    let daytona = Daytona::new(
        DaytonaConfig::new()
            .read_env(false)
            .api_key(common::KEY)
            .api_url(format!("{}/api", server.url))
            .retry_policy(
                RetryPolicy::default()
                    .max_attempts(2)
                    .initial_backoff(Duration::from_millis(1))
                    .max_backoff(Duration::from_millis(2))
                    .max_retry_after(Duration::from_millis(20)),
            ),
    )
    .unwrap();
    for (i, value) in values.iter().enumerate() {
        let started = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| daytona.get(&i.to_string())));
        let err = match result {
            Ok(Err(e)) => e,
            Ok(Ok(_)) => panic!("{value:?}: a 429 gave a sandbox"),
            Err(_) => panic!("{value:?}: panicked"),
        };
        assert!(err.is_rate_limited(), "{value:?}: {err:?}");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{value:?} waited {:?}",
            started.elapsed()
        );
    }
}
