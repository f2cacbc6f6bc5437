//! Computer use end to end against the local simulator: the SDK over real
//! HTTP, the simulator's desktop keeping the pointer, the actions, the
//! recordings, and drawing real images.
#![cfg(feature = "testing")]

mod temp;

use daytona::testing::{DesktopEvent, LocalDaytona};
use daytona::toolbox::{
    AccessibilityNode, AccessibilityScope, CompressedOptions, ComputerUseStatus, FindNodes,
    ImageFormat, Modifier, MouseButton, NameMatch, Point, RecordingStatus, Rect, ScreenshotOptions,
    ScrollDirection, WindowInfo,
};
use daytona::{CreateSandbox, Sandbox};

fn scripted() -> LocalDaytona {
    LocalDaytona::builder()
        .scripted()
        .start()
        .expect("simulator")
}

fn sandbox(local: &LocalDaytona) -> Sandbox {
    local.client().create(CreateSandbox::new()).unwrap()
}

/// The width and height in a PNG's header.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert_eq!(&png[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes(png[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

/// The width and height in a baseline JPEG's frame header.
fn jpeg_size(jpeg: &[u8]) -> (u16, u16) {
    assert!(jpeg.starts_with(&[0xFF, 0xD8]), "not a JPEG");
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    let be = |i: usize| u16::from_be_bytes([jpeg[i], jpeg[i + 1]]);
    (be(sof + 7), be(sof + 5))
}

#[test]
fn a_session_on_the_desktop_is_recorded() {
    let local = scripted();
    let sandbox = sandbox(&local);
    let desktop = sandbox.computer_use();
    assert_eq!(desktop.status().unwrap(), ComputerUseStatus::Inactive);
    // Nothing works before the desktop is started.
    let err = desktop.mouse().position().unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");

    let started = desktop.start().unwrap();
    assert_eq!(started.processes.len(), 4);
    assert!(started.processes.values().all(|p| p.running));
    assert_eq!(desktop.status().unwrap(), ComputerUseStatus::Active);
    assert_eq!(desktop.system_status().unwrap(), ComputerUseStatus::Active);
    assert!(desktop.is_process_running("xvfb").unwrap());
    desktop.restart_process("novnc").unwrap();
    assert!(desktop.process_logs("xfce4").unwrap().contains("xfce4"));
    assert_eq!(desktop.process_errors("xfce4").unwrap(), "");

    let mouse = desktop.mouse();
    assert_eq!(mouse.position().unwrap(), Point::new(0, 0));
    assert_eq!(mouse.move_to((120, 80)).unwrap(), Point::new(120, 80));
    assert_eq!(mouse.position().unwrap(), Point::new(120, 80));
    mouse.click((10, 20), MouseButton::Left).unwrap();
    mouse.double_click((11, 21), MouseButton::Right).unwrap();
    assert_eq!(
        mouse.drag((30, 40), (300, 400), MouseButton::Left).unwrap(),
        Point::new(300, 400)
    );
    assert!(mouse.scroll((50, 60), ScrollDirection::Down, 3).unwrap());
    // Off the screen: X keeps the pointer on it.
    assert_eq!(mouse.move_to((5000, 10)).unwrap(), Point::new(1023, 10));

    let keyboard = desktop.keyboard();
    keyboard.type_text("hello").unwrap();
    keyboard
        .type_text_with_delay("slow", std::time::Duration::from_millis(5))
        .unwrap();
    keyboard.press("Return").unwrap();
    keyboard
        .press_with("t", &[Modifier::Ctrl, Modifier::Shift])
        .unwrap();
    keyboard.hotkey("ctrl+s").unwrap();

    let events = local.desktop_events(sandbox.id());
    assert_eq!(
        events,
        [
            DesktopEvent::MouseMove(Point::new(120, 80)),
            DesktopEvent::Click {
                at: Point::new(10, 20),
                button: "left".into(),
                double: false
            },
            DesktopEvent::Click {
                at: Point::new(11, 21),
                button: "right".into(),
                double: true
            },
            DesktopEvent::Drag {
                from: Point::new(30, 40),
                to: Point::new(300, 400),
                button: "left".into()
            },
            DesktopEvent::Scroll {
                at: Point::new(50, 60),
                direction: "down".into(),
                amount: 3
            },
            DesktopEvent::MouseMove(Point::new(1023, 10)),
            DesktopEvent::TypeText {
                text: "hello".into(),
                delay: std::time::Duration::ZERO
            },
            DesktopEvent::TypeText {
                text: "slow".into(),
                delay: std::time::Duration::from_millis(5)
            },
            DesktopEvent::KeyPress {
                key: "Return".into(),
                modifiers: vec![]
            },
            DesktopEvent::KeyPress {
                key: "t".into(),
                modifiers: vec!["ctrl".into(), "shift".into()]
            },
            DesktopEvent::Hotkey("ctrl+s".into()),
        ]
    );
    // By name too; another sandbox has its own desktop.
    assert_eq!(
        local.desktop_events(&sandbox.info().name).len(),
        events.len()
    );
    let other = self::sandbox(&local);
    assert!(local.desktop_events(other.id()).is_empty());
    assert_eq!(
        other.computer_use().status().unwrap(),
        ComputerUseStatus::Inactive
    );

    let stopped = desktop.stop().unwrap();
    assert!(stopped.processes.values().all(|p| !p.running));
    assert!(desktop.keyboard().type_text("x").is_err());
}

