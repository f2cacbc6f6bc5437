//! The connection to the API's notification gateway: one per client,
//! read by a thread of its own, shared by every wait of every thread.
//!
//! Life cycle: [`Hub::begin`] (before a create or a change is sent)
//! counts a waiter and starts the reader thread when none runs; the thread
//! connects, answers the server's pings, and puts each state change it
//! hears in a bounded ring of recent events, which the waits read through
//! their cursor (an event that comes before its wait listens is kept, one
//! that falls off the ring is left to the safety poll). The thread
//! reconnects with a capped backoff while waits remain, closes the
//! connection once no wait has been running for the idle period, and ends.
//! The handshake is bounded by the connect timeout, silence by the
//! server's ping timing (capped), an answer to a ping by a second (a
//! gateway that reads nothing does not hold the reader), and a gateway
//! that never stops sending is still looked at every few messages (or
//! frames that are no message): no gateway keeps the thread past its use.
//! A failure is logged once per client, at debug level; the waits go on
//! polling.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;
use url::Url;

use super::codec::{self, Message, Open, Packet};
use crate::config::Secret;
use crate::transport::poll::{Deadline, Listen};
use crate::transport::retry::random_fraction;
use crate::transport::ws::{earliest, Event, IdleOf, Limits, Polled, ReadError, Socket, Target};
use crate::transport::Transport;

/// Largest message read from the gateway (a sandbox is a few kilobytes).
const MAX_MESSAGE: usize = 1 << 20;

/// The ring of recent events: at most this many ...
const RECENT_EVENTS: usize = 256;
/// ... holding at most this many bytes of their JSON text.
const RECENT_BYTES: usize = 4 << 20;

/// The first reconnect waits about this long, each next one twice as long
/// up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// A session that lasted this long after its handshake starts the backoff
/// over when it fails; a shorter one (a gateway that accepts, then fails
/// at once, every time) counts as one more failure.
const STABLE: Duration = Duration::from_secs(10);

/// How often the reader looks at its waiters between messages.
const TICK: Duration = Duration::from_millis(100);
/// ... and at least once every this many messages, however fast they come.
const CHECK_EVERY: u32 = 64;

/// The handshake (the open packet, then the namespace connection) takes
/// at most the connect timeout, and never more than this.
const MAX_HANDSHAKE: Duration = Duration::from_secs(60);

/// The longest an answer to a ping waits for the network. The
/// connection carries little else, so a gateway that does not take a few
/// bytes has stopped reading: the session is given up rather than the
/// reader held (a write may otherwise wait for the whole silence allowed).
const PONG_WAIT: Duration = Duration::from_secs(1);

/// The longest silence of a connected gateway, whatever ping interval and
/// timeout it announces (Socket.IO's defaults add up to 45 s).
const MAX_SILENCE: Duration = Duration::from_secs(60);

/// Where the connection stands.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Link {
    /// No reader thread.
    Off,
    /// Connecting or reconnecting.
    Connecting,
    /// Events flow.
    Up,
    /// Failed; waiting to reconnect.
    Down,
}

/// One event heard: the id and name of what changed, and its new state
/// as JSON text (parsed again for the wait that wants it: a parsed value
/// may take many times the memory of its text).
struct Heard {
    seq: u64,
    id: Option<String>,
    name: Option<String>,
    entity: Box<str>,
}

impl Heard {
    /// The bytes it holds.
    fn size(&self) -> usize {
        let text = |t: &Option<String>| t.as_ref().map_or(0, String::len);
        text(&self.id)
            .saturating_add(text(&self.name))
            .saturating_add(self.entity.len())
    }
}

struct State {
    link: Link,
    waiters: usize,
    /// When the last waiter left.
    idle_since: Instant,
    recent: VecDeque<Heard>,
    recent_bytes: usize,
    next_seq: u64,
    /// A failure was logged already.
    logged: bool,
}

struct Shared {
    transport: Arc<Transport>,
    url: Url,
    operation: String,
    token: Secret,
    idle_close: Duration,
    state: Mutex<State>,
    changed: Condvar,
}

/// The event connection of one client.
pub(crate) struct Hub {
    shared: Arc<Shared>,
}

impl Hub {
    /// A hub for the gateway at `url` (its query included), authenticating
    /// with `token`; nothing is connected yet.
    pub(crate) fn new(
        transport: Arc<Transport>,
        url: Url,
        token: Secret,
        idle_close: Duration,
    ) -> Hub {
        let operation = format!("GET {}", url.path());
        Hub {
            shared: Arc::new(Shared {
                transport,
                url,
                operation,
                token,
                idle_close,
                state: Mutex::new(State {
                    link: Link::Off,
                    waiters: 0,
                    idle_since: Instant::now(),
                    recent: VecDeque::new(),
                    recent_bytes: 0,
                    next_seq: 0,
                    logged: false,
                }),
                changed: Condvar::new(),
            }),
        }
    }

