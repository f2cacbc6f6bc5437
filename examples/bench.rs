//! The SDK's benchmark suite: what users of a blocking SDK feel, measured
//! against a local server on loopback (no network), printed as one table.
//!
//! ```text
//! cargo run --release --example bench                # everything (a few minutes)
//! cargo run --release --example bench -- --quick     # tiny sizes, seconds (CI)
//! cargo run --release --example bench -- --only per-call,waiting
//! ```
//!
//! Cases (`--only` takes their names):
//!
//! - `per-call`: 5,000 sequential `get(id)` on one client, median and p99
//!   per call, beside the same requests (same headers, body read) sent by
//!   raw ureq on one `Agent`, in alternating blocks. With `--otel` the
//!   client has `otel_enabled(true)` (with the feature `otel` and no tracer
//!   provider installed: the API's no-op one); the case's name says
//!   whether the feature is compiled in. Compare a build without the
//!   feature, one with it, and one with it and `--otel`.
//! - `cold-start`: a new process of this binary making a client and
//!   calling `get(id)` once, 20 times: the wall time from its start to its
//!   exit (median and slowest), and the part of it from `main` to the
//!   answer.
//! - `listing`: iterating 10,000 sandboxes at the largest page size
//!   (200): requests, time per item, and the peak memory of the process
//!   doing it, beside the same for 100,000 sandboxes.
//! - `waiting`: `create` of a sandbox that becomes `started` 0.2 s, 0.5 s,
//!   1 s, 3 s, 8 s or 20 s after the request: polls and the delay between
//!   the change and `create` returning, with the default schedule, the
//!   previous default and the official SDKs' schedule (100 ms for 5 s,
//!   then ×1.1 per poll up to 1 s), all at once; then the worst case over
//!   every change time up to 20 s, computed from each schedule.
//!   Then, computed from the schedules, the polls and the worst delay of
//!   waits of 1, 5 and 10 minutes (no jitter and the most jitter), and how
//!   many of 64 waits begun together poll within the same 100 ms.
//! - `events`: `create` of a sandbox that becomes `started` 0.5 s, 3 s,
//!   8 s or 20 s after the request, the server's notification gateway
//!   announcing the change: the delay between the change and `create`
//!   returning and the polls, with events (the default) and without
//!   (`DaytonaConfig::events(false)`), all at once.
//! - `failures`: a `get` answered with a whole body that does not decode,
//!   and one whose body is cut short, with the default retry policy:
//!   attempts and time to the error.
//! - `transfers`: 1 GiB upload and download, SDK against raw ureq,
//!   throughput and peak memory (best of 3).
//! - `parallel`: 64 threads sharing one client, each creating a sandbox
//!   (ready after 1 s), running one command and deleting it: wall time,
//!   requests per sandbox, TCP connections opened.
//! - `footprint`: crates in the library's normal dependency tree (default
//!   features, and none), and the clean `cargo build --release --lib` time
//!   of each (skipped with `--quick`).
//!
//! Listings and transfers run in child processes of this binary
//! (`--phase ...`), so that their peak resident memory (`VmHWM`) is theirs
//! alone. Nothing here asserts a time: a missed target is printed as such.
//! Wrong answers (a listing that skips items, a transfer that loses bytes,
//! a failed request) end the program with an error.

mod bench_support;
mod bench_waiting;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bench_support::{
    client, config_at, peak_rss_kib, run_child, run_command, sdk_headers, transfer, transfer_rows,
    write_source, Res, Server, MIB, READY_LABEL, SANDBOX,
};
use bench_waiting::{check_times, events, seen, waiting, Schedule};
use daytona::{CreateSandbox, Daytona, ListSandboxes, SandboxInfo};

const CASES: [&str; 9] = [
    "per-call",
    "cold-start",
    "listing",
    "waiting",
    "events",
    "failures",
    "transfers",
    "parallel",
    "footprint",
];

