//! Volumes: storage that outlives sandboxes.

use std::time::Duration;

use serde::Deserialize;
use ureq::http::Method;

use crate::api::client::Daytona;
use crate::api::wait::limit;
use crate::check::{non_empty, path_segment};
use crate::error::{Error, Result};
use crate::models::{Volume, VolumeState};
use crate::telemetry::traced;
use crate::transport::poll::{wait_until, Check, Held, Look};
use crate::transport::Answer;

/// Volume operations: [`Daytona::volumes`].
///
/// ```no_run
/// use daytona::{CreateSandbox, Daytona, VolumeMount};
///
/// let daytona = Daytona::from_env()?;
/// let volume = daytona.volumes().get_or_create("datasets")?;
/// let volume = daytona.volumes().wait_until_ready(&volume.name)?;
/// let sandbox = daytona.create(CreateSandbox::new().volume(VolumeMount::new(&volume.id, "/data")))?;
/// # Ok::<(), daytona::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Volumes {
    client: Daytona,
}

impl Daytona {
    /// Volume operations.
    pub fn volumes(&self) -> Volumes {
        Volumes {
            client: self.clone(),
        }
    }
}

impl Volumes {
    /// Every volume of the organization, deleted ones left out.
    pub fn list(&self) -> Result<Vec<Volume>> {
        self.list_where(false)
    }

    /// Every volume of the organization, deleted ones included.
    pub fn list_including_deleted(&self) -> Result<Vec<Volume>> {
        self.list_where(true)
    }

    fn list_where(&self, deleted: bool) -> Result<Vec<Volume>> {
        traced(
            self.client.transport().tracing(),
            "VolumeService.list",
            || {
                let req = self.client.api(Method::GET, &["volumes"]);
                let req = if deleted {
                    req.query("includeDeleted", "true")
                } else {
                    req
                };
                self.client.transport().json(req.answer(Answer::Page))
            },
        )
    }

    /// The volume named `name`.
    pub fn get(&self, name: &str) -> Result<Volume> {
        traced(
            self.client.transport().tracing(),
            "VolumeService.get",
            || {
                path_segment("name", name)?;
                self.client
                    .transport()
                    .json(self.client.api(Method::GET, &["volumes", "by-name", name]))
            },
        )
    }

    /// The volume named `name`, created when there is none.
    pub fn get_or_create(&self, name: &str) -> Result<Volume> {
        traced(
            self.client.transport().tracing(),
            "VolumeService.getOrCreate",
            || {
                match self.get(name) {
                    Err(e) if e.is_not_found() => match self.create(name) {
                        // Someone else created it in between.
                        Err(e) if e.is_conflict() => self.get(name),
                        other => other,
                    },
                    other => other,
                }
            },
        )
    }

    /// Creates a volume (in state `pending_create`; see
    /// [`wait_until_ready`](Self::wait_until_ready)).
    pub fn create(&self, name: &str) -> Result<Volume> {
        traced(
            self.client.transport().tracing(),
            "VolumeService.create",
            || {
                non_empty("name", name)?;
                self.client.transport().json(
                    self.client
                        .api(Method::POST, &["volumes"])
                        .json(&serde_json::json!({ "name": name })),
                )
            },
        )
    }

    /// Deletes a volume. A volume mounted by a sandbox is a conflict
    /// ([`Error::is_conflict`]).
    pub fn delete(&self, volume: &Volume) -> Result<()> {
        traced(
            self.client.transport().tracing(),
            "VolumeService.delete",
            || {
                path_segment("id", &volume.id)?;
                self.client.transport().empty(
                    self.client
                        .api(Method::DELETE, &["volumes", &volume.id])
                        .gone_is_done(),
                )
            },
        )
    }

    /// Waits until the volume named `name` is `ready`, within the client's
    /// wait timeout (60 s by default); `error`, and the states of a volume
    /// being deleted (`pending_delete`, `deleting`, `deleted`), fail at once
    /// with [`Error::VolumeFailed`].
    pub fn wait_until_ready(&self, name: &str) -> Result<Volume> {
        self.wait_until_ready_with_timeout(name, self.client.inner.wait_timeout)
    }

    /// [`wait_until_ready`](Self::wait_until_ready) within `timeout`
    /// ([`crate::WAIT_FOREVER`] waits without limit).
    pub fn wait_until_ready_with_timeout(&self, name: &str, timeout: Duration) -> Result<Volume> {
        traced(
            self.client.transport().tracing(),
            "VolumeService.waitUntilReady",
            || {
                path_segment("name", name)?;
                let deadline = limit(timeout)?;
                let operation = format!("waiting for volume {name} to be ready");
                let schedule = self.client.inner.poll.clone();
                let check = |volume: Volume| match volume.state {
                    VolumeState::Ready => Ok(Check::Done(volume)),
                    // States it cannot become ready from. The reason is
                    // the server's text: it may echo the credential.
                    VolumeState::Error
                    | VolumeState::PendingDelete
                    | VolumeState::Deleting
                    | VolumeState::Deleted => {
                        Err(self.client.transport().redact(Error::VolumeFailed {
                            name: volume.name,
                            state: volume.state,
                            reason: volume.error_reason,
                        }))
                    }
                    _ => Ok(Check::Pending),
                };
                let mut listen = self.client.listen().listen(name);
                wait_until(
                    &schedule,
                    deadline,
                    self.client.transport().max_retry_after(),
                    &operation,
                    Held::Stale,
                    listen.as_deref_mut(),
                    |look| {
                        let volume: Volume = match look {
                            Look::Poll(d) => self.client.transport().json(
                                self.client
                                    .api(Method::GET, &["volumes", "by-name", name])
                                    .deadline(*d),
                            )?,
                            Look::Heard(change) => match Volume::deserialize(change) {
                                Ok(v) if v.name == name => v,
                                _ => return Ok(Check::Pending),
                            },
                        };
                        check(volume)
                    },
                )
            },
        )
    }
}
