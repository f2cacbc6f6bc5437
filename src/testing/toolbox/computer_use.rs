//! `/computeruse/...`: a simulated desktop per sandbox. Nothing is drawn or
//! typed anywhere: the pointer position is kept, every action is recorded
//! ([`DesktopEvent`]), screenshots are real grey PNG or JPEG images of the
//! size asked, recordings are files in the sandbox's directory, and the
//! windows and accessibility tree are what the test set.

mod accessibility;
mod image;
mod recordings;
mod screen;

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{json, Value};

use super::super::server::{Request, Response};
use super::super::{error, lock, LocalDaytona};
use super::{body_json, Sandbox};
use crate::toolbox::{AccessibilityNode, Point, Rect, WindowInfo};
use accessibility::accessibility;
use recordings::{recordings, Rec};
use screen::screenshot;

/// The processes of a desktop, as the toolbox names them.
const PROCESSES: [&str; 4] = ["xvfb", "xfce4", "x11vnc", "novnc"];

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
            let mut world = self.shared.world();
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
