//! Contract tests: every public operation of the SDK, main API and toolbox,
//! against Prism (`@stoplight/prism-cli`) mocking the official OpenAPI files
//! of `../shared/daytona-api/`.
//!
//! `.ci/run` installs Prism, starts one mock per spec on loopback and runs
//! this suite twice: on Prism's static examples, then on `--dynamic` random
//! answers for several rounds. By hand:
//!
//! ```sh
//! prism mock -p 4010 -h 127.0.0.1 ../shared/daytona-api/api-openapi.yaml &
//! prism mock -p 4011 -h 127.0.0.1 ../shared/daytona-api/toolbox-openapi.yaml &
//! js-yaml ../shared/daytona-api/api-openapi.yaml > /tmp/api.json      # js-yaml ships with Prism
//! js-yaml ../shared/daytona-api/toolbox-openapi.yaml > /tmp/toolbox.json
//! DAYTONA_CONTRACT_API_URL=http://127.0.0.1:4010 \
//! DAYTONA_CONTRACT_TOOLBOX_URL=http://127.0.0.1:4011 \
//! DAYTONA_CONTRACT_API_SPEC=/tmp/api.json DAYTONA_CONTRACT_TOOLBOX_SPEC=/tmp/toolbox.json \
//! DAYTONA_CONTRACT_ROUNDS=2 cargo test --test contract -- --ignored --nocapture
//! ```
//!
//! The suite fails on any request Prism rejects (422 for a broken contract,
//! 404/405 for a wrong path or method, 401, 415), on any undeclared query
//! name or JSON body field (Prism does not check those: see
//! `contract_support/spec.rs`), on any answer the SDK cannot decode (its
//! public models are also run over every JSON answer, since some operations
//! decode leniently), and on any public operation it does not drive.
//!
//! Rounds: the first takes Prism's answers as they are; the second removes
//! every optional field (at every depth); later ones remove each optional
//! field with probability 1/2. Prism's `--dynamic` fills every optional
//! field, and its static examples hold whatever the spec's authors wrote, so
//! without this a decoder would never meet an optional field absent.
//!
//! Waits cannot finish against a mock (a static sandbox stays `creating`):
//! each waiting operation runs with a 300 ms deadline, and a timeout, or the
//! failure state a random answer may hold, is its accepted outcome; every
//! request it made is checked like any other. The two creates that follow
//! build logs are the exception: the proxy sets the `state` of the mock's
//! answers for them (`pending_build`/`building` in the create's answer,
//! `started`/`active` after it), so that build-log URL, log stream and wait
//! all run, and they must succeed.
//!
//! # Where the spec and the real servers differ
//!
//! What the spec cannot say is answered by the pass-through
//! (`contract_support/proxy.rs`), from `../shared/reference/sdk-inventory.md`:
//!
//! - Error bodies: neither spec defines one (§5.2: "neither spec defines an
//!   error schema"; toolbox errors are typed `map<string,string>`). A GET of
//!   anything named `contract-missing` is validated by Prism, then answered
//!   404 with the body each real server sends (§5.2: the API's NestJS filter
//!   `{statusCode, timestamp, path, error, message}`, the daemon's
//!   `{statusCode, message, code, ...}`), and the suite checks that the SDK
//!   maps it (`is_not_found`, the message).
//! - `POST /files/bulk-upload` declares no request body (§1.4: "TBX:1073;
//!   body not described in spec"; §6.1 gives the fields `files[i].path` and
//!   `files[i].file`): Prism answers 415 to any body, so it checks the
//!   operation without it and the proxy checks the multipart fields.
//! - `POST /files/bulk-download` answers `multipart/form-data` of `gin.H`,
//!   which Prism cannot write ("Cannot find serializer for
//!   multipart/form-data", HTTP 500, after validating the request): the
//!   proxy answers as the toolbox does (§6.1: a `file` part per path, an
//!   `error` part with `{message, statusCode, code}` for a missing one).
//! - Following logs is a WebSocket (§8.1); OpenAPI 3.0 cannot describe an
//!   upgrade (the spec says only "Follow logs in real-time (WebSocket
//!   only)"). Prism validates the handshake as the GET it is, then the proxy
//!   completes the upgrade and sends Prism's `stdout`/`stderr` framed with
//!   the `01 01 01`/`02 02 02` markers.
//! - PTY connections and interpreter runs are WebSockets too, which the
//!   spec gives only as a 101 answer (Prism answers 101, with no body): the
//!   proxy completes the upgrade and speaks the toolbox's protocols as
//!   sdk-inventory.md §8.2, §8.3 and §9.2 describe them ("connected", output
//!   and the exit code in the close for a PTY; for a run, the client's
//!   request `{code, contextId?, envs?, timeout?}` is checked, then stdout
//!   and `completed`; a request with anything else is closed with 1008).
//! - `ScreenshotResponse.screenshot` is an optional plain string in the
//!   spec; the daemon always sends the image in standard base64 (§1.8:
//!   "screenshot (base64)"), which the SDK decodes: the proxy writes the
//!   base64 of a small PNG there, and the suite checks the SDK's bytes.
//! - Build contexts go to an S3 object store, which is in neither spec
//!   (§6.2): only `GET /object-storage/push-access` is checked; its
//!   `storageUrl` points at a stub that says "not there" to HEAD and stores
//!   a PUT, so that the create that follows is checked too.
//! - `toolboxProxyUrl` and `storageUrl` in Prism's answers are made up;
//!   the proxy points them at itself. Build-log URLs are left as Prism wrote
//!   them: the SDK then follows the logs through the API's own
//!   `.../build-logs?follow=true`, which is in the spec.
//! - The spec's own examples break its schemas in three places, and Prism
//!   serves them as they are (while saying so in its `sl-violations`
//!   header): `"buildInfo": ""` in `Sandbox` and `SnapshotDto` (an object,
//!   `BuildInfo{dockerfileContent, contextHashes, ...}`, §9.1), `"state": ""`
//!   in `SnapshotDto` (one of `building, pending, ..., removing`, §9.2) and
//!   `"worktree": null` in `FileStatus` (a required `Status`, one of
//!   `Unmodified, ..., Updated but unmerged`, §1.5). No real server sends
//!   those; the proxy repairs what Prism flags (an optional field is
//!   dropped, a required one gets its first allowed value) and the report
//!   lists each repair, so the SDK is held to the schemas, not to the
//!   examples' mistakes.
//!
//! # Contract breaks this suite found, fixed in the SDK
//!
//! - `POST /files/bulk-download` sent `Accept: application/json`, the SDK's
//!   default, for an answer the spec gives only as `multipart/form-data`:
//!   Prism answered 406. It now asks for `multipart/form-data` alone
//!   (`src/toolbox/fs/download.rs`, `src/transport/mod.rs`).
//! - `SignedPortPreviewUrl.port` (`u16`), `FileInfo.size` (`u64`) and
//!   `Match.line` (`u64`) could not hold every value of the spec's
//!   unbounded `integer` (`--dynamic` sends negative and large ones): they
//!   are `i64` now (`src/models/sandbox.rs`, `src/toolbox/fs/models.rs`).
#![cfg(all(feature = "images", feature = "websocket"))]

mod contract_support;
mod fault_server;
mod temp;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use contract_support::proxy::{
    self, download_content, Exchange, Shared, Side, MISSING, SCREENSHOT,
};
use contract_support::spec::{Rng, Spec, Thinning};
use daytona::models::{GpuType, SandboxClass};
use daytona::toolbox::{
    AccessibilityNodes, AccessibilityScope, AccessibilityTree, CloneOptions, CodeRunOptions,
    Command, CommitOptions, CompletionList, CompressedOptions, ComputerUseProcesses, DisplayInfo,
    Download, Downloaded, ExecOptions, FileInfo, FilePermissions, FindNodes, FollowOptions,
    GitCommitInfo, GitCredentials, GitStatus, ImageFormat, LogChunk, LspLanguage, LspSymbol, Match,
    Modifier, MouseButton, NameMatch, Point, Position, Recording, Rect, ReplaceResult,
    ScreenshotOptions, ScrollDirection, Session, SessionCommandLogs, SessionExecOptions,
    SessionExecResponse, TransferOptions, Upload, WindowInfo,
};
use daytona::toolbox::{ContextOptions, PtyOptions, RunCodeOptions};
use daytona::{
    CodeLanguage, CreateSandbox, CreateSnapshot, Daytona, DaytonaConfig, Error, Image,
    ListSandboxes, ListSnapshots, NetworkSettings, PollSchedule, Resize, Resources, SandboxInfo,
    SandboxSort, SandboxState, Snapshot, SnapshotPage, SnapshotSort, SortOrder, Volume,
    VolumeMount,
};
use serde_json::Value;

