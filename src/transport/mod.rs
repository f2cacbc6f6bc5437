//! The transport: every request of the crate, to the API, to a sandbox's
//! toolbox or to the object store, goes through [`Transport::execute`]. It
//! adds the headers, applies the timeout and the deadline, retries what may
//! be retried, maps non-2xx answers to [`Error::Api`] and logs one line per
//! attempt.

use std::io::{self, Read};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::transport::url::{push_query_component, push_segment, Url};
use backoff::backoff::Backoff;
use serde::de::DeserializeOwned;
use serde::Serialize;
use ureq::http::{self, Method};
use ureq::unversioned::transport::Connector;

use crate::config::{Auth, ResolvedConfig, RetryPolicy};
use crate::error::{ApiError, Error, Result};
use crate::transport::mask::{Mask, Unmasking};
use crate::transport::poll::Deadline;

pub(crate) mod date;
pub(crate) mod mask;
pub(crate) mod page;
pub(crate) mod poll;
mod resolve;
pub(crate) mod url;

/// The value of `X-Daytona-Source`.
const SOURCE: &str = "sdk-rust";

/// The Daytona SDK version whose server behaviour this crate expects, sent
/// as `X-Daytona-SDK-Version` (the toolbox gates structured logs on it).
pub const API_VERSION: &str = "0.190.0";

/// The `User-Agent` of every request.
const USER_AGENT: &str = concat!("sdk-rust/", env!("CARGO_PKG_VERSION"));

/// Longest body excerpt kept in an error.
const EXCERPT: usize = 200;

/// Largest JSON body read into memory.
const MAX_JSON_BODY: u64 = 64 * 1024 * 1024;

/// The body of a request.
pub(crate) enum Body<'a> {
    /// No body.
    Empty,
    /// A JSON document.
    Json(Vec<u8>),
    /// A body streamed from a reader with chunked encoding (length-delimited
    /// when the request has a `Content-Length` header). It cannot be
    /// replayed, so it is resent only when the connection was refused
    /// (nothing was read from it).
    Stream {
        content_type: String,
        reader: Box<dyn Read + Send + 'a>,
    },
}

/// A request, described before it is sent: method, URL, body and limits.
pub(crate) struct Request<'a> {
    method: Method,
    url: String,
    /// `METHOD /path` for logs and errors: never the query, which may hold
    /// a token.
    operation: String,
    body: Body<'a>,
    timeout: Option<Duration>,
    deadline: Option<Deadline>,
    /// The answer is handed on as it arrives (see [`Request::streamed`]).
    streamed: bool,
    /// Headers sent after the SDK's own.
    headers: Vec<(String, String)>,
    /// Whether the SDK's credentials and `X-Daytona-*` headers are sent.
    credentials: bool,
    /// Hides more secrets than the SDK's credential (see [`Request::redact`]).
    redact: Option<Redact<'a>>,
}

/// Finds the secrets in a text and returns it with them hidden, or `None`
/// when there are none.
type Redact<'a> = Box<dyn Fn(&str) -> Option<String> + Send + Sync + 'a>;

impl<'a> Request<'a> {
    /// `method` on `base` + `segments`, each percent-encoded as one path
    /// segment (so `a/b`, `..` or `?x` can never change the path).
    pub(crate) fn new(method: Method, base: &Url, segments: &[&str]) -> Self {
        let mut url = base.as_str().trim_end_matches('/').to_string();
        for seg in segments {
            url.push('/');
            push_segment(&mut url, seg);
        }
        let path_start = url.find("://").map_or(0, |i| i + 3);
        let path = url[path_start..]
            .find('/')
            .map_or("/", |i| &url[path_start + i..]);
        let operation = format!("{method} {path}");
        Request {
            method,
            url,
            operation,
            body: Body::Empty,
            timeout: None,
            deadline: None,
            streamed: false,
            headers: Vec::new(),
            credentials: true,
            redact: None,
        }
    }

    /// Adds a query parameter (repeat for arrays).
    pub(crate) fn query(mut self, name: &str, value: impl AsRef<str>) -> Self {
        self.url
            .push(if self.url.contains('?') { '&' } else { '?' });
        push_query_component(&mut self.url, name);
        self.url.push('=');
        push_query_component(&mut self.url, value.as_ref());
        self
    }

