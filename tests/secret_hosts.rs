//! `Authorization` goes to no host but the API and the sandbox's toolbox:
//! not to the target of a redirect to another origin (one within the
//! origin keeps it), not to a toolbox another origin names, not to a
//! preview URL, not to the object store; and a build context uploads its
//! links, never what they point to.

mod common;
mod fault_server;
mod secrets_support;
mod temp;

use std::time::Duration;

use common::*;
use daytona::{CreateSandbox, Daytona, DaytonaConfig};
use fault_server::{Action, FaultServer};
use mockito::Server;
use secrets_support::*;
use serde_json::json;

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
    capture_logs();
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
    assert_logs_hide(&CREDENTIALS);
}

/// A `GET /sandbox/{id}` redirected to another host, whose answer would
/// name a toolbox on itself: the redirect is not followed, so no answer
/// of that host is ever used and `exec` never sends the credentials
/// there.
#[test]
fn a_toolbox_named_by_another_origin_is_never_used() {
    capture_logs();
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
    assert_logs_hide(&CREDENTIALS);
}

/// A redirect within the API's origin is followed with the credentials
/// and the organization (the same request, to the same host), up to ten
/// times; an eleventh is refused.
#[test]
fn a_redirect_within_the_origin_keeps_the_credentials() {
    capture_logs();
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
    assert_logs_hide(&CREDENTIALS);
}

/// Preview links are handed to the caller, never fetched: the preview
/// host sees nothing at all.
#[test]
fn preview_urls_are_never_sent_the_credentials() {
    capture_logs();
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
    assert_logs_hide(&CREDENTIALS);
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
    capture_logs();
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
    assert_logs_hide(&[API_KEY, JWT, "store-secret"]);
}

/// A build context with links out of it (to a file beside it, to
/// `/etc/passwd`, to `..`): the uploaded tar holds the links as links
/// (read back with the `tar` crate) and not a byte of what they point to.
#[cfg(all(feature = "images", unix))]
#[test]
fn a_context_uploads_its_links_never_what_they_point_to() {
    capture_logs();
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
    assert_logs_hide(&[API_KEY, "store-secret", "TOP-SECRET"]);
}
