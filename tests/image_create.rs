//! Creating sandboxes and snapshots from declarative images: build contexts
//! go to the object store first (never with the Daytona credentials), then
//! the Dockerfile and the context hashes go to the API.
#![cfg(feature = "images")]

mod common;
mod fault_server;
mod temp;

use std::time::Duration;

use common::*;
use daytona::{CreateSandbox, CreateSnapshot, Image, SandboxState};
use fault_server::{Action, FaultServer};
use mockito::{Matcher, Server};
use serde_json::json;

#[test]
fn a_sandbox_from_an_image_with_local_files_uploads_its_context_then_creates() {
    let mut api = Server::new();
    let mut store = Server::new();
    let dir = temp::TempDir::new("image-create");
    let file = dir.file("app.py", b"print('hi')\n");
    let image = Image::base("python:3.12-slim")
        .add_local_file(&file, "/app/app.py")
        .unwrap();
    let hash = image.contexts()[0].hash().unwrap();

    let access = with_sdk_headers(api.mock("GET", "/api/object-storage/push-access"))
        .with_body(
            json!({
                "accessKey": "AKIDSTORE",
                "secret": "store-secret-123",
                "sessionToken": "session-token-456",
                "storageUrl": store.url(),
                "organizationId": "org-1",
                "bucket": "builds"
            })
            .to_string(),
        )
        .expect(1)
        .create();
    let object = format!("/builds/org-1/{hash}/context.tar");
    let head = store
        .mock("HEAD", object.as_str())
        .match_header("authorization", Matcher::Regex("^AWS4-HMAC-SHA256 ".into()))
        .with_status(404)
        .expect(1)
        .create();
    let put = store
        .mock("PUT", object.as_str())
        .match_header(
            "authorization",
            Matcher::Regex("^AWS4-HMAC-SHA256 [^B]*$".into()),
        )
        .match_header("x-amz-security-token", "session-token-456")
        .match_header("x-daytona-source", Matcher::Missing)
        .with_status(200)
        .expect(1)
        .create();
    let create = with_sdk_headers(api.mock("POST", "/api/sandbox"))
        .match_body(Matcher::PartialJson(json!({
            "buildInfo": {
                "dockerfileContent": image.dockerfile(),
                "contextHashes": [hash]
            }
        })))
        .with_body(sandbox_json("sb-1", "started").to_string())
        .expect(1)
        .create();

    let sandbox = client(&api)
        .create(CreateSandbox::from_image(image.clone()))
        .unwrap();
    assert_eq!(sandbox.state(), Some(&SandboxState::Started));
    access.assert();
    head.assert();
    put.assert();
    create.assert();
    assert!(
        image.dockerfile().contains("COPY"),
        "{}",
        image.dockerfile()
    );
}

/// `ENV` values and `ARG` defaults stay out of every `Debug` (the image, the create
/// parameters, the build info the server echoes) while the Dockerfile sent
/// to the server keeps them exactly.
#[test]
fn env_values_are_sent_exactly_and_hidden_from_debug() {
    let mut api = Server::new();
    let image = Image::base("python:3.12-slim")
        .env([("API_TOKEN", "tok-value-5e3f"), ("GREETING", "hello world")])
        .unwrap()
        .dockerfile_commands(
            [
                "ENV LEGACY_SECRET pass-phrase-99 \\",
                "    more-of-it",
                "ARG PIP_TOKEN=arg-default-77 PLAIN_ARG",
            ],
            None,
        )
        .unwrap()
        .workdir("/app")
        .unwrap();
    let sent = "FROM python:3.12-slim\nENV API_TOKEN=tok-value-5e3f\nENV GREETING='hello world'\n\
                ENV LEGACY_SECRET pass-phrase-99 \\\n    more-of-it\n\
                ARG PIP_TOKEN=arg-default-77 PLAIN_ARG\nWORKDIR /app\n";
    assert_eq!(image.dockerfile(), sent);
    let values = [
        "tok-value-5e3f",
        "hello world",
        "pass-phrase-99",
        "more-of-it",
        "arg-default-77",
    ];
    let hidden = |what: &str, debug: String| {
        for value in values {
            assert!(!debug.contains(value), "{what} shows {value:?}: {debug}");
        }
        assert!(debug.contains("API_TOKEN=<redacted>"), "{what}: {debug}");
        assert!(debug.contains("GREETING=<redacted>"), "{what}: {debug}");
        assert!(
            debug.contains("LEGACY_SECRET=<redacted>"),
            "{what}: {debug}"
        );
        assert!(
            debug.contains("ARG PIP_TOKEN=<redacted> PLAIN_ARG"),
            "{what}: {debug}"
        );
        assert!(debug.contains("WORKDIR /app"), "{what}: {debug}");
    };
    hidden("Image", format!("{image:?}"));
    let params = CreateSandbox::from_image(image.clone());
    hidden("CreateSandbox", format!("{params:?}"));
    hidden(
        "CreateSnapshot",
        format!("{:?}", CreateSnapshot::from_image("s", image)),
    );

    let mut answer = sandbox_json("sb-1", "started");
    answer["buildInfo"] = json!({"dockerfileContent": sent, "contextHashes": []});
    let create = with_sdk_headers(api.mock("POST", "/api/sandbox"))
        .match_body(Matcher::PartialJson(json!({
            "buildInfo": {"dockerfileContent": sent}
        })))
        .with_body(answer.to_string())
        .expect(1)
        .create();
    let sandbox = client(&api).create(params).unwrap();
    create.assert();
    let build = sandbox.info().build_info.as_ref().unwrap();
    assert_eq!(build.dockerfile_content.as_deref(), Some(sent));
    hidden("BuildInfo", format!("{build:?}"));
    hidden("Sandbox", format!("{sandbox:?}"));
}

