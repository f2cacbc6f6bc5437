//! Traces (feature `otel`): one span per public operation, child spans per
//! HTTP attempt and per poll, W3C trace context on every request to
//! Daytona's API and toolbox (never to the object store).
//!
//! Everything goes through the OpenTelemetry API's globals (the tracer
//! provider and the text map propagator the application installs). Without
//! the feature every item here is a no-op the compiler removes; with it and
//! tracing turned off in the configuration, each costs one branch.

use crate::error::Result;

#[cfg(feature = "otel")]
pub(crate) use on::*;

#[cfg(not(feature = "otel"))]
pub(crate) use off::*;

/// Runs `f` as the public operation `name` (such as `Daytona.get`): in a
/// span of the global tracer `daytona` with the attributes of `tracing`,
/// current while `f` runs and ended when it returns, its status an error
/// (redacted) when `f` fails. Without tracing, `f()`.
#[inline]
pub(crate) fn traced<T>(
    tracing: Tracing,
    name: &'static str,
    f: impl FnOnce() -> Result<T>,
) -> Result<T> {
    #[cfg(feature = "otel")]
    if tracing.on {
        return on::run(tracing, name, f);
    }
    let _ = (tracing, name);
    f()
}

#[cfg(not(feature = "otel"))]
mod off {
    use crate::config::{Auth, Secret};
    use crate::error::Error;

    /// Whether operations are traced: never without the feature.
    #[derive(Debug, Clone, Default)]
    pub(crate) struct Tracing;

    impl Tracing {
        #[inline(always)]
        pub(crate) fn new(_on: bool, _auth: &Auth) -> Self {
            Tracing
        }

        /// With an attribute for the operation's span: nothing.
        #[inline(always)]
        pub(crate) fn attr(self, _key: &'static str, _value: &str) -> Self {
            self
        }
    }

    /// A child span (an HTTP attempt, a poll): nothing.
    pub(crate) struct Child;

    impl Child {
        #[inline(always)]
        pub(crate) fn attempt(
            _: &Tracing,
            _method: &str,
            _url: &str,
            _path: &str,
            _secrets: &[Secret],
            _attempt: u32,
        ) -> Self {
            Child
        }

        #[inline(always)]
        pub(crate) fn poll(_count: u32) -> Self {
            Child
        }

        #[inline(always)]
        pub(crate) fn status(&self, _code: u16) {}

        #[inline(always)]
        pub(crate) fn end(self, _error: Option<&Error>) {}
    }

    /// The current trace context, to continue on another thread: nothing.
    pub(crate) struct Carried;

    /// A context made current: nothing.
    pub(crate) struct Attached;

    impl Carried {
        #[inline(always)]
        pub(crate) fn current() -> Self {
            Carried
        }

        #[inline(always)]
        pub(crate) fn attach(self) -> Attached {
            Attached
        }
    }

    /// Adds the `traceparent` and `tracestate` headers of the current
    /// context with `set`: nothing.
    #[inline(always)]
    pub(crate) fn inject(_: &Tracing, _set: impl FnMut(&str, String)) {}

    /// Records the use of a deprecated setting on the current span:
    /// nothing.
    #[inline(always)]
    pub(crate) fn deprecated(_: &Tracing, _message: &str) {}

    /// Sets an attribute on the current operation's span: nothing.
    #[inline(always)]
    pub(crate) fn annotate(_: &Tracing, _key: &'static str, _value: &str) {}
}

#[cfg(feature = "otel")]
mod on {
    use std::borrow::Cow;
    use std::cell::Cell;
    use std::sync::Arc;

    use opentelemetry::global;
    use opentelemetry::propagation::Injector;
    use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
    use opentelemetry::{Context, ContextGuard, KeyValue};
    use url::Url;

    use crate::config::{redact, Auth, Secret};
    use crate::error::{Error, Result};

    /// The name of the crate's tracer.
    const TRACER: &str = "daytona";

    /// Whether operations are traced, and the credential hidden in what
    /// spans record.
    #[derive(Debug, Clone, Default)]
    pub(crate) struct Tracing {
        pub(super) on: bool,
        secret: Option<Arc<Secret>>,
        /// Attributes of the next operation's span.
        attrs: Vec<KeyValue>,
    }

    /// Marks a context as inside a traced operation: its polls get spans.
    #[derive(Clone)]
    struct Operation(Tracing);

    impl Tracing {
        pub(crate) fn new(on: bool, auth: &Auth) -> Self {
            Tracing {
                on,
                secret: on.then(|| Arc::new(auth.secret().clone())),
                attrs: Vec::new(),
            }
        }