    /// Adds a query parameter when `value` is `Some`.
    pub(crate) fn query_opt(self, name: &str, value: Option<impl ToString>) -> Self {
        match value {
            Some(v) => self.query(name, v.to_string()),
            None => self,
        }
    }

    /// Sends `body` as JSON.
    pub(crate) fn json(mut self, body: &impl Serialize) -> Self {
        // Serializing plain data structs cannot fail.
        self.body = Body::Json(serde_json::to_vec(body).unwrap_or_default());
        self
    }

    /// Streams the body from `reader`, sent as `content_type`.
    pub(crate) fn stream(
        mut self,
        content_type: impl Into<String>,
        reader: impl Read + Send + 'a,
    ) -> Self {
        self.body = Body::Stream {
            content_type: content_type.into(),
            reader: Box::new(reader),
        };
        self
    }

    /// Replaces the client's per-request timeout (long commands, transfers).
    pub(crate) fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The answer is a stream whose pieces are handed on as they arrive
    /// (a followed log): once a 2xx answer has begun, the request is never
    /// sent again, as what was delivered must not be delivered twice.
    /// Failures before that are retried as for any request.
    pub(crate) fn streamed(mut self) -> Self {
        self.streamed = true;
        self
    }

    /// Adds a header (a signature, a `Content-Length` that turns a streamed
    /// body from chunked into length-delimited, ...).
    #[cfg_attr(not(feature = "images"), allow(dead_code))]
    pub(crate) fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// Sends none of the SDK's credentials nor `X-Daytona-*` headers: for a
    /// host other than Daytona's (the object store), which must never see
    /// them. Timeouts, retries and error mapping stay the same.
    #[cfg_attr(not(feature = "images"), allow(dead_code))]
    pub(crate) fn without_credentials(mut self) -> Self {
        self.credentials = false;
        self
    }

    /// Also hides whatever `redact` finds (another host's credentials, as
    /// an answer may echo them) in errors and retry logs.
    #[cfg_attr(not(feature = "images"), allow(dead_code))]
    pub(crate) fn redact(
        mut self,
        redact: impl Fn(&str) -> Option<String> + Send + Sync + 'a,
    ) -> Self {
        self.redact = Some(Box::new(redact));
        self
    }

    /// Keeps every attempt and retry delay inside `deadline`.
    pub(crate) fn deadline(mut self, deadline: Deadline) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// The full URL, query included.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// `METHOD /path`.
    pub(crate) fn operation(&self) -> &str {
        &self.operation
    }

    fn idempotent(&self) -> bool {
        matches!(
            self.method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        )
    }
}

/// What one attempt of [`Transport::retrying`] gave.
pub(crate) enum Attempt<T> {
    /// Success.
    Done(T),
    /// Failure, already redacted: whether sending again is safe and
    /// useful, and the delay the server asked for.
    Failed {
        error: Error,
        retry: bool,
        retry_after: Option<Duration>,
    },
}

/// The HTTP client shared by a [`crate::Daytona`] and all its handles.
pub(crate) struct Transport {
    agent: ureq::Agent,
    auth: Auth,
    /// What ureq and tungstenite see of the credential (see [`crate::transport::mask`]).
    mask: Arc<Mask>,
    /// [`Transport::headers`], parsed once; `None` when one does not parse
    /// (each request then fails on it, as it would anyway).
    parsed_headers: Option<Vec<(http::HeaderName, http::HeaderValue)>>,
    retry: RetryPolicy,
    request_timeout: Duration,
    connect_timeout: Duration,
    command_timeout_margin: Duration,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("auth", &self.auth)
            .field("retry", &self.retry)
            .field("request_timeout", &self.request_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("command_timeout_margin", &self.command_timeout_margin)
            .finish_non_exhaustive()
    }
}

