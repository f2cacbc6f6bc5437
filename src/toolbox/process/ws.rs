//! The WebSocket connection of a followed log, with the REST calls' rules:
//! the same proxy (`CONNECT` through an HTTP(S) proxy, `NO_PROXY`
//! honoured, none for a loopback host), the same TLS trust, the connect
//! timeout over the name lookup, TCP, proxy, TLS and upgrade together; then
//! every read and write bounded by an idle limit and an optional deadline.
//!
//! The upgrade is tungstenite's handshake. The log is then read frame by
//! frame with tungstenite's [`FrameSocket`]: the toolbox sends raw chunks
//! of the log as text frames, and a chunk that ends inside a multi-byte
//! character is not valid UTF-8 on its own, which tungstenite's message
//! reader refuses (and the bytes would be lost). The log is a byte stream
//! anyway ([`super::demux`] decodes it).

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::HandshakeError;
use tungstenite::protocol::frame::coding::{CloseCode, Control, Data, OpCode};
use tungstenite::protocol::frame::{Frame, FrameSocket};
use ureq::http::Uri;
use ureq::ProxyProtocol;
use url::{Host, Url};

use crate::error::Error;
use crate::transport::status::{api_error, io_error, Failure};
use crate::transport::{is_loopback, Transport};

/// Largest frame read into memory (the toolbox sends chunks of a few KiB).
const MAX_FRAME: usize = 16 << 20;

/// Largest answer head of a proxy or of the upgrade.
const MAX_HEAD: usize = 64 << 10;

/// A connection attempt that failed: the error, and whether another may
/// succeed.
pub(super) struct Failed {
    pub(super) error: Error,
    pub(super) failure: Failure,
}

/// Where and how to connect.
pub(super) struct Target<'a> {
    /// The `ws://` or `wss://` URL, query included.
    pub(super) url: &'a Url,
    /// `METHOD /path`, for errors.
    pub(super) operation: &'a str,
    /// Headers, proxy, TLS and connect timeout of the REST calls.
    pub(super) transport: &'a Transport,
}

/// What the server sent next.
pub(super) enum Event {
    /// A piece of the log.
    Data(tungstenite::Bytes),
    /// The server closed the stream, with this code and reason (code 1005
    /// when it gave none).
    Closed(CloseCode, String),
}

/// An open log stream.
pub(super) struct Socket {
    frames: FrameSocket<Conn>,
}

impl Socket {
    /// The next piece of the log or the end of the stream. Answers the
    /// server's pings, and its close frame.
    pub(super) fn next_event(&mut self) -> std::result::Result<Event, tungstenite::Error> {
        loop {
            let Some(frame) = self.frames.read(Some(MAX_FRAME))? else {
                return Err(tungstenite::Error::Protocol(
                    tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
                ));
            };
            match frame.header().opcode {
                OpCode::Data(Data::Text | Data::Binary | Data::Continue) => {
                    return Ok(Event::Data(frame.into_payload()))
                }
                OpCode::Control(Control::Ping) => {
                    let pong = Frame::pong(frame.into_payload());
                    self.send(pong)?;
                }
                OpCode::Control(Control::Close) => {
                    let payload = frame.payload();
                    let (code, reason) = match payload {
                        [a, b, reason @ ..] => (
                            CloseCode::from(u16::from_be_bytes([*a, *b])),
                            String::from_utf8_lossy(reason).into_owned(),
                        ),
                        _ => (CloseCode::Status, String::new()),
                    };
                    // The reply the protocol asks for; the stream is over
                    // whether or not it goes through.
                    let _ = self.send(Frame::close(None));
                    return Ok(Event::Closed(code, reason));
                }
                // Pongs, and opcodes no extension was agreed for.
                _ => {}
            }
        }
    }

    /// Sends a control frame, masked as a client's frames must be.
    fn send(&mut self, mut frame: Frame) -> std::result::Result<(), tungstenite::Error> {
        frame.header_mut().mask = Some(mask());
        self.frames.send(frame)
    }
}

