//! Invalid arguments of the computer-use operations fail with
//! `Error::Validation` naming the field, before any request.

mod common;

use std::time::Duration;

use common::*;
use daytona::toolbox::{
    AccessibilityScope, CompressedOptions, FindNodes, MouseButton, NameMatch, Rect,
    ScreenshotOptions, ScrollDirection,
};
use daytona::Error;
use mockito::Server;

/// Asserts that `result` is a validation error of `field`.
fn rejected<T: std::fmt::Debug>(result: daytona::Result<T>, field: &str) {
    match result {
        Err(Error::Validation { field: f, message }) => {
            assert_eq!(f, field, "wrong field; message: {message}")
        }
        other => panic!("expected a validation error of `{field}`, got {other:?}"),
    }
}

#[test]
fn nothing_is_sent_for_invalid_arguments() {
    let mut server = Server::new();
    let daytona = client(&server);
    let sandbox = toolbox_sandbox(&mut server, &daytona);
    let guards = no_requests(&mut server);
    let desktop = sandbox.computer_use();

    // `.` and `..` cannot be sent as a segment of the URL path.
    for name in ["", "  ", ".", ".."] {
        rejected(desktop.is_process_running(name), "name");
        rejected(desktop.restart_process(name), "name");
        rejected(desktop.process_logs(name), "name");
        rejected(desktop.process_errors(name), "name");
    }

    let mouse = desktop.mouse();
    rejected(mouse.move_to((-1, 5)), "to.x");
    rejected(mouse.move_to((5, 40_000)), "to.y");
    rejected(mouse.click((i64::MIN, 0), MouseButton::Left), "at.x");
    rejected(mouse.double_click((0, -3), MouseButton::Right), "at.y");
    rejected(mouse.drag((-1, 0), (5, 5), MouseButton::Left), "from.x");
    rejected(mouse.drag((0, 0), (5, i64::MAX), MouseButton::Left), "to.y");
    rejected(mouse.scroll((0, 0), ScrollDirection::Down, 0), "amount");
    rejected(mouse.scroll((-2, 0), ScrollDirection::Up, 1), "at.x");

    let keyboard = desktop.keyboard();
    rejected(keyboard.type_text(""), "text");
    rejected(
        keyboard.type_text_with_delay("", Duration::from_millis(5)),
        "text",
    );
    rejected(
        keyboard.type_text_with_delay("abc", Duration::from_secs(11)),
        "delay",
    );
    rejected(keyboard.press(""), "key");
    rejected(keyboard.press_with(" ", &[]), "key");
    rejected(keyboard.hotkey(""), "keys");
    rejected(keyboard.hotkey("ctrl++"), "keys");
    rejected(keyboard.hotkey("ctrl+ "), "keys");

    let shots = desktop.screenshot();
    let plain = ScreenshotOptions::new;
    rejected(
        shots.take_region(Rect::new(-1, 0, 10, 10), plain()),
        "region.x",
    );
    rejected(
        shots.take_region(Rect::new(0, -1, 10, 10), plain()),
        "region.y",
    );
    rejected(
        shots.take_region(Rect::new(0, 0, 0, 10), plain()),
        "region.width",
    );
    rejected(
        shots.take_region(Rect::new(0, 0, 10, -10), plain()),
        "region.height",
    );
    rejected(
        shots.take_region(Rect::new(0, 0, 100_000, 10), plain()),
        "region.width",
    );
    rejected(
        shots.take_compressed(CompressedOptions::new().quality(0)),
        "quality",
    );
    rejected(
        shots.take_compressed(CompressedOptions::new().quality(101)),
        "quality",
    );
    rejected(
        shots.take_compressed(CompressedOptions::new().scale(0.09)),
        "scale",
    );
    rejected(
        shots.take_compressed(CompressedOptions::new().scale(f64::INFINITY)),
        "scale",
    );
    rejected(
        shots.take_compressed_region(Rect::new(0, 0, 10, 0), CompressedOptions::new()),
        "region.height",
    );
    rejected(
        shots.take_compressed_region(Rect::new(0, 0, 10, 10), CompressedOptions::new().scale(2.0)),
        "scale",
    );

    let recordings = desktop.recording();
    for label in [
        "",
        ".hidden",
        "a/b",
        "a\\b",
        "naïve",
        "tab\u{0}",
        &"x".repeat(101),
    ] {
        rejected(recordings.start(Some(label)), "label");
    }
    rejected(recordings.stop(""), "id");
    rejected(recordings.get(" "), "id");
    rejected(recordings.delete(""), "id");
    rejected(recordings.download("", "out.mp4"), "id");
    rejected(recordings.download_to("", &mut Vec::new()), "id");
    for id in [".", ".."] {
        rejected(recordings.get(id), "id");
        rejected(recordings.delete(id), "id");
        rejected(recordings.download(id, "out.mp4"), "id");
        rejected(recordings.download_to(id, &mut Vec::new()), "id");
    }
    let dir = std::env::temp_dir();
    rejected(recordings.download("r1", &dir), "local_path");

    let a11y = desktop.accessibility();
    rejected(a11y.tree(AccessibilityScope::Process(0), None), "pid");
    rejected(a11y.find_nodes(FindNodes::new().limit(0)), "limit");
    rejected(a11y.find_nodes(FindNodes::new().limit(5001)), "limit");
    rejected(a11y.find_nodes(FindNodes::new().role("")), "role");
    rejected(
        a11y.find_nodes(FindNodes::new().name(" ", NameMatch::Exact)),
        "name",
    );
    rejected(a11y.find_nodes(FindNodes::new().state("")), "states");
    rejected(a11y.focus_node(""), "id");
    rejected(a11y.invoke_node("", None), "id");
    rejected(a11y.invoke_node("n1", Some("")), "action");
    rejected(a11y.set_node_value("", "v"), "id");

    assert_all(&guards);
}
