//! The stateful code interpreter (`/process/interpreter/...`, feature
//! `websocket`): Python code runs in a persistent interpreter, so that
//! variables, imports and functions defined by one run are there for the
//! next; output streams back as it is produced.

mod run;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use ureq::http::Method;

use super::process::{lenient, objects};
use super::Toolbox;
use crate::api::sandbox::Sandbox;
use crate::check::{self, non_empty, path_segment};
use crate::error::{Error, Result};
use crate::params::{string_pairs, CodeLanguage};
use crate::telemetry::traced;
use crate::toolbox::EnvNames;

pub use run::{CodeRun, ExecutionError, OutputChunk, RunCodeResult};

/// Runs code in a sandbox's stateful interpreter:
/// [`Sandbox::code_interpreter`].
///
/// ```no_run
/// use daytona::toolbox::{ContextOptions, RunCodeOptions};
///
/// # let daytona = daytona::Daytona::from_env()?;
/// # let sandbox = daytona.get("my-sandbox")?;
/// let interpreter = sandbox.code_interpreter();
/// let ctx = interpreter.create_context(ContextOptions::new().cwd("/home/daytona"))?;
/// interpreter.run_code("total = 6 * 7", RunCodeOptions::new().context(&ctx))?;
/// let run = interpreter.run_code(
///     "print(total)",
///     RunCodeOptions::new().context(&ctx).on_stdout(|text| print!("{text}")),
/// )?;
/// assert_eq!(run.stdout, "42\n");
/// assert!(run.error.is_none());
/// interpreter.delete_context(&ctx)?;
/// # Ok::<(), daytona::Error>(())
/// ```
pub struct CodeInterpreter<'s> {
    tb: Toolbox<'s>,
}

impl fmt::Debug for CodeInterpreter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodeInterpreter")
            .field("sandbox", &self.tb.sandbox().id())
            .finish()
    }
}

/// An interpreter context (`InterpreterContext`): one interpreter process
/// whose state persists across runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct InterpreterContext {
    /// Its id.
    #[serde(default, deserialize_with = "lenient")]
    pub id: String,
    /// The directory its code runs in.
    #[serde(default, deserialize_with = "lenient")]
    pub cwd: String,
    /// Its language (`python`).
    #[serde(default, deserialize_with = "lenient")]
    pub language: String,
    /// Whether its interpreter process is running.
    #[serde(default, deserialize_with = "lenient")]
    pub active: bool,
    /// When it was created (RFC 3339, as sent).
    #[serde(default, deserialize_with = "lenient")]
    pub created_at: String,
}

/// How to create an interpreter context
/// ([`CodeInterpreter::create_context`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct ContextOptions {
    cwd: Option<String>,
    language: Option<CodeLanguage>,
}

impl ContextOptions {
    /// The sandbox's working directory, the server's language (Python).
    pub fn new() -> Self {
        Self::default()
    }

    /// The directory the context's code runs in.
    pub fn cwd(mut self, cwd: impl Into<String>) -> Self {
        self.cwd = Some(cwd.into());
        self
    }

    /// The context's language (the toolbox supports Python only, and
    /// answers 400 to others).
    pub fn language(mut self, language: CodeLanguage) -> Self {
        self.language = Some(language);
        self
    }
}

/// Callbacks of a run: each piece of output as it is produced.
type OnText<'a> = Box<dyn FnMut(&str) + Send + 'a>;
type OnError<'a> = Box<dyn FnMut(&ExecutionError) + Send + 'a>;

/// How to run code ([`CodeInterpreter::run_code`]).
#[derive(Default)]
#[must_use]
pub struct RunCodeOptions<'a> {
    context: Option<String>,
    envs: BTreeMap<String, String>,
    timeout: Option<Duration>,
    idle_timeout: Option<Duration>,
    on_stdout: Option<OnText<'a>>,
    on_stderr: Option<OnText<'a>>,
    on_error: Option<OnError<'a>>,
}

impl fmt::Debug for RunCodeOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunCodeOptions")
            .field("context", &self.context)
            .field("envs", &EnvNames(&self.envs))
            .field("timeout", &self.timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("on_stdout", &self.on_stdout.is_some())
            .field("on_stderr", &self.on_stderr.is_some())
            .field("on_error", &self.on_error.is_some())
            .finish()
    }
}

impl<'a> RunCodeOptions<'a> {
    /// The default context, no extra environment, the server's time limit
    /// (10 minutes), no callbacks.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs in `context` rather than in the default one.
    pub fn context(mut self, context: &InterpreterContext) -> Self {
        self.context = Some(context.id.clone());
        self
    }

    /// Sets an environment variable for this run (repeat for more). A name
    /// that is empty or holds `=` or a NUL, or a value holding a NUL, fails
    /// the run with an [`Error::Validation`] (field `env`) before
    /// connecting.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.envs.insert(name.into(), value.into());
        self
    }

    /// Sets several environment variables for this run.
    pub fn envs(
        mut self,
        vars: impl IntoIterator<Item = (impl Into<String>, impl Into<String>)>,
    ) -> Self {
        self.envs.extend(string_pairs(vars));
        self
    }

    /// Interrupts the code after `timeout` (whole seconds, rounded up; the
    /// server's default is 10 minutes): the run then fails with
    /// [`Error::Timeout`], at the latest `timeout` plus the client's
    /// [`command_timeout_margin`](crate::DaytonaConfig::command_timeout_margin).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// How long the code may go without output before the run fails with
    /// [`Error::Timeout`]; by default there is no such limit, and the run's
    /// [`timeout`](Self::timeout) (plus the margin) bounds it. The toolbox
    /// sends nothing during a run until the code writes or ends (it does
    /// not answer pings then), so this counts the code's silence (pings
    /// from the server, or pongs from a proxy, do not count). Pings go
    /// out after 20 s of silence (or a third of this limit) all the same,
    /// so that proxies on the way keep the connection open.
    pub fn idle_timeout(mut self, idle: Duration) -> Self {
        self.idle_timeout = Some(idle);
        self
    }

    /// Called with each piece of stdout as it is produced.
    pub fn on_stdout(mut self, f: impl FnMut(&str) + Send + 'a) -> Self {
        self.on_stdout = Some(Box::new(f));
        self
    }

    /// Called with each piece of stderr as it is produced.
    pub fn on_stderr(mut self, f: impl FnMut(&str) + Send + 'a) -> Self {
        self.on_stderr = Some(Box::new(f));
        self
    }

    /// Called with the exception the code raised, if it raises one.
    pub fn on_error(mut self, f: impl FnMut(&ExecutionError) + Send + 'a) -> Self {
        self.on_error = Some(Box::new(f));
        self
    }
}

