//! The test server of the whole suite, on 127.0.0.1.
//!
//! - [`Listener`]: the one accept loop; every server below (and the relays
//!   of [`relay`], and the contract suite's proxy) is built on it.
//! - [`FaultServer`]: an HTTP/1.1 server whose every answer is scripted per
//!   request, faults included: resets before and in the middle of an
//!   answer, silence, stalls, bodies cut short, garbage, WebSocket upgrades
//!   that misbehave, and [`Action::Take`], which hands the connection to
//!   the test (streamed answers, bodies read as they arrive, a WebSocket
//!   library's handshake).
//! - [`refused_url`]: a base URL where nothing listens.
//!
//! A reset is a real TCP RST: the request is only peeked at (left unread in
//! the socket's receive buffer) and closing a socket with unread data makes
//! Linux answer with RST instead of FIN.
#![allow(dead_code)]

pub mod relay;

use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufReader, Read, Write};
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
    /// The request line, e.g. `GET /api/sandbox/x HTTP/1.1`.
    pub line: String,
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
    /// Hands the connection to the test, the request still unread.
    Take(Take),
}

/// What [`Action::Take`] runs: the test's own conversation on the
/// connection.
#[derive(Clone)]
pub struct Take(pub Arc<dyn Fn(Conn) + Send + Sync>);

impl fmt::Debug for Take {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Take(..)")
    }
}

/// A connection handed to the test by [`Action::Take`]: the request it
/// carries has been parsed ([`Conn::seen`]) but not read, so the test
/// reads its body as it wants ([`Conn::body`], [`Conn::chunk`]) or gives
/// the untouched socket to a WebSocket library ([`Conn::into_stream`]).
/// Writes go to the socket.
pub struct Conn {
    /// The request.
    pub seen: Seen,
    stream: TcpStream,
    reader: BufReader<TcpStream>,
    head_len: usize,
    head_read: bool,
}

impl Conn {
    /// The connection of `stream` once a whole request head has come
    /// (`None` if the client closed first).
    pub fn accept(stream: TcpStream) -> Option<Conn> {
        let (head_len, seen) = peek_head(&stream, &AtomicBool::new(false))?;
        Some(Conn::new(stream, seen, head_len))
    }

    fn new(stream: TcpStream, seen: Seen, head_len: usize) -> Conn {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let reader = BufReader::new(stream.try_clone().unwrap());
        Conn {
            seen,
            stream,
            reader,
            head_len,
            head_read: false,
        }
    }

    /// The socket, the request left unread in it.
    pub fn into_stream(self) -> TcpStream {
        self.stream
    }

    /// Reads the request head out of the socket (once; the body stays).
    pub fn skip_head(&mut self) -> io::Result<()> {
        if !self.head_read {
            let mut head = vec![0u8; self.head_len];
            self.reader.read_exact(&mut head)?;
            self.head_read = true;
        }
        Ok(())
    }

    /// The whole body: `Content-Length` bytes, or every chunk.
    pub fn body(&mut self) -> io::Result<Vec<u8>> {
        self.skip_head()?;
        read_body(&mut self.reader, &self.seen)
    }

    /// The next chunk of a chunked body; `None` after the last one.
    pub fn chunk(&mut self) -> Option<Vec<u8>> {
        self.skip_head().ok()?;
        let size = read_chunk_size(&mut self.reader).ok()?;
        if size == 0 {
            while !read_line(&mut self.reader).ok()?.is_empty() {}
            return None;
        }
        let mut data = vec![0; size];
        self.reader.read_exact(&mut data).ok()?;
        read_line(&mut self.reader).ok()?;
        Some(data)
    }

    /// Ends the conversation with a clean close.
    pub fn finish(self) {
        finish(self.stream);
    }
}

