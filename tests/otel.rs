//! Tracing (feature `otel`): the spans the crate makes through the global
//! tracer provider, and the trace context its requests carry.
//!
//! The tracer provider and the propagator are process-global: one of each
//! is installed once, exporting to memory through a synchronous span
//! processor. Each test runs under a root span of its own and looks only at
//! the spans of that root's trace, so that tests running in parallel do not
//! see each other's spans.
#![cfg(feature = "otel")]

mod common;
mod fault_server;
mod process_support;
mod temp;
mod ws_support;
use common::*;

use std::sync::{Arc, Mutex, OnceLock};

use daytona::toolbox::FollowOptions;
use daytona::{CreateSandbox, CreateSnapshot, Daytona, DaytonaConfig, ListSandboxes};
use mockito::{Matcher, Server};
use opentelemetry::trace::{SpanId, Status, TraceContextExt, TraceId, Tracer, TracerProvider as _};
use opentelemetry::{global, Context, KeyValue, Value};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use serde_json::json;
use ws_support::{toolbox_server, Answer};

/// The exporter of the one global tracer provider.
fn exporter() -> &'static InMemorySpanExporter {
    static EXPORTER: OnceLock<InMemorySpanExporter> = OnceLock::new();
    EXPORTER.get_or_init(|| {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        global::set_tracer_provider(provider);
        global::set_text_map_propagator(TraceContextPropagator::new());
        exporter
    })
}

/// Runs `f` under a root span of the test's own, then returns what `f`
/// gave and every finished span of the root's trace (the root included).
fn in_trace<T>(f: impl FnOnce() -> T) -> (T, TraceId, Vec<SpanData>) {
    let exporter = exporter();
    let tracer = global::tracer_provider().tracer("test");
    let root = tracer.start("test-root");
    let cx = Context::current_with_span(root);
    let trace_id = cx.span().span_context().trace_id();
    let out = {
        let _guard = cx.clone().attach();
        f()
    };
    cx.span().end();
    let spans = exporter
        .get_finished_spans()
        .unwrap()
        .into_iter()
        .filter(|s| s.span_context.trace_id() == trace_id)
        .collect();
    (out, trace_id, spans)
}

fn traced_config(server: &Server) -> DaytonaConfig {
    config(server).poll_schedule(fast_poll()).otel_enabled(true)
}

fn named<'a>(spans: &'a [SpanData], name: &str) -> Vec<&'a SpanData> {
    spans.iter().filter(|s| s.name == name).collect()
}

fn one<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    let found = named(spans, name);
    assert_eq!(found.len(), 1, "{name} in {:?}", names(spans));
    found[0]
}

fn names(spans: &[SpanData]) -> Vec<String> {
    spans.iter().map(|s| s.name.to_string()).collect()
}

fn attr<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

fn root(spans: &[SpanData]) -> &SpanData {
    one(spans, "test-root")
}

/// Every string a span exports: name, attribute and event values, event
/// names, the status message.
fn exported_strings(span: &SpanData) -> Vec<String> {
    let mut out = vec![span.name.to_string()];
    let values = |kvs: &[KeyValue], out: &mut Vec<String>| {
        for kv in kvs {
            out.push(kv.key.to_string());
            out.push(kv.value.to_string());
        }
    };
    values(&span.attributes, &mut out);
    for event in span.events.iter() {
        out.push(event.name.to_string());
        values(&event.attributes, &mut out);
    }
    if let Status::Error { description } = &span.status {
        out.push(description.to_string());
    }
    out
}

/// The `traceparent` of each request `mock` answered.
fn recording(mock: mockito::Mock, body: String) -> (mockito::Mock, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let store = seen.clone();
    let mock = mock
        .with_status(200)
        .with_header("content-type", "application/json")
        .with_body_from_request(move |req| {
            for value in req.header("traceparent") {
                store
                    .lock()
                    .unwrap()
                    .push(value.to_str().unwrap().to_string());
            }
            body.clone().into_bytes()
        });
    (mock, seen)
}

