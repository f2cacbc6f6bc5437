//! The local simulator serves the sandbox's own snapshot, signed preview
//! URLs and archive → start statefully, through their transitional states.
#![cfg(feature = "testing")]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Mutex;
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

/// A started sandbox with `/home/daytona/data.txt` holding `kept`.
fn with_a_file(daytona: &daytona::Daytona) -> daytona::Sandbox {
    let sandbox = daytona.create(CreateSandbox::new()).unwrap();
    sandbox
        .fs()
        .upload_bytes(b"kept", "/home/daytona/data.txt")
        .unwrap();
    sandbox
}

#[test]
fn a_sandbox_snapshot_goes_through_snapshotting_and_makes_sandboxes() {
    let local = local();
    let daytona = local.client();
    let mut sandbox = with_a_file(&daytona);
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

/// Every log record of this test binary, at debug level.
static LOGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let text = format!("{} {}", record.target(), record.args());
        LOGS.lock().unwrap_or_else(|e| e.into_inner()).push(text);
    }
    fn flush(&self) {}
}

/// The status line and body of a GET of `url` without the API key.
fn fetch(url: &str) -> (String, String) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut s = TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let head = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    s.write_all(head.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    (
        head.lines().next().unwrap_or("").to_string(),
        body.to_string(),
    )
}

#[test]
fn signed_preview_urls_work_until_expired_or_revoked() {
    let _ = log::set_logger(&Capture);
    log::set_max_level(log::LevelFilter::Debug);
    let local = local();
    let sandbox = local.client().create(CreateSandbox::new()).unwrap();
    let signed = sandbox.signed_preview_url(3000, None).unwrap();
    assert_eq!(
        (signed.port, signed.sandbox_id.as_str()),
        (3000, sandbox.id())
    );
    assert!(signed.url.contains(&signed.token), "{}", signed.url);
    assert!(!format!("{signed:?}").contains(&signed.token));
    // Valid: the simulator proxies nothing, and says so.
    let (status, body) = fetch(&signed.url);
    assert_eq!(status, "HTTP/1.1 501 Not Implemented", "{body}");
    assert!(body.contains("nothing is proxied to port 3000"), "{body}");
    // Revoked: refused from now on.
    sandbox
        .expire_signed_preview_url(3000, &signed.token)
        .unwrap();
    let (status, body) = fetch(&signed.url);
    assert_eq!(status, "HTTP/1.1 401 Unauthorized", "{body}");
    // Revoking an unknown token (or on another port) is a 404.
    let e = sandbox
        .expire_signed_preview_url(3001, &signed.token)
        .unwrap_err();
    assert!(e.is_not_found(), "{e:?}");
    assert!(!format!("{e:?} {e}").contains(&signed.token), "{e:?}");
    // Expired: refused once its time has passed.
    let short = sandbox
        .signed_preview_url(8080, Some(Duration::from_secs(1)))
        .unwrap();
    assert_ne!(short.token, signed.token);
    assert!(fetch(&short.url).0.contains(" 501 "));
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(fetch(&short.url).0, "HTTP/1.1 401 Unauthorized");
    // A signed URL of another instance is refused too.
    let other = self::local();
    let foreign = short
        .url
        .replace(&local.addr().to_string(), &other.addr().to_string());
    assert_eq!(fetch(&foreign).0, "HTTP/1.1 401 Unauthorized");
    // The URLs of a deleted sandbox go with it.
    let mut sandbox = sandbox;
    let last = sandbox.signed_preview_url(4000, None).unwrap();
    assert!(fetch(&last.url).0.contains(" 501 "));
    sandbox.delete().unwrap();
    assert_eq!(fetch(&last.url).0, "HTTP/1.1 401 Unauthorized");
    // No token in the SDK's logs (the expire request carries it in its path).
    let logs = LOGS.lock().unwrap_or_else(|e| e.into_inner());
    assert!(
        logs.iter()
            .any(|l| l.contains("signed-preview-url/<redacted>/expire")),
        "{logs:?}"
    );
    for token in [&signed.token, &short.token, &last.token] {
        assert!(!logs.iter().any(|l| l.contains(token.as_str())), "{logs:?}");
    }
}

#[test]
fn an_archived_sandbox_starts_again_with_its_files() {
    let local = local();
    let daytona = local.client();
    let mut sandbox = with_a_file(&daytona);
    sandbox.stop().unwrap();
    sandbox.archive().unwrap();
    assert_eq!(sandbox.state(), Some(&SandboxState::Archived));
    // Archived: the toolbox is out of reach until it starts again.
    assert!(sandbox
        .fs()
        .download_bytes("/home/daytona/data.txt")
        .is_err());
    let id = sandbox.id().to_string();
    let starting = std::thread::spawn(move || {
        sandbox.start().unwrap();
        sandbox
    });
    assert!(seen(&daytona, &id, SandboxState::Restoring));
    let sandbox = starting.join().unwrap();
    assert_eq!(sandbox.state(), Some(&SandboxState::Started));
    let data = sandbox
        .fs()
        .download_bytes("/home/daytona/data.txt")
        .unwrap();
    assert_eq!(data, b"kept");
}

#[test]
fn a_start_while_archiving_waits_for_the_archive_then_restores() {
    let local = LocalDaytona::builder()
        .scripted()
        .state_delay(Duration::from_millis(150))
        .start()
        .unwrap();
    let daytona = local.client();
    let mut sandbox = daytona.create(CreateSandbox::new()).unwrap();
    sandbox.stop().unwrap();
    let id = sandbox.id().to_string();
    let archiving = std::thread::spawn(move || sandbox.archive());
    assert!(seen(&daytona, &id, SandboxState::Archiving));
    // Accepted while archiving, as the API does.
    let mut other = daytona.get(&id).unwrap();
    let starting = std::thread::spawn(move || {
        other.start().unwrap();
        other
    });
    // The states seen from now on, each once, in order.
    let mut states: Vec<SandboxState> = Vec::new();
    let until = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < until {
        let state = daytona.get(&id).unwrap().state().cloned().unwrap();
        if states.last() != Some(&state) {
            states.push(state.clone());
        }
        if state == SandboxState::Started {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let at = |s: SandboxState| states.iter().position(|x| *x == s);
    let (archived, restoring, started) = (
        at(SandboxState::Archived),
        at(SandboxState::Restoring),
        at(SandboxState::Started),
    );
    assert!(
        archived.is_some() && archived < restoring && restoring < started,
        "{states:?}"
    );
    archiving.join().unwrap().unwrap();
    assert_eq!(
        starting.join().unwrap().state(),
        Some(&SandboxState::Started)
    );
}
