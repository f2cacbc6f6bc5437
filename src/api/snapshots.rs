//! Snapshots: the images sandboxes are created from.

use std::cell::RefCell;

use serde::Deserialize;
use ureq::http::Method;

use crate::api::build;
use crate::api::client::Daytona;
use crate::check::path_segment;
use crate::error::{Error, Result};
use crate::models::{Snapshot, SnapshotPage, SnapshotPageMeta, SnapshotState, UrlAnswer};
use crate::params::snapshot::{CreateSnapshot, ListSnapshots};
use crate::telemetry::traced;
use crate::transport::page::{Page, Pages};
use crate::transport::poll::{wait_until, Check, Deadline, Held, Listen, Look};
use crate::transport::{Answer, Request};

/// Snapshot operations: [`Daytona::snapshots`].
///
/// ```no_run
/// use daytona::{CreateSnapshot, Daytona, ListSnapshots};
///
/// let daytona = Daytona::from_env()?;
/// let snapshot = daytona.snapshots().create(
///     CreateSnapshot::from_image("my-python", "python:3.12-slim"),
/// )?;
/// println!("{} is {}", snapshot.name, snapshot.state);
/// for s in daytona.snapshots().list(ListSnapshots::new().name("my-")) {
///     println!("{}", s?.name);
/// }
/// # Ok::<(), daytona::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Snapshots {
    client: Daytona,
}

impl Daytona {
    /// Snapshot operations.
    pub fn snapshots(&self) -> Snapshots {
        Snapshots {
            client: self.clone(),
        }
    }
}

