//! Sessions (`/process/session/...`): a shell kept alive between commands,
//! which can run commands in the background.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{lenient, objects, whole_seconds, Process};
use crate::check::{non_empty, path_segment};
use crate::config::echo_forms;
use crate::error::Result;
use crate::telemetry::traced;
use crate::transport::{Answer, Request};

/// A session (`Session`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Session {
    /// Its id.
    #[serde(default, deserialize_with = "lenient")]
    pub session_id: String,
    /// The commands run in it, oldest first.
    #[serde(default, deserialize_with = "objects")]
    pub commands: Vec<Command>,
}

/// A command run in a session (`Command`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Command {
    /// Its id, for its logs and input.
    #[serde(default, deserialize_with = "lenient")]
    pub id: String,
    /// The command line.
    #[serde(default, deserialize_with = "lenient")]
    pub command: String,
    /// Its exit code; `None` while it runs.
    #[serde(default, deserialize_with = "lenient")]
    pub exit_code: Option<i32>,
}

/// The answer to [`Process::execute_session_command`]
/// (`SessionExecuteResponse`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SessionExecResponse {
    /// The command's id, for its logs, input and state.
    #[serde(default, deserialize_with = "lenient")]
    pub cmd_id: String,
    /// Its exit code; `None` for a command run in the background.
    #[serde(default, deserialize_with = "lenient")]
    pub exit_code: Option<i32>,
    /// Its stdout (empty for a command run in the background).
    #[serde(default, deserialize_with = "lenient")]
    pub stdout: String,
    /// Its stderr (empty for a command run in the background).
    #[serde(default, deserialize_with = "lenient")]
    pub stderr: String,
    /// stdout and stderr interleaved, when the toolbox sends it.
    #[serde(default, deserialize_with = "lenient")]
    pub output: Option<String>,
}

/// The logs of a session command (`SessionCommandLogsResponse`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SessionCommandLogs {
    /// What it wrote to stdout.
    #[serde(default, deserialize_with = "lenient")]
    pub stdout: String,
    /// What it wrote to stderr.
    #[serde(default, deserialize_with = "lenient")]
    pub stderr: String,
    /// stdout and stderr interleaved, when the toolbox sends it. A toolbox
    /// that answers with plain text (older ones) fills only this field.
    #[serde(default, deserialize_with = "lenient")]
    pub output: Option<String>,
}

/// Options of [`Process::execute_session_command`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct SessionExecOptions {
    run_async: bool,
    suppress_input_echo: bool,
    timeout: Option<Duration>,
}

impl SessionExecOptions {
    /// Waits for the command to end, with the client's request timeout.
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns as soon as the command started (its id only); follow it
    /// with [`Process::get_session_command`] and its logs.
    pub fn run_async(mut self, run_async: bool) -> Self {
        self.run_async = run_async;
        self
    }

    /// Keeps input sent with [`Process::send_session_command_input`] out
    /// of the command's output.
    pub fn suppress_input_echo(mut self, suppress: bool) -> Self {
        self.suppress_input_echo = suppress;
        self
    }

    /// Waits at most `timeout` plus the client's command timeout margin
    /// for the command to end (the toolbox has no limit of its own for
    /// session commands: the command goes on running after a timeout).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// `SessionExecuteRequest`. `async` is the older name of `runAsync`,
/// sent too so that older toolboxes run the command in the background.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExecBody<'a> {
    command: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    run_async: bool,
    #[serde(rename = "async", skip_serializing_if = "std::ops::Not::not")]
    legacy_async: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    suppress_input_echo: bool,
}

