//! `POST /sandbox/{id}/fork`: a new sandbox with a copy of a started one's
//! files, going through `creating` and `starting` to `started`.

use std::io;
use std::path::Path;

use serde_json::json;

use super::{body_json, not_found, ok, schedule, state_of, SandboxRecord, Shared};
use crate::testing::server::{Request, Response};
use crate::testing::{error, new_id, now_rfc3339};

pub(super) fn fork(shared: &Shared, req: &Request, source: &str) -> Response {
    let body = match body_json(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let t = &shared.timing;
    let mut world = shared.world();
    let Some(i) = world.sandbox(source) else {
        return not_found("sandbox", source);
    };
    let state = state_of(&world.sandboxes[i].info);
    if state != "started" {
        return error(
            409,
            &format!("sandbox {source} is {state}; only a started sandbox can be forked"),
        );
    }
    let id = new_id();
    let name = body["name"].as_str().unwrap_or(&id).to_string();
    if world.sandbox(&name).is_some() {
        return error(409, &format!("a sandbox named {name} already exists"));
    }
    let dir = shared.root.join("sandboxes").join(&id);
    if let Err(e) = copy_dir(&world.sandboxes[i].dir, &dir) {
        let _ = std::fs::remove_dir_all(&dir);
        return error(500, &format!("cannot copy the sandbox's files: {e}"));
    }
    let now = now_rfc3339();
    let mut info = world.sandboxes[i].info.clone();
    for (k, v) in [
        ("id", json!(id)),
        ("name", json!(name)),
        ("state", json!("creating")),
        ("desiredState", json!("started")),
        ("errorReason", json!(null)),
        ("createdAt", json!(now)),
        ("updatedAt", json!(now)),
        ("lastActivityAt", json!(now)),
    ] {
        info[k] = v;
    }
    world.sandboxes.push(SandboxRecord {
        id,
        name,
        info: info.clone(),
        dir,
        steps: schedule(&[("starting", t.step), ("started", t.step)]),
        build: None,
        sessions: Default::default(),
    });
    ok(&info)
}

/// Copies the tree `from` into `to` (symbolic links as links).
pub(super) fn copy_dir(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_dir(&src, &dst)?;
        } else if kind.is_symlink() {
            let target = std::fs::read_link(&src)?;
            #[cfg(unix)]
            std::os::unix::fs::symlink(target, &dst)?;
            #[cfg(not(unix))]
            let _ = target;
        } else if kind.is_file() {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}
