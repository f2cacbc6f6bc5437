//! Helpers shared by the integration tests: a client pointed at a mockito
//! server and spec-shaped JSON bodies.
#![allow(dead_code)]

use std::time::Duration;

use daytona::{Daytona, DaytonaConfig, Error, PollSchedule, RetryPolicy, Sandbox};
use serde_json::{json, Value};

/// The API key every test client uses.
pub const KEY: &str = "test-key-5f3a";

/// A configuration for `server`: fixed key, no environment, fast retries,
/// waits that poll (the real-time events have tests of their own).
///
/// Without events, no thread of the client outlives its test: mockito
/// hands a finished test's server to the next one, where a late gateway
/// handshake would be a request that test never made.
pub fn config(server: &mockito::Server) -> DaytonaConfig {
    DaytonaConfig::new()
        .read_env(false)
        .api_key(KEY)
        .api_url(format!("{}/api", server.url()))
        .retry_policy(fast_retries())
        .events(false)
}

/// Retries with short delays so tests stay quick.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .initial_backoff(Duration::from_millis(10))
        .max_backoff(Duration::from_millis(50))
}

/// A fast polling schedule for waits that are not timed.
pub fn fast_poll() -> PollSchedule {
    PollSchedule::fixed(Duration::from_millis(10))
}

/// Whether a wait that timed out after `took` kept its `deadline`: never
/// early (at least 90 % of it, the polls' own rounding), and late by at most
/// a second of scheduling on a loaded machine.
pub fn on_time(took: Duration, deadline: Duration) -> bool {
    took >= deadline.mul_f64(0.9) && took <= deadline + Duration::from_secs(1)
}

/// A client for `server`.
pub fn client(server: &mockito::Server) -> Daytona {
    Daytona::new(config(server).poll_schedule(fast_poll())).expect("client")
}

/// A spec-shaped `Sandbox` JSON document.
pub fn sandbox_json(id: &str, state: &str) -> Value {
    json!({
        "id": id,
        "organizationId": "org-1",
        "name": format!("name-{id}"),
        "snapshot": "daytonaio/sandbox:0.4.3",
        "user": "daytona",
        "env": {"A": "1"},
        "labels": {"code-toolbox-language": "python"},
        "public": false,
        "networkBlockAll": false,
        "target": "us",
        "cpu": 1,
        "gpu": 0,
        "memory": 1,
        "disk": 3,
        "state": state,
        "desiredState": "started",
        "errorReason": null,
        "recoverable": false,
        "backupState": "None",
        "autoStopInterval": 15,
        "autoArchiveInterval": 10080,
        "autoDeleteInterval": -1,
        "volumes": [],
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-01T00:00:00Z",
        "sandboxClass": "container",
        "daemonVersion": "0.190.0",
        "runnerId": "runner-1",
        "toolboxProxyUrl": "https://proxy.example/toolbox"
    })
}

/// A spec-shaped `SandboxListItem` JSON document.
pub fn list_item_json(id: &str) -> Value {
    let mut v = sandbox_json(id, "started");
    let o = v.as_object_mut().unwrap();
    for k in [
        "env",
        "networkBlockAll",
        "volumes",
        "buildInfo",
        "backupCreatedAt",
        "linkedSandboxId",
    ] {
        o.remove(k);
    }
    v
}

/// `GET /api/sandbox` with the SDK headers, no body and `query`.
pub fn list_mock(server: &mut mockito::Server, query: mockito::Matcher) -> mockito::Mock {
    expect_no_body(api_mock(server, "GET", "/api/sandbox").match_query(query))
}

/// A `ListSandboxesResponse` of list items with these ids.
pub fn list_page(ids: &[&str], next: Option<&str>) -> Value {
    let items: Vec<Value> = ids.iter().map(|id| list_item_json(id)).collect();
    serde_json::json!({ "items": items, "nextCursor": next })
}

/// The ids of `sandboxes`, in order.
pub fn sandbox_ids(sandboxes: &[daytona::Sandbox]) -> Vec<&str> {
    sandboxes.iter().map(|s| s.id()).collect()
}

/// Matches the headers every request must carry.
pub fn with_sdk_headers(mock: mockito::Mock) -> mockito::Mock {
    mock.match_header("authorization", format!("Bearer {KEY}").as_str())
        .match_header("x-daytona-source", "sdk-rust")
        .match_header("x-daytona-sdk-version", "0.190.0")
        .match_header(
            "user-agent",
            concat!("sdk-rust/", env!("CARGO_PKG_VERSION")),
        )
}

// ---------------------------------------------------------------------------
// Helpers added for the lifecycle, create and list tests.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A mock of `method path` on `server` that also checks the SDK headers.
/// `path` is matched exactly (add `match_query` for the query part).
pub fn api_mock(server: &mut mockito::Server, method: &str, path: &str) -> mockito::Mock {
    with_sdk_headers(server.mock(method, path))
}

/// Answers `status` with `body` as JSON.
pub fn reply_json(mock: mockito::Mock, status: usize, body: &Value) -> mockito::Mock {
    mock.with_status(status)
        .with_header("content-type", "application/json")
        .with_body(body.to_string())
}

/// The request has exactly this JSON body, declared as JSON.
pub fn expect_json_body(mock: mockito::Mock, body: Value) -> mockito::Mock {
    mock.match_header("content-type", "application/json")
        .match_body(mockito::Matcher::Json(body))
}

/// The request has no body at all.
pub fn expect_no_body(mock: mockito::Mock) -> mockito::Mock {
    mock.match_body(mockito::Matcher::Exact(String::new()))
}