/// The deadline of every waiting operation.
const WAIT: Duration = Duration::from_millis(300);

/// Methods of the operation types that send no request.
const NOT_OPERATIONS: &[&str] = &[
    "Daytona::new",
    "Daytona::from_env",
    "Daytona::api_url",
    "Daytona::target",
    "Daytona::snapshots",
    "Daytona::volumes",
    "Sandbox::id",
    "Sandbox::name",
    "Sandbox::state",
    "Sandbox::info",
    "Sandbox::client",
    "Sandbox::process",
    "Sandbox::fs",
    "Sandbox::git",
    "Sandbox::code_interpreter",
    "Sandbox::computer_use",
    "Sandbox::lsp_server",
    "ComputerUse::mouse",
    "ComputerUse::keyboard",
    "ComputerUse::screenshot",
    "ComputerUse::display",
    "ComputerUse::recording",
    "ComputerUse::accessibility",
    "LspServer::language",
    "LspServer::project_path",
    "LspServer::file_uri",
];

/// Where the public operations are defined.
const SOURCES: &[&str] = &[
    "src/api/client.rs",
    "src/api/sandbox.rs",
    "src/api/snapshots.rs",
    "src/api/volumes.rs",
    "src/toolbox/mod.rs",
    "src/toolbox/fs.rs",
    "src/toolbox/fs/upload.rs",
    "src/toolbox/fs/download.rs",
    "src/toolbox/git.rs",
    "src/toolbox/process.rs",
    "src/toolbox/process/session.rs",
    "src/toolbox/process/follow.rs",
    "src/toolbox/process/pty.rs",
    "src/toolbox/interpreter.rs",
    "src/toolbox/computer_use.rs",
    "src/toolbox/computer_use/input.rs",
    "src/toolbox/computer_use/screen.rs",
    "src/toolbox/computer_use/recording.rs",
    "src/toolbox/computer_use/accessibility.rs",
    "src/toolbox/lsp.rs",
];
const OPERATION_TYPES: &[&str] = &[
    "Daytona",
    "Sandbox",
    "Snapshots",
    "Volumes",
    "Process",
    "FileSystem",
    "Git",
    "CodeInterpreter",
    "ComputerUse",
    "Mouse",
    "Keyboard",
    "Screenshots",
    "Display",
    "Recordings",
    "Accessibility",
    "LspServer",
];

#[test]
#[ignore = "contract suite: needs Prism mocks of ../shared/daytona-api (DAYTONA_CONTRACT_API_URL, \
            DAYTONA_CONTRACT_TOOLBOX_URL, ..._SPEC); .ci/run starts them and runs it"]
fn every_operation_against_the_official_spec() {
    let env = match Env::read() {
        Ok(Some(env)) => env,
        Ok(None) => panic!(
            "contract suite: DAYTONA_CONTRACT_API_URL and DAYTONA_CONTRACT_TOOLBOX_URL are not set \
             (with DAYTONA_CONTRACT_API_SPEC and DAYTONA_CONTRACT_TOOLBOX_SPEC). Run it through \
             .ci/run, which starts Prism mocks of ../shared/daytona-api and sets them, or start \
             Prism yourself, set the four variables and run \
             `cargo test --test contract -- --ignored`"
        ),
        Err(e) => panic!("contract suite: {e}"),
    };
    let started = Instant::now();
    let shared = Shared::new();
    let api_spec = Arc::new(Spec::load("api-openapi", &env.api_spec).unwrap());
    let toolbox_spec = Arc::new(Spec::load("toolbox-openapi", &env.toolbox_spec).unwrap());
    let api = proxy::start(
        Side::Api,
        Some(env.api),
        Some(api_spec.clone()),
        shared.clone(),
    )
    .unwrap();
    let toolbox = proxy::start(
        Side::Toolbox,
        Some(env.toolbox),
        Some(toolbox_spec.clone()),
        shared.clone(),
    )
    .unwrap();
    let store = proxy::start(Side::Store, None, None, shared.clone()).unwrap();
    *shared.toolbox_url.lock().unwrap() = toolbox.clone();
    *shared.store_url.lock().unwrap() = store;
    self_check(&shared, &api, &toolbox);

    let daytona = Daytona::new(
        DaytonaConfig::new()
            .read_env(false)
            .api_key("contract-key")
            .api_url(&api)
            .target("us")
            .wait_timeout(WAIT)
            .poll_schedule(PollSchedule::fixed(Duration::from_millis(50)))
            .request_timeout(Duration::from_secs(30))
            .max_attempts(1)
            // The notification gateway is not in the OpenAPI files.
            .events(false),
    )
    .unwrap();
    let scratch = temp::TempDir::new("contract");

    let mut suite = Suite {
        shared: shared.clone(),
        daytona,
        scratch: scratch.root.clone(),
        label: String::new(),
        covered: BTreeSet::new(),
        failures: Vec::new(),
    };
    for round in 1..=env.rounds {
        let thinning = match round {
            1 => Thinning::None,
            2 => Thinning::All,
            _ => Thinning::Random,
        };
        *shared.thinning.lock().unwrap() = (thinning, Rng::new(env.seed ^ u64::from(round)));
        suite.label = format!("{} round {round} ({thinning:?} thinning)", env.mode);
        let from = shared.len();
        suite.round();
        let n = shared.len() - from;
        eprintln!("contract: {}: {n} requests", suite.label);
    }
    drop(scratch);

    // Coverage: every public operation, by the source.
    let operations = public_operations();
    for missing in operations.difference(&suite.covered) {
        suite.failures.push(format!(
            "{missing}: a public operation the suite did not drive (no request sent)"
        ));
    }
    for stale in suite.covered.difference(&operations) {
        suite.failures.push(format!(
            "{stale}: driven by the suite but not found in {SOURCES:?}"
        ));
    }

    let log = shared.log.lock().unwrap().clone();
    report(
        &env,
        &log,
        &suite,
        &operations,
        &api_spec,
        &toolbox_spec,
        started,
    );
    if !suite.failures.is_empty() {
        panic!(
            "{} contract failure(s):\n{}",
            suite.failures.len(),
            suite.failures.join("\n")
        );
    }
}

/// Proves the checks are not vacuous: requests that break the contract in
/// each way the suite looks for are rejected, then forgotten.
fn self_check(shared: &Shared, api: &str, toolbox: &str) {
    use std::io::{Read, Write};
    let send = |base: &str, method: &str, target: &str, body: &str| -> u16 {
        let host = base.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(host).unwrap();
        write!(
            s,
            "{method} {target} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer contract-key\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        answer
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0)
    };
    let from = shared.len();
    let cases = [
        // Prism: a query value of the wrong type.
        (api, "GET", "/volumes?includeDeleted=maybe", ""),
        // Prism: a required body field missing.
        (api, "POST", "/volumes", r#"{"nmae":"x"}"#),
        // Prism: no such path.
        (api, "GET", "/sandboxes/x", ""),
        // Strict: a query name in the wrong case (Prism ignores case).
        (api, "GET", "/volumes?includedeleted=true", ""),
        // Strict: an undeclared query name.
        (api, "GET", "/sandbox/x?verbos=true", ""),
        // Strict: an undeclared body field next to the required ones.
        (api, "POST", "/volumes", r#"{"name":"x","size":1}"#),
        // Strict, toolbox: `allowEmpty` where the spec says `allow_empty`.
        (
            toolbox,
            "POST",
            "/sandbox-id/git/commit",
            r#"{"path":"p","message":"m","author":"a","email":"e","allowEmpty":true}"#,
        ),
    ];
    for (base, method, target, body) in cases {
        let status = send(base, method, target, body);
        assert!(
            status >= 400,
            "self-check: {method} {target} {body} was not rejected (HTTP {status})"
        );
    }
    let recorded = shared.since(from);
    assert_eq!(recorded.len(), cases.len(), "self-check: {recorded:?}");
    for x in &recorded {
        assert!(
            !x.violations.is_empty(),
            "self-check: no violation for {x:?}"
        );
    }
    shared.log.lock().unwrap().truncate(from);
}

struct Env {
    api: SocketAddr,
    toolbox: SocketAddr,
    api_spec: String,
    toolbox_spec: String,
    rounds: u32,
    mode: String,
    seed: u64,
}

impl Env {
    fn read() -> Result<Option<Env>, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let (Some(api), Some(toolbox)) = (
            var("DAYTONA_CONTRACT_API_URL"),
            var("DAYTONA_CONTRACT_TOOLBOX_URL"),
        ) else {
            return Ok(None);
        };
        let addr = |name: &str, url: &str| -> Result<SocketAddr, String> {
            let rest = url
                .strip_prefix("http://")
                .ok_or(format!("{name}={url}: expected http://host:port"))?;
            let hostport = rest.trim_end_matches('/');
            if hostport.contains('/') {
                return Err(format!(
                    "{name}={url}: Prism serves both specs at the root; give no path"
                ));
            }
            hostport
                .to_socket_addrs()
                .map_err(|e| format!("{name}={url}: {e}"))?
                .next()
                .ok_or(format!("{name}={url}: no address"))
        };
        let spec = |name: &str| {
            var(name).ok_or(format!(
                "{name} is not set: the JSON form of the spec file (js-yaml file.yaml > file.json)"
            ))
        };
        Ok(Some(Env {
            api: addr("DAYTONA_CONTRACT_API_URL", &api)?,
            toolbox: addr("DAYTONA_CONTRACT_TOOLBOX_URL", &toolbox)?,
            api_spec: spec("DAYTONA_CONTRACT_API_SPEC")?,
            toolbox_spec: spec("DAYTONA_CONTRACT_TOOLBOX_SPEC")?,
            rounds: var("DAYTONA_CONTRACT_ROUNDS")
                .map(|r| {
                    r.parse()
                        .map_err(|_| format!("DAYTONA_CONTRACT_ROUNDS={r}"))
                })
                .transpose()?
                .unwrap_or(1),
            mode: var("DAYTONA_CONTRACT_MODE").unwrap_or_else(|| "prism".into()),
            seed: var("DAYTONA_CONTRACT_SEED")
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| {
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(1, |d| d.as_secs())
                }),
        }))
    }
}

