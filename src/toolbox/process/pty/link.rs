//! The connection of a PTY handle, shared by its reader and its writer,
//! which may be on two threads.
//!
//! One thread of its own reads the socket: it takes the socket's lock only
//! to decode what has already arrived ([`Socket::try_next_event`], which
//! never waits for bytes, waits at most a few milliseconds to answer a
//! ping, and reads no more than a few frames that are no message), and
//! waits for more bytes without the lock ([`Waiter`]), so
//! that input is written, and a close done, at once whatever the output
//! does (a caller waiting for the lock has it before the thread looks
//! again);
//! input the network does not take at once is written in slices of at most
//! [`WRITE_SLICE`], the socket left to that thread in between, so that
//! output is read whatever the input does.
//! The output goes to the caller through a channel of at most
//! [`QUEUE_DEPTH`] pieces of at most [`CHUNK`] bytes: when the caller reads
//! slowly the thread stops reading, the socket's buffers fill up and the
//! server is held back by TCP itself (the toolbox disconnects a client
//! that falls too far behind). Nothing grows with the output.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::PtyExit;
use crate::error::{Error, Result};
use crate::toolbox::process::lenient;
use crate::transport::ws::{Event, Polled, ReadError, Socket, Waiter};

/// Largest piece of output handed to the caller at once.
pub(super) const CHUNK: usize = 64 << 10;

/// Pieces of output held between the connection and a caller that has not
/// read them yet: at most `QUEUE_DEPTH * CHUNK` bytes (1 MiB).
pub(super) const QUEUE_DEPTH: usize = 16;

/// Largest input message: the toolbox refuses messages over 64 KiB.
const MAX_INPUT: usize = 32 << 10;

/// The longest one write of input holds the socket: the connection's
/// thread reads in between.
const WRITE_SLICE: Duration = Duration::from_millis(20);

/// What the connection's thread hands to the reader.
pub(super) enum Piece {
    /// Output of the terminal, as bytes.
    Data(Vec<u8>),
    /// The end of the session, or of the connection.
    End(Result<PtyExit>),
}

/// Turns an error into one that holds no credential.
type Redact = Box<dyn Fn(Error) -> Error + Send + Sync>;

/// The shared connection.
pub(super) struct Link {
    socket: Mutex<Socket>,
    waiter: Waiter,
    /// Set once the caller closes: the thread stops.
    closing: AtomicBool,
    /// Set once the session or the connection has ended: input can reach
    /// nothing.
    ended: AtomicBool,
    /// Callers waiting for the socket (input, close): the thread lets them
    /// have it before it looks again at a socket that keeps it busy.
    callers: AtomicUsize,
    operation: String,
    idle: Duration,
    redact: Redact,
}

/// The two ends the caller keeps: output, and the first sign of life.
pub(super) struct Started {
    pub(super) link: Arc<Link>,
    pub(super) output: Receiver<Piece>,
    /// `Ok` once the server says "connected"; the error when it refused.
    pub(super) connected: Receiver<Result<()>>,
}

impl Link {
    /// Starts the connection's thread on `socket`.
    pub(super) fn start(
        socket: Socket,
        idle: Duration,
        name: &str,
        redact: Redact,
    ) -> Result<Started> {
        let waiter = socket.waiter().map_err(|e| Error::Transport {
            operation: socket.operation().to_string(),
            source: Box::new(e),
        })?;
        let link = Arc::new(Link {
            operation: socket.operation().to_string(),
            socket: Mutex::new(socket),
            waiter,
            closing: AtomicBool::new(false),
            ended: AtomicBool::new(false),
            callers: AtomicUsize::new(0),
            idle,
            redact,
        });
        let (out_tx, output) = mpsc::sync_channel(QUEUE_DEPTH);
        let (ok_tx, connected) = mpsc::channel();
        let pumped = link.clone();
        std::thread::Builder::new()
            .name(format!("daytona-pty-{name}"))
            .spawn(move || pump(&pumped, &out_tx, ok_tx))
            .map_err(|e| Error::Transport {
                operation: link.operation.clone(),
                source: Box::new(e),
            })?;
        Ok(Started {
            link,
            output,
            connected,
        })
    }

    pub(super) fn operation(&self) -> &str {
        &self.operation
    }