#[test]
fn screenshots_are_real_images_of_the_size_asked() {
    let local = scripted();
    local.set_screen_size(640, 480);
    let sandbox = sandbox(&local);
    let desktop = sandbox.computer_use();
    desktop.start().unwrap();
    desktop.mouse().move_to((100, 50)).unwrap();
    let shots = desktop.screenshot();

    let full = shots
        .take_full_screen(ScreenshotOptions::new().show_cursor(true))
        .unwrap();
    assert_eq!(full.format(), Some(ImageFormat::Png));
    assert_eq!(png_size(full.bytes()), (640, 480));
    assert_eq!(full.size(), full.bytes().len() as u64);
    assert_eq!(full.cursor(), Some(Point::new(100, 50)));

    // Distinct x, y, width and height: the image is width × height, so a
    // region sent in another order would show (or be refused).
    let region = shots
        .take_region(Rect::new(10, 20, 300, 200), ScreenshotOptions::new())
        .unwrap();
    assert_eq!(png_size(region.bytes()), (300, 200));
    let err = shots
        .take_region(Rect::new(400, 20, 300, 200), ScreenshotOptions::new())
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");

    let jpeg = shots
        .take_compressed(
            CompressedOptions::new()
                .format(ImageFormat::Jpeg)
                .quality(60)
                .scale(0.5),
        )
        .unwrap();
    assert_eq!(jpeg.format(), Some(ImageFormat::Jpeg));
    assert_eq!(jpeg_size(jpeg.bytes()), (320, 240));
    assert_eq!(jpeg.cursor(), None);

    let small = shots
        .take_compressed_region(
            Rect::new(5, 6, 200, 100),
            CompressedOptions::new().scale(0.25).show_cursor(true),
        )
        .unwrap();
    assert_eq!(png_size(small.bytes()), (50, 25));
    // Inside the region: (100 - 5) / 4, (50 - 6) / 4, from its corner.
    assert_eq!(small.cursor(), Some(Point::new(5 + 23, 6 + 11)));

    let displays = desktop.display().info().unwrap();
    assert_eq!(displays.len(), 1);
    assert_eq!(displays[0].bounds, Rect::new(0, 0, 640, 480));
    assert!(displays[0].is_active);
}

#[test]
fn recordings_are_files_in_the_sandbox() {
    let local = scripted();
    let sandbox = sandbox(&local);
    let recordings = sandbox.computer_use().recording();
    assert!(recordings.list().unwrap().is_empty());
    let rec = recordings.start(Some("login flow")).unwrap();
    assert_eq!(rec.status, RecordingStatus::Recording);
    assert!(
        rec.file_name.starts_with("login_flow_"),
        "{}",
        rec.file_name
    );
    let plain = recordings.start(None).unwrap();
    assert_eq!(recordings.list().unwrap().len(), 2);

    // Not downloadable while recording.
    let err = recordings
        .download_to(&rec.id, &mut Vec::new())
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    let err = recordings.delete(&rec.id).unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");

    let done = recordings.stop(&rec.id).unwrap();
    assert_eq!(done.status, RecordingStatus::Completed);
    assert!(done.duration.is_some());
    assert!(done.end_time.is_some());
    let size = done.size_bytes.unwrap();
    assert!(recordings.stop(&rec.id).is_err());
    assert_eq!(recordings.get(&rec.id).unwrap(), done);

    // Streamed in chunks to a file, and to a writer.
    let dir = temp::TempDir::new("e2e-rec");
    let target = dir.join("nested/login.mp4");
    assert_eq!(recordings.download(&rec.id, &target).unwrap(), size as u64);
    let saved = std::fs::read(&target).unwrap();
    assert!(saved.starts_with(format!("local simulator recording {}\n", rec.id).as_bytes()));
    let mut written = Vec::new();
    recordings.download_to(&rec.id, &mut written).unwrap();
    assert_eq!(written, saved);
    let _ = std::fs::remove_dir_all(&dir);

    // The file is in the sandbox, where its path says.
    let host = local
        .sandbox_dir(sandbox.id())
        .unwrap()
        .join(done.file_path.trim_start_matches('/'));
    assert_eq!(std::fs::read(&host).unwrap(), saved);

    recordings.delete(&rec.id).unwrap();
    assert!(recordings.get(&rec.id).unwrap_err().is_not_found());
    assert!(!host.exists());
    let left: Vec<String> = recordings
        .list()
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(left, [plain.id]);
    let err = recordings.start(Some("a/b"));
    assert!(err.is_err());
}

