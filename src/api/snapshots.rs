//! Snapshots: the images sandboxes are created from.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use ureq::http::Method;

use crate::api::build_logs;
use crate::api::client::Daytona;
use crate::error::{Error, Result};
use crate::models::{GpuType, SandboxClass, Snapshot, SnapshotPage, SnapshotState};
use crate::params::list::SortOrder;
use crate::params::{
    check_page_limit, check_timeout, non_empty, path_segment, CreateBuildInfo, ImageSpec, Resources,
};
use crate::transport::page::{Page, Pages};
use crate::transport::poll::{poll_until, Check, Deadline};

/// How long [`Snapshots::create`] waits for a build by default.
pub const DEFAULT_SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(10 * 60);

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

/// Field to sort a snapshot listing by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SnapshotSort {
    /// By name.
    Name,
    /// By state.
    State,
    /// By last use (the server's default).
    LastUsedAt,
    /// By creation time.
    CreatedAt,
}

impl SnapshotSort {
    fn as_str(self) -> &'static str {
        match self {
            SnapshotSort::Name => "name",
            SnapshotSort::State => "state",
            SnapshotSort::LastUsedAt => "lastUsedAt",
            SnapshotSort::CreatedAt => "createdAt",
        }
    }
}

/// Which snapshots [`Snapshots::list`] and [`Snapshots::list_page`] return.
#[derive(Debug, Clone, Default, PartialEq)]
#[must_use]
pub struct ListSnapshots {
    page: Option<u32>,
    limit: Option<u32>,
    name: Option<String>,
    sort: Option<(SnapshotSort, SortOrder)>,
}

impl ListSnapshots {
    /// Every snapshot, server order.
    pub fn new() -> Self {
        Self::default()
    }

    /// The page to return (from 1); for [`Snapshots::list`], the first page
    /// to read.
    pub fn page(mut self, page: u32) -> Self {
        self.page = Some(page);
        self
    }

    /// Page size, 1 to 200 (server default 100).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Snapshots whose name contains `name`.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sort field and direction.
    pub fn sort(mut self, field: SnapshotSort, order: SortOrder) -> Self {
        self.sort = Some((field, order));
        self
    }

    fn validate(&self) -> Result<()> {
        if self.page == Some(0) {
            return Err(Error::validation("page", "pages start at 1"));
        }
        self.limit.map_or(Ok(()), check_page_limit)
    }
}

/// What [`Snapshots::create`] builds.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct CreateSnapshot {
    name: String,
    image: ImageSpec,
    resources: Option<Resources>,
    entrypoint: Vec<String>,
    region_id: Option<String>,
    sandbox_class: Option<SandboxClass>,
    timeout: Duration,
}

impl CreateSnapshot {
    /// A snapshot `name` of an image: a registry image name with a tag
    /// other than `latest` (e.g. `python:3.12-slim`), or a declarative
    /// [`crate::Image`] (feature `images`), built by Daytona after its local
    /// files are uploaded.
    pub fn from_image(name: impl Into<String>, image: impl Into<ImageSpec>) -> Self {
        CreateSnapshot {
            name: name.into(),
            image: image.into(),
            resources: None,
            entrypoint: Vec::new(),
            region_id: None,
            sandbox_class: None,
            timeout: DEFAULT_SNAPSHOT_TIMEOUT,
        }
    }

    /// Resources of sandboxes created from it.
    pub fn resources(mut self, resources: Resources) -> Self {
        self.resources = Some(resources);
        self
    }

