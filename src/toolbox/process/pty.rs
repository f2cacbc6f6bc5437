//! PTY sessions (`/process/pty...`, feature `websocket`): a shell in a
//! pseudo-terminal of the sandbox, driven over a WebSocket
//! ([`PtyHandle`]), and its REST operations (list, info, resize, kill).

mod handle;
mod link;

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use ureq::http::Method;

use super::{lenient, objects, Process};
use crate::check::{env_vars, non_empty, path_segment};
use crate::config::env_secrets;
use crate::error::{Error, Result};
use crate::params::string_pairs;
use crate::telemetry::traced;
use crate::toolbox::EnvNames;
use crate::transport::poll::Deadline;
use crate::transport::ws::{IdleOf, Limits};

pub use handle::{PtyHandle, PtyReader, PtyWriter};

/// The default [`PtyOptions::idle_timeout`]: 60 s.
const DEFAULT_IDLE: Duration = Duration::from_secs(60);

/// Largest message read from a terminal connection (the toolbox sends the
/// output in messages of at most 32 KiB).
const MAX_MESSAGE: usize = 1 << 20;

/// The largest terminal the toolbox accepts, in columns and rows.
const MAX_SIZE: u16 = 1000;

/// How to create a PTY session ([`Process::create_pty`]).
#[derive(Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct PtyOptions {
    id: String,
    cwd: Option<String>,
    envs: BTreeMap<String, String>,
    size: Option<(u16, u16)>,
    idle_timeout: Option<Duration>,
}

impl fmt::Debug for PtyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PtyOptions")
            .field("id", &self.id)
            .field("cwd", &self.cwd)
            .field("envs", &EnvNames(&self.envs))
            .field("size", &self.size)
            .field("idle_timeout", &self.idle_timeout)
            .finish()
    }
}

impl PtyOptions {
    /// A session with this id, in the sandbox's working directory, with the
    /// server's default size (80×24) and no extra environment.
    pub fn new(id: impl Into<String>) -> Self {
        PtyOptions {
            id: id.into(),
            ..Self::default()
        }
    }

    /// The directory the shell starts in.
    pub fn cwd(mut self, cwd: impl Into<String>) -> Self {
        self.cwd = Some(cwd.into());
        self
    }

    /// Sets an environment variable of the shell (repeat for more). The
    /// toolbox sets `TERM=xterm-256color` unless given another.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.envs.insert(name.into(), value.into());
        self
    }

    /// Sets several environment variables of the shell.
    pub fn envs(
        mut self,
        vars: impl IntoIterator<Item = (impl Into<String>, impl Into<String>)>,
    ) -> Self {
        self.envs.extend(string_pairs(vars));
        self
    }

    /// The terminal's size: `cols` columns and `rows` rows, each 1 to 1000.
    pub fn size(mut self, cols: u16, rows: u16) -> Self {
        self.size = Some((cols, rows));
        self
    }

    /// How long the connection may go without hearing from the server
    /// before it counts as lost (default 60 s). An idle shell is fine: a
    /// ping goes out after a third of this silence, and a live server
    /// answers it.
    pub fn idle_timeout(mut self, idle: Duration) -> Self {
        self.idle_timeout = Some(idle);
        self
    }
}

/// A PTY session as the toolbox describes it (`PtySessionInfo`).
///
/// `Debug` shows the names of its environment variables, not their values.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PtySessionInfo {
    /// Its id.
    #[serde(default, deserialize_with = "lenient")]
    pub id: String,
    /// Whether its shell is running (a session created by this crate starts
    /// its shell when the first client connects).
    #[serde(default, deserialize_with = "lenient")]
    pub active: bool,
    /// Columns.
    #[serde(default, deserialize_with = "crate::models::number::int")]
    pub cols: u16,
    /// Rows.
    #[serde(default, deserialize_with = "crate::models::number::int")]
    pub rows: u16,
    /// The directory the shell started in.
    #[serde(default, deserialize_with = "lenient")]
    pub cwd: String,
    /// The environment variables it was created with.
    #[serde(default, deserialize_with = "lenient")]
    pub envs: BTreeMap<String, String>,
    /// When it was created (RFC 3339, as sent).
    #[serde(default, deserialize_with = "lenient")]
    pub created_at: String,
    /// Whether its shell starts only when the first client connects.
    #[serde(default, deserialize_with = "lenient")]
    pub lazy_start: bool,
}

