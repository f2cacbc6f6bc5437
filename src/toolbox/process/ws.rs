//! The WebSocket connection of a followed log: TCP with the client's
//! connect timeout, TLS through the rustls that ureq uses, the upgrade with
//! the SDK's headers (to the sandbox's toolbox host only: no proxy, no
//! redirect), and every read and write bounded by an idle limit and an
//! optional deadline.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::transport::url::{Host, Url};
use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::HandshakeError;
use tungstenite::http::HeaderValue;

use crate::error::{ApiError, Error, Result};
use crate::transport::mask::Mask;
use crate::transport::{error_fields, parse_retry_after};

/// An open log stream.
pub(super) type Socket = tungstenite::WebSocket<TextAsBinary<Conn>>;

/// Where and how to connect.
pub(super) struct Target<'a> {
    /// The `ws://` or `wss://` URL, query included.
    pub(super) url: &'a str,
    /// `METHOD /path`, for errors.
    pub(super) operation: &'a str,
    /// The headers of every SDK request, the credential masked.
    pub(super) headers: Vec<(&'static str, String)>,
    /// Unmasks the credential as the upgrade request is written.
    pub(super) mask: Arc<Mask>,
    /// The limit of the TCP connect, TLS and upgrade together.
    pub(super) connect_timeout: Duration,
}

/// Connects and upgrades. Every step is bounded by the connect timeout and
/// `deadline`; the socket then waits at most `idle` for each read.
pub(super) fn connect(
    target: &Target<'_>,
    idle: Duration,
    deadline: Option<Instant>,
) -> Result<Socket> {
    let started = Instant::now();
    let op = target.operation;
    let transport = |source: Box<dyn std::error::Error + Send + Sync>| Error::Transport {
        operation: op.to_string(),
        source,
    };
    let timeout = || Error::Timeout {
        operation: format!("{op}: connecting"),
        after: started.elapsed(),
    };
    let url = Url::parse(target.url).map_err(|e| transport(Box::new(e)))?;
    let tls = match url.scheme() {
        "ws" => false,
        "wss" => true,
        other => return Err(transport(format!("unsupported scheme {other:?}").into())),
    };
    let connect_by = earliest(Some(started + target.connect_timeout), deadline);
    let tcp = open_tcp(&url, connect_by).map_err(|e| match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => timeout(),
        _ => transport(Box::new(e)),
    })?;
    let timed = TimedTcp::new(tcp, target.connect_timeout, connect_by);
    let conn = if tls {
        let server_name = match url.host() {
            Host::Domain(d) => rustls::pki_types::ServerName::try_from(d.to_string())
                .map_err(|e| transport(Box::new(e)))?,
            Host::Ipv4(ip) => rustls::pki_types::ServerName::from(ip),
            Host::Ipv6(ip) => rustls::pki_types::ServerName::from(ip),
        };
        let tls = rustls::ClientConnection::new(tls_config()?, server_name)
            .map_err(|e| transport(Box::new(e)))?;
        Conn::Tls(Box::new(rustls::StreamOwned::new(tls, timed)))
    } else {
        Conn::Plain(timed)
    };
    let mut request = target
        .url
        .into_client_request()
        .map_err(|e| transport(Box::new(e)))?;
    for (name, value) in &target.headers {
        let value = HeaderValue::from_str(value).map_err(|e| {
            Error::Config(format!(
                "header {name} cannot be sent on a WebSocket upgrade: {e}"
            ))
        })?;
        request.headers_mut().insert(*name, value);
    }
    let (mut socket, _) = tungstenite::client::client_with_config(
        request,
        TextAsBinary::unmasking(conn, target.mask.clone()),
        None,
    )
    .map_err(|e| match e {
        HandshakeError::Interrupted(_) => timeout(),
        HandshakeError::Failure(e) => map_error(e, op, timeout),
    })?;
    socket.get_mut().inner.timed().limit(idle, deadline);
    Ok(socket)
}

/// Maps an error of the connection; `timeout` makes the error of a read
/// or write that ran out of time.
pub(super) fn map_error(
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
        // Not an error status: the server (or something in front of it)
        // answered, but not with the upgrade.
        tungstenite::Error::Http(resp)
            if !(resp.status().is_client_error() || resp.status().is_server_error()) =>
        {
            Error::Transport {
                operation: operation.to_string(),
                source: format!(
                    "expected the upgrade to a WebSocket (HTTP 101), got HTTP {}",
                    resp.status().as_u16()
                )
                .into(),
            }
        }
        tungstenite::Error::Http(resp) => {
            let status = resp.status();
            let body = resp.body().as_deref().unwrap_or_default();
            let (mut message, code) = error_fields(body);
            if message.is_empty() {
                message = status.canonical_reason().unwrap_or("").to_string();
            }
            Error::Api(Box::new(ApiError {
                status: status.as_u16(),
                message,
                code,
                retry_after: resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_retry_after),
                operation: operation.to_string(),
            }))
        }
        other => Error::Transport {
            operation: operation.to_string(),
            source: Box::new(other),
        },
    }
}

