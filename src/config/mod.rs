//! Client configuration and its resolution from the environment.

use std::fmt;
use std::time::Duration;

use url::Url;

mod env_file;
mod policy;
pub(crate) mod secret;

pub(crate) use policy::LONGEST;
pub use policy::{PollSchedule, RetryPolicy, WAIT_FOREVER};
pub(crate) use secret::{
    echo_forms, env_secrets, hidden_in, names_only, redact, url_credentials_hidden, EnvHidden,
    Hidden, Secret, REDACTED,
};

use crate::error::{Error, Result, NO_CREDENTIALS};

/// The API URL used when none is configured.
pub const DEFAULT_API_URL: &str = "https://app.daytona.io/api";

/// How the client talks to Daytona: credentials, URL, timeouts and retries.
///
/// Build one with [`DaytonaConfig::new`] and the chainable setters. Fields
/// left unset are read from the environment by [`crate::Daytona::new`]
/// (unless [`DaytonaConfig::read_env`] is turned off); what is set here
/// always wins over the environment.
///
/// The environment is the process environment, then the files `.env.local`
/// and `.env` in the current directory, in that order of precedence (see
/// [`read_env_files`](Self::read_env_files)): only their `DAYTONA_*` names
/// are read, and nothing is exported into the process environment.
///
/// | setting | environment variable | default |
/// |---|---|---|
/// | [`api_key`](Self::api_key) | `DAYTONA_API_KEY` | — |
/// | [`jwt_token`](Self::jwt_token) | `DAYTONA_JWT_TOKEN` | — |
/// | [`organization_id`](Self::organization_id) | `DAYTONA_ORGANIZATION_ID` | — (required with a JWT) |
/// | [`api_url`](Self::api_url) | `DAYTONA_API_URL` (`DAYTONA_SERVER_URL`, deprecated) | `https://app.daytona.io/api` |
/// | [`target`](Self::target) | `DAYTONA_TARGET` | the organization's default region |
/// | [`otel_enabled`](Self::otel_enabled) | `DAYTONA_OTEL_ENABLED`, `DAYTONA_EXPERIMENTAL_OTEL_ENABLED` (`true` turns it on) | off (feature `otel`) |
///
/// `Debug` never prints the API key or the JWT, nor the user information
/// or query of the API URL.
///
/// ```
/// use std::time::Duration;
/// use daytona::DaytonaConfig;
///
/// let config = DaytonaConfig::new()
///     .api_key("dtn_...")
///     .target("eu")
///     .request_timeout(Duration::from_secs(30))
///     .max_attempts(5);
/// assert!(!format!("{config:?}").contains("dtn_"));
/// ```
#[derive(Clone)]
pub struct DaytonaConfig {
    pub(crate) api_key: Option<Secret>,
    pub(crate) jwt_token: Option<Secret>,
    pub(crate) organization_id: Option<String>,
    pub(crate) api_url: Option<String>,
    pub(crate) server_url: Option<String>,
    pub(crate) target: Option<String>,
    pub(crate) read_env: bool,
    pub(crate) read_env_files: bool,
    pub(crate) otel_enabled: Option<bool>,
    pub(crate) use_env_proxy: bool,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) wait_timeout: Duration,
    pub(crate) transfer_timeout: Duration,
    pub(crate) command_timeout_margin: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) poll: PollSchedule,
    pub(crate) tls: TlsSettings,
    pub(crate) events: bool,
    pub(crate) events_idle_close: Duration,
}

impl Default for DaytonaConfig {
    fn default() -> Self {
        DaytonaConfig {
            api_key: None,
            jwt_token: None,
            organization_id: None,
            api_url: None,
            server_url: None,
            target: None,
            read_env: true,
            read_env_files: true,
            otel_enabled: None,
            use_env_proxy: true,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            wait_timeout: Duration::from_secs(60),
            transfer_timeout: Duration::from_secs(30 * 60),
            command_timeout_margin: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            poll: PollSchedule::default(),
            tls: TlsSettings::default(),
            events: true,
            events_idle_close: crate::events::IDLE_CLOSE,
        }
    }
}

