//! The code interpreter: contexts against mockito, runs against a local
//! server speaking the toolbox's protocol (`tests/ws_support`): one JSON
//! request, `stdout`/`stderr`/`error`/`control` messages, and the closes
//! 1000 (done), 4008 (interrupted at the timeout), 1001 (the interpreter
//! died) and others.
#![cfg(feature = "websocket")]

mod common;
mod fault_server;
mod process_support;
mod ws_support;

use std::io::Write;
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use daytona::toolbox::{
    CodeRun, ContextOptions, ExecutionError, InterpreterContext, OutputChunk, RunCodeOptions,
    RunCodeResult,
};
use daytona::{CodeLanguage, Error};
use process_support::*;
use serde_json::{json, Value};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::Message;
use ws_support::*;

/// The client's request, read by the server.
fn request(ws: &mut Ws) -> Value {
    match next_data(ws) {
        Some(Message::Text(t)) => serde_json::from_str(t.as_str()).unwrap(),
        other => panic!("expected the request as text, got {other:?}"),
    }
}

fn out(ws: &mut Ws, kind: &str, text: &str) {
    ws_support::text(ws, &json!({"type": kind, "text": text}).to_string());
}

fn context(id: &str) -> InterpreterContext {
    serde_json::from_value(json!({"id": id})).unwrap()
}