/// A fresh masking key: four bytes of a handshake key, which tungstenite
/// draws from a random generator.
fn mask() -> [u8; 4] {
    let key = tungstenite::handshake::client::generate_key();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(key)
        .unwrap_or_default();
    let mut mask = [0u8; 4];
    for (m, b) in mask.iter_mut().zip(bytes) {
        *m = b;
    }
    mask
}

/// Connects and upgrades. Every step is bounded by the connect timeout and
/// `deadline`; the socket then waits at most `idle` for each read.
pub(super) fn connect(
    target: &Target<'_>,
    idle: Duration,
    deadline: Option<Instant>,
) -> std::result::Result<Socket, Failed> {
    let started = Instant::now();
    let op = target.operation;
    let connect_by = earliest(
        started.checked_add(target.transport.connect_timeout()),
        deadline,
    );
    let fail = |e: io::Error| Failed {
        failure: Failure::of_io(e.kind()),
        error: io_error(e, &format!("{op}: connecting"), started.elapsed()),
    };
    let url = target.url;
    let tls = match url.scheme() {
        "ws" => false,
        "wss" => true,
        other => {
            return Err(Failed {
                error: Error::Transport {
                    operation: op.to_string(),
                    source: format!("unsupported scheme {other:?}").into(),
                },
                failure: Failure::Permanent,
            })
        }
    };
    let host = match url.host() {
        Some(Host::Ipv6(ip)) => ip.to_string(),
        Some(host) => host.to_string(),
        None => return Err(fail(invalid("the URL has no host"))),
    };
    let port = url
        .port_or_known_default()
        .ok_or_else(|| fail(invalid("the URL has no port")))?;
    let proxy = target
        .transport
        .proxy()
        .filter(|proxy| !is_loopback(url) && !bypassed(proxy, url));
    let conn = match proxy {
        None => Conn::Tcp(open_tcp(&host, port, connect_by).map_err(fail)?),
        Some(proxy) => through_proxy(proxy, &host, port, target.transport, connect_by).map_err(
            |e| match e {
                ProxyError::Io(e) => fail(e),
                ProxyError::Refused(status) => Failed {
                    error: Error::Transport {
                        operation: op.to_string(),
                        source: format!(
                            "the proxy {}:{} refused to connect to {host}:{port}: HTTP {status}",
                            proxy.host(),
                            proxy.port()
                        )
                        .into(),
                    },
                    failure: Failure::Permanent,
                },
            },
        )?,
    };
    let conn = if tls {
        conn.tls(target.transport, url.host_str().unwrap_or_default())
            .map_err(fail)?
    } else {
        conn
    };
    let socket = upgrade(target, conn, started)?;
    let mut socket = socket;
    socket.frames.get_mut().timed().limit(idle, deadline);
    Ok(socket)
}

/// The upgrade, with the SDK's headers; the log frames that came with the
/// answer are kept for the frame reader.
fn upgrade(
    target: &Target<'_>,
    conn: Conn,
    started: Instant,
) -> std::result::Result<Socket, Failed> {
    let op = target.operation;
    let mut request = target
        .url
        .as_str()
        .into_client_request()
        .map_err(|e| handshake_error(e, op, started))?;
    for (name, value) in target.transport.headers() {
        request.headers_mut().insert(name.clone(), value.clone());
    }
    let recorded = Recorded {
        conn,
        read: Vec::new(),
    };
    let (socket, _) =
        tungstenite::client::client_with_config(request, recorded, None).map_err(|e| match e {
            HandshakeError::Interrupted(_) => Failed {
                error: Error::Timeout {
                    operation: format!("{op}: connecting"),
                    after: started.elapsed(),
                },
                failure: Failure::Transient,
            },
            HandshakeError::Failure(e) => handshake_error(e, op, started),
        })?;
    let recorded = socket.into_inner();
    // tungstenite read the answer's head and perhaps the first frames: the
    // frames start where `httparse` says the head ends.
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let head = match httparse::Response::new(&mut headers).parse(&recorded.read) {
        Ok(httparse::Status::Complete(n)) => n,
        _ => recorded.read.len(),
    };
    let tail = recorded.read[head..].to_vec();
    Ok(Socket {
        frames: FrameSocket::from_partially_read(recorded.conn, tail),
    })
}

