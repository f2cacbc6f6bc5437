//! Following logs over a WebSocket: a small server in a thread checks the
//! upgrade request and sends frames.
#![cfg(feature = "websocket")]
// tungstenite's upgrade callback returns its large `ErrorResponse` as is.
#![allow(clippy::result_large_err)]

mod common;
mod fault_server;
mod process_support;
mod ws_support;

use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use daytona::toolbox::{FollowOptions, LogChunk};
use daytona::Error;
use fault_server::one_connection;
use process_support::*;
use tungstenite::handshake::server::{Request, Response};
use tungstenite::Message;
use ws_support::{binary, close, raw_text, toolbox_server, ws_server, Answer};

/// Follows command `c1` of session `s1` in a sandbox whose toolbox is
/// `url`: the chunks delivered and the outcome.
fn follow(url: &str, options: FollowOptions) -> (Vec<LogChunk>, Result<(), Error>) {
    let (_api, sandbox) = sandbox_for(url);
    let mut chunks = Vec::new();
    let result = sandbox
        .process()
        .follow_session_command_logs("s1", "c1", options, |c| chunks.push(c));
    (chunks, result)
}

fn out(s: &str) -> LogChunk {
    LogChunk::Stdout(s.into())
}

fn err(s: &str) -> LogChunk {
    LogChunk::Stderr(s.into())
}

#[test]
fn follow_delivers_chunks_in_order_and_returns_on_a_normal_close() {
    let check = "✓".as_bytes();
    let (url, seen) = ws_server(move |ws| {
        binary(ws, b"dropped before any marker\x01\x01\x01hel");
        binary(ws, b"lo \x02\x02"); // the stderr marker cut across frames
        ws.send(Message::Ping(vec![1, 2].into())).unwrap();
        // The client answers with a (masked, or tungstenite would refuse
        // it) pong of the same payload before the rest is sent.
        assert_eq!(ws.read().unwrap(), Message::Pong(vec![1, 2].into()));
        binary(ws, &[&[0x02][..], b"err ", &check[..2]].concat()); // "✓" cut too
        raw_text(ws, &[&check[2..], b"\x01\x01\x01done\n"].concat());
        close(ws, 1000, "");
    });
    let (chunks, result) = follow(&url, FollowOptions::new());
    result.unwrap();
    assert_eq!(
        chunks,
        vec![out("hel"), out("lo "), err("err "), err("✓"), out("done\n")]
    );
    let stderr: Vec<bool> = chunks.iter().map(LogChunk::is_stderr).collect();
    assert_eq!(stderr, [false, false, true, true, false]);

    let up = seen.recv().unwrap();
    assert_eq!(up.path, "/toolbox/sb-1/process/session/s1/command/c1/logs");
    assert_eq!(up.query.as_deref(), Some("follow=true"));
    assert_eq!(up.header("authorization"), Some(format!("Bearer {KEY}")));
    assert_eq!(up.header("x-daytona-source").as_deref(), Some("sdk-rust"));
    assert_eq!(
        up.header("x-daytona-sdk-version").as_deref(),
        Some("0.190.0")
    );
    assert_eq!(
        up.header("user-agent").as_deref(),
        Some(concat!("sdk-rust/", env!("CARGO_PKG_VERSION")))
    );
}

#[test]
fn the_entrypoint_log_streams_as_an_iterator() {
    let (url, seen) = ws_server(|ws| {
        binary(ws, b"\x01\x01\x01booting\n");
        binary(ws, b"\x02\x02\x02warning\n");
        close(ws, 1000, "");
    });
    let (_api, sandbox) = sandbox_for(&url);
    let process = sandbox.process();
    let chunks: Vec<LogChunk> = process
        .stream_entrypoint_logs(FollowOptions::new())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(chunks, vec![out("booting\n"), err("warning\n")]);
    let up = seen.recv().unwrap();
    assert_eq!(up.path, "/toolbox/sb-1/process/session/entrypoint/logs");
    assert_eq!(up.query.as_deref(), Some("follow=true"));
}

#[test]
fn an_iterator_may_stop_early() {
    let (url, _seen) = ws_server(|ws| {
        binary(ws, b"\x01\x01\x01starting\nlistening on :8080\n");
        // Keeps the stream open: the client leaves first.
        while ws.read().is_ok() {}
    });
    let (_api, sandbox) = sandbox_for(&url);
    let process = sandbox.process();
    let mut stream = process
        .stream_session_command_logs("s", "server", FollowOptions::new())
        .unwrap();
    let first = stream.next().unwrap().unwrap();
    assert!(first.text().contains("listening on"), "{first:?}");
    drop(stream);
}

#[test]
fn a_log_stream_can_move_to_another_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<daytona::toolbox::LogStream<'static>>();
}

