//! An offline Daytona: an in-process simulator of the API and the toolbox,
//! for the quickstart without credentials and for the tests of code that
//! uses this crate (feature `testing`).
//!
//! ```
//! use daytona::testing::{ExecResult, LocalDaytona};
//! use daytona::CreateSandbox;
//!
//! let local = LocalDaytona::builder()
//!     .scripted()
//!     .on_exec("make test", ExecResult::new(0, "ok"))
//!     .start()?;
//! let daytona = local.client();
//! let mut sandbox = daytona.create(CreateSandbox::new())?;
//! let run = sandbox.process().exec("make test")?;
//! assert_eq!((run.exit_code, run.result.as_str()), (0, "ok"));
//! sandbox.delete()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`LocalDaytona`] listens on `127.0.0.1` on a free port and stops when
//! dropped; several can run at once. It speaks the wire contract of the real
//! API, statefully: sandboxes go through `creating` (or `pending_build`,
//! `building_snapshot`) → `starting` → `started`, stop, start, archive and
//! delete go through their transitional states, listings are paged with
//! cursors, snapshots and volumes have their states, build logs stream.
//!
//! Each sandbox is a real temporary directory: the file operations act on
//! it (an absolute sandbox path `/a/b` is `<dir>/a/b`; relative paths and
//! the working directory are `/home/daytona`).
//!
//! **Commands are NOT isolated.** In the default host mode, `exec`,
//! `code_run` and session commands run on this machine, as the current user,
//! with `sh -c` and the sandbox directory's `/home/daytona` as working
//! directory (and `HOME`): they can read and change anything the user can,
//! and absolute paths in a command are paths of this machine. Run only
//! commands you would run in a terminal. In scripted mode
//! ([`LocalDaytonaBuilder::scripted`]) nothing runs: commands get the
//! answers registered with `on_exec`.
//!
//! Only its own clients reach it: each instance draws a random API key
//! ([`LocalDaytona::api_key`], carried by [`LocalDaytona::client`]) and
//! answers 401 to any other; it answers only requests whose `Host` is its
//! own `127.0.0.1:PORT` (421 otherwise, against DNS rebinding); it serves
//! at most 128 connections at once, request heads up to 64 KiB and bodies
//! up to 256 MiB; it keeps at most 64 MiB of a command's output.
//!
//! PTY sessions and the code interpreter are served over WebSocket as the
//! toolbox serves them. In host mode a PTY is a real pseudo-terminal
//! running `sh -i` on this machine (in the sandbox directory, with the
//! sandbox's env vars and the session's), and each interpreter context a
//! `python3` process of this machine kept between runs (a context cannot
//! start without `python3`); in scripted mode a PTY is a pretend shell that
//! echoes what is typed and answers each line with its `on_exec` answer
//! (`exit [N]` ends it), and a run of code gets the `on_exec` answer to
//! its code as stdout. A sandbox's stop or deletion ends its PTY
//! sessions, interpreter contexts and sessions (with their commands still
//! running), as Daytona's does; a deleted session ends its commands.
//!
//! Computer use is simulated in both modes, with nothing drawn or typed on
//! this machine: each sandbox has a desktop whose pointer position is
//! kept, whose actions are recorded ([`LocalDaytona::desktop_events`]),
//! whose screenshots are real grey PNG or JPEG images of the size asked
//! (the pointer drawn as a cross on PNG when asked), whose recordings are
//! files in the sandbox directory, and whose windows and accessibility tree
//! are what the test sets ([`LocalDaytona::set_windows`],
//! [`LocalDaytona::set_accessibility_tree`]).
//!
//! Language servers answer what was registered with
//! [`LocalDaytona::on_document_symbols`], [`LocalDaytona::on_sandbox_symbols`]
//! and [`LocalDaytona::on_completions`]; without an answer, scripted mode
//! gives empty lists, and host mode a tiny built-in scan of the sandbox's
//! files (NOT a language server): definitions (`def`, `class`, top-level
//! assignments in Python; `function`, `class`, `interface`, `enum`,
//! top-level `const`/`let`/`var` in TypeScript and JavaScript) and, for
//! completions, the identifiers of the file that start with the word
//! before the position.
//!
//! A sandbox's own snapshot goes through `snapshotting` and makes a
//! snapshot whose sandboxes start with a copy of its files; an archived
//! sandbox starts again through `restoring` (also when the start is asked
//! while it is `archiving`: once the archive has completed). Signed
//! preview URLs have a random token and an expiry; the URL itself needs
//! no API key and is refused (401) once expired. Session command logs are
//! followed over WebSocket as the toolbox frames them.
//!
//! The API's notification gateway (`/api/socket.io/`) announces every
//! change of a sandbox, snapshot or volume within a few milliseconds, as
//! the API does (the key is checked in its auth payload): the SDK's waits
//! hear them as they would from Daytona, and poll only as a safety net.
//!
//! Git in host mode runs this machine's `git` (no shell) in the sandbox's
//! directory with the sandbox's env vars; credentials go through a
//! credential helper reading the environment, never the arguments; no
//! `git` on this machine is a clear error. Scripted mode runs no `git`.
//!
//! Not simulated (answered 501 naming the operation): previews that serve
//! anything (a valid signed URL answers 501), build contexts with local
//! files (the object store), git in scripted mode.