impl Transport {
    pub(crate) fn new(config: &ResolvedConfig) -> Self {
        let s = &config.settings;
        let loopback = config.api_url.is_loopback();
        let proxy = if s.use_env_proxy && !loopback {
            ureq::Proxy::try_from_env()
        } else {
            None
        };
        let agent_config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(USER_AGENT)
            .proxy(proxy)
            .timeout_connect(Some(s.connect_timeout))
            .max_idle_connections(256)
            .max_idle_connections_per_host(64)
            .build();
        let mask = Arc::new(Mask::new(config.auth.secret().expose()));
        Transport {
            // ureq's own connectors, then the one that puts the credential
            // in place of its mask as request heads go to the socket (see
            // `crate::transport::mask`); a resolver that spares a lookup thread per
            // request (see `resolve`).
            agent: ureq::Agent::with_parts(
                agent_config,
                ureq::unversioned::transport::DefaultConnector::default()
                    .chain(Unmasking(mask.clone())),
                resolve::Resolve::default(),
            ),
            auth: config.auth.clone(),
            mask,
            parsed_headers: None,
            retry: s.retry.clone(),
            request_timeout: s.request_timeout,
            connect_timeout: s.connect_timeout,
            command_timeout_margin: s.command_timeout_margin,
        }
        .with_parsed_headers()
    }

    fn with_parsed_headers(mut self) -> Self {
        self.parsed_headers = self
            .headers()
            .into_iter()
            .map(|(name, value)| {
                Some((
                    http::HeaderName::try_from(name).ok()?,
                    http::HeaderValue::try_from(value).ok()?,
                ))
            })
            .collect();
        self
    }

    /// Time allowed to open a connection: for connections made outside
    /// ureq (WebSocket upgrades).
    #[cfg(feature = "websocket")]
    pub(crate) fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// What a request that runs a command with its own time limit gets on
    /// top of that limit (see [`crate::DaytonaConfig::command_timeout_margin`]).
    pub(crate) fn command_timeout_margin(&self) -> Duration {
        self.command_timeout_margin
    }

    /// Sends `req` and decodes the JSON answer.
    pub(crate) fn json<T: DeserializeOwned>(&self, mut req: Request<'_>) -> Result<T> {
        let op = req.operation.clone();
        self.execute(&mut req, |resp| decode(&read_body(resp, &op)?, &op))
    }

    /// Sends `req` and ignores the answer's body.
    pub(crate) fn empty(&self, mut req: Request<'_>) -> Result<()> {
        let op = req.operation.clone();
        self.execute(&mut req, |resp| read_body(resp, &op).map(drop))
    }

    /// Sends `req` (retrying as its method allows) until a 2xx answer, which
    /// `on_success` consumes. An error from `on_success` on an idempotent
    /// request with a body that can be sent again (a body cut short, stalled
    /// or undecodable) is retried too.
    pub(crate) fn execute<T>(
        &self,
        req: &mut Request<'_>,
        mut on_success: impl FnMut(http::Response<ureq::Body>) -> Result<T>,
    ) -> Result<T> {
        let operation = req.operation.clone();
        let deadline = req.deadline;
        let limit = req.timeout.unwrap_or(self.request_timeout);
        self.retrying(&operation, deadline, |attempt| {
            let timeout = match req.deadline {
                Some(d) => d.cap(limit),
                None => limit,
            };
            if timeout.is_zero() {
                return Attempt::Failed {
                    error: Error::Timeout {
                        operation: req.operation.clone(),
                        after: Duration::ZERO,
                    },
                    retry: false,
                    retry_after: None,
                };
            }
            // A streamed body is read as it is sent: it can go again only
            // when the connection was refused (nothing was read from it).
            let replayable = !matches!(req.body, Body::Stream { .. });
            let idempotent = req.idempotent() && replayable;
            let started = Instant::now();
            let outcome = self.send_once(req, timeout);
            let took = started.elapsed();
            let (error, retry, retry_after) = match outcome {
                Ok(resp) if resp.status().is_success() => {
                    log::debug!(
                        "{} -> {} in {} ms (attempt {attempt})",
                        req.operation,
                        resp.status().as_u16(),
                        took.as_millis()
                    );
                    match on_success(resp) {
                        Ok(v) => return Attempt::Done(v),
                        Err(e) => {
                            let retry = idempotent
                                && !req.streamed
                                && matches!(
                                    e,
                                    Error::Transport { .. }
                                        | Error::Decode { .. }
                                        | Error::Timeout { .. }
                                );
                            (e, retry, None)
                        }
                    }
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    log::debug!(
                        "{} -> {status} in {} ms (attempt {attempt})",
                        req.operation,
                        took.as_millis()
                    );
                    let api = api_error(resp, &req.operation);
                    // 429: the server did not act on the request.
                    let retry = (status == 429 && replayable)
                        || (idempotent && matches!(status, 408 | 502 | 503 | 504));
                    let retry_after = api.retry_after;
                    (Error::Api(Box::new(api)), retry, retry_after)
                }
                Err(e) => {
                    log::debug!(
                        "{} -> failed in {} ms (attempt {attempt}): {e}",
                        req.operation,
                        took.as_millis()
                    );
                    let retry = never_reached_server(&e) || (idempotent && transient(&e));
                    (transport_error(e, &req.operation, took), retry, None)
                }
            };
            // A server (or a proxy in front of it) may echo the request's
            // credentials in its answer: keep them out of errors and logs.
            let mut error = self.redact(error);
            if let Some(redact) = &req.redact {
                error = error.scrub(redact);
            }
            Attempt::Failed {
                error,
                retry,
                retry_after,
            }
        })
    }

