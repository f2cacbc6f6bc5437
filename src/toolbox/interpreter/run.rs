//! One run of code: the WebSocket `/process/interpreter/execute`, one JSON
//! request from the client, then the server's `stdout`, `stderr`, `error`
//! and `control` messages until it closes (1000 when the code finished,
//! 4008 when it was interrupted at its timeout, 1001 when the interpreter
//! died).

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::RunCodeOptions;
use crate::config::env_secrets;
use crate::error::{Error, Result};
use crate::toolbox::process::{lenient, whole_seconds};
use crate::toolbox::Toolbox;
use crate::transport::poll::Deadline;
use crate::transport::status::{answer_excerpt, decode_message};
use crate::transport::ws::{Event, IdleOf, Limits, ReadError, Socket};

/// The server's time limit of a run that sets none.
const SERVER_DEFAULT_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// The longest silence after which a ping goes out. The toolbox reads
/// only the request of a run and so never answers them, but proxies on the
/// way see traffic and keep the connection open while the code is quiet.
const KEEPALIVE: Duration = Duration::from_secs(20);

/// Largest message read from the server (one piece of output).
const MAX_MESSAGE: usize = 16 << 20;

/// Most output [`collect`] keeps.
const MAX_RESULT: usize = 64 << 20;

/// The close code of a run interrupted at its timeout.
const CLOSE_TIMEOUT: u16 = 4008;

/// The close code of an interpreter that died during the run.
const CLOSE_GOING_AWAY: u16 = 1001;

/// The exception code raised (`error` message of the server).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ExecutionError {
    /// The exception's class, e.g. `ZeroDivisionError`.
    #[serde(default, deserialize_with = "lenient")]
    pub name: String,
    /// Its message, e.g. `division by zero`.
    #[serde(default, deserialize_with = "lenient")]
    pub value: String,
    /// The traceback, as Python prints it.
    #[serde(default, deserialize_with = "lenient")]
    pub traceback: String,
}

/// What [`CodeInterpreter::run_code`](super::CodeInterpreter::run_code)
/// returns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunCodeResult {
    /// Everything written to stdout.
    pub stdout: String,
    /// Everything written to stderr.
    pub stderr: String,
    /// The exception the code raised, if it raised one.
    pub error: Option<ExecutionError>,
}

/// A piece of a run's output.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutputChunk {
    /// Written to stdout.
    Stdout(String),
    /// Written to stderr.
    Stderr(String),
    /// The exception the code raised (the run then ends).
    Error(ExecutionError),
}

/// A run's output as it is produced: an iterator of [`OutputChunk`]s that
/// ends when the code finishes; a failure is the last item. Dropping it
/// closes the connection.
///
/// Made by [`CodeInterpreter::run_code_stream`](super::CodeInterpreter::run_code_stream).
pub struct CodeRun<'a> {
    socket: Option<Socket>,
    error: Option<Error>,
    options: RunCodeOptions<'a>,
    operation: String,
    /// The run's time limit (the server's).
    timeout: Duration,
    idle: Duration,
    started: Instant,
    redact: Box<dyn Fn(Error) -> Error + Send + Sync>,
}

impl fmt::Debug for CodeRun<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodeRun")
            .field("operation", &self.operation)
            .field("open", &self.socket.is_some())
            .finish_non_exhaustive()
    }
}

/// The client's request (`ExecuteRequest`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Request<'a> {
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    context_id: Option<&'a str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    envs: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout: Option<u32>,
}

/// A message of the server.
#[derive(Deserialize)]
struct Message {
    #[serde(rename = "type", default, deserialize_with = "lenient")]
    kind: String,
    #[serde(default, deserialize_with = "lenient")]
    text: String,
    #[serde(default, deserialize_with = "lenient")]
    name: String,
    #[serde(default, deserialize_with = "lenient")]
    value: String,
    #[serde(default, deserialize_with = "lenient")]
    traceback: String,
}