mod api;
mod faults;
mod group;
mod server;
mod toolbox;
mod ws;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use faults::{Fault, RecordedRequest, Route};
pub use toolbox::DesktopEvent;

use crate::{Daytona, DaytonaConfig, PollSchedule, RetryPolicy};
use server::{Outcome, Request, Response, Server};

/// A scripted answer to a command (or to the code of a `code_run`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecResult {
    /// The exit code.
    pub exit_code: i32,
    /// The output (stdout and stderr together, as the toolbox returns it).
    pub output: String,
}

impl ExecResult {
    /// An answer with this exit code and output.
    pub fn new(exit_code: i32, output: impl Into<String>) -> Self {
        ExecResult {
            exit_code,
            output: output.into(),
        }
    }

    /// Exit code 0 with this output.
    pub fn ok(output: impl Into<String>) -> Self {
        Self::new(0, output)
    }
}

/// How long simulated operations take.
#[derive(Debug, Clone)]
pub(crate) struct Timing {
    /// Each state transition (`creating` → `starting` → `started`, ...).
    step: Duration,
    /// An image build (its log is spread over it).
    build: Duration,
    /// The limit of a command that sets none (the toolbox's 10 s).
    exec_timeout: Duration,
}

/// State shared by the server's threads.
pub(crate) struct Shared {
    world: Mutex<api::World>,
    faults: Mutex<faults::Faults>,
    requests: Mutex<Vec<RecordedRequest>>,
    scripts: Mutex<HashMap<String, ExecResult>>,
    scripted: bool,
    timing: Timing,
    ptys: toolbox::pty::Ptys,
    interpreters: toolbox::interpreter::Interpreters,
    /// The simulated desktops (computer use).
    desktop: Mutex<toolbox::Desktops>,
    /// Language-server answers and state.
    lsp: Mutex<toolbox::LspWorld>,
    /// The temporary directory holding the sandboxes' directories.
    root: PathBuf,
    base: OnceLock<String>,
    /// The `Host` every request must name: `127.0.0.1:PORT`.
    host: OnceLock<String>,
    /// This instance's API key, random.
    token: String,
    /// Set when the [`LocalDaytona`] is dropped: host commands still
    /// running are killed.
    stopping: AtomicBool,
}

impl Shared {
    /// `http://127.0.0.1:PORT`.
    fn base_url(&self) -> String {
        self.base.get().cloned().unwrap_or_default()
    }

    fn script(&self, key: &str) -> Option<ExecResult> {
        lock(&self.scripts).get(key.trim()).cloned()
    }

    /// The world, to read or change: counted as a change, which the
    /// notification gateway looks for (see [`api::World::version`]).
    fn world(&self) -> std::sync::MutexGuard<'_, api::World> {
        let mut world = lock(&self.world);
        world.touch();
        world
    }

    /// The world, only looked at: for the notification gateway, whose
    /// looking must not count as a change (the scheduled steps it applies
    /// still do).
    fn world_looked_at(&self) -> std::sync::MutexGuard<'_, api::World> {
        lock(&self.world)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Configures a [`LocalDaytona`] before starting it.
#[derive(Debug, Clone)]
#[must_use]
pub struct LocalDaytonaBuilder {
    scripted: bool,
    scripts: HashMap<String, ExecResult>,
    timing: Timing,
}

