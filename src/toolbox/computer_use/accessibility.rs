//! The accessibility tree (`/computeruse/a11y/...`).

use serde::{Deserialize, Deserializer, Serialize};
use ureq::http::Method;

use super::geometry::Rect;
use crate::check::non_empty;
use crate::error::{Error, Result};
use crate::telemetry::traced;
use crate::toolbox::choice::choice_enum;
use crate::toolbox::Toolbox;
use crate::transport::Request;

/// Whose accessibility tree to read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AccessibilityScope {
    /// The application with the focus.
    #[default]
    Focused,
    /// Every application registered with the accessibility bus.
    All,
    /// The application with this process id.
    Process(u32),
}

impl AccessibilityScope {
    /// The `scope` value and, for a process, its `pid`.
    fn wire(self) -> Result<(&'static str, Option<u32>)> {
        Ok(match self {
            AccessibilityScope::Focused => ("focused", None),
            AccessibilityScope::All => ("all", None),
            AccessibilityScope::Process(0) => {
                return Err(Error::validation("pid", "must be a process id (not 0)"))
            }
            AccessibilityScope::Process(pid) => ("pid", Some(pid)),
        })
    }
}

choice_enum! {
    /// How [`FindNodes::name`] is compared with the nodes' names.
    NameMatch {
        /// The whole name, exactly.
        Exact = "exact",
        /// Anywhere in the name.
        Substring = "substring",
        /// A regular expression (Go syntax), searched in the name.
        Regex = "regex",
    }
}

/// A node of the accessibility tree: a window, a button, a text field...
/// (`AccessibilityNode`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AccessibilityNode {
    /// Its id (`bus-name:object-path`), for [`Accessibility::focus_node`],
    /// [`Accessibility::invoke_node`] and [`Accessibility::set_node_value`].
    #[serde(default)]
    pub id: String,
    /// Its AT-SPI role, such as `push button`, `text` or `frame`.
    #[serde(default)]
    pub role: String,
    /// Its accessible name (a button's label, a window's title).
    #[serde(default)]
    pub name: String,
    /// Its accessible description.
    #[serde(default)]
    pub description: String,
    /// Where it is on the screen.
    #[serde(default)]
    pub bounds: Rect,
    /// Its states, such as `focusable`, `focused`, `enabled`.
    #[serde(default, deserialize_with = "crate::models::null_as_default")]
    pub states: Vec<String>,
    /// The actions it offers, such as `click` or `press`.
    #[serde(default, deserialize_with = "crate::models::null_as_default")]
    pub actions: Vec<String>,
    /// Its children (`null` entries are skipped).
    #[serde(default, deserialize_with = "present_children")]
    pub children: Vec<AccessibilityNode>,
}

fn present_children<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<AccessibilityNode>, D::Error> {
    let children = Option::<Vec<Option<AccessibilityNode>>>::deserialize(d)?;
    Ok(children.into_iter().flatten().flatten().collect())
}

impl AccessibilityNode {
    /// A node without bounds, states, actions or children (for tests and
    /// the simulator).
    pub fn new(id: impl Into<String>, role: impl Into<String>, name: impl Into<String>) -> Self {
        AccessibilityNode {
            id: id.into(),
            role: role.into(),
            name: name.into(),
            ..Self::default()
        }
    }

    /// With this description.
    #[must_use]
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// With these bounds.
    #[must_use]
    pub fn with_bounds(mut self, bounds: Rect) -> Self {
        self.bounds = bounds;
        self
    }

    /// With one more state.
    #[must_use]
    pub fn with_state(mut self, state: impl Into<String>) -> Self {
        self.states.push(state.into());
        self
    }

    /// With one more action.
    #[must_use]
    pub fn with_action(mut self, action: impl Into<String>) -> Self {
        self.actions.push(action.into());
        self
    }

    /// With one more child.
    #[must_use]
    pub fn with_child(mut self, child: AccessibilityNode) -> Self {
        self.children.push(child);
        self
    }

