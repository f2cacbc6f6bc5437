//! The transport against a mock server: headers, retries, timeouts and
//! keeping credentials out of errors (the mapping of error answers and
//! decoding: `tests/answers.rs`).

mod common;
mod fault_server;

use std::thread;
use std::time::{Duration, Instant};

use common::*;
use daytona::{CreateSandbox, Daytona, DaytonaConfig, Error, RetryPolicy};
use fault_server::{Action, FaultServer};
use mockito::Matcher;
use serde_json::json;

const JWT: &str = "jwt-token-9c1e";
const ORG: &str = "org-77";
const SDK_UA: &str = concat!("sdk-rust/", env!("CARGO_PKG_VERSION"));

// ---------------------------------------------------------------------------
// helpers

/// A JWT-mode client for `server`.
fn jwt_client(server: &mockito::Server) -> Daytona {
    Daytona::new(
        DaytonaConfig::new()
            .read_env(false)
            .jwt_token(JWT)
            .organization_id(ORG)
            .api_url(format!("{}/api", server.url()))
            .retry_policy(fast_retries())
            .poll_schedule(fast_poll()),
    )
    .unwrap()
}

/// A base URL on 127.0.0.1 where nothing listens (connections are refused).
fn refused_url() -> String {
    format!("{}/api", fault_server::refused_url())
}

/// A client for a raw base URL.
fn client_at(url: &str, policy: RetryPolicy) -> Daytona {
    Daytona::new(
        DaytonaConfig::new()
            .read_env(false)
            .api_key(KEY)
            .api_url(url)
            .retry_policy(policy)
            .poll_schedule(fast_poll())
            // Only the REST connections are counted.
            .events(false),
    )
    .unwrap()
}

/// What a [`RawServer`] does with each connection it accepts.
#[derive(Clone, Copy)]
enum Behaviour {
    /// Keeps the connection open and never answers.
    Hang,
    /// Reads the request head, then closes without answering.
    Close,
    /// Answers 200 with a `Content-Length` larger than the body it sends,
    /// then closes.
    Truncate,
}

/// A server on 127.0.0.1 that misbehaves and counts connections.
struct RawServer {
    url: String,
    server: FaultServer,
}

