//! Ids, names and file paths that look like path syntax reach the server
//! inside one percent-encoded path segment, or as one query value, and
//! never change the path; an empty one, or an id or name that is `.` or
//! `..` (which URLs resolve whatever their encoding), is refused before
//! any request.
//!
//! The server is the raw `fault_server`, which sees the request target
//! exactly as sent (no normalisation).

mod common;
mod fault_server;

use std::sync::{Arc, Mutex};

use common::{assert_validation, fast_retries, sandbox_json, KEY};
use daytona::toolbox::FilePermissions;
use daytona::{Daytona, DaytonaConfig, Error, Sandbox};
use fault_server::{Action, FaultServer, Seen};
use serde_json::json;

/// Values that would change a path or a query if sent as they are.
const TRICKY: &[&str] = &[
    "../x",
    "a/b",
    "..",
    ".",
    "%2e%2e",
    "%2F",
    "?x=1",
    "#frag",
    "with space",
    "quo\"te's",
    "a+b",
    "a&b=c",
    "back\\slash",
    "semi;colon",
    "tab\tnew\nline",
    "é 日本 🦀",
    "/abs/path",
    "trailing/",
];

/// Percent-decodes `s` (and `+` as a space in a query).
fn decode(s: &str, query: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            }
            b'+' if query => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

/// The raw segments of the path of `seen`.
fn segments(seen: &Seen) -> Vec<&str> {
    seen.path().split('/').skip(1).collect()
}

/// The query of `seen` as decoded pairs, in order.
fn query(seen: &Seen) -> Vec<(String, String)> {
    seen.query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k, true), decode(v, true))
        })
        .collect()
}

/// A raw segment holds nothing that could end it or start a query.
fn assert_one_segment(raw: &str) {
    for c in ['/', '?', '#', ' ', '"', '\\'] {
        assert!(!raw.contains(c), "{raw:?} holds {c:?}");
    }
    assert!(raw != "." && raw != "..", "{raw:?} is a dot segment");
}

/// A server that answers every request with something decodable, and
/// remembers them.
fn server() -> FaultServer {
    let url: Arc<Mutex<String>> = Arc::default();
    let me = url.clone();
    let server = FaultServer::start(move |seen| {
        let base = me.lock().unwrap().clone();
        let segs = segments(seen);
        let body = match (seen.method.as_str(), segs.as_slice()) {
            ("GET", ["api", "sandbox", "ssh-access", "validate"]) => {
                json!({ "valid": true, "sandboxId": "sb" })
            }
            ("GET", ["api", "sandbox", id]) => {
                let mut b = sandbox_json(&decode(id, false), "started");
                b["toolboxProxyUrl"] = json!(format!("{base}/toolbox"));
                b
            }
            // Gone at once: the delete's wait sends nothing more.
            ("DELETE", ["api", "sandbox", id]) => sandbox_json(&decode(id, false), "destroyed"),
            ("GET", ["api", "snapshots", id]) => json!({
                "id": decode(id, false), "name": decode(id, false), "state": "active"
            }),
            ("GET", ["api", "volumes", "by-name", name]) => json!({
                "id": "v", "name": decode(name, false), "organizationId": "o", "state": "ready"
            }),
            ("GET", ["toolbox", _, "files"]) => json!([]),
            ("GET", ["toolbox", _, "files", "info"]) => json!({ "name": "f" }),
            ("GET", ["toolbox", _, "files", "find"]) => json!([]),
            ("GET", ["toolbox", _, "files", "search"]) => json!({ "files": [] }),
            ("GET", ["toolbox", _, "process", "session", id]) => {
                json!({ "sessionId": decode(id, false), "commands": [] })
            }
            ("GET", ["toolbox", _, "process", "session", _, "command", id]) => {
                json!({ "id": decode(id, false), "command": "true" })
            }
            ("GET", ["toolbox", _, "git", "status"]) => json!({ "currentBranch": "main" }),
            ("GET", ["toolbox", _, "git", "branches"]) => json!({ "branches": [] }),
            ("GET", ["toolbox", _, "git", "history"]) => json!([]),
            _ => json!({}),
        };
        Action::json(200, &body)
    });
    *url.lock().unwrap() = server.url.clone();
    server
}