/// An image whose base name is empty, holds whitespace (`python:3 AS x`)
/// or a line break or ends with `\`, or
/// whose last shell command ends with `\` (continuing into the next
/// step's line), is refused by both creates before any request, naming
/// the argument; a command continued inside itself is sent as it is.
#[test]
fn an_image_that_would_break_its_dockerfile_is_refused_before_any_request() {
    let mut api = Server::new();
    let nothing = no_requests(&mut api);
    let daytona = client(&api);
    let cases = [
        ("image", Image::base("alpine\nUSER root")),
        ("image", Image::base("alpine\r")),
        ("image", Image::base("alpine \\")),
        ("image", Image::base(" ")),
        ("image", Image::base("python:3 AS x")),
        ("image", Image::base("alpine\tx")),
        (
            "run_commands",
            Image::base("alpine")
                .run_commands(["apk add git", "echo a \\ "])
                .workdir("/w")
                .unwrap(),
        ),
        (
            "run_commands",
            Image::base("alpine").run_commands(["apk add \\\n"]),
        ),
        (
            "run_commands",
            Image::base("alpine").run_commands(["a \\\n  "]),
        ),
        (
            "run_commands",
            Image::base("alpine").run_commands(["a \\\n# note\n"]),
        ),
        (
            "run_commands",
            Image::base("alpine").run_commands(["# a \\"]),
        ),
    ];
    for (field, image) in cases {
        let errors = [
            daytona
                .create(CreateSandbox::from_image(image.clone()))
                .unwrap_err(),
            daytona
                .snapshots()
                .create(CreateSnapshot::from_image("s", image.clone()))
                .unwrap_err(),
        ];
        for err in errors {
            match err {
                daytona::Error::Validation { field: f, .. } => {
                    assert_eq!(f, field, "{}", image.dockerfile())
                }
                other => panic!("{}: {other:?}", image.dockerfile()),
            }
        }
    }
    assert_all(&nothing);
    drop(nothing);

    let sent = "FROM alpine\nRUN apk update && \\\n  apk add git\nWORKDIR /w\n";
    let create = with_sdk_headers(api.mock("POST", "/api/sandbox"))
        .match_body(Matcher::PartialJson(json!({
            "buildInfo": {"dockerfileContent": sent}
        })))
        .with_body(sandbox_json("sb-1", "started").to_string())
        .expect(1)
        .create();
    let image = Image::base("alpine")
        .run_commands(["apk update && \\\n  apk add git"])
        .workdir("/w")
        .unwrap();
    assert_eq!(image.dockerfile(), sent);
    daytona.create(CreateSandbox::from_image(image)).unwrap();
    create.assert();
}