#[test]
fn windows_and_the_accessibility_tree() {
    let local = scripted();
    let sandbox = sandbox(&local);
    let desktop = sandbox.computer_use();
    desktop.start().unwrap();
    let a11y = desktop.accessibility();

    // The default desktop: a terminal with a text field and a button.
    let windows = desktop.display().windows().unwrap();
    assert_eq!(windows.len(), 1);
    assert_eq!(windows[0].title, "Terminal");
    let tree = a11y.tree(AccessibilityScope::Focused, None).unwrap();
    assert!(!tree.truncated);
    assert_eq!(tree.root.walk().count(), 3);
    let ok = a11y
        .find_nodes(
            FindNodes::new()
                .role("push button")
                .name("OK", NameMatch::Exact),
        )
        .unwrap();
    assert_eq!(ok.matches.len(), 1);
    a11y.invoke_node(&ok.matches[0].id, None).unwrap();
    let err = a11y
        .invoke_node(&ok.matches[0].id, Some("drag"))
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    assert!(a11y.focus_node("no-such-node").unwrap_err().is_not_found());

    // A desktop of the test's own.
    local.set_windows(vec![
        WindowInfo::new(7, "Editor", Rect::new(0, 0, 900, 700)).active(true),
        WindowInfo::new(8, "Browser", Rect::new(100, 100, 800, 600)),
    ]);
    local.set_accessibility_tree(
        AccessibilityNode::new("app", "application", "Editor").with_child(
            AccessibilityNode::new("form", "panel", "Login")
                .with_child(
                    AccessibilityNode::new("user", "text", "User name")
                        .with_state("editable")
                        .with_state("focusable"),
                )
                .with_child(
                    AccessibilityNode::new("go", "push button", "Sign in")
                        .with_action("press")
                        .with_action("click"),
                ),
        ),
    );
    let titles: Vec<String> = desktop
        .display()
        .windows()
        .unwrap()
        .into_iter()
        .map(|w| w.title)
        .collect();
    assert_eq!(titles, ["Editor", "Browser"]);
    let shallow = a11y.tree(AccessibilityScope::All, Some(1)).unwrap();
    assert!(shallow.truncated);
    assert_eq!(shallow.root.children.len(), 1);
    assert!(shallow.root.children[0].children.is_empty());
    assert!(a11y
        .tree(AccessibilityScope::Process(4242), Some(0))
        .is_ok());

    let editable = a11y
        .find_nodes(FindNodes::new().state("editable").state("focusable"))
        .unwrap();
    assert_eq!(editable.matches.len(), 1);
    let user = &editable.matches[0].id;
    a11y.focus_node(user).unwrap();
    a11y.set_node_value(user, "ada").unwrap();
    let sign_in = a11y
        .find_nodes(FindNodes::new().name("Sign", NameMatch::Substring).limit(1))
        .unwrap();
    a11y.invoke_node(&sign_in.matches[0].id, Some("CLICK"))
        .unwrap();
    let regex = a11y.find_nodes(FindNodes::new().name("S.*", NameMatch::Regex));
    assert_eq!(regex.unwrap_err().status(), Some(400));

    let events = local.desktop_events(sandbox.id());
    assert_eq!(
        events,
        [
            DesktopEvent::Invoke {
                id: ok.matches[0].id.clone(),
                action: "click".into()
            },
            DesktopEvent::Focus("user".into()),
            DesktopEvent::SetValue {
                id: "user".into(),
                value: "ada".into()
            },
            DesktopEvent::Invoke {
                id: "go".into(),
                action: "click".into()
            },
        ]
    );
}
