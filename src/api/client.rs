//! The client: configuration, transport and the top-level sandbox operations.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ureq::http::Method;
use url::Url;

use crate::api::build;
use crate::api::sandbox::Sandbox;
use crate::api::wait::Goal;
use crate::check::{non_empty, path_segment};
use crate::config::env_secrets;
use crate::config::DaytonaConfig;
use crate::config::PollSchedule;
use crate::config::Secret;
use crate::error::{Error, Result};
use crate::events::{Events, Ticket};
use crate::models::{SandboxInfo, SandboxListAnswer, SandboxPageMeta, SshAccessValidation};
use crate::params::list::ListSandboxes;
use crate::params::sandbox::CreateSandbox;
use crate::telemetry::{self, traced};
use crate::transport::page::{Page, Pages};
use crate::transport::poll::{Deadline, Held};
use crate::transport::{Answer, Request, Transport};

/// One page of a sandbox listing ([`Daytona::list_page`]).
#[derive(Debug)]
#[non_exhaustive]
pub struct SandboxPage {
    /// The sandboxes of this page.
    pub items: Vec<Sandbox>,
    /// The token of the next page ([`ListSandboxes::cursor`]); `None` on
    /// the last page.
    pub next_cursor: Option<String>,
}

/// The Daytona client.
///
/// Cheap to clone (`Arc` inside) and `Send + Sync`: every clone, every
/// [`Sandbox`] handle and every thread shares one connection pool.
///
/// ```no_run
/// use daytona::{CreateSandbox, Daytona};
///
/// let daytona = Daytona::from_env()?;
/// let mut sandbox = daytona.create(CreateSandbox::new())?;
/// println!("{} is {:?}", sandbox.id(), sandbox.state());
/// sandbox.delete()?;
/// # Ok::<(), daytona::Error>(())
/// ```
#[derive(Clone)]
pub struct Daytona {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) transport: Arc<Transport>,
    pub(crate) events: Events,
    pub(crate) api_url: Url,
    pub(crate) target: Option<String>,
    pub(crate) wait_timeout: Duration,
    pub(crate) transfer_timeout: Duration,
    pub(crate) poll: PollSchedule,
}

impl fmt::Debug for Daytona {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Daytona")
            .field("api_url", &self.inner.api_url.as_str())
            .field("target", &self.inner.target)
            .field("transport", &self.inner.transport)
            .finish()
    }
}

impl Daytona {
    /// A client for `config`; unset fields are read from the `DAYTONA_*`
    /// environment variables, then from the `.env.local` and `.env` files
    /// of the current directory (see [`DaytonaConfig`]).
    ///
    /// Fails with [`Error::Config`] before any request when there are no
    /// credentials, a JWT comes without an organization id, the API URL
    /// does not parse, has a query or a fragment, or is a Daytona host
    /// without the API's path (`/api`), a time limit is zero, or a `.env`
    /// file cannot be parsed.
    pub fn new(config: DaytonaConfig) -> Result<Self> {
        let resolved = config.resolve_from_environment()?;
        let transport = Arc::new(Transport::new(&resolved)?);
        for message in &resolved.deprecated {
            telemetry::deprecated(&transport.tracing(), message);
        }
        #[cfg(feature = "websocket")]
        let events = if resolved.settings.events {
            Events::new(
                Arc::clone(&transport),
                &resolved.api_url,
                resolved.auth.secret().clone(),
                resolved.auth.organization_id(),
                resolved.settings.events_idle_close,
            )
        } else {
            Events::off()
        };
        #[cfg(not(feature = "websocket"))]
        let events = Events::off();
        Ok(Daytona {
            inner: Arc::new(Inner {
                transport,
                events,
                api_url: resolved.api_url,
                target: resolved.target,
                wait_timeout: resolved.settings.wait_timeout,
                transfer_timeout: resolved.settings.transfer_timeout,
                poll: resolved.settings.poll,
            }),
        })
    }

    /// A client configured by the environment only: the process
    /// environment, then `.env.local`, then `.env`.
    pub fn from_env() -> Result<Self> {
        Self::new(DaytonaConfig::new())
    }

    /// The API base URL in use.
    pub fn api_url(&self) -> &Url {
        &self.inner.api_url
    }

    /// The region new sandboxes go to, when one is configured.
    pub fn target(&self) -> Option<&str> {
        self.inner.target.as_deref()
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// Starts listening for the changes a wait is about to ask for.
    pub(crate) fn listen(&self) -> Ticket {
        self.inner.events.begin()
    }

    pub(crate) fn api(&self, method: Method, segments: &[&str]) -> Request<'static> {
        Request::new(method, &self.inner.api_url, segments)
    }

