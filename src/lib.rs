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
//! Arguments are checked before any request ([`Error::Validation`]), the
//! configuration by [`Daytona::new`] ([`Error::Config`]). Match errors with
//! the predicates ([`Error::is_not_found`], [`Error::is_timeout`],
//! [`Error::is_sandbox_failed`], ...), which look through
//! [`Error::AfterCreate`]; [`Error::report`] prints an error with its
//! causes.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `images` | on | `Image`, declarative images and the upload of their build contexts |
//! | `websocket` | on | following command logs as they are written (`toolbox::LogStream`), PTY sessions (`toolbox::PtyHandle`), the code interpreter (`toolbox::CodeInterpreter`), event-driven waits (`DaytonaConfig::events`; without the feature waits poll only) |
//! | `platform-verifier` | off | `DaytonaConfig::platform_verifier`: the operating system's TLS verifier and trust store |
//! | `testing` | off | `testing::LocalDaytona`, a local simulator of the API and toolbox |
//! | `otel` | off | OpenTelemetry spans and W3C trace context on every request, when `DaytonaConfig::otel_enabled` turns them on (README, "Tracing") |
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
#![cfg_attr(docsrs, feature(doc_cfg))]

// Module map. Each layer uses only the layers below it; the folders are
// the layers, top to bottom:
//
//   testing/        the simulator (feature `testing`); uses the public API
//   toolbox/        services in a sandbox: process (PTY sessions included),
//                   fs, git, the code interpreter, computer use, LSP
//   api/            main-API services: client.rs (Daytona), sandbox.rs
//                   (the handle), wait.rs (what each state change waits
//                   for), snapshots.rs, volumes.rs, build.rs
//                   (build-context upload and build logs)
//   events/         the API's real-time state changes (Socket.IO over
//                   transport/ws.rs, feature `websocket`), heard by waits
//   build_context/  build contexts to the object store: tar, SigV4 (feature
//                   `images`); knows the transport, not the client
//   transport/      requests: request.rs (description), run.rs (attempts),
//                   retry.rs, redirect.rs (same-origin redirects),
//                   status.rs (error mapping), tls.rs, poll.rs, page.rs,
//                   date.rs, ws.rs (WebSocket connections);
//                   knows no service and no description
//   params/         descriptions: sandbox, listing and snapshot parameters
//   image/          description: the declarative Image and its build contexts
//   telemetry.rs    spans and trace context (feature `otel`); no-ops without
//   config/         settings: DaytonaConfig, retry and poll policies, secrets
//   check.rs        argument checks (Error::Validation)
//   local_file.rs   opening local files to read: regular files only
//   pattern.rs      wildcards in one path component (Go's filepath.Match),
//                   for image sources and the simulator's file search
//   error/          the Error type and its report
//   models/         wire data: the API's serde types
//
// A client and its handle know each other (api/client.rs, api/sandbox.rs);
// nothing else forms a cycle.

mod api;
#[cfg(feature = "images")]
mod build_context;
mod check;
mod config;
mod deadline;
mod error;
mod events;
#[cfg(feature = "images")]
pub mod image;
mod local_file;
pub mod models;
mod params;
#[cfg(any(feature = "images", feature = "testing"))]
mod pattern;
mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod toolbox;
mod transport;

/// The test suite's temporary directories, for the unit tests too.
#[cfg(test)]
#[path = "../tests/temp/mod.rs"]
mod test_temp;

pub use api::client::{Daytona, SandboxPage};
pub use api::sandbox::Sandbox;
pub use api::snapshots::Snapshots;
pub use api::volumes::Volumes;
pub use config::{DaytonaConfig, PollSchedule, RetryPolicy, DEFAULT_API_URL, WAIT_FOREVER};
pub use error::{ApiError, Error, ErrorReport, Result};
#[cfg(feature = "images")]
pub use image::{BuildContext, Image, PipInstallOptions, PyprojectOptions};
pub use models::{
    GpuType, SandboxClass, SandboxInfo, SandboxState, Snapshot, SnapshotPage, SnapshotState,
    Volume, VolumeMount, VolumeState,
};
pub use params::list::{ListSandboxes, SandboxSort};
pub use params::sandbox::CreateSandbox;
pub use params::snapshot::{CreateSnapshot, ListSnapshots, SnapshotSort, DEFAULT_SNAPSHOT_TIMEOUT};
pub use params::{
    CodeLanguage, ImageSpec, Labels, NetworkSettings, Resize, Resources, SortOrder,
    CODE_TOOLBOX_LANGUAGE_LABEL,
};
pub use toolbox::{ComputerUse, FileSystem, Git, LspLanguage, LspServer, Process};
pub use transport::page::Pages;
pub use transport::API_VERSION;
/// The URL type of the crate's API (`Daytona::api_url`, ...), from the
/// `url` crate.
pub use url::Url;

// Compile-time checks that what the documentation shares across threads
// can be: the client, its handles, the error (`Send + Sync`), the lazy
// listing (`Send`: it holds the page fetch, a `FnMut`), and the streams
// and terminals.
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Daytona>();
    send_sync::<Sandbox>();
    send_sync::<SandboxPage>();
    send_sync::<Snapshots>();
    send_sync::<Volumes>();
    send_sync::<Error>();
    send_sync::<DaytonaConfig>();
    send_sync::<Process<'static>>();
    send_sync::<FileSystem<'static>>();
    send_sync::<Git<'static>>();
    send_sync::<ComputerUse<'static>>();
    send_sync::<LspServer<'static>>();
    send::<Pages<Sandbox>>();
    send::<Pages<Snapshot>>();
    #[cfg(feature = "websocket")]
    send::<toolbox::LogStream<'static>>();
    // A terminal: its output half reads on a thread of its own (`Send`),
    // its input half is shared by reference (`Send + Sync`).
    #[cfg(feature = "websocket")]
    send::<toolbox::PtyHandle<'static>>();
    #[cfg(feature = "websocket")]
    send::<toolbox::PtyReader>();
    #[cfg(feature = "websocket")]
    send_sync::<toolbox::PtyWriter<'static>>();
    #[cfg(feature = "websocket")]
    send_sync::<toolbox::CodeInterpreter<'static>>();
    #[cfg(feature = "websocket")]
    send::<toolbox::CodeRun<'static>>();
};

/// The README's examples, compiled as doc tests so that they stay true.
#[cfg(all(doctest, feature = "images", feature = "websocket"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
