//! Commands, code and sessions (`/process/...`).
//!
//! [`Process::exec`] runs a shell command and [`Process::code_run`] a
//! snippet in the sandbox's language; both wait for the result. Sessions
//! ([`Process::create_session`], ...) keep a shell alive between commands
//! and can run commands in the background, whose logs are fetched whole or
//! (feature `websocket`, on by default) followed as they are written.
//!
//! # Time limits
//!
//! A command with its own `timeout` is limited by the server, and its HTTP
//! request gets that timeout plus the client's
//! [`command_timeout_margin`](crate::DaytonaConfig::command_timeout_margin)
//! (5 s by default) instead of the client's request timeout: a 10-minute
//! command with a 10-minute timeout works, and a hung one still ends. A
//! command without a timeout gets the server's default limit and the
//! client's [`request_timeout`](crate::DaytonaConfig::request_timeout)
//! (60 s by default): pass a timeout for anything longer. Timeouts are sent
//! in whole seconds, rounded up.

mod chart;
#[cfg(feature = "websocket")]
mod demux;
#[cfg(feature = "websocket")]
mod follow;
#[cfg(feature = "websocket")]
mod pty;
mod session;

use crate::config::names_only;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use ureq::http::Method;

use super::Toolbox;
use crate::check::{self, non_empty};
use crate::config::env_secrets;
use crate::error::{Error, Result};
use crate::params::string_pairs;
use crate::params::{CodeLanguage, CODE_TOOLBOX_LANGUAGE_LABEL};
use crate::telemetry::traced;
use crate::transport::{decode, Answer, Request};

pub use chart::{Chart, ChartElement, ChartKind};
#[cfg(feature = "websocket")]
pub use follow::{FollowOptions, LogChunk, LogStream};
#[cfg(feature = "websocket")]
pub use pty::{PtyExit, PtyHandle, PtyOptions, PtyReader, PtySessionInfo, PtyWriter};
pub use session::{Command, Session, SessionCommandLogs, SessionExecOptions, SessionExecResponse};

/// Runs commands and code, and manages sessions, in a sandbox:
/// [`crate::Sandbox::process`].
///
/// ```no_run
/// use std::time::Duration;
/// use daytona::toolbox::ExecOptions;
///
/// # let daytona = daytona::Daytona::from_env()?;
/// let sandbox = daytona.get("my-sandbox")?;
/// let out = sandbox.process().exec("uname -a")?;
/// println!("{} (exit code {})", out.result, out.exit_code);
///
/// let build = sandbox.process().exec_with(
///     "make -j4",
///     ExecOptions::new()
///         .cwd("/home/daytona/app")
///         .env("CC", "clang")
///         .timeout(Duration::from_secs(600)),
/// )?;
/// assert_eq!(build.exit_code, 0, "{}", build.result);
/// # Ok::<(), daytona::Error>(())
/// ```
pub struct Process<'s> {
    tb: Toolbox<'s>,
}

/// Options of [`Process::exec_with`]. `Debug` hides the environment's
/// values.
#[derive(Clone, Default, PartialEq)]
#[must_use]
pub struct ExecOptions {
    cwd: Option<String>,
    env: BTreeMap<String, String>,
    timeout: Option<Duration>,
}

impl fmt::Debug for ExecOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Every field; the environment's values hidden.
        let ExecOptions { cwd, env, timeout } = self;
        f.debug_struct("ExecOptions")
            .field("cwd", cwd)
            .field("env", &names_only(env))
            .field("timeout", timeout)
            .finish()
    }
}

impl ExecOptions {
    /// The sandbox's working directory, no extra environment, the server's
    /// default time limit.
    pub fn new() -> Self {
        Self::default()
    }

    /// The directory the command runs in.
    pub fn cwd(mut self, cwd: impl Into<String>) -> Self {
        self.cwd = Some(cwd.into());
        self
    }

    /// Sets an environment variable of the command (repeat for more). A
    /// name that is empty or holds `=` or a NUL, or a value holding a NUL,
    /// fails the call with an [`Error::Validation`] (field `env`) before
    /// any request.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(name.into(), value.into());
        self
    }

    /// Sets environment variables of the command: pairs, a map, ...
    pub fn envs(
        mut self,
        vars: impl IntoIterator<Item = (impl Into<String>, impl Into<String>)>,
    ) -> Self {
        self.env.extend(string_pairs(vars));
        self
    }

    /// Ends the command after `timeout` (whole seconds, rounded up); the
    /// request then waits for at most `timeout` plus the client's command
    /// timeout margin.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// Options of [`Process::code_run_with`]. `Debug` hides the environment's
