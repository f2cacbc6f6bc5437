//! Following the log of a running command as it is written (feature
//! `websocket`): the toolbox streams it over a WebSocket
//! (`.../logs?follow=true`) and closes it when the command ends.

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use super::demux::Demux;
use super::session::command_path;
use super::Process;
use crate::config::WAIT_FOREVER;
use crate::error::{Error, Result};
use crate::telemetry::traced;
use crate::transport::poll::Deadline;
use crate::transport::ws::{Event, IdleOf, Limits, ReadError, Socket};
use crate::transport::Transport;

/// Largest message of a log stream (the toolbox sends chunks of a few KiB).
const MAX_MESSAGE: usize = 16 << 20;

/// Bytes of a message split into chunks at once: a message that switches
/// streams at every character makes at most a quarter as many chunks at a
/// time, not one for each of its characters.
const DEMUX_STEP: usize = 64 << 10;

/// The default [`FollowOptions::idle_timeout`]: 10 minutes.
const DEFAULT_IDLE: Duration = Duration::from_secs(10 * 60);

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
/// that ends when the command ends (the server closes the stream
/// normally). A failure is the last item. Dropping it disconnects.
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
    transport: &'s Transport,
    operation: String,
    idle: Duration,
    timeout: Option<Duration>,
    deadline: Option<Instant>,
    started: Instant,
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
            match socket.next_event() {
                Ok(Event::Text(data) | Event::Binary(data)) => {
                    self.message = data;
                    self.split = 0;
                }
                Ok(Event::Closed(code, reason)) => {
                    let error = self.close_error(code, &reason);
                    self.end(error);
                }
                Err(ReadError::Failed(error)) => self.end(Some(error)),
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
        self.error = error.map(|e| self.transport.redact(e));
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

    fn timed_out(&self) -> Error {
        let passed = self.deadline.is_some_and(|d| Instant::now() >= d);
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
    /// Returns when the server closes the stream normally; an abnormal
    /// close, a broken connection or a limit of `options` is an error. Use
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
            self.open_log(
                &command_path(session_id, command_id, Some("logs"))?,
                options,
            )
        })
    }

    /// Connects to the log of the sandbox's entrypoint, as
    /// [`stream_session_command_logs`](Self::stream_session_command_logs).
    pub fn stream_entrypoint_logs(&self, options: FollowOptions) -> Result<LogStream<'s>> {
        traced(self.tb.tracing(), "Process.getEntrypointLogs", || {
            self.open_log(&["process", "session", "entrypoint", "logs"], options)
        })
    }

    fn open_log(&self, segments: &[&str], options: FollowOptions) -> Result<LogStream<'s>> {
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
            transport: self.tb.transport(),
            idle: options.idle_timeout,
            timeout: options.timeout,
            deadline,
            started,
        })
    }
}

fn drain(stream: LogStream<'_>, mut on_chunk: impl FnMut(LogChunk)) -> Result<()> {
    for chunk in stream {
        on_chunk(chunk?);
    }
    Ok(())
}
