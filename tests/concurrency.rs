//! One client shared by 16 threads doing mixed operations for a few
//! seconds against a local keep-alive server: every call succeeds, no
//! more TCP connections are opened than there are threads (connections
//! are reused), nothing deadlocks; and the same when the server answers
//! 429 to a third of the requests.

mod common;
mod fault_server;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{sandbox_json, KEY};
use daytona::toolbox::{Download, TransferOptions};
use daytona::{Daytona, DaytonaConfig, ListSandboxes, RetryPolicy, Sandbox};
use fault_server::{Action, FaultServer, Seen};
use serde_json::json;

const THREADS: usize = 16;

/// How long the threads keep calling.
const RUN: Duration = Duration::from_secs(3);

/// The longest the whole run may take before it counts as a deadlock.
const WATCHDOG: Duration = Duration::from_secs(30);

const BOUNDARY: &str = "CONC";

fn answer(seen: &Seen, base: &str) -> Action {
    let sandbox = || {
        let mut b = sandbox_json("sb-1", "started");
        b["toolboxProxyUrl"] = json!(format!("{base}/toolbox"));
        b
    };
    match seen.route().as_str() {
        "GET /api/sandbox/sb-1" => Action::json(200, &sandbox()),
        "GET /api/sandbox" => Action::json(200, &json!({ "items": [sandbox(), sandbox()] })),
        "POST /toolbox/sb-1/process/execute" => {
            Action::json(200, &json!({ "exitCode": 0, "result": "ok" }))
        }
        "GET /toolbox/sb-1/files" => Action::json(200, &json!([{ "name": "a" }])),
        "POST /toolbox/sb-1/files/bulk-upload" => Action::status(200),
        "POST /toolbox/sb-1/files/bulk-download" => Action::body(
            200,
            &format!("multipart/form-data; boundary={BOUNDARY}"),
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; \
                 filename=\"/f\"\r\n\r\ncontents\r\n--{BOUNDARY}--\r\n"
            ),
        ),
        "PUT /api/sandbox/sb-1/labels" => Action::json(200, &json!({ "labels": {"a": "1"} })),
        other => panic!("unexpected request {other}"),
    }
}

/// One call of the mix, chosen by `i`.
fn call(i: usize, daytona: &Daytona, sandbox: &Sandbox) {
    match i % 7 {
        0 => assert_eq!(daytona.get("sb-1").unwrap().id(), "sb-1"),
        1 => {
            let all: Vec<_> = daytona
                .list(ListSandboxes::new())
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(all.len(), 2);
        }
        2 => assert_eq!(sandbox.process().exec("true").unwrap().result, "ok"),
        3 => assert_eq!(sandbox.fs().list_files("/").unwrap().len(), 1),
        4 => sandbox.fs().upload_bytes(b"data", "/f").unwrap(),
        5 => {
            let got = sandbox
                .fs()
                .download(Download::to_bytes("/f"), TransferOptions::new())
                .unwrap();
            assert_eq!(got.size(), 8);
        }
        _ => {
            let mut sb = sandbox.clone();
            let labels = sb
                .set_labels([("a".to_string(), "1".to_string())].into())
                .unwrap();
            assert_eq!(labels.len(), 1);
        }
    }
}

/// Runs the mix on 16 threads sharing one client; returns the calls made
/// and the connections the server accepted.
fn run(throttle: bool) -> (usize, usize, usize) {
    let base: Arc<Mutex<String>> = Arc::default();
    let me = base.clone();
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = requests.clone();
    let throttled = Arc::new(AtomicUsize::new(0));
    let limited = throttled.clone();
    let server = FaultServer::start(move |seen| {
        let n = counted.fetch_add(1, Ordering::SeqCst);
        // A streamed upload can never be sent twice: the throttled third
        // is taken from the other requests.
        if throttle && n % 3 == 2 && !seen.path().ends_with("bulk-upload") {
            limited.fetch_add(1, Ordering::SeqCst);
            return Action::json(
                429,
                &json!({ "statusCode": 429, "message": "ThrottlerException: Too Many Requests" }),
            );
        }
        answer(seen, &me.lock().unwrap())
    });
    *base.lock().unwrap() = server.url.clone();
    let mut policy = RetryPolicy::default();
    // Enough attempts that a call throttled again and again still gets
    // through (a third each time: 20 in a row is about 3e-10), short
    // backoffs to keep the run quick.
    policy = policy.max_attempts(20);
    policy = policy.initial_backoff(Duration::from_millis(1));
    policy = policy.max_backoff(Duration::from_millis(4));
    let daytona = Daytona::new(
        DaytonaConfig::new()
            .read_env(false)
            .api_key(KEY)
            .api_url(format!("{}/api", server.url))
            .retry_policy(policy),
    )
    .unwrap();
    let sandbox = daytona.get("sb-1").unwrap();

    let (done_tx, done_rx) = mpsc::channel();
    let calls = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    for t in 0..THREADS {
        let daytona = daytona.clone();
        let sandbox = sandbox.clone();
        let calls = calls.clone();
        let done = done_tx.clone();
        thread::spawn(move || {
            let mut i = t;
            while started.elapsed() < RUN {
                call(i, &daytona, &sandbox);
                calls.fetch_add(1, Ordering::SeqCst);
                i += 1;
            }
            done.send(()).unwrap();
        });
    }
    drop(done_tx);
    for _ in 0..THREADS {
        // A worker that panicked drops its sender: recv fails.
        done_rx
            .recv_timeout(WATCHDOG)
            .expect("every thread ends in time (no deadlock, no panic)");
    }
    let took = started.elapsed();
    assert!(took < RUN + Duration::from_secs(5), "{took:?}");
    (
        calls.load(Ordering::SeqCst),
        server.connections(),
        throttled.load(Ordering::SeqCst),
    )
}

#[test]
fn sixteen_threads_share_one_client_and_its_connections() {
    let (calls, connections, _) = run(false);
    eprintln!("{calls} calls on {connections} connections");
    assert!(calls > THREADS * 10, "{calls} calls");
    assert!(
        (1..=THREADS).contains(&connections),
        "{connections} connections for {THREADS} threads"
    );
}

#[test]
fn sixteen_threads_ride_out_a_third_of_429s() {
    let (calls, connections, throttled) = run(true);
    eprintln!("{calls} calls on {connections} connections, {throttled} answered 429");
    assert!(calls > THREADS * 10, "{calls} calls");
    assert!(throttled > calls / 5, "{throttled} throttled of {calls}");
    assert!(
        (1..=THREADS).contains(&connections),
        "{connections} connections for {THREADS} threads"
    );
}
