mod common;
use common::*;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use daytona::{Daytona, Error, NetworkSettings, Resize, Sandbox, SandboxState};
use mockito::{Matcher, Mock, Server, ServerGuard};
use serde_json::json;

/// A mock of `method /api/sandbox/{rest}` with the SDK headers.
fn sb_mock(server: &mut Server, method: &str, rest: &str) -> Mock {
    api_mock(server, method, &format!("/api/sandbox/{rest}"))
}

/// A `GET /api/sandbox/{id}` poll mock answering `states` in turn.
fn poll_mock(
    server: &mut Server,
    id: &str,
    states: &[&str],
) -> (Mock, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let (responder, polls) = state_sequence(id, states);
    let mock = expect_no_body(sb_mock(server, "GET", id).match_query(Matcher::Missing))
        .with_status(200)
        .with_header("content-type", "application/json")
        .with_body_from_request(responder);
    (mock, polls)
}

/// Fetches a handle on sandbox `id` in `state` (one checked GET whose mock
/// is then removed, so that later mocks of the same path stand alone).
fn fetch(server: &mut Server, daytona: &Daytona, id: &str, state: &str) -> Sandbox {
    let m = reply_json(
        expect_no_body(sb_mock(server, "GET", id).match_query(Matcher::Missing)),
        200,
        &sandbox_json(id, state),
    )
    .expect(1)
    .create();
    let sb = daytona.get(id).unwrap();
    m.assert();
    m.remove();
    sb
}

fn setup(state: &str) -> (ServerGuard, Daytona, Sandbox) {
    let mut server = Server::new();
    let daytona = client(&server);
    let sb = fetch(&mut server, &daytona, "sb-1", state);
    (server, daytona, sb)
}

fn assert_validation(err: &Error, field: &str) {
    match err {
        Error::Validation { field: f, .. } => assert_eq!(f, field, "{err}"),
        other => panic!("expected a validation error on {field}, got {other:?}"),
    }
}

#[test]
fn refresh_replaces_the_info() {
    let (mut server, _daytona, mut sb) = setup("started");
    let get = reply_json(
        expect_no_body(sb_mock(&mut server, "GET", "sb-1").match_query(Matcher::Missing)),
        200,
        &sandbox_json("sb-1", "stopped"),
    )
    .expect(1)
    .create();

    sb.refresh().unwrap();

    get.assert();
    assert_eq!(sb.state(), Some(&SandboxState::Stopped));
}

#[test]
fn start_posts_then_waits_until_started() {
    let (mut server, _daytona, mut sb) = setup("stopped");
    let post = reply_json(
        expect_no_body(sb_mock(&mut server, "POST", "sb-1/start").match_query(Matcher::Missing)),
        200,
        &sandbox_json("sb-1", "starting"),
    )
    .expect(1)
    .create();
    let (get, polls) = poll_mock(&mut server, "sb-1", &["starting", "starting", "started"]);
    let get = get.expect(3).create();

    sb.start().unwrap();

    post.assert();
    get.assert();
    assert_eq!(count(&polls), 3);
    assert_eq!(sb.state(), Some(&SandboxState::Started));
}

#[test]
fn start_of_a_sandbox_that_enters_error_fails_with_its_reason() {
    let (mut server, _daytona, mut sb) = setup("stopped");
    let post = reply_json(
        expect_no_body(sb_mock(&mut server, "POST", "sb-1/start").match_query(Matcher::Missing)),
        200,
        &sandbox_json("sb-1", "starting"),
    )
    .expect(1)
    .create();
    let get = reply_json(
        expect_no_body(sb_mock(&mut server, "GET", "sb-1").match_query(Matcher::Missing)),
        200,
        &failed_sandbox_json("sb-1", "error", "disk full"),
    )
    .expect(1)
    .create();

    let err = sb.start().unwrap_err();

    post.assert();
    get.assert();
    // Not a create: no AfterCreate wrapper.
    match &err {
        Error::SandboxFailed { id, state, reason } => {
            assert_eq!(id, "sb-1");
            assert_eq!(state, &SandboxState::Error);
            assert_eq!(reason.as_deref(), Some("disk full"));
        }
        other => panic!("expected SandboxFailed, got {other:?}"),
    }
}

#[test]
fn stop_posts_without_force_then_waits_until_stopped() {
    let (mut server, _daytona, mut sb) = setup("started");
    let post = reply_json(
        expect_no_body(sb_mock(&mut server, "POST", "sb-1/stop").match_query(Matcher::Missing)),
        200,
        &sandbox_json("sb-1", "stopping"),
    )
    .expect(1)
    .create();
    let (get, polls) = poll_mock(&mut server, "sb-1", &["stopping", "stopped"]);
    let get = get.expect(2).create();

    sb.stop().unwrap();

    post.assert();
    get.assert();
    assert_eq!(count(&polls), 2);
    assert_eq!(sb.state(), Some(&SandboxState::Stopped));
}

