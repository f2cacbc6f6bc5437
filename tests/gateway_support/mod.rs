//! A local notification gateway of the API (Engine.IO v4 / Socket.IO v5
//! framing over tungstenite's server side), on the suite's one test
//! server through `ws_support::toolbox_server`: one port answers the REST
//! calls (the test's responder, every request logged) and the upgrades to
//! `/api/socket.io/`. It checks the handshake and the auth payload,
//! broadcasts the events the test emits, and misbehaves on demand: refuses
//! the token, drops the connection, stops pinging, sends malformed or
//! over-size packets, never answers the namespace connection, floods.
#![allow(dead_code)]

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::protocol::frame::coding::{Data, OpCode};
use tungstenite::protocol::frame::Frame;
use tungstenite::Message;

use crate::ws_support::{toolbox_server, Answer, Rest, Toolbox, Upgrade, Ws};

/// The key every client of these tests uses.
pub const KEY: &str = "gw-secret-key";

/// How a gateway behaves.
#[derive(Clone, Debug, PartialEq)]
pub enum Mode {
    /// Speaks the protocol, pings every `ping`.
    Normal,
    /// Answers the upgrade with this status (no gateway: 404).
    RefuseUpgrade(u16),
    /// Answers the namespace connection with CONNECT_ERROR.
    RefuseToken,
    /// Cuts the connection after this long.
    DropAfter(Duration),
    /// Never pings (the client must notice within pingInterval + pingTimeout).
    StallPings,
    /// Sends this text frame after the namespace connection.
    Garbage(String),
    /// Opens the session, then never answers the namespace connection: pings
    /// every `PING`, or when `silent` announces day-long ping timings and
    /// sends nothing more. Each such session's length goes to
    /// [`Gateway::unanswered`]; after [`Gateway::behave`], sessions speak
    /// the protocol.
    IgnoreConnect { silent: bool },
    /// After the namespace connection, sends state changes of other
    /// sandboxes without pause (besides the emitted events) until the
    /// client leaves.
    Flood,
    /// After the first event, sends the first part of a message, then
    /// empty continuation frames without pause (frames without end, none a
    /// message) until the client leaves.
    Fragments,
    /// Announces Socket.IO's default ping timings; after the namespace
    /// connection, sends pings without pause and reads nothing until the
    /// client leaves: its answers pile up unread.
    PingFlood,
}

struct Bus {
    packets: Mutex<Vec<String>>,
    more: Condvar,
}

