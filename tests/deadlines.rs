//! Deadlines are exact: a create ends with a timeout at its deadline
//! (±10 %) whether the sandbox never starts, the create request hangs or a
//! poll hangs, with the client's 60 s request timeout left as it is; the
//! client's wait timeout is the default deadline; and only
//! `WAIT_FOREVER`, asked for explicitly, waits without limit.
//!
//! (`tests/create.rs` times the default poll schedule against a sandbox
//! that never starts; these add the hung requests and the defaults.)

mod common;
mod fault_server;

use std::time::{Duration, Instant};

use common::{api_mock, fast_poll, fast_retries, on_time, sandbox_json, toolbox_sandbox, KEY};
use daytona::toolbox::{TransferOptions, Upload};
use daytona::{CreateSandbox, Daytona, DaytonaConfig, Error, WAIT_FOREVER};
use fault_server::{Action, FaultServer};

const DEADLINE: Duration = Duration::from_millis(1500);

fn client(server: &FaultServer) -> DaytonaConfig {
    DaytonaConfig::new()
        .read_env(false)
        .api_key(KEY)
        .api_url(format!("{}/api", server.url))
        .retry_policy(fast_retries())
        .poll_schedule(fast_poll())
}

/// Runs `f`, which must time out at `deadline` ±10 %.
fn at_the_deadline<T: std::fmt::Debug>(
    deadline: Duration,
    f: impl FnOnce() -> Result<T, Error>,
) -> Error {
    let started = Instant::now();
    let e = f().unwrap_err();
    let took = started.elapsed();
    assert!(e.is_timeout(), "{e:?}");
    // Early is a bug; late by a scheduling hiccup on a loaded machine is
    // not (without the deadline these calls would run for a minute).
    assert!(
        on_time(took, deadline),
        "took {took:?}, deadline {deadline:?}: {e}"
    );
    e
}

#[test]
fn a_create_request_that_hangs_ends_at_the_deadline() {
    let server = FaultServer::start(|_| Action::Silent);
    let daytona = Daytona::new(client(&server)).unwrap();
    let e = at_the_deadline(DEADLINE, || {
        daytona.create(CreateSandbox::new().timeout(DEADLINE))
    });
    // Never sent twice, and no sandbox known.
    assert_eq!(server.count("POST", "/api/sandbox"), 1);
    assert_eq!(e.sandbox_id(), None);
}

#[test]
fn a_poll_that_hangs_ends_the_create_at_the_deadline() {
    let server = FaultServer::start(|seen| match seen.route().as_str() {
        "POST /api/sandbox" => Action::json(200, &sandbox_json("sb-1", "creating")),
        // The first poll says "starting", the next ones never answer.
        _ if seen.nth == 0 => Action::json(200, &sandbox_json("sb-1", "starting")),
        _ => Action::Silent,
    });
    let daytona = Daytona::new(client(&server)).unwrap();
    let e = at_the_deadline(DEADLINE, || {
        daytona.create(CreateSandbox::new().timeout(DEADLINE))
    });
    assert_eq!(e.sandbox_id(), Some("sb-1"));
    assert!(matches!(e, Error::AfterCreate { .. }), "{e:?}");
}

#[test]
fn the_client_wait_timeout_is_the_default_deadline() {
    let server = FaultServer::start(|seen| match seen.route().as_str() {
        "POST /api/sandbox" => Action::json(200, &sandbox_json("sb-1", "creating")),
        "POST /api/sandbox/sb-1/start" => Action::json(200, &sandbox_json("sb-1", "starting")),
        _ => Action::json(200, &sandbox_json("sb-1", "starting")),
    });
    let daytona = Daytona::new(client(&server).wait_timeout(DEADLINE)).unwrap();
    let e = at_the_deadline(DEADLINE, || daytona.create(CreateSandbox::new()));
    assert_eq!(e.sandbox_id(), Some("sb-1"));
    let mut sb = daytona.get("sb-1").unwrap();
    at_the_deadline(DEADLINE, || sb.start());
    at_the_deadline(DEADLINE, || sb.wait_until_started(DEADLINE));
}