/// Maps a failed upgrade: an error status is the server's answer, mapped as
/// any HTTP answer.
fn handshake_error(e: tungstenite::Error, op: &str, started: Instant) -> Failed {
    match e {
        tungstenite::Error::Http(resp) => {
            let status = resp.status();
            if status.is_client_error() || status.is_server_error() {
                let body = resp.body().as_deref().unwrap_or_default();
                Failed {
                    error: Error::Api(Box::new(api_error(status, resp.headers(), body, op))),
                    failure: Failure::of_status(status.as_u16()),
                }
            } else {
                // The server (or something in front of it) answered, but
                // not with the upgrade.
                Failed {
                    error: Error::Transport {
                        operation: op.to_string(),
                        source: format!(
                            "expected the upgrade to a WebSocket (HTTP 101), got HTTP {}",
                            status.as_u16()
                        )
                        .into(),
                    },
                    failure: Failure::Permanent,
                }
            }
        }
        tungstenite::Error::Io(e) => Failed {
            failure: Failure::of_io(e.kind()),
            error: io_error(e, &format!("{op}: connecting"), started.elapsed()),
        },
        // Closed before the whole answer came.
        e
        @ tungstenite::Error::Protocol(tungstenite::error::ProtocolError::HandshakeIncomplete) => {
            Failed {
                error: Error::Transport {
                    operation: op.to_string(),
                    source: Box::new(e),
                },
                failure: Failure::Transient,
            }
        }
        other => Failed {
            error: Error::Transport {
                operation: op.to_string(),
                source: Box::new(other),
            },
            failure: Failure::Permanent,
        },
    }
}

/// The error of a read or write of the open stream; `timeout` makes the
/// error of one that ran out of time.
pub(super) fn read_error(
    e: tungstenite::Error,
    operation: &str,
    timeout: impl FnOnce() -> Error,
) -> Error {
    match e {
        tungstenite::Error::Io(io)
            if matches!(
                io.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ) =>
        {
            timeout()
        }
        other => Error::Transport {
            operation: operation.to_string(),
            source: Box::new(other),
        },
    }
}

/// The earlier of two optional instants.
pub(super) fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, what.to_string())
}

/// How long is left until `by`; an error once it has passed.
fn left(by: Option<Instant>) -> io::Result<Duration> {
    match by {
        None => Ok(Duration::MAX),
        Some(by) => match by.checked_duration_since(Instant::now()) {
            Some(left) if !left.is_zero() => Ok(left),
            _ => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the connect timeout passed",
            )),
        },
    }
}

/// Whether `NO_PROXY` exempts the host of `url` from `proxy`.
fn bypassed(proxy: &ureq::Proxy, url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    // `NO_PROXY` is matched on the host, as for the REST calls.
    match format!("https://{host}/").parse::<Uri>() {
        Ok(uri) => proxy.is_no_proxy(&uri),
        Err(_) => false,
    }
}

/// The addresses of `host`, looked up on a thread of its own so that the
/// lookup gives up at `by` (std's lookup has no time limit).
fn resolve(host: &str, port: u16, by: Option<Instant>) -> io::Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let wait = left(by)?;
    let (tx, rx) = mpsc::sync_channel(1);
    let name = format!("{host}:{port}");
    std::thread::spawn(move || {
        let _ = tx.send(name.to_socket_addrs().map(Vec::from_iter));
    });
    match rx.recv_timeout(wait) {
        Ok(found) => found,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("looking up {host} took longer than the connect timeout"),
        )),
    }
}

