//! The local simulator's toolbox handlers on malformed requests and
//! hostile sandbox contents: no handler panics, reads a host file or
//! hangs.
#![cfg(feature = "testing")]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use daytona::testing::LocalDaytona;
use daytona::toolbox::LspLanguage;
use daytona::CreateSandbox;

/// `method path` on the toolbox of `sandbox`, with `body`: the status and
/// the body of the answer (status 0 when the connection dropped without
/// one), waiting at most `wait`.
fn toolbox(
    local: &LocalDaytona,
    sandbox: &str,
    method: &str,
    path: &str,
    body: &str,
    wait: Duration,
) -> (u16, String) {
    let mut s = TcpStream::connect(local.addr()).unwrap();
    s.set_read_timeout(Some(wait)).unwrap();
    let head = format!(
        "{method} /toolbox/{sandbox}/{path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        local.addr(),
        local.api_key(),
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn an_accessibility_tree_of_the_lowest_depth_is_answered() {
    let local = LocalDaytona::builder().scripted().start().unwrap();
    let sandbox = local.client().create(CreateSandbox::new()).unwrap();
    sandbox.computer_use().start().unwrap();
    let wait = Duration::from_secs(10);
    let path = format!("computeruse/a11y/tree?maxDepth={}", i64::MIN);
    let (status, body) = toolbox(&local, sandbox.id(), "GET", &path, "", wait);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""name":"OK""#), "{body}");
}

/// A host-mode simulator with a sandbox holding the Python project
/// `/home/daytona/app` (`a.py` defines `inside_fn`), and the sandbox's
/// directory on the host.
fn python_project() -> (LocalDaytona, daytona::Sandbox, std::path::PathBuf) {
    let local = LocalDaytona::start().unwrap();
    let sandbox = local.client().create(CreateSandbox::new()).unwrap();
    sandbox
        .fs()
        .upload_bytes("def inside_fn():\n    pass\n", "/home/daytona/app/a.py")
        .unwrap();
    let dir = local.sandbox_dir(sandbox.id()).unwrap();
    (local, sandbox, dir)
}

#[cfg(unix)]
#[test]
fn sandbox_symbols_do_not_follow_links_out_of_the_sandbox() {
    let (_local, sandbox, dir) = python_project();
    let outside = dir
        .parent()
        .unwrap()
        .join(format!("{}-host.py", sandbox.id()));
    std::fs::write(&outside, "def host_secret_fn():\n    pass\n").unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("home/daytona/app/link.py")).unwrap();

    let lsp = sandbox.lsp_server(LspLanguage::Python, "/home/daytona/app");
    lsp.start().unwrap();
    let names = |query: &str| -> Vec<String> {
        let found = lsp.sandbox_symbols(query).unwrap();
        found.into_iter().map(|s| s.name).collect()
    };
    assert_eq!(names("_fn"), ["inside_fn"]);
    assert!(names("secret").is_empty());
    let _ = std::fs::remove_file(outside);
}

/// The project scan reads at most 2000 source files in all, however
/// many directories hold them.
#[test]
fn sandbox_symbols_scan_a_bounded_number_of_files_in_all() {
    let (_local, sandbox, dir) = python_project();
    let app = dir.join("home/daytona/app");
    // `a.py` and the first 1999 files of `b` (walked before `a`) reach the
    // limit: `a` is past it.
    std::fs::create_dir_all(app.join("b")).unwrap();
    for i in 0..2000 {
        std::fs::write(app.join(format!("b/m{i}.py")), "").unwrap();
    }
    std::fs::create_dir_all(app.join("a")).unwrap();
    std::fs::write(app.join("a/late.py"), "def late_fn():\n    pass\n").unwrap();
    let lsp = sandbox.lsp_server(LspLanguage::Python, "/home/daytona/app");
    lsp.start().unwrap();
    let found: Vec<String> = lsp
        .sandbox_symbols("_fn")
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(found, ["inside_fn"]);
}

#[cfg(unix)]
#[test]
fn a_pipe_named_like_a_source_file_holds_nothing_up() {
    let (local, sandbox, dir) = python_project();
    let pipe = dir.join("home/daytona/app/pipe.py");
    let made = std::process::Command::new("mkfifo").arg(&pipe).status();
    if !made.is_ok_and(|s| s.success()) {
        return; // no mkfifo on this machine
    }
    let lsp = sandbox.lsp_server(LspLanguage::Python, "/home/daytona/app");
    lsp.start().unwrap();
    let began = Instant::now();
    let wait = Duration::from_secs(10);
    let query = "lsp/workspacesymbols?query=fn&languageId=python&pathToProject=/home/daytona/app";
    let (status, body) = toolbox(&local, sandbox.id(), "GET", query, "", wait);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("inside_fn"), "{body}");
    let open = r#"{"languageId":"python","pathToProject":"/home/daytona/app",
                   "uri":"file:///home/daytona/app/pipe.py"}"#;
    let (status, body) = toolbox(&local, sandbox.id(), "POST", "lsp/did-open", open, wait);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("not a file"), "{body}");
    assert!(began.elapsed() < wait);
}