    /// This node and all below it, depth first, parents before children.
    pub fn walk(&self) -> impl Iterator<Item = &AccessibilityNode> {
        let mut stack = vec![self];
        std::iter::from_fn(move || {
            let node = stack.pop()?;
            stack.extend(node.children.iter().rev());
            Some(node)
        })
    }
}

/// The answer of [`Accessibility::tree`] (`AccessibilityTreeResponse`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AccessibilityTree {
    /// The root: the focused application, the process's, or the desktop.
    #[serde(default)]
    pub root: AccessibilityNode,
    /// Whether the toolbox left nodes out (the depth or its node budget).
    #[serde(default)]
    pub truncated: bool,
}

/// The answer of [`Accessibility::find_nodes`] (`AccessibilityNodesResponse`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AccessibilityNodes {
    /// The matching nodes, in tree order, without their children (the
    /// list is flat).
    #[serde(default, deserialize_with = "crate::models::null_as_default")]
    pub matches: Vec<AccessibilityNode>,
    /// Whether there were more than the limit.
    #[serde(default)]
    pub truncated: bool,
}

/// The most matches the toolbox returns.
const MAX_LIMIT: u32 = 5000;

/// The most levels below the root a tree is asked for: each level nests
/// two JSON values (the node, its children), and the decoder reads 128
/// levels of nesting, so 62 levels are the most it reads, less a margin.
const MAX_TREE_DEPTH: u32 = 60;

/// What [`Accessibility::find_nodes`] looks for: every condition set must
/// hold.
///
/// ```
/// use daytona::toolbox::{AccessibilityScope, FindNodes, NameMatch};
///
/// let buttons = FindNodes::new()
///     .scope(AccessibilityScope::All)
///     .role("push button")
///     .name("Save", NameMatch::Substring)
///     .state("enabled")
///     .limit(10);
/// # let _ = buttons;
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct FindNodes {
    scope: AccessibilityScope,
    role: Option<String>,
    name: Option<(String, NameMatch)>,
    states: Vec<String>,
    limit: Option<u32>,
}

/// `FindAccessibilityNodesRequest`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FindBody<'a> {
    scope: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name_match: Option<NameMatch>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    states: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<u32>,
}

impl FindNodes {
    /// Every node of the focused application (up to the toolbox's default
    /// limit, 500).
    pub fn new() -> Self {
        Self::default()
    }

    /// Whose tree to search (default: the focused application).
    pub fn scope(mut self, scope: AccessibilityScope) -> Self {
        self.scope = scope;
        self
    }

    /// Nodes with this role, such as `push button`.
    pub fn role(mut self, role: impl Into<String>) -> Self {
        self.role = Some(role.into());
        self
    }

    /// Nodes whose name matches `name` as `how` says.
    pub fn name(mut self, name: impl Into<String>, how: NameMatch) -> Self {
        self.name = Some((name.into(), how));
        self
    }

    /// Nodes in this state (repeat for several: all must hold).
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.states.push(state.into());
        self
    }

    /// At most this many matches, 1 to 5000 (default 500).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    fn body(&self) -> Result<FindBody<'_>> {
        let (scope, pid) = self.scope.wire()?;
        if let Some(role) = &self.role {
            non_empty("role", role)?;
        }
        if let Some((name, _)) = &self.name {
            non_empty("name", name)?;
        }
        for state in &self.states {
            non_empty("states", state)?;
        }
        if let Some(limit) = self.limit {
            if !(1..=MAX_LIMIT).contains(&limit) {
                return Err(Error::validation(
                    "limit",
                    format!("must be 1 to {MAX_LIMIT}, got {limit}"),
                ));
            }
        }
        Ok(FindBody {
            scope,
            pid,
            role: self.role.as_deref(),
            name: self.name.as_ref().map(|(n, _)| n.as_str()),
            name_match: self.name.as_ref().map(|(_, how)| *how),
            states: &self.states,
            limit: self.limit,
        })
    }
}

