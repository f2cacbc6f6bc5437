//! Following the log of a running command as it is written (feature
//! `websocket`): the toolbox streams it over a WebSocket
//! (`.../logs?follow=true`) and closes it when the command ends, or, as
//! toolboxes may leave it open after the end, the command is asked
//! whether it has ended once its log falls silent.

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use ureq::http::Method;

use super::demux::Demux;
use super::session::{command_path, Command};
use super::Process;
use crate::config::WAIT_FOREVER;
use crate::error::{Error, Result};
use crate::telemetry::traced;
use crate::toolbox::Toolbox;
use crate::transport::poll::Deadline;
use crate::transport::ws::{earliest, Event, IdleOf, Limits, ReadError, Socket};

/// Largest message of a log stream (the toolbox sends chunks of a few KiB).
const MAX_MESSAGE: usize = 16 << 20;

/// Bytes of a message split into chunks at once: a message that switches
/// streams at every character makes at most a quarter as many chunks at a
/// time, not one for each of its characters.
const DEMUX_STEP: usize = 64 << 10;

/// The default [`FollowOptions::idle_timeout`]: 10 minutes.
const DEFAULT_IDLE: Duration = Duration::from_secs(10 * 60);

/// Silence of a followed command's log after which the command is asked
/// whether it has ended; each answer that it has not doubles the wait
/// for the next question, up to [`LAST_CHECK_EVERY`], and data starts
/// the count again.
const FIRST_CHECK: Duration = Duration::from_secs(1);

/// The longest silence between two questions of [`FIRST_CHECK`].
const LAST_CHECK_EVERY: Duration = Duration::from_secs(16);

/// The limit of one such question.
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// Silence, once the command has ended, after which its log is complete.
const AFTER_EXIT: Duration = Duration::from_millis(500);

/// Limits of following a log.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct FollowOptions {
    idle_timeout: Duration,
    timeout: Option<Duration>,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions {
            idle_timeout: DEFAULT_IDLE,
            timeout: None,
        }
    }
}

impl FollowOptions {
    /// Gives up after 10 minutes without any data; no overall limit.
    pub fn new() -> Self {
        Self::default()
    }

    /// Gives up with [`Error::Timeout`] when the log gets no data for this
    /// long (default 10 minutes; pings, and parts of a message that never
    /// ends, are no data): a command that prints nothing for longer needs a
    /// longer limit.
    pub fn idle_timeout(mut self, idle: Duration) -> Self {
        self.idle_timeout = idle;
        self
    }

    /// Gives up with [`Error::Timeout`] when the command has not ended
    /// after this long, connecting included (default: no limit).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// A piece of a followed log: text written to stdout or to stderr. A
/// multi-byte character is never cut between two chunks.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogChunk {
    /// Written to stdout.
    Stdout(String),
    /// Written to stderr.
    Stderr(String),
}

impl LogChunk {
    /// The text.
    pub fn text(&self) -> &str {
        match self {
            LogChunk::Stdout(s) | LogChunk::Stderr(s) => s,
        }
    }

    /// Written to stderr.
    pub fn is_stderr(&self) -> bool {
        matches!(self, LogChunk::Stderr(_))
    }
}

/// The log of a command as it is written: an iterator of [`LogChunk`]s
/// that ends when the command ends: the server closes the stream
/// normally or, for a session command, the command has an exit code and
/// its log has been silent for half a second (a toolbox may keep the
/// stream open after the end: from 1 s of silence on, the command is
/// asked at growing intervals, up to 16 s apart). A failure is the last
/// item. Dropping it disconnects.
///
/// Made by [`Process::stream_session_command_logs`] and
/// [`Process::stream_entrypoint_logs`].
pub struct LogStream<'s> {
    socket: Option<Socket>,
    demux: Demux,
    /// The last message, split into chunks [`DEMUX_STEP`] bytes at a time
    /// (up to `split`).
    message: Vec<u8>,
    split: usize,
    queue: VecDeque<LogChunk>,
    error: Option<Error>,
    tb: Toolbox<'s>,
    /// The session command followed, asked whether it has ended.
    check: Option<EndCheck>,
    operation: String,
    idle: Duration,
    timeout: Option<Duration>,
    deadline: Option<Instant>,
    started: Instant,
}

/// When and how to ask a followed session command whether it has ended.
struct EndCheck {
    session: String,
    command: String,
    /// Silence before the next question.
    every: Duration,
    /// When it is due.
    due: Instant,
    /// It has ended: `due` is when its silent log is complete.
    ended: bool,
}

impl EndCheck {
    /// Data came: the next question after the first silence again, or
    /// the end of an ended command's log that much later.
    fn data(&mut self) {
        self.every = FIRST_CHECK;
        let wait = if self.ended { AFTER_EXIT } else { FIRST_CHECK };
        self.due = Instant::now() + wait;
    }
}

