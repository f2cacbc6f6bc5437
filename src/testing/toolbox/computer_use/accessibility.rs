//! The accessibility tree of the simulated desktop: the tree the test set,
//! pruned to the depth asked, searched, and its nodes acted on.

use serde_json::{json, Value};

use super::super::super::error;
use super::super::super::server::{Request, Response};
use super::super::body_json;
use super::screen::param_int;
use super::{int, text, Desktop, DesktopEvent};
use crate::toolbox::AccessibilityNode;

/// An error with the toolbox's `code`.
fn coded(status: u16, message: &str, code: &str) -> Response {
    Response::json(
        status,
        &json!({ "statusCode": status, "message": message, "code": code }),
    )
}

/// `/a11y/...` (`rest` follows `a11y`).
pub(super) fn accessibility(
    tree: &AccessibilityNode,
    desk: &mut Desktop,
    req: &Request,
    rest: &[&str],
) -> Response {
    let result = match (req.method.as_str(), rest) {
        ("GET", ["tree"]) => a11y_tree(tree, req),
        ("POST", ["find"]) => body_json(req).and_then(|b| a11y_find(tree, &b)),
        ("POST", ["node", what]) => body_json(req).and_then(|b| a11y_node(tree, desk, what, &b)),
        _ => Err(error(501, "not simulated by the local simulator")),
    };
    result.unwrap_or_else(|r| r)
}

/// Checks `scope` (and `pid` for `pid`).
fn a11y_scope(scope: &str, pid: i64) -> Result<(), Response> {
    match scope {
        "" | "focused" | "all" => Ok(()),
        "pid" if pid > 0 => Ok(()),
        "pid" => Err(coded(
            400,
            "invalid accessibility request: pid is required for scope pid",
            "A11Y_INVALID_REQUEST",
        )),
        other => Err(coded(
            400,
            &format!("invalid accessibility scope: {other:?}"),
            "A11Y_INVALID_SCOPE",
        )),
    }
}

fn a11y_tree(tree: &AccessibilityNode, req: &Request) -> Result<Response, Response> {
    a11y_scope(
        req.param("scope").unwrap_or(""),
        param_int(req, "pid", Some(0))?,
    )?;
    let depth = param_int(req, "maxDepth", Some(-1))?;
    /// The node with its children down to `depth` levels (negative: all);
    /// whether any were left out.
    fn prune(node: &AccessibilityNode, depth: i64) -> (Value, bool) {
        let mut v = serde_json::to_value(node).unwrap_or(Value::Null);
        if depth == 0 {
            v["children"] = json!([]);
            return (v, !node.children.is_empty());
        }
        let mut cut = false;
        let children: Vec<Value> = node
            .children
            .iter()
            .map(|c| {
                let (v, c) = prune(c, depth.saturating_sub(1));
                cut |= c;
                v
            })
            .collect();
        v["children"] = json!(children);
        (v, cut)
    }
    let (root, truncated) = prune(tree, depth);
    Ok(Response::json(
        200,
        &json!({ "root": root, "truncated": truncated }),
    ))
}

fn a11y_find(tree: &AccessibilityNode, body: &Value) -> Result<Response, Response> {
    a11y_scope(text(body, "scope"), int(body, "pid")?)?;
    let role = text(body, "role").to_lowercase();
    let name = text(body, "name");
    let how = match text(body, "nameMatch") {
        "" | "substring" => false,
        "exact" => true,
        "regex" => {
            return Err(coded(
                400,
                "invalid accessibility request: regex name matching is not simulated by the \
                 local simulator",
                "A11Y_INVALID_REQUEST",
            ))
        }
        other => {
            return Err(coded(
                400,
                &format!("invalid accessibility request: unknown nameMatch mode {other:?}"),
                "A11Y_INVALID_REQUEST",
            ))
        }
    };
    let states: Vec<&str> = body["states"]
        .as_array()
        .map(|s| s.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let limit = match int(body, "limit")? {
        n if n <= 0 => 500,
        n => n.min(5000),
    };
    let mut matches = Vec::new();
    let mut truncated = false;
    for node in tree.walk() {
        let ok = (role.is_empty() || node.role.to_lowercase() == role)
            && (name.is_empty()
                || if how {
                    node.name == name
                } else {
                    node.name.contains(name)
                })
            && states.iter().all(|s| node.states.iter().any(|n| n == s));
        if !ok {
            continue;
        }
        if matches.len() as i64 == limit {
            truncated = true;
            break;
        }
        // Flat: matches come without their children.
        let mut v = serde_json::to_value(node).unwrap_or(Value::Null);
        v["children"] = json!([]);
        matches.push(v);
    }
    Ok(Response::json(
        200,
        &json!({ "matches": matches, "truncated": truncated }),
    ))
}

fn a11y_node(
    tree: &AccessibilityNode,
    desk: &mut Desktop,
    what: &str,
    body: &Value,
) -> Result<Response, Response> {
    let id = text(body, "id");
    if id.is_empty() {
        return Err(coded(
            400,
            "invalid accessibility request: id is required",
            "A11Y_INVALID_REQUEST",
        ));
    }
    let Some(node) = tree.walk().find(|n| n.id == id) else {
        return Err(coded(
            404,
            "accessibility node not found",
            "A11Y_NODE_NOT_FOUND",
        ));
    };
    let event = match what {
        "focus" => DesktopEvent::Focus(id.to_string()),
        "invoke" => {
            let wanted = text(body, "action");
            let action = if wanted.is_empty() {
                node.actions.first()
            } else {
                node.actions.iter().find(|a| a.eq_ignore_ascii_case(wanted))
            };
            let Some(action) = action else {
                return Err(coded(
                    400,
                    "action not supported by node",
                    "A11Y_ACTION_NOT_SUPPORTED",
                ));
            };
            DesktopEvent::Invoke {
                id: id.to_string(),
                action: action.clone(),
            }
        }
        "value" => DesktopEvent::SetValue {
            id: id.to_string(),
            value: text(body, "value").to_string(),
        },
        _ => return Err(error(501, "not simulated by the local simulator")),
    };
    desk.events.push(event);
    Ok(Response::json(200, &json!({})))
}