impl fmt::Debug for DaytonaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Every field, so that a new one is not left out.
        let DaytonaConfig {
            api_key,
            jwt_token,
            organization_id,
            api_url,
            server_url,
            target,
            read_env,
            read_env_files,
            otel_enabled,
            use_env_proxy,
            connect_timeout,
            request_timeout,
            wait_timeout,
            transfer_timeout,
            command_timeout_margin,
            retry,
            poll,
            tls,
            events,
            events_idle_close,
        } = self;
        // A URL may carry a password or a token: shown as errors show it.
        let url = |u: &Option<String>| u.as_deref().map(shown_url);
        f.debug_struct("DaytonaConfig")
            .field("api_key", api_key)
            .field("jwt_token", jwt_token)
            .field("organization_id", organization_id)
            .field("api_url", &url(api_url))
            .field("server_url", &url(server_url))
            .field("target", target)
            .field("read_env", read_env)
            .field("read_env_files", read_env_files)
            .field("otel_enabled", otel_enabled)
            .field("use_env_proxy", use_env_proxy)
            .field("connect_timeout", connect_timeout)
            .field("request_timeout", request_timeout)
            .field("wait_timeout", wait_timeout)
            .field("transfer_timeout", transfer_timeout)
            .field("command_timeout_margin", command_timeout_margin)
            .field("retry", retry)
            .field("poll", poll)
            .field("tls", tls)
            .field("events", events)
            .field("events_idle_close", events_idle_close)
            .finish()
    }
}