#[test]
fn stop_with_force_sends_force_true() {
    let (mut server, _daytona, mut sb) = setup("started");
    let post = reply_json(
        expect_no_body(
            sb_mock(&mut server, "POST", "sb-1/stop")
                .match_query(Matcher::Exact("force=true".into())),
        ),
        200,
        &sandbox_json("sb-1", "stopping"),
    )
    .expect(1)
    .create();
    let (get, polls) = poll_mock(&mut server, "sb-1", &["stopped"]);
    let get = get.expect(1).create();

    sb.force_stop_with_timeout(Duration::from_secs(5)).unwrap();

    post.assert();
    get.assert();
    assert_eq!(count(&polls), 1);
}

#[test]
fn daytona_stop_is_the_sandbox_stop() {
    let (mut server, daytona, mut sb) = setup("started");
    let post = reply_json(
        expect_no_body(sb_mock(&mut server, "POST", "sb-1/stop").match_query(Matcher::Missing)),
        200,
        &sandbox_json("sb-1", "stopped"),
    )
    .expect(1)
    .create();
    let get = sb_mock(&mut server, "GET", "sb-1")
        .match_query(Matcher::Any)
        .expect(0)
        .create();

    daytona.stop(&mut sb).unwrap();

    post.assert();
    get.assert();
    assert_eq!(sb.state(), Some(&SandboxState::Stopped));
}

#[test]
fn stop_wait_treats_destroyed_as_stopped() {
    let (mut server, _daytona, mut sb) = setup("started");
    let post = reply_json(
        expect_no_body(sb_mock(&mut server, "POST", "sb-1/stop").match_query(Matcher::Missing)),
        200,
        &sandbox_json("sb-1", "stopping"),
    )
    .expect(1)
    .create();
    let (get, polls) = poll_mock(&mut server, "sb-1", &["stopping", "destroyed"]);
    let get = get.expect(2).create();

    sb.stop().unwrap();

    post.assert();
    get.assert();
    assert_eq!(count(&polls), 2);
    assert_eq!(sb.state(), Some(&SandboxState::Destroyed));
}

#[test]
fn stop_wait_treats_404_as_stopped() {
    let (mut server, _daytona, mut sb) = setup("started");
    let post = reply_json(
        expect_no_body(sb_mock(&mut server, "POST", "sb-1/stop").match_query(Matcher::Missing)),
        200,
        &sandbox_json("sb-1", "stopping"),
    )
    .expect(1)
    .create();
    let gone = reply_json(
        expect_no_body(sb_mock(&mut server, "GET", "sb-1").match_query(Matcher::Missing)),
        404,
        &json!({ "statusCode": 404, "message": "Sandbox not found", "error": "Not Found" }),
    )
    .expect(1)
    .create();

    sb.stop().unwrap();

    post.assert();
    gone.assert();
    assert_eq!(sb.state(), Some(&SandboxState::Destroyed));
}

#[test]
fn stop_wait_fails_when_the_sandbox_enters_error() {
    let (mut server, _daytona, mut sb) = setup("started");
    let post = reply_json(
        expect_no_body(sb_mock(&mut server, "POST", "sb-1/stop").match_query(Matcher::Missing)),
        200,
        &sandbox_json("sb-1", "stopping"),
    )
    .expect(1)
    .create();
    let get = reply_json(
        expect_no_body(sb_mock(&mut server, "GET", "sb-1").match_query(Matcher::Missing)),
        200,
        &failed_sandbox_json("sb-1", "error", "runner lost"),
    )
    .expect(1)
    .create();

    let err = sb.stop().unwrap_err();

    post.assert();
    get.assert();
    match &err {
        Error::SandboxFailed { id, state, reason } => {
            assert_eq!(id, "sb-1");
            assert_eq!(state, &SandboxState::Error);
            assert_eq!(reason.as_deref(), Some("runner lost"));
        }
        other => panic!("expected SandboxFailed, got {other:?}"),
    }
    assert_eq!(err.sandbox_id(), Some("sb-1"));
}

#[test]
fn recover_posts_without_skip_start_then_waits_until_started() {
    let (mut server, _daytona, mut sb) = setup("error");
    let post = reply_json(
        expect_no_body(sb_mock(&mut server, "POST", "sb-1/recover").match_query(Matcher::Missing)),
        200,
        &sandbox_json("sb-1", "starting"),
    )
    .expect(1)
    .create();
    let (get, polls) = poll_mock(&mut server, "sb-1", &["starting", "started"]);
    let get = get.expect(2).create();

    sb.recover().unwrap();

    post.assert();
    get.assert();
    assert_eq!(count(&polls), 2);
    assert_eq!(sb.state(), Some(&SandboxState::Started));
}

#[test]
fn pause_waits_while_pausing() {
    let (mut server, _daytona, mut sb) = setup("started");
    let post = reply_json(
        expect_no_body(sb_mock(&mut server, "POST", "sb-1/pause").match_query(Matcher::Missing)),
        200,
        &sandbox_json("sb-1", "pausing"),
    )
    .expect(1)
    .create();
    let (get, polls) = poll_mock(&mut server, "sb-1", &["pausing", "pausing", "paused"]);
    let get = get.expect(3).create();

    sb.pause().unwrap();

    post.assert();
    get.assert();
    assert_eq!(count(&polls), 3);
    assert_eq!(sb.state(), Some(&SandboxState::Paused));
}

