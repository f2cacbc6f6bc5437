mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use daytona::{
    CreateSnapshot, Error, ListSnapshots, Resources, SnapshotSort, SnapshotState, SortOrder,
};
use mockito::{Matcher, Server};
use serde_json::{json, Value};

fn snapshot_json(id: &str, name: &str, state: &str) -> Value {
    json!({
        "id": id,
        "organizationId": "org-1",
        "general": false,
        "name": name,
        "imageName": "python:3.12-slim",
        "state": state,
        "size": null,
        "entrypoint": null,
        "cpu": 1,
        "gpu": 0,
        "mem": 1,
        "disk": 3,
        "errorReason": null,
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-01T00:00:00Z",
        "lastUsedAt": null,
        "regionIds": ["us"]
    })
}

fn page_json(items: Vec<Value>, page: u32, total_pages: u32) -> String {
    json!({"items": items, "total": 5, "page": page, "totalPages": total_pages}).to_string()
}

/// A GET responder that walks through `states`, staying on the last.
fn states(
    name: &'static str,
    list: &'static [&'static str],
) -> (
    impl Fn(&mockito::Request) -> Vec<u8> + Send + Sync,
    Arc<AtomicUsize>,
) {
    let n = Arc::new(AtomicUsize::new(0));
    let c = n.clone();
    let f = move |_: &mockito::Request| {
        let i = c.fetch_add(1, Ordering::SeqCst).min(list.len() - 1);
        let mut body = snapshot_json("snap-1", name, list[i]);
        if list[i] == "build_failed" {
            body["errorReason"] = json!("pip install failed");
        }
        body.to_string().into_bytes()
    };
    (f, n)
}

#[test]
fn list_page_sends_every_query_parameter() {
    let mut server = Server::new();
    let m = with_sdk_headers(server.mock("GET", "/api/snapshots"))
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("page".into(), "2".into()),
            Matcher::UrlEncoded("limit".into(), "50".into()),
            Matcher::UrlEncoded("name".into(), "py".into()),
            Matcher::UrlEncoded("sort".into(), "createdAt".into()),
            Matcher::UrlEncoded("order".into(), "asc".into()),
        ]))
        .with_body(page_json(vec![snapshot_json("a", "py-a", "active")], 2, 3))
        .expect(1)
        .create();
    let page = client(&server)
        .snapshots()
        .list_page(
            ListSnapshots::new()
                .page(2)
                .limit(50)
                .name("py")
                .sort(SnapshotSort::CreatedAt, SortOrder::Asc),
        )
        .unwrap();
    m.assert();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].memory, 1);
    assert_eq!(page.total_pages, 3);
}

#[test]
fn list_iterates_pages_lazily() {
    let mut server = Server::new();
    let p1 = server
        .mock("GET", "/api/snapshots")
        .match_query(Matcher::Exact("limit=2".into()))
        .with_body(page_json(
            vec![
                snapshot_json("a", "a", "active"),
                snapshot_json("b", "b", "active"),
            ],
            1,
            2,
        ))
        .expect(1)
        .create();
    let p2 = server
        .mock("GET", "/api/snapshots")
        .match_query(Matcher::Exact("page=2&limit=2".into()))
        .with_body(page_json(vec![snapshot_json("c", "c", "inactive")], 2, 2))
        .expect(1)
        .create();
    let daytona = client(&server);
    let first: Vec<_> = daytona
        .snapshots()
        .list(ListSnapshots::new().limit(2))
        .take(2)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(first.len(), 2);
    p1.assert();
    let all: Vec<String> = daytona
        .snapshots()
        .list(ListSnapshots::new().limit(2))
        .map(|s| s.map(|s| s.name))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(all, ["a", "b", "c"]);
    assert_eq!(all.len(), 3);
    p2.assert();
}

