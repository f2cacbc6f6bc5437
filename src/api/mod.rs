//! The main API's services: the client, a sandbox's handle, snapshots,
//! volumes and the build-log stream they share. They describe requests with
//! [`crate::params`] and [`crate::models`] and send them through
//! [`crate::transport`].

pub(crate) mod build;
pub(crate) mod client;
pub(crate) mod sandbox;
pub(crate) mod snapshots;
pub(crate) mod volumes;
