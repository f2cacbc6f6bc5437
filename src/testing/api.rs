//! The main API (`/api/...`): sandboxes, snapshots and volumes, with their
//! state machines and streamed build logs.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::server::{Request, Response};
use super::{error, new_id, now_rfc3339, Shared, Timing};

mod build_logs;
mod catalog;
pub(crate) mod events;
mod fork;
mod lifecycle;
mod network;
pub(crate) mod previews;
mod sandbox_snapshot;
mod sandboxes;
mod ssh;

/// The snapshot sandboxes are created from when the create names none.
pub(crate) const DEFAULT_SNAPSHOT: &str = "daytonaio/sandbox:0.4.3";

/// A state reached at a given time.
type Step = (Instant, String);

pub(crate) struct SandboxRecord {
    /// Its id and name (also in `info`), for fast look-ups.
    id: String,
    name: String,
    pub(crate) info: Value,
    pub(crate) dir: PathBuf,
    steps: VecDeque<Step>,
    build: Option<build_logs::BuildLog>,
    pub(crate) sessions: super::toolbox::Sessions,
}

pub(crate) struct SnapshotRecord {
    info: Value,
    steps: VecDeque<Step>,
    build: Option<build_logs::BuildLog>,
    /// The files of a snapshot taken from a sandbox, copied into the
    /// sandboxes created from it.
    files: Option<PathBuf>,
}

pub(crate) struct VolumeRecord {
    info: Value,
    steps: VecDeque<Step>,
}

/// Everything the simulated organization holds.
pub(crate) struct World {
    pub(crate) sandboxes: Vec<SandboxRecord>,
    snapshots: Vec<SnapshotRecord>,
    volumes: Vec<VolumeRecord>,
    ssh: Vec<ssh::SshRecord>,
    previews: Vec<previews::Signed>,
    /// See [`World::version`].
    version: u64,
}

fn state_of(info: &Value) -> &str {
    info["state"].as_str().unwrap_or("")
}

/// Applies the steps whose time has come; whether there was any.
fn advance(info: &mut Value, steps: &mut VecDeque<Step>, now: Instant) -> bool {
    let mut applied = false;
    while steps.front().is_some_and(|(at, _)| *at <= now) {
        let (_, state) = steps.pop_front().unwrap_or_else(|| unreachable!());
        info["state"] = json!(state);
        info["updatedAt"] = json!(now_rfc3339());
        applied = true;
    }
    applied
}

/// `states[i]` reached `delays[0] + ... + delays[i]` from now.
fn schedule(states: &[(&str, Duration)]) -> VecDeque<Step> {
    schedule_from(Instant::now(), states)
}

/// `states[i]` reached `delays[0] + ... + delays[i]` after `at`.
fn schedule_from(mut at: Instant, states: &[(&str, Duration)]) -> VecDeque<Step> {
    states
        .iter()
        .map(|(s, d)| {
            at += *d;
            (at, s.to_string())
        })
        .collect()
}

impl World {
    pub(crate) fn new() -> Self {
        let now = now_rfc3339();
        let default = SnapshotRecord {
            info: json!({
                "id": new_id(), "organizationId": ORG, "general": true,
                "name": DEFAULT_SNAPSHOT, "imageName": DEFAULT_SNAPSHOT, "state": "active",
                "size": 1.0, "entrypoint": [], "cpu": 1, "gpu": 0, "mem": 1, "disk": 3,
                "errorReason": null, "createdAt": now, "updatedAt": now, "lastUsedAt": null,
                "regionIds": ["local"], "sandboxClass": "container",
            }),
            steps: VecDeque::new(),
            build: None,
            files: None,
        };
        World {
            sandboxes: Vec::new(),
            snapshots: vec![default],
            volumes: Vec::new(),
            ssh: Vec::new(),
            previews: Vec::new(),
            version: 0,
        }
    }

    /// A number that changes whenever the world may have: each time it is
    /// taken to be read or changed ([`touch`](Self::touch)), and when a
    /// scheduled step is applied. With [`next_due`](Self::next_due), it
    /// tells the notification gateway when to look again.
    pub(crate) fn version(&self) -> u64 {
        self.version
    }

    /// Counts a (possible) change.
    pub(crate) fn touch(&mut self) {
        self.version = self.version.wrapping_add(1);
    }