    fn socket(&self) -> MutexGuard<'_, Socket> {
        self.socket.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The socket for a caller, counted while it waits for it.
    fn socket_for_caller(&self) -> MutexGuard<'_, Socket> {
        self.callers.fetch_add(1, Ordering::SeqCst);
        let socket = self.socket();
        self.callers.fetch_sub(1, Ordering::SeqCst);
        socket
    }

    /// For the thread, between two looks at a socket that keeps it busy:
    /// a caller waiting for the socket has it first (within a bound).
    fn yield_to_callers(&self) {
        let until = Instant::now() + WRITE_SLICE;
        while self.callers.load(Ordering::SeqCst) > 0 && Instant::now() < until {
            std::thread::sleep(Duration::from_micros(100));
        }
    }

    /// Sends input, in messages the toolbox accepts.
    pub(super) fn send(&self, bytes: &[u8]) -> Result<()> {
        if self.closing.load(Ordering::SeqCst) {
            return Err(self.closed());
        }
        if self.ended.load(Ordering::SeqCst) {
            return Err(Error::Transport {
                operation: self.operation.clone(),
                source: "the terminal session has ended".into(),
            });
        }
        for piece in bytes.chunks(MAX_INPUT) {
            let started = Instant::now();
            let mut sent = self.socket_for_caller().send_binary_for(piece, WRITE_SLICE);
            // The socket is left to the connection's thread between slices:
            // a server may read no more input until its output has been read
            // (a shell echoing a large paste).
            while let Ok(false) = sent {
                if started.elapsed() >= self.idle {
                    return Err(Error::Timeout {
                        operation: format!("{}: sending", self.operation),
                        after: started.elapsed(),
                    });
                }
                std::thread::sleep(Duration::from_millis(1));
                sent = self.socket_for_caller().flush_for(WRITE_SLICE);
            }
            sent.map_err(|e| (self.redact)(e))?;
        }
        Ok(())
    }

    /// Closes the connection (once): a normal close, then the thread stops.
    pub(super) fn close(&self) {
        if self.closing.swap(true, Ordering::SeqCst) {
            return;
        }
        self.socket_for_caller().close(1000, "");
        // Wakes the thread up if it waits for bytes.
        self.waiter.shutdown();
    }

    fn closed(&self) -> Error {
        Error::Transport {
            operation: self.operation.clone(),
            source: "the terminal connection is closed".into(),
        }
    }

    fn read_error(&self, e: ReadError) -> Error {
        match e {
            ReadError::Failed(e) => (self.redact)(e),
            ReadError::Idle | ReadError::Deadline => Error::Timeout {
                operation: format!(
                    "{}: no answer from the server for {:?}",
                    self.operation, self.idle
                ),
                after: self.idle,
            },
        }
    }
}

/// A control message of the terminal connection.
#[derive(Deserialize)]
struct Control {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, deserialize_with = "lenient")]
    status: String,
    #[serde(default, deserialize_with = "lenient")]
    error: String,
}

/// The control message `text` holds, if it is one.
fn control(text: &[u8]) -> Option<Control> {
    if text.first() != Some(&b'{') {
        return None;
    }
    serde_json::from_slice::<Control>(text)
        .ok()
        .filter(|c| c.kind == "control")
}

/// The thread: reads the socket until the session or the connection ends,
/// or the caller closes.
fn pump(link: &Link, output: &SyncSender<Piece>, connected: mpsc::Sender<Result<()>>) {
    let mut connected = Some(connected);
    // Set once the reader is gone: output is then dropped, and the
    // connection kept for the writer.
    let mut unread = false;
    let end = loop {
        if link.closing.load(Ordering::SeqCst) {
            return;
        }
        let event = link.socket().try_next_event();
        let bytes = match event {
            Ok(Polled::Event(Event::Binary(bytes))) => bytes,
            Ok(Polled::Event(Event::Text(text))) => match control(&text) {
                Some(c) if c.status == "connected" => {
                    if let Some(tx) = connected.take() {
                        let _ = tx.send(Ok(()));
                    }
                    continue;
                }
                Some(c) if c.status == "error" => {
                    break Err(Error::Transport {
                        operation: link.operation.clone(),
                        source: format!("the server refused the terminal: {}", c.error).into(),
                    });
                }
                // Other control messages are not output.
                Some(_) => continue,
                None => text,
            },
            Ok(Polled::Event(Event::Closed(code, reason))) => {
                break exit_of(code, &reason, &link.operation)
            }
            // Frames but no message yet: the caller's turn first.
            Ok(Polled::Busy) => {
                link.yield_to_callers();
                continue;
            }
            Ok(Polled::Nothing) => {
                let wait = (link.idle / 3).max(Duration::from_millis(1));
                if !link.waiter.wait(wait) {
                    if let Err(e) = link.socket().keep_alive() {
                        break Err(link.read_error(e));
                    }
                }
                continue;
            }
            Err(e) => break Err(link.read_error(e)),
        };
        if unread {
            continue;
        }
        for piece in bytes.chunks(CHUNK) {
            let mut piece = Piece::Data(piece.to_vec());
            if connected.is_some() {
                // Nobody reads before the connect returns: output that fills
                // the queue first shows that the terminal is connected.
                match output.try_send(piece) {
                    Ok(()) => continue,
                    Err(TrySendError::Full(held)) => {
                        piece = held;
                        if let Some(tx) = connected.take() {
                            let _ = tx.send(Ok(()));
                        }
                    }
                    Err(TrySendError::Disconnected(_)) => {
                        unread = true;
                        break;
                    }
                }
            }
            // Waits while the caller has not read what came before.
            if output.send(piece).is_err() {
                unread = true;
                break;
            }
        }
    };
    link.ended.store(true, Ordering::SeqCst);
    if link.closing.load(Ordering::SeqCst) {
        return;
    }
    let end = end.map_err(|e| (link.redact)(e));
    match connected.take() {
        Some(tx) => {
            let error = match end {
                Err(e) => e,
                Ok(exit) => Error::Transport {
                    operation: link.operation.clone(),
                    source: format!(
                        "the server closed the terminal before it connected ({exit:?})"
                    )
                    .into(),
                },
            };
            let _ = tx.send(Err(error));
        }
        None => {
            let _ = output.send(Piece::End(end));
        }
    }
}