        /// With the attribute `key` = `value` (the credential hidden in
        /// it) on the operation's span, when tracing is on.
        #[inline]
        pub(crate) fn attr(mut self, key: &'static str, value: &str) -> Self {
            if self.on {
                let value = self.hide(value);
                self.attrs.push(KeyValue::new(key, value));
            }
            self
        }

        /// `error`'s message with the credential hidden, at most
        /// [`MAX_VALUE`] bytes.
        fn message(&self, error: &Error) -> String {
            self.hide(&error.to_string())
        }

        /// `text` with the credential hidden, at most [`MAX_VALUE`] bytes.
        fn hide(&self, text: &str) -> String {
            let hidden = match &self.secret {
                Some(secret) => redact(text, [secret.as_ref()]).unwrap_or_else(|| text.into()),
                None => text.into(),
            };
            bounded(hidden)
        }
    }

    /// The most bytes of a text a span records (an attribute, an error
    /// message, an event's message): a path or an answer's message of
    /// megabytes is cut there, so every span stays small whatever the
    /// caller passes or the server says.
    const MAX_VALUE: usize = 2048;

    /// `text` cut to at most [`MAX_VALUE`] bytes, at a character boundary,
    /// ending in `…` when cut. Secrets are hidden before: a cut never
    /// leaves part of one.
    fn bounded(mut text: String) -> String {
        if text.len() <= MAX_VALUE {
            return text;
        }
        const MORE: &str = "…";
        let mut end = MAX_VALUE - MORE.len();
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str(MORE);
        text
    }

    /// Sets the attribute `key` = `value` (the credential hidden in it) on
    /// the current span, for what an operation learns as it runs (the id
    /// of the sandbox a create made).
    pub(crate) fn annotate(tracing: &Tracing, key: &'static str, value: &str) {
        if tracing.on {
            let value = tracing.hide(value);
            Context::map_current(|cx| cx.span().set_attribute(KeyValue::new(key, value)));
        }
    }

    pub(super) fn run<T>(
        mut tracing: Tracing,
        name: &'static str,
        f: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        let tracer = global::tracer(TRACER);
        let span = tracer
            .span_builder(name)
            .with_kind(SpanKind::Internal)
            .with_attributes(std::mem::take(&mut tracing.attrs))
            .start(&tracer);
        let cx = Context::current_with_span(span).with_value(Operation(tracing.clone()));
        let guard = cx.clone().attach();
        let result = f();
        if let Err(e) = &result {
            cx.span()
                .set_attribute(KeyValue::new("error.type", error_type(e)));
            cx.span().set_status(Status::error(tracing.message(e)));
        }
        cx.span().end();
        drop(guard);
        result
    }

    /// A child span of the current context (an HTTP attempt, a poll),
    /// current until it ends.
    pub(crate) struct Child(Option<Open>);

    struct Open {
        cx: Context,
        guard: ContextGuard,
        tracing: Tracing,
        /// The answer's status code, once there is an answer.
        status: Cell<Option<u16>>,
    }

    impl Child {
        /// The span of one HTTP attempt to `url` (whose path is `path`),
        /// when tracing is on, with the attributes of OpenTelemetry's HTTP
        /// client spans: `secrets` (a token in the path) are hidden in the
        /// URL and path it records, and so are the query's values.
        #[inline]
        pub(crate) fn attempt(
            tracing: &Tracing,
            method: &str,
            url: &str,
            path: &str,
            secrets: &[Secret],
            attempt: u32,
        ) -> Self {
            if !tracing.on {
                return Child(None);
            }
            let hidden =
                |text: &str| tracing.hide(&redact(text, secrets).unwrap_or_else(|| text.into()));
            let mut attributes = vec![
                KeyValue::new("http.request.method", method.to_string()),
                KeyValue::new("url.path", hidden(path)),
                KeyValue::new("daytona.attempt", i64::from(attempt)),
            ];
            if let Ok(url) = Url::parse(url) {
                if let Some(host) = url.host_str() {
                    attributes.push(KeyValue::new("server.address", host.to_string()));
                }
                if let Some(port) = url.port_or_known_default() {
                    attributes.push(KeyValue::new("server.port", i64::from(port)));
                }
                attributes.push(KeyValue::new("url.full", hidden(shown(url).as_str())));
            }
            if attempt > 1 {
                attributes.push(KeyValue::new(
                    "http.request.resend_count",
                    i64::from(attempt - 1),
                ));
            }
            Self::start(
                tracing.clone(),
                method.to_string(),
                SpanKind::Client,
                attributes,
            )
        }

        /// The span of one check of a wait, inside a traced operation.
        pub(crate) fn poll(count: u32) -> Self {
            let Some(Operation(tracing)) = Context::current().get::<Operation>().cloned() else {
                return Child(None);
            };
            Self::start(
                tracing,
                "poll".to_string(),
                SpanKind::Internal,
                vec![KeyValue::new("daytona.poll.count", i64::from(count))],
            )
        }

