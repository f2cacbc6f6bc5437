//! One connection attempt: the connection (`conn`), then tungstenite's
//! handshake with the SDK's headers, all within the connect timeout; the
//! frames that came with the answer are kept for the frame reader.

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::headers::MAX_HEADERS;
use tungstenite::handshake::HandshakeError;
use tungstenite::protocol::frame::FrameSocket;
use ureq::http::{HeaderName, HeaderValue};

use super::conn::{self, Conn};
use super::{earliest, Failed, IdleOf, Limits, Socket, Target};
use crate::error::Error;
use crate::transport::status::{handshake_failure, Failure};
use crate::transport::Transport;

/// Largest answer head of the upgrade.
const MAX_HEAD: usize = 64 << 10;

/// One attempt: connects and upgrades within the connect timeout and the
/// deadline of `limits`.
pub(super) fn connect(
    transport: &Transport,
    target: &Target<'_>,
    limits: Limits,
) -> Result<Socket, Failed> {
    let started = Instant::now();
    let by = earliest(
        started.checked_add(transport.connect_timeout()),
        limits.deadline,
    );
    let conn = conn::open(target.url, target.operation, transport, by, started)?;
    let mut socket = upgrade(transport, target, conn, started)?;
    socket.limits = limits;
    let timed = socket.frames.get_mut().timed();
    timed.deadline = limits.deadline;
    timed.wait = limits.idle;
    timed.last_read = Instant::now();
    socket.last_data = Instant::now();
    Ok(socket)
}

/// The upgrade, with the SDK's headers; the frames that came with the
/// answer are kept for the frame reader.
fn upgrade(
    transport: &Transport,
    target: &Target<'_>,
    conn: Conn,
    started: Instant,
) -> Result<Socket, Failed> {
    let op = target.operation;
    let mut request = target
        .url
        .as_str()
        .into_client_request()
        .map_err(|e| handshake_failure(e, op, started))?;
    for (name, value) in transport.headers() {
        if !target.credential && name == "authorization" {
            continue;
        }
        request.headers_mut().insert(name.clone(), value.clone());
    }
    crate::telemetry::inject(&transport.tracing(), |name, value| {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            request.headers_mut().insert(name, value);
        }
    });
    if !target.protocols.is_empty() {
        let offered = HeaderValue::try_from(target.protocols.join(", ")).map_err(|_| Failed {
            error: Error::validation("protocols", "not a valid header value"),
            failure: Failure::Permanent,
        })?;
        request
            .headers_mut()
            .insert("sec-websocket-protocol", offered);
    }
    let recorded = Recorded {
        conn,
        read: Vec::new(),
    };
    let (socket, response) = tungstenite::client::client_with_config(request, recorded, None)
        .map_err(|e| match e {
            HandshakeError::Interrupted(_) => Failed {
                error: Error::Timeout {
                    operation: format!("{op}: connecting"),
                    after: started.elapsed(),
                },
                failure: Failure::Transient,
            },
            HandshakeError::Failure(e) => handshake_failure(e, op, started),
        })?;
    let protocol = response
        .headers()
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let recorded = socket.into_inner();
    // tungstenite read the answer's head and perhaps the first frames: the
    // frames start where `httparse` says the head ends, parsing with room
    // for as many headers as tungstenite accepted.
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let head = match httparse::Response::new(&mut headers).parse(&recorded.read) {
        Ok(httparse::Status::Complete(n)) => n,
        _ => recorded.read.len(),
    };
    let tail = recorded.read[head..].to_vec();
    Ok(Socket {
        frames: FrameSocket::from_partially_read(recorded.conn, tail),
        operation: op.to_string(),
        limits: Limits {
            idle: Duration::MAX,
            idle_of: IdleOf::Silence,
            keepalive: None,
            deadline: None,
            max_message: 0,
        },
        partial: None,
        pinged: None,
        last_data: Instant::now(),
        protocol,
        broken: false,
        unsent: false,
    })
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
        if self.read.len() + n > MAX_HEAD + (1 << 20) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the answer to the upgrade is too long",
            ));
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
