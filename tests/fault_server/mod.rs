//! A small HTTP/1.1 server on 127.0.0.1 whose every answer is scripted,
//! faults included: resets before and in the middle of an answer, silence,
//! stalls, bodies cut short, garbage, and WebSocket upgrades that misbehave.
//!
//! A reset is a real TCP RST: the request is only peeked at (left unread in
//! the socket's receive buffer) and closing a socket with unread data makes
//! Linux answer with RST instead of FIN.
#![allow(dead_code)]

pub mod relay;

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The longest a held connection (silent, stalled) is kept open.
const HOLD: Duration = Duration::from_secs(30);

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The request target: path and query, as sent (still percent-encoded).
    pub target: String,
    /// Header names (lowercase) and values.
    pub headers: Vec<(String, String)>,
    /// The body, when the server read it (not for resets).
    pub body: Vec<u8>,
    /// Which accepted connection it came on, from 0.
    pub conn: usize,
    /// How many earlier requests had the same method and path (query aside).
    pub nth: usize,
}

impl Seen {
    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// The query, if any.
    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `METHOD path` (query aside).
    pub fn route(&self) -> String {
        format!("{} {}", self.method, self.path())
    }
}

/// One step of a scripted WebSocket conversation (after the upgrade).
#[derive(Clone, Debug)]
pub enum Ws {
    /// A text frame (any bytes, as the toolbox sends them).
    Text(Vec<u8>),
    /// A close frame with this code and reason, then a clean close of the
    /// socket.
    Close(u16, String),
    /// Sends nothing more and keeps the socket open.
    Stall,
    /// Resets the connection.
    Reset,
    /// Closes the socket without a close frame.
    Fin,
}

/// What the server does with one request.
#[derive(Clone, Debug)]
pub enum Action {
    /// A complete answer. `close` ends the connection after it
    /// (`Connection: close`), else it is kept alive for the next request.
    Reply {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        close: bool,
    },
    /// These bytes, as they are (a head announcing more than follows, ...),
    /// then a clean close.
    Raw(Vec<u8>),
    /// Resets the connection without answering.
    ResetBeforeAnswer,
    /// Closes the connection cleanly without answering.
    CloseBeforeAnswer,
    /// Reads the request and never answers.
    Silent,
    /// Sends these bytes (a head and part of a body), then resets.
    ResetMidBody(Vec<u8>),
    /// Sends these bytes (a head and part of a body), then stays silent.
    StallMidBody(Vec<u8>),
    /// Accepts a WebSocket upgrade, then plays the steps.
    WebSocket(Vec<Ws>),
}

impl Action {
    /// `status` with a JSON body.
    pub fn json(status: u16, body: &serde_json::Value) -> Action {
        Action::body(status, "application/json", body.to_string().into_bytes())
    }

    /// `status` with a body of `content_type`.
    pub fn body(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Action {
        Action::Reply {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
            close: false,
        }
    }

    /// `status` with an empty body.
    pub fn status(status: u16) -> Action {
        Action::Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            close: false,
        }
    }

