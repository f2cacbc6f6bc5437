//! Sending a [`Request`]: the SDK's headers, the time limits, the attempts
//! and the delays between them, one debug line per attempt.

use std::io::Read;
use std::time::{Duration, Instant};

use ureq::http::{self, HeaderName, HeaderValue, Method};

use super::proxy::Proxies;
use super::redirect::{next_hop, Hop};
use super::request::{Body, Request};
use super::retry::Delays;
use super::status::{api_error, transport_error, Failure};
use super::tls::Tls;
use crate::config::{redact, Auth, ResolvedConfig, RetryPolicy, Secret};
use crate::error::{ApiError, Error, Result};
use crate::telemetry::{self, Child, Tracing};
use crate::transport::poll::Deadline;

/// The value of `X-Daytona-Source`.
pub(crate) const SOURCE: &str = "sdk-rust";

/// The Daytona SDK version whose server behaviour this crate expects, sent
/// as `X-Daytona-SDK-Version` (the toolbox gates structured logs on it).
pub const API_VERSION: &str = "0.190.0";

/// The `User-Agent` of every request.
pub(crate) const USER_AGENT: &str = concat!("sdk-rust/", env!("CARGO_PKG_VERSION"));

/// Largest error body read into memory.
const MAX_ERROR_BODY: u64 = 1024 * 1024;

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
    /// The headers of every request to Daytona, parsed once.
    headers: Vec<(HeaderName, HeaderValue)>,
    retry: RetryPolicy,
    request_timeout: Duration,
    connect_timeout: Duration,
    command_timeout_margin: Duration,
    /// The proxies of the environment (none for a loopback API): the
    /// agent's is the one of the API's scheme.
    proxies: Proxies,
    /// Whether the API is reached over `https`.
    api_https: bool,
    /// The TLS trust of every connection.
    tls: Tls,
    /// Whether operations are traced.
    tracing: Tracing,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("auth", &self.auth)
            .field("retry", &self.retry)
            .field("request_timeout", &self.request_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("command_timeout_margin", &self.command_timeout_margin)
            .field("proxies", &self.proxies)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

/// Sets the time limits of one exchange on a ureq configuration builder:
/// connecting (TCP, proxy and TLS) at most `$connect`; then each read and
/// each write waits at most `$timeout` for the other side, and each stage
/// (sending the request, sending its body, waiting for the answer's head,
/// reading its body) ends after [`stage_limit`] of it (a server sending a
/// byte now and then).
///
/// The wait of a read or write is the same for every exchange, so ureq
/// sets it on a pooled connection once (a system call each time it
/// changes): only the stages' own budgets, which shrink as they run, would
/// change it for every read and write.
///
/// No overall (`timeout_global`, `timeout_per_call`) or name lookup limit:
/// with any of those ureq looks the host up on a thread of its own for
/// every request, pooled connections included, which costs more than a
/// whole exchange on a fast network. The lookup is then bounded by the
/// system resolver's own limits.
macro_rules! phase_timeouts {
    ($builder:expr, $timeout:expr, $connect:expr) => {{
        // ureq adds each limit to the current time: a longer one (a
        // user's WAIT_FOREVER) would overflow there.
        let timeout: Duration = $timeout.min(crate::config::LONGEST);
        let connect: Duration = $connect.min(crate::config::LONGEST);
        let stage = Some(stage_limit(timeout));
        $builder
            .timeout_global(None)
            .timeout_per_call(None)
            .timeout_resolve(None)
            .timeout_connect(Some(connect))
            .timeout_per_read(Some(timeout))
            .timeout_per_write(Some(timeout))
            .timeout_send_request(stage)
            .timeout_send_body(stage)
            .timeout_recv_response(stage)
            .timeout_recv_body(stage)
    }};
}

/// How long one stage of an exchange may last in all, for a request
/// timeout `timeout` (the longest wait of one read or write): a quarter
/// more, so that the stage's budget never cuts a read's wait short in an
/// exchange that goes at the usual pace.
fn stage_limit(timeout: Duration) -> Duration {
    timeout.saturating_add(timeout / 4)
}

impl Transport {
    pub(crate) fn new(config: &ResolvedConfig) -> Result<Self> {
        let s = &config.settings;
        let tls = Tls::new(&s.tls)?;
        let proxies = if s.use_env_proxy && !is_loopback(&config.api_url) {
            Proxies::from_env()
        } else {
            Proxies::none()
        };
        let api_https = config.api_url.scheme() == "https";
        let agent_config = phase_timeouts!(
            ureq::Agent::config_builder(),
            s.request_timeout,
            s.connect_timeout.min(s.request_timeout)
        )
        .http_status_as_error(false)
        // Redirects are the crate's to follow (see `redirect`): a 3xx
        // answer comes back as it is.
        .max_redirects(0)
        .user_agent(USER_AGENT)
        .proxy(proxies.of(api_https).cloned())
        .tls_config(tls.ureq_config())
        .max_idle_connections(256)
        .max_idle_connections_per_host(64)
        .build();
        let mut headers = vec![
            ("authorization", config.auth.bearer()),
            ("x-daytona-source", SOURCE.to_string()),
            ("x-daytona-sdk-version", API_VERSION.to_string()),
            ("user-agent", USER_AGENT.to_string()),
        ];
        if let Some(org) = config.auth.organization_id() {
            headers.push(("x-daytona-organization-id", org.to_string()));
        }
        let headers = headers
            .into_iter()
            .map(|(name, value)| {
                let mut value = HeaderValue::try_from(value).map_err(|_| {
                    Error::Config(format!("the {name} header cannot hold its value"))
                })?;
                value.set_sensitive(name == "authorization");
                Ok((HeaderName::from_static(name), value))
            })
            .collect::<Result<_>>()?;
        Ok(Transport {
            agent: agent_config.into(),
            auth: config.auth.clone(),
            headers,
            retry: s.retry.clone(),
            request_timeout: s.request_timeout,
            connect_timeout: s.connect_timeout,
            command_timeout_margin: s.command_timeout_margin,
            proxies,
            api_https,
            tls,
            tracing: Tracing::new(config.otel, &config.auth),
        })
    }

    /// Whether and how operations are traced (see [`crate::telemetry`]).
    pub(crate) fn tracing(&self) -> Tracing {
        self.tracing.clone()
    }

    /// Time allowed to open a connection: for connections made outside
    /// ureq (WebSocket upgrades).
    #[cfg(feature = "websocket")]
    pub(crate) fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The proxy REST calls to targets of scheme `https` (`true`) or
    /// `http` go through (none for a loopback API, or when
    /// [`crate::DaytonaConfig::use_env_proxy`] is off): for connections
    /// made outside ureq, which follow the same rules.
    #[cfg(feature = "websocket")]
    pub(crate) fn proxy(&self, https: bool) -> Option<&ureq::Proxy> {
        self.proxies.of(https)
    }

    /// The TLS trust of every connection.
    #[cfg(feature = "websocket")]
    pub(crate) fn tls(&self) -> &Tls {
        &self.tls
    }

    /// The longest `Retry-After` the retry policy waits: longer ones fail
    /// requests and waits at once.
    pub(crate) fn max_retry_after(&self) -> Duration {
        self.retry.max_retry_after
    }

    /// What a request that runs a command with its own time limit gets on
    /// top of that limit (see [`crate::DaytonaConfig::command_timeout_margin`]).
    pub(crate) fn command_timeout_margin(&self) -> Duration {
        self.command_timeout_margin
    }

    /// The headers every request to Daytona carries, the credential
    /// included (`Debug` of its value shows `Sensitive`): for ureq's
    /// requests, and for connections made outside ureq (WebSocket
    /// upgrades) to the same hosts.
    pub(crate) fn headers(&self) -> &[(HeaderName, HeaderValue)] {
        &self.headers
    }

    /// Hides the credential wherever a server's answer put it.
    pub(crate) fn redact(&self, error: Error) -> Error {
        self.auth.redact_error(error)
    }

    /// [`hide`](Self::hide) for errors made where the transport is out of
    /// reach (a connection's own thread, a stream's later items).
    #[cfg(feature = "websocket")]
    pub(crate) fn redactor(
        &self,
        secrets: Vec<Secret>,
    ) -> impl Fn(Error) -> Error + Send + Sync + 'static {
        let auth = self.auth.clone();
        move |error| hidden(&auth, error, &secrets)
    }

    /// [`Transport::redact`], and also hides `secrets` (another host's, the
    /// values a request carried).
    fn hide(&self, error: Error, secrets: &[Secret]) -> Error {
        hidden(&self.auth, error, secrets)
    }

    /// Sends `req` (retrying as its method allows) until a 2xx answer, which
    /// `on_success` consumes. A transport error or a timeout from
    /// `on_success` (a body cut short or stalled) on an idempotent request
    /// with a body that can be sent again is retried too; any other error
    /// (a whole body that does not decode) is returned at once.
    pub(crate) fn execute<T>(
        &self,
        req: &mut Request<'_>,
        mut on_success: impl FnMut(http::Response<ureq::Body>) -> Result<T>,
    ) -> Result<T> {
        if let Some(invalid) = req.invalid.take() {
            return Err(invalid);
        }
        let operation = req.operation.clone();
        let deadline = req.deadline;
        let limit = req.timeout.unwrap_or(self.request_timeout);
        // Whether an earlier attempt may have been acted on although its
        // answer was lost (see `Request::gone_is_done`).
        let mut may_have_acted = false;
        self.retrying(&operation, deadline, |attempt| {
            let timeout = match req.deadline {
                Some(d) => d.cap(limit),
                None => limit,
            };
            if timeout.is_zero() {
                return Attempt::Failed {
                    error: Error::Timeout {
                        operation: req.operation.to_string(),
                        after: Duration::ZERO,
                    },
                    retry: false,
                    retry_after: None,
                };
            }
            // A streamed body is read as it is sent: it can go again only
            // when the connection was refused (nothing was read from it).
            let replayable = !matches!(req.body, Body::Stream { .. });
            let idempotent = req.idempotent();
            let span = Child::attempt(
                &self.tracing,
                req.method.as_str(),
                &req.url,
                req.path(),
                &req.secrets,
                attempt,
            );
            let started = Instant::now();
            let outcome = self.send_following(req, timeout, replayable);
            if let Ok(Ok(resp)) = &outcome {
                span.status(resp.status().as_u16());
            }
            let took = started.elapsed();
            let (error, failure, retry_after) = match outcome {
                Ok(Err(refused)) => {
                    let error = self.hide(Error::Api(Box::new(refused)), &req.secrets);
                    log::debug!(
                        "{} -> failed in {} ms (attempt {attempt}): {error}",
                        req.operation,
                        took.as_millis()
                    );
                    (error, Failure::Permanent, None)
                }
                Ok(Ok(resp))
                    if resp.status().is_success()
                        || (may_have_acted && deleted_before(req, resp.status())) =>
                {
                    log::debug!(
                        "{} -> {} in {} ms (attempt {attempt})",
                        req.operation,
                        resp.status().as_u16(),
                        took.as_millis()
                    );
                    // What is gone was deleted by an earlier attempt: the
                    // answer to it (lost) had no body to keep either.
                    let resp = if resp.status().is_success() {
                        resp
                    } else {
                        resp.map(|_| ureq::Body::builder().data(Vec::new()))
                    };
                    match on_success(resp) {
                        Ok(v) => {
                            span.end(None);
                            return Attempt::Done(v);
                        }
                        Err(e) => {
                            may_have_acted = true;
                            // A body cut short (shorter than its
                            // Content-Length, chunked without its end) or
                            // stalled: the next answer may be whole. A
                            // whole body that does not decode would not
                            // decode the next time either.
                            let failure = match e {
                                _ if req.streamed => Failure::Permanent,
                                Error::Transport { .. } | Error::Timeout { .. } => {
                                    Failure::Transient
                                }
                                _ => Failure::Permanent,
                            };
                            (e, failure, None)
                        }
                    }
                }
                Ok(Ok(mut resp)) => {
                    let status = resp.status();
                    log::debug!(
                        "{} -> {} in {} ms (attempt {attempt})",
                        req.operation,
                        status.as_u16(),
                        took.as_millis()
                    );
                    // The start of a longer body is kept: it is what the
                    // error quotes.
                    let mut body = Vec::new();
                    let _ = resp
                        .body_mut()
                        .with_config()
                        .limit(u64::MAX)
                        .reader()
                        .take(MAX_ERROR_BODY)
                        .read_to_end(&mut body);
                    let api = api_error(status, resp.headers(), &body, &req.operation);
                    let retry_after = api.retry_after;
                    // A gateway that lost the answer, not one that never
                    // passed the request on (503) or a server that did not
                    // act (408, 429).
                    may_have_acted |= matches!(status.as_u16(), 502 | 504);
                    (
                        Error::Api(Box::new(api)),
                        Failure::of_status(status.as_u16()),
                        retry_after,
                    )
                }
                Err(e) => {
                    let failure = Failure::of_ureq(&e);
                    may_have_acted |= failure == Failure::Transient;
                    // Redacted before it is logged: ureq's error may quote
                    // what the server sent.
                    let error = self.hide(transport_error(e, &req.operation, took), &req.secrets);
                    log::debug!(
                        "{} -> failed in {} ms (attempt {attempt}): {error}",
                        req.operation,
                        took.as_millis()
                    );
                    (error, failure, None)
                }
            };
            // A server (or a proxy in front of it) may echo the request's
            // credentials in its answer: keep them out of errors and logs.
            let error = self.hide(error, &req.secrets);
            span.end(Some(&error));
            Attempt::Failed {
                error,
                retry: failure.retry(idempotent, replayable),
                retry_after,
            }
        })
    }

    /// Runs `attempt` (given its number, from 1) until it is done or fails
    /// for good: it asks for no retry, the attempts are used up, or the
    /// next one would start past `deadline`. Between attempts it waits the
    /// server's `Retry-After` (a longer one than the policy allows returns
    /// the error at once) or the next of the policy's [`Delays`].
    ///
    /// Every retry of the crate goes through here: HTTP requests
    /// ([`Transport::execute`]) and WebSocket upgrades.
    pub(crate) fn retrying<T>(
        &self,
        operation: &str,
        deadline: Option<Deadline>,
        mut attempt: impl FnMut(u32) -> Attempt<T>,
    ) -> Result<T> {
        // Made on the first retry: most requests need none.
        let mut delays: Option<Delays> = None;
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
                None => delays
                    .get_or_insert_with(|| Delays::new(&self.retry))
                    .next_delay(),
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

    /// Sends `req`, following redirects as [`super::redirect`] allows:
    /// the answer, or the refusal of a redirect. Each hop gets `timeout`,
    /// cut to what the request's deadline leaves.
    fn send_following(
        &self,
        req: &mut Request<'_>,
        mut timeout: Duration,
        replayable: bool,
    ) -> std::result::Result<std::result::Result<http::Response<ureq::Body>, ApiError>, ureq::Error>
    {
        let mut redirected: Option<url::Url> = None;
        let mut hops = 0;
        loop {
            let resp = self.send_once(req, redirected.as_ref(), timeout)?;
            let status = resp.status();
            if !status.is_redirection() || status == http::StatusCode::NOT_MODIFIED {
                return Ok(Ok(resp));
            }
            let Some(from) = redirected.take().or_else(|| req.parsed_url()) else {
                // Not reached: the URL was made from a parsed one.
                return Ok(Ok(resp));
            };
            match next_hop(
                &from,
                &req.method,
                replayable,
                status,
                resp.headers(),
                hops,
                &req.operation,
            ) {
                Hop::Follow(to) => {
                    // The path the server chose may hold the request's
                    // token (or echo the credential).
                    let secrets = req.secrets.iter().chain([self.auth.secret()]);
                    let path = redact(to.path(), secrets).unwrap_or_else(|| to.path().into());
                    log::debug!(
                        "{} -> {} redirected to {path} (same origin)",
                        req.operation,
                        status.as_u16(),
                    );
                    redirected = Some(to);
                    hops += 1;
                    if let Some(deadline) = req.deadline {
                        timeout = deadline.cap(timeout);
                        if timeout.is_zero() {
                            return Err(ureq::Error::Timeout(ureq::Timeout::Global));
                        }
                    }
                }
                Hop::Refuse(refused) => return Ok(Err(refused)),
            }
        }
    }

    /// Sends `req` once, to `redirected` instead of its URL when set.
    fn send_once(
        &self,
        req: &mut Request<'_>,
        redirected: Option<&url::Url>,
        timeout: Duration,
    ) -> std::result::Result<http::Response<ureq::Body>, ureq::Error> {
        let url = redirected.map_or(req.url.as_str(), url::Url::as_str);
        let mut builder = http::Request::builder().method(req.method.clone()).uri(url);
        // JSON unless the request asks for something else (a bulk download
        // is multipart): `http` appends headers, it does not replace them.
        if !req
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("accept"))
        {
            builder = builder.header(
                http::header::ACCEPT,
                HeaderValue::from_static("application/json"),
            );
        }
        if req.credentials {
            for (name, value) in self.headers() {
                builder = builder.header(name, value);
            }
            // The trace context goes to Daytona's hosts only, never to
            // another party's (the object store).
            telemetry::inject(&self.tracing, |name, value| {
                builder = std::mem::take(&mut builder).header(name, value);
            });
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
                    .header(http::header::CONTENT_TYPE, content_type.as_str())
                    .body(ureq::SendBody::from_reader(reader))?;
                self.run(request, timeout)
            }
            Body::Json(bytes) => {
                let request = builder
                    .header(
                        http::header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    )
                    .body(bytes.as_slice())?;
                self.run(request, timeout)
            }
            Body::Empty if req.method == Method::POST || req.method == Method::PUT => {
                self.run(builder.body(&[][..])?, timeout)
            }
            Body::Empty => self.run(builder.body(())?, timeout),
        }
    }

    fn run(
        &self,
        request: http::Request<impl ureq::AsSendBody>,
        timeout: Duration,
    ) -> std::result::Result<http::Response<ureq::Body>, ureq::Error> {
        // ureq exempts only `NO_PROXY` hosts from the proxy: a loopback
        // host (a toolbox on this machine) is reached directly, as by a
        // WebSocket.
        let direct = self.proxies.any() && uri_is_loopback(request.uri());
        // The agent's proxy is the one of the API's scheme; a target of
        // the other scheme (a toolbox, the object store) may have another.
        let https = request.uri().scheme() == Some(&http::uri::Scheme::HTTPS);
        let other = https != self.api_https && !self.proxies.same();
        if timeout == self.request_timeout && !direct && !other {
            // The agent's own limits: no per-request configuration to copy
            // (and ureq builds its TLS configuration once per agent).
            return self.agent.run(request);
        }
        let mut config = phase_timeouts!(
            self.agent.configure_request(request),
            timeout,
            self.connect_timeout.min(timeout)
        );
        if direct {
            config = config.proxy(None);
        } else if other {
            config = config.proxy(self.proxies.of(https).cloned());
        }
        self.agent.run(config.build())
    }
}

