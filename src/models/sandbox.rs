//! Sandbox models: `Sandbox`/`SandboxListItem` and the small DTOs of the
//! sandbox endpoints.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::enums::{BackupState, GpuType, SandboxClass, SandboxDesiredState, SandboxState};
use super::null_as_default;
use super::number::{int, opt_int};

/// Everything the API says about a sandbox: the `Sandbox` schema, also
/// decoded from the shorter `SandboxListItem` of a listing (fields a list
/// item lacks are then empty or `None` until [`crate::Sandbox::refresh`]).
///
/// Fields the spec marks required must be present; a missing one is a
/// [`crate::Error::Decode`] naming it. Unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SandboxInfo {
    /// The sandbox id.
    pub id: String,
    /// The organization that owns it.
    pub organization_id: String,
    /// Its name (unique in the organization).
    pub name: String,
    /// The snapshot it was created from.
    #[serde(default)]
    pub snapshot: Option<String>,
    /// The OS user commands run as.
    pub user: String,
    /// Environment variables set in the sandbox (absent in list items).
    #[serde(default, deserialize_with = "null_as_default")]
    pub env: HashMap<String, String>,
    /// Labels.
    #[serde(default, deserialize_with = "null_as_default")]
    pub labels: HashMap<String, String>,
    /// Whether its HTTP previews are public.
    pub public: bool,
    /// Whether all network access is blocked (absent in list items).
    #[serde(default)]
    pub network_block_all: Option<bool>,
    /// Comma-separated CIDRs it may reach.
    #[serde(default)]
    pub network_allow_list: Option<String>,
    /// Comma-separated domains it may reach.
    #[serde(default)]
    pub domain_allow_list: Option<String>,
    /// The region it runs in.
    pub target: String,
    /// CPU cores.
    #[serde(deserialize_with = "int")]
    pub cpu: u32,
    /// GPUs.
    #[serde(deserialize_with = "int")]
    pub gpu: u32,
    /// The GPU model, when it has one.
    #[serde(default)]
    pub gpu_type: Option<GpuType>,
    /// Memory in GiB.
    #[serde(deserialize_with = "int")]
    pub memory: u32,
    /// Disk in GiB.
    #[serde(deserialize_with = "int")]
    pub disk: u32,
    /// Its current state.
    #[serde(default)]
    pub state: Option<SandboxState>,
    /// The state it is heading to.
    #[serde(default)]
    pub desired_state: Option<SandboxDesiredState>,
    /// Why it is in `error` or `build_failed`.
    #[serde(default)]
    pub error_reason: Option<String>,
    /// Whether an error state can be recovered from with `recover`.
    #[serde(default)]
    pub recoverable: Option<bool>,
    /// The state of its backup.
    #[serde(default)]
    pub backup_state: Option<BackupState>,
    /// When its last backup was made.
    #[serde(default)]
    pub backup_created_at: Option<String>,
    /// Minutes of inactivity before it stops (0 = never).
    #[serde(default, deserialize_with = "opt_int")]
    pub auto_stop_interval: Option<u32>,
    /// Minutes stopped before it is archived (0 = the maximum).
    #[serde(default, deserialize_with = "opt_int")]
    pub auto_archive_interval: Option<u32>,
    /// Minutes stopped before it is deleted (negative = never, 0 = at once).
    #[serde(default, deserialize_with = "opt_int")]
    pub auto_delete_interval: Option<i32>,
    /// Mounted volumes (absent in list items).
    #[serde(default, deserialize_with = "null_as_default")]
    pub volumes: Vec<VolumeMount>,
    /// How its image was built, when it was built from one.
    #[serde(default)]
    pub build_info: Option<BuildInfo>,
    /// Creation time (RFC 3339).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time (RFC 3339).
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Last activity time (RFC 3339).
    #[serde(default)]
    pub last_activity_at: Option<String>,
    /// The kind of machine.
    #[serde(default)]
    pub sandbox_class: Option<SandboxClass>,
    /// The version of the daemon inside it.
    #[serde(default)]
    pub daemon_version: Option<String>,
    /// The runner it is placed on.
    #[serde(default)]
    pub runner_id: Option<String>,
    /// The sandbox it is co-located with.
    #[serde(default)]
    pub linked_sandbox_id: Option<String>,
    /// The base URL of its toolbox API (without the sandbox id).
    pub toolbox_proxy_url: String,
}

/// A volume mounted into a sandbox (`SandboxVolume`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeMount {
    /// The volume's id or name.
    pub volume_id: String,
    /// Where it is mounted in the sandbox.
    pub mount_path: String,
    /// Only this prefix of the volume is mounted, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subpath: Option<String>,
}

impl VolumeMount {
    /// Mounts the whole volume `volume_id` (id or name) at `mount_path`.
    pub fn new(volume_id: impl Into<String>, mount_path: impl Into<String>) -> Self {
        VolumeMount {
            volume_id: volume_id.into(),
            mount_path: mount_path.into(),
            subpath: None,
        }
    }

    /// Mounts only `subpath` of the volume.
    #[must_use]
    pub fn subpath(mut self, subpath: impl Into<String>) -> Self {
        self.subpath = Some(subpath.into());
        self
    }
}

/// How a sandbox's or snapshot's image was built (`BuildInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BuildInfo {
    /// The Dockerfile.
    #[serde(default)]
    pub dockerfile_content: Option<String>,
    /// Hashes of the uploaded build contexts.
    #[serde(default, deserialize_with = "null_as_default")]
    pub context_hashes: Vec<String>,
    /// Creation time.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// The built image reference.
    #[serde(default)]
    pub snapshot_ref: Option<String>,
}

/// The labels of a sandbox (`SandboxLabels`): the body and the answer of
/// `PUT /sandbox/{id}/labels`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SandboxLabels {
    #[serde(default, deserialize_with = "null_as_default")]
    pub(crate) labels: HashMap<String, String>,
}

/// A preview link to a port of a sandbox (`PortPreviewUrl`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PortPreviewUrl {
    /// The sandbox id.
    pub sandbox_id: String,
    /// The URL.
    pub url: String,
    /// The token to send as `x-daytona-preview-token` for private sandboxes.
    pub token: String,
}

/// A signed preview URL, usable without a token header (`SignedPortPreviewUrl`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SignedPortPreviewUrl {
    /// The sandbox id.
    pub sandbox_id: String,
    /// The port.
    #[serde(deserialize_with = "int")]
    pub port: u16,
    /// The token embedded in the URL.
    pub token: String,
    /// The URL.
    pub url: String,
}

/// SSH access to a sandbox (`SshAccessDto`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SshAccess {
    /// The access id.
    pub id: String,
    /// The sandbox id.
    pub sandbox_id: String,
    /// The SSH token (the user name to log in with).
    pub token: String,
    /// When it expires.
    pub expires_at: String,
    /// When it was created.
    pub created_at: String,
    /// When it was last updated.
    pub updated_at: String,
    /// The command that logs in.
    pub ssh_command: String,
}

/// The result of validating an SSH token (`SshAccessValidationDto`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SshAccessValidation {
    /// Whether the token is valid.
    pub valid: bool,
    /// The sandbox it gives access to.
    pub sandbox_id: String,
}

/// `ListSandboxesResponse`: one page of a sandbox listing.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SandboxListAnswer {
    pub(crate) items: Vec<SandboxInfo>,
    #[serde(default)]
    pub(crate) next_cursor: Option<String>,
}