#[test]
fn create_traces_the_post_and_each_poll_under_the_operation() {
    let mut server = Server::new();
    let post = reply_json(
        api_mock(&mut server, "POST", "/api/sandbox"),
        200,
        &sandbox_json("sb-1", "creating"),
    )
    .create();
    let (states, _) = state_sequence("sb-1", &["creating", "started"]);
    let get = api_mock(&mut server, "GET", "/api/sandbox/sb-1")
        .with_header("content-type", "application/json")
        .with_body_from_request(states)
        .expect(2)
        .create();
    let client = Daytona::new(traced_config(&server)).unwrap();

    let (created, _, spans) = in_trace(|| client.create(CreateSandbox::new()));
    created.unwrap();
    post.assert();
    get.assert();

    let root = root(&spans);
    let create = one(&spans, "Daytona.create");
    assert_eq!(create.parent_span_id, root.span_context.span_id());
    assert_eq!(create.status, Status::Unset);
    assert_eq!(create.instrumentation_scope.name(), "daytona");
    // The id is known once the POST is answered, and set then.
    assert_eq!(
        attr(create, "daytona.sandbox.id"),
        Some(&Value::from("sb-1"))
    );

    let posted = one(&spans, "POST");
    assert_eq!(posted.parent_span_id, create.span_context.span_id());
    assert_eq!(
        attr(posted, "http.request.method"),
        Some(&Value::from("POST"))
    );
    assert_eq!(attr(posted, "url.path"), Some(&Value::from("/api/sandbox")));
    assert_eq!(
        attr(posted, "http.response.status_code"),
        Some(&Value::I64(200))
    );
    assert_eq!(attr(posted, "daytona.attempt"), Some(&Value::I64(1)));

    let polls = named(&spans, "poll");
    assert_eq!(polls.len(), 2, "{:?}", names(&spans));
    let mut counts: Vec<_> = polls
        .iter()
        .map(|p| {
            assert_eq!(p.parent_span_id, create.span_context.span_id());
            attr(p, "daytona.poll.count").cloned()
        })
        .collect();
    counts.sort_by_key(|v| v.as_ref().map(|v| v.to_string()));
    assert_eq!(counts, vec![Some(Value::I64(1)), Some(Value::I64(2))]);
    let gets = named(&spans, "GET");
    assert_eq!(gets.len(), 2);
    for get in gets {
        assert!(
            polls
                .iter()
                .any(|p| p.span_context.span_id() == get.parent_span_id),
            "a GET outside a poll"
        );
        assert_eq!(
            attr(get, "url.path"),
            Some(&Value::from("/api/sandbox/sb-1"))
        );
    }
    // Every span of the crate is of the test's trace and ended.
    assert_eq!(spans.len(), 1 + 1 + 1 + 2 + 2, "{:?}", names(&spans));
}

#[test]
fn sandbox_operations_carry_the_sandbox_id() {
    let mut server = Server::new();
    let _get = started_get(&mut server, "sb-1");
    let _labels = reply_json(
        api_mock(&mut server, "PUT", "/api/sandbox/sb-1/labels"),
        200,
        &json!({ "labels": { "a": "b" } }),
    )
    .create();
    let client = Daytona::new(traced_config(&server)).unwrap();

    let (_, _, spans) = in_trace(|| {
        let mut sandbox = client.get("sb-1").unwrap();
        sandbox
            .set_labels([("a".to_string(), "b".to_string())].into())
            .unwrap();
    });
    one(&spans, "Daytona.get");
    let labels = one(&spans, "Sandbox.setLabels");
    assert_eq!(
        attr(labels, "daytona.sandbox.id"),
        Some(&Value::from("sb-1"))
    );
    let put = one(&spans, "PUT");
    assert_eq!(put.parent_span_id, labels.span_context.span_id());
}