/// The accessibility (AT-SPI) tree of a sandbox's desktop:
/// [`super::ComputerUse::accessibility`]. Reading it is how an agent finds
/// a control without guessing coordinates.
///
/// ```no_run
/// use daytona::toolbox::{AccessibilityScope, FindNodes, NameMatch};
/// # let daytona = daytona::Daytona::from_env()?;
/// # let sandbox = daytona.get("my-sandbox")?;
///
/// let a11y = sandbox.computer_use().accessibility();
/// let tree = a11y.tree(AccessibilityScope::Focused, Some(3))?;
/// for node in tree.root.walk() {
///     println!("{} {:?}", node.role, node.name);
/// }
/// let found = a11y.find_nodes(FindNodes::new().role("push button").name("OK", NameMatch::Exact))?;
/// if let Some(ok) = found.matches.first() {
///     a11y.invoke_node(&ok.id, None)?;
/// }
/// # Ok::<(), daytona::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct Accessibility<'s> {
    tb: Toolbox<'s>,
}

sandbox_debug!(Accessibility);

impl<'s> Accessibility<'s> {
    pub(super) fn new(tb: Toolbox<'s>) -> Self {
        Accessibility { tb }
    }

    fn request(&self, method: Method, rest: &[&str]) -> Result<Request<'static>> {
        let mut segments = vec!["computeruse", "a11y"];
        segments.extend_from_slice(rest);
        self.tb.request(method, &segments)
    }

    /// The tree of `scope`, `max_depth` levels below the root (`Some(0)`:
    /// the root alone; `None`: as deep as can be read)
    /// (`GET /computeruse/a11y/tree`).
    ///
    /// At most 60 levels below the root are asked for (`None` or a larger
    /// `max_depth` asks for 60): a JSON answer nested deeper than that is
    /// more than the decoder reads, so a deeper tree (a web page in a
    /// browser, say) comes back cut at that depth rather than failing.
    pub fn tree(
        &self,
        scope: AccessibilityScope,
        max_depth: Option<u32>,
    ) -> Result<AccessibilityTree> {
        traced(self.tb.tracing(), "Accessibility.getTree", || {
            let (scope, pid) = scope.wire()?;
            let depth = max_depth.map_or(MAX_TREE_DEPTH, |d| d.min(MAX_TREE_DEPTH));
            self.tb.transport().json(
                self.request(Method::GET, &["tree"])?
                    .query("scope", scope)
                    .query_opt("pid", pid)
                    .query("maxDepth", depth.to_string()),
            )
        })
    }

    /// The nodes that match `query`, as a flat list
    /// (`POST /computeruse/a11y/find`).
    pub fn find_nodes(&self, query: FindNodes) -> Result<AccessibilityNodes> {
        traced(self.tb.tracing(), "Accessibility.findNodes", || {
            let body = query.body()?;
            self.tb
                .transport()
                .json(self.request(Method::POST, &["find"])?.json(&body))
        })
    }

    /// Moves the keyboard focus to the node `id`
    /// (`POST /computeruse/a11y/node/focus`).
    pub fn focus_node(&self, id: &str) -> Result<()> {
        traced(self.tb.tracing(), "Accessibility.focusNode", || {
            non_empty("id", id)?;
            self.node("focus", &serde_json::json!({ "id": id }))
        })
    }

    /// Runs the action `action` of the node `id`, or its first action when
    /// `None` (`POST /computeruse/a11y/node/invoke`).
    pub fn invoke_node(&self, id: &str, action: Option<&str>) -> Result<()> {
        traced(self.tb.tracing(), "Accessibility.invokeNode", || {
            non_empty("id", id)?;
            let body = match action {
                Some(action) => {
                    non_empty("action", action)?;
                    serde_json::json!({ "id": id, "action": action })
                }
                None => serde_json::json!({ "id": id }),
            };
            self.node("invoke", &body)
        })
    }

    /// Sets the text (or, for a numeric control, the value) of the node
    /// `id` (`POST /computeruse/a11y/node/value`).
    pub fn set_node_value(&self, id: &str, value: &str) -> Result<()> {
        traced(self.tb.tracing(), "Accessibility.setNodeValue", || {
            non_empty("id", id)?;
            self.node("value", &serde_json::json!({ "id": id, "value": value }))
        })
    }

    fn node(&self, what: &str, body: &serde_json::Value) -> Result<()> {
        self.tb
            .transport()
            .empty(self.request(Method::POST, &["node", what])?.json(body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_children_and_missing_fields() {
        let tree: AccessibilityTree = serde_json::from_value(serde_json::json!({
            "root": {
                "id": "a", "role": "frame", "children": [null, {"id": "b", "children": null}, null],
                "states": null, "bounds": {"x": 1, "y": 2, "width": 3, "height": 4}
            }
        }))
        .unwrap();
        assert_eq!(tree.root.children.len(), 1);
        assert_eq!(tree.root.bounds, Rect::new(1, 2, 3, 4));
        assert!(!tree.truncated);
        let ids: Vec<&str> = tree.root.walk().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
    }

    /// A chain of nodes `levels` below the root, each as the toolbox
    /// writes it (bounds, states, actions, children).
    fn chain(levels: u32) -> String {
        let mut json = String::from("[]");
        for level in (0..=levels).rev() {
            json = format!(
                r#"{{"id":"n{level}","role":"panel","bounds":{{"x":0,"y":0,"width":1,"height":1}},"states":["visible"],"actions":[],"children":{}}}"#,
                if level == levels {
                    "[]".to_string()
                } else {
                    format!("[{json}]")
                }
            );
        }
        format!(r#"{{"root":{json},"truncated":true}}"#)
    }

    #[test]
    fn the_deepest_tree_asked_for_decodes() {
        let tree: AccessibilityTree = serde_json::from_str(&chain(MAX_TREE_DEPTH)).unwrap();
        assert_eq!(tree.root.walk().count(), MAX_TREE_DEPTH as usize + 1);
        assert!(tree.truncated);
    }

    #[test]
    fn walk_is_depth_first() {
        let tree = AccessibilityNode::new("1", "frame", "")
            .with_child(
                AccessibilityNode::new("2", "panel", "")
                    .with_child(AccessibilityNode::new("3", "text", "")),
            )
            .with_child(AccessibilityNode::new("4", "push button", "OK"));
        let ids: Vec<&str> = tree.walk().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["1", "2", "3", "4"]);
    }

    #[test]
    fn find_bodies() {
        let body = serde_json::to_value(FindNodes::new().body().unwrap()).unwrap();
        assert_eq!(body, serde_json::json!({"scope": "focused"}));
        let q = FindNodes::new()
            .scope(AccessibilityScope::Process(42))
            .role("push button")
            .name("OK", NameMatch::Regex)
            .state("enabled")
            .limit(5000);
        let body = serde_json::to_value(q.body().unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"scope": "pid", "pid": 42, "role": "push button", "name": "OK",
                "nameMatch": "regex", "states": ["enabled"], "limit": 5000})
        );
        for (q, field) in [
            (FindNodes::new().limit(0), "limit"),
            (FindNodes::new().limit(5001), "limit"),
            (FindNodes::new().role(" "), "role"),
            (FindNodes::new().name("", NameMatch::Exact), "name"),
            (FindNodes::new().state(""), "states"),
            (
                FindNodes::new().scope(AccessibilityScope::Process(0)),
                "pid",
            ),
        ] {
            let e = q.body().map(|_| ()).unwrap_err();
            assert!(
                matches!(&e, Error::Validation { field: f, .. } if f == field),
                "{e}"
            );
        }
    }
}
