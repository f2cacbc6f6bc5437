//! The sandbox handle: lifecycle, labels, intervals, previews and SSH.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use ureq::http::Method;

use crate::api::build;
use crate::api::client::Daytona;
use crate::api::wait::{limit, Goal, Progress, Seen};
use crate::check::{self, non_empty, path_segment};
use crate::config::{echo_forms, redact, Secret};
use crate::error::{Error, Result};
use crate::events::Ticket;
use crate::models::{
    PortPreviewUrl, SandboxInfo, SandboxLabels, SandboxState, SignedPortPreviewUrl, SshAccess,
    SshAccessValidation, UrlAnswer,
};
use crate::params::{NetworkSettings, Resize};
use crate::telemetry::{traced, Tracing};
use crate::transport::poll::{wait_until, Check, Deadline, Held, Look};
use crate::transport::Request;

/// A sandbox: its last known [`SandboxInfo`] and the client to act on it.
///
/// Methods that change the sandbox update the info from the server's answer;
/// [`refresh`](Self::refresh) fetches it again. Operations that wait use the
/// client's wait timeout (60 s by default); their `*_with_timeout` variants
/// take one, and [`crate::WAIT_FOREVER`] waits without limit (a zero limit
/// is an [`Error::Validation`] of `timeout`, before any request).
///
/// ```no_run
/// use daytona::{CreateSandbox, Daytona};
///
/// let daytona = Daytona::from_env()?;
/// let mut sandbox = daytona.create(CreateSandbox::new().label("job", "nightly"))?;
/// let out = sandbox.process().exec("uname -a")?;
/// println!("{} ({:?}): {}", sandbox.id(), sandbox.state(), out.result);
/// sandbox.stop()?;
/// sandbox.start()?;
/// sandbox.delete()?;
/// # Ok::<(), daytona::Error>(())
/// ```
#[derive(Clone)]
pub struct Sandbox {
    client: Daytona,
    info: SandboxInfo,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox").field("info", &self.info).finish()
    }
}

impl Sandbox {
    pub(crate) fn new(client: Daytona, info: SandboxInfo) -> Self {
        Sandbox { client, info }
    }

    /// Its id.
    pub fn id(&self) -> &str {
        &self.info.id
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// Its last known state.
    pub fn state(&self) -> Option<&SandboxState> {
        self.info.state.as_ref()
    }

    /// Everything last fetched about it.
    pub fn info(&self) -> &SandboxInfo {
        &self.info
    }

    /// The client it belongs to.
    pub fn client(&self) -> &Daytona {
        &self.client
    }

    fn api(&self, method: Method, rest: &[&str]) -> Request<'static> {
        let mut segments = vec!["sandbox", self.info.id.as_str()];
        segments.extend_from_slice(rest);
        self.client.api(method, &segments)
    }

    /// Tracing of its operations: with its id on their spans.
    pub(crate) fn tracing(&self) -> Tracing {
        self.client
            .transport()
            .tracing()
            .attr("daytona.sandbox.id", &self.info.id)
    }

    fn default_timeout(&self) -> Duration {
        self.client.inner.wait_timeout
    }

    /// Sends `req`; when the answer is a sandbox, it becomes the new info.
    fn update(&mut self, req: Request<'_>) -> Result<()> {
        let info = self.client.transport().read(req, |_, body| {
            Ok(serde_json::from_slice::<SandboxInfo>(&body).ok())
        })?;
        // An answer about another sandbox is not taken (as one that does
        // not decode): the handle keeps acting on its own.
        if let Some(info) = info.filter(|i| i.id == self.info.id) {
            self.info = info;
        }
        Ok(())
    }

    /// Fetches its info again.
    pub fn refresh(&mut self) -> Result<()> {
        traced(self.tracing(), "Sandbox.refreshData", || {
            let req = self.api(Method::GET, &[]);
            let op = req.operation().to_string();
            let info = self.client.transport().json(req)?;
            self.adopt(info, &op)
        })
    }