#[test]
fn errors_are_recorded_on_the_spans() {
    let mut server = Server::new();
    let _missing = reply_json(
        api_mock(&mut server, "GET", "/api/sandbox/gone"),
        404,
        &json!({ "statusCode": 404, "message": "Sandbox not found", "error": "Not Found" }),
    )
    .create();
    let _broken = reply_json(
        api_mock(&mut server, "GET", "/api/sandbox/broken"),
        500,
        &json!({ "statusCode": 500, "message": "internal failure", "error": "Internal" }),
    )
    .create();
    let client = Daytona::new(traced_config(&server)).unwrap();

    let ((gone, broken), _, spans) = in_trace(|| (client.get("gone"), client.get("broken")));
    assert!(gone.unwrap_err().is_not_found());
    assert!(broken.is_err());

    let ops = named(&spans, "Daytona.get");
    assert_eq!(ops.len(), 2);
    for (op, code, text) in [
        (ops[0], 404, "Sandbox not found"),
        (ops[1], 500, "internal failure"),
    ] {
        let Status::Error { description } = &op.status else {
            panic!("{:?}", op.status)
        };
        assert!(description.contains(text), "{description}");
        let attempt = spans
            .iter()
            .find(|s| s.parent_span_id == op.span_context.span_id())
            .expect("the attempt");
        assert_eq!(
            attr(attempt, "http.response.status_code"),
            Some(&Value::I64(code))
        );
        assert!(matches!(attempt.status, Status::Error { .. }));
    }
}

#[test]
fn retried_attempts_are_numbered() {
    let mut server = Server::new();
    let _busy = api_mock(&mut server, "GET", "/api/sandbox/sb-1")
        .with_status(503)
        .expect(3)
        .create();
    let client = Daytona::new(traced_config(&server).max_attempts(3)).unwrap();

    let (got, _, spans) = in_trace(|| client.get("sb-1"));
    assert!(got.is_err());
    let mut attempts: Vec<String> = named(&spans, "GET")
        .iter()
        .map(|s| attr(s, "daytona.attempt").unwrap().to_string())
        .collect();
    attempts.sort();
    assert_eq!(attempts, ["1", "2", "3"]);
}

#[test]
fn no_span_holds_the_credentials() {
    let mut server = Server::new();
    // The server echoes the API key in its error message.
    let _echo = reply_json(
        api_mock(&mut server, "GET", "/api/sandbox/sb-1"),
        500,
        &json!({ "statusCode": 500, "message": format!("bad key {KEY}"), "error": KEY }),
    )
    .create();
    let validate = reply_json(
        api_mock(&mut server, "GET", "/api/sandbox/ssh-access/validate").match_query(
            Matcher::UrlEncoded("token".into(), "ssh-token-7f9e2d".into()),
        ),
        200,
        &json!({ "valid": true, "sandboxId": "sb-1" }),
    )
    .expect(1)
    .create();
    // A caller that passes the key where an id goes: it is in the path.
    let _by_key = reply_json(
        api_mock(&mut server, "GET", &format!("/api/sandbox/{KEY}")),
        404,
        &json!({ "statusCode": 404, "message": "Sandbox not found", "error": "Not Found" }),
    )
    .create();
    let client = Daytona::new(traced_config(&server)).unwrap();
    let ssh_token = "ssh-token-7f9e2d";

    let (_, _, spans) = in_trace(|| {
        let err = client.get("sb-1").unwrap_err();
        assert!(err.is_server_error(), "{err:?}");
        assert!(!err.to_string().contains(KEY), "{err}");
        assert!(client.get(KEY).unwrap_err().is_not_found());
        let access = client.validate_ssh_access(ssh_token).unwrap();
        assert!(access.valid);
        assert_eq!(access.sandbox_id, "sb-1");
    });
    validate.assert();
    assert!(spans.len() >= 7, "{:?}", names(&spans));
    for span in &spans {
        for text in exported_strings(span) {
            assert!(!text.contains(KEY), "{}: {text}", span.name);
            assert!(!text.contains(ssh_token), "{}: {text}", span.name);
        }
    }
    // The message is there, the key hidden.
    let hidden = named(&spans, "Daytona.get").iter().any(|get| {
        matches!(&get.status, Status::Error { description }
            if description.contains("bad key <redacted>"))
    });
    assert!(hidden, "{spans:?}");
}