/// What an operation may end with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Success.
    Ok,
    /// A wait: success, its deadline, or a failure state (a random answer
    /// may hold one).
    Wait,
    /// The real server's 404, mapped: `is_not_found` and its message.
    NotFound,
    /// A listing read past what the mock can page: the SDK's guard against
    /// a server that repeats its page token ends it (the static examples
    /// repeat their `nextCursor` / `page`).
    Listing,
}

struct Suite {
    shared: Arc<Shared>,
    daytona: Daytona,
    scratch: PathBuf,
    label: String,
    covered: BTreeSet<String>,
    failures: Vec<String>,
}

impl Suite {
    /// Runs operation `name` and checks everything it sent and got.
    fn op<T: Debug>(
        &mut self,
        name: &str,
        expect: Expect,
        f: impl FnOnce() -> daytona::Result<T>,
    ) -> Option<T> {
        let from = self.shared.len();
        let result = f();
        // A build-log reader may still be finishing in its own thread.
        std::thread::sleep(Duration::from_millis(5));
        let exchanges = self.shared.since(from);
        let mut problems = Vec::new();
        // A wait may end on the state it already knows (a random answer may
        // be `started` already); the operation counts as driven once it has
        // sent a request, in any round.
        if exchanges.iter().any(|x| x.side != Side::Store) {
            self.covered.insert(name.to_string());
        } else if expect != Expect::Wait {
            problems.push("sent no request to the API or the toolbox".to_string());
        }
        for x in &exchanges {
            for v in &x.violations {
                problems.push(format!("{} {}: {v}", x.method, x.target));
            }
            if let Some(e) = decode_with_models(x) {
                problems.push(format!("{} {}: {e}", x.method, x.target));
            }
        }
        match (&result, expect) {
            (Ok(_), Expect::NotFound) => problems.push("expected the 404 to be an error".into()),
            (Ok(_), _) => {}
            (Err(e), Expect::Wait) if waited(e) => {}
            (Err(e), Expect::NotFound) => {
                let message = e.api().map(|a| a.message.clone()).unwrap_or_default();
                if !e.is_not_found() || !message.contains(MISSING) {
                    problems.push(format!(
                        "the real server's 404 body is not mapped (not found: {}, message {message:?}): {e}",
                        e.is_not_found()
                    ));
                }
            }
            (Err(e), Expect::Listing) if e.to_string().contains("repeated the page token") => {}
            (Err(e), _) => problems.push(format!("failed: {e}")),
        }
        if !problems.is_empty() {
            let requests: Vec<String> = exchanges
                .iter()
                .map(|x| {
                    format!(
                        "    {} {} -> {} {}",
                        x.method, x.target, x.status, x.excerpt
                    )
                })
                .collect();
            self.failures.push(format!(
                "[{}] {name}:\n  - {}\n  requests:\n{}",
                self.label,
                problems.join("\n  - "),
                requests.join("\n")
            ));
        }
        result.ok()
    }

