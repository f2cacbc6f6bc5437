//! Waits reach their target: an answer that still shows the old state
//! (`started` after `POST /pause`) does not end a wait; error states fail
//! it at once; every wait ends by its deadline. Each server below answers
//! the change's request with the sandbox as it was, then goes through the
//! change one poll at a time.

mod common;
mod fault_server;
use common::*;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use daytona::{
    Daytona, DaytonaConfig, Error, PollSchedule, Resize, RetryPolicy, Sandbox, SandboxState,
};
use fault_server::{Action, FaultServer};
use mockito::{Matcher, Mock, Server, ServerGuard};
use serde_json::{json, Value};

/// A sandbox document in `state`, with `cpu` cores, updated at second `t`.
fn doc(id: &str, state: &str, cpu: u32, t: u32) -> Value {
    let mut v = sandbox_json(id, state);
    v["cpu"] = json!(cpu);
    v["updatedAt"] = json!(format!("2026-01-01T00:00:{t:02}Z"));
    v
}

/// `method /api/sandbox/{rest}` answering `docs` in turn (the last one
/// repeats); the counter counts the answers.
fn sequence(
    server: &mut Server,
    method: &str,
    rest: &str,
    docs: Vec<Value>,
) -> (Mock, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let mock = api_mock(server, method, &format!("/api/sandbox/{rest}"))
        .match_query(Matcher::Any)
        .expect_at_least(1)
        .with_status(200)
        .with_header("content-type", "application/json")
        .with_body_from_request(move |_| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            docs[n.min(docs.len() - 1)].to_string().into_bytes()
        })
        .create();
    (mock, calls)
}

/// A change asked of a sandbox.
type Change = fn(&mut Sandbox) -> daytona::Result<()>;

/// A change asked of a sandbox, within a limit.
type TimedChange = fn(&mut Sandbox, Duration) -> daytona::Result<()>;

/// A handle on `sb-1` in `state`, fetched once.
fn setup(state: &str) -> (ServerGuard, Sandbox) {
    setup_with(state, fast_poll())
}

/// [`setup`], the client polling on `schedule`.
fn setup_with(state: &str, schedule: PollSchedule) -> (ServerGuard, Sandbox) {
    let mut server = Server::new();
    let daytona = Daytona::new(config(&server).poll_schedule(schedule)).unwrap();
    let m = reply_json(
        api_mock(&mut server, "GET", "/api/sandbox/sb-1"),
        200,
        &doc("sb-1", state, 1, 0),
    )
    .expect(1)
    .create();
    let sb = daytona.get("sb-1").unwrap();
    m.remove();
    (server, sb)
}

/// Runs `change` against a server whose request of `method rest` answers
/// the sandbox in `old` and whose polls answer `polls` (state, cpu,
/// second); checks that the wait ended on the last poll in `target`.
fn reaches(
    old: &str,
    (method, rest): (&str, &str),
    polls: &[(&str, u32, u32)],
    target: SandboxState,
    change: impl FnOnce(&mut Sandbox) -> daytona::Result<()>,
) {
    let (mut server, mut sb) = setup(old);
    let (post, posted) = sequence(&mut server, method, rest, vec![doc("sb-1", old, 1, 0)]);
    let docs = polls
        .iter()
        .map(|(s, c, t)| doc("sb-1", s, *c, *t))
        .collect();
    let (get, polled) = sequence(&mut server, "GET", "sb-1", docs);

    change(&mut sb).unwrap();

    post.assert();
    get.assert();
    assert_eq!(posted.load(Ordering::SeqCst), 1);
    assert_eq!(polled.load(Ordering::SeqCst), polls.len(), "{rest}");
    assert_eq!(sb.state(), Some(&target), "{rest}");
}

#[test]
fn pause_answered_with_started_waits_until_paused() {
    reaches(
        "started",
        ("POST", "sb-1/pause"),
        &[("started", 1, 0), ("pausing", 1, 1), ("paused", 1, 2)],
        SandboxState::Paused,
        |sb| sb.pause(),
    );
}