impl fmt::Debug for LogStream<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogStream")
            .field("operation", &self.operation)
            .field("open", &self.socket.is_some())
            .field("queued", &self.queue.len())
            .finish_non_exhaustive()
    }
}

impl Iterator for LogStream<'_> {
    type Item = Result<LogChunk>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(chunk) = self.queue.pop_front() {
                return Some(Ok(chunk));
            }
            if self.split < self.message.len() {
                let end = self.message.len().min(self.split + DEMUX_STEP);
                self.demux
                    .push(&self.message[self.split..end], &mut self.queue);
                self.split = end;
                continue;
            }
            if let Some(e) = self.error.take() {
                return Some(Err(e));
            }
            let socket = self.socket.as_mut()?;
            socket.set_deadline(earliest(self.deadline, self.check.as_ref().map(|c| c.due)));
            match socket.next_event() {
                Ok(Event::Text(data) | Event::Binary(data)) => {
                    if let Some(check) = &mut self.check {
                        check.data();
                    }
                    self.message = data;
                    self.split = 0;
                }
                Ok(Event::Closed(code, reason)) => {
                    let error = self.close_error(code, &reason);
                    self.end(error);
                }
                Err(ReadError::Failed(error)) => self.end(Some(error)),
                Err(ReadError::Deadline) if !self.passed() && self.check.is_some() => {
                    self.check_end();
                }
                Err(_) => {
                    let error = self.timed_out();
                    self.end(Some(error));
                }
            }
        }
    }
}

impl std::iter::FusedIterator for LogStream<'_> {}

impl LogStream<'_> {
    /// Closes the stream: what was held back is delivered, then `error`.
    fn end(&mut self, error: Option<Error>) {
        self.socket = None;
        self.demux.finish(&mut self.queue);
        self.error = error.map(|e| self.tb.transport().redact(e));
    }

    /// A close other than normal (1000, or no code) is an error.
    fn close_error(&self, code: u16, reason: &str) -> Option<Error> {
        if matches!(code, 1000 | 1005) {
            return None;
        }
        let mut message = format!("the server closed the log stream with code {code}");
        if !reason.is_empty() {
            message = format!("{message}: {reason}");
        }
        Some(Error::Transport {
            operation: self.operation.clone(),
            source: message.into(),
        })
    }

    /// Whether the overall deadline has passed.
    fn passed(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// The log has been silent until its check was due: the end when the
    /// command had ended already, else the command is asked whether it
    /// has. A question that fails is no answer: the stream goes on, within
    /// its limits.
    fn check_end(&mut self) {
        let Some(check) = &mut self.check else { return };
        if check.ended {
            if let Some(socket) = &mut self.socket {
                // The check's deadline has passed; the close has the
                // stream's own.
                socket.set_deadline(self.deadline);
                socket.close(1000, "");
            }
            return self.end(None);
        }
        let ended = ended(self.tb, check, self.deadline);
        let now = Instant::now();
        match ended {
            Ok(true) => {
                check.ended = true;
                check.due = now + AFTER_EXIT;
            }
            Ok(false) => {
                check.every = (check.every * 2).min(LAST_CHECK_EVERY);
                check.due = now + check.every;
            }
            Err(e) => {
                log::debug!(
                    "{}: could not ask whether the command ended: {e}",
                    self.operation
                );
                check.due = now + check.every;
            }
        }
    }

    fn timed_out(&self) -> Error {
        let passed = self.passed();
        let operation = match self.timeout {
            Some(t) if passed => {
                format!("{}: the command did not end within {t:?}", self.operation)
            }
            _ => format!("{}: no log data for {:?}", self.operation, self.idle),
        };
        Error::Timeout {
            operation,
            after: self.started.elapsed(),
        }
    }
}

impl<'s> Process<'s> {
    /// Follows the log of a session command until the command ends,
    /// handing each piece of stdout and stderr to `on_chunk` as it arrives
    /// (what the command wrote before comes first).
    ///
    /// Returns when the server closes the stream normally, or when the
    /// command has ended and its log has been silent for half a second
    /// (see [`LogStream`]); an abnormal close, a broken connection or a
    /// limit of `options` is an error. Use
    /// [`stream_session_command_logs`](Self::stream_session_command_logs)
    /// to stop early.
    ///
    /// ```no_run
    /// use daytona::toolbox::{FollowOptions, LogChunk, SessionExecOptions};
    ///
    /// # let daytona = daytona::Daytona::from_env()?;
    /// # let sandbox = daytona.get("my-sandbox")?;
    /// let process = sandbox.process();
    /// process.create_session("ci")?;
    /// let run = process.execute_session_command(
    ///     "ci",
    ///     "make test",
    ///     SessionExecOptions::new().run_async(true),
    /// )?;
    /// process.follow_session_command_logs("ci", &run.cmd_id, FollowOptions::new(), |chunk| {
    ///     match chunk {
    ///         LogChunk::Stderr(text) => eprint!("{text}"),
    ///         other => print!("{}", other.text()),
    ///     }
    /// })?;
    /// let exit_code = process.get_session_command("ci", &run.cmd_id)?.exit_code;
    /// # Ok::<(), daytona::Error>(())
    /// ```
    pub fn follow_session_command_logs(
        &self,
        session_id: &str,
        command_id: &str,
        options: FollowOptions,
        on_chunk: impl FnMut(LogChunk),
    ) -> Result<()> {
        traced(self.tb.tracing(), "Process.getSessionCommandLogs", || {
            drain(
                self.stream_session_command_logs(session_id, command_id, options)?,
                on_chunk,
            )
        })
    }

