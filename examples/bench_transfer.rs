//! Throughput and peak memory of file transfers through the SDK, against
//! the same bytes sent with plain ureq on one agent.
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
//! Daytona API (`GET /api/sandbox/<id>`) and the toolbox (`bulk-upload`
//! reads and counts a chunked body; `bulk-download` answers a multipart body
//! of N MiB generated on the fly). Each measured transfer runs in a child
//! process of this same binary (`--phase ...`), so that its peak resident
//! memory (`VmHWM` of `/proc/self/status`) belongs to that transfer alone.
//! Timings are printed, never asserted.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use daytona::{Daytona, DaytonaConfig};

const MIB: u64 = 1024 * 1024;
const SANDBOX: &str = "bench";
const BOUNDARY: &str = "DAYTONA-FILE-BOUNDARY";
const REMOTE: &str = "/home/daytona/bench.bin";
/// Chunk size of the server's answers and of the raw client's copy loop.
const CHUNK: usize = 256 * 1024;

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

type Res<T> = Result<T, Box<dyn std::error::Error>>;

// ---------------------------------------------------------------------------
// The parent: data, server, children, table.

/// One measured transfer, as a child reports it.
struct Measure {
    bytes: u64,
    seconds: f64,
    peak_rss_kib: u64,
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

    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let received = Arc::new(AtomicU64::new(0));
    let server = Server {
        port,
        size,
        received: received.clone(),
    };
    std::thread::spawn(move || server.run(listener));

    let mut rows = Vec::new();
    for direction in ["upload", "download"] {
        let mut best: [Option<Measure>; 2] = [None, None];
        for run in 0..args.repeat {
            // Alternate who goes first: the page cache and the disk's
            // write-back favour neither.
            let order = if run % 2 == 0 { [0, 1] } else { [1, 0] };
            for slot in order {
                let client = ["sdk", "raw"][slot];
                let phase = format!("{client}-{direction}");
                received.store(0, Ordering::SeqCst);
                let m = run_child(args, &phase, port, dir)?;
                if direction == "upload" {
                    let got = received.load(Ordering::SeqCst);
                    if got < size || got > size + 64 * 1024 {
                        return Err(format!("{phase}: the server received {got} bytes").into());
                    }
                }
                if m.bytes != size {
                    return Err(format!("{phase}: moved {} bytes, not {size}", m.bytes).into());
                }
                let _ = std::fs::remove_file(dir.join(format!("{phase}.bin")));
                best[slot] = Some(match best[slot].take() {
                    None => m,
                    Some(b) => Measure {
                        bytes: b.bytes,
                        seconds: b.seconds.min(m.seconds),
                        peak_rss_kib: b.peak_rss_kib.max(m.peak_rss_kib),
                    },
                });
            }
        }
        let [Some(sdk), Some(raw)] = best else {
            return Err("no measurement".into());
        };
        rows.push((direction, sdk, raw));
    }

    println!();
    println!(
        "{} MiB over loopback, best of {} runs; peak RSS = highest VmHWM of the \
         process doing the transfer",
        args.size_mib, args.repeat
    );
    println!(
        "{:<9} {:>11} {:>14} {:>7} {:>14} {:>14}",
        "direction", "SDK MiB/s", "raw ureq MiB/s", "ratio", "SDK peak RSS", "raw peak RSS"
    );
    for (direction, sdk, raw) in rows {
        let rate = |m: &Measure| m.bytes as f64 / MIB as f64 / m.seconds;
        println!(
            "{:<9} {:>11.0} {:>14.0} {:>6.0}% {:>10.1} MiB {:>10.1} MiB",
            direction,
            rate(&sdk),
            rate(&raw),
            100.0 * rate(&sdk) / rate(&raw),
            sdk.peak_rss_kib as f64 / 1024.0,
            raw.peak_rss_kib as f64 / 1024.0,
        );
    }
    Ok(())
}

/// `size` bytes that do not compress to nothing, written 1 MiB at a time.
fn write_source(path: &Path, size: u64) -> Res<()> {
    let mut block = vec![0u8; MIB as usize];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for b in block.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let mut file = std::fs::File::create(path)?;
    let mut left = size;
    while left > 0 {
        let n = left.min(MIB);
        file.write_all(&block[..n as usize])?;
        block[0] = block[0].wrapping_add(1);
        left -= n;
    }
    Ok(())
}