/// Connects to the first address of `host` that answers before `by`.
fn open_tcp(host: &str, port: u16, by: Option<Instant>) -> io::Result<TimedTcp> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, format!("{host} has no address"));
    for addr in resolve(host, port, by)? {
        let left = left(by)?;
        match TcpStream::connect_timeout(&addr, left) {
            Ok(tcp) => {
                tcp.set_nodelay(true)?;
                return Ok(TimedTcp {
                    tcp,
                    idle: left,
                    deadline: by,
                });
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

enum ProxyError {
    Io(io::Error),
    /// The proxy answered `CONNECT` with this status.
    Refused(u16),
}

impl From<io::Error> for ProxyError {
    fn from(e: io::Error) -> Self {
        ProxyError::Io(e)
    }
}

/// A tunnel to `host:port` through `proxy` (`CONNECT`, over TLS for an
/// HTTPS proxy).
fn through_proxy(
    proxy: &ureq::Proxy,
    host: &str,
    port: u16,
    transport: &Transport,
    by: Option<Instant>,
) -> std::result::Result<Conn, ProxyError> {
    let tls = match proxy.protocol() {
        ProxyProtocol::Http => false,
        ProxyProtocol::Https => true,
        other => {
            return Err(ProxyError::Io(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("{other:?} proxies are not supported for WebSocket connections"),
            )))
        }
    };
    let proxy_host = proxy.host().trim_start_matches('[').trim_end_matches(']');
    let mut conn = Conn::Tcp(open_tcp(proxy_host, proxy.port(), by)?);
    if tls {
        conn = conn.tls(transport, proxy_host)?;
    }
    let authority = match host.parse::<IpAddr>() {
        Ok(IpAddr::V6(ip)) => format!("[{ip}]:{port}"),
        _ => format!("{host}:{port}"),
    };
    let mut head = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(user) = proxy.username() {
        let pair = format!("{user}:{}", proxy.password().unwrap_or_default());
        let token = base64::engine::general_purpose::STANDARD.encode(pair);
        head.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
    }
    head.push_str(&format!(
        "User-Agent: {}\r\n\r\n",
        crate::transport::USER_AGENT
    ));
    conn.write_all(head.as_bytes())?;
    conn.flush()?;
    // The answer's head, read a byte at a time: nothing past it may be
    // taken from the tunnel.
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        if conn.read(&mut byte)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the proxy closed the connection before answering CONNECT",
            )
            .into());
        }
        answer.push(byte[0]);
        if answer.ends_with(b"\r\n\r\n") {
            break;
        }
        if answer.len() > MAX_HEAD {
            return Err(invalid_data("the proxy's answer to CONNECT is too long").into());
        }
    }
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(&answer) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err(invalid_data("the proxy's answer to CONNECT is not HTTP").into()),
    }
    match response.code {
        Some(code) if (200..300).contains(&code) => Ok(conn),
        Some(code) => Err(ProxyError::Refused(code)),
        None => Err(invalid_data("the proxy's answer to CONNECT has no status").into()),
    }
}

fn invalid_data(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// A TCP socket whose every read and write waits at most `idle`, and never
/// past `deadline`.
struct TimedTcp {
    tcp: TcpStream,
    idle: Duration,
    deadline: Option<Instant>,
}

impl TimedTcp {
    fn limit(&mut self, idle: Duration, deadline: Option<Instant>) {
        self.idle = idle;
        self.deadline = deadline;
    }

    /// How long the next read or write may wait.
    fn budget(&self) -> io::Result<Duration> {
        let mut budget = self.idle;
        if self.deadline.is_some() {
            budget = budget.min(left(self.deadline)?);
        }
        // A zero timeout means "none" to the socket.
        Ok(budget.max(Duration::from_millis(1)))
    }
}

impl Read for TimedTcp {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.tcp.set_read_timeout(Some(self.budget()?))?;
        self.tcp.read(buf)
    }
}

