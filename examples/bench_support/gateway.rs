//! The bench server's notification gateway (`GET /api/socket.io/`):
//! Engine.IO v4 / Socket.IO v5 over tungstenite's server side, announcing
//! `sandbox.state.updated` for each created sandbox when its timeline
//! makes it `started` (checked every millisecond), and for each deleted
//! one (`destroyed`).

use std::io::{self, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tungstenite::Message;

use super::{sandbox_json, Server, REFUSED_KEY};

/// The request head the server already read, then the rest of the
/// connection: what tungstenite's handshake reads.
struct Replay {
    head: io::Cursor<Vec<u8>>,
    reader: BufReader<TcpStream>,
    out: TcpStream,
}

impl Read for Replay {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.head.read(buf)? {
            0 => self.reader.read(buf),
            n => Ok(n),
        }
    }
}

impl Write for Replay {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Serves one gateway session on a connection whose request head is
/// `head`.
pub(super) fn session(
    server: &Server,
    head: Vec<u8>,
    reader: BufReader<TcpStream>,
    out: TcpStream,
) -> io::Result<()> {
    out.set_read_timeout(Some(Duration::from_millis(1)))?;
    let replay = Replay {
        head: io::Cursor::new(head),
        reader,
        out,
    };
    let mut ws = tungstenite::accept(replay).map_err(|e| io::Error::other(e.to_string()))?;
    let send = |ws: &mut tungstenite::WebSocket<Replay>, text: String| {
        ws.send(Message::text(text))
            .map_err(|e| io::Error::other(e.to_string()))
    };
    send(
        &mut ws,
        r#"0{"sid":"b","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
            .into(),
    )?;
    let mut joined = false;
    let mut sent = 0;
    let mut next_ping = Instant::now() + Duration::from_secs(25);
    loop {
        match ws.read() {
            // A client of the key the gateway refuses: its waits poll.
            Ok(Message::Text(t)) if t.starts_with("40") && t.contains(REFUSED_KEY) => {
                send(&mut ws, r#"44{"message":"Unauthorized"}"#.into())?;
                return Ok(());
            }
            Ok(Message::Text(t)) if t.starts_with("40") => {
                send(&mut ws, r#"40{"sid":"s"}"#.into())?;
                joined = true;
            }
            Ok(Message::Close(_)) => return Ok(()),
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return Ok(()),
        }
        if !joined {
            continue;
        }
        if Instant::now() >= next_ping {
            send(&mut ws, "2".into())?;
            next_ping = Instant::now() + Duration::from_secs(25);
        }
        let due = server.announcements(sent);
        sent += due.len();
        for (id, state) in due {
            let sandbox: serde_json::Value =
                serde_json::from_str(&sandbox_json(&id, state, server.port))?;
            let old = if state == "started" {
                "creating"
            } else {
                "destroying"
            };
            let event = serde_json::json!([
                "sandbox.state.updated",
                {"sandbox": sandbox, "oldState": old, "newState": state}
            ]);
            send(&mut ws, format!("42{event}"))?;
        }
    }
}
