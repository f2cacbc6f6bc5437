//! WebSocket connections (feature `websocket`): followed logs, PTY
//! sessions and the code interpreter all connect here, with the REST
//! calls' headers, proxy, TLS trust and connect timeout (`conn`,
//! `upgrade`), and one retry path: a connection that fails before the
//! upgrade completes is retried through [`Transport::retrying`] as any
//! GET; once a socket is handed out it is never opened again behind the
//! caller's back.
//!
//! The upgrade is tungstenite's handshake; frames are then read and written
//! with tungstenite's [`FrameSocket`], and messages assembled here: a text
//! message is handed out as the bytes it holds, valid UTF-8 or not (the
//! toolbox sends raw chunks of logs as text frames, and a chunk that ends
//! inside a multi-byte character is not valid UTF-8 on its own).
//!
//! Bounds: the connect timeout covers the name lookup, TCP, proxy, TLS and
//! upgrade together; a message may hold at most [`Limits::max_message`]
//! bytes; a read waits at most until [`Limits::idle`] has passed since the
//! server last sent anything (or, as [`IdleOf`] says, since its last
//! message that held something: a log, a program's output, which pings
//! and parts of a message do not keep alive), and never past
//! [`Limits::deadline`]; with [`Limits::keepalive`], a ping is sent after
//! that much silence, so that a live server always answers within the idle
//! limit. A write waits at most the idle limit, a ping or a pong at most
//! [`CONTROL_WAIT`] (what the network does not take goes out with the next
//! write, and no other ping or pong is queued meanwhile). A look that must
//! not wait ([`Socket::try_next_event`]) reads at most [`POLL_FRAMES`]
//! frames.

mod conn;
mod upgrade;

use std::io;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use base64::Engine as _;
use tungstenite::error::ProtocolError;
use tungstenite::protocol::frame::coding::{CloseCode, Control, Data, OpCode};
use tungstenite::protocol::frame::{CloseFrame, Frame, FrameSocket};
use url::Url;

use self::conn::{left, Conn};
use super::poll::Deadline;
use super::status::{websocket_error, Failure};
use super::{Attempt, Transport};
use crate::error::{Error, Result};

/// How long a closing socket waits for the server's reply to its close.
const CLOSE_LINGER: Duration = Duration::from_millis(500);

/// The longest a ping or a pong waits for the network: what it leaves
/// goes out with the next write.
const CONTROL_WAIT: Duration = Duration::from_millis(20);

/// The most frames [`Socket::try_next_event`] reads without finding a
/// message (pings, pongs, parts of a message) before it hands control
/// back: a server that sends such frames without end does not hold the
/// reader, nor the socket it shares with a writer.
const POLL_FRAMES: u32 = 64;

/// A connection attempt that failed: the error, and whether another may
/// succeed.
pub(crate) struct Failed {
    pub(crate) error: Error,
    pub(crate) failure: Failure,
}

/// Where to connect.
pub(crate) struct Target<'a> {
    /// The `ws://` or `wss://` URL, query included.
    pub(crate) url: &'a Url,
    /// `METHOD /path`, for errors.
    pub(crate) operation: &'a str,
    /// Subprotocols to offer (`Sec-WebSocket-Protocol`); none when empty.
    pub(crate) protocols: &'a [&'a str],
    /// Whether the upgrade carries the `Authorization` header (not when
    /// the credential travels in the protocol itself).
    pub(crate) credential: bool,
}

/// The bounds of an open socket (see the module docs).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// The longest the server may send nothing at all (or no data, as
    /// `idle_of` says).
    pub(crate) idle: Duration,
    /// What the idle limit measures.
    pub(crate) idle_of: IdleOf,
    /// Sends a ping after this much silence (shorter than `idle`).
    pub(crate) keepalive: Option<Duration>,
    /// Nothing is read or written past this instant.
    pub(crate) deadline: Option<Instant>,
    /// Largest message read into memory.
    pub(crate) max_message: usize,
}

/// What the idle limit of a socket measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IdleOf {
    /// Silence: anything the server sends resets it, a ping or a pong
    /// too (a connection's liveness).
    Silence,
    /// The time since the last message that holds something: pings,
    /// pongs, parts of a message and empty messages do not reset it (a
    /// log's or a program's output).
    Data,
}

