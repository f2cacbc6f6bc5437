//! Creating a sandbox: the arguments refused before any request (each an
//! `Error::Validation` naming the field), and next to them the values the
//! same rules let through, sent as they are.

mod common;
use common::*;

use std::time::Duration;

use daytona::{CreateSandbox, Error, Resources, VolumeMount};
use mockito::{Matcher, Server};
use serde_json::{json, Value};

/// `params` is rejected with a validation error naming `field`, and no
/// request reaches the server.
fn assert_rejected(params: CreateSandbox, field: &str) {
    let mut server = Server::new();
    let nothing = no_requests(&mut server);
    let err = client(&server).create(params).unwrap_err();
    assert_all(&nothing);
    match &err {
        Error::Validation { field: f, .. } => assert_eq!(f, field, "{err}"),
        other => panic!("expected a validation error on {field}, got {other:?}"),
    }
    assert!(err.is_validation());
    assert_eq!(err.sandbox_id(), None);
}

#[test]
fn intervals_past_what_the_api_keeps_are_rejected_before_any_request() {
    let too_many = u32::try_from(i32::MAX).unwrap() + 1;
    assert_rejected(
        CreateSandbox::new().auto_stop_interval(too_many),
        "auto_stop_interval",
    );
    assert_rejected(
        CreateSandbox::new().auto_archive_interval(u32::MAX),
        "auto_archive_interval",
    );
}

#[test]
fn empty_name_is_rejected_before_any_request() {
    assert_rejected(CreateSandbox::new().name(""), "name");
}

#[test]
fn resources_with_a_snapshot_source_are_rejected_before_any_request() {
    assert_rejected(
        CreateSandbox::from_snapshot("snap-1").resources(Resources::new().cpu(2)),
        "resources",
    );
    assert_rejected(
        CreateSandbox::new().resources(Resources::new().memory(4)),
        "resources",
    );
}

#[test]
fn unsupported_language_label_is_rejected_before_any_request() {
    assert_rejected(
        CreateSandbox::new().label("code-toolbox-language", "ruby"),
        "labels.code-toolbox-language",
    );
}

/// Names the sandbox's environment cannot hold: empty, with `=` (the
/// split of `NAME=value`) or with a NUL; nor a value with a NUL.
#[test]
fn env_names_a_process_environment_cannot_hold_are_rejected_before_any_request() {
    for name in ["", "A=B", "A\0B"] {
        assert_rejected(CreateSandbox::new().env("OK", "1").env(name, "x"), "env");
    }
    assert_rejected(CreateSandbox::new().env("A", "x\0y"), "env");
}

/// The API links only an ephemeral new sandbox (auto-delete interval 0)
/// to another one.
#[test]
fn a_linked_sandbox_that_is_not_ephemeral_is_rejected_before_any_request() {
    assert_rejected(
        CreateSandbox::new().linked_sandbox("sb-0"),
        "linked_sandbox",
    );
    assert_rejected(
        CreateSandbox::new()
            .linked_sandbox("sb-0")
            .auto_delete_interval(-1),
        "linked_sandbox",
    );
}

#[test]
fn zero_timeout_is_rejected_before_any_request() {
    assert_rejected(CreateSandbox::new().timeout(Duration::ZERO), "timeout");
}

#[test]
fn empty_volume_id_is_rejected_before_any_request() {
    assert_rejected(
        CreateSandbox::new()
            .volume(VolumeMount::new("vol-1", "/data"))
            .volume(VolumeMount::new("", "/cache")),
        "volumes[1].volume_id",
    );
}

/// The mount paths and subpaths the API refuses (its create validates
/// them) are refused before any request, naming the volume's field.
#[test]
fn mount_paths_and_subpaths_the_api_refuses_are_rejected_before_any_request() {
    for path in [
        "data",
        "",
        "/",
        "//",
        "/data/../etc",
        "/data/.",
        "/./data",
        "/..",
        "/data//x",
        "/proc",
        "/etc/app",
        "/lib64",
        "/dev/shm",
    ] {
        assert_rejected(
            CreateSandbox::new()
                .volume(VolumeMount::new("vol-1", "/data"))
                .volume(VolumeMount::new("vol-2", path)),
            "volumes[1].mount_path",
        );
    }
    for subpath in ["/users/alice", "users/../bob", "a..b", "users//alice"] {
        assert_rejected(
            CreateSandbox::new().volume(VolumeMount::new("vol-1", "/data").subpath(subpath)),
            "volumes[0].subpath",
        );
    }
}

/// A create with `params` sends exactly `body` (with the SDK headers, no
/// query), once.
fn assert_sent(params: CreateSandbox, body: Value) {
    let mut server = Server::new();
    let post = reply_json(
        expect_json_body(
            api_mock(&mut server, "POST", "/api/sandbox").match_query(Matcher::Missing),
            body,
        ),
        200,
        &sandbox_json("sb-1", "started"),
    )
    .expect(1)
    .create();
    client(&server).create(params).unwrap();
    post.assert();
}

#[test]
fn create_keeps_a_valid_language_label() {
    assert_sent(
        CreateSandbox::new().label("code-toolbox-language", "javascript"),
        json!({ "labels": { "code-toolbox-language": "javascript" } }),
    );
}

#[test]
fn ephemeral_forces_auto_delete_interval_zero() {
    let body = json!({
        "labels": { "code-toolbox-language": "python" },
        "autoDeleteInterval": 0
    });
    assert_sent(
        CreateSandbox::new()
            .auto_delete_interval(120)
            .ephemeral(true),
        body.clone(),
    );
    assert_sent(CreateSandbox::new().ephemeral(true), body);
}

#[test]
fn an_ephemeral_sandbox_is_linked() {
    let body = json!({
        "labels": { "code-toolbox-language": "python" },
        "autoDeleteInterval": 0,
        "linkedSandbox": "sb-0"
    });
    assert_sent(
        CreateSandbox::new().linked_sandbox("sb-0").ephemeral(true),
        body.clone(),
    );
    assert_sent(
        CreateSandbox::new()
            .auto_delete_interval(0)
            .linked_sandbox("sb-0"),
        body,
    );
}

/// What the API takes goes out as it is.
#[test]
fn mount_paths_the_api_takes_are_sent() {
    assert_sent(
        CreateSandbox::new()
            .volume(VolumeMount::new("v1", "/home/daytona/data"))
            .volume(VolumeMount::new("v2", "/libs/"))
            .volume(VolumeMount::new("v3", "/etcetera").subpath(""))
            .volume(VolumeMount::new("v4", "/x.y/..z").subpath("users/al.ice/")),
        json!({
            "labels": { "code-toolbox-language": "python" },
            "volumes": [
                { "volumeId": "v1", "mountPath": "/home/daytona/data" },
                { "volumeId": "v2", "mountPath": "/libs/" },
                { "volumeId": "v3", "mountPath": "/etcetera", "subpath": "" },
                { "volumeId": "v4", "mountPath": "/x.y/..z", "subpath": "users/al.ice/" }
            ]
        }),
    );
}
