//! Creating and listing sandboxes, and their labels.

use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Map, Value};

use super::build_logs::build_log;
use super::fork::copy_dir;
use super::{body_json, ok, schedule, state_of, with_sandbox, with_world, SandboxRecord, Shared};
use super::{DEFAULT_SNAPSHOT, ORG};
use crate::testing::server::{Request, Response};
use crate::testing::{error, new_id, now_rfc3339};

pub(super) fn create(shared: &Arc<Shared>, req: &Request) -> Response {
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
    let mut world = shared.world();
    if world.sandbox(&name).is_some() {
        return error(409, &format!("a sandbox named {name} already exists"));
    }
    // The snapshot's name, and its files when taken from a sandbox.
    let (snapshot, files) = match (&dockerfile, body["snapshot"].as_str()) {
        (Some(_), _) => (None, None),
        (None, requested) => {
            let wanted = requested.unwrap_or(DEFAULT_SNAPSHOT);
            match world.snapshot(wanted) {
                None => return error(404, &format!("snapshot {wanted} not found")),
                Some(i) if state_of(&world.snapshots[i].info) != "active" => {
                    return error(400, &format!("snapshot {wanted} is not active"))
                }
                Some(i) => {
                    let s = &world.snapshots[i];
                    (Some(s.info["name"].clone()), s.files.clone())
                }
            }
        }
    };
    let dir = shared.root.join("sandboxes").join(&id);
    let made = match &files {
        Some(files) => copy_dir(files, &dir),
        None => std::fs::create_dir_all(dir.join("home/daytona")),
    };
    if let Err(e) = made {
        let _ = std::fs::remove_dir_all(&dir);
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

pub(super) fn list(shared: &Shared, req: &Request) -> Response {
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

pub(super) fn set_labels(shared: &Shared, req: &Request, id: &str) -> Response {
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