impl DaytonaConfig {
    /// An empty configuration: everything from the environment or defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The API key (`DAYTONA_API_KEY`).
    #[must_use]
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(Secret::new(key));
        self
    }

    /// A JWT (`DAYTONA_JWT_TOKEN`); needs [`organization_id`](Self::organization_id).
    #[must_use]
    pub fn jwt_token(mut self, token: impl Into<String>) -> Self {
        self.jwt_token = Some(Secret::new(token));
        self
    }

    /// The organization (`DAYTONA_ORGANIZATION_ID`), sent as
    /// `X-Daytona-Organization-ID` in JWT mode.
    #[must_use]
    pub fn organization_id(mut self, id: impl Into<String>) -> Self {
        self.organization_id = Some(id.into());
        self
    }

    /// The API base URL (`DAYTONA_API_URL`), default `https://app.daytona.io/api`:
    /// a string or a [`url::Url`], checked by [`crate::Daytona::new`] (an
    /// http or https URL with no query, fragment or credentials; on a
    /// Daytona host, with the API's path `/api`).
    #[must_use]
    pub fn api_url(mut self, url: impl AsRef<str>) -> Self {
        self.api_url = Some(url.as_ref().to_string());
        self
    }

    /// The API base URL under its former name: deprecated, use
    /// [`api_url`](Self::api_url) (which wins when both are set). It still
    /// works and logs a warning when the client is built.
    #[deprecated(since = "0.1.0", note = "use `api_url`")]
    #[must_use]
    pub fn server_url(mut self, url: impl AsRef<str>) -> Self {
        self.server_url = Some(url.as_ref().to_string());
        self
    }

    /// The region new sandboxes go to (`DAYTONA_TARGET`).
    #[must_use]
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    /// Whether unset fields are read from `DAYTONA_*` environment variables
    /// (default `true`). Turn it off for a configuration that depends on
    /// nothing but the code, as in tests.
    #[must_use]
    pub fn read_env(mut self, read: bool) -> Self {
        self.read_env = read;
        self
    }

    /// Whether the `DAYTONA_*` settings of the files `.env.local` and
    /// `.env` in the current directory fill what neither the configuration
    /// nor the process environment sets (default `true`; nothing is read
    /// when [`read_env`](Self::read_env) is off). `.env.local` wins over
    /// `.env`; other names in the files are ignored and nothing is exported
    /// into the process environment. A `DAYTONA_*` line that cannot be
    /// parsed makes [`crate::Daytona::new`] fail with [`Error::Config`]
    /// naming the file and the line; one of another name is skipped. A
    /// file that is a named pipe (as some secret managers serve `.env`) is
    /// waited for at most 60 s, then is an [`Error::Config`] too.
    #[must_use]
    pub fn read_env_files(mut self, read: bool) -> Self {
        self.read_env_files = read;
        self
    }

    /// Whether every operation is traced with OpenTelemetry
    /// (`DAYTONA_OTEL_ENABLED=true` or `DAYTONA_EXPERIMENTAL_OTEL_ENABLED=true`;
    /// default off): a span per public operation, HTTP attempt and poll
    /// through the global tracer provider, and the `traceparent` and
    /// `tracestate` headers of the current context on every request and
    /// WebSocket upgrade to Daytona's API and toolbox (none to the object
    /// store build contexts go to), through the global propagator.
    ///
    /// Needs the crate's feature `otel`; without it this setting (like the
    /// variables) is accepted and does nothing, so that code configuring
    /// it builds with and without the feature.
    #[must_use]
    pub fn otel_enabled(mut self, enabled: bool) -> Self {
        self.otel_enabled = Some(enabled);
        self
    }

    /// Whether `HTTPS_PROXY` (for `https` hosts), `HTTP_PROXY` (for `http`
    /// hosts), `ALL_PROXY` (for either, when its own is not set) and
    /// `NO_PROXY` are honoured (default `true`; never for a loopback API
    /// URL).
    #[must_use]
    pub fn use_env_proxy(mut self, use_proxy: bool) -> Self {
        self.use_env_proxy = use_proxy;
        self
    }

    /// Time allowed to open a connection: TCP, proxy and TLS (default
    /// 10 s). A WebSocket connection's name lookup counts too; an HTTP
    /// request's lookup has the system resolver's own limits (see the
    /// README's section "Reliability", after its table "Limits and their
    /// defaults").
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time allowed for each stage of one HTTP exchange (default 60 s):
    /// sending the request, sending its body, waiting for the answer's
    /// head, reading the answer's body. Each read and write waits at most
    /// this long for the other side; a stage that keeps moving a few bytes
    /// at a time ends after a quarter more (75 s by default). Command
    /// execution and file transfers use their own limits.
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Default limit of operations that wait for a state: `create`, `start`,
    /// `stop`, ... (default 60 s). [`crate::WAIT_FOREVER`] waits without limit.
    #[must_use]
    pub fn wait_timeout(mut self, timeout: Duration) -> Self {
        self.wait_timeout = timeout;
        self
    }

    /// Time allowed for one file upload or download, body included
    /// (default 30 minutes).
    #[must_use]
    pub fn transfer_timeout(mut self, timeout: Duration) -> Self {
        self.transfer_timeout = timeout;
        self
    }

    /// What the HTTP request of a command with its own time limit (`exec`,
    /// `code_run`, a session command) gets on top of that limit, so that
    /// the server can report the timeout itself (default 5 s). Such a
    /// request has no other limit: a 10-minute command with a 10-minute
    /// timeout works, and a hung one still ends.
    #[must_use]
    pub fn command_timeout_margin(mut self, margin: Duration) -> Self {
        self.command_timeout_margin = margin;
        self
    }

    /// Attempts per request, the first included (default 4; 1 disables retries).
    #[must_use]
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.retry.max_attempts = attempts;
        self
    }

    /// The whole retry policy.
    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// How waits poll the sandbox state. Its `min_interval` and
    /// `max_interval` must be more than zero: [`Daytona::new`](crate::Daytona::new)
    /// refuses a schedule that would check without a pause.
    #[must_use]
    pub fn poll_schedule(mut self, schedule: PollSchedule) -> Self {
        self.poll = schedule;
        self
    }

    /// Whether waits also listen to the API's real-time state changes
    /// (default `true`; feature `websocket`): a wait then ends as soon as
    /// the change is announced, and polls only every few seconds as a
    /// safety net. The connection (Socket.IO over a WebSocket to the API's
    /// `/socket.io/` path, the credential in its auth payload only) opens
    /// when the first create or wait starts, is shared by every thread,
    /// and closes 30 s after the last wait. When it cannot be made, is
    /// refused or breaks, waits poll on the [`poll_schedule`](Self::poll_schedule)
    /// as they do with `false`.
    ///
    /// ```
    /// use daytona::DaytonaConfig;
    ///
    /// // Poll only.
    /// let config = DaytonaConfig::new().events(false);
    /// # let _ = config;
    /// ```
    #[must_use]
    pub fn events(mut self, on: bool) -> Self {
        self.events = on;
        self
    }

    /// How long the event connection stays open after the last wait
    /// (30 s): for tests.
    #[doc(hidden)]
    #[must_use]
    pub fn events_idle_close(mut self, after: Duration) -> Self {
        self.events_idle_close = after;
        self
    }

    /// Also trusts the CA certificates in `pem` (one or more
    /// `-----BEGIN CERTIFICATE-----` blocks), on top of the bundled web PKI
    /// roots: for a self-hosted Daytona behind a private CA. REST calls and
    /// WebSocket connections alike. May be called several times.
    ///
    /// [`crate::Daytona::new`] fails with [`Error::Config`] when a PEM text
    /// holds no certificate or one that is not usable.
    ///
    /// ```no_run
    /// use daytona::{Daytona, DaytonaConfig};
    ///
    /// let ca = std::fs::read("/etc/company/ca.pem")?;
    /// let daytona = Daytona::new(DaytonaConfig::new().add_root_certificates_pem(ca))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn add_root_certificates_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.tls.extra_roots_pem.push(pem.as_ref().to_vec());
        self
    }

    /// Verifies servers with the operating system's verifier and trust
    /// store (`rustls-platform-verifier`) instead of the bundled roots
    /// (default `false`; feature `platform-verifier`). Cannot be combined
    /// with [`add_root_certificates_pem`](Self::add_root_certificates_pem).
    #[cfg(feature = "platform-verifier")]
    #[must_use]
    pub fn platform_verifier(mut self, on: bool) -> Self {
        self.tls.platform_verifier = on;
        self
    }

    /// [`resolve`](Self::resolve)s against the process environment, then
    /// the `.env.local` and `.env` files of the current directory.
    pub(crate) fn resolve_from_environment(self) -> Result<ResolvedConfig> {
        let files = match std::env::current_dir() {
            Ok(dir) if self.read_env && self.read_env_files => env_file::read_env_files(&dir)?,
            _ => Default::default(),
        };
        // A value that is not UTF-8 is an error, not an unset variable (an
        // API URL taken as unset sends the key to the default URL).
        let not_utf8 = std::cell::Cell::new(None);
        let resolved = self.resolve(&|name| {
            let value = match std::env::var(name) {
                Ok(value) => Some(value),
                Err(std::env::VarError::NotUnicode(_)) => {
                    let first = not_utf8.take().unwrap_or_else(|| name.to_string());
                    not_utf8.set(Some(first));
                    None
                }
                Err(std::env::VarError::NotPresent) => None,
            };
            value
                .filter(|v| !v.trim().is_empty())
                .or_else(|| files.get(name).cloned())
        });
        match not_utf8.into_inner() {
            Some(name) => Err(Error::Config(format!(
                "the environment variable {name} is not valid UTF-8"
            ))),
            None => resolved,
        }
    }

    /// Fills unset fields from `lookup` (an environment), then checks the
    /// result. Explicit settings win.
    pub(crate) fn resolve(
        mut self,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ResolvedConfig> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        // A blank setting (say, from `env::var(..).unwrap_or_default()`) is
        // no setting: it must neither send `Bearer ` nor hide the
        // environment.
        let blank = |s: &str| s.trim().is_empty();
        self.api_key = self.api_key.take().filter(|k| !blank(k.expose()));
        self.jwt_token = self.jwt_token.take().filter(|t| !blank(t.expose()));
        self.organization_id = self.organization_id.take().filter(|o| !blank(o));
        self.api_url = self.api_url.take().filter(|u| !blank(u));
        self.target = self.target.take().filter(|t| !blank(t));
        // Where the API URL came from, for error messages.
        let mut url_source = "api_url";
        // Deprecated settings in use: logged here, recorded on the current
        // span when the client is built with tracing on.
        let mut deprecated = Vec::new();
        let mut warn = |message: &'static str| {
            log::warn!("{message}");
            deprecated.push(message);
        };
        if let Some(url) = self.server_url.take().filter(|u| !blank(u)) {
            if self.api_url.is_none() {
                warn("DaytonaConfig::server_url is deprecated; use DaytonaConfig::api_url");
                self.api_url = Some(url);
                url_source = "server_url";
            } else {
                warn("DaytonaConfig::server_url is deprecated and ignored since api_url is set");
            }
        }
        if self.read_env {
            // A configured JWT means JWT mode: do not let an API key from the
            // environment take over.
            if self.api_key.is_none() && self.jwt_token.is_none() {
                self.api_key = get("DAYTONA_API_KEY").map(Secret::new);
            }
            if self.jwt_token.is_none() {
                self.jwt_token = get("DAYTONA_JWT_TOKEN").map(Secret::new);
            }
            if self.organization_id.is_none() {
                self.organization_id = get("DAYTONA_ORGANIZATION_ID");
            }
            if self.api_url.is_none() {
                if let Some(url) = get("DAYTONA_API_URL") {
                    self.api_url = Some(url);
                    url_source = "api_url (from DAYTONA_API_URL)";
                } else if let Some(url) = get("DAYTONA_SERVER_URL") {
                    warn(
                        "DAYTONA_SERVER_URL is deprecated and will be removed; set DAYTONA_API_URL instead",
                    );
                    self.api_url = Some(url);
                    url_source = "api_url (from DAYTONA_SERVER_URL)";
                }
            }
            if self.target.is_none() {
                self.target = get("DAYTONA_TARGET");
            }
            if self.otel_enabled.is_none() {
                let on = |name| get(name).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
                self.otel_enabled =
                    Some(on("DAYTONA_OTEL_ENABLED") || on("DAYTONA_EXPERIMENTAL_OTEL_ENABLED"));
            }
        }
        // Ids and region names hold no white space: what surrounds one (a
        // `.env` line `DAYTONA_TARGET= us `) is no part of it.
        self.organization_id = self.organization_id.take().map(|o| o.trim().to_string());
        self.target = self.target.take().map(|t| t.trim().to_string());
        let auth = match (self.api_key.take(), self.jwt_token.take()) {
            (Some(key), _) => Auth::ApiKey(key),
            (None, Some(jwt)) => {
                let org = self.organization_id.clone().ok_or_else(|| {
                    Error::Config(
                        "an organization id is required with a JWT: set DAYTONA_ORGANIZATION_ID \
                         or DaytonaConfig::organization_id"
                            .into(),
                    )
                })?;
                Auth::Jwt { token: jwt, org }
            }
            (None, None) => return Err(Error::Config(NO_CREDENTIALS.into())),
        };
        // Sent as a header value: visible ASCII only (this also keeps a
        // line break, say from a key read from a file, out of the request).
        if !auth.secret().expose().bytes().all(|b| b.is_ascii_graphic()) {
            let what = match auth {
                Auth::ApiKey(_) => "the API key",
                Auth::Jwt { .. } => "the JWT",
            };
            return Err(Error::Config(format!(
                "{what} holds a space, a line break or another character that cannot be sent \
                 in a header"
            )));
        }
        let raw_url = self
            .api_url
            .take()
            .unwrap_or_else(|| DEFAULT_API_URL.to_string());
        let api_url = api_base_url(&raw_url, url_source)?;
        if self.retry.max_attempts == 0 {
            return Err(Error::Config("max_attempts must be at least 1".into()));
        }
        // Without a pause between checks, a wait would send requests as
        // fast as the API answers them until its deadline.
        if self.poll.min_interval.is_zero() || self.poll.max_interval.is_zero() {
            return Err(Error::Config(
                "poll_schedule: min_interval and max_interval must be more than zero".into(),
            ));
        }
        for (name, limit) in [
            ("connect_timeout", self.connect_timeout),
            ("request_timeout", self.request_timeout),
            ("wait_timeout", self.wait_timeout),
            ("transfer_timeout", self.transfer_timeout),
        ] {
            if limit.is_zero() {
                return Err(Error::Config(format!(
                    "{name} must be more than zero (WAIT_FOREVER for no limit)"
                )));
            }
        }
        Ok(ResolvedConfig {
            auth,
            api_url,
            target: self.target.take(),
            otel: self.otel_enabled.unwrap_or(false),
            deprecated,
            settings: self,
        })
    }
}

