//! A small HTTP/1.1 server on `std::net`: one thread per connection,
//! keep-alive, `Content-Length` and chunked request bodies, fixed or chunked
//! (streamed) responses. Enough for the simulator, nothing more.
//!
//! Bounded: at most [`MAX_CONNECTIONS`] connections at once (more are
//! answered 503 and closed), request heads up to [`MAX_HEAD`] bytes and
//! [`MAX_HEADERS`] lines (431), bodies up to [`MAX_BODY`] bytes (413).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Largest request head accepted.
const MAX_HEAD: usize = 64 * 1024;

/// Most lines in a request head.
const MAX_HEADERS: usize = 100;

/// Largest request body accepted (bodies are held in memory).
pub(crate) const MAX_BODY: usize = 256 * 1024 * 1024;

/// Most connections served at once.
pub(crate) const MAX_CONNECTIONS: usize = 128;

/// How often an idle connection checks whether the server is stopping.
const IDLE_CHECK: Duration = Duration::from_millis(200);

/// How long reading a request's head and body, and each write of an
/// answer, may wait for the client: one that sends or reads nothing is let
/// go rather than holding its connection's thread for ever.
const CLIENT_WAIT: Duration = if cfg!(test) {
    Duration::from_secs(1)
} else {
    Duration::from_secs(30)
};

/// A request as received.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: String,
    /// The percent-decoded path, without the query.
    pub(crate) path: String,
    /// The path's non-empty segments, each percent-decoded on its own (so
    /// that `%2F` stays inside its segment, as the API reads it).
    pub(crate) segments: Vec<String>,
    /// The decoded query pairs, in order.
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Request {
    /// The first value of the query parameter `name`.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of the query parameter `name`.
    pub(crate) fn params(&self, name: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The value of header `name` (case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A response body.
pub(crate) enum Body {
    Bytes(Vec<u8>),
    /// Sent with `Transfer-Encoding: chunked`, one chunk per item, as the
    /// iterator produces them.
    Stream(Box<dyn Iterator<Item = Vec<u8>> + Send>),
}

/// A response.
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Body,
}

impl Response {
    pub(crate) fn new(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        Response {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: Body::Bytes(body),
        }
    }

    pub(crate) fn json(status: u16, value: &serde_json::Value) -> Self {
        Self::new(status, "application/json", value.to_string().into_bytes())
    }

    pub(crate) fn empty(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Body::Bytes(Vec::new()),
        }
    }
}

/// What a handler decides.
pub(crate) enum Outcome {
    Respond(Response),
    /// Close the connection without answering.
    Drop,
    /// Take the connection over (a WebSocket upgrade): the socket, and the
    /// bytes already read past the request.
    Upgrade(Box<dyn FnOnce(TcpStream, Vec<u8>) + Send>),
}

pub(crate) type Handler = Arc<dyn Fn(Request) -> Outcome + Send + Sync>;

/// A running server; stopped on drop.
pub(crate) struct Server {
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl Server {
    /// Listens on `127.0.0.1` on a free port and serves `handler`.
    pub(crate) fn start(handler: Handler) -> io::Result<Server> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let stopping = Arc::new(AtomicBool::new(false));
        let stop = stopping.clone();
        let active = Arc::new(AtomicUsize::new(0));
        let acceptor = std::thread::Builder::new()
            .name(format!("daytona-local-{}", addr.port()))
            .spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(mut stream) = stream else { continue };
                    if active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
                        active.fetch_sub(1, Ordering::SeqCst);
                        let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
                        let _ = refuse(&mut stream, 503, "too many connections");
                        continue;
                    }
                    let slot = Slot(active.clone());
                    let handler = handler.clone();
                    let stop = stop.clone();
                    std::thread::spawn(move || {
                        let _ = serve(stream, &handler, &stop);
                        drop(slot);
                    });
                }
            })?;
        Ok(Server {
            addr,
            stopping,
            acceptor: Some(acceptor),
        })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wake the acceptor up so that it sees the flag; when that fails,
        // leave it rather than wait forever (it stops at its next accept).
        let woken = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok();
        if let Some(acceptor) = self.acceptor.take() {
            if woken {
                let _ = acceptor.join();
            }
        }
    }
}

/// A place among the [`MAX_CONNECTIONS`], given back on drop.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Answers `status` with a plain-text `message` and closes.
fn refuse(w: &mut TcpStream, status: u16, message: &str) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{message}",
        reason(status),
        message.len()
    );
    w.write_all(head.as_bytes())?;
    w.flush()?;
    let _ = w.shutdown(Shutdown::Both);
    Ok(())
}

