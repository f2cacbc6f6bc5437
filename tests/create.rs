mod common;
use common::*;

use std::time::{Duration, Instant};

use daytona::models::GpuType;
use daytona::{
    CodeLanguage, CreateSandbox, Daytona, Error, NetworkSettings, Resources, SandboxState,
    VolumeMount,
};
use mockito::{Matcher, Mock, Server};
use serde_json::{json, Value};

/// `POST /api/sandbox` with no query, the SDK headers and exactly `body`.
fn create_mock(server: &mut Server, body: Value) -> Mock {
    expect_json_body(
        api_mock(server, "POST", "/api/sandbox").match_query(Matcher::Missing),
        body,
    )
}

/// `GET /api/sandbox/{id}` with no query and no body.
fn get_mock(server: &mut Server, id: &str) -> Mock {
    expect_no_body(
        api_mock(server, "GET", &format!("/api/sandbox/{id}")).match_query(Matcher::Missing),
    )
}

/// The body of a create that sets nothing: only the default language label.
fn default_body() -> Value {
    json!({ "labels": { "code-toolbox-language": "python" } })
}

#[test]
fn create_from_default_snapshot_sends_only_the_language_label() {
    let mut server = Server::new();
    let post = reply_json(
        create_mock(&mut server, default_body()),
        200,
        &sandbox_json("sb-1", "started"),
    )
    .expect(1)
    .create();
    let get = api_mock(&mut server, "GET", "/api/sandbox/sb-1")
        .match_query(Matcher::Any)
        .expect(0)
        .create();

    let sb = client(&server).create(CreateSandbox::new()).unwrap();

    post.assert();
    get.assert();
    assert_eq!(sb.id(), "sb-1");
    assert_eq!(sb.state(), Some(&SandboxState::Started));
}

#[test]
fn create_from_named_snapshot_sends_the_snapshot() {
    let mut server = Server::new();
    let post = reply_json(
        create_mock(
            &mut server,
            json!({
                "snapshot": "daytonaio/sandbox:0.4.3",
                "labels": { "code-toolbox-language": "python" }
            }),
        ),
        200,
        &sandbox_json("sb-1", "started"),
    )
    .expect(1)
    .create();

    let sb = client(&server)
        .create(CreateSandbox::from_snapshot("daytonaio/sandbox:0.4.3"))
        .unwrap();

    post.assert();
    assert_eq!(
        sb.info().snapshot.as_deref(),
        Some("daytonaio/sandbox:0.4.3")
    );
}

#[test]
fn create_from_image_sends_a_dockerfile_and_no_snapshot() {
    let mut server = Server::new();
    // Matcher::Json is exact, so a `snapshot` key would fail the match.
    let post = reply_json(
        create_mock(
            &mut server,
            json!({
                "buildInfo": { "dockerfileContent": "FROM python:3.12-slim\n" },
                "labels": { "code-toolbox-language": "python" }
            }),
        ),
        200,
        &sandbox_json("sb-1", "started"),
    )
    .expect(1)
    .create();

    client(&server)
        .create(CreateSandbox::from_image("python:3.12-slim"))
        .unwrap();

    post.assert();
}

#[test]
fn create_from_image_sends_every_resource() {
    let mut server = Server::new();
    let post = reply_json(
        create_mock(
            &mut server,
            json!({
                "buildInfo": { "dockerfileContent": "FROM ubuntu:24.04\n" },
                "labels": { "code-toolbox-language": "python" },
                "cpu": 2,
                "gpu": 1,
                "gpuType": ["H100", "RTX-PRO-6000"],
                "memory": 4,
                "disk": 10
            }),
        ),
        200,
        &sandbox_json("sb-1", "started"),
    )
    .expect(1)
    .create();

    client(&server)
        .create(
            CreateSandbox::from_image("ubuntu:24.04").resources(
                Resources::new()
                    .cpu(2)
                    .gpu(1)
                    .gpu_type(GpuType::H100)
                    .gpu_type(GpuType::RtxPro6000)
                    .memory(4)
                    .disk(10),
            ),
        )
        .unwrap();

    post.assert();
}

