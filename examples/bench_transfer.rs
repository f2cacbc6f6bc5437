//! Throughput and peak memory of file transfers through the SDK, against
//! the same bytes sent with plain ureq on one agent. (`examples/bench.rs`
//! runs the same measurement among its other cases.)
//!
//! ```text
//! cargo run --release --example bench_transfer -- [--size-mib N] [--repeat R]
//! ```
//!
//! `N` defaults to 1024 MiB; each transfer runs `R` times (default 3),
//! SDK and raw in turn (alternating which goes first), and the best run
//! counts (the machine may be busy).
//!
//! The program starts a small HTTP/1.1 server on 127.0.0.1 that plays the
//! Daytona API (`GET /api/sandbox/<id>`) and the toolbox's `bulk-download`
//! (a multipart answer of N MiB generated on the fly), and a receiver of
//! uploads: a hyper server that parses each multipart body with multer (an
//! independent parser) and checks that the file arrived whole, with a
//! `Content-Length` equal to the body when there is one.
//!
//! Rows:
//! - `upload`: the SDK's `upload_file` (the size is known: a
//!   `Content-Length`) against raw ureq posting the same multipart bytes
//!   with a `Content-Length`;
//! - `upload, chunked`: the same file given to the SDK as a reader of
//!   unknown size (chunked) against raw ureq posting the same bytes chunked;
//! - `download`: `download_file` against raw ureq reading the answer.
//!
//! The `framing` column says how the receiver saw each upload's body
//! (SDK / raw). Each measured transfer runs in a child process of this same
//! binary (`--phase ...`), so that its peak resident memory (`VmHWM` of
//! `/proc/self/status`) belongs to that transfer alone. Timings are
//! printed, never asserted.

mod bench_support;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bench_support::{peak_rss_kib, transfer, transfer_rows, write_source, Res, Server, MIB};

/// What the command line asked for.
struct Args {
    size_mib: u64,
    repeat: u32,
    /// `Some` in a child: which transfer to measure.
    phase: Option<String>,
    port: u16,
    dir: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        size_mib: 1024,
        repeat: 3,
        phase: None,
        port: 0,
        dir: PathBuf::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--size-mib" => {
                args.size_mib = value()?.parse().map_err(|e| format!("--size-mib: {e}"))?
            }
            "--repeat" => args.repeat = value()?.parse().map_err(|e| format!("--repeat: {e}"))?,
            "--phase" => args.phase = Some(value()?),
            "--port" => args.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--dir" => args.dir = PathBuf::from(value()?),
            "-h" | "--help" => {
                return Err(
                    "usage: bench_transfer [--size-mib N (default 1024)] [--repeat R (default 3)]"
                        .into(),
                )
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if args.size_mib == 0 || args.repeat == 0 {
        return Err("--size-mib and --repeat must be at least 1".into());
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

fn parent(args: &Args) -> Res<()> {
    let dir = std::env::temp_dir().join(format!("daytona-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run_all(args, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run_all(args: &Args, dir: &Path) -> Res<()> {
    let size = args.size_mib * MIB;
    eprintln!(
        "writing a {} MiB source file in {}",
        args.size_mib,
        dir.display()
    );
    write_source(&dir.join("source.bin"), size)?;
    let server = Server::start()?;
    let child_args = [
        "--port".to_string(),
        server.port.to_string(),
        "--size-mib".into(),
        args.size_mib.to_string(),
        "--dir".into(),
        dir.display().to_string(),
    ];
    let rows = transfer_rows(&server, dir, size, args.repeat, &child_args)?;

    println!();
    println!(
        "{} MiB over loopback, best of {} runs; peak RSS = highest VmHWM of the \
         process doing the transfer",
        args.size_mib, args.repeat
    );
    println!(
        "{:<16} {:<17} {:>9} {:>14} {:>7} {:>14} {:>14}",
        "transfer",
        "framing",
        "SDK MiB/s",
        "raw ureq MiB/s",
        "ratio",
        "SDK peak RSS",
        "raw peak RSS"
    );
    for (direction, sdk, raw) in rows {
        println!(
            "{:<16} {:<17} {:>9.0} {:>14.0} {:>6.0}% {:>10.1} MiB {:>10.1} MiB",
            direction,
            format!("{} / {}", sdk.framing, raw.framing),
            sdk.mib_per_s(),
            raw.mib_per_s(),
            100.0 * sdk.mib_per_s() / raw.mib_per_s(),
            sdk.peak_rss_kib as f64 / 1024.0,
            raw.peak_rss_kib as f64 / 1024.0,
        );
    }
    Ok(())
}

/// One transfer, in a child.
fn child(args: &Args, phase: &str) -> Res<()> {
    let (bytes, seconds) = transfer(phase, args.port, &args.dir, args.size_mib * MIB)?;
    println!("RESULT {bytes} {seconds} {}", peak_rss_kib()?);
    Ok(())
}