    /// Takes `info`, fetched by `operation`, as its info; an answer about
    /// another sandbox is an [`Error::Decode`], so that the handle never
    /// turns into another sandbox (whose deletion it would then ask for).
    fn adopt(&mut self, info: SandboxInfo, operation: &str) -> Result<()> {
        if info.id != self.info.id {
            return Err(Error::Decode {
                operation: operation.to_string(),
                message: format!("the answer is about another sandbox than {}", self.info.id),
                excerpt: String::new(),
            });
        }
        self.info = info;
        Ok(())
    }

    /// Waits until `goal` is reached, judging from the sandbox as it was
    /// when the change was asked for (its info now: the answer to the
    /// request, or the info before it). Hears the changes `ticket` listens
    /// to (taken before the request), polls as a safety net or when no
    /// change can be heard; a change heard becomes the new info.
    ///
    /// Info read before `ticket` was taken is [`Held::Stale`]: it may be
    /// out of date, so it does not end the wait, and the first check is
    /// made at once.
    pub(crate) fn wait_for(
        &mut self,
        deadline: Deadline,
        goal: &Goal,
        ticket: Ticket,
        held: Held,
    ) -> Result<()> {
        let operation = format!("waiting for sandbox {} {}", self.info.id, goal.what);
        let mut progress = Progress::new(goal, &self.info);
        let client = self.client.clone();
        let mut verdict = move |info: &SandboxInfo| -> Result<Check<()>> {
            match progress.check(info) {
                Seen::Done => Ok(Check::Done(())),
                Seen::Pending => Ok(Check::Pending),
                // The reason is the server's text: it may echo the
                // credential, or the values of the sandbox's environment.
                Seen::Failed(state) => {
                    let error = client.transport().redact(Error::SandboxFailed {
                        id: info.id.clone(),
                        state,
                        reason: info.error_reason.clone(),
                    });
                    let env: Vec<Secret> = info.env.values().flat_map(|v| echo_forms(v)).collect();
                    Err(error.scrub(&|text| redact(text, &env)))
                }
            }
        };
        let mut listen = ticket.listen(&self.info.id);
        if held == Held::Current {
            if let Check::Done(()) = verdict(&self.info)? {
                return Ok(());
            }
        }
        let schedule = self.client.inner.poll.clone();
        wait_until(
            &schedule,
            deadline,
            self.client.transport().max_retry_after(),
            &operation,
            held,
            listen.as_deref_mut(),
            |look| {
                match look {
                    Look::Heard(change) => match SandboxInfo::deserialize(change) {
                        Ok(info) if info.id == self.info.id => self.info = info,
                        _ => return Ok(Check::Pending),
                    },
                    Look::Poll(d) => match self
                        .client
                        .transport()
                        .json::<SandboxInfo>(self.api(Method::GET, &[]).deadline(*d))
                    {
                        Ok(info) => self.adopt(info, &operation)?,
                        Err(e) if goal.gone_is_done && e.is_not_found() => {
                            self.info.state = Some(SandboxState::Destroyed);
                        }
                        Err(e) => return Err(e),
                    },
                }
                verdict(&self.info)
            },
        )
    }

    /// Sends the request of a change, then waits for `goal`.
    fn change(&mut self, req: Request<'_>, deadline: Deadline, goal: &Goal) -> Result<()> {
        let ticket = self.client.listen();
        self.update(req.deadline(deadline))?;
        self.wait_for(deadline, goal, ticket, Held::Current)
    }

