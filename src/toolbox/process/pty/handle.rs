//! [`PtyHandle`]: a connected terminal, and its two halves.

use std::fmt;
use std::io::{self, Read, Write};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::link::{Link, Piece};
use super::{PtyExit, PtySessionInfo};
use crate::error::{Error, Result};
use crate::toolbox::{Process, Toolbox};
use crate::transport::ws::Socket;

/// A connected PTY session: the terminal's output is read with
/// [`std::io::Read`] (bytes as the terminal wrote them: partial UTF-8 and
/// escape sequences included) and its input written with
/// [`std::io::Write`]; or [`split`](Self::split) it into a reader and a
/// writer for two threads.
///
/// Made by [`Process::create_pty`] and [`Process::connect_pty`].
///
/// Reading returns 0 once the session has ended; [`wait`](Self::wait) then
/// says how (exit code 137 for a killed session). Dropping the handle, or
/// [`disconnect`](Self::disconnect), closes the connection and leaves the
/// session running; [`kill`](Self::kill) ends it.
///
/// Bounds: output not read yet is held up to 1 MiB (16 pieces of at most
/// 64 KiB), then the connection stops reading and the server is held back;
/// a message from the server may hold at most 1 MiB; input goes out in
/// messages of at most 32 KiB (the toolbox takes at most 64 KiB); the
/// connection counts as lost when the server sends nothing for
/// [`PtyOptions::idle_timeout`](super::PtyOptions::idle_timeout) (a ping
/// goes out after a third of it); connecting, up to the server's
/// "connected", takes at most the client's connect timeout.
///
/// ```no_run
/// use std::io::Write;
/// use std::time::Duration;
/// use daytona::toolbox::PtyOptions;
///
/// # let daytona = daytona::Daytona::from_env()?;
/// # let sandbox = daytona.get("my-sandbox")?;
/// let pty = sandbox.process().create_pty(PtyOptions::new("shell"))?;
/// let (mut output, mut input) = pty.split();
/// let printer = std::thread::spawn(move || {
///     let mut stdout = std::io::stdout();
///     output.on_data(|bytes| {
///         let _ = stdout.write_all(bytes);
///         let _ = stdout.flush();
///     })
/// });
/// input.write_all(b"ls -la\n")?;
/// input.resize(120, 40)?;
/// input.write_all(b"exit\n")?;
/// let exit = printer.join().expect("printer thread")?;
/// assert_eq!(exit.exit_code, Some(0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PtyHandle<'s> {
    reader: PtyReader,
    writer: PtyWriter<'s>,
}

/// The output half of a [`PtyHandle`]: `'static` and [`Send`], for a
/// thread of its own.
pub struct PtyReader {
    output: Receiver<Piece>,
    /// What the last piece still holds for `read`.
    pending: Vec<u8>,
    at: usize,
    state: State,
    operation: String,
    _closer: Arc<Closer>,
}

/// The input half of a [`PtyHandle`]: writes, resizes, kills.
pub struct PtyWriter<'s> {
    link: Arc<Link>,
    tb: Toolbox<'s>,
    id: String,
    _closer: Arc<Closer>,
}

/// Closes the connection once both halves are gone.
struct Closer(Arc<Link>);

impl Drop for Closer {
    fn drop(&mut self) {
        self.0.close();
    }
}

enum State {
    Open,
    Exited(PtyExit),
    /// The connection failed: the error until reported, then its text.
    Failed(Option<Error>, String),
}

/// Waits for the server's "connected" on a fresh socket (until `by`) and
/// makes the handle.
pub(super) fn connected<'s>(
    socket: Socket,
    tb: Toolbox<'s>,
    id: &str,
    idle: Duration,
    by: Option<Instant>,
    started: Instant,
) -> Result<PtyHandle<'s>> {
    let redact = Box::new(tb.transport().redactor(Vec::new()));
    let started_link = Link::start(socket, idle, id, redact)?;
    let link = started_link.link;
    let closer = Arc::new(Closer(link.clone()));
    let wait = by.map_or(Duration::MAX, |by| {
        by.saturating_duration_since(Instant::now())
    });
    match started_link.connected.recv_timeout(wait) {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e),
        Err(RecvTimeoutError::Timeout) => {
            return Err(Error::Timeout {
                operation: format!("{}: waiting for the terminal to connect", link.operation()),
                after: started.elapsed(),
            })
        }
        Err(RecvTimeoutError::Disconnected) => {
            return Err(Error::Transport {
                operation: link.operation().to_string(),
                source: "the connection ended before the terminal connected".into(),
            })
        }
    }
    let operation = link.operation().to_string();
    Ok(PtyHandle {
        reader: PtyReader {
            output: started_link.output,
            pending: Vec::new(),
            at: 0,
            state: State::Open,
            operation,
            _closer: closer.clone(),
        },
        writer: PtyWriter {
            link,
            tb,
            id: id.to_string(),
            _closer: closer,
        },
    })
}

