//! `POST /sandbox/{id}/network-settings`: the fields given replace the
//! sandbox's, which answers with its new information.

use serde_json::Value;

use super::{body_json, ok, with_sandbox, Shared};
use crate::testing::error;
use crate::testing::server::{Request, Response};

pub(super) fn update(shared: &Shared, req: &Request, id: &str) -> Response {
    let body = match body_json(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let fields = [
        ("networkBlockAll", Value::is_boolean as fn(&Value) -> bool),
        ("networkAllowList", Value::is_string),
        ("domainAllowList", Value::is_string),
    ];
    for (field, valid) in fields {
        if !body[field].is_null() && !valid(&body[field]) {
            return error(400, &format!("{field} has the wrong type"));
        }
    }
    with_sandbox(shared, id, |_, sb| {
        for (field, _) in fields {
            if !body[field].is_null() {
                sb.info[field] = body[field].clone();
            }
        }
        ok(&sb.info)
    })
}
