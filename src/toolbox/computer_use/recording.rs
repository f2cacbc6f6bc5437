//! Screen recordings (`/computeruse/recordings/...`).

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};
use ureq::http::Method;

use crate::check::{non_empty, path_segment};
use crate::error::{Error, Result};
use crate::models::enums::string_enum;
use crate::telemetry::traced;
use crate::toolbox::fs::{download_body, Download};
use crate::toolbox::Toolbox;

string_enum! {
    /// The state of a recording.
    RecordingStatus {
        /// Being recorded.
        Recording = "recording",
        /// Stopped; its file is complete.
        Completed = "completed",
        /// The recorder failed.
        Failed = "failed",
    }
}

/// A screen recording (`Recording`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Recording {
    /// Its id.
    pub id: String,
    /// The name of its file.
    #[serde(default)]
    pub file_name: String,
    /// The path of its file in the sandbox.
    #[serde(default)]
    pub file_path: String,
    /// When it started (RFC 3339).
    #[serde(default)]
    pub start_time: String,
    /// When it stopped (RFC 3339), once stopped.
    #[serde(default)]
    pub end_time: Option<String>,
    /// Its state.
    pub status: RecordingStatus,
    /// How long it is, once stopped.
    #[serde(
        default,
        rename = "durationSeconds",
        deserialize_with = "seconds",
        serialize_with = "as_seconds"
    )]
    pub duration: Option<Duration>,
    /// The size of its file in bytes, once stopped.
    #[serde(default, deserialize_with = "crate::models::number::opt_int")]
    pub size_bytes: Option<i64>,
}

/// Seconds as a number; a value no `Duration` holds (negative, not a
/// number, too large) reads as none.
fn seconds<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<Duration>, D::Error> {
    let secs = Option::<f64>::deserialize(d)?;
    Ok(secs.and_then(|s| Duration::try_from_secs_f64(s).ok()))
}

fn as_seconds<S: serde::Serializer>(
    d: &Option<Duration>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_f64(d.as_secs_f64()),
        None => s.serialize_none(),
    }
}

/// `ListRecordingsResponse`.
#[derive(Deserialize)]
struct RecordingList {
    #[serde(default, deserialize_with = "crate::models::null_as_default")]
    recordings: Vec<Recording>,
}

/// Screen recordings of a sandbox's desktop:
/// [`super::ComputerUse::recording`].
///
/// A recording is a video file in the sandbox; downloads stream it to a
/// local file or a writer in constant memory, within the client's transfer
/// timeout ([`crate::DaytonaConfig::transfer_timeout`]).
///
/// ```no_run
/// # let daytona = daytona::Daytona::from_env()?;
/// # let sandbox = daytona.get("my-sandbox")?;
/// let recordings = sandbox.computer_use().recording();
/// let rec = recordings.start(Some("login flow"))?;
/// // ... drive the desktop ...
/// let done = recordings.stop(&rec.id)?;
/// println!("{} lasted {:?}", done.file_name, done.duration);
/// let size = recordings.download(&rec.id, "videos/login.mp4")?;
/// println!("{size} bytes saved");
/// recordings.delete(&rec.id)?;
/// # Ok::<(), daytona::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct Recordings<'s> {
    tb: Toolbox<'s>,
}

sandbox_debug!(Recordings);

/// The longest label the toolbox takes.
const MAX_LABEL: usize = 100;

/// A label the toolbox takes: 1 to 100 characters among letters, digits,
/// spaces, `.`, `_` and `-`, not starting with a dot (it names the file).
fn check_label(label: &str) -> Result<()> {
    let problem = if label.trim().is_empty() {
        Some("must not be empty".to_string())
    } else if label.len() > MAX_LABEL {
        Some(format!(
            "must be at most {MAX_LABEL} bytes, got {}",
            label.len()
        ))
    } else if label.trim_start().starts_with('.') {
        Some("must not start with a dot".to_string())
    } else {
        label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || c.is_ascii_whitespace() || "._-".contains(*c)))
            .map(|c| format!("may hold only letters, digits, spaces, `.`, `_` and `-`, not {c:?}"))
    };
    match problem {
        Some(message) => Err(Error::validation("label", message)),
        None => Ok(()),
    }
}

impl<'s> Recordings<'s> {
    pub(super) fn new(tb: Toolbox<'s>) -> Self {
        Recordings { tb }
    }

    /// Starts recording the screen (`POST /computeruse/recordings/start`);
    /// `label` names the file (letters, digits, spaces, `.`, `_`, `-`; at
    /// most 100).
    pub fn start(&self, label: Option<&str>) -> Result<Recording> {
        traced(self.tb.tracing(), "Recording.start", || {
            if let Some(label) = label {
                check_label(label)?;
            }
            let body = match label {
                Some(label) => serde_json::json!({ "label": label }),
                None => serde_json::json!({}),
            };
            self.tb.transport().json(
                self.tb
                    .request(Method::POST, &["computeruse", "recordings", "start"])?
                    .json(&body),
            )
        })
    }