    /// Follows the log of the sandbox's entrypoint, as
    /// [`follow_session_command_logs`](Self::follow_session_command_logs).
    pub fn follow_entrypoint_logs(
        &self,
        options: FollowOptions,
        on_chunk: impl FnMut(LogChunk),
    ) -> Result<()> {
        traced(self.tb.tracing(), "Process.getEntrypointLogs", || {
            drain(self.stream_entrypoint_logs(options)?, on_chunk)
        })
    }

    /// Connects to the log of a session command and returns it as an
    /// iterator of chunks, which ends when the command ends.
    ///
    /// ```no_run
    /// use daytona::toolbox::FollowOptions;
    ///
    /// # let daytona = daytona::Daytona::from_env()?;
    /// # let sandbox = daytona.get("my-sandbox")?;
    /// # let (session, command) = ("s", "c");
    /// for chunk in sandbox.process().stream_session_command_logs(session, command, FollowOptions::new())? {
    ///     let chunk = chunk?;
    ///     if chunk.text().contains("listening on") {
    ///         break; // the server is up: stop following
    ///     }
    /// }
    /// # Ok::<(), daytona::Error>(())
    /// ```
    pub fn stream_session_command_logs(
        &self,
        session_id: &str,
        command_id: &str,
        options: FollowOptions,
    ) -> Result<LogStream<'s>> {
        traced(self.tb.tracing(), "Process.getSessionCommandLogs", || {
            let check = EndCheck {
                session: session_id.to_string(),
                command: command_id.to_string(),
                every: FIRST_CHECK,
                due: Instant::now() + FIRST_CHECK,
                ended: false,
            };
            self.open_log(
                &command_path(session_id, command_id, Some("logs"))?,
                options,
                Some(check),
            )
        })
    }

    /// Connects to the log of the sandbox's entrypoint, as
    /// [`stream_session_command_logs`](Self::stream_session_command_logs).
    pub fn stream_entrypoint_logs(&self, options: FollowOptions) -> Result<LogStream<'s>> {
        traced(self.tb.tracing(), "Process.getEntrypointLogs", || {
            self.open_log(&["process", "session", "entrypoint", "logs"], options, None)
        })
    }

    fn open_log(
        &self,
        segments: &[&str],
        options: FollowOptions,
        check: Option<EndCheck>,
    ) -> Result<LogStream<'s>> {
        if options.idle_timeout.is_zero() {
            return Err(Error::validation("idle_timeout", "must be more than zero"));
        }
        if options.timeout.is_some_and(|t| t.is_zero()) {
            return Err(Error::validation("timeout", "must be more than zero"));
        }
        let started = Instant::now();
        let deadline = options.timeout.and_then(|t| started.checked_add(t));
        let limits = Limits {
            idle: options.idle_timeout,
            idle_of: IdleOf::Data,
            keepalive: None,
            deadline,
            max_message: MAX_MESSAGE,
        };
        // Opening the stream is a GET, retried as any: nothing has been
        // delivered yet. Once open, it is never opened again.
        let limit = Deadline::after(options.timeout.unwrap_or(WAIT_FOREVER));
        let socket = self
            .tb
            .websocket(segments, &[("follow", "true")], limits, limit)?;
        Ok(LogStream {
            operation: socket.operation().to_string(),
            socket: Some(socket),
            demux: Demux::default(),
            message: Vec::new(),
            split: 0,
            queue: VecDeque::new(),
            error: None,
            tb: self.tb,
            check,
            idle: options.idle_timeout,
            timeout: options.timeout,
            deadline,
            started,
        })
    }
}

/// Whether the command of `check` has an exit code, asked within
/// [`CHECK_TIMEOUT`] and the stream's `deadline`.
fn ended(tb: Toolbox<'_>, check: &EndCheck, deadline: Option<Instant>) -> Result<bool> {
    let path = command_path(&check.session, &check.command, None)?;
    let mut req = tb.request(Method::GET, &path)?.timeout(CHECK_TIMEOUT);
    if let Some(at) = deadline {
        req = req.deadline(Deadline::after(
            at.saturating_duration_since(Instant::now()),
        ));
    }
    let command: Command = tb.transport().json(req)?;
    Ok(command.exit_code.is_some())
}

fn drain(stream: LogStream<'_>, mut on_chunk: impl FnMut(LogChunk)) -> Result<()> {
    for chunk in stream {
        on_chunk(chunk?);
    }
    Ok(())
}