/// What the server sent next.
#[derive(Debug)]
pub(crate) enum Event {
    /// A text message, as the bytes it holds (not checked for UTF-8).
    Text(Vec<u8>),
    /// A binary message.
    Binary(Vec<u8>),
    /// The server closed the connection with this code (1005 when it gave
    /// none) and reason.
    Closed(u16, String),
}

/// What [`Socket::try_next_event`] found.
#[derive(Debug)]
pub(crate) enum Polled {
    /// A message, or the close.
    Event(Event),
    /// Nothing more without waiting for the network.
    Nothing,
    /// Frames, none of them completing a message yet: more may be ready
    /// at once (the caller looks at its own state, then looks again
    /// without waiting).
    Busy,
}

/// Why a read gave up.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The server sent nothing for the idle limit.
    Idle,
    /// The deadline passed.
    Deadline,
    /// The connection failed (a transport error, a message too large, ...).
    Failed(Error),
}

/// An open WebSocket (client side).
pub(crate) struct Socket {
    frames: FrameSocket<Conn>,
    operation: String,
    limits: Limits,
    /// The message being assembled from its frames: whether it is text,
    /// and what came so far.
    partial: Option<(bool, Vec<u8>)>,
    /// When the last ping went out.
    pinged: Option<Instant>,
    /// When the last message that holds something came.
    last_data: Instant,
    /// The subprotocol the server chose.
    protocol: Option<String>,
    /// A read failed other than by running out of time: the frame reader
    /// is left mid-frame, so nothing more is read.
    broken: bool,
    /// A write ran out of time: bytes the network has not taken yet are
    /// queued.
    unsent: bool,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket")
            .field("operation", &self.operation)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// Connects to `target` and upgrades, retrying transient failures as a
    /// GET is retried; gives up at `deadline` (and each attempt at the
    /// connect timeout). The socket then reads and writes within `limits`.
    pub(crate) fn websocket(
        &self,
        target: &Target<'_>,
        limits: Limits,
        deadline: Option<Deadline>,
    ) -> Result<Socket> {
        self.retrying(target.operation, deadline, |_| {
            match upgrade::connect(self, target, limits) {
                Ok(socket) => Attempt::Done(socket),
                Err(failed) => Attempt::Failed {
                    retry: failed.failure.retry(true, true),
                    retry_after: failed.error.api().and_then(|a| a.retry_after),
                    error: self.redact(failed.error),
                },
            }
        })
    }
}

impl Socket {
    /// `METHOD /path` of the upgrade.
    pub(crate) fn operation(&self) -> &str {
        &self.operation
    }

    /// The longest the server may send nothing at all, from now on.
    #[allow(dead_code)]
    pub(crate) fn set_idle(&mut self, idle: Duration) {
        self.limits.idle = idle;
    }

