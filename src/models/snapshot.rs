//! Snapshot and volume models.

use serde::{Deserialize, Serialize};

use super::enums::{string_enum, GpuType, SandboxClass};
use super::null_as_default;
use super::number::int;
use super::BuildInfo;

string_enum! {
    /// The state of a snapshot (`SnapshotState`).
    SnapshotState {
        /// Its image is being built.
        Building = "building",
        /// Waiting to be processed.
        Pending = "pending",
        /// Its image is being pulled.
        Pulling = "pulling",
        /// Ready to create sandboxes from.
        Active = "active",
        /// Deactivated.
        Inactive = "inactive",
        /// Failed; see `errorReason`.
        Error = "error",
        /// Its image failed to build; see `errorReason`.
        BuildFailed = "build_failed",
        /// Being removed.
        Removing = "removing",
    }
}

impl SnapshotState {
    /// `error` or `build_failed`.
    pub fn is_failure(&self) -> bool {
        matches!(self, SnapshotState::Error | SnapshotState::BuildFailed)
    }
}

/// A snapshot: an image sandboxes are created from (`SnapshotDto`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Snapshot {
    /// Its id.
    pub id: String,
    /// The organization that owns it (absent for general snapshots).
    #[serde(default)]
    pub organization_id: Option<String>,
    /// Whether it is a general snapshot offered to every organization.
    #[serde(default)]
    pub general: bool,
    /// Its name.
    pub name: String,
    /// The image it was made from.
    #[serde(default)]
    pub image_name: Option<String>,
    /// Its state.
    pub state: SnapshotState,
    /// Its size in GB, once known.
    #[serde(default)]
    pub size: Option<f64>,
    /// The entrypoint of sandboxes created from it.
    #[serde(default, deserialize_with = "null_as_default")]
    pub entrypoint: Vec<String>,
    /// CPU cores of its sandboxes.
    #[serde(default, deserialize_with = "int")]
    pub cpu: u32,
    /// GPUs of its sandboxes.
    #[serde(default, deserialize_with = "int")]
    pub gpu: u32,
    /// The GPU model.
    #[serde(default)]
    pub gpu_type: Option<GpuType>,
    /// Memory of its sandboxes, GiB (the API's `mem`).
    #[serde(default, rename = "mem", deserialize_with = "int")]
    pub memory: u32,
    /// Disk of its sandboxes, GiB.
    #[serde(default, deserialize_with = "int")]
    pub disk: u32,
    /// Why it is in `error` or `build_failed`.
    #[serde(default)]
    pub error_reason: Option<String>,
    /// Creation time.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// When a sandbox was last created from it.
    #[serde(default)]
    pub last_used_at: Option<String>,
    /// How it was built, for snapshots built from a Dockerfile.
    #[serde(default)]
    pub build_info: Option<BuildInfo>,
    /// Regions it is available in.
    #[serde(default, deserialize_with = "null_as_default")]
    pub region_ids: Vec<String>,
    /// The runner it was first built on.
    #[serde(default)]
    pub initial_runner_id: Option<String>,
    /// Its internal image reference.
    #[serde(default, rename = "ref")]
    pub image_ref: Option<String>,
    /// The kind of machine its sandboxes run on.
    #[serde(default)]
    pub sandbox_class: Option<SandboxClass>,
}

/// One page of snapshots (`PaginatedSnapshots`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SnapshotPage {
    /// The snapshots of this page.
    pub items: Vec<Snapshot>,
    /// Snapshots in all pages.
    #[serde(deserialize_with = "int")]
    pub total: u64,
    /// This page's number, from 1.
    #[serde(deserialize_with = "int")]
    pub page: u32,
    /// Number of pages.
    #[serde(deserialize_with = "int")]
    pub total_pages: u32,
}

/// A page of snapshots without its items: its numbers, as required as in
/// [`SnapshotPage`].
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SnapshotPageMeta {
    /// Required as in the page; the listing does not use it.
    #[serde(rename = "total", deserialize_with = "int")]
    pub(crate) _total: u64,
    #[serde(deserialize_with = "int")]
    pub(crate) page: u32,
    #[serde(deserialize_with = "int")]
    pub(crate) total_pages: u32,
}

string_enum! {
    /// The state of a volume (`VolumeState`).
    VolumeState {
        /// Being created.
        Creating = "creating",
        /// Ready to mount.
        Ready = "ready",
        /// Waiting to be created.
        PendingCreate = "pending_create",
        /// Waiting to be deleted.
        PendingDelete = "pending_delete",
        /// Being deleted.
        Deleting = "deleting",
        /// Deleted.
        Deleted = "deleted",
        /// Failed; see `errorReason`.
        Error = "error",
    }
}

/// A volume: storage that outlives sandboxes and can be mounted into them
/// (`VolumeDto`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Volume {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The organization that owns it.
    pub organization_id: String,
    /// Its state.
    pub state: VolumeState,
    /// Creation time.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// When it was last mounted.
    #[serde(default)]
    pub last_used_at: Option<String>,
    /// Why it is in `error`.
    #[serde(default)]
    pub error_reason: Option<String>,
}
