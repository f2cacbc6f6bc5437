//! The simulator's side of a WebSocket: the upgrade answer (101) and the
//! connection, with tungstenite's server side on the HTTP server's socket.

use std::io;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::frame::CloseFrame;
use tungstenite::protocol::{Role, WebSocket};
use tungstenite::Message;

use super::error;
use super::server::{Outcome, Request};

/// A server-side WebSocket of the simulator.
pub(crate) type Ws = WebSocket<TcpStream>;

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
        let ws = WebSocket::from_partially_read(stream, read_ahead, Role::Server, None);
        run(ws);
    }))
}

/// Sends a text message; false when the client is gone.
pub(crate) fn send_text(ws: &mut Ws, text: &str) -> bool {
    ws.send(Message::text(text)).is_ok()
}

/// Sends a binary message; false when the client is gone.
pub(crate) fn send_binary(ws: &mut Ws, bytes: &[u8]) -> bool {
    ws.send(Message::binary(bytes.to_vec())).is_ok()
}

/// How long [`close`] waits for the client's reply.
const CLOSE_WAIT: Duration = Duration::from_millis(500);

/// Closes with `code` and `reason`, then waits (a little) for the client's
/// reply: [`CLOSE_WAIT`] in all, however much else the client sends.
pub(crate) fn close(ws: &mut Ws, code: u16, reason: &str) {
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