#[test]
fn a_run_streams_its_output_to_the_callbacks_and_returns_it_whole() {
    let big = "y".repeat(10_000);
    let sent = big.clone();
    let (url, seen) = ws_server(move |ws| {
        let req = request(ws);
        assert_eq!(
            req,
            json!({"code": "print(x)", "contextId": "ctx-1", "envs": {"A": "1"}, "timeout": 3})
        );
        out(ws, "stdout", "hello\n");
        out(ws, "stderr", "careful\n");
        // A message larger than gorilla's write buffer comes in frames.
        let message = json!({"type": "stdout", "text": sent}).to_string();
        fragmented(ws, true, message.as_bytes(), 3).unwrap();
        ws_support::text(
            ws,
            &json!({"type": "error", "name": "NameError", "value": "name 'y' is not defined",
                    "traceback": "Traceback ...", "text": ""})
            .to_string(),
        );
        ws_support::text(ws, r#"{"type":"control","text":"completed"}"#);
        close(ws, 1000, "");
    });
    let (_api, sandbox) = sandbox_for(&url);
    let stdout = Arc::new(Mutex::new(Vec::new()));
    let (sink, mut stderr, mut errors) = (stdout.clone(), Vec::new(), Vec::new());
    let result = sandbox
        .code_interpreter()
        .run_code(
            "print(x)",
            RunCodeOptions::new()
                .context(&context("ctx-1"))
                .env("A", "1")
                .timeout(Duration::from_millis(2500))
                .on_stdout(move |t| sink.lock().unwrap().push(t.to_string()))
                .on_stderr(|t| stderr.push(t.to_string()))
                .on_error(|e| errors.push(e.clone())),
        )
        .unwrap();
    let mut error = ExecutionError::default();
    error.name = "NameError".into();
    error.value = "name 'y' is not defined".into();
    error.traceback = "Traceback ...".into();
    let mut expected = RunCodeResult::default();
    expected.stdout = format!("hello\n{big}");
    expected.stderr = "careful\n".into();
    expected.error = Some(error.clone());
    assert_eq!(result, expected);
    assert_eq!(*stdout.lock().unwrap(), vec!["hello\n".to_string(), big]);
    assert_eq!(stderr, vec!["careful\n".to_string()]);
    assert_eq!(errors, vec![error]);
    let up = seen.recv().unwrap();
    assert_eq!(up.path, "/toolbox/sb-1/process/interpreter/execute");
    assert_eq!(up.header("authorization"), Some(format!("Bearer {KEY}")));
}

#[test]
fn the_default_context_and_no_timeout_send_only_the_code() {
    let (url, _seen) = ws_server(|ws| {
        assert_eq!(request(ws), json!({"code": "1+1"}));
        close(ws, 1000, "");
    });
    let (_api, sandbox) = sandbox_for(&url);
    let result = sandbox
        .code_interpreter()
        .run_code("1+1", RunCodeOptions::new())
        .unwrap();
    assert_eq!(result, RunCodeResult::default());
}

#[test]
fn an_interrupted_run_is_a_timeout_error_not_a_success() {
    for interrupted_first in [true, false] {
        let (url, _seen) = ws_server(move |ws| {
            request(ws);
            out(ws, "stdout", "working\n");
            if interrupted_first {
                ws_support::text(ws, r#"{"type":"control","text":"interrupted"}"#);
            }
            close(ws, 4008, "");
        });
        let (_api, sandbox) = sandbox_for(&url);
        let e = sandbox
            .code_interpreter()
            .run_code(
                "while True: pass",
                RunCodeOptions::new().timeout(Duration::from_secs(1)),
            )
            .unwrap_err();
        assert!(e.is_timeout(), "{e:?}");
        assert!(e.to_string().contains("did not finish"), "{e}");
    }
}

#[test]
fn a_crashed_interpreter_is_an_error_that_says_so() {
    let (url, _seen) = ws_server(|ws| {
        request(ws);
        out(ws, "stdout", "about to die\n");
        close(ws, 1001, "worker process ended");
    });
    let (_api, sandbox) = sandbox_for(&url);
    let mut chunks = Vec::new();
    let run: CodeRun<'_> = sandbox
        .code_interpreter()
        .run_code_stream("import os; os._exit(1)", RunCodeOptions::new())
        .unwrap();
    for chunk in run {
        chunks.push(chunk);
    }
    assert_eq!(chunks.len(), 2);
    assert_eq!(
        chunks[0].as_ref().unwrap(),
        &OutputChunk::Stdout("about to die\n".into())
    );
    let e = chunks[1].as_ref().unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("interpreter ended") && text.contains("worker process ended"),
        "{text}"
    );
}

#[test]
fn other_closes_are_errors_with_the_servers_reason() {
    let (url, _seen) = ws_server(|ws| {
        request(ws);
        close(ws, 1008, "context not found: nope");
    });
    let (_api, sandbox) = sandbox_for(&url);
    let e = sandbox
        .code_interpreter()
        .run_code("1", RunCodeOptions::new().context(&context("nope")))
        .unwrap_err();
    assert!(
        e.to_string().contains("1008: context not found: nope"),
        "{e}"
    );
}

#[test]
fn a_silent_server_ends_at_the_timeout_plus_the_margin() {
    let (url, _seen) = ws_server(|ws| {
        request(ws);
        // Answers pings, says nothing.
        let _ = client_close(ws);
    });
    let (_api, sandbox) = sandbox_with(&url, |c| {
        c.command_timeout_margin(Duration::from_millis(300))
    });
    let e = assert_times_out(Duration::from_millis(1300), Duration::from_secs(4), || {
        sandbox.code_interpreter().run_code(
            "import time; time.sleep(99)",
            RunCodeOptions::new().timeout(Duration::from_secs(1)),
        )
    });
    assert!(e.to_string().contains("did not finish"), "{e}");
}

/// A run with an idle limit of 600 ms against a server that reads the
/// request, then plays `script`: it fails for want of output in time.
fn no_output_within_the_idle_limit(script: impl FnOnce(&mut Ws) + Send + 'static) {
    let (url, _seen) = ws_server(|ws| {
        request(ws);
        script(ws);
    });
    let (_api, sandbox) = sandbox_for(&url);
    let e = assert_times_out(Duration::from_millis(500), Duration::from_secs(3), || {
        sandbox.code_interpreter().run_code(
            "x = 1",
            RunCodeOptions::new().idle_timeout(Duration::from_millis(600)),
        )
    });
    assert!(e.to_string().contains("no output for 600ms"), "{e}");
}

#[test]
fn a_server_that_stops_answering_is_lost_at_the_idle_limit() {
    no_output_within_the_idle_limit(|_| thread::sleep(Duration::from_secs(5)));
}

/// The idle limit counts the code's silence: pings from the server are no
/// output.
#[test]
fn pings_are_no_output_for_the_idle_limit() {
    no_output_within_the_idle_limit(|ws| {
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until && ws.get_mut().write_all(&[0x89, 0x00]).is_ok() {
            thread::sleep(Duration::from_millis(50));
        }
    });
}

#[test]
fn a_stream_dropped_early_closes_the_connection() {
    let (closed_tx, closed_rx) = mpsc::channel();
    let (url, _seen) = ws_server(move |ws| {
        request(ws);
        for i in 0..3 {
            out(ws, "stdout", &format!("{i}\n"));
        }
        let _ = closed_tx.send(client_close(ws));
    });
    let (_api, sandbox) = sandbox_for(&url);
    let interpreter = sandbox.code_interpreter();
    let mut run = interpreter
        .run_code_stream("for i in range(10**9): print(i)", RunCodeOptions::new())
        .unwrap();
    assert_eq!(
        run.next().unwrap().unwrap(),
        OutputChunk::Stdout("0\n".into())
    );
    drop(run);
    let frame = closed_rx
        .recv_timeout(Duration::from_secs(3))
        .unwrap()
        .unwrap();
    assert_eq!(frame.code, CloseCode::Normal);
}

#[test]
fn broken_messages_and_cut_connections_are_errors() {
    // A broken message is a decode error; its values are the code's
    // output, masked as in any answer.
    for message in [
        "{not json",
        r#"{"type":"stdout","text":"token=hunter2-secret"#,
    ] {
        let (url, _seen) = ws_server(move |ws| {
            request(ws);
            ws_support::text(ws, message);
            let _ = client_close(ws);
        });
        let (_api, sandbox) = sandbox_for(&url);
        let e = sandbox
            .code_interpreter()
            .run_code("1", RunCodeOptions::new())
            .unwrap_err();
        assert!(matches!(e, Error::Decode { .. }), "{e:?}");
        assert!(!format!("{e} {e:?}").contains("hunter2"), "{e:?}");
    }

    let (url, _seen) = ws_server(|ws| {
        request(ws);
        out(ws, "stdout", "partial");
        let frame = tungstenite::protocol::frame::Frame::message(
            br#"{"type":"std"#.to_vec(),
            tungstenite::protocol::frame::coding::OpCode::Data(
                tungstenite::protocol::frame::coding::Data::Text,
            ),
            false,
        );
        ws.send(Message::Frame(frame)).unwrap();
        cut(ws);
    });
    let (_api, sandbox) = sandbox_for(&url);
    let chunks: Vec<_> = sandbox
        .code_interpreter()
        .run_code_stream("1", RunCodeOptions::new())
        .unwrap()
        .collect();
    assert_eq!(chunks.len(), 2);
    assert!(
        matches!(chunks[1], Err(Error::Transport { .. })),
        "{chunks:?}"
    );
}

#[test]
fn runs_can_move_to_another_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<CodeRun<'static>>();
    assert_send::<RunCodeOptions<'static>>();
}

