//! The simulator's side of a WebSocket: the upgrade answer (101) and the
//! connection, with tungstenite's server side on the HTTP server's socket.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::frame::CloseFrame;
use tungstenite::protocol::{Role, WebSocket};
use tungstenite::Message;

use super::error;
use super::server::{Outcome, Request};

/// A server-side WebSocket of the simulator.
pub(crate) type Ws = WebSocket<Conn>;

/// How long sending one message may wait for the client to read (any
/// other write: each system call): a client that reads nothing is let go,
/// rather than holding its connection's thread for ever.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// The connection under a [`Ws`]: its writes end at a deadline, the
/// whole of a message's (a client that takes a few bytes now and then
/// does not stretch it), or [`WRITE_TIMEOUT`] each.
pub(crate) struct Conn {
    stream: TcpStream,
    deadline: Option<Instant>,
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.read(buf)
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let left = self.deadline.map_or(WRITE_TIMEOUT, |d| {
            d.saturating_duration_since(Instant::now())
        });
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        self.stream.set_write_timeout(Some(left))?;
        self.stream.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

impl Deref for Conn {
    type Target = TcpStream;

    fn deref(&self) -> &TcpStream {
        &self.stream
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut TcpStream {
        &mut self.stream
    }
}

/// Runs `f` with the writes of `ws` due within [`WRITE_TIMEOUT`].
fn within<T>(ws: &mut Ws, f: impl FnOnce(&mut Ws) -> T) -> T {
    ws.get_mut().deadline = Some(Instant::now() + WRITE_TIMEOUT);
    let done = f(ws);
    ws.get_mut().deadline = None;
    done
}

/// Answers an upgrade request with 101 and hands the connection to `run`
/// (on the connection's thread); 400 when `req` does not ask to upgrade.
pub(crate) fn upgrade(req: &Request, run: impl FnOnce(Ws) + Send + 'static) -> Outcome {
    let asks = req
        .header("upgrade")
        .is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    let Some(key) = req.header("sec-websocket-key").filter(|_| asks) else {
        return Outcome::Respond(error(400, "expected a WebSocket upgrade"));
    };
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    Outcome::Upgrade(Box::new(move |mut stream, read_ahead| {
        let head = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\n\r\n"
        );
        if io::Write::write_all(&mut stream, head.as_bytes()).is_err() {
            return;
        }
        let _ = stream.set_read_timeout(None);
        let conn = Conn {
            stream,
            deadline: None,
        };
        let ws = WebSocket::from_partially_read(conn, read_ahead, Role::Server, None);
        run(ws);
    }))
}

/// Sends a text message; false when the client is gone.
pub(crate) fn send_text(ws: &mut Ws, text: &str) -> bool {
    within(ws, |ws| ws.send(Message::text(text)).is_ok())
}

/// Sends a binary message; false when the client is gone.
pub(crate) fn send_binary(ws: &mut Ws, bytes: &[u8]) -> bool {
    within(ws, |ws| ws.send(Message::binary(bytes.to_vec())).is_ok())
}

/// How long [`close`] waits for the client's reply.
const CLOSE_WAIT: Duration = Duration::from_millis(500);

/// Closes with `code` and `reason`, then waits (a little) for the client's
/// reply: [`CLOSE_WAIT`] in all, however much else the client sends.
pub(crate) fn close(ws: &mut Ws, code: u16, reason: &str) {
    within(ws, |ws| close_within(ws, code, reason));
}

fn close_within(ws: &mut Ws, code: u16, reason: &str) {
    let _ = ws.close(Some(CloseFrame {
        code: CloseCode::from(code),
        reason: reason.to_string().into(),
    }));
    let until = Instant::now() + CLOSE_WAIT;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() || ws.get_mut().set_read_timeout(Some(left)).is_err() {
            return;
        }
        if ws.read().is_err() {
            return;
        }
    }
}

/// What [`poll`] found.
pub(crate) enum Polled {
    /// A data message from the client.
    Data(Vec<u8>),
    /// Nothing within the wait (pings answered meanwhile).
    Nothing,
    /// The client closed or the connection broke.
    Gone,
}

/// Waits at most `wait` for the client's next data message.
pub(crate) fn poll(ws: &mut Ws, wait: Duration) -> Polled {
    let _ = ws
        .get_mut()
        .set_read_timeout(Some(wait.max(Duration::from_millis(1))));
    match ws.read() {
        Ok(Message::Text(t)) => Polled::Data(t.as_bytes().to_vec()),
        Ok(Message::Binary(b)) => Polled::Data(b.to_vec()),
        Ok(Message::Close(_)) => Polled::Gone,
        Ok(_) => Polled::Nothing,
        Err(tungstenite::Error::Io(e))
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Polled::Nothing
        }
        Err(_) => Polled::Gone,
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::sync::mpsc;

    use super::*;

    /// A client that reads nothing is let go within the write timeout.
    #[test]
    fn a_client_that_never_reads_is_let_go() {
        let headers = [
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZQ=="),
        ];
        let req = Request {
            method: "GET".into(),
            path: "/".into(),
            segments: Vec::new(),
            query: Vec::new(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: Vec::new(),
        };
        let (tx, rx) = mpsc::channel();
        let Outcome::Upgrade(take_over) = upgrade(&req, move |mut ws| {
            while send_binary(&mut ws, &[0; 64 << 10]) {}
            let _ = tx.send(());
        }) else {
            panic!("not upgraded");
        };
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        std::thread::spawn(move || take_over(server, Vec::new()));
        let wait = WRITE_TIMEOUT + Duration::from_secs(10);
        assert!(rx.recv_timeout(wait).is_ok(), "still writing");
    }
}