#[test]
fn pause_that_ends_in_error_fails() {
    let (mut server, _daytona, mut sb) = setup("started");
    let post = reply_json(
        expect_no_body(sb_mock(&mut server, "POST", "sb-1/pause").match_query(Matcher::Missing)),
        200,
        &sandbox_json("sb-1", "pausing"),
    )
    .expect(1)
    .create();
    let get = reply_json(
        expect_no_body(sb_mock(&mut server, "GET", "sb-1").match_query(Matcher::Missing)),
        200,
        &failed_sandbox_json("sb-1", "error", "pause failed"),
    )
    .expect(1)
    .create();

    let err = sb.pause().unwrap_err();

    post.assert();
    get.assert();
    match &err {
        Error::SandboxFailed { state, reason, .. } => {
            assert_eq!(state, &SandboxState::Error);
            assert_eq!(reason.as_deref(), Some("pause failed"));
        }
        other => panic!("expected SandboxFailed, got {other:?}"),
    }
}

#[test]
fn pause_that_never_finishes_is_a_timeout() {
    let (mut server, _daytona, mut sb) = setup("started");
    let post = reply_json(
        expect_no_body(sb_mock(&mut server, "POST", "sb-1/pause").match_query(Matcher::Missing)),
        200,
        &sandbox_json("sb-1", "pausing"),
    )
    .expect(1)
    .create();
    let (get, polls) = poll_mock(&mut server, "sb-1", &["pausing"]);
    let get = get.expect_at_least(1).create();

    let limit = Duration::from_millis(300);
    let started = Instant::now();
    let err = sb.pause_with_timeout(limit).unwrap_err();
    let took = started.elapsed();

    // What matters, whatever the machine's load: the wait kept checking
    // the state, gave up with a timeout, not before its limit and not long
    // after it. (How many checks fit in 300 ms is the scheduler's affair.)
    post.assert();
    get.assert();
    assert!(count(&polls) >= 1);
    match &err {
        Error::Timeout { operation, after } => {
            assert!(operation.contains("to pause"), "{operation}");
            assert!(*after >= limit, "{after:?}");
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(
        took >= limit && took < limit + Duration::from_secs(3),
        "{took:?}"
    );
    assert_eq!(sb.state(), Some(&SandboxState::Pausing));
}

#[test]
fn resize_sends_the_exact_body_and_waits_while_resizing() {
    let (mut server, _daytona, mut sb) = setup("started");
    let post = reply_json(
        expect_json_body(
            sb_mock(&mut server, "POST", "sb-1/resize").match_query(Matcher::Missing),
            json!({ "cpu": 2, "memory": 4 }),
        ),
        200,
        &sandbox_json("sb-1", "resizing"),
    )
    .expect(1)
    .create();
    let (get, polls) = poll_mock(&mut server, "sb-1", &["resizing", "started"]);
    let get = get.expect(2).create();

    sb.resize(Resize::new().cpu(2).memory(4)).unwrap();

    post.assert();
    get.assert();
    assert_eq!(count(&polls), 2);
    assert_eq!(sb.state(), Some(&SandboxState::Started));
}

#[test]
fn resize_that_ends_in_error_fails() {
    let (mut server, _daytona, mut sb) = setup("stopped");
    let post = reply_json(
        expect_json_body(
            sb_mock(&mut server, "POST", "sb-1/resize").match_query(Matcher::Missing),
            json!({ "disk": 20 }),
        ),
        200,
        &sandbox_json("sb-1", "resizing"),
    )
    .expect(1)
    .create();
    let get = reply_json(
        expect_no_body(sb_mock(&mut server, "GET", "sb-1").match_query(Matcher::Missing)),
        200,
        &failed_sandbox_json("sb-1", "error", "disk cannot shrink"),
    )
    .expect(1)
    .create();

    let err = sb.resize(Resize::new().disk(20)).unwrap_err();

    post.assert();
    get.assert();
    assert!(
        matches!(
            &err,
            Error::SandboxFailed {
                state: SandboxState::Error,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn empty_or_zero_resize_is_rejected_before_any_request() {
    let (mut server, _daytona, mut sb) = setup("started");
    let nothing = no_requests(&mut server);

    let err = sb.resize(Resize::new()).unwrap_err();
    assert_validation(&err, "resize");
    let err = sb.resize(Resize::new().cpu(0)).unwrap_err();
    assert_validation(&err, "cpu");

    assert_all(&nothing);
}

#[test]
fn archive_posts_then_waits_until_archived() {
    let (mut server, _daytona, mut sb) = setup("stopped");
    let post = reply_json(
        expect_no_body(sb_mock(&mut server, "POST", "sb-1/archive").match_query(Matcher::Missing)),
        200,
        &sandbox_json("sb-1", "archiving"),
    )
    .expect(1)
    .create();
    let (get, polls) = poll_mock(&mut server, "sb-1", &["archiving", "archived"]);
    let get = get.expect(2).create();

    sb.archive().unwrap();

    post.assert();
    get.assert();
    assert_eq!(count(&polls), 2);
    assert_eq!(sb.state(), Some(&SandboxState::Archived));
}

/// `DELETE /api/sandbox/sb-1` answered with the sandbox in `state`.
fn delete_mock(server: &mut Server, state: &str) -> Mock {
    reply_json(
        expect_no_body(sb_mock(server, "DELETE", "sb-1").match_query(Matcher::Missing)),
        200,
        &sandbox_json("sb-1", state),
    )
    .expect(1)
    .create()
}

#[test]
fn delete_waits_until_the_sandbox_is_destroyed() {
    let (mut server, _daytona, mut sb) = setup("started");
    let del = delete_mock(&mut server, "destroying");
    let (get, polls) = poll_mock(
        &mut server,
        "sb-1",
        &["destroying", "destroying", "destroyed"],
    );
    let get = get.expect(3).create();

    sb.delete().unwrap();

    del.assert();
    get.assert();
    assert_eq!(count(&polls), 3);
    assert_eq!(sb.state(), Some(&SandboxState::Destroyed));
}

#[test]
fn delete_ends_when_the_sandbox_is_no_longer_found() {
    let (mut server, daytona, mut sb) = setup("started");
    let del = delete_mock(&mut server, "destroying");
    let gone = reply_json(
        expect_no_body(sb_mock(&mut server, "GET", "sb-1").match_query(Matcher::Missing)),
        404,
        &json!({ "statusCode": 404, "message": "Sandbox not found", "error": "Not Found" }),
    )
    .expect(1)
    .create();

    daytona.delete(&mut sb, Duration::from_secs(5)).unwrap();

    del.assert();
    gone.assert();
    assert_eq!(sb.state(), Some(&SandboxState::Destroyed));
}

#[test]
fn delete_that_never_finishes_is_a_timeout_within_its_limit() {
    let (mut server, daytona, mut sb) = setup("started");
    let del = delete_mock(&mut server, "destroying");
    let (get, _polls) = poll_mock(&mut server, "sb-1", &["destroying"]);
    let get = get.expect_at_least(1).create();

    let limit = Duration::from_millis(300);
    let started = Instant::now();
    let err = daytona.delete(&mut sb, limit).unwrap_err();

    del.assert();
    get.assert();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains("to be deleted"), "{err}");
    let took = started.elapsed();
    assert!(
        took >= limit && took < limit + Duration::from_secs(2),
        "{took:?}"
    );
    assert_eq!(sb.state(), Some(&SandboxState::Destroying));
}

#[test]
fn a_sandbox_deleted_from_error_is_waited_for_and_one_that_fails_deleting_is_an_error() {
    // Deleted from `error`: `error` until it goes is no failure.
    let (mut server, _daytona, mut sb) = setup("error");
    let del = delete_mock(&mut server, "error");
    let (get, _) = poll_mock(&mut server, "sb-1", &["error", "destroyed"]);
    let get = get.expect(2).create();
    sb.delete().unwrap();
    del.assert();
    get.assert();
    assert_eq!(sb.state(), Some(&SandboxState::Destroyed));

    // Enters `error` while being deleted: fails at once with its reason.
    let (mut server, _daytona, mut sb) = setup("started");
    let del = delete_mock(&mut server, "destroying");
    let failed = reply_json(
        expect_no_body(sb_mock(&mut server, "GET", "sb-1").match_query(Matcher::Missing)),
        200,
        &failed_sandbox_json("sb-1", "error", "disk detach failed"),
    )
    .expect(1)
    .create();
    let err = sb.delete().unwrap_err();
    del.assert();
    failed.assert();
    assert!(matches!(err, Error::SandboxFailed { .. }), "{err:?}");
    assert!(err.to_string().contains("disk detach failed"), "{err}");
}

#[test]
fn set_labels_puts_all_labels_and_returns_the_servers() {
    let (mut server, _daytona, mut sb) = setup("started");
    let put = reply_json(
        expect_json_body(
            sb_mock(&mut server, "PUT", "sb-1/labels").match_query(Matcher::Missing),
            json!({ "labels": { "env": "dev", "team": "infra" } }),
        ),
        200,
        &json!({ "labels": {
            "env": "dev",
            "team": "infra",
            "code-toolbox-language": "python"
        } }),
    )
    .expect(1)
    .create();

    let labels: HashMap<String, String> = [("env", "dev"), ("team", "infra")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let answer = sb.set_labels(labels).unwrap();

    put.assert();
    assert_eq!(answer.len(), 3);
    assert_eq!(
        answer.get("code-toolbox-language").map(String::as_str),
        Some("python")
    );
    assert_eq!(sb.info().labels, answer);
}

#[test]
fn set_labels_with_an_empty_key_is_rejected_before_any_request() {
    let (mut server, _daytona, mut sb) = setup("started");
    let nothing = no_requests(&mut server);

    let labels: HashMap<String, String> = [(String::new(), "x".to_string())].into();
    let err = sb.set_labels(labels).unwrap_err();

    assert_all(&nothing);
    assert_validation(&err, "labels");
}

#[test]
fn interval_setters_post_the_interval_in_the_path() {
    let (mut server, _daytona, mut sb) = setup("started");
    let mut answer = sandbox_json("sb-1", "started");
    answer["autoStopInterval"] = json!(30);
    let stop = reply_json(
        expect_no_body(
            sb_mock(&mut server, "POST", "sb-1/autostop/30").match_query(Matcher::Missing),
        ),
        200,
        &answer,
    )
    .expect(1)
    .create();
    let archive = reply_json(
        expect_no_body(
            sb_mock(&mut server, "POST", "sb-1/autoarchive/0").match_query(Matcher::Missing),
        ),
        200,
        &answer,
    )
    .expect(1)
    .create();
    let delete = reply_json(
        expect_no_body(
            sb_mock(&mut server, "POST", "sb-1/autodelete/-1").match_query(Matcher::Missing),
        ),
        200,
        &answer,
    )
    .expect(1)
    .create();

    sb.set_auto_stop_interval(30).unwrap();
    assert_eq!(sb.info().auto_stop_interval, Some(30));
    sb.set_auto_archive_interval(0).unwrap();
    assert_eq!(sb.info().auto_archive_interval, Some(0));
    sb.set_auto_delete_interval(-1).unwrap();
    assert_eq!(sb.info().auto_delete_interval, Some(-1));

    stop.assert();
    archive.assert();
    delete.assert();
}

#[test]
fn update_network_settings_sends_the_body() {
    let (mut server, _daytona, mut sb) = setup("started");
    let mut answer = sandbox_json("sb-1", "started");
    answer["networkBlockAll"] = json!(true);
    let post = reply_json(
        expect_json_body(
            sb_mock(&mut server, "POST", "sb-1/network-settings").match_query(Matcher::Missing),
            json!({
                "networkBlockAll": true,
                "networkAllowList": "10.0.0.0/8",
                "domainAllowList": "example.com,*.daytona.io"
            }),
        ),
        200,
        &answer,
    )
    .expect(1)
    .create();

    sb.update_network_settings(
        NetworkSettings::new()
            .block_all(true)
            .allow_list("10.0.0.0/8")
            .domain_allow_list("example.com,*.daytona.io"),
    )
    .unwrap();

    post.assert();
    assert_eq!(sb.info().network_block_all, Some(true));
}

#[test]
fn empty_network_settings_are_rejected_before_any_request() {
    let (mut server, _daytona, mut sb) = setup("started");
    let nothing = no_requests(&mut server);

    let err = sb
        .update_network_settings(NetworkSettings::new())
        .unwrap_err();

    assert_all(&nothing);
    assert_validation(&err, "network_settings");
}

#[test]
fn refresh_activity_posts_last_activity_and_accepts_201() {
    let (mut server, _daytona, sb) = setup("started");
    let post = expect_no_body(
        sb_mock(&mut server, "POST", "sb-1/last-activity").match_query(Matcher::Missing),
    )
    .with_status(201)
    .expect(1)
    .create();

    sb.refresh_activity().unwrap();

    post.assert();
}

#[test]
fn preview_link_gets_the_port_preview_url() {
    let (mut server, _daytona, sb) = setup("started");
    let get = reply_json(
        expect_no_body(
            sb_mock(&mut server, "GET", "sb-1/ports/3000/preview-url")
                .match_query(Matcher::Missing),
        ),
        200,
        &json!({
            "sandboxId": "sb-1",
            "url": "https://3000-sb-1.proxy.example",
            "token": "ul67qtv-jl6wb9z5o3eii"
        }),
    )
    .expect(1)
    .create();

    let link = sb.preview_link(3000).unwrap();

    get.assert();
    assert_eq!(link.sandbox_id, "sb-1");
    assert_eq!(link.url, "https://3000-sb-1.proxy.example");
    assert_eq!(link.token, "ul67qtv-jl6wb9z5o3eii");
}

#[test]
fn port_zero_is_rejected_before_any_request() {
    let (mut server, _daytona, sb) = setup("started");
    let nothing = no_requests(&mut server);

    assert_validation(&sb.preview_link(0).unwrap_err(), "port");
    assert_validation(&sb.signed_preview_url(0, None).unwrap_err(), "port");
    assert_validation(
        &sb.signed_preview_url(3000, Some(Duration::from_secs(0)))
            .unwrap_err(),
        "expires_in",
    );
    assert_validation(
        &sb.create_ssh_access(Some(Duration::from_secs(0)))
            .unwrap_err(),
        "expires_in",
    );

    assert_all(&nothing);
}

fn signed_json() -> serde_json::Value {
    json!({
        "sandboxId": "sb-1",
        "port": 3000,
        "token": "jl6wb9z5o3eii",
        "url": "https://3000-jl6wb9z5o3eii.proxy.example"
    })
}

#[test]
fn signed_preview_url_sends_expires_in_seconds() {
    let (mut server, _daytona, sb) = setup("started");
    let get = reply_json(
        expect_no_body(
            sb_mock(&mut server, "GET", "sb-1/ports/3000/signed-preview-url")
                .match_query(Matcher::Exact("expiresInSeconds=120".into())),
        ),
        200,
        &signed_json(),
    )
    .expect(1)
    .create();

    let signed = sb
        .signed_preview_url(3000, Some(Duration::from_secs(120)))
        .unwrap();

    get.assert();
    assert_eq!(signed.port, 3000);
    assert_eq!(signed.token, "jl6wb9z5o3eii");
    assert_eq!(signed.url, "https://3000-jl6wb9z5o3eii.proxy.example");
}

#[test]
fn signed_preview_url_without_expiry_sends_no_query() {
    let (mut server, _daytona, sb) = setup("started");
    let get = reply_json(
        expect_no_body(
            sb_mock(&mut server, "GET", "sb-1/ports/3000/signed-preview-url")
                .match_query(Matcher::Missing),
        ),
        200,
        &signed_json(),
    )
    .expect(1)
    .create();

    sb.signed_preview_url(3000, None).unwrap();

    get.assert();
}

#[test]
fn expire_signed_preview_url_posts_to_the_token_path() {
    let (mut server, _daytona, sb) = setup("started");
    let post = expect_no_body(
        sb_mock(
            &mut server,
            "POST",
            "sb-1/ports/3000/signed-preview-url/jl6wb9z5o3eii/expire",
        )
        .match_query(Matcher::Missing),
    )
    .with_status(200)
    .expect(1)
    .create();

    sb.expire_signed_preview_url(3000, "jl6wb9z5o3eii").unwrap();

    post.assert();
}

fn ssh_json() -> serde_json::Value {
    json!({
        "id": "acc-1",
        "sandboxId": "sb-1",
        "token": "ssh-tok-1",
        "expiresAt": "2026-01-01T01:00:00Z",
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-01T00:00:00Z",
        "sshCommand": "ssh -p 2222 ssh-tok-1@ssh.example"
    })
}

#[test]
fn create_ssh_access_sends_expires_in_minutes() {
    let (mut server, _daytona, sb) = setup("started");
    let post = reply_json(
        expect_no_body(
            sb_mock(&mut server, "POST", "sb-1/ssh-access")
                .match_query(Matcher::Exact("expiresInMinutes=30".into())),
        ),
        200,
        &ssh_json(),
    )
    .expect(1)
    .create();

    let access = sb
        .create_ssh_access(Some(Duration::from_secs(1800)))
        .unwrap();

    post.assert();
    assert_eq!(access.token, "ssh-tok-1");
    assert_eq!(access.ssh_command, "ssh -p 2222 ssh-tok-1@ssh.example");
    assert_eq!(access.expires_at, "2026-01-01T01:00:00Z");
}

#[test]
fn create_ssh_access_without_expiry_sends_no_query() {
    let (mut server, _daytona, sb) = setup("started");
    let post = reply_json(
        expect_no_body(
            sb_mock(&mut server, "POST", "sb-1/ssh-access").match_query(Matcher::Missing),
        ),
        200,
        &ssh_json(),
    )
    .expect(1)
    .create();

    sb.create_ssh_access(None).unwrap();

    post.assert();
}

#[test]
fn revoke_ssh_access_with_a_token_sends_the_token_query() {
    let (mut server, _daytona, mut sb) = setup("started");
    // The token travels as the `token` query, never as the organization
    // header (the Python SDK's bug, sdk-inventory §1.2).
    let del = reply_json(
        expect_no_body(
            sb_mock(&mut server, "DELETE", "sb-1/ssh-access")
                .match_query(Matcher::Exact("token=ssh-tok-1".into()))
                .match_header("x-daytona-organization-id", Matcher::Missing),
        ),
        200,
        &sandbox_json("sb-1", "started"),
    )
    .expect(1)
    .create();

    sb.revoke_ssh_access(Some("ssh-tok-1")).unwrap();

    del.assert();
}

#[test]
fn revoke_ssh_access_without_a_token_sends_no_query() {
    let (mut server, _daytona, mut sb) = setup("started");
    let del = reply_json(
        expect_no_body(
            sb_mock(&mut server, "DELETE", "sb-1/ssh-access")
                .match_query(Matcher::Missing)
                .match_header("x-daytona-organization-id", Matcher::Missing),
        ),
        200,
        &sandbox_json("sb-1", "started"),
    )
    .expect(1)
    .create();

    sb.revoke_ssh_access(None).unwrap();

    del.assert();
}

#[test]
fn validate_ssh_access_gets_the_validate_endpoint() {
    let (mut server, daytona, sb) = setup("started");
    let get = reply_json(
        expect_no_body(
            api_mock(&mut server, "GET", "/api/sandbox/ssh-access/validate")
                .match_query(Matcher::Exact("token=ssh-tok-1".into())),
        ),
        200,
        &json!({ "valid": true, "sandboxId": "sb-1" }),
    )
    .expect(2)
    .create();

    let v = sb.validate_ssh_access("ssh-tok-1").unwrap();
    assert!(v.valid);
    assert_eq!(v.sandbox_id, "sb-1");
    let v = daytona.validate_ssh_access("ssh-tok-1").unwrap();
    assert!(v.valid);

    get.assert();
}

#[test]
fn experimental_create_snapshot_waits_while_snapshotting() {
    let (mut server, _daytona, mut sb) = setup("started");
    let post = reply_json(
        expect_json_body(
            sb_mock(&mut server, "POST", "sb-1/snapshot").match_query(Matcher::Missing),
            json!({ "name": "my-env-v1" }),
        ),
        200,
        &sandbox_json("sb-1", "snapshotting"),
    )
    .expect(1)
    .create();
    let (get, polls) = poll_mock(
        &mut server,
        "sb-1",
        &["snapshotting", "snapshotting", "started"],
    );
    let get = get.expect(3).create();

    sb.experimental_create_snapshot("my-env-v1").unwrap();

    post.assert();
    get.assert();
    assert_eq!(count(&polls), 3);
    assert_eq!(sb.state(), Some(&SandboxState::Started));
}

#[test]
fn experimental_create_snapshot_that_ends_in_error_fails() {
    let (mut server, _daytona, mut sb) = setup("started");
    let post = reply_json(
        expect_json_body(
            sb_mock(&mut server, "POST", "sb-1/snapshot").match_query(Matcher::Missing),
            json!({ "name": "my-env-v1" }),
        ),
        200,
        &sandbox_json("sb-1", "snapshotting"),
    )
    .expect(1)
    .create();
    let (get, polls) = poll_mock(&mut server, "sb-1", &["snapshotting", "error"]);
    let get = get.expect(2).create();

    let err = sb.experimental_create_snapshot("my-env-v1").unwrap_err();

    post.assert();
    get.assert();
    assert_eq!(count(&polls), 2);
    assert!(
        matches!(&err, Error::SandboxFailed { id, state: SandboxState::Error, .. } if id == "sb-1"),
        "{err:?}"
    );
}

#[test]
fn experimental_fork_returns_the_new_sandbox_once_started() {
    let (mut server, daytona, sb) = setup("started");
    let post = reply_json(
        expect_json_body(
            sb_mock(&mut server, "POST", "sb-1/fork").match_query(Matcher::Missing),
            json!({ "name": "fork-1" }),
        ),
        200,
        &sandbox_json("sb-2", "creating"),
    )
    .expect(1)
    .create();
    let (new_get, polls) = poll_mock(&mut server, "sb-2", &["starting", "started"]);
    let new_get = new_get.expect(2).create();
    let old_get = sb_mock(&mut server, "GET", "sb-1")
        .match_query(Matcher::Any)
        .expect(0)
        .create();

    let fork = sb.experimental_fork(Some("fork-1")).unwrap();

    post.assert();
    new_get.assert();
    old_get.assert();
    assert_eq!(count(&polls), 2);
    assert_eq!(fork.id(), "sb-2");
    assert_eq!(fork.state(), Some(&SandboxState::Started));
    assert_eq!(sb.id(), "sb-1");
    drop(daytona);
}

#[test]
fn fork_without_a_name_sends_an_empty_object() {
    let (mut server, daytona, sb) = setup("started");
    let post = reply_json(
        expect_json_body(
            sb_mock(&mut server, "POST", "sb-1/fork").match_query(Matcher::Missing),
            json!({}),
        ),
        200,
        &sandbox_json("sb-2", "started"),
    )
    .expect(1)
    .create();
    let any_get = api_mock(&mut server, "GET", "/api/sandbox/sb-2")
        .match_query(Matcher::Any)
        .expect(0)
        .create();

    let fork = daytona
        .experimental_fork(&sb, None, Duration::from_secs(5))
        .unwrap();

    post.assert();
    any_get.assert();
    assert_eq!(fork.id(), "sb-2");
}

#[test]
fn fork_that_fails_to_start_carries_the_new_id() {
    let (mut server, _daytona, sb) = setup("started");
    let post = reply_json(
        expect_json_body(
            sb_mock(&mut server, "POST", "sb-1/fork").match_query(Matcher::Missing),
            json!({ "name": "fork-1" }),
        ),
        200,
        &sandbox_json("sb-2", "creating"),
    )
    .expect(1)
    .create();
    let get = reply_json(
        expect_no_body(sb_mock(&mut server, "GET", "sb-2").match_query(Matcher::Missing)),
        200,
        &failed_sandbox_json("sb-2", "error", "fork failed"),
    )
    .expect(1)
    .create();

    let err = sb.experimental_fork(Some("fork-1")).unwrap_err();

    post.assert();
    get.assert();
    assert!(matches!(err, Error::AfterCreate { .. }), "{err:?}");
    assert_eq!(err.sandbox_id(), Some("sb-2"));
}

#[test]
fn get_opt_maps_404_to_none() {
    let mut server = Server::new();
    let missing = reply_json(
        expect_no_body(sb_mock(&mut server, "GET", "nope").match_query(Matcher::Missing)),
        404,
        &json!({ "statusCode": 404, "message": "Sandbox with ID or name nope not found" }),
    )
    .expect(1)
    .create();
    let present = reply_json(
        expect_no_body(sb_mock(&mut server, "GET", "sb-1").match_query(Matcher::Missing)),
        200,
        &sandbox_json("sb-1", "started"),
    )
    .expect(1)
    .create();
    let daytona = client(&server);

    assert!(daytona.get_opt("nope").unwrap().is_none());
    assert_eq!(daytona.get_opt("sb-1").unwrap().unwrap().id(), "sb-1");

    missing.assert();
    present.assert();
}

#[test]
fn get_opt_keeps_other_errors() {
    let mut server = Server::new();
    let denied = reply_json(
        expect_no_body(sb_mock(&mut server, "GET", "sb-1").match_query(Matcher::Missing)),
        403,
        &json!({ "statusCode": 403, "message": "Forbidden" }),
    )
    .expect(1)
    .create();

    let err = client(&server).get_opt("sb-1").unwrap_err();

    denied.assert();
    assert!(err.is_forbidden(), "{err:?}");
}

#[test]
fn ids_reach_the_server_as_one_encoded_segment() {
    let mut server = Server::new();
    let slash = reply_json(
        expect_no_body(
            api_mock(&mut server, "GET", "/api/sandbox/a%2Fb").match_query(Matcher::Missing),
        ),
        200,
        &sandbox_json("a/b", "started"),
    )
    .expect(1)
    .create();
    let dots = reply_json(
        expect_no_body(
            api_mock(&mut server, "GET", "/api/sandbox/...").match_query(Matcher::Missing),
        ),
        200,
        &sandbox_json("...", "started"),
    )
    .expect(1)
    .create();
    let question = reply_json(
        expect_no_body(
            api_mock(&mut server, "GET", "/api/sandbox/a%3Fb%3D1").match_query(Matcher::Missing),
        ),
        200,
        &sandbox_json("a?b=1", "started"),
    )
    .expect(1)
    .create();
    // Later operations on such a handle stay in their segment too.
    let start = reply_json(
        expect_no_body(
            api_mock(&mut server, "POST", "/api/sandbox/a%2Fb/start").match_query(Matcher::Missing),
        ),
        200,
        &sandbox_json("a/b", "started"),
    )
    .expect(1)
    .create();
    let daytona = client(&server);

    let mut sb = daytona.get("a/b").unwrap();
    assert_eq!(sb.id(), "a/b");
    assert_eq!(daytona.get("...").unwrap().id(), "...");
    // `.` and `..` are resolved by URLs whatever their encoding: refused.
    assert_validation(&daytona.get("..").unwrap_err(), "id_or_name");
    assert_validation(&daytona.get(".").unwrap_err(), "id_or_name");
    assert_eq!(daytona.get("a?b=1").unwrap().id(), "a?b=1");
    sb.start().unwrap();

    slash.assert();
    dots.assert();
    question.assert();
    start.assert();
}

#[test]
fn get_with_an_empty_id_is_rejected_before_any_request() {
    let mut server = Server::new();
    let nothing = no_requests(&mut server);
    let daytona = client(&server);

    assert_validation(&daytona.get("").unwrap_err(), "id_or_name");
    assert_validation(&daytona.get_opt("  ").unwrap_err(), "id_or_name");
    assert_validation(&daytona.validate_ssh_access("").unwrap_err(), "token");

    assert_all(&nothing);
}

/// Regression (contract suite, `--dynamic`): the spec's `port` of a
/// signed preview URL is an unbounded `integer`; an answer outside
/// 0–65535 decodes, its port clamped.
#[test]
fn signed_preview_url_decodes_any_spec_integer_port() {
    let (mut server, _daytona, sb) = setup("started");
    let mut answer = signed_json();
    answer["port"] = json!(70000);
    let get = reply_json(
        sb_mock(&mut server, "GET", "sb-1/ports/3000/signed-preview-url"),
        200,
        &answer,
    )
    .expect(1)
    .create();
    assert_eq!(sb.signed_preview_url(3000, None).unwrap().port, u16::MAX);
    get.assert();
}

/// A zero limit is refused, naming `timeout`, before any request, as
/// `create` refuses it: it is not "no limit" (`WAIT_FOREVER` is) and not a
/// timeout of a request never sent.
#[test]
fn zero_time_limits_are_rejected_before_any_request() {
    let (mut server, daytona, mut sb) = setup("started");
    let nothing = no_requests(&mut server);
    let zero = Duration::ZERO;
    let results = [
        ("wait_until_started", sb.wait_until_started(zero)),
        ("wait_until_stopped", sb.wait_until_stopped(zero)),
        ("start", sb.start_with_timeout(zero)),
        ("stop", sb.stop_with_timeout(zero)),
        ("force_stop", sb.force_stop_with_timeout(zero)),
        ("recover", sb.recover_with_timeout(zero)),
        ("pause", sb.pause_with_timeout(zero)),
        ("resize", sb.resize_with_timeout(Resize::new().cpu(2), zero)),
        (
            "snapshot",
            sb.experimental_create_snapshot_with_timeout("s", zero),
        ),
        (
            "fork",
            sb.experimental_fork_with_timeout(None, zero).map(drop),
        ),
        ("archive", sb.archive_with_timeout(zero)),
        ("delete", sb.delete_with_timeout(zero)),
        ("Daytona::start", daytona.start(&mut sb, zero)),
        ("Daytona::delete", daytona.delete(&mut sb, zero)),
        (
            "Daytona::experimental_fork",
            daytona.experimental_fork(&sb, Some("f"), zero).map(drop),
        ),
        (
            "wait_until_ready",
            daytona
                .volumes()
                .wait_until_ready_with_timeout("v", zero)
                .map(drop),
        ),
    ];
    for (op, result) in results {
        match result {
            Err(Error::Validation { field, message }) => {
                assert_eq!(field, "timeout", "{op}");
                assert!(message.contains("WAIT_FOREVER"), "{op}: {message}");
            }
            other => panic!("{op}: expected a validation error, got {other:?}"),
        }
    }
    assert_all(&nothing);
}
