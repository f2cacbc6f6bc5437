//! What the benchmarks share: a local HTTP/1.1 server that plays the
//! Daytona API and a sandbox's toolbox on loopback, the children that run
//! one measured transfer or listing each (so that their peak memory is
//! theirs alone), and a few helpers.
//!
//! The server spawns a thread per connection and keeps connections alive;
//! the answers the per-call benchmark asks for are precomputed, so that the
//! server costs as little as possible beside the client it measures. It
//! counts requests and accepted TCP connections.
//!
//! Routes:
//! - `GET /api/sandbox/bench`: a started sandbox (precomputed answer).
//! - `GET /api/sandbox?limit=L&cursor=C`: pages of a listing of
//!   [`Server::set_list_total`] sandboxes.
//! - `POST /api/sandbox`: a new sandbox `w<n>`, `creating`, that becomes
//!   `started` the number of milliseconds of its `bench-ready-ms` label
//!   after the request (see [`Server::timeline`]).
//! - `GET` / `DELETE /api/sandbox/<id>`: that sandbox (its state follows
//!   its timeline; each `GET` counts as a poll); `DELETE` answers
//!   `destroying` and forgets it, so that later reads answer 404.
//! - `GET /api/socket.io/` (WebSocket): the notification gateway, which
//!   announces each created sandbox when it becomes `started`, and each
//!   deleted one as `destroyed`, as the API does (see `gateway`).
//! - `POST /toolbox/<id>/process/execute`: exit code 0.
//! - `POST /toolbox/<id>/files/bulk-upload`: reads and counts a chunked or
//!   length-delimited body.
//! - `GET /api/sandbox/bench-upload`: a started sandbox whose toolbox is
//!   the [`receiver`] (hyper and multer), where measured uploads go.
//! - `POST /toolbox/<id>/files/bulk-download`: a multipart answer with one
//!   file of [`Server::set_transfer_size`] bytes, generated on the fly.

// Each benchmark uses part of this module.
#![allow(dead_code)]

mod gateway;
pub mod receiver;
mod transfer;

pub use transfer::*;

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use daytona::{Daytona, DaytonaConfig};

use receiver::Receiver;

pub const MIB: u64 = 1024 * 1024;
/// The sandbox every transfer and per-call request uses.
pub const SANDBOX: &str = "bench";
/// The sandbox whose toolbox is the upload [`Receiver`].
pub const UPLOAD_SANDBOX: &str = "bench-upload";
/// The API key of every client.
pub const KEY: &str = "bench-key";
/// An API key the notification gateway refuses (the rest of the server
/// takes any key): its client's waits fall back to polling.
pub const REFUSED_KEY: &str = "bench-key-refused-by-the-gateway";
pub const BOUNDARY: &str = "DAYTONA-FILE-BOUNDARY";
pub const REMOTE: &str = "/home/daytona/bench.bin";
/// Chunk size of the server's answers and of the raw client's copy loop.
pub const CHUNK: usize = 256 * 1024;
/// The label of a create that sets when the new sandbox becomes `started`.
pub const READY_LABEL: &str = "bench-ready-ms";

pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// A client of the server on `port` with the default settings.
pub fn client(port: u16) -> Res<Daytona> {
    Ok(Daytona::new(config(port))?)
}

/// The configuration of [`client`], to change before use.
pub fn config(port: u16) -> DaytonaConfig {
    config_at("127.0.0.1", port)
}

/// The configuration of a client of the server on `host:port`.
pub fn config_at(host: &str, port: u16) -> DaytonaConfig {
    DaytonaConfig::new()
        .read_env(false)
        .api_key(KEY)
        .api_url(format!("http://{host}:{port}/api"))
}

/// The headers the SDK sends with every API request, for raw clients that
/// send the same requests.
pub fn sdk_headers() -> Vec<(&'static str, String)> {
    vec![
        ("Accept", "application/json".into()),
        ("Authorization", format!("Bearer {KEY}")),
        ("X-Daytona-Source", "sdk-rust".into()),
        ("X-Daytona-SDK-Version", daytona::API_VERSION.into()),
        (
            "User-Agent",
            concat!("sdk-rust/", env!("CARGO_PKG_VERSION")).into(),
        ),
    ]
}