/// A snapshot that does not decode is an error in its place; the others
/// and the next page still come.
#[test]
fn a_snapshot_that_does_not_decode_is_an_error_of_its_own() {
    let mut server = Server::new();
    let mut broken = snapshot_json("b", "b", "active");
    broken.as_object_mut().unwrap().remove("name");
    let p1 = server
        .mock("GET", "/api/snapshots")
        .match_query(Matcher::Missing)
        .with_body(page_json(
            vec![snapshot_json("a", "a", "active"), broken],
            1,
            2,
        ))
        .expect(1)
        .create();
    let p2 = server
        .mock("GET", "/api/snapshots")
        .match_query(Matcher::Exact("page=2".into()))
        .with_body(page_json(vec![snapshot_json("c", "c", "active")], 2, 2))
        .expect(1)
        .create();
    let results: Vec<_> = client(&server)
        .snapshots()
        .list(ListSnapshots::new())
        .collect();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].as_ref().unwrap().name, "a");
    let e = results[1].as_ref().unwrap_err();
    assert!(
        e.is_decode() && e.to_string().contains("item 2 of the page"),
        "{e}"
    );
    assert_eq!(results[2].as_ref().unwrap().name, "c");
    p1.assert();
    p2.assert();
}

/// A page whose numbers are missing or broken is an error, even when its
/// items decode one by one: read leniently, the listing would end after
/// this page without a word.
#[test]
fn a_page_without_its_numbers_is_an_error_not_the_last_page() {
    for (drop, broken) in [
        ("totalPages", None),
        ("total", None),
        ("page", Some(json!("one"))),
    ] {
        let mut server = Server::new();
        let mut bad_item = snapshot_json("b", "b", "active");
        bad_item.as_object_mut().unwrap().remove("name");
        let mut body: Value = serde_json::from_str(&page_json(
            vec![snapshot_json("a", "a", "active"), bad_item],
            1,
            2,
        ))
        .unwrap();
        match broken {
            Some(value) => body[drop] = value,
            None => drop_key(&mut body, drop),
        }
        let m = server
            .mock("GET", "/api/snapshots")
            .with_body(body.to_string())
            .expect(1)
            .create();
        let results: Vec<_> = client(&server)
            .snapshots()
            .list(ListSnapshots::new())
            .collect();
        assert_eq!(results.len(), 1, "{drop}: {results:?}");
        let e = results[0].as_ref().unwrap_err();
        assert!(
            e.is_decode() && !e.to_string().contains("of the page"),
            "{e}"
        );
        m.assert();
    }
}

fn drop_key(value: &mut Value, key: &str) {
    value.as_object_mut().unwrap().remove(key);
}

#[test]
fn bad_list_arguments_fail_before_any_request() {
    let mut server = Server::new();
    let none = server.mock("GET", Matcher::Any).expect(0).create();
    let daytona = client(&server);
    for query in [
        ListSnapshots::new().limit(0),
        ListSnapshots::new().limit(201),
        ListSnapshots::new().page(0),
    ] {
        let err = daytona.snapshots().list_page(query.clone()).unwrap_err();
        assert!(err.is_validation(), "{err:?}");
        let mut it = daytona.snapshots().list(query);
        assert!(it.next().unwrap().unwrap_err().is_validation());
        assert!(it.next().is_none());
    }
    none.assert();
}

#[test]
fn get_delete_activate() {
    let mut server = Server::new();
    let get = with_sdk_headers(server.mock("GET", "/api/snapshots/my%20snap"))
        .with_body(snapshot_json("snap-1", "my snap", "inactive").to_string())
        .expect(1)
        .create();
    let activate = with_sdk_headers(server.mock("POST", "/api/snapshots/snap-1/activate"))
        .with_body(snapshot_json("snap-1", "my snap", "active").to_string())
        .expect(1)
        .create();
    let delete = with_sdk_headers(server.mock("DELETE", "/api/snapshots/snap-1"))
        .with_status(200)
        .expect(1)
        .create();
    let snapshots = client(&server).snapshots();
    let snap = snapshots.get("my snap").unwrap();
    assert_eq!(snap.state, SnapshotState::Inactive);
    let snap = snapshots.activate(&snap).unwrap();
    assert_eq!(snap.state, SnapshotState::Active);
    snapshots.delete(&snap).unwrap();
    get.assert();
    activate.assert();
    delete.assert();
}