#[test]
fn resize_answered_with_the_old_sandbox_waits_until_it_was_resized() {
    // Seen resizing, then back.
    reaches(
        "started",
        ("POST", "sb-1/resize"),
        &[("started", 1, 0), ("resizing", 1, 1), ("started", 2, 2)],
        SandboxState::Started,
        |sb| sb.resize(Resize::new().cpu(2)),
    );
    // Over between two polls: the new resources tell.
    reaches(
        "started",
        ("POST", "sb-1/resize"),
        &[("started", 1, 0), ("started", 2, 0)],
        SandboxState::Started,
        |sb| sb.resize(Resize::new().cpu(2)),
    );
}

#[test]
fn archive_answered_with_stopped_waits_until_archived() {
    reaches(
        "stopped",
        ("POST", "sb-1/archive"),
        &[("stopped", 1, 0), ("archiving", 1, 1), ("archived", 1, 2)],
        SandboxState::Archived,
        |sb| sb.archive(),
    );
}

#[test]
fn stop_start_and_recover_answered_with_the_old_state_wait_for_their_target() {
    reaches(
        "started",
        ("POST", "sb-1/stop"),
        &[("started", 1, 0), ("stopping", 1, 1), ("stopped", 1, 2)],
        SandboxState::Stopped,
        |sb| sb.stop(),
    );
    reaches(
        "stopped",
        ("POST", "sb-1/start"),
        &[("stopped", 1, 0), ("starting", 1, 1), ("started", 1, 2)],
        SandboxState::Started,
        |sb| sb.start(),
    );
    // Recovering: `error` until the sandbox moves is no failure.
    reaches(
        "error",
        ("POST", "sb-1/recover"),
        &[("error", 1, 0), ("starting", 1, 1), ("started", 1, 2)],
        SandboxState::Started,
        |sb| sb.recover(),
    );
    reaches(
        "started",
        ("DELETE", "sb-1"),
        &[("started", 1, 0), ("destroying", 1, 1), ("destroyed", 1, 2)],
        SandboxState::Destroyed,
        |sb| sb.delete(),
    );
}

#[test]
fn snapshot_answered_with_started_waits_until_it_was_taken() {
    reaches(
        "started",
        ("POST", "sb-1/snapshot"),
        &[("started", 1, 0), ("snapshotting", 1, 1), ("started", 1, 2)],
        SandboxState::Started,
        |sb| sb.experimental_create_snapshot("env-v1"),
    );
    // Over between two polls: the newer updatedAt tells.
    reaches(
        "started",
        ("POST", "sb-1/snapshot"),
        &[("started", 1, 0), ("started", 1, 3)],
        SandboxState::Started,
        |sb| sb.experimental_create_snapshot("env-v1"),
    );
}

#[test]
fn fork_waits_until_the_new_sandbox_is_started() {
    let (mut server, sb) = setup("started");
    let (post, _) = sequence(
        &mut server,
        "POST",
        "sb-1/fork",
        vec![doc("sb-2", "forking", 1, 0)],
    );
    let docs = ["forking", "creating", "started"]
        .iter()
        .map(|s| doc("sb-2", s, 1, 1))
        .collect();
    let (get, polled) = sequence(&mut server, "GET", "sb-2", docs);

    let fork = sb.experimental_fork(None).unwrap();

    post.assert();
    get.assert();
    assert_eq!(polled.load(Ordering::SeqCst), 3);
    assert_eq!(fork.state(), Some(&SandboxState::Started));
}