    /// While its image builds: waits out `pending_build`, then passes each
    /// line of the build log to `on_log` until the build is over.
    pub(crate) fn follow_build_logs(
        &mut self,
        deadline: Deadline,
        on_log: &mut dyn FnMut(&str),
    ) -> Result<()> {
        if self.info.state != Some(SandboxState::PendingBuild) {
            return Ok(());
        }
        // The state held is the create's answer, read before this wait
        // listens: a build that started since was announced to no one
        // listening here, so the first check is made at once.
        self.wait_for(
            deadline,
            &Goal::BUILD_STARTED,
            self.client.listen(),
            Held::Stale,
        )?;
        let url: UrlAnswer = self.client.transport().json(
            self.api(Method::GET, &["build-logs-url"])
                .deadline(deadline),
        )?;
        let toolbox = self.info.toolbox_proxy_url.clone();
        let request = build::log_request(
            &self.client,
            &url.url,
            &[toolbox.as_str()],
            &["sandbox", &self.info.id, "build-logs"],
        );
        let operation = format!("waiting for sandbox {} to build", self.info.id);
        let client = self.client.clone();
        let id = self.info.id.clone();
        build::follow(
            &self.client,
            request,
            deadline,
            &operation,
            on_log,
            &mut |d| {
                let info: SandboxInfo = client
                    .transport()
                    .json(client.api(Method::GET, &["sandbox", &id]).deadline(*d))?;
                Ok(matches!(
                    info.state,
                    Some(
                        SandboxState::Started
                            | SandboxState::Starting
                            | SandboxState::Error
                            | SandboxState::BuildFailed
                    )
                ))
            },
        )
    }

    /// Waits until it is `started`, as the server shows it (asked at
    /// once: the info held may be out of date); `error`, `build_failed` or
    /// `destroyed` fail at once.
    pub fn wait_until_started(&mut self, timeout: Duration) -> Result<()> {
        traced(self.tracing(), "Sandbox.waitUntilStarted", || {
            self.wait_now(limit(timeout)?, &Goal::STARTED)
        })
    }

    /// Waits until it is `stopped` (or `archived`, `destroyed`, or gone),
    /// as the server shows it (asked at once); `error` and `build_failed`
    /// fail at once.
    pub fn wait_until_stopped(&mut self, timeout: Duration) -> Result<()> {
        traced(self.tracing(), "Sandbox.waitUntilStopped", || {
            self.wait_now(limit(timeout)?, &Goal::STOPPED)
        })
    }

    /// Waits for `goal` without asking for a change: from the sandbox as
    /// the server shows it now, not as the info held (read earlier) does.
    fn wait_now(&mut self, deadline: Deadline, goal: &Goal) -> Result<()> {
        self.wait_for(deadline, goal, self.client.listen(), Held::Stale)
    }

    /// Starts it (or resumes it from `paused`) and waits until it is `started`.
    pub fn start(&mut self) -> Result<()> {
        self.start_with_timeout(self.default_timeout())
    }

    /// [`start`](Self::start) within `timeout`, request included.
    pub fn start_with_timeout(&mut self, timeout: Duration) -> Result<()> {
        traced(self.tracing(), "Sandbox.start", || {
            let req = self.api(Method::POST, &["start"]);
            self.change(req, limit(timeout)?, &Goal::RESTARTED)
        })
    }

    /// Stops it (its processes are asked to end) and waits until it is
    /// stopped.
    pub fn stop(&mut self) -> Result<()> {
        self.stop_with_timeout(self.default_timeout())
    }

    /// [`stop`](Self::stop) within `timeout`, request included.
    pub fn stop_with_timeout(&mut self, timeout: Duration) -> Result<()> {
        traced(self.tracing(), "Sandbox.stop", || {
            self.stop_within(false, timeout)
        })
    }

    /// Stops it, killing its processes (SIGKILL) instead of asking them to
    /// end, and waits until it is stopped.
    pub fn force_stop(&mut self) -> Result<()> {
        self.force_stop_with_timeout(self.default_timeout())
    }

    /// [`force_stop`](Self::force_stop) within `timeout`, request included.
    pub fn force_stop_with_timeout(&mut self, timeout: Duration) -> Result<()> {
        traced(self.tracing(), "Sandbox.forceStop", || {
            self.stop_within(true, timeout)
        })
    }