/// Serves the requests of one connection until it closes.
fn serve(stream: TcpStream, handler: &Handler, stopping: &AtomicBool) -> io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_write_timeout(Some(CLIENT_WAIT))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    loop {
        let Some((request, keep_alive)) = read_request(&mut reader, &mut writer, stopping)? else {
            return Ok(());
        };
        let head_only = request.method == "HEAD";
        match handler(request) {
            Outcome::Drop => {
                let _ = writer.shutdown(Shutdown::Both);
                return Ok(());
            }
            Outcome::Respond(response) => {
                write_response(&mut writer, response, keep_alive, head_only)?;
            }
            Outcome::Upgrade(take_over) => {
                let read_ahead = reader.buffer().to_vec();
                take_over(writer, read_ahead);
                return Ok(());
            }
        }
        if !keep_alive || stopping.load(Ordering::SeqCst) {
            return Ok(());
        }
    }
}

/// Reads one request; `None` when the connection closed (or the server
/// stops) between requests.
fn read_request(
    reader: &mut BufReader<TcpStream>,
    writer: &mut TcpStream,
    stopping: &AtomicBool,
) -> io::Result<Option<(Request, bool)>> {
    // Wait for the first byte, checking now and then whether to stop.
    reader.get_ref().set_read_timeout(Some(IDLE_CHECK))?;
    loop {
        match reader.fill_buf() {
            Ok([]) => return Ok(None),
            Ok(_) => break,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if stopping.load(Ordering::SeqCst) {
                    return Ok(None);
                }
            }
            Err(e) => return Err(e),
        }
    }
    reader.get_ref().set_read_timeout(Some(CLIENT_WAIT))?;
    let mut lines = Vec::new();
    let mut total = 0;
    loop {
        let mut line = Vec::new();
        let room = MAX_HEAD.saturating_sub(total) as u64 + 1;
        let n = reader.by_ref().take(room).read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(None);
        }
        total += n;
        if total > MAX_HEAD || lines.len() >= MAX_HEADERS {
            refuse(writer, 431, "request head too large")?;
            return Ok(None);
        }
        let Ok(line) = String::from_utf8(line) else {
            refuse(writer, 400, "the request head is not UTF-8")?;
            return Ok(None);
        };
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.is_empty() {
            if lines.is_empty() {
                continue;
            }
            break;
        }
        lines.push(line);
    }
    let mut first = lines[0].split_whitespace();
    let method = first.next().unwrap_or("").to_string();
    let target = first.next().unwrap_or("/").to_string();
    let version = first.next().unwrap_or("HTTP/1.1").to_string();
    let headers: Vec<(String, String)> = lines[1..]
        .iter()
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.to_ascii_lowercase())
    };
    let keep_alive = match header("connection").as_deref() {
        Some(c) if c.contains("close") => false,
        Some(c) if c.contains("keep-alive") => true,
        _ => version == "HTTP/1.1",
    };
    let chunked = header("transfer-encoding").is_some_and(|t| t.contains("chunked"));
    let len: usize = match header("content-length") {
        Some(l) if !chunked => match l.trim().parse() {
            Ok(len) if len <= MAX_BODY => len,
            Ok(_) => {
                refuse(writer, 413, "request body too large")?;
                return Ok(None);
            }
            Err(_) => {
                refuse(writer, 400, "invalid Content-Length")?;
                return Ok(None);
            }
        },
        _ => 0,
    };
    if header("expect").is_some_and(|e| e.contains("100-continue")) {
        writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let body = if chunked {
        match read_chunked(reader)? {
            Some(body) => body,
            None => {
                refuse(writer, 413, "request body too large")?;
                return Ok(None);
            }
        }
    } else {
        let mut body = vec![0; len];
        reader.read_exact(&mut body)?;
        body
    };
    let (raw_path, raw_query) = target.split_once('?').unwrap_or((&target, ""));
    let query = raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (n, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(n, true), decode(v, true))
        })
        .collect();
    let segments = raw_path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| decode(s, false))
        .collect();
    let request = Request {
        method,
        path: decode(raw_path, false),
        segments,
        query,
        headers,
        body,
    };
    Ok(Some((request, keep_alive)))
}

/// A chunked body; `None` when it grows past [`MAX_BODY`].
fn read_chunked(reader: &mut BufReader<TcpStream>) -> io::Result<Option<Vec<u8>>> {
    let mut body = Vec::new();
    loop {
        let mut line = String::new();
        if reader.by_ref().take(1024).read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let size = line.trim().split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size, 16)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
        if size == 0 {
            // Trailers, up to the empty line: at most a head's size in all.
            let mut left = MAX_HEAD as u64;
            loop {
                let mut line = Vec::new();
                let n = reader.by_ref().take(left).read_until(b'\n', &mut line)?;
                if n == 0 || line.trim_ascii().is_empty() {
                    return Ok(Some(body));
                }
                left -= n as u64;
                if left == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "trailers too large",
                    ));
                }
            }
        }
        let start = body.len();
        if size > MAX_BODY.saturating_sub(start) {
            return Ok(None);
        }
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        let mut crlf = [0; 2];
        reader.read_exact(&mut crlf)?;
    }
}

