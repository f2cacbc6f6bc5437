//! Preview links of a sandbox's ports, and signed preview URLs: each with
//! a random token and an expiry, expired on request. The simulator proxies
//! nothing: a request to a signed URL is refused (401) once its token has
//! expired or was expired, and answered 501 while it is valid.

use std::time::{Duration, SystemTime};

use serde_json::json;

use super::{not_found, ok, with_sandbox, with_world, Shared};
use crate::testing::server::{Request, Response};
use crate::testing::{error, random_token, same_secret};

/// The longest validity asked for: a day.
const MAX_SECONDS: u64 = 86_400;

/// One signed preview URL.
pub(crate) struct Signed {
    token: String,
    sandbox_id: String,
    port: u16,
    expires: SystemTime,
}

/// `GET /sandbox/{id}/ports/{port}/preview-url`.
pub(super) fn link(shared: &Shared, id: &str, port: &str) -> Response {
    let base = shared.base_url();
    with_sandbox(shared, id, |_, sb| {
        ok(&json!({
            "sandboxId": sb.info["id"],
            "url": format!("{base}/preview/{}/{port}", sb.info["id"].as_str().unwrap_or("")),
            "token": "local-preview-token",
        }))
    })
}

fn port_of(port: &str) -> Result<u16, Response> {
    port.parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| error(400, "port must be 1 to 65535"))
}

/// `GET /sandbox/{id}/ports/{port}/signed-preview-url?expiresInSeconds=N`
/// (default 60).
pub(super) fn sign(shared: &Shared, req: &Request, id: &str, port: &str) -> Response {
    let port = match port_of(port) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let seconds = match req.param("expiresInSeconds") {
        None => 60,
        Some(s) => match s.parse::<u64>() {
            Ok(s) if (1..=MAX_SECONDS).contains(&s) => s,
            _ => return error(400, &format!("expiresInSeconds must be 1 to {MAX_SECONDS}")),
        },
    };
    let base = shared.base_url();
    with_world(shared, |w| {
        let Some(i) = w.sandbox(id) else {
            return not_found("sandbox", id);
        };
        let signed = Signed {
            token: random_token(),
            sandbox_id: w.sandboxes[i].info["id"].as_str().unwrap_or("").to_string(),
            port,
            expires: SystemTime::now() + Duration::from_secs(seconds),
        };
        let answer = json!({
            "sandboxId": signed.sandbox_id, "port": port, "token": signed.token,
            "url": format!("{base}/preview/{port}-{}/", signed.token),
        });
        w.previews.push(signed);
        ok(&answer)
    })
}

/// `POST /sandbox/{id}/ports/{port}/signed-preview-url/{token}/expire`.
pub(super) fn expire(shared: &Shared, id: &str, port: &str, token: &str) -> Response {
    let port = match port_of(port) {
        Ok(p) => p,
        Err(r) => return r,
    };
    with_world(shared, |w| {
        let Some(i) = w.sandbox(id) else {
            return not_found("sandbox", id);
        };
        let sandbox_id = w.sandboxes[i].info["id"].as_str().unwrap_or("").to_string();
        let now = SystemTime::now();
        let found = w.previews.iter_mut().find(|s| {
            s.sandbox_id == sandbox_id
                && s.port == port
                && same_secret(s.token.as_bytes(), token.as_bytes())
        });
        match found {
            Some(s) => {
                s.expires = s.expires.min(now);
                Response::empty(200)
            }
            None => error(404, "no such signed preview URL"),
        }
    })
}

/// `/preview/{port}-{token}/...`, the signed URL itself (no API key:
/// the token is the credential).
pub(crate) fn serve(shared: &Shared, label: &str) -> Response {
    let refused = || error(401, "the signed preview URL has expired or is not valid");
    let Some((port, token)) = label.split_once('-') else {
        return refused();
    };
    let now = SystemTime::now();
    with_world(shared, |w| {
        w.previews.retain(|s| s.expires > now);
        let valid = w.previews.iter().find(|s| {
            s.port.to_string() == port && same_secret(s.token.as_bytes(), token.as_bytes())
        });
        let Some((port, sandbox)) = valid.map(|s| (s.port, s.sandbox_id.clone())) else {
            return refused();
        };
        // The URLs of a deleted sandbox go with it.
        if w.sandbox(&sandbox).is_none() {
            w.previews.retain(|s| s.sandbox_id != sandbox);
            return refused();
        }
        error(
            501,
            &format!(
                "the local simulator serves no previews: nothing is proxied to port {port} \
                 of sandbox {sandbox}"
            ),
        )
    })
}
