//! The local simulator's toolbox handlers on malformed requests and
//! hostile sandbox contents: no handler panics, reads a host file or
//! hangs.
#![cfg(feature = "testing")]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use daytona::testing::LocalDaytona;
use daytona::CreateSandbox;

/// `method path` on the toolbox of `sandbox`, with `body`: the status and
/// the body of the answer (status 0 when the connection dropped without
/// one), waiting at most `wait`.
fn toolbox(
    local: &LocalDaytona,
    sandbox: &str,
    method: &str,
    path: &str,
    body: &str,
    wait: Duration,
) -> (u16, String) {
    let mut s = TcpStream::connect(local.addr()).unwrap();
    s.set_read_timeout(Some(wait)).unwrap();
    let head = format!(
        "{method} /toolbox/{sandbox}/{path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        local.addr(),
        local.api_key(),
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn an_accessibility_tree_of_the_lowest_depth_is_answered() {
    let local = LocalDaytona::builder().scripted().start().unwrap();
    let sandbox = local.client().create(CreateSandbox::new()).unwrap();
    sandbox.computer_use().start().unwrap();
    let wait = Duration::from_secs(10);
    let path = format!("computeruse/a11y/tree?maxDepth={}", i64::MIN);
    let (status, body) = toolbox(&local, sandbox.id(), "GET", &path, "", wait);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""name":"OK""#), "{body}");
}