#[test]
fn an_error_on_the_way_fails_the_wait_at_once() {
    let cases: [(&str, &str, Change); 4] = [
        ("started", "sb-1/pause", |sb| sb.pause()),
        ("started", "sb-1/resize", |sb| {
            sb.resize(Resize::new().cpu(2))
        }),
        ("stopped", "sb-1/archive", |sb| sb.archive()),
        ("error", "sb-1/recover", |sb| sb.recover()),
    ];
    for (old, rest, change) in cases {
        let (mut server, mut sb) = setup(old);
        let (_post, _) = sequence(&mut server, "POST", rest, vec![doc("sb-1", old, 1, 0)]);
        let mut failed = doc("sb-1", "error", 1, 2);
        failed["errorReason"] = json!("runner lost");
        let docs = vec![
            doc("sb-1", old, 1, 0),
            doc("sb-1", "starting", 1, 1),
            failed,
        ];
        let (_get, polled) = sequence(&mut server, "GET", "sb-1", docs);

        let err = change(&mut sb).unwrap_err();

        assert!(
            matches!(&err, Error::SandboxFailed { state: SandboxState::Error, reason: Some(r), .. } if r == "runner lost"),
            "{rest}: {err:?}"
        );
        assert_eq!(polled.load(Ordering::SeqCst), 3, "{rest}");
    }
}

#[test]
fn a_change_that_never_shows_ends_at_its_deadline() {
    // Before, each of these returned at once on the old state.
    let limit = Duration::from_millis(400);
    let cases: [(&str, &str, TimedChange); 7] = [
        ("stopped", "sb-1/start", |sb, t| sb.start_with_timeout(t)),
        ("started", "sb-1/stop", |sb, t| sb.stop_with_timeout(t)),
        ("error", "sb-1/recover", |sb, t| sb.recover_with_timeout(t)),
        ("started", "sb-1/pause", |sb, t| sb.pause_with_timeout(t)),
        ("started", "sb-1/resize", |sb, t| {
            sb.resize_with_timeout(Resize::new().cpu(2), t)
        }),
        ("started", "sb-1/snapshot", |sb, t| {
            sb.experimental_create_snapshot_with_timeout("env-v1", t)
        }),
        ("stopped", "sb-1/archive", |sb, t| {
            sb.archive_with_timeout(t)
        }),
    ];
    for (old, rest, change) in cases {
        let (mut server, mut sb) = setup(old);
        let (_post, _) = sequence(&mut server, "POST", rest, vec![doc("sb-1", old, 1, 0)]);
        let (_get, polled) = sequence(&mut server, "GET", "sb-1", vec![doc("sb-1", old, 1, 0)]);

        let began = Instant::now();
        let err = change(&mut sb, limit).unwrap_err();
        let took = began.elapsed();

        assert!(err.is_timeout(), "{rest}: {err:?}");
        assert!(polled.load(Ordering::SeqCst) >= 2, "{rest}");
        assert!(
            took >= limit && took < limit + Duration::from_secs(2),
            "{rest}: {took:?}"
        );
    }
}

#[test]
fn wait_until_stopped_polls_until_stopped() {
    // Archived while the wait was away counts too: stopped, its files
    // moved away.
    for (states, reached) in [
        (
            &["stopping", "stopping", "stopped"][..],
            SandboxState::Stopped,
        ),
        (&["stopping", "archived"][..], SandboxState::Archived),
    ] {
        let (mut server, mut sb) = setup("stopping");
        let docs = states.iter().map(|s| doc("sb-1", s, 1, 0)).collect();
        let (get, polled) = sequence(&mut server, "GET", "sb-1", docs);

        sb.wait_until_stopped(Duration::from_secs(5)).unwrap();

        get.assert();
        assert_eq!(polled.load(Ordering::SeqCst), states.len());
        assert_eq!(sb.state(), Some(&reached));
    }
}