/// values.
#[derive(Clone, Default, PartialEq)]
#[must_use]
pub struct CodeRunOptions {
    language: Option<CodeLanguage>,
    argv: Vec<String>,
    env: BTreeMap<String, String>,
    timeout: Option<Duration>,
}

impl fmt::Debug for CodeRunOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Every field; the environment's values hidden.
        let CodeRunOptions {
            language,
            argv,
            env,
            timeout,
        } = self;
        f.debug_struct("CodeRunOptions")
            .field("language", language)
            .field("argv", argv)
            .field("env", &names_only(env))
            .field("timeout", timeout)
            .finish()
    }
}

impl CodeRunOptions {
    /// The sandbox's language, no arguments, no extra environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs the code in `language` rather than in the sandbox's
    /// [`CODE_TOOLBOX_LANGUAGE_LABEL`] language.
    pub fn language(mut self, language: CodeLanguage) -> Self {
        self.language = Some(language);
        self
    }

    /// Adds a command-line argument of the program (repeat for more).
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.argv.push(arg.into());
        self
    }

    /// Adds command-line arguments of the program, in order.
    pub fn args<S: Into<String>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.argv.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable of the program (repeat for more), as
    /// [`ExecOptions::env`].
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(name.into(), value.into());
        self
    }

    /// Sets environment variables of the program: pairs, a map, ...
    pub fn envs(
        mut self,
        vars: impl IntoIterator<Item = (impl Into<String>, impl Into<String>)>,
    ) -> Self {
        self.env.extend(string_pairs(vars));
        self
    }

    /// Ends the program after `timeout`, as [`ExecOptions::timeout`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// The result of [`Process::exec`] (`ExecuteResponse`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct ExecResponse {
    /// The exit code; `-1` when the server did not report one (as the
    /// toolbox itself does for a command whose status is unknown).
    #[serde(default = "unknown_exit_code")]
    pub exit_code: i32,
    /// The output, stdout and stderr together.
    pub result: String,
}

/// The result of [`Process::code_run`] (`CodeRunResponse`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct CodeRunResponse {
    /// The exit code; `-1` when the server did not report one.
    #[serde(default = "unknown_exit_code")]
    pub exit_code: i32,
    /// The output, stdout and stderr together.
    pub result: String,
    /// The charts the program drew (matplotlib), in order.
    pub charts: Vec<Chart>,
}

/// The exit code of a result that has none.
fn unknown_exit_code() -> i32 {
    -1
}

/// `ExecuteResponse` and `CodeRunResponse` as sent: older toolboxes call
/// the exit code `code`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunWire {
    #[serde(default, deserialize_with = "lenient")]
    exit_code: Option<i32>,
    #[serde(default, deserialize_with = "lenient")]
    code: Option<i32>,
    #[serde(default, deserialize_with = "lenient")]
    result: String,
    #[serde(default, deserialize_with = "lenient")]
    artifacts: Artifacts,
}

impl RunWire {
    fn exit_code(&self) -> i32 {
        self.exit_code
            .or(self.code)
            .unwrap_or_else(unknown_exit_code)
    }
}

/// `CodeRunArtifacts`.
#[derive(Default, Deserialize)]
struct Artifacts {
    #[serde(default, deserialize_with = "objects")]
    charts: Vec<Chart>,
}

/// `ExecuteRequest`.
#[derive(Serialize)]
struct ExecBody<'a> {
    command: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cwd: Option<&'a str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    envs: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout: Option<u32>,
}

/// `CodeRunRequest`.
#[derive(Serialize)]
struct CodeRunBody<'a> {
    code: &'a str,
    language: &'static str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    argv: &'a [String],
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    envs: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout: Option<u32>,
}

impl<'s> Process<'s> {
    pub(crate) fn new(tb: Toolbox<'s>) -> Self {
        Process { tb }
    }

    /// Runs a command and waits for its exit code and output, with the
    /// server's default time limit (see [`exec_with`](Self::exec_with)).
    ///
    /// The command line is sent as it is. Toolboxes may run it without a
    /// shell (split on spaces, quotes grouping words): wrap pipes,
    /// redirections and `$VARIABLES` in `sh -c '...'` to get a shell on
    /// every version.
    pub fn exec(&self, command: &str) -> Result<ExecResponse> {
        self.exec_with(command, ExecOptions::new())
    }