    fn stop_within(&mut self, force: bool, timeout: Duration) -> Result<()> {
        let mut req = self.api(Method::POST, &["stop"]);
        if force {
            req = req.query("force", "true");
        }
        self.change(req, limit(timeout)?, &Goal::STOPPING)
    }

    /// Recovers it from a recoverable `error` state and waits until it is started.
    pub fn recover(&mut self) -> Result<()> {
        self.recover_with_timeout(self.default_timeout())
    }

    /// [`recover`](Self::recover) within `timeout`.
    pub fn recover_with_timeout(&mut self, timeout: Duration) -> Result<()> {
        traced(self.tracing(), "Sandbox.recover", || {
            let req = self.api(Method::POST, &["recover"]);
            self.change(req, limit(timeout)?, &Goal::RESTARTED)
        })
    }

    /// Pauses it and waits until it is `paused`; `error`, `build_failed`
    /// or `destroyed` fail at once.
    pub fn pause(&mut self) -> Result<()> {
        self.pause_with_timeout(self.default_timeout())
    }

    /// [`pause`](Self::pause) within `timeout`.
    pub fn pause_with_timeout(&mut self, timeout: Duration) -> Result<()> {
        traced(self.tracing(), "Sandbox.pause", || {
            let req = self.api(Method::POST, &["pause"]);
            self.change(req, limit(timeout)?, &Goal::PAUSED)
        })
    }

    /// Resizes it and waits until the resize is over (the sandbox back in
    /// `started` or `stopped` after it was seen `resizing` or showing the
    /// new resources). A running sandbox can grow CPU and memory; disk can
    /// only grow, on a stopped sandbox.
    pub fn resize(&mut self, resize: Resize) -> Result<()> {
        self.resize_with_timeout(resize, self.default_timeout())
    }

    /// [`resize`](Self::resize) within `timeout`.
    pub fn resize_with_timeout(&mut self, resize: Resize, timeout: Duration) -> Result<()> {
        traced(self.tracing(), "Sandbox.resize", || {
            resize.validate()?;
            let req = self.api(Method::POST, &["resize"]).json(&resize);
            self.change(req, limit(timeout)?, &Goal::resized(resize))
        })
    }

    /// Takes a snapshot of it named `name` (experimental) and waits until
    /// it is over (the sandbox back in `started` or `stopped` after it was
    /// seen `snapshotting` or updated).
    pub fn experimental_create_snapshot(&mut self, name: &str) -> Result<()> {
        self.experimental_create_snapshot_with_timeout(name, self.default_timeout())
    }

    /// [`experimental_create_snapshot`](Self::experimental_create_snapshot) within `timeout`.
    pub fn experimental_create_snapshot_with_timeout(
        &mut self,
        name: &str,
        timeout: Duration,
    ) -> Result<()> {
        traced(self.tracing(), "Sandbox.createSnapshot", || {
            non_empty("name", name)?;
            let req = self
                .api(Method::POST, &["snapshot"])
                .json(&serde_json::json!({ "name": name }));
            self.change(req, limit(timeout)?, &Goal::SNAPSHOT)
        })
    }

    /// Forks it (experimental): a new sandbox with a copy of its filesystem,
    /// returned once started. A failure after the server accepted the fork
    /// is [`Error::AfterCreate`] with the new sandbox's id.
    pub fn experimental_fork(&self, name: Option<&str>) -> Result<Sandbox> {
        self.experimental_fork_with_timeout(name, self.default_timeout())
    }

    /// [`experimental_fork`](Self::experimental_fork) within `timeout`.
    pub fn experimental_fork_with_timeout(
        &self,
        name: Option<&str>,
        timeout: Duration,
    ) -> Result<Sandbox> {
        traced(self.tracing(), "Sandbox.fork", || {
            if let Some(n) = name {
                non_empty("name", n)?;
            }
            let deadline = limit(timeout)?;
            let ticket = self.client.listen();
            let body = match name {
                Some(n) => serde_json::json!({ "name": n }),
                None => serde_json::json!({}),
            };
            let req = self
                .api(Method::POST, &["fork"])
                .json(&body)
                .deadline(deadline);
            let op = req.operation().to_string();
            let info: SandboxInfo = self.client.transport().json(req)?;
            // The fork is a new sandbox: an answer naming this one would
            // hand back the parent as the fork (and its delete with it).
            if info.id == self.info.id {
                return Err(Error::Decode {
                    operation: op,
                    message: format!("the answer names {}, not a new sandbox", self.info.id),
                    excerpt: String::new(),
                });
            }
            self.client.started_within(info, deadline, None, ticket)
        })
    }

