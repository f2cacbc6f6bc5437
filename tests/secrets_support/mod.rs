//! Helpers of the secrets tests (`secrets.rs` the logs, `secret_errors.rs`
//! `Debug` and errors, `secret_echoes.rs` what echoing servers send back,
//! `secret_hosts.rs` where the credentials go): their credentials, clients
//! in API-key and JWT mode, a logger that keeps every record at trace
//! level, and the checks that no record and no error shows a secret.
//!
//! Every test of those files that sends a credential installs the logger
//! with [`capture_logs`] first and ends with [`assert_logs_hide`]: the
//! records it checks are the whole binary's, so its own are always among
//! them (those of the threads the client starts included), whichever
//! tests ran before or beside it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Mutex, Once};
use std::thread::ThreadId;

use daytona::{Daytona, DaytonaConfig, Error};
use serde_json::json;

use crate::common::{fast_poll, fast_retries, sandbox_json};
use crate::fault_server::FaultServer;

/// Credentials of these tests: long enough to span several rows of a hex
/// dump, and unlike anything else in the traffic.
pub const API_KEY: &str = "dtn_secret-api-key-0123456789abcdefZQX";
pub const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZWNyZXQifQ.c2VjcmV0LXNpZ25hdHVyZQ";
pub const ORG: &str = "org-secret-test";
/// Both credentials, for the checks of a test that sends either.
pub const CREDENTIALS: [&str; 2] = [API_KEY, JWT];

// ---------------------------------------------------------------------------
// a logger that keeps everything, at trace level

struct Record {
    thread: ThreadId,
    level: log::Level,
    target: String,
    text: String,
}

struct Capture;

static RECORDS: Mutex<Vec<Record>> = Mutex::new(Vec::new());

/// The records of threads that talk to a hostile server, which ureq's own
/// debug records may show echoing the key: kept apart from [`RECORDS`],
/// which [`assert_logs_hide`] checks whole.
static HOSTILE_RECORDS: Mutex<Vec<Record>> = Mutex::new(Vec::new());

thread_local! {
    static HOSTILE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let entry = Record {
            thread: std::thread::current().id(),
            level: record.level(),
            target: record.target().to_string(),
            text: record.args().to_string(),
        };
        let records = if HOSTILE.with(|h| h.get()) {
            &HOSTILE_RECORDS
        } else {
            &RECORDS
        };
        records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(entry);
    }

    fn flush(&self) {}
}

/// Installs the capturing logger (once per test binary) at trace level.
pub fn capture_logs() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        log::set_logger(&Capture).expect("no other logger");
        log::set_max_level(log::LevelFilter::Trace);
    });
}

/// Whether a record was written by the mock servers of the tests (which
/// print the requests they receive), not by the client side.
fn server_side(target: &str) -> bool {
    ["mockito", "hyper", "tokio"]
        .iter()
        .any(|p| target.starts_with(p))
}

/// The bytes of a hex-dump row of `ureq_proto` (`4745 5420 2f61 ... GET./a`),
/// or `None` for any other text.
fn hex_row(text: &str) -> Option<Vec<u8>> {
    let (hex, _) = text.split_at_checked(40)?;
    let mut bytes = Vec::new();
    for group in hex.split(' ').filter(|g| !g.is_empty()) {
        for pair in group.as_bytes().chunks(2) {
            if pair == b"--" {
                continue;
            }
            let pair = std::str::from_utf8(pair).ok()?;
            bytes.push(u8::from_str_radix(pair, 16).ok()?);
        }
    }
    Some(bytes)
}

/// Runs `f` on a thread whose records go to [`HOSTILE_RECORDS`], and
/// returns the crate's own records of that thread.
pub fn own_logs_while_hostile(f: impl FnOnce() + Send + 'static) -> String {
    capture_logs();
    let thread = std::thread::spawn(move || {
        HOSTILE.with(|h| h.set(true));
        f();
        std::thread::current().id()
    })
    .join()
    .unwrap();
    HOSTILE_RECORDS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|r| r.thread == thread && own(&r.target))
        .map(|r| format!("[{}] {}\n", r.target, r.text))
        .collect()
}

/// The libraries whose `trace` output shows request heads, credentials
/// included (the README's "Logging" section names them).
const TRACE_TARGETS: [&str; 4] = ["ureq", "ureq_proto", "tungstenite", "rustls"];