#[test]
fn create_maps_every_field_to_its_json_key() {
    let mut server = Server::new();
    let post = reply_json(
        create_mock(
            &mut server,
            json!({
                "snapshot": "snap-1",
                "name": "worker-1",
                "user": "root",
                "env": { "RUST_LOG": "debug", "B": "two" },
                "labels": { "team": "infra", "code-toolbox-language": "typescript" },
                "public": true,
                "autoStopInterval": 30,
                "autoArchiveInterval": 60,
                "autoDeleteInterval": 0,
                "volumes": [
                    { "volumeId": "vol-1", "mountPath": "/data", "subpath": "users/alice" },
                    { "volumeId": "vol-2", "mountPath": "/cache" }
                ],
                "networkBlockAll": true,
                "networkAllowList": "10.0.0.0/8,192.168.0.0/16",
                "domainAllowList": "example.com,*.daytona.io",
                "linkedSandbox": "sb-0",
                "target": "eu"
            }),
        ),
        200,
        &sandbox_json("sb-1", "started"),
    )
    .expect(1)
    .create();
    let daytona = Daytona::new(config(&server).target("eu").poll_schedule(fast_poll())).unwrap();

    daytona
        .create(
            CreateSandbox::from_snapshot("snap-1")
                .name("worker-1")
                .user("root")
                .env("RUST_LOG", "debug")
                .envs([("B", "two")])
                .labels([("team", "infra")])
                .language(CodeLanguage::TypeScript)
                .public(true)
                .auto_stop_interval(30)
                .auto_archive_interval(60)
                .auto_delete_interval(0)
                .volume(VolumeMount::new("vol-1", "/data").subpath("users/alice"))
                .volume(VolumeMount::new("vol-2", "/cache"))
                .network(
                    NetworkSettings::new()
                        .block_all(true)
                        .allow_list("10.0.0.0/8,192.168.0.0/16")
                        .domain_allow_list("example.com,*.daytona.io"),
                )
                .linked_sandbox("sb-0"),
        )
        .unwrap();

    post.assert();
}

/// The field map above sends `autoDeleteInterval: 0` (a linked sandbox is
/// ephemeral): a count of minutes, and `-1` (never), are sent as set.
#[test]
fn create_sends_the_auto_delete_interval_as_set() {
    let mut server = Server::new();
    let daytona = client(&server);
    for minutes in [120, -1] {
        let post = reply_json(
            create_mock(
                &mut server,
                json!({
                    "labels": { "code-toolbox-language": "python" },
                    "autoDeleteInterval": minutes
                }),
            ),
            200,
            &sandbox_json("sb-1", "started"),
        )
        .expect(1)
        .create();
        daytona
            .create(CreateSandbox::new().auto_delete_interval(minutes))
            .unwrap();
        post.assert();
        post.remove();
    }
}

#[test]
fn create_waits_until_started_on_the_third_poll() {
    let mut server = Server::new();
    let post = reply_json(
        create_mock(&mut server, default_body()),
        200,
        &sandbox_json("sb-1", "creating"),
    )
    .expect(1)
    .create();
    let (responder, polls) = state_sequence("sb-1", &["starting", "starting", "started"]);
    let get = get_mock(&mut server, "sb-1")
        .with_status(200)
        .with_header("content-type", "application/json")
        .with_body_from_request(responder)
        .expect(3)
        .create();

    let sb = client(&server).create(CreateSandbox::new()).unwrap();

    post.assert();
    get.assert();
    assert_eq!(count(&polls), 3);
    assert_eq!(sb.state(), Some(&SandboxState::Started));
}