#[test]
fn only_wait_forever_waits_without_limit() {
    // WAIT_FOREVER is accepted everywhere a limit is (no overflow), and a
    // wait without limit still ends when the sandbox starts.
    let server = FaultServer::start(|seen| match seen.route().as_str() {
        "POST /api/sandbox" => Action::json(200, &sandbox_json("sb-1", "creating")),
        _ if seen.nth < 20 => Action::json(200, &sandbox_json("sb-1", "starting")),
        _ => Action::json(200, &sandbox_json("sb-1", "started")),
    });
    let daytona = Daytona::new(client(&server).wait_timeout(WAIT_FOREVER)).unwrap();
    let sb = daytona
        .create(CreateSandbox::new().timeout(WAIT_FOREVER))
        .unwrap();
    assert_eq!(sb.id(), "sb-1");
    assert!(server.count("GET", "/api/sandbox/sb-1") > 20);
    let mut sb = daytona.get("sb-1").unwrap();
    sb.wait_until_started(WAIT_FOREVER).unwrap();
    // A zero limit is refused rather than taken for "no limit".
    let e = daytona
        .create(CreateSandbox::new().timeout(Duration::ZERO))
        .unwrap_err();
    assert!(e.is_validation(), "{e:?}");
    // And the defaults have limits: 60 s waits, 60 s requests.
    let shown = format!("{:?}", DaytonaConfig::new());
    assert!(shown.contains("wait_timeout: 60s"), "{shown}");
    assert!(shown.contains("request_timeout: 60s"), "{shown}");
}

/// The request timeout bounds each wait for the server: a silent server is
/// cut off after it; one that trickles a byte well within it each time is
/// cut off when the stage has lasted a quarter more.
#[test]
fn a_server_that_trickles_its_answer_is_cut_off_after_a_quarter_more() {
    let trickle = FaultServer::start(|_| {
        Action::Take(fault_server::Take(std::sync::Arc::new(|mut conn| {
            use std::io::Write;
            let _ = conn.skip_head();
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                        Content-Length: 4000\r\n\r\n{";
            if conn.write_all(head.as_bytes()).is_err() {
                return;
            }
            for _ in 0..40 {
                std::thread::sleep(Duration::from_millis(150));
                if conn.write_all(b" ").is_err() {
                    return;
                }
            }
        })))
    });
    let silent = FaultServer::start(|_| Action::Silent);
    // One attempt with a 1.2 s request timeout: how long until the error.
    let get = |server: &FaultServer| {
        let daytona = Daytona::new(
            client(server)
                .request_timeout(Duration::from_millis(1200))
                .retry_policy(daytona::RetryPolicy::new().max_attempts(1)),
        )
        .unwrap();
        let started = Instant::now();
        let e = daytona.get("sb-1").unwrap_err();
        assert!(e.is_timeout(), "{e:?}");
        started.elapsed()
    };
    // 1.5 s for the stage (a quarter more than 1.2 s), not the 6 s the
    // trickle would last.
    let took = get(&trickle);
    assert!(
        took >= Duration::from_millis(1350) && took < Duration::from_millis(3000),
        "took {took:?}"
    );
    let took = get(&silent);
    assert!(
        took >= Duration::from_millis(1100) && took < Duration::from_millis(1450),
        "a silent server is cut off after the timeout itself: took {took:?}"
    );
}

#[test]
fn wait_forever_is_accepted_as_a_request_and_transfer_limit() {
    // Each limit is added to the current time below the crate: one too
    // large to add is cut to about 136 years rather than overflowing.
    let mut server = mockito::Server::new();
    let daytona = Daytona::new(
        DaytonaConfig::new()
            .read_env(false)
            .api_key(KEY)
            .api_url(format!("{}/api", server.url()))
            .connect_timeout(WAIT_FOREVER)
            .request_timeout(WAIT_FOREVER)
            .transfer_timeout(WAIT_FOREVER),
    )
    .unwrap();
    let sb = toolbox_sandbox(&mut server, &daytona);
    let upload = api_mock(&mut server, "POST", "/toolbox/sb-1/files/bulk-upload")
        .with_status(200)
        .expect(2)
        .create();
    sb.fs().upload_bytes(b"x", "/tmp/x").unwrap();
    sb.fs()
        .upload_files(
            [Upload::bytes(&b"y"[..], "/tmp/y")],
            TransferOptions::new().timeout(Duration::MAX),
        )
        .unwrap();
    upload.assert();
}

/// A deadline holds across redirects: each hop gets only the time left,
/// so an API that redirects slowly (within its origin, which the crate
/// follows up to ten times) cannot stretch a wait to ten hops' time.
#[test]
fn a_chain_of_slow_redirects_ends_at_the_deadline() {
    let server = FaultServer::start(|seen| match seen.route().as_str() {
        "GET /api/sandbox/sb-1" if seen.nth == 0 => {
            Action::json(200, &sandbox_json("sb-1", "starting"))
        }
        _ => {
            std::thread::sleep(Duration::from_millis(400));
            Action::status(302).header("Location", "/api/sandbox/sb-1")
        }
    });
    let daytona = Daytona::new(client(&server)).unwrap();
    let mut sb = daytona.get("sb-1").unwrap();
    at_the_deadline(DEADLINE, || sb.wait_until_started(DEADLINE));
}