/// What the command line asked for.
struct Args {
    quick: bool,
    only: Vec<String>,
    /// `Some` in a child: what to measure.
    phase: Option<String>,
    port: u16,
    dir: PathBuf,
    size_mib: u64,
    host: String,
    calls: usize,
    /// When `main` began (for the cold start).
    started: Instant,
    /// Per call: tracing turned on in the client's configuration.
    otel: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        quick: false,
        only: CASES.iter().map(|c| c.to_string()).collect(),
        phase: None,
        port: 0,
        dir: PathBuf::new(),
        size_mib: 0,
        host: String::new(),
        calls: 0,
        started: Instant::now(),
        otel: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--quick" => args.quick = true,
            "--otel" => args.otel = true,
            "--only" => {
                args.only = value()?.split(',').map(str::to_string).collect();
                if let Some(bad) = args.only.iter().find(|c| !CASES.contains(&c.as_str())) {
                    return Err(format!("unknown case {bad:?}; cases: {}", CASES.join(",")));
                }
            }
            "--phase" => args.phase = Some(value()?),
            "--port" => args.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--dir" => args.dir = PathBuf::from(value()?),
            "--host" => args.host = value()?,
            "--calls" => args.calls = value()?.parse().map_err(|e| format!("--calls: {e}"))?,
            "--size-mib" => {
                args.size_mib = value()?.parse().map_err(|e| format!("--size-mib: {e}"))?
            }
            "-h" | "--help" => {
                return Err(format!(
                    "usage: bench [--quick] [--otel] [--only {}]",
                    CASES.join(",")
                ))
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = match &args.phase {
        Some(phase) => child(&args, phase),
        None => parent(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------
// The table.

/// One line of the table.
struct Row {
    case: String,
    figure: String,
    sdk: String,
    reference: String,
    target: String,
}

fn row(
    case: impl Into<String>,
    figure: impl Into<String>,
    sdk: impl Into<String>,
    reference: impl Into<String>,
    target: impl Into<String>,
) -> Row {
    Row {
        case: case.into(),
        figure: figure.into(),
        sdk: sdk.into(),
        reference: reference.into(),
        target: target.into(),
    }
}

/// `what` and whether it was met.
fn verdict(what: impl std::fmt::Display, met: bool) -> String {
    format!("{what}: {}", if met { "met" } else { "MISSED" })
}

fn print_table(rows: &[Row]) {
    let header = row("case", "figure", "SDK", "reference", "target");
    let all: Vec<&Row> = std::iter::once(&header).chain(rows).collect();
    let width = |f: fn(&Row) -> &str| all.iter().map(|r| f(r).chars().count()).max().unwrap_or(0);
    let w = [
        width(|r| &r.case),
        width(|r| &r.figure),
        width(|r| &r.sdk),
        width(|r| &r.reference),
    ];
    let mut last_case = "";
    for (i, r) in all.iter().enumerate() {
        // A case's name once, on its first line.
        let case = if r.case == last_case { "" } else { &r.case };
        last_case = &r.case;
        println!(
            "| {:<w0$} | {:<w1$} | {:<w2$} | {:<w3$} | {} |",
            case,
            r.figure,
            r.sdk,
            r.reference,
            r.target,
            w0 = w[0],
            w1 = w[1],
            w2 = w[2],
            w3 = w[3],
        );
        if i == 0 {
            println!(
                "|{}|{}|{}|{}|---|",
                "-".repeat(w[0] + 2),
                "-".repeat(w[1] + 2),
                "-".repeat(w[2] + 2),
                "-".repeat(w[3] + 2)
            );
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1e3)
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

// ---------------------------------------------------------------------------
// The parent: server, cases, table.

fn parent(args: &Args) -> Res<()> {
    let dir = std::env::temp_dir().join(format!("daytona-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run_all(args, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run_all(args: &Args, dir: &Path) -> Res<()> {
    let server = Server::start()?;
    let load_before = load_average();
    let on = |case: &str| args.only.iter().any(|c| c == case);
    let mut rows = Vec::new();
    if on("per-call") {
        eprintln!("per-call ...");
        let calls = if args.quick { 500 } else { 5_000 };
        rows.extend(per_call("127.0.0.1", calls, args.otel)?);
        rows.extend(per_call("localhost", calls, args.otel)?);
    }
    if on("cold-start") {
        eprintln!("cold start ...");
        rows.extend(cold_start(&server, if args.quick { 3 } else { 20 })?);
    }
    if on("listing") {
        eprintln!("listing ...");
        let totals = if args.quick {
            [1_000, 4_000]
        } else {
            [10_000, 100_000]
        };
        rows.extend(listing(&server, totals)?);
    }
    if on("waiting") {
        eprintln!("waiting ...");
        let cases: &[u64] = if args.quick {
            &[200, 500]
        } else {
            &[200, 500, 1_000, 3_000, 8_000, 20_000]
        };
        rows.extend(waiting(&server, cases)?);
    }
    if on("events") {
        eprintln!("events ...");
        let cases: &[u64] = if args.quick {
            &[500]
        } else {
            &[500, 3_000, 8_000, 20_000]
        };
        rows.extend(events(&server, cases)?);
    }
    if on("failures") {
        eprintln!("failures ...");
        rows.extend(failures(&server)?);
    }
    if on("transfers") {
        eprintln!("transfers ...");
        let (size_mib, repeat) = if args.quick { (4, 1) } else { (1024, 3) };
        rows.extend(transfers(&server, dir, size_mib, repeat)?);
    }
    if on("parallel") {
        eprintln!("parallel creates ...");
        rows.extend(parallel(&server, if args.quick { 8 } else { 64 })?);
    }
    if on("footprint") {
        eprintln!("footprint ...");
        rows.extend(footprint(!args.quick));
    }
    println!();
    println!(
        "{}; load average {load_before} before, {} after",
        machine(),
        load_average()
    );
    println!();
    print_table(&rows);
    Ok(())
}

/// Date, CPU, cores, compiler.
fn machine() -> String {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i64;
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let rustc = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!("{year:04}-{month:02}-{day:02}, {cpu}, {cores} cores, {rustc}, loopback")
}

/// The 1-minute load average: other work on the machine moves the figures.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

// ---------------------------------------------------------------------------
// Per-call overhead.

/// `calls` sequential `get(id)` to `host` (see [`per_call_child`]), in a
/// child process pinned to one CPU with its own server.
///
/// Pinned, because on a small virtual machine a request's latency depends
/// on where the scheduler puts the server's thread: beside the client's
/// (a wake-up on the same CPU) or on the other, idle, CPU (an
/// inter-processor wake-up, 50 µs more here). That placement sticks to a
/// connection, and each client has its own, so unpinned runs compare
/// placements rather than clients. On one CPU every call pays the same
/// switches, and the difference between clients is their own work.
fn per_call(host: &str, calls: usize, otel: bool) -> Res<Vec<Row>> {
    let exe = std::env::current_exe()?.display().to_string();
    let mut args: Vec<String> = [
        "--phase",
        "per-call",
        "--host",
        host,
        "--calls",
        &calls.to_string(),
    ]
    .map(String::from)
    .to_vec();
    if otel {
        args.push("--otel".into());
    }
    let cpu = std::thread::available_parallelism().map_or(0, |n| n.get() - 1);
    let pinned = Command::new("taskset")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let fields = if pinned {
        let mut full = vec!["-c".to_string(), cpu.to_string(), exe];
        full.append(&mut args);
        run_command("taskset", &full)?
    } else {
        run_child(&args)?
    };
    let [s50, r50, d50, s99, r99, d99] = fields[..] else {
        return Err(format!("per-call: bad result {fields:?}").into());
    };
    let us = |ns: f64| format!("{:.1} µs", ns / 1e3);
    let ratio = s50 / r50;
    let tracing = match (cfg!(feature = "otel"), otel) {
        (false, _) => "",
        (true, false) => ", feature otel, tracing off",
        (true, true) => ", feature otel, tracing on (no-op provider)",
    };
    let case = format!(
        "per call: get(id) to {host}, {calls} sequential{}{tracing}",
        if pinned { "" } else { " (unpinned)" }
    );
    Ok(vec![
        row(
            &case,
            "median",
            us(s50),
            format!("raw ureq {} (decoded too: {})", us(r50), us(d50)),
            verdict(format!("≤ 1.15× raw ({ratio:.3}×)"), ratio <= 1.15),
        ),
        row(
            &case,
            "p99",
            us(s99),
            format!("raw ureq {} (decoded too: {})", us(r99), us(d99)),
            format!("({:.2}×)", s99 / r99),
        ),
    ])
}

/// In a child: the same `get` through the SDK, through raw ureq on one
/// `Agent` (same URL and headers, body read), and through raw ureq with the
/// answer decoded as the SDK does, in alternating blocks. Returns the
/// medians and the p99s, in nanoseconds.
fn per_call_child(host: &str, calls: usize, otel: bool) -> Res<[f64; 6]> {
    let server = Server::start()?;
    let daytona = Daytona::new(config_at(host, server.port).otel_enabled(otel))?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("http://{host}:{}/api/sandbox/{SANDBOX}", server.port);
    let headers = sdk_headers();
    let sdk = || -> Res<()> {
        let sandbox = daytona.get(SANDBOX)?;
        std::hint::black_box(sandbox);
        Ok(())
    };
    let raw_body = || -> Res<Vec<u8>> {
        let mut req = agent.get(&url);
        for (name, value) in &headers {
            req = req.header(*name, value);
        }
        let resp = req.call()?;
        if !resp.status().is_success() {
            return Err(format!("raw get: {}", resp.status()).into());
        }
        Ok(resp.into_body().read_to_vec()?)
    };
    let raw = || -> Res<()> {
        std::hint::black_box(raw_body()?);
        Ok(())
    };
    // What is left of the SDK's overhead once the typed decoding is
    // counted on both sides.
    let raw_decoded = || -> Res<()> {
        let body = raw_body()?;
        std::hint::black_box(serde_json::from_slice::<SandboxInfo>(&body)?);
        Ok(())
    };
    let clients: [&dyn Fn() -> Res<()>; 3] = [&sdk, &raw, &raw_decoded];
    for client in clients {
        for _ in 0..200 {
            client()?;
        }
    }
    let mut times: [Vec<Duration>; 3] = Default::default();
    // Alternating blocks: a busy moment of the machine hits all three.
    const BLOCK: usize = 50;
    while times[0].len() < calls {
        let n = BLOCK.min(calls - times[0].len());
        for (slot, client) in clients.into_iter().enumerate() {
            for _ in 0..n {
                let started = Instant::now();
                client()?;
                times[slot].push(started.elapsed());
            }
        }
    }
    let stat = |v: &mut Vec<Duration>, q: f64| {
        v.sort();
        v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1].as_nanos() as f64
    };
    let [mut s, mut r, mut d] = times;
    Ok([
        stat(&mut s, 0.5),
        stat(&mut r, 0.5),
        stat(&mut d, 0.5),
        stat(&mut s, 0.99),
        stat(&mut r, 0.99),
        stat(&mut d, 0.99),
    ])
}

// ---------------------------------------------------------------------------
// Cold start.

/// `runs` new processes, each making a client and calling `get(id)` once
/// (see [`cold_child`]): the wall time from spawning one to its exit, and
/// the time from its `main` to the answer.
fn cold_start(server: &Server, runs: usize) -> Res<Vec<Row>> {
    let args: Vec<String> = ["--phase", "cold", "--port", &server.port.to_string()]
        .map(String::from)
        .to_vec();
    let mut walls = Vec::with_capacity(runs);
    let mut inside = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let fields = run_child(&args)?;
        walls.push(started.elapsed());
        let [ns] = fields[..] else {
            return Err(format!("cold start: bad result {fields:?}").into());
        };
        inside.push(Duration::from_nanos(ns as u64));
    }
    walls.sort();
    inside.sort();
    let (wall, slowest) = (walls[runs / 2], walls[runs - 1]);
    let case = format!("cold start: new process, client, get(id), {runs} runs");
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
    Ok(vec![row(
        &case,
        "median (slowest), start to exit",
        format!("{} ({})", ms(wall), ms(slowest)),
        format!("of which main to answer: {}", us(inside[runs / 2])),
        verdict("< 10 ms", wall < Duration::from_millis(10)),
    )])
}

/// In a child: a client from nothing and one `get`; the nanoseconds from
/// `main` to the answer.
fn cold_child(port: u16, started: Instant) -> Res<u128> {
    let sandbox = client(port)?.get(SANDBOX)?;
    if sandbox.id() != SANDBOX {
        return Err(format!("cold start: got {}", sandbox.id()).into());
    }
    Ok(started.elapsed().as_nanos())
}

// ---------------------------------------------------------------------------
// Listing.

fn listing(server: &Server, totals: [u64; 2]) -> Res<Vec<Row>> {
    let mut measured = Vec::new();
    for total in totals {
        server.set_list_total(total);
        let before = server.requests();
        let fields = run_child(&[
            "--phase".into(),
            "list".into(),
            "--port".into(),
            server.port.to_string(),
        ])?;
        let requests = server.requests() - before;
        let [items, seconds, rss] = fields[..] else {
            return Err(format!("list: bad result {fields:?}").into());
        };
        if items as u64 != total {
            return Err(format!("listing {total} sandboxes gave {items}").into());
        }
        measured.push((total, requests, seconds, rss as u64));
    }
    let (total, requests, seconds, rss) = measured[0];
    let (big, big_requests, big_seconds, big_rss) = measured[1];
    let pages = total.div_ceil(200);
    let case = format!("listing {total} sandboxes, limit 200");
    // Independent of the count: ten times the items, within 1 MiB.
    let flat = big_rss.abs_diff(rss) <= 1024;
    Ok(vec![
        row(
            &case,
            "requests",
            requests.to_string(),
            format!("{big}: {big_requests}"),
            verdict(format!("{pages}"), requests == pages),
        ),
        row(
            &case,
            "time per item",
            us(Duration::from_secs_f64(seconds / total as f64)),
            format!(
                "{big}: {}",
                us(Duration::from_secs_f64(big_seconds / big as f64))
            ),
            "",
        ),
        row(
            &case,
            "peak RSS of the process",
            mib(rss),
            format!("{big}: {}", mib(big_rss)),
            verdict("independent of the count", flat),
        ),
    ])
}

/// In a child: iterate the whole listing.
fn list_child(port: u16) -> Res<(u64, f64)> {
    let daytona = client(port)?;
    let started = Instant::now();
    let mut items = 0u64;
    for sandbox in daytona.list(ListSandboxes::new().limit(200)) {
        std::hint::black_box(sandbox?);
        items += 1;
    }
    Ok((items, started.elapsed().as_secs_f64()))
}

// ---------------------------------------------------------------------------
// Failures.

/// A `get` whose answer is whole but does not decode, and one whose body is
/// cut short, with the default retry policy: attempts and time to the
/// error. The first is not retried (the same answer would come again); the
/// second is.
fn failures(server: &Server) -> Res<Vec<Row>> {
    let daytona = client(server.port)?;
    let measure = |id: &str| -> Res<(u64, Duration)> {
        let before = server.requests();
        let started = Instant::now();
        if daytona.get(id).is_ok() {
            return Err(format!("get {id} succeeded").into());
        }
        Ok((server.requests() - before, started.elapsed()))
    };
    let (attempts, took) = measure("undecodable")?;
    let (cut_attempts, cut_took) = measure("cut-short")?;
    Ok(vec![row(
        "failure: get answered 200 with a whole body that does not decode",
        "attempts, time to the error",
        format!("{attempts}, {}", ms(took)),
        format!("body cut short (retried): {cut_attempts}, {}", ms(cut_took)),
        verdict("1 attempt", attempts == 1),
    )])
}

// ---------------------------------------------------------------------------
// Transfers.

fn transfers(server: &Server, dir: &Path, size_mib: u64, repeat: u32) -> Res<Vec<Row>> {
    let size = size_mib * MIB;
    eprintln!("writing a {size_mib} MiB source file in {}", dir.display());
    write_source(&dir.join("source.bin"), size)?;
    let child_args = [
        "--port".to_string(),
        server.port.to_string(),
        "--size-mib".into(),
        size_mib.to_string(),
        "--dir".into(),
        dir.display().to_string(),
    ];
    let measured = transfer_rows(server, dir, size, repeat, &child_args);
    let _ = std::fs::remove_file(dir.join("source.bin"));
    let mut rows = Vec::new();
    for (direction, sdk, raw) in measured? {
        let case = format!("{direction} of {size_mib} MiB (best of {repeat})");
        let ratio = sdk.mib_per_s() / raw.mib_per_s();
        rows.push(row(
            &case,
            "throughput",
            format!("{:.0} MiB/s", sdk.mib_per_s()),
            format!("raw ureq {:.0} MiB/s", raw.mib_per_s()),
            format!("({:.0} % of raw)", ratio * 100.0),
        ));
        rows.push(row(
            &case,
            "peak RSS of the process",
            mib(sdk.peak_rss_kib),
            format!("raw ureq {}", mib(raw.peak_rss_kib)),
            verdict("< 32 MiB", sdk.peak_rss_kib < 32 * 1024),
        ));
    }
    Ok(rows)
}

// ---------------------------------------------------------------------------
// Parallel creates.

fn parallel(server: &Server, threads: usize) -> Res<Vec<Row>> {
    // A client of its own: its connection pool starts empty.
    let daytona = client(server.port)?;
    let (requests, connections) = (server.requests(), server.connections());
    let barrier = Arc::new(Barrier::new(threads));
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let daytona = daytona.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || -> Res<()> {
                barrier.wait();
                let mut sandbox =
                    daytona.create(CreateSandbox::new().label(READY_LABEL, "1000"))?;
                let out = sandbox.process().exec("echo hi")?;
                if out.exit_code != 0 {
                    return Err(format!("exit code {}", out.exit_code).into());
                }
                sandbox.delete()?;
                Ok(())
            })
        })
        .collect();
    for h in handles {
        h.join().map_err(|_| "a thread panicked")??;
    }
    let wall = started.elapsed();
    let requests = server.requests() - requests;
    let connections = server.connections() - connections;
    let case = format!("{threads} threads, one client: create (ready after 1 s), exec, delete");
    // The same work polled on the official schedule: create, its polls,
    // exec, delete.
    let official = 3 + seen(
        &check_times(Schedule::Official, Duration::from_secs(3)),
        Duration::from_secs(1),
    )
    .0;
    Ok(vec![
        row(&case, "wall time", ms(wall), "floor 1000 ms", ""),
        row(
            &case,
            "requests per sandbox",
            format!("{:.1}", requests as f64 / threads as f64),
            format!("official schedule {official}"),
            "",
        ),
        row(
            &case,
            "TCP connections opened",
            connections.to_string(),
            format!("{threads} threads"),
            "",
        ),
    ])
}

// ---------------------------------------------------------------------------
// Footprint.

fn footprint(build: bool) -> Vec<Row> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let crates = |extra: &[&str]| -> Res<usize> {
        let out = Command::new(&cargo)
            .args([
                "tree",
                "-e",
                "normal",
                "--prefix",
                "none",
                "--manifest-path",
                manifest,
            ])
            .args(extra)
            .output()?;
        if !out.status.success() {
            return Err(format!("cargo tree: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        let names: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.replace(" (*)", ""))
            .filter(|l| !l.trim().is_empty())
            .collect();
        Ok(names.len())
    };
    // Wall time and CPU time (which other work on the machine moves less).
    let build_time = |extra: &[&str]| -> Res<(Duration, Duration)> {
        let target = std::env::temp_dir().join(format!(
            "daytona-bench-build-{}-{}",
            std::process::id(),
            extra.len()
        ));
        let started = Instant::now();
        let cpu_before = children_cpu();
        let status = Command::new(&cargo)
            .args(["build", "--release", "--lib", "--manifest-path", manifest])
            .args(extra)
            .env("CARGO_TARGET_DIR", &target)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let took = started.elapsed();
        let cpu = children_cpu().saturating_sub(cpu_before);
        let _ = std::fs::remove_dir_all(&target);
        if !status?.success() {
            return Err("cargo build --release --lib failed".into());
        }
        Ok((took, cpu))
    };
    let mut rows = Vec::new();
    for (name, extra) in [
        ("default features", &[][..]),
        ("no default features", &["--no-default-features"][..]),
    ] {
        // Reported, not fatal: the rest of the table is still worth having.
        let case = format!("footprint, {name}");
        let (count, target) = match crates(extra) {
            Ok(n) if extra.is_empty() => (n.to_string(), verdict("≤ 80 crates", n <= 80)),
            Ok(n) => (n.to_string(), String::new()),
            Err(e) => (format!("n/a ({e})"), String::new()),
        };
        rows.push(row(&case, "crates in the normal tree", count, "", target));
        if build {
            eprintln!("clean release build of the library, {name} ...");
            let took = match build_time(extra) {
                Ok((wall, cpu)) => format!(
                    "{:.0} s ({:.0} s of CPU)",
                    wall.as_secs_f64(),
                    cpu.as_secs_f64()
                ),
                Err(e) => format!("n/a ({e})"),
            };
            rows.push(row(
                &case,
                "clean cargo build --release --lib",
                took,
                "",
                "",
            ));
        }
    }
    rows
}

/// CPU time of this process's finished children (`cutime` + `cstime` of
/// `/proc/self/stat`); zero where that is not available.
fn children_cpu() -> Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            // The fields after the command name, which may hold spaces.
            let rest = stat.rsplit_once(") ")?.1.to_string();
            let fields: Vec<u64> = rest
                .split_whitespace()
                .skip(13)
                .take(2)
                .filter_map(|f| f.parse().ok())
                .collect();
            Some(fields.iter().sum::<u64>())
        })
        .unwrap_or(0);
    let per_second = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<u64>()
                .ok()
        })
        .unwrap_or(100)
        .max(1);
    Duration::from_secs_f64(ticks as f64 / per_second as f64)
}

// ---------------------------------------------------------------------------
// The children.

fn child(args: &Args, phase: &str) -> Res<()> {
    if phase == "cold" {
        println!("RESULT {}", cold_child(args.port, args.started)?);
        return Ok(());
    }
    if phase == "per-call" {
        let figures = per_call_child(&args.host, args.calls, args.otel)?;
        println!("RESULT {}", figures.map(|f| f.to_string()).join(" "));
        return Ok(());
    }
    let (amount, seconds) = match phase {
        "list" => {
            let (items, seconds) = list_child(args.port)?;
            (items, seconds)
        }
        transfer_phase => transfer(transfer_phase, args.port, &args.dir, args.size_mib * MIB)?,
    };
    println!("RESULT {amount} {seconds} {}", peak_rss_kib()?);
    Ok(())
}