    /// Runs a shell command with a working directory, environment variables
    /// or a time limit, and waits for its exit code and output.
    ///
    /// A command that exits non-zero is a successful call: check
    /// [`ExecResponse::exit_code`]. A command that outlives its timeout
    /// ends with the server's error (HTTP 408), and one whose answer does
    /// not come within the timeout plus the margin with [`Error::Timeout`].
    pub fn exec_with(&self, command: &str, options: ExecOptions) -> Result<ExecResponse> {
        traced(self.tb.tracing(), "Process.exec", || {
            non_empty("command", command)?;
            if let Some(cwd) = &options.cwd {
                non_empty("cwd", cwd)?;
            }
            check::env_vars("env", &options.env)?;
            let timeout = whole_seconds("timeout", options.timeout)?;
            let body = ExecBody {
                command,
                cwd: options.cwd.as_deref(),
                envs: &options.env,
                timeout,
            };
            let req = self
                .post(&["process", "execute"])?
                .json(&body)
                .hide(env_secrets(&options.env));
            let wire = self.run(self.limit(req, timeout))?;
            Ok(ExecResponse {
                exit_code: wire.exit_code(),
                result: wire.result,
            })
        })
    }

    /// Runs `code` in the sandbox's language (its
    /// [`CODE_TOOLBOX_LANGUAGE_LABEL`] label, Python when it has none) and
    /// waits for its exit code, output and charts.
    ///
    /// ```no_run
    /// # let daytona = daytona::Daytona::from_env()?;
    /// # let sandbox = daytona.get("my-sandbox")?;
    /// let run = sandbox.process().code_run("print(6 * 7)")?;
    /// assert_eq!(run.result.trim(), "42");
    /// for chart in &run.charts {
    ///     println!("{} chart {:?}", chart.kind, chart.title);
    /// }
    /// # Ok::<(), daytona::Error>(())
    /// ```
    pub fn code_run(&self, code: &str) -> Result<CodeRunResponse> {
        self.code_run_with(code, CodeRunOptions::new())
    }

    /// [`code_run`](Self::code_run) with arguments, environment variables, a
    /// time limit or another language.
    ///
    /// Fails with [`Error::Validation`] before any request when the sandbox's
    /// language label holds a language the toolbox cannot run.
    pub fn code_run_with(&self, code: &str, options: CodeRunOptions) -> Result<CodeRunResponse> {
        traced(self.tb.tracing(), "Process.codeRun", || {
            non_empty("code", code)?;
            check::env_vars("env", &options.env)?;
            let language = match options.language {
                Some(language) => language,
                None => self.label_language()?,
            };
            let timeout = whole_seconds("timeout", options.timeout)?;
            let body = CodeRunBody {
                code,
                language: language.as_str(),
                argv: &options.argv,
                envs: &options.env,
                timeout,
            };
            let req = self
                .post(&["process", "code-run"])?
                .json(&body)
                .hide(env_secrets(&options.env));
            let wire = self.run(self.limit(req, timeout))?;
            Ok(CodeRunResponse {
                exit_code: wire.exit_code(),
                result: wire.result,
                charts: wire.artifacts.charts,
            })
        })
    }

    /// The language of the sandbox's label.
    fn label_language(&self) -> Result<CodeLanguage> {
        match self
            .tb
            .sandbox()
            .info()
            .labels
            .get(CODE_TOOLBOX_LANGUAGE_LABEL)
        {
            None => Ok(CodeLanguage::default()),
            Some(value) => value.parse().map_err(|_| {
                Error::validation(
                    format!("labels.{CODE_TOOLBOX_LANGUAGE_LABEL}"),
                    format!(
                        "the sandbox's language {value:?} is not supported; supported: \
                         python, typescript, javascript (or set CodeRunOptions::language)"
                    ),
                )
            }),
        }
    }