    /// Adds a header to a [`Action::Reply`].
    pub fn header(mut self, name: &str, value: &str) -> Action {
        if let Action::Reply { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }

    /// Closes the connection after a [`Action::Reply`].
    pub fn close(mut self) -> Action {
        if let Action::Reply { close, .. } = &mut self {
            *close = true;
        }
        self
    }
}

/// A response head for `status` with these extra header lines (each
/// ending in CRLF) and the blank line.
pub fn head(status: u16, lines: &str) -> Vec<u8> {
    format!("HTTP/1.1 {status} {}\r\n{lines}\r\n", reason(status)).into_bytes()
}

fn reason(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        302 => "Found",
        307 => "Temporary Redirect",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

type Handler = dyn Fn(&Seen) -> Action + Send + Sync;

/// The server. It stops accepting, and lets go of held connections, when
/// dropped.
pub struct FaultServer {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl FaultServer {
    /// Starts a server answering each request with `handler(&request)`,
    /// keeping every request for [`FaultServer::seen`].
    pub fn start(handler: impl Fn(&Seen) -> Action + Send + Sync + 'static) -> FaultServer {
        Self::start_with(handler, true)
    }

    /// As [`FaultServer::start`], but keeps no request (for long runs).
    pub fn forgetful(handler: impl Fn(&Seen) -> Action + Send + Sync + 'static) -> FaultServer {
        Self::start_with(handler, false)
    }

    fn start_with(
        handler: impl Fn(&Seen) -> Action + Send + Sync + 'static,
        keep: bool,
    ) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let shared = Shared {
            seen: seen.clone(),
            routes: Arc::default(),
            keep,
            stop: stop.clone(),
            handler,
        };
        let counter = accepted.clone();
        thread::spawn(move || loop {
            if shared.stop.load(Ordering::SeqCst) {
                return;
            }
            match listener.accept() {
                Ok((stream, _)) => {
                    let conn = counter.fetch_add(1, Ordering::SeqCst);
                    let shared = shared.clone();
                    thread::spawn(move || {
                        let _ = stream.set_nonblocking(false);
                        serve(stream, conn, &shared);
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    thread::sleep(Duration::from_millis(2));
                }
                Err(_) => thread::sleep(Duration::from_millis(2)),
            }
        });
        FaultServer {
            url,
            seen,
            accepted,
            stop,
        }
    }

    /// Every request seen so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// How many requests `METHOD path` (query aside) were seen.
    pub fn count(&self, method: &str, path: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.method == method && s.path() == path)
            .count()
    }

    /// How many connections were accepted.
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

#[derive(Clone)]
struct Shared {
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Requests seen per `METHOD path`, for [`Seen::nth`].
    routes: Arc<Mutex<HashMap<String, usize>>>,
    /// Whether requests are kept in `seen`.
    keep: bool,
    stop: Arc<AtomicBool>,
    handler: Arc<Handler>,
}

/// A base URL on 127.0.0.1 where nothing listens: connections are refused.
pub fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// Serves the requests of one connection until it closes or an action
/// ends it.
fn serve(mut stream: TcpStream, conn: usize, shared: &Shared) {
    loop {
        let Some((head_len, mut seen)) = peek_head(&stream, &shared.stop) else {
            return;
        };
        seen.conn = conn;
        {
            let mut routes = shared.routes.lock().unwrap();
            let n = routes.entry(seen.route()).or_default();
            seen.nth = *n;
            *n += 1;
        }
        // Where the request is kept (its body is added once read).
        let index = shared.keep.then(|| {
            let mut all = shared.seen.lock().unwrap();
            all.push(seen.clone());
            all.len() - 1
        });
        let action = (shared.handler)(&seen);
        // Resets leave the request unread, so that closing sends RST.
        match &action {
            Action::ResetBeforeAnswer => return,
            Action::ResetMidBody(bytes) => {
                let _ = stream.write_all(bytes);
                let _ = stream.flush();
                // Let the bytes leave before the reset overtakes them.
                thread::sleep(Duration::from_millis(20));
                return;
            }
            Action::WebSocket(steps) => {
                websocket(stream, &seen, steps, &shared.stop);
                return;
            }
            _ => {}
        }
        let body = match consume(&mut stream, head_len, &seen) {
            Ok(body) => body,
            Err(_) => return,
        };
        if let Some(i) = index {
            shared.seen.lock().unwrap()[i].body = body;
        }
        match action {
            Action::Reply {
                status,
                headers,
                body,
                close,
            } => {
                let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
                for (name, value) in &headers {
                    out.push_str(&format!("{name}: {value}\r\n"));
                }
                out.push_str(&format!("Content-Length: {}\r\n", body.len()));
                if close {
                    out.push_str("Connection: close\r\n");
                }
                out.push_str("\r\n");
                let mut bytes = out.into_bytes();
                bytes.extend_from_slice(&body);
                if stream.write_all(&bytes).is_err() {
                    return;
                }
                let _ = stream.flush();
                if close {
                    finish(stream);
                    return;
                }
            }
            Action::Raw(bytes) => {
                let _ = stream.write_all(&bytes);
                let _ = stream.flush();
                finish(stream);
                return;
            }
            Action::CloseBeforeAnswer => {
                finish(stream);
                return;
            }
            Action::Silent => {
                hold(&stream, &shared.stop);
                return;
            }
            Action::StallMidBody(bytes) => {
                let _ = stream.write_all(&bytes);
                let _ = stream.flush();
                hold(&stream, &shared.stop);
                return;
            }
            Action::ResetBeforeAnswer | Action::ResetMidBody(_) | Action::WebSocket(_) => {
                unreachable!()
            }
        }
    }
}

/// A clean close: FIN, then whatever the client still sends is read so
/// that the close never turns into a reset.
fn finish(mut stream: TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut buf = [0u8; 4096];
    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
}

/// Keeps the connection open, saying nothing, until the server stops or
/// [`HOLD`] passes.
fn hold(stream: &TcpStream, stop: &AtomicBool) {
    let until = Instant::now() + HOLD;
    let _ = stream.set_read_timeout(Some(Duration::from_millis(20)));
    let mut buf = [0u8; 4096];
    let mut reader = stream;
    while Instant::now() < until && !stop.load(Ordering::SeqCst) {
        match reader.read(&mut buf) {
            // The client gave up: nothing more to hold.
            Ok(0) => return,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}

/// Waits until a whole request head is in the receive buffer and parses
/// it, without consuming anything. `None` when the client closed.
fn peek_head(stream: &TcpStream, stop: &AtomicBool) -> Option<(usize, Seen)> {
    let mut buf = vec![0u8; 64 * 1024];
    let until = Instant::now() + HOLD;
    let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
    loop {
        if stop.load(Ordering::SeqCst) || Instant::now() > until {
            return None;
        }
        match stream.peek(&mut buf) {
            Ok(0) => return None,
            Ok(n) => {
                if let Some(end) = find(&buf[..n], b"\r\n\r\n") {
                    return Some((end + 4, parse_head(&buf[..end])));
                }
                if n == buf.len() {
                    return None;
                }
                thread::sleep(Duration::from_millis(1));
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return None,
        }
    }
}

fn parse_head(head: &[u8]) -> Seen {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_string();
    let target = first.next().unwrap_or("").to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Seen {
        method,
        target,
        headers,
        body: Vec::new(),
        conn: 0,
        nth: 0,
    }
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

/// Reads the head (already peeked) and the body of the request.
fn consume(stream: &mut TcpStream, head_len: usize, seen: &Seen) -> io::Result<Vec<u8>> {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut head = vec![0u8; head_len];
    stream.read_exact(&mut head)?;
    if let Some(len) = seen.header("content-length") {
        let len: usize = len.parse().unwrap_or(0);
        let mut body = vec![0u8; len];
        stream.read_exact(&mut body)?;
        return Ok(body);
    }
    if seen
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        return read_chunked(stream);
    }
    Ok(Vec::new())
}

fn read_line(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        stream.read_exact(&mut byte)?;
        line.push(byte[0]);
    }
    line.truncate(line.len() - 2);
    Ok(line)
}

fn read_chunked(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line = read_line(stream)?;
        let size = String::from_utf8_lossy(&line);
        let size = size.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size, 16)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "chunk size"))?;
        if size == 0 {
            // Trailers, then the blank line.
            while !read_line(stream)?.is_empty() {}
            return Ok(body);
        }
        let start = body.len();
        body.resize(start + size, 0);
        stream.read_exact(&mut body[start..])?;
        read_line(stream)?;
    }
}

/// Accepts the upgrade of `seen` (left unread, so that a reset stays a
/// reset), then plays `steps`.
#[cfg(feature = "websocket")]
fn websocket(mut stream: TcpStream, seen: &Seen, steps: &[Ws], stop: &AtomicBool) {
    let key = seen.header("sec-websocket-key").unwrap_or("").to_string();
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    let mut out = head(
        101,
        &format!("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n"),
    );
    for step in steps {
        match step {
            Ws::Text(bytes) => out.extend(frame(0x1, bytes)),
            Ws::Close(code, reason) => {
                let mut payload = code.to_be_bytes().to_vec();
                payload.extend_from_slice(reason.as_bytes());
                out.extend(frame(0x8, &payload));
            }
            Ws::Stall | Ws::Reset | Ws::Fin => {}
        }
    }
    let _ = stream.write_all(&out);
    let _ = stream.flush();
    match steps.last() {
        Some(Ws::Stall) => hold(&stream, stop),
        Some(Ws::Reset) => thread::sleep(Duration::from_millis(20)),
        // A close frame or a bare FIN: read the upgrade request (and the
        // client's close reply) so that the close is clean.
        _ => {
            let mut drain = stream.try_clone().unwrap();
            let _ = drain.set_read_timeout(Some(Duration::from_millis(300)));
            let mut buf = [0u8; 4096];
            let _ = drain.read(&mut buf);
            finish(stream);
        }
    }
}

#[cfg(not(feature = "websocket"))]
fn websocket(_: TcpStream, _: &Seen, _: &[Ws], _: &AtomicBool) {}

/// An unmasked server frame.
fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0x80 | opcode];
    match payload.len() {
        n if n < 126 => out.push(n as u8),
        n if n <= 0xFFFF => {
            out.push(126);
            out.extend((n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend((n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
    out
}
