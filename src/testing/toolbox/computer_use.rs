//! `/computeruse/...`: a simulated desktop per sandbox. Nothing is drawn or
//! typed anywhere: the pointer position is kept, every action is recorded
//! ([`DesktopEvent`]), screenshots are real grey PNG or JPEG images of the
//! size asked, recordings are files in the sandbox's directory, and the
//! windows and accessibility tree are what the test set.

use std::collections::HashMap;
use std::io::Read;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine;
use serde_json::{json, Value};

use super::super::server::{Body, Request, Response};
use super::super::{error, lock, new_id, rfc3339, LocalDaytona};
use super::{body_json, image, Sandbox};
use crate::toolbox::{AccessibilityNode, Point, Rect, WindowInfo};

/// The processes of a desktop, as the toolbox names them.
const PROCESSES: [&str; 4] = ["xvfb", "xfce4", "x11vnc", "novnc"];

/// Where recordings are written in the sandbox.
const RECORDINGS_DIR: &str = "/home/daytona/.daytona/recordings";

/// The largest simulated screen side.
const MAX_SCREEN: u32 = 8192;

/// Something done on a simulated desktop ([`LocalDaytona::desktop_events`]).
/// Buttons, directions and modifiers are the wire values (`"left"`,
/// `"down"`, `"ctrl"`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DesktopEvent {
    /// The pointer was moved here.
    MouseMove(Point),
    /// A click.
    Click {
        /// Where.
        at: Point,
        /// Which button.
        button: String,
        /// Whether it was a double click.
        double: bool,
    },
    /// A drag.
    Drag {
        /// Where the button was pressed.
        from: Point,
        /// Where it was released.
        to: Point,
        /// Which button.
        button: String,
    },
    /// A turn of the wheel.
    Scroll {
        /// Where the pointer was.
        at: Point,
        /// `up` or `down`.
        direction: String,
        /// How many notches.
        amount: u32,
    },
    /// Typed text.
    TypeText {
        /// The text.
        text: String,
        /// The pause between keystrokes.
        delay: Duration,
    },
    /// A key press.
    KeyPress {
        /// The key.
        key: String,
        /// The modifiers held.
        modifiers: Vec<String>,
    },
    /// A hotkey, as sent (`ctrl+c`).
    Hotkey(String),
    /// The focus moved to this accessibility node.
    Focus(String),
    /// An action of an accessibility node was run.
    Invoke {
        /// The node.
        id: String,
        /// The action (the node's first when none was named).
        action: String,
    },
    /// The value of an accessibility node was set.
    SetValue {
        /// The node.
        id: String,
        /// The new value.
        value: String,
    },
}

/// The desktops of all sandboxes, and what they show.
pub(crate) struct Desktops {
    screen: (u32, u32),
    windows: Vec<WindowInfo>,
    tree: AccessibilityNode,
    sandboxes: HashMap<String, Desktop>,
}

impl Default for Desktops {
    fn default() -> Self {
        let terminal = Rect::new(0, 0, 800, 600);
        let tree =
            AccessibilityNode::new(":1.0:/org/a11y/atspi/accessible/root", "frame", "Terminal")
                .with_bounds(terminal)
                .with_state("active")
                .with_state("enabled")
                .with_child(
                    AccessibilityNode::new(":1.0:/org/a11y/atspi/accessible/1", "text", "Input")
                        .with_bounds(Rect::new(10, 40, 780, 500))
                        .with_state("editable")
                        .with_state("enabled")
                        .with_state("focusable"),
                )
                .with_child(
                    AccessibilityNode::new(
                        ":1.0:/org/a11y/atspi/accessible/2",
                        "push button",
                        "OK",
                    )
                    .with_bounds(Rect::new(700, 550, 80, 30))
                    .with_state("enabled")
                    .with_state("focusable")
                    .with_action("click"),
                );
        Desktops {
            screen: (1024, 768),
            windows: vec![WindowInfo::new(1, "Terminal", terminal).active(true)],
            tree,
            sandboxes: HashMap::new(),
        }
    }
}