#[test]
fn a_snapshot_from_an_image_appends_the_entrypoint_and_streams_its_build_log() {
    // The API answers the create `pending`: the log is followed once the
    // build has started (it was never followed before).
    let mut api = Server::new();
    let image = Image::debian_slim(Some("3.12"))
        .unwrap()
        .pip_install(["numpy"])
        .unwrap();
    let dockerfile = format!(
        "{}ENTRYPOINT [\"python\", \"-m\", \"app\"]\n",
        image.dockerfile()
    );
    let no_store = api
        .mock("GET", "/api/object-storage/push-access")
        .expect(0)
        .create();
    let snapshot = |state: &str| {
        json!({
            "id": "snap-1", "organizationId": "org-1", "general": false, "name": "np",
            "state": state, "size": null, "entrypoint": ["python", "-m", "app"],
            "cpu": 1, "gpu": 0, "mem": 1, "disk": 3, "errorReason": null,
            "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z",
            "lastUsedAt": null
        })
        .to_string()
    };
    let create = with_sdk_headers(api.mock("POST", "/api/snapshots"))
        .match_body(Matcher::Json(json!({
            "name": "np",
            "buildInfo": {"dockerfileContent": dockerfile},
        })))
        .with_body(snapshot("pending"))
        .expect(1)
        .create();
    let url = with_sdk_headers(api.mock("GET", "/api/snapshots/snap-1/build-logs-url"))
        .with_body(
            json!({"url": format!("{}/api/snapshots/snap-1/build-logs", api.url())}).to_string(),
        )
        .expect(1)
        .create();
    let logs = with_sdk_headers(api.mock("GET", "/api/snapshots/snap-1/build-logs"))
        .match_query(Matcher::UrlEncoded("follow".into(), "true".into()))
        .with_body("#1 FROM python\n#2 RUN pip install numpy\n")
        .expect(1)
        .create();
    let (responder, _polls) = {
        let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let c = n.clone();
        let body = move |_: &mockito::Request| {
            let i = c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            snapshot(["pending", "building"].get(i).copied().unwrap_or("active")).into_bytes()
        };
        (body, n)
    };
    let _get = api
        .mock("GET", "/api/snapshots/snap-1")
        .with_body_from_request(responder)
        .create();
    let mut lines = Vec::new();
    let snap = client(&api)
        .snapshots()
        .create_with_logs(
            CreateSnapshot::from_image("np", image)
                .entrypoint(["python", "-m", "app"])
                .timeout(Duration::from_secs(10)),
            |l| lines.push(l.to_string()),
        )
        .unwrap();
    create.assert();
    url.assert();
    logs.assert();
    no_store.assert();
    assert_eq!(snap.state, daytona::SnapshotState::Active);
    assert_eq!(
        lines,
        [
            "Creating snapshot np (pending)",
            "Creating snapshot np (building)",
            "#1 FROM python",
            "#2 RUN pip install numpy",
            "Created snapshot np (active)",
        ]
    );
}

/// A context file changed between hashing and upload (here while the
/// store answers the existence check): the upload is cut short before its
/// end, so no object is stored under the announced hash, the error says
/// why, and no sandbox is created.
#[test]
fn a_context_that_changes_after_hashing_is_never_stored_under_the_old_hash() {
    let dir = temp::TempDir::new("image-changes");
    let file = dir.file("ctx/app.py", b"print('hi')\n");
    let changed = file.clone();
    let store = FaultServer::start(move |seen| match seen.method.as_str() {
        "HEAD" => {
            // The same size, other bytes: only the content hash can tell.
            std::fs::write(&changed, b"print('HI')\n").unwrap();
            Action::status(404)
        }
        _ => Action::status(200),
    });
    let (err, hash) = create_failing(&store.url, dir.path("ctx"));
    let shown = err.to_string();
    assert!(
        shown.contains(&format!("PUT /b/org-1/{hash}/context.tar"))
            && shown.contains("the build context changed after it was hashed")
            && shown.contains("nothing is stored under that hash"),
        "{shown}"
    );
    // What the store saw: the one existence check of the object, then the
    // upload at most once (never retried) and never whole. Whether the
    // upload's head reached the store at all depends on how much the
    // client had written when the body failed, so both outcomes are
    // checked: no request, or one PUT whose body was never received.
    let object = format!("/b/org-1/{hash}/context.tar");
    let seen = store.seen();
    let routes: Vec<_> = seen.iter().map(|s| (s.method.as_str(), s.path())).collect();
    match routes.as_slice() {
        [("HEAD", head)] => assert_eq!(*head, object),
        [("HEAD", head), ("PUT", put)] => {
            assert_eq!(*head, object);
            assert_eq!(*put, object);
            let put = &seen[1];
            let length: usize = put.header("content-length").unwrap().parse().unwrap();
            assert!(length > 1024, "the whole archive was announced: {length}");
            assert!(
                put.body.is_empty(),
                "the store never received the whole body ({length} bytes announced)"
            );
        }
        other => panic!("one HEAD, then at most one PUT: {other:?}"),
    }
}