    /// Runs `attempt` (given its number, from 1) until it is done or fails
    /// for good: it asks for no retry, the attempts are used up, or the
    /// next one would start past `deadline`. Between attempts it waits the
    /// server's `Retry-After` (a longer one than the policy allows returns
    /// the error at once) or an exponential backoff with jitter.
    ///
    /// Every retry of the crate goes through here: HTTP requests
    /// ([`Transport::execute`]) and WebSocket upgrades.
    pub(crate) fn retrying<T>(
        &self,
        operation: &str,
        deadline: Option<Deadline>,
        mut attempt: impl FnMut(u32) -> Attempt<T>,
    ) -> Result<T> {
        let mut schedule = backoff::ExponentialBackoff {
            current_interval: self.retry.initial_backoff,
            initial_interval: self.retry.initial_backoff,
            randomization_factor: 0.5,
            multiplier: 2.0,
            max_interval: self.retry.max_backoff,
            max_elapsed_time: None,
            ..Default::default()
        };
        let mut n = 1u32;
        loop {
            let (error, retry, retry_after) = match attempt(n) {
                Attempt::Done(v) => return Ok(v),
                Attempt::Failed {
                    error,
                    retry,
                    retry_after,
                } => (error, retry, retry_after),
            };
            if !retry || n >= self.retry.max_attempts {
                return Err(error);
            }
            let delay = match retry_after {
                Some(d) if d > self.retry.max_retry_after => return Err(error),
                Some(d) => d,
                None => schedule.next_backoff().unwrap_or(self.retry.max_backoff),
            };
            if let Some(left) = deadline.and_then(|d| d.remaining()) {
                if delay >= left {
                    return Err(error);
                }
            }
            log::debug!(
                "{operation}: retrying in {} ms after: {error}",
                delay.as_millis()
            );
            std::thread::sleep(delay);
            n += 1;
        }
    }

