//! Filters and order of a sandbox listing.

use std::collections::BTreeMap;

use super::string_pairs;
use super::SortOrder;
use crate::check::{date_time, non_empty, page_limit};
use crate::error::{Error, Result};
use crate::models::{SandboxClass, SandboxState};

/// Field to sort a sandbox listing by (`SandboxListSortField`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SandboxSort {
    /// By name.
    Name,
    /// By CPU.
    Cpu,
    /// By memory.
    MemoryGib,
    /// By disk.
    DiskGib,
    /// By last activity.
    LastActivityAt,
    /// By creation time.
    CreatedAt,
}

impl SandboxSort {
    fn as_str(self) -> &'static str {
        match self {
            SandboxSort::Name => "name",
            SandboxSort::Cpu => "cpu",
            SandboxSort::MemoryGib => "memoryGib",
            SandboxSort::DiskGib => "diskGib",
            SandboxSort::LastActivityAt => "lastActivityAt",
            SandboxSort::CreatedAt => "createdAt",
        }
    }
}

/// Filters and order of [`crate::Daytona::list`].
///
/// ```
/// use daytona::{ListSandboxes, SandboxSort, SandboxState, SortOrder};
///
/// let query = ListSandboxes::new()
///     .label("env", "dev")
///     .state(SandboxState::Started)
///     .min_cpu(2)
///     .sort(SandboxSort::CreatedAt, SortOrder::Desc)
///     .limit(200);
/// # let _ = query;
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[must_use]
pub struct ListSandboxes {
    limit: Option<u32>,
    id_prefix: Option<String>,
    name_prefix: Option<String>,
    labels: BTreeMap<String, String>,
    include_errored_deleted: Option<bool>,
    states: Vec<SandboxState>,
    snapshots: Vec<String>,
    targets: Vec<String>,
    classes: Vec<SandboxClass>,
    ranges: Vec<(&'static str, u32)>,
    public: Option<bool>,
    recoverable: Option<bool>,
    times: Vec<(&'static str, String)>,
    sort: Option<(SandboxSort, SortOrder)>,
    cursor: Option<String>,
}

impl ListSandboxes {
    /// Every sandbox, server order.
    pub fn new() -> Self {
        Self::default()
    }

    /// Page size, 1 to 200 (server default 100). Fewer pages mean fewer requests.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Ids starting with `prefix` (case-insensitive).
    pub fn id_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.id_prefix = Some(prefix.into());
        self
    }

    /// Names starting with `prefix` (case-insensitive).
    pub fn name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.name_prefix = Some(prefix.into());
        self
    }

    /// Sandboxes with this label (all labels given must match).
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Sandboxes with these labels (all must match): pairs, a map, ...
    pub fn labels(
        mut self,
        labels: impl IntoIterator<Item = (impl Into<String>, impl Into<String>)>,
    ) -> Self {
        self.labels.extend(string_pairs(labels));
        self
    }

    /// Also sandboxes in `error` that are being deleted.
    pub fn include_errored_deleted(mut self, include: bool) -> Self {
        self.include_errored_deleted = Some(include);
        self
    }

    /// Sandboxes in this state (repeat for several).
    pub fn state(mut self, state: SandboxState) -> Self {
        self.states.push(state);
        self
    }

    /// Sandboxes from this snapshot (repeat for several).
    pub fn snapshot(mut self, name: impl Into<String>) -> Self {
        self.snapshots.push(name.into());
        self
    }

    /// Sandboxes in this region (repeat for several); sent as `regionIds`.
    pub fn target(mut self, region: impl Into<String>) -> Self {
        self.targets.push(region.into());
        self
    }

    /// Sandboxes of this class (repeat for several).
    pub fn class(mut self, class: SandboxClass) -> Self {
        self.classes.push(class);
        self
    }

    fn range(mut self, name: &'static str, value: u32) -> Self {
        self.ranges.push((name, value));
        self
    }

    /// At least this many CPUs.
    pub fn min_cpu(self, cpu: u32) -> Self {
        self.range("minCpu", cpu)
    }

    /// At most this many CPUs.
    pub fn max_cpu(self, cpu: u32) -> Self {
        self.range("maxCpu", cpu)
    }

    /// At least this much memory, GiB.
    pub fn min_memory_gib(self, gib: u32) -> Self {
        self.range("minMemoryGiB", gib)
    }