    /// Counts a waiter from now on (events heard from now on count for
    /// it) and starts the reader thread when none runs. Never blocks on
    /// the network.
    pub(crate) fn begin(&self) -> Ticket {
        let mut state = self.shared.lock();
        state.waiters = state.waiters.saturating_add(1);
        let from = state.next_seq;
        if state.link == Link::Off {
            state.link = Link::Connecting;
            let shared = Arc::clone(&self.shared);
            let spawned = std::thread::Builder::new()
                .name("daytona-events".into())
                .spawn(move || shared.run());
            if let Err(e) = spawned {
                state.link = Link::Off;
                log::debug!("real-time events unavailable, waits poll: no thread ({e})");
            }
        }
        drop(state);
        Ticket {
            shared: Arc::clone(&self.shared),
            from,
        }
    }
}

/// A waiter's place: keeps the connection open while it lives.
pub(crate) struct Ticket {
    shared: Arc<Shared>,
    from: u64,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.waiters = state.waiters.saturating_sub(1);
        if state.waiters == 0 {
            state.idle_since = Instant::now();
        }
    }
}

impl Ticket {
    /// Listens for the changes of what has `key` as its id or name.
    pub(crate) fn listen(self, key: &str) -> Subscription {
        Subscription {
            cursor: self.from,
            key: key.to_string(),
            seen_up: false,
            ticket: self,
        }
    }
}

/// The changes of one sandbox, snapshot or volume.
pub(crate) struct Subscription {
    ticket: Ticket,
    key: String,
    cursor: u64,
    /// The connection was seen up since the last time it went down.
    seen_up: bool,
}

impl Listen for Subscription {
    fn healthy(&self) -> bool {
        self.ticket.shared.lock().link == Link::Up
    }