    /// Stops the recording `id` and returns it complete
    /// (`POST /computeruse/recordings/stop`).
    pub fn stop(&self, id: &str) -> Result<Recording> {
        traced(self.tb.tracing(), "Recording.stop", || {
            non_empty("id", id)?;
            self.tb.transport().json(
                self.tb
                    .request(Method::POST, &["computeruse", "recordings", "stop"])?
                    .json(&serde_json::json!({ "id": id })),
            )
        })
    }

    /// Every recording, running and stopped (`GET /computeruse/recordings`).
    pub fn list(&self) -> Result<Vec<Recording>> {
        traced(self.tb.tracing(), "Recording.list", || {
            let answer: RecordingList = self.tb.transport().json(
                self.tb
                    .request(Method::GET, &["computeruse", "recordings"])?,
            )?;
            Ok(answer.recordings)
        })
    }

    /// The recording `id` (`GET /computeruse/recordings/{id}`). A missing
    /// one is an error for which [`Error::is_not_found`] is true.
    pub fn get(&self, id: &str) -> Result<Recording> {
        traced(self.tb.tracing(), "Recording.get", || {
            path_segment("id", id)?;
            self.tb.transport().json(
                self.tb
                    .request(Method::GET, &["computeruse", "recordings", id])?,
            )
        })
    }

    /// Deletes the recording `id` and its file
    /// (`DELETE /computeruse/recordings/{id}`).
    pub fn delete(&self, id: &str) -> Result<()> {
        traced(self.tb.tracing(), "Recording.delete", || {
            path_segment("id", id)?;
            self.tb.transport().empty(
                self.tb
                    .request(Method::DELETE, &["computeruse", "recordings", id])?,
            )
        })
    }

    /// Downloads the file of the recording `id` to the local path `local`
    /// and returns its size (`GET /computeruse/recordings/{id}/download`).
    /// It is written to a temporary file beside `local` and renamed when
    /// complete (missing parent folders are created): an interrupted
    /// download leaves no file.
    pub fn download(&self, id: &str, local: impl AsRef<Path>) -> Result<u64> {
        traced(self.tb.tracing(), "Recording.download", || {
            self.download_into(id, Download::to_file(id, local))
        })
    }

    /// Downloads the file of the recording `id` into `writer` as it arrives
    /// and returns the number of bytes written
    /// (`GET /computeruse/recordings/{id}/download`). If the transfer
    /// fails midway, what was written stays written.
    pub fn download_to(&self, id: &str, writer: &mut (impl Write + ?Sized)) -> Result<u64> {
        traced(self.tb.tracing(), "Recording.download", || {
            self.download_into(id, Download::to_writer(id, writer))
        })
    }

    fn download_into(&self, id: &str, download: Download<'_>) -> Result<u64> {
        path_segment("id", id)?;
        let timeout = self.tb.sandbox().client().inner.transfer_timeout;
        let req = self
            .tb
            .request(Method::GET, &["computeruse", "recordings", id, "download"])?
            .header("Accept", "application/octet-stream")
            .timeout(timeout);
        Ok(download_body(self.tb.transport(), req, download)?.size())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        for ok in ["demo", "Login flow 2", "a.b_c-d", &"x".repeat(100)] {
            assert!(check_label(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "  ",
            ".hidden",
            "a/b",
            "a\\b",
            "é",
            "semi;colon",
            &"x".repeat(101),
        ] {
            let e = check_label(bad).unwrap_err();
            assert!(e.to_string().contains("`label`"), "{bad}: {e}");
        }
    }

    #[test]
    fn durations_are_read_leniently() {
        let mut v = serde_json::json!({
            "id": "r1", "fileName": "f.mp4", "filePath": "/tmp/f.mp4",
            "startTime": "2026-01-01T00:00:00Z", "status": "completed",
            "durationSeconds": 1.5, "sizeBytes": 10
        });
        let r: Recording = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(r.duration, Some(Duration::from_millis(1500)));
        assert_eq!(r.status, RecordingStatus::Completed);
        v["durationSeconds"] = serde_json::json!(-3.0);
        v["status"] = serde_json::json!("paused");
        let r: Recording = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(r.duration, None);
        assert_eq!(r.status, RecordingStatus::Other("paused".into()));
        v["durationSeconds"] = serde_json::json!(1e300);
        let r: Recording = serde_json::from_value(v).unwrap();
        assert_eq!(r.duration, None);
    }
}