    fn send_once(
        &self,
        req: &mut Request<'_>,
        timeout: Duration,
    ) -> std::result::Result<http::Response<ureq::Body>, ureq::Error> {
        let mut builder = http::Request::builder()
            .method(req.method.clone())
            .uri(&req.url);
        // JSON unless the request asks for something else (a bulk download
        // is multipart): `http` appends headers, it does not replace them.
        if !req
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("accept"))
        {
            builder = builder.header("Accept", "application/json");
        }
        if req.credentials {
            match &self.parsed_headers {
                Some(parsed) => {
                    for (name, value) in parsed {
                        builder = builder.header(name.clone(), value.clone());
                    }
                }
                None => {
                    for (name, value) in self.headers() {
                        builder = builder.header(name, value);
                    }
                }
            }
        }
        for (name, value) in &req.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        match &mut req.body {
            Body::Stream {
                content_type,
                reader,
            } => {
                let request = builder
                    .header("Content-Type", content_type.as_str())
                    .body(ureq::SendBody::from_reader(reader))?;
                self.run(request, timeout)
            }
            Body::Json(bytes) => {
                let request = builder
                    .header("Content-Type", "application/json")
                    .body(bytes.as_slice())?;
                self.run(request, timeout)
            }
            Body::Empty if req.method == Method::POST || req.method == Method::PUT => {
                self.run(builder.body(&[][..])?, timeout)
            }
            Body::Empty => self.run(builder.body(())?, timeout),
        }
    }

    /// The headers every request carries, the credential masked: for
    /// connections made outside ureq (WebSocket upgrades) to the same hosts,
    /// which unmask it with [`Transport::mask`].
    pub(crate) fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = vec![
            ("Authorization", self.mask.bearer()),
            ("X-Daytona-Source", SOURCE.to_string()),
            ("X-Daytona-SDK-Version", API_VERSION.to_string()),
            ("User-Agent", USER_AGENT.to_string()),
        ];
        if let Some(org) = self.auth.organization_id() {
            headers.push(("X-Daytona-Organization-ID", org.to_string()));
        }
        headers
    }

    /// The mask of the credential in [`Transport::headers`].
    #[cfg(feature = "websocket")]
    pub(crate) fn mask(&self) -> &Arc<Mask> {
        &self.mask
    }

    /// Hides the credential wherever a server's answer put it.
    pub(crate) fn redact(&self, error: Error) -> Error {
        self.auth.redact_error(error)
    }

    fn run(
        &self,
        request: http::Request<impl ureq::AsSendBody>,
        timeout: Duration,
    ) -> std::result::Result<http::Response<ureq::Body>, ureq::Error> {
        let request = self
            .agent
            .configure_request(request)
            .timeout_global(Some(timeout))
            .build();
        self.agent.run(request)
    }
}

/// Reads a whole (JSON-sized) body.
pub(crate) fn read_body(mut resp: http::Response<ureq::Body>, operation: &str) -> Result<Vec<u8>> {
    let started = Instant::now();
    // As `read_to_vec`, into a buffer sized by `Content-Length` (up to
    // 1 MiB) rather than grown from 32 bytes in a dozen reads.
    let hint = resp.body().content_length().unwrap_or(0).min(1 << 20) as usize;
    let mut body = Vec::with_capacity(hint);
    resp.body_mut()
        .with_config()
        .limit(MAX_JSON_BODY)
        .reader()
        .read_to_end(&mut body)
        .map_err(|e| transport_error(e.into(), operation, started.elapsed()))?;
    Ok(body)
}

/// Decodes a JSON body, or says what was wrong with it.
pub(crate) fn decode<T: DeserializeOwned>(body: &[u8], operation: &str) -> Result<T> {
    // One UTF-8 check of the whole body is cheaper than one per string in
    // it (a third of the decoding time of a sandbox); a body that is not
    // UTF-8 gets `from_slice`'s error.
    let decoded = match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(body),
    };
    decoded.map_err(|e| Error::Decode {
        operation: operation.to_string(),
        message: e.to_string(),
        excerpt: excerpt(body),
    })
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(EXCERPT * 4)]);
    let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed.chars().take(EXCERPT).collect()
}

/// The message and code of an error body: the JSON `message` (a string or
/// an array, joined with `; `; else `errors`) and `code`/`error_code`/`error`.
/// A body that is not a JSON object gives an excerpt of itself and no code.
pub(crate) fn error_fields(body: &[u8]) -> (String, Option<String>) {
    fn text(value: Option<&serde_json::Value>) -> String {
        match value {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join("; "),
            Some(other) if !other.is_null() => other.to_string(),
            _ => String::new(),
        }
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(map)) => {
            let mut message = text(map.get("message"));
            if message.is_empty() {
                message = text(map.get("errors"));
            }
            let code = ["code", "error_code", "error"]
                .iter()
                .find_map(|k| map.get(*k).and_then(|v| v.as_str()))
                .map(str::to_string);
            (message, code)
        }
        _ => (excerpt(body), None),
    }
}