impl Snapshots {
    /// The request of a page of snapshots with the query `pairs`.
    fn request(&self, pairs: &[(&str, String)]) -> Request<'_> {
        let mut req = self
            .client
            .api(Method::GET, &["snapshots"])
            .answer(Answer::Page);
        for (name, value) in pairs {
            req = req.query(name, value);
        }
        req
    }

    /// One page of snapshots, with the totals.
    pub fn list_page(&self, query: ListSnapshots) -> Result<SnapshotPage> {
        traced(
            self.client.transport().tracing(),
            "SnapshotService.listPage",
            || {
                let req = self.request(&query.to_query(None)?);
                self.client.transport().json(req)
            },
        )
    }

    /// Every snapshot matching `query`, fetched a page at a time as the
    /// iterator is consumed (from `query.page`, default 1).
    pub fn list(&self, query: ListSnapshots) -> Pages<Snapshot> {
        if let Err(e) = query.to_query(None) {
            return Pages::failed(e);
        }
        let service = self.clone();
        Pages::new(None, move |token| {
            let tracing = service.client.transport().tracing();
            let page = token.and_then(|t| t.parse::<u32>().ok());
            let (items, meta) = traced(tracing, "SnapshotService.list.fetchPage", || {
                let req = service.request(&query.to_query(page)?);
                service
                    .client
                    .transport()
                    .page_items(req, |page: SnapshotPage| {
                        let meta = SnapshotPageMeta {
                            _total: page.total,
                            page: page.page,
                            total_pages: page.total_pages,
                        };
                        (page.items, meta)
                    })
            })?;
            let current = meta.page.max(1);
            let next = (current < meta.total_pages && !items.is_empty())
                .then(|| current.saturating_add(1).to_string());
            Ok(Page { items, next })
        })
    }

    /// The snapshot with this id or name.
    pub fn get(&self, id_or_name: &str) -> Result<Snapshot> {
        traced(
            self.client.transport().tracing(),
            "SnapshotService.get",
            || {
                path_segment("id_or_name", id_or_name)?;
                self.client
                    .transport()
                    .json(self.client.api(Method::GET, &["snapshots", id_or_name]))
            },
        )
    }

    /// Deletes a snapshot.
    pub fn delete(&self, snapshot: &Snapshot) -> Result<()> {
        traced(
            self.client.transport().tracing(),
            "SnapshotService.delete",
            || {
                path_segment("id", &snapshot.id)?;
                self.client.transport().empty(
                    self.client
                        .api(Method::DELETE, &["snapshots", &snapshot.id])
                        .gone_is_done(),
                )
            },
        )
    }

    /// Activates an inactive snapshot; returns it as the server now has it.
    pub fn activate(&self, snapshot: &Snapshot) -> Result<Snapshot> {
        traced(
            self.client.transport().tracing(),
            "SnapshotService.activate",
            || {
                path_segment("id", &snapshot.id)?;
                self.client.transport().json(
                    self.client
                        .api(Method::POST, &["snapshots", &snapshot.id, "activate"]),
                )
            },
        )
    }

    /// Creates a snapshot and waits until it is `active`.
    pub fn create(&self, params: CreateSnapshot) -> Result<Snapshot> {
        // Its span is the one of `create_with_logs`.
        self.create_with_logs(params, |_| {})
    }

    /// Creates a snapshot, passes each line of its build log to `on_log`
    /// as it arrives, and waits until it is `active`.
    ///
    /// `on_log` also gets a `Creating snapshot <name> (<state>)` line for
    /// each state the snapshot passes through and, at the end, one
    /// `Created snapshot <name> (active)` line. The build log of a
    /// declarative image is followed once the snapshot leaves `pending`,
    /// until the build is over; a registry image has no build log.
    ///
    /// One deadline covers the request, the build and the wait. `error` and
    /// `build_failed` fail at once with [`Error::SnapshotFailed`] and the
    /// server's reason, as do `removing` and `inactive` (the snapshot was
    /// deleted or deactivated meanwhile).
    pub fn create_with_logs(
        &self,
        params: CreateSnapshot,
        on_log: impl FnMut(&str),
    ) -> Result<Snapshot> {
        traced(
            self.client.transport().tracing(),
            "SnapshotService.create",
            || {
                // A failure's reason is the server's text: it may echo the
                // credential.
                self.create_inner(params, on_log)
                    .map_err(|e| self.client.transport().redact(e))
            },
        )
    }

    fn create_inner(
        &self,
        params: CreateSnapshot,
        mut on_log: impl FnMut(&str),
    ) -> Result<Snapshot> {
        let deadline = Deadline::after(params.limit());
        let (mut body, image) = params.into_body(self.client.target())?;
        let has_build = image.is_some();
        if let (Some(image), Some(build)) = (image, body.build_info.as_mut()) {
            build.context_hashes = build::upload_contexts(&self.client, &image, deadline)?;
        }
        let name = body.name.clone();
        let ticket = self.client.listen();
        let mut snapshot: Snapshot = self.client.transport().json(
            self.client
                .api(Method::POST, &["snapshots"])
                .json(&body)
                .deadline(deadline),
        )?;
        let on_log = RefCell::new(&mut on_log as &mut dyn FnMut(&str));
        let mut lines = StateLines::new(&name);
        lines.note(&snapshot, &on_log);
        let operation = format!("waiting for snapshot {name} to become active");
        let schedule = self.client.inner.poll.clone();
        let patience = self.client.transport().max_retry_after();
        let mut listen = ticket.listen(&snapshot.id);
        // Waits until `until` gives a verdict on the snapshot, which is kept
        // up to date (and its state changes noted) as the wait goes.
        let wait = |snapshot: &mut Snapshot,
                    lines: &mut StateLines,
                    listen: Option<&mut (dyn Listen + Send + 'static)>,
                    until: &dyn Fn(&Snapshot) -> Result<Check<()>>| {
            wait_until(
                &schedule,
                deadline,
                patience,
                &operation,
                Held::Current,
                listen,
                |look| {
                    if let Some(now) = self.look(&snapshot.id, look)? {
                        *snapshot = now;
                    }
                    lines.note(snapshot, &on_log);
                    until(snapshot)
                },
            )
        };
        if has_build {
            // The build starts once the snapshot leaves `pending`; its log
            // can be followed from then on (as the official SDKs do).
            if snapshot.state == SnapshotState::Pending {
                wait(&mut snapshot, &mut lines, listen.as_deref_mut(), &|s| {
                    Ok(match verdict(s)? {
                        Check::Pending if s.state == SnapshotState::Pending => Check::Pending,
                        _ => Check::Done(()),
                    })
                })?;
            }
            if let Check::Pending = verdict(&snapshot)? {
                self.follow_build_log(
                    &snapshot,
                    deadline,
                    &operation,
                    &mut |line| (on_log.borrow_mut())(line),
                    &mut |d| {
                        let now = self.fetch(&snapshot.id, d)?;
                        lines.note(&now, &on_log);
                        Ok(matches!(verdict(&now)?, Check::Done(())))
                    },
                )?;
            }
        }
        if let Check::Pending = verdict(&snapshot)? {
            wait(&mut snapshot, &mut lines, listen.as_deref_mut(), &verdict)?;
        }
        (on_log.borrow_mut())(&format!("Created snapshot {name} (active)"));
        Ok(snapshot)
    }

    /// The snapshot as fetched, or as a change heard shows it (`None` when
    /// the change does not decode).
    fn look(&self, id: &str, look: Look<'_>) -> Result<Option<Snapshot>> {
        match look {
            Look::Poll(d) => self.fetch(id, d).map(Some),
            Look::Heard(change) => Ok(Snapshot::deserialize(change).ok().filter(|s| s.id == id)),
        }
    }

    /// `GET /snapshots/{id}` within `deadline`.
    fn fetch(&self, id: &str, deadline: &Deadline) -> Result<Snapshot> {
        self.client.transport().json(
            self.client
                .api(Method::GET, &["snapshots", id])
                .deadline(*deadline),
        )
    }

    /// Passes the lines of the build log of `snapshot` to `on_line` until
    /// the stream ends or `finished` says the build is over.
    fn follow_build_log(
        &self,
        snapshot: &Snapshot,
        deadline: Deadline,
        operation: &str,
        on_line: &mut dyn FnMut(&str),
        finished: &mut dyn FnMut(&Deadline) -> Result<bool>,
    ) -> Result<()> {
        let url: UrlAnswer = self.client.transport().json(
            self.client
                .api(Method::GET, &["snapshots", &snapshot.id, "build-logs-url"])
                .deadline(deadline),
        )?;
        let request = build::log_request(
            &self.client,
            &url.url,
            &[],
            &["snapshots", &snapshot.id, "build-logs"],
        );
        build::follow(
            &self.client,
            request,
            deadline,
            operation,
            on_line,
            finished,
        )
    }
}