    fn check(&mut self, name: &str, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.failures
                .push(format!("[{}] {name}: {}", self.label, what()));
        }
    }

    /// The requests since `from` include one of `route`.
    fn expect_route(&mut self, name: &str, from: usize, route: &str) {
        let routes: Vec<String> = self
            .shared
            .since(from)
            .into_iter()
            .filter_map(|x| x.route)
            .collect();
        self.check(name, routes.iter().any(|r| r == route), || {
            format!("no {route} among {routes:?}")
        });
    }

    fn scratch_file(&self, name: &str, content: &[u8]) -> PathBuf {
        let path = self.scratch.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    /// Every public operation once (some more than once, with other
    /// arguments).
    fn round(&mut self) {
        self.client_operations();
        let d = self.daytona.clone();
        let Some(mut sandbox) = self.op("Daytona::get", Expect::Ok, || d.get("contract-sandbox"))
        else {
            return;
        };
        self.sandbox_operations(&mut sandbox);
        self.process_operations(&sandbox);
        self.file_operations(&sandbox);
        self.git_operations(&sandbox);
        self.computer_use_operations(&sandbox);
        self.lsp_operations(&sandbox);
        self.snapshot_operations();
        self.volume_operations();
    }

    fn client_operations(&mut self) {
        let d = self.daytona.clone();
        self.op("Daytona::get", Expect::NotFound, || d.get(MISSING));
        let found = self.op("Daytona::get_opt", Expect::Ok, || {
            d.get_opt("contract-sandbox")
        });
        self.check("Daytona::get_opt", matches!(found, Some(Some(_))), || {
            "an existing sandbox is None".into()
        });
        let gone = self.op("Daytona::get_opt", Expect::Ok, || d.get_opt(MISSING));
        self.check("Daytona::get_opt", matches!(gone, Some(None)), || {
            "the real server's 404 is not None".into()
        });

        // Every field of `CreateSandbox`.
        self.op("Daytona::create", Expect::Wait, || {
            d.create(
                CreateSandbox::from_snapshot("contract-snapshot")
                    .name("contract-sandbox")
                    .user("daytona")
                    .language(CodeLanguage::TypeScript)
                    .env("APP_ENV", "test")
                    .label("team", "contract")
                    .public(false)
                    .auto_stop_interval(15)
                    .auto_archive_interval(60)
                    .auto_delete_interval(-1)
                    .volume(VolumeMount::new("contract-volume", "/data").subpath("users/ada"))
                    .network(
                        NetworkSettings::new()
                            .block_all(false)
                            .allow_list("10.0.0.0/8,192.168.0.0/16")
                            .domain_allow_list("example.com"),
                    )
                    .linked_sandbox("contract-linked")
                    .timeout(WAIT),
            )
        });
        // From a registry image, with resources; and ephemeral.
        self.op("Daytona::create", Expect::Wait, || {
            d.create(
                CreateSandbox::from_image("python:3.12-slim")
                    .resources(
                        Resources::new()
                            .cpu(2)
                            .gpu(1)
                            .gpu_type(GpuType::H100)
                            .memory(4)
                            .disk(10),
                    )
                    .ephemeral(true),
            )
        });
        self.op("Daytona::create", Expect::Wait, || {
            d.create(CreateSandbox::new())
        });
        // From a declarative image with a build context: push access, the
        // object store (stub), then the create; and, while it builds, its
        // logs. The mock's `state` is set for this call (`pending_build` in
        // the create's answer, `started` after it), so the whole flow runs
        // whatever the timing: build-log URL, logs, wait.
        let context = self.scratch_file("context.txt", b"contract build context\n");
        let image = Image::debian_slim(Some("3.12"))
            .and_then(|i| i.pip_install(["requests==2.32.3"]))
            .and_then(|i| i.add_local_file(&context, "/app/context.txt"))
            .and_then(|i| i.workdir("/app"))
            .unwrap();
        let mut lines = Vec::new();
        self.shared
            .set_override("createSandbox", "state", "pending_build");
        self.shared.set_override("getSandbox", "state", "started");
        let from = self.shared.len();
        self.op("Daytona::create_with_logs", Expect::Ok, || {
            d.create_with_logs(
                CreateSandbox::from_image(image.clone()).timeout(Duration::from_secs(20)),
                |l| lines.push(l.to_string()),
            )
        });
        self.shared.clear_overrides();
        self.expect_route(
            "Daytona::create_with_logs",
            from,
            "GET /sandbox/{sandboxIdOrName}/build-logs",
        );

        // Every filter of `ListSandboxes`.
        let query = ListSandboxes::new()
            .limit(2)
            .id_prefix("contract")
            .name_prefix("contract")
            .label("team", "contract")
            .include_errored_deleted(true)
            .state(SandboxState::Started)
            .state(SandboxState::Stopped)
            .snapshot("contract-snapshot")
            .target("us")
            .class(SandboxClass::Container)
            .min_cpu(1)
            .max_cpu(4)
            .min_memory_gib(1)
            .max_memory_gib(8)
            .min_disk_gib(1)
            .max_disk_gib(20)
            .public(false)
            .recoverable(true)
            .created_after("2026-01-01T00:00:00Z")
            .created_before("2026-12-31T00:00:00Z")
            .last_activity_after("2026-01-01T00:00:00Z")
            .last_activity_before("2026-12-31T00:00:00Z")
            .sort(SandboxSort::CreatedAt, SortOrder::Desc);
        self.op("Daytona::list", Expect::Listing, || {
            d.list(query).take(5).collect::<daytona::Result<Vec<_>>>()
        });
        self.op("Daytona::list", Expect::Listing, || {
            d.list(ListSandboxes::new())
                .take(5)
                .collect::<daytona::Result<Vec<_>>>()
        });
        self.op("Daytona::list_page", Expect::Ok, || {
            d.list_page(ListSandboxes::new().limit(5))
        });
        self.op("Daytona::validate_ssh_access", Expect::Ok, || {
            d.validate_ssh_access("contract-token")
        });
        if let Ok(mut sandbox) = d.get("contract-sandbox") {
            self.op("Daytona::start", Expect::Wait, || {
                d.start(&mut sandbox, WAIT)
            });
            self.op("Daytona::stop", Expect::Wait, || d.stop(&mut sandbox));
            self.op("Daytona::experimental_fork", Expect::Wait, || {
                d.experimental_fork(&sandbox, Some("contract-fork"), WAIT)
            });
            self.op("Daytona::delete", Expect::Wait, || {
                d.delete(&mut sandbox, WAIT)
            });
        }
    }

    fn sandbox_operations(&mut self, sb: &mut daytona::Sandbox) {
        self.op("Sandbox::refresh", Expect::Ok, || sb.refresh());
        self.op("Sandbox::wait_until_started", Expect::Wait, || {
            sb.wait_until_started(WAIT)
        });
        self.op("Sandbox::wait_until_stopped", Expect::Wait, || {
            sb.wait_until_stopped(WAIT)
        });
        self.op("Sandbox::start", Expect::Wait, || sb.start());
        self.op("Sandbox::start_with_timeout", Expect::Wait, || {
            sb.start_with_timeout(WAIT)
        });
        self.op("Sandbox::stop", Expect::Wait, || sb.stop());
        self.op("Sandbox::stop_with_timeout", Expect::Wait, || {
            sb.stop_with_timeout(WAIT)
        });
        self.op("Sandbox::force_stop", Expect::Wait, || sb.force_stop());
        self.op("Sandbox::force_stop_with_timeout", Expect::Wait, || {
            sb.force_stop_with_timeout(WAIT)
        });
        self.op("Sandbox::recover", Expect::Wait, || sb.recover());
        self.op("Sandbox::recover_with_timeout", Expect::Wait, || {
            sb.recover_with_timeout(WAIT)
        });
        self.op("Sandbox::pause", Expect::Wait, || sb.pause());
        self.op("Sandbox::pause_with_timeout", Expect::Wait, || {
            sb.pause_with_timeout(WAIT)
        });
        self.op("Sandbox::resize", Expect::Wait, || {
            sb.resize(Resize::new().cpu(2).memory(4).disk(20))
        });
        self.op("Sandbox::resize_with_timeout", Expect::Wait, || {
            sb.resize_with_timeout(Resize::new().cpu(1), WAIT)
        });
        self.op(
            "Sandbox::experimental_create_snapshot",
            Expect::Wait,
            || sb.experimental_create_snapshot("contract-snapshot"),
        );
        self.op(
            "Sandbox::experimental_create_snapshot_with_timeout",
            Expect::Wait,
            || sb.experimental_create_snapshot_with_timeout("contract-snapshot", WAIT),
        );
        self.op("Sandbox::experimental_fork", Expect::Wait, || {
            sb.experimental_fork(Some("contract-fork"))
        });
        self.op(
            "Sandbox::experimental_fork_with_timeout",
            Expect::Wait,
            || sb.experimental_fork_with_timeout(None, WAIT),
        );
        self.op("Sandbox::archive", Expect::Wait, || sb.archive());
        self.op("Sandbox::archive_with_timeout", Expect::Wait, || {
            sb.archive_with_timeout(WAIT)
        });
        let labels: std::collections::HashMap<String, String> =
            [("team".to_string(), "contract".to_string())].into();
        self.op("Sandbox::set_labels", Expect::Ok, || sb.set_labels(labels));
        self.op("Sandbox::set_auto_stop_interval", Expect::Ok, || {
            sb.set_auto_stop_interval(15)
        });
        self.op("Sandbox::set_auto_archive_interval", Expect::Ok, || {
            sb.set_auto_archive_interval(60)
        });
        self.op("Sandbox::set_auto_delete_interval", Expect::Ok, || {
            sb.set_auto_delete_interval(-1)
        });
        self.op("Sandbox::update_network_settings", Expect::Ok, || {
            sb.update_network_settings(
                NetworkSettings::new()
                    .block_all(false)
                    .allow_list("10.0.0.0/8")
                    .domain_allow_list("example.com"),
            )
        });
        self.op("Sandbox::refresh_activity", Expect::Ok, || {
            sb.refresh_activity()
        });
        self.op("Sandbox::preview_link", Expect::Ok, || {
            sb.preview_link(3000)
        });
        self.op("Sandbox::signed_preview_url", Expect::Ok, || {
            sb.signed_preview_url(3000, Some(Duration::from_secs(120)))
        });
        self.op("Sandbox::signed_preview_url", Expect::Ok, || {
            sb.signed_preview_url(3000, None)
        });
        self.op("Sandbox::expire_signed_preview_url", Expect::Ok, || {
            sb.expire_signed_preview_url(3000, "contract-token")
        });
        self.op("Sandbox::create_ssh_access", Expect::Ok, || {
            sb.create_ssh_access(Some(Duration::from_secs(1800)))
        });
        self.op("Sandbox::revoke_ssh_access", Expect::Ok, || {
            sb.revoke_ssh_access(Some("contract-token"))
        });
        self.op("Sandbox::revoke_ssh_access", Expect::Ok, || {
            sb.revoke_ssh_access(None)
        });
        self.op("Sandbox::validate_ssh_access", Expect::Ok, || {
            sb.validate_ssh_access("contract-token")
        });
        self.op("Sandbox::user_home_dir", Expect::Ok, || sb.user_home_dir());
        self.op("Sandbox::work_dir", Expect::Ok, || sb.work_dir());
        self.op("Sandbox::delete", Expect::Wait, || sb.delete());
        self.op("Sandbox::delete_with_timeout", Expect::Wait, || {
            sb.delete_with_timeout(WAIT)
        });
    }

    fn process_operations(&mut self, sb: &daytona::Sandbox) {
        let p = sb.process();
        self.op("Process::exec", Expect::Ok, || p.exec("echo contract"));
        self.op("Process::exec_with", Expect::Ok, || {
            p.exec_with(
                "ls -la",
                ExecOptions::new()
                    .cwd("/home/daytona")
                    .env("APP_ENV", "test")
                    .timeout(Duration::from_secs(5)),
            )
        });
        self.op("Process::code_run", Expect::Ok, || {
            p.code_run("print(6 * 7)")
        });
        self.op("Process::code_run_with", Expect::Ok, || {
            p.code_run_with(
                "console.log(process.argv)",
                CodeRunOptions::new()
                    .language(CodeLanguage::JavaScript)
                    .arg("--contract")
                    .env("APP_ENV", "test")
                    .timeout(Duration::from_secs(5)),
            )
        });
        self.op("Process::create_session", Expect::Ok, || {
            p.create_session("contract-session")
        });
        self.op("Process::get_session", Expect::Ok, || {
            p.get_session("contract-session")
        });
        self.op("Process::get_entrypoint_session", Expect::Ok, || {
            p.get_entrypoint_session()
        });
        self.op("Process::list_sessions", Expect::Ok, || p.list_sessions());
        self.op("Process::execute_session_command", Expect::Ok, || {
            p.execute_session_command(
                "contract-session",
                "echo contract",
                SessionExecOptions::new(),
            )
        });
        self.op("Process::execute_session_command", Expect::Ok, || {
            p.execute_session_command(
                "contract-session",
                "sleep 1",
                SessionExecOptions::new()
                    .run_async(true)
                    .suppress_input_echo(true)
                    .timeout(Duration::from_secs(5)),
            )
        });
        self.op("Process::get_session_command", Expect::Ok, || {
            p.get_session_command("contract-session", "contract-command")
        });
        self.op("Process::get_session_command_logs", Expect::Ok, || {
            p.get_session_command_logs("contract-session", "contract-command")
        });
        self.op("Process::get_entrypoint_logs", Expect::Ok, || {
            p.get_entrypoint_logs()
        });
        self.op("Process::send_session_command_input", Expect::Ok, || {
            p.send_session_command_input("contract-session", "contract-command", "y\n")
        });
        let follow = FollowOptions::new()
            .idle_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(20));
        let mut chunks = Vec::new();
        let from = self.shared.len();
        self.op("Process::follow_session_command_logs", Expect::Ok, || {
            p.follow_session_command_logs(
                "contract-session",
                "contract-command",
                follow.clone(),
                |c| chunks.push(c),
            )
        });
        self.check_chunks("Process::follow_session_command_logs", from, &chunks);
        let mut chunks = Vec::new();
        let from = self.shared.len();
        self.op("Process::follow_entrypoint_logs", Expect::Ok, || {
            p.follow_entrypoint_logs(follow.clone(), |c| chunks.push(c))
        });
        self.check_chunks("Process::follow_entrypoint_logs", from, &chunks);
        let from = self.shared.len();
        let chunks = self.op("Process::stream_session_command_logs", Expect::Ok, || {
            p.stream_session_command_logs("contract-session", "contract-command", follow.clone())?
                .collect::<daytona::Result<Vec<_>>>()
        });
        self.check_chunks(
            "Process::stream_session_command_logs",
            from,
            &chunks.unwrap_or_default(),
        );
        let from = self.shared.len();
        let chunks = self.op("Process::stream_entrypoint_logs", Expect::Ok, || {
            p.stream_entrypoint_logs(follow.clone())?
                .collect::<daytona::Result<Vec<_>>>()
        });
        self.check_chunks(
            "Process::stream_entrypoint_logs",
            from,
            &chunks.unwrap_or_default(),
        );
        self.op("Process::delete_session", Expect::Ok, || {
            p.delete_session("contract-session")
        });
        self.pty_operations(sb);
        self.interpreter_operations(sb);
    }

    /// PTY sessions: the REST operations, and the connection the proxy
    /// completes (§8.2): "connected", output, exit code 0.
    fn pty_operations(&mut self, sb: &daytona::Sandbox) {
        let p = sb.process();
        let exit = self.op("Process::create_pty", Expect::Ok, || {
            let mut pty = p.create_pty(
                PtyOptions::new("contract-pty")
                    .cwd("/home/daytona")
                    .env("APP_ENV", "test")
                    .size(100, 30),
            )?;
            pty.send_input(b"echo contract\n")?;
            pty.wait()
        });
        self.check(
            "Process::create_pty",
            exit.is_none_or(|e| e.exit_code == Some(0)),
            || "the terminal's exit code is not 0".into(),
        );
        self.op("Process::connect_pty", Expect::Ok, || {
            p.connect_pty("contract-pty")?.wait()
        });
        self.op("Process::list_pty_sessions", Expect::Ok, || {
            p.list_pty_sessions()
        });
        self.op("Process::pty_session_info", Expect::Ok, || {
            p.pty_session_info("contract-pty")
        });
        self.op("Process::resize_pty", Expect::Ok, || {
            p.resize_pty("contract-pty", 120, 40)
        });
        self.op("Process::kill_pty", Expect::Ok, || {
            p.kill_pty("contract-pty")
        });
    }

    /// The interpreter: contexts, and runs the proxy answers (§8.3) after
    /// checking the request.
    fn interpreter_operations(&mut self, sb: &daytona::Sandbox) {
        let i = sb.code_interpreter();
        let ctx = self.op("CodeInterpreter::create_context", Expect::Ok, || {
            i.create_context(
                ContextOptions::new()
                    .cwd("/home/daytona")
                    .language(CodeLanguage::Python),
            )
        });
        self.op("CodeInterpreter::list_contexts", Expect::Ok, || {
            i.list_contexts()
        });
        let ctx = ctx
            .filter(|c| !c.id.trim().is_empty() && c.id != "." && c.id != "..")
            .unwrap_or_else(|| {
                serde_json::from_value(serde_json::json!({"id": "contract-context"})).unwrap()
            });
        let run = self.op("CodeInterpreter::run_code", Expect::Ok, || {
            i.run_code(
                "print('contract')",
                RunCodeOptions::new()
                    .context(&ctx)
                    .env("APP_ENV", "test")
                    .timeout(Duration::from_secs(5)),
            )
        });
        self.check(
            "CodeInterpreter::run_code",
            run.is_none_or(|r| r.stdout == "contract\n"),
            || "the run's stdout is not the proxy's".into(),
        );
        self.op("CodeInterpreter::run_code_stream", Expect::Ok, || {
            i.run_code_stream("1 + 1", RunCodeOptions::new())?
                .collect::<daytona::Result<Vec<_>>>()
        });
        self.op("CodeInterpreter::delete_context", Expect::Ok, || {
            i.delete_context(&ctx)
        });
    }

    /// The chunks of a followed log are the `stdout` and `stderr` Prism
    /// generated for the logs endpoint.
    fn check_chunks(&mut self, name: &str, from: usize, chunks: &[LogChunk]) {
        let logs = self
            .shared
            .since(from)
            .into_iter()
            .find(|x| x.status == 101)
            .and_then(|x| x.response_json)
            .unwrap_or(Value::Null);
        let text = |stderr: bool| -> String {
            chunks
                .iter()
                .filter(|c| c.is_stderr() == stderr)
                .map(LogChunk::text)
                .collect()
        };
        let (out, err) = (text(false), text(true));
        let want_out = logs["stdout"].as_str().unwrap_or("").to_string();
        let want_err = logs["stderr"].as_str().unwrap_or("").to_string();
        self.check(name, out == want_out && err == want_err, || {
            format!("followed stdout {out:?} / stderr {err:?}, sent {want_out:?} / {want_err:?}")
        });
    }

    fn file_operations(&mut self, sb: &daytona::Sandbox) {
        let fs = sb.fs();
        self.op("FileSystem::list_files", Expect::Ok, || {
            fs.list_files("/home/daytona")
        });
        self.op("FileSystem::get_file_info", Expect::Ok, || {
            fs.get_file_info("/home/daytona/a.txt")
        });
        self.op("FileSystem::get_file_info", Expect::NotFound, || {
            fs.get_file_info(&format!("/home/daytona/{MISSING}"))
        });
        self.op("FileSystem::create_folder", Expect::Ok, || {
            fs.create_folder("/home/daytona/new", "755")
        });
        self.op("FileSystem::delete_file", Expect::Ok, || {
            fs.delete_file("/home/daytona/new")
        });
        self.op("FileSystem::delete_recursive", Expect::Ok, || {
            fs.delete_recursive("/home/daytona/new")
        });
        self.op("FileSystem::move_files", Expect::Ok, || {
            fs.move_files("/home/daytona/a.txt", "/home/daytona/b.txt")
        });
        self.op("FileSystem::find_files", Expect::Ok, || {
            fs.find_files("/home/daytona", "TODO")
        });
        self.op("FileSystem::search_files", Expect::Ok, || {
            fs.search_files("/home/daytona", "*.rs")
        });
        self.op("FileSystem::replace_in_files", Expect::Ok, || {
            fs.replace_in_files(&["/home/daytona/a.txt"], "old", "new")
        });
        self.op("FileSystem::set_file_permissions", Expect::Ok, || {
            fs.set_file_permissions(
                "/home/daytona/a.txt",
                FilePermissions::new()
                    .mode("0644")
                    .owner("daytona")
                    .group("daytona"),
            )
        });
        let local = self.scratch_file("upload.txt", b"contract upload\n");
        self.op("FileSystem::upload_file", Expect::Ok, || {
            fs.upload_file(&local, "/home/daytona/upload.txt")
        });
        self.op("FileSystem::upload_bytes", Expect::Ok, || {
            fs.upload_bytes("contract bytes\n", "/home/daytona/bytes.txt")
        });
        self.op("FileSystem::upload_reader", Expect::Ok, || {
            fs.upload_reader(&b"contract reader\n"[..], "reader.txt")
        });
        self.op("FileSystem::upload_files", Expect::Ok, || {
            fs.upload_files(
                [
                    Upload::bytes(&b"one\n"[..], "/home/daytona/one.txt"),
                    Upload::file(&local, "/home/daytona/two.txt"),
                    Upload::reader(&b"three\n"[..], "three.txt").size(6),
                ],
                TransferOptions::new().timeout(Duration::from_secs(20)),
            )
        });

        let path = "/home/daytona/data.txt";
        let want = download_content(path);
        let target = self.scratch.join("downloaded/data.txt");
        let size = self.op("FileSystem::download_file", Expect::Ok, || {
            fs.download_file(path, &target)
        });
        let saved = std::fs::read(&target).unwrap_or_default();
        self.check("FileSystem::download_file", saved == want, || {
            format!("saved {saved:?} ({size:?} bytes), sent {want:?}")
        });
        let bytes = self.op("FileSystem::download_bytes", Expect::Ok, || {
            fs.download_bytes(path)
        });
        self.check(
            "FileSystem::download_bytes",
            bytes.as_deref() == Some(&want[..]),
            || format!("{bytes:?}"),
        );
        let mut written = Vec::new();
        self.op("FileSystem::download_to", Expect::Ok, || {
            fs.download_to(path, &mut written)
        });
        self.check("FileSystem::download_to", written == want, || {
            format!("{written:?}")
        });
        let one = self.op("FileSystem::download", Expect::Ok, || {
            fs.download(Download::to_bytes(path), TransferOptions::new())
        });
        self.check(
            "FileSystem::download",
            one == Some(Downloaded::Bytes(want.clone())),
            || format!("{one:?}"),
        );
        self.op("FileSystem::download", Expect::NotFound, || {
            fs.download(
                Download::to_bytes(format!("/home/daytona/{MISSING}")),
                TransferOptions::new(),
            )
        });
        let relative = self.scratch.join("relative.txt");
        let many = self.op("FileSystem::download_files", Expect::Ok, || {
            fs.download_files(
                [
                    Download::to_bytes(path),
                    Download::to_file("relative.txt", &relative),
                    Download::to_bytes(format!("/home/daytona/{MISSING}")),
                ],
                TransferOptions::new(),
            )
        });
        let outcome: Vec<String> = many
            .iter()
            .flatten()
            .map(|r| match &r.result {
                Ok(d) => format!("ok {}", d.size()),
                Err(e) if e.is_not_found() => "not found".into(),
                Err(e) => format!("error {e}"),
            })
            .collect();
        let expected = vec![
            format!("ok {}", want.len()),
            format!("ok {}", download_content("relative.txt").len()),
            "not found".to_string(),
        ];
        self.check("FileSystem::download_files", outcome == expected, || {
            format!("{outcome:?}, expected {expected:?}")
        });
    }

    fn git_operations(&mut self, sb: &daytona::Sandbox) {
        let git = sb.git();
        let creds = GitCredentials::new("ada", "contract-token");
        let repo = "/home/daytona/repo";
        self.op("Git::clone_repo", Expect::Ok, || {
            git.clone_repo(
                "https://github.com/octocat/Hello-World.git",
                repo,
                CloneOptions::new()
                    .branch("main")
                    .commit_id("7fd1a60b01f91b314f59955a4e4d4e80d8edf11d")
                    .credentials(creds.clone())
                    .insecure_skip_tls(true),
            )
        });
        self.op("Git::clone_repo", Expect::Ok, || {
            git.clone_repo(
                "https://github.com/octocat/Hello-World.git",
                repo,
                CloneOptions::new(),
            )
        });
        self.op("Git::status", Expect::Ok, || git.status(repo));
        self.op("Git::add", Expect::Ok, || git.add(repo, &["."]));
        self.op("Git::commit_with", Expect::Ok, || {
            let options = CommitOptions::new().allow_empty(true);
            git.commit_with(repo, "Contract", "Ada", "ada@example.com", options)
        });
        self.op("Git::commit", Expect::Ok, || {
            git.commit(repo, "Contract", "Ada", "ada@example.com")
        });
        self.op("Git::push", Expect::Ok, || git.push(repo, Some(&creds)));
        self.op("Git::pull", Expect::Ok, || git.pull(repo, None));
        self.op("Git::branches", Expect::Ok, || git.branches(repo));
        self.op("Git::create_branch", Expect::Ok, || {
            git.create_branch(repo, "feature")
        });
        self.op("Git::checkout_branch", Expect::Ok, || {
            git.checkout_branch(repo, "feature")
        });
        self.op("Git::delete_branch", Expect::Ok, || {
            git.delete_branch(repo, "feature")
        });
        self.op("Git::history", Expect::Ok, || git.history(repo));
    }

    fn computer_use_operations(&mut self, sb: &daytona::Sandbox) {
        let cu = sb.computer_use();
        self.op("ComputerUse::start", Expect::Ok, || cu.start());
        self.op("ComputerUse::status", Expect::Ok, || cu.status());
        self.op("ComputerUse::system_status", Expect::Ok, || {
            cu.system_status()
        });
        self.op("ComputerUse::is_process_running", Expect::Ok, || {
            cu.is_process_running("xvfb")
        });
        self.op("ComputerUse::restart_process", Expect::Ok, || {
            cu.restart_process("x11vnc")
        });
        self.op("ComputerUse::process_logs", Expect::Ok, || {
            cu.process_logs("novnc")
        });
        self.op("ComputerUse::process_errors", Expect::Ok, || {
            cu.process_errors("xfce4")
        });

        let mouse = cu.mouse();
        self.op("Mouse::position", Expect::Ok, || mouse.position());
        self.op("Mouse::move_to", Expect::Ok, || mouse.move_to((100, 200)));
        self.op("Mouse::click", Expect::Ok, || {
            mouse.click((10, 20), MouseButton::Left)
        });
        self.op("Mouse::double_click", Expect::Ok, || {
            mouse.double_click((11, 21), MouseButton::Middle)
        });
        self.op("Mouse::drag", Expect::Ok, || {
            mouse.drag((1, 2), (300, 400), MouseButton::Right)
        });
        self.op("Mouse::scroll", Expect::Ok, || {
            mouse.scroll((5, 6), ScrollDirection::Up, 2)
        });

        let keyboard = cu.keyboard();
        self.op("Keyboard::type_text", Expect::Ok, || {
            keyboard.type_text("contract")
        });
        self.op("Keyboard::type_text_with_delay", Expect::Ok, || {
            keyboard.type_text_with_delay("contract", Duration::from_millis(20))
        });
        self.op("Keyboard::press", Expect::Ok, || keyboard.press("Return"));
        self.op("Keyboard::press_with", Expect::Ok, || {
            keyboard.press_with("t", &[Modifier::Ctrl, Modifier::Shift])
        });
        self.op("Keyboard::hotkey", Expect::Ok, || keyboard.hotkey("ctrl+c"));

        let shots = cu.screenshot();
        let region = Rect::new(10, 20, 300, 200);
        let compressed = || {
            CompressedOptions::new()
                .format(ImageFormat::Jpeg)
                .quality(70)
                .scale(0.5)
                .show_cursor(true)
        };
        let taken = [
            self.op("Screenshots::take_full_screen", Expect::Ok, || {
                shots.take_full_screen(ScreenshotOptions::new().show_cursor(true))
            }),
            self.op("Screenshots::take_region", Expect::Ok, || {
                shots.take_region(region, ScreenshotOptions::new())
            }),
            self.op("Screenshots::take_compressed", Expect::Ok, || {
                shots.take_compressed(compressed())
            }),
            self.op("Screenshots::take_compressed", Expect::Ok, || {
                shots.take_compressed(CompressedOptions::new())
            }),
            self.op("Screenshots::take_compressed_region", Expect::Ok, || {
                shots.take_compressed_region(region, compressed())
            }),
        ];
        for shot in taken.iter().flatten() {
            self.check("Screenshots", shot.bytes() == SCREENSHOT, || {
                format!("decoded {:?}, sent {SCREENSHOT:?}", shot.bytes())
            });
        }

        let display = cu.display();
        self.op("Display::info", Expect::Ok, || display.info());
        self.op("Display::windows", Expect::Ok, || display.windows());

        let rec = cu.recording();
        self.op("Recordings::start", Expect::Ok, || {
            rec.start(Some("contract run"))
        });
        self.op("Recordings::start", Expect::Ok, || rec.start(None));
        self.op("Recordings::stop", Expect::Ok, || {
            rec.stop("contract-recording")
        });
        self.op("Recordings::list", Expect::Ok, || rec.list());
        self.op("Recordings::get", Expect::Ok, || {
            rec.get("contract-recording")
        });
        self.op("Recordings::get", Expect::NotFound, || rec.get(MISSING));
        self.op("Recordings::delete", Expect::Ok, || {
            rec.delete("contract-recording")
        });
        // What Prism sent (a short text: the whole of it is in the excerpt).
        let sent = |suite: &Self, from: usize| -> Vec<u8> {
            suite
                .shared
                .since(from)
                .into_iter()
                .find(|x| x.route.as_deref() == Some("GET /computeruse/recordings/{id}/download"))
                .map(|x| x.excerpt.into_bytes())
                .unwrap_or_default()
        };
        let target = self.scratch.join("recordings/contract.mp4");
        let from = self.shared.len();
        let size = self.op("Recordings::download", Expect::Ok, || {
            rec.download("contract-recording", &target)
        });
        let saved = std::fs::read(&target).unwrap_or_default();
        let want = sent(self, from);
        self.check(
            "Recordings::download",
            !want.is_empty() && saved == want && size == Some(want.len() as u64),
            || format!("saved {saved:?} ({size:?} bytes), sent {want:?}"),
        );
        let mut written = Vec::new();
        let from = self.shared.len();
        self.op("Recordings::download_to", Expect::Ok, || {
            rec.download_to("contract-recording", &mut written)
        });
        let want = sent(self, from);
        self.check(
            "Recordings::download_to",
            !want.is_empty() && written == want,
            || format!("written {written:?}, sent {want:?}"),
        );
        let missing = self.scratch.join("recordings/missing.mp4");
        self.op("Recordings::download", Expect::NotFound, || {
            rec.download(MISSING, &missing)
        });

        let a11y = cu.accessibility();
        self.op("Accessibility::tree", Expect::Ok, || {
            a11y.tree(AccessibilityScope::Focused, Some(3))
        });
        self.op("Accessibility::tree", Expect::Ok, || {
            a11y.tree(AccessibilityScope::Process(4242), None)
        });
        self.op("Accessibility::tree", Expect::Ok, || {
            a11y.tree(AccessibilityScope::All, Some(0))
        });
        self.op("Accessibility::find_nodes", Expect::Ok, || {
            a11y.find_nodes(
                FindNodes::new()
                    .scope(AccessibilityScope::Process(4242))
                    .role("push button")
                    .name("OK", NameMatch::Exact)
                    .state("enabled")
                    .limit(10),
            )
        });
        self.op("Accessibility::find_nodes", Expect::Ok, || {
            a11y.find_nodes(FindNodes::new())
        });
        self.op("Accessibility::focus_node", Expect::Ok, || {
            a11y.focus_node(":1.2:/org/a11y/atspi/accessible/7")
        });
        self.op("Accessibility::invoke_node", Expect::Ok, || {
            a11y.invoke_node(":1.2:/org/a11y/atspi/accessible/7", Some("click"))
        });
        self.op("Accessibility::invoke_node", Expect::Ok, || {
            a11y.invoke_node(":1.2:/org/a11y/atspi/accessible/7", None)
        });
        self.op("Accessibility::set_node_value", Expect::Ok, || {
            a11y.set_node_value(":1.2:/org/a11y/atspi/accessible/8", "contract")
        });
        self.op("ComputerUse::stop", Expect::Ok, || cu.stop());
    }

    fn lsp_operations(&mut self, sb: &daytona::Sandbox) {
        for language in [
            LspLanguage::Python,
            LspLanguage::TypeScript,
            LspLanguage::JavaScript,
        ] {
            let lsp = sb.lsp_server(language, "/home/daytona/contract project");
            self.op("LspServer::start", Expect::Ok, || lsp.start());
            self.op("LspServer::did_open", Expect::Ok, || {
                lsp.did_open("src/main.py")
            });
            self.op("LspServer::document_symbols", Expect::Ok, || {
                lsp.document_symbols("src/main.py")
            });
            self.op("LspServer::sandbox_symbols", Expect::Ok, || {
                lsp.sandbox_symbols("Greeter")
            });
            self.op("LspServer::completions", Expect::Ok, || {
                lsp.completions(
                    "file:///home/daytona/contract%20project/src/main.py",
                    Position::new(10, 4),
                )
            });
            self.op("LspServer::did_close", Expect::Ok, || {
                lsp.did_close("/home/daytona/contract project/src/main.py")
            });
            self.op("LspServer::stop", Expect::Ok, || lsp.stop());
        }
    }

    fn snapshot_operations(&mut self) {
        let s = self.daytona.snapshots();
        self.op("Snapshots::list_page", Expect::Ok, || {
            s.list_page(
                ListSnapshots::new()
                    .page(1)
                    .limit(10)
                    .name("contract")
                    .sort(SnapshotSort::LastUsedAt, SortOrder::Asc),
            )
        });
        self.op("Snapshots::list", Expect::Listing, || {
            s.list(ListSnapshots::new().limit(2))
                .take(5)
                .collect::<daytona::Result<Vec<_>>>()
        });
        let snapshot = self.op("Snapshots::get", Expect::Ok, || s.get("contract-snapshot"));
        if let Some(snapshot) = snapshot {
            self.op("Snapshots::activate", Expect::Ok, || s.activate(&snapshot));
            self.op("Snapshots::delete", Expect::Ok, || s.delete(&snapshot));
        }
        self.op("Snapshots::create", Expect::Wait, || {
            s.create(
                CreateSnapshot::from_image("contract-snapshot", "python:3.12-slim")
                    .resources(
                        Resources::new()
                            .cpu(2)
                            .gpu(1)
                            .gpu_type(GpuType::H100)
                            .memory(4)
                            .disk(10),
                    )
                    .entrypoint(["sleep", "infinity"])
                    .region_id("us")
                    .sandbox_class(SandboxClass::Container)
                    .timeout(WAIT),
            )
        });
        // A declarative image: build context, then the build logs. The
        // mock's state is set for this call (`building` in the create's
        // answer, `active` after it), so the whole flow runs.
        let context = self.scratch_file("snapshot-context.txt", b"snapshot context\n");
        let image = Image::base("python:3.12-slim")
            .add_local_file(&context, "/app/context.txt")
            .unwrap()
            .run_commands(["echo built"]);
        let mut lines = Vec::new();
        self.shared
            .set_override("createSnapshot", "state", "building");
        self.shared.set_override("getSnapshot", "state", "active");
        let from = self.shared.len();
        self.op("Snapshots::create_with_logs", Expect::Ok, || {
            s.create_with_logs(
                CreateSnapshot::from_image("contract-image", image)
                    .entrypoint(["python", "-m", "app"])
                    .timeout(Duration::from_secs(20)),
                |l| lines.push(l.to_string()),
            )
        });
        self.shared.clear_overrides();
        self.expect_route(
            "Snapshots::create_with_logs",
            from,
            "GET /snapshots/{id}/build-logs",
        );
        self.check(
            "Snapshots::create_with_logs",
            lines
                .last()
                .is_some_and(|l| l.starts_with("Created snapshot")),
            || format!("log lines {lines:?}"),
        );
    }

    fn volume_operations(&mut self) {
        let v = self.daytona.volumes();
        self.op("Volumes::list", Expect::Ok, || v.list());
        self.op("Volumes::list_including_deleted", Expect::Ok, || {
            v.list_including_deleted()
        });
        let volume = self.op("Volumes::get", Expect::Ok, || v.get("contract-volume"));
        self.op("Volumes::get", Expect::NotFound, || v.get(MISSING));
        self.op("Volumes::get_or_create", Expect::Ok, || {
            v.get_or_create("contract-volume")
        });
        // Not there: the real 404, then the create.
        let from = self.shared.len();
        self.op("Volumes::get_or_create", Expect::Ok, || {
            v.get_or_create(MISSING)
        });
        let created = self
            .shared
            .since(from)
            .iter()
            .any(|x| x.method == "POST" && x.target == "/volumes");
        self.check("Volumes::get_or_create", created, || {
            "a missing volume was not created".into()
        });
        self.op("Volumes::create", Expect::Ok, || {
            v.create("contract-volume")
        });
        if let Some(volume) = volume {
            self.op("Volumes::delete", Expect::Ok, || v.delete(&volume));
        }
        self.op("Volumes::wait_until_ready", Expect::Wait, || {
            v.wait_until_ready("contract-volume")
        });
        self.op(
            "Volumes::wait_until_ready_with_timeout",
            Expect::Wait,
            || v.wait_until_ready_with_timeout("contract-volume", WAIT),
        );
    }
}

