//! What sits in front of a [`super::FaultServer`] in the network tests: an
//! HTTP proxy answering `CONNECT`, and a TLS front with the test PKI of
//! `tests/fixtures/tls/` (a certificate for `localhost` and `127.0.0.1`).

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::Listener;

/// The longest a relayed connection lives.
const LIFE: Duration = Duration::from_secs(30);

/// A `CONNECT` request as the proxy saw it.
#[derive(Clone, Debug)]
pub struct Connect {
    /// `host:port`.
    pub target: String,
    /// The `Proxy-Authorization` header, if any.
    pub authorization: Option<String>,
}

/// A relay on 127.0.0.1 (see the module documentation).
pub struct Relay {
    /// The port it listens on.
    pub port: u16,
    connects: Arc<Mutex<Vec<Connect>>>,
    /// Stops accepting when the relay is dropped.
    _listener: Listener,
}

impl Relay {
    /// An HTTP proxy that answers the `n`th `CONNECT` (from 0) with
    /// `status(n)`; with 200, it then tunnels to the target.
    pub fn connect_proxy(status: impl Fn(usize) -> u16 + Send + Sync + 'static) -> Relay {
        let connects: Arc<Mutex<Vec<Connect>>> = Arc::default();
        let seen = connects.clone();
        Self::start(connects, move |mut client| {
            let Some(head) = read_head(&mut client) else {
                return;
            };
            let text = String::from_utf8_lossy(&head).into_owned();
            let mut lines = text.split("\r\n");
            let target = lines
                .next()
                .and_then(|l| l.strip_prefix("CONNECT "))
                .and_then(|l| l.split(' ').next())
                .unwrap_or_default()
                .to_string();
            let authorization = lines
                .filter_map(|l| l.split_once(':'))
                .find(|(n, _)| n.eq_ignore_ascii_case("proxy-authorization"))
                .map(|(_, v)| v.trim().to_string());
            let status = {
                let mut seen = seen.lock().unwrap();
                seen.push(Connect {
                    target: target.clone(),
                    authorization,
                });
                status(seen.len() - 1)
            };
            if status != 200 {
                let _ = write!(
                    client,
                    "HTTP/1.1 {status} No\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                return;
            }
            let Ok(upstream) = TcpStream::connect(&target) else {
                let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
                return;
            };
            let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
            tunnel(client, upstream);
        })
    }

    /// A TLS front for the server on `backend` (a port of 127.0.0.1).
    pub fn tls(backend: u16) -> Relay {
        let config = server_config();
        Self::start(Arc::default(), move |client| {
            let Ok(upstream) = TcpStream::connect(("127.0.0.1", backend)) else {
                return;
            };
            let _ = tls_pump(client, upstream, config.clone());
        })
    }

    fn start(
        connects: Arc<Mutex<Vec<Connect>>>,
        handle: impl Fn(TcpStream) + Send + Sync + 'static,
    ) -> Relay {
        let listener = Listener::start(move |accepted| handle(accepted.stream));
        Relay {
            port: listener.port,
            connects,
            _listener: listener,
        }
    }

    /// The `CONNECT` requests seen so far.
    pub fn connects(&self) -> Vec<Connect> {
        self.connects.lock().unwrap().clone()
    }
}

/// The head of a request, read a byte at a time (nothing past it).
fn read_head(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).ok()? == 0 || head.len() > 64 << 10 {
            return None;
        }
        head.push(byte[0]);
    }
    Some(head)
}

/// Copies both ways until either side closes.
fn tunnel(client: TcpStream, upstream: TcpStream) {
    let pairs = [
        (client.try_clone().unwrap(), upstream.try_clone().unwrap()),
        (upstream, client),
    ];
    let copies: Vec<_> = pairs
        .into_iter()
        .map(|(mut from, mut to)| {
            thread::spawn(move || {
                let _ = from.set_read_timeout(Some(LIFE));
                let _ = io::copy(&mut from, &mut to);
                let _ = to.shutdown(Shutdown::Write);
            })
        })
        .collect();
    for c in copies {
        let _ = c.join();
    }
}

/// The test certificate and key, and the *ring* provider.
fn server_config() -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls/");
    let chain = CertificateDer::pem_file_iter(format!("{dir}server.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(format!("{dir}server.key")).unwrap();
    // The provider the crate itself falls back to.
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    Arc::new(config)
}

/// The test CA, as PEM.
pub fn test_ca_pem() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/tls/ca.pem"
    ))
    .unwrap()
}

/// Decrypts what `client` sends to `upstream` and encrypts the answers,
/// on one thread: both sockets are polled with short read timeouts.
fn tls_pump(
    mut client: TcpStream,
    mut upstream: TcpStream,
    config: Arc<rustls::ServerConfig>,
) -> io::Result<()> {
    let mut tls = rustls::ServerConnection::new(config).map_err(io::Error::other)?;
    client.set_read_timeout(Some(Duration::from_millis(2)))?;
    upstream.set_read_timeout(Some(Duration::from_millis(2)))?;
    let started = Instant::now();
    let mut buf = vec![0u8; 64 << 10];
    let waiting = |e: &io::Error| {
        matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        )
    };
    while started.elapsed() < LIFE {
        match tls.read_tls(&mut client) {
            Ok(0) => break,
            Ok(_) => {
                // A client that does not trust the certificate ends here.
                tls.process_new_packets().map_err(io::Error::other)?;
            }
            Err(e) if waiting(&e) => {}
            Err(e) => return Err(e),
        }
        loop {
            match tls.reader().read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => upstream.write_all(&buf[..n])?,
                Err(e) if waiting(&e) => break,
                Err(e) => return Err(e),
            }
        }
        match upstream.read(&mut buf) {
            Ok(0) => {
                tls.send_close_notify();
                while tls.wants_write() {
                    tls.write_tls(&mut client)?;
                }
                return Ok(());
            }
            Ok(n) => tls.writer().write_all(&buf[..n])?,
            Err(e) if waiting(&e) => {}
            Err(e) => return Err(e),
        }
        while tls.wants_write() {
            tls.write_tls(&mut client)?;
        }
    }
    Ok(())
}