    /// The entrypoint of its sandboxes.
    pub fn entrypoint<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.entrypoint = args.into_iter().map(Into::into).collect();
        self
    }

    /// The region to build it in (default: the client's target).
    pub fn region_id(mut self, region: impl Into<String>) -> Self {
        self.region_id = Some(region.into());
        self
    }

    /// The kind of machine its sandboxes run on.
    pub fn sandbox_class(mut self, class: SandboxClass) -> Self {
        self.sandbox_class = Some(class);
        self
    }

    /// The limit of the whole create: request, build and wait (default 10
    /// minutes; [`crate::WAIT_FOREVER`] waits without limit).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks the parameters; returns the body without build info and the
    /// declarative image to build, if any.
    fn into_body(self, target: Option<&str>) -> Result<(CreateSnapshotBody, Option<ImageSpec>)> {
        non_empty("name", &self.name)?;
        check_timeout(self.timeout)?;
        self.image.validate()?;
        let resources = self.resources.unwrap_or_default();
        let mut body = CreateSnapshotBody {
            name: self.name,
            image_name: None,
            entrypoint: Vec::new(),
            cpu: resources.cpu,
            gpu: resources.gpu,
            gpu_type: resources.gpu_type,
            memory: resources.memory,
            disk: resources.disk,
            build_info: None,
            region_id: self.region_id.or_else(|| target.map(str::to_string)),
            sandbox_class: self.sandbox_class,
        };
        match self.image {
            ImageSpec::Name(image) => {
                if image.ends_with(":latest") {
                    return Err(Error::validation(
                        "image",
                        format!("{image:?}: the `latest` tag is not allowed; name a fixed tag"),
                    ));
                }
                body.image_name = Some(image);
                body.entrypoint = self.entrypoint;
                Ok((body, None))
            }
            #[allow(unreachable_patterns)]
            declarative => {
                // The entrypoint goes into the Dockerfile, as the TypeScript SDK does.
                body.entrypoint = self.entrypoint;
                Ok((body, Some(declarative)))
            }
        }
    }
}

/// `CreateSnapshot` on the wire.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateSnapshotBody {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_name: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    entrypoint: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cpu: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gpu: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    gpu_type: Vec<GpuType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    memory: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disk: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    build_info: Option<CreateBuildInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sandbox_class: Option<SandboxClass>,
}

/// `Url`.
#[derive(Deserialize)]
pub(crate) struct UrlAnswer {
    pub(crate) url: String,
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
    fn fetch_page(&self, query: &ListSnapshots, page: Option<u32>) -> Result<SnapshotPage> {
        let mut req = self
            .client
            .api(Method::GET, &["snapshots"])
            .query_opt("page", page.or(query.page))
            .query_opt("limit", query.limit)
            .query_opt("name", query.name.as_deref());
        if let Some((field, order)) = query.sort {
            req = req
                .query("sort", field.as_str())
                .query("order", order.as_str());
        }
        self.client.transport().json(req)
    }

    /// One page of snapshots, with the totals.
    pub fn list_page(&self, query: ListSnapshots) -> Result<SnapshotPage> {
        query.validate()?;
        self.fetch_page(&query, None)
    }

    /// Every snapshot matching `query`, fetched a page at a time as the
    /// iterator is consumed (from `query.page`, default 1).
    pub fn list(&self, query: ListSnapshots) -> Pages<Snapshot> {
        if let Err(e) = query.validate() {
            return Pages::failed(e);
        }
        let service = self.clone();
        Pages::new(move |token| {
            let page = token.and_then(|t| t.parse::<u32>().ok());
            let answer = service.fetch_page(&query, page)?;
            let current = answer.page.max(1.0);
            let next = (current < answer.total_pages && !answer.items.is_empty())
                .then(|| format!("{}", current as u64 + 1));
            Ok(Page {
                items: answer.items,
                next,
            })
        })
    }

    /// The snapshot with this id or name.
    pub fn get(&self, id_or_name: &str) -> Result<Snapshot> {
        path_segment("id_or_name", id_or_name)?;
        self.client
            .transport()
            .json(self.client.api(Method::GET, &["snapshots", id_or_name]))
    }

    /// Deletes a snapshot.
    pub fn delete(&self, snapshot: &Snapshot) -> Result<()> {
        path_segment("id", &snapshot.id)?;
        self.client.transport().empty(
            self.client
                .api(Method::DELETE, &["snapshots", &snapshot.id]),
        )
    }

    /// Activates an inactive snapshot; returns it as the server now has it.
    pub fn activate(&self, snapshot: &Snapshot) -> Result<Snapshot> {
        path_segment("id", &snapshot.id)?;
        self.client.transport().json(
            self.client
                .api(Method::POST, &["snapshots", &snapshot.id, "activate"]),
        )
    }

