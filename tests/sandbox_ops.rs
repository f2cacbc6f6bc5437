//! A sandbox's lifecycle operations and their waits: refresh, start, stop,
//! recover, pause, resize, archive, delete, snapshot and fork, with their
//! time limits.

mod common;
use common::*;

use std::time::{Duration, Instant};

use daytona::{Error, Resize, SandboxState};
use mockito::{Matcher, Mock, Server};
use serde_json::json;

#[test]
fn refresh_replaces_the_info() {
    let (mut server, _daytona, mut sb) = sandbox_in("started");
    let get = reply_json(
        expect_no_body(sandbox_mock(&mut server, "GET", "sb-1").match_query(Matcher::Missing)),
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
fn an_answer_about_another_sandbox_does_not_become_the_handle() {
    // Before, the handle took the other sandbox's id, and its next
    // operations (a delete) went to that sandbox.
    let (mut server, _daytona, mut sb) = sandbox_in("started");
    let get = reply_json(
        sandbox_mock(&mut server, "GET", "sb-1"),
        200,
        &sandbox_json("sb-2", "stopped"),
    )
    .expect_at_least(2)
    .create();
    let post = reply_json(
        sandbox_mock(&mut server, "POST", "sb-1/stop"),
        200,
        &sandbox_json("sb-2", "stopping"),
    )
    .expect(1)
    .create();

    let err = sb.refresh().unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert!(err.to_string().contains("another sandbox"), "{err}");
    assert_eq!(
        (sb.id(), sb.state()),
        ("sb-1", Some(&SandboxState::Started))
    );

    let err = sb.stop().unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert_eq!(
        (sb.id(), sb.state()),
        ("sb-1", Some(&SandboxState::Started))
    );
    get.assert();
    post.assert();
}

#[test]
fn start_posts_then_waits_until_started() {
    let (mut server, _daytona, mut sb) = sandbox_in("stopped");
    let post = reply_json(
        expect_no_body(
            sandbox_mock(&mut server, "POST", "sb-1/start").match_query(Matcher::Missing),
        ),
        200,
        &sandbox_json("sb-1", "starting"),
    )
    .expect(1)
    .create();
    let (get, polls) = sandbox_poll_mock(&mut server, "sb-1", &["starting", "starting", "started"]);
    let get = get.expect(3).create();

    sb.start().unwrap();

    post.assert();
    get.assert();
    assert_eq!(count(&polls), 3);
    assert_eq!(sb.state(), Some(&SandboxState::Started));
}

#[test]
fn start_of_a_sandbox_that_enters_error_fails_with_its_reason() {
    let (mut server, _daytona, mut sb) = sandbox_in("stopped");
    let post = reply_json(
        expect_no_body(
            sandbox_mock(&mut server, "POST", "sb-1/start").match_query(Matcher::Missing),
        ),
        200,
        &sandbox_json("sb-1", "starting"),
    )
    .expect(1)
    .create();
    let get = reply_json(
        expect_no_body(sandbox_mock(&mut server, "GET", "sb-1").match_query(Matcher::Missing)),
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
fn a_failure_reason_that_echoes_an_environment_value_hides_it() {
    const VALUE: &str = "env-value-s3cr3t";
    let (mut server, _daytona, mut sb) = sandbox_in("starting");
    let reason = format!("entrypoint refused API_TOKEN={VALUE}");
    let mut failed = failed_sandbox_json("sb-1", "error", &reason);
    failed["env"] = json!({ "API_TOKEN": VALUE });
    let get = reply_json(sandbox_mock(&mut server, "GET", "sb-1"), 200, &failed)
        .expect(1)
        .create();

    let err = sb.wait_until_started(Duration::from_secs(5)).unwrap_err();

    get.assert();
    let Error::SandboxFailed { reason, .. } = &err else {
        panic!("expected SandboxFailed, got {err:?}");
    };
    let reason = reason.as_deref().unwrap();
    assert!(
        reason.starts_with("entrypoint refused API_TOKEN="),
        "{reason}"
    );
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(!shown.contains(VALUE), "{shown}");
    }
}

#[test]
fn stop_posts_without_force_then_waits_until_stopped() {
    let (mut server, _daytona, mut sb) = sandbox_in("started");
    let post = reply_json(
        expect_no_body(
            sandbox_mock(&mut server, "POST", "sb-1/stop").match_query(Matcher::Missing),
        ),
        200,
        &sandbox_json("sb-1", "stopping"),
    )
    .expect(1)
    .create();
    let (get, polls) = sandbox_poll_mock(&mut server, "sb-1", &["stopping", "stopped"]);
    let get = get.expect(2).create();

    sb.stop().unwrap();

    post.assert();
    get.assert();
    assert_eq!(count(&polls), 2);
    assert_eq!(sb.state(), Some(&SandboxState::Stopped));
}

#[test]
fn stop_with_force_sends_force_true() {
    let (mut server, _daytona, mut sb) = sandbox_in("started");
    let post = reply_json(
        expect_no_body(
            sandbox_mock(&mut server, "POST", "sb-1/stop")
                .match_query(Matcher::Exact("force=true".into())),
        ),
        200,
        &sandbox_json("sb-1", "stopping"),
    )
    .expect(1)
    .create();
    let (get, polls) = sandbox_poll_mock(&mut server, "sb-1", &["stopped"]);
    let get = get.expect(1).create();

    sb.force_stop_with_timeout(Duration::from_secs(5)).unwrap();

    post.assert();
    get.assert();
    assert_eq!(count(&polls), 1);
}

#[test]
fn daytona_stop_is_the_sandbox_stop() {
    let (mut server, daytona, mut sb) = sandbox_in("started");
    let post = reply_json(
        expect_no_body(
            sandbox_mock(&mut server, "POST", "sb-1/stop").match_query(Matcher::Missing),
        ),
        200,
        &sandbox_json("sb-1", "stopped"),
    )
    .expect(1)
    .create();
    let get = sandbox_mock(&mut server, "GET", "sb-1")
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
    let (mut server, _daytona, mut sb) = sandbox_in("started");
    let post = reply_json(
        expect_no_body(
            sandbox_mock(&mut server, "POST", "sb-1/stop").match_query(Matcher::Missing),
        ),
        200,
        &sandbox_json("sb-1", "stopping"),
    )
    .expect(1)
    .create();
    let (get, polls) = sandbox_poll_mock(&mut server, "sb-1", &["stopping", "destroyed"]);
    let get = get.expect(2).create();

    sb.stop().unwrap();

    post.assert();
    get.assert();
    assert_eq!(count(&polls), 2);
    assert_eq!(sb.state(), Some(&SandboxState::Destroyed));
}

#[test]
fn stop_wait_treats_404_as_stopped() {
    let (mut server, _daytona, mut sb) = sandbox_in("started");
    let post = reply_json(
        expect_no_body(
            sandbox_mock(&mut server, "POST", "sb-1/stop").match_query(Matcher::Missing),
        ),
        200,
        &sandbox_json("sb-1", "stopping"),
    )
    .expect(1)
    .create();
    let gone = reply_json(
        expect_no_body(sandbox_mock(&mut server, "GET", "sb-1").match_query(Matcher::Missing)),
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
    let (mut server, _daytona, mut sb) = sandbox_in("started");
    let post = reply_json(
        expect_no_body(
            sandbox_mock(&mut server, "POST", "sb-1/stop").match_query(Matcher::Missing),
        ),
        200,
        &sandbox_json("sb-1", "stopping"),
    )
    .expect(1)
    .create();
    let get = reply_json(
        expect_no_body(sandbox_mock(&mut server, "GET", "sb-1").match_query(Matcher::Missing)),
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
    let (mut server, _daytona, mut sb) = sandbox_in("error");
    let post = reply_json(
        expect_no_body(
            sandbox_mock(&mut server, "POST", "sb-1/recover").match_query(Matcher::Missing),
        ),
        200,
        &sandbox_json("sb-1", "starting"),
    )
    .expect(1)
    .create();
    let (get, polls) = sandbox_poll_mock(&mut server, "sb-1", &["starting", "started"]);
    let get = get.expect(2).create();

    sb.recover().unwrap();

    post.assert();
    get.assert();
    assert_eq!(count(&polls), 2);
    assert_eq!(sb.state(), Some(&SandboxState::Started));
}

#[test]
fn pause_waits_while_pausing() {
    let (mut server, _daytona, mut sb) = sandbox_in("started");
    let post = reply_json(
        expect_no_body(
            sandbox_mock(&mut server, "POST", "sb-1/pause").match_query(Matcher::Missing),
        ),
        200,
        &sandbox_json("sb-1", "pausing"),
    )
    .expect(1)
    .create();
    let (get, polls) = sandbox_poll_mock(&mut server, "sb-1", &["pausing", "pausing", "paused"]);
    let get = get.expect(3).create();

    sb.pause().unwrap();

    post.assert();
    get.assert();
    assert_eq!(count(&polls), 3);
    assert_eq!(sb.state(), Some(&SandboxState::Paused));
}

#[test]
fn pause_that_ends_in_error_fails() {
    let (mut server, _daytona, mut sb) = sandbox_in("started");
    let post = reply_json(
        expect_no_body(
            sandbox_mock(&mut server, "POST", "sb-1/pause").match_query(Matcher::Missing),
        ),
        200,
        &sandbox_json("sb-1", "pausing"),
    )
    .expect(1)
    .create();
    let get = reply_json(
        expect_no_body(sandbox_mock(&mut server, "GET", "sb-1").match_query(Matcher::Missing)),
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
    let (mut server, _daytona, mut sb) = sandbox_in("started");
    let post = reply_json(
        expect_no_body(
            sandbox_mock(&mut server, "POST", "sb-1/pause").match_query(Matcher::Missing),
        ),
        200,
        &sandbox_json("sb-1", "pausing"),
    )
    .expect(1)
    .create();
    let (get, polls) = sandbox_poll_mock(&mut server, "sb-1", &["pausing"]);
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
    let (mut server, _daytona, mut sb) = sandbox_in("started");
    let post = reply_json(
        expect_json_body(
            sandbox_mock(&mut server, "POST", "sb-1/resize").match_query(Matcher::Missing),
            json!({ "cpu": 2, "memory": 4 }),
        ),
        200,
        &sandbox_json("sb-1", "resizing"),
    )
    .expect(1)
    .create();
    let (get, polls) = sandbox_poll_mock(&mut server, "sb-1", &["resizing", "started"]);
    let get = get.expect(2).create();

    sb.resize(Resize::new().cpu(2).memory(4)).unwrap();

    post.assert();
    get.assert();
    assert_eq!(count(&polls), 2);
    assert_eq!(sb.state(), Some(&SandboxState::Started));
}

#[test]
fn resize_that_ends_in_error_fails() {
    let (mut server, _daytona, mut sb) = sandbox_in("stopped");
    let post = reply_json(
        expect_json_body(
            sandbox_mock(&mut server, "POST", "sb-1/resize").match_query(Matcher::Missing),
            json!({ "disk": 20 }),
        ),
        200,
        &sandbox_json("sb-1", "resizing"),
    )
    .expect(1)
    .create();
    let get = reply_json(
        expect_no_body(sandbox_mock(&mut server, "GET", "sb-1").match_query(Matcher::Missing)),
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
    let (mut server, _daytona, mut sb) = sandbox_in("started");
    let nothing = no_requests(&mut server);

    let err = sb.resize(Resize::new()).unwrap_err();
    assert_validation(&err, "resize");
    let err = sb.resize(Resize::new().cpu(0)).unwrap_err();
    assert_validation(&err, "cpu");

    assert_all(&nothing);
}

#[test]
fn archive_posts_then_waits_until_archived() {
    let (mut server, _daytona, mut sb) = sandbox_in("stopped");
    let post = reply_json(
        expect_no_body(
            sandbox_mock(&mut server, "POST", "sb-1/archive").match_query(Matcher::Missing),
        ),
        200,
        &sandbox_json("sb-1", "archiving"),
    )
    .expect(1)
    .create();
    let (get, polls) = sandbox_poll_mock(&mut server, "sb-1", &["archiving", "archived"]);
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
        expect_no_body(sandbox_mock(server, "DELETE", "sb-1").match_query(Matcher::Missing)),
        200,
        &sandbox_json("sb-1", state),
    )
    .expect(1)
    .create()
}

#[test]
fn delete_waits_until_the_sandbox_is_destroyed() {
    let (mut server, _daytona, mut sb) = sandbox_in("started");
    let del = delete_mock(&mut server, "destroying");
    let (get, polls) = sandbox_poll_mock(
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
    let (mut server, daytona, mut sb) = sandbox_in("started");
    let del = delete_mock(&mut server, "destroying");
    let gone = reply_json(
        expect_no_body(sandbox_mock(&mut server, "GET", "sb-1").match_query(Matcher::Missing)),
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
    let (mut server, daytona, mut sb) = sandbox_in("started");
    let del = delete_mock(&mut server, "destroying");
    let (get, _polls) = sandbox_poll_mock(&mut server, "sb-1", &["destroying"]);
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
    let (mut server, _daytona, mut sb) = sandbox_in("error");
    let del = delete_mock(&mut server, "error");
    let (get, _) = sandbox_poll_mock(&mut server, "sb-1", &["error", "destroyed"]);
    let get = get.expect(2).create();
    sb.delete().unwrap();
    del.assert();
    get.assert();
    assert_eq!(sb.state(), Some(&SandboxState::Destroyed));

    // Enters `error` while being deleted: fails at once with its reason.
    let (mut server, _daytona, mut sb) = sandbox_in("started");
    let del = delete_mock(&mut server, "destroying");
    let failed = reply_json(
        expect_no_body(sandbox_mock(&mut server, "GET", "sb-1").match_query(Matcher::Missing)),
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
fn experimental_create_snapshot_waits_while_snapshotting() {
    let (mut server, _daytona, mut sb) = sandbox_in("started");
    let post = reply_json(
        expect_json_body(
            sandbox_mock(&mut server, "POST", "sb-1/snapshot").match_query(Matcher::Missing),
            json!({ "name": "my-env-v1" }),
        ),
        200,
        &sandbox_json("sb-1", "snapshotting"),
    )
    .expect(1)
    .create();
    let (get, polls) = sandbox_poll_mock(
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
    let (mut server, _daytona, mut sb) = sandbox_in("started");
    let post = reply_json(
        expect_json_body(
            sandbox_mock(&mut server, "POST", "sb-1/snapshot").match_query(Matcher::Missing),
            json!({ "name": "my-env-v1" }),
        ),
        200,
        &sandbox_json("sb-1", "snapshotting"),
    )
    .expect(1)
    .create();
    let (get, polls) = sandbox_poll_mock(&mut server, "sb-1", &["snapshotting", "error"]);
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
    let (mut server, daytona, sb) = sandbox_in("started");
    let post = reply_json(
        expect_json_body(
            sandbox_mock(&mut server, "POST", "sb-1/fork").match_query(Matcher::Missing),
            json!({ "name": "fork-1" }),
        ),
        200,
        &sandbox_json("sb-2", "creating"),
    )
    .expect(1)
    .create();
    let (new_get, polls) = sandbox_poll_mock(&mut server, "sb-2", &["starting", "started"]);
    let new_get = new_get.expect(2).create();
    let old_get = sandbox_mock(&mut server, "GET", "sb-1")
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
    let (mut server, daytona, sb) = sandbox_in("started");
    let post = reply_json(
        expect_json_body(
            sandbox_mock(&mut server, "POST", "sb-1/fork").match_query(Matcher::Missing),
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
fn a_fork_answered_with_the_parent_is_a_decode_error() {
    // Taken as the fork, the parent would be waited on, handed back and,
    // sooner or later, deleted as "the fork".
    let (mut server, _daytona, sb) = sandbox_in("started");
    let post = reply_json(
        expect_json_body(
            sandbox_mock(&mut server, "POST", "sb-1/fork").match_query(Matcher::Missing),
            json!({ "name": "fork-1" }),
        ),
        200,
        &sandbox_json("sb-1", "started"),
    )
    .expect(1)
    .create();
    let any_get = sandbox_mock(&mut server, "GET", "sb-1")
        .match_query(Matcher::Any)
        .expect(0)
        .create();

    let err = sb.experimental_fork(Some("fork-1")).unwrap_err();

    post.assert();
    any_get.assert();
    assert!(err.is_decode(), "{err:?}");
    assert!(
        err.to_string()
            .contains("the answer names sb-1, not a new sandbox"),
        "{err}"
    );
}

#[test]
fn fork_that_fails_to_start_carries_the_new_id() {
    let (mut server, _daytona, sb) = sandbox_in("started");
    let post = reply_json(
        expect_json_body(
            sandbox_mock(&mut server, "POST", "sb-1/fork").match_query(Matcher::Missing),
            json!({ "name": "fork-1" }),
        ),
        200,
        &sandbox_json("sb-2", "creating"),
    )
    .expect(1)
    .create();
    let get = reply_json(
        expect_no_body(sandbox_mock(&mut server, "GET", "sb-2").match_query(Matcher::Missing)),
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

/// A zero limit is refused, naming `timeout`, before any request, as
/// `create` refuses it: it is not "no limit" (`WAIT_FOREVER` is) and not a
/// timeout of a request never sent.
#[test]
fn zero_time_limits_are_rejected_before_any_request() {
    let (mut server, daytona, mut sb) = sandbox_in("started");
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