#[test]
fn an_abnormal_close_is_an_error_after_the_data() {
    let (url, _seen) = ws_server(|ws| {
        binary(ws, b"\x01\x01\x01partial");
        close(ws, 1011, "boom");
    });
    let (chunks, result) = follow(&url, FollowOptions::new());
    assert_eq!(chunks, vec![out("partial")]);
    let e = result.unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert!(e.to_string().contains("1011: boom"), "{e}");
}

#[test]
fn a_connection_cut_without_a_close_frame_is_an_error() {
    let (url, _seen) = ws_server(|ws| {
        binary(ws, b"\x01\x01\x01half");
        let _ = ws.get_mut().shutdown(std::net::Shutdown::Both);
    });
    let (chunks, result) = follow(&url, FollowOptions::new());
    assert_eq!(chunks, vec![out("half")]);
    let e = result.unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
}

/// A toolbox may keep the stream of a command open after the command
/// ended (the end its reader signals can reach the writer instead of the
/// stream): once the log is silent, the command is asked whether it has
/// ended, and the log is complete half a second after it has.
#[test]
fn a_stream_left_open_after_the_command_ended_ends_once_the_command_has() {
    let asked = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&asked);
    let (closed_tx, closed) = mpsc::channel();
    let closed_tx = std::sync::Mutex::new(closed_tx);
    let toolbox = toolbox_server(
        move |_| {
            let exit = match count.fetch_add(1, Ordering::SeqCst) {
                0 => serde_json::Value::Null,
                _ => serde_json::json!(3),
            };
            let body = serde_json::json!({"id": "c1", "command": "make", "exitCode": exit});
            (200, body.to_string())
        },
        |_, _| Answer::Accept,
        move |_, ws| {
            binary(ws, b"\x01\x01\x01building\n");
            while let Ok(message) = ws.read() {
                if let Message::Close(frame) = message {
                    let code = frame.map(|f| u16::from(f.code));
                    let _ = closed_tx.lock().unwrap().send(code);
                }
            }
        },
    );
    let started = Instant::now();
    let (chunks, result) = follow(&toolbox.url, FollowOptions::new());
    let took = started.elapsed();
    result.unwrap();
    assert_eq!(chunks, vec![out("building\n")]);
    let asked: Vec<String> = toolbox.rest().iter().map(|r| r.route()).collect();
    assert_eq!(
        asked, ["GET /toolbox/sb-1/process/session/s1/command/c1"; 2],
        "asked after 1 s of silence, then 2 s later"
    );
    // 1 s, 2 s, then half a second of silence after the end.
    assert!(took >= Duration::from_millis(3400), "{took:?}");
    assert!(took < Duration::from_secs(6), "{took:?}");
    // The client closed the stream as a finished one.
    let code = closed.recv_timeout(Duration::from_secs(2));
    assert_eq!(code, Ok(Some(1000)));
}

