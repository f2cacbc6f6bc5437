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
//!   unbounded `integer` (`--dynamic` sends negative and large ones):
//!   `Match.line` is an `i64` now, and the port and the size are decoded
//!   tolerantly, a value out of their range clamped to it
//!   (`src/models/number.rs`).
#![cfg(all(feature = "images", feature = "websocket"))]

mod contract_ops;
mod contract_support;
mod fault_server;
mod temp;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use contract_support::proxy::{self, Exchange, Shared, Side, MISSING};
use contract_support::spec::{Rng, Spec, Thinning};
use daytona::toolbox::{
    AccessibilityNodes, AccessibilityTree, Command, CompletionList, ComputerUseProcesses,
    DisplayInfo, FileInfo, GitCommitInfo, GitStatus, LspSymbol, Match, Point, Recording,
    ReplaceResult, Session, SessionCommandLogs, SessionExecResponse, WindowInfo,
};
use daytona::{
    Daytona, DaytonaConfig, Error, PollSchedule, SandboxInfo, Snapshot, SnapshotPage, Volume,
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
