//! Builds a snapshot from a registry image (printing its build log), lists
//! snapshots, creates a volume and mounts it into a sandbox created from the
//! snapshot, then cleans up.
//!
//! ```text
//! DAYTONA_API_KEY=... cargo run --example snapshots_and_volumes
//! ```

mod support;

use std::time::Duration;

use daytona::{
    CreateSandbox, CreateSnapshot, Daytona, Error, ListSnapshots, Resources, SnapshotSort,
    SortOrder, VolumeMount,
};

fn main() -> std::process::ExitCode {
    support::exit(run())
}

fn run() -> Result<(), Error> {
    let daytona = Daytona::from_env()?;
    let name = format!("example-{}", std::process::id());

    let snapshot = daytona.snapshots().create_with_logs(
        CreateSnapshot::from_image(&name, "python:3.12-slim")
            .resources(Resources::new().cpu(1).memory(1).disk(3))
            .timeout(Duration::from_secs(15 * 60)),
        |line| println!("[build] {line}"),
    )?;
    println!("snapshot {} is {}", snapshot.name, snapshot.state);

    for s in daytona
        .snapshots()
        .list(ListSnapshots::new().sort(SnapshotSort::CreatedAt, SortOrder::Desc))
        .take(5)
    {
        let s = s?;
        println!("  {:<40} {}", s.name, s.state);
    }

    let volume = daytona.volumes().get_or_create(&name)?;
    let volume = daytona
        .volumes()
        .wait_until_ready_with_timeout(&volume.name, Duration::from_secs(120))?;
    println!("volume {} is {}", volume.name, volume.state);

    let mut sandbox = daytona.create(
        CreateSandbox::from_snapshot(&snapshot.name).volume(VolumeMount::new(&volume.id, "/data")),
    )?;
    println!("sandbox {} mounts {} at /data", sandbox.id(), volume.name);

    sandbox.delete()?;
    // A volume stays in use for a moment after its sandbox is deleted.
    for _ in 0..30 {
        match daytona.volumes().delete(&volume) {
            Err(e) if e.is_conflict() => std::thread::sleep(Duration::from_secs(2)),
            other => {
                other?;
                break;
            }
        }
    }
    daytona.snapshots().delete(&snapshot)?;
    println!("cleaned up");
    Ok(())
}