#[test]
fn wait_until_stopped_ends_at_its_deadline() {
    let (mut server, mut sb) = setup("stopping");
    let (get, polled) = sequence(
        &mut server,
        "GET",
        "sb-1",
        vec![doc("sb-1", "stopping", 1, 0)],
    );
    let limit = Duration::from_millis(400);

    let began = Instant::now();
    let err = sb.wait_until_stopped(limit).unwrap_err();
    let took = began.elapsed();

    get.assert();
    assert!(err.is_timeout(), "{err:?}");
    assert!(polled.load(Ordering::SeqCst) >= 2);
    assert!(on_time(took, limit), "{took:?}");
    assert_eq!(sb.state(), Some(&SandboxState::Stopping));
}

#[test]
fn daytona_start_waits_within_the_given_limit() {
    let (mut server, mut sb) = setup("stopped");
    let daytona = client(&server);
    let (post, posted) = sequence(
        &mut server,
        "POST",
        "sb-1/start",
        vec![doc("sb-1", "starting", 1, 0)],
    );
    let (get, polled) = sequence(
        &mut server,
        "GET",
        "sb-1",
        vec![doc("sb-1", "starting", 1, 1)],
    );
    // Far below the client's default limit: only the given one can end it.
    let limit = Duration::from_millis(400);

    let began = Instant::now();
    let err = daytona.start(&mut sb, limit).unwrap_err();
    let took = began.elapsed();

    post.assert();
    get.assert();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(posted.load(Ordering::SeqCst), 1);
    assert!(polled.load(Ordering::SeqCst) >= 2);
    assert!(on_time(took, limit), "{took:?}");
}

/// A pause whose polls fail `failures` times (one request each) the way
/// `failure` says, then answer `paused`, and when each poll came; the
/// client makes one attempt per request (so that the wait alone deals with
/// the failures) and polls on `schedule`.
fn polls_failing(
    failures: usize,
    failure: impl Fn() -> Action + Send + Sync + 'static,
    schedule: PollSchedule,
) -> (FaultServer, Daytona, Arc<Mutex<Vec<Instant>>>) {
    let polls = Arc::new(Mutex::new(Vec::new()));
    let noted = polls.clone();
    let server = FaultServer::start(move |seen| match seen.route().as_str() {
        "POST /api/sandbox/sb-1/pause" => Action::json(200, &doc("sb-1", "pausing", 1, 0)),
        "GET /api/sandbox/sb-1" if seen.nth == 0 => {
            Action::json(200, &doc("sb-1", "started", 1, 0))
        }
        "GET /api/sandbox/sb-1" => {
            noted.lock().unwrap().push(Instant::now());
            if seen.nth <= failures {
                failure()
            } else {
                Action::json(200, &doc("sb-1", "paused", 1, 2))
            }
        }
        _ => Action::status(404),
    });
    let daytona = Daytona::new(
        DaytonaConfig::new()
            .read_env(false)
            .api_key(KEY)
            .api_url(format!("{}/api", server.url))
            .retry_policy(RetryPolicy::new().max_attempts(1))
            .poll_schedule(schedule)
            .events(false),
    )
    .unwrap();
    (server, daytona, polls)
}

/// [`polls_failing`] whose first poll is answered 429 with `Retry-After:
/// {retry_after}`.
fn rate_limited_poll(
    retry_after: &'static str,
) -> (FaultServer, Daytona, Arc<Mutex<Vec<Instant>>>) {
    let limited = move || {
        Action::json(
            429,
            &json!({ "statusCode": 429, "message": "Too Many Requests" }),
        )
        .header("Retry-After", retry_after)
    };
    polls_failing(1, limited, fast_poll())
}

fn unavailable() -> Action {
    Action::json(503, &json!({ "statusCode": 503, "message": "restarting" }))
}