    /// Creates a sandbox and waits until it is `started`.
    ///
    /// One deadline (the params' [`timeout`](CreateSandbox::timeout), by
    /// default the client's wait timeout of 60 s) covers the request and the
    /// wait. A sandbox that reaches `error` or `build_failed` fails at once
    /// with its reason. The request itself is never sent twice once the
    /// server may have acted on it. When the create fails after the server
    /// accepted it, the error is [`Error::AfterCreate`] and carries the new
    /// sandbox's id so that the caller can delete it.
    pub fn create(&self, params: CreateSandbox) -> Result<Sandbox> {
        traced(self.transport().tracing(), "Daytona.create", || {
            self.create_inner(params, None)
        })
    }

    /// Like [`create`](Self::create), and while the sandbox's image builds
    /// (a create [`from_image`](CreateSandbox::from_image)), passes each line
    /// of the build log to `on_log` as it arrives. The build and its logs
    /// count against the same deadline.
    pub fn create_with_logs(
        &self,
        params: CreateSandbox,
        mut on_log: impl FnMut(&str),
    ) -> Result<Sandbox> {
        traced(self.transport().tracing(), "Daytona.create", || {
            self.create_inner(params, Some(&mut on_log))
        })
    }

    fn create_inner(
        &self,
        params: CreateSandbox,
        on_log: Option<&mut dyn FnMut(&str)>,
    ) -> Result<Sandbox> {
        let timeout = params.limit().unwrap_or(self.inner.wait_timeout);
        let (mut body, image) = params.into_body(self.target())?;
        let deadline = Deadline::after(timeout);
        if let (Some(image), Some(build)) = (image, body.build_info.as_mut()) {
            build.context_hashes = build::upload_contexts(self, &image, deadline)?;
        }
        // Listening before the request: the first events are not missed.
        let ticket = self.listen();
        // An answer may echo the request: the environment's values stay
        // out of errors.
        let info: SandboxInfo = self.transport().json(
            self.api(Method::POST, &["sandbox"])
                .json(&body)
                .hide(env_secrets(&body.env))
                .deadline(deadline),
        )?;
        telemetry::annotate(&self.transport().tracing(), "daytona.sandbox.id", &info.id);
        self.started_within(info, deadline, on_log, ticket)
    }

    /// Wraps a freshly created sandbox and waits for it to start (following
    /// its build logs first when asked); failures carry its id.
    pub(crate) fn started_within(
        &self,
        info: SandboxInfo,
        deadline: Deadline,
        on_log: Option<&mut dyn FnMut(&str)>,
        ticket: Ticket,
    ) -> Result<Sandbox> {
        let mut sandbox = Sandbox::new(self.clone(), info);
        let logs = match on_log {
            Some(on_log) => sandbox.follow_build_logs(deadline, on_log),
            None => Ok(()),
        };
        match logs.and_then(|()| sandbox.wait_for(deadline, &Goal::STARTED, ticket, Held::Current))
        {
            Ok(()) => Ok(sandbox),
            Err(e) => Err(Error::AfterCreate {
                sandbox_id: sandbox.id().to_string(),
                source: Box::new(e),
            }),
        }
    }

    /// The sandbox with this id or name.
    pub fn get(&self, id_or_name: &str) -> Result<Sandbox> {
        traced(self.transport().tracing(), "Daytona.get", || {
            path_segment("id_or_name", id_or_name)?;
            let info = self
                .transport()
                .json(self.api(Method::GET, &["sandbox", id_or_name]))?;
            Ok(Sandbox::new(self.clone(), info))
        })
    }

