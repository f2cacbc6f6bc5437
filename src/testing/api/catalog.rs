//! Snapshots and volumes of the main API, with their states.

use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Value};

use super::super::server::{Request, Response};
use super::super::{error, new_id, now_rfc3339, Shared};
use super::build_logs::{build_log, stream_log};
use super::{
    body_json, not_found, ok, schedule, state_of, with_world, SnapshotRecord, VolumeRecord, ORG,
};

/// Routes `/api/snapshots/...` and `/api/volumes/...`.
pub(super) fn handle(shared: &Arc<Shared>, req: &Request, segments: &[&str]) -> Response {
    let m = req.method.as_str();
    match (m, segments) {
        ("POST", ["snapshots"]) => create_snapshot(shared, req),
        ("GET", ["snapshots"]) => list_snapshots(shared, req),
        ("GET", ["snapshots", id]) => with_world(shared, |w| match w.snapshot(id) {
            Some(i) => ok(&w.snapshots[i].info),
            None => not_found("snapshot", id),
        }),
        ("DELETE", ["snapshots", id]) => with_world(shared, |w| match w.snapshot(id) {
            Some(i) => {
                let s = &mut w.snapshots[i];
                s.info["state"] = json!("removing");
                s.steps = schedule(&[("deleted", shared.timing.step)]);
                Response::empty(200)
            }
            None => not_found("snapshot", id),
        }),
        ("POST", ["snapshots", id, "activate"]) => with_world(shared, |w| match w.snapshot(id) {
            Some(i) => {
                let s = &mut w.snapshots[i];
                if state_of(&s.info) != "inactive" {
                    return error(400, &format!("snapshot {id} is not inactive"));
                }
                s.info["state"] = json!("active");
                ok(&s.info)
            }
            None => not_found("snapshot", id),
        }),
        ("GET", ["snapshots", id, "build-logs-url"]) => {
            let base = shared.base_url();
            with_world(shared, |w| match w.snapshot(id) {
                Some(i) => {
                    let id = w.snapshots[i].info["id"].as_str().unwrap_or("").to_string();
                    ok(&json!({ "url": format!("{base}/api/snapshots/{id}/build-logs") }))
                }
                None => not_found("snapshot", id),
            })
        }
        ("GET", ["snapshots", id, "build-logs"]) => {
            let (state, key) = (shared.clone(), id.to_string());
            let building = move || {
                with_world(&state, |w| {
                    w.snapshot(&key).is_some_and(|i| {
                        matches!(state_of(&w.snapshots[i].info), "pending" | "building")
                    })
                })
            };
            match with_world(shared, |w| {
                w.snapshot(id).map(|i| w.snapshots[i].build.clone())
            }) {
                Some(log) => stream_log(log, building),
                None => not_found("snapshot", id),
            }
        }
        ("GET", ["volumes"]) => with_world(shared, |w| {
            w.advance_all();
            let all = req.param("includeDeleted") == Some("true");
            let items: Vec<&Value> = w
                .volumes
                .iter()
                .map(|v| &v.info)
                .filter(|v| all || state_of(v) != "deleted")
                .collect();
            ok(&json!(items))
        }),
        ("POST", ["volumes"]) => create_volume(shared, req),
        ("GET", ["volumes", "by-name", name]) => volume(shared, |v| v["name"] == *name, name),
        ("GET", ["volumes", id]) => volume(shared, |v| v["id"] == *id, id),
        ("DELETE", ["volumes", id]) => delete_volume(shared, id),
        _ => error(
            501,
            &format!(
                "{m} /api/{} is not simulated by the local simulator",
                segments.join("/")
            ),
        ),
    }
}