impl fmt::Debug for PtyHandle<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PtyHandle")
            .field("id", &self.writer.id)
            .field("exit", &self.reader.exit())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for PtyReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PtyReader")
            .field("operation", &self.operation)
            .field("exit", &self.exit())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for PtyWriter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PtyWriter")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl<'s> PtyHandle<'s> {
    /// The session's id.
    pub fn id(&self) -> &str {
        &self.writer.id
    }

    /// Splits the handle into its output and its input, for two threads.
    /// The connection closes when both are dropped.
    pub fn split(self) -> (PtyReader, PtyWriter<'s>) {
        (self.reader, self.writer)
    }

    /// Sends input to the terminal (as [`Write::write_all`], with the
    /// crate's error); an error once the session has ended.
    ///
    /// When the terminal reads no input for the connection's idle limit,
    /// this ends with [`crate::Error::Timeout`]: the input before the
    /// piece being written then has been sent, and that piece (at most
    /// 32 KiB) may still go out later, ahead of any input sent after it.
    pub fn send_input(&self, input: &[u8]) -> Result<()> {
        self.writer.send_input(input)
    }

    /// Changes the terminal's size (1 to 1000 columns and rows).
    pub fn resize(&self, cols: u16, rows: u16) -> Result<PtySessionInfo> {
        self.writer.resize(cols, rows)
    }

    /// Ends the session (see [`Process::kill_pty`]); [`wait`](Self::wait)
    /// then returns exit code 137.
    pub fn kill(&self) -> Result<()> {
        self.writer.kill()
    }

    /// Waits until the session ends and says how, dropping the output not
    /// read yet. An error when the connection fails first.
    pub fn wait(&mut self) -> Result<PtyExit> {
        self.reader.wait()
    }

    /// [`wait`](Self::wait) for at most `timeout`: `None` when the session
    /// is still running then, whatever the shell does meanwhile.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Result<Option<PtyExit>> {
        self.reader.wait_timeout(timeout)
    }

    /// Hands each piece of output to `on_data` as it arrives, until the
    /// session ends; returns how it ended.
    pub fn on_data(&mut self, on_data: impl FnMut(&[u8])) -> Result<PtyExit> {
        self.reader.on_data(on_data)
    }

    /// How the session ended, once the output has been read to its end.
    pub fn exit(&self) -> Option<&PtyExit> {
        self.reader.exit()
    }

    /// Closes the connection; the session goes on (connect again with
    /// [`Process::connect_pty`]). Dropping the handle does the same.
    pub fn disconnect(self) {
        self.writer.link.close();
    }
}

/// As [`PtyReader`]'s `Read`: a timeout is of kind
/// [`io::ErrorKind::TimedOut`], and the crate's [`Error`] is inside.
impl Read for PtyHandle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reader.read(buf)
    }
}

impl Write for PtyHandle<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl PtyReader {
    /// The next piece from the connection: `None` at `until`.
    fn next(&mut self, until: Option<Instant>) -> Option<Piece> {
        if !matches!(self.state, State::Open) {
            return None;
        }
        let piece = match until {
            None => self
                .output
                .recv()
                .map_err(|_| RecvTimeoutError::Disconnected),
            Some(until) => self
                .output
                .recv_timeout(until.saturating_duration_since(Instant::now())),
        };
        match piece {
            Ok(Piece::Data(bytes)) => Some(Piece::Data(bytes)),
            Ok(Piece::End(end)) => {
                self.end(end);
                None
            }
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => {
                self.end(Err(Error::Transport {
                    operation: self.operation.clone(),
                    source: "the terminal connection is closed".into(),
                }));
                None
            }
        }
    }

    fn end(&mut self, end: Result<PtyExit>) {
        self.state = match end {
            Ok(exit) => State::Exited(exit),
            Err(e) => {
                let text = e.to_string();
                State::Failed(Some(e), text)
            }
        };
    }

    /// The outcome once the end has come: the error the first time it is
    /// reported, a copy of its text after.
    fn outcome(&mut self) -> Option<Result<PtyExit>> {
        match &mut self.state {
            State::Open => None,
            State::Exited(exit) => Some(Ok(exit.clone())),
            State::Failed(error, text) => {
                Some(Err(error.take().unwrap_or_else(|| Error::Transport {
                    operation: self.operation.clone(),
                    source: text.clone().into(),
                })))
            }
        }
    }

    /// Waits until the session ends and says how, dropping the output not
    /// read yet.
    pub fn wait(&mut self) -> Result<PtyExit> {
        self.pending.clear();
        while self.next(None).is_some() {}
        self.outcome()
            .unwrap_or_else(|| unreachable_open(&self.operation))
    }

