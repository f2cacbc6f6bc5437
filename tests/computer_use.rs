//! Computer use against mockito: every operation's method, path, query and
//! body, and the decoding of spec-shaped answers (screenshots included).

mod common;

use base64::Engine;
use common::*;
use daytona::toolbox::{
    AccessibilityNode, AccessibilityScope, CompressedOptions, ComputerUseStatus, FindNodes,
    ImageFormat, Modifier, MouseButton, NameMatch, Point, Rect, ScreenshotOptions, ScrollDirection,
};
use mockito::{Matcher, Server, ServerGuard};
use serde_json::{json, Value};

fn setup() -> (ServerGuard, daytona::Daytona, daytona::Sandbox) {
    let mut server = Server::new();
    let daytona = client(&server);
    let sandbox = toolbox_sandbox(&mut server, &daytona);
    (server, daytona, sandbox)
}

/// `method /toolbox/sb-1/computeruse{path}` with the SDK's headers,
/// answering `answer`, expected once.
fn cu(server: &mut ServerGuard, method: &str, path: &str, answer: &Value) -> mockito::Mock {
    let mock =
        with_sdk_headers(server.mock(method, format!("{TOOLBOX}/computeruse{path}").as_str()));
    reply_json(mock, 200, answer).expect(1)
}

/// [`cu`] for a POST whose body must be exactly `body`.
fn post(server: &mut ServerGuard, path: &str, body: Value, answer: &Value) -> mockito::Mock {
    expect_json_body(cu(server, "POST", path, answer), body)
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The first bytes of a PNG, then some data.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR-not-a-whole-image";
/// The first bytes of a JPEG, then some data.
const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0\x00\x10JFIF-not-a-whole-image";

#[test]
fn start_and_stop_report_each_process() {
    let (mut server, _d, sandbox) = setup();
    let started = json!({
        "message": "Computer use processes started successfully",
        "status": {
            "xvfb": {"autoRestart": true, "pid": 101, "priority": 100, "running": true},
            "novnc": {"autoRestart": true, "pid": null, "priority": 400, "running": false}
        }
    });
    let start = expect_no_body(cu(&mut server, "POST", "/start", &started)).create();
    let desktop = sandbox.computer_use();
    let report = desktop.start().unwrap();
    start.assert();
    assert_eq!(
        report.message,
        "Computer use processes started successfully"
    );
    assert_eq!(report.processes.len(), 2);
    let xvfb = &report.processes["xvfb"];
    assert!(xvfb.running);
    assert_eq!(
        (xvfb.pid, xvfb.priority, xvfb.auto_restart),
        (Some(101), Some(100), Some(true))
    );
    assert!(!report.processes["novnc"].running);
    assert_eq!(report.processes["novnc"].pid, None);

    // The toolbox's own struct has no JSON tags: capitalized names.
    let stopped = json!({
        "message": "Computer use processes stopped successfully",
        "status": {"xfce4": {"Running": false, "Priority": 200, "AutoRestart": true, "Pid": null}}
    });
    let stop = cu(&mut server, "POST", "/stop", &stopped).create();
    let report = desktop.stop().unwrap();
    stop.assert();
    let xfce = &report.processes["xfce4"];
    assert!(!xfce.running);
    assert_eq!((xfce.priority, xfce.auto_restart), (Some(200), Some(true)));
}

#[test]
fn status_forms_and_unknown_values() {
    let (mut server, _d, sandbox) = setup();
    let desktop = sandbox.computer_use();
    let a = cu(
        &mut server,
        "GET",
        "/process-status",
        &json!({"status": "active"}),
    )
    .create();
    assert_eq!(desktop.status().unwrap(), ComputerUseStatus::Active);
    a.assert();
    let b = cu(
        &mut server,
        "GET",
        "/status",
        &json!({"status": "rebooting"}),
    )
    .create();
    assert_eq!(
        desktop.system_status().unwrap(),
        ComputerUseStatus::Other("rebooting".into())
    );
    b.assert();
    let c = cu(&mut server, "GET", "/process-status", &json!({})).create();
    assert_eq!(desktop.status().unwrap(), ComputerUseStatus::Unknown);
    c.assert();
}

#[test]
fn process_operations() {
    let (mut server, _d, sandbox) = setup();
    let desktop = sandbox.computer_use();
    let status = cu(
        &mut server,
        "GET",
        "/process/xvfb/status",
        &json!({"processName": "xvfb", "running": true}),
    )
    .create();
    assert!(desktop.is_process_running("xvfb").unwrap());
    status.assert();
    let restart = expect_no_body(cu(
        &mut server,
        "POST",
        "/process/x11vnc/restart",
        &json!({"message": "Process x11vnc restarted successfully", "processName": "x11vnc"}),
    ))
    .create();
    desktop.restart_process("x11vnc").unwrap();
    restart.assert();
    let logs = cu(
        &mut server,
        "GET",
        "/process/novnc/logs",
        &json!({"processName": "novnc", "logs": "listening on 6080\n"}),
    )
    .create();
    assert_eq!(
        desktop.process_logs("novnc").unwrap(),
        "listening on 6080\n"
    );
    logs.assert();
    let errors = cu(
        &mut server,
        "GET",
        "/process/xfce4/errors",
        &json!({"processName": "xfce4", "errors": "warning: no session bus\n"}),
    )
    .create();
    assert_eq!(
        desktop.process_errors("xfce4").unwrap(),
        "warning: no session bus\n"
    );
    errors.assert();
    // A name is one path segment, whatever it holds.
    let odd = cu(
        &mut server,
        "GET",
        "/process/a%2Fb/status",
        &json!({"processName": "a/b", "running": false}),
    )
    .create();
    assert!(!desktop.is_process_running("a/b").unwrap());
    odd.assert();
}

#[test]
fn mouse_operations() {
    let (mut server, _d, sandbox) = setup();
    let mouse = sandbox.computer_use().mouse();
    let at = |x, y| json!({"x": x, "y": y});

    let position = cu(&mut server, "GET", "/mouse/position", &at(12, 34)).create();
    assert_eq!(mouse.position().unwrap(), Point::new(12, 34));
    position.assert();

    let moved = post(&mut server, "/mouse/move", at(100, 200), &at(100, 200)).create();
    assert_eq!(mouse.move_to((100, 200)).unwrap(), Point::new(100, 200));
    moved.assert();

    let click = post(
        &mut server,
        "/mouse/click",
        json!({"x": 5, "y": 6, "button": "left", "double": false}),
        &at(5, 6),
    )
    .create();
    assert_eq!(
        mouse.click((5, 6), MouseButton::Left).unwrap(),
        Point::new(5, 6)
    );
    click.assert();

    let double = post(
        &mut server,
        "/mouse/click",
        json!({"x": 7, "y": 8, "button": "right", "double": true}),
        &at(7, 8),
    )
    .create();
    mouse
        .double_click(Point::new(7, 8), MouseButton::Right)
        .unwrap();
    double.assert();

    let drag = post(
        &mut server,
        "/mouse/drag",
        json!({"startX": 10, "startY": 20, "endX": 300, "endY": 400, "button": "middle"}),
        &at(300, 400),
    )
    .create();
    assert_eq!(
        mouse
            .drag((10, 20), (300, 400), MouseButton::Middle)
            .unwrap(),
        Point::new(300, 400)
    );
    drag.assert();

    let scroll = post(
        &mut server,
        "/mouse/scroll",
        json!({"x": 50, "y": 60, "direction": "down", "amount": 3}),
        &json!({"success": true}),
    )
    .create();
    assert!(mouse.scroll((50, 60), ScrollDirection::Down, 3).unwrap());
    scroll.assert();

    let up = post(
        &mut server,
        "/mouse/scroll",
        json!({"x": 0, "y": 0, "direction": "up", "amount": 1}),
        &json!({"success": false}),
    )
    .create();
    assert!(!mouse.scroll((0, 0), ScrollDirection::Up, 1).unwrap());
    up.assert();
}

#[test]
fn keyboard_operations() {
    let (mut server, _d, sandbox) = setup();
    let keyboard = sandbox.computer_use().keyboard();
    let typed = post(
        &mut server,
        "/keyboard/type",
        json!({"text": "héllo \"x\""}),
        &json!({}),
    )
    .create();
    keyboard.type_text("héllo \"x\"").unwrap();
    typed.assert();

    let slow = post(
        &mut server,
        "/keyboard/type",
        json!({"text": "abc", "delay": 50}),
        &json!({}),
    )
    .create();
    keyboard
        .type_text_with_delay("abc", std::time::Duration::from_millis(50))
        .unwrap();
    slow.assert();

    let key = post(
        &mut server,
        "/keyboard/key",
        json!({"key": "Return", "modifiers": []}),
        &json!({}),
    )
    .create();
    keyboard.press("Return").unwrap();
    key.assert();

    let chord = post(
        &mut server,
        "/keyboard/key",
        json!({"key": "t", "modifiers": ["ctrl", "shift", "alt", "cmd"]}),
        &json!({}),
    )
    .create();
    keyboard
        .press_with(
            "t",
            &[
                Modifier::Ctrl,
                Modifier::Shift,
                Modifier::Alt,
                Modifier::Cmd,
            ],
        )
        .unwrap();
    chord.assert();

    let hotkey = post(
        &mut server,
        "/keyboard/hotkey",
        json!({"keys": "ctrl+c"}),
        &json!({}),
    )
    .create();
    keyboard.hotkey("ctrl+c").unwrap();
    hotkey.assert();
}

#[test]
fn full_screen_screenshot_is_decoded_bytes() {
    let (mut server, _d, sandbox) = setup();
    let m = cu(
        &mut server,
        "GET",
        "/screenshot",
        &json!({"screenshot": b64(PNG), "cursorPosition": {"x": 640, "y": 360}, "sizeBytes": PNG.len()}),
    )
    .match_query(Matcher::Exact("showCursor=true".into()))
    .create();
    let shot = sandbox
        .computer_use()
        .screenshot()
        .take_full_screen(ScreenshotOptions::new().show_cursor(true))
        .unwrap();
    m.assert();
    assert_eq!(shot.bytes(), PNG);
    assert_eq!(shot.size(), PNG.len() as u64);
    assert_eq!(shot.format(), Some(ImageFormat::Png));
    assert_eq!(shot.cursor(), Some(Point::new(640, 360)));
    assert_eq!(shot.clone().into_bytes(), PNG);
}

#[test]
fn region_screenshot_sends_x_y_width_height_in_order() {
    // Distinct values: a region passed as (height, width, y, x) would show.
    let (mut server, _d, sandbox) = setup();
    let m = cu(
        &mut server,
        "GET",
        "/screenshot/region",
        &json!({"screenshot": b64(PNG), "cursorPosition": {"x": 0, "y": 0}}),
    )
    .match_query(Matcher::Exact(
        "x=10&y=20&width=300&height=200&showCursor=false".into(),
    ))
    .create();
    let shot = sandbox
        .computer_use()
        .screenshot()
        .take_region(Rect::new(10, 20, 300, 200), ScreenshotOptions::new())
        .unwrap();
    m.assert();
    assert_eq!(shot.bytes(), PNG);
}

#[test]
fn compressed_screenshots_send_their_options() {
    let (mut server, _d, sandbox) = setup();
    let shots = sandbox.computer_use().screenshot();
    let full = cu(
        &mut server,
        "GET",
        "/screenshot/compressed",
        &json!({"screenshot": b64(JPEG), "sizeBytes": JPEG.len(), "cursorPosition": {"x": 32, "y": 18}}),
    )
    .match_query(Matcher::Exact(
        "showCursor=true&format=jpeg&quality=70&scale=0.5".into(),
    ))
    .create();
    let shot = shots
        .take_compressed(
            CompressedOptions::new()
                .format(ImageFormat::Jpeg)
                .quality(70)
                .scale(0.5)
                .show_cursor(true),
        )
        .unwrap();
    full.assert();
    assert_eq!(shot.bytes(), JPEG);
    assert_eq!(shot.format(), Some(ImageFormat::Jpeg));
    assert_eq!(shot.cursor(), Some(Point::new(32, 18)));

    let defaults = cu(
        &mut server,
        "GET",
        "/screenshot/compressed",
        &json!({"screenshot": b64(PNG)}),
    )
    .match_query(Matcher::Exact("showCursor=false".into()))
    .create();
    let shot = shots.take_compressed(CompressedOptions::new()).unwrap();
    defaults.assert();
    assert_eq!(shot.cursor(), None);

    let region = cu(
        &mut server,
        "GET",
        "/screenshot/region/compressed",
        &json!({"screenshot": b64(PNG), "sizeBytes": PNG.len()}),
    )
    .match_query(Matcher::Exact(
        "x=11&y=22&width=333&height=44&showCursor=false&format=png&scale=1".into(),
    ))
    .create();
    let shot = shots
        .take_compressed_region(
            Rect::new(11, 22, 333, 44),
            CompressedOptions::new().format(ImageFormat::Png).scale(1.0),
        )
        .unwrap();
    region.assert();
    assert_eq!(shot.bytes(), PNG);
}

#[test]
fn a_screenshot_that_is_not_base64_is_a_decode_error() {
    let (mut server, _d, sandbox) = setup();
    let m = cu(
        &mut server,
        "GET",
        "/screenshot",
        &json!({"screenshot": "<html>oops</html>"}),
    )
    .match_query(Matcher::Any)
    .create();
    let err = sandbox
        .computer_use()
        .screenshot()
        .take_full_screen(ScreenshotOptions::new())
        .unwrap_err();
    m.assert();
    match &err {
        daytona::Error::Decode {
            operation, message, ..
        } => {
            assert_eq!(operation, "GET /toolbox/sb-1/computeruse/screenshot");
            assert!(message.contains("base64"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn display_info_and_windows() {
    let (mut server, _d, sandbox) = setup();
    let display = sandbox.computer_use().display();
    let info = cu(
        &mut server,
        "GET",
        "/display/info",
        &json!({"displays": [{"id": 0, "x": 0, "y": 0, "width": 1920, "height": 1080, "isActive": true}]}),
    )
    .create();
    let displays = display.info().unwrap();
    info.assert();
    assert_eq!(displays.len(), 1);
    assert_eq!(displays[0].bounds, Rect::new(0, 0, 1920, 1080));
    assert!(displays[0].is_active);

    let windows = cu(
        &mut server,
        "GET",
        "/display/windows",
        &json!({"windows": [
            {"id": 4194307, "title": "Terminal", "x": 10, "y": 20, "width": 800, "height": 600, "isActive": true},
            {"id": 4194310, "title": "", "x": -5, "y": 0}
        ]}),
    )
    .create();
    let list = display.windows().unwrap();
    windows.assert();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].title, "Terminal");
    assert_eq!(list[0].bounds, Rect::new(10, 20, 800, 600));
    assert_eq!(list[1].bounds, Rect::new(-5, 0, 0, 0));
    assert!(!list[1].is_active);

    let none = cu(
        &mut server,
        "GET",
        "/display/windows",
        &json!({"windows": null}),
    )
    .create();
    assert!(display.windows().unwrap().is_empty());
    none.assert();
}

/// Numbers as the crate reads every API number: a fraction rounded, one
/// past the type's range clamped, never a failed answer.
#[test]
fn window_and_process_numbers_are_read_tolerantly() {
    let (mut server, _d, sandbox) = setup();
    let windows = cu(
        &mut server,
        "GET",
        "/display/windows",
        &json!({"windows": [
            {"id": 1e30, "title": "big", "x": 10.6, "y": -3.2, "width": 1e300, "height": -1e300}
        ]}),
    )
    .create();
    let list = sandbox.computer_use().display().windows().unwrap();
    windows.assert();
    assert_eq!(list[0].id, i64::MAX);
    assert_eq!(list[0].bounds, Rect::new(11, -3, i64::MAX, i64::MIN));
    let started = json!({"message": "", "status": {
        "xvfb": {"running": true, "pid": 101.0, "priority": 18446744073709551615u64}
    }});
    let start = expect_no_body(cu(&mut server, "POST", "/start", &started)).create();
    let report = sandbox.computer_use().start().unwrap();
    start.assert();
    let xvfb = &report.processes["xvfb"];
    assert_eq!((xvfb.pid, xvfb.priority), (Some(101), Some(i64::MAX)));
}

fn node(id: &str, role: &str, name: &str, children: Value) -> Value {
    json!({
        "id": id, "role": role, "name": name, "description": "",
        "bounds": {"x": 1, "y": 2, "width": 3, "height": 4},
        "states": ["enabled", "focusable"], "actions": ["click"], "children": children
    })
}

#[test]
fn accessibility_tree_queries() {
    let (mut server, _d, sandbox) = setup();
    let a11y = sandbox.computer_use().accessibility();
    let mut save = node(
        ":1.2:/org/a11y/atspi/accessible/2",
        "push button",
        "Save",
        json!([]),
    );
    save["description"] = json!("Writes the file");
    let tree = json!({
        "root": node(":1.2:/org/a11y/atspi/accessible/1", "frame", "Editor", json!([save, null])),
        "truncated": true
    });
    let focused = cu(&mut server, "GET", "/a11y/tree", &tree)
        .match_query(Matcher::Exact("scope=focused&maxDepth=2".into()))
        .create();
    let got = a11y.tree(AccessibilityScope::Focused, Some(2)).unwrap();
    focused.assert();
    assert!(got.truncated);
    assert_eq!(got.root.name, "Editor");
    assert_eq!(got.root.children.len(), 1);
    // Every field decoded: the node equals the one built by hand.
    let save = AccessibilityNode::new(":1.2:/org/a11y/atspi/accessible/2", "push button", "Save")
        .with_description("Writes the file")
        .with_bounds(Rect::new(1, 2, 3, 4))
        .with_state("enabled")
        .with_state("focusable")
        .with_action("click");
    assert_eq!(got.root.children, [save]);

    let pid = cu(&mut server, "GET", "/a11y/tree", &tree)
        .match_query(Matcher::Exact("scope=pid&pid=4242&maxDepth=60".into()))
        .create();
    a11y.tree(AccessibilityScope::Process(4242), None).unwrap();
    pid.assert();
    let all = cu(&mut server, "GET", "/a11y/tree", &tree)
        .match_query(Matcher::Exact("scope=all&maxDepth=0".into()))
        .create();
    a11y.tree(AccessibilityScope::All, Some(0)).unwrap();
    all.assert();
}

/// A chain of nodes `levels` deep below the root.
fn chain(levels: u32) -> Value {
    let mut below = json!([]);
    for level in (0..=levels).rev() {
        below = node(&format!("n{level}"), "panel", "", below);
        if level > 0 {
            below = json!([below]);
        }
    }
    below
}

#[test]
fn accessibility_trees_are_asked_no_deeper_than_they_decode() {
    let (mut server, _d, sandbox) = setup();
    let a11y = sandbox.computer_use().accessibility();
    // Unbounded, or deeper than the decoder reads: 60 levels asked for,
    // and 60 levels (nested 120 deep in JSON) read.
    let tree = json!({"root": chain(60), "truncated": true});
    for max_depth in [None, Some(61), Some(u32::MAX)] {
        let deep = cu(&mut server, "GET", "/a11y/tree", &tree)
            .match_query(Matcher::Exact("scope=all&maxDepth=60".into()))
            .create();
        let got = a11y.tree(AccessibilityScope::All, max_depth).unwrap();
        deep.assert();
        assert!(got.truncated);
        assert_eq!(got.root.walk().count(), 61, "{max_depth:?}");
    }
}

#[test]
fn accessibility_find_and_node_actions() {
    let (mut server, _d, sandbox) = setup();
    let a11y = sandbox.computer_use().accessibility();
    let found = post(
        &mut server,
        "/a11y/find",
        json!({"scope": "all", "role": "push button", "name": "Sa", "nameMatch": "substring",
               "states": ["enabled", "visible"], "limit": 10}),
        &json!({"matches": [node("n1", "push button", "Save", json!(null))], "truncated": false}),
    )
    .create();
    let nodes = a11y
        .find_nodes(
            FindNodes::new()
                .scope(AccessibilityScope::All)
                .role("push button")
                .name("Sa", NameMatch::Substring)
                .state("enabled")
                .state("visible")
                .limit(10),
        )
        .unwrap();
    found.assert();
    assert_eq!(nodes.matches.len(), 1);
    assert_eq!(nodes.matches[0].id, "n1");
    assert!(nodes.matches[0].children.is_empty());
    assert!(!nodes.truncated);

    let minimal = post(
        &mut server,
        "/a11y/find",
        json!({"scope": "pid", "pid": 7}),
        &json!({"matches": []}),
    )
    .create();
    a11y.find_nodes(FindNodes::new().scope(AccessibilityScope::Process(7)))
        .unwrap();
    minimal.assert();

    let focus = post(
        &mut server,
        "/a11y/node/focus",
        json!({"id": "n1"}),
        &json!({}),
    )
    .create();
    a11y.focus_node("n1").unwrap();
    focus.assert();
    let invoke = post(
        &mut server,
        "/a11y/node/invoke",
        json!({"id": "n1", "action": "press"}),
        &json!({}),
    )
    .create();
    a11y.invoke_node("n1", Some("press")).unwrap();
    invoke.assert();
    let primary = post(
        &mut server,
        "/a11y/node/invoke",
        json!({"id": "n1"}),
        &json!({}),
    )
    .create();
    a11y.invoke_node("n1", None).unwrap();
    primary.assert();
    let value = post(
        &mut server,
        "/a11y/node/value",
        json!({"id": "n2", "value": "hello"}),
        &json!({}),
    )
    .create();
    a11y.set_node_value("n2", "hello").unwrap();
    value.assert();
}

#[test]
fn toolbox_errors_keep_their_status() {
    let (mut server, _d, sandbox) = setup();
    let m = with_sdk_headers(server.mock(
        "POST",
        format!("{TOOLBOX}/computeruse/a11y/node/focus").as_str(),
    ))
    .with_status(404)
    .with_header("content-type", "application/json")
    .with_body(
        json!({"message": "accessibility node not found", "code": "A11Y_NODE_NOT_FOUND"})
            .to_string(),
    )
    .expect(1)
    .create();
    let err = sandbox
        .computer_use()
        .accessibility()
        .focus_node("gone")
        .unwrap_err();
    m.assert();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(
        err.api().unwrap().code.as_deref(),
        Some("A11Y_NODE_NOT_FOUND")
    );
}