fn run_child(args: &Args, phase: &str, port: u16, dir: &Path) -> Res<Measure> {
    let out = Command::new(std::env::current_exe()?)
        .args(["--phase", phase, "--port", &port.to_string()])
        .args(["--size-mib", &args.size_mib.to_string()])
        .arg("--dir")
        .arg(dir)
        .output()?;
    io::stderr().write_all(&out.stderr)?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("{phase} failed: {stdout}").into());
    }
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .ok_or_else(|| format!("{phase}: no result in {stdout:?}"))?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    let [bytes, seconds, rss] = fields[..] else {
        return Err(format!("{phase}: bad result {line:?}").into());
    };
    Ok(Measure {
        bytes: bytes.parse()?,
        seconds: seconds.parse()?,
        peak_rss_kib: rss.parse()?,
    })
}

// ---------------------------------------------------------------------------
// The children: one transfer each.

fn child(args: &Args, phase: &str) -> Res<()> {
    let base = format!("http://127.0.0.1:{}", args.port);
    let source = args.dir.join("source.bin");
    let target = args.dir.join(format!("{phase}.bin"));
    let started;
    let bytes = match phase {
        "sdk-upload" | "sdk-download" => {
            let daytona = Daytona::new(
                DaytonaConfig::new()
                    .read_env(false)
                    .api_key("bench-key")
                    .api_url(format!("{base}/api")),
            )?;
            let sandbox = daytona.get(SANDBOX)?;
            let fs = sandbox.fs();
            started = Instant::now();
            if phase == "sdk-upload" {
                fs.upload_file(&source, REMOTE)?;
                std::fs::metadata(&source)?.len()
            } else {
                fs.download_file(REMOTE, &target)?
            }
        }
        "raw-upload" | "raw-download" => {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into();
            let url = format!("{base}/toolbox/{SANDBOX}/files");
            started = Instant::now();
            if phase == "raw-upload" {
                let mut file = std::fs::File::open(&source)?;
                let resp = agent
                    .post(format!("{url}/bulk-upload"))
                    .header("Content-Type", "application/octet-stream")
                    .send(ureq::SendBody::from_reader(&mut file))?;
                if !resp.status().is_success() {
                    return Err(format!("raw upload: {}", resp.status()).into());
                }
                // Read the answer, as the SDK does.
                resp.into_body().read_to_vec()?;
                std::fs::metadata(&source)?.len()
            } else {
                let resp = agent
                    .post(format!("{url}/bulk-download"))
                    .header("Content-Type", "application/json")
                    .send(format!(r#"{{"paths":["{REMOTE}"]}}"#).as_bytes())?;
                let mut reader = resp.into_body().into_reader();
                let mut file = std::fs::File::create(&target)?;
                let mut buf = vec![0u8; CHUNK];
                let mut total = 0u64;
                loop {
                    let n = reader.read(&mut buf)?;
                    if n == 0 {
                        break;
                    }
                    file.write_all(&buf[..n])?;
                    total += n as u64;
                }
                // The raw copy keeps the multipart framing: count the file only.
                total.min(args.size_mib * MIB)
            }
        }
        other => return Err(format!("unknown phase {other:?}").into()),
    };
    let seconds = started.elapsed().as_secs_f64();
    println!("RESULT {bytes} {seconds} {}", peak_rss_kib()?);
    Ok(())
}

/// `VmHWM` of this process, in KiB.
fn peak_rss_kib() -> Res<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .ok_or("no VmHWM in /proc/self/status")?;
    Ok(line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?)
}

// ---------------------------------------------------------------------------
// The server: just enough HTTP/1.1 (keep-alive, Content-Length and chunked
// request bodies, chunked answers).

struct Server {
    port: u16,
    size: u64,
    /// Body bytes of the last upload.
    received: Arc<AtomicU64>,
}

impl Server {
    fn run(self, listener: TcpListener) {
        let server = Arc::new(self);
        for stream in listener.incoming().flatten() {
            let server = server.clone();
            std::thread::spawn(move || {
                if let Err(e) = server.serve(stream) {
                    if !matches!(
                        e.kind(),
                        io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset
                    ) {
                        eprintln!("server: {e}");
                    }
                }
            });
        }
    }

    fn serve(&self, stream: TcpStream) -> io::Result<()> {
        stream.set_nodelay(true)?;
        let mut reader = BufReader::with_capacity(CHUNK, stream.try_clone()?);
        let mut out = stream;
        loop {
            let Some((line, headers)) = read_head(&mut reader)? else {
                return Ok(());
            };
            let body = read_body(&mut reader, &headers)?;
            let path = line.split_whitespace().nth(1).unwrap_or("");
            if line.starts_with("GET ") && path == format!("/api/sandbox/{SANDBOX}") {
                let json = sandbox_json(self.port);
                write!(
                    out,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{json}",
                    json.len()
                )?;
            } else if path.ends_with("/files/bulk-upload") {
                self.received.store(body, Ordering::SeqCst);
                let json = r#"{"files":[]}"#;
                write!(
                    out,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{json}",
                    json.len()
                )?;
            } else if path.ends_with("/files/bulk-download") {
                self.send_multipart(&mut out)?;
            } else {
                out.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")?;
            }
            out.flush()?;
        }
    }

    /// A chunked multipart answer with one file part of `size` bytes.
    fn send_multipart(&self, out: &mut TcpStream) -> io::Result<()> {
        write!(
            out,
            "HTTP/1.1 200 OK\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n\
             Transfer-Encoding: chunked\r\n\r\n"
        )?;
        let head = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{REMOTE}\"\r\n\
             Content-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
            self.size
        );
        write_chunk(out, head.as_bytes())?;
        let block: Vec<u8> = (0..CHUNK).map(|i| (i % 251) as u8).collect();
        let mut left = self.size;
        while left > 0 {
            let n = left.min(CHUNK as u64) as usize;
            write_chunk(out, &block[..n])?;
            left -= n as u64;
        }
        write_chunk(out, format!("\r\n--{BOUNDARY}--\r\n").as_bytes())?;
        out.write_all(b"0\r\n\r\n")
    }
}