/// What a span records is bounded: a path of tens of kilobytes (an id or
/// a file name a caller passes) is cut in the attributes and messages
/// that hold it, at a character boundary.
#[test]
fn span_values_are_bounded() {
    let mut server = Server::new();
    let id = "é".repeat(3_000);
    let _missing = reply_json(
        with_sdk_headers(server.mock("GET", Matcher::Regex("^/api/sandbox/".into()))),
        404,
        &json!({ "statusCode": 404, "message": "Sandbox not found", "error": "Not Found" }),
    )
    .expect(1)
    .create();
    let client = Daytona::new(traced_config(&server)).unwrap();

    let (got, _, spans) = in_trace(|| client.get(&id));
    let err = got.expect_err("not found");
    assert!(err.is_not_found(), "{err}");
    let attempt = one(&spans, "GET");
    let path = attr(attempt, "url.path").unwrap().as_str();
    assert!(
        path.starts_with("/api/sandbox/%C3%A9") && path.ends_with('…'),
        "{path}"
    );
    for span in &spans {
        for text in exported_strings(span) {
            assert!(text.len() <= 2048, "{}: {} bytes", span.name, text.len());
        }
    }
}

#[test]
fn requests_carry_the_traceparent_of_their_attempt() {
    let mut server = Server::new();
    let (mock, seen) = recording(
        api_mock(&mut server, "GET", "/api/sandbox/sb-1"),
        sandbox_json("sb-1", "started").to_string(),
    );
    let mock = mock
        .match_header(
            "traceparent",
            Matcher::Regex("^00-[0-9a-f]{32}-[0-9a-f]{16}-01$".into()),
        )
        .create();
    let client = Daytona::new(traced_config(&server)).unwrap();

    let (_, trace_id, spans) = in_trace(|| client.get("sb-1").unwrap());
    mock.assert();
    let attempt = one(&spans, "GET");
    let expected = format!(
        "00-{}-{}-01",
        attempt.span_context.trace_id(),
        attempt.span_context.span_id()
    );
    assert_eq!(*seen.lock().unwrap(), vec![expected]);
    // The user's trace continues into the crate's spans and to the server.
    assert_eq!(attempt.span_context.trace_id(), trace_id);
    assert_eq!(
        attempt.parent_span_id,
        one(&spans, "Daytona.get").span_context.span_id()
    );
}

#[test]
fn each_page_of_a_listing_is_a_span() {
    let mut server = Server::new();
    let _first = reply_json(
        api_mock(&mut server, "GET", "/api/sandbox").match_query(Matcher::Missing),
        200,
        &json!({ "items": [list_item_json("a")], "nextCursor": "c2" }),
    )
    .create();
    let _second = reply_json(
        api_mock(&mut server, "GET", "/api/sandbox")
            .match_query(Matcher::UrlEncoded("cursor".into(), "c2".into())),
        200,
        &json!({ "items": [list_item_json("b")], "nextCursor": null }),
    )
    .create();
    let client = Daytona::new(traced_config(&server)).unwrap();

    let (ids, _, spans) = in_trace(|| {
        client
            .list(ListSandboxes::new())
            .map(|s| s.map(|s| s.id().to_string()))
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
    });
    assert_eq!(ids, ["a", "b"]);
    let pages = named(&spans, "Daytona.list.fetchPage");
    assert_eq!(pages.len(), 2);
    for page in pages {
        assert_eq!(page.parent_span_id, root(&spans).span_context.span_id());
        let gets: Vec<_> = spans
            .iter()
            .filter(|s| s.parent_span_id == page.span_context.span_id())
            .collect();
        assert_eq!(gets.len(), 1);
        assert_eq!(gets[0].name, "GET");
    }
}