        fn start(
            tracing: Tracing,
            name: String,
            kind: SpanKind,
            attributes: Vec<KeyValue>,
        ) -> Self {
            let tracer = global::tracer(TRACER);
            let span = tracer
                .span_builder(Cow::Owned(name))
                .with_kind(kind)
                .with_attributes(attributes)
                .start(&tracer);
            let cx = Context::current_with_span(span);
            let guard = cx.clone().attach();
            Child(Some(Open {
                cx,
                guard,
                tracing,
                status: Cell::new(None),
            }))
        }

        /// Records the answer's status code.
        pub(crate) fn status(&self, code: u16) {
            if let Some(open) = &self.0 {
                open.status.set(Some(code));
                open.cx
                    .span()
                    .set_attribute(KeyValue::new("http.response.status_code", i64::from(code)));
            }
        }

        /// Ends the span. Its status is an error when `error` is set or
        /// the answer's status is 4xx or 5xx (an answer the crate accepts,
        /// such as a 404 to a retried delete, included), with `error.type`
        /// the status code or else the error's kind.
        pub(crate) fn end(self, error: Option<&Error>) {
            let Some(Open {
                cx,
                guard,
                tracing,
                status,
            }) = self.0
            else {
                return;
            };
            let failed_status = status.get().filter(|code| *code >= 400);
            let kind = match (failed_status, error) {
                (Some(code), _) => Some(code.to_string()),
                (None, Some(e)) => Some(error_type(e)),
                (None, None) => None,
            };
            if let Some(kind) = kind {
                let message = match (error, failed_status) {
                    (Some(e), _) => tracing.message(e),
                    (None, code) => format!("HTTP {}", code.unwrap_or_default()),
                };
                cx.span().set_attribute(KeyValue::new("error.type", kind));
                cx.span().set_status(Status::error(message));
            }
            cx.span().end();
            drop(guard);
        }
    }

    /// The `error.type` of `error`: the HTTP status code of an answer,
    /// else the error's kind (`timeout`, `transport`, `decode`, ...).
    fn error_type(error: &Error) -> String {
        let kind = match error.root() {
            Error::Api(api) => return api.status.to_string(),
            Error::Timeout { .. } => "timeout",
            Error::Transport { .. } => "transport",
            Error::Decode { .. } => "decode",
            Error::TooLarge { .. } => "too_large",
            Error::Validation { .. } => "validation",
            Error::Config(_) => "config",
            Error::Io { .. } => "io",
            Error::SandboxFailed { .. } => "sandbox_failed",
            Error::SnapshotFailed { .. } => "snapshot_failed",
            Error::VolumeFailed { .. } => "volume_failed",
            _ => "_OTHER",
        };
        kind.to_string()
    }

    /// `url` as a span records it: without user information or fragment,
    /// each query value replaced by `REDACTED` (its names kept).
    fn shown(mut url: Url) -> Url {
        let _ = url.set_username("");
        let _ = url.set_password(None);
        url.set_fragment(None);
        if url.query().is_some() {
            let names: Vec<String> = url
                .query_pairs()
                .map(|(name, _)| name.into_owned())
                .collect();
            let mut query = url.query_pairs_mut();
            query.clear();
            for name in &names {
                query.append_pair(name, "REDACTED");
            }
        }
        url
    }

    /// The current trace context, to continue on another thread.
    pub(crate) struct Carried(Context);

    impl Carried {
        pub(crate) fn current() -> Self {
            Carried(Context::current())
        }

        /// Makes it current on this thread until the thread ends.
        pub(crate) fn attach(self) -> ContextGuard {
            self.0.attach()
        }
    }

    struct Headers<F>(F);

    impl<F: FnMut(&str, String)> Injector for Headers<F> {
        fn set(&mut self, key: &str, value: String) {
            (self.0)(key, value)
        }
    }

    /// Adds the headers of the current context (`traceparent`,
    /// `tracestate` with the W3C propagator) with `set`, when tracing is
    /// on.
    #[inline]
    pub(crate) fn inject(tracing: &Tracing, set: impl FnMut(&str, String)) {
        if !tracing.on {
            return;
        }
        let cx = Context::current();
        let mut headers = Headers(set);
        global::get_text_map_propagator(|p| p.inject_context(&cx, &mut headers));
    }

    /// Records the use of a deprecated setting as an event on the current
    /// span, when tracing is on.
    pub(crate) fn deprecated(tracing: &Tracing, message: &str) {
        if tracing.on {
            Context::current().span().add_event(
                "daytona.deprecated",
                vec![KeyValue::new("message", tracing.hide(message))],
            );
        }
    }
}
