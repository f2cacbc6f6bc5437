//! The crate's one error type.

mod cause;

use std::fmt;
use std::time::Duration;

use crate::models::{SandboxState, SnapshotState, VolumeState};

/// The result type of every fallible operation in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The text of the [`Error::Config`] that [`Error::is_missing_credentials`]
/// recognizes.
pub(crate) const NO_CREDENTIALS: &str = "no credentials: set DAYTONA_API_KEY, or both \
     DAYTONA_JWT_TOKEN and DAYTONA_ORGANIZATION_ID (or DaytonaConfig::api_key / jwt_token)";

/// Everything that can go wrong when talking to Daytona.
///
/// Every variant says what failed in its `Display` text; none of them ever
/// contains the API key or JWT. Use the predicates ([`Error::is_not_found`],
/// [`Error::is_timeout`], [`Error::is_sandbox_failed`], ...) and accessors
/// ([`Error::status`], [`Error::sandbox_id`], ...) rather than matching:
/// they also look through [`Error::AfterCreate`], which wraps what went
/// wrong after the server accepted a create.
///
/// `Display` describes one error; its cause, when it has one, is its
/// [`source`](std::error::Error::source), never repeated in the text, so
/// that an error-chain printer shows each cause once. [`Error::report`]
/// prints the whole chain on one line.
///
/// ```
/// use daytona::{CreateSandbox, Daytona, DaytonaConfig};
///
/// let daytona = Daytona::new(DaytonaConfig::new().read_env(false).api_key("key"))?;
/// let err = daytona.create(CreateSandbox::new().name("")).unwrap_err();
/// assert!(err.is_validation());
/// println!("{}", err.report());
/// # Ok::<(), daytona::Error>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a non-2xx status.
    Api(Box<ApiError>),

    /// An argument was rejected before any request was sent.
    Validation {
        /// The name of the offending argument or field.
        field: String,
        /// Why it was rejected.
        message: String,
    },

    /// The client configuration is incomplete or invalid (found by
    /// [`crate::Daytona::new`]).
    Config(String),

    /// An operation did not finish within its time limit.
    Timeout {
        /// What was being done, e.g. `waiting for sandbox abc to start`.
        operation: String,
        /// How long the operation had been running when it gave up.
        after: Duration,
    },

    /// A sandbox reached a failure state (`error` or `build_failed`) while
    /// the SDK was waiting for it.
    SandboxFailed {
        /// The sandbox id.
        id: String,
        /// The failure state it reached.
        state: SandboxState,
        /// The server's `errorReason`, when it gave one.
        reason: Option<String>,
    },

    /// A snapshot reached `error` or `build_failed`, or was deleted or
    /// deactivated (`removing`, `inactive`), while the SDK was waiting for
    /// it to become active.
    SnapshotFailed {
        /// The snapshot name.
        name: String,
        /// The failure state it reached.
        state: SnapshotState,
        /// The server's `errorReason`, when it gave one.
        reason: Option<String>,
    },

    /// A volume reached `error`, or began to be deleted (`pending_delete`,
    /// `deleting`, `deleted`), while the SDK was waiting for it to be ready.
    VolumeFailed {
        /// The volume name.
        name: String,
        /// The state it reached, which it cannot become ready from.
        state: VolumeState,
        /// The server's `errorReason`, when it gave one.
        reason: Option<String>,
    },

    /// The request could not be sent or its answer could not be read
    /// (connection refused or reset, DNS, TLS, ...). `Display` says which
    /// in a sentence; the error it comes from is the `source`.
    Transport {
        /// The request, e.g. `GET /sandbox/abc`.
        operation: String,
        /// The underlying I/O or HTTP error.
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },

    /// A 2xx answer (or a value in one) that is not what the API
    /// documents: bad server data.
    Decode {
        /// The request, e.g. `GET /sandbox/abc`.
        operation: String,
        /// What was wrong, e.g. `missing field \`id\` at line 1 column 2`.
        message: String,
        /// The first bytes of the body (at most 200 characters), when
        /// there is a body to show; in a JSON body, the text of each
        /// string value is replaced by `…` (it may be a secret).
        excerpt: String,
    },

    /// An answer went past a limit the SDK keeps so that a server cannot
    /// make it use unbounded memory or time: a JSON answer larger than its
    /// endpoint's cap, a download into memory larger than its limit, a
    /// log line longer than the longest kept whole, a listing of empty
    /// pages that never ends. Nothing is retried.
    TooLarge {
        /// The request, e.g. `GET /sandbox/abc`.
        operation: String,
        /// What went past the limit, e.g. `the JSON answer`.
        what: String,
        /// The limit, in `unit`s.
        limit: u64,
        /// `bytes` or `empty pages in a row`.
        unit: &'static str,
    },

    /// A local file could not be read or written.
    Io {
        /// The local path involved.
        path: String,
        /// The I/O error (its text is part of `Display`).
        source: std::io::Error,
    },

    /// `create` (or a fork) failed after the server accepted the request:
    /// a sandbox exists and is not usable. The caller owns it and should
    /// delete it (its id is [`Error::sandbox_id`]). Why is the `source`,
    /// which the predicates look through.
    AfterCreate {
        /// The id of the sandbox the server created.
        sandbox_id: String,
        /// Why the SDK gave up on it.
        source: Box<Error>,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api(api) => api.fmt(f),
            Error::Validation { field, message } => write!(f, "invalid `{field}`: {message}"),
            Error::Config(message) => write!(f, "configuration error: {message}"),
            Error::Timeout { operation, after } => {
                write!(f, "timed out after {after:.1?}: {operation}")
            }
            Error::SandboxFailed { id, state, reason } => {
                write!(
                    f,
                    "sandbox {id} entered state `{state}`{}",
                    reason_suffix(reason)
                )
            }
            Error::SnapshotFailed {
                name,
                state,
                reason,
            } => write!(
                f,
                "snapshot {name} entered state `{state}`{}",
                reason_suffix(reason)
            ),
            Error::VolumeFailed {
                name,
                state,
                reason,
            } => write!(
                f,
                "volume {name} entered state `{state}`{}",
                reason_suffix(reason)
            ),
            Error::Transport { operation, source } => match cause::describe(source.as_ref()) {
                Some(what) => write!(f, "{operation}: {what}"),
                // A message of the SDK's own: it is the whole story.
                None => write!(f, "{operation}: {source}"),
            },
            Error::Decode {
                operation,
                message,
                excerpt,
            } => {
                write!(f, "{operation}: could not decode the response: {message}")?;
                if !excerpt.is_empty() {
                    write!(f, " (body starts with: {excerpt:?})")?;
                }
                Ok(())
            }
            Error::TooLarge {
                operation,
                what,
                limit,
                unit,
            } => write!(
                f,
                "{operation}: {what} went past the limit of {limit} {unit}"
            ),
            Error::Io { path, source } => write!(f, "{path}: {source}"),
            Error::AfterCreate { sandbox_id, .. } => {
                write!(f, "sandbox {sandbox_id} was created but is not usable")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Transport { source, .. } => match cause::describe(source.as_ref()) {
                Some(_) => Some(source.as_ref()),
                None => source.source(),
            },
            // `Display` shows the I/O error's own text.
            Error::Io { source, .. } => source.source(),
            Error::AfterCreate { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

/// An error and its causes on one line, each once: what an error-chain
/// printer shows (see [`Error::report`]).
pub struct ErrorReport<'e>(&'e Error);

impl fmt::Display for ErrorReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut last = self.0.to_string();
        f.write_str(&last)?;
        let mut cause = std::error::Error::source(self.0);
        while let Some(e) = cause {
            // Some libraries end their own text with their cause's: said
            // once.
            let text = e.to_string();
            if !last.ends_with(&text) {
                write!(f, ": {text}")?;
            }
            last = text;
            cause = e.source();
        }
        Ok(())
    }
}