impl Default for LocalDaytonaBuilder {
    /// What [`LocalDaytona::builder`] returns: host mode, no scripted
    /// answers, state transitions of 5 ms, image builds of 50 ms and a
    /// 10 s time limit for host commands that set none.
    ///
    /// ```
    /// use daytona::testing::LocalDaytonaBuilder;
    ///
    /// let local = LocalDaytonaBuilder::default().scripted().start()?;
    /// let daytona = local.client();
    /// # drop(daytona);
    /// # Ok::<(), daytona::Error>(())
    /// ```
    fn default() -> Self {
        LocalDaytonaBuilder {
            scripted: false,
            scripts: HashMap::new(),
            timing: Timing {
                step: Duration::from_millis(5),
                build: Duration::from_millis(50),
                exec_timeout: Duration::from_secs(10),
            },
        }
    }
}

impl LocalDaytonaBuilder {
    /// Scripted mode: nothing runs on this machine; `exec`, `code_run` and
    /// session commands get the answer registered for their exact command
    /// line (or code) with [`on_exec`](Self::on_exec), and exit code 127
    /// with an explanation when there is none.
    pub fn scripted(mut self) -> Self {
        self.scripted = true;
        self
    }

    /// The answer to the command line (or `code_run` code) `command`,
    /// compared after trimming. Also in host mode, where a registered
    /// command is answered without being run.
    pub fn on_exec(mut self, command: &str, result: ExecResult) -> Self {
        self.scripts.insert(command.trim().to_string(), result);
        self
    }

    /// How long each state transition takes (default 5 ms).
    pub fn state_delay(mut self, delay: Duration) -> Self {
        self.timing.step = delay;
        self
    }

    /// How long an image build takes; its log lines are spread over it
    /// (default 50 ms).
    pub fn build_duration(mut self, duration: Duration) -> Self {
        self.timing.build = duration;
        self
    }

    /// The time limit of host commands that set none (default 10 s, as the
    /// toolbox); a command that outlives its limit is answered with 408.
    pub fn exec_timeout(mut self, timeout: Duration) -> Self {
        self.timing.exec_timeout = timeout;
        self
    }

    /// Starts the simulator.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Io`] when its temporary directory cannot be made,
    /// [`crate::Error::Transport`] when it cannot listen on `127.0.0.1`.
    pub fn start(self) -> crate::Result<LocalDaytona> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let root = std::env::temp_dir().join(format!(
            "daytona-local-{}-{n}-{nanos:08x}",
            std::process::id()
        ));
        // A new directory (not one someone else made, or a link), which
        // only this user may enter: it is in the shared temporary directory.
        let mut new_dir = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut new_dir, 0o700);
        let made = new_dir
            .create(&root)
            .and_then(|()| std::fs::create_dir(root.join("sandboxes")));
        made.map_err(|source| crate::Error::Io {
            path: root.display().to_string(),
            source,
        })?;
        let shared = Arc::new(Shared {
            world: Mutex::new(api::World::new()),
            faults: Mutex::new(faults::Faults::default()),
            requests: Mutex::new(Vec::new()),
            scripts: Mutex::new(self.scripts),
            scripted: self.scripted,
            timing: self.timing,
            ptys: Default::default(),
            interpreters: Default::default(),
            desktop: Mutex::default(),
            lsp: Mutex::default(),
            root: root.clone(),
            base: OnceLock::new(),
            host: OnceLock::new(),
            token: random_token(),
            stopping: AtomicBool::new(false),
        });
        let handler_state = shared.clone();
        let server = match Server::start(Arc::new(move |req| dispatch(&handler_state, req))) {
            Ok(s) => s,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&root);
                return Err(crate::Error::Transport {
                    operation: "listening on 127.0.0.1 for the local simulator".into(),
                    source: Box::new(e),
                });
            }
        };
        let _ = shared.base.set(format!("http://{}", server.addr()));
        let _ = shared.host.set(server.addr().to_string());
        Ok(LocalDaytona {
            server: Some(server),
            shared,
        })
    }
}

/// A simulated Daytona listening on `127.0.0.1`; stopped (its host
/// commands still running killed, its sandbox directories removed) when
/// dropped. See the [module docs](self).
pub struct LocalDaytona {
    server: Option<Server>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for LocalDaytona {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalDaytona")
            .field("url", &self.api_url())
            .field("scripted", &self.shared.scripted)
            .finish()
    }
}

impl LocalDaytona {
    /// Starts a simulator in host mode with the default delays (see
    /// [`LocalDaytonaBuilder::start`] for its errors).
    pub fn start() -> crate::Result<Self> {
        Self::builder().start()
    }