    /// [`wait`](Self::wait) for at most `timeout`: `None` when the session
    /// is still running then.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Result<Option<PtyExit>> {
        self.pending.clear();
        let until = Instant::now().checked_add(timeout);
        loop {
            if let Some(outcome) = self.outcome() {
                return outcome.map(Some);
            }
            if until.is_some_and(|u| Instant::now() >= u) {
                return Ok(None);
            }
            // Output is dropped; `None` is the end or the deadline.
            let _ = self.next(until);
        }
    }

    /// Hands each piece of output to `on_data` as it arrives (what was
    /// read in part first), until the session ends; returns how it ended.
    pub fn on_data(&mut self, mut on_data: impl FnMut(&[u8])) -> Result<PtyExit> {
        if self.at < self.pending.len() {
            on_data(&self.pending[self.at..]);
        }
        self.pending.clear();
        self.at = 0;
        while let Some(Piece::Data(bytes)) = self.next(None) {
            on_data(&bytes);
        }
        self.outcome()
            .unwrap_or_else(|| unreachable_open(&self.operation))
    }

    /// How the session ended, once the output has been read to its end.
    pub fn exit(&self) -> Option<&PtyExit> {
        match &self.state {
            State::Exited(exit) => Some(exit),
            _ => None,
        }
    }
}

/// `next(None)` returns `None` only once the state has left `Open`.
fn unreachable_open(operation: &str) -> Result<PtyExit> {
    Err(Error::Transport {
        operation: operation.to_string(),
        source: "the terminal connection ended without an outcome".into(),
    })
}

/// The crate's `error` as an [`io::Error`] that keeps it (see
/// [`PtyReader`]'s `Read`): of kind `TimedOut` for a timeout.
fn io_error(error: Error) -> io::Error {
    let kind = if error.is_timeout() {
        io::ErrorKind::TimedOut
    } else {
        io::ErrorKind::Other
    };
    io::Error::new(kind, error)
}

/// Reads output; 0 once the session has ended. A failed connection is an
/// error (once; 0 after): an [`io::Error`] holding the crate's [`Error`],
/// of kind [`io::ErrorKind::TimedOut`] when the connection timed out (the
/// server sent nothing for the idle limit), [`io::ErrorKind::Other`]
/// otherwise. The [`Error`] is reachable with
/// [`get_ref`](io::Error::get_ref) or [`into_inner`](io::Error::into_inner)
/// and a downcast:
///
/// ```no_run
/// use std::io::{ErrorKind, Read};
/// use daytona::toolbox::PtyOptions;
///
/// # let daytona = daytona::Daytona::from_env()?;
/// # let sandbox = daytona.get("my-sandbox")?;
/// let mut pty = sandbox.process().create_pty(PtyOptions::new("shell"))?;
/// let mut output = String::new();
/// match pty.read_to_string(&mut output) {
///     Ok(_) => println!("ended: {:?}", pty.exit()),
///     Err(e) if e.kind() == ErrorKind::TimedOut => eprintln!("the terminal went silent"),
///     Err(e) => match e.get_ref().and_then(|inner| inner.downcast_ref::<daytona::Error>()) {
///         Some(error) => eprintln!("{}", error.report()),
///         None => eprintln!("{e}"),
///     },
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl Read for PtyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.at >= self.pending.len() {
            match self.next(None) {
                Some(Piece::Data(bytes)) => {
                    self.pending = bytes;
                    self.at = 0;
                }
                _ => {
                    return match &mut self.state {
                        State::Failed(error @ Some(_), _) => {
                            Err(io_error(error.take().expect("checked")))
                        }
                        _ => Ok(0),
                    }
                }
            }
        }
        let n = buf.len().min(self.pending.len() - self.at);
        buf[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

impl<'s> PtyWriter<'s> {
    /// The session's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Sends input to the terminal (as [`Write::write_all`], with the
    /// crate's error); an error once the session has ended.
    ///
    /// When the terminal reads no input for the connection's idle limit,
    /// this ends with [`crate::Error::Timeout`]: the input before the
    /// piece being written then has been sent, and that piece (at most
    /// 32 KiB) may still go out later, ahead of any input sent after it.
    pub fn send_input(&self, input: &[u8]) -> Result<()> {
        self.link.send(input)
    }

    /// Changes the terminal's size (1 to 1000 columns and rows).
    pub fn resize(&self, cols: u16, rows: u16) -> Result<PtySessionInfo> {
        Process::new(self.tb).resize_pty(&self.id, cols, rows)
    }

    /// Ends the session (see [`Process::kill_pty`]).
    pub fn kill(&self) -> Result<()> {
        Process::new(self.tb).kill_pty(&self.id)
    }

    /// Closes the connection now, whether or not the reader is still
    /// there; the session goes on.
    pub fn disconnect(self) {
        self.link.close();
    }
}

impl Write for PtyWriter<'_> {
    /// Sends `buf` as one message (at most 32 KiB of it).
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(32 << 10);
        self.link.send(&buf[..n]).map_err(io_error)?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