    /// When the next scheduled step of any record is due.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        let sandboxes = self.sandboxes.iter().map(|s| &s.steps);
        let snapshots = self.snapshots.iter().map(|s| &s.steps);
        let volumes = self.volumes.iter().map(|v| &v.steps);
        sandboxes
            .chain(snapshots)
            .chain(volumes)
            .filter_map(|steps| steps.front().map(|(at, _)| *at))
            .min()
    }

    /// The index of the sandbox with this id or name, after advancing it;
    /// a destroyed sandbox is removed and not found.
    pub(crate) fn sandbox(&mut self, id_or_name: &str) -> Option<usize> {
        let now = Instant::now();
        let i = self
            .sandboxes
            .iter()
            .position(|s| s.id == id_or_name || s.name == id_or_name)?;
        let sb = &mut self.sandboxes[i];
        if advance(&mut sb.info, &mut sb.steps, now) {
            self.touch();
        }
        if state_of(&self.sandboxes[i].info) == "destroyed" {
            let gone = self.sandboxes.remove(i);
            let _ = std::fs::remove_dir_all(&gone.dir);
            return None;
        }
        Some(i)
    }

    fn advance_all(&mut self) {
        let now = Instant::now();
        let mut applied = false;
        let mut i = 0;
        while i < self.sandboxes.len() {
            let sb = &mut self.sandboxes[i];
            applied |= advance(&mut sb.info, &mut sb.steps, now);
            if state_of(&sb.info) == "destroyed" {
                let gone = self.sandboxes.remove(i);
                let _ = std::fs::remove_dir_all(&gone.dir);
            } else {
                i += 1;
            }
        }
        for s in &mut self.snapshots {
            applied |= advance(&mut s.info, &mut s.steps, now);
        }
        self.snapshots.retain(|s| {
            let gone = state_of(&s.info) == "deleted";
            if let (true, Some(files)) = (gone, &s.files) {
                let _ = std::fs::remove_dir_all(files);
            }
            !gone
        });
        for v in &mut self.volumes {
            applied |= advance(&mut v.info, &mut v.steps, now);
        }
        if applied {
            self.touch();
        }
    }

    fn snapshot(&mut self, id_or_name: &str) -> Option<usize> {
        self.advance_all();
        self.snapshots
            .iter()
            .position(|s| s.info["id"] == id_or_name || s.info["name"] == id_or_name)
    }

    /// Puts a sandbox into `state` at once (pending transitions dropped).
    pub(crate) fn force_sandbox(&mut self, id: &str, state: &str, reason: Option<&str>) -> bool {
        let Some(i) = self.sandbox(id) else {
            return false;
        };
        let sb = &mut self.sandboxes[i];
        sb.steps.clear();
        sb.info["state"] = json!(state);
        sb.info["errorReason"] = json!(reason);
        sb.info["recoverable"] = json!(state == "error");
        true
    }

    pub(crate) fn force_snapshot(&mut self, id: &str, state: &str, reason: Option<&str>) -> bool {
        let Some(i) = self.snapshot(id) else {
            return false;
        };
        let s = &mut self.snapshots[i];
        s.steps.clear();
        s.info["state"] = json!(state);
        s.info["errorReason"] = json!(reason);
        true
    }
}

const ORG: &str = "local-organization";