/// Maps a non-2xx answer to an [`ApiError`]: [`error_fields`] and
/// `Retry-After`.
fn api_error(mut resp: http::Response<ureq::Body>, operation: &str) -> ApiError {
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    let body = resp
        .body_mut()
        .with_config()
        .limit(1024 * 1024)
        .read_to_vec()
        .unwrap_or_default();
    let (mut message, code) = error_fields(&body);
    if message.is_empty() {
        message = status.canonical_reason().unwrap_or("").to_string();
    }
    ApiError {
        status: status.as_u16(),
        message,
        code,
        retry_after,
        operation: operation.to_string(),
    }
}

/// `Retry-After` as seconds or as an HTTP date.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(value)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(at.saturating_sub(now)))
}

/// Seconds since the epoch of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn parse_http_date(s: &str) -> Option<u64> {
    let mut parts = s.split_whitespace();
    let _weekday = parts.next()?;
    let day: u64 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, sec) = (hms.next()??, hms.next()??, hms.next()??);
    if parts.next()? != "GMT" || !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let days = crate::transport::date::days_from_civil(year, month, day as u32);
    u64::try_from(days)
        .ok()
        .map(|d| d * 86_400 + h * 3600 + m * 60 + sec)
}

/// The error proves the request never reached the server.
fn never_reached_server(e: &ureq::Error) -> bool {
    match e {
        ureq::Error::Io(io) => io.kind() == io::ErrorKind::ConnectionRefused,
        ureq::Error::Timeout(t) => matches!(t, ureq::Timeout::Connect | ureq::Timeout::Resolve),
        _ => false,
    }
}

/// A failure that may not happen again.
fn transient(e: &ureq::Error) -> bool {
    match e {
        ureq::Error::Io(io) => !matches!(
            io.kind(),
            io::ErrorKind::PermissionDenied
                | io::ErrorKind::InvalidInput
                | io::ErrorKind::Unsupported
        ),
        ureq::Error::Timeout(_) | ureq::Error::ConnectionFailed | ureq::Error::Protocol(_) => true,
        _ => false,
    }
}

pub(crate) fn transport_error(e: ureq::Error, operation: &str, took: Duration) -> Error {
    match e {
        ureq::Error::Timeout(_) => Error::Timeout {
            operation: operation.to_string(),
            after: took,
        },
        // The connection was fine; the body was not what it claimed.
        ureq::Error::Decompress(encoding, e) => Error::Decode {
            operation: operation.to_string(),
            message: format!("the {encoding} body is corrupt: {e}"),
            excerpt: String::new(),
        },
        other => Error::Transport {
            operation: operation.to_string(),
            source: Box::new(other),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("http://h:1/api").unwrap()
    }

    #[test]
    fn segments_cannot_escape() {
        let cases = [
            ("../x", "/api/sandbox/..%2Fx"),
            ("a/b", "/api/sandbox/a%2Fb"),
            ("..", "/api/sandbox/%2E%2E"),
            (".", "/api/sandbox/%2E"),
            ("%2e%2e", "/api/sandbox/%252e%252e"),
            ("?x=1", "/api/sandbox/%3Fx%3D1"),
            ("#frag", "/api/sandbox/%23frag"),
            ("a b\"'", "/api/sandbox/a%20b%22%27"),
            ("é", "/api/sandbox/%C3%A9"),
            ("my.box", "/api/sandbox/my.box"),
        ];
        for (id, path) in cases {
            let r = Request::new(Method::GET, &base(), &["sandbox", id]);
            assert_eq!(r.url, format!("http://h:1{path}"), "{id}");
            assert_eq!(r.operation(), format!("GET {path}"));
        }
    }

    #[test]
    fn query_values_are_encoded_and_hidden_from_the_operation() {
        let r = Request::new(Method::GET, &base(), &["x"])
            .query("token", "a&b=c d")
            .query("n", "1");
        assert_eq!(r.url, "http://h:1/api/x?token=a%26b%3Dc+d&n=1");
        assert_eq!(r.operation(), "GET /api/x");
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784111777)
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("Sun, 32 Nov 1994 08:49:37 GMT"), None);
    }
}