/// Reads the request's body as it comes (the head skipped first).
impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.skip_head()?;
        self.reader.read(buf)
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
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

    /// [`Action::Take`] of `f`.
    pub fn take(f: impl Fn(Conn) + Send + Sync + 'static) -> Action {
        Action::Take(Take(Arc::new(f)))
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

/// A connection the [`Listener`] accepted.
pub struct Accepted {
    /// The socket (blocking).
    pub stream: TcpStream,
    /// Which accepted connection it is, from 0.
    pub conn: usize,
    /// Set when the listener is dropped: a handler that holds the
    /// connection lets go.
    pub stop: Arc<AtomicBool>,
}

/// The accept loop of every test server: each accepted connection is
/// handled on a thread of its own. It stops accepting when dropped.
pub struct Listener {
    /// The port it listens on.
    pub port: u16,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Listener {
    /// Listens on 127.0.0.1 on a free port; `handle` gets each connection.
    pub fn start(handle: impl Fn(Accepted) + Send + Sync + 'static) -> Listener {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (counter, stopped) = (accepted.clone(), stop.clone());
        let handle = Arc::new(handle);
        thread::spawn(move || {
            while !stopped.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        let conn = counter.fetch_add(1, Ordering::SeqCst);
                        let (handle, stop) = (handle.clone(), stopped.clone());
                        thread::spawn(move || handle(Accepted { stream, conn, stop }));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Listener {
            port,
            accepted,
            stop,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How many connections were accepted.
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// The scripted HTTP server (see the module documentation). It stops
/// accepting, and lets go of held connections, when dropped.
pub struct FaultServer {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    listener: Listener,
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
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let shared = Shared {
            seen: seen.clone(),
            routes: Arc::default(),
            keep,
            handler,
        };
        let listener = Listener::start(move |accepted| serve(accepted, &shared));
        FaultServer {
            url: listener.url(),
            seen,
            listener,
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
        self.listener.connections()
    }
}

#[derive(Clone)]
struct Shared {
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Requests seen per `METHOD path`, for [`Seen::nth`].
    routes: Arc<Mutex<HashMap<String, usize>>>,
    /// Whether requests are kept in `seen`.
    keep: bool,
    handler: Arc<Handler>,
}

/// Serves one connection with `handle`, the request left unread in the
/// socket; returns the base URL (`http://127.0.0.1:<port>`). The listener
/// lives until that connection came (at most [`HOLD`]).
pub fn one_connection(handle: impl FnOnce(TcpStream) + Send + 'static) -> String {
    let handle = Mutex::new(Some(handle));
    let (came, wait) = std::sync::mpsc::channel();
    let listener = Listener::start(move |accepted| {
        let once = handle.lock().unwrap().take();
        if let Some(handle) = once {
            let _ = came.send(());
            handle(accepted.stream);
        }
    });
    let url = listener.url();
    thread::spawn(move || {
        let _ = wait.recv_timeout(HOLD);
        drop(listener);
    });
    url
}

/// A base URL on 127.0.0.1 where nothing listens: connections are refused.
///
/// The port is the local end of a connection kept open for the rest of the
/// process: no socket listens on it, and none can bind it, so a server that
/// another test starts meanwhile never gets it (a port merely freed could
/// be handed to that server, which would then answer).
pub fn refused_url() -> String {
    static HELD: Mutex<Vec<(TcpStream, TcpStream)>> = Mutex::new(Vec::new());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server_side, _) = listener.accept().unwrap();
    drop(listener);
    let port = client.local_addr().unwrap().port();
    HELD.lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((client, server_side));
    format!("http://127.0.0.1:{port}")
}

/// Serves the requests of one connection until it closes or an action
/// ends it.
fn serve(accepted: Accepted, shared: &Shared) {
    let Accepted {
        mut stream,
        conn,
        stop,
    } = accepted;
    loop {
        let Some((head_len, mut seen)) = peek_head(&stream, &stop) else {
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
                websocket(stream, &seen, steps, &stop);
                return;
            }
            Action::Take(Take(f)) => {
                f(Conn::new(stream, seen, head_len));
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
                hold(&stream, &stop);
                return;
            }
            Action::StallMidBody(bytes) => {
                let _ = stream.write_all(&bytes);
                let _ = stream.flush();
                hold(&stream, &stop);
                return;
            }
            Action::ResetBeforeAnswer
            | Action::ResetMidBody(_)
            | Action::WebSocket(_)
            | Action::Take(_) => unreachable!(),
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
        line: text.split("\r\n").next().unwrap_or("").to_string(),
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

/// Reads the head (already peeked) and the body of the request, byte for
/// byte from the socket, so that the next request stays in it.
fn consume(stream: &mut TcpStream, head_len: usize, seen: &Seen) -> io::Result<Vec<u8>> {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut head = vec![0u8; head_len];
    stream.read_exact(&mut head)?;
    read_body(stream, seen)
}

/// A request body framed by `Content-Length` or chunked (none otherwise).
fn read_body(r: &mut impl Read, seen: &Seen) -> io::Result<Vec<u8>> {
    if let Some(len) = seen.header("content-length") {
        let len: usize = len.parse().unwrap_or(0);
        let mut body = vec![0u8; len];
        r.read_exact(&mut body)?;
        return Ok(body);
    }
    if !seen
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        return Ok(Vec::new());
    }
    let mut body = Vec::new();
    loop {
        let size = read_chunk_size(r)?;
        if size == 0 {
            // Trailers, then the blank line.
            while !read_line(r)?.is_empty() {}
            return Ok(body);
        }
        let start = body.len();
        body.resize(start + size, 0);
        r.read_exact(&mut body[start..])?;
        read_line(r)?;
    }
}

/// A line up to CRLF (left out), read a byte at a time.
fn read_line(r: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        r.read_exact(&mut byte)?;
        line.push(byte[0]);
    }
    line.truncate(line.len() - 2);
    Ok(line)
}

/// The size line of a chunk.
fn read_chunk_size(r: &mut impl Read) -> io::Result<usize> {
    let line = read_line(r)?;
    let size = String::from_utf8_lossy(&line);
    let size = size.split(';').next().unwrap_or("").trim();
    usize::from_str_radix(size, 16)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "chunk size"))
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