    /// A builder: scripted mode, scripted answers, delays.
    pub fn builder() -> LocalDaytonaBuilder {
        LocalDaytonaBuilder::default()
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.server
            .as_ref()
            .map(Server::addr)
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// The API base URL: `http://127.0.0.1:PORT/api`.
    pub fn api_url(&self) -> String {
        format!("{}/api", self.shared.base_url())
    }

    /// A configuration for it: its URL and key, no environment, fast polls
    /// and retries. Adjust it and pass it to [`Daytona::new`].
    pub fn config(&self) -> DaytonaConfig {
        let retry = RetryPolicy::new()
            .initial_backoff(Duration::from_millis(5))
            .max_backoff(Duration::from_millis(50));
        DaytonaConfig::new()
            .read_env(false)
            .api_key(self.shared.token.as_str())
            .api_url(self.api_url())
            .retry_policy(retry)
            .poll_schedule(PollSchedule::fixed(Duration::from_millis(5)))
    }

    /// This instance's API key: random, drawn when it starts; requests
    /// with any other key are answered 401. [`config`](Self::config) and
    /// [`client`](Self::client) carry it.
    pub fn api_key(&self) -> &str {
        &self.shared.token
    }

    /// A client for it.
    pub fn client(&self) -> Daytona {
        Daytona::new(self.config()).expect("the local simulator's configuration is valid")
    }

    /// Whether commands get scripted answers instead of running.
    pub fn is_scripted(&self) -> bool {
        self.shared.scripted
    }

    /// Registers (or replaces) the answer to `command` (see
    /// [`LocalDaytonaBuilder::on_exec`]).
    pub fn on_exec(&self, command: &str, result: ExecResult) {
        lock(&self.shared.scripts).insert(command.trim().to_string(), result);
    }

    /// The next `times` requests matching `route` get `fault`.
    ///
    /// ```
    /// # use daytona::testing::{Fault, LocalDaytona};
    /// # let local = LocalDaytona::start()?;
    /// local.fail_next("GET /api/sandbox/*", 2, Fault::Status(503));
    /// # Ok::<(), daytona::Error>(())
    /// ```
    pub fn fail_next(&self, route: impl Into<Route>, times: usize, fault: Fault) {
        lock(&self.shared.faults).add(route.into(), times, fault);
    }

    /// Removes the faults not used yet.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Puts the sandbox with this id or name into `state` at once (such as
    /// `"error"` or `"build_failed"`) with `reason` as its `errorReason`;
    /// false when there is no such sandbox.
    pub fn force_state(&self, sandbox: &str, state: &str, reason: Option<&str>) -> bool {
        self.shared.world().force_sandbox(sandbox, state, reason)
    }

    /// Puts the snapshot with this id or name into `state` at once.
    pub fn force_snapshot_state(&self, snapshot: &str, state: &str, reason: Option<&str>) -> bool {
        self.shared.world().force_snapshot(snapshot, state, reason)
    }

    /// The requests received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Forgets the requests received so far.
    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }

    /// The host directory that holds the files of the sandbox with this id
    /// or name (its `/`).
    pub fn sandbox_dir(&self, sandbox: &str) -> Option<PathBuf> {
        let mut world = self.shared.world();
        let i = world.sandbox(sandbox)?;
        Some(world.sandboxes[i].dir.clone())
    }
}

impl Drop for LocalDaytona {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        drop(self.server.take());
        self.shared.ptys.shutdown();
        self.shared.interpreters.shutdown();
        let _ = std::fs::remove_dir_all(&self.shared.root);
    }
}