fn write_chunk(out: &mut TcpStream, data: &[u8]) -> io::Result<()> {
    let head = format!("{:x}\r\n", data.len());
    let parts = [
        io::IoSlice::new(head.as_bytes()),
        io::IoSlice::new(data),
        io::IoSlice::new(b"\r\n"),
    ];
    let mut written = out.write_vectored(&parts)?;
    let total = head.len() + data.len() + 2;
    // Finish a short vectored write the simple way.
    let mut all = None;
    while written < total {
        let bytes = all.get_or_insert_with(|| [head.as_bytes(), data, b"\r\n"].concat());
        written += out.write(&bytes[written..])?;
    }
    Ok(())
}

/// Lower-cased header names and their values.
type Headers = Vec<(String, String)>;

/// The request line and headers; `None` when the peer closed.
fn read_head(reader: &mut impl BufRead) -> io::Result<Option<(String, Headers)>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let h = h.trim_end();
        if h.is_empty() {
            return Ok(Some((line.trim_end().to_string(), headers)));
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
}

/// Reads and drops a request body; returns its length.
fn read_body(reader: &mut BufReader<TcpStream>, headers: &[(String, String)]) -> io::Result<u64> {
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        let mut total = 0;
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = u64::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            if size == 0 {
                // No trailers are sent: just the final CRLF.
                let mut end = String::new();
                reader.read_line(&mut end)?;
                return Ok(total);
            }
            total += io::copy(&mut reader.by_ref().take(size), &mut io::sink())?;
            let mut crlf = [0u8; 2];
            reader.read_exact(&mut crlf)?;
        }
    }
    let length: u64 = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    io::copy(&mut reader.by_ref().take(length), &mut io::sink())
}

/// A sandbox whose toolbox is this server.
fn sandbox_json(port: u16) -> String {
    serde_json::json!({
        "id": SANDBOX, "organizationId": "org", "name": SANDBOX, "user": "daytona",
        "env": {}, "labels": {}, "public": false, "target": "local",
        "cpu": 1, "gpu": 0, "memory": 1, "disk": 3, "state": "started",
        "toolboxProxyUrl": format!("http://127.0.0.1:{port}/toolbox"),
    })
    .to_string()
}
