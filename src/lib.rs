//! A blocking Rust SDK for [Daytona](https://daytona.io) sandboxes.
//!
//! Create a sandbox, wait until it runs, manage its lifecycle, list
//! sandboxes lazily — with plain blocking calls on `ureq`, no async runtime.
//!
//! ```no_run
//! use daytona::{CreateSandbox, Daytona, ListSandboxes};
//!
//! // Reads DAYTONA_API_KEY (and DAYTONA_API_URL, DAYTONA_TARGET) from the environment.
//! let daytona = Daytona::from_env()?;
//!
//! // Create and wait until started: one 60 s deadline covers both.
//! let mut sandbox = daytona.create(CreateSandbox::new().label("purpose", "demo"))?;
//! println!("created {} ({:?})", sandbox.id(), sandbox.state());
//!
//! // Pages are fetched only as the loop needs them.
//! for sb in daytona.list(ListSandboxes::new().label("purpose", "demo")) {
//!     println!("{}", sb?.id());
//! }
//!
//! sandbox.delete()?;
//! # Ok::<(), daytona::Error>(())
//! ```
//!
//! # Errors
//!
//! Every operation returns [`Result`]; [`Error`] says what failed, keeps the
//! server's status and message, and never contains the credentials.
//! Arguments are checked before any request ([`Error::Validation`]).
//!
//! # Reliability
//!
//! Every request has a timeout, every wait a deadline, every retry loop an
//! attempt cap. Idempotent requests are retried on transport failures and on
//! 408/429/502/503/504 with exponential backoff and jitter, honouring
//! `Retry-After`; a POST is retried only on 429 or a refused connection, so a
//! create is never sent twice. See [`RetryPolicy`] and [`PollSchedule`].

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod api;
#[cfg(feature = "images")]
mod build_context;
mod config;
mod error;
#[cfg(feature = "images")]
pub mod image;
pub mod models;
mod params;
#[cfg(feature = "testing")]
pub mod testing;
pub mod toolbox;
mod transport;

pub use api::client::Daytona;
pub use api::sandbox::Sandbox;
pub use api::snapshots::{
    CreateSnapshot, ListSnapshots, SnapshotSort, Snapshots, DEFAULT_SNAPSHOT_TIMEOUT,
};
pub use api::volumes::Volumes;
pub use config::{DaytonaConfig, RetryPolicy, DEFAULT_API_URL};
pub use error::{ApiError, Error, Result};
#[cfg(feature = "images")]
pub use image::{Context, Image, PipInstallOptions, PyprojectOptions};
pub use models::{
    SandboxInfo, SandboxState, Snapshot, SnapshotPage, SnapshotState, Volume, VolumeMount,
    VolumeState,
};
pub use params::list::{ListSandboxes, SandboxSort, SortOrder};
pub use params::{
    CodeLanguage, CreateSandbox, ImageSpec, Labels, NetworkSettings, Resize, Resources,
    CODE_TOOLBOX_LANGUAGE_LABEL,
};
pub use toolbox::{ComputerUse, FileSystem, Git, LspLanguage, LspServer, Process};
pub use transport::page::Pages;
pub use transport::poll::{PollSchedule, WAIT_FOREVER};
pub use transport::API_VERSION;
/// The URL type of the crate's API (`Daytona::api_url`, ...), from the
/// `url` crate.
pub use url::Url;

/// The README's examples, compiled as doc tests so that they stay true.
#[cfg(all(doctest, feature = "images", feature = "websocket"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