/// A wait's accepted ends against a mock.
fn waited(e: &Error) -> bool {
    e.is_timeout()
        || matches!(
            e.root(),
            Error::SandboxFailed { .. } | Error::SnapshotFailed { .. } | Error::VolumeFailed { .. }
        )
}

/// Decodes a JSON answer with the SDK's public model of its schema, when it
/// has one: some operations decode leniently (a `Sandbox` answer to start,
/// stop, ... that does not decode is ignored), so a model that cannot read
/// what the spec allows would otherwise go unnoticed.
fn decode_with_models(x: &Exchange) -> Option<String> {
    fn try_as<T: serde::de::DeserializeOwned>(v: &Value) -> Result<(), String> {
        serde_json::from_value::<T>(v.clone())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
    let value = x.response_json.as_ref()?;
    let schema = x.response_schema.as_deref()?;
    if !(200..300).contains(&x.status) {
        return None;
    }
    let result = match schema {
        "Sandbox" => try_as::<SandboxInfo>(value),
        "SnapshotDto" => try_as::<Snapshot>(value),
        "PaginatedSnapshots" => try_as::<SnapshotPage>(value),
        "VolumeDto" => try_as::<Volume>(value),
        "[VolumeDto]" => try_as::<Vec<Volume>>(value),
        "SandboxLabels" => try_as::<Option<daytona::Labels>>(&value["labels"]),
        "PortPreviewUrl" => try_as::<daytona::models::PortPreviewUrl>(value),
        "SignedPortPreviewUrl" => try_as::<daytona::models::SignedPortPreviewUrl>(value),
        "SshAccessDto" => try_as::<daytona::models::SshAccess>(value),
        "SshAccessValidationDto" => try_as::<daytona::models::SshAccessValidation>(value),
        "FileInfo" => try_as::<FileInfo>(value),
        "[FileInfo]" => try_as::<Vec<FileInfo>>(value),
        "[Match]" => try_as::<Vec<Match>>(value),
        "[ReplaceResult]" => try_as::<Vec<ReplaceResult>>(value),
        "GitStatus" => try_as::<GitStatus>(value),
        "[GitCommitInfo]" => try_as::<Vec<GitCommitInfo>>(value),
        "Session" => try_as::<Session>(value),
        "Command" => try_as::<Command>(value),
        "SessionExecuteResponse" => try_as::<SessionExecResponse>(value),
        "SessionCommandLogsResponse" => try_as::<SessionCommandLogs>(value),
        "PtySessionInfo" => try_as::<daytona::toolbox::PtySessionInfo>(value),
        "InterpreterContext" => try_as::<daytona::toolbox::InterpreterContext>(value),
        "ComputerUseStartResponse" | "ComputerUseStopResponse" => {
            try_as::<ComputerUseProcesses>(value)
        }
        "MousePositionResponse" | "MouseClickResponse" | "MouseDragResponse" => {
            try_as::<Point>(value)
        }
        "DisplayInfoResponse" => try_as::<Option<Vec<DisplayInfo>>>(&value["displays"]),
        "WindowsResponse" => try_as::<Option<Vec<WindowInfo>>>(&value["windows"]),
        "Recording" => try_as::<Recording>(value),
        "ListRecordingsResponse" => try_as::<Vec<Recording>>(&value["recordings"]),
        "AccessibilityTreeResponse" => try_as::<AccessibilityTree>(value),
        "AccessibilityNodesResponse" => try_as::<AccessibilityNodes>(value),
        "[LspSymbol]" => try_as::<Option<Vec<LspSymbol>>>(value),
        "CompletionList" => try_as::<CompletionList>(value),
        _ => Ok(()),
    };
    result
        .err()
        .map(|e| format!("the SDK's model of `{schema}` cannot decode the answer: {e}"))
}

/// `Type::method` of every public method of the operation types, read from
/// the source.
fn public_operations() -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut ops = BTreeSet::new();
    for file in SOURCES {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let mut current: Option<String> = None;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("impl") {
                // `impl Sandbox {`, `impl<'s> Process<'s> {`, `impl Process<'_> {`
                let rest = match rest.strip_prefix('<') {
                    Some(r) => r.split_once('>').map_or("", |(_, r)| r),
                    None => rest,
                };
                let name: String = rest
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                current = (!rest.contains(" for ")).then_some(name);
            } else if line.starts_with('}') {
                current = None;
            } else if let (Some(t), Some(rest)) = (&current, line.strip_prefix("    pub fn ")) {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let op = format!("{t}::{name}");
                if OPERATION_TYPES.contains(&t.as_str()) && !NOT_OPERATIONS.contains(&op.as_str()) {
                    ops.insert(op);
                }
            }
        }
    }
    ops
}