/// Parses a base URL: absolute http(s) with a host and no credentials.
/// Query and fragment are dropped, and the path is kept without a trailing
/// slash so that segments can be appended. `Err` says what is wrong, to
/// follow the URL in a sentence.
pub(crate) fn base_url(raw: &str) -> std::result::Result<Url, String> {
    let mut url = Url::parse(raw.trim()).map_err(|e| format!("is not a valid URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http or https URL".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("holds credentials, which are not supported".into());
    }
    url.set_query(None);
    url.set_fragment(None);
    let path = url.path().trim_end_matches('/').to_string();
    url.set_path(&path);
    Ok(url)
}

/// The API URL of the setting `field`, checked more strictly than a URL
/// from the server: a query or a fragment, which would be dropped, is
/// refused, and so is a Daytona host without the path its API is served
/// under (`/api`). Failures are configuration errors naming `field`.
fn api_base_url(raw: &str, field: &str) -> Result<Url> {
    let shown = shown_url(raw);
    let refuse = |why: String| Error::Config(format!("{field} {shown:?} {why}"));
    let given = Url::parse(raw.trim()).map_err(|e| refuse(format!("is not a valid URL: {e}")))?;
    if given.query().is_some() || given.fragment().is_some() {
        return Err(refuse(
            "has a query or a fragment, which the API URL cannot carry: \
             give the base URL alone (such as https://app.daytona.io/api)"
                .into(),
        ));
    }
    let url = base_url(raw).map_err(refuse)?;
    // A fully qualified name (`app.daytona.io.`) is the same host.
    let daytona_host = url
        .host_str()
        .map(|h| h.strip_suffix('.').unwrap_or(h))
        .is_some_and(|h| h == "daytona.io" || h.ends_with(".daytona.io"));
    if daytona_host && url.path() == "/" {
        let mut expected = url.clone();
        expected.set_path("/api");
        return Err(refuse(format!(
            "has no path: Daytona's API is served under /api (expected {expected})"
        )));
    }
    Ok(url)
}

/// `raw` as an error may quote it: without what may be secret, the user
/// information (`user:password@`) and the query and fragment (`?token=`),
/// whether or not it parses.
pub(crate) fn shown_url(raw: &str) -> String {
    let raw = raw.trim();
    let (head, tail) = match raw.find(['?', '#']) {
        Some(i) => (&raw[..i], "?<redacted>"),
        None => (raw, ""),
    };
    // A URL without its scheme is read as one whose authority comes first.
    let shown = match head.contains("://") {
        true => url_credentials_hidden(head),
        false => url_credentials_hidden(&format!("://{head}"))[3..].to_string(),
    };
    format!("{shown}{tail}")
}

/// The TLS settings of a [`crate::DaytonaConfig`].
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct TlsSettings {
    /// PEM texts of CA certificates trusted on top of the bundled roots.
    pub(crate) extra_roots_pem: Vec<Vec<u8>>,
    /// Verify with the operating system's verifier and trust store.
    pub(crate) platform_verifier: bool,
}

impl fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsSettings")
            .field("extra_roots_pem", &self.extra_roots_pem.len())
            .field("platform_verifier", &self.platform_verifier)
            .finish()
    }
}