/// `{"exitCode": N, "exitReason": ..., "error": ...}`, the reason of the
/// server's close.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExitWire {
    #[serde(default, deserialize_with = "lenient")]
    exit_code: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    exit_reason: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    error: Option<String>,
}

/// How the session ended, from the close's `code` and `reason`: the exit
/// code in the reason (1000 for 0, 1011 otherwise), 0 for a normal close
/// without one; any other close is an error of the connection.
pub(super) fn exit_of(code: u16, reason: &str, operation: &str) -> Result<PtyExit> {
    if let Ok(wire) = serde_json::from_str::<ExitWire>(reason) {
        if wire.exit_code.is_some() || wire.error.is_some() {
            return Ok(PtyExit {
                exit_code: wire.exit_code.and_then(|c| i32::try_from(c).ok()),
                reason: wire.exit_reason.filter(|r| !r.is_empty()),
                error: wire.error.filter(|e| !e.is_empty()),
            });
        }
    }
    if matches!(code, 1000 | 1005) {
        return Ok(PtyExit {
            exit_code: Some(0),
            ..PtyExit::default()
        });
    }
    let mut message = format!("the server closed the terminal connection with code {code}");
    if !reason.is_empty() {
        message = format!("{message}: {reason}");
    }
    Err(Error::Transport {
        operation: operation.to_string(),
        source: message.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exit(code: Option<i32>, reason: Option<&str>, error: Option<&str>) -> PtyExit {
        PtyExit {
            exit_code: code,
            reason: reason.map(str::to_string),
            error: error.map(str::to_string),
        }
    }

    #[test]
    fn exits_from_close_frames() {
        let op = "GET /x";
        assert_eq!(
            exit_of(1000, r#"{"exitCode":0}"#, op).unwrap(),
            exit(Some(0), None, None)
        );
        assert_eq!(
            exit_of(1011, r#"{"exitCode":137,"exitReason":"SIGKILL"}"#, op).unwrap(),
            exit(Some(137), Some("SIGKILL"), None)
        );
        assert_eq!(exit_of(1000, "", op).unwrap(), exit(Some(0), None, None));
        assert_eq!(exit_of(1005, "bye", op).unwrap(), exit(Some(0), None, None));
        assert_eq!(
            exit_of(1011, r#"{"error":"boom"}"#, op).unwrap(),
            exit(None, None, Some("boom"))
        );
        // A code past i32 is no exit code.
        assert_eq!(
            exit_of(1011, r#"{"exitCode":99999999999,"error":"x"}"#, op).unwrap(),
            exit(None, None, Some("x"))
        );
        let e = exit_of(1008, "slow consumer", op).unwrap_err();
        assert!(e.to_string().contains("1008: slow consumer"), "{e}");
        assert!(exit_of(1011, "", op).is_err());
    }

    #[test]
    fn control_messages_are_json_objects_of_type_control() {
        let c = control(br#"{"type":"control","status":"connected"}"#).unwrap();
        assert_eq!(c.status, "connected");
        let c = control(br#"{"type":"control","status":"error","error":"gone"}"#).unwrap();
        assert_eq!((c.status.as_str(), c.error.as_str()), ("error", "gone"));
        assert!(control(br#"{"type":"stdout"}"#).is_none());
        assert!(control(b"{not json").is_none());
        assert!(control(b"plain output").is_none());
    }
}
