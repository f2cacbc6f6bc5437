//! Working inside a running sandbox through its toolbox API
//! (`{toolboxProxyUrl}/{sandboxId}/...`): processes and sessions
//! ([`Process`], PTY sessions included), files ([`FileSystem`]), git
//! ([`Git`]), the stateful code interpreter (`CodeInterpreter`), the
//! desktop ([`ComputerUse`]) and language servers ([`LspServer`]).
//!
//! Toolbox requests go through the same transport as the main API: same
//! headers, same error mapping, same retry rules. The credentials are sent
//! only to the API and to the sandbox's toolbox base URL.

mod choice;
mod computer_use;
mod fs;
mod git;
#[cfg(feature = "websocket")]
mod interpreter;
mod lsp;
mod process;

pub use computer_use::{
    Accessibility, AccessibilityNode, AccessibilityNodes, AccessibilityScope, AccessibilityTree,
    CompressedOptions, ComputerUse, ComputerUseProcesses, ComputerUseStatus, Display, DisplayInfo,
    FindNodes, ImageFormat, Keyboard, Modifier, Mouse, MouseButton, NameMatch, Point,
    ProcessStatus, Recording, RecordingStatus, Recordings, Rect, Screenshot, ScreenshotOptions,
    Screenshots, ScrollDirection, WindowInfo,
};
pub use fs::{
    Download, DownloadResult, Downloaded, FileInfo, FilePermissions, FileSystem, Match, Progress,
    ReplaceResult, TransferOptions, Upload, DEFAULT_MAX_IN_MEMORY,
};
pub use git::{
    CloneOptions, CommitOptions, FileState, FileStatus, Git, GitCommitInfo, GitCredentials,
    GitStatus,
};
#[cfg(feature = "websocket")]
pub use interpreter::{
    CodeInterpreter, CodeRun, ContextOptions, ExecutionError, InterpreterContext, OutputChunk,
    RunCodeOptions, RunCodeResult,
};
#[cfg(feature = "testing")]
pub(crate) use lsp::file_uri;
pub use lsp::{
    CompletionItem, CompletionItemKind, CompletionList, Documentation, Location, LspLanguage,
    LspServer, LspSymbol, MarkupKind, Position, Range, SymbolKind,
};
pub use process::{
    Chart, ChartElement, ChartKind, CodeRunOptions, CodeRunResponse, Command, ExecOptions,
    ExecResponse, Process, Session, SessionCommandLogs, SessionExecOptions, SessionExecResponse,
};
#[cfg(feature = "websocket")]
pub use process::{FollowOptions, LogChunk, LogStream};
#[cfg(feature = "websocket")]
pub use process::{PtyExit, PtyHandle, PtyOptions, PtyReader, PtySessionInfo, PtyWriter};

use serde::Deserialize;
use ureq::http::Method;
use url::Url;

use crate::api::sandbox::Sandbox;
use crate::config::base_url;
use crate::error::{Error, Result};
use crate::telemetry::{traced, Tracing};
use crate::transport::request::push_segments;
#[cfg(feature = "websocket")]
use crate::transport::{
    poll::Deadline,
    ws::{Limits, Socket, Target},
};
use crate::transport::{Answer, Request, Transport};

/// What every toolbox handle holds: the sandbox it works in.
#[derive(Clone, Copy)]
pub(crate) struct Toolbox<'s> {
    sandbox: &'s Sandbox,
}

impl<'s> Toolbox<'s> {
    pub(crate) fn new(sandbox: &'s Sandbox) -> Self {
        Toolbox { sandbox }
    }

    pub(crate) fn sandbox(&self) -> &'s Sandbox {
        self.sandbox
    }

    /// Tracing of its operations: with the sandbox's id on their spans.
    pub(crate) fn tracing(&self) -> Tracing {
        self.sandbox.tracing()
    }

    pub(crate) fn transport(&self) -> &'s Transport {
        self.sandbox.client().transport()
    }

    /// The toolbox base: `toolboxProxyUrl` + `/` + the sandbox id.
    fn base(&self) -> Result<Url> {
        let info = self.sandbox.info();
        // The server's data: a URL that cannot be used is a decode error.
        let mut base = base_url(&info.toolbox_proxy_url).map_err(|why| Error::Decode {
            operation: format!("sandbox {}", info.id),
            message: format!("its toolboxProxyUrl {:?} {why}", info.toolbox_proxy_url),
            excerpt: String::new(),
        })?;
        push_segments(&mut base, &[&info.id])?;
        Ok(base)
    }

    /// A request to `segments` below the toolbox base (its JSON answer
    /// capped as an [`Answer::Listing`]).
    pub(crate) fn request(&self, method: Method, segments: &[&str]) -> Result<Request<'static>> {
        Ok(Request::new(method, &self.base()?, segments).answer(Answer::Listing))
    }

    /// Opens the WebSocket of `segments` (with `query`) below the toolbox
    /// base, with the SDK's credentials and `limits`; the opening is retried
    /// as a GET is, within `deadline`. `http` becomes `ws`, `https` `wss`.
    #[cfg(feature = "websocket")]
    pub(crate) fn websocket(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
        limits: Limits,
        deadline: Deadline,
    ) -> Result<Socket> {
        let operation = self.request(Method::GET, segments)?.operation().to_string();
        let mut url = self.base()?;
        push_segments(&mut url, segments)?;
        for (name, value) in query {
            url.query_pairs_mut().append_pair(name, value);
        }
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        // http(s) and ws(s) are all "special" schemes: the change is allowed.
        url.set_scheme(scheme).map_err(|()| Error::Decode {
            operation: format!("sandbox {}", self.sandbox.id()),
            message: format!("no WebSocket URL for the toolbox URL {url}"),
            excerpt: String::new(),
        })?;
        let target = Target {
            url: &url,
            operation: &operation,
            protocols: &[],
            credential: true,
        };
        self.transport().websocket(&target, limits, Some(deadline))
    }
}

/// `UserHomeDirResponse` / `WorkDirResponse`.
#[derive(Deserialize)]
struct Dir {
    dir: String,
}

impl Sandbox {
    /// Runs commands and code, and manages sessions, in this sandbox.
    pub fn process(&self) -> Process<'_> {
        Process::new(Toolbox::new(self))
    }

    /// Reads and writes files in this sandbox.
    pub fn fs(&self) -> FileSystem<'_> {
        FileSystem::new(Toolbox::new(self))
    }

    /// Runs git operations in this sandbox.
    pub fn git(&self) -> Git<'_> {
        Git::new(Toolbox::new(self))
    }

    /// The home directory of the sandbox's user.
    pub fn user_home_dir(&self) -> Result<String> {
        traced(self.tracing(), "Sandbox.getUserHomeDir", || {
            let tb = Toolbox::new(self);
            let dir: Dir = tb
                .transport()
                .json(tb.request(Method::GET, &["user-home-dir"])?)?;
            Ok(dir.dir)
        })
    }

    /// The working directory relative paths are resolved against.
    pub fn work_dir(&self) -> Result<String> {
        traced(self.tracing(), "Sandbox.getWorkDir", || {
            let tb = Toolbox::new(self);
            let dir: Dir = tb
                .transport()
                .json(tb.request(Method::GET, &["work-dir"])?)?;
            Ok(dir.dir)
        })
    }
}

/// Shows the names of environment variables, never their values.
#[cfg(feature = "websocket")]
pub(crate) struct EnvNames<'a>(pub(crate) &'a std::collections::BTreeMap<String, String>);

#[cfg(feature = "websocket")]
impl std::fmt::Debug for EnvNames<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}
