//! The main API (`/api/...`): sandboxes, snapshots and volumes, with their
//! state machines and streamed build logs.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use super::server::{Body, Request, Response};
use super::{error, new_id, now_rfc3339, Shared, Timing};

mod catalog;
mod fork;
mod network;
mod ssh;

/// The snapshot sandboxes are created from when the create names none.
pub(crate) const DEFAULT_SNAPSHOT: &str = "daytonaio/sandbox:0.4.3";

/// A state reached at a given time.
type Step = (Instant, String);

/// A build log: lines spread evenly over `[start, end]`.
#[derive(Clone)]
pub(crate) struct BuildLog {
    lines: Vec<String>,
    start: Instant,
    end: Instant,
}

pub(crate) struct SandboxRecord {
    /// Its id and name (also in `info`), for fast look-ups.
    id: String,
    name: String,
    pub(crate) info: Value,
    pub(crate) dir: PathBuf,
    steps: VecDeque<Step>,
    build: Option<BuildLog>,
    pub(crate) sessions: super::toolbox::Sessions,
}

pub(crate) struct SnapshotRecord {
    info: Value,
    steps: VecDeque<Step>,
    build: Option<BuildLog>,
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
}

fn state_of(info: &Value) -> &str {
    info["state"].as_str().unwrap_or("")
}

/// Applies the steps whose time has come; true when the record is gone.
fn advance(info: &mut Value, steps: &mut VecDeque<Step>, now: Instant) {
    while steps.front().is_some_and(|(at, _)| *at <= now) {
        let (_, state) = steps.pop_front().unwrap_or_else(|| unreachable!());
        info["state"] = json!(state);
        info["updatedAt"] = json!(now_rfc3339());
    }
}

/// `states[i]` reached `delays[0] + ... + delays[i]` from now.
fn schedule(states: &[(&str, Duration)]) -> VecDeque<Step> {
    let mut at = Instant::now();
    states
        .iter()
        .map(|(s, d)| {
            at += *d;
            (at, s.to_string())
        })
        .collect()
}

