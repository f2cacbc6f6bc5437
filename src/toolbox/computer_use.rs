//! Computer use (`/computeruse/...`): the sandbox's desktop, driven through
//! its toolbox.
//!
//! [`ComputerUse`] starts and stops the desktop's processes and reports on
//! them; its areas do the rest: [`Mouse`], [`Keyboard`], [`Screenshots`],
//! [`Display`], [`Recordings`] and [`Accessibility`].

/// `Debug` for a handle: its type and its sandbox's id.
macro_rules! sandbox_debug {
    ($handle:ident) => {
        impl std::fmt::Debug for $handle<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($handle))
                    .field("sandbox", &self.tb.sandbox().id())
                    .finish()
            }
        }
    };
}

mod accessibility;
mod geometry;
mod input;
mod recording;
mod screen;

pub use accessibility::{
    Accessibility, AccessibilityNode, AccessibilityNodes, AccessibilityScope, AccessibilityTree,
    FindNodes, NameMatch,
};
pub use geometry::{Point, Rect};
pub use input::{Keyboard, Modifier, Mouse, MouseButton, ScrollDirection};
pub use recording::{Recording, RecordingStatus, Recordings};
pub use screen::{
    CompressedOptions, Display, DisplayInfo, ImageFormat, Screenshot, ScreenshotOptions,
    Screenshots, WindowInfo,
};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ureq::http::Method;

use super::Toolbox;
use crate::api::sandbox::Sandbox;
use crate::check::path_segment;
use crate::error::Result;
use crate::models::enums::string_enum;
use crate::telemetry::traced;
use crate::transport::Request;

/// The desktop of a sandbox: [`crate::Sandbox::computer_use`].
///
/// Start the desktop's processes (an X server, a window manager, VNC)
/// with [`start`](Self::start), then use its areas: [`mouse`](Self::mouse),
/// [`keyboard`](Self::keyboard), [`screenshot`](Self::screenshot),
/// [`display`](Self::display), [`recording`](Self::recording) and
/// [`accessibility`](Self::accessibility). Each is a cheap handle borrowing
/// the sandbox; arguments are checked before any request.
///
/// ```no_run
/// use daytona::toolbox::{MouseButton, ScreenshotOptions};
/// # let daytona = daytona::Daytona::from_env()?;
/// # let sandbox = daytona.get("my-sandbox")?;
///
/// let desktop = sandbox.computer_use();
/// desktop.start()?;
/// desktop.mouse().click((200, 150), MouseButton::Left)?;
/// desktop.keyboard().type_text("hello")?;
/// let shot = desktop.screenshot().take_full_screen(ScreenshotOptions::new())?;
/// std::fs::write("screen.png", shot.bytes()).expect("writable");
/// desktop.stop()?;
/// # Ok::<(), daytona::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct ComputerUse<'s> {
    tb: Toolbox<'s>,
}

sandbox_debug!(ComputerUse);

string_enum! {
    /// How far the desktop is up (`ComputerUseStatusResponse.status`).
    ComputerUseStatus {
        /// Every process of the desktop runs.
        Active = "active",
        /// Some of them run.
        Partial = "partial",
        /// None runs.
        Inactive = "inactive",
        /// The toolbox could not tell.
        Error = "error",
        /// The toolbox has no status to give.
        Unknown = "unknown",
    }
}

/// One process of the desktop (`ProcessStatus`).
///
/// Older toolboxes send the field names capitalized (`Running`, `Pid`):
/// both forms are read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ProcessStatus {
    /// Whether it runs.
    #[serde(default, alias = "Running")]
    pub running: bool,
    /// Its process id, when it runs.
    #[serde(
        default,
        alias = "Pid",
        deserialize_with = "crate::models::number::opt_int"
    )]
    pub pid: Option<i64>,
    /// Its start order among the desktop's processes.
    #[serde(
        default,
        alias = "Priority",
        deserialize_with = "crate::models::number::opt_int"
    )]
    pub priority: Option<i64>,
    /// Whether the supervisor restarts it when it exits.
    #[serde(default, alias = "AutoRestart")]
    pub auto_restart: Option<bool>,
}

/// The answer of [`ComputerUse::start`] and [`ComputerUse::stop`]
/// (`ComputerUseStartResponse`, `ComputerUseStopResponse`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ComputerUseProcesses {
    /// The toolbox's message.
    #[serde(default)]
    pub message: String,
    /// Each process of the desktop by name (`xvfb`, `xfce4`, `x11vnc`,
    /// `novnc`); an entry that is not a process status is left out.
    #[serde(default, rename = "status", deserialize_with = "process_map")]
    pub processes: BTreeMap<String, ProcessStatus>,
}

fn process_map<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<BTreeMap<String, ProcessStatus>, D::Error> {
    let raw = Option::<BTreeMap<String, serde_json::Value>>::deserialize(d)?;
    Ok(raw
        .into_iter()
        .flatten()
        .filter_map(|(name, v)| Some((name, serde_json::from_value(v).ok()?)))
        .collect())
}

/// `ComputerUseStatusResponse`.
#[derive(Deserialize)]
struct StatusAnswer {
    #[serde(default = "unknown_status")]
    status: ComputerUseStatus,
}

fn unknown_status() -> ComputerUseStatus {
    ComputerUseStatus::Unknown
}