#[test]
fn create_from_image_name_sends_the_body_and_waits_until_active() {
    let mut server = Server::new();
    let post = with_sdk_headers(server.mock("POST", "/api/snapshots"))
        .match_body(Matcher::Json(json!({
            "name": "py",
            "imageName": "python:3.12-slim",
            "entrypoint": ["sleep", "infinity"],
            "cpu": 2,
            "memory": 4,
            "disk": 8,
            "regionId": "eu"
        })))
        .with_body(snapshot_json("snap-1", "py", "pending").to_string())
        .expect(1)
        .create();
    let (responder, polls) = states("py", &["pulling", "pulling", "active"]);
    let get = server
        .mock("GET", "/api/snapshots/snap-1")
        .with_body_from_request(responder)
        .expect(3)
        .create();
    let daytona =
        daytona::Daytona::new(config(&server).target("eu").poll_schedule(fast_poll())).unwrap();
    let mut lines = Vec::new();
    let snap = daytona
        .snapshots()
        .create_with_logs(
            CreateSnapshot::from_image("py", "python:3.12-slim")
                .entrypoint(["sleep", "infinity"])
                .resources(Resources::new().cpu(2).memory(4).disk(8)),
            |l| lines.push(l.to_string()),
        )
        .unwrap();
    post.assert();
    get.assert();
    assert_eq!(polls.load(Ordering::SeqCst), 3);
    assert_eq!(snap.state, SnapshotState::Active);
    assert_eq!(
        lines,
        [
            "Creating snapshot py (pending)",
            "Creating snapshot py (pulling)",
            "Created snapshot py (active)"
        ]
    );
}