// ---------------------------------------------------------------------------
// Children.

/// What a child (this program with `args`) reports: the numbers of its
/// `RESULT` line.
pub fn run_child(args: &[String]) -> Res<Vec<f64>> {
    run_command(&std::env::current_exe()?.display().to_string(), args)
}

/// What `program` with `args` reports: the numbers of its `RESULT` line.
pub fn run_command(program: &str, args: &[String]) -> Res<Vec<f64>> {
    let out = Command::new(program).args(args).output()?;
    io::stderr().write_all(&out.stderr)?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("{program} {args:?} failed: {stdout}").into());
    }
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .ok_or_else(|| format!("{program} {args:?}: no result in {stdout:?}"))?;
    line.split_whitespace()
        .map(|f| f.parse::<f64>().map_err(Into::into))
        .collect()
}

/// `VmHWM` of this process, in KiB.
pub fn peak_rss_kib() -> Res<u64> {
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
// The server.

/// A sandbox created by `POST /api/sandbox`.
#[derive(Clone, Copy, Debug)]
pub struct Timeline {
    /// When the server handled the create.
    pub created: Instant,
    /// How long after that it is `started`.
    pub ready_after: Duration,
    /// `GET /api/sandbox/<id>` requests answered so far.
    pub polls: u32,
    /// Whether the gateway announced it started.
    pub announced: bool,
}

impl Timeline {
    /// When it became (or becomes) `started`.
    pub fn started_at(&self) -> Instant {
        self.created + self.ready_after
    }
}

pub struct Server {
    pub port: u16,
    /// Requests answered.
    pub requests: AtomicU64,
    /// TCP connections accepted.
    pub connections: AtomicU64,
    /// Body bytes of the last upload.
    pub received: AtomicU64,
    transfer_size: AtomicU64,
    list_total: AtomicU64,
    next_id: AtomicU64,
    sandboxes: Mutex<HashMap<String, Timeline>>,
    /// The state changes the gateway announces, in order: a sandbox and
    /// its new state.
    announced: Mutex<Vec<(String, &'static str)>>,
    /// The whole answer to `GET /api/sandbox/bench`.
    get_answer: Vec<u8>,
    /// The whole answer to `GET /api/sandbox/bench-upload`.
    upload_answer: Vec<u8>,
    /// Where measured uploads go.
    pub receiver: Arc<Receiver>,
    /// A list item around its id: `item[0] id item[1] id item[2]`.
    item: [String; 3],
}

impl Server {
    /// Starts a server on a free loopback port.
    pub fn start() -> Res<Arc<Server>> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let body = sandbox_json(SANDBOX, "started", port);
        let get_answer = json_answer("200 OK", &body);
        let receiver = Receiver::start()?;
        let upload_answer = json_answer(
            "200 OK",
            &sandbox_json(UPLOAD_SANDBOX, "started", receiver.port),
        );
        let template = list_item_json("@ID@", port);
        let parts: Vec<&str> = template.split("@ID@").collect();
        let [a, b, c] = parts[..] else {
            return Err("the list item template holds the id twice".into());
        };
        let server = Arc::new(Server {
            port,
            requests: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            received: AtomicU64::new(0),
            transfer_size: AtomicU64::new(0),
            list_total: AtomicU64::new(0),
            next_id: AtomicU64::new(0),
            sandboxes: Mutex::new(HashMap::new()),
            announced: Mutex::new(Vec::new()),
            get_answer,
            upload_answer,
            receiver,
            item: [a.to_string(), b.to_string(), c.to_string()],
        });
        let s = server.clone();
        std::thread::spawn(move || s.accept(listener));
        Ok(server)
    }

    /// The size of the file `bulk-download` sends.
    pub fn set_transfer_size(&self, size: u64) {
        self.transfer_size.store(size, Ordering::SeqCst);
    }

    /// How many sandboxes the listing holds.
    pub fn set_list_total(&self, total: u64) {
        self.list_total.store(total, Ordering::SeqCst);
    }

    /// The timeline of a sandbox made by `POST /api/sandbox`.
    pub fn timeline(&self, id: &str) -> Option<Timeline> {
        self.sandboxes.lock().unwrap().get(id).copied()
    }

    /// The state changes to announce, in order, from the `from`-th on:
    /// sandboxes whose time to start has come are added first.
    fn announcements(&self, from: usize) -> Vec<(String, &'static str)> {
        let now = Instant::now();
        let mut sandboxes = self.sandboxes.lock().unwrap();
        let mut log = self.announced.lock().unwrap();
        for (id, t) in sandboxes.iter_mut() {
            if !t.announced && now >= t.started_at() {
                t.announced = true;
                log.push((id.clone(), "started"));
            }
        }
        log.get(from..).unwrap_or_default().to_vec()
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }

    fn accept(self: Arc<Self>, listener: TcpListener) {
        for stream in listener.incoming().flatten() {
            self.connections.fetch_add(1, Ordering::SeqCst);
            let server = self.clone();
            std::thread::spawn(move || {
                if let Err(e) = server.serve(stream) {
                    if !matches!(
                        e.kind(),
                        io::ErrorKind::UnexpectedEof
                            | io::ErrorKind::ConnectionReset
                            | io::ErrorKind::BrokenPipe
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
        let mut head = Vec::with_capacity(1024);
        let mut body = Vec::new();
        loop {
            let Some(framing) = read_head(&mut reader, &mut head)? else {
                return Ok(());
            };
            let line =
                std::str::from_utf8(&head[..head.iter().position(|&b| b == b'\r').unwrap_or(0)])
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?
                    .to_string();
            let mut words = line.split(' ');
            let method = words.next().unwrap_or("");
            let target = words.next().unwrap_or("");
            let (path, query) = target.split_once('?').unwrap_or((target, ""));
            if method == "GET" && path == "/api/socket.io/" {
                self.requests.fetch_add(1, Ordering::Relaxed);
                return gateway::session(self, head, reader, out);
            }
            // Only small JSON bodies are kept; uploads are counted.
            let keep = path.starts_with("/api/");
            let length = read_body(&mut reader, framing, keep.then_some(&mut body))?;
            self.requests.fetch_add(1, Ordering::Relaxed);
            let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
            match (method, &segments[..]) {
                ("GET", ["api", "sandbox", id]) if *id == SANDBOX => {
                    out.write_all(&self.get_answer)?
                }
                ("GET", ["api", "sandbox", id]) if *id == UPLOAD_SANDBOX => {
                    out.write_all(&self.upload_answer)?
                }
                ("GET", ["api", "sandbox", "undecodable"]) => out.write_all(&json_answer(
                    "200 OK",
                    r#"{"id":"undecodable","organizationId":"#,
                ))?,
                ("GET", ["api", "sandbox", "cut-short"]) => {
                    // A head announcing more than follows, then the end
                    // of the connection.
                    let body = r#"{"id":"cut-short","organizationId":"#;
                    write!(
                        out,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                         Content-Length: {}\r\n\r\n{body}",
                        body.len() * 2
                    )?;
                    out.flush()?;
                    return Ok(());
                }
                ("GET", ["api", "sandbox"]) => self.list_page(&mut out, query)?,
                ("POST", ["api", "sandbox"]) => {
                    let answer = self.create(&body);
                    out.write_all(&answer)?
                }
                ("GET" | "DELETE", ["api", "sandbox", id]) => {
                    let answer = self.sandbox(id, method == "GET");
                    out.write_all(&answer)?
                }
                ("POST", ["toolbox", _, "process", "execute"]) => {
                    out.write_all(&json_answer("200 OK", r#"{"exitCode":0,"result":"hi\n"}"#))?
                }
                ("POST", ["toolbox", _, "files", "bulk-upload"]) => {
                    self.received.store(length, Ordering::SeqCst);
                    out.write_all(&json_answer("200 OK", r#"{"files":[]}"#))?
                }
                ("POST", ["toolbox", _, "files", "bulk-download"]) => {
                    self.send_multipart(&mut out)?
                }
                _ => out.write_all(&json_answer(
                    "404 Not Found",
                    r#"{"statusCode":404,"message":"no such route","error":"Not Found"}"#,
                ))?,
            }
            out.flush()?;
        }
    }

    fn list_page(&self, out: &mut TcpStream, query: &str) -> io::Result<()> {
        let param = |name: &str| {
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                .and_then(|v| v.parse::<u64>().ok())
        };
        let total = self.list_total.load(Ordering::SeqCst);
        let limit = param("limit").unwrap_or(100).clamp(1, 200);
        let from = param("cursor").unwrap_or(0).min(total);
        let to = (from + limit).min(total);
        let mut body = String::with_capacity(((to - from) as usize + 1) * 1024);
        body.push_str(r#"{"items":["#);
        for n in from..to {
            if n > from {
                body.push(',');
            }
            let id = format!("sb-{n}");
            body.push_str(&self.item[0]);
            body.push_str(&id);
            body.push_str(&self.item[1]);
            body.push_str(&id);
            body.push_str(&self.item[2]);
        }
        body.push_str(&format!(r#"],"total":{total},"nextCursor":"#));
        if to < total {
            body.push_str(&format!(r#""{to}"}}"#));
        } else {
            body.push_str("null}");
        }
        out.write_all(&json_answer("200 OK", &body))
    }

    fn create(&self, body: &[u8]) -> Vec<u8> {
        let ready_ms = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v["labels"][READY_LABEL].as_str()?.parse::<u64>().ok())
            .unwrap_or(0);
        let id = format!("w{}", self.next_id.fetch_add(1, Ordering::SeqCst));
        let timeline = Timeline {
            created: Instant::now(),
            ready_after: Duration::from_millis(ready_ms),
            polls: 0,
            announced: false,
        };
        self.sandboxes.lock().unwrap().insert(id.clone(), timeline);
        json_answer("200 OK", &sandbox_json(&id, "creating", self.port))
    }

    /// A created sandbox, in the state of its timeline; `poll` counts it.
    fn sandbox(&self, id: &str, poll: bool) -> Vec<u8> {
        let state = {
            let mut sandboxes = self.sandboxes.lock().unwrap();
            let Some(t) = sandboxes.get_mut(id) else {
                return json_answer(
                    "404 Not Found",
                    r#"{"statusCode":404,"message":"sandbox not found","error":"Not Found"}"#,
                );
            };
            if poll {
                t.polls += 1;
            }
            let state = match (poll, Instant::now() >= t.started_at()) {
                (false, _) => "destroying",
                (true, true) => "started",
                (true, false) => "creating",
            };
            if !poll {
                // Gone at once: the client's wait for the deletion sees
                // 404, or hears it.
                sandboxes.remove(id);
                self.announced
                    .lock()
                    .unwrap()
                    .push((id.to_string(), "destroyed"));
            }
            state
        };
        json_answer("200 OK", &sandbox_json(id, state, self.port))
    }

    /// A chunked multipart answer with one file part of the transfer size.
    fn send_multipart(&self, out: &mut TcpStream) -> io::Result<()> {
        let size = self.transfer_size.load(Ordering::SeqCst);
        write!(
            out,
            "HTTP/1.1 200 OK\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n\
             Transfer-Encoding: chunked\r\n\r\n"
        )?;
        let head = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{REMOTE}\"\r\n\
             Content-Type: application/octet-stream\r\nContent-Length: {size}\r\n\r\n"
        );
        write_chunk(out, head.as_bytes())?;
        let block: Vec<u8> = (0..CHUNK).map(|i| (i % 251) as u8).collect();
        let mut left = size;
        while left > 0 {
            let n = left.min(CHUNK as u64) as usize;
            write_chunk(out, &block[..n])?;
            left -= n as u64;
        }
        write_chunk(out, format!("\r\n--{BOUNDARY}--\r\n").as_bytes())?;
        out.write_all(b"0\r\n\r\n")
    }
}

/// A whole answer with a JSON body.
fn json_answer(status: &str, body: &str) -> Vec<u8> {
    let mut answer = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(body.as_bytes());
    answer
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

/// How a request body is delimited.
#[derive(Clone, Copy)]
enum Framing {
    Length(u64),
    Chunked,
}

/// Reads the request line and headers into `head`; `None` when the peer
/// closed between requests.
fn read_head(reader: &mut impl BufRead, head: &mut Vec<u8>) -> io::Result<Option<Framing>> {
    head.clear();
    let mut framing = Framing::Length(0);
    loop {
        let start = head.len();
        if reader.read_until(b'\n', head)? == 0 {
            return if start == 0 {
                Ok(None)
            } else {
                Err(io::ErrorKind::UnexpectedEof.into())
            };
        }
        let line = &head[start..];
        if line == b"\r\n" || line == b"\n" {
            return Ok(Some(framing));
        }
        if start == 0 {
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if name.eq_ignore_ascii_case(b"content-length") {
            let n = std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "content-length"))?;
            framing = Framing::Length(n);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding")
            && value.eq_ignore_ascii_case(b"chunked")
        {
            framing = Framing::Chunked;
        }
    }
}

/// Reads a request body into `keep` (when given) or drops it; returns its
/// length.
fn read_body(
    reader: &mut BufReader<TcpStream>,
    framing: Framing,
    mut keep: Option<&mut Vec<u8>>,
) -> io::Result<u64> {
    if let Some(k) = keep.as_deref_mut() {
        k.clear();
    }
    let mut copy = |reader: &mut BufReader<TcpStream>, n: u64| -> io::Result<u64> {
        let mut part = reader.by_ref().take(n);
        match keep.as_deref_mut() {
            Some(k) => part.read_to_end(k).map(|n| n as u64),
            None => io::copy(&mut part, &mut io::sink()),
        }
    };
    match framing {
        Framing::Length(n) => copy(reader, n),
        Framing::Chunked => {
            let mut total = 0;
            let mut line = String::new();
            loop {
                line.clear();
                reader.read_line(&mut line)?;
                let size = u64::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                if size == 0 {
                    // No trailers are sent: just the final CRLF.
                    line.clear();
                    reader.read_line(&mut line)?;
                    return Ok(total);
                }
                total += copy(reader, size)?;
                let mut crlf = [0u8; 2];
                reader.read_exact(&mut crlf)?;
            }
        }
    }
}

/// A spec-shaped `Sandbox` document (as the tests' `sandbox_json`) whose
/// toolbox is this server.
pub fn sandbox_json(id: &str, state: &str, port: u16) -> String {
    serde_json::json!({
        "id": id,
        "organizationId": "org-1",
        "name": format!("name-{id}"),
        "snapshot": "daytonaio/sandbox:0.4.3",
        "user": "daytona",
        "env": {"A": "1"},
        "labels": {"code-toolbox-language": "python"},
        "public": false,
        "networkBlockAll": false,
        "target": "us",
        "cpu": 1,
        "gpu": 0,
        "memory": 1,
        "disk": 3,
        "state": state,
        "desiredState": "started",
        "errorReason": null,
        "recoverable": false,
        "backupState": "None",
        "autoStopInterval": 15,
        "autoArchiveInterval": 10080,
        "autoDeleteInterval": -1,
        "volumes": [],
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-01T00:00:00Z",
        "sandboxClass": "container",
        "daemonVersion": "0.190.0",
        "runnerId": "runner-1",
        "toolboxProxyUrl": format!("http://127.0.0.1:{port}/toolbox"),
    })
    .to_string()
}

/// A spec-shaped `SandboxListItem`: a sandbox without the fields a list
/// item lacks.
fn list_item_json(id: &str, port: u16) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(&sandbox_json(id, "started", port)).expect("JSON");
    let o = v.as_object_mut().expect("an object");
    for k in ["env", "networkBlockAll", "volumes"] {
        o.remove(k);
    }
    v.to_string()
}