fn create_snapshot(shared: &Shared, req: &Request) -> Response {
    let body = match body_json(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(name) = body["name"].as_str().filter(|n| !n.is_empty()) else {
        return error(400, "name is required");
    };
    let t = &shared.timing;
    let dockerfile = body["buildInfo"]["dockerfileContent"].as_str();
    let image = body["imageName"].as_str();
    if dockerfile.is_none() && image.is_none() {
        return error(400, "imageName or buildInfo is required");
    }
    with_world(shared, |w| {
        if w.snapshot(name).is_some() {
            return error(409, &format!("a snapshot named {name} already exists"));
        }
        let now = now_rfc3339();
        let busy = if dockerfile.is_some() {
            "building"
        } else {
            "pulling"
        };
        let info = json!({
            "id": new_id(), "organizationId": ORG, "general": false, "name": name,
            "imageName": image, "state": "pending", "size": null,
            "entrypoint": body["entrypoint"].as_array().cloned().unwrap_or_default(),
            "cpu": body["cpu"].as_f64().unwrap_or(1.0), "gpu": body["gpu"].as_f64().unwrap_or(0.0),
            "mem": body["memory"].as_f64().unwrap_or(1.0), "disk": body["disk"].as_f64().unwrap_or(3.0),
            "errorReason": null, "createdAt": now, "updatedAt": now, "lastUsedAt": null,
            "buildInfo": dockerfile.map(|d| json!({"dockerfileContent": d, "createdAt": now, "updatedAt": now})),
            "regionIds": ["local"], "sandboxClass": "container",
        });
        let build = dockerfile.map(|d| build_log(d, Instant::now() + t.step, t.build));
        let steps = schedule(&[(busy, t.step), ("active", t.build)]);
        w.snapshots.push(SnapshotRecord {
            info: info.clone(),
            steps,
            build,
            files: None,
        });
        ok(&info)
    })
}

fn list_snapshots(shared: &Shared, req: &Request) -> Response {
    let page: usize = req
        .param("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let limit: usize = req
        .param("limit")
        .and_then(|p| p.parse().ok())
        .unwrap_or(100);
    if !(1..=200).contains(&limit) {
        return error(400, "limit must be from 1 to 200");
    }
    let name = req.param("name").unwrap_or("");
    let field = req.param("sort").unwrap_or("createdAt").to_string();
    let desc = req.param("order").unwrap_or("desc") == "desc";
    with_world(shared, |w| {
        w.advance_all();
        let mut items: Vec<(usize, &Value)> = w
            .snapshots
            .iter()
            .enumerate()
            .map(|(i, s)| (i, &s.info))
            .filter(|(_, s)| s["name"].as_str().unwrap_or("").contains(name))
            .collect();
        items.sort_by(|(i, a), (j, b)| {
            let ord = a[&field].as_str().cmp(&b[&field].as_str()).then(i.cmp(j));
            if desc {
                ord.reverse()
            } else {
                ord
            }
        });
        let total = items.len();
        let pages = total.div_ceil(limit).max(1);
        let items: Vec<&Value> = items
            .iter()
            .skip((page - 1) * limit)
            .take(limit)
            .map(|(_, v)| *v)
            .collect();
        ok(&json!({ "items": items, "total": total, "page": page, "totalPages": pages }))
    })
}

fn create_volume(shared: &Shared, req: &Request) -> Response {
    let body = match body_json(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(name) = body["name"].as_str().filter(|n| !n.is_empty()) else {
        return error(400, "name is required");
    };
    with_world(shared, |w| {
        w.advance_all();
        if w.volumes
            .iter()
            .any(|v| v.info["name"] == name && state_of(&v.info) != "deleted")
        {
            return error(409, &format!("a volume named {name} already exists"));
        }
        let now = now_rfc3339();
        let info = json!({
            "id": new_id(), "name": name, "organizationId": ORG, "state": "pending_create",
            "createdAt": now, "updatedAt": now, "lastUsedAt": null, "errorReason": null,
        });
        w.volumes.push(VolumeRecord {
            info: info.clone(),
            steps: schedule(&[("ready", shared.timing.step)]),
        });
        ok(&info)
    })
}

fn volume(shared: &Shared, pick: impl Fn(&Value) -> bool, key: &str) -> Response {
    with_world(shared, |w| {
        w.advance_all();
        match w
            .volumes
            .iter()
            .find(|v| pick(&v.info) && state_of(&v.info) != "deleted")
        {
            Some(v) => ok(&v.info),
            None => not_found("volume", key),
        }
    })
}

fn delete_volume(shared: &Shared, id: &str) -> Response {
    with_world(shared, |w| {
        w.advance_all();
        let mounted = w.sandboxes.iter().any(|s| {
            s.info["volumes"]
                .as_array()
                .is_some_and(|vs| vs.iter().any(|v| v["volumeId"] == id))
        });
        let Some(v) = w
            .volumes
            .iter_mut()
            .find(|v| v.info["id"] == id && state_of(&v.info) != "deleted")
        else {
            return not_found("volume", id);
        };
        if mounted {
            return error(409, &format!("volume {id} is in use by a sandbox"));
        }
        v.info["state"] = json!("pending_delete");
        v.steps = schedule(&[
            ("deleting", shared.timing.step),
            ("deleted", shared.timing.step),
        ]);
        Response::empty(200)
    })
}