/// Whether connecting again may succeed where this attempt failed:
/// statuses that mean "not now" (408, 429, 502, 503, 504), a connect or
/// handshake that ran out of time, and connections refused, reset or
/// closed before the upgrade.
pub(super) fn transient(e: &Error) -> bool {
    match e {
        Error::Api(api) => matches!(api.status, 408 | 429 | 502 | 503 | 504),
        Error::Timeout { .. } => true,
        Error::Transport { source, .. } => {
            let io = match source.downcast_ref::<tungstenite::Error>() {
                Some(tungstenite::Error::Io(io)) => Some(io),
                Some(tungstenite::Error::Protocol(
                    tungstenite::error::ProtocolError::HandshakeIncomplete,
                )) => return true,
                Some(_) => None,
                None => source.downcast_ref::<io::Error>(),
            };
            io.is_some_and(|io| {
                matches!(
                    io.kind(),
                    io::ErrorKind::ConnectionRefused
                        | io::ErrorKind::ConnectionReset
                        | io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::BrokenPipe
                        | io::ErrorKind::UnexpectedEof
                )
            })
        }
        _ => false,
    }
}

/// The earlier of two optional instants.
pub(super) fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Connects to the first address of `url` that answers before `by`.
fn open_tcp(url: &Url, by: Option<Instant>) -> io::Result<TcpStream> {
    let host = url.host_str().trim_start_matches('[').trim_end_matches(']');
    let port = url
        .port_or_known_default()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the URL has no port"))?;
    let mut last = io::Error::new(io::ErrorKind::NotFound, format!("{host} has no address"));
    for addr in (host, port).to_socket_addrs()? {
        let left = match by {
            Some(by) => by.saturating_duration_since(Instant::now()),
            None => Duration::MAX,
        };
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(tcp) => {
                tcp.set_nodelay(true)?;
                return Ok(tcp);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// The TLS configuration: the ring provider and webpki roots, as ureq's.
fn tls_config() -> Result<Arc<rustls::ClientConfig>> {
    static CONFIG: OnceLock<std::result::Result<Arc<rustls::ClientConfig>, String>> =
        OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map(|b| Arc::new(b.with_root_certificates(roots).with_no_client_auth()))
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| Error::Config(format!("TLS for WebSocket connections: {e}")))
}

/// A TCP socket whose every read and write waits at most `idle`, and never
/// past `deadline`.
pub(super) struct TimedTcp {
    tcp: TcpStream,
    idle: Duration,
    deadline: Option<Instant>,
}

impl TimedTcp {
    fn new(tcp: TcpStream, idle: Duration, deadline: Option<Instant>) -> Self {
        TimedTcp {
            tcp,
            idle,
            deadline,
        }
    }

    fn limit(&mut self, idle: Duration, deadline: Option<Instant>) {
        self.idle = idle;
        self.deadline = deadline;
    }

    /// How long the next read or write may wait.
    fn budget(&self) -> io::Result<Duration> {
        let mut budget = self.idle;
        if let Some(deadline) = self.deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::ErrorKind::TimedOut.into());
            }
            budget = budget.min(left);
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

/// The connection under the WebSocket: plain or TLS.
pub(super) enum Conn {
    Plain(TimedTcp),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TimedTcp>>),
}

impl Conn {
    fn timed(&mut self) -> &mut TimedTcp {
        match self {
            Conn::Plain(t) => t,
            Conn::Tls(s) => &mut s.sock,
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(t) => t.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(t) => t.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(t) => t.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

/// Presents the server's text frames as binary frames.
///
/// The toolbox sends raw chunks of the log as text frames, and a chunk
/// that ends inside a multi-byte character is not valid UTF-8 on its own:
/// tungstenite would reject the frame and its bytes would be lost. The
/// log is a byte stream anyway ([`super::demux`] decodes it), so the
/// opcode of each incoming frame header is rewritten from text to binary
/// before tungstenite sees it. Bytes up to the end of the HTTP response
/// head pass unchanged, and all of them when the answer is not a `101`.
pub(super) struct TextAsBinary<S> {
    inner: S,
    scan: Scan,
    /// Until the upgrade request is written: puts the credential in place
    /// of its mask (tungstenite logs the request at trace level, so it
    /// only ever sees the mask).
    unmask: Option<Arc<Mask>>,
}

enum Scan {
    /// In the response head: its first bytes (for the status) and how much
    /// of the blank line that ends it was seen.
    Head { start: Vec<u8>, matched: usize },
    /// In a frame header: the bytes seen so far.
    Header { bytes: [u8; 14], len: usize },
    /// In a payload: the bytes left.
    Payload { left: u64 },
    /// Not a WebSocket stream: nothing to rewrite.
    Plain,
}

impl<S> TextAsBinary<S> {
    fn new(inner: S) -> Self {
        TextAsBinary {
            inner,
            scan: Scan::Head {
                start: Vec::new(),
                matched: 0,
            },
            unmask: None,
        }
    }

    fn unmasking(inner: S, mask: Arc<Mask>) -> Self {
        TextAsBinary {
            unmask: Some(mask),
            ..Self::new(inner)
        }
    }

    fn rewrite(&mut self, data: &mut [u8]) {
        let mut i = 0;
        while i < data.len() {
            match &mut self.scan {
                Scan::Plain => return,
                Scan::Head { start, matched } => {
                    let b = data[i];
                    i += 1;
                    if start.len() < 12 {
                        start.push(b);
                    }
                    *matched = match (b, *matched) {
                        (b'\r', 0 | 2) | (b'\n', 1 | 3) => *matched + 1,
                        (b'\r', _) => 1,
                        _ => 0,
                    };
                    if *matched == 4 {
                        // `HTTP/1.1 101`
                        self.scan = if start.get(9..12) == Some(&b"101"[..]) {
                            Scan::Header {
                                bytes: [0; 14],
                                len: 0,
                            }
                        } else {
                            Scan::Plain
                        };
                    }
                }
                Scan::Header { bytes, len } => {
                    if *len == 0 && data[i] & 0x0F == 0x1 {
                        data[i] = (data[i] & 0xF0) | 0x2;
                    }
                    bytes[*len] = data[i];
                    *len += 1;
                    i += 1;
                    if let Some(payload) = frame_length(&bytes[..*len]) {
                        self.scan = if payload == 0 {
                            Scan::Header {
                                bytes: [0; 14],
                                len: 0,
                            }
                        } else {
                            Scan::Payload { left: payload }
                        };
                    }
                }
                Scan::Payload { left } => {
                    let skip = (data.len() - i).min(usize::try_from(*left).unwrap_or(usize::MAX));
                    i += skip;
                    *left -= skip as u64;
                    if *left == 0 {
                        self.scan = Scan::Header {
                            bytes: [0; 14],
                            len: 0,
                        };
                    }
                }
            }
        }
    }
}

/// The payload length of a frame once `header` holds its whole header.
fn frame_length(header: &[u8]) -> Option<u64> {
    let second = *header.get(1)?;
    let mask = if second & 0x80 != 0 { 4 } else { 0 };
    let (extra, short) = match second & 0x7F {
        126 => (2, None),
        127 => (8, None),
        n => (0, Some(u64::from(n))),
    };
    if header.len() < 2 + extra + mask {
        return None;
    }
    Some(short.unwrap_or_else(|| {
        header[2..2 + extra]
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
    }))
}

impl<S: Read> Read for TextAsBinary<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.rewrite(&mut buf[..n]);
        Ok(n)
    }
}

impl<S: Write> Write for TextAsBinary<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(mask) = &self.unmask {
            let mut head = buf.to_vec();
            if mask.unmask(&mut head) {
                // All of it at once: a partial write would leave the rest
                // of the line to be written masked.
                self.unmask = None;
                self.inner.write_all(&head)?;
                return Ok(buf.len());
            }
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(chunks: &[&[u8]]) -> Vec<u8> {
        let mut s = TextAsBinary::new(());
        let mut out = Vec::new();
        for c in chunks {
            let mut c = c.to_vec();
            s.rewrite(&mut c);
            out.extend(c);
        }
        out
    }

    fn stream() -> Vec<u8> {
        let mut v = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n".to_vec();
        v.extend([0x81, 2, 0xC3, 0xA9]); // text "é"
        v.extend([0x01, 1, 0xF0]); // text fragment, not final
        v.extend([0x80, 126, 0, 3, 0x9F, 0xA6, 0x80]); // continuation, 16-bit length
        v.extend([0x89, 0]); // ping
        v.extend([0x82, 127, 0, 0, 0, 0, 0, 0, 0, 1, 0x01]); // binary, 64-bit length
        v.extend([0x88, 2, 0x03, 0xE8]); // close 1000
        v
    }

    fn expected() -> Vec<u8> {
        let mut v = stream();
        let head = v.len() - 4 - 3 - 7 - 2 - 11 - 4;
        v[head] = 0x82;
        v[head + 4] = 0x02;
        v
    }

    #[test]
    fn text_opcodes_become_binary_however_the_bytes_arrive() {
        let s = stream();
        assert_eq!(rewritten(&[&s]), expected());
        for cut in 0..=s.len() {
            assert_eq!(
                rewritten(&[&s[..cut], &s[cut..]]),
                expected(),
                "cut at {cut}"
            );
        }
        let bytes: Vec<&[u8]> = s.iter().map(std::slice::from_ref).collect();
        assert_eq!(rewritten(&bytes), expected());
    }

    #[test]
    fn a_refused_upgrade_passes_unchanged() {
        let s = b"HTTP/1.1 404 Not Found\r\ncontent-length: 3\r\n\r\n\x81\x01a";
        assert_eq!(rewritten(&[s]), s.to_vec());
    }
}