    /// Archives it (it must be stopped) and waits until it is `archived`:
    /// its filesystem moves to object storage until it is started again.
    pub fn archive(&mut self) -> Result<()> {
        self.archive_with_timeout(self.default_timeout())
    }

    /// [`archive`](Self::archive) within `timeout`, request included.
    pub fn archive_with_timeout(&mut self, timeout: Duration) -> Result<()> {
        traced(self.tracing(), "Sandbox.archive", || {
            let req = self.api(Method::POST, &["archive"]);
            self.change(req, limit(timeout)?, &Goal::ARCHIVED)
        })
    }

    /// Deletes it and waits until it is gone (`destroyed`, or no longer
    /// found), within the client's wait timeout (60 s by default); its
    /// [`state`](Self::state) is then `destroyed`. A sandbox that enters
    /// `error` while it is being deleted fails the wait at once.
    pub fn delete(&mut self) -> Result<()> {
        self.delete_with_timeout(self.default_timeout())
    }

    /// [`delete`](Self::delete) within `timeout`, request included.
    pub fn delete_with_timeout(&mut self, timeout: Duration) -> Result<()> {
        traced(self.tracing(), "Sandbox.delete", || {
            // A sandbox deleted from `error` may answer `error` until it goes.
            let req = self.api(Method::DELETE, &[]).gone_is_done();
            self.change(req, limit(timeout)?, &Goal::DELETED)
        })
    }

    /// Replaces all its labels; returns the labels the server now holds.
    pub fn set_labels(
        &mut self,
        labels: HashMap<String, String>,
    ) -> Result<HashMap<String, String>> {
        traced(self.tracing(), "Sandbox.setLabels", || {
            for key in labels.keys() {
                non_empty("labels", key)?;
            }
            let answer: SandboxLabels = self.client.transport().json(
                self.api(Method::PUT, &["labels"])
                    .json(&SandboxLabels { labels }),
            )?;
            self.info.labels = answer.labels.clone();
            Ok(answer.labels)
        })
    }

    /// Minutes of inactivity before it stops; 0 disables auto-stop.
    pub fn set_auto_stop_interval(&mut self, minutes: u32) -> Result<()> {
        traced(self.tracing(), "Sandbox.setAutostopInterval", || {
            self.set_interval("autostop", "auto_stop_interval", minutes.into())?;
            self.info.auto_stop_interval = Some(minutes);
            Ok(())
        })
    }

    /// Minutes stopped before it is archived; 0 means the maximum interval.
    pub fn set_auto_archive_interval(&mut self, minutes: u32) -> Result<()> {
        traced(self.tracing(), "Sandbox.setAutoArchiveInterval", || {
            self.set_interval("autoarchive", "auto_archive_interval", minutes.into())?;
            self.info.auto_archive_interval = Some(minutes);
            Ok(())
        })
    }

    /// Minutes stopped before it is deleted; negative disables auto-delete,
    /// 0 deletes it as soon as it stops.
    pub fn set_auto_delete_interval(&mut self, minutes: i32) -> Result<()> {
        traced(self.tracing(), "Sandbox.setAutoDeleteInterval", || {
            self.set_interval("autodelete", "auto_delete_interval", minutes.into())?;
            self.info.auto_delete_interval = Some(minutes);
            Ok(())
        })
    }

    fn set_interval(&mut self, kind: &str, field: &str, minutes: i64) -> Result<()> {
        crate::check::minutes(field, minutes)?;
        let minutes = minutes.to_string();
        self.update(self.api(Method::POST, &[kind, &minutes]))
    }