impl fmt::Debug for PtySessionInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PtySessionInfo")
            .field("id", &self.id)
            .field("active", &self.active)
            .field("cols", &self.cols)
            .field("rows", &self.rows)
            .field("cwd", &self.cwd)
            .field("envs", &EnvNames(&self.envs))
            .field("created_at", &self.created_at)
            .field("lazy_start", &self.lazy_start)
            .finish()
    }
}

/// How a PTY session ended, from the server's close of the connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PtyExit {
    /// The shell's exit code (137 for a killed session); `None` when the
    /// server gave an error instead.
    pub exit_code: Option<i32>,
    /// Why it ended, when the server says (`SIGKILL`, `non-zero exit`, ...).
    pub reason: Option<String>,
    /// The server's error, when it gave one.
    pub error: Option<String>,
}

/// `PtyCreateRequest`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cwd: Option<&'a str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    envs: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cols: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rows: Option<u16>,
    /// The shell starts when the first client connects, so that no output
    /// is lost between the create and the connect.
    lazy_start: bool,
}

/// `PtyCreateResponse`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Created {
    #[serde(default, deserialize_with = "lenient")]
    session_id: String,
}

/// `PtyListResponse`.
#[derive(Deserialize)]
struct Listed {
    #[serde(default, deserialize_with = "objects")]
    sessions: Vec<PtySessionInfo>,
}

/// `PtyResizeRequest`.
#[derive(Serialize)]
struct ResizeBody {
    cols: u16,
    rows: u16,
}

fn check_size(cols: u16, rows: u16) -> Result<()> {
    for (field, value) in [("cols", cols), ("rows", rows)] {
        if !(1..=MAX_SIZE).contains(&value) {
            return Err(Error::validation(
                field,
                format!("must be 1 to {MAX_SIZE}, got {value}"),
            ));
        }
    }
    Ok(())
}