/// The limits of a run that may last `limit` from `started`: silence is
/// bounded by `idle` when one is given, otherwise by the run's limit alone
/// (quiet code is not a lost connection: the toolbox sends nothing, pongs
/// included, until the code writes or ends).
fn run_limits(idle: Option<Duration>, started: Instant, limit: Duration) -> Limits {
    let idle = idle.unwrap_or(limit);
    Limits {
        idle,
        idle_of: IdleOf::Data,
        keepalive: Some(KEEPALIVE.min(idle / 3)),
        deadline: started.checked_add(limit),
        max_message: MAX_MESSAGE,
    }
}

/// Connects, sends the request and returns the run.
pub(super) fn start<'a>(
    tb: Toolbox<'_>,
    code: &str,
    options: RunCodeOptions<'a>,
) -> Result<CodeRun<'a>> {
    let seconds = whole_seconds("timeout", options.timeout)?;
    let timeout = seconds.map_or(SERVER_DEFAULT_TIMEOUT, |s| {
        Duration::from_secs(u64::from(s))
    });
    let segments = ["process", "interpreter", "execute"];
    let transport = tb.transport();
    let started = Instant::now();
    // The server interrupts the code at its timeout; the client gives it
    // the margin on top to say so.
    let limit = timeout.saturating_add(transport.command_timeout_margin());
    let limits = run_limits(options.idle_timeout, started, limit);
    let idle = limits.idle;
    let mut socket = tb.websocket(&segments, &[], limits, Deadline::after(limit))?;
    let operation = socket.operation().to_string();
    let request = Request {
        code,
        context_id: options.context.as_deref(),
        envs: &options.envs,
        timeout: seconds,
    };
    let request = serde_json::to_string(&request).map_err(|e| Error::Transport {
        operation: operation.clone(),
        source: Box::new(e),
    })?;
    socket
        .send_text(&request)
        .map_err(|e| transport.redact(e))?;
    // The server's messages may quote the request.
    let redact = transport.redactor(env_secrets(&options.envs));
    Ok(CodeRun {
        socket: Some(socket),
        error: None,
        options,
        operation,
        timeout,
        idle,
        started,
        redact: Box::new(redact),
    })
}

impl Iterator for CodeRun<'_> {
    type Item = Result<OutputChunk>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(e) = self.error.take() {
                return Some(Err(e));
            }
            let socket = self.socket.as_mut()?;
            let text = match socket.next_event() {
                Ok(Event::Text(text)) => text,
                // The interpreter sends text only.
                Ok(Event::Binary(_)) => continue,
                Ok(Event::Closed(code, reason)) => {
                    let error = self.close_error(code, &reason);
                    self.end(error);
                    continue;
                }
                Err(ReadError::Failed(e)) => {
                    self.end(Some(e));
                    continue;
                }
                Err(ReadError::Deadline) => {
                    let error = self.timed_out();
                    self.end(Some(error));
                    continue;
                }
                Err(ReadError::Idle) => {
                    let error = Error::Timeout {
                        operation: format!(
                            "{}: no output for {:?} (the run's idle limit)",
                            self.operation, self.idle
                        ),
                        after: self.started.elapsed(),
                    };
                    self.end(Some(error));
                    continue;
                }
            };
            let message: Message = match serde_json::from_slice(&text) {
                Ok(m) => m,
                Err(e) => {
                    // The values masked, as in any answer: they are the
                    // code's output.
                    let error = Error::Decode {
                        operation: self.operation.clone(),
                        message: decode_message(&e),
                        excerpt: answer_excerpt(&text),
                    };
                    self.end(Some(error));
                    continue;
                }
            };
            match message.kind.as_str() {
                "stdout" if !message.text.is_empty() => {
                    if let Some(f) = self.options.on_stdout.as_mut() {
                        f(&message.text);
                    }
                    return Some(Ok(OutputChunk::Stdout(message.text)));
                }
                "stderr" if !message.text.is_empty() => {
                    if let Some(f) = self.options.on_stderr.as_mut() {
                        f(&message.text);
                    }
                    return Some(Ok(OutputChunk::Stderr(message.text)));
                }
                "error" => {
                    let error = ExecutionError {
                        name: message.name,
                        value: message.value,
                        traceback: message.traceback,
                    };
                    if let Some(f) = self.options.on_error.as_mut() {
                        f(&error);
                    }
                    return Some(Ok(OutputChunk::Error(error)));
                }
                // Interrupted at the timeout: the close (4008) follows.
                "control" if message.text == "interrupted" => {
                    let error = self.timed_out();
                    self.end(Some(error));
                }
                // `completed` (the close follows), empty output, and
                // messages of kinds this crate does not know.
                _ => {}
            }
        }
    }
}