/// A REST responder and a gateway on one port.
pub struct Gateway {
    /// `http://127.0.0.1:port/api`.
    pub api_url: String,
    server: Toolbox,
    bus: Arc<Bus>,
    /// The auth payloads received, as JSON.
    pub auths: Arc<Mutex<Vec<Value>>>,
    /// Pongs received.
    pub pongs: Arc<AtomicUsize>,
    /// Sessions that reached the namespace connection and are still open.
    pub open: Arc<AtomicUsize>,
    /// How long each session that never answered the namespace connection
    /// lasted, from its open packet until the client left.
    pub unanswered: Arc<Mutex<Vec<Duration>>>,
    /// A [`Mode::PingFlood`] session found the client taking nothing.
    pub stalled: Arc<AtomicBool>,
    behaving: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

/// What the sessions share with the gateway.
struct Shared {
    bus: Arc<Bus>,
    auths: Arc<Mutex<Vec<Value>>>,
    pongs: Arc<AtomicUsize>,
    open: Arc<AtomicUsize>,
    unanswered: Arc<Mutex<Vec<Duration>>>,
    stalled: Arc<AtomicBool>,
    behaving: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

/// The ping interval and timeout the gateway announces.
pub const PING: Duration = Duration::from_millis(300);
pub const PING_TIMEOUT: Duration = Duration::from_millis(300);

impl Gateway {
    /// A gateway in `mode`; REST requests get `rest`'s answer.
    pub fn start(
        mode: Mode,
        rest: impl Fn(&Rest) -> (u16, String) + Send + Sync + 'static,
    ) -> Gateway {
        let bus = Arc::new(Bus {
            packets: Mutex::new(Vec::new()),
            more: Condvar::new(),
        });
        let auths = Arc::new(Mutex::new(Vec::new()));
        let pongs = Arc::new(AtomicUsize::new(0));
        let open = Arc::new(AtomicUsize::new(0));
        let unanswered = Arc::new(Mutex::new(Vec::new()));
        let stalled = Arc::new(AtomicBool::new(false));
        let behaving = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let upgrade_mode = mode.clone();
        let shared = Shared {
            bus: bus.clone(),
            auths: auths.clone(),
            pongs: pongs.clone(),
            open: open.clone(),
            unanswered: unanswered.clone(),
            stalled: stalled.clone(),
            behaving: behaving.clone(),
            stop: stop.clone(),
        };
        let server = toolbox_server(
            rest,
            move |_, up: &Upgrade| match upgrade_mode {
                Mode::RefuseUpgrade(status) => Answer::Refuse(status, r#"{"message":"no"}"#.into()),
                _ if up.path != "/api/socket.io/" => Answer::Refuse(404, "{}".into()),
                _ => Answer::Accept,
            },
            move |_, ws| session(ws, &mode, &shared),
        );
        let api_url = server.url.trim_end_matches("/toolbox").to_string() + "/api";
        Gateway {
            api_url,
            server,
            bus,
            auths,
            pongs,
            open,
            unanswered,
            stalled,
            behaving,
            stop,
        }
    }

    /// From now on, new sessions speak the protocol whatever the mode.
    pub fn behave(&self) {
        self.behaving.store(true, Ordering::SeqCst);
    }

    /// Sends an event to every session, now and later (a late session gets
    /// the events it missed, as a room's history would not: tests emit
    /// after the client listens).
    pub fn emit(&self, name: &str, payload: Value) {
        let packet = format!("42{}", json!([name, payload]));
        self.bus.packets.lock().unwrap().push(packet);
        self.bus.more.notify_all();
    }

    /// Sends a raw text frame to every session.
    pub fn emit_raw(&self, text: &str) {
        self.bus.packets.lock().unwrap().push(text.to_string());
        self.bus.more.notify_all();
    }

    /// The upgrades received.
    pub fn upgrades(&self) -> Vec<Upgrade> {
        self.server.upgrades()
    }

    /// The REST requests received.
    pub fn rest(&self) -> Vec<Rest> {
        self.server.rest()
    }

    /// REST requests whose route (`METHOD /path?query`) starts with `prefix`.
    pub fn count(&self, prefix: &str) -> usize {
        self.rest()
            .iter()
            .filter(|r| r.route().starts_with(prefix))
            .count()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.bus.more.notify_all();
    }
}

/// One read: a text frame other than a pong (pongs are counted), `Ok(None)`
/// when nothing came within the socket's read timeout, `Err` once the
/// client has gone.
fn read_one(ws: &mut Ws, pongs: &AtomicUsize) -> Result<Option<String>, ()> {
    match ws.read() {
        Ok(Message::Text(t)) if t.as_str() == "3" => {
            pongs.fetch_add(1, Ordering::SeqCst);
            Ok(None)
        }
        Ok(Message::Text(t)) => Ok(Some(t.to_string())),
        Ok(Message::Close(_)) => Err(()),
        Ok(_) => Ok(None),
        Err(tungstenite::Error::Io(e))
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            Ok(None)
        }
        Err(_) => Err(()),
    }
}

/// Reads the client's next text frame within `limit`, counting pongs.
fn read_text(ws: &mut Ws, pongs: &AtomicUsize, limit: Duration) -> Option<String> {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if let Some(text) = read_one(ws, pongs).ok()? {
            return Some(text);
        }
    }
    None
}

fn send(ws: &mut Ws, text: &str) -> bool {
    ws.send(Message::text(text)).is_ok()
}

fn session(ws: &mut Ws, mode: &Mode, shared: &Shared) {
    let Shared {
        bus,
        auths,
        pongs,
        open,
        stop,
        ..
    } = shared;
    let mode = if shared.behaving.load(Ordering::SeqCst) {
        &Mode::Normal
    } else {
        mode
    };
    let _ = ws
        .get_mut()
        .set_read_timeout(Some(Duration::from_millis(20)));
    let (interval, timeout) = match mode {
        Mode::IgnoreConnect { silent: true } => (86_400_000, 86_400_000),
        Mode::PingFlood => (25_000, 20_000),
        _ => (PING.as_millis() as u64, PING_TIMEOUT.as_millis() as u64),
    };
    let hello = json!({
        "sid": "eio-1", "upgrades": [], "pingInterval": interval,
        "pingTimeout": timeout, "maxPayload": 1_000_000
    });
    if !send(ws, &format!("0{hello}")) {
        return;
    }
    if let Mode::IgnoreConnect { silent } = mode {
        ignore_connect(ws, !silent, shared);
        return;
    }
    let Some(connect) = read_text(ws, pongs, Duration::from_secs(5)) else {
        return;
    };
    let auth: Value = connect
        .strip_prefix("40")
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or(Value::Null);
    auths.lock().unwrap().push(auth.clone());
    if *mode == Mode::RefuseToken || auth["token"] != KEY {
        send(ws, r#"44{"message":"Unauthorized"}"#);
        let _ = ws.close(None);
        return;
    }
    if !send(ws, r#"40{"sid":"sio-1"}"#) {
        return;
    }
    open.fetch_add(1, Ordering::SeqCst);
    if let Mode::Garbage(text) = mode {
        send(ws, text);
    }
    if *mode == Mode::PingFlood {
        ping_flood(ws, shared);
        open.fetch_sub(1, Ordering::SeqCst);
        return;
    }
    let flood = *mode == Mode::Flood;
    let began = Instant::now();
    let mut next_ping = Instant::now() + PING;
    let mut sent = 0;
    let flood_frames = if flood { flood_frames() } else { Vec::new() };
    loop {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        if let Mode::DropAfter(after) = mode {
            if began.elapsed() >= *after {
                let _ = ws.get_mut().shutdown(std::net::Shutdown::Both);
                break;
            }
        }
        if *mode != Mode::StallPings && Instant::now() >= next_ping {
            if !send(ws, "2") {
                break;
            }
            next_ping = Instant::now() + PING;
        }
        // Straight to the socket, faster than the client reads them.
        if flood && ws.get_mut().write_all(&flood_frames).is_err() {
            break;
        }
        let pending: Vec<String> = {
            let packets = bus.packets.lock().unwrap();
            let packets = if packets.len() == sent && !flood {
                bus.more
                    .wait_timeout(packets, Duration::from_millis(10))
                    .unwrap()
                    .0
            } else {
                packets
            };
            packets[sent..].to_vec()
        };
        sent += pending.len();
        if pending.iter().any(|p| !send(ws, p)) {
            break;
        }
        if *mode == Mode::Fragments && sent > 0 {
            fragments(ws, stop);
            break;
        }
        // Nothing pauses a flood: what the client sends is left unread, its
        // leaving shows as a failed write.
        if !flood && read_one(ws, pongs).is_err() {
            break;
        }
    }
    open.fetch_sub(1, Ordering::SeqCst);
}

/// The rest of a session that never answers the namespace connection:
/// pings when `pinging`, until the client leaves (its length recorded).
fn ignore_connect(ws: &mut Ws, pinging: bool, shared: &Shared) {
    let began = Instant::now();
    let mut next_ping = began + PING;
    while !shared.stop.load(Ordering::SeqCst) {
        if pinging && Instant::now() >= next_ping {
            if !send(ws, "2") {
                break;
            }
            next_ping = Instant::now() + PING;
        }
        if read_one(ws, &shared.pongs).is_err() {
            break;
        }
    }
    shared.unanswered.lock().unwrap().push(began.elapsed());
}

/// The first part of a text message, then empty continuation frames,
/// written straight to the socket until the client leaves.
fn fragments(ws: &mut Ws, stop: &AtomicBool) {
    let stream = ws.get_mut();
    let batch = [0x00u8, 0x00].repeat(32 << 10);
    if stream.write_all(&[0x01, 0x00]).is_err() {
        return;
    }
    while !stop.load(Ordering::SeqCst) && stream.write_all(&batch).is_ok() {}
}

/// Engine.IO pings, written straight to the socket until the client
/// leaves; nothing is read. Once the client has taken nothing for 3 s (it
/// no longer reads), sets [`Gateway::stalled`].
fn ping_flood(ws: &mut Ws, shared: &Shared) {
    let stream = ws.get_mut();
    let _ = stream.set_write_timeout(Some(Duration::from_millis(100)));
    let pings = [0x81u8, 0x01, b'2'].repeat(8 << 10);
    let mut at = 0;
    let mut taken = Instant::now();
    while !shared.stop.load(Ordering::SeqCst) {
        match stream.write(&pings[at..]) {
            Ok(0) => break,
            // Whole frames follow each other whatever a write takes.
            Ok(n) => {
                at = (at + n) % pings.len();
                taken = Instant::now();
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if taken.elapsed() >= Duration::from_secs(3) {
                    shared.stalled.store(true, Ordering::SeqCst);
                }
            }
            Err(_) => break,
        }
    }
}

/// Text frames announcing state changes of 256 other sandboxes, ready to
/// be written as they are.
fn flood_frames() -> Vec<u8> {
    let mut frames = Vec::new();
    for n in 0..256 {
        let sandbox = json!({"id": format!("flood-{n}"), "state": "started", "labels": {"n": "x".repeat(200)}});
        let packet = format!(
            "42{}",
            json!(["sandbox.state.updated", {"sandbox": sandbox, "oldState": "stopped", "newState": "started"}])
        );
        Frame::message(packet.into_bytes(), OpCode::Data(Data::Text), true)
            .format(&mut frames)
            .unwrap();
    }
    frames
}
