//! Random and mutated packets through the codec: a packet or a typed
//! error, never a panic, in time linear in the input. Deterministic, with
//! the fuzz tests' generator and settings (`DAYTONA_FUZZ_CASES`,
//! `DAYTONA_FUZZ_SEED`, see `tests/fuzz_support`).

#[path = "../../tests/fuzz_support/mod.rs"]
mod fuzz_support;

use std::time::{Duration, Instant};

use super::codec::decode;
use fuzz_support::{cases, Rng};

/// Pieces of packets: type digits, namespaces, ack ids, JSON fragments,
/// huge and negative numbers, multi-byte characters.
const PIECES: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "9",
    "40",
    "42",
    "44",
    "451-",
    "/",
    "/admin",
    ",",
    "12",
    "[",
    "]",
    "{",
    "}",
    "\"",
    ":",
    "\"sid\"",
    "\"pingInterval\"",
    "\"pingTimeout\"",
    "\"maxPayload\"",
    "25000",
    "-1",
    "0",
    "18446744073709551616",
    "1e400",
    "null",
    "true",
    "\"sandbox.state.updated\"",
    "\"sandbox\"",
    "\"id\"",
    "\"message\"",
    "é",
    "🦀",
    "\\",
    "\\u",
    " ",
    "\u{0}",
];

const SEEDS: &[&str] = &[
    r#"0{"sid":"a","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#,
    r#"40{"sid":"x"}"#,
    r#"44{"message":"Unauthorized"}"#,
    r#"42["sandbox.state.updated",{"sandbox":{"id":"s","state":"started"},"oldState":"starting","newState":"started"}]"#,
    r#"42/,7["e",1]"#,
    "2",
    "3",
];

fn random(rng: &mut Rng) -> Vec<u8> {
    let mut out = String::new();
    for _ in 0..rng.below(24) {
        let piece: &&str = rng.pick(PIECES);
        out.push_str(piece);
    }
    out.into_bytes()
}

fn mutated(rng: &mut Rng) -> Vec<u8> {
    let mut bytes = (*rng.pick(SEEDS)).as_bytes().to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(4) {
            0 if !bytes.is_empty() => {
                bytes.remove(at.min(bytes.len() - 1));
            }
            1 => bytes.insert(at, rng.next() as u8),
            2 => {
                let piece = (*rng.pick(PIECES)).as_bytes();
                bytes.splice(at..at, piece.iter().copied());
            }
            _ => bytes.truncate(at),
        }
    }
    bytes
}

#[test]
fn random_and_mutated_packets_never_panic() {
    let mut rng = Rng::for_test(0xE7E7);
    let n = cases(40);
    let mut decoded = 0u64;
    for i in 0..n {
        let input = if i % 2 == 0 {
            random(&mut rng)
        } else {
            mutated(&mut rng)
        };
        if decode(&input).is_ok() {
            decoded += 1;
        }
    }
    // Both outcomes are exercised.
    assert!(decoded > 0 && decoded < n, "{decoded} of {n}");
}

#[test]
fn long_packets_take_linear_time() {
    let long = format!("42[\"e\",{}]", "[".repeat(200_000));
    let started = Instant::now();
    assert!(decode(long.as_bytes()).is_err());
    let deep = format!("42/{},[\"e\"]", "a".repeat(1_000_000));
    assert!(decode(deep.as_bytes()).is_ok());
    assert!(started.elapsed() < Duration::from_secs(2));
}