impl Write for TimedTcp {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tcp.set_write_timeout(Some(self.budget()?))?;
        self.tcp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

type TlsOver<S> = rustls::StreamOwned<rustls::ClientConnection, S>;

/// The connection under the WebSocket: TCP, TLS (to the toolbox or to an
/// HTTPS proxy), or TLS to the toolbox inside TLS to an HTTPS proxy.
enum Conn {
    Tcp(TimedTcp),
    Tls(Box<TlsOver<TimedTcp>>),
    TlsInTls(Box<TlsOver<TlsOver<TimedTcp>>>),
}

impl Conn {
    fn timed(&mut self) -> &mut TimedTcp {
        match self {
            Conn::Tcp(t) => t,
            Conn::Tls(s) => &mut s.sock,
            Conn::TlsInTls(s) => &mut s.sock.sock,
        }
    }

    /// This connection wrapped in TLS to `host`, with the client's trust.
    fn tls(self, transport: &Transport, host: &str) -> io::Result<Conn> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let name = rustls::pki_types::ServerName::try_from(host.to_string())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let config = transport
            .tls()
            .rustls_config()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        let wrap = |config: Arc<rustls::ClientConfig>| {
            rustls::ClientConnection::new(config, name)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
        };
        let mut conn = match self {
            Conn::Tcp(t) => Conn::Tls(Box::new(rustls::StreamOwned::new(wrap(config)?, t))),
            Conn::Tls(inner) => {
                Conn::TlsInTls(Box::new(rustls::StreamOwned::new(wrap(config)?, *inner)))
            }
            Conn::TlsInTls(_) => return Err(invalid("TLS nested too deep")),
        };
        // The handshake now, under the connect timeout, so that a
        // certificate that does not verify fails here.
        match &mut conn {
            Conn::Tls(s) => complete(&mut s.conn, &mut s.sock)?,
            Conn::TlsInTls(s) => complete(&mut s.conn, &mut s.sock)?,
            Conn::Tcp(_) => {}
        }
        Ok(conn)
    }
}

fn complete(conn: &mut rustls::ClientConnection, io: &mut (impl Read + Write)) -> io::Result<()> {
    while conn.is_handshaking() {
        conn.complete_io(io)?;
    }
    Ok(())
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Tcp(t) => t.read(buf),
            Conn::Tls(s) => s.read(buf),
            Conn::TlsInTls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Tcp(t) => t.write(buf),
            Conn::Tls(s) => s.write(buf),
            Conn::TlsInTls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Tcp(t) => t.flush(),
            Conn::Tls(s) => s.flush(),
            Conn::TlsInTls(s) => s.flush(),
        }
    }
}

/// The connection during the upgrade, keeping what tungstenite reads (the
/// answer's head, and the first frames when they came with it).
struct Recorded {
    conn: Conn,
    read: Vec<u8>,
}

impl Read for Recorded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.conn.read(buf)?;
        if self.read.len() + n > MAX_HEAD + MAX_FRAME {
            return Err(invalid_data("the answer to the upgrade is too long"));
        }
        self.read.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

impl Write for Recorded {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.conn.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.conn.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_need_no_lookup_and_names_are_looked_up_in_time() {
        let past = Some(Instant::now());
        assert_eq!(
            resolve("127.0.0.1", 80, past).unwrap(),
            vec!["127.0.0.1:80".parse().unwrap()]
        );
        assert_eq!(
            resolve("::1", 443, past).unwrap(),
            vec!["[::1]:443".parse().unwrap()]
        );
        let soon = Instant::now().checked_add(Duration::from_secs(5));
        let found = resolve("localhost", 8080, soon).unwrap();
        assert!(!found.is_empty());
        assert!(found
            .iter()
            .all(|a| a.ip().is_loopback() && a.port() == 8080));
        // Out of time: no lookup at all.
        let e = resolve("localhost", 8080, past).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
    }

    #[test]
    fn masks_are_random() {
        let masks: std::collections::HashSet<[u8; 4]> = (0..20).map(|_| mask()).collect();
        assert!(masks.len() > 15, "{masks:?}");
    }
}