/// Routes `/api/...` (the prefix already removed: `segments` follow it).
pub(crate) fn handle(shared: &Arc<Shared>, req: &Request, segments: &[&str]) -> Response {
    let m = req.method.as_str();
    match (m, segments) {
        ("GET", ["sandbox"]) => sandboxes::list(shared, req),
        ("GET", ["sandbox", id]) => with_sandbox(shared, id, |_, sb| ok(&sb.info)),
        ("DELETE", ["sandbox", id]) => ending(
            shared,
            id,
            lifecycle::transition(shared, id, &[], "destroying", "destroyed"),
        ),
        ("POST", ["sandbox", id, "start"]) => lifecycle::start(shared, id),
        ("POST", ["sandbox", id, "resize"]) => lifecycle::resize(shared, req, id),
        ("POST", ["sandbox", id, "snapshot"]) => sandbox_snapshot::create(shared, req, id),
        ("POST", ["sandbox", id, "fork"]) => fork::fork(shared, req, id),
        ("POST", ["sandbox", id, "network-settings"]) => network::update(shared, req, id),
        ("GET", ["sandbox", "ssh-access", "validate"]) => ssh::validate(shared, req),
        ("POST", ["sandbox", id, "ssh-access"]) => ssh::create(shared, req, id),
        ("DELETE", ["sandbox", id, "ssh-access"]) => ssh::revoke(shared, req, id),
        ("POST", ["sandbox", id, "pause"]) => {
            lifecycle::transition(shared, id, &["started", "paused"], "pausing", "paused")
        }
        ("POST", ["sandbox", id, "stop"]) => ending(
            shared,
            id,
            lifecycle::transition(shared, id, &["started", "stopped"], "stopping", "stopped"),
        ),
        ("POST", ["sandbox", id, "archive"]) => lifecycle::transition(
            shared,
            id,
            &["stopped", "archived"],
            "archiving",
            "archived",
        ),
        ("POST", ["sandbox", id, "recover"]) => {
            lifecycle::transition(shared, id, &["error"], "starting", "started")
        }
        ("PUT", ["sandbox", id, "labels"]) => sandboxes::set_labels(shared, req, id),
        ("POST", ["sandbox", id, kind @ ("autostop" | "autoarchive" | "autodelete"), n]) => {
            let field = match *kind {
                "autostop" => "autoStopInterval",
                "autoarchive" => "autoArchiveInterval",
                _ => "autoDeleteInterval",
            };
            let Ok(n) = n.parse::<i64>() else {
                return error(400, "the interval must be an integer");
            };
            with_sandbox(shared, id, |_, sb| {
                sb.info[field] = json!(n);
                ok(&sb.info)
            })
        }
        ("POST", ["sandbox", id, "last-activity"]) => with_sandbox(shared, id, |_, sb| {
            sb.info["lastActivityAt"] = json!(now_rfc3339());
            Response::empty(201)
        }),
        ("GET", ["sandbox", id, "ports", port, "preview-url"]) => previews::link(shared, id, port),
        ("GET", ["sandbox", id, "ports", port, "signed-preview-url"]) => {
            previews::sign(shared, req, id, port)
        }
        ("POST", ["sandbox", id, "ports", port, "signed-preview-url", token, "expire"]) => {
            previews::expire(shared, id, port, token)
        }
        ("GET", ["sandbox", id, "build-logs-url"]) => build_logs::url(shared, id),
        ("GET", ["sandbox", id, "build-logs"]) => build_logs::follow(shared, id),
        ("POST", ["sandbox"]) => sandboxes::create(shared, req),
        (_, ["snapshots" | "volumes", ..]) => catalog::handle(shared, req, segments),
        ("GET", ["object-storage", ..]) => error(
            501,
            "the local simulator does not store build contexts: images with local files \
             (add_local_file, add_local_dir, pip requirements files) are not supported",
        ),
        _ => error(
            501,
            &format!(
                "{} /api/{} is not simulated by the local simulator",
                m,
                segments.join("/")
            ),
        ),
    }
}

fn ok(v: &Value) -> Response {
    Response::json(200, v)
}

fn not_found(what: &str, id: &str) -> Response {
    error(404, &format!("{what} {id} not found"))
}

fn with_world<T>(shared: &Shared, f: impl FnOnce(&mut World) -> T) -> T {
    let mut world = shared.world();
    f(&mut world)
}

/// `answer`, to a stop or a delete of the sandbox `id`: once accepted,
/// what ran in the sandbox has ended.
fn ending(shared: &Arc<Shared>, id: &str, answer: Response) -> Response {
    if answer.status < 300 {
        super::toolbox::end_processes(shared, id);
    }
    answer
}

fn with_sandbox(
    shared: &Shared,
    id: &str,
    f: impl FnOnce(&Timing, &mut SandboxRecord) -> Response,
) -> Response {
    with_world(shared, |w| match w.sandbox(id) {
        Some(i) => f(&shared.timing, &mut w.sandboxes[i]),
        None => not_found("sandbox", id),
    })
}

fn body_json(req: &Request) -> Result<Value, Response> {
    if req.body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(&req.body)
        .map_err(|e| error(400, &format!("the body is not valid JSON: {e}")))
}