/// `ProcessStatusResponse`.
#[derive(Deserialize)]
struct RunningAnswer {
    #[serde(default)]
    running: bool,
}

/// `ProcessLogsResponse`.
#[derive(Deserialize)]
struct LogsAnswer {
    #[serde(default)]
    logs: String,
}

/// `ProcessErrorsResponse`.
#[derive(Deserialize)]
struct ErrorsAnswer {
    #[serde(default)]
    errors: String,
}

impl Sandbox {
    /// Drives the desktop of this sandbox: mouse, keyboard, screenshots,
    /// recordings, accessibility.
    pub fn computer_use(&self) -> ComputerUse<'_> {
        ComputerUse {
            tb: Toolbox::new(self),
        }
    }
}

impl<'s> ComputerUse<'s> {
    /// Starts the desktop's processes (`POST /computeruse/start`) and
    /// returns their status.
    pub fn start(&self) -> Result<ComputerUseProcesses> {
        traced(self.tb.tracing(), "ComputerUse.start", || {
            self.tb
                .transport()
                .json(self.tb.request(Method::POST, &["computeruse", "start"])?)
        })
    }

    /// Stops the desktop's processes (`POST /computeruse/stop`) and
    /// returns their status.
    pub fn stop(&self) -> Result<ComputerUseProcesses> {
        traced(self.tb.tracing(), "ComputerUse.stop", || {
            self.tb
                .transport()
                .json(self.tb.request(Method::POST, &["computeruse", "stop"])?)
        })
    }

    /// Whether the desktop runs (`GET /computeruse/process-status`, as the
    /// official SDKs ask).
    pub fn status(&self) -> Result<ComputerUseStatus> {
        traced(self.tb.tracing(), "ComputerUse.getStatus", || {
            self.summary("process-status")
        })
    }

    /// The same summary from the computer-use plugin itself
    /// (`GET /computeruse/status`).
    pub fn system_status(&self) -> Result<ComputerUseStatus> {
        traced(self.tb.tracing(), "ComputerUse.getSystemStatus", || {
            self.summary("status")
        })
    }

    fn summary(&self, what: &str) -> Result<ComputerUseStatus> {
        let answer: StatusAnswer = self
            .tb
            .transport()
            .json(self.tb.request(Method::GET, &["computeruse", what])?)?;
        Ok(answer.status)
    }

    /// Whether the desktop process `name` (`xvfb`, `xfce4`, `x11vnc`,
    /// `novnc`) runs (`GET /computeruse/process/{name}/status`).
    pub fn is_process_running(&self, name: &str) -> Result<bool> {
        traced(self.tb.tracing(), "ComputerUse.isProcessRunning", || {
            let answer: RunningAnswer = self.process(Method::GET, name, "status")?;
            Ok(answer.running)
        })
    }

    /// Restarts the desktop process `name`
    /// (`POST /computeruse/process/{name}/restart`).
    pub fn restart_process(&self, name: &str) -> Result<()> {
        traced(self.tb.tracing(), "ComputerUse.restartProcess", || {
            let req = self.process_request(Method::POST, name, "restart")?;
            self.tb.transport().empty(req)
        })
    }

    /// What the desktop process `name` wrote to its standard output
    /// (`GET /computeruse/process/{name}/logs`).
    pub fn process_logs(&self, name: &str) -> Result<String> {
        traced(self.tb.tracing(), "ComputerUse.getProcessLogs", || {
            let answer: LogsAnswer = self.process(Method::GET, name, "logs")?;
            Ok(answer.logs)
        })
    }

    /// What the desktop process `name` wrote to its standard error
    /// (`GET /computeruse/process/{name}/errors`).
    pub fn process_errors(&self, name: &str) -> Result<String> {
        traced(self.tb.tracing(), "ComputerUse.getProcessErrors", || {
            let answer: ErrorsAnswer = self.process(Method::GET, name, "errors")?;
            Ok(answer.errors)
        })
    }

    fn process<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        name: &str,
        what: &str,
    ) -> Result<T> {
        let req = self.process_request(method, name, what)?;
        self.tb.transport().json(req)
    }

    fn process_request(&self, method: Method, name: &str, what: &str) -> Result<Request<'static>> {
        path_segment("name", name)?;
        self.tb
            .request(method, &["computeruse", "process", name, what])
    }

    /// The mouse: position, move, click, drag, scroll.
    pub fn mouse(&self) -> Mouse<'s> {
        Mouse::new(self.tb)
    }

    /// The keyboard: type text, press keys and hotkeys.
    pub fn keyboard(&self) -> Keyboard<'s> {
        Keyboard::new(self.tb)
    }

    /// Screenshots of the screen or a region, plain or compressed.
    pub fn screenshot(&self) -> Screenshots<'s> {
        Screenshots::new(self.tb)
    }

    /// The displays and the open windows.
    pub fn display(&self) -> Display<'s> {
        Display::new(self.tb)
    }

    /// Screen recordings: start, stop, list, download, delete.
    pub fn recording(&self) -> Recordings<'s> {
        Recordings::new(self.tb)
    }

    /// The accessibility (AT-SPI) tree: find nodes, focus, invoke, set
    /// values.
    pub fn accessibility(&self) -> Accessibility<'s> {
        Accessibility::new(self.tb)
    }
}