#[test]
fn a_wait_rides_out_an_api_that_is_briefly_unavailable() {
    // 502, 503, 504 and connections cut: the API restarting behind its
    // proxy. The wait goes on and ends on the state it waited for.
    for failure in [
        unavailable as fn() -> Action,
        || Action::json(502, &json!({ "message": "Bad Gateway" })),
        || Action::status(504),
        || Action::ResetBeforeAnswer,
        || Action::CloseBeforeAnswer,
    ] {
        let (_server, daytona, polls) = polls_failing(5, failure, fast_poll());
        let mut sb = daytona.get("sb-1").unwrap();

        sb.pause_with_timeout(Duration::from_secs(5)).unwrap();

        assert_eq!(sb.state(), Some(&SandboxState::Paused));
        assert_eq!(polls.lock().unwrap().len(), 6);
    }
}

#[test]
fn a_wait_gives_up_once_its_checks_have_failed_for_the_outage() {
    let outage = Duration::from_millis(400);
    let schedule = fast_poll().outage(outage);
    let (_server, daytona, polls) = polls_failing(usize::MAX, unavailable, schedule);
    let mut sb = daytona.get("sb-1").unwrap();

    let began = Instant::now();
    let err = sb.pause_with_timeout(daytona::WAIT_FOREVER).unwrap_err();

    assert!(err.is_server_error(), "{err:?}");
    assert_eq!(err.api().map(|a| a.status), Some(503));
    assert!(on_time(began.elapsed(), outage), "{:?}", began.elapsed());
    assert!(polls.lock().unwrap().len() >= 3);
}

#[test]
fn failures_that_do_not_heal_end_a_wait_at_once() {
    // A 500, a 401, a body that does not decode: the next check would
    // fail the same way. And an outage of zero ends it at the first.
    for (failure, schedule) in [
        (
            (|| Action::json(500, &json!({ "message": "bug" }))) as fn() -> Action,
            fast_poll(),
        ),
        (
            || Action::json(401, &json!({ "message": "no" })),
            fast_poll(),
        ),
        (|| Action::json(200, &json!({ "id": 7 })), fast_poll()),
        (unavailable, fast_poll().outage(Duration::ZERO)),
    ] {
        let (_server, daytona, polls) = polls_failing(usize::MAX, failure, schedule);
        let mut sb = daytona.get("sb-1").unwrap();

        assert!(sb.pause_with_timeout(Duration::from_secs(5)).is_err());
        assert_eq!(polls.lock().unwrap().len(), 1);
    }
}

#[test]
fn a_poll_answered_429_waits_its_retry_after_and_goes_on() {
    let (_server, daytona, polls) = rate_limited_poll("1");
    let mut sb = daytona.get("sb-1").unwrap();

    sb.pause_with_timeout(Duration::from_secs(5)).unwrap();

    assert_eq!(sb.state(), Some(&SandboxState::Paused));
    let polls = polls.lock().unwrap();
    assert_eq!(polls.len(), 2);
    // The schedule alone would check again after 10 ms.
    let gap = polls[1] - polls[0];
    assert!(
        gap >= Duration::from_secs(1) && gap < Duration::from_secs(2),
        "{gap:?}"
    );
}