impl std::iter::FusedIterator for CodeRun<'_> {}

impl Drop for CodeRun<'_> {
    fn drop(&mut self) {
        if let Some(mut socket) = self.socket.take() {
            socket.close(1000, "");
        }
    }
}

impl CodeRun<'_> {
    /// Ends the run; `error` is the last item.
    fn end(&mut self, error: Option<Error>) {
        if let Some(mut socket) = self.socket.take() {
            if error.is_some() {
                socket.close(1000, "");
            }
        }
        self.error = error.map(|e| (self.redact)(e));
    }

    /// A close other than a normal one is an error.
    fn close_error(&self, code: u16, reason: &str) -> Option<Error> {
        let source = match code {
            1000 | 1005 => return None,
            CLOSE_TIMEOUT => return Some(self.timed_out()),
            CLOSE_GOING_AWAY => format!(
                "the interpreter ended during the run (close code 1001{})",
                if reason.is_empty() {
                    String::new()
                } else {
                    format!(": {reason}")
                }
            ),
            _ if reason.is_empty() => format!("the server closed the run with code {code}"),
            _ => format!("the server closed the run with code {code}: {reason}"),
        };
        Some(Error::Transport {
            operation: self.operation.clone(),
            source: source.into(),
        })
    }

    fn timed_out(&self) -> Error {
        Error::Timeout {
            operation: format!(
                "{}: the code did not finish within {:?}",
                self.operation, self.timeout
            ),
            after: self.started.elapsed(),
        }
    }
}

/// Runs a stream to its end, keeping its output.
pub(super) fn collect(run: CodeRun<'_>) -> Result<RunCodeResult> {
    let mut result = RunCodeResult::default();
    let operation = run.operation.clone();
    for chunk in run {
        match chunk? {
            OutputChunk::Stdout(text) => result.stdout.push_str(&text),
            OutputChunk::Stderr(text) => result.stderr.push_str(&text),
            OutputChunk::Error(e) => result.error = Some(e),
        }
        if result.stdout.len().saturating_add(result.stderr.len()) > MAX_RESULT {
            return Err(Error::Transport {
                operation,
                source: format!(
                    "the output passed {} MiB: use run_code_stream for more",
                    MAX_RESULT >> 20
                )
                .into(),
            });
        }
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_has_no_idle_limit_unless_one_is_set() {
        let now = Instant::now();
        let limit = Duration::from_secs(605);
        let limits = run_limits(None, now, limit);
        // Quiet code runs to its limit, pinging every 20 s for the proxies.
        assert_eq!(limits.idle, limit);
        assert_eq!(limits.keepalive, Some(KEEPALIVE));
        assert_eq!(limits.deadline, now.checked_add(limit));
        let limits = run_limits(Some(Duration::from_millis(600)), now, limit);
        assert_eq!(limits.idle, Duration::from_millis(600));
        assert_eq!(limits.keepalive, Some(Duration::from_millis(200)));
        let limits = run_limits(Some(Duration::from_secs(3600)), now, limit);
        assert_eq!(limits.keepalive, Some(KEEPALIVE));
    }
}