/// A context file swapped for a symbolic link between the walk (hashing)
/// and the upload (here while the store answers the existence check) is
/// not followed: the upload fails naming the file, and nothing of what the
/// link points to reaches the store.
#[cfg(unix)]
#[test]
fn a_context_file_swapped_for_a_link_after_the_walk_is_not_followed() {
    let dir = temp::TempDir::new("image-swap");
    let secret = dir.file("outside/secret.txt", b"TOP-SECRET-CONTENT\n");
    let file = dir.file("ctx/app.py", b"print('hi')\n");
    let swapped = file.clone();
    let store = FaultServer::start(move |seen| match seen.method.as_str() {
        "HEAD" => {
            std::fs::remove_file(&swapped).unwrap();
            std::os::unix::fs::symlink(&secret, &swapped).unwrap();
            Action::status(404)
        }
        _ => Action::status(200),
    });
    let (err, _) = create_failing(&store.url, dir.path("ctx"));
    let shown = err.report().to_string();
    assert!(
        shown.contains(&file.display().to_string())
            && shown.contains("replaced by a symbolic link")
            && shown.contains("not followed"),
        "{shown}"
    );
    for put in store.seen().iter().filter(|s| s.method == "PUT") {
        let body = String::from_utf8_lossy(&put.body);
        assert!(!body.contains("TOP-SECRET"), "{body}");
    }
}

/// Creates a sandbox from an image copying the folder `ctx` in, with the
/// object store at `store_url`: the error it must end in (checking that no
/// sandbox was created), and the context's hash as computed before.
fn create_failing(store_url: &str, ctx: std::path::PathBuf) -> (daytona::Error, String) {
    let mut api = Server::new();
    let _access = push_access_to(&mut api, store_url);
    let create = api.mock("POST", "/api/sandbox").expect(0).create();
    let image = Image::base("python:3.12-slim")
        .add_local_dir(ctx, "/app")
        .unwrap();
    let hash = image.contexts()[0].hash().unwrap();
    let daytona = daytona::Daytona::new(
        daytona::DaytonaConfig::new()
            .read_env(false)
            .api_key("test-key-0123456789")
            .api_url(format!("{}/api", api.url()))
            .retry_policy(fast_retries()),
    )
    .unwrap();
    let err = daytona
        .create(CreateSandbox::from_image(image))
        .unwrap_err();
    create.assert();
    (err, hash)
}

/// A Dockerfile copying the same source twice (two `COPY . /app` lines):
/// the context is checked and uploaded once, while `contextHashes` lists it
/// once per line, in order, as the other SDKs send it.
#[test]
fn a_source_copied_twice_is_uploaded_once_and_listed_twice() {
    let mut api = Server::new();
    let mut store = Server::new();
    let dir = temp::TempDir::new("image-twice");
    dir.file("app/main.py", b"print('hi')\n");
    let dockerfile = dir.file(
        "app/Dockerfile",
        b"FROM python:3.12-slim\nCOPY . /app\nCOPY . /app\n",
    );
    let image = Image::from_dockerfile(&dockerfile).unwrap();
    let hashes: Vec<String> = image.contexts().iter().map(|c| c.hash().unwrap()).collect();
    assert_eq!(hashes.len(), 2);
    assert_eq!(hashes[0], hashes[1]);
    // Asked once (a mock expects one request unless told otherwise).
    let access = push_access_to(&mut api, &store.url());
    let object = format!("/b/org-1/{}/context.tar", hashes[0]);
    let head = store
        .mock("HEAD", object.as_str())
        .with_status(404)
        .expect(1)
        .create();
    let put = store
        .mock("PUT", object.as_str())
        .with_status(200)
        .expect(1)
        .create();
    let create = with_sdk_headers(api.mock("POST", "/api/sandbox"))
        .match_body(Matcher::PartialJson(json!({
            "buildInfo": { "contextHashes": hashes }
        })))
        .with_body(sandbox_json("sb-1", "started").to_string())
        .expect(1)
        .create();
    client(&api)
        .create(CreateSandbox::from_image(image))
        .unwrap();
    for mock in [access, head, put, create] {
        mock.assert();
    }
}

/// A create whose limit passes while its build context is still being
/// hashed stops there, with a timeout naming the context, and sends
/// nothing: the context is not read to its end first.
#[test]
fn a_create_that_runs_out_of_time_while_hashing_stops_there() {
    let mut api = Server::new();
    let dir = temp::TempDir::new("image-late");
    // Tens of milliseconds to hash, far past the limit.
    dir.file("ctx/big.bin", vec![7u8; 64 * 1024 * 1024]);
    let image = Image::base("alpine")
        .add_local_dir(dir.path("ctx"), "/app")
        .unwrap();
    let nothing = api.mock("GET", Matcher::Any).expect(0).create();
    let started = std::time::Instant::now();
    let err = client(&api)
        .create(CreateSandbox::from_image(image).timeout(Duration::from_millis(1)))
        .unwrap_err();
    let daytona::Error::Timeout { operation, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(operation.contains("build context"), "{operation}");
    assert!(started.elapsed() < Duration::from_secs(5));
    nothing.assert();
}