/// Whether the host of `url` is this machine: `localhost` or a loopback
/// address (`127.0.0.0/8` in any spelling the URL parser accepts, `::1`).
pub(crate) fn is_loopback(url: &url::Url) -> bool {
    url.host().is_some_and(|host| host_is_loopback(&host))
}

/// [`is_loopback`] of a request's URI (its host read again, the URL not).
fn uri_is_loopback(uri: &http::Uri) -> bool {
    uri.host()
        .and_then(|host| url::Host::parse(host).ok())
        .is_some_and(|host| host_is_loopback(&host))
}

/// [`is_loopback`] of a host alone.
fn host_is_loopback<S: AsRef<str>>(host: &url::Host<S>) -> bool {
    match host {
        url::Host::Domain(d) => d.as_ref().eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// Whether an answer `status` to `req`, sent again after an attempt the
/// server may have acted on, means that attempt did the deletion: a 404 to
/// a DELETE marked [`Request::gone_is_done`].
fn deleted_before(req: &Request<'_>, status: http::StatusCode) -> bool {
    req.gone_is_done && req.method == http::Method::DELETE && status == http::StatusCode::NOT_FOUND
}

/// `error` without the credential of `auth` nor any of `secrets`.
fn hidden(auth: &Auth, error: Error, secrets: &[Secret]) -> Error {
    let error = auth.redact_error(error);
    if secrets.is_empty() {
        return error;
    }
    error.scrub(&|text| redact(text, secrets))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for (url, loopback) in [
            ("http://localhost:3000/api", true),
            ("http://LOCALHOST/api", true),
            ("http://127.0.0.1/api", true),
            ("http://127.1/api", true),
            ("http://0x7f.1/api", true),
            ("http://127.255.0.9/", true),
            ("http://[::1]:8080/", true),
            ("http://[::ffff:10.0.0.1]/", false),
            ("https://app.daytona.io/api", false),
            ("http://10.0.0.1/", false),
            ("http://localhost.example.com/", false),
        ] {
            let parsed = url::Url::parse(url).unwrap();
            assert_eq!(is_loopback(&parsed), loopback, "{url}");
            let uri: http::Uri = parsed.as_str().parse().unwrap();
            assert_eq!(uri_is_loopback(&uri), loopback, "{url}");
        }
    }
}