/// A question that fails is no answer: the stream goes on, within its
/// limits; and the entrypoint, which is no session command, is not asked.
#[test]
fn a_failed_question_leaves_the_stream_to_its_limits() {
    let toolbox = toolbox_server(
        |_| (404, r#"{"message":"command not found"}"#.into()),
        |_, _| Answer::Accept,
        |_, ws| {
            binary(ws, b"\x01\x01\x01building\n");
            while ws.read().is_ok() {}
        },
    );
    let options = FollowOptions::new().idle_timeout(Duration::from_millis(2500));
    let (chunks, result) = follow(&toolbox.url, options.clone());
    assert_eq!(chunks, vec![out("building\n")]);
    let e = result.unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert!(e.to_string().contains("no log data for 2.5s"), "{e}");
    let asked = toolbox.rest().len();
    assert!((1..=2).contains(&asked), "asked {asked} times");

    let (_api, sandbox) = sandbox_for(&toolbox.url);
    let e = sandbox
        .process()
        .follow_entrypoint_logs(options, |_| {})
        .unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert_eq!(
        toolbox.rest().len(),
        asked,
        "the entrypoint was asked about"
    );
}

#[test]
fn a_silent_server_ends_with_an_idle_timeout() {
    let (url, _seen) = ws_server(|ws| while ws.read().is_ok() {});
    let options = FollowOptions::new().idle_timeout(Duration::from_millis(300));
    let e = assert_times_out(Duration::from_millis(300), Duration::from_secs(3), || {
        follow(&url, options).1
    });
    assert!(e.to_string().contains("no log data for 300ms"), "{e}");
}

/// Pings, and a message begun but never ended, are no log data: a server
/// that sends only those ends at the idle limit all the same.
#[test]
fn pings_and_parts_of_a_message_are_no_log_data() {
    for parts in [false, true] {
        let (url, _seen) = ws_server(move |ws| {
            if parts {
                // A text frame that is not the last of its message.
                let _ = ws.get_mut().write_all(&[0x01, 0x00]);
            }
            let until = Instant::now() + Duration::from_secs(10);
            while Instant::now() < until {
                // A ping, or an empty continuation frame, every 50 ms.
                let frame: &[u8] = if parts { &[0x00, 0x00] } else { &[0x89, 0x00] };
                if ws.get_mut().write_all(frame).is_err() {
                    return;
                }
                thread::sleep(Duration::from_millis(50));
            }
        });
        let options = FollowOptions::new().idle_timeout(Duration::from_millis(500));
        let e = assert_times_out(Duration::from_millis(500), Duration::from_secs(3), || {
            follow(&url, options).1
        });
        assert!(e.to_string().contains("no log data for 500ms"), "{e}");
    }
}

#[test]
fn a_chatty_command_ends_at_the_overall_timeout() {
    let (url, _seen) = ws_server(|ws| {
        while ws
            .send(Message::binary(b"\x01\x01\x01tick\n".to_vec()))
            .is_ok()
        {
            thread::sleep(Duration::from_millis(50));
        }
    });
    let options = FollowOptions::new()
        .idle_timeout(Duration::from_secs(5))
        .timeout(Duration::from_millis(500));
    let mut ticks = 0;
    let e = assert_times_out(Duration::from_millis(500), Duration::from_secs(3), || {
        let (chunks, result) = follow(&url, options);
        ticks = chunks.len();
        result
    });
    assert!(e.to_string().contains("did not end within 500ms"), "{e}");
    assert!(ticks >= 2, "{ticks}");
}

#[test]
fn a_refused_upgrade_is_an_api_error() {
    let url = one_connection(move |stream| {
        let _ = tungstenite::accept_hdr(stream, |_: &Request, _: Response| {
            let body = r#"{"statusCode":404,"message":"command not found","code":"NOT_FOUND"}"#;
            Err(tungstenite::http::Response::builder()
                .status(404)
                .header("content-type", "application/json")
                .header("content-length", body.len())
                .body(Some(body.to_string()))
                .unwrap())
        });
    });
    let e = follow(&format!("{url}/toolbox"), FollowOptions::new())
        .1
        .unwrap_err();
    assert!(e.is_not_found(), "{e:?}");
    let api = e.api().unwrap();
    assert_eq!(api.code.as_deref(), Some("NOT_FOUND"));
    assert_eq!(api.message, "command not found");
    assert_eq!(
        api.operation,
        "GET /toolbox/sb-1/process/session/s1/command/c1/logs"
    );
}

#[test]
fn wss_speaks_tls_to_the_toolbox_host() {
    let (tx, rx) = mpsc::channel();
    let url = one_connection(move |mut stream| {
        let mut first = [0u8; 1];
        let _ = stream.read_exact(&mut first);
        let _ = tx.send(first[0]);
        let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
    });
    let url = format!("{}/toolbox", url.replacen("http:", "https:", 1));
    let (chunks, result) = follow(&url, FollowOptions::new());
    assert!(chunks.is_empty());
    let e = result.unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert_eq!(rx.recv().unwrap(), 0x16, "a TLS handshake record");
}

#[test]
fn a_closed_port_is_a_transport_error() {
    let (_api, sandbox) = sandbox_for(&closed_port());
    let e = sandbox
        .process()
        .follow_entrypoint_logs(FollowOptions::new(), |_| {})
        .unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
}

#[test]
fn bad_arguments_fail_before_connecting() {
    let (_api, sandbox) = sandbox_for(&closed_port());
    let p = sandbox.process();
    let opts = FollowOptions::new;
    assert_invalid(vec![
        (
            p.stream_session_command_logs("", "c", opts()).unwrap_err(),
            "session_id",
        ),
        (
            p.stream_session_command_logs("s", " ", opts()).unwrap_err(),
            "command_id",
        ),
        (
            p.stream_entrypoint_logs(opts().idle_timeout(Duration::ZERO))
                .unwrap_err(),
            "idle_timeout",
        ),
        (
            p.stream_entrypoint_logs(opts().timeout(Duration::ZERO))
                .unwrap_err(),
            "timeout",
        ),
    ]);
}

#[test]
fn a_message_in_several_frames_is_one_piece_of_the_log() {
    // gorilla/websocket splits a message larger than its write buffer.
    let line = "x".repeat(10_000);
    let payload = format!("\x01\x01\x01{line}\n");
    let (url, _seen) = ws_server(move |ws| {
        ws_support::fragmented(ws, true, payload.as_bytes(), 3).unwrap();
        close(ws, 1000, "");
    });
    let (chunks, result) = follow(&url, FollowOptions::new());
    result.unwrap();
    assert_eq!(chunks, vec![out(&format!("{line}\n"))]);
}

#[test]
fn frames_that_come_with_a_long_upgrade_answer_are_kept() {
    // The answer to the upgrade and the whole log in one write: the frames
    // arrive with the head, whose many headers (up to what tungstenite
    // accepts) a proxy on the way may have added.
    let url = one_connection(|stream| {
        let Some(mut conn) = fault_server::Conn::accept(stream) else {
            return;
        };
        let key = conn.seen.header("sec-websocket-key").unwrap_or("");
        let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
        let mut out = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n"
        );
        for i in 0..80 {
            out.push_str(&format!("X-Proxy-{i}: on the way\r\n"));
        }
        out.push_str("\r\n");
        let mut out = out.into_bytes();
        let payload = b"\x01\x01\x01hello\n";
        out.extend_from_slice(&[0x82, payload.len() as u8]);
        out.extend_from_slice(payload);
        out.extend_from_slice(&[0x88, 0x02, 0x03, 0xE8]);
        let _ = conn.skip_head();
        let _ = conn.write_all(&out);
        // Until the client has gone.
        let mut rest = Vec::new();
        let _ = conn.read_to_end(&mut rest);
    });
    let (chunks, result) = follow(
        &format!("{url}/toolbox"),
        FollowOptions::new().idle_timeout(Duration::from_secs(2)),
    );
    result.unwrap();
    assert_eq!(chunks, vec![out("hello\n")]);
}