/// A WebSocket to `path` on the toolbox of `sandbox`, reads bounded.
fn websocket(local: &LocalDaytona, sandbox: &str, path: &str) -> Ws {
    use tungstenite::client::IntoClientRequest;
    let url = format!("ws://{}/toolbox/{sandbox}/{path}", local.addr());
    let mut request = url.into_client_request().unwrap();
    let auth = format!("Bearer {}", local.api_key()).parse().unwrap();
    request.headers_mut().insert("Authorization", auth);
    let stream = TcpStream::connect(local.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    tungstenite::client(request, stream).unwrap().0
}

type Ws = tungstenite::WebSocket<TcpStream>;

/// The text messages of `ws` until it closes, and the close code (None
/// when it dropped without a close frame).
fn messages(ws: &mut Ws) -> (Vec<String>, Option<u16>) {
    let mut texts = Vec::new();
    loop {
        match ws.read() {
            Ok(tungstenite::Message::Text(t)) => texts.push(t.to_string()),
            Ok(tungstenite::Message::Close(frame)) => {
                return (texts, frame.map(|f| u16::from(f.code)));
            }
            Ok(_) => {}
            Err(_) => return (texts, None),
        }
    }
}

/// A host-mode simulator and a sandbox, when this machine has `python3`
/// for the code interpreter.
fn host_interpreter() -> Option<(LocalDaytona, daytona::Sandbox)> {
    let python = std::process::Command::new("python3")
        .arg("-c")
        .arg("pass")
        .status();
    if !python.is_ok_and(|s| s.success()) {
        return None;
    }
    let local = LocalDaytona::start().unwrap();
    let sandbox = local.client().create(CreateSandbox::new()).unwrap();
    Some((local, sandbox))
}

#[test]
fn a_run_with_the_largest_timeout_runs() {
    let Some((local, sandbox)) = host_interpreter() else {
        return; // no python3 on this machine
    };
    // Past what an `Instant` holds, and past what the worker's timer does.
    for timeout in [u64::MAX, 1 << 40] {
        let mut ws = websocket(&local, sandbox.id(), "process/interpreter/execute");
        let request = format!(r#"{{"code": "print(6 * 7)", "timeout": {timeout}}}"#);
        ws.send(tungstenite::Message::text(request)).unwrap();
        let (texts, close) = messages(&mut ws);
        assert!(texts.iter().any(|t| t.contains("42")), "{texts:?}");
        assert!(!texts.iter().any(|t| t.contains("error")), "{texts:?}");
        assert_eq!(close, Some(1000), "{texts:?}");
    }
}

/// One huge `print` arrives as bounded messages, all of it in order.
#[test]
fn a_huge_print_comes_in_bounded_messages() {
    let Some((local, sandbox)) = host_interpreter() else {
        return; // no python3 on this machine
    };
    let mut ws = websocket(&local, sandbox.id(), "process/interpreter/execute");
    let code = r#"{"code": "print('x' * 1000000 + 'end')"}"#;
    ws.send(tungstenite::Message::text(code)).unwrap();
    let (texts, close) = messages(&mut ws);
    assert_eq!(close, Some(1000));
    let mut printed = String::new();
    for t in &texts {
        assert!(t.len() <= 8192, "a message of {} bytes", t.len());
        let message: serde_json::Value = serde_json::from_str(t).unwrap();
        if message["type"] == "stdout" {
            printed.push_str(message["text"].as_str().unwrap());
        }
    }
    assert_eq!(printed, format!("{}end\n", "x".repeat(1_000_000)));
}

#[test]
fn a_command_with_the_largest_timeout_runs() {
    let local = LocalDaytona::start().unwrap();
    let sandbox = local.client().create(CreateSandbox::new()).unwrap();
    let body = format!(r#"{{"command": "echo hi", "timeout": {}}}"#, u64::MAX);
    let wait = Duration::from_secs(10);
    let (status, answer) = toolbox(&local, sandbox.id(), "POST", "process/execute", &body, wait);
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains(r#""result":"hi\n""#), "{answer}");
}

#[cfg(unix)]
#[test]
fn a_terminal_whose_input_is_not_read_is_deleted_at_once() {
    let local = LocalDaytona::start().unwrap();
    let sandbox = local.client().create(CreateSandbox::new()).unwrap();
    let wait = Duration::from_secs(10);
    let (status, body) = toolbox(
        &local,
        sandbox.id(),
        "POST",
        "process/pty",
        r#"{"id":"t"}"#,
        wait,
    );
    assert_eq!(status, 201, "{body}");
    let mut ws = websocket(&local, sandbox.id(), "process/pty/t/connect");
    ws.send(tungstenite::Message::binary(
        b"stty raw -echo; sleep 30\n".to_vec(),
    ))
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // Far more than the terminal's input buffer, which nothing reads.
    for _ in 0..64 {
        ws.send(tungstenite::Message::binary(vec![b'x'; 16 << 10]))
            .unwrap();
    }
    std::thread::sleep(Duration::from_millis(500));
    let began = Instant::now();
    let (status, body) = toolbox(&local, sandbox.id(), "DELETE", "process/pty/t", "", wait);
    assert_eq!(status, 200, "{body}");
    assert!(began.elapsed() < Duration::from_secs(5));
    // Its client is told, and let go.
    let (_, close) = messages(&mut ws);
    assert_eq!(close, Some(1011));
}

#[test]
fn a_run_with_malformed_envs_keeps_its_context() {
    let Some((local, sandbox)) = host_interpreter() else {
        return; // no python3 on this machine
    };
    let run = |request: &str| {
        let mut ws = websocket(&local, sandbox.id(), "process/interpreter/execute");
        ws.send(tungstenite::Message::text(request)).unwrap();
        messages(&mut ws)
    };
    let (texts, close) = run(r#"{"code": "kept = 6 * 7"}"#);
    assert_eq!(close, Some(1000), "{texts:?}");
    for envs in [
        r#"["A"]"#,
        r#""A=1""#,
        r#"{"A=B": "1"}"#,
        r#"{"A\u0000": "1"}"#,
    ] {
        let (texts, _) = run(&format!(r#"{{"code": "print(1)", "envs": {envs}}}"#));
        assert!(
            !texts.iter().any(|t| t.contains(r#""stdout""#)),
            "{envs}: {texts:?}"
        );
    }
    let (texts, close) = run(r#"{"code": "print(kept)", "envs": {"A": "1"}}"#);
    assert!(texts.iter().any(|t| t.contains("42")), "{texts:?}");
    assert_eq!(close, Some(1000), "{texts:?}");
}

#[test]
fn a_client_talking_on_after_the_close_is_let_go() {
    let local = LocalDaytona::builder().scripted().start().unwrap();
    let sandbox = local.client().create(CreateSandbox::new()).unwrap();
    // The entrypoint's followed log: the server closes at once.
    let mut s = TcpStream::connect(local.addr()).unwrap();
    let head = format!(
        "GET /toolbox/{}/process/session/entrypoint/logs?follow=true HTTP/1.1\r\nHost: {}\r\n\
         Authorization: Bearer {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        sandbox.id(),
        local.addr(),
        local.api_key()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    let began = Instant::now();
    // A masked text frame ("hi", a zero mask) every 100 ms, for 4 s at
    // most: the server stops reading them and drops the connection.
    let frame = [0x81, 0x82, 0, 0, 0, 0, b'h', b'i'];
    let dropped = loop {
        if began.elapsed() > Duration::from_secs(4) {
            break false;
        }
        if s.write_all(&frame).is_err() {
            break true;
        }
        match s.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) => {}
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = String::from_utf8_lossy(&seen);
    assert!(text.starts_with("HTTP/1.1 101"), "{text}");
    assert!(dropped, "the connection was kept for 4 s");
    assert!(began.elapsed() < Duration::from_secs(3));
}