    /// Creates a snapshot and waits until it is `active`.
    pub fn create(&self, params: CreateSnapshot) -> Result<Snapshot> {
        self.create_with_logs(params, |_| {})
    }

    /// Creates a snapshot, passes each line of its build log to `on_log`
    /// as it arrives (with `Creating snapshot <name> (<state>)` lines on each
    /// state change), and waits until it is `active`.
    ///
    /// One deadline covers the request, the build and the wait. `error` and
    /// `build_failed` fail at once with [`Error::SnapshotFailed`] and the
    /// server's reason.
    pub fn create_with_logs(
        &self,
        params: CreateSnapshot,
        on_log: impl FnMut(&str),
    ) -> Result<Snapshot> {
        // A failure's reason is the server's text: it may echo the
        // credential.
        self.create_inner(params, on_log)
            .map_err(|e| self.client.transport().redact(e))
    }

    fn create_inner(
        &self,
        params: CreateSnapshot,
        mut on_log: impl FnMut(&str),
    ) -> Result<Snapshot> {
        let deadline = Deadline::after(params.timeout);
        let (mut body, image) = params.into_body(self.client.target())?;
        let has_build = image.is_some();
        if let Some(image) = image {
            let entrypoint = std::mem::take(&mut body.entrypoint);
            body.build_info = Some(image.build_info(&self.client, deadline, &entrypoint)?);
        }
        let name = body.name.clone();
        let mut snapshot: Snapshot = self.client.transport().json(
            self.client
                .api(Method::POST, &["snapshots"])
                .json(&body)
                .deadline(deadline),
        )?;
        let mut last_state = snapshot.state.clone();
        on_log(&format!("Creating snapshot {name} ({last_state})"));
        let operation = format!("waiting for snapshot {name} to become active");
        let mut refresh = |snapshot: &mut Snapshot, d: &Deadline, on_log: &mut dyn FnMut(&str)| {
            *snapshot = self.client.transport().json(
                self.client
                    .api(Method::GET, &["snapshots", &snapshot.id])
                    .deadline(*d),
            )?;
            if snapshot.state != last_state {
                last_state = snapshot.state.clone();
                on_log(&format!("Creating snapshot {name} ({last_state})"));
            }
            verdict(snapshot)
        };
        if let Check::Done(()) = verdict(&snapshot)? {
            return Ok(snapshot);
        }
        if has_build && snapshot.state != SnapshotState::Pending {
            let url: UrlAnswer = self.client.transport().json(
                self.client
                    .api(Method::GET, &["snapshots", &snapshot.id, "build-logs-url"])
                    .deadline(deadline),
            )?;
            let request = build_logs::log_request(
                &self.client,
                &url.url,
                &[],
                &["snapshots", &snapshot.id, "build-logs"],
            );
            let mut state_of = snapshot.clone();
            build_logs::follow(
                &self.client,
                request,
                deadline,
                &operation,
                &mut on_log,
                &mut |d| {
                    let mut ignore = |_: &str| {};
                    Ok(matches!(
                        refresh(&mut state_of, d, &mut ignore)?,
                        Check::Done(())
                    ))
                },
            )?;
        }
        let schedule = self.client.inner.poll.clone();
        poll_until(&schedule, deadline, &operation, |d| {
            refresh(&mut snapshot, d, &mut on_log)
        })?;
        on_log(&format!("Created snapshot {name} (active)"));
        Ok(snapshot)
    }
}

/// `active` ends the wait; `error` and `build_failed` fail it.
fn verdict(snapshot: &Snapshot) -> Result<Check<()>> {
    match &snapshot.state {
        SnapshotState::Active => Ok(Check::Done(())),
        s if s.is_failure() => Err(Error::SnapshotFailed {
            name: snapshot.name.clone(),
            state: s.clone(),
            reason: snapshot.error_reason.clone(),
        }),
        _ => Ok(Check::Pending),
    }
}