fn client(server: &FaultServer) -> Daytona {
    Daytona::new(
        DaytonaConfig::new()
            .read_env(false)
            .api_key(KEY)
            .api_url(format!("{}/api", server.url))
            .retry_policy(fast_retries())
            .max_attempts(1)
            // Only the REST requests are counted.
            .events(false),
    )
    .unwrap()
}

/// The requests `f` sends.
fn sent(server: &FaultServer, f: impl FnOnce()) -> Vec<Seen> {
    let before = server.seen().len();
    f();
    server.seen()[before..].to_vec()
}

/// The only request `f` sends.
fn one(server: &FaultServer, f: impl FnOnce()) -> Seen {
    let mut all = sent(server, f);
    assert_eq!(all.len(), 1, "{all:?}");
    all.remove(0)
}

/// Whether `v` can be an id or a name: not `.` nor `..`.
fn segment_value(v: &str) -> bool {
    v != "." && v != ".."
}

#[test]
fn ids_and_names_are_one_path_segment() {
    let server = server();
    let daytona = client(&server);
    for &v in TRICKY.iter().filter(|v| segment_value(v)) {
        // (route before the value, route after it, the call)
        type Call<'a> = Box<dyn FnOnce() + 'a>;
        let mut sandbox: Option<Sandbox> = None;
        let cases: Vec<(&[&str], &[&str], Call)> = vec![
            (
                &["api", "sandbox"],
                &[],
                Box::new(|| sandbox = Some(daytona.get(v).unwrap())),
            ),
            (
                &["api", "snapshots"],
                &[],
                Box::new(|| drop(daytona.snapshots().get(v).unwrap())),
            ),
            (
                &["api", "volumes", "by-name"],
                &[],
                Box::new(|| drop(daytona.volumes().get(v).unwrap())),
            ),
        ];
        for (before, after, call) in cases {
            let seen = one(&server, call);
            check_segment(&seen, before, v, after);
        }
        // The sandbox's own id goes into its API paths and its toolbox
        // base, one segment each time.
        let mut sb = sandbox.take().unwrap();
        assert_eq!(sb.id(), v);
        let seen = one(&server, || sb.refresh().unwrap());
        check_segment(&seen, &["api", "sandbox"], v, &[]);
        let seen = one(&server, || sb.set_auto_stop_interval(5).unwrap());
        check_segment(&seen, &["api", "sandbox"], v, &["autostop", "5"]);
        let seen = one(&server, || drop(sb.fs().list_files("/").unwrap()));
        check_segment(&seen, &["toolbox"], v, &["files"]);
        let seen = one(&server, || drop(sb.process().get_session(v).unwrap()));
        let segs = segments(&seen);
        assert_eq!(segs.len(), 5, "{}", seen.target);
        for i in [1, 4] {
            assert_eq!(decode(segs[i], false), v, "{}", seen.target);
            assert_one_segment(segs[i]);
        }
        let p = sb.process();
        let seen = one(&server, || drop(p.get_session_command(v, v).unwrap()));
        let segs = segments(&seen);
        assert_eq!(segs.len(), 7, "{}", seen.target);
        for i in [1, 4, 6] {
            assert_eq!(decode(segs[i], false), v, "{}", seen.target);
            assert_one_segment(segs[i]);
        }
        let seen = one(&server, || p.delete_session(v).unwrap());
        assert_eq!(seen.method, "DELETE");
        assert_eq!(decode(segments(&seen)[4], false), v);
        let seen = one(&server, || sb.expire_signed_preview_url(3000, v).unwrap());
        check_segment(
            &seen,
            &[
                "api",
                "sandbox",
                segments(&seen)[2],
                "ports",
                "3000",
                "signed-preview-url",
            ],
            v,
            &["expire"],
        );
        let seen = one(&server, || sb.delete().unwrap());
        check_segment(&seen, &["api", "sandbox"], v, &[]);
    }
}