#[test]
fn create_fails_at_once_when_the_sandbox_enters_error() {
    let mut server = Server::new();
    let post = reply_json(
        create_mock(&mut server, default_body()),
        200,
        &sandbox_json("sb-1", "creating"),
    )
    .expect(1)
    .create();
    let get = reply_json(
        get_mock(&mut server, "sb-1"),
        200,
        &failed_sandbox_json("sb-1", "error", "no runner available"),
    )
    .expect(1)
    .create();

    let err = client(&server).create(CreateSandbox::new()).unwrap_err();

    post.assert();
    get.assert();
    assert!(matches!(err, Error::AfterCreate { .. }), "{err:?}");
    assert_eq!(err.sandbox_id(), Some("sb-1"));
    match err.root() {
        Error::SandboxFailed { id, state, reason } => {
            assert_eq!(id, "sb-1");
            assert_eq!(state, &SandboxState::Error);
            assert_eq!(reason.as_deref(), Some("no runner available"));
        }
        other => panic!("expected SandboxFailed, got {other:?}"),
    }
    assert!(err.is_sandbox_failed(), "{err:?}");
    // The reason is the cause's, shown once in the chain.
    assert_eq!(
        err.report().to_string(),
        "sandbox sb-1 was created but is not usable: \
         sandbox sb-1 entered state `error`: no runner available"
    );
}

#[test]
fn create_fails_at_once_when_the_build_fails() {
    let mut server = Server::new();
    let post = reply_json(
        create_mock(
            &mut server,
            json!({
                "buildInfo": { "dockerfileContent": "FROM nosuch/image:1\n" },
                "labels": { "code-toolbox-language": "python" }
            }),
        ),
        200,
        &sandbox_json("sb-1", "pending_build"),
    )
    .expect(1)
    .create();
    let (responder, polls) = state_sequence("sb-1", &["building_snapshot"]);
    let building = get_mock(&mut server, "sb-1")
        .with_status(200)
        .with_header("content-type", "application/json")
        .with_body_from_request(responder)
        .expect(1)
        .create();
    let failed = reply_json(
        get_mock(&mut server, "sb-1"),
        200,
        &failed_sandbox_json("sb-1", "build_failed", "manifest unknown"),
    )
    .expect(1)
    .create();

    let err = client(&server)
        .create(CreateSandbox::from_image("nosuch/image:1"))
        .unwrap_err();

    post.assert();
    building.assert();
    failed.assert();
    assert_eq!(count(&polls), 1);
    assert_eq!(err.sandbox_id(), Some("sb-1"));
    match err.root() {
        Error::SandboxFailed { id, state, reason } => {
            assert_eq!(id, "sb-1");
            assert_eq!(state, &SandboxState::BuildFailed);
            assert_eq!(reason.as_deref(), Some("manifest unknown"));
        }
        other => panic!("expected SandboxFailed, got {other:?}"),
    }
}