impl RawServer {
    fn start(behaviour: Behaviour) -> Self {
        let server = FaultServer::start(move |_| match behaviour {
            Behaviour::Hang => Action::Silent,
            Behaviour::Close => Action::CloseBeforeAnswer,
            Behaviour::Truncate => Action::Raw(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                  Content-Length: 1000\r\nConnection: close\r\n\r\n{\"id\":\"sb-1\","
                    .to_vec(),
            ),
        });
        RawServer {
            url: format!("{}/api", server.url),
            server,
        }
    }

    /// Connections accepted so far (after letting the acceptor catch up).
    fn connections(&self) -> usize {
        thread::sleep(Duration::from_millis(50));
        self.server.connections()
    }
}

/// Asserts that neither `Display` nor `Debug` of `e` shows `secret`.
fn assert_hides(e: &Error, secret: &str) {
    let shown = format!("{e}");
    let debug = format!("{e:?}");
    assert!(!shown.contains(secret), "Display leaks the secret: {shown}");
    assert!(!debug.contains(secret), "Debug leaks the secret: {debug}");
}

fn sandbox_body(id: &str, state: &str) -> String {
    sandbox_json(id, state).to_string()
}

// ---------------------------------------------------------------------------
// headers

#[test]
fn api_key_mode_sends_sdk_headers_on_every_method_and_no_org_header() {
    let mut server = mockito::Server::new();
    let create = with_sdk_headers(server.mock("POST", "/api/sandbox"))
        .match_header("x-daytona-organization-id", Matcher::Missing)
        .match_header("content-type", "application/json")
        .with_status(200)
        .with_body(sandbox_body("sb-1", "started"))
        .expect(1)
        .create();
    let get = with_sdk_headers(server.mock("GET", "/api/sandbox/sb-1"))
        .match_header("x-daytona-organization-id", Matcher::Missing)
        .with_status(200)
        .with_body(sandbox_body("sb-1", "started"))
        .expect(1)
        .create();
    let put = with_sdk_headers(server.mock("PUT", "/api/sandbox/sb-1/labels"))
        .match_header("x-daytona-organization-id", Matcher::Missing)
        .with_status(200)
        .with_body(json!({"labels": {"a": "b"}}).to_string())
        .expect(1)
        .create();
    let delete = with_sdk_headers(server.mock("DELETE", "/api/sandbox/sb-1"))
        .match_header("x-daytona-organization-id", Matcher::Missing)
        .with_status(200)
        .with_body(sandbox_body("sb-1", "destroyed"))
        .expect(1)
        .create();

    let daytona = client(&server);
    let mut sb = daytona.create(CreateSandbox::new()).unwrap();
    sb.refresh().unwrap();
    let labels = sb
        .set_labels([("a".to_string(), "b".to_string())].into())
        .unwrap();
    assert_eq!(labels.get("a").map(String::as_str), Some("b"));
    sb.delete().unwrap();

    create.assert();
    get.assert();
    put.assert();
    delete.assert();
}

#[test]
fn jwt_mode_sends_the_jwt_and_the_organization_header() {
    let mut server = mockito::Server::new();
    let get = server
        .mock("GET", "/api/sandbox/sb-1")
        .match_header("authorization", format!("Bearer {JWT}").as_str())
        .match_header("x-daytona-organization-id", ORG)
        .match_header("x-daytona-source", "sdk-rust")
        .match_header("x-daytona-sdk-version", "0.190.0")
        .match_header("user-agent", SDK_UA)
        .with_status(200)
        .with_body(sandbox_body("sb-1", "started"))
        .expect(1)
        .create();
    let create = server
        .mock("POST", "/api/sandbox")
        .match_header("authorization", format!("Bearer {JWT}").as_str())
        .match_header("x-daytona-organization-id", ORG)
        .match_header("x-daytona-source", "sdk-rust")
        .match_header("x-daytona-sdk-version", "0.190.0")
        .match_header("user-agent", SDK_UA)
        .with_status(200)
        .with_body(sandbox_body("sb-2", "started"))
        .expect(1)
        .create();
    let daytona = jwt_client(&server);
    daytona.get("sb-1").unwrap();
    daytona.create(CreateSandbox::new()).unwrap();
    get.assert();
    create.assert();
}

#[test]
fn the_sdk_version_constant_is_the_one_sent() {
    assert_eq!(daytona::API_VERSION, "0.190.0");
}

// ---------------------------------------------------------------------------
// retries

#[test]
fn a_body_cut_short_by_the_connection_is_an_error_and_get_retries_it() {
    let raw = RawServer::start(Behaviour::Truncate);
    let policy = fast_retries().max_attempts(3);
    let e = client_at(&raw.url, policy).get("sb-1").unwrap_err();
    assert!(
        matches!(e, Error::Transport { .. } | Error::Decode { .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("GET /api/sandbox/sb-1"), "{e}");
    assert_eq!(raw.connections(), 3);
}

#[test]
fn get_503_503_200_succeeds_after_three_requests() {
    let mut server = mockito::Server::new();
    let first = get_mock(&mut server, "sb-1", 503, "").expect(1).create();
    let second = get_mock(&mut server, "sb-1", 503, "").expect(1).create();
    let ok = get_mock(&mut server, "sb-1", 200, &sandbox_body("sb-1", "started"))
        .expect(1)
        .create();
    let sb = client(&server).get("sb-1").unwrap();
    first.assert();
    second.assert();
    ok.assert();
    assert_eq!(sb.id(), "sb-1");
}

#[test]
fn every_retryable_status_is_retried_on_get() {
    for status in [408, 429, 502, 503, 504] {
        let mut server = mockito::Server::new();
        let fail = get_mock(&mut server, "sb-1", status, "").expect(1).create();
        let ok = get_mock(&mut server, "sb-1", 200, &sandbox_body("sb-1", "started"))
            .expect(1)
            .create();
        client(&server)
            .get("sb-1")
            .unwrap_or_else(|e| panic!("{status}: {e}"));
        fail.assert();
        ok.assert();
    }
}

#[test]
fn delete_and_put_are_retried_too() {
    let mut server = mockito::Server::new();
    let _get = get_mock(&mut server, "sb-1", 200, &sandbox_body("sb-1", "started")).create();
    // Both attempts carry the same body.
    let labels = json!({ "labels": { "team": "core" } });
    let put_fail = expect_json_body(
        server.mock("PUT", "/api/sandbox/sb-1/labels"),
        labels.clone(),
    )
    .with_status(502)
    .expect(1)
    .create();
    let put_ok = expect_json_body(
        server.mock("PUT", "/api/sandbox/sb-1/labels"),
        labels.clone(),
    )
    .with_status(200)
    .with_body(labels.to_string())
    .expect(1)
    .create();
    let del_fail = server
        .mock("DELETE", "/api/sandbox/sb-1")
        .with_status(504)
        .expect(1)
        .create();
    let del_ok = server
        .mock("DELETE", "/api/sandbox/sb-1")
        .with_status(200)
        .with_body(sandbox_body("sb-1", "destroyed"))
        .expect(1)
        .create();
    let mut sb = client(&server).get("sb-1").unwrap();
    let held = sb
        .set_labels([("team".to_string(), "core".to_string())].into())
        .unwrap();
    assert_eq!(held.get("team").map(String::as_str), Some("core"));
    sb.delete().unwrap();
    put_fail.assert();
    put_ok.assert();
    del_fail.assert();
    del_ok.assert();
}

/// A DELETE of an API resource whose first attempt was acted on but
/// answered 502 or 504 or cut (a gateway lost the answer) and whose retry
/// is answered 404 has succeeded; after a status that says the server did
/// not act (503 from a gateway that never passed it on, 408, 429), a 404
/// is still "not found".
#[test]
fn a_delete_answered_404_after_a_lost_answer_is_done() {
    for (first, done) in [
        (Some(502), true),
        (Some(504), true),
        (None, true),
        (Some(503), false),
        (Some(408), false),
        (Some(429), false),
    ] {
        let mut server = mockito::Server::new();
        let get = get_mock(&mut server, "sb-1", 200, &sandbox_body("sb-1", "started")).create();
        let mut sb = client(&server).get("sb-1").unwrap();
        get.remove();
        let lost = server.mock("DELETE", "/api/snapshots/snap-1");
        let lost = match first {
            Some(status) => lost.with_status(status),
            // The connection closes after the head: the body never comes.
            None => lost
                .with_status(200)
                .with_header("content-length", "100")
                .with_body("{"),
        }
        .expect(1)
        .create();
        let gone = server
            .mock("DELETE", "/api/snapshots/snap-1")
            .with_status(404)
            .with_body(r#"{"statusCode":404,"message":"Snapshot not found"}"#)
            .expect(1)
            .create();
        let snapshot: daytona::Snapshot = serde_json::from_value(json!({
            "id": "snap-1", "name": "s", "state": "active"
        }))
        .unwrap();
        let result = sb.client().snapshots().delete(&snapshot);
        lost.assert();
        gone.assert();
        match result {
            Ok(()) => assert!(done, "{first:?}: a first 404 must stay an error"),
            Err(e) => assert!(!done && e.is_not_found(), "{first:?}: {e:?}"),
        }
        // The sandbox's own DELETE: the wait then finds it gone.
        if first == Some(502) {
            let del = server
                .mock("DELETE", "/api/sandbox/sb-1")
                .with_status(504)
                .expect(1)
                .create();
            let del_gone = server
                .mock("DELETE", "/api/sandbox/sb-1")
                .with_status(404)
                .expect(1)
                .create();
            let _gone_get = get_mock(&mut server, "sb-1", 404, "").create();
            sb.delete().unwrap();
            del.assert();
            del_gone.assert();
        }
    }
}

/// Outside the API's own resources a 404 may be a proxy's (the sandbox's
/// toolbox gone), and a GET's 404 is never a deletion: both stay errors
/// after a 502.
#[test]
fn a_404_after_a_502_stays_an_error_for_toolbox_deletes_and_gets() {
    let mut server = mockito::Server::new();
    let mut info = sandbox_json("sb-1", "started");
    info["toolboxProxyUrl"] = json!(format!("{}/toolbox", server.url()));
    let _get = get_mock(&mut server, "sb-1", 200, &info.to_string()).create();
    let sandbox = client(&server).get("sb-1").unwrap();
    let lost = server
        .mock("DELETE", "/toolbox/sb-1/process/session/s")
        .with_status(502)
        .expect(1)
        .create();
    let gone = server
        .mock("DELETE", "/toolbox/sb-1/process/session/s")
        .with_status(404)
        .with_body(r#"{"message":"sandbox not found"}"#)
        .expect(1)
        .create();
    let e = sandbox.process().delete_session("s").unwrap_err();
    assert!(e.is_not_found(), "{e:?}");
    lost.assert();
    gone.assert();

    let lost = get_mock(&mut server, "sb-2", 502, "").expect(1).create();
    let missing = get_mock(&mut server, "sb-2", 404, "").expect(1).create();
    let e = client(&server).get("sb-2").unwrap_err();
    assert!(e.is_not_found(), "{e:?}");
    lost.assert();
    missing.assert();
}

#[test]
fn get_503_forever_stops_at_max_attempts() {
    for (attempts, expected) in [(None, 4), (Some(3), 3), (Some(1), 1)] {
        let mut server = mockito::Server::new();
        let m = get_mock(&mut server, "sb-1", 503, "")
            .expect(expected)
            .create();
        let daytona = match attempts {
            Some(n) => client_with_attempts(&server, n),
            None => client(&server),
        };
        let e = daytona.get("sb-1").unwrap_err();
        m.assert();
        assert_eq!(e.status(), Some(503), "{e:?}");
    }
}

#[test]
fn post_create_answered_503_is_sent_once() {
    let mut server = mockito::Server::new();
    let m = server
        .mock("POST", "/api/sandbox")
        .with_status(503)
        .expect(1)
        .create();
    let e = client(&server).create(CreateSandbox::new()).unwrap_err();
    m.assert();
    assert_eq!(e.status(), Some(503));
    assert_eq!(e.sandbox_id(), None);
}

#[test]
fn post_create_is_never_retried_on_408_502_504() {
    for status in [408, 502, 504] {
        let mut server = mockito::Server::new();
        let m = server
            .mock("POST", "/api/sandbox")
            .with_status(status)
            .expect(1)
            .create();
        let e = client(&server).create(CreateSandbox::new()).unwrap_err();
        m.assert();
        assert_eq!(e.status(), Some(status as u16));
    }
}

#[test]
fn post_create_answered_429_then_200_takes_two_requests() {
    let mut server = mockito::Server::new();
    let limited = server
        .mock("POST", "/api/sandbox")
        .with_status(429)
        .with_body(r#"{"statusCode":429,"message":"ThrottlerException: Too Many Requests"}"#)
        .expect(1)
        .create();
    let ok = server
        .mock("POST", "/api/sandbox")
        .with_status(200)
        .with_body(sandbox_body("sb-1", "started"))
        .expect(1)
        .create();
    let sb = client(&server).create(CreateSandbox::new()).unwrap();
    limited.assert();
    ok.assert();
    assert_eq!(sb.id(), "sb-1");
}

#[test]
fn retry_after_seconds_is_honoured() {
    let mut server = mockito::Server::new();
    let limited = get_mock(&mut server, "sb-1", 429, "")
        .with_header("retry-after", "1")
        .expect(1)
        .create();
    let ok = get_mock(&mut server, "sb-1", 200, &sandbox_body("sb-1", "started"))
        .expect(1)
        .create();
    let started = Instant::now();
    client(&server).get("sb-1").unwrap();
    let took = started.elapsed();
    limited.assert();
    ok.assert();
    assert!(took >= Duration::from_secs(1), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[test]
fn retry_after_above_the_cap_returns_the_error_at_once() {
    let mut server = mockito::Server::new();
    let m = get_mock(
        &mut server,
        "sb-1",
        429,
        r#"{"statusCode":429,"message":"slow down"}"#,
    )
    .with_header("retry-after", "3600")
    .expect(1)
    .create();
    let started = Instant::now();
    let e = client(&server).get("sb-1").unwrap_err();
    let took = started.elapsed();
    m.assert();
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert!(e.is_rate_limited());
    let api = api_error(&e);
    assert_eq!(api.retry_after, Some(Duration::from_secs(3600)));
    assert_eq!(api.message, "slow down");
}

#[test]
fn retry_after_as_http_date() {
    // A date in the past: retry at once.
    let mut server = mockito::Server::new();
    let limited = get_mock(&mut server, "sb-1", 503, "")
        .with_header("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT")
        .expect(1)
        .create();
    let ok = get_mock(&mut server, "sb-1", 200, &sandbox_body("sb-1", "started"))
        .expect(1)
        .create();
    let started = Instant::now();
    client(&server).get("sb-1").unwrap();
    assert!(started.elapsed() < Duration::from_secs(1));
    limited.assert();
    ok.assert();

    // A date far in the future: above the cap, returned at once.
    let mut server = mockito::Server::new();
    let m = get_mock(&mut server, "sb-1", 503, "")
        .with_header("retry-after", "Wed, 21 Oct 2099 07:28:00 GMT")
        .expect(1)
        .create();
    let started = Instant::now();
    let e = client(&server).get("sb-1").unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    m.assert();
    let after = api_error(&e).retry_after.expect("retry_after");
    assert!(after > Duration::from_secs(365 * 24 * 3600), "{after:?}");
}

#[test]
fn retry_after_is_capped_by_a_custom_policy() {
    let mut server = mockito::Server::new();
    let m = get_mock(&mut server, "sb-1", 429, "")
        .with_header("retry-after", "2")
        .expect(1)
        .create();
    let policy = fast_retries().max_retry_after(Duration::from_secs(1));
    let daytona = Daytona::new(config(&server).retry_policy(policy)).unwrap();
    let started = Instant::now();
    let e = daytona.get("sb-1").unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    m.assert();
    assert_eq!(api_error(&e).retry_after, Some(Duration::from_secs(2)));
}

#[test]
fn retry_after_beyond_the_operation_deadline_returns_at_once() {
    let mut server = mockito::Server::new();
    let m = server
        .mock("POST", "/api/sandbox")
        .with_status(429)
        .with_header("retry-after", "5")
        .expect(1)
        .create();
    let started = Instant::now();
    let e = client(&server)
        .create(CreateSandbox::new().timeout(Duration::from_secs(2)))
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    m.assert();
    assert!(e.is_rate_limited(), "{e:?}");
}

#[test]
fn connection_refused_get_fails_fast_with_a_transport_error() {
    let url = refused_url();
    let started = Instant::now();
    let e = client_at(&url, fast_retries()).get("sb-1").unwrap_err();
    let took = started.elapsed();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert!(e.to_string().contains("GET /api/sandbox/sb-1"), "{e}");
    assert!(e.status().is_none() && !e.is_timeout());
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_hides(&e, KEY);
}

#[test]
fn connection_refused_is_retried_up_to_max_attempts_even_for_post() {
    // The delays between attempts show how many attempts were made: with an
    // initial backoff of 200 ms (±50 % jitter, doubling) three attempts wait
    // at least 100 + 200 ms, one attempt does not wait at all.
    let url = refused_url();
    let policy = RetryPolicy::default()
        .initial_backoff(Duration::from_millis(200))
        .max_backoff(Duration::from_secs(1))
        .max_attempts(3);
    let started = Instant::now();
    let e = client_at(&url, policy.clone())
        .create(CreateSandbox::new())
        .unwrap_err();
    let took = started.elapsed();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert!(e.to_string().contains("POST /api/sandbox"), "{e}");
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");

    let started = Instant::now();
    let e = client_at(&url, policy.clone()).get("sb-1").unwrap_err();
    let took = started.elapsed();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");

    // One attempt allowed: one attempt made. Counted at a server that
    // resets every connection, a failure a GET is otherwise retried on.
    let resets = FaultServer::start(|_| Action::ResetBeforeAnswer);
    let e = client_at(&format!("{}/api", resets.url), policy.max_attempts(1))
        .get("sb-1")
        .unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert_eq!(resets.count("GET", "/api/sandbox/sb-1"), 1);
}

#[test]
fn a_server_that_never_answers_times_out() {
    let raw = RawServer::start(Behaviour::Hang);
    let daytona = Daytona::new(
        DaytonaConfig::new()
            .read_env(false)
            .api_key(KEY)
            .api_url(&raw.url)
            .request_timeout(Duration::from_millis(300))
            .max_attempts(1),
    )
    .unwrap();
    let started = Instant::now();
    let e = daytona.get("sb-1").unwrap_err();
    let took = started.elapsed();
    assert!(e.is_timeout(), "{e:?}");
    assert!(e.to_string().contains("GET /api/sandbox/sb-1"), "{e}");
    assert!(took >= Duration::from_millis(250), "{took:?}");
    assert!(took < Duration::from_millis(1500), "{took:?}");
    assert_eq!(raw.connections(), 1);
    assert_hides(&e, KEY);
}

#[test]
fn timeouts_are_retried_for_get_but_not_for_post() {
    let policy = || fast_retries().max_attempts(2);
    let build = |url: &str| {
        Daytona::new(
            DaytonaConfig::new()
                .read_env(false)
                .api_key(KEY)
                .api_url(url)
                .request_timeout(Duration::from_millis(200))
                .retry_policy(policy())
                // Only the REST connections are counted.
                .events(false),
        )
        .unwrap()
    };
    let get_server = RawServer::start(Behaviour::Hang);
    let e = build(&get_server.url).get("sb-1").unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert_eq!(get_server.connections(), 2);

    let post_server = RawServer::start(Behaviour::Hang);
    let e = build(&post_server.url)
        .create(CreateSandbox::new())
        .unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert_eq!(post_server.connections(), 1);
}

#[test]
fn a_connection_closed_without_answer_is_retried_for_get_but_not_for_post() {
    let policy = fast_retries().max_attempts(3);
    let get_server = RawServer::start(Behaviour::Close);
    let e = client_at(&get_server.url, policy.clone())
        .get("sb-1")
        .unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert_eq!(get_server.connections(), 3);

    let post_server = RawServer::start(Behaviour::Close);
    let e = client_at(&post_server.url, policy)
        .create(CreateSandbox::new())
        .unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert_eq!(post_server.connections(), 1);
}

// ---------------------------------------------------------------------------
// secrecy

#[test]
fn no_error_shows_the_api_key() {
    let mut server = mockito::Server::new();
    let _api = get_mock(
        &mut server,
        "a",
        401,
        r#"{"statusCode":401,"message":"Unauthorized"}"#,
    )
    .create();
    let _decode = get_mock(&mut server, "d", 200, "{}").create();
    let daytona = client_with_attempts(&server, 1);
    assert_hides(&daytona.get("a").unwrap_err(), KEY);
    assert_hides(&daytona.get("d").unwrap_err(), KEY);

    // Transport error.
    let e = client_at(&refused_url(), fast_retries())
        .get("x")
        .unwrap_err();
    assert_hides(&e, KEY);

    // Config errors.
    let e = Daytona::new(
        DaytonaConfig::new()
            .read_env(false)
            .api_key(KEY)
            .api_url("not a url"),
    )
    .unwrap_err();
    assert!(matches!(e, Error::Config(_)), "{e:?}");
    assert_hides(&e, KEY);
    let e = Daytona::new(DaytonaConfig::new().read_env(false).jwt_token(KEY)).unwrap_err();
    assert!(matches!(e, Error::Config(_)), "{e:?}");
    assert_hides(&e, KEY);
}

#[test]
fn no_error_shows_the_jwt() {
    let mut server = mockito::Server::new();
    let _api = get_mock(
        &mut server,
        "a",
        403,
        r#"{"statusCode":403,"message":"Forbidden"}"#,
    )
    .create();
    let _decode = get_mock(&mut server, "d", 200, "[").create();
    let daytona = Daytona::new(
        DaytonaConfig::new()
            .read_env(false)
            .jwt_token(JWT)
            .organization_id(ORG)
            .api_url(format!("{}/api", server.url()))
            .max_attempts(1),
    )
    .unwrap();
    assert_hides(&daytona.get("a").unwrap_err(), JWT);
    assert_hides(&daytona.get("d").unwrap_err(), JWT);
    assert!(!format!("{daytona:?}").contains(JWT));
}

#[test]
fn a_server_echoing_the_credentials_does_not_leak_them_into_errors() {
    let mut server = mockito::Server::new();
    let _api = get_mock(
        &mut server,
        "a",
        401,
        &format!(r#"{{"statusCode":401,"message":"invalid token Bearer {KEY}","code":"{KEY}"}}"#),
    )
    .create();
    let _html = server
        .mock("GET", "/api/sandbox/h")
        .with_status(502)
        .with_body(format!(
            "<html><pre>Authorization: Bearer {KEY}</pre></html>"
        ))
        .create();
    let _decode = get_mock(
        &mut server,
        "d",
        200,
        &format!(r#"{{"debug": {{"authorization": "Bearer {KEY}"}}, "id": "#),
    )
    .create();
    let _typed = get_mock(
        &mut server,
        "t",
        200,
        &format!(r#"{{"id": "{KEY}", "public": "{KEY}"}}"#),
    )
    .create();
    let daytona = client_with_attempts(&server, 1);
    for id in ["a", "h", "d", "t"] {
        let e = daytona.get(id).unwrap_err();
        assert_hides(&e, KEY);
    }
    let e = daytona.get("a").unwrap_err();
    assert!(e.is_unauthorized());
    assert!(
        api_error(&e).message.starts_with("invalid token Bearer "),
        "{e}"
    );
}

#[test]
fn a_credential_cut_by_the_excerpt_limit_does_not_leak_its_start() {
    let mut server = mockito::Server::new();
    // The 200-character excerpt ends inside the key.
    let body = format!("{}{KEY} and more text after it", "A".repeat(190));
    let _html = server
        .mock("GET", "/api/sandbox/h")
        .with_status(502)
        .with_body(&body)
        .create();
    let _decode = get_mock(&mut server, "d", 200, &body).create();
    let daytona = client_with_attempts(&server, 1);
    for id in ["h", "d"] {
        let e = daytona.get(id).unwrap_err();
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(&KEY[..8]), "{shown}");
    }
}

#[test]
fn query_tokens_stay_out_of_errors() {
    let mut server = mockito::Server::new();
    let m = server
        .mock("GET", "/api/sandbox/ssh-access/validate")
        .match_query(Matcher::UrlEncoded("token".into(), "ssh-secret-1".into()))
        .with_status(404)
        .with_body(r#"{"statusCode":404,"message":"Token not found"}"#)
        .expect(1)
        .create();
    let e = client(&server)
        .validate_ssh_access("ssh-secret-1")
        .unwrap_err();
    m.assert();
    assert_eq!(
        api_error(&e).operation,
        "GET /api/sandbox/ssh-access/validate"
    );
    assert_hides(&e, "ssh-secret-1");
}

#[test]
fn debug_of_client_and_config_hides_the_key() {
    let server = mockito::Server::new();
    let cfg = config(&server);
    assert!(!format!("{cfg:?}").contains(KEY));
    let daytona = client(&server);
    let shown = format!("{daytona:?}");
    assert!(!shown.contains(KEY), "{shown}");
    assert!(shown.contains(&server.url()), "{shown}");
    let jwt_cfg = DaytonaConfig::new().jwt_token(JWT).organization_id(ORG);
    assert!(!format!("{jwt_cfg:?}").contains(JWT));
}

#[test]
fn a_host_that_does_not_resolve_reads_as_one_sentence() {
    // `.invalid` never resolves (RFC 6761).
    let e = client_at(
        "http://no-such-host.invalid/api",
        fast_retries().max_attempts(1),
    )
    .get("sb-1")
    .unwrap_err();
    assert!(e.is_transport(), "{e:?}");
    assert_eq!(
        e.to_string(),
        "GET /api/sandbox/sb-1: the host name could not be resolved (DNS)"
    );
    // The resolver's own words are the cause, once.
    let cause = std::error::Error::source(&e).expect("a cause").to_string();
    assert!(
        !cause.is_empty() && !e.to_string().contains(&cause),
        "{cause}"
    );
    assert!(e.report().to_string().ends_with(&cause));
}

#[test]
fn no_trace_context_is_sent_unless_tracing_is_on() {
    let mut server = mockito::Server::new();
    let get = reply_json(
        api_mock(&mut server, "GET", "/api/sandbox/sb-1")
            .match_header("traceparent", Matcher::Missing)
            .match_header("tracestate", Matcher::Missing),
        200,
        &sandbox_json("sb-1", "started"),
    )
    .expect(if cfg!(feature = "otel") { 1 } else { 2 })
    .create();
    client(&server).get("sb-1").unwrap();
    // Without the feature `otel`, the setting does nothing.
    #[cfg(not(feature = "otel"))]
    Daytona::new(config(&server).otel_enabled(true))
        .unwrap()
        .get("sb-1")
        .unwrap();
    get.assert();
}
