//! The API key and the JWT stay secret: not in `Debug` of the client or
//! its configuration, not in any error, not in the log output of a whole
//! lifecycle captured at trace level (the SDK's own at every level, its
//! HTTP, WebSocket and TLS libraries' at debug level and above), and
//! `Authorization` goes to no host but the API and the sandbox's toolbox:
//! not to the object store, not to a preview URL, not to the target of a
//! redirect.
//!
//! At trace level ureq (`ureq_proto`) dumps request heads and tungstenite
//! prints the upgrade request, `Authorization` included: the README says
//! so, and these tests check that it is still true.

mod common;
mod fault_server;
mod temp;

use std::collections::HashMap;
use std::sync::{Mutex, Once};
use std::thread::ThreadId;
use std::time::Duration;

use common::*;
use daytona::toolbox::{Download, TransferOptions};
use daytona::{CreateSandbox, Daytona, DaytonaConfig, Error};
use fault_server::{refused_url, Action, FaultServer};
use mockito::{Matcher, Server};
use serde_json::json;

/// Credentials of these tests: long enough to span several rows of a hex
/// dump, and unlike anything else in the traffic.
const API_KEY: &str = "dtn_secret-api-key-0123456789abcdefZQX";
const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZWNyZXQifQ.c2VjcmV0LXNpZ25hdHVyZQ";
const ORG: &str = "org-secret-test";

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
/// which the other tests check whole.
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
fn capture_logs() {
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
fn own_logs_while_hostile(f: impl FnOnce() + Send + 'static) -> String {
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

/// Asserts that no client-side record shows `secret`, in plain text or
/// spread over consecutive rows of a hex dump (reassembled per thread),
/// except the trace records of [`TRACE_TARGETS`]: the crate's own records
/// at every level, and every library's at debug level and above. Returns
/// the client-side text of the checked records, and the libraries' trace
/// records (hex dumps reassembled).
fn assert_logs_hide(secret: &str) -> (String, String) {
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
        assert!(
            !r.text.contains(secret),
            "[{}] {} logs the secret: {}",
            r.target,
            r.level,
            r.text
        );
        if let Some(bytes) = hex_row(&r.text) {
            dumps.entry(r.thread).or_default().extend(bytes);
        }
        checked.push_str(&format!("[{}] {}\n", r.target, r.text));
    }
    for bytes in dumps.values() {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.contains(secret),
            "a hex dump of the traffic shows the secret: {text}"
        );
    }
    let traced: String = trace_dumps
        .values()
        .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
        .collect();
    (checked, traced + &trace_text)
}

