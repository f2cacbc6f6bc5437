//! The API's notification gateway (`GET /api/socket.io/`, Engine.IO v4 /
//! Socket.IO v5 over a WebSocket), so that the SDK's waits hear the
//! simulated changes as they hear the API's: the key is checked in the
//! namespace connection's auth payload (`{token}`, a CONNECT_ERROR
//! otherwise); then every change of a sandbox, snapshot or volume is
//! announced within a few milliseconds, as `<kind>.created` (the object)
//! or `<kind>.state.updated` (`{<kind>, oldState, newState}`); a sandbox
//! that is gone is announced `destroyed`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::Message;

use super::super::server::{Outcome, Request};
use super::super::ws::{self, Ws};
use super::super::{same_secret, Shared};
use super::state_of;

/// How often the server pings, and how long it waits for the answer.
const PING_INTERVAL: Duration = Duration::from_secs(25);
const PING_TIMEOUT: Duration = Duration::from_secs(20);

/// How often the connection checks for a change of the world (a number
/// compared) and for a message of the client.
const TICK: Duration = Duration::from_millis(2);

/// Takes the connection over for a gateway session.
pub(crate) fn connect(shared: &Arc<Shared>, req: &Request) -> Outcome {
    let shared = Arc::clone(shared);
    ws::upgrade(req, move |ws| session(&shared, ws))
}

/// Every sandbox, snapshot and volume as it is now (kind and id to the
/// object), and when to look again: once the world's version is no longer
/// the one returned, or at the next scheduled step.
struct Seen {
    objects: HashMap<(&'static str, String), Value>,
    version: u64,
    due: Option<Instant>,
}

impl Seen {
    fn now(shared: &Shared) -> Seen {
        let mut w = shared.world_looked_at();
        w.advance_all();
        let sandboxes = w.sandboxes.iter().map(|s| ("sandbox", &s.info));
        let snapshots = w.snapshots.iter().map(|s| ("snapshot", &s.info));
        let volumes = w.volumes.iter().map(|v| ("volume", &v.info));
        let objects = sandboxes
            .chain(snapshots)
            .chain(volumes)
            .map(|(kind, info)| {
                let id = info["id"].as_str().unwrap_or_default().to_string();
                ((kind, id), info.clone())
            })
            .collect();
        Seen {
            objects,
            version: w.version(),
            due: w.next_due(),
        }
    }

    /// Whether the world may have changed since.
    fn stale(&self, shared: &Shared) -> bool {
        self.due.is_some_and(|due| Instant::now() >= due)
            || shared.world_looked_at().version() != self.version
    }
}

fn event(ws: &mut Ws, name: &str, payload: &Value) -> bool {
    ws::send_text(ws, &format!("42{}", json!([name, payload])))
}

/// The client's next text message (pongs and other frames skipped);
/// `Err` once it has gone, `Ok(None)` when nothing came in time.
fn read_text(ws: &mut Ws) -> Result<Option<String>, ()> {
    match ws.read() {
        Ok(Message::Text(t)) if t.as_str() == "3" => Ok(None),
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

fn session(shared: &Shared, mut ws: Ws) {
    let open = json!({
        "sid": super::super::new_id(), "upgrades": [],
        "pingInterval": PING_INTERVAL.as_millis() as u64,
        "pingTimeout": PING_TIMEOUT.as_millis() as u64, "maxPayload": 1_000_000,
    });
    if !ws::send_text(&mut ws, &format!("0{open}")) {
        return;
    }
    let _ = ws.get_mut().set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(Some(connect)) = read_text(&mut ws) else {
        return;
    };
    let token = connect
        .strip_prefix("40")
        .and_then(|j| serde_json::from_str::<Value>(j).ok())
        .and_then(|v| v["token"].as_str().map(str::to_string))
        .unwrap_or_default();
    if !same_secret(token.as_bytes(), shared.token.as_bytes()) {
        ws::send_text(&mut ws, r#"44{"message":"invalid API key"}"#);
        ws::close(&mut ws, 1000, "");
        return;
    }
    let sid = json!({ "sid": super::super::new_id() });
    if !ws::send_text(&mut ws, &format!("40{sid}")) {
        return;
    }
    let _ = ws.get_mut().set_read_timeout(Some(TICK));
    let mut known = Seen::now(shared);
    let mut next_ping = Instant::now() + PING_INTERVAL;
    loop {
        if read_text(&mut ws).is_err() {
            return;
        }
        if Instant::now() >= next_ping {
            if !ws::send_text(&mut ws, "2") {
                return;
            }
            next_ping = Instant::now() + PING_INTERVAL;
        }
        if !known.stale(shared) {
            continue;
        }
        let now = Seen::now(shared);
        for (key, info) in &now.objects {
            let (kind, _) = key;
            let sent = match known.objects.get(key) {
                None => event(&mut ws, &format!("{kind}.created"), info),
                Some(old) if state_of(old) != state_of(info) => changed(&mut ws, kind, old, info),
                Some(_) => true,
            };
            if !sent {
                return;
            }
        }
        for (key, old) in &known.objects {
            let (kind, _) = key;
            if *kind == "sandbox" && !now.objects.contains_key(key) && state_of(old) != "destroyed"
            {
                let mut gone = old.clone();
                gone["state"] = json!("destroyed");
                if !changed(&mut ws, kind, old, &gone) {
                    return;
                }
            }
        }
        known = now;
    }
}

/// `<kind>.state.updated` from `old` to `new`.
fn changed(ws: &mut Ws, kind: &str, old: &Value, new: &Value) -> bool {
    let payload = json!({
        kind: new, "oldState": state_of(old), "newState": state_of(new),
    });
    event(ws, &format!("{kind}.state.updated"), &payload)
}
