//! Serde types of the main API, named after the API's own schemas.

pub(crate) mod enums;
pub(crate) mod number;
mod sandbox;
mod snapshot;

pub use enums::{BackupState, GpuType, SandboxClass, SandboxDesiredState, SandboxState};
pub use sandbox::{
    BuildInfo, PortPreviewUrl, SandboxInfo, SignedPortPreviewUrl, SshAccess, SshAccessValidation,
    VolumeMount,
};
pub(crate) use sandbox::{SandboxLabels, SandboxListAnswer};
pub use snapshot::{Snapshot, SnapshotPage, SnapshotState, Volume, VolumeState};

/// Deserializes `null` as the type's default (an empty map, `false`, ...).
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de> + Default,
{
    use serde::Deserialize;
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A page of a listing (of sandboxes or of snapshots) whose items are
/// kept as JSON, each to be decoded on its own: what is read when the page
/// does not decode whole.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LoosePage {
    pub(crate) items: Vec<serde_json::Value>,
    /// A sandbox listing's next page.
    #[serde(default)]
    pub(crate) next_cursor: Option<String>,
    /// A snapshot listing's page number, from 1.
    #[serde(default, deserialize_with = "number::int")]
    pub(crate) page: u32,
    /// A snapshot listing's number of pages.
    #[serde(default, deserialize_with = "number::int")]
    pub(crate) total_pages: u32,
}

/// `Url`: a URL the API hands out (where to follow build logs).
#[derive(serde::Deserialize)]
pub(crate) struct UrlAnswer {
    pub(crate) url: String,
}