#[test]
fn create_fails_at_once_on_build_failed_with_the_reason() {
    let mut server = Server::new();
    let _post = server
        .mock("POST", "/api/snapshots")
        .with_body(snapshot_json("snap-1", "py", "pending").to_string())
        .create();
    let (responder, _polls) = states("py", &["building", "build_failed"]);
    let get = server
        .mock("GET", "/api/snapshots/snap-1")
        .with_body_from_request(responder)
        .expect(2)
        .create();
    let err = client(&server)
        .snapshots()
        .create(CreateSnapshot::from_image("py", "python:3.12-slim"))
        .unwrap_err();
    get.assert();
    match err {
        Error::SnapshotFailed {
            name,
            state,
            reason,
        } => {
            assert_eq!(name, "py");
            assert_eq!(state, SnapshotState::BuildFailed);
            assert_eq!(reason.as_deref(), Some("pip install failed"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn create_that_never_becomes_active_times_out_at_its_deadline() {
    let mut server = Server::new();
    let _post = server
        .mock("POST", "/api/snapshots")
        .with_body(snapshot_json("snap-1", "py", "pending").to_string())
        .create();
    let _get = server
        .mock("GET", "/api/snapshots/snap-1")
        .with_body(snapshot_json("snap-1", "py", "building").to_string())
        .create();
    let daytona = daytona::Daytona::new(config(&server)).unwrap();
    let started = Instant::now();
    let err = daytona
        .snapshots()
        .create(
            CreateSnapshot::from_image("py", "python:3.12-slim")
                .timeout(Duration::from_millis(800)),
        )
        .unwrap_err();
    let took = started.elapsed();
    assert!(err.is_timeout(), "{err:?}");
    assert!(on_time(took, Duration::from_millis(800)), "{took:?}");
    assert!(err.to_string().contains("snapshot py"), "{err}");
}

#[test]
fn latest_tag_and_empty_name_are_rejected_before_any_request() {
    let mut server = Server::new();
    let none = server.mock("POST", Matcher::Any).expect(0).create();
    let snapshots = client(&server).snapshots();
    let field = |e: Error| match e {
        Error::Validation { field, .. } => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        field(
            snapshots
                .create(CreateSnapshot::from_image("x", "python:latest"))
                .unwrap_err()
        ),
        "image"
    );
    // Spaces around a name, or inside it, never name an image (and would
    // add to the `FROM` line).
    for image in [" python:latest ", "python:3.12 AS x", "python:3.12\t"] {
        assert_eq!(
            field(
                snapshots
                    .create(CreateSnapshot::from_image("x", image))
                    .unwrap_err()
            ),
            "image",
            "{image:?}"
        );
    }
    assert_eq!(
        field(
            snapshots
                .create(CreateSnapshot::from_image("", "python:3.12"))
                .unwrap_err()
        ),
        "name"
    );
    assert_eq!(
        field(
            snapshots
                .create(CreateSnapshot::from_image("x", "python:3.12").timeout(Duration::ZERO))
                .unwrap_err()
        ),
        "timeout"
    );
    assert_eq!(
        field(
            snapshots
                .create(CreateSnapshot::from_image("x", "python:3.12").region_id(" "))
                .unwrap_err()
        ),
        "region_id"
    );
    none.assert();
}

/// A slow chunked build-log stream: the callback sees the first lines
/// before the server has finished writing.
#[test]
fn sandbox_build_logs_stream_line_by_line_before_the_stream_ends() {
    let mut server = Server::new();
    let mut creating = sandbox_json("sb-1", "pending_build");
    creating["toolboxProxyUrl"] = json!(format!("{}/toolbox", server.url()));
    let _post = server
        .mock("POST", "/api/sandbox")
        .match_body(Matcher::PartialJson(
            json!({"buildInfo": {"dockerfileContent": "FROM python:3.12\n"}}),
        ))
        .with_body(creating.to_string())
        .expect(1)
        .create();
    let polls = Arc::new(AtomicUsize::new(0));
    let p = polls.clone();
    let url = server.url();
    let _get = server
        .mock("GET", "/api/sandbox/sb-1")
        .with_body_from_request(move |_| {
            let n = p.fetch_add(1, Ordering::SeqCst);
            let state = match n {
                0 => "pending_build",
                1..=2 => "building_snapshot",
                _ => "started",
            };
            let mut b = sandbox_json("sb-1", state);
            b["toolboxProxyUrl"] = json!(format!("{url}/toolbox"));
            b.to_string().into_bytes()
        })
        .create();
    let logs_url = format!("{}/toolbox/sb-1/build-logs", server.url());
    let url_mock = with_sdk_headers(server.mock("GET", "/api/sandbox/sb-1/build-logs-url"))
        .with_body(json!({ "url": logs_url }).to_string())
        .expect(1)
        .create();
    let ended: Arc<Mutex<Option<Instant>>> = Arc::default();
    let ended_w = ended.clone();
    let stream = with_sdk_headers(server.mock("GET", "/toolbox/sb-1/build-logs"))
        .match_query(Matcher::UrlEncoded("follow".into(), "true".into()))
        .with_chunked_body(move |w| {
            for i in 1..=3 {
                w.write_all(format!("Step {i}/3\r\n").as_bytes())?;
                w.flush()?;
                std::thread::sleep(Duration::from_millis(200));
            }
            *ended_w.lock().unwrap() = Some(Instant::now());
            Ok(())
        })
        .expect(1)
        .create();
    let daytona = client(&server);
    let mut lines: Vec<(String, Instant)> = Vec::new();
    let sandbox = daytona
        .create_with_logs(daytona::CreateSandbox::from_image("python:3.12"), |l| {
            lines.push((l.to_string(), Instant::now()))
        })
        .unwrap();
    url_mock.assert();
    stream.assert();
    assert_eq!(sandbox.state(), Some(&daytona::SandboxState::Started));
    let texts: Vec<&str> = lines.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(texts, ["Step 1/3", "Step 2/3", "Step 3/3"]);
    let end = ended.lock().unwrap().expect("stream ended");
    assert!(
        lines[0].1 < end,
        "the first line arrived only after the stream ended"
    );
}

#[test]
fn an_error_status_on_the_log_stream_is_not_logged_as_lines_and_the_create_goes_on() {
    let mut server = Server::new();
    let _post = server
        .mock("POST", "/api/sandbox")
        .with_body(sandbox_json("sb-1", "pending_build").to_string())
        .create();
    let (responder, _n) = state_sequence("sb-1", &["building_snapshot", "started"]);
    let _get = server
        .mock("GET", "/api/sandbox/sb-1")
        .with_body_from_request(responder)
        .create();
    let logs_url = format!("{}/api/sandbox/sb-1/build-logs", server.url());
    let _url = server
        .mock("GET", "/api/sandbox/sb-1/build-logs-url")
        .with_body(json!({ "url": logs_url }).to_string())
        .create();
    let stream = server
        .mock("GET", "/api/sandbox/sb-1/build-logs")
        .match_query(Matcher::UrlEncoded("follow".into(), "true".into()))
        .with_status(502)
        .with_body("<html>Bad Gateway</html>")
        // Opening the stream is retried as any GET: 4 attempts in all.
        .expect(4)
        .create();
    let daytona = client(&server);
    let mut lines = Vec::new();
    let sandbox = daytona
        .create_with_logs(daytona::CreateSandbox::from_image("python:3.12"), |l| {
            lines.push(l.to_string())
        })
        .unwrap();
    stream.assert();
    assert!(lines.is_empty(), "{lines:?}");
    assert_eq!(sandbox.state(), Some(&daytona::SandboxState::Started));
}

#[test]
fn a_log_url_on_a_foreign_host_is_never_sent_the_credentials() {
    let mut server = Server::new();
    let mut foreign = Server::new();
    let _post = server
        .mock("POST", "/api/sandbox")
        .with_body(sandbox_json("sb-1", "pending_build").to_string())
        .create();
    let (responder, _n) = state_sequence("sb-1", &["building_snapshot", "started"]);
    let _get = server
        .mock("GET", "/api/sandbox/sb-1")
        .with_body_from_request(responder)
        .create();
    let _url = server
        .mock("GET", "/api/sandbox/sb-1/build-logs-url")
        .with_body(json!({ "url": format!("{}/logs/sb-1", foreign.url()) }).to_string())
        .create();
    let stolen = foreign.mock("GET", Matcher::Any).expect(0).create();
    let fallback = with_sdk_headers(server.mock("GET", "/api/sandbox/sb-1/build-logs"))
        .match_query(Matcher::UrlEncoded("follow".into(), "true".into()))
        .with_body("built\n")
        .expect(1)
        .create();
    let daytona = client(&server);
    let mut lines = Vec::new();
    daytona
        .create_with_logs(daytona::CreateSandbox::from_image("python:3.12"), |l| {
            lines.push(l.to_string())
        })
        .unwrap();
    stolen.assert();
    fallback.assert();
    assert_eq!(lines, ["built"]);
}

/// A snapshot deleted (`removing`) or deactivated (`inactive`) while it is
/// created can never become active on its own: the create fails at the
/// first look with the state, instead of polling until its deadline (10
/// minutes by default).
#[test]
fn create_fails_at_once_on_a_snapshot_removed_or_deactivated_meanwhile() {
    for (end, state) in [
        ("removing", SnapshotState::Removing),
        ("inactive", SnapshotState::Inactive),
    ] {
        let mut server = Server::new();
        let _post = with_sdk_headers(server.mock("POST", "/api/snapshots"))
            .with_body(snapshot_json("snap-1", "py", "pending").to_string())
            .expect(1)
            .create();
        let list: &'static [&'static str] = match end {
            "removing" => &["pulling", "removing"],
            _ => &["pulling", "inactive"],
        };
        let (responder, polls) = states("py", list);
        let get = with_sdk_headers(server.mock("GET", "/api/snapshots/snap-1"))
            .with_body_from_request(responder)
            .expect(2)
            .create();
        let started = Instant::now();
        let err = client(&server)
            .snapshots()
            .create(
                CreateSnapshot::from_image("py", "python:3.12-slim")
                    .timeout(Duration::from_secs(10)),
            )
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(3), "{end}");
        get.assert();
        assert_eq!(polls.load(Ordering::SeqCst), 2, "{end}");
        assert!(err.is_snapshot_failed(), "{end}: {err:?}");
        match err {
            Error::SnapshotFailed {
                name,
                state: seen,
                reason,
            } => {
                assert_eq!(name, "py");
                assert_eq!(seen, state);
                assert_eq!(reason, None);
            }
            other => panic!("{other:?}"),
        }
    }
}