/// Asserts that neither `Display` nor `Debug` of `e` (nor of its sources)
/// shows the credentials.
fn assert_hides(e: &Error) {
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

fn key_config(api: &str) -> DaytonaConfig {
    DaytonaConfig::new()
        .read_env(false)
        .api_key(API_KEY)
        .api_url(format!("{api}/api"))
        .retry_policy(fast_retries())
        .poll_schedule(fast_poll())
}

fn jwt_config(api: &str) -> DaytonaConfig {
    DaytonaConfig::new()
        .read_env(false)
        .jwt_token(JWT)
        .organization_id(ORG)
        .api_url(format!("{api}/api"))
        .retry_policy(fast_retries())
        .poll_schedule(fast_poll())
}

// ---------------------------------------------------------------------------
// logs

/// A whole lifecycle, in API-key or JWT mode, against mockito (the WebSocket
/// of followed logs against the fault server): create, exec, upload,
/// download, follow a log, delete. Every request carried the credential,
/// and no log line shows it.
fn lifecycle(config: impl Fn(&str) -> DaytonaConfig, secret: &str) {
    capture_logs();
    let mut server = Server::new();
    let ws = FaultServer::start(|seen| {
        assert!(seen.path().ends_with("/logs"), "{}", seen.target);
        Action::WebSocket(vec![
            fault_server::Ws::Text(b"\x01\x01\x01hello\n".to_vec()),
            fault_server::Ws::Close(1000, String::new()),
        ])
    });
    let bearer = format!("Bearer {secret}");
    let auth = || Matcher::Exact(bearer.clone());
    let mut body = sandbox_json("sb-1", "creating");
    body["toolboxProxyUrl"] = json!(format!("{}/toolbox", server.url()));
    let create = server
        .mock("POST", "/api/sandbox")
        .match_header("authorization", auth())
        .with_body(body.to_string())
        .expect(1)
        .create();
    body["state"] = json!("started");
    let poll = server
        .mock("GET", "/api/sandbox/sb-1")
        .match_header("authorization", auth())
        .with_body(body.to_string())
        .expect_at_least(1)
        .create();
    let exec = server
        .mock("POST", "/toolbox/sb-1/process/execute")
        .match_header("authorization", auth())
        .with_body(r#"{"exitCode":0,"result":"hi\n"}"#)
        .expect(1)
        .create();
    let upload = server
        .mock("POST", "/toolbox/sb-1/files/bulk-upload")
        .match_header("authorization", auth())
        .expect(1)
        .create();
    let download = server
        .mock("POST", "/toolbox/sb-1/files/bulk-download")
        .match_header("authorization", auth())
        .with_header("content-type", "multipart/form-data; boundary=B")
        .with_body(
            "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"/f\"\r\n\r\nhi\r\n--B--\r\n",
        )
        .expect(1)
        .create();
    let delete = server
        .mock("DELETE", "/api/sandbox/sb-1")
        .match_header("authorization", auth())
        .with_body(sandbox_json("sb-1", "destroyed").to_string())
        .expect(1)
        .create();

    let daytona = Daytona::new(config(&server.url())).unwrap();
    let mut sandbox = daytona.create(CreateSandbox::new()).unwrap();
    assert_eq!(sandbox.process().exec("echo hi").unwrap().result, "hi\n");
    sandbox.fs().upload_bytes(b"hi", "/f").unwrap();
    let got = sandbox
        .fs()
        .download(Download::to_bytes("/f"), TransferOptions::new())
        .unwrap();
    assert_eq!(got.size(), 2);
    follow_logs(&config, &ws.url);
    sandbox.delete().unwrap();
    for m in [create, poll, exec, upload, download, delete] {
        m.assert();
    }

    let (logged, traced) = assert_logs_hide(secret);
    // The capture works: the crate logged its requests, and ureq's trace
    // output holds the request heads, credential included, as the README
    // warns.
    assert!(
        logged.contains("[daytona::transport::run] POST /api/sandbox -> 200"),
        "{logged}"
    );
    assert!(traced.contains("POST /api/sandbox HTTP/1.1"), "{traced}");
    assert!(
        traced.contains(&format!("authorization: Bearer {secret}\r\n")),
        "the README says ureq's trace output shows the credential: {traced}"
    );
    #[cfg(feature = "websocket")]
    assert!(
        traced.contains("[tungstenite::handshake::client] Request")
            && traced.contains("Sec-WebSocket-Key")
            && traced.contains(secret),
        "the README says tungstenite's trace output shows the credential: {traced}"
    );
}

#[cfg(feature = "websocket")]
fn follow_logs(config: &dyn Fn(&str) -> DaytonaConfig, toolbox: &str) {
    use daytona::toolbox::FollowOptions;
    let mut api = Server::new();
    let mut body = sandbox_json("sb-1", "started");
    body["toolboxProxyUrl"] = json!(format!("{toolbox}/toolbox"));
    let _get = api
        .mock("GET", "/api/sandbox/sb-1")
        .with_body(body.to_string())
        .create();
    let sandbox = Daytona::new(config(&api.url()))
        .unwrap()
        .get("sb-1")
        .unwrap();
    let mut text = String::new();
    sandbox
        .process()
        .follow_session_command_logs("s", "c", FollowOptions::new(), |c| text.push_str(c.text()))
        .unwrap();
    assert_eq!(text, "hello\n");
}

#[cfg(not(feature = "websocket"))]
fn follow_logs(_: &dyn Fn(&str) -> DaytonaConfig, _: &str) {}

#[test]
fn a_lifecycle_logged_at_trace_level_never_shows_the_api_key() {
    lifecycle(key_config, API_KEY);
}

#[test]
fn a_lifecycle_logged_at_trace_level_never_shows_the_jwt() {
    lifecycle(jwt_config, JWT);
}

// ---------------------------------------------------------------------------
// Debug and errors

#[test]
fn debug_of_the_client_its_config_and_handles_hides_the_credentials() {
    let server = Server::new();
    for config in [key_config(&server.url()), jwt_config(&server.url())] {
        let shown = format!("{config:?}");
        assert!(!shown.contains(API_KEY) && !shown.contains(JWT), "{shown}");
        let daytona = Daytona::new(config).unwrap();
        let shown = format!(
            "{daytona:?} {:?} {:?}",
            daytona.snapshots(),
            daytona.volumes()
        );
        assert!(!shown.contains(API_KEY) && !shown.contains(JWT), "{shown}");
        assert!(!shown.contains(&API_KEY[..12]) && !shown.contains(&JWT[..12]));
    }
}

/// `Debug` of every type holding a secret other than the credentials (SSH
/// and preview tokens, environment values, git passwords) hides it; the
/// value stays reachable through the field or accessor.
#[test]
fn debug_hides_tokens_environment_values_and_passwords() {
    use daytona::models::{PortPreviewUrl, SignedPortPreviewUrl, SshAccess};
    use daytona::toolbox::{CodeRunOptions, ExecOptions, GitCredentials};
    use daytona::SandboxInfo;
    const TOKEN: &str = "tok-9f8e7d6c5b4a";
    const VALUE: &str = "env-value-s3cr3t";
    let shows = |shown: String| {
        assert!(!shown.contains(TOKEN), "{shown}");
        assert!(!shown.contains(VALUE), "{shown}");
        assert!(!shown.contains(&TOKEN[..10]), "{shown}");
        shown
    };
    let ssh: SshAccess = serde_json::from_value(json!({
        "id": "a1", "sandboxId": "sb-1", "token": TOKEN,
        "expiresAt": "2026-12-07T00:00:00Z", "createdAt": "2026-12-07T00:00:00Z",
        "updatedAt": "2026-12-07T00:00:00Z", "sshCommand": format!("ssh {TOKEN}@ssh.example")
    }))
    .unwrap();
    let shown = shows(format!("{ssh:?}"));
    assert!(
        shown.contains("ssh <redacted>@ssh.example") && shown.contains("a1"),
        "{shown}"
    );
    assert_eq!(ssh.token, TOKEN);
    let preview: PortPreviewUrl = serde_json::from_value(json!({
        "sandboxId": "sb-1", "url": "https://3000-sb-1.proxy.example", "token": TOKEN
    }))
    .unwrap();
    let shown = shows(format!("{preview:?}"));
    assert!(shown.contains("https://3000-sb-1.proxy.example"), "{shown}");
    assert_eq!(preview.token, TOKEN);
    let signed: SignedPortPreviewUrl = serde_json::from_value(json!({
        "sandboxId": "sb-1", "port": 3000, "token": TOKEN,
        "url": format!("https://3000-{TOKEN}.proxy.example")
    }))
    .unwrap();
    let shown = shows(format!("{signed:?}"));
    assert!(
        shown.contains("https://3000-<redacted>.proxy.example"),
        "{shown}"
    );
    assert_eq!(signed.token, TOKEN);

    let mut body = sandbox_json("sb-1", "started");
    body["env"] = json!({ "API_TOKEN": VALUE, "MODE": "prod" });
    let info: SandboxInfo = serde_json::from_value(body.clone()).unwrap();
    let shown = shows(format!("{info:?}"));
    assert!(shown.contains("\"API_TOKEN\": \"<redacted>\""), "{shown}");
    assert!(shown.contains("\"MODE\": \"<redacted>\""), "{shown}");
    assert!(shown.contains("id: \"sb-1\""), "{shown}");
    assert_eq!(info.env["API_TOKEN"], VALUE);
    let mut server = Server::new();
    let _get = server
        .mock("GET", "/api/sandbox/sb-1")
        .with_body(body.to_string())
        .create();
    let sandbox = Daytona::new(key_config(&server.url()))
        .unwrap()
        .get("sb-1")
        .unwrap();
    shows(format!("{sandbox:?}"));
    assert_eq!(sandbox.info().env["API_TOKEN"], VALUE);

    let shown = shows(format!(
        "{:?}",
        CreateSandbox::new().env("API_TOKEN", VALUE).name("n")
    ));
    assert!(
        shown.contains("API_TOKEN") && shown.contains("\"n\""),
        "{shown}"
    );
    let shown = shows(format!(
        "{:?}",
        ExecOptions::new().env("API_TOKEN", VALUE).cwd("/w")
    ));
    assert!(
        shown.contains("API_TOKEN") && shown.contains("/w"),
        "{shown}"
    );
    let shown = shows(format!(
        "{:?}",
        CodeRunOptions::new().env("API_TOKEN", VALUE).arg("x")
    ));
    assert!(shown.contains("API_TOKEN"), "{shown}");
    shows(format!("{:?}", GitCredentials::new("me", VALUE)));
}

/// A package index's token stays out of `Debug` of the options and of the
/// image, and of the error quoting its URL; the Dockerfile keeps it.
#[cfg(feature = "images")]
#[test]
fn debug_hides_package_index_tokens() {
    const TOKEN: &str = "tok-9f8e7d6c5b4a";
    let shows = |shown: String| {
        assert!(!shown.contains(&TOKEN[..10]), "{shown}");
        shown
    };
    let index = format!("https://__token__:{TOKEN}@pkgs.example/simple");
    let options = daytona::PipInstallOptions::new()
        .index_url(&index)
        .extra_index_url(&index);
    let shown = shows(format!("{options:?}"));
    assert!(
        shown.contains("https://<redacted>@pkgs.example/simple"),
        "{shown}"
    );
    let image = daytona::Image::base("python:3.12")
        .pip_install_with(["numpy"], options)
        .unwrap();
    assert!(image.dockerfile().contains(TOKEN));
    let shown = shows(format!("{image:?}"));
    assert!(shown.contains("<redacted>@pkgs.example"), "{shown}");
    let broken = daytona::PipInstallOptions::new().index_url(format!("{index}\nRUN x"));
    let e = daytona::Image::base("python:3.12")
        .pip_install_with(["numpy"], broken)
        .unwrap_err();
    assert!(e.is_validation(), "{e:?}");
    shows(format!("{e}\n{e:?}"));
}

/// Every kind of error the SDK makes, in one credential mode, with a
/// server that echoes the credential wherever it can: messages, codes,
/// HTML pages, JSON that does not decode, per-file download errors,
/// WebSocket close reasons. Returns them for checking.
fn every_error(config: &dyn Fn(&str) -> DaytonaConfig, secret: &'static str) -> Vec<Error> {
    let echo = format!("Bearer {secret}");
    let mut server = Server::new();
    let mut errors = Vec::new();
    let daytona = Daytona::new(config(&server.url())).unwrap();

    // API errors: JSON with the credential in message and code, HTML page.
    let _a = server
        .mock("GET", "/api/sandbox/api")
        .with_status(401)
        .with_body(json!({ "message": format!("bad token {echo}"), "code": secret }).to_string())
        .create();
    let _h = server
        .mock("GET", "/api/sandbox/html")
        .with_status(502)
        .with_body(format!("<html><pre>Authorization: {echo}</pre></html>"))
        .create();
    // Decode errors: the credential in the excerpt, and in a value of the
    // wrong type.
    let _d = server
        .mock("GET", "/api/sandbox/decode")
        .with_body(format!("{{\"echo\": \"{echo}\", \"id\": "))
        .create();
    let _t = server
        .mock("GET", "/api/sandbox/typed")
        .with_body(json!({ "id": secret, "public": secret }).to_string())
        .create();
    for id in ["api", "html", "decode", "typed"] {
        errors.push(daytona.get(id).unwrap_err());
    }
    // Validation and configuration.
    errors.push(daytona.get("").unwrap_err());
    errors.push(Daytona::new(config("not a url")).unwrap_err());
    errors.push(Daytona::new(DaytonaConfig::new().read_env(false).jwt_token(secret)).unwrap_err());
    errors.push(
        Daytona::new(
            DaytonaConfig::new()
                .read_env(false)
                .api_key(format!("{secret}\n")),
        )
        .unwrap_err(),
    );
    // Transport: refused.
    errors.push(
        Daytona::new(config(&refused_url()).max_attempts(1))
            .unwrap()
            .get("x")
            .unwrap_err(),
    );
    // Sandbox failed, with the credential in its reason; and a create that
    // fails after the server accepted it.
    let mut failed = sandbox_json("sb-f", "error");
    failed["errorReason"] = json!(format!("could not pull with {echo}"));
    let _f = server
        .mock("GET", "/api/sandbox/sb-f")
        .with_body(failed.to_string())
        .create();
    let _c = server
        .mock("POST", "/api/sandbox")
        .with_body(sandbox_json("sb-f", "creating").to_string())
        .create();
    let mut sb = daytona.get("sb-f").unwrap();
    errors.push(sb.wait_until_started(Duration::from_secs(5)).unwrap_err());
    errors.push(daytona.create(CreateSandbox::new()).unwrap_err());
    // Timeout.
    let silent = FaultServer::start(|_| Action::Silent);
    errors.push(
        Daytona::new(
            config(&silent.url)
                .request_timeout(Duration::from_millis(100))
                .max_attempts(1),
        )
        .unwrap()
        .get("x")
        .unwrap_err(),
    );
    // Snapshot and volume failures with the credential in their reasons.
    let _s = server
        .mock("POST", "/api/snapshots")
        .with_body(
            json!({ "id": "s", "name": "s", "state": "error", "errorReason": echo }).to_string(),
        )
        .create();
    errors.push(
        daytona
            .snapshots()
            .create(daytona::CreateSnapshot::from_image("s", "python:3.12"))
            .unwrap_err(),
    );
    let _v = server
        .mock("GET", "/api/volumes/by-name/v")
        .with_body(
            json!({ "id": "v", "name": "v", "organizationId": "o", "state": "error",
                    "errorReason": echo })
            .to_string(),
        )
        .create();
    errors.push(
        daytona
            .volumes()
            .wait_until_ready_with_timeout("v", Duration::from_secs(5))
            .unwrap_err(),
    );
    // Toolbox: an I/O error, an API error, a per-file download error.
    let mut tb = sandbox_json("sb-1", "started");
    tb["toolboxProxyUrl"] = json!(format!("{}/toolbox", server.url()));
    let _g = server
        .mock("GET", "/api/sandbox/sb-1")
        .with_body(tb.to_string())
        .create();
    let _x = server
        .mock("POST", "/toolbox/sb-1/process/execute")
        .with_status(500)
        .with_body(json!({ "error": format!("exec failed: {echo}") }).to_string())
        .create();
    let _dl = server
        .mock("POST", "/toolbox/sb-1/files/bulk-download")
        .with_header("content-type", "multipart/form-data; boundary=B")
        .with_body(format!(
            "--B\r\nContent-Disposition: form-data; name=\"error\"; filename=\"/f\"\r\n\
             Content-Type: application/json\r\n\r\n\
             {{\"message\": \"not found: {echo}\", \"statusCode\": 404}}\r\n--B--\r\n"
        ))
        .create();
    let sb = daytona.get("sb-1").unwrap();
    errors.push(sb.process().exec("true").unwrap_err());
    errors.push(
        sb.fs()
            .upload_file("/no/such/local/file", "/f")
            .unwrap_err(),
    );
    errors.push(sb.fs().download_bytes("/f").unwrap_err());
    errors.extend(websocket_errors(config, &echo));
    errors
}

/// A refused upgrade echoing the credential, and a close frame whose
/// reason echoes it.
#[cfg(feature = "websocket")]
fn websocket_errors(config: &dyn Fn(&str) -> DaytonaConfig, echo: &str) -> Vec<Error> {
    use daytona::toolbox::FollowOptions;
    let refused_body = json!({ "message": format!("no: {echo}") }).to_string();
    let reason = format!("bye {echo}");
    let ws = FaultServer::start(move |seen| {
        if seen.path().contains("/refused/") {
            return Action::body(403, "application/json", refused_body.clone());
        }
        Action::WebSocket(vec![fault_server::Ws::Close(4000, reason.clone())])
    });
    let (_api, sandbox) = sandbox_on(config, &ws);
    let p = sandbox.process();
    vec![
        p.follow_session_command_logs("refused", "c", FollowOptions::new(), |_| {})
            .unwrap_err(),
        p.follow_session_command_logs("s", "c", FollowOptions::new(), |_| {})
            .unwrap_err(),
    ]
}

/// A sandbox (and the API that made it) whose toolbox is `toolbox`.
#[cfg(feature = "websocket")]
fn sandbox_on(
    config: &dyn Fn(&str) -> DaytonaConfig,
    toolbox: &FaultServer,
) -> (mockito::ServerGuard, daytona::Sandbox) {
    let mut api = Server::new();
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

#[cfg(not(feature = "websocket"))]
fn websocket_errors(_: &dyn Fn(&str) -> DaytonaConfig, _: &str) -> Vec<Error> {
    Vec::new()
}

fn check_every_error(config: &dyn Fn(&str) -> DaytonaConfig, secret: &'static str) {
    let errors = every_error(config, secret);
    let kinds: std::collections::BTreeSet<String> = errors
        .iter()
        .map(|e| {
            format!("{e:?}")
                .split([' ', '(', '{'])
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    for kind in [
        "Api",
        "Validation",
        "Config",
        "Timeout",
        "SandboxFailed",
        "SnapshotFailed",
        "VolumeFailed",
        "Transport",
        "Decode",
        "Io",
        "AfterCreate",
    ] {
        assert!(kinds.contains(kind), "no {kind} error made: {kinds:?}");
    }
    for e in &errors {
        assert_hides(e);
    }
}

#[test]
fn no_error_of_any_kind_shows_the_api_key() {
    check_every_error(&key_config, API_KEY);
}

#[test]
fn no_error_of_any_kind_shows_the_jwt() {
    check_every_error(&jwt_config, JWT);
}

// ---------------------------------------------------------------------------
// where `Authorization` goes

/// Asserts that no request `server` saw carried the credentials, in any
/// header.
fn assert_no_credentials(server: &FaultServer, what: &str) {
    for seen in server.seen() {
        for (name, value) in &seen.headers {
            assert!(
                !value.contains(API_KEY) && !value.contains(JWT) && !value.contains("Bearer"),
                "{what} was sent {name}: {value} ({})",
                seen.target
            );
        }
    }
}

/// A redirect (302 for a GET, 307 for a POST) from the API or the toolbox
/// to another host is not followed: that host gets no request at all (no
/// `Authorization`, no `X-Daytona-Organization-ID`), and the error names
/// the status and where the redirect pointed.
#[test]
fn a_redirect_to_another_host_never_carries_the_credentials() {
    for config in [key_config as fn(&str) -> DaytonaConfig, jwt_config] {
        let other = FaultServer::start(|seen| {
            let mut body = sandbox_json("sb-1", "started");
            body["toolboxProxyUrl"] = json!("http://127.0.0.1:9/toolbox");
            match seen.route().as_str() {
                "POST /toolbox/sb-1/process/execute" => {
                    Action::json(200, &json!({ "exitCode": 0, "result": "" }))
                }
                _ => Action::json(200, &body),
            }
        });
        let target = other.url.clone();
        let api = FaultServer::start(move |seen| {
            let status = if seen.method == "GET" { 302 } else { 307 };
            if seen.route() == "GET /api/sandbox/sb-1" && seen.query().is_none() {
                // The first get works, so that the toolbox is on this host.
                if seen.nth == 0 {
                    let mut body = sandbox_json("sb-1", "started");
                    let host = seen.header("host").unwrap();
                    body["toolboxProxyUrl"] = json!(format!("http://{host}/toolbox"));
                    return Action::json(200, &body);
                }
            }
            Action::status(status).header("Location", &format!("{target}{}", seen.target))
        });
        let daytona = Daytona::new(config(&api.url)).unwrap();
        let sandbox = daytona.get("sb-1").unwrap();
        #[allow(unused_mut)] // pushed to with `websocket`
        let mut errors = vec![
            daytona.get("sb-1").unwrap_err(),
            daytona
                .list(daytona::ListSandboxes::new())
                .next()
                .unwrap()
                .unwrap_err(),
            daytona
                .create(CreateSandbox::new().timeout(Duration::from_secs(2)))
                .unwrap_err(),
            sandbox.process().exec("true").unwrap_err(),
            sandbox.fs().upload_bytes(b"x", "/f").unwrap_err(),
        ];
        for e in &errors {
            let api_error = e.api().unwrap_or_else(|| panic!("{e:?}"));
            assert!(matches!(api_error.status, 302 | 307), "{e}");
            assert!(
                api_error
                    .message
                    .contains(&format!("redirect to {}/", other.url))
                    && api_error.message.contains("another origin"),
                "{e}"
            );
        }
        // A WebSocket upgrade follows no redirect either.
        #[cfg(feature = "websocket")]
        errors.push(
            sandbox
                .process()
                .follow_session_command_logs(
                    "s",
                    "c",
                    daytona::toolbox::FollowOptions::new(),
                    |_| {},
                )
                .unwrap_err(),
        );
        for e in &errors {
            assert!(e.to_string().contains(" 30"), "{e:?}");
            assert_hides(e);
        }
        assert_eq!(other.connections(), 0, "a redirect was followed");
        assert!(api.seen().len() >= 5);
        // The API host itself got the credentials on every request.
        for seen in api.seen() {
            // The event connection carries it in its protocol, never in a
            // header.
            let events = seen.path() == "/api/socket.io/";
            assert_eq!(
                seen.header("authorization").is_some(),
                !events,
                "{}",
                seen.target
            );
        }
        assert_no_credentials(&other, "the redirect target");
    }
}

/// A `GET /sandbox/{id}` redirected to another host, whose answer would
/// name a toolbox on itself: the redirect is not followed, so no answer
/// of that host is ever used and `exec` never sends the credentials
/// there.
#[test]
fn a_toolbox_named_by_another_origin_is_never_used() {
    for config in [key_config as fn(&str) -> DaytonaConfig, jwt_config] {
        let other = FaultServer::start(|seen| {
            let mut body = sandbox_json("sb-1", "started");
            let host = seen.header("host").unwrap();
            body["toolboxProxyUrl"] = json!(format!("http://{host}/toolbox"));
            match seen.route().as_str() {
                "GET /api/sandbox/sb-1" => Action::json(200, &body),
                _ => Action::json(200, &json!({ "exitCode": 0, "result": "" })),
            }
        });
        let target = other.url.clone();
        let api = FaultServer::start(move |seen| {
            Action::status(302).header("Location", &format!("{target}{}", seen.target))
        });
        let daytona = Daytona::new(config(&api.url)).unwrap();
        let e = daytona.get("sb-1").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "GET /api/sandbox/sb-1: HTTP 302: redirect to {}/api/sandbox/sb-1 \
                 not followed: another origin than the request's",
                other.url
            )
        );
        assert_eq!(api.count("GET", "/api/sandbox/sb-1"), 1);
        assert_eq!(other.connections(), 0);
    }
}

/// A redirect within the API's origin is followed with the credentials
/// and the organization (the same request, to the same host), up to ten
/// times; an eleventh is refused.
#[test]
fn a_redirect_within_the_origin_keeps_the_credentials() {
    let api = FaultServer::start(|seen| match seen.route().as_str() {
        "GET /api/sandbox/old" => Action::status(301).header("Location", "/api/sandbox/sb-1"),
        "GET /api/sandbox/sb-1" => Action::json(200, &sandbox_json("sb-1", "started")),
        "POST /api/sandbox" if seen.nth == 0 => {
            Action::status(307).header("Location", "/api/sandbox?again=1")
        }
        "POST /api/sandbox" => Action::json(200, &sandbox_json("sb-1", "started")),
        "GET /api/sandbox/loop" => Action::status(302).header("Location", "loop"),
        other => panic!("unexpected {other}"),
    });
    // Only the REST requests are counted.
    let daytona = Daytona::new(jwt_config(&api.url).events(false)).unwrap();
    assert_eq!(daytona.get("old").unwrap().id(), "sb-1");
    daytona.create(CreateSandbox::new()).unwrap();
    let posts: Vec<_> = api
        .seen()
        .into_iter()
        .filter(|s| s.method == "POST")
        .collect();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].body, posts[1].body, "307 sends the same body");
    assert_eq!(posts[1].query(), Some("again=1"));
    let e = daytona.get("loop").unwrap_err();
    assert!(
        e.to_string()
            .contains("not followed: more than 10 redirects"),
        "{e}"
    );
    assert_eq!(api.count("GET", "/api/sandbox/loop"), 11);
    for seen in api.seen() {
        assert_eq!(
            seen.header("authorization"),
            Some(format!("Bearer {JWT}").as_str()),
            "{}",
            seen.target
        );
        assert_eq!(
            seen.header("x-daytona-organization-id"),
            Some(ORG),
            "{}",
            seen.target
        );
    }
}

/// A redirect whose location carries the key (in its user information
/// and query, or unreadable with the key in it): neither the error nor
/// any log line of the crate shows it.
#[test]
fn a_location_carrying_the_key_is_never_logged() {
    capture_logs();
    let api = FaultServer::start(|seen| match seen.path() {
        "/api/sandbox/userinfo" => Action::status(302).header(
            "Location",
            &format!("http://{API_KEY}:{API_KEY}@127.0.0.1:9/x?key={API_KEY}"),
        ),
        "/api/sandbox/same" => {
            Action::status(302).header("Location", &format!("/api/sandbox/gone?key={API_KEY}"))
        }
        "/api/sandbox/gone" => Action::status(404),
        _ => Action::status(302).header("Location", &format!("http://[{API_KEY}/x")),
    });
    let url = api.url.clone();
    // The crate's own records (ureq's debug records show answer heads as
    // they came, which the README's "Logging" section says).
    let logged = own_logs_while_hostile(move || {
        let daytona = Daytona::new(key_config(&url)).unwrap();
        for id in ["userinfo", "same", "malformed"] {
            let e = daytona.get(id).unwrap_err();
            assert_hides(&e);
            assert!(!format!("{e:?}").contains("0123456789abcdef"), "{e:?}");
        }
    });
    assert!(!logged.contains(API_KEY), "{logged}");
    assert!(!logged.contains(&API_KEY[..12]), "{logged}");
    assert!(
        logged.contains("GET /api/sandbox/userinfo -> failed"),
        "{logged}"
    );
    assert!(
        logged.contains("GET /api/sandbox/same -> 302 redirected to /api/sandbox/gone"),
        "{logged}"
    );
}

/// A list item that does not decode (here the key, echoed as an item of a
/// session's commands) is skipped without being quoted in the crate's log.
#[test]
fn a_skipped_list_item_is_not_quoted_in_the_log() {
    capture_logs();
    let mut server = Server::new();
    let mut body = sandbox_json("sb-1", "started");
    body["toolboxProxyUrl"] = json!(format!("{}/toolbox", server.url()));
    let _get = server
        .mock("GET", "/api/sandbox/sb-1")
        .with_body(body.to_string())
        .create();
    let _session = server
        .mock("GET", "/toolbox/sb-1/process/session/s")
        .with_body(
            json!({ "sessionId": "s", "commands": [API_KEY, { "id": "c", "command": "ls" }] })
                .to_string(),
        )
        .create();
    let url = server.url();
    let logged = own_logs_while_hostile(move || {
        let sandbox = Daytona::new(key_config(&url)).unwrap().get("sb-1").unwrap();
        let session = sandbox.process().get_session("s").unwrap();
        assert_eq!(session.commands.len(), 1);
    });
    assert!(logged.contains("skipping a list item"), "{logged}");
    assert!(!logged.contains(&API_KEY[..12]), "{logged}");
}

/// A key too short to identify (`api`) is not searched for in texts: the
/// error keeps `GET /api/sandbox/x` as it is.
#[test]
fn a_short_key_does_not_mangle_messages() {
    let mut server = Server::new();
    let _m = server
        .mock("GET", "/api/sandbox/x")
        .match_header("authorization", "Bearer api")
        .with_status(401)
        .with_body(r#"{"message":"invalid api key"}"#)
        .create();
    let daytona = Daytona::new(
        DaytonaConfig::new()
            .read_env(false)
            .api_key("api")
            .api_url(format!("{}/api", server.url()))
            .retry_policy(fast_retries()),
    )
    .unwrap();
    let e = daytona.get("x").unwrap_err();
    assert_eq!(
        e.to_string(),
        "GET /api/sandbox/x: HTTP 401: invalid api key"
    );
}

/// Preview links are handed to the caller, never fetched: the preview
/// host sees nothing at all.
#[test]
fn preview_urls_are_never_sent_the_credentials() {
    let preview = FaultServer::start(|_| Action::status(200));
    let mut server = Server::new();
    let _get = server
        .mock("GET", "/api/sandbox/sb-1")
        .with_body(sandbox_json("sb-1", "started").to_string())
        .create();
    let url = format!("{}/preview", preview.url);
    let _link = server
        .mock("GET", "/api/sandbox/sb-1/ports/3000/preview-url")
        .with_body(json!({ "sandboxId": "sb-1", "url": url, "token": "preview-token" }).to_string())
        .create();
    let _signed = server
        .mock("GET", "/api/sandbox/sb-1/ports/3000/signed-preview-url")
        .with_body(
            json!({ "sandboxId": "sb-1", "port": 3000, "token": "t", "url": url }).to_string(),
        )
        .create();
    let sandbox = Daytona::new(key_config(&server.url()))
        .unwrap()
        .get("sb-1")
        .unwrap();
    assert_eq!(sandbox.preview_link(3000).unwrap().url, url);
    assert_eq!(sandbox.signed_preview_url(3000, None).unwrap().url, url);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(preview.connections(), 0);
}

/// An object store that holds nothing yet and takes every upload, and an
/// API that hands out access to it and creates a sandbox (its mocks
/// returned to keep them alive).
#[cfg(feature = "images")]
fn empty_store_and_api() -> (FaultServer, mockito::ServerGuard, Vec<mockito::Mock>) {
    let store = FaultServer::start(|seen| match seen.method.as_str() {
        "HEAD" => Action::status(404),
        _ => Action::status(200),
    });
    let mut api = Server::new();
    let access = push_access_to(&mut api, &store.url);
    let create = api
        .mock("POST", "/api/sandbox")
        .with_body(sandbox_json("sb-1", "started").to_string())
        .create();
    (store, api, vec![access, create])
}

/// The object store that build contexts go to gets its own signature,
/// never the API's credentials nor the SDK's headers.
#[cfg(feature = "images")]
#[test]
fn the_object_store_is_never_sent_the_credentials() {
    for config in [key_config as fn(&str) -> DaytonaConfig, jwt_config] {
        let (store, api, _mocks) = empty_store_and_api();
        let dir = temp::TempDir::new("secrets");
        let file = dir.file("app.py", b"print('hi')\n");
        let image = daytona::Image::base("python:3.12-slim")
            .add_local_file(&file, "/app/app.py")
            .unwrap();
        Daytona::new(config(&api.url()))
            .unwrap()
            .create(CreateSandbox::from_image(image))
            .unwrap();
        let routes: Vec<String> = store.seen().iter().map(|s| s.method.clone()).collect();
        assert_eq!(routes, ["HEAD", "PUT"]);
        for seen in store.seen() {
            let auth = seen.header("authorization").unwrap();
            assert!(auth.starts_with("AWS4-HMAC-SHA256 "), "{auth}");
        }
        assert_no_credentials(&store, "the object store");
        for seen in store.seen() {
            for (name, _) in &seen.headers {
                assert!(!name.starts_with("x-daytona-"), "the store was sent {name}");
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A build context with links out of it (to a file beside it, to
/// `/etc/passwd`, to `..`): the uploaded tar holds the links as links
/// (read back with the `tar` crate) and not a byte of what they point to.
#[cfg(all(feature = "images", unix))]
#[test]
fn a_context_uploads_its_links_never_what_they_point_to() {
    use std::os::unix::fs::symlink;

    let (store, api, _mocks) = empty_store_and_api();
    let dir = temp::TempDir::new("links-upload");
    dir.file("outside/secret.txt", b"TOP-SECRET");
    dir.file("ctx/app.py", b"print('hi')\n");
    symlink("../outside/secret.txt", dir.path("ctx/secret.txt")).unwrap();
    symlink("/etc/passwd", dir.path("ctx/passwd")).unwrap();
    symlink("..", dir.path("ctx/up")).unwrap();
    let image = daytona::Image::base("python:3.12-slim")
        .add_local_dir(dir.path("ctx"), "/app")
        .unwrap();
    Daytona::new(key_config(&api.url()))
        .unwrap()
        .create(CreateSandbox::from_image(image))
        .unwrap();
    let put = store
        .seen()
        .into_iter()
        .find(|s| s.method == "PUT")
        .expect("the context was uploaded");
    let passwd = std::fs::read("/etc/passwd").unwrap_or_default();
    assert!(fault_server::find(&put.body, b"TOP-SECRET").is_none());
    assert!(passwd.len() < 16 || fault_server::find(&put.body, &passwd[..16]).is_none());
    let mut archive = tar::Archive::new(put.body.as_slice());
    let mut seen = Vec::new();
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        let name = String::from_utf8(entry.path_bytes().into_owned()).unwrap();
        let kind = entry.header().entry_type().as_byte() as char;
        let link = entry
            .link_name_bytes()
            .map(|l| String::from_utf8(l.into_owned()).unwrap())
            .unwrap_or_default();
        seen.push(format!("{kind} {name} {link}").trim_end().to_string());
    }
    let ctx = dir.path("ctx").display().to_string();
    let root = ctx.trim_start_matches('/');
    assert_eq!(
        seen,
        [
            format!("5 {root}/"),
            format!("0 {root}/app.py"),
            format!("2 {root}/passwd /etc/passwd"),
            format!("2 {root}/secret.txt ../outside/secret.txt"),
            format!("2 {root}/up .."),
        ]
    );
    let _ = std::fs::remove_dir_all(&dir.root);
}

/// A client of the API on `server`, retrying fast.
fn echo_client(server: &Server) -> Daytona {
    Daytona::new(
        DaytonaConfig::new()
            .read_env(false)
            .api_key(KEY)
            .api_url(format!("{}/api", server.url()))
            .retry_policy(fast_retries()),
    )
    .unwrap()
}

/// An answer that echoes what it was sent (a framework's "Cannot GET
/// /path?query" page, a proxy quoting the body) never brings an SSH token
/// or a git password into an error: each request hides its own.
#[test]
fn echoed_ssh_tokens_and_git_passwords_stay_hidden() {
    const SSH_TOKEN: &str = "ssh-token-0123456789abcdef";
    const PASSWORD: &str = "git-password-0123456789abcdef";
    const URL_TOKEN: &str = "url-token-0123456789abcdef";
    let mut server = Server::new();
    let daytona = echo_client(&server);
    let mut sb = toolbox_sandbox(&mut server, &daytona);
    // Each answer quotes the request: its path and query, then its body.
    let echo = |req: &mockito::Request| {
        let body = String::from_utf8_lossy(req.body().unwrap_or(&Vec::new())).into_owned();
        json!({ "statusCode": 404, "message": format!("Cannot {} {}: {body}", req.method(), req.path_and_query()) })
            .to_string()
            .into_bytes()
    };
    let mocks = [
        ("GET", "/api/sandbox/ssh-access/validate"),
        ("DELETE", "/api/sandbox/sb-1/ssh-access"),
        ("POST", "/toolbox/sb-1/git/clone"),
        ("POST", "/toolbox/sb-1/git/pull"),
        ("POST", "/toolbox/sb-1/git/push"),
    ]
    .map(|(method, path)| {
        server
            .mock(method, path)
            .match_query(Matcher::Any)
            .with_status(404)
            .with_body_from_request(echo)
            .create()
    });
    let creds = daytona::toolbox::GitCredentials::new("me", PASSWORD);
    let url = format!("https://me:{URL_TOKEN}@git.example/r.git");
    let errors = [
        daytona.validate_ssh_access(SSH_TOKEN).unwrap_err(),
        sb.revoke_ssh_access(Some(SSH_TOKEN)).unwrap_err(),
        sb.git()
            .clone_repo(
                &url,
                "/w",
                daytona::toolbox::CloneOptions::new().credentials(creds.clone()),
            )
            .unwrap_err(),
        sb.git().pull("/w", Some(&creds)).unwrap_err(),
        sb.git().push("/w", Some(&creds)).unwrap_err(),
    ];
    for m in &mocks {
        m.assert();
    }
    for e in &errors {
        assert!(e.is_not_found(), "{e:?}");
        let shown = format!("{e}\n{e:?}");
        // The echo came back: only the secrets are gone from it.
        assert!(shown.contains("Cannot "), "{shown}");
        for secret in [SSH_TOKEN, PASSWORD, URL_TOKEN] {
            assert!(!shown.contains(secret), "the error shows {secret}: {shown}");
        }
    }
}

/// An answer that does not decode is quoted in the error with its keys but
/// not its values: a sandbox's environment, an SSH or a preview token never
/// reach the error.
#[test]
fn an_answer_that_does_not_decode_is_quoted_without_its_values() {
    const ENV_VALUE: &str = "env-value-0123456789abcdef";
    const SSH_TOKEN: &str = "ssh-token-0123456789abcdef";
    const PREVIEW_TOKEN: &str = "preview-token-0123456789abcdef";
    let mut server = Server::new();
    // In the spec's order, without `toolboxProxyUrl` (older servers).
    let sandbox = format!(
        r#"{{"id":"sb-1","organizationId":"org-1","name":"sb-1","user":"daytona","env":{{"DB_PASSWORD":"{ENV_VALUE}"}},"labels":{{}},"public":false,"target":"us","cpu":1,"gpu":0,"memory":1,"disk":3,"state":"started"}}"#
    );
    let get = with_sdk_headers(server.mock("GET", "/api/sandbox/sb-1"))
        .with_header("content-type", "application/json")
        .with_body(sandbox)
        .expect(1)
        .create();
    let daytona = client(&server);
    let mut errors = vec![daytona.get("sb-1").unwrap_err()];
    get.assert();
    get.remove();
    let _get = server
        .mock("GET", "/api/sandbox/sb-1")
        .with_body(sandbox_json("sb-1", "started").to_string())
        .create();
    let sb = daytona.get("sb-1").unwrap();
    // SshAccessDto without `sshCommand`, PortPreviewUrl without `url`.
    let ssh = with_sdk_headers(server.mock("POST", "/api/sandbox/sb-1/ssh-access"))
        .with_body(
            json!({"id": "a", "sandboxId": "sb-1", "token": SSH_TOKEN,
                   "expiresAt": "2026-01-01T01:00:00Z", "createdAt": "2026-01-01T00:00:00Z",
                   "updatedAt": "2026-01-01T00:00:00Z"})
            .to_string(),
        )
        .expect(1)
        .create();
    let preview = with_sdk_headers(server.mock("GET", "/api/sandbox/sb-1/ports/3000/preview-url"))
        .with_body(json!({"sandboxId": "sb-1", "token": PREVIEW_TOKEN}).to_string())
        .expect(1)
        .create();
    errors.push(sb.create_ssh_access(None).unwrap_err());
    errors.push(sb.preview_link(3000).unwrap_err());
    ssh.assert();
    preview.assert();
    for (e, missing) in errors.iter().zip(["toolboxProxyUrl", "sshCommand", "url"]) {
        let shown = format!("{e}\n{e:?}");
        assert!(matches!(e, Error::Decode { .. }), "{shown}");
        assert!(
            shown.contains(&format!("missing field `{missing}`")),
            "{shown}"
        );
        // The shape is still shown: the keys, as far as the excerpt goes.
        assert!(
            shown.contains(r#"\"sandboxId\""#) || shown.contains(r#"\"organizationId\""#),
            "{shown}"
        );
        for secret in [ENV_VALUE, SSH_TOKEN, PREVIEW_TOKEN] {
            assert!(!shown.contains(secret), "the error shows {secret}: {shown}");
        }
    }
}

/// An answer that echoes what it was sent never brings the value of an
/// environment variable given to a sandbox, a command, a terminal or a run
/// of code into an error.
#[test]
fn echoed_environment_values_stay_hidden() {
    const VALUE: &str = "env-value-0123456789abcdef";
    let mut server = Server::new();
    let daytona = echo_client(&server);
    let sb = toolbox_sandbox(&mut server, &daytona);
    let echo = |req: &mockito::Request| {
        let body = String::from_utf8_lossy(req.body().unwrap_or(&Vec::new())).into_owned();
        json!({ "statusCode": 400, "message": format!("Cannot {} {}: {body}", req.method(), req.path()) })
            .to_string()
            .into_bytes()
    };
    let mocks = [
        "/toolbox/sb-1/process/execute",
        "/toolbox/sb-1/process/code-run",
        "/toolbox/sb-1/process/pty",
    ]
    .map(|path| {
        server
            .mock("POST", path)
            .with_status(400)
            .with_body_from_request(echo)
            .create()
    });
    let create = server
        .mock("POST", "/api/sandbox")
        .with_status(400)
        .with_body_from_request(echo)
        .expect(1)
        .create();
    let p = sb.process();
    #[allow(unused_mut)]
    let mut errors = vec![
        daytona
            .create(CreateSandbox::new().env("TOKEN", VALUE))
            .unwrap_err(),
        p.exec_with(
            "env",
            daytona::toolbox::ExecOptions::new().env("TOKEN", VALUE),
        )
        .unwrap_err(),
        p.code_run_with(
            "import os",
            daytona::toolbox::CodeRunOptions::new().env("TOKEN", VALUE),
        )
        .unwrap_err(),
    ];
    #[cfg(feature = "websocket")]
    {
        use daytona::toolbox::{PtyOptions, RunCodeOptions};
        errors.push(
            p.create_pty(PtyOptions::new("t").env("TOKEN", VALUE))
                .unwrap_err(),
        );
        // The interpreter closes the run with a reason quoting its request.
        let reason = format!("bad request {{\"envs\":{{\"TOKEN\":\"{VALUE}\"}}}}");
        let ws = FaultServer::start(move |_| {
            Action::WebSocket(vec![fault_server::Ws::Close(4000, reason.clone())])
        });
        let (_api, sandbox) = sandbox_on(&key_config, &ws);
        errors.push(
            sandbox
                .code_interpreter()
                .run_code("print(1)", RunCodeOptions::new().env("TOKEN", VALUE))
                .unwrap_err(),
        );
    }
    create.assert();
    mocks[0].assert();
    mocks[1].assert();
    #[cfg(feature = "websocket")]
    mocks[2].assert();
    for e in &errors {
        let shown = format!("{e}\n{e:?}");
        // The echo came back: only the value is gone from it.
        assert!(shown.contains("TOKEN"), "{shown}");
        assert!(!shown.contains(VALUE), "the error shows the value: {shown}");
    }
}
