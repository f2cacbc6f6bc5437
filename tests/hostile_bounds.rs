//! A hostile server cannot make the SDK use unbounded memory or time, nor
//! panic it with extreme numbers: each attack against a local server ends
//! in a typed error within its bound (memory measured with `VmHWM`, the
//! process's peak resident size, where it matters: such a test runs again
//! in a process of its own, so that no other test's memory counts). Tests
//! run in debug builds, so arithmetic overflow would panic.

mod common;
mod fault_server;
#[cfg(feature = "websocket")]
mod process_support;
#[cfg(feature = "websocket")]
mod ws_support;

use std::time::{Duration, Instant};

use daytona::{Daytona, DaytonaConfig, Error, ListSandboxes, ListSnapshots, RetryPolicy};
use fault_server::{Action, FaultServer};
use serde_json::{json, Value};

/// Set in the process a memory test runs in.
const ALONE: &str = "DAYTONA_TEST_ALONE";

/// Runs `test` (the name of the calling test) in a process of its own:
/// this test binary, run again for that test only.
fn alone(test: &str, body: impl FnOnce()) {
    if std::env::var_os(ALONE).is_some() {
        return body();
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(ALONE, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprint!("{stderr}");
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
}

/// The process's peak resident size so far, in KiB (`VmHWM`).
fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn client(server: &FaultServer) -> Daytona {
    Daytona::new(
        DaytonaConfig::new()
            .read_env(false)
            .api_key(common::KEY)
            .api_url(format!("{}/api", server.url))
            .retry_policy(
                RetryPolicy::default()
                    .initial_backoff(Duration::from_millis(5))
                    .max_backoff(Duration::from_millis(20)),
            ),
    )
    .unwrap()
}

/// `doc` with labels that make its JSON at least `bytes` long: hundreds
/// of thousands of tiny values, which decode to many times their size.
/// Written as text (a JSON map of them would take more memory than what
/// is measured).
fn with_labels(mut doc: Value, bytes: usize) -> String {
    doc["labels"] = json!({"z": "z"});
    let mut labels = String::with_capacity(bytes + 64);
    labels.push('{');
    let mut i = 0;
    while labels.len() < bytes {
        labels.push_str(&format!("\"k{i}\":\"\","));
        i += 1;
    }
    labels.push_str("\"z\":\"z\"}");
    doc.to_string().replace("{\"z\":\"z\"}", &labels)
}

fn assert_too_large(err: &Error, limit: u64) {
    assert!(err.is_too_large(), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(&format!("limit of {limit} bytes")), "{text}");
}

#[test]
fn a_json_answer_past_its_endpoint_cap_is_too_large_in_bounded_memory() {
    alone(
        "a_json_answer_past_its_endpoint_cap_is_too_large_in_bounded_memory",
        measured_a_json_answer_past_its_endpoint_cap_is_too_large_in_bounded_memory,
    );
}

fn measured_a_json_answer_past_its_endpoint_cap_is_too_large_in_bounded_memory() {
    // 6 MiB of labels: 1.5 times the cap of one sandbox; accepted, it would
    // decode to over 60 MiB.
    let body = with_labels(common::sandbox_json("big", "started"), 6 << 20);
    let server = FaultServer::start(move |_| Action::body(200, "application/json", body.clone()));
    let daytona = client(&server);
    let before = peak_kib();
    let started = Instant::now();
    // (`unwrap_err` would print the whole sandbox.)
    let Err(err) = daytona.get("big") else {
        panic!("a sandbox past its cap was accepted")
    };
    let took = started.elapsed();
    let grew = peak_kib().saturating_sub(before);
    assert_too_large(&err, 4 << 20);
    assert!(
        err.to_string().starts_with("GET /api/sandbox/big:"),
        "{err}"
    );
    assert_eq!(server.count("GET", "/api/sandbox/big"), 1, "not retried");
    assert!(grew < 24 * 1024, "peak grew by {grew} KiB");
    assert!(took < Duration::from_secs(3), "{took:?}");
    eprintln!("sandbox past its cap: peak +{grew} KiB in {took:?}");
}

#[test]
fn an_ignored_answer_is_read_to_its_end_in_constant_memory() {
    alone(
        "an_ignored_answer_is_read_to_its_end_in_constant_memory",
        measured_an_ignored_answer_is_read_to_its_end_in_constant_memory,
    );
}

fn measured_an_ignored_answer_is_read_to_its_end_in_constant_memory() {
    const CAP: usize = 4 << 20;
    // The first answer to `refresh_activity` ends one byte short of the
    // cap of one object, the second one byte past it; both are written
    // as they are sent, so that only the SDK's memory is measured.
    let server = FaultServer::start(|seen| match (seen.method.as_str(), seen.path()) {
        ("GET", "/api/sandbox/sb-1") => Action::json(200, &common::sandbox_json("sb-1", "started")),
        ("POST", "/api/sandbox/sb-1/last-activity") => {
            let size = if seen.nth == 0 { CAP - 1 } else { CAP + 1 };
            Action::take(move |mut conn| {
                let _ = conn.skip_head();
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                     Content-Length: {size}\r\n\r\n"
                );
                let block = vec![b' '; 64 * 1024];
                let mut left = size;
                let mut send = |bytes: &[u8]| std::io::Write::write_all(&mut conn, bytes);
                let mut sent = send(head.as_bytes());
                while sent.is_ok() && left > 0 {
                    let n = left.min(block.len());
                    sent = send(&block[..n]);
                    left -= n;
                }
                conn.finish();
            })
        }
        _ => Action::status(404),
    });
    let daytona = client(&server);
    let sandbox = daytona.get("sb-1").unwrap();
    let before = peak_kib();
    sandbox.refresh_activity().unwrap();
    let grew = peak_kib().saturating_sub(before);
    assert!(grew < 1024, "peak grew by {grew} KiB");
    let err = sandbox.refresh_activity().unwrap_err();
    assert_too_large(&err, CAP as u64);
    assert_eq!(server.count("POST", "/api/sandbox/sb-1/last-activity"), 2);
    eprintln!("ignored answer of 4 MiB: peak +{grew} KiB");
}

#[test]
fn a_page_may_be_larger_than_one_object_but_has_its_own_cap() {
    alone(
        "a_page_may_be_larger_than_one_object_but_has_its_own_cap",
        measured_a_page_may_be_larger_than_one_object_but_has_its_own_cap,
    );
}

fn measured_a_page_may_be_larger_than_one_object_but_has_its_own_cap() {
    // A page of 5 MiB is legitimate (200 sandboxes with many labels); one
    // past 16 MiB is not.
    let page = |id: &str, bytes: usize| -> String {
        let item = with_labels(common::list_item_json(id), bytes);
        format!("{{\"items\": [{item}], \"nextCursor\": null}}")
    };
    let small = page("a", 5 << 20);
    let big = page("b", 17 << 20);
    let server = FaultServer::start(move |seen| {
        let body = if seen.query().unwrap_or("").contains("big") {
            big.clone()
        } else {
            small.clone()
        };
        Action::body(200, "application/json", body)
    });
    let daytona = client(&server);
    let page = daytona.list_page(ListSandboxes::new()).unwrap();
    assert_eq!(page.items.len(), 1);
    drop(page);
    let before = peak_kib();
    let Err(err) = daytona.list_page(ListSandboxes::new().label("big", "1")) else {
        panic!("a page past its cap was accepted")
    };
    let grew = peak_kib().saturating_sub(before);
    assert_too_large(&err, 16 << 20);
    // The server's copy of the answer (17 MiB) and the SDK's buffer, not
    // the 200 MiB the answer would decode to.
    assert!(grew < 64 * 1024, "peak grew by {grew} KiB");
    eprintln!("page past its cap: peak +{grew} KiB");
}

#[test]
fn endless_empty_pages_with_new_cursors_end_with_an_error() {
    let server = FaultServer::start(|seen| {
        Action::json(
            200,
            &json!({"items": [], "nextCursor": format!("cursor-{}", seen.nth)}),
        )
    });
    let daytona = client(&server);
    let started = Instant::now();
    let mut listing = daytona.list(ListSandboxes::new());
    let err = listing.next().unwrap().unwrap_err();
    assert!(err.is_too_large(), "{err:?}");
    assert!(
        err.to_string().contains("limit of 8 empty pages in a row"),
        "{err}"
    );
    assert!(listing.next().is_none());
    assert_eq!(server.count("GET", "/api/sandbox"), 8);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn extreme_snapshot_page_numbers_never_overflow() {
    let item = json!({
        "id": "s1", "organizationId": "org-1", "general": false, "name": "s1",
        "imageName": "python:3.12-slim", "state": "active", "size": null,
        "entrypoint": null, "cpu": 1, "gpu": 0, "mem": 1, "disk": 3,
        "errorReason": null, "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-01T00:00:00Z", "lastUsedAt": null, "regionIds": ["us"]
    });
    let max = u32::MAX;
    let server = FaultServer::start(move |seen| {
        let query = seen.query().unwrap_or("").to_string();
        let body = if query.contains(&format!("page={max}")) {
            json!({"items": [item.clone()], "total": u64::MAX, "page": max, "totalPages": max})
                .to_string()
        } else if query.contains("page=7") {
            // Past u64.
            format!(
                "{{\"items\": [], \"total\": 1, \"page\": 18446744073709551616, \"totalPages\": {max}}}"
            )
        } else {
            json!({"items": [item.clone()], "total": u64::MAX, "page": max - 1, "totalPages": max})
                .to_string()
        };
        Action::body(200, "application/json", body)
    });
    let daytona = client(&server);
    let all: Vec<_> = daytona
        .snapshots()
        .list(ListSnapshots::new().page(max - 1))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(all.len(), 2, "the last page ends the listing");
    assert_eq!(server.seen().len(), 2);
    // Read tolerantly, as the largest page number there can be.
    let page = daytona
        .snapshots()
        .list_page(ListSnapshots::new().page(7))
        .unwrap();
    assert_eq!(page.page, max);
}

#[test]
fn extreme_retry_after_values_never_panic_nor_wait() {
    for (value, attempts) in [
        // More seconds than a u64 holds, a date far away: longer than the
        // policy allows, so the 429 is returned at once.
        ("18446744073709551616", 1),
        ("99999999999999999999999999999", 1),
        ("Fri, 31 Dec 9999 23:59:59 GMT", 1),
        // Years past what a date can hold: not a date, so the policy's own
        // delays apply.
        ("Sun, 06 Nov 18446744073709551615 08:49:37 GMT", 4),
        ("Sun, 06 Nov 99999 08:49:37 GMT", 4),
        ("Sun Nov  6 08:49:37 18446744073709551615", 4),
        ("-1", 4),
    ] {
        let server = FaultServer::start(move |_| {
            Action::json(429, &json!({"message": "slow down"})).header("Retry-After", value)
        });
        let started = Instant::now();
        let err = client(&server).get("x").unwrap_err();
        assert!(err.is_rate_limited(), "{value}: {err:?}");
        assert_eq!(server.count("GET", "/api/sandbox/x"), attempts, "{value}");
        assert!(started.elapsed() < Duration::from_secs(2), "{value}");
    }
}

/// A server whose sandbox `sb-1` builds, with a build log that `log`
/// writes (after the answer's head) on the connection.
fn building_server(log: impl Fn(&mut fault_server::Conn) + Send + Sync + 'static) -> FaultServer {
    let log = std::sync::Arc::new(log);
    FaultServer::start(move |seen| {
        let url = format!("http://{}", seen.header("host").unwrap_or("127.0.0.1"));
        match (seen.method.as_str(), seen.path()) {
            ("POST", "/api/sandbox") => {
                Action::json(200, &common::sandbox_json("sb-1", "pending_build"))
            }
            ("GET", "/api/sandbox/sb-1") => {
                let state = if seen.nth == 0 {
                    "building_snapshot"
                } else {
                    "started"
                };
                Action::json(200, &common::sandbox_json("sb-1", state))
            }
            ("GET", "/api/sandbox/sb-1/build-logs-url") => Action::json(
                200,
                &json!({"url": format!("{url}/api/sandbox/sb-1/build-logs")}),
            ),
            ("GET", "/api/sandbox/sb-1/build-logs") => {
                let log = log.clone();
                Action::take(move |mut conn| {
                    let _ = conn.skip_head();
                    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\
                                Connection: close\r\n\r\n";
                    if std::io::Write::write_all(&mut conn, head.as_bytes()).is_ok() {
                        log(&mut conn);
                    }
                    conn.finish();
                })
            }
            _ => Action::status(404),
        }
    })
}

#[test]
fn a_build_log_line_without_end_comes_in_bounded_pieces() {
    alone(
        "a_build_log_line_without_end_comes_in_bounded_pieces",
        measured_a_build_log_line_without_end_comes_in_bounded_pieces,
    );
}

fn measured_a_build_log_line_without_end_comes_in_bounded_pieces() {
    // 16 MiB without a newline (`cat /dev/zero` in a build step), then a
    // last line.
    const LONG: usize = 16 << 20;
    let server = building_server(|conn| {
        let block = vec![b'0'; 64 * 1024];
        for _ in 0..LONG / block.len() {
            if std::io::Write::write_all(conn, &block).is_err() {
                return;
            }
        }
        let _ = std::io::Write::write_all(conn, b"\ndone\n");
    });
    let daytona = client(&server);
    let before = peak_kib();
    let (mut pieces, mut longest, mut total, mut last) = (0, 0, 0, String::new());
    let started = Instant::now();
    daytona
        .create_with_logs(daytona::CreateSandbox::new(), |line| {
            pieces += 1;
            longest = longest.max(line.len());
            total += line.len();
            last = line.to_string();
        })
        .unwrap();
    let took = started.elapsed();
    let grew = peak_kib().saturating_sub(before);
    assert_eq!(longest, 64 * 1024);
    assert_eq!(total, LONG + "done".len());
    assert_eq!(pieces, LONG / (64 * 1024) + 1);
    assert_eq!(last, "done");
    assert!(grew < 24 * 1024, "peak grew by {grew} KiB");
    eprintln!("16 MiB line: {pieces} pieces, peak +{grew} KiB in {took:?}");
}

#[test]
fn a_slow_build_log_callback_slows_the_reader_not_memory() {
    alone(
        "a_slow_build_log_callback_slows_the_reader_not_memory",
        measured_a_slow_build_log_callback_slows_the_reader_not_memory,
    );
}

fn measured_a_slow_build_log_callback_slows_the_reader_not_memory() {
    // 48 MiB of 16 KiB lines, sent as fast as the socket takes them, to a
    // callback that stops for a second at the first line.
    const LINE: usize = 16 * 1024;
    const LINES: usize = 3 * 1024;
    let server = building_server(|conn| {
        let mut line = vec![b'l'; LINE - 1];
        line.push(b'\n');
        for _ in 0..LINES {
            if std::io::Write::write_all(conn, &line).is_err() {
                return;
            }
        }
    });
    let daytona = client(&server);
    let before = peak_kib();
    let mut seen = 0;
    let mut peak_during_pause = 0;
    daytona
        .create_with_logs(daytona::CreateSandbox::new(), |line| {
            if seen == 0 {
                std::thread::sleep(Duration::from_secs(1));
                peak_during_pause = peak_kib().saturating_sub(before);
            }
            assert_eq!(line.len(), LINE - 1);
            seen += 1;
        })
        .unwrap();
    let grew = peak_kib().saturating_sub(before);
    assert_eq!(seen, LINES);
    // 128 lines ahead (2 MiB) and buffers, not the 48 MiB sent.
    assert!(peak_during_pause < 16 * 1024, "{peak_during_pause} KiB");
    assert!(grew < 24 * 1024, "peak grew by {grew} KiB");
    eprintln!("slow callback: peak +{peak_during_pause} KiB during the pause, +{grew} KiB in all");
}

#[cfg(feature = "websocket")]
#[test]
fn a_log_message_that_switches_streams_at_every_character_takes_bounded_memory() {
    alone(
        "a_log_message_that_switches_streams_at_every_character_takes_bounded_memory",
        measured_a_log_message_that_switches_streams_at_every_character_takes_bounded_memory,
    );
}

#[cfg(feature = "websocket")]
fn measured_a_log_message_that_switches_streams_at_every_character_takes_bounded_memory() {
    use std::io::Write;
    // The largest message of a followed log, 16 MiB, switching between
    // stdout and stderr at every character: 4 Mi chunks of one character
    // (the toolbox sends messages of at most 1 KiB).
    const SIZE: usize = 16 << 20;
    let (url, _) = ws_support::ws_server(|ws| {
        let block = b"\x01\x01\x01o\x02\x02\x02e".repeat(8 << 10);
        let mut head = vec![0x82, 127];
        head.extend((SIZE as u64).to_be_bytes());
        let stream = ws.get_mut();
        if stream.write_all(&head).is_err() {
            return;
        }
        for _ in 0..SIZE / block.len() {
            if stream.write_all(&block).is_err() {
                return;
            }
        }
        ws_support::close(ws, 1000, "");
    });
    let (_api, sandbox) = process_support::sandbox_for(&url);
    let before = peak_kib();
    let started = Instant::now();
    let (mut chunks, mut stderr) = (0, 0);
    sandbox
        .process()
        .follow_session_command_logs("s", "c", daytona::toolbox::FollowOptions::new(), |c| {
            chunks += 1;
            stderr += usize::from(c.is_stderr());
        })
        .unwrap();
    let took = started.elapsed();
    let grew = peak_kib().saturating_sub(before);
    assert_eq!((chunks, stderr), (SIZE / 4, SIZE / 8));
    // The message as read and as assembled (32 MiB), not a chunk for
    // each of its characters.
    assert!(grew < 48 * 1024, "peak grew by {grew} KiB");
    eprintln!("16 MiB of 1-character chunks: peak +{grew} KiB in {took:?}");
}