/// Checks the `Host` and the key, records, applies faults, routes.
fn dispatch(shared: &Arc<Shared>, req: Request) -> Outcome {
    // A page whose name was rebound to 127.0.0.1 still names its own host.
    let expected = shared.host.get().map(String::as_str).unwrap_or_default();
    if !req
        .header("host")
        .is_some_and(|h| h.trim().eq_ignore_ascii_case(expected))
    {
        return Outcome::Respond(error(
            421,
            &format!("the local simulator answers only requests for host {expected}"),
        ));
    }
    // The notification gateway checks the key in its own protocol.
    if req.method == "GET" && req.path == "/api/socket.io/" {
        return api::events::connect(shared, &req);
    }
    // A signed preview URL carries its own token instead of the key.
    if let Some(label) = req.path.strip_prefix("/preview/") {
        let signed = |l: &&str| {
            l.split_once('-').is_some_and(|(port, token)| {
                port.bytes().all(|b| b.is_ascii_digit()) && !token.contains('-')
            })
        };
        if let Some(label) = label.split('/').next().filter(signed) {
            return Outcome::Respond(api::previews::serve(shared, label));
        }
    }
    let token = req
        .header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .unwrap_or_default()
        .trim();
    if !same_secret(token.as_bytes(), shared.token.as_bytes()) {
        return Outcome::Respond(error(401, "invalid API key"));
    }
    lock(&shared.requests).push(RecordedRequest {
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
    });
    let fault = lock(&shared.faults).take(&req.method, &req.path);
    match fault {
        Some(Fault::Drop) => return Outcome::Drop,
        Some(Fault::Status(status)) => {
            return Outcome::Respond(error(status, "fault injected by the local simulator"))
        }
        Some(Fault::Delay(d)) => std::thread::sleep(d),
        None => {}
    }
    let segments: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    // WebSocket routes take the connection over.
    match segments.as_slice() {
        ["toolbox", id, "process", "pty", session, "connect"] if req.method == "GET" => {
            return toolbox::pty::connect(shared, &req, id, session)
        }
        ["toolbox", id, "process", "interpreter", "execute"] if req.method == "GET" => {
            return toolbox::interpreter::execute(shared, &req, id)
        }
        ["toolbox", id, "process", "session", session, "command", command, "logs"]
            if req.method == "GET" && req.param("follow") == Some("true") =>
        {
            return toolbox::follow::connect(shared, &req, id, session, Some(command))
        }
        ["toolbox", id, "process", "session", "entrypoint", "logs"]
            if req.method == "GET" && req.param("follow") == Some("true") =>
        {
            return toolbox::follow::connect(shared, &req, id, "entrypoint", None)
        }
        _ => {}
    }
    let response = match segments.as_slice() {
        ["api", rest @ ..] => api::handle(shared, &req, rest),
        ["toolbox", id, rest @ ..] => toolbox::handle(shared, &req, id, rest),
        _ => error(404, &format!("no route for {}", req.path)),
    };
    Outcome::Respond(response)
}

/// An error answer shaped as the API's: `{statusCode, message, error}`.
pub(crate) fn error(status: u16, message: &str) -> Response {
    Response::json(
        status,
        &serde_json::json!({
            "statusCode": status,
            "message": message,
            "error": server::reason(status),
        }),
    )
}

/// Whether `a` and `b` are equal, in a time that does not depend on where
/// they differ.
pub(crate) fn same_secret(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    for (i, y) in b.iter().enumerate() {
        diff |= a.get(i).copied().unwrap_or(0xff) ^ y;
    }
    std::hint::black_box(diff) == 0
}

/// 32 random bytes, hex: from the system's generator, or (where there is
/// none) from the standard library's randomly keyed hasher.
pub(crate) fn random_token() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::BuildHasher;
    use std::io::Read;
    let mut bytes = [0u8; 32];
    let from_os = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok();
    if !from_os {
        for (i, chunk) in bytes.chunks_mut(8).enumerate() {
            let word = RandomState::new().hash_one((i, SystemTime::now()));
            chunk.copy_from_slice(&word.to_le_bytes());
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random-enough UUID-shaped id.
pub(crate) fn new_id() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::BuildHasher;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let a = RandomState::new().hash_one(n);
    let b = RandomState::new().hash_one((n, a));
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        a >> 32,
        a & 0xffff,
        (a >> 16) & 0xfff,
        b & 0xfff,
        b >> 16 & 0xffff_ffff_ffff
    )
}

/// The current time, RFC 3339 in UTC with milliseconds.
pub(crate) fn now_rfc3339() -> String {
    rfc3339(SystemTime::now())
}

pub(crate) fn rfc3339(t: SystemTime) -> String {
    let t = crate::transport::date::utc(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second, t.millisecond
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_709_251_199_123);
        assert_eq!(rfc3339(t), "2024-02-29T23:59:59.123Z");
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abd", b"abc"));
        assert!(!same_secret(b"ab", b"abc"));
        assert!(!same_secret(b"abcd", b"abc"));
        assert!(!same_secret(b"", b"abc"));
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }

    #[test]
    fn ids_are_unique() {
        let a = new_id();
        assert_eq!(a.len(), 36);
        assert_ne!(a, new_id());
    }
}