#[test]
fn a_retry_after_past_the_deadline_fails_the_wait_at_once() {
    let (_server, daytona, polls) = rate_limited_poll("3600");
    let mut sb = daytona.get("sb-1").unwrap();

    let began = Instant::now();
    let err = sb.pause_with_timeout(Duration::from_secs(3)).unwrap_err();

    assert!(err.is_rate_limited(), "{err:?}");
    assert_eq!(
        err.api().and_then(|a| a.retry_after),
        Some(Duration::from_secs(3600))
    );
    assert!(
        began.elapsed() < Duration::from_secs(1),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(polls.lock().unwrap().len(), 1);
}

#[test]
fn a_retry_after_beyond_the_policy_fails_a_wait_without_limit_at_once() {
    // No deadline to compare with: the retry policy's limit (60 s by
    // default) decides, as it does for single requests. Without it, this
    // wait would sleep for an hour.
    let (_server, daytona, polls) = rate_limited_poll("3600");
    let mut sb = daytona.get("sb-1").unwrap();

    let began = Instant::now();
    let err = sb.pause_with_timeout(daytona::WAIT_FOREVER).unwrap_err();

    assert!(err.is_rate_limited(), "{err:?}");
    assert!(
        began.elapsed() < Duration::from_secs(1),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(polls.lock().unwrap().len(), 1);
}

#[test]
fn a_deadline_before_the_first_planned_check_still_checks_once() {
    // The schedule checks first after 10 s; these waits have 2 s. Before,
    // they slept to their deadline and timed out without having asked the
    // server once.
    let limit = Duration::from_secs(2);
    let schedule = PollSchedule::new().first_delay(Duration::from_secs(10));
    let (mut server, mut sb) = setup_with("starting", schedule);
    let (get, polled) = sequence(
        &mut server,
        "GET",
        "sb-1",
        vec![doc("sb-1", "started", 1, 1)],
    );

    sb.wait_until_started(limit).unwrap();

    get.assert();
    assert_eq!(polled.load(Ordering::SeqCst), 1);
    assert_eq!(sb.state(), Some(&SandboxState::Started));
    get.remove();

    // A change too: its request, then one check at once.
    let (post, _) = sequence(
        &mut server,
        "POST",
        "sb-1/stop",
        vec![doc("sb-1", "stopping", 1, 2)],
    );
    let (get, polled) = sequence(
        &mut server,
        "GET",
        "sb-1",
        vec![doc("sb-1", "stopped", 1, 3)],
    );

    sb.stop_with_timeout(limit).unwrap();

    post.assert();
    get.assert();
    assert_eq!(polled.load(Ordering::SeqCst), 1);
    assert_eq!(sb.state(), Some(&SandboxState::Stopped));
}

#[test]
fn a_schedule_without_a_cap_or_jitter_does_not_panic_in_its_slow_phase() {
    // From the second check on, the delay is the longest duration; its
    // jitter was computed by a float multiplication that panics there.
    let schedule = PollSchedule::new()
        .first_delay(Duration::from_millis(10))
        .slow_after(Duration::ZERO)
        .max_interval(daytona::WAIT_FOREVER)
        .jitter(0.0);
    let (mut server, mut sb) = setup_with("starting", schedule);
    let (get, polled) = sequence(
        &mut server,
        "GET",
        "sb-1",
        vec![doc("sb-1", "starting", 1, 0)],
    );
    let limit = Duration::from_millis(300);

    let began = Instant::now();
    let err = sb.wait_until_started(limit).unwrap_err();

    get.assert();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(polled.load(Ordering::SeqCst), 1);
    assert!(on_time(began.elapsed(), limit), "{:?}", began.elapsed());
}

#[test]
fn explicit_waits_judge_the_server_not_the_info_held() {
    // Handles read earlier: one says `started` and one `error`, both out
    // of date. Before, the first wait ended at once without a request and
    // the second failed at once on the old `error`.
    let (mut server, mut sb) = setup("started");
    let states = vec![
        doc("sb-1", "stopped", 1, 1),
        doc("sb-1", "starting", 1, 2),
        doc("sb-1", "started", 1, 3),
    ];
    let (get, polled) = sequence(&mut server, "GET", "sb-1", states);

    sb.wait_until_started(Duration::from_secs(5)).unwrap();

    get.assert();
    assert_eq!(polled.load(Ordering::SeqCst), 3);
    assert_eq!(sb.state(), Some(&SandboxState::Started));

    let (mut server, mut sb) = setup("error");
    let states = vec![doc("sb-1", "stopping", 1, 1), doc("sb-1", "stopped", 1, 2)];
    let (get, polled) = sequence(&mut server, "GET", "sb-1", states);

    sb.wait_until_stopped(Duration::from_secs(5)).unwrap();

    get.assert();
    assert_eq!(polled.load(Ordering::SeqCst), 2);
    assert_eq!(sb.state(), Some(&SandboxState::Stopped));
}