#[test]
fn create_answered_with_error_state_fails_without_polling() {
    let mut server = Server::new();
    let post = reply_json(
        create_mock(&mut server, default_body()),
        200,
        &failed_sandbox_json("sb-1", "error", "quota exceeded"),
    )
    .expect(1)
    .create();
    let get = api_mock(&mut server, "GET", "/api/sandbox/sb-1")
        .match_query(Matcher::Any)
        .expect(0)
        .create();

    let err = client(&server).create(CreateSandbox::new()).unwrap_err();

    post.assert();
    get.assert();
    assert_eq!(err.sandbox_id(), Some("sb-1"));
    assert!(
        matches!(
            err.root(),
            Error::SandboxFailed {
                state: SandboxState::Error,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn create_times_out_at_the_deadline_with_the_default_poll_schedule() {
    let mut server = Server::new();
    let post = reply_json(
        create_mock(&mut server, default_body()),
        200,
        &sandbox_json("sb-1", "creating"),
    )
    .expect(1)
    .create();
    let (responder, polls) = state_sequence("sb-1", &["starting"]);
    // The default schedule (100 ms, then every 140 ms until 1 s, then 20 %
    // of the time waited) checks 9 times in 1.5 s; a busy loop would check
    // far more often, a stalled one far less.
    let get = get_mock(&mut server, "sb-1")
        .with_status(200)
        .with_header("content-type", "application/json")
        .with_body_from_request(responder)
        .expect_at_least(6)
        .expect_at_most(12)
        .create();
    // Not `client()`: keep the default poll schedule.
    let daytona = Daytona::new(config(&server)).unwrap();

    let started = Instant::now();
    let err = daytona
        .create(CreateSandbox::new().timeout(Duration::from_millis(1500)))
        .unwrap_err();
    let took = started.elapsed();

    post.assert();
    get.assert();
    assert!(
        on_time(took, Duration::from_millis(1500)),
        "took {took:?} ({} polls)",
        count(&polls)
    );
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(err.sandbox_id(), Some("sb-1"));
    assert!(matches!(err, Error::AfterCreate { .. }), "{err:?}");
    let text = err.report().to_string();
    assert!(text.contains("waiting for sandbox sb-1 to start"), "{text}");
}

#[test]
fn create_answered_503_is_sent_once_and_returns_the_api_error() {
    let mut server = Server::new();
    let post = reply_json(
        create_mock(&mut server, default_body()),
        503,
        &json!({ "statusCode": 503, "message": "runners are busy", "error": "Service Unavailable" }),
    )
    .expect(1)
    .create();
    let get = api_mock(&mut server, "GET", "/api/sandbox/sb-1")
        .match_query(Matcher::Any)
        .expect(0)
        .create();

    let err = client(&server).create(CreateSandbox::new()).unwrap_err();

    post.assert();
    get.assert();
    assert_eq!(err.status(), Some(503));
    assert!(matches!(err, Error::Api(_)), "{err:?}");
    assert_eq!(err.sandbox_id(), None);
    let api = err.api().unwrap();
    assert_eq!(api.message, "runners are busy");
    assert_eq!(api.operation, "POST /api/sandbox");
}

#[test]
fn create_answered_429_is_retried_and_succeeds() {
    let mut server = Server::new();
    let limited = reply_json(
        create_mock(&mut server, default_body()),
        429,
        &json!({ "statusCode": 429, "message": "Too many requests" }),
    )
    .expect(1)
    .create();
    let accepted = reply_json(
        create_mock(&mut server, default_body()),
        200,
        &sandbox_json("sb-1", "started"),
    )
    .expect(1)
    .create();

    let sb = client(&server).create(CreateSandbox::new()).unwrap();

    limited.assert();
    accepted.assert();
    assert_eq!(sb.id(), "sb-1");
}

#[test]
fn a_transient_error_while_waiting_does_not_end_the_wait() {
    let mut server = Server::new();
    let post = reply_json(
        create_mock(&mut server, default_body()),
        200,
        &sandbox_json("sb-1", "creating"),
    )
    .expect(1)
    .create();
    let unavailable = reply_json(
        get_mock(&mut server, "sb-1"),
        503,
        &json!({ "statusCode": 503, "message": "try again" }),
    )
    .expect(1)
    .create();
    let (responder, polls) = state_sequence("sb-1", &["started"]);
    let started = get_mock(&mut server, "sb-1")
        .with_status(200)
        .with_header("content-type", "application/json")
        .with_body_from_request(responder)
        .expect(1)
        .create();

    let sb = client(&server).create(CreateSandbox::new()).unwrap();

    post.assert();
    unavailable.assert();
    started.assert();
    assert_eq!(count(&polls), 1);
    assert_eq!(sb.state(), Some(&SandboxState::Started));
}

#[test]
fn create_answered_started_makes_no_get() {
    let mut server = Server::new();
    let post = reply_json(
        create_mock(&mut server, default_body()),
        200,
        &sandbox_json("sb-9", "started"),
    )
    .expect(1)
    .create();
    let any_get = api_mock(&mut server, "GET", "/api/sandbox/sb-9")
        .match_query(Matcher::Any)
        .expect(0)
        .create();

    let sb = client(&server).create(CreateSandbox::new()).unwrap();

    post.assert();
    any_get.assert();
    assert_eq!(sb.id(), "sb-9");
    assert_eq!(sb.name(), "name-sb-9");
}
