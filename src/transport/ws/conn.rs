//! The connection under a WebSocket, with the REST calls' rules: the same
//! proxy (`CONNECT` through an HTTP(S) proxy, `NO_PROXY` honoured, none for
//! a loopback host), the same TLS trust, the connect timeout over the name
//! lookup, TCP, proxy and TLS together; then every read and write bounded
//! by a wait and an optional deadline.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use ureq::http::Uri;
use ureq::ProxyProtocol;
use url::{Host, Url};

use super::Failed;
use crate::error::Error;
use crate::transport::status::{io_error, Failure};
use crate::transport::{is_loopback, Transport};

/// Largest answer head of a proxy.
const MAX_HEAD: usize = 64 << 10;

/// Opens the connection to the host of the `ws://` or `wss://` `url`
/// (through the transport's proxy, in TLS for `wss`), by `by`.
pub(super) fn open(
    url: &Url,
    op: &str,
    transport: &Transport,
    by: Option<Instant>,
    started: Instant,
) -> Result<Conn, Failed> {
    let fail = |e: io::Error| Failed {
        failure: Failure::of_io(e.kind()),
        error: io_error(e, &format!("{op}: connecting"), started.elapsed()),
    };
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
    let https = matches!(url.scheme(), "wss" | "https");
    let proxy = transport
        .proxy(https)
        .filter(|proxy| !is_loopback(url) && !bypassed(proxy, url));
    let conn = match proxy {
        None => Conn::Tcp(open_tcp(&host, port, by).map_err(fail)?),
        Some(proxy) => through_proxy(proxy, &host, port, transport, by).map_err(|e| match e {
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
        })?,
    };
    if tls {
        conn.tls(transport, url.host_str().unwrap_or_default())
            .map_err(fail)
    } else {
        Ok(conn)
    }
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, what.to_string())
}

fn invalid_data(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// How long is left until `by`; an error once it has passed.
pub(super) fn left(by: Option<Instant>) -> io::Result<Duration> {
    match by {
        None => Ok(Duration::MAX),
        Some(by) => match by.checked_duration_since(Instant::now()) {
            Some(left) if !left.is_zero() => Ok(left),
            _ => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the time limit passed",
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
                    wait: left,
                    deadline: by,
                    poll: false,
                    last_read: Instant::now(),
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

/// A TCP socket whose every read waits at most `wait` and every write at
/// most `write_wait`, never past `deadline`; in `poll` mode a read that
/// would wait returns `WouldBlock` at once.
pub(super) struct TimedTcp {
    tcp: TcpStream,
    /// The longest wait of the next read (and of writes).
    pub(super) wait: Duration,
    pub(super) deadline: Option<Instant>,
    pub(super) poll: bool,
    /// When bytes last arrived.
    pub(super) last_read: Instant,
}

impl TimedTcp {
    /// How long the next read or write may wait.
    fn budget(&self) -> io::Result<Duration> {
        let mut budget = self.wait;
        if self.deadline.is_some() {
            budget = budget.min(left(self.deadline)?);
        }
        // A zero timeout means "none" to the socket.
        Ok(budget.max(Duration::from_millis(1)))
    }

    /// Another handle on the socket, to wait for bytes without reading
    /// them ([`TcpStream::peek`]) while the connection is in use.
    pub(super) fn try_clone(&self) -> io::Result<TcpStream> {
        self.tcp.try_clone()
    }
}

impl Read for TimedTcp {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = if self.poll {
            self.tcp.set_nonblocking(true)?;
            let n = self.tcp.read(buf);
            self.tcp.set_nonblocking(false)?;
            n?
        } else {
            self.tcp.set_read_timeout(Some(self.budget()?))?;
            self.tcp.read(buf)?
        };
        if n > 0 {
            self.last_read = Instant::now();
        }
        Ok(n)
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
pub(super) enum Conn {
    Tcp(TimedTcp),
    Tls(Box<TlsOver<TimedTcp>>),
    TlsInTls(Box<TlsOver<TlsOver<TimedTcp>>>),
}

impl Conn {
    pub(super) fn timed(&mut self) -> &mut TimedTcp {
        match self {
            Conn::Tcp(t) => t,
            Conn::Tls(s) => &mut s.sock,
            Conn::TlsInTls(s) => &mut s.sock.sock,
        }
    }

    pub(super) fn timed_ref(&self) -> &TimedTcp {
        match self {
            Conn::Tcp(t) => t,
            Conn::Tls(s) => &s.sock,
            Conn::TlsInTls(s) => &s.sock.sock,
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
}