/// A list whose items that are not objects are skipped.
#[derive(Deserialize)]
struct Sessions(#[serde(deserialize_with = "objects")] Vec<Session>);

impl Process<'_> {
    /// Creates a session: a shell that keeps its state (directory,
    /// variables) between the commands run in it.
    ///
    /// ```no_run
    /// use daytona::toolbox::SessionExecOptions;
    ///
    /// # let daytona = daytona::Daytona::from_env()?;
    /// # let sandbox = daytona.get("my-sandbox")?;
    /// let process = sandbox.process();
    /// process.create_session("build")?;
    /// process.execute_session_command("build", "cd /home/daytona/app", SessionExecOptions::new())?;
    /// let run = process.execute_session_command("build", "make", SessionExecOptions::new())?;
    /// println!("exit {:?}: {}", run.exit_code, run.stdout);
    ///
    /// // In the background: the answer carries only the command id.
    /// let bg = process.execute_session_command(
    ///     "build",
    ///     "make test",
    ///     SessionExecOptions::new().run_async(true),
    /// )?;
    /// let logs = process.get_session_command_logs("build", &bg.cmd_id)?;
    /// print!("{}", logs.stdout);
    /// process.delete_session("build")?;
    /// # Ok::<(), daytona::Error>(())
    /// ```
    pub fn create_session(&self, session_id: &str) -> Result<()> {
        traced(self.tb.tracing(), "Process.createSession", || {
            path_segment("session_id", session_id)?;
            #[derive(Serialize)]
            #[serde(rename_all = "camelCase")]
            struct Body<'a> {
                session_id: &'a str,
            }
            let req = self
                .post(&["process", "session"])?
                .json(&Body { session_id });
            self.tb.transport().empty(req)
        })
    }

    /// A session and the commands run in it.
    pub fn get_session(&self, session_id: &str) -> Result<Session> {
        traced(self.tb.tracing(), "Process.getSession", || {
            path_segment("session_id", session_id)?;
            self.tb
                .transport()
                .json(self.get(&["process", "session", session_id])?)
        })
    }

    /// The session that runs the sandbox's entrypoint.
    pub fn get_entrypoint_session(&self) -> Result<Session> {
        traced(self.tb.tracing(), "Process.getEntrypointSession", || {
            self.tb
                .transport()
                .json(self.get(&["process", "session", "entrypoint"])?)
        })
    }

    /// Every session of the sandbox.
    pub fn list_sessions(&self) -> Result<Vec<Session>> {
        traced(self.tb.tracing(), "Process.listSessions", || {
            let sessions: Sessions = self
                .tb
                .transport()
                .json(self.get(&["process", "session"])?)?;
            Ok(sessions.0)
        })
    }

    /// Deletes a session, ending what runs in it.
    pub fn delete_session(&self, session_id: &str) -> Result<()> {
        traced(self.tb.tracing(), "Process.deleteSession", || {
            path_segment("session_id", session_id)?;
            let req = self.tb.request(
                ureq::http::Method::DELETE,
                &["process", "session", session_id],
            )?;
            self.tb.transport().empty(req)
        })
    }

    /// Runs a command in a session and waits for its exit code and output,
    /// or (with [`SessionExecOptions::run_async`]) only for its id.
    ///
    /// Without [`SessionExecOptions::timeout`] the wait is bounded by the
    /// client's request timeout (60 s by default).
    pub fn execute_session_command(
        &self,
        session_id: &str,
        command: &str,
        options: SessionExecOptions,
    ) -> Result<SessionExecResponse> {
        traced(self.tb.tracing(), "Process.executeSessionCommand", || {
            path_segment("session_id", session_id)?;
            non_empty("command", command)?;
            let timeout = whole_seconds("timeout", options.timeout)?;
            let body = ExecBody {
                command,
                run_async: options.run_async,
                legacy_async: options.run_async,
                suppress_input_echo: options.suppress_input_echo,
            };
            let req = self
                .post(&["process", "session", session_id, "exec"])?
                .json(&body);
            self.tb
                .transport()
                .json(self.limit(req.answer(Answer::Text), timeout))
        })
    }

    /// A command run in a session: its command line and, once it ended,
    /// its exit code.
    pub fn get_session_command(&self, session_id: &str, command_id: &str) -> Result<Command> {
        traced(self.tb.tracing(), "Process.getSessionCommand", || {
            let req = self.get(&command_path(session_id, command_id, None)?)?;
            self.tb.transport().json(req)
        })
    }

    /// What a session command wrote so far, stdout and stderr apart. To
    /// receive it as it is written, follow it with
    /// `follow_session_command_logs` (feature `websocket`).
    pub fn get_session_command_logs(
        &self,
        session_id: &str,
        command_id: &str,
    ) -> Result<SessionCommandLogs> {
        traced(self.tb.tracing(), "Process.getSessionCommandLogs", || {
            self.logs(self.get(&command_path(session_id, command_id, Some("logs"))?)?)
        })
    }

    /// What the sandbox's entrypoint wrote so far.
    pub fn get_entrypoint_logs(&self) -> Result<SessionCommandLogs> {
        traced(self.tb.tracing(), "Process.getEntrypointLogs", || {
            self.logs(self.get(&["process", "session", "entrypoint", "logs"])?)
        })
    }

    /// Sends `data` to the stdin of a command running in a session (add
    /// the `\n` a line needs). `data` may be a password: an error never
    /// shows it, even when the server's answer quotes it.
    pub fn send_session_command_input(
        &self,
        session_id: &str,
        command_id: &str,
        data: &str,
    ) -> Result<()> {
        traced(self.tb.tracing(), "Process.sendSessionCommandInput", || {
            #[derive(Serialize)]
            struct Body<'a> {
                data: &'a str,
            }
            let req = self
                .post(&command_path(session_id, command_id, Some("input"))?)?
                .json(&Body { data })
                .hide(echo_forms(data));
            self.tb.transport().empty(req)
        })
    }

    /// Logs as JSON, or as the plain text older toolboxes send: an answer
    /// labelled `text/...` is the output as it is, even if it reads as JSON
    /// (a command that printed an object).
    fn logs(&self, req: Request<'_>) -> Result<SessionCommandLogs> {
        self.tb
            .transport()
            .read(req.answer(Answer::Text), |headers, body| {
                let text = headers
                    .get(ureq::http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/"));
                let json = if text {
                    None
                } else {
                    serde_json::from_slice(&body).ok()
                };
                Ok(json.unwrap_or_else(|| SessionCommandLogs {
                    output: Some(String::from_utf8_lossy(&body).into_owned()),
                    ..SessionCommandLogs::default()
                }))
            })
    }
}

/// `process/session/{sid}/command/{cid}[/{rest}]`, after checking both ids.
pub(super) fn command_path<'a>(
    session_id: &'a str,
    command_id: &'a str,
    rest: Option<&'a str>,
) -> Result<Vec<&'a str>> {
    path_segment("session_id", session_id)?;
    path_segment("command_id", command_id)?;
    let mut path = vec!["process", "session", session_id, "command", command_id];
    path.extend(rest);
    Ok(path)
}