/// The `Creating snapshot <name> (<state>)` lines: one per state a snapshot
/// passes through, `active` aside (the end has its own line).
struct StateLines<'n> {
    name: &'n str,
    last: Option<SnapshotState>,
}

impl<'n> StateLines<'n> {
    fn new(name: &'n str) -> Self {
        StateLines { name, last: None }
    }

    fn note(&mut self, snapshot: &Snapshot, on_log: &RefCell<&mut dyn FnMut(&str)>) {
        let state = &snapshot.state;
        if *state != SnapshotState::Active && self.last.as_ref() != Some(state) {
            self.last = Some(state.clone());
            (on_log.borrow_mut())(&format!("Creating snapshot {} ({state})", self.name));
        }
    }
}

/// `active` ends the wait; `error` and `build_failed` fail it, and so do
/// `removing` and `inactive` (deleted or deactivated meanwhile), which a
/// snapshot leaves only by being activated again.
fn verdict(snapshot: &Snapshot) -> Result<Check<()>> {
    match &snapshot.state {
        SnapshotState::Active => Ok(Check::Done(())),
        s if s.is_failure() || matches!(s, SnapshotState::Removing | SnapshotState::Inactive) => {
            Err(Error::SnapshotFailed {
                name: snapshot.name.clone(),
                state: s.clone(),
                reason: snapshot.error_reason.clone(),
            })
        }
        _ => Ok(Check::Pending),
    }
}