fn build_log(dockerfile: &str, start: Instant, duration: Duration) -> BuildLog {
    let steps: Vec<&str> = dockerfile
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    let mut lines = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        lines.push(format!("Step {}/{} : {}", i + 1, steps.len(), step.trim()));
        lines.push(" ---> simulated (nothing was built)".to_string());
    }
    lines.push("Successfully built in the local simulator".to_string());
    BuildLog {
        lines,
        start,
        end: start + duration,
    }
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
        };
        World {
            sandboxes: Vec::new(),
            snapshots: vec![default],
            volumes: Vec::new(),
            ssh: Vec::new(),
        }
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
        advance(&mut sb.info, &mut sb.steps, now);
        if state_of(&sb.info) == "destroyed" {
            let gone = self.sandboxes.remove(i);
            let _ = std::fs::remove_dir_all(&gone.dir);
            return None;
        }
        Some(i)
    }

    fn advance_all(&mut self) {
        let now = Instant::now();
        let mut i = 0;
        while i < self.sandboxes.len() {
            let sb = &mut self.sandboxes[i];
            advance(&mut sb.info, &mut sb.steps, now);
            if state_of(&sb.info) == "destroyed" {
                let gone = self.sandboxes.remove(i);
                let _ = std::fs::remove_dir_all(&gone.dir);
            } else {
                i += 1;
            }
        }
        for s in &mut self.snapshots {
            advance(&mut s.info, &mut s.steps, now);
        }
        self.snapshots.retain(|s| state_of(&s.info) != "deleted");
        for v in &mut self.volumes {
            advance(&mut v.info, &mut v.steps, now);
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
        ("POST", ["sandbox"]) => create_sandbox(shared, req),
        ("GET", ["sandbox"]) => list_sandboxes(shared, req),
        ("GET", ["sandbox", id]) => with_sandbox(shared, id, |_, sb| ok(&sb.info)),
        ("DELETE", ["sandbox", id]) => transition(shared, id, &[], "destroying", "destroyed"),
        ("POST", ["sandbox", id, "start"]) => transition(
            shared,
            id,
            &["stopped", "archived", "paused", "started"],
            "starting",
            "started",
        ),
        ("POST", ["sandbox", id, "resize"]) => resize(shared, req, id),
        ("POST", ["sandbox", id, "fork"]) => fork::fork(shared, req, id),
        ("POST", ["sandbox", id, "network-settings"]) => network::update(shared, req, id),
        ("GET", ["sandbox", "ssh-access", "validate"]) => ssh::validate(shared, req),
        ("POST", ["sandbox", id, "ssh-access"]) => ssh::create(shared, req, id),
        ("DELETE", ["sandbox", id, "ssh-access"]) => ssh::revoke(shared, req, id),
        ("POST", ["sandbox", id, "pause"]) => {
            transition(shared, id, &["started", "paused"], "pausing", "paused")
        }
        ("POST", ["sandbox", id, "stop"]) => {
            transition(shared, id, &["started", "stopped"], "stopping", "stopped")
        }
        ("POST", ["sandbox", id, "archive"]) => transition(
            shared,
            id,
            &["stopped", "archived"],
            "archiving",
            "archived",
        ),
        ("POST", ["sandbox", id, "recover"]) => {
            transition(shared, id, &["error"], "starting", "started")
        }
        ("PUT", ["sandbox", id, "labels"]) => set_labels(shared, req, id),
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
        ("GET", ["sandbox", id, "ports", port, "preview-url"]) => {
            let base = shared.base_url();
            with_sandbox(shared, id, |_, sb| {
                ok(&json!({
                    "sandboxId": sb.info["id"],
                    "url": format!("{base}/preview/{}/{port}", sb.info["id"].as_str().unwrap_or("")),
                    "token": "local-preview-token",
                }))
            })
        }
        ("GET", ["sandbox", id, "build-logs-url"]) => {
            let base = shared.base_url();
            with_sandbox(shared, id, |_, sb| {
                let id = sb.info["id"].as_str().unwrap_or("").to_string();
                ok(&json!({ "url": format!("{base}/api/sandbox/{id}/build-logs") }))
            })
        }
        ("GET", ["sandbox", id, "build-logs"]) => {
            let log = with_world(shared, |w| {
                w.sandbox(id).map(|i| w.sandboxes[i].build.clone())
            });
            let (state, key) = (shared.clone(), id.to_string());
            let building = move || {
                with_world(&state, |w| {
                    w.sandbox(&key).is_some_and(|i| {
                        matches!(
                            state_of(&w.sandboxes[i].info),
                            "pending_build" | "building_snapshot"
                        )
                    })
                })
            };
            match log {
                None => not_found("sandbox", id),
                Some(log) => stream_log(log, building),
            }
        }
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
    let mut world = shared.world.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut world)
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

/// Moves a sandbox through `busy` to `done` (one step each), when its state
/// is one of `from` (any state when `from` is empty). Already `done`: no-op.
fn transition(shared: &Shared, id: &str, from: &[&str], busy: &str, done: &str) -> Response {
    with_sandbox(shared, id, |t, sb| {
        let state = state_of(&sb.info).to_string();
        if state == done {
            return ok(&sb.info);
        }
        if !from.is_empty() && !from.contains(&state.as_str()) {
            return error(
                409,
                &format!("sandbox {id} is {state}; it must be one of {from:?} to become {done}"),
            );
        }
        sb.info["state"] = json!(busy);
        sb.info["desiredState"] = json!(done);
        sb.info["updatedAt"] = json!(now_rfc3339());
        sb.steps = schedule(&[(done, t.step)]);
        if done == "started" {
            sb.info["errorReason"] = Value::Null;
        }
        ok(&sb.info)
    })
}

/// Sets `cpu`, `memory` and `disk` (GB, whole, at least 1; the disk only
/// grows, and only while stopped) through `resizing`, back to its state.
fn resize(shared: &Shared, req: &Request, id: &str) -> Response {
    let body = match body_json(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    with_sandbox(shared, id, |t, sb| {
        let state = state_of(&sb.info).to_string();
        if state != "started" && state != "stopped" {
            return error(
                409,
                &format!("sandbox {id} is {state}; it must be started or stopped to resize"),
            );
        }
        let mut changes = Vec::new();
        for field in ["cpu", "memory", "disk"] {
            match &body[field] {
                Value::Null => {}
                v => match v.as_u64().filter(|n| *n >= 1) {
                    Some(n) => changes.push((field, n)),
                    None => {
                        return error(400, &format!("{field} must be an integer of at least 1"))
                    }
                },
            }
        }
        if changes.is_empty() {
            return error(400, "at least one of cpu, memory and disk is required");
        }
        if let Some((_, disk)) = changes.iter().find(|(f, _)| *f == "disk") {
            if state != "stopped" {
                return error(
                    400,
                    "the disk can only be resized while the sandbox is stopped",
                );
            }
            if *disk < sb.info["disk"].as_u64().unwrap_or(0) {
                return error(400, "the disk can only be increased");
            }
        }
        for (field, n) in changes {
            sb.info[field] = json!(n);
        }
        sb.info["state"] = json!("resizing");
        sb.info["desiredState"] = json!(state);
        sb.info["updatedAt"] = json!(now_rfc3339());
        sb.steps = schedule(&[(state.as_str(), t.step)]);
        ok(&sb.info)
    })
}

fn body_json(req: &Request) -> Result<Value, Response> {
    if req.body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(&req.body)
        .map_err(|e| error(400, &format!("the body is not valid JSON: {e}")))
}

fn create_sandbox(shared: &Arc<Shared>, req: &Request) -> Response {
    let body = match body_json(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let t = &shared.timing;
    let id = new_id();
    let name = body["name"].as_str().unwrap_or(&id).to_string();
    let dockerfile = body["buildInfo"]["dockerfileContent"]
        .as_str()
        .map(String::from);
    let mut world = shared.world.lock().unwrap_or_else(|e| e.into_inner());
    if world.sandbox(&name).is_some() {
        return error(409, &format!("a sandbox named {name} already exists"));
    }
    let snapshot = match (&dockerfile, body["snapshot"].as_str()) {
        (Some(_), _) => None,
        (None, requested) => {
            let wanted = requested.unwrap_or(DEFAULT_SNAPSHOT);
            match world.snapshot(wanted) {
                None => return error(404, &format!("snapshot {wanted} not found")),
                Some(i) if state_of(&world.snapshots[i].info) != "active" => {
                    return error(400, &format!("snapshot {wanted} is not active"))
                }
                Some(i) => Some(world.snapshots[i].info["name"].clone()),
            }
        }
    };
    let dir = shared.root.join("sandboxes").join(&id);
    if let Err(e) = std::fs::create_dir_all(dir.join("home/daytona")) {
        return error(500, &format!("cannot create the sandbox directory: {e}"));
    }
    let (state, steps, build) = match &dockerfile {
        Some(dockerfile) => {
            let log = build_log(dockerfile, Instant::now() + t.step, t.build);
            let steps = schedule(&[
                ("building_snapshot", t.step),
                ("starting", t.build),
                ("started", t.step),
            ]);
            ("pending_build", steps, Some(log))
        }
        None => (
            "creating",
            schedule(&[("starting", t.step), ("started", t.step)]),
            None,
        ),
    };
    let now = now_rfc3339();
    let num = |k: &str, d: f64| body[k].as_f64().map_or(json!(d), |v| json!(v));
    let info = json!({
        "id": id, "organizationId": ORG, "name": name, "snapshot": snapshot,
        "user": body["user"].as_str().unwrap_or("daytona"),
        "env": obj(&body["env"]), "labels": obj(&body["labels"]),
        "public": body["public"].as_bool().unwrap_or(false),
        "networkBlockAll": body["networkBlockAll"].as_bool().unwrap_or(false),
        "networkAllowList": body["networkAllowList"], "domainAllowList": body["domainAllowList"],
        "target": body["target"].as_str().unwrap_or("local"),
        "cpu": num("cpu", 1.0), "gpu": num("gpu", 0.0), "memory": num("memory", 1.0),
        "disk": num("disk", 3.0), "state": state, "desiredState": "started",
        "errorReason": null, "recoverable": false, "backupState": "None",
        "autoStopInterval": num("autoStopInterval", 15.0),
        "autoArchiveInterval": num("autoArchiveInterval", 10080.0),
        "autoDeleteInterval": num("autoDeleteInterval", -1.0),
        "volumes": body["volumes"].as_array().cloned().unwrap_or_default(),
        "buildInfo": dockerfile.as_ref().map(|d| json!({
            "dockerfileContent": d, "contextHashes": body["buildInfo"]["contextHashes"],
            "createdAt": now, "updatedAt": now, "snapshotRef": format!("local/{id}"),
        })),
        "createdAt": now, "updatedAt": now, "lastActivityAt": now,
        "sandboxClass": "container", "daemonVersion": "local-simulator", "runnerId": "local",
        "toolboxProxyUrl": format!("{}/toolbox", shared.base_url()),
    });
    world.sandboxes.push(SandboxRecord {
        id,
        name,
        info: info.clone(),
        dir,
        steps,
        build,
        sessions: Default::default(),
    });
    ok(&info)
}

fn obj(v: &Value) -> Value {
    match v {
        Value::Object(_) => v.clone(),
        _ => Value::Object(Map::new()),
    }
}

fn list_sandboxes(shared: &Shared, req: &Request) -> Response {
    let limit: usize = match req.param("limit").map(str::parse) {
        None => 100,
        Some(Ok(n)) if (1..=200).contains(&n) => n,
        _ => return error(400, "limit must be an integer from 1 to 200"),
    };
    let offset: usize = match req.param("cursor").map(str::parse) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return error(400, "invalid cursor"),
    };
    let labels: Map<String, Value> = match req.param("labels") {
        None => Map::new(),
        Some(l) => match serde_json::from_str(l) {
            Ok(m) => m,
            Err(_) => return error(400, "labels must be a JSON object"),
        },
    };
    let states = req.params("states");
    let snapshots = req.params("snapshots");
    let regions = req.params("regionIds");
    let errored = req.param("includeErroredDeleted") == Some("true");
    let prefix = |key: &str, v: &Value| {
        req.param(key)
            .is_none_or(|p| v[key].as_str().unwrap_or("").starts_with(p))
    };
    let field = match req.param("sort").unwrap_or("createdAt") {
        "memoryGib" => "memory",
        "diskGib" => "disk",
        other => other,
    }
    .to_string();
    let desc = req.param("order").unwrap_or("desc") == "desc";
    with_world(shared, |w| {
        w.advance_all();
        let mut items: Vec<(usize, &Value)> = w
            .sandboxes
            .iter()
            .enumerate()
            .map(|(i, s)| (i, &s.info))
            .filter(|(_, v)| {
                let state = state_of(v);
                prefix("id", v)
                    && prefix("name", v)
                    && labels.iter().all(|(k, want)| &v["labels"][k] == want)
                    && (states.is_empty() && (errored || state != "error")
                        || states.contains(&state))
                    && (snapshots.is_empty()
                        || snapshots.contains(&v["snapshot"].as_str().unwrap_or("")))
                    && (regions.is_empty() || regions.contains(&v["target"].as_str().unwrap_or("")))
            })
            .collect();
        // Creation order breaks ties (and `createdAt` has milliseconds only).
        items.sort_by_cached_key(|(i, v)| {
            let key = match &v[&field] {
                Value::Number(n) => format!("{:020.6}", n.as_f64().unwrap_or(0.0)),
                other => other.as_str().unwrap_or("").to_string(),
            };
            (key, *i)
        });
        if desc {
            items.reverse();
        }
        let total = items.len();
        let page: Vec<Value> = items
            .iter()
            .skip(offset)
            .take(limit)
            .map(|(_, v)| {
                let mut item = (*v).clone();
                if let Some(o) = item.as_object_mut() {
                    for k in ["env", "networkBlockAll", "volumes", "buildInfo"] {
                        o.remove(k);
                    }
                }
                item
            })
            .collect();
        let next = (offset + limit < total).then(|| (offset + limit).to_string());
        ok(&json!({ "items": page, "nextCursor": next }))
    })
}

fn set_labels(shared: &Shared, req: &Request, id: &str) -> Response {
    let body = match body_json(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if !body["labels"].is_object() {
        return error(400, "labels must be an object");
    }
    with_sandbox(shared, id, |_, sb| {
        sb.info["labels"] = body["labels"].clone();
        ok(&json!({ "labels": sb.info["labels"] }))
    })
}

/// A chunked stream of the log's lines, each sent when it is due; the
/// stream ends with the build, or as soon as `building` says the build is
/// no longer going on (it failed, the sandbox is gone).
fn stream_log(log: Option<BuildLog>, building: impl Fn() -> bool + Send + 'static) -> Response {
    let Some(log) = log else {
        return Response::new(200, "text/plain", Vec::new());
    };
    let n = log.lines.len().max(1) as u32;
    let span = log.end.saturating_duration_since(log.start);
    let lines = log
        .lines
        .into_iter()
        .enumerate()
        .map_while(move |(i, line)| {
            let due = log.start + span * (i as u32 + 1) / n;
            loop {
                let wait = due.saturating_duration_since(Instant::now());
                if wait.is_zero() {
                    break;
                }
                std::thread::sleep(wait.min(Duration::from_millis(20)));
                let now = Instant::now();
                if now >= log.start && now < log.end && !building() {
                    return None;
                }
            }
            Some(format!("{line}\n").into_bytes())
        });
    let mut r = Response::new(200, "text/plain; charset=utf-8", Vec::new());
    r.body = Body::Stream(Box::new(lines));
    r
}
