//! Drives a sandbox's desktop: starts it, moves the pointer, clicks, types,
//! saves a full screenshot and a compressed region to files, reads the
//! windows and the accessibility tree, records the screen, and stops it.
//!
//! ```text
//! DAYTONA_API_KEY=... cargo run --example computer_use
//! ```
//!
//! The sandbox's image needs the desktop (Xvfb, xfce4, VNC), as Daytona's
//! default one has. Without credentials (none in the environment,
//! `.env.local` or `.env`) it runs against the local simulator, whose
//! desktop is simulated (its screenshots are plain grey).

mod support;

use std::process::ExitCode;

use daytona::testing::LocalDaytona;
use daytona::toolbox::{
    AccessibilityScope, CompressedOptions, ImageFormat, Modifier, MouseButton, Rect,
    ScreenshotOptions,
};
use daytona::Sandbox;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    support::sandbox_main(
        LocalDaytona::builder().scripted(),
        "its desktop is simulated and nothing runs on this machine",
        "computer-use",
        run,
    )
}

fn run(sandbox: &Sandbox) -> Result {
    let desktop = sandbox.computer_use();
    let started = desktop.start()?;
    for (name, process) in &started.processes {
        println!(
            "{name}: running {} (pid {:?})",
            process.running, process.pid
        );
    }
    println!("desktop: {}", desktop.status()?);
    // Stop the desktop whatever the session does.
    let session = drive(sandbox);
    desktop.stop()?;
    session
}

fn drive(sandbox: &Sandbox) -> Result {
    let desktop = sandbox.computer_use();
    for display in desktop.display().info()? {
        let b = display.bounds;
        println!(
            "display {}: {}x{} at ({}, {})",
            display.id, b.width, b.height, b.x, b.y
        );
    }
    let recording = desktop.recording().start(Some("example session"))?;

    let mouse = desktop.mouse();
    mouse.move_to((200, 150))?;
    mouse.click((200, 150), MouseButton::Left)?;
    let keyboard = desktop.keyboard();
    keyboard.type_text("echo hello from the desktop")?;
    keyboard.press("Return")?;
    keyboard.press_with("l", &[Modifier::Ctrl])?;
    println!("pointer at {:?}", mouse.position()?);

    let dir = std::env::temp_dir();
    let shot = desktop
        .screenshot()
        .take_full_screen(ScreenshotOptions::new().show_cursor(true))?;
    let path = dir.join("daytona-screenshot.png");
    std::fs::write(&path, shot.bytes())?;
    println!(
        "screenshot: {} bytes of {:?}, saved to {}",
        shot.size(),
        shot.format(),
        path.display()
    );
    let region = desktop.screenshot().take_compressed_region(
        Rect::new(0, 0, 400, 300),
        CompressedOptions::new()
            .format(ImageFormat::Jpeg)
            .quality(70)
            .scale(0.5),
    )?;
    let path = dir.join("daytona-region.jpg");
    std::fs::write(&path, region.bytes())?;
    println!(
        "region: {} bytes, saved to {}",
        region.size(),
        path.display()
    );

    for window in desktop.display().windows()? {
        println!("window {:?} active {}", window.title, window.is_active);
    }
    match desktop
        .accessibility()
        .tree(AccessibilityScope::Focused, Some(2))
    {
        Ok(tree) => {
            for node in tree.root.walk() {
                println!("a11y: {} {:?}", node.role, node.name);
            }
        }
        // Not every desktop application registers with the bus.
        Err(e) => println!("no accessibility tree: {e}"),
    }

    let recordings = desktop.recording();
    let done = recordings.stop(&recording.id)?;
    println!("recorded {} ({:?})", done.file_name, done.duration);
    let path = dir.join("daytona-recording.mp4");
    let size = recordings.download(&recording.id, &path)?;
    println!("recording: {size} bytes, saved to {}", path.display());
    recordings.delete(&recording.id)?;
    Ok(())
}
