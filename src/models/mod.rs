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
pub(crate) use sandbox::{SandboxLabels, SandboxListAnswer, SandboxPageMeta};
pub(crate) use snapshot::SnapshotPageMeta;
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

/// `Url`: a URL the API hands out (where to follow build logs).
#[derive(serde::Deserialize)]
pub(crate) struct UrlAnswer {
    pub(crate) url: String,
}