/// A snapshot create is one operation span, whether or not it follows
/// logs: its POST and its polls hang directly under it.
#[test]
fn a_snapshot_create_is_one_span() {
    let snapshot = |state: &str| {
        json!({
            "id": "snap-1", "organizationId": "org-1", "general": false,
            "name": "py", "imageName": "python:3.12-slim", "state": state,
            "size": null, "entrypoint": null, "cpu": 1, "gpu": 0, "mem": 1,
            "disk": 3, "errorReason": null, "createdAt": "2026-01-01T00:00:00Z",
            "updatedAt": "2026-01-01T00:00:00Z", "lastUsedAt": null
        })
    };
    let mut server = Server::new();
    let _post = reply_json(
        api_mock(&mut server, "POST", "/api/snapshots"),
        200,
        &snapshot("pending"),
    )
    .create();
    let _get = reply_json(
        api_mock(&mut server, "GET", "/api/snapshots/snap-1"),
        200,
        &snapshot("active"),
    )
    .create();
    let client = Daytona::new(traced_config(&server)).unwrap();

    for with_logs in [false, true] {
        let (created, _, spans) = in_trace(|| {
            let params = CreateSnapshot::from_image("py", "python:3.12-slim");
            if with_logs {
                client.snapshots().create_with_logs(params, |_| {})
            } else {
                client.snapshots().create(params)
            }
        });
        created.unwrap();
        let create = one(&spans, "SnapshotService.create");
        assert_eq!(
            create.parent_span_id,
            root(&spans).span_context.span_id(),
            "{:?}",
            names(&spans)
        );
        let posted = one(&spans, "POST");
        assert_eq!(posted.parent_span_id, create.span_context.span_id());
    }
}

#[test]
fn deprecated_server_url_is_an_event_on_the_current_span() {
    let server = Server::new();
    let (client, _, spans) = in_trace(|| {
        #[allow(deprecated)]
        let config = DaytonaConfig::new()
            .read_env(false)
            .api_key(KEY)
            .server_url(format!("{}/api", server.url()))
            .otel_enabled(true);
        Daytona::new(config)
    });
    client.unwrap();
    let root = root(&spans);
    let event = root
        .events
        .iter()
        .find(|e| e.name == "daytona.deprecated")
        .expect("the event");
    assert!(event
        .attributes
        .iter()
        .any(|kv| kv.value.to_string().contains("server_url")));
}

#[test]
fn turned_off_by_configuration_no_span_and_no_traceparent() {
    let mut server = Server::new();
    let get = reply_json(
        api_mock(&mut server, "GET", "/api/sandbox/sb-1")
            .match_header("traceparent", Matcher::Missing)
            .match_header("tracestate", Matcher::Missing),
        200,
        &sandbox_json("sb-1", "started"),
    )
    .create();
    let client = Daytona::new(config(&server).otel_enabled(false)).unwrap();

    let (_, _, spans) = in_trace(|| client.get("sb-1").unwrap());
    get.assert();
    assert_eq!(names(&spans), ["test-root"]);
}

#[test]
fn spans_do_not_depend_on_a_user_span() {
    // Without a span of the caller's, the operation is a root of its own.
    let mut server = Server::new();
    let _get = started_get(&mut server, "lonely-sb");
    let client = Daytona::new(traced_config(&server)).unwrap();
    let exporter = exporter();
    client.get("lonely-sb").unwrap();
    let spans = exporter.get_finished_spans().unwrap();
    let get = spans
        .iter()
        .find(|s| {
            s.name == "Daytona.get"
                && s.span_context.trace_id() != TraceId::INVALID
                && spans.iter().any(|a| {
                    a.parent_span_id == s.span_context.span_id()
                        && attr(a, "url.path") == Some(&Value::from("/api/sandbox/lonely-sb"))
                })
        })
        .expect("the operation's span");
    assert_eq!(get.parent_span_id, SpanId::INVALID);
}