#[test]
fn contexts_are_created_listed_and_deleted_as_the_spec_says() {
    let (mut server, sandbox) = toolbox();
    let ctx = r#"{"id":"c1","cwd":"/home/daytona/w","language":"python","active":true,"createdAt":"2026-01-01T00:00:00Z"}"#;
    let create = api_mock(
        &mut server,
        "POST",
        "/toolbox/sb-1/process/interpreter/context",
    )
    .match_header("content-type", "application/json")
    .match_body(mockito::Matcher::Json(
        json!({"cwd": "/home/daytona/w", "language": "python"}),
    ))
    .with_body(ctx)
    .create();
    let create_default = api_mock(
        &mut server,
        "POST",
        "/toolbox/sb-1/process/interpreter/context",
    )
    .match_body(mockito::Matcher::Json(json!({})))
    .with_body(ctx)
    .create();
    let list = api_mock(
        &mut server,
        "GET",
        "/toolbox/sb-1/process/interpreter/context",
    )
    .with_body(format!(r#"{{"contexts":[{ctx},{{"id":"c2"}},"junk"]}}"#))
    .create();
    let delete = api_mock(
        &mut server,
        "DELETE",
        "/toolbox/sb-1/process/interpreter/context/c1",
    )
    .with_body(r#"{"message":"Context deleted successfully"}"#)
    .create();
    let interpreter = sandbox.code_interpreter();
    let c = interpreter
        .create_context(
            ContextOptions::new()
                .cwd("/home/daytona/w")
                .language(CodeLanguage::Python),
        )
        .unwrap();
    assert_eq!(
        (c.id.as_str(), c.cwd.as_str(), c.language.as_str(), c.active),
        ("c1", "/home/daytona/w", "python", true)
    );
    assert_eq!(c.created_at, "2026-01-01T00:00:00Z");
    interpreter.create_context(ContextOptions::new()).unwrap();
    let all = interpreter.list_contexts().unwrap();
    assert_eq!(
        all.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["c1", "c2"]
    );
    interpreter.delete_context(&c).unwrap();
    for m in [create, create_default, list, delete] {
        m.assert();
    }
}

#[test]
fn a_refused_context_is_the_servers_error() {
    let (mut server, sandbox) = toolbox();
    let m = api_mock(
        &mut server,
        "POST",
        "/toolbox/sb-1/process/interpreter/context",
    )
    .with_status(400)
    .with_body(
        r#"{"message":"unsupported language: typescript (only 'python' is supported currently)"}"#,
    )
    .create();
    let e = sandbox
        .code_interpreter()
        .create_context(ContextOptions::new().language(CodeLanguage::TypeScript))
        .unwrap_err();
    assert_eq!(e.status(), Some(400));
    assert!(e.to_string().contains("only 'python'"), "{e}");
    m.assert();
}

#[test]
fn bad_arguments_fail_before_any_request() {
    let (mut server, sandbox) = toolbox();
    let none = no_requests(&mut server);
    let i = sandbox.code_interpreter();
    let cases = vec![
        (i.run_code("", RunCodeOptions::new()).unwrap_err(), "code"),
        (
            i.run_code("1", RunCodeOptions::new().timeout(Duration::ZERO))
                .unwrap_err(),
            "timeout",
        ),
        (
            i.run_code("1", RunCodeOptions::new().idle_timeout(Duration::ZERO))
                .unwrap_err(),
            "idle_timeout",
        ),
        (
            i.run_code("1", RunCodeOptions::new().context(&context("")))
                .unwrap_err(),
            "context.id",
        ),
        (i.delete_context(&context("..")).unwrap_err(), "context.id"),
        (
            i.create_context(ContextOptions::new().cwd("")).unwrap_err(),
            "cwd",
        ),
    ];
    assert_invalid(cases);
    // Variables no process environment can hold; the error shows no value.
    for options in [
        RunCodeOptions::new().env("", "1"),
        RunCodeOptions::new().env("A=B", "1"),
        RunCodeOptions::new().env("A\0", "1"),
        RunCodeOptions::new().env("TOKEN", "s3cr3t-token\0value"),
    ] {
        let err = i.run_code("1", options).unwrap_err();
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
        assert_invalid(vec![(err, "env")]);
    }
    assert_all(&none);
}
