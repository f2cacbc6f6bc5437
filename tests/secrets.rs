//! The API key and the JWT stay out of the logs: the log output of a whole
//! lifecycle captured at trace level shows neither (the SDK's own records
//! at every level, its HTTP, WebSocket and TLS libraries' at debug level
//! and above), nor do the crate's records of answers that echo the key.
//!
//! At trace level ureq (`ureq_proto`) dumps request heads and tungstenite
//! prints the upgrade request, `Authorization` included: the README says
//! so, and these tests check that it is still true.
//!
//! `secret_errors.rs` checks `Debug` and errors, `secret_echoes.rs` what
//! echoing servers send back, `secret_hosts.rs` where the credentials go;
//! each checks the logs of its own traffic too.

mod common;
mod fault_server;
mod secrets_support;

use common::*;
use daytona::toolbox::{Download, TransferOptions};
use daytona::{CreateSandbox, Daytona, DaytonaConfig};
use fault_server::{Action, FaultServer};
use mockito::{Matcher, Server};
use secrets_support::*;
use serde_json::json;

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
    follow_logs(&config, &ws);
    sandbox.delete().unwrap();
    for m in [create, poll, exec, upload, download, delete] {
        m.assert();
    }

    let (logged, traced) = assert_logs_hide(&[secret]);
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
fn follow_logs(config: &dyn Fn(&str) -> DaytonaConfig, toolbox: &FaultServer) {
    use daytona::toolbox::FollowOptions;
    let (_api, sandbox) = sandbox_on(config, toolbox);
    let mut text = String::new();
    sandbox
        .process()
        .follow_session_command_logs("s", "c", FollowOptions::new(), |c| text.push_str(c.text()))
        .unwrap();
    assert_eq!(text, "hello\n");
}

#[cfg(not(feature = "websocket"))]
fn follow_logs(_: &dyn Fn(&str) -> DaytonaConfig, _: &FaultServer) {}

#[test]
fn a_lifecycle_logged_at_trace_level_never_shows_the_api_key() {
    lifecycle(key_config, API_KEY);
}

#[test]
fn a_lifecycle_logged_at_trace_level_never_shows_the_jwt() {
    lifecycle(jwt_config, JWT);
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
    // The records of the threads the client started, kept with the rest.
    assert_logs_hide(&CREDENTIALS);
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
    assert_logs_hide(&CREDENTIALS);
}
