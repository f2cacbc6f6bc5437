//! `POST /sandbox/{id}/snapshot` (experimental): a snapshot of a sandbox's
//! files. The sandbox goes through `snapshotting` back to its state; the
//! snapshot goes from `pending` to `active` and sandboxes created from it
//! start with a copy of the files.

use serde_json::json;

use super::fork::copy_dir;
use super::{body_json, not_found, ok, schedule, state_of, Shared, SnapshotRecord, ORG};
use crate::testing::server::{Request, Response};
use crate::testing::{error, new_id, now_rfc3339};

pub(super) fn create(shared: &Shared, req: &Request, id: &str) -> Response {
    let body = match body_json(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(name) = body["name"].as_str().filter(|n| !n.trim().is_empty()) else {
        return error(400, "name is required");
    };
    let t = &shared.timing;
    let mut world = shared.world();
    let Some(i) = world.sandbox(id) else {
        return not_found("sandbox", id);
    };
    let state = state_of(&world.sandboxes[i].info).to_string();
    if state != "started" && state != "stopped" {
        return error(
            409,
            &format!("sandbox {id} is {state}; it must be started or stopped to take a snapshot"),
        );
    }
    if world.snapshot(name).is_some() {
        return error(409, &format!("a snapshot named {name} already exists"));
    }
    let snapshot_id = new_id();
    let files = shared.root.join("snapshots").join(&snapshot_id);
    if let Err(e) = copy_dir(&world.sandboxes[i].dir, &files) {
        let _ = std::fs::remove_dir_all(&files);
        return error(500, &format!("cannot copy the sandbox's files: {e}"));
    }
    let now = now_rfc3339();
    let sb = &world.sandboxes[i].info;
    let number = |k: &str| sb[k].as_f64().unwrap_or(1.0);
    let info = json!({
        "id": snapshot_id, "organizationId": ORG, "general": false, "name": name,
        "imageName": format!("local/{}", sb["id"].as_str().unwrap_or("")),
        "state": "pending", "size": null, "entrypoint": [],
        "cpu": number("cpu"), "gpu": sb["gpu"].as_f64().unwrap_or(0.0),
        "mem": number("memory"), "disk": number("disk"),
        "errorReason": null, "createdAt": now, "updatedAt": now, "lastUsedAt": null,
        "buildInfo": null, "regionIds": ["local"], "sandboxClass": "container",
    });
    // The snapshot is active by the time the sandbox is back.
    world.snapshots.push(SnapshotRecord {
        info,
        steps: schedule(&[("active", t.step)]),
        build: None,
        files: Some(files),
    });
    let sb = &mut world.sandboxes[i];
    sb.info["state"] = json!("snapshotting");
    sb.info["updatedAt"] = json!(now);
    sb.steps = schedule(&[(state.as_str(), t.step)]);
    ok(&sb.info)
}
