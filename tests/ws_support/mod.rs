//! WebSocket conversations of the tests (tungstenite's server side), on
//! the suite's one test server (`tests/fault_server`): [`ws_server`] takes
//! one connection and plays a script; [`toolbox_server`] is a whole
//! toolbox on one port, REST answers and WebSocket scripts, for the
//! operations that do both (create a PTY, then connect to it).
#![allow(dead_code)]

use std::io::Write;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tungstenite::protocol::frame::{CloseFrame, Frame};
use tungstenite::{Message, WebSocket};

use crate::fault_server::{head, one_connection, Action, Conn, FaultServer, Seen};

/// A server-side WebSocket of the tests.
pub type Ws = WebSocket<TcpStream>;

/// What the server saw of an upgrade request.
#[derive(Debug, Clone)]
pub struct Upgrade {
    pub path: String,
    pub query: Option<String>,
    seen: Seen,
}

impl Upgrade {
    fn of(seen: &Seen) -> Upgrade {
        Upgrade {
            path: seen.path().to_string(),
            query: seen.query().map(str::to_string),
            seen: seen.clone(),
        }
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.seen.header(name).map(str::to_string)
    }
}

/// Completes the upgrade of `conn` (its request still unread).
fn accept(conn: Conn) -> Option<Ws> {
    let stream = conn.into_stream();
    // The scripts wait on the client as long as they want.
    stream.set_read_timeout(None).ok()?;
    tungstenite::accept(stream).ok()
}

/// A one-connection WebSocket server: `script` talks to the client after
/// the upgrade. Returns the toolbox base URL and what the server saw.
pub fn ws_server(
    script: impl FnOnce(&mut Ws) + Send + 'static,
) -> (String, mpsc::Receiver<Upgrade>) {
    let (tx, rx) = mpsc::channel();
    let url = one_connection(move |stream| {
        let Some(conn) = Conn::accept(stream) else {
            return;
        };
        let _ = tx.send(Upgrade::of(&conn.seen));
        if let Some(mut ws) = accept(conn) {
            script(&mut ws);
        }
    });
    (format!("{url}/toolbox"), rx)
}

/// A REST request the [`toolbox_server`] server answered.
#[derive(Debug, Clone)]
pub struct Rest {
    pub method: String,
    /// The path and query, as sent.
    pub target: String,
    pub body: String,
}