/// The path of `seen` is `before`, then one segment holding `v` (skipped
/// when `v` is empty), then `after`; no query.
fn check_segment(seen: &Seen, before: &[&str], v: &str, after: &[&str]) {
    let segs = segments(seen);
    let middle = usize::from(!v.is_empty());
    assert_eq!(
        segs.len(),
        before.len() + middle + after.len(),
        "{v:?}: {}",
        seen.target
    );
    assert_eq!(&segs[..before.len()], before, "{}", seen.target);
    if middle == 1 {
        let raw = segs[before.len()];
        assert_one_segment(raw);
        assert_eq!(decode(raw, false), v, "{}", seen.target);
    }
    assert_eq!(&segs[before.len() + middle..], after, "{}", seen.target);
}

#[test]
fn file_paths_and_tokens_are_one_query_value() {
    let server = server();
    let daytona = client(&server);
    let sb = daytona.get("sb-1").unwrap();
    let fs = sb.fs();
    let git = sb.git();
    for &v in TRICKY {
        type Call<'a> = Box<dyn FnOnce() + 'a>;
        type Pairs<'a> = Vec<(&'a str, &'a str)>;
        let cases: Vec<(&str, Pairs, Call)> = vec![
            (
                "/toolbox/sb-1/files",
                vec![("path", v)],
                Box::new(|| drop(fs.list_files(v).unwrap())),
            ),
            (
                "/toolbox/sb-1/files/info",
                vec![("path", v)],
                Box::new(|| drop(fs.get_file_info(v).unwrap())),
            ),
            (
                "/toolbox/sb-1/files",
                vec![("path", v), ("recursive", "true")],
                Box::new(|| fs.delete_recursive(v).unwrap()),
            ),
            (
                "/toolbox/sb-1/files/folder",
                vec![("path", v), ("mode", "755")],
                Box::new(|| fs.create_folder(v, "755").unwrap()),
            ),
            (
                "/toolbox/sb-1/files/move",
                vec![("source", v), ("destination", v)],
                Box::new(|| fs.move_files(v, v).unwrap()),
            ),
            (
                "/toolbox/sb-1/files/find",
                vec![("path", v), ("pattern", v)],
                Box::new(|| drop(fs.find_files(v, v).unwrap())),
            ),
            (
                "/toolbox/sb-1/files/search",
                vec![("path", v), ("pattern", v)],
                Box::new(|| drop(fs.search_files(v, v).unwrap())),
            ),
            (
                "/toolbox/sb-1/files/permissions",
                vec![("path", v), ("owner", v)],
                Box::new(|| {
                    fs.set_file_permissions(v, FilePermissions::new().owner(v))
                        .unwrap()
                }),
            ),
            (
                "/toolbox/sb-1/git/status",
                vec![("path", v)],
                Box::new(|| drop(git.status(v).unwrap())),
            ),
            (
                "/api/sandbox/ssh-access/validate",
                vec![("token", v)],
                Box::new(|| drop(daytona.validate_ssh_access(v).unwrap())),
            ),
        ];
        for (path, expected, call) in cases {
            let seen = one(&server, call);
            assert_eq!(seen.path(), path, "{v:?}: {}", seen.target);
            let got = query(&seen);
            let want: Vec<(String, String)> = expected
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            assert_eq!(got, want, "{v:?}: {}", seen.target);
            // Nothing of the value leaks out of its query value.
            assert!(!seen.target.contains('#'), "{}", seen.target);
            assert_eq!(seen.target.matches('?').count(), 1, "{}", seen.target);
        }
    }
}