    fn get(&self, segments: &[&str]) -> Result<Request<'static>> {
        self.tb.request(Method::GET, segments)
    }

    fn post(&self, segments: &[&str]) -> Result<Request<'static>> {
        self.tb.request(Method::POST, segments)
    }

    /// Sends the request of a command or a program and decodes the first
    /// JSON value of its answer. A toolbox that cannot start a command (a
    /// program that does not exist, a `cwd` that does not) answers with
    /// two objects back to back: the first says why, with exit code `-1`;
    /// the second is empty.
    fn run(&self, req: Request<'_>) -> Result<RunWire> {
        let op = req.operation().to_string();
        self.tb
            .transport()
            .read(req.answer(Answer::Text), |_, body| {
                let first = serde_json::Deserializer::from_slice(&body)
                    .into_iter::<RunWire>()
                    .next();
                match first {
                    Some(Ok(wire)) => Ok(wire),
                    // The whole body's error, as for any answer.
                    _ => decode(&body, &op),
                }
            })
    }

    /// Gives a command's request its own limit: the command's timeout plus
    /// the margin. Without one, the client's request timeout applies.
    fn limit<'a>(&self, req: Request<'a>, seconds: Option<u32>) -> Request<'a> {
        match seconds {
            Some(secs) => {
                let margin = self.tb.transport().command_timeout_margin();
                req.timeout(Duration::from_secs(secs.into()).saturating_add(margin))
            }
            None => req,
        }
    }
}

/// A time limit in whole seconds, rounded up, as the toolbox takes it.
pub(crate) fn whole_seconds(field: &str, timeout: Option<Duration>) -> Result<Option<u32>> {
    timeout
        .map(|t| check::whole_units(field, t, Duration::from_secs(1)))
        .transpose()
}

/// Decodes a value the server may send in an unexpected shape (`null`, a
/// string for a number, ...) as the type's default instead of failing.
pub(crate) fn lenient<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Default,
{
    let value = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(value).unwrap_or_default())
}

/// Each JSON object of an array as a `T` (charts, sessions, commands);
/// other items, and anything but an array, are skipped.
pub(crate) fn objects<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let items = match serde_json::Value::deserialize(d)? {
        serde_json::Value::Array(items) => items,
        _ => return Ok(Vec::new()),
    };
    Ok(items
        .into_iter()
        .filter_map(|item| match serde_json::from_value(item) {
            Ok(v) => Some(v),
            Err(e) => {
                // Not the error's text: it quotes the item, which may hold
                // anything the server put there (a credential, say).
                log::debug!(
                    "skipping a list item that does not decode ({:?} error)",
                    e.classify()
                );
                None
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_round_up_to_whole_seconds() {
        assert_eq!(whole_seconds("t", None).unwrap(), None);
        assert_eq!(
            whole_seconds("t", Some(Duration::from_millis(1))).unwrap(),
            Some(1)
        );
        assert_eq!(
            whole_seconds("t", Some(Duration::from_millis(2500))).unwrap(),
            Some(3)
        );
        assert_eq!(
            whole_seconds("t", Some(Duration::from_secs(600))).unwrap(),
            Some(600)
        );
        assert!(whole_seconds("t", Some(Duration::ZERO))
            .unwrap_err()
            .is_validation());
        assert!(whole_seconds("t", Some(Duration::MAX))
            .unwrap_err()
            .is_validation());
    }

    #[test]
    fn a_result_decoded_without_an_exit_code_has_the_unknown_one() {
        let e: ExecResponse = serde_json::from_str(r#"{"result":"x"}"#).unwrap();
        assert_eq!((e.exit_code, e.result.as_str()), (-1, "x"));
        let c: CodeRunResponse = serde_json::from_str("{}").unwrap();
        assert_eq!((c.exit_code, c.charts.len()), (-1, 0));
        let e: ExecResponse = serde_json::from_str(r#"{"exitCode":0}"#).unwrap();
        assert_eq!(e.exit_code, 0);
    }

    #[test]
    fn run_results_accept_the_legacy_code_key_and_odd_values() {
        let w: RunWire = serde_json::from_str(r#"{"code":3,"result":"x"}"#).unwrap();
        assert_eq!((w.exit_code(), w.result.as_str()), (3, "x"));
        let w: RunWire = serde_json::from_str(r#"{"exitCode":0,"code":9}"#).unwrap();
        assert_eq!((w.exit_code(), w.result.as_str()), (0, ""));
        let w: RunWire =
            serde_json::from_str(r#"{"exitCode":"x","result":null,"artifacts":7}"#).unwrap();
        assert_eq!((w.exit_code(), w.result.as_str()), (-1, ""));
        assert!(w.artifacts.charts.is_empty());
    }
}