    /// Changes its network rules.
    pub fn update_network_settings(&mut self, settings: NetworkSettings) -> Result<()> {
        traced(self.tracing(), "Sandbox.updateNetworkSettings", || {
            settings.validate()?;
            self.update(
                self.api(Method::POST, &["network-settings"])
                    .json(&settings),
            )
        })
    }

    /// Marks it as active now, postponing auto-stop.
    pub fn refresh_activity(&self) -> Result<()> {
        traced(self.tracing(), "Sandbox.refreshActivity", || {
            self.client
                .transport()
                .empty(self.api(Method::POST, &["last-activity"]))
        })
    }

    /// The preview link of `port`, with the token private sandboxes need.
    pub fn preview_link(&self, port: u16) -> Result<PortPreviewUrl> {
        traced(self.tracing(), "Sandbox.getPreviewLink", || {
            let port = checked_port(port)?;
            self.client
                .transport()
                .json(self.api(Method::GET, &["ports", &port, "preview-url"]))
        })
    }

    /// A signed preview URL of `port` that works without a token header,
    /// valid for `expires_in` (sent in whole seconds, rounded up; `None`:
    /// the server's default, 60 s).
    pub fn signed_preview_url(
        &self,
        port: u16,
        expires_in: Option<Duration>,
    ) -> Result<SignedPortPreviewUrl> {
        traced(self.tracing(), "Sandbox.getSignedPreviewUrl", || {
            let port = checked_port(port)?;
            let seconds = expires_in
                .map(|d| check::whole_units("expires_in", d, Duration::from_secs(1)))
                .transpose()?;
            self.client.transport().json(
                self.api(Method::GET, &["ports", &port, "signed-preview-url"])
                    .query_opt("expiresInSeconds", seconds),
            )
        })
    }

    /// Makes a signed preview URL of `port` stop working now. The token,
    /// which this request carries in its path, is never logged.
    pub fn expire_signed_preview_url(&self, port: u16, token: &str) -> Result<()> {
        traced(self.tracing(), "Sandbox.expireSignedPreviewUrl", || {
            let port = checked_port(port)?;
            path_segment("token", token)?;
            self.client.transport().empty(
                self.api(
                    Method::POST,
                    &["ports", &port, "signed-preview-url", token, "expire"],
                )
                .hide(vec![Secret::new(token)]),
            )
        })
    }

    /// Creates SSH access valid for `expires_in` (sent in whole minutes,
    /// rounded up; `None`: the server's default, 60 minutes).
    pub fn create_ssh_access(&self, expires_in: Option<Duration>) -> Result<SshAccess> {
        traced(self.tracing(), "Sandbox.createSshAccess", || {
            let minutes = expires_in
                .map(|d| check::whole_units("expires_in", d, Duration::from_secs(60)))
                .transpose()?;
            self.client.transport().json(
                self.api(Method::POST, &["ssh-access"])
                    .query_opt("expiresInMinutes", minutes),
            )
        })
    }

    /// Revokes the SSH access with `token`, or every SSH access when `None`.
    pub fn revoke_ssh_access(&mut self, token: Option<&str>) -> Result<()> {
        traced(self.tracing(), "Sandbox.revokeSshAccess", || {
            if let Some(t) = token {
                non_empty("token", t)?;
            }
            self.update(
                self.api(Method::DELETE, &["ssh-access"])
                    .query_opt("token", token)
                    .hide(token.map(Secret::new).into_iter().collect()),
            )
        })
    }

    /// Whether an SSH access token is valid.
    pub fn validate_ssh_access(&self, token: &str) -> Result<SshAccessValidation> {
        self.client.validate_ssh_access(token)
    }
}

fn checked_port(port: u16) -> Result<String> {
    if port == 0 {
        return Err(Error::validation("port", "must be 1 to 65535"));
    }
    Ok(port.to_string())
}
