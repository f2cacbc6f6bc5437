//! Moving a sandbox between its states: start, stop, pause, archive,
//! recover, delete (each through its transitional state) and resize.

use serde_json::{json, Value};

use std::time::Instant;

use super::{body_json, ok, schedule, schedule_from, state_of, with_sandbox, with_world, Shared};
use crate::testing::server::{Request, Response};
use crate::testing::{error, now_rfc3339};

/// `POST /sandbox/{id}/start`: a stopped or paused sandbox through
/// `starting`, an archived one through `restoring`; while `archiving`, the
/// start is accepted (as the API accepts it) and the sandbox is restored
/// once its archive has completed.
pub(super) fn start(shared: &Shared, id: &str) -> Response {
    let t = &shared.timing;
    let restore = [("restoring", t.step), ("started", t.step)];
    let from_archive = with_world(shared, |w| {
        let i = w.sandbox(id)?;
        let sb = &mut w.sandboxes[i];
        match state_of(&sb.info) {
            "archiving" => {
                let archived = sb.steps.back().map_or_else(Instant::now, |(at, _)| *at);
                sb.steps.extend(schedule_from(archived, &restore));
            }
            "archived" => {
                sb.info["state"] = json!("restoring");
                sb.steps = schedule(&restore[1..]);
            }
            _ => return None,
        }
        sb.info["desiredState"] = json!("started");
        sb.info["updatedAt"] = json!(now_rfc3339());
        Some(ok(&sb.info))
    });
    from_archive.unwrap_or_else(|| {
        transition(
            shared,
            id,
            &["stopped", "paused", "started"],
            "starting",
            "started",
        )
    })
}

/// Moves a sandbox through `busy` to `done` (one step each), when its state
/// is one of `from` (any state when `from` is empty). Already `done`: no-op.
pub(super) fn transition(
    shared: &Shared,
    id: &str,
    from: &[&str],
    busy: &str,
    done: &str,
) -> Response {
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
pub(super) fn resize(shared: &Shared, req: &Request, id: &str) -> Response {
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