    /// Like [`get`](Self::get), but a sandbox that does not exist is `None`.
    pub fn get_opt(&self, id_or_name: &str) -> Result<Option<Sandbox>> {
        match self.get(id_or_name) {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every sandbox matching `query`, fetched a page at a time as the
    /// iterator is consumed.
    ///
    /// Invalid filters (a `limit` outside 1–200, ...) make the first item a
    /// validation error, before any request.
    ///
    /// ```no_run
    /// use daytona::{Daytona, ListSandboxes};
    ///
    /// let daytona = Daytona::from_env()?;
    /// for sandbox in daytona.list(ListSandboxes::new().label("env", "dev").limit(200)) {
    ///     let sandbox = sandbox?;
    ///     println!("{} {:?}", sandbox.id(), sandbox.state());
    /// }
    /// # Ok::<(), daytona::Error>(())
    /// ```
    pub fn list(&self, query: ListSandboxes) -> Pages<Sandbox> {
        let pairs = match query.to_query() {
            Ok(p) => p,
            Err(e) => return Pages::failed(e),
        };
        let start = query.start_cursor().map(str::to_string);
        let client = self.clone();
        Pages::new(start, move |cursor| {
            traced(
                client.transport().tracing(),
                "Daytona.list.fetchPage",
                || {
                    let (items, next) = client.fetch_page(&pairs, cursor)?;
                    Ok(Page { items, next })
                },
            )
        })
    }

    /// One page of the sandboxes matching `query` (from its
    /// [`cursor`](ListSandboxes::cursor), else the first), with the token
    /// of the next page.
    ///
    /// ```no_run
    /// use daytona::{Daytona, ListSandboxes};
    ///
    /// let daytona = Daytona::from_env()?;
    /// let page = daytona.list_page(ListSandboxes::new().limit(50))?;
    /// println!("{} sandboxes", page.items.len());
    /// if let Some(next) = page.next_cursor {
    ///     // Later, maybe in another process: resume where it stopped.
    ///     let more = daytona.list_page(ListSandboxes::new().limit(50).cursor(next))?;
    ///     println!("{} more", more.items.len());
    /// }
    /// # Ok::<(), daytona::Error>(())
    /// ```
    pub fn list_page(&self, query: ListSandboxes) -> Result<SandboxPage> {
        traced(self.transport().tracing(), "Daytona.listPage", || {
            let pairs = query.to_query()?;
            let (items, next_cursor) = self.fetch_page(&pairs, query.start_cursor())?;
            Ok(SandboxPage {
                items: items.into_iter().collect::<Result<_>>()?,
                next_cursor,
            })
        })
    }

    /// A page of sandboxes (each an error of its own when it does not
    /// decode) and the token of the next page.
    fn fetch_page(
        &self,
        pairs: &[(&str, String)],
        cursor: Option<&str>,
    ) -> Result<(Vec<Result<Sandbox>>, Option<String>)> {
        let mut req = self.api(Method::GET, &["sandbox"]).answer(Answer::Page);
        for (name, value) in pairs {
            req = req.query(name, value);
        }
        let (items, meta) = self.transport().page_items(
            req.query_opt("cursor", cursor),
            |page: SandboxListAnswer| {
                let meta = SandboxPageMeta {
                    next_cursor: page.next_cursor,
                };
                (page.items, meta)
            },
        )?;
        let items = items
            .into_iter()
            .map(|item: Result<SandboxInfo>| item.map(|info| Sandbox::new(self.clone(), info)))
            .collect();
        Ok((items, meta.next_cursor.filter(|c| !c.is_empty())))
    }

    /// Starts `sandbox` and waits until it is `started`, within `timeout`:
    /// a shorthand for [`Sandbox::start_with_timeout`].
    pub fn start(&self, sandbox: &mut Sandbox, timeout: Duration) -> Result<()> {
        traced(self.transport().tracing(), "Daytona.start", || {
            sandbox.start_with_timeout(timeout)
        })
    }

    /// Stops `sandbox` and waits until it is stopped, within the client's
    /// wait timeout: a shorthand for [`Sandbox::stop`]
    /// ([`Sandbox::force_stop`] kills its processes instead).
    pub fn stop(&self, sandbox: &mut Sandbox) -> Result<()> {
        traced(self.transport().tracing(), "Daytona.stop", || {
            sandbox.stop()
        })
    }

    /// Deletes `sandbox` and waits until it is gone, within `timeout`: a
    /// shorthand for [`Sandbox::delete_with_timeout`].
    pub fn delete(&self, sandbox: &mut Sandbox, timeout: Duration) -> Result<()> {
        traced(self.transport().tracing(), "Daytona.delete", || {
            sandbox.delete_with_timeout(timeout)
        })
    }

    /// Forks `sandbox` (experimental) into a new sandbox, named `name` or by
    /// the server, and waits until the fork is started, within `timeout`: a
    /// shorthand for [`Sandbox::experimental_fork_with_timeout`].
    pub fn experimental_fork(
        &self,
        sandbox: &Sandbox,
        name: Option<&str>,
        timeout: Duration,
    ) -> Result<Sandbox> {
        traced(self.transport().tracing(), "Daytona.fork", || {
            sandbox.experimental_fork_with_timeout(name, timeout)
        })
    }

    /// Whether an SSH access token is valid, and for which sandbox.
    pub fn validate_ssh_access(&self, token: &str) -> Result<SshAccessValidation> {
        traced(
            self.transport().tracing(),
            "Daytona.validateSshAccess",
            || {
                non_empty("token", token)?;
                self.transport().json(
                    self.api(Method::GET, &["sandbox", "ssh-access", "validate"])
                        .query("token", token)
                        .hide(vec![Secret::new(token)]),
                )
            },
        )
    }
}