/// Percent-decoding (and `+` as space in queries).
pub(crate) fn decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The reason phrase of `status`.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        413 => "Payload Too Large",
        421 => "Misdirected Request",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn write_response(
    w: &mut TcpStream,
    response: Response,
    keep_alive: bool,
    head_only: bool,
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (n, v) in &response.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    if !keep_alive {
        head.push_str("Connection: close\r\n");
    }
    match response.body {
        Body::Bytes(bytes) => {
            head.push_str(&format!("Content-Length: {}\r\n\r\n", bytes.len()));
            let mut out = head.into_bytes();
            if !head_only {
                out.extend_from_slice(&bytes);
            }
            w.write_all(&out)?;
        }
        Body::Stream(chunks) => {
            head.push_str("Transfer-Encoding: chunked\r\n\r\n");
            w.write_all(head.as_bytes())?;
            for chunk in chunks {
                if chunk.is_empty() {
                    continue;
                }
                w.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())?;
                w.write_all(&chunk)?;
                w.write_all(b"\r\n")?;
                w.flush()?;
            }
            w.write_all(b"0\r\n\r\n")?;
        }
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    fn server(handler: impl Fn(Request) -> Outcome + Send + Sync + 'static) -> Server {
        Server::start(Arc::new(handler)).unwrap()
    }

    fn client(server: &Server) -> TcpStream {
        let c = TcpStream::connect(server.addr()).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        c
    }

    /// A server answering 200 to all, and a client that sent it `bytes`.
    fn sent(bytes: &[u8]) -> (Server, TcpStream) {
        let s = server(|_| Outcome::Respond(Response::empty(200)));
        let mut c = client(&s);
        c.write_all(bytes).unwrap();
        (s, c)
    }

    fn answer(mut c: TcpStream) -> String {
        let mut text = Vec::new();
        let _ = c.read_to_end(&mut text);
        String::from_utf8_lossy(&text).into_owned()
    }

    #[test]
    fn a_head_that_is_not_utf8_is_answered_400() {
        let (_s, c) = sent(b"GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n");
        let text = answer(c);
        assert!(text.starts_with("HTTP/1.1 400 "), "{text}");
    }

    #[test]
    fn endless_trailers_end_the_connection() {
        let (_s, mut c) = sent(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n");
        // Four times the largest head, in trailer lines.
        let line = b"X-Trailer: 0123456789abcdef0123456789abcdef\r\n";
        for _ in 0..(4 * MAX_HEAD / line.len()) {
            if c.write_all(line).is_err() {
                break;
            }
        }
        // Closed without an answer (before, it read trailers for ever).
        let mut text = Vec::new();
        match c.read_to_end(&mut text) {
            Ok(_) => assert!(text.is_empty(), "{text:?}"),
            Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset),
        }
    }

    #[test]
    fn a_client_that_never_reads_is_let_go() {
        struct Ended(mpsc::Sender<()>);
        impl Drop for Ended {
            fn drop(&mut self) {
                let _ = self.0.send(());
            }
        }
        let (tx, rx) = mpsc::channel();
        let tx = std::sync::Mutex::new(tx);
        let s = server(move |_| {
            let ended = Ended(tx.lock().unwrap().clone());
            let chunks = std::iter::repeat_with(move || {
                let _ = &ended;
                vec![0u8; 64 << 10]
            });
            Outcome::Respond(Response {
                status: 200,
                headers: Vec::new(),
                body: Body::Stream(Box::new(chunks)),
            })
        });
        let mut c = client(&s);
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        // Reads nothing: the answer's writes time out and it is dropped.
        let bound = CLIENT_WAIT + Duration::from_secs(10);
        assert!(rx.recv_timeout(bound).is_ok(), "still writing");
        drop(c);
    }

    #[test]
    fn decodes_percent_and_plus() {
        assert_eq!(decode("a%20b+c", true), "a b c");
        assert_eq!(decode("a+b", false), "a+b");
        assert_eq!(decode("%7B%22k%22%3A1%7D", true), "{\"k\":1}");
        assert_eq!(decode("bad%2", true), "bad%2");
        assert_eq!(decode("%zz", true), "%zz");
    }
}