impl<'s> Process<'s> {
    /// Creates a PTY session (a shell in a pseudo-terminal) and connects to
    /// it: the returned handle reads the terminal's output and writes its
    /// input (see [`PtyHandle`]).
    ///
    /// Returns once the server says the terminal is connected (or has sent
    /// more output than is held for the caller, 16 messages, which shows it
    /// is), within the client's connect timeout. When connecting fails, the
    /// session just created is removed (its shell had not started) and the
    /// error returned.
    ///
    /// ```no_run
    /// use std::io::{Read, Write};
    /// use daytona::toolbox::PtyOptions;
    ///
    /// # let daytona = daytona::Daytona::from_env()?;
    /// # let sandbox = daytona.get("my-sandbox")?;
    /// let mut pty = sandbox
    ///     .process()
    ///     .create_pty(PtyOptions::new("build").cwd("/home/daytona").size(120, 40))?;
    /// pty.write_all(b"make && exit\n")?;
    /// let mut output = Vec::new();
    /// pty.read_to_end(&mut output)?; // until the shell exits
    /// let exit = pty.wait()?;
    /// println!("{} (exit code {:?})", String::from_utf8_lossy(&output), exit.exit_code);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create_pty(&self, options: PtyOptions) -> Result<PtyHandle<'s>> {
        traced(self.tb.tracing(), "Process.createPty", || {
            path_segment("id", &options.id)?;
            env_vars("envs", &options.envs)?;
            if let Some(cwd) = &options.cwd {
                non_empty("cwd", cwd)?;
            }
            if let Some((cols, rows)) = options.size {
                check_size(cols, rows)?;
            }
            let idle = idle_of(options.idle_timeout)?;
            let body = CreateBody {
                id: &options.id,
                cwd: options.cwd.as_deref(),
                envs: &options.envs,
                cols: options.size.map(|s| s.0),
                rows: options.size.map(|s| s.1),
                lazy_start: true,
            };
            let req = self
                .post(&["process", "pty"])?
                .json(&body)
                .hide(env_secrets(&options.envs));
            let created: Created = self.tb.transport().json(req)?;
            let id = if created.session_id.is_empty() {
                options.id
            } else {
                created.session_id
            };
            match self.open_pty(&id, idle) {
                Ok(handle) => Ok(handle),
                Err(e) => {
                    if let Err(cleanup) = self.kill_pty(&id) {
                        log::debug!("removing PTY session {id} after a failed connect: {cleanup}");
                    }
                    Err(e)
                }
            }
        })
    }

    /// Connects to an existing PTY session (another client may be
    /// connected too: each gets the output from the moment it connects).
    pub fn connect_pty(&self, session_id: &str) -> Result<PtyHandle<'s>> {
        traced(self.tb.tracing(), "Process.connectPty", || {
            path_segment("session_id", session_id)?;
            self.open_pty(session_id, DEFAULT_IDLE)
        })
    }

    /// The PTY sessions of the sandbox.
    pub fn list_pty_sessions(&self) -> Result<Vec<PtySessionInfo>> {
        traced(self.tb.tracing(), "Process.listPtySessions", || {
            let listed: Listed = self.tb.transport().json(self.get(&["process", "pty"])?)?;
            Ok(listed.sessions)
        })
    }

    /// One PTY session.
    pub fn pty_session_info(&self, session_id: &str) -> Result<PtySessionInfo> {
        traced(self.tb.tracing(), "Process.getPtySessionInfo", || {
            path_segment("session_id", session_id)?;
            self.tb
                .transport()
                .json(self.get(&["process", "pty", session_id])?)
        })
    }

    /// Changes the size of a PTY session's terminal (1 to 1000 columns and
    /// rows); returns the session as it is now.
    pub fn resize_pty(&self, session_id: &str, cols: u16, rows: u16) -> Result<PtySessionInfo> {
        traced(self.tb.tracing(), "Process.resizePtySession", || {
            path_segment("session_id", session_id)?;
            check_size(cols, rows)?;
            let req = self
                .post(&["process", "pty", session_id, "resize"])?
                .json(&ResizeBody { cols, rows });
            self.tb.transport().json(req)
        })
    }

    /// Ends a PTY session: its shell and the processes it started are
    /// killed, and connected clients see exit code 137.
    pub fn kill_pty(&self, session_id: &str) -> Result<()> {
        traced(self.tb.tracing(), "Process.killPtySession", || {
            path_segment("session_id", session_id)?;
            let req = self
                .tb
                .request(Method::DELETE, &["process", "pty", session_id])?;
            self.tb.transport().empty(req)
        })
    }

    /// Connects to session `id` and waits for the server's "connected",
    /// all within the client's connect timeout.
    fn open_pty(&self, id: &str, idle: Duration) -> Result<PtyHandle<'s>> {
        let segments = ["process", "pty", id, "connect"];
        let started = Instant::now();
        let connect = self.tb.transport().connect_timeout();
        let limits = Limits {
            idle,
            idle_of: IdleOf::Silence,
            keepalive: Some(idle / 3),
            deadline: None,
            max_message: MAX_MESSAGE,
        };
        let socket = self
            .tb
            .websocket(&segments, &[], limits, Deadline::after(connect))?;
        let by = started.checked_add(connect);
        handle::connected(socket, self.tb, id, idle, by, started)
    }
}

fn idle_of(idle: Option<Duration>) -> Result<Duration> {
    match idle {
        None => Ok(DEFAULT_IDLE),
        Some(d) if d.is_zero() => Err(Error::validation("idle_timeout", "must be more than zero")),
        Some(d) => Ok(d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_env_names_not_values() {
        let options = PtyOptions::new("t").env("TOKEN", "s3cr3t-value");
        let shown = format!("{options:?}");
        assert!(
            shown.contains("TOKEN") && !shown.contains("s3cr3t"),
            "{shown}"
        );
        let info: PtySessionInfo =
            serde_json::from_str(r#"{"id":"t","envs":{"TOKEN":"s3cr3t-value"}}"#).unwrap();
        let shown = format!("{info:?}");
        assert!(
            shown.contains("TOKEN") && !shown.contains("s3cr3t"),
            "{shown}"
        );
    }

    #[test]
    fn session_info_decodes_leniently() {
        let info: PtySessionInfo = serde_json::from_str(
            r#"{"id":"a","active":"yes","cols":99999,"rows":24.4,"envs":null,"createdAt":5}"#,
        )
        .unwrap();
        assert_eq!(
            (info.id.as_str(), info.active, info.cols, info.rows),
            ("a", false, u16::MAX, 24)
        );
        assert!(info.envs.is_empty() && info.created_at.is_empty());
    }
}
