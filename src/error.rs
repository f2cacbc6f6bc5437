//! The crate's one error type.

use std::fmt;
use std::time::Duration;

use crate::models::{SandboxState, SnapshotState};

/// The result type of every fallible operation in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong when talking to Daytona.
///
/// Every variant says what failed in its `Display` text; none of them ever
/// contains the API key or JWT. Use the helper methods ([`Error::is_not_found`],
/// [`Error::status`], [`Error::sandbox_id`], ...) rather than matching deeply:
/// they also look through [`Error::AfterCreate`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a non-2xx status.
    #[error("{0}")]
    Api(Box<ApiError>),

    /// An argument was rejected before any request was sent.
    #[error("invalid `{field}`: {message}")]
    Validation {
        /// The name of the offending argument or field.
        field: String,
        /// Why it was rejected.
        message: String,
    },

    /// The client configuration is incomplete or invalid.
    #[error("configuration error: {0}")]
    Config(String),

    /// An operation did not finish within its time limit.
    #[error("timed out after {:.1?}: {operation}", after)]
    Timeout {
        /// What was being done, e.g. `waiting for sandbox abc to start`.
        operation: String,
        /// How long the operation had been running when it gave up.
        after: Duration,
    },

    /// A sandbox reached a failure state (`error` or `build_failed`) while
    /// the SDK was waiting for it.
    #[error("sandbox {id} entered state `{state}`{}", reason_suffix(.reason))]
    SandboxFailed {
        /// The sandbox id.
        id: String,
        /// The failure state it reached.
        state: SandboxState,
        /// The server's `errorReason`, when it gave one.
        reason: Option<String>,
    },

    /// A snapshot reached `error` or `build_failed` while the SDK was
    /// waiting for it to become active.
    #[error("snapshot {name} entered state `{state}`{}", reason_suffix(.reason))]
    SnapshotFailed {
        /// The snapshot name.
        name: String,
        /// The failure state it reached.
        state: SnapshotState,
        /// The server's `errorReason`, when it gave one.
        reason: Option<String>,
    },

    /// A volume reached `error` while the SDK was waiting for it to be ready.
    #[error("volume {name} entered state `error`{}", reason_suffix(.reason))]
    VolumeFailed {
        /// The volume name.
        name: String,
        /// The server's `errorReason`, when it gave one.
        reason: Option<String>,
    },

    /// The request could not be sent or its answer could not be read
    /// (connection refused or reset, DNS, TLS, ...).
    #[error("{operation}: transport error: {source}")]
    Transport {
        /// The request, e.g. `GET /sandbox/abc`.
        operation: String,
        /// The underlying I/O or HTTP error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },

    /// A 2xx answer whose body could not be decoded.
    #[error(
        "{operation}: could not decode the response: {message} (body starts with: {excerpt:?})"
    )]
    Decode {
        /// The request, e.g. `GET /sandbox/abc`.
        operation: String,
        /// What was wrong, e.g. `missing field \`id\` at line 1 column 2`.
        message: String,
        /// The first bytes of the body (at most 200 characters).
        excerpt: String,
    },

    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The local path involved.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// `create` (or `fork`) failed after the server accepted the request: a
    /// sandbox exists and is not usable. The caller owns it and should
    /// delete it (its id is [`Error::sandbox_id`]).
    #[error("sandbox {sandbox_id} was created but is not usable: {source}")]
    AfterCreate {
        /// The id of the sandbox the server created.
        sandbox_id: String,
        /// Why the SDK gave up on it.
        #[source]
        source: Box<Error>,
    },
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
    /// with `; `), or a short excerpt of a non-JSON body.
    pub message: String,
    /// The server's machine-readable code (`code`, `error_code` or `error`).
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

    /// A [`Error::Timeout`].
    pub fn is_timeout(&self) -> bool {
        matches!(self.root(), Error::Timeout { .. })
    }

    /// A [`Error::Validation`].
    pub fn is_validation(&self) -> bool {
        matches!(self.root(), Error::Validation { .. })
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
            Error::VolumeFailed { name, reason } => Error::VolumeFailed {
                name: fix(name),
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
mod tests {
    use super::*;

    #[test]
    fn helpers_look_through_after_create() {
        let inner = Error::Api(Box::new(ApiError {
            status: 404,
            message: "gone".into(),
            code: None,
            retry_after: None,
            operation: "GET /sandbox/x".into(),
        }));
        let e = Error::AfterCreate {
            sandbox_id: "x".into(),
            source: Box::new(inner),
        };
        assert!(e.is_not_found());
        assert_eq!(e.sandbox_id(), Some("x"));
        assert_eq!(
            e.to_string(),
            "sandbox x was created but is not usable: GET /sandbox/x: HTTP 404: gone"
        );
    }
}
