//! PTY sessions: the REST operations against mockito, the terminal
//! connection against a local server speaking the toolbox's protocol
//! (`tests/ws_support`): the "connected" control message, output as binary
//! (and text) frames, input as binary frames, the exit code in the close
//! frame's reason, and servers that stall, flood, refuse or break.
#![cfg(feature = "websocket")]

mod common;
mod fault_server;
mod process_support;
mod ws_support;

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use daytona::toolbox::{PtyExit, PtyHandle, PtyOptions, PtyReader, PtySessionInfo, PtyWriter};
use daytona::Error;
use process_support::*;
use serde_json::json;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::Message;
use ws_support::*;

const INFO: &str = r#"{"id":"t1","active":true,"cols":120,"rows":40,"cwd":"/home/daytona","envs":{"TERM":"xterm-256color","SECRET":"hidden-value"},"createdAt":"2026-01-01T00:00:00Z","lazyStart":true}"#;

/// A toolbox that answers the create and plays `script` on each connect.
fn pty_toolbox(script: impl Fn(usize, &mut Ws) + Send + Sync + 'static) -> Toolbox {
    toolbox_server(
        |req| match req.method.as_str() {
            "POST" if req.target.ends_with("/process/pty") => {
                let id = req.json()["id"].as_str().unwrap_or("").to_string();
                (201, json!({ "sessionId": id }).to_string())
            }
            "POST" => (200, INFO.to_string()),
            "DELETE" => (200, r#"{"message":"PTY session deleted"}"#.into()),
            _ => (404, r#"{"message":"no such route"}"#.into()),
        },
        |_, _| Answer::Accept,
        script,
    )
}

fn exit_code(code: i32) -> PtyExit {
    let mut e = PtyExit::default();
    e.exit_code = Some(code);
    e
}

#[test]
fn create_connects_then_relays_input_and_output_until_the_exit_code() {
    let check = "✓".as_bytes().to_vec();
    let server = pty_toolbox(move |_, ws| {
        // Output may come before "connected": it is kept.
        binary(ws, b"early ");
        connected(ws);
        let input = next_data(ws).unwrap();
        assert!(matches!(input, Message::Binary(_)), "{input:?}");
        assert_eq!(input.into_data().as_ref(), b"echo hi\n");
        binary(ws, b"hi\r\n");
        // A character cut between two messages, and output as text.
        binary(ws, &check[..1]);
        binary(ws, &check[1..]);
        text(ws, "\x1b[1mbold\x1b[0m");
        fragmented(ws, false, &[b'z'; 9000], 3).unwrap();
        close(ws, 1000, r#"{"exitCode":0}"#);
    });
    let (_api, sandbox) = sandbox_for(&server.url);
    let mut pty = sandbox
        .process()
        .create_pty(
            PtyOptions::new("t1")
                .cwd("/home/daytona/app")
                .env("GREETING", "hi")
                .envs([("A", "1"), ("B", "2")])
                .size(100, 30),
        )
        .unwrap();
    assert_eq!(pty.id(), "t1");
    pty.write_all(b"echo hi\n").unwrap();
    let mut out = Vec::new();
    pty.read_to_end(&mut out).unwrap();
    let mut expected = b"early hi\r\n".to_vec();
    expected.extend_from_slice("✓".as_bytes());
    expected.extend_from_slice(b"\x1b[1mbold\x1b[0m");
    expected.extend_from_slice(&[b'z'; 9000]);
    assert_eq!(out, expected);
    assert_eq!(pty.exit(), Some(&exit_code(0)));
    assert_eq!(pty.wait().unwrap(), exit_code(0));

    let rest = server.rest();
    assert_eq!(rest[0].route(), "POST /toolbox/sb-1/process/pty");
    assert_eq!(
        rest[0].json(),
        json!({"id": "t1", "cwd": "/home/daytona/app", "envs": {"GREETING": "hi", "A": "1", "B": "2"},
               "cols": 100, "rows": 30, "lazyStart": true})
    );
    assert_eq!(rest.len(), 1, "{rest:?}");
    let up = &server.upgrades()[0];
    assert_eq!(up.path, "/toolbox/sb-1/process/pty/t1/connect");
    assert_eq!(up.query, None);
    assert_eq!(up.header("authorization"), Some(format!("Bearer {KEY}")));
    assert_eq!(up.header("x-daytona-source").as_deref(), Some("sdk-rust"));
}

#[test]
fn kill_ends_the_session_with_137_and_resize_is_a_rest_call() {
    let killed = Arc::new(AtomicBool::new(false));
    let flag = killed.clone();
    let server = toolbox_server(
        move |req| match req.method.as_str() {
            "POST" => (200, INFO.to_string()),
            "DELETE" => {
                flag.store(true, Ordering::SeqCst);
                (200, r#"{"message":"PTY session deleted"}"#.into())
            }
            _ => (404, "{}".into()),
        },
        |_, _| Answer::Accept,
        move |_, ws| {
            connected(ws);
            while !killed.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(5));
            }
            close(ws, 1011, r#"{"exitCode":137,"exitReason":"SIGKILL"}"#);
        },
    );
    let (_api, sandbox) = sandbox_for(&server.url);
    let mut pty = sandbox.process().connect_pty("t1").unwrap();
    let info = pty.resize(120, 40).unwrap();
    assert_eq!((info.cols, info.rows, info.active), (120, 40, true));
    pty.kill().unwrap();
    let exit = pty.wait().unwrap();
    assert_eq!(exit.exit_code, Some(137));
    assert_eq!(exit.reason.as_deref(), Some("SIGKILL"));
    let routes: Vec<String> = server.rest().iter().map(|r| r.route()).collect();
    assert_eq!(
        routes,
        [
            "POST /toolbox/sb-1/process/pty/t1/resize",
            "DELETE /toolbox/sb-1/process/pty/t1"
        ]
    );
    assert_eq!(server.rest()[0].json(), json!({"cols": 120, "rows": 40}));
}

#[test]
fn wait_timeout_returns_at_its_deadline_on_an_idle_shell_and_drop_only_disconnects() {
    let (closed_tx, closed_rx) = mpsc::channel();
    let server = pty_toolbox(move |_, ws| {
        connected(ws);
        // An idle shell: nothing to say, but pings are answered.
        let _ = closed_tx.send(client_close(ws));
    });
    let (_api, sandbox) = sandbox_for(&server.url);
    let mut pty = sandbox.process().connect_pty("idle").unwrap();
    let started = Instant::now();
    assert_eq!(pty.wait_timeout(Duration::from_millis(300)).unwrap(), None);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(1),
        "{took:?}"
    );
    drop(pty);
    let frame = closed_rx
        .recv_timeout(Duration::from_secs(3))
        .unwrap()
        .unwrap();
    assert_eq!(frame.code, CloseCode::Normal);
    // Disconnecting is not killing.
    assert!(server.rest().is_empty(), "{:?}", server.rest());
}

#[test]
fn an_error_control_message_fails_the_connect() {
    let server = pty_toolbox(|_, ws| {
        text(
            ws,
            r#"{"type":"control","status":"error","error":"Failed to connect to PTY session: PTY session gone not found"}"#,
        );
        cut(ws);
    });
    let (_api, sandbox) = sandbox_for(&server.url);
    let e = sandbox.process().connect_pty("gone").unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert!(e.to_string().contains("PTY session gone not found"), "{e}");
}

#[test]
fn a_server_that_never_says_connected_fails_at_the_connect_timeout() {
    let server = pty_toolbox(|_, ws| {
        let _ = client_close(ws);
    });
    let (_api, sandbox) = sandbox_with(&server.url, |c| {
        c.connect_timeout(Duration::from_millis(400))
    });
    let e = assert_times_out(Duration::from_millis(400), Duration::from_secs(3), || {
        sandbox.process().connect_pty("quiet")
    });
    assert!(
        e.to_string()
            .contains("waiting for the terminal to connect"),
        "{e}"
    );
}

#[test]
fn create_removes_the_session_when_the_connect_fails() {
    let server = toolbox_server(
        |req| match req.method.as_str() {
            "POST" => (201, r#"{"sessionId":"t9"}"#.into()),
            _ => (200, r#"{"message":"PTY session deleted"}"#.into()),
        },
        |_, _| Answer::Refuse(404, r#"{"message":"PTY session not found"}"#.into()),
        |_, _| {},
    );
    let (_api, sandbox) = sandbox_for(&server.url);
    let e = sandbox
        .process()
        .create_pty(PtyOptions::new("t9"))
        .unwrap_err();
    assert!(e.is_not_found(), "{e:?}");
    let routes: Vec<String> = server.rest().iter().map(|r| r.route()).collect();
    assert_eq!(
        routes,
        [
            "POST /toolbox/sb-1/process/pty",
            "DELETE /toolbox/sb-1/process/pty/t9"
        ]
    );
    // A 404 is not worth another attempt.
    assert_eq!(server.upgrades().len(), 1);
}

#[test]
fn a_refused_upgrade_is_retried_when_it_may_succeed() {
    let server = toolbox_server(
        |_| (404, "{}".into()),
        |n, _| {
            if n == 0 {
                Answer::Refuse(503, r#"{"message":"busy"}"#.into())
            } else {
                Answer::Accept
            }
        },
        |_, ws| {
            connected(ws);
            close(ws, 1000, r#"{"exitCode":3}"#);
        },
    );
    let (_api, sandbox) = sandbox_for(&server.url);
    let mut pty = sandbox.process().connect_pty("t1").unwrap();
    assert_eq!(pty.wait().unwrap(), exit_code(3));
    assert_eq!(server.upgrades().len(), 2);
}

#[test]
fn a_server_that_stops_answering_is_lost_at_the_idle_limit() {
    let server = pty_toolbox(|_, ws| {
        connected(ws);
        // Reads nothing more: pings go unanswered.
        thread::sleep(Duration::from_secs(5));
    });
    let (_api, sandbox) = sandbox_for(&server.url);
    let mut pty = sandbox
        .process()
        .create_pty(PtyOptions::new("dead").idle_timeout(Duration::from_millis(600)))
        .unwrap();
    let e = assert_times_out(Duration::from_millis(500), Duration::from_secs(3), || {
        pty.wait()
    });
    assert!(e.to_string().contains("no answer from the server"), "{e}");
}

#[test]
fn read_reports_the_idle_limit_as_timed_out_with_the_error_inside() {
    let server = pty_toolbox(|_, ws| {
        connected(ws);
        binary(ws, b"prompt$ ");
        // Then nothing: pings go unanswered.
        thread::sleep(Duration::from_secs(5));
    });
    let (_api, sandbox) = sandbox_for(&server.url);
    let mut pty = sandbox
        .process()
        .create_pty(PtyOptions::new("quiet").idle_timeout(Duration::from_millis(600)))
        .unwrap();
    let mut output = Vec::new();
    let started = Instant::now();
    let e = pty.read_to_end(&mut output).unwrap_err();
    let took = started.elapsed();
    assert_eq!(output, b"prompt$ ");
    assert_eq!(e.kind(), std::io::ErrorKind::TimedOut, "{e:?}");
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_secs(3),
        "{took:?}"
    );
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<Error>());
    assert!(inner.is_some_and(Error::is_timeout), "{e:?}");
    let error = *e.into_inner().unwrap().downcast::<Error>().unwrap();
    assert!(
        error.to_string().contains("no answer from the server"),
        "{error}"
    );
    // Reported once; the end after it.
    assert_eq!(pty.read(&mut [0u8; 8]).unwrap(), 0);
}

#[test]
fn a_failed_connection_is_read_as_other_with_the_error_inside() {
    let server = pty_toolbox(|_, ws| {
        connected(ws);
        cut(ws);
    });
    let (_api, sandbox) = sandbox_for(&server.url);
    let (mut reader, _writer) = sandbox.process().connect_pty("t1").unwrap().split();
    let e = reader.read(&mut [0u8; 8]).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::Other, "{e:?}");
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<Error>()).unwrap();
    assert!(!inner.is_timeout(), "{inner:?}");
}

#[test]
fn a_connection_cut_in_the_middle_of_a_message_is_an_error() {
    let server = pty_toolbox(|_, ws| {
        connected(ws);
        binary(ws, b"whole ");
        // The first of two frames, then the connection ends.
        let frame = tungstenite::protocol::frame::Frame::message(
            b"half".to_vec(),
            tungstenite::protocol::frame::coding::OpCode::Data(
                tungstenite::protocol::frame::coding::Data::Binary,
            ),
            false,
        );
        ws.send(Message::Frame(frame)).unwrap();
        cut(ws);
    });
    let (_api, sandbox) = sandbox_for(&server.url);
    let mut pty = sandbox.process().connect_pty("t1").unwrap();
    let mut buf = [0u8; 64];
    let n = pty.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"whole ");
    let e = pty.read(&mut buf).unwrap_err();
    assert!(
        e.to_string()
            .contains("the connection ended without closing the WebSocket"),
        "{e}"
    );
    assert_eq!(pty.read(&mut buf).unwrap(), 0);
    assert!(matches!(pty.wait().unwrap_err(), Error::Transport { .. }));
}

#[test]
fn closes_other_than_an_exit_are_errors() {
    for (code, reason, expected) in [
        (1008, "slow consumer", "1008: slow consumer"),
        (
            1011,
            "PTY session unavailable",
            "1011: PTY session unavailable",
        ),
        (1001, "", "code 1001"),
    ] {
        let server = pty_toolbox(move |_, ws| {
            connected(ws);
            close(ws, code, reason);
        });
        let (_api, sandbox) = sandbox_for(&server.url);
        let mut pty = sandbox.process().connect_pty("t1").unwrap();
        let e = pty.wait().unwrap_err();
        assert!(e.to_string().contains(expected), "{e}");
    }
}

#[test]
fn a_flooding_server_is_held_back_while_the_caller_does_not_read() {
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let server = pty_toolbox(move |_, ws| {
        connected(ws);
        let chunk = vec![b'f'; 32 << 10];
        // Up to 1 GiB, as fast as the client takes it.
        for _ in 0..(1 << 15) {
            if ws.send(Message::binary(chunk.clone())).is_err() {
                return;
            }
            counter.fetch_add(chunk.len(), Ordering::SeqCst);
        }
    });
    let (_api, sandbox) = sandbox_for(&server.url);
    let mut pty = sandbox.process().connect_pty("flood").unwrap();
    thread::sleep(Duration::from_millis(1500));
    let held = sent.load(Ordering::SeqCst);
    // 1 MiB queued for the caller, one message being read, and the
    // sockets' buffers: nowhere near what the server would send.
    assert!(
        held < 32 << 20,
        "the server sent {held} bytes to a caller that read none"
    );
    let mut buf = vec![0u8; 1 << 20];
    let mut read = 0;
    while read < 4 << 20 {
        let n = pty.read(&mut buf).unwrap();
        assert!(n > 0 && buf[..n].iter().all(|b| *b == b'f'));
        read += n;
    }
    assert!(
        sent.load(Ordering::SeqCst) > held,
        "reading lets the server go on"
    );
    eprintln!("held back at {held} bytes sent");
}

#[test]
fn a_message_over_the_size_limit_is_an_error_not_memory() {
    // One message of a terminal holds at most 1 MiB, sent in one frame or
    // in many (gorilla/websocket splits a large message).
    for parts in [1, 64] {
        let server = pty_toolbox(move |_, ws| {
            connected(ws);
            // The client gives up once over the limit.
            if fragmented(ws, false, &vec![b'x'; (1 << 20) + 1], parts).is_ok() {
                let _ = client_close(ws);
            }
        });
        let (_api, sandbox) = sandbox_for(&server.url);
        let mut pty = sandbox.process().connect_pty("big").unwrap();
        let e = pty.wait().unwrap_err();
        assert!(e.is_transport(), "{e:?}");
        assert!(
            e.to_string().contains("more than the 1048576 allowed"),
            "{parts} frames: {e}"
        );
    }
}

#[test]
fn the_halves_work_from_two_threads() {
    let server = pty_toolbox(|_, ws| {
        connected(ws);
        loop {
            match next_data(ws) {
                Some(Message::Binary(input)) if input.as_ref() == b"exit\n" => {
                    close(ws, 1000, r#"{"exitCode":0}"#);
                    return;
                }
                Some(input) => binary(ws, &[b"> ", input.into_data().as_ref()].concat()),
                None => return,
            }
        }
    });
    let (_api, sandbox) = sandbox_for(&server.url);
    let pty = sandbox.process().connect_pty("t1").unwrap();
    let (mut reader, mut writer) = pty.split();
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = received.clone();
    let printer =
        thread::spawn(move || reader.on_data(|b| sink.lock().unwrap().extend_from_slice(b)));
    for line in ["one\n", "two\n"] {
        writer.write_all(line.as_bytes()).unwrap();
        // The reader thread waits for output meanwhile: input goes at once.
        let until = Instant::now() + Duration::from_secs(3);
        while !String::from_utf8_lossy(&received.lock().unwrap()).contains(line) {
            assert!(Instant::now() < until, "no echo of {line:?}");
            thread::sleep(Duration::from_millis(5));
        }
    }
    writer.send_input(b"exit\n").unwrap();
    assert_eq!(printer.join().unwrap().unwrap(), exit_code(0));
    assert_eq!(&*received.lock().unwrap(), b"> one\n> two\n");
}

#[test]
fn handles_and_halves_can_move_to_other_threads() {
    fn assert_send<T: Send>() {}
    assert_send::<PtyHandle<'static>>();
    assert_send::<PtyReader>();
    assert_send::<PtyWriter<'static>>();
    fn assert_static<T: 'static>() {}
    assert_static::<PtyReader>();
}

#[test]
fn rest_operations_send_and_decode_as_the_spec_says() {
    let (mut server, sandbox) = toolbox();
    let list = api_mock(&mut server, "GET", "/toolbox/sb-1/process/pty")
        .with_body(format!(r#"{{"sessions":[{INFO},{{"id":"t2","active":false,"cols":80,"rows":24,"cwd":"/","envs":{{}},"createdAt":"x","lazyStart":false}},7]}}"#))
        .create();
    let info = api_mock(&mut server, "GET", "/toolbox/sb-1/process/pty/t%201")
        .with_body(INFO)
        .create();
    let resize = api_mock(&mut server, "POST", "/toolbox/sb-1/process/pty/t1/resize")
        .match_body(mockito::Matcher::Json(json!({"cols": 1000, "rows": 1})))
        .with_body(INFO)
        .create();
    let kill = api_mock(&mut server, "DELETE", "/toolbox/sb-1/process/pty/t1")
        .with_body(r#"{"message":"PTY session deleted"}"#)
        .create();
    let p = sandbox.process();
    let sessions = p.list_pty_sessions().unwrap();
    assert_eq!(sessions.len(), 2);
    let first: &PtySessionInfo = &sessions[0];
    assert_eq!(
        (
            first.id.as_str(),
            first.active,
            first.cols,
            first.rows,
            first.cwd.as_str()
        ),
        ("t1", true, 120, 40, "/home/daytona")
    );
    assert_eq!(first.envs["SECRET"], "hidden-value");
    assert!(!format!("{first:?}").contains("hidden-value"));
    assert_eq!(first.created_at, "2026-01-01T00:00:00Z");
    assert!(first.lazy_start);
    assert_eq!(sessions[1].id, "t2");
    assert_eq!(p.pty_session_info("t 1").unwrap().id, "t1");
    assert_eq!(p.resize_pty("t1", 1000, 1).unwrap().cols, 120);
    p.kill_pty("t1").unwrap();
    for m in [list, info, resize, kill] {
        m.assert();
    }
}

#[test]
fn a_missing_session_is_not_found() {
    let (mut server, sandbox) = toolbox();
    let m = api_mock(&mut server, "GET", "/toolbox/sb-1/process/pty/nope")
        .with_status(404)
        .with_body(r#"{"error":"PTY session not found"}"#)
        .create();
    let e = sandbox.process().pty_session_info("nope").unwrap_err();
    assert!(e.is_not_found(), "{e:?}");
    m.assert();
}

#[test]
fn bad_arguments_fail_before_any_request() {
    let (mut server, sandbox) = toolbox();
    let none = no_requests(&mut server);
    let p = sandbox.process();
    let cases = vec![
        (p.create_pty(PtyOptions::new("")).unwrap_err(), "id"),
        (p.create_pty(PtyOptions::new("..")).unwrap_err(), "id"),
        (
            p.create_pty(PtyOptions::new("t").cwd(" ")).unwrap_err(),
            "cwd",
        ),
        (
            p.create_pty(PtyOptions::new("t").size(0, 24)).unwrap_err(),
            "cols",
        ),
        (
            p.create_pty(PtyOptions::new("t").size(80, 1001))
                .unwrap_err(),
            "rows",
        ),
        (
            p.create_pty(PtyOptions::new("t").idle_timeout(Duration::ZERO))
                .unwrap_err(),
            "idle_timeout",
        ),
        (
            p.create_pty(PtyOptions::new("t").env("A=B", "1"))
                .unwrap_err(),
            "envs",
        ),
        (
            p.create_pty(PtyOptions::new("t").env("TOKEN", "s3cr3t\0"))
                .unwrap_err(),
            "envs",
        ),
        (p.connect_pty("").unwrap_err(), "session_id"),
        (p.pty_session_info(".").unwrap_err(), "session_id"),
        (p.resize_pty("t", 80, 0).unwrap_err(), "rows"),
        (p.resize_pty("", 80, 24).unwrap_err(), "session_id"),
        (p.kill_pty(" ").unwrap_err(), "session_id"),
    ];
    assert_invalid(cases);
    assert_all(&none);
}

/// The reader thread decodes what TLS has already delivered without
/// waiting, while the writer writes through the same TLS session.
#[test]
fn a_terminal_over_tls_echoes_from_two_threads() {
    use fault_server::relay::{test_ca_pem, Relay};
    let server = pty_toolbox(|_, ws| {
        connected(ws);
        while let Some(input) = next_data(ws) {
            let input = input.into_data();
            if input.as_ref() == b"exit\n" {
                return close(ws, 1000, r#"{"exitCode":0}"#);
            }
            // A large answer: several TLS records per message.
            binary(ws, &input.repeat(2000));
        }
    });
    let backend: u16 = server
        .url
        .trim_start_matches("http://127.0.0.1:")
        .trim_end_matches("/toolbox")
        .parse()
        .unwrap();
    let front = Relay::tls(backend);
    let url = format!("https://localhost:{}/toolbox", front.port);
    let (_api, sandbox) = sandbox_with(&url, |c| c.add_root_certificates_pem(test_ca_pem()));
    let (mut reader, mut writer) = sandbox.process().connect_pty("tls").unwrap().split();
    let printer = thread::spawn(move || {
        let mut all = Vec::new();
        reader.read_to_end(&mut all).map(|_| (all, reader.wait()))
    });
    for word in ["alpha\n", "beta\n", "gamma\n"] {
        writer.write_all(word.as_bytes()).unwrap();
        thread::sleep(Duration::from_millis(50));
    }
    writer.write_all(b"exit\n").unwrap();
    let (all, exit) = printer.join().unwrap().unwrap();
    assert_eq!(exit.unwrap(), exit_code(0));
    let expected = ["alpha\n", "beta\n", "gamma\n"]
        .map(|w| w.repeat(2000))
        .concat();
    assert_eq!(String::from_utf8(all).unwrap(), expected);
}

/// Closing waits a little for the server's reply to its close, and no
/// longer: a server that sends a message a byte at a time does not hold
/// the caller that drops the handle.
#[test]
fn disconnecting_from_a_server_that_trickles_a_message_returns_at_once() {
    let server = pty_toolbox(|_, ws| {
        connected(ws);
        let stream = ws.get_mut();
        // A binary frame of 64 KiB announced, then its bytes one by one,
        // for far longer than any close may take.
        let _ = stream.write_all(&[0x82, 126, 0xFF, 0xFF]);
        for _ in 0..200 {
            if stream.write_all(b"x").is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
    });
    let (_api, sandbox) = sandbox_for(&server.url);
    let pty = sandbox.process().connect_pty("trickle").unwrap();
    thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    pty.disconnect();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "disconnecting took {took:?}");
}

/// A server that sends frames without end, none of them a message (the
/// first part of a message, then empty continuations, as fast as the
/// network takes them): input still goes out and disconnecting still
/// returns at once, while the frames keep coming.
#[test]
fn a_server_that_sends_frames_but_never_a_message_does_not_hold_the_caller() {
    let server = pty_toolbox(|_, ws| {
        connected(ws);
        let stream = ws.get_mut();
        // A text frame that is not the last of its message, then empty
        // continuation frames that are not the last either.
        let _ = stream.write_all(&[0x01, 0x00]);
        let batch = [0x00u8, 0x00].repeat(32 << 10);
        let until = Instant::now() + Duration::from_secs(20);
        while Instant::now() < until && stream.write_all(&batch).is_ok() {}
    });
    let (_api, sandbox) = sandbox_for(&server.url);
    let pty = sandbox.process().connect_pty("endless").unwrap();
    thread::sleep(Duration::from_millis(300));
    let (done_tx, done_rx) = mpsc::channel();
    // The scope ends with the server's frames at the latest.
    thread::scope(|scope| {
        scope.spawn(move || {
            let started = Instant::now();
            let sent = pty.send_input(b"ls\n");
            let _ = done_tx.send((sent, started.elapsed()));
            let started = Instant::now();
            pty.disconnect();
            let _ = done_tx.send((Ok(()), started.elapsed()));
        });
        let (sent, took) = done_rx
            .recv_timeout(Duration::from_secs(5))
            .expect("input held while frames keep coming");
        sent.unwrap();
        assert!(took < Duration::from_secs(2), "sending took {took:?}");
        let (_, took) = done_rx
            .recv_timeout(Duration::from_secs(5))
            .expect("disconnecting held while frames keep coming");
        assert!(took < Duration::from_secs(2), "disconnecting took {took:?}");
    });
}

/// A server that sends pings without end and reads nothing: the pongs
/// pile up unsent, and neither input nor disconnecting waits on them.
#[test]
fn a_server_that_pings_without_reading_does_not_hold_the_caller() {
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let server = pty_toolbox(move |_, ws| {
        connected(ws);
        let stream = ws.get_mut();
        // Pings with 125 bytes each, so that their pongs soon fill the
        // sockets' buffers.
        let mut ping = vec![0x89u8, 125];
        ping.extend([b'p'; 125]);
        let batch = ping.repeat(512);
        let until = Instant::now() + Duration::from_secs(20);
        while Instant::now() < until && stream.write_all(&batch).is_ok() {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    let (_api, sandbox) = sandbox_for(&server.url);
    let pty = sandbox
        .process()
        .create_pty(PtyOptions::new("pings").idle_timeout(Duration::from_secs(10)))
        .unwrap();
    // Until the pings stop going out (the client reads no more of them)
    // or for 5 s at most.
    let began = Instant::now();
    let mut last = (0, Instant::now());
    while began.elapsed() < Duration::from_secs(5) && last.1.elapsed() < Duration::from_millis(500)
    {
        thread::sleep(Duration::from_millis(50));
        let now = sent.load(Ordering::SeqCst);
        if now != last.0 {
            last = (now, Instant::now());
        }
    }
    let (done_tx, done_rx) = mpsc::channel();
    // The scope ends with the server's pings at the latest.
    thread::scope(|scope| {
        scope.spawn(move || {
            let started = Instant::now();
            pty.disconnect();
            let _ = done_tx.send(started.elapsed());
        });
        let took = done_rx
            .recv_timeout(Duration::from_secs(5))
            .expect("disconnecting held by pongs the server does not read");
        assert!(took < Duration::from_secs(2), "disconnecting took {took:?}");
    });
}

/// Output that comes before "connected" is kept, however much of it there
/// is: the connection does not wait for a reader that only comes once it
/// is connected.
#[test]
fn much_output_before_connected_does_not_hold_the_connect() {
    let server = pty_toolbox(|_, ws| {
        for i in 0..40 {
            binary(ws, format!("line {i}\n").as_bytes());
        }
        connected(ws);
        close(ws, 1000, r#"{"exitCode":0}"#);
    });
    let (_api, sandbox) = sandbox_with(&server.url, |c| c.connect_timeout(Duration::from_secs(2)));
    let started = Instant::now();
    let mut pty = sandbox.process().connect_pty("busy").unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let mut output = String::new();
    pty.read_to_string(&mut output).unwrap();
    let expected: String = (0..40).map(|i| format!("line {i}\n")).collect();
    assert_eq!(output, expected);
    assert_eq!(pty.exit(), Some(&exit_code(0)));
}

/// Input sent once the session has ended can reach nothing: an error, not
/// a success.
#[test]
fn input_after_the_session_ended_is_an_error() {
    let server = pty_toolbox(|_, ws| {
        connected(ws);
        close(ws, 1000, r#"{"exitCode":0}"#);
    });
    let (_api, sandbox) = sandbox_for(&server.url);
    let mut pty = sandbox.process().connect_pty("done").unwrap();
    assert_eq!(pty.wait().unwrap(), exit_code(0));
    let e = pty.send_input(b"echo lost\n").unwrap_err();
    assert!(e.is_transport(), "{e:?}");
    assert!(e.to_string().contains("ended"), "{e}");
    let e = pty.write(b"ls\n").unwrap_err();
    assert!(e.to_string().contains("ended"), "{e}");
}

/// A large paste into a shell that echoes it: the server stops reading
/// input while its output is not read, so output must be read while the
/// input is still being written.
#[test]
fn a_large_input_echoed_back_flows_both_ways() {
    const TOTAL: usize = 48 << 20;
    let server = pty_toolbox(|_, ws| {
        connected(ws);
        let mut got = 0;
        while got < TOTAL {
            match next_data(ws) {
                Some(input) => {
                    let input = input.into_data();
                    got += input.len();
                    if ws.send(Message::binary(input)).is_err() {
                        return;
                    }
                }
                None => return,
            }
        }
        close(ws, 1000, r#"{"exitCode":0}"#);
    });
    let (_api, sandbox) = sandbox_for(&server.url);
    let pty = sandbox
        .process()
        .create_pty(PtyOptions::new("paste").idle_timeout(Duration::from_secs(3)))
        .unwrap();
    let (mut reader, writer) = pty.split();
    let printer = thread::spawn(move || {
        let mut echoed = 0;
        let exit = reader.on_data(|b| echoed += b.len());
        (echoed, exit)
    });
    writer.send_input(&vec![b'p'; TOTAL]).unwrap();
    let (echoed, exit) = printer.join().unwrap();
    assert_eq!(exit.unwrap(), exit_code(0));
    assert_eq!(echoed, TOTAL);
}
