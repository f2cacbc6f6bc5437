//! Preview links of a sandbox's ports.

use serde_json::json;

use super::{ok, with_sandbox, Shared};
use crate::testing::server::Response;

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
