//! Sandbox models: `Sandbox`/`SandboxListItem` and the small DTOs of the
//! sandbox endpoints.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::config::names_only;
use crate::config::{hidden_in, EnvHidden, Hidden};

use super::enums::{BackupState, GpuType, SandboxClass, SandboxDesiredState, SandboxState};
use super::null_as_default;
use super::number::{int, opt_int};

/// Everything the API says about a sandbox: the `Sandbox` schema, also
/// decoded from the shorter `SandboxListItem` of a listing (fields a list
/// item lacks are then empty or `None` until [`crate::Sandbox::refresh`]).
///
/// Fields the spec marks required must be present; a missing one is a
/// [`crate::Error::Decode`] naming it. Unknown fields are ignored.
///
/// `Debug` shows the names of the environment variables, not their values.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
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

impl fmt::Debug for SandboxInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Every field, so that a new one cannot be left out unnoticed.
        let SandboxInfo {
            id,
            organization_id,
            name,
            snapshot,
            user,
            env,
            labels,
            public,
            network_block_all,
            network_allow_list,
            domain_allow_list,
            target,
            cpu,
            gpu,
            gpu_type,
            memory,
            disk,
            state,
            desired_state,
            error_reason,
            recoverable,
            backup_state,
            backup_created_at,
            auto_stop_interval,
            auto_archive_interval,
            auto_delete_interval,
            volumes,
            build_info,
            created_at,
            updated_at,
            last_activity_at,
            sandbox_class,
            daemon_version,
            runner_id,
            linked_sandbox_id,
            toolbox_proxy_url,
        } = self;
        f.debug_struct("SandboxInfo")
            .field("id", id)
            .field("organization_id", organization_id)
            .field("name", name)
            .field("snapshot", snapshot)
            .field("user", user)
            .field("env", &names_only(env))
            .field("labels", labels)
            .field("public", public)
            .field("network_block_all", network_block_all)
            .field("network_allow_list", network_allow_list)
            .field("domain_allow_list", domain_allow_list)
            .field("target", target)
            .field("cpu", cpu)
            .field("gpu", gpu)
            .field("gpu_type", gpu_type)
            .field("memory", memory)
            .field("disk", disk)
            .field("state", state)
            .field("desired_state", desired_state)
            .field("error_reason", error_reason)
            .field("recoverable", recoverable)
            .field("backup_state", backup_state)
            .field("backup_created_at", backup_created_at)
            .field("auto_stop_interval", auto_stop_interval)
            .field("auto_archive_interval", auto_archive_interval)
            .field("auto_delete_interval", auto_delete_interval)
            .field("volumes", volumes)
            .field("build_info", build_info)
            .field("created_at", created_at)
            .field("updated_at", updated_at)
            .field("last_activity_at", last_activity_at)
            .field("sandbox_class", sandbox_class)
            .field("daemon_version", daemon_version)
            .field("runner_id", runner_id)
            .field("linked_sandbox_id", linked_sandbox_id)
            .field("toolbox_proxy_url", toolbox_proxy_url)
            .finish()
    }
}

/// A volume mounted into a sandbox (`SandboxVolume`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
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
///
/// `Debug` shows the Dockerfile with the values of its `ENV` instructions
/// hidden.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
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

impl fmt::Debug for BuildInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let BuildInfo {
            dockerfile_content,
            context_hashes,
            created_at,
            updated_at,
            snapshot_ref,
        } = self;
        f.debug_struct("BuildInfo")
            .field(
                "dockerfile_content",
                &dockerfile_content.as_deref().map(EnvHidden),
            )
            .field("context_hashes", context_hashes)
            .field("created_at", created_at)
            .field("updated_at", updated_at)
            .field("snapshot_ref", snapshot_ref)
            .finish()
    }
}

/// The labels of a sandbox (`SandboxLabels`): the body and the answer of
/// `PUT /sandbox/{id}/labels`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SandboxLabels {
    #[serde(default, deserialize_with = "null_as_default")]
    pub(crate) labels: HashMap<String, String>,
}

/// A preview link to a port of a sandbox (`PortPreviewUrl`). `Debug`
/// hides the token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
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
/// `Debug` hides the token, in the URL too.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// SSH access to a sandbox (`SshAccessDto`). `Debug` hides the token, in
/// the command too.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
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

impl fmt::Debug for PortPreviewUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PortPreviewUrl")
            .field("sandbox_id", &self.sandbox_id)
            .field("url", &hidden_in(&self.url, &self.token))
            .field("token", &Hidden)
            .finish()
    }
}

impl fmt::Debug for SignedPortPreviewUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedPortPreviewUrl")
            .field("sandbox_id", &self.sandbox_id)
            .field("port", &self.port)
            .field("token", &Hidden)
            .field("url", &hidden_in(&self.url, &self.token))
            .finish()
    }
}

impl fmt::Debug for SshAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SshAccess")
            .field("id", &self.id)
            .field("sandbox_id", &self.sandbox_id)
            .field("token", &Hidden)
            .field("expires_at", &self.expires_at)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .field("ssh_command", &hidden_in(&self.ssh_command, &self.token))
            .finish()
    }
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

/// A sandbox listing page without its items: the token of the next page.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SandboxPageMeta {
    #[serde(default)]
    pub(crate) next_cursor: Option<String>,
}
