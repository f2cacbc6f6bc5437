//! SSH access: tokens created per sandbox with an expiry, validated and
//! revoked (no SSH server listens: the command is for show).

use std::time::{Duration, SystemTime};

use serde_json::json;

use super::{not_found, ok, Shared};
use crate::testing::server::{Request, Response};
use crate::testing::{error, new_id, random_token, rfc3339};

/// One SSH access.
pub(crate) struct SshRecord {
    token: String,
    sandbox_id: String,
    expires: SystemTime,
}

/// `POST /sandbox/{id}/ssh-access?expiresInMinutes=N` (default 60).
pub(super) fn create(shared: &Shared, req: &Request, id: &str) -> Response {
    let minutes = match req.param("expiresInMinutes") {
        None => 60,
        Some(m) => match m.parse::<u64>() {
            Ok(m) if (1..=525_600).contains(&m) => m,
            _ => return error(400, "expiresInMinutes must be 1 to 525600"),
        },
    };
    let mut world = shared.world();
    let Some(i) = world.sandbox(id) else {
        return not_found("sandbox", id);
    };
    let sandbox_id = world.sandboxes[i].id.clone();
    let now = SystemTime::now();
    let record = SshRecord {
        token: random_token(),
        sandbox_id: sandbox_id.clone(),
        expires: now + Duration::from_secs(minutes * 60),
    };
    let answer = json!({
        "id": new_id(), "sandboxId": sandbox_id, "token": record.token,
        "expiresAt": rfc3339(record.expires), "createdAt": rfc3339(now),
        "updatedAt": rfc3339(now),
        "sshCommand": format!("ssh {}@127.0.0.1 (not served by the local simulator)", record.token),
    });
    world.ssh.push(record);
    ok(&answer)
}

/// `DELETE /sandbox/{id}/ssh-access[?token=T]`: that access, or all of the
/// sandbox's; answers the sandbox.
pub(super) fn revoke(shared: &Shared, req: &Request, id: &str) -> Response {
    let mut world = shared.world();
    let Some(i) = world.sandbox(id) else {
        return not_found("sandbox", id);
    };
    let sandbox_id = world.sandboxes[i].id.clone();
    let token = req.param("token").map(str::to_string);
    world
        .ssh
        .retain(|r| r.sandbox_id != sandbox_id || token.as_ref().is_some_and(|t| *t != r.token));
    ok(&world.sandboxes[i].info)
}

/// `GET /sandbox/ssh-access/validate?token=T`.
pub(super) fn validate(shared: &Shared, req: &Request) -> Response {
    let Some(token) = req.param("token") else {
        return error(400, "token is required");
    };
    let world = shared.world();
    let now = SystemTime::now();
    let found = world.ssh.iter().find(|r| {
        crate::testing::same_secret(r.token.as_bytes(), token.as_bytes()) && r.expires > now
    });
    match found {
        Some(r) => ok(&json!({ "valid": true, "sandboxId": r.sandbox_id })),
        None => ok(&json!({ "valid": false, "sandboxId": "" })),
    }
}