#[test]
fn dot_ids_and_names_fail_before_any_request() {
    let server = server();
    let daytona = client(&server);
    let sb = daytona.get("sb-1").unwrap();
    let before = server.seen().len();
    let p = sb.process();
    for v in TRICKY.iter().filter(|v| !segment_value(v)) {
        let results: Vec<(&str, Error)> = vec![
            ("id_or_name", daytona.get(v).unwrap_err()),
            ("id_or_name", daytona.get_opt(v).unwrap_err()),
            ("id_or_name", daytona.snapshots().get(v).unwrap_err()),
            ("name", daytona.volumes().get(v).unwrap_err()),
            ("session_id", p.get_session(v).unwrap_err()),
            ("session_id", p.create_session(v).unwrap_err()),
            ("session_id", p.delete_session(v).unwrap_err()),
            ("command_id", p.get_session_command("s", v).unwrap_err()),
            ("token", sb.expire_signed_preview_url(3000, v).unwrap_err()),
        ];
        for (field, e) in &results {
            assert!(e.to_string().contains(&format!("{v:?}")), "{e}");
            assert_validation(e, field);
        }
    }
    assert_nothing_sent(&server, before);
}

/// `server` saw no request after the first `before`.
fn assert_nothing_sent(server: &FaultServer, before: usize) {
    assert_eq!(
        server.seen().len(),
        before,
        "{:?}",
        &server.seen()[before..]
    );
}

/// A sandbox whose id, as the server gave it, cannot be a path segment:
/// its requests fail before they are sent, naming the problem.
#[test]
fn a_dot_id_from_the_server_sends_nothing() {
    let server = FaultServer::start(|_| {
        let mut b = sandbox_json("..", "started");
        b["toolboxProxyUrl"] = json!("http://127.0.0.1:1/toolbox");
        Action::json(200, &b)
    });
    let mut odd = client(&server).get("sb-1").unwrap();
    assert_eq!(odd.id(), "..");
    let before = server.seen().len();
    for e in [
        odd.refresh().unwrap_err(),
        odd.fs().list_files("/").unwrap_err(),
        odd.process().exec("true").unwrap_err(),
    ] {
        assert!(e.to_string().contains("\"..\""), "{e}");
        assert_validation(&e, "path segment");
    }
    assert_nothing_sent(&server, before);
}

#[test]
fn empty_ids_names_and_paths_fail_before_any_request() {
    let server = server();
    let daytona = client(&server);
    let sb = daytona.get("sb-1").unwrap();
    let before = server.seen().len();
    let fs = sb.fs();
    let p = sb.process();
    let git = sb.git();
    let results: Vec<(&str, Error)> = vec![
        ("id_or_name", daytona.get("").unwrap_err()),
        ("id_or_name", daytona.get_opt("").unwrap_err()),
        ("id_or_name", daytona.snapshots().get("").unwrap_err()),
        ("name", daytona.volumes().get("").unwrap_err()),
        ("name", daytona.volumes().create("").unwrap_err()),
        ("token", daytona.validate_ssh_access("").unwrap_err()),
        ("path", fs.list_files("").unwrap_err()),
        ("path", fs.get_file_info("").unwrap_err()),
        ("path", fs.delete_file("").unwrap_err()),
        ("path", fs.create_folder("", "755").unwrap_err()),
        ("source", fs.move_files("", "b").unwrap_err()),
        ("destination", fs.move_files("a", "").unwrap_err()),
        ("path", fs.find_files("", "x").unwrap_err()),
        ("pattern", fs.search_files("/", "").unwrap_err()),
        ("remote_path", fs.upload_bytes(b"x", "").unwrap_err()),
        ("remote_path", fs.download_bytes("").unwrap_err()),
        ("session_id", p.get_session("").unwrap_err()),
        ("session_id", p.create_session("").unwrap_err()),
        ("session_id", p.delete_session("").unwrap_err()),
        ("command_id", p.get_session_command("s", "").unwrap_err()),
        ("command", p.exec("").unwrap_err()),
        ("path", git.status("").unwrap_err()),
        ("token", sb.expire_signed_preview_url(3000, "").unwrap_err()),
    ];
    for (field, e) in &results {
        assert_validation(e, field);
    }
    assert_nothing_sent(&server, before);
}