/// The trace context goes to Daytona's API and toolbox only: the object
/// store a build context is uploaded to, another party's host, sees none.
#[cfg(feature = "images")]
#[test]
fn the_object_store_gets_no_traceparent() {
    let mut api = Server::new();
    let mut store = Server::new();
    let dir = temp::TempDir::new("otel-store");
    let file = dir.file("app.py", b"print('hi')\n");
    let image = daytona::Image::base("python:3.12-slim")
        .add_local_file(&file, "/app/app.py")
        .unwrap();
    let access = push_access_to(&mut api, &store.url());
    let head = store
        .mock("HEAD", Matcher::Any)
        .match_header("traceparent", Matcher::Missing)
        .with_status(404)
        .expect(1)
        .create();
    let put = store
        .mock("PUT", Matcher::Any)
        .match_header("traceparent", Matcher::Missing)
        .with_status(200)
        .expect(1)
        .create();
    let (create, seen) = recording(
        api_mock(&mut api, "POST", "/api/sandbox"),
        sandbox_json("sb-1", "started").to_string(),
    );
    let create = create.expect(1).create();
    let client = Daytona::new(traced_config(&api)).unwrap();

    let (created, _, _) = in_trace(|| client.create(CreateSandbox::from_image(image)));
    created.unwrap();
    access.assert();
    head.assert();
    put.assert();
    create.assert();
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[test]
fn websocket_upgrades_carry_the_current_traceparent() {
    let server = toolbox_server(
        |_| (404, r#"{"message":"no such route"}"#.into()),
        |_, _| Answer::Refuse(404, r#"{"message":"PTY session not found"}"#.into()),
        |_, _| {},
    );
    let (_api, sandbox) = process_support::sandbox_with(&server.url, |c| c.otel_enabled(true));

    let (connected, trace_id, spans) = in_trace(|| sandbox.process().connect_pty("t1").err());
    assert!(connected.is_some());
    let upgrades = server.upgrades();
    assert!(!upgrades.is_empty());
    // The upgrade is made in the operation's span (no attempt span: the
    // WebSocket is not an HTTP exchange of the transport).
    let op = one(&spans, "Process.connectPty");
    assert!(matches!(op.status, Status::Error { .. }));
    let expected = format!("00-{trace_id}-{}-01", op.span_context.span_id());
    for upgrade in upgrades {
        assert_eq!(upgrade.header("traceparent"), Some(expected.clone()));
    }
}

#[test]
fn opening_a_stream_is_a_span_its_upgrade_continues() {
    let server = toolbox_server(
        |_| (404, r#"{"message":"no such route"}"#.into()),
        |_, _| Answer::Refuse(404, r#"{"message":"command not found"}"#.into()),
        |_, _| {},
    );
    let (_api, sandbox) = process_support::sandbox_with(&server.url, |c| c.otel_enabled(true));

    let (opened, trace_id, spans) = in_trace(|| {
        sandbox
            .process()
            .stream_session_command_logs("s1", "c1", FollowOptions::new())
            .err()
    });
    assert!(opened.is_some_and(|e| e.is_not_found()));
    let op = one(&spans, "Process.getSessionCommandLogs");
    assert!(matches!(op.status, Status::Error { .. }));
    let expected = format!("00-{trace_id}-{}-01", op.span_context.span_id());
    let upgrades = server.upgrades();
    assert!(!upgrades.is_empty());
    for upgrade in upgrades {
        assert_eq!(upgrade.header("traceparent"), Some(expected.clone()));
    }
}

#[test]
fn toolbox_operations_are_spans_of_their_sandbox() {
    let mut server = Server::new();
    let client = Daytona::new(traced_config(&server)).unwrap();
    let sandbox = toolbox_sandbox(&mut server, &client);
    let exec = reply_json(
        api_mock(&mut server, "POST", &format!("{TOOLBOX}/process/execute")),
        200,
        &json!({"exitCode": 0, "result": "hi\n"}),
    )
    .create();
    let clone = api_mock(&mut server, "POST", &format!("{TOOLBOX}/git/clone"))
        .with_status(200)
        .create();
    // The short forms of desktop operations too: typing without a delay,
    // a recording downloaded to a path.
    let typed = api_mock(
        &mut server,
        "POST",
        &format!("{TOOLBOX}/computeruse/keyboard/type"),
    )
    .match_body(Matcher::Json(json!({"text": "hello"})))
    .with_status(200)
    .with_body("{}")
    .create();
    let download = api_mock(
        &mut server,
        "GET",
        &format!("{TOOLBOX}/computeruse/recordings/r1/download"),
    )
    .with_status(200)
    .with_header("content-type", "application/octet-stream")
    .with_body("mp4-bytes")
    .create();
    let dir = temp::TempDir::new("otel-recording");
    let file = dir.path("r1.mp4");
    let password = "git-password-42ab";

    let (_, _, spans) = in_trace(|| {
        sandbox.process().exec("echo hi").unwrap();
        sandbox
            .git()
            .clone_repo(
                "https://example.com/r.git",
                "r",
                daytona::toolbox::CloneOptions::new()
                    .credentials(daytona::toolbox::GitCredentials::new("ada", password)),
            )
            .unwrap();
        let desktop = sandbox.computer_use();
        desktop.keyboard().type_text("hello").unwrap();
        assert_eq!(desktop.recording().download("r1", &file).unwrap(), 9);
    });
    for m in [exec, clone, typed, download] {
        m.assert();
    }
    assert_eq!(std::fs::read(&file).unwrap(), b"mp4-bytes");
    for (name, path) in [
        ("Process.exec", "/toolbox/sb-1/process/execute"),
        ("Git.clone", "/toolbox/sb-1/git/clone"),
        ("Keyboard.type", "/toolbox/sb-1/computeruse/keyboard/type"),
        (
            "Recording.download",
            "/toolbox/sb-1/computeruse/recordings/r1/download",
        ),
    ] {
        let op = one(&spans, name);
        assert_eq!(op.parent_span_id, root(&spans).span_context.span_id());
        assert_eq!(attr(op, "daytona.sandbox.id"), Some(&Value::from("sb-1")));
        let post = spans
            .iter()
            .find(|s| s.parent_span_id == op.span_context.span_id())
            .expect("the attempt");
        assert_eq!(attr(post, "url.path"), Some(&Value::from(path)));
    }
    for span in &spans {
        for text in exported_strings(span) {
            assert!(!text.contains(password), "{}: {text}", span.name);
        }
    }
}

#[test]
fn a_token_in_the_path_is_hidden_however_the_path_encodes_it() {
    let mut server = Server::new();
    let _get = started_get(&mut server, "sb-1");
    // A base64-like token: `/`, `+` and `=` travel percent-encoded.
    let token = "tok/en+secret=9f3a";
    let encoded = "tok%2Fen%2Bsecret%3D9f3a";
    let expire = api_mock(
        &mut server,
        "POST",
        &format!("/api/sandbox/sb-1/ports/3000/signed-preview-url/{encoded}/expire"),
    )
    .with_status(200)
    .expect(1)
    .create();
    let client = Daytona::new(traced_config(&server)).unwrap();

    let (_, _, spans) = in_trace(|| {
        let sandbox = client.get("sb-1").unwrap();
        sandbox.expire_signed_preview_url(3000, token).unwrap();
    });
    expire.assert();
    let post = one(&spans, "POST");
    assert_eq!(
        attr(post, "url.path"),
        Some(&Value::from(
            "/api/sandbox/sb-1/ports/3000/signed-preview-url/<redacted>/expire"
        ))
    );
    for span in &spans {
        for text in exported_strings(span) {
            assert!(!text.contains("secret%3D9f3a"), "{}: {text}", span.name);
            assert!(!text.contains("secret=9f3a"), "{}: {text}", span.name);
        }
    }
}

#[test]
fn attempt_spans_carry_the_http_client_attributes() {
    let mut server = Server::new();
    let _get = started_get(&mut server, "sb-1");
    let _busy = api_mock(&mut server, "GET", "/api/sandbox/busy")
        .with_status(503)
        .expect(2)
        .create();
    let _validate = reply_json(
        api_mock(&mut server, "GET", "/api/sandbox/ssh-access/validate").match_query(
            Matcher::UrlEncoded("token".into(), "ssh-token-7f9e2d".into()),
        ),
        200,
        &json!({ "valid": true, "sandboxId": "sb-1" }),
    )
    .create();
    let client = Daytona::new(traced_config(&server).max_attempts(2)).unwrap();
    let refused = Daytona::new(
        traced_config(&server)
            .api_url(format!("{}/api", fault_server::refused_url()))
            .max_attempts(1),
    )
    .unwrap();
    let port = server.socket_address().port();
    let base = format!("http://127.0.0.1:{port}/api");

    let (_, _, spans) = in_trace(|| {
        client.get("sb-1").unwrap();
        assert!(client.get("busy").unwrap_err().is_server_error());
        client.validate_ssh_access("ssh-token-7f9e2d").unwrap();
        assert!(refused.get("sb-1").unwrap_err().is_transport());
    });
    let gets = named(&spans, "GET");
    let with_url = |url: &str| -> Vec<&SpanData> {
        gets.iter()
            .copied()
            .filter(|s| attr(s, "url.full") == Some(&Value::from(url.to_string())))
            .collect()
    };

    let ok = with_url(&format!("{base}/sandbox/sb-1"));
    assert_eq!(ok.len(), 1, "{gets:?}");
    let ok = ok[0];
    assert_eq!(ok.span_kind, opentelemetry::trace::SpanKind::Client);
    assert_eq!(attr(ok, "server.address"), Some(&Value::from("127.0.0.1")));
    assert_eq!(attr(ok, "server.port"), Some(&Value::I64(i64::from(port))));
    assert_eq!(attr(ok, "error.type"), None);
    assert_eq!(attr(ok, "http.request.resend_count"), None);
    assert_eq!(ok.status, Status::Unset);

    // A retried request: its second attempt counts one resend.
    let mut busy = with_url(&format!("{base}/sandbox/busy"));
    assert_eq!(busy.len(), 2, "{gets:?}");
    busy.sort_by_key(|s| attr(s, "daytona.attempt").unwrap().to_string());
    assert_eq!(attr(busy[0], "http.request.resend_count"), None);
    assert_eq!(
        attr(busy[1], "http.request.resend_count"),
        Some(&Value::I64(1))
    );
    for s in &busy {
        assert_eq!(attr(s, "error.type"), Some(&Value::from("503")));
        assert!(matches!(s.status, Status::Error { .. }));
    }

    // The query's values are never recorded, its names are.
    assert_eq!(
        with_url(&format!(
            "{base}/sandbox/ssh-access/validate?token=REDACTED"
        ))
        .len(),
        1,
        "{gets:?}"
    );

    // No answer at all: the error's kind.
    let failed: Vec<_> = gets
        .iter()
        .filter(|s| attr(s, "http.response.status_code").is_none())
        .collect();
    assert_eq!(failed.len(), 1, "{gets:?}");
    assert_eq!(
        attr(failed[0], "error.type"),
        Some(&Value::from("transport"))
    );
    assert!(matches!(failed[0].status, Status::Error { .. }));
}

/// A created mock `GET /api/sandbox/{id}` (SDK headers checked) answering
/// a started sandbox.
fn started_get(server: &mut Server, id: &str) -> mockito::Mock {
    reply_json(
        api_mock(server, "GET", &format!("/api/sandbox/{id}")),
        200,
        &sandbox_json(id, "started"),
    )
    .create()
}