/// One sandbox's desktop.
#[derive(Default)]
struct Desktop {
    running: bool,
    cursor: Point,
    events: Vec<DesktopEvent>,
    recordings: Vec<Rec>,
}

/// A recording.
struct Rec {
    id: String,
    file_name: String,
    file_path: String,
    start_time: String,
    started: Instant,
    /// End time and duration, once stopped.
    stopped: Option<(String, Duration)>,
    size: Option<u64>,
}

impl Rec {
    fn json(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "fileName": self.file_name,
            "filePath": self.file_path,
            "startTime": self.start_time,
            "status": if self.stopped.is_some() { "completed" } else { "recording" },
        });
        if let Some((end, duration)) = &self.stopped {
            v["endTime"] = json!(end);
            v["durationSeconds"] = json!(duration.as_secs_f64());
        }
        if let Some(size) = self.size {
            v["sizeBytes"] = json!(size);
        }
        v
    }
}

/// An error with the toolbox's `code`.
fn coded(status: u16, message: &str, code: &str) -> Response {
    Response::json(
        status,
        &json!({ "statusCode": status, "message": message, "code": code }),
    )
}

impl LocalDaytona {
    /// What was done on the desktop of the sandbox with this id or name,
    /// oldest first: pointer moves, clicks, drags, scrolls, typed text,
    /// keys, and accessibility actions. Empty when nothing was.
    ///
    /// ```
    /// use daytona::testing::{DesktopEvent, LocalDaytona};
    /// use daytona::toolbox::Point;
    ///
    /// let local = LocalDaytona::builder().scripted().start()?;
    /// let sandbox = local.client().create(daytona::CreateSandbox::new())?;
    /// let desktop = sandbox.computer_use();
    /// desktop.start()?;
    /// desktop.mouse().move_to((40, 30))?;
    /// desktop.keyboard().type_text("hi")?;
    /// let events = local.desktop_events(sandbox.id());
    /// assert_eq!(events[0], DesktopEvent::MouseMove(Point::new(40, 30)));
    /// assert!(matches!(&events[1], DesktopEvent::TypeText { text, .. } if text == "hi"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn desktop_events(&self, sandbox: &str) -> Vec<DesktopEvent> {
        let id = {
            let mut world = lock(&self.shared.world);
            match world.sandbox(sandbox) {
                Some(i) => world.sandboxes[i].info["id"]
                    .as_str()
                    .unwrap_or(sandbox)
                    .to_string(),
                None => return Vec::new(),
            }
        };
        lock(&self.shared.desktop)
            .sandboxes
            .get(&id)
            .map(|d| d.events.clone())
            .unwrap_or_default()
    }

    /// The size of every simulated screen (default 1024 × 768; each side
    /// is kept within 1 to 8192).
    pub fn set_screen_size(&self, width: u32, height: u32) {
        lock(&self.shared.desktop).screen =
            (width.clamp(1, MAX_SCREEN), height.clamp(1, MAX_SCREEN));
    }

    /// The windows every simulated desktop reports (default: one
    /// `Terminal`).
    pub fn set_windows(&self, windows: Vec<WindowInfo>) {
        lock(&self.shared.desktop).windows = windows;
    }

    /// The accessibility tree every simulated desktop reports, for every
    /// scope (default: a `Terminal` frame with a text field and an `OK`
    /// button). `find_nodes` searches it; focusing, invoking and setting
    /// values need a node id from it.
    pub fn set_accessibility_tree(&self, root: AccessibilityNode) {
        lock(&self.shared.desktop).tree = root;
    }
}