/// Mocks that catch any request of any common method on any path; each
/// expects zero hits. Assert them with [`assert_all`] to prove that nothing
/// was sent.
pub fn no_requests(server: &mut mockito::Server) -> Vec<mockito::Mock> {
    ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]
        .iter()
        .map(|m| server.mock(m, mockito::Matcher::Any).expect(0).create())
        .collect()
}

/// Asserts every mock.
pub fn assert_all(mocks: &[mockito::Mock]) {
    for m in mocks {
        m.assert();
    }
}

/// `sandbox_json(id, state)` with an `errorReason`.
pub fn failed_sandbox_json(id: &str, state: &str, reason: &str) -> Value {
    let mut v = sandbox_json(id, state);
    v["errorReason"] = json!(reason);
    v
}

/// A stateful body responder: the n-th request (counting from 0) gets
/// `sandbox_json(id, states[n])`, the last state repeating. The counter
/// counts the requests answered.
pub fn state_sequence(
    id: &str,
    states: &[&str],
) -> (
    impl Fn(&mockito::Request) -> Vec<u8> + Send + Sync + 'static,
    Arc<AtomicUsize>,
) {
    assert!(!states.is_empty());
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let id = id.to_string();
    let states: Vec<String> = states.iter().map(|s| s.to_string()).collect();
    let responder = move |_: &mockito::Request| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        let state = &states[n.min(states.len() - 1)];
        sandbox_json(&id, state).to_string().into_bytes()
    };
    (responder, calls)
}

/// The value of an `Arc<AtomicUsize>` counter.
pub fn count(calls: &Arc<AtomicUsize>) -> usize {
    calls.load(Ordering::SeqCst)
}

/// The toolbox path prefix of the sandbox [`toolbox_sandbox`] returns.
pub const TOOLBOX: &str = "/toolbox/sb-1";

/// A started sandbox `sb-1` whose toolbox is served by `server` under
/// [`TOOLBOX`] (fetched once with `GET /api/sandbox/sb-1`).
pub fn toolbox_sandbox(server: &mut mockito::Server, daytona: &Daytona) -> daytona::Sandbox {
    let mut body = sandbox_json("sb-1", "started");
    body["toolboxProxyUrl"] = json!(format!("{}/toolbox", server.url()));
    let m = server
        .mock("GET", "/api/sandbox/sb-1")
        .with_status(200)
        .with_header("content-type", "application/json")
        .with_body(body.to_string())
        .expect(1)
        .create();
    let sandbox = daytona.get("sb-1").expect("sandbox");
    m.assert();
    m.remove();
    sandbox
}

/// `GET /api/object-storage/push-access` on `api`, handing out access to
/// the object store at `storage_url` (organization `org-1`, bucket `b`).
pub fn push_access_to(api: &mut mockito::Server, storage_url: &str) -> mockito::Mock {
    api.mock("GET", "/api/object-storage/push-access")
        .with_body(
            json!({
                "accessKey": "AKID", "secret": "store-secret", "sessionToken": "tok",
                "storageUrl": storage_url, "organizationId": "org-1", "bucket": "b"
            })
            .to_string(),
        )
        .create()
}

/// `err` is a validation error naming `field`.
pub fn assert_validation(err: &Error, field: &str) {
    match err {
        Error::Validation { field: f, .. } => assert_eq!(f, field, "{err}"),
        other => panic!("expected a validation error on {field}, got {other:?}"),
    }
}

/// A mock of `method /api/sandbox/{rest}` with the SDK headers.
pub fn sandbox_mock(server: &mut mockito::Server, method: &str, rest: &str) -> mockito::Mock {
    api_mock(server, method, &format!("/api/sandbox/{rest}"))
}

/// A `GET /api/sandbox/{id}` poll mock answering `states` in turn, and
/// its counter of polls.
pub fn sandbox_poll_mock(
    server: &mut mockito::Server,
    id: &str,
    states: &[&str],
) -> (mockito::Mock, Arc<AtomicUsize>) {
    let (responder, polls) = state_sequence(id, states);
    let mock =
        expect_no_body(sandbox_mock(server, "GET", id).match_query(mockito::Matcher::Missing))
            .with_status(200)
            .with_header("content-type", "application/json")
            .with_body_from_request(responder);
    (mock, polls)
}

/// Fetches a handle on sandbox `id` in `state` (one checked GET whose mock
/// is then removed, so that later mocks of the same path stand alone).
pub fn fetch_sandbox(
    server: &mut mockito::Server,
    daytona: &Daytona,
    id: &str,
    state: &str,
) -> Sandbox {
    let m = reply_json(
        expect_no_body(sandbox_mock(server, "GET", id).match_query(mockito::Matcher::Missing)),
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

/// A server, a client of it and the handle on its sandbox `sb-1` in
/// `state`.
pub fn sandbox_in(state: &str) -> (mockito::ServerGuard, Daytona, Sandbox) {
    let mut server = mockito::Server::new();
    let daytona = client(&server);
    let sb = fetch_sandbox(&mut server, &daytona, "sb-1", state);
    (server, daytona, sb)
}

/// A client for `server` with `max_attempts` attempts per request.
pub fn client_with_attempts(server: &mockito::Server, attempts: u32) -> Daytona {
    Daytona::new(
        config(server)
            .poll_schedule(fast_poll())
            .max_attempts(attempts),
    )
    .unwrap()
}

/// A mock `GET /api/sandbox/{id}` answering `status` with `body`.
pub fn get_mock(
    server: &mut mockito::Server,
    id: &str,
    status: usize,
    body: &str,
) -> mockito::Mock {
    server
        .mock("GET", format!("/api/sandbox/{id}").as_str())
        .with_status(status)
        .with_header("content-type", "application/json")
        .with_body(body)
}

pub fn api_error(e: &Error) -> &daytona::ApiError {
    e.api()
        .unwrap_or_else(|| panic!("expected an API error, got {e:?}"))
}
