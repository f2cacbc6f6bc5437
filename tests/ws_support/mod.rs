//! WebSocket servers of the tests (tungstenite's server side, in threads):
//! [`ws_server`] takes one connection and plays a script; [`toolbox_server`] is a
//! whole toolbox on one port, REST answers and WebSocket scripts, for the
//! operations that do both (create a PTY, then connect to it).
#![allow(dead_code)]
// tungstenite's upgrade callback returns its large `ErrorResponse` as is.
#![allow(clippy::result_large_err)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::Duration;

use tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tungstenite::protocol::frame::{CloseFrame, Frame};
use tungstenite::{Message, WebSocket};

/// A server-side WebSocket of the tests.
pub type Ws = WebSocket<TcpStream>;

/// What the server saw of an upgrade request.
#[derive(Debug, Clone)]
pub struct Upgrade {
    pub path: String,
    pub query: Option<String>,
    pub headers: tungstenite::http::HeaderMap,
}

impl Upgrade {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

fn seen(req: &Request) -> Upgrade {
    Upgrade {
        path: req.uri().path().to_string(),
        query: req.uri().query().map(str::to_string),
        headers: req.headers().clone(),
    }
}

/// A one-connection WebSocket server: `script` talks to the client after
/// the upgrade. Returns the toolbox base URL and what the server saw.
pub fn ws_server(
    script: impl FnOnce(&mut Ws) + Send + 'static,
) -> (String, mpsc::Receiver<Upgrade>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/toolbox", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let callback = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
            let _ = tx.send(seen(req));
            Ok(resp)
        };
        if let Ok(mut ws) = tungstenite::accept_hdr(stream, callback) {
            script(&mut ws);
        }
    });
    (url, rx)
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

pub fn toolbox_server(
    rest: impl Fn(&Rest) -> (u16, String) + Send + Sync + 'static,
    upgrade: impl Fn(usize, &Upgrade) -> Answer + Send + Sync + 'static,
    script: impl Fn(usize, &mut Ws) + Send + Sync + 'static,
) -> Toolbox {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/toolbox", listener.local_addr().unwrap());
    let server = Toolbox {
        url,
        rest: Arc::default(),
        upgrades: Arc::default(),
    };
    let (rest_log, upgrade_log) = (server.rest.clone(), server.upgrades.clone());
    let rest: Arc<RestFn> = Arc::new(rest);
    let upgrade: Arc<UpgradeFn> = Arc::new(upgrade);
    let script: Arc<ScriptFn> = Arc::new(script);
    let accepted = Arc::new(AtomicUsize::new(0));
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let (rest, upgrade, script) = (rest.clone(), upgrade.clone(), script.clone());
            let (rest_log, upgrade_log, accepted) =
                (rest_log.clone(), upgrade_log.clone(), accepted.clone());
            thread::spawn(move || {
                if is_upgrade(&stream) {
                    let mut n = None;
                    let callback = |req: &Request, resp: Response| {
                        let up = seen(req);
                        upgrade_log.lock().unwrap().push(up.clone());
                        match upgrade(upgrade_log.lock().unwrap().len() - 1, &up) {
                            Answer::Accept => {
                                n = Some(accepted.fetch_add(1, Ordering::SeqCst));
                                Ok(resp)
                            }
                            Answer::Refuse(status, body) => Err(refusal(status, body)),
                        }
                    };
                    if let Ok(mut ws) = tungstenite::accept_hdr(stream, callback) {
                        script(n.unwrap_or(0), &mut ws);
                    }
                } else {
                    serve_rest(stream, &*rest, &rest_log);
                }
            });
        }
    });
    server
}

fn refusal(status: u16, body: String) -> ErrorResponse {
    tungstenite::http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("content-length", body.len())
        .body(Some(body))
        .unwrap()
}

/// Whether the request waiting on `stream` asks for an upgrade (peeked:
/// nothing is consumed).
fn is_upgrade(stream: &TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    for _ in 0..200 {
        let n = stream.peek(&mut buf).unwrap_or(0);
        let head = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
        if head.contains("\r\n\r\n") || n == buf.len() {
            return head.contains("upgrade: websocket");
        }
        thread::sleep(Duration::from_millis(5));
    }
    false
}

/// Answers the HTTP/1.1 requests of one connection.
fn serve_rest(mut stream: TcpStream, rest: &RestFn, log: &Mutex<Vec<Rest>>) {
    let mut buf = Vec::new();
    loop {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let mut lines = head.lines();
        let mut first = lines.next().unwrap_or("").split_whitespace();
        let method = first.next().unwrap_or("").to_string();
        let target = first.next().unwrap_or("").to_string();
        let length: usize = lines
            .filter_map(|l| l.split_once(':'))
            .find(|(n, _)| n.trim().eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + length {
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body = String::from_utf8_lossy(&buf[head_end..head_end + length]).to_string();
        buf.drain(..head_end + length);
        let request = Rest {
            method,
            target,
            body,
        };
        log.lock().unwrap().push(request.clone());
        let (status, answer) = rest(&request);
        let out = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
            answer.len()
        );
        if stream.write_all(out.as_bytes()).is_err() {
            return;
        }
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
/// larger than its write buffer).
pub fn fragmented(ws: &mut Ws, text: bool, bytes: &[u8], parts: usize) {
    let size = bytes.len().div_ceil(parts).max(1);
    let pieces: Vec<&[u8]> = bytes.chunks(size).collect();
    for (i, piece) in pieces.iter().enumerate() {
        let opcode = match (i, text) {
            (0, true) => OpCode::Data(Data::Text),
            (0, false) => OpCode::Data(Data::Binary),
            _ => OpCode::Data(Data::Continue),
        };
        let frame = Frame::message(piece.to_vec(), opcode, i + 1 == pieces.len());
        ws.write(Message::Frame(frame)).unwrap();
    }
    ws.flush().unwrap();
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