/// Follows a log whose server sends `frame` as it is, then closes: the
/// stream fails, with `why` in its report, and delivers nothing.
fn a_broken_frame_fails_the_log(frame: Vec<u8>, why: &str) {
    let (url, _seen) = ws_server(move |ws| {
        let _ = ws.get_mut().write_all(&frame);
        close(ws, 1000, "");
    });
    let (chunks, result) = follow(&url, FollowOptions::new());
    assert!(chunks.is_empty(), "{chunks:?}");
    let e = result.unwrap_err();
    assert!(e.is_transport(), "{e:?}");
    let report = e.report().to_string();
    // Said once, though the WebSocket library's error ends with its cause.
    assert_eq!(report.matches(why).count(), 1, "{report}");
}

#[test]
fn a_masked_frame_from_the_server_is_an_error_not_garbage() {
    // Only a client masks its frames: a server's masked frame is broken,
    // and its bytes, as they come, are not the log.
    let mask = [0x5A, 0xA5, 0x0F, 0xF0];
    let payload = b"\x01\x01\x01hello\n";
    let mut frame = vec![0x82, 0x80 | payload.len() as u8];
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    a_broken_frame_fails_the_log(frame, "masked");
}

#[test]
fn control_frames_the_protocol_forbids_are_errors() {
    // A ping of 200 bytes (control frames carry at most 125), answered
    // with as much otherwise.
    let mut frame = vec![0x89, 126, 0, 200];
    frame.extend_from_slice(&[b'p'; 200]);
    a_broken_frame_fails_the_log(frame, "Control frame too big");
    // A ping in two fragments.
    a_broken_frame_fails_the_log(vec![0x09, 1, b'p'], "Fragmented control frame");
}

#[test]
fn frames_of_unknown_types_are_errors_not_skipped() {
    // Opcodes 3 and 11 are reserved: no extension gives them a meaning,
    // and what they carry may be the log.
    let mut data = vec![0x83, 9];
    data.extend_from_slice(b"\x01\x01\x01hello\n");
    a_broken_frame_fails_the_log(data, "invalid opcode: 3");
    a_broken_frame_fails_the_log(vec![0x8B, 0], "invalid opcode: 11");
}

#[test]
fn a_compressed_frame_nobody_agreed_on_is_an_error_not_garbage() {
    // RSV1 marks a compressed message (permessage-deflate), which the
    // client never offered: its bytes are not the log.
    let payload = b"\x01\x01\x01hello\n";
    let mut frame = vec![0x82 | 0x40, payload.len() as u8];
    frame.extend_from_slice(payload);
    a_broken_frame_fails_the_log(frame, "Reserved bits");
}

#[test]
fn close_frames_the_protocol_forbids_are_errors_not_the_end_of_the_command() {
    // Half a close code.
    a_broken_frame_fails_the_log(vec![0x88, 1, 0x03], "Invalid close sequence");
    // Codes no endpoint may send (RFC 6455, 7.4): 1005 (no code), 1006
    // (closed without a close frame), 1015 (TLS failed), and numbers
    // outside the ranges of codes.
    for code in [1005u16, 1006, 1015, 999, 5000] {
        let mut frame = vec![0x88, 2];
        frame.extend(code.to_be_bytes());
        a_broken_frame_fails_the_log(frame, "Invalid close sequence");
    }
}