impl fmt::Debug for ErrorReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

fn reason_suffix(reason: &Option<String>) -> String {
    match reason {
        Some(r) if !r.is_empty() => format!(": {r}"),
        _ => String::new(),
    }
}

/// A non-2xx answer from the API or the toolbox.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status code.
    pub status: u16,
    /// The server's message (`message` of the JSON body, array entries joined
    /// with `; `, at most 1,000 characters, then `…`), or a short excerpt of
    /// a non-JSON body.
    pub message: String,
    /// The server's machine-readable code (`code`, `error_code` or `error`;
    /// at most 100 characters, then `…`).
    pub code: Option<String>,
    /// The `Retry-After` delay the server asked for, in seconds form or
    /// HTTP-date form.
    pub retry_after: Option<Duration>,
    /// The request, e.g. `GET /sandbox/abc` (no query string).
    pub operation: String,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: HTTP {}", self.operation, self.status)?;
        if let Some(code) = &self.code {
            write!(f, " ({code})")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

impl Error {
    pub(crate) fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The error with [`Error::AfterCreate`] unwrapped.
    pub fn root(&self) -> &Error {
        match self {
            Error::AfterCreate { source, .. } => source.root(),
            other => other,
        }
    }

    /// The API error, if this is one.
    pub fn api(&self) -> Option<&ApiError> {
        match self.root() {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        self.api().map(|e| e.status)
    }

    /// The id of a sandbox this error concerns: the sandbox that failed, or
    /// the one `create` left behind.
    pub fn sandbox_id(&self) -> Option<&str> {
        match self {
            Error::AfterCreate { sandbox_id, .. } => Some(sandbox_id),
            Error::SandboxFailed { id, .. } => Some(id),
            _ => None,
        }
    }

    /// 404 Not Found.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// 401 Unauthorized: the credentials were refused.
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(401)
    }

    /// 403 Forbidden.
    pub fn is_forbidden(&self) -> bool {
        self.status() == Some(403)
    }

    /// 409 Conflict.
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(409)
    }

    /// 429 Too Many Requests.
    pub fn is_rate_limited(&self) -> bool {
        self.status() == Some(429)
    }

    /// Any 5xx status.
    pub fn is_server_error(&self) -> bool {
        matches!(self.status(), Some(500..=599))
    }

    /// A time limit was reached: an [`Error::Timeout`] of the SDK, an
    /// [`Error::Transport`] whose cause is a timeout (a stream read line
    /// by line that stalled), or a 408 the server answered (a command past
    /// its own timeout: the error stays [`Error::Api`], with its status).
    pub fn is_timeout(&self) -> bool {
        match self.root() {
            Error::Timeout { .. } => true,
            Error::Transport { source, .. } => cause::is_timeout(source.as_ref()),
            _ => self.status() == Some(408),
        }
    }

    /// An [`Error::Validation`]: an argument refused before any request.
    pub fn is_validation(&self) -> bool {
        matches!(self.root(), Error::Validation { .. })
    }

    /// An [`Error::Config`]: the configuration given to
    /// [`crate::Daytona::new`] is incomplete or invalid.
    pub fn is_config(&self) -> bool {
        matches!(self.root(), Error::Config(_))
    }

    /// An [`Error::Config`] saying that no credentials were found: neither
    /// the configuration nor, when it reads them, the environment and the
    /// `.env.local` and `.env` files hold an API key or a JWT. Any other
    /// configuration error (a JWT without organization id, an API URL that
    /// does not parse, a `.env` file that does not parse, ...) is not one.
    ///
    /// ```
    /// use daytona::{Daytona, DaytonaConfig};
    ///
    /// let err = Daytona::new(DaytonaConfig::new().read_env(false)).unwrap_err();
    /// assert!(err.is_config() && err.is_missing_credentials());
    ///
    /// let no_org = DaytonaConfig::new().read_env(false).jwt_token("jwt");
    /// let err = Daytona::new(no_org).unwrap_err();
    /// assert!(err.is_config() && !err.is_missing_credentials());
    /// ```
    pub fn is_missing_credentials(&self) -> bool {
        matches!(self.root(), Error::Config(message) if message == NO_CREDENTIALS)
    }

    /// An [`Error::SandboxFailed`]: a sandbox waited for reached `error` or
    /// `build_failed` (its reason is in the error).
    pub fn is_sandbox_failed(&self) -> bool {
        matches!(self.root(), Error::SandboxFailed { .. })
    }

    /// An [`Error::SnapshotFailed`]: a snapshot waited for reached `error` or
    /// `build_failed`, or was deleted or deactivated.
    pub fn is_snapshot_failed(&self) -> bool {
        matches!(self.root(), Error::SnapshotFailed { .. })
    }

    /// An [`Error::VolumeFailed`]: a volume waited for reached `error` or
    /// began to be deleted.
    pub fn is_volume_failed(&self) -> bool {
        matches!(self.root(), Error::VolumeFailed { .. })
    }

    /// An [`Error::Transport`]: the request could not be sent or its
    /// answer read.
    pub fn is_transport(&self) -> bool {
        matches!(self.root(), Error::Transport { .. })
    }

    /// An [`Error::Decode`]: the server's answer is not what the API
    /// documents.
    pub fn is_decode(&self) -> bool {
        matches!(self.root(), Error::Decode { .. })
    }

    /// An [`Error::TooLarge`]: an answer went past one of the SDK's
    /// memory or work limits.
    pub fn is_too_large(&self) -> bool {
        matches!(self.root(), Error::TooLarge { .. })
    }

    /// An [`Error::Io`]: a local file could not be read or written.
    pub fn is_io(&self) -> bool {
        matches!(self.root(), Error::Io { .. })
    }

    /// An [`Error::AfterCreate`]: the server created a sandbox the create
    /// then gave up on ([`Error::sandbox_id`] is its id; the other
    /// predicates say why).
    pub fn is_after_create(&self) -> bool {
        matches!(self, Error::AfterCreate { .. })
    }

    /// The error and its causes on one line, each once (`a: b: c`): what
    /// an error-chain printer shows.
    ///
    /// ```
    /// use daytona::{Daytona, DaytonaConfig};
    ///
    /// let err = Daytona::new(DaytonaConfig::new().read_env(false)).unwrap_err();
    /// assert!(err.is_config());
    /// eprintln!("{}", err.report());
    /// ```
    pub fn report(&self) -> ErrorReport<'_> {
        ErrorReport(self)
    }

    /// The error with `f` applied to every text it holds; `f` returns
    /// `None` to keep a text as it is. Used to keep credentials that a
    /// server echoed out of errors.
    pub(crate) fn scrub(self, f: &dyn Fn(&str) -> Option<String>) -> Error {
        let fix = |s: String| f(&s).unwrap_or(s);
        match self {
            Error::Api(mut api) => {
                api.message = fix(std::mem::take(&mut api.message));
                api.code = api.code.map(fix);
                api.operation = fix(std::mem::take(&mut api.operation));
                Error::Api(api)
            }
            Error::Validation { field, message } => Error::Validation {
                field: fix(field),
                message: fix(message),
            },
            Error::Config(message) => Error::Config(fix(message)),
            Error::Timeout { operation, after } => Error::Timeout {
                operation: fix(operation),
                after,
            },
            Error::SandboxFailed { id, state, reason } => Error::SandboxFailed {
                id: fix(id),
                state,
                reason: reason.map(fix),
            },
            Error::SnapshotFailed {
                name,
                state,
                reason,
            } => Error::SnapshotFailed {
                name: fix(name),
                state,
                reason: reason.map(fix),
            },
            Error::VolumeFailed {
                name,
                state,
                reason,
            } => Error::VolumeFailed {
                name: fix(name),
                state,
                reason: reason.map(fix),
            },
            Error::Transport { operation, source } => {
                let shown = source.to_string();
                let debug = format!("{source:?}");
                let source = match (f(&shown), f(&debug)) {
                    (None, None) => source,
                    (fixed, _) => Box::new(std::io::Error::other(fixed.unwrap_or(shown))),
                };
                Error::Transport {
                    operation: fix(operation),
                    source,
                }
            }
            Error::Decode {
                operation,
                message,
                excerpt,
            } => Error::Decode {
                operation: fix(operation),
                message: fix(message),
                excerpt: fix(excerpt),
            },
            Error::TooLarge {
                operation,
                what,
                limit,
                unit,
            } => Error::TooLarge {
                operation: fix(operation),
                what,
                limit,
                unit,
            },
            Error::Io { path, source } => Error::Io {
                path: fix(path),
                source,
            },
            Error::AfterCreate { sandbox_id, source } => Error::AfterCreate {
                sandbox_id: fix(sandbox_id),
                source: Box::new(source.scrub(f)),
            },
        }
    }
}

#[cfg(test)]
mod tests;