/// `ListContextsResponse`.
#[derive(Deserialize)]
struct Listed {
    #[serde(default, deserialize_with = "objects")]
    contexts: Vec<InterpreterContext>,
}

/// `CreateContextRequest`.
#[derive(Serialize)]
struct CreateBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    cwd: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<&'static str>,
}

impl Sandbox {
    /// Runs code in this sandbox's stateful interpreter (feature
    /// `websocket`, on by default).
    pub fn code_interpreter(&self) -> CodeInterpreter<'_> {
        CodeInterpreter {
            tb: Toolbox::new(self),
        }
    }
}

impl<'s> CodeInterpreter<'s> {
    /// Creates a context: an interpreter of its own, whose state persists
    /// across the runs given it with [`RunCodeOptions::context`].
    pub fn create_context(&self, options: ContextOptions) -> Result<InterpreterContext> {
        traced(self.tb.tracing(), "CodeInterpreter.createContext", || {
            if let Some(cwd) = &options.cwd {
                non_empty("cwd", cwd)?;
            }
            let body = CreateBody {
                cwd: options.cwd.as_deref(),
                language: options.language.map(|l| l.as_str()),
            };
            let req = self
                .tb
                .request(Method::POST, &["process", "interpreter", "context"])?
                .json(&body);
            self.tb.transport().json(req)
        })
    }

    /// The contexts created in the sandbox (the default one aside).
    pub fn list_contexts(&self) -> Result<Vec<InterpreterContext>> {
        traced(self.tb.tracing(), "CodeInterpreter.listContexts", || {
            let req = self
                .tb
                .request(Method::GET, &["process", "interpreter", "context"])?;
            let listed: Listed = self.tb.transport().json(req)?;
            Ok(listed.contexts)
        })
    }

    /// Deletes a context and ends its interpreter.
    pub fn delete_context(&self, context: &InterpreterContext) -> Result<()> {
        traced(self.tb.tracing(), "CodeInterpreter.deleteContext", || {
            path_segment("context.id", &context.id)?;
            let req = self.tb.request(
                Method::DELETE,
                &["process", "interpreter", "context", &context.id],
            )?;
            self.tb.transport().empty(req)
        })
    }

    /// Runs `code` and waits for it to finish: its whole stdout and stderr,
    /// and the exception it raised (a raised exception is a successful
    /// call: check [`RunCodeResult::error`]). The callbacks of `options`
    /// get the output as it is produced.
    ///
    /// A run interrupted at its timeout fails with [`Error::Timeout`]; an
    /// interpreter that dies during the run (the toolbox closes with code
    /// 1001) with [`Error::Transport`] saying so. The result keeps at most
    /// 64 MiB of output: use [`run_code_stream`](Self::run_code_stream)
    /// for more.
    pub fn run_code(&self, code: &str, options: RunCodeOptions<'_>) -> Result<RunCodeResult> {
        traced(self.tb.tracing(), "CodeInterpreter.runCode", || {
            run::collect(self.run_code_stream(code, options)?)
        })
    }

    /// Runs `code` and returns its output as an iterator of chunks, which
    /// ends when the code finishes; a failure (timeout, lost connection,
    /// crashed interpreter) is the last item. The callbacks of `options`
    /// are called too. Dropping the iterator closes the connection (the
    /// code itself runs on in the sandbox until it ends or times out).
    ///
    /// ```no_run
    /// use daytona::toolbox::{OutputChunk, RunCodeOptions};
    ///
    /// # let daytona = daytona::Daytona::from_env()?;
    /// # let sandbox = daytona.get("my-sandbox")?;
    /// let interpreter = sandbox.code_interpreter();
    /// let code = "import time\nfor i in range(100):\n    print(i, flush=True)\n    time.sleep(1)";
    /// for chunk in interpreter.run_code_stream(code, RunCodeOptions::new())? {
    ///     if let OutputChunk::Stdout(text) = chunk? {
    ///         if text.starts_with("3") {
    ///             break; // enough: stop listening
    ///         }
    ///     }
    /// }
    /// # Ok::<(), daytona::Error>(())
    /// ```
    pub fn run_code_stream<'a>(
        &self,
        code: &str,
        options: RunCodeOptions<'a>,
    ) -> Result<CodeRun<'a>> {
        traced(self.tb.tracing(), "CodeInterpreter.runCode", || {
            non_empty("code", code)?;
            if let Some(context) = &options.context {
                non_empty("context.id", context)?;
            }
            check::env_vars("env", &options.envs)?;
            if options.idle_timeout.is_some_and(|d| d.is_zero()) {
                return Err(Error::validation("idle_timeout", "must be more than zero"));
            }
            run::start(self.tb, code, options)
        })
    }
}
