//! Waits that hear the change: a local notification gateway
//! (`gateway_support`) announces state changes over Socket.IO and the
//! waits end on them, polling only as a safety net; when the gateway is
//! missing, refuses the token, drops, stops pinging, sends garbage or
//! never answers the namespace connection, the waits poll on their usual
//! schedule and still complete; a gateway that floods is still closed when
//! no wait remains.
#![cfg(feature = "websocket")]

mod common;
mod fault_server;
mod gateway_support;
mod ws_support;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::sandbox_json;
use daytona::{Daytona, DaytonaConfig, Sandbox};
use gateway_support::{Gateway, Mode, KEY};
use serde_json::json;
use ws_support::Rest;

/// How late past its due time a wait may end on a loaded machine: the
/// counts of polls, not the clock, tell an event heard from a poll.
const SLACK: Duration = Duration::from_secs(1);

/// Sandboxes by id, in the state the REST side reports.
type States = Arc<Mutex<std::collections::HashMap<String, String>>>;

/// A gateway whose REST side serves `GET /api/sandbox/{id}` and
/// `POST /api/sandbox/{id}/start` (answered `starting`) from `states`.
fn gateway(mode: Mode, states: &States) -> Gateway {
    let states = states.clone();
    Gateway::start(mode, move |rest: &Rest| {
        let path = rest.target.split('?').next().unwrap_or_default();
        let parts: Vec<&str> = path
            .trim_start_matches("/api/sandbox/")
            .split('/')
            .collect();
        let mut states = states.lock().unwrap();
        let Some(state) = states.get_mut(parts[0]) else {
            return (404, r#"{"message":"not found"}"#.into());
        };
        if rest.method == "POST" && parts.get(1) == Some(&"start") {
            *state = "starting".into();
        }
        (200, sandbox_json(parts[0], state).to_string())
    })
}

fn states(ids: &[&str], state: &str) -> States {
    Arc::new(Mutex::new(
        ids.iter()
            .map(|id| (id.to_string(), state.to_string()))
            .collect(),
    ))
}

fn client(gw: &Gateway, config: impl FnOnce(DaytonaConfig) -> DaytonaConfig) -> Daytona {
    let base = DaytonaConfig::new()
        .read_env(false)
        .api_key(KEY)
        .api_url(&gw.api_url)
        .retry_policy(common::fast_retries());
    Daytona::new(config(base)).unwrap()
}

fn stopped(daytona: &Daytona, id: &str) -> Sandbox {
    daytona.get(id).unwrap()
}

/// After `after`, `id` becomes `state` on the REST side and, when `emit`,
/// the gateway announces it.
fn change_later(
    gw: &Arc<Gateway>,
    states: &States,
    id: &str,
    state: &str,
    after: Duration,
    emit: bool,
) {
    let (gw, states, id, state) = (
        gw.clone(),
        states.clone(),
        id.to_string(),
        state.to_string(),
    );
    thread::spawn(move || {
        thread::sleep(after);
        let old = states.lock().unwrap().insert(id.clone(), state.clone());
        if emit {
            gw.emit(
                "sandbox.state.updated",
                json!({"sandbox": sandbox_json(&id, &state), "oldState": old, "newState": state}),
            );
        }
    });
}

/// Starts `sb` while its state changes to `state` after `after`
/// (announced when `emit`): the outcome and how long it took.
fn start_while(
    gw: &Arc<Gateway>,
    st: &States,
    sb: &mut Sandbox,
    state: &str,
    after: Duration,
    emit: bool,
) -> (daytona::Result<()>, Duration) {
    change_later(gw, st, sb.id(), state, after, emit);
    let began = Instant::now();
    let outcome = sb.start();
    (outcome, began.elapsed())
}

fn gets(gw: &Gateway, id: &str) -> usize {
    gw.rest()
        .iter()
        .filter(|r| r.method == "GET" && r.target == format!("/api/sandbox/{id}"))
        .count()
}

#[test]
fn an_event_ends_a_start_and_the_handshake_carries_the_token_only_in_its_auth() {
    let st = states(&["sb-1"], "stopped");
    let gw = Arc::new(gateway(Mode::Normal, &st));
    // A JWT with its organization: the id goes in the query.
    let daytona = Daytona::new(
        DaytonaConfig::new()
            .read_env(false)
            .jwt_token(KEY)
            .organization_id("org-7")
            .api_url(&gw.api_url),
    )
    .unwrap();
    let mut sb = stopped(&daytona, "sb-1");
    let after = Duration::from_millis(1200);
    let (outcome, took) = start_while(&gw, &st, &mut sb, "started", after, true);
    outcome.unwrap();
    assert_eq!(sb.state(), Some(&daytona::SandboxState::Started));
    assert!(took >= after && took <= after + SLACK, "{took:?}");
    // The schedule alone would have polled about 9 times by then.
    assert!(gets(&gw, "sb-1") <= 3, "{} polls", gets(&gw, "sb-1") - 1);

    let up = &gw.upgrades()[0];
    assert_eq!(up.path, "/api/socket.io/");
    let query = up.query.clone().unwrap();
    for pair in [
        "EIO=4",
        "transport=websocket",
        "source=sdk-rust",
        "organizationId=org-7",
    ] {
        assert!(query.split('&').any(|p| p == pair), "{query}");
    }
    assert!(query.contains("sdkVersion="), "{query}");
    assert!(!query.contains(KEY), "{query}");
    assert_eq!(up.header("authorization"), None);
    assert_eq!(gw.auths.lock().unwrap()[0], json!({ "token": KEY }));
    // The client answers the gateway's pings.
    thread::sleep(gateway_support::PING * 2);
    assert!(gw.pongs.load(std::sync::atomic::Ordering::SeqCst) >= 1);
}

#[test]
fn a_wait_on_a_handle_read_earlier_checks_at_once_while_changes_are_heard() {
    // The connection is up (a start heard its change). A handle read
    // before that start still says `stopped`: the change it missed was
    // announced before its wait listened, and only a check shows it.
    // Before, that check came with the safety poll, 3 s or more later.
    let st = states(&["sb-1"], "stopped");
    let gw = Arc::new(gateway(Mode::Normal, &st));
    let daytona = client(&gw, |c| c);
    let mut early = stopped(&daytona, "sb-1");
    let mut sb = stopped(&daytona, "sb-1");
    let after = Duration::from_millis(300);
    let (outcome, _) = start_while(&gw, &st, &mut sb, "started", after, true);
    outcome.unwrap();
    let before = gets(&gw, "sb-1");

    let began = Instant::now();
    early.wait_until_started(Duration::from_secs(10)).unwrap();
    let took = began.elapsed();

    assert_eq!(early.state(), Some(&daytona::SandboxState::Started));
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_eq!(gets(&gw, "sb-1") - before, 1);
}

#[test]
fn an_error_state_heard_fails_the_wait_at_once() {
    let st = states(&["sb-1"], "stopped");
    let gw = Arc::new(gateway(Mode::Normal, &st));
    let daytona = client(&gw, |c| c);
    let mut sb = stopped(&daytona, "sb-1");
    let after = Duration::from_millis(800);
    let (outcome, took) = start_while(&gw, &st, &mut sb, "error", after, true);
    let err = outcome.unwrap_err();
    assert!(err.is_sandbox_failed(), "{err}");
    assert!(took <= after + SLACK, "{took:?}");
}

/// A start that completes at 1.5 s without any event being heard: by the
/// schedule's polls.
fn falls_back(mode: Mode, emit: bool) {
    let st = states(&["sb-1"], "stopped");
    let gw = Arc::new(gateway(mode.clone(), &st));
    let daytona = client(&gw, |c| c);
    let mut sb = stopped(&daytona, "sb-1");
    start_by_polls(&gw, &st, &mut sb, Duration::from_millis(1500), emit);
}

/// Starts `sb` while it becomes `started` after `after`: the start
/// completes by the schedule's polls (≤ 20 % late past 1 s, jitter aside;
/// a third allowed).
fn start_by_polls(gw: &Arc<Gateway>, st: &States, sb: &mut Sandbox, after: Duration, emit: bool) {
    let before = gets(gw, sb.id());
    let (outcome, took) = start_while(gw, st, sb, "started", after, emit);
    outcome.unwrap();
    assert!(
        took >= after && took < after + after / 3 + SLACK,
        "{took:?}"
    );
    let polls = gets(gw, sb.id()) - before;
    assert!(polls >= 4, "{polls} polls");
}

#[test]
fn without_a_gateway_waits_poll() {
    falls_back(Mode::RefuseUpgrade(404), false);
}

#[test]
fn a_refused_upgrade_falls_back() {
    falls_back(Mode::RefuseUpgrade(401), false);
}

#[test]
fn a_refused_token_falls_back() {
    falls_back(Mode::RefuseToken, false);
}

#[test]
fn a_drop_mid_wait_falls_back_at_once() {
    // Up, then cut at 0.5 s: the event at 1.5 s is never sent on a live
    // session, and the 3 s safety poll is not waited for.
    falls_back(Mode::DropAfter(Duration::from_millis(500)), false);
}

#[test]
fn stalled_pings_fall_back() {
    falls_back(Mode::StallPings, false);
}

#[test]
fn malformed_packets_fall_back() {
    falls_back(Mode::Garbage("9garbage".into()), false);
    falls_back(Mode::Garbage("42{not an event".into()), false);
}

#[test]
fn an_oversize_message_falls_back() {
    let huge = format!("42[\"x\",\"{}\"]", "a".repeat(2 << 20));
    falls_back(Mode::Garbage(huge), false);
}

#[test]
fn a_gateway_that_fails_each_session_at_once_is_retried_ever_later() {
    // Up, then a packet the client cannot read, every time: each session
    // lasts a moment, and the reconnects back off as for a refused one
    // (0.25 s, 0.5 s, 1 s, 2 s at the least) instead of coming every half
    // second for the whole wait.
    let st = states(&["sb-1"], "stopped");
    let gw = Arc::new(gateway(Mode::Garbage("9garbage".into()), &st));
    let daytona = client(&gw, |c| c);
    let mut sb = stopped(&daytona, "sb-1");
    start_by_polls(&gw, &st, &mut sb, Duration::from_secs(4), false);
    let sessions = gw.upgrades().len();
    assert!((2..=6).contains(&sessions), "{sessions} sessions in 4 s");
}

/// A gateway that opens the session and never answers the namespace
/// connection (pinging, or when `silent` announcing day-long ping timings
/// and going quiet): the start still completes by polling, the client gives
/// each such session up within the handshake's bound (the connect timeout,
/// 1 s here) and tries again while the wait lasts, and the next wait hears
/// its change once the gateway behaves.
fn unanswered_handshake(silent: bool) {
    let st = states(&["sb-1"], "stopped");
    let gw = Arc::new(gateway(Mode::IgnoreConnect { silent }, &st));
    let daytona = client(&gw, |c| c.connect_timeout(Duration::from_secs(1)));
    let mut sb = stopped(&daytona, "sb-1");
    start_by_polls(&gw, &st, &mut sb, Duration::from_secs(3), false);
    assert!(gw.upgrades().len() >= 2, "{:?}", gw.upgrades());
    // Every session ends: given up at the bound, or once no wait remains.
    let settled = || gw.unanswered.lock().unwrap().len() == gw.upgrades().len();
    let began = Instant::now();
    while !settled() && began.elapsed() < Duration::from_secs(5) {
        thread::sleep(Duration::from_millis(20));
    }
    let lasted = gw.unanswered.lock().unwrap().clone();
    assert!(settled(), "{lasted:?} of {} sessions", gw.upgrades().len());
    // The first had a waiter throughout: it lasted the bound.
    assert!(
        lasted[0] >= Duration::from_millis(900) && lasted[0] < Duration::from_secs(2),
        "{lasted:?}"
    );
    assert!(
        lasted.iter().all(|l| *l < Duration::from_secs(2)),
        "{lasted:?}"
    );

    gw.behave();
    st.lock().unwrap().insert("sb-1".into(), "stopped".into());
    let before = gets(&gw, "sb-1");
    let after = Duration::from_millis(1200);
    let (outcome, took) = start_while(&gw, &st, &mut sb, "started", after, true);
    outcome.unwrap();
    assert!(took >= after && took <= after + SLACK, "{took:?}");
    let polls = gets(&gw, "sb-1") - before;
    assert!(polls <= 3, "{polls} polls");
    assert_eq!(gw.open.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[test]
fn an_unanswered_namespace_connection_is_given_up() {
    unanswered_handshake(false);
}

#[test]
fn a_gateway_silent_after_day_long_ping_timings_is_given_up() {
    unanswered_handshake(true);
}

/// A start heard from a gateway in `mode` by a client that closes the
/// connection 300 ms after the last wait; then, within `limit`, the close:
/// how long after the start returned it came (the gateway, the states and
/// the sandbox returned for more).
fn start_then_idle(mode: Mode, limit: Duration) -> (Arc<Gateway>, States, Sandbox, Duration) {
    let st = states(&["sb-1"], "stopped");
    let gw = Arc::new(gateway(mode, &st));
    let daytona = client(&gw, |c| c.events_idle_close(Duration::from_millis(300)));
    let mut sb = stopped(&daytona, "sb-1");
    let soon = Duration::from_millis(300);
    start_while(&gw, &st, &mut sb, "started", soon, true)
        .0
        .unwrap();
    let open = || gw.open.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(open(), 1);
    let began = Instant::now();
    while open() > 0 && began.elapsed() < limit {
        thread::sleep(Duration::from_millis(20));
    }
    let closed = began.elapsed();
    assert_eq!(open(), 0, "still open after {closed:?}");
    (gw, st, sb, closed)
}

#[test]
fn a_flooding_gateway_is_closed_when_idle() {
    // 300 ms idle, then half a second for the gateway to answer the close
    // (a flood never does).
    let (_, _, _, closed) = start_then_idle(Mode::Flood, Duration::from_secs(5));
    assert!(
        closed >= Duration::from_millis(200) && closed < Duration::from_secs(3),
        "{closed:?}"
    );
}

/// Frames without end that are never a message (a message begun, then
/// empty continuations) do not keep an unused connection open either.
#[test]
fn a_gateway_that_sends_frames_but_never_a_message_is_closed_when_idle() {
    let (_, _, _, closed) = start_then_idle(Mode::Fragments, Duration::from_secs(5));
    assert!(
        closed >= Duration::from_millis(200) && closed < Duration::from_secs(3),
        "{closed:?}"
    );
}

/// A gateway that pings without pause and reads none of the answers:
/// once the network takes no more of them, the reader does not wait on
/// the next one for the silence the gateway announced (45 s). The wait
/// completes by polling, and the connection closes when idle.
#[test]
fn a_gateway_that_reads_no_pongs_is_closed_when_idle() {
    let st = states(&["sb-1"], "stopped");
    let gw = Arc::new(gateway(Mode::PingFlood, &st));
    let daytona = client(&gw, |c| c.events_idle_close(Duration::from_millis(300)));
    let mut sb = stopped(&daytona, "sb-1");
    // Started once the client no longer takes pings (it cannot send its
    // answers), or has given up the session.
    let given_up = |gw: &Gateway| gw.stalled.load(Ordering::SeqCst) || gw.upgrades().len() > 1;
    let (gw2, st2) = (gw.clone(), st.clone());
    thread::spawn(move || {
        let began = Instant::now();
        while !given_up(&gw2) && began.elapsed() < Duration::from_secs(40) {
            thread::sleep(Duration::from_millis(20));
        }
        st2.lock().unwrap().insert("sb-1".into(), "started".into());
    });
    sb.start().unwrap();
    assert!(given_up(&gw));
    let open = || gw.open.load(Ordering::SeqCst);
    let began = Instant::now();
    while open() > 0 && began.elapsed() < Duration::from_secs(10) {
        thread::sleep(Duration::from_millis(20));
    }
    let closed = began.elapsed();
    assert_eq!(open(), 0, "still open after {closed:?}");
    assert!(closed < Duration::from_secs(3), "{closed:?}");
}

#[test]
fn events_off_never_connect() {
    let st = states(&["sb-1"], "stopped");
    let gw = Arc::new(gateway(Mode::Normal, &st));
    let daytona = client(&gw, |c| c.events(false));
    let mut sb = stopped(&daytona, "sb-1");
    let soon = Duration::from_millis(300);
    start_while(&gw, &st, &mut sb, "started", soon, true)
        .0
        .unwrap();
    assert!(gw.upgrades().is_empty());
}

#[test]
fn the_connection_closes_when_idle_and_opens_again() {
    let (gw, st, mut sb, closed) = start_then_idle(Mode::Normal, Duration::from_secs(3));
    assert!(
        closed >= Duration::from_millis(200) && closed < Duration::from_millis(300) + SLACK,
        "{closed:?}"
    );
    // The next wait connects again.
    st.lock().unwrap().insert("sb-1".into(), "stopped".into());
    let soon = Duration::from_millis(300);
    start_while(&gw, &st, &mut sb, "started", soon, true)
        .0
        .unwrap();
    assert_eq!(gw.upgrades().len(), 2);
}

#[test]
fn sixty_four_threads_share_one_connection() {
    let ids: Vec<String> = (0..64).map(|i| format!("sb-{i}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let st = states(&refs, "stopped");
    let gw = Arc::new(gateway(Mode::Normal, &st));
    let daytona = client(&gw, |c| c);
    for id in &ids {
        change_later(&gw, &st, id, "started", Duration::from_millis(1500), true);
    }
    let waits: Vec<_> = ids
        .iter()
        .map(|id| {
            let (daytona, id) = (daytona.clone(), id.clone());
            thread::spawn(move || {
                let mut sb = daytona.get(&id).unwrap();
                sb.start().unwrap();
                Instant::now()
            })
        })
        .collect();
    let began = Instant::now();
    for w in waits {
        w.join().unwrap();
    }
    assert!(
        began.elapsed() <= Duration::from_millis(1500) + SLACK,
        "{:?}",
        began.elapsed()
    );
    assert_eq!(gw.upgrades().len(), 1);
    let polls: usize = ids.iter().map(|id| gets(&gw, id) - 1).sum();
    assert!(polls <= 64 * 3, "{polls} polls");
}

#[test]
fn an_event_before_the_wait_listens_is_not_lost() {
    // The create's events come while the POST is still being answered.
    let gw: Arc<Mutex<Option<Arc<Gateway>>>> = Arc::new(Mutex::new(None));
    let slot = gw.clone();
    let state = Arc::new(Mutex::new("creating".to_string()));
    let st = state.clone();
    let server = Arc::new(Gateway::start(Mode::Normal, move |rest: &Rest| {
        if rest.method == "POST" && rest.target == "/api/sandbox" {
            // Announced before the answer to the POST leaves.
            let gw = slot.lock().unwrap().clone().unwrap();
            *st.lock().unwrap() = "started".into();
            gw.emit("sandbox.created", sandbox_json("sb-new", "creating"));
            gw.emit(
                "sandbox.state.updated",
                json!({"sandbox": sandbox_json("sb-new", "started"), "oldState": "creating", "newState": "started"}),
            );
            thread::sleep(Duration::from_millis(100));
            return (200, sandbox_json("sb-new", "creating").to_string());
        }
        let s = st.lock().unwrap().clone();
        (200, sandbox_json("sb-new", &s).to_string())
    }));
    *gw.lock().unwrap() = Some(server.clone());
    let daytona = client(&server, |c| c);
    let began = Instant::now();
    let sb = daytona.create(daytona::CreateSandbox::new()).unwrap();
    assert_eq!(sb.state(), Some(&daytona::SandboxState::Started));
    assert!(
        began.elapsed() <= Duration::from_millis(100) + SLACK,
        "{:?}",
        began.elapsed()
    );
    // Heard, not polled: the POST and nothing else.
    assert_eq!(server.rest().len(), 1, "{:?}", server.rest());
    drop(state);
}

#[test]
fn a_build_that_starts_before_its_logs_are_followed_is_seen_at_once() {
    // The create's answer says `pending_build`; the build starts (and is
    // announced) before that answer leaves, so before the wait for the
    // build to start listens: only a check shows it. Before, that check
    // came with the safety poll, 3 s or more later.
    let gw: Arc<Mutex<Option<Arc<Gateway>>>> = Arc::new(Mutex::new(None));
    let slot = gw.clone();
    let state = Arc::new(Mutex::new("pending_build".to_string()));
    let st = state.clone();
    let server = Arc::new(Gateway::start(Mode::Normal, move |rest: &Rest| {
        let gw = slot.lock().unwrap().clone().unwrap();
        let path = rest.target.split('?').next().unwrap_or_default();
        let announce = |old: &str, new: &str| {
            *st.lock().unwrap() = new.into();
            gw.emit(
                "sandbox.state.updated",
                json!({"sandbox": sandbox_json("sb-new", new), "oldState": old, "newState": new}),
            );
        };
        match (rest.method.as_str(), path) {
            ("POST", "/api/sandbox") => {
                announce("pending_build", "building_snapshot");
                thread::sleep(Duration::from_millis(100));
                (200, sandbox_json("sb-new", "pending_build").to_string())
            }
            ("GET", "/api/sandbox/sb-new/build-logs-url") => {
                let url = format!("{}/sandbox/sb-new/build-logs", gw.api_url);
                (200, json!({ "url": url }).to_string())
            }
            ("GET", "/api/sandbox/sb-new/build-logs") => {
                announce("building_snapshot", "started");
                (200, "\"step 1/1\"".into())
            }
            _ => {
                let s = st.lock().unwrap().clone();
                (200, sandbox_json("sb-new", &s).to_string())
            }
        }
    }));
    *gw.lock().unwrap() = Some(server.clone());
    let daytona = client(&server, |c| c);
    let began = Instant::now();
    let mut lines = Vec::new();
    let sb = daytona
        .create_with_logs(daytona::CreateSandbox::new(), |l| lines.push(l.to_string()))
        .unwrap();
    let took = began.elapsed();
    assert_eq!(sb.state(), Some(&daytona::SandboxState::Started));
    assert_eq!(lines, ["\"step 1/1\""]);
    assert!(took <= Duration::from_millis(100) + SLACK, "{took:?}");
    assert!(gets(&server, "sb-new") >= 1, "{:?}", server.rest());
    drop(state);
}

/// A gateway whose REST side serves one snapshot and one volume, both
/// `pending` until the test changes them.
fn resources_gateway(
    snapshot: &Arc<Mutex<&'static str>>,
    volume: &Arc<Mutex<&'static str>>,
) -> Gateway {
    let (snapshot, volume) = (snapshot.clone(), volume.clone());
    Gateway::start(Mode::Normal, move |rest: &Rest| {
        let body = if rest.target.starts_with("/api/snapshots") {
            snapshot_json(&snapshot.lock().unwrap())
        } else {
            volume_json(&volume.lock().unwrap())
        };
        (200, body.to_string())
    })
}

fn snapshot_json(state: &str) -> serde_json::Value {
    json!({
        "id": "snap-1", "organizationId": "org-1", "general": false, "name": "py",
        "imageName": "python:3.12-slim", "state": state, "size": null, "entrypoint": null,
        "cpu": 1, "gpu": 0, "mem": 1, "disk": 3, "errorReason": null,
        "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z",
        "lastUsedAt": null, "regionIds": ["us"]
    })
}

fn volume_json(state: &str) -> serde_json::Value {
    json!({
        "id": "vol-1", "name": "data", "organizationId": "org-1", "state": state,
        "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z",
        "lastUsedAt": null, "errorReason": null
    })
}

#[test]
fn snapshot_and_volume_waits_hear_their_changes() {
    let snapshot = Arc::new(Mutex::new("pending"));
    let volume = Arc::new(Mutex::new("creating"));
    let gw = Arc::new(resources_gateway(&snapshot, &volume));
    let daytona = client(&gw, |c| c);

    let (g, s) = (gw.clone(), snapshot.clone());
    thread::spawn(move || {
        thread::sleep(Duration::from_millis(1200));
        *s.lock().unwrap() = "active";
        g.emit(
            "snapshot.state.updated",
            json!({"snapshot": snapshot_json("active"), "oldState": "pending", "newState": "active"}),
        );
    });
    let began = Instant::now();
    let snap = daytona
        .snapshots()
        .create(daytona::CreateSnapshot::from_image(
            "py",
            "python:3.12-slim",
        ))
        .unwrap();
    assert_eq!(snap.state, daytona::SnapshotState::Active);
    let took = began.elapsed();
    assert!(took <= Duration::from_millis(1200) + SLACK, "{took:?}");
    let polls = gw.count("GET /api/snapshots/snap-1");
    assert!(polls <= 2, "{polls} polls");

    let (g, v) = (gw.clone(), volume.clone());
    thread::spawn(move || {
        thread::sleep(Duration::from_millis(1200));
        *v.lock().unwrap() = "ready";
        g.emit(
            "volume.state.updated",
            json!({"volume": volume_json("ready"), "oldState": "creating", "newState": "ready"}),
        );
    });
    let began = Instant::now();
    let vol = daytona.volumes().wait_until_ready("data").unwrap();
    assert_eq!(vol.state, daytona::VolumeState::Ready);
    assert!(
        began.elapsed() <= Duration::from_millis(1200) + SLACK,
        "{:?}",
        began.elapsed()
    );
    let polls = gw.count("GET /api/volumes/by-name/data");
    assert!(polls <= 2, "{polls} polls");

    // Waited for again, with the connection up: nothing more will be
    // announced, a check at once sees it ready (before, the first check
    // was the safety poll, 3 s or more later).
    let began = Instant::now();
    daytona.volumes().wait_until_ready("data").unwrap();
    let took = began.elapsed();
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_eq!(gw.count("GET /api/volumes/by-name/data"), polls + 1);
}

/// The simulator announces its changes as the API does: a create, a stop,
/// a start and a delete hear them, with hardly a poll (polling alone takes
/// several per wait), and as they happen (a wait that heard nothing would
/// end at the next safety poll, 3 s or more later).
#[test]
fn the_simulator_announces_its_changes() {
    let local = daytona::testing::LocalDaytona::builder()
        .state_delay(Duration::from_millis(600))
        .start()
        .unwrap();
    let lifecycle = |daytona: &Daytona| {
        let started = Instant::now();
        let mut sb = daytona.create(daytona::CreateSandbox::new()).unwrap();
        sb.stop().unwrap();
        sb.start().unwrap();
        sb.delete().unwrap();
        let path = format!("/api/sandbox/{}", sb.id());
        let polls = local
            .requests()
            .iter()
            .filter(|r| r.method == "GET" && r.path == path)
            .count();
        (polls, started.elapsed())
    };
    let (heard, took) = lifecycle(&local.client());
    let (polled, _) = lifecycle(&Daytona::new(local.config().events(false)).unwrap());
    assert!(
        heard <= 4 && polled >= 16,
        "{heard} polls, {polled} without events"
    );
    // Four changes 0.6 s after their request: 2.4 s, and 12 s or more if
    // the waits had to poll.
    assert!(took < Duration::from_secs(7), "{took:?}");
}