impl Rest {
    pub fn route(&self) -> String {
        format!("{} {}", self.method, self.target)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// What a [`toolbox_server`] server does with an upgrade.
pub enum Answer {
    /// Accepts it.
    Accept,
    /// Refuses it with this status and JSON body.
    Refuse(u16, String),
}

/// A whole toolbox on one port: REST requests get `rest`'s answer (status
/// and JSON body), upgrades `upgrade`'s, then the n-th accepted upgrade
/// (from 0) plays `script`. Everything is recorded.
pub struct Toolbox {
    /// The toolbox base URL (`http://127.0.0.1:port/toolbox`).
    pub url: String,
    pub rest: Arc<Mutex<Vec<Rest>>>,
    pub upgrades: Arc<Mutex<Vec<Upgrade>>>,
    /// Serves until the toolbox is dropped.
    server: FaultServer,
}

impl Toolbox {
    pub fn rest(&self) -> Vec<Rest> {
        self.rest.lock().unwrap().clone()
    }

    pub fn upgrades(&self) -> Vec<Upgrade> {
        self.upgrades.lock().unwrap().clone()
    }
}

type RestFn = dyn Fn(&Rest) -> (u16, String) + Send + Sync;
type UpgradeFn = dyn Fn(usize, &Upgrade) -> Answer + Send + Sync;
type ScriptFn = dyn Fn(usize, &mut Ws) + Send + Sync;

struct Scripts {
    rest: Box<RestFn>,
    upgrade: Box<UpgradeFn>,
    script: Box<ScriptFn>,
    rest_log: Arc<Mutex<Vec<Rest>>>,
    upgrade_log: Arc<Mutex<Vec<Upgrade>>>,
    accepted: AtomicUsize,
}

impl Scripts {
    /// One connection: an upgrade, or a REST request answered with
    /// `Connection: close`.
    fn serve(&self, mut conn: Conn) {
        let upgrade = conn
            .seen
            .header("upgrade")
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
        if upgrade {
            let up = Upgrade::of(&conn.seen);
            let n = {
                let mut log = self.upgrade_log.lock().unwrap();
                log.push(up.clone());
                log.len() - 1
            };
            match (self.upgrade)(n, &up) {
                Answer::Accept => {
                    let n = self.accepted.fetch_add(1, Ordering::SeqCst);
                    if let Some(mut ws) = accept(conn) {
                        (self.script)(n, &mut ws);
                    }
                }
                Answer::Refuse(status, body) => reply(conn, status, &body),
            }
            return;
        }
        let Ok(body) = conn.body() else {
            return;
        };
        let request = Rest {
            method: conn.seen.method.clone(),
            target: conn.seen.target.clone(),
            body: String::from_utf8_lossy(&body).into_owned(),
        };
        self.rest_log.lock().unwrap().push(request.clone());
        let (status, answer) = (self.rest)(&request);
        reply(conn, status, &answer);
    }
}

/// A JSON answer, then a clean close.
fn reply(mut conn: Conn, status: u16, body: &str) {
    let lines = format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    let mut out = head(status, &lines);
    out.extend_from_slice(body.as_bytes());
    if conn.write_all(&out).and_then(|()| conn.flush()).is_ok() {
        conn.finish();
    }
}

pub fn toolbox_server(
    rest: impl Fn(&Rest) -> (u16, String) + Send + Sync + 'static,
    upgrade: impl Fn(usize, &Upgrade) -> Answer + Send + Sync + 'static,
    script: impl Fn(usize, &mut Ws) + Send + Sync + 'static,
) -> Toolbox {
    let (rest_log, upgrade_log) = (Arc::default(), Arc::default());
    let scripts = Arc::new(Scripts {
        rest: Box::new(rest),
        upgrade: Box::new(upgrade),
        script: Box::new(script),
        rest_log: Arc::clone(&rest_log),
        upgrade_log: Arc::clone(&upgrade_log),
        accepted: AtomicUsize::new(0),
    });
    let server = FaultServer::forgetful(move |_| {
        let scripts = Arc::clone(&scripts);
        Action::take(move |conn| scripts.serve(conn))
    });
    Toolbox {
        url: format!("{}/toolbox", server.url),
        rest: rest_log,
        upgrades: upgrade_log,
        server,
    }
}

pub fn binary(ws: &mut Ws, bytes: &[u8]) {
    ws.send(Message::binary(bytes.to_vec())).unwrap();
}

pub fn text(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text)).unwrap();
}

/// A text frame with any bytes, valid UTF-8 or not (as the toolbox sends).
pub fn raw_text(ws: &mut Ws, bytes: &[u8]) {
    let frame = Frame::message(bytes.to_vec(), OpCode::Data(Data::Text), true);
    ws.send(Message::Frame(frame)).unwrap();
}

/// One message in `parts` frames (as gorilla/websocket sends a message
/// larger than its write buffer). Fails when the client has gone.
pub fn fragmented(ws: &mut Ws, text: bool, bytes: &[u8], parts: usize) -> tungstenite::Result<()> {
    let size = bytes.len().div_ceil(parts).max(1);
    let pieces: Vec<&[u8]> = bytes.chunks(size).collect();
    for (i, piece) in pieces.iter().enumerate() {
        let opcode = match (i, text) {
            (0, true) => OpCode::Data(Data::Text),
            (0, false) => OpCode::Data(Data::Binary),
            _ => OpCode::Data(Data::Continue),
        };
        let frame = Frame::message(piece.to_vec(), opcode, i + 1 == pieces.len());
        ws.write(Message::Frame(frame))?;
    }
    ws.flush()
}

/// The PTY server's "connected" control message.
pub fn connected(ws: &mut Ws) {
    text(ws, r#"{"type":"control","status":"connected"}"#);
}

/// Closes with `code` and `reason` and waits for the client's reply.
pub fn close(ws: &mut Ws, code: u16, reason: &str) {
    let _ = ws.close(Some(CloseFrame {
        code: CloseCode::from(code),
        reason: reason.to_string().into(),
    }));
    while ws.read().is_ok() {}
}

/// Reads until the client's next data message (answering pings).
pub fn next_data(ws: &mut Ws) -> Option<Message> {
    loop {
        match ws.read() {
            Ok(m @ (Message::Text(_) | Message::Binary(_))) => return Some(m),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// Reads until the client closes; its close frame.
pub fn client_close(ws: &mut Ws) -> Option<CloseFrame> {
    loop {
        match ws.read() {
            Ok(Message::Close(frame)) => return frame,
            Ok(_) => {}
            Err(_) => return None,
        }
    }
}

/// Cuts the connection without a close frame.
pub fn cut(ws: &mut Ws) {
    let _ = ws.get_mut().shutdown(Shutdown::Both);
}