/// Routes `/computeruse/...` (`rest` follows `computeruse`).
pub(super) fn handle(sb: &Sandbox<'_>, req: &Request, rest: &[&str]) -> Response {
    let mut desktops = lock(&sb.shared.desktop);
    let d = &mut *desktops;
    let desk = d.sandboxes.entry(sb.id.clone()).or_default();
    let m = req.method.as_str();
    match (m, rest) {
        ("POST", ["start"]) => {
            desk.running = true;
            processes(true, "Computer use processes started successfully")
        }
        ("POST", ["stop"]) => {
            desk.running = false;
            processes(false, "Computer use processes stopped successfully")
        }
        ("GET", ["status"] | ["process-status"]) => Response::json(
            200,
            &json!({ "status": if desk.running { "active" } else { "inactive" } }),
        ),
        (_, ["process", name, what]) => process(desk, m, name, what),
        (_, ["recordings", rest @ ..]) => recordings(sb, desk, req, rest),
        _ if !desk.running => error(
            400,
            "computer use is not started: call ComputerUse::start first (local simulator)",
        ),
        (_, ["screenshot", shape @ ..]) => screenshot(d.screen, desk.cursor, req, shape),
        ("GET", ["display", "info"]) => Response::json(
            200,
            &json!({ "displays": [{
                "id": 0, "x": 0, "y": 0, "width": d.screen.0, "height": d.screen.1, "isActive": true
            }] }),
        ),
        ("GET", ["display", "windows"]) => Response::json(200, &json!({ "windows": d.windows })),
        (_, ["a11y", ..]) => accessibility(&d.tree, desk, req, &rest[1..]),
        _ => match input(d.screen, desk, req, rest) {
            Ok(r) | Err(r) => r,
        },
    }
}

fn processes(running: bool, message: &str) -> Response {
    let status: serde_json::Map<String, Value> = PROCESSES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let pid = running.then_some(100 + i);
            let v = json!({ "running": running, "pid": pid, "priority": (i + 1) * 100, "autoRestart": true });
            (name.to_string(), v)
        })
        .collect();
    Response::json(200, &json!({ "message": message, "status": status }))
}

fn process(desk: &Desktop, m: &str, name: &str, what: &str) -> Response {
    if !PROCESSES.contains(&name) {
        return error(400, &format!("no computer-use process named {name:?}"));
    }
    match (m, what) {
        ("GET", "status") => Response::json(
            200,
            &json!({ "processName": name, "running": desk.running }),
        ),
        ("POST", "restart") => Response::json(
            200,
            &json!({ "processName": name, "message": format!("Process {name} restarted successfully") }),
        ),
        ("GET", "logs") => Response::json(
            200,
            &json!({ "processName": name, "logs": format!("{name}: simulated by the local simulator\n") }),
        ),
        ("GET", "errors") => Response::json(200, &json!({ "processName": name, "errors": "" })),
        _ => error(501, "not simulated by the local simulator"),
    }
}

/// An integer field of a JSON body (0 when absent, as the toolbox's
/// binding reads it).
fn int(body: &Value, name: &str) -> Result<i64, Response> {
    match &body[name] {
        Value::Null => Ok(0),
        v => v
            .as_i64()
            .ok_or_else(|| error(400, &format!("{name} must be an integer"))),
    }
}

fn text<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name].as_str().unwrap_or("")
}

fn button(body: &Value) -> Result<String, Response> {
    match text(body, "button").trim().to_ascii_lowercase().as_str() {
        "" => Ok("left".to_string()),
        b @ ("left" | "right" | "middle") => Ok(b.to_string()),
        other => Err(error(
            400,
            &format!("unsupported mouse button {other:?}: expected one of left, right, middle"),
        )),
    }
}