    /// At most this much memory, GiB.
    pub fn max_memory_gib(self, gib: u32) -> Self {
        self.range("maxMemoryGiB", gib)
    }

    /// At least this much disk, GiB.
    pub fn min_disk_gib(self, gib: u32) -> Self {
        self.range("minDiskGiB", gib)
    }

    /// At most this much disk, GiB.
    pub fn max_disk_gib(self, gib: u32) -> Self {
        self.range("maxDiskGiB", gib)
    }

    /// Public (or private) sandboxes only.
    pub fn public(mut self, public: bool) -> Self {
        self.public = Some(public);
        self
    }

    /// Recoverable (or unrecoverable) sandboxes only.
    pub fn recoverable(mut self, recoverable: bool) -> Self {
        self.recoverable = Some(recoverable);
        self
    }

    fn time(mut self, name: &'static str, time: impl Into<String>) -> Self {
        self.times.push((name, time.into()));
        self
    }

    /// Created after this time: an ISO 8601 date or date-time
    /// (`2024-01-01`, `2024-01-01T00:00:00Z`); other text is a validation
    /// error naming the query field.
    pub fn created_after(self, time: impl Into<String>) -> Self {
        self.time("createdAtAfter", time)
    }

    /// Created before this time (as [`created_after`](Self::created_after)).
    pub fn created_before(self, time: impl Into<String>) -> Self {
        self.time("createdAtBefore", time)
    }

    /// Last active after this time (as [`created_after`](Self::created_after));
    /// sent as `lastEventAfter`.
    pub fn last_activity_after(self, time: impl Into<String>) -> Self {
        self.time("lastEventAfter", time)
    }

    /// Last active before this time (as [`created_after`](Self::created_after));
    /// sent as `lastEventBefore`.
    pub fn last_activity_before(self, time: impl Into<String>) -> Self {
        self.time("lastEventBefore", time)
    }

    /// Sort field and direction.
    pub fn sort(mut self, field: SandboxSort, order: SortOrder) -> Self {
        self.sort = Some((field, order));
        self
    }

    /// Starts at the page of this token: the
    /// [`next_cursor`](crate::SandboxPage::next_cursor) of a page read
    /// earlier, to resume a listing.
    pub fn cursor(mut self, token: impl Into<String>) -> Self {
        self.cursor = Some(token.into());
        self
    }

    /// The page token to start at, if any.
    pub(crate) fn start_cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }

    /// Checks the filters and returns them as query pairs, cursor excluded.
    pub(crate) fn to_query(&self) -> Result<Vec<(&'static str, String)>> {
        let mut q: Vec<(&'static str, String)> = Vec::new();
        if let Some(limit) = self.limit {
            page_limit(limit)?;
            q.push(("limit", limit.to_string()));
        }
        if let Some(p) = &self.id_prefix {
            q.push(("id", p.clone()));
        }
        if let Some(p) = &self.name_prefix {
            q.push(("name", p.clone()));
        }
        if !self.labels.is_empty() {
            let json = serde_json::to_string(&self.labels).unwrap_or_default();
            q.push(("labels", json));
        }
        if let Some(v) = self.include_errored_deleted {
            q.push(("includeErroredDeleted", v.to_string()));
        }
        q.extend(self.states.iter().map(|s| ("states", s.to_string())));
        q.extend(self.snapshots.iter().map(|s| ("snapshots", s.clone())));
        q.extend(self.targets.iter().map(|s| ("regionIds", s.clone())));
        q.extend(
            self.classes
                .iter()
                .map(|s| ("sandboxClasses", s.to_string())),
        );
        for (name, value) in &self.ranges {
            if *value < 1 {
                return Err(Error::validation(
                    *name,
                    format!("must be at least 1, got {value}"),
                ));
            }
            q.push((name, value.to_string()));
        }
        if let Some(v) = self.public {
            q.push(("isPublic", v.to_string()));
        }
        if let Some(v) = self.recoverable {
            q.push(("isRecoverable", v.to_string()));
        }
        for (name, value) in &self.times {
            date_time(name, value)?;
            q.push((name, value.clone()));
        }
        if let Some((field, order)) = self.sort {
            q.push(("sort", field.as_str().to_string()));
            q.push(("order", order.as_str().to_string()));
        }
        if let Some(cursor) = &self.cursor {
            non_empty("cursor", cursor)?;
        }
        Ok(q)
    }
}