/// The closing table.
fn report(
    env: &Env,
    log: &[Exchange],
    suite: &Suite,
    operations: &BTreeSet<String>,
    api_spec: &Spec,
    toolbox_spec: &Spec,
    started: Instant,
) {
    let prism: Vec<&Exchange> = log.iter().filter(|x| x.prism_status.is_some()).collect();
    let rejected = prism.iter().filter(|x| !x.violations.is_empty()).count();
    let validated = prism.len() - rejected;
    let by_side = |side: Side| prism.iter().filter(|x| x.side == side).count();
    let distinct = |side: Side| -> BTreeSet<String> {
        prism
            .iter()
            .filter(|x| x.side == side)
            .filter_map(|x| x.route.clone())
            .collect()
    };
    let mut notes: BTreeMap<String, usize> = BTreeMap::new();
    for x in log {
        for n in &x.notes {
            let key = n.split(" (").next().unwrap_or(n).to_string();
            *notes.entry(key).or_default() += 1;
        }
    }
    let covered = operations.intersection(&suite.covered).count();
    eprintln!(
        "\n==== contract suite: {} ({} round(s), thinning seed {}) ====",
        env.mode, env.rounds, env.seed
    );
    eprintln!(
        "| public operations driven | {covered} / {} |",
        operations.len()
    );
    eprintln!(
        "| requests validated by Prism | {validated} (API {}, toolbox {}) |",
        by_side(Side::Api),
        by_side(Side::Toolbox)
    );
    eprintln!("| requests rejected (422 and other contract breaks) | {rejected} |");
    eprintln!(
        "| spec operations exercised | API {} of {}, toolbox {} of {} |",
        distinct(Side::Api).len(),
        api_spec.routes().len(),
        distinct(Side::Toolbox).len(),
        toolbox_spec.routes().len()
    );
    if std::env::var_os("DAYTONA_CONTRACT_VERBOSE").is_some() {
        for side in [Side::Api, Side::Toolbox] {
            for route in distinct(side) {
                eprintln!("|   {side:?}: {route} |");
            }
        }
    }
    for (note, n) in &notes {
        eprintln!("| proxy: {note} | {n} |");
    }
    eprintln!("| time | {:.1} s |", started.elapsed().as_secs_f64());
    let mut findings: BTreeMap<&String, BTreeSet<String>> = BTreeMap::new();
    for x in log {
        for f in &x.spec_findings {
            findings
                .entry(f)
                .or_default()
                .insert(x.route.clone().unwrap_or_default());
        }
    }
    if !findings.is_empty() {
        eprintln!(
            "Prism's answers that break the spec itself (its examples contradict their \
             schemas; Prism says so in `sl-violations`), repaired before the SDK saw them:"
        );
        for (finding, routes) in findings {
            let first = routes.iter().next().cloned().unwrap_or_default();
            eprintln!("  - {finding}: {} operation(s), e.g. {first}", routes.len());
        }
    }
    eprintln!();
}