/// Mouse and keyboard.
fn input(
    screen: (u32, u32),
    desk: &mut Desktop,
    req: &Request,
    rest: &[&str],
) -> Result<Response, Response> {
    // The pointer stays on the screen, as X keeps it.
    let clamp = |x: i64, y: i64| {
        Point::new(
            x.clamp(0, i64::from(screen.0) - 1),
            y.clamp(0, i64::from(screen.1) - 1),
        )
    };
    let at = |p: Point| Response::json(200, &json!({ "x": p.x, "y": p.y }));
    if (req.method.as_str(), rest) == ("GET", &["mouse", "position"][..]) {
        return Ok(at(desk.cursor));
    }
    if req.method != "POST" {
        return Err(error(501, "not simulated by the local simulator"));
    }
    let body = body_json(req)?;
    let event = match rest {
        ["mouse", "move"] => {
            desk.cursor = clamp(int(&body, "x")?, int(&body, "y")?);
            DesktopEvent::MouseMove(desk.cursor)
        }
        ["mouse", "click"] => {
            desk.cursor = clamp(int(&body, "x")?, int(&body, "y")?);
            DesktopEvent::Click {
                at: desk.cursor,
                button: button(&body)?,
                double: body["double"].as_bool().unwrap_or(false),
            }
        }
        ["mouse", "drag"] => {
            let from = clamp(int(&body, "startX")?, int(&body, "startY")?);
            desk.cursor = clamp(int(&body, "endX")?, int(&body, "endY")?);
            DesktopEvent::Drag {
                from,
                to: desk.cursor,
                button: button(&body)?,
            }
        }
        ["mouse", "scroll"] => {
            let direction = text(&body, "direction").trim().to_ascii_lowercase();
            if direction != "up" && direction != "down" {
                return Err(error(
                    400,
                    &format!("unsupported scroll direction {direction:?}: expected up or down"),
                ));
            }
            let amount = match int(&body, "amount")? {
                0 => 1,
                n => u32::try_from(n)
                    .map_err(|_| error(400, "scroll amount must be greater than or equal to 0"))?,
            };
            desk.cursor = clamp(int(&body, "x")?, int(&body, "y")?);
            DesktopEvent::Scroll {
                at: desk.cursor,
                direction,
                amount,
            }
        }
        ["keyboard", "type"] => DesktopEvent::TypeText {
            text: text(&body, "text").to_string(),
            delay: Duration::from_millis(u64::try_from(int(&body, "delay")?).unwrap_or(0)),
        },
        ["keyboard", "key"] => {
            let key = text(&body, "key");
            if key.trim().is_empty() {
                return Err(error(400, "key is required"));
            }
            let modifiers = body["modifiers"]
                .as_array()
                .map(|m| {
                    m.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            DesktopEvent::KeyPress {
                key: key.to_string(),
                modifiers,
            }
        }
        ["keyboard", "hotkey"] => {
            let keys = text(&body, "keys");
            if keys.split('+').any(|k| k.trim().is_empty()) {
                return Err(error(400, &format!("invalid hotkey {keys:?}")));
            }
            DesktopEvent::Hotkey(keys.to_string())
        }
        _ => return Err(error(501, "not simulated by the local simulator")),
    };
    desk.events.push(event);
    Ok(match rest {
        ["mouse", "scroll"] => Response::json(200, &json!({ "success": true })),
        ["mouse", _] => at(desk.cursor),
        _ => Response::json(200, &json!({})),
    })
}

/// A query integer, `default` when absent.
fn param_int(req: &Request, name: &str, default: Option<i64>) -> Result<i64, Response> {
    match (req.param(name), default) {
        (Some(v), _) => v.parse().map_err(|_| {
            error(
                400,
                &format!("invalid query parameter {name}: must be an integer"),
            )
        }),
        (None, Some(d)) => Ok(d),
        (None, None) => Err(error(
            400,
            &format!("missing required query parameter: {name}"),
        )),
    }
}

/// `/screenshot`, `/screenshot/region`, `/screenshot/compressed`,
/// `/screenshot/region/compressed`.
fn screenshot(screen: (u32, u32), cursor: Point, req: &Request, shape: &[&str]) -> Response {
    let (region, compressed) = match shape {
        [] => (false, false),
        ["region"] => (true, false),
        ["compressed"] => (false, true),
        ["region", "compressed"] => (true, true),
        _ => return error(404, "no such screenshot"),
    };
    match take(screen, cursor, req, region, compressed) {
        Ok(r) | Err(r) => r,
    }
}

fn take(
    screen: (u32, u32),
    cursor: Point,
    req: &Request,
    region: bool,
    compressed: bool,
) -> Result<Response, Response> {
    let show = match req.param("showCursor").or_else(|| req.param("show_cursor")) {
        None => false,
        Some(v) => v
            .parse::<bool>()
            .map_err(|_| error(400, "invalid query parameter showCursor: must be a boolean"))?,
    };
    let (sw, sh) = (i64::from(screen.0), i64::from(screen.1));
    let area = if region {
        let r = Rect::new(
            param_int(req, "x", None)?,
            param_int(req, "y", None)?,
            param_int(req, "width", None)?,
            param_int(req, "height", None)?,
        );
        if r.width <= 0 || r.height <= 0 {
            return Err(error(
                400,
                "invalid screenshot region: width and height must be greater than zero",
            ));
        }
        let fits = r.x >= 0
            && r.y >= 0
            && r.x.saturating_add(r.width) <= sw
            && r.y.saturating_add(r.height) <= sh;
        if !fits {
            return Err(error(
                400,
                &format!(
                    "failed to capture screenshot region x={} y={} width={} height={}: \
                     outside the {sw}x{sh} screen",
                    r.x, r.y, r.width, r.height
                ),
            ));
        }
        r
    } else {
        Rect::new(0, 0, sw, sh)
    };
    let (jpeg, scale) = if compressed {
        let jpeg = match req.param("format").unwrap_or("png") {
            "png" => false,
            "jpeg" => true,
            other => return Err(error(400, &format!("unsupported format {other:?}"))),
        };
        let quality = param_int(req, "quality", Some(85))?;
        if !(1..=100).contains(&quality) {
            return Err(error(
                400,
                "invalid query parameter quality: must be between 1 and 100",
            ));
        }
        let scale: f64 = match req.param("scale") {
            None => 1.0,
            Some(s) => s
                .parse()
                .map_err(|_| error(400, "invalid query parameter scale: must be a number"))?,
        };
        if !(0.1..=1.0).contains(&scale) {
            return Err(error(
                400,
                "invalid query parameter scale: must be between 0.1 and 1.0",
            ));
        }
        (jpeg, scale)
    } else {
        (false, 1.0)
    };
    // Within 1..=MAX_SCREEN: the area is on the screen and scale <= 1.
    let scaled = |v: i64| ((v as f64 * scale) as u32).max(1);
    let (w, h) = (scaled(area.width), scaled(area.height));
    let relative = (
        ((cursor.x - area.x) as f64 * scale) as i64,
        ((cursor.y - area.y) as f64 * scale) as i64,
    );
    let drawn = (show && area.contains(cursor)).then_some(relative);
    let bytes = if jpeg {
        image::jpeg(w as u16, h as u16)
    } else {
        image::png(w, h, drawn)
    };
    let mut answer = json!({
        "screenshot": base64::engine::general_purpose::STANDARD.encode(&bytes),
    });
    // Where the toolbox says the pointer is, its quirks included.
    let reported = match (compressed, show) {
        (false, true) => Some(cursor),
        (false, false) => Some(area.origin()),
        (true, true) => Some(Point::new(area.x + relative.0, area.y + relative.1)),
        (true, false) => None,
    };
    if let Some(p) = reported {
        answer["cursorPosition"] = json!({ "x": p.x, "y": p.y });
    }
    if compressed {
        answer["sizeBytes"] = json!(bytes.len());
    }
    Ok(Response::json(200, &answer))
}

/// `/a11y/...` (`rest` follows `a11y`).
fn accessibility(
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
                let (v, c) = prune(c, depth - 1);
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

/// A recording label the toolbox takes.
fn label_ok(label: &str) -> bool {
    let trimmed = label.trim();
    !trimmed.is_empty()
        && label.len() <= 100
        && !trimmed.starts_with('.')
        && label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c.is_ascii_whitespace() || "._-".contains(c))
}

/// The bytes of a simulated recording: a recognizable head, then a
/// pattern (192 KiB in all, so that downloads come in several chunks).
fn video(id: &str) -> Vec<u8> {
    let mut data = format!("local simulator recording {id}\n").into_bytes();
    let mut i = 0u32;
    while data.len() < 192 * 1024 {
        data.push((i.wrapping_mul(31) % 251) as u8);
        i += 1;
    }
    data
}

/// `/recordings/...` (`rest` follows `recordings`).
fn recordings(sb: &Sandbox<'_>, desk: &mut Desktop, req: &Request, rest: &[&str]) -> Response {
    let list = &mut desk.recordings;
    let find = |list: &[Rec], id: &str| list.iter().position(|r| r.id == id);
    let not_found = || error(404, "recording not found");
    match (req.method.as_str(), rest) {
        ("POST", ["start"]) => {
            let body = if req.body.is_empty() {
                json!({})
            } else {
                match body_json(req) {
                    Ok(b) => b,
                    Err(r) => return r,
                }
            };
            let label = body["label"].as_str();
            if label.is_some_and(|l| !label_ok(l)) {
                return error(
                    400,
                    "invalid label: must be 1-100 characters, cannot start with a dot, and can \
                     only contain letters, numbers, spaces, dots, underscores, and hyphens",
                );
            }
            let id = new_id();
            let now = SystemTime::now();
            let stamp: String = rfc3339(now).chars().filter(char::is_ascii_digit).collect();
            let file_name = format!(
                "{}_{}_{}.mp4",
                label.unwrap_or("recording").trim().replace(' ', "_"),
                &stamp[..14.min(stamp.len())],
                &id[..8]
            );
            let rec = Rec {
                file_path: format!("{RECORDINGS_DIR}/{file_name}"),
                file_name,
                id,
                start_time: rfc3339(now),
                started: Instant::now(),
                stopped: None,
                size: None,
            };
            let answer = rec.json();
            list.push(rec);
            Response::json(201, &answer)
        }
        ("POST", ["stop"]) => {
            let body = match body_json(req) {
                Ok(b) => b,
                Err(r) => return r,
            };
            let id = text(&body, "id");
            if id.is_empty() {
                return error(400, "id is required");
            }
            let Some(i) = find(list, id) else {
                return not_found();
            };
            let rec = &mut list[i];
            if rec.stopped.is_some() {
                return error(400, "recording is not active");
            }
            let data = video(&rec.id);
            let written = sb.resolve(&rec.file_path).and_then(|path| {
                let dir = path.parent().map(std::path::Path::to_path_buf);
                dir.map_or(Ok(()), std::fs::create_dir_all)
                    .and_then(|()| std::fs::write(&path, &data))
                    .map_err(|e| error(500, &format!("cannot write the recording: {e}")))
            });
            if let Err(r) = written {
                return r;
            }
            rec.stopped = Some((rfc3339(SystemTime::now()), rec.started.elapsed()));
            rec.size = Some(data.len() as u64);
            Response::json(200, &rec.json())
        }
        ("GET", []) => {
            let all: Vec<Value> = list.iter().map(Rec::json).collect();
            Response::json(200, &json!({ "recordings": all }))
        }
        ("GET", [id]) => match find(list, id) {
            Some(i) => Response::json(200, &list[i].json()),
            None => not_found(),
        },
        ("DELETE", [id]) => {
            let Some(i) = find(list, id) else {
                return not_found();
            };
            if list[i].stopped.is_none() {
                return error(400, "cannot delete an active recording: stop it first");
            }
            let rec = list.remove(i);
            if let Ok(path) = sb.resolve(&rec.file_path) {
                let _ = std::fs::remove_file(path);
            }
            Response::empty(204)
        }
        ("GET", [id, "download"]) => {
            let file = find(list, id)
                .filter(|&i| list[i].stopped.is_some())
                .and_then(|i| sb.resolve(&list[i].file_path).ok())
                .and_then(|path| std::fs::File::open(path).ok());
            let Some(mut file) = file else {
                return error(404, "recording file not found (is it stopped?)");
            };
            let chunks = std::iter::from_fn(move || {
                let mut buf = vec![0; 32 * 1024];
                match file.read(&mut buf) {
                    Ok(0) | Err(_) => None,
                    Ok(n) => {
                        buf.truncate(n);
                        Some(buf)
                    }
                }
            });
            Response {
                status: 200,
                headers: vec![(
                    "Content-Type".to_string(),
                    "application/octet-stream".to_string(),
                )],
                body: Body::Stream(Box::new(chunks)),
            }
        }
        _ => error(501, "not simulated by the local simulator"),
    }
}