    fn next(&mut self, wait: Duration) -> Option<Value> {
        let until = Instant::now().checked_add(wait);
        let shared = &self.ticket.shared;
        let mut state = shared.lock();
        loop {
            let key = self.key.as_str();
            let found = state.recent.iter().find(|h| {
                h.seq >= self.cursor
                    && (h.id.as_deref() == Some(key) || h.name.as_deref() == Some(key))
            });
            if let Some(heard) = found {
                self.cursor = heard.seq.saturating_add(1);
                // The text of a value: it parses.
                if let Ok(entity) = serde_json::from_str(&heard.entity) {
                    return Some(entity);
                }
                continue;
            }
            self.cursor = state.next_seq;
            if state.link == Link::Up {
                self.seen_up = true;
            } else if self.seen_up {
                // Gone down: the caller checks at once.
                self.seen_up = false;
                return None;
            }
            let left = until.map_or(Duration::from_secs(3600), |u| {
                u.saturating_duration_since(Instant::now())
            });
            if left.is_zero() {
                return None;
            }
            state = match shared.changed.wait_timeout(state, left) {
                Ok((s, _)) => s,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }
}

/// How a session ended.
enum Ended {
    /// No waiter for the idle period: closed.
    Idle,
    /// Failed; whether events had been flowing for [`STABLE`] at least.
    Failed { reason: String, was_up: bool },
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set_link(&self, link: Link) {
        self.lock().link = link;
        self.changed.notify_all();
    }

    /// Whether the reader should end now: nobody waits, and either the
    /// connection is not up or it has been idle long enough. Ends it
    /// (under the lock, so that a new waiter starts a new thread).
    fn stop_now(&self) -> bool {
        let mut state = self.lock();
        let idle = state.waiters == 0
            && (state.link != Link::Up || state.idle_since.elapsed() >= self.idle_close);
        if idle {
            state.link = Link::Off;
            drop(state);
            self.changed.notify_all();
        }
        idle
    }

    /// The reader thread.
    fn run(self: Arc<Self>) {
        let mut failures = 0u32;
        loop {
            // Also before the first connection: a wait over before the
            // thread ran (a create answered `started`) needs none.
            if self.stop_now() {
                return;
            }
            self.set_link(Link::Connecting);
            match self.session() {
                Ended::Idle => return,
                Ended::Failed { reason, was_up } => {
                    let first = !std::mem::replace(&mut self.lock().logged, true);
                    if first {
                        log::debug!("real-time events unavailable, waits poll: {reason}");
                    } else {
                        log::trace!("real-time events: {reason}");
                    }
                    failures = if was_up {
                        1
                    } else {
                        failures.saturating_add(1)
                    };
                }
            }
            self.set_link(Link::Down);
            if self.stop_now() {
                return;
            }
            let doubled = FIRST_BACKOFF.saturating_mul(1 << failures.saturating_sub(1).min(10));
            let backoff = doubled
                .min(MAX_BACKOFF)
                .mul_f64(0.5 + random_fraction() / 2.0);
            let until = Instant::now() + backoff;
            let mut state = self.lock();
            while state.waiters > 0 {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                state = match self.changed.wait_timeout(state, left) {
                    Ok((s, _)) => s,
                    Err(p) => p.into_inner().0,
                };
            }
        }
    }

    /// One connection: handshake, then events until it fails or is idle.
    fn session(&self) -> Ended {
        let connect = self.transport.connect_timeout();
        let target = Target {
            url: &self.url,
            operation: &self.operation,
            protocols: &[],
            credential: false,
        };
        let limits = Limits {
            idle: connect,
            idle_of: IdleOf::Silence,
            keepalive: None,
            deadline: None,
            max_message: MAX_MESSAGE,
        };
        let mut socket =
            match self
                .transport
                .websocket(&target, limits, Some(Deadline::after(connect)))
            {
                Ok(s) => s,
                Err(e) => return failed(format!("connecting: {e}")),
            };
        if let Err(ended) = self.handshake(&mut socket) {
            socket.close(1000, "");
            return ended;
        }
        self.set_link(Link::Up);
        let up = Instant::now();
        match self.read_events(&mut socket) {
            Ok(()) => {
                socket.close(1000, "");
                Ended::Idle
            }
            Err(reason) => {
                socket.close(1000, "");
                Ended::Failed {
                    reason,
                    was_up: up.elapsed() >= STABLE,
                }
            }
        }
    }

    /// The Engine.IO open packet, then the namespace connection with the
    /// token in its auth payload, both within the connect timeout (at most
    /// [`MAX_HANDSHAKE`]): a live gateway sends the open packet unasked and
    /// answers the connection after one check of the token, a round trip
    /// or two like the upgrade the connect timeout already covers. Ends
    /// ([`Ended::Idle`]) as soon as no wait remains.
    fn handshake(&self, socket: &mut Socket) -> Result<(), Ended> {
        let bound = self.transport.connect_timeout().min(MAX_HANDSHAKE);
        let until = Instant::now().checked_add(bound);
        socket.set_deadline(until);
        let next = |socket: &mut Socket| match socket.next_event() {
            Err(ReadError::Deadline) => Err(failed(format!(
                "the gateway did not complete the handshake within {bound:?}"
            ))),
            read => read.map_err(read_error).and_then(decode).map_err(failed),
        };
        let open = match next(socket)? {
            Packet::Open(open) => open,
            _ => return Err(failed("the gateway did not open the session".into())),
        };
        socket.set_idle(silence(&open));
        socket
            .send_text(&codec::connect(self.token.expose()))
            .map_err(|e| failed(format!("sending the namespace connection: {e}")))?;
        loop {
            if self.stop_now() {
                return Err(Ended::Idle);
            }
            match next(socket)? {
                Packet::Ping => pong(socket, until).map_err(failed)?,
                Packet::Message(Message::Connected) => {
                    socket.set_deadline(None);
                    return Ok(());
                }
                // The server's message is not logged: it may echo the token.
                Packet::Message(Message::Refused(_)) => {
                    return Err(failed("the gateway refused the token".into()))
                }
                Packet::Close | Packet::Message(Message::Disconnect) => {
                    return Err(failed("the gateway closed the session".into()))
                }
                _ => {}
            }
        }
    }

    /// Reads events until the connection fails (an error) or nobody has
    /// waited for the idle period (`Ok`).
    fn read_events(&self, socket: &mut Socket) -> Result<(), String> {
        let waiter = socket
            .waiter()
            .map_err(|e| format!("watching the connection: {e}"))?;
        let mut read = 0u32;
        loop {
            let busy = loop {
                let event = match socket.try_next_event().map_err(read_error)? {
                    Polled::Event(event) => event,
                    Polled::Nothing => break false,
                    // Frames without a message: looked at again at once,
                    // after the waiters.
                    Polled::Busy => break true,
                };
                // A gateway that never pauses must not keep an unused
                // connection open.
                read = read.wrapping_add(1);
                if read.is_multiple_of(CHECK_EVERY) && self.stop_now() {
                    return Ok(());
                }
                match decode(event)? {
                    Packet::Ping => pong(socket, None)?,
                    Packet::Message(Message::Event(name, data)) => self.heard(&name, data),
                    Packet::Close | Packet::Message(Message::Disconnect) => {
                        return Err("the gateway closed the session".into())
                    }
                    Packet::Message(Message::Refused(_)) => {
                        return Err("the gateway refused the token".into())
                    }
                    _ => {}
                }
            };
            socket.keep_alive().map_err(read_error)?;
            if self.stop_now() {
                return Ok(());
            }
            if !busy {
                waiter.wait(TICK);
            }
        }
    }

    /// Keeps a state change (`*.state.updated`, `*.created`).
    fn heard(&self, name: &str, data: Value) {
        let entity = if name.ends_with(".created") {
            data
        } else if let Some(kind) = name.strip_suffix(".state.updated") {
            match data {
                Value::Object(mut o) => match o.remove(kind) {
                    Some(e) => e,
                    None => return,
                },
                _ => return,
            }
        } else {
            return;
        };
        let text = |k: &str| entity.get(k).and_then(Value::as_str).map(str::to_string);
        let (id, name) = (text("id"), text("name"));
        if id.is_none() && name.is_none() {
            return;
        }
        let entity = entity.to_string().into_boxed_str();
        let mut state = self.lock();
        let seq = state.next_seq;
        state.next_seq = seq.saturating_add(1);
        let heard = Heard {
            seq,
            id,
            name,
            entity,
        };
        state.recent_bytes = state.recent_bytes.saturating_add(heard.size());
        state.recent.push_back(heard);
        while state.recent.len() > RECENT_EVENTS || state.recent_bytes > RECENT_BYTES {
            let Some(old) = state.recent.pop_front() else {
                break;
            };
            state.recent_bytes = state.recent_bytes.saturating_sub(old.size());
        }
        drop(state);
        self.changed.notify_all();
    }
}

/// A failure before events flowed.
fn failed(reason: String) -> Ended {
    Ended::Failed {
        reason,
        was_up: false,
    }
}

/// How long a connected gateway may send nothing: it pings every interval,
/// and silence past the timeout after that means the connection is dead;
/// at most [`MAX_SILENCE`].
fn silence(open: &Open) -> Duration {
    open.ping_interval
        .saturating_add(open.ping_timeout)
        .min(MAX_SILENCE)
}

fn read_error(e: ReadError) -> String {
    match e {
        ReadError::Idle => "the gateway stopped pinging".into(),
        ReadError::Deadline => "timed out".into(),
        ReadError::Failed(e) => format!("the connection failed: {e}"),
    }
}

fn decode(event: Event) -> Result<Packet, String> {
    match event {
        Event::Text(text) => codec::decode(&text).map_err(|m| format!("the gateway sent {}", m.0)),
        Event::Binary(_) => Ok(Packet::Ignored),
        Event::Closed(code, _) => Err(format!("the gateway closed the connection ({code})")),
    }
}

/// Answers a ping within [`PONG_WAIT`] (and before `deadline`, the
/// socket's deadline, which stays).
fn pong(socket: &mut Socket, deadline: Option<Instant>) -> Result<(), String> {
    socket.set_deadline(earliest(Instant::now().checked_add(PONG_WAIT), deadline));
    let sent = socket.send_text(codec::PONG);
    socket.set_deadline(deadline);
    sent.map_err(|e| match e {
        crate::Error::Timeout { .. } => {
            format!("the gateway took no answer to its ping within {PONG_WAIT:?}")
        }
        e => format!("answering a ping: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wait over before the reader thread runs (its ticket dropped): the
    /// thread ends without connecting, so a create answered `started`
    /// opens no connection, and a late thread never reaches a server that
    /// has since been given to someone else.
    #[test]
    fn a_reader_with_no_waiter_left_never_connects() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let config = crate::DaytonaConfig::new()
            .read_env(false)
            .api_key("key-for-the-hub-test")
            .api_url(format!("http://{addr}/api"))
            .resolve(&|_| None)
            .unwrap();
        let transport = Arc::new(Transport::new(&config).unwrap());
        let url = Url::parse(&format!("ws://{addr}/socket.io/?EIO=4&transport=websocket")).unwrap();
        let hub = Hub::new(transport, url, Secret::new("t"), Duration::from_secs(30));
        // As `begin` leaves it, with the waiter already gone.
        hub.shared.lock().link = Link::Connecting;
        Arc::clone(&hub.shared).run();
        assert_eq!(hub.shared.lock().link, Link::Off);
        let accepted = listener.accept();
        assert!(
            matches!(&accepted, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "a connection was opened: {accepted:?}"
        );
    }

    #[test]
    fn the_silence_allowed_is_capped() {
        let open = |interval: u64, timeout: u64| Open {
            ping_interval: Duration::from_millis(interval),
            ping_timeout: Duration::from_millis(timeout),
            max_payload: 1_000_000,
        };
        assert_eq!(silence(&open(25_000, 20_000)), Duration::from_secs(45));
        assert_eq!(silence(&open(86_400_000, 86_400_000)), MAX_SILENCE);
        let huge = Open {
            ping_interval: Duration::MAX,
            ping_timeout: Duration::MAX,
            max_payload: u64::MAX,
        };
        assert_eq!(silence(&huge), MAX_SILENCE);
    }
}
