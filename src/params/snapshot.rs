//! Parameters of snapshot operations: what to build, which to list.

use std::time::Duration;

use serde::Serialize;

use super::{CreateBuildInfo, ImageSpec, Resources, SortOrder};
use crate::check::{self, non_empty, non_empty_opt, page_limit};
use crate::error::{Error, Result};
use crate::models::{GpuType, SandboxClass};

/// How long [`crate::Snapshots::create`] waits for a build by default.
pub const DEFAULT_SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(10 * 60);

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
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SnapshotSort::Name => "name",
            SnapshotSort::State => "state",
            SnapshotSort::LastUsedAt => "lastUsedAt",
            SnapshotSort::CreatedAt => "createdAt",
        }
    }
}

/// Which snapshots [`crate::Snapshots::list`] and [`crate::Snapshots::list_page`]
/// return.
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

    /// The page to return (from 1); for [`crate::Snapshots::list`], the first page
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

    /// Checks the query and returns it as query pairs, `page` (when
    /// given) instead of the query's own.
    pub(crate) fn to_query(&self, page: Option<u32>) -> Result<Vec<(&'static str, String)>> {
        if self.page == Some(0) {
            return Err(Error::validation("page", "pages start at 1"));
        }
        self.limit.map_or(Ok(()), page_limit)?;
        let mut q = Vec::new();
        if let Some(page) = page.or(self.page) {
            q.push(("page", page.to_string()));
        }
        if let Some(limit) = self.limit {
            q.push(("limit", limit.to_string()));
        }
        if let Some(name) = &self.name {
            q.push(("name", name.clone()));
        }
        if let Some((field, order)) = self.sort {
            q.push(("sort", field.as_str().to_string()));
            q.push(("order", order.as_str().to_string()));
        }
        Ok(q)
    }
}

/// What [`crate::Snapshots::create`] builds.
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

    /// The limit of the whole create.
    pub(crate) fn limit(&self) -> Duration {
        self.timeout
    }

    /// Checks the parameters and builds the request body. A declarative
    /// image is returned too: its build info has the Dockerfile (with the
    /// entrypoint, as the TypeScript SDK writes it) but not yet the hashes
    /// of the build contexts, which are uploaded first.
    pub(crate) fn into_body(
        self,
        target: Option<&str>,
    ) -> Result<(CreateSnapshotBody, Option<ImageSpec>)> {
        non_empty("name", &self.name)?;
        non_empty_opt("region_id", self.region_id.as_deref())?;
        check::timeout(self.timeout)?;
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
            // The entrypoint goes into the Dockerfile, as the TypeScript
            // SDK writes it.
            #[cfg(feature = "images")]
            ImageSpec::Declarative(image) => {
                let image = if self.entrypoint.is_empty() {
                    image
                } else {
                    Box::new(image.entrypoint(&self.entrypoint))
                };
                body.build_info = Some(CreateBuildInfo::new(image.dockerfile().to_string()));
                Ok((body, Some(ImageSpec::Declarative(image))))
            }
        }
    }
}

/// `CreateSnapshot` on the wire.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateSnapshotBody {
    pub(crate) name: String,
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
    pub(crate) build_info: Option<CreateBuildInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sandbox_class: Option<SandboxClass>,
}
