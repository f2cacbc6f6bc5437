//! The local simulator serves the sandbox's own snapshot, signed preview
//! URLs and archive → start statefully, through their transitional states.
#![cfg(feature = "testing")]

use std::time::Duration;

use daytona::testing::LocalDaytona;
use daytona::{CreateSandbox, SandboxState, SnapshotState};

/// Scripted (nothing runs on the host), with transitions slow enough to be
/// seen.
fn local() -> LocalDaytona {
    LocalDaytona::builder()
        .scripted()
        .state_delay(Duration::from_millis(60))
        .start()
        .expect("simulator")
}

#[test]
fn a_sandbox_snapshot_goes_through_snapshotting_and_makes_sandboxes() {
    let local = local();
    let daytona = local.client();
    let mut sandbox = daytona.create(CreateSandbox::new()).unwrap();
    sandbox
        .fs()
        .upload_bytes(b"kept", "/home/daytona/data.txt")
        .unwrap();
    let id = sandbox.id().to_string();
    let taking = std::thread::spawn(move || {
        sandbox.experimental_create_snapshot("my-snap").unwrap();
        sandbox
    });
    assert!(seen(&daytona, &id, SandboxState::Snapshotting));
    let mut sandbox = taking.join().unwrap();
    assert_eq!(sandbox.state(), Some(&SandboxState::Started));
    let snapshot = daytona.snapshots().get("my-snap").unwrap();
    assert_eq!(snapshot.state, SnapshotState::Active);
    // The name is taken; a second snapshot with it is refused.
    let e = sandbox.experimental_create_snapshot("my-snap").unwrap_err();
    assert!(e.is_conflict(), "{e:?}");
    // A sandbox made from it starts with the files the first one had.
    let copy = daytona
        .create(CreateSandbox::from_snapshot("my-snap"))
        .unwrap();
    assert_eq!(copy.info().snapshot.as_deref(), Some("my-snap"));
    let data = copy.fs().download_bytes("/home/daytona/data.txt").unwrap();
    assert_eq!(data, b"kept");
    // A stopped sandbox can be snapshotted too, and stays stopped.
    sandbox.stop().unwrap();
    sandbox
        .experimental_create_snapshot("stopped-snap")
        .unwrap();
    assert_eq!(sandbox.state(), Some(&SandboxState::Stopped));
}

#[test]
fn a_sandbox_snapshot_is_refused_while_busy() {
    let local = local();
    let daytona = local.client();
    let mut sandbox = daytona.create(CreateSandbox::new()).unwrap();
    assert!(local.force_state(sandbox.id(), "archiving", None));
    let e = sandbox.experimental_create_snapshot("snap").unwrap_err();
    assert!(e.is_conflict(), "{e:?}");
    assert!(daytona.snapshots().get("snap").unwrap_err().is_not_found());
}

/// Whether the sandbox `id` is seen in `state` within 2 s.
fn seen(daytona: &daytona::Daytona, id: &str, state: SandboxState) -> bool {
    let until = std::time::Instant::now() + Duration::from_secs(2);
    while std::time::Instant::now() < until {
        if daytona.get(id).unwrap().state() == Some(&state) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}
