//! The local simulator is safe to leave running: its own random key, only
//! requests for its own loopback address, bounded connections and requests;
//! and it answers like the real API (reason phrases, 401 on a wrong key).
#![cfg(feature = "testing")]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use daytona::testing::LocalDaytona;
use daytona::{CreateSandbox, Daytona, ListSandboxes, Resize};

fn local() -> LocalDaytona {
    LocalDaytona::builder()
        .scripted()
        .start()
        .expect("simulator")
}

/// Sends `head` (and `body`) on a new connection; the answer until the
/// server closes or 2 s pass.
fn raw(local: &LocalDaytona, head: &str, body: &[u8]) -> String {
    let mut s = TcpStream::connect(local.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
        // One whole answer with a body is enough.
        let text = String::from_utf8_lossy(&out);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head.lines().find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
            });
            if len.is_some_and(|len| body.len() >= len) {
                break;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A sandbox whose client gives up on a request after 10 s (a server
/// thread that never answers fails the test instead of hanging it).
fn patient_sandbox(local: &LocalDaytona) -> daytona::Sandbox {
    let daytona = Daytona::new(local.config().request_timeout(Duration::from_secs(10))).unwrap();
    daytona.create(CreateSandbox::new()).unwrap()
}

fn get(local: &LocalDaytona, path: &str, host: &str, key: &str) -> String {
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n\
         Connection: close\r\n\r\n"
    );
    raw(local, &head, b"")
}

#[test]
fn a_wrong_key_gets_401() {
    let local = local();
    let wrong = Daytona::new(local.config().api_key("not-the-key")).unwrap();
    let e = wrong.create(CreateSandbox::new()).unwrap_err();
    assert!(e.is_unauthorized(), "{e:?}");
    assert!(!e.is_not_found());
    // Also a key that is the right one with a byte more, or a prefix of it.
    let host = local.addr().to_string();
    let longer = format!("{}0", local.api_key());
    let answer = get(&local, "/api/sandbox", &host, &longer);
    assert!(
        answer.starts_with("HTTP/1.1 401 Unauthorized\r\n"),
        "{answer}"
    );
    let prefix = &local.api_key()[..10];
    let answer = get(&local, "/api/sandbox", &host, prefix);
    assert!(
        answer.starts_with("HTTP/1.1 401 Unauthorized\r\n"),
        "{answer}"
    );
    // The toolbox is guarded the same way.
    let answer = get(&local, "/toolbox/x/files", &host, "nope");
    assert!(
        answer.starts_with("HTTP/1.1 401 Unauthorized\r\n"),
        "{answer}"
    );
    assert!(answer.contains(r#""error":"Unauthorized""#), "{answer}");
    // Refused requests are not recorded.
    assert!(local.requests().is_empty(), "{:?}", local.requests());
    // The right key, raw, works.
    let answer = get(&local, "/api/sandbox", &host, local.api_key());
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
}

#[test]
fn a_foreign_host_is_refused() {
    let local = local();
    let port = local.addr().port();
    let key = local.api_key().to_string();
    for host in [
        format!("evil.example:{port}"),
        format!("localhost.evil.example:{port}"),
        "127.0.0.1".to_string(),
        format!("127.0.0.1:{}", port.wrapping_add(1)),
    ] {
        let answer = get(&local, "/api/sandbox", &host, &key);
        assert!(
            answer.starts_with("HTTP/1.1 421 Misdirected Request\r\n"),
            "{host}: {answer}"
        );
    }
    // No Host at all.
    let answer = raw(
        &local,
        &format!("GET /api/sandbox HTTP/1.1\r\nAuthorization: Bearer {key}\r\n\r\n"),
        b"",
    );
    assert!(answer.starts_with("HTTP/1.1 421 "), "{answer}");
    assert!(local.requests().is_empty());
    // The client (and so the SDK's own Host) passes.
    let page = local.client().list_page(ListSandboxes::new()).unwrap();
    assert!(page.items.is_empty());
}

#[test]
fn two_instances_have_different_keys() {
    let a = local();
    let b = local();
    assert_ne!(a.api_key(), b.api_key());
    assert_eq!(a.api_key().len(), 64);
    assert!(a.api_key().bytes().all(|c| c.is_ascii_hexdigit()));
    // Each client works on its own instance.
    a.client().create(CreateSandbox::new()).unwrap();
    b.client().create(CreateSandbox::new()).unwrap();
    // a's key on b: 401.
    let crossed = Daytona::new(b.config().api_key(a.api_key())).unwrap();
    let e = crossed.list_page(ListSandboxes::new()).unwrap_err();
    assert!(e.is_unauthorized(), "{e:?}");
    // The key is not shown by Debug.
    assert!(!format!("{a:?}").contains(a.api_key()));
}

#[test]
fn bodies_and_heads_are_bounded() {
    let local = local();
    let host = local.addr().to_string();
    let key = local.api_key().to_string();
    // A declared body past the limit is refused before it is read.
    let head = format!(
        "POST /api/sandbox HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n\
         Content-Length: 100000000000\r\n\r\n"
    );
    let answer = raw(&local, &head, b"{}");
    assert!(
        answer.starts_with("HTTP/1.1 413 Payload Too Large\r\n"),
        "{answer}"
    );
    // So is a chunked one that grows past it.
    let head = format!(
        "POST /api/sandbox HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n\
         Transfer-Encoding: chunked\r\n\r\nffffffffff\r\n"
    );
    let answer = raw(&local, &head, b"");
    assert!(
        answer.starts_with("HTTP/1.1 413 Payload Too Large\r\n"),
        "{answer}"
    );
    // A huge header line, or too many of them.
    let long = "x".repeat(70 * 1024);
    let answer = raw(
        &local,
        &format!("GET /api/sandbox HTTP/1.1\r\nX-Long: {long}\r\n\r\n"),
        b"",
    );
    assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
    let many: String = (0..200).map(|i| format!("X-{i}: y\r\n")).collect();
    let answer = raw(
        &local,
        &format!("GET /api/sandbox HTTP/1.1\r\n{many}\r\n"),
        b"",
    );
    assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
    // The simulator still serves.
    local.client().list_page(ListSandboxes::new()).unwrap();
}

#[test]
fn connections_are_bounded() {
    let local = local();
    // Hold many idle connections open, each answered once (so that each is
    // being served before the next opens).
    let host = local.addr().to_string();
    let key = local.api_key().to_string();
    let mut held = Vec::new();
    let mut refused = None;
    for _ in 0..200 {
        let mut s = TcpStream::connect(local.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let head = format!(
            "GET /api/sandbox HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n\r\n"
        );
        let _ = s.write_all(head.as_bytes());
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).unwrap_or(0);
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        if text.starts_with("HTTP/1.1 503 ") {
            refused = Some(held.len());
            break;
        }
        assert!(text.starts_with("HTTP/1.1 200 "), "{text}");
        held.push(s);
    }
    let served = refused.expect("some connection is refused");
    assert!((64..=128).contains(&served), "{served}");
    // Closing them makes room again.
    drop(held);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        match local.client().list_page(ListSandboxes::new()) {
            Ok(_) => break,
            Err(e) if std::time::Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("{e:?}"),
        }
    }
}

#[test]
fn reason_phrases_follow_the_status() {
    let local = local();
    let host = local.addr().to_string();
    let answer = get(
        &local,
        "/api/sandbox/no-such-sandbox",
        &host,
        local.api_key(),
    );
    assert!(answer.starts_with("HTTP/1.1 404 Not Found\r\n"), "{answer}");
    assert!(answer.contains(r#""error":"Not Found""#), "{answer}");
    assert!(answer.contains(r#""statusCode":404"#), "{answer}");
    let e = local.client().get("no-such-sandbox").unwrap_err();
    assert!(e.is_not_found(), "{e:?}");
}

#[test]
fn session_commands_keep_stdout_and_stderr_apart() {
    let local = LocalDaytona::start().expect("simulator");
    let sandbox = local.client().create(CreateSandbox::new()).unwrap();
    let p = sandbox.process();
    p.create_session("s").unwrap();
    let command = "echo to-out; echo to-err >&2; exit 3";
    let out = p
        .execute_session_command("s", command, Default::default())
        .unwrap();
    assert_eq!(out.exit_code, Some(3));
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        ("to-out\n", "to-err\n")
    );
    let both = out.output.unwrap_or_default();
    assert!(
        both.contains("to-out\n") && both.contains("to-err\n"),
        "{both:?}"
    );
    let logs = p.get_session_command_logs("s", &out.cmd_id).unwrap();
    assert_eq!(
        (logs.stdout.as_str(), logs.stderr.as_str()),
        ("to-out\n", "to-err\n")
    );
    // exec still answers both together, in the order written.
    let run = p.exec("echo a; echo b >&2; echo c").unwrap();
    assert_eq!(run.result, "a\nb\nc\n");
}

#[test]
fn pause_and_start_again() {
    let local = local();
    let mut sandbox = local.client().create(CreateSandbox::new()).unwrap();
    sandbox.pause().unwrap();
    assert_eq!(sandbox.state(), Some(&daytona::SandboxState::Paused));
    // Pausing a paused sandbox is a no-op; a stopped one cannot pause.
    sandbox.pause().unwrap();
    sandbox.start().unwrap();
    assert_eq!(sandbox.state(), Some(&daytona::SandboxState::Started));
    sandbox.stop().unwrap();
    let e = sandbox.pause().unwrap_err();
    assert!(e.is_conflict(), "{e:?}");
}

#[test]
fn what_is_not_simulated_answers_501_naming_it() {
    let local = local();
    let host = local.addr().to_string();
    let answer = raw(
        &local,
        &format!(
            "POST /api/sandbox/x/no-such-operation HTTP/1.1\r\nHost: {host}\r\n\
             Authorization: Bearer {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            local.api_key()
        ),
        b"",
    );
    assert!(
        answer.starts_with("HTTP/1.1 501 Not Implemented\r\n"),
        "{answer}"
    );
    assert!(
        answer.contains("POST /api/sandbox/x/no-such-operation is not simulated"),
        "{answer}"
    );
    // Through the SDK: not a "not found".
    let sandbox = local.client().create(CreateSandbox::new()).unwrap();
    let e = sandbox.git().status("repo").unwrap_err();
    assert_eq!(e.status(), Some(501), "{e:?}");
    assert!(!e.is_not_found());
    assert!(
        e.to_string()
            .contains("git status runs this machine's git: not served in scripted mode"),
        "{e}"
    );
    let answer = get(&local, "/api/volumes/x/nothing", &host, local.api_key());
    assert!(
        answer.contains("GET /api/volumes/x/nothing is not simulated"),
        "{answer}"
    );
}

#[test]
fn resize_changes_the_resources() {
    let local = local();
    let mut sandbox = local.client().create(CreateSandbox::new()).unwrap();
    sandbox.resize(Resize::new().cpu(4).memory(8)).unwrap();
    assert_eq!(sandbox.state(), Some(&daytona::SandboxState::Started));
    let fresh = local.client().get(sandbox.id()).unwrap();
    assert_eq!((fresh.info().cpu, fresh.info().memory), (4, 8));
    // The disk grows only while stopped.
    let e = sandbox.resize(Resize::new().disk(50)).unwrap_err();
    assert_eq!(e.status(), Some(400), "{e:?}");
    sandbox.stop().unwrap();
    sandbox.resize(Resize::new().disk(50)).unwrap();
    assert_eq!(sandbox.state(), Some(&daytona::SandboxState::Stopped));
    let fresh = local.client().get(sandbox.id()).unwrap();
    assert_eq!(fresh.info().disk, 50);
    let e = sandbox.resize(Resize::new().disk(10)).unwrap_err();
    assert_eq!(e.status(), Some(400), "{e:?}");
    // Not while it is being changed.
    assert!(local.force_state(sandbox.id(), "archiving", None));
    let e = sandbox.resize(Resize::new().cpu(2)).unwrap_err();
    assert!(e.is_conflict(), "{e:?}");
}

#[test]
fn fork_is_a_new_started_sandbox_with_a_copy_of_the_files() {
    let local = local();
    let daytona = local.client();
    let mut sandbox = daytona.create(CreateSandbox::new()).unwrap();
    sandbox
        .fs()
        .upload_bytes(b"kept", "/home/daytona/a.txt")
        .unwrap();
    let fork = sandbox.experimental_fork(Some("the-fork")).unwrap();
    assert_ne!(fork.id(), sandbox.id());
    assert_eq!(fork.info().name, "the-fork");
    assert_eq!(fork.state(), Some(&daytona::SandboxState::Started));
    assert_eq!(
        fork.fs().download_bytes("/home/daytona/a.txt").unwrap(),
        b"kept"
    );
    // The copy is its own: changing it leaves the source as it was.
    fork.fs()
        .upload_bytes(b"changed", "/home/daytona/a.txt")
        .unwrap();
    assert_eq!(
        sandbox.fs().download_bytes("/home/daytona/a.txt").unwrap(),
        b"kept"
    );
    // The name is taken now; a stopped sandbox cannot fork.
    let e = sandbox.experimental_fork(Some("the-fork")).unwrap_err();
    assert!(e.is_conflict(), "{e:?}");
    sandbox.stop().unwrap();
    let e = sandbox.experimental_fork(None).unwrap_err();
    assert!(e.is_conflict(), "{e:?}");
}

#[test]
fn network_settings_are_kept() {
    let local = local();
    let daytona = local.client();
    let mut sandbox = daytona.create(CreateSandbox::new()).unwrap();
    let settings = daytona::NetworkSettings::new()
        .block_all(true)
        .allow_list("10.0.0.0/8");
    sandbox.update_network_settings(settings).unwrap();
    assert_eq!(sandbox.info().network_block_all, Some(true));
    let fresh = daytona.get(sandbox.id()).unwrap();
    assert_eq!(fresh.info().network_block_all, Some(true));
    assert_eq!(
        fresh.info().network_allow_list.as_deref(),
        Some("10.0.0.0/8")
    );
    // Only the fields given change.
    let settings = daytona::NetworkSettings::new().domain_allow_list("example.com");
    sandbox.update_network_settings(settings).unwrap();
    let fresh = daytona.get(sandbox.id()).unwrap();
    assert_eq!(fresh.info().network_block_all, Some(true));
    assert_eq!(
        fresh.info().domain_allow_list.as_deref(),
        Some("example.com")
    );
}

#[test]
fn ssh_access_is_created_validated_and_revoked() {
    let local = local();
    let daytona = local.client();
    let mut sandbox = daytona.create(CreateSandbox::new()).unwrap();
    let a = sandbox.create_ssh_access(None).unwrap();
    let b = sandbox
        .create_ssh_access(Some(Duration::from_secs(120)))
        .unwrap();
    assert_eq!(a.sandbox_id, sandbox.id());
    assert_ne!(a.token, b.token);
    let v = daytona.validate_ssh_access(&a.token).unwrap();
    assert!(v.valid);
    assert_eq!(v.sandbox_id, sandbox.id());
    assert!(!daytona.validate_ssh_access("not-a-token").unwrap().valid);
    // Revoking one leaves the other; revoking all ends both.
    sandbox.revoke_ssh_access(Some(&a.token)).unwrap();
    assert!(!daytona.validate_ssh_access(&a.token).unwrap().valid);
    assert!(daytona.validate_ssh_access(&b.token).unwrap().valid);
    sandbox.revoke_ssh_access(None).unwrap();
    assert!(!daytona.validate_ssh_access(&b.token).unwrap().valid);
}

#[test]
fn a_name_holding_a_slash_stays_one_path_segment() {
    // Snapshot names are image-like (`team/py:3.12`); the SDK sends such a
    // name as one segment (`team%2Fpy%3A3.12`), as the API reads it.
    let local = local();
    let daytona = local.client();
    let snapshots = daytona.snapshots();
    let made = snapshots
        .create(daytona::CreateSnapshot::from_image(
            "team/py:3.12",
            "python:3.12",
        ))
        .unwrap();
    let got = snapshots.get("team/py:3.12").unwrap();
    assert_eq!(
        (got.id.as_str(), got.name.as_str()),
        (made.id.as_str(), "team/py:3.12")
    );
    snapshots.delete(&got).unwrap();
}

#[test]
fn a_search_pattern_of_many_stars_is_answered_at_once() {
    let local = local();
    let sandbox = patient_sandbox(&local);
    let fs = sandbox.fs();
    let long = "a".repeat(200);
    fs.upload_bytes(b"x", &format!("/data/{long}")).unwrap();
    fs.upload_bytes(b"x", "/data/a_b.rs").unwrap();
    fs.upload_bytes(b"x", "/data/aaaaaaaaaab.txt").unwrap();
    let began = std::time::Instant::now();
    let found = fs.search_files("/data", "*a*a*a*a*a*a*a*a*a*a*b*").unwrap();
    assert_eq!(found, ["/data/aaaaaaaaaab.txt"]);
    assert!(
        began.elapsed() < Duration::from_secs(2),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(fs.search_files("/data", "a?b.*").unwrap(), ["/data/a_b.rs"]);
    assert_eq!(fs.search_files("/data", "*").unwrap().len(), 3);
    assert!(fs.search_files("/data", "a*c").unwrap().is_empty());
}

#[test]
fn bulk_download_names_each_part_as_the_toolbox_does() {
    // The exact path in `filename*` (RFC 5987), a Latin-1 fallback with `_`
    // past Latin-1 in `filename`: `/d/日.txt` and `/d/_.txt` share the
    // fallback and are told apart by `filename*` only.
    let local = local();
    let daytona = local.client();
    let sandbox = daytona.create(CreateSandbox::new()).unwrap();
    let fs = sandbox.fs();
    let names = ["/d/日.txt", "/d/_.txt", "/d/é.txt", "/d/a b\".txt"];
    for (i, name) in names.iter().enumerate() {
        fs.upload_bytes(format!("file {i}").as_bytes(), name)
            .unwrap();
    }

    let body = r#"{"paths":["/d/日.txt","/missing"]}"#;
    let head = format!(
        "POST /toolbox/{}/files/bulk-download HTTP/1.1\r\nHost: {}\r\n\
         Authorization: Bearer {}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        sandbox.id(),
        local.addr(),
        local.api_key(),
        body.len()
    );
    let answer = raw(&local, &head, body.as_bytes());
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(
        answer.contains(
            "name=\"file\"; filename=\"/d/_.txt\"; filename*=UTF-8''%2Fd%2F%E6%97%A5.txt\r\n"
        ),
        "{answer}"
    );
    assert!(
        answer.contains("name=\"error\"; filename=\"/missing\"; filename*=UTF-8''%2Fmissing\r\n"),
        "{answer}"
    );

    // The SDK reads them back, each to its own path.
    let results = fs
        .download_files(
            names
                .iter()
                .map(|n| daytona::toolbox::Download::to_bytes(*n)),
            daytona::toolbox::TransferOptions::new(),
        )
        .unwrap();
    for (i, r) in results.iter().enumerate() {
        assert_eq!(
            r.result.as_ref().unwrap(),
            &daytona::toolbox::Downloaded::Bytes(format!("file {i}").into_bytes()),
            "{}",
            r.remote_path
        );
    }
}

#[test]
fn a_multipart_part_without_headers_is_answered() {
    // A part whose head is empty (`--b`, then a blank line) is no file part:
    // 400, and the connection is answered rather than dropped.
    let local = local();
    let sandbox = local.client().create(CreateSandbox::new()).unwrap();
    let body = b"--b\r\n\r\nxx\r\n--b--\r\n";
    let head = format!(
        "POST /toolbox/{}/files/upload?path=/x HTTP/1.1\r\nHost: {}\r\n\
         Authorization: Bearer {}\r\nContent-Type: multipart/form-data; boundary=b\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        sandbox.id(),
        local.addr(),
        local.api_key(),
        body.len()
    );
    let answer = raw(&local, &head, body);
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer}"
    );
    assert!(answer.contains("no file part"), "{answer}");
}

#[test]
fn toolbox_errors_have_the_daemon_shape() {
    // The daemon answers `{statusCode, message, code}` with codes such as
    // `NOT_FOUND`; the API (and the proxy in front of the toolbox) answers
    // `{statusCode, message, error}`.
    let local = local();
    let daytona = local.client();
    let sandbox = daytona.create(CreateSandbox::new()).unwrap();
    let e = sandbox.fs().get_file_info("/nope").unwrap_err();
    let api = e.api().expect("an API error");
    assert_eq!((api.status, api.code.as_deref()), (404, Some("NOT_FOUND")));
    let e = sandbox.fs().get_file_info("/../x").unwrap_err();
    assert_eq!(
        e.api().unwrap().code.as_deref(),
        Some("BAD_REQUEST"),
        "{e:?}"
    );
    // An unknown sandbox is the proxy's answer, of the API's shape.
    let host = local.addr().to_string();
    let answer = get(&local, "/toolbox/no-such/files", &host, local.api_key());
    assert!(answer.contains(r#""error":"Not Found""#), "{answer}");
}

#[cfg(unix)]
#[test]
fn the_files_of_sandboxes_are_for_this_user_only() {
    // They live in the shared temporary directory: its other users must
    // not read what a test uploads.
    use std::os::unix::fs::PermissionsExt;
    let local = local();
    let sandbox = local.client().create(CreateSandbox::new()).unwrap();
    let dir = local.sandbox_dir(sandbox.id()).unwrap();
    let root = dir.parent().and_then(|d| d.parent()).unwrap();
    let mode = std::fs::metadata(root).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700, "{mode:o}");
}

#[cfg(unix)]
#[test]
fn a_link_out_of_the_sandbox_is_not_followed() {
    // A link's target is a path of the sandbox in Daytona: the host's files
    // around the simulator are neither read nor written through it.
    let local = local();
    let sandbox = local.client().create(CreateSandbox::new()).unwrap();
    let fs = sandbox.fs();
    fs.upload_bytes(b"inside", "/data/a.txt").unwrap();
    let dir = local.sandbox_dir(sandbox.id()).unwrap();
    let outside = dir
        .parent()
        .unwrap()
        .join(format!("{}-outside", sandbox.id()));
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("secret"), b"host").unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("data/out")).unwrap();
    std::os::unix::fs::symlink("a.txt", dir.join("data/in")).unwrap();

    let e = fs.download_bytes("/data/out/secret").unwrap_err();
    assert_eq!(e.status(), Some(400), "{e:?}");
    let e = fs.upload_bytes(b"x", "/data/out/new").unwrap_err();
    assert_eq!(e.status(), Some(400), "{e:?}");
    assert!(!outside.join("new").exists());
    // A link within the sandbox is followed.
    assert_eq!(fs.download_bytes("/data/in").unwrap(), b"inside");
}

#[cfg(unix)]
#[test]
fn find_does_not_follow_links() {
    // Two links back up (`a -> .`, `b -> .`) made the walk endless.
    let local = local();
    let sandbox = patient_sandbox(&local);
    let fs = sandbox.fs();
    fs.upload_bytes(b"TODO", "/data/x.txt").unwrap();
    let dir = local.sandbox_dir(sandbox.id()).unwrap().join("data");
    std::os::unix::fs::symlink(".", dir.join("a")).unwrap();
    std::os::unix::fs::symlink(".", dir.join("b")).unwrap();
    let found = fs.find_files("/data", "TODO").unwrap();
    let files: Vec<&str> = found.iter().map(|m| m.file.as_str()).collect();
    assert_eq!(files, ["/data/x.txt"]);
}