/// How requests are authenticated.
#[derive(Clone, Debug)]
pub(crate) enum Auth {
    ApiKey(Secret),
    Jwt { token: Secret, org: String },
}

impl Auth {
    /// The `Authorization` header value.
    pub(crate) fn bearer(&self) -> String {
        format!("Bearer {}", self.secret().expose())
    }

    /// The API key or the JWT.
    pub(crate) fn secret(&self) -> &Secret {
        match self {
            Auth::ApiKey(k) => k,
            Auth::Jwt { token, .. } => token,
        }
    }

    pub(crate) fn organization_id(&self) -> Option<&str> {
        match self {
            Auth::ApiKey(_) => None,
            Auth::Jwt { org, .. } => Some(org),
        }
    }

    /// `error` with the credential hidden wherever the server's answer put
    /// it (message, code, body excerpt, ...).
    pub(crate) fn redact_error(&self, error: Error) -> Error {
        let secret = self.secret();
        error.scrub(&|text| redact(text, [secret]))
    }
}

/// A checked configuration.
#[derive(Clone, Debug)]
pub(crate) struct ResolvedConfig {
    pub(crate) auth: Auth,
    pub(crate) api_url: Url,
    pub(crate) target: Option<String>,
    /// Whether operations are traced ([`DaytonaConfig::otel_enabled`]).
    pub(crate) otel: bool,
    /// The deprecated settings in use, each with its warning.
    pub(crate) deprecated: Vec<&'static str>,
    pub(crate) settings: DaytonaConfig,
}

#[cfg(test)]
mod tests;