/// The crate's own log targets.
fn own(target: &str) -> bool {
    target == "daytona" || target.starts_with("daytona::")
}

/// Asserts that no client-side record of the binary so far shows any of
/// `secrets`, in plain text or spread over consecutive rows of a hex dump
/// (reassembled per thread), except the trace records of
/// [`TRACE_TARGETS`]: the crate's own records at every level, and every
/// library's at debug level and above. Returns the client-side text of
/// the checked records, and the libraries' trace records (hex dumps
/// reassembled).
///
/// Call [`capture_logs`] before the traffic: records written before the
/// logger is installed are lost.
pub fn assert_logs_hide(secrets: &[&str]) -> (String, String) {
    let records = RECORDS.lock().unwrap_or_else(|e| e.into_inner());
    let mut checked = String::new();
    let mut dumps: HashMap<ThreadId, Vec<u8>> = HashMap::new();
    let mut trace_dumps: HashMap<ThreadId, Vec<u8>> = HashMap::new();
    let mut trace_text = String::new();
    for r in records.iter().filter(|r| !server_side(&r.target)) {
        let library_trace = !own(&r.target) && r.level == log::Level::Trace;
        if library_trace {
            let crate_name = r.target.split("::").next().unwrap_or_default();
            assert!(
                TRACE_TARGETS.contains(&crate_name),
                "[{}] logs at trace level: add it to the README's list if it can show headers",
                r.target
            );
            match hex_row(&r.text) {
                Some(bytes) => trace_dumps.entry(r.thread).or_default().extend(bytes),
                None => trace_text.push_str(&format!("[{}] {}\n", r.target, r.text)),
            }
            continue;
        }
        for secret in secrets {
            assert!(
                !r.text.contains(secret),
                "[{}] {} logs the secret: {}",
                r.target,
                r.level,
                r.text
            );
        }
        if let Some(bytes) = hex_row(&r.text) {
            dumps.entry(r.thread).or_default().extend(bytes);
        }
        checked.push_str(&format!("[{}] {}\n", r.target, r.text));
    }
    for bytes in dumps.values() {
        let text = String::from_utf8_lossy(bytes);
        for secret in secrets {
            assert!(
                !text.contains(secret),
                "a hex dump of the traffic shows the secret: {text}"
            );
        }
    }
    let traced: String = trace_dumps
        .values()
        .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
        .collect();
    (checked, traced + &trace_text)
}

/// Asserts that neither `Display` nor `Debug` of `e` (nor of its sources)
/// shows the credentials.
pub fn assert_hides(e: &Error) {
    let mut shown = format!("{e}\n{e:?}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        shown.push_str(&format!("\n{s}\n{s:?}"));
        source = s.source();
    }
    for secret in [API_KEY, JWT, &API_KEY[..16], &JWT[..16]] {
        assert!(!shown.contains(secret), "the error shows a secret: {shown}");
    }
}

// ---------------------------------------------------------------------------
// clients

pub fn key_config(api: &str) -> DaytonaConfig {
    DaytonaConfig::new()
        .read_env(false)
        .api_key(API_KEY)
        .api_url(format!("{api}/api"))
        .retry_policy(fast_retries())
        .poll_schedule(fast_poll())
}

pub fn jwt_config(api: &str) -> DaytonaConfig {
    DaytonaConfig::new()
        .read_env(false)
        .jwt_token(JWT)
        .organization_id(ORG)
        .api_url(format!("{api}/api"))
        .retry_policy(fast_retries())
        .poll_schedule(fast_poll())
}

/// A sandbox (and the API that made it) whose toolbox is `toolbox`.
pub fn sandbox_on(
    config: &dyn Fn(&str) -> DaytonaConfig,
    toolbox: &FaultServer,
) -> (mockito::ServerGuard, daytona::Sandbox) {
    let mut api = mockito::Server::new();
    let mut body = sandbox_json("sb-1", "started");
    body["toolboxProxyUrl"] = json!(format!("{}/toolbox", toolbox.url));
    api.mock("GET", "/api/sandbox/sb-1")
        .with_body(body.to_string())
        .create();
    let sandbox = Daytona::new(config(&api.url()))
        .unwrap()
        .get("sb-1")
        .unwrap();
    (api, sandbox)
}