    /// Nothing is read or written past `deadline` from now on; `None`
    /// lifts the limit.
    pub(crate) fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.limits.deadline = deadline;
        self.frames.get_mut().timed().deadline = deadline;
    }

    /// The subprotocol the server chose, if any.
    #[allow(dead_code)]
    pub(crate) fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// The next message or the close, waiting within the limits. Answers
    /// the server's pings, and its close.
    pub(crate) fn next_event(&mut self) -> Result<Event, ReadError> {
        self.frames.get_mut().timed().poll = false;
        loop {
            let wait = self.read_wait()?;
            self.frames.get_mut().timed().wait = wait;
            match self.read_frame() {
                Ok(Some(event)) => return Ok(event),
                Ok(None) => {}
                Err(tungstenite::Error::Io(e)) if timed_out(&e) => self.keep_alive()?,
                Err(e) => return Err(self.failed(e)),
            }
        }
    }

    /// The next message or the close if it can be had without waiting for
    /// the network: for a reader that waits for bytes with [`Waiter`] and
    /// must not hold the socket meanwhile. Reads at most [`POLL_FRAMES`]
    /// frames.
    pub(crate) fn try_next_event(&mut self) -> Result<Polled, ReadError> {
        self.frames.get_mut().timed().poll = true;
        let mut frames = 0;
        let result = loop {
            if frames == POLL_FRAMES {
                break Ok(Polled::Busy);
            }
            frames += 1;
            match self.read_frame() {
                Ok(Some(event)) => break Ok(Polled::Event(event)),
                Ok(None) => {}
                Err(tungstenite::Error::Io(e)) if timed_out(&e) => break Ok(Polled::Nothing),
                Err(e) => break Err(self.failed(e)),
            }
        };
        self.frames.get_mut().timed().poll = false;
        result
    }

    /// After a read found nothing: a ping when the socket has been silent
    /// for the keepalive interval, an error once the idle limit or the
    /// deadline has passed. For readers that wait with [`Waiter`].
    pub(crate) fn keep_alive(&mut self) -> Result<(), ReadError> {
        self.read_wait()?;
        let Some(every) = self.limits.keepalive else {
            return Ok(());
        };
        let silent = self.frames.get_ref().timed_ref().last_read.elapsed();
        let since_ping = self.pinged.map_or(Duration::MAX, |p| p.elapsed());
        if silent >= every && since_ping >= every {
            self.pinged = Some(Instant::now());
            self.control(Frame::ping(Vec::new()))
                .map_err(|e| self.failed(e))?;
        }
        Ok(())
    }

    /// How long the next read may wait: until the next ping is due, the
    /// idle limit or the deadline; an error when one of those has passed.
    fn read_wait(&self) -> Result<Duration, ReadError> {
        let deadline_left = left(self.limits.deadline).map_err(|_| ReadError::Deadline)?;
        let silent = self.frames.get_ref().timed_ref().last_read.elapsed();
        let quiet = match self.limits.idle_of {
            IdleOf::Silence => silent,
            IdleOf::Data => self.last_data.elapsed(),
        };
        let idle_left = self.limits.idle.saturating_sub(quiet);
        if idle_left.is_zero() {
            return Err(ReadError::Idle);
        }
        let mut wait = idle_left.min(deadline_left);
        if let Some(every) = self.limits.keepalive {
            wait = wait.min(every.saturating_sub(silent).max(every / 4));
        }
        Ok(wait)
    }

    /// Reads one frame: `Some` when it completes a message or is a close,
    /// `None` for a ping, a pong or a part of a message. After a failure
    /// other than a timeout, every read fails.
    fn read_frame(&mut self) -> std::result::Result<Option<Event>, tungstenite::Error> {
        if self.broken {
            return Err(tungstenite::Error::AlreadyClosed);
        }
        let read = self.read_frame_once();
        if matches!(&read, Err(e) if !matches!(e, tungstenite::Error::Io(io) if timed_out(io))) {
            self.broken = true;
        }
        read
    }

    fn read_frame_once(&mut self) -> std::result::Result<Option<Event>, tungstenite::Error> {
        let max = self.limits.max_message;
        let Some(frame) = self.frames.read(Some(max))? else {
            return Err(protocol(ProtocolError::ResetWithoutClosingHandshake));
        };
        // What tungstenite's own reader refuses: a server never masks, and
        // no extension (compression) was agreed on.
        let header = frame.header();
        if header.mask.is_some() {
            return Err(protocol(ProtocolError::MaskedFrameFromServer));
        }
        if header.rsv1 || header.rsv2 || header.rsv3 {
            return Err(protocol(ProtocolError::NonZeroReservedBits));
        }
        // Control frames whole and short (RFC 6455, 5.5); the frame reader
        // already refuses opcodes without a meaning.
        match header.opcode {
            OpCode::Control(_) if !header.is_final => {
                return Err(protocol(ProtocolError::FragmentedControlFrame));
            }
            OpCode::Control(_) if frame.payload().len() > 125 => {
                return Err(protocol(ProtocolError::ControlFrameTooBig));
            }
            _ => {}
        }
        let fin = header.is_final;
        let (text, first) = match header.opcode {
            OpCode::Data(Data::Text) => (true, true),
            OpCode::Data(Data::Binary) => (false, true),
            OpCode::Data(Data::Continue) => match &self.partial {
                Some((text, _)) => (*text, false),
                None => return Err(protocol(ProtocolError::UnexpectedContinueFrame)),
            },
            OpCode::Control(Control::Ping) => {
                self.control(Frame::pong(frame.into_payload()))?;
                return Ok(None);
            }
            OpCode::Control(Control::Close) => {
                let payload: &[u8] = frame.payload();
                let (code, reason) = match payload {
                    [] => (u16::from(CloseCode::Status), String::new()),
                    // Half a code, or one no endpoint may send (1005,
                    // 1006, 1015, numbers outside the ranges of codes):
                    // a broken close, not the end of the stream.
                    [_] => return Err(protocol(ProtocolError::InvalidCloseSequence)),
                    [a, b, reason @ ..] => {
                        let code = u16::from_be_bytes([*a, *b]);
                        if !CloseCode::from(code).is_allowed() {
                            return Err(protocol(ProtocolError::InvalidCloseSequence));
                        }
                        (code, String::from_utf8_lossy(reason).into_owned())
                    }
                };
                // The reply the protocol asks for; the stream is over
                // whether or not it goes through.
                let _ = self.control(Frame::close(None));
                return Ok(Some(Event::Closed(code, reason)));
            }
            // Pongs.
            _ => return Ok(None),
        };
        if first && self.partial.is_some() {
            return Err(protocol(ProtocolError::ExpectedFragment(Data::Continue)));
        }
        let payload = frame.into_payload();
        let (_, mut message) = self.partial.take().unwrap_or((text, Vec::new()));
        if message.len().saturating_add(payload.len()) > max {
            return Err(tungstenite::Error::Capacity(
                tungstenite::error::CapacityError::MessageTooLong {
                    size: message.len().saturating_add(payload.len()),
                    max_size: max,
                },
            ));
        }
        message.extend_from_slice(&payload);
        if !fin {
            self.partial = Some((text, message));
            return Ok(None);
        }
        if !message.is_empty() {
            self.last_data = Instant::now();
        }
        Ok(Some(if text {
            Event::Text(message)
        } else {
            Event::Binary(message)
        }))
    }

    /// Sends a text message.
    pub(crate) fn send_text(&mut self, text: &str) -> Result<()> {
        let frame = Frame::message(text.as_bytes().to_vec(), OpCode::Data(Data::Text), true);
        self.send(frame).map_err(|e| self.write_error(e))
    }

    /// Sends a binary message, writing for at most `wait`: `true` once it
    /// is all out, `false` when the network took only part of it in time
    /// (the rest is kept, and goes out with [`flush_for`](Self::flush_for)
    /// or the next frame sent). For a writer that lets a reader use the
    /// socket between two waits.
    pub(crate) fn send_binary_for(&mut self, bytes: &[u8], wait: Duration) -> Result<bool> {
        let mut frame = Frame::message(bytes.to_vec(), OpCode::Data(Data::Binary), true);
        frame.header_mut().mask = Some(mask());
        self.frames.get_mut().timed().wait = wait;
        // The frame is queued whole even when the write times out.
        let written = self.frames.write(frame).and_then(|()| self.frames.flush());
        self.written(written)
    }

    /// Writes what [`send_binary_for`](Self::send_binary_for) left, for at
    /// most `wait`: `true` once nothing is left.
    pub(crate) fn flush_for(&mut self, wait: Duration) -> Result<bool> {
        self.frames.get_mut().timed().wait = wait;
        let written = self.frames.flush();
        self.written(written)
    }

    fn written(&mut self, written: std::result::Result<(), tungstenite::Error>) -> Result<bool> {
        match self.note(written) {
            Ok(()) => Ok(!self.unsent),
            Err(e) => Err(self.write_error(e)),
        }
    }

    /// Notes whether a write left bytes unsent: a write that ran out of
    /// time (before the deadline) is no error, what it left is queued.
    fn note(
        &mut self,
        written: std::result::Result<(), tungstenite::Error>,
    ) -> std::result::Result<(), tungstenite::Error> {
        match written {
            Ok(()) => {
                self.unsent = false;
                Ok(())
            }
            Err(tungstenite::Error::Io(e))
                if timed_out(&e) && left(self.limits.deadline).is_ok() =>
            {
                self.unsent = true;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Sends a ping, a pong or the reply to a close, waiting at most
    /// [`CONTROL_WAIT`] for the network: what it does not take goes out
    /// with the next write, and while something is left no other such
    /// frame is queued (a pong answers the latest ping only, as RFC 6455
    /// allows). Bytes an earlier write left have had their wait: they are
    /// tried again without one, so that a look at many pings is not a wait
    /// per ping. A server that reads nothing holds neither the reader, nor
    /// a writer waiting for the socket, nor memory.
    fn control(&mut self, mut frame: Frame) -> std::result::Result<(), tungstenite::Error> {
        if self.unsent {
            // The shortest wait the socket takes (a millisecond).
            self.frames.get_mut().timed().wait = Duration::ZERO;
            let flushed = self.frames.flush();
            self.note(flushed)?;
            if self.unsent {
                return Ok(());
            }
        }
        self.frames.get_mut().timed().wait = CONTROL_WAIT;
        frame.header_mut().mask = Some(mask());
        let sent = self.frames.write(frame).and_then(|()| self.frames.flush());
        self.note(sent)
    }

    /// Closes the connection with `code` (1000 for a normal close): sends
    /// the close frame and waits a little for the server's reply, dropping
    /// whatever comes before it (not after a failed read: nothing more is
    /// read then). All of it within [`CLOSE_LINGER`], however slowly the
    /// server reads or writes. Failures are ignored: the connection is
    /// over either way.
    pub(crate) fn close(&mut self, code: u16, reason: &str) {
        let close = Frame::close(Some(CloseFrame {
            code: CloseCode::from(code),
            reason: reason.to_string().into(),
        }));
        let until = Instant::now().checked_add(CLOSE_LINGER);
        self.limits.keepalive = None;
        // The socket's own deadline too: it bounds a frame that arrives a
        // byte at a time, which the waits between frames do not see.
        self.set_deadline(earliest(until, self.limits.deadline));
        if self.send(close).is_err() || self.broken {
            return;
        }
        while let Ok(event) = self.next_event() {
            if matches!(event, Event::Closed(..)) {
                break;
            }
        }
    }

    /// Sends a frame, masked as a client's frames must be.
    fn send(&mut self, mut frame: Frame) -> std::result::Result<(), tungstenite::Error> {
        frame.header_mut().mask = Some(mask());
        let timed = self.frames.get_mut().timed();
        timed.wait = self.limits.idle;
        let sent = self.frames.send(frame);
        self.unsent = matches!(&sent, Err(tungstenite::Error::Io(e)) if timed_out(e));
        sent
    }

    fn failed(&self, e: tungstenite::Error) -> ReadError {
        match e {
            tungstenite::Error::Io(e) if timed_out(&e) => {
                if left(self.limits.deadline).is_err() {
                    ReadError::Deadline
                } else {
                    ReadError::Idle
                }
            }
            e => ReadError::Failed(websocket_error(e, &self.operation)),
        }
    }

    fn write_error(&self, e: tungstenite::Error) -> Error {
        match e {
            tungstenite::Error::Io(e) if timed_out(&e) => Error::Timeout {
                operation: format!("{}: sending", self.operation),
                after: self.limits.idle,
            },
            e => websocket_error(e, &self.operation),
        }
    }

    /// A handle to wait for bytes on this connection without reading them.
    pub(crate) fn waiter(&self) -> io::Result<Waiter> {
        Ok(Waiter(self.frames.get_ref().timed_ref().try_clone()?))
    }
}

/// Waits for bytes on a connection while another thread may write to it.
pub(crate) struct Waiter(TcpStream);

impl Waiter {
    /// Waits at most `wait` for bytes (or the end of the connection): true
    /// when there is something to read.
    pub(crate) fn wait(&self, wait: Duration) -> bool {
        let wait = wait.max(Duration::from_millis(1));
        if self.0.set_read_timeout(Some(wait)).is_err() {
            return true;
        }
        let mut byte = [0u8; 1];
        match self.0.peek(&mut byte) {
            Ok(_) => true,
            Err(e) => !timed_out(&e),
        }
    }

    /// Ends the connection at once: a waiting [`wait`](Self::wait) returns.
    pub(crate) fn shutdown(&self) {
        let _ = self.0.shutdown(std::net::Shutdown::Both);
    }
}

fn timed_out(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

/// A fresh masking key: four bytes of a handshake key, which tungstenite
/// draws from a random generator.
fn mask() -> [u8; 4] {
    let key = tungstenite::handshake::client::generate_key();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(key)
        .unwrap_or_default();
    let mut mask = [0u8; 4];
    for (m, b) in mask.iter_mut().zip(bytes) {
        *m = b;
    }
    mask
}

/// The earlier of two optional instants.
pub(crate) fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A breach of the WebSocket protocol by the server.
fn protocol(e: ProtocolError) -> tungstenite::Error {
    tungstenite::Error::Protocol(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_are_random() {
        let masks: std::collections::HashSet<[u8; 4]> = (0..20).map(|_| mask()).collect();
        assert!(masks.len() > 15, "{masks:?}");
    }
}
