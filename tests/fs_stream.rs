//! Transfers against a raw HTTP/1.1 server: bytes must flow while the
//! other side is still sending (both directions), a connection cut in the
//! middle of a part must fail cleanly, and transfers keep their own timeout.

mod common;
mod fault_server;
mod fs_support;
mod temp;

use std::io::{self, Read, Write};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::Duration;

use common::*;
use fs_support::*;
use temp::TempDir;

use daytona::toolbox::{Download, TransferOptions};
use daytona::{Daytona, Error};
use mockito::Server;

/// How long a side waits for the other before giving up (and failing the
/// test instead of hanging).
const PATIENCE: Duration = Duration::from_secs(10);

/// Several MiB of bytes that are not all alike.
fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 4096) as u8).collect()
}

/// A writer that says when its first bytes arrive.
struct Signalling {
    first: Option<Sender<()>>,
    data: Vec<u8>,
}

impl Write for Signalling {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.data.extend_from_slice(buf);
        if !buf.is_empty() {
            if let Some(tx) = self.first.take() {
                let _ = tx.send(());
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_download_reaches_the_writer_before_the_server_has_sent_it_all() {
    let data = payload(6 * 1024 * 1024);
    let answer = multipart_answer(&[("file", "/big.bin", &data)], true);
    let (tx, rx) = channel();
    let (url, server_thread) = raw_server(move |conn| {
        assert_eq!(
            conn.seen.line,
            "POST /toolbox/sb-1/files/bulk-download HTTP/1.1"
        );
        assert_eq!(
            conn.seen.header("authorization"),
            Some(format!("Bearer {KEY}").as_str())
        );
        assert_eq!(conn.seen.header("x-daytona-source"), Some("sdk-rust"));
        assert_eq!(conn.seen.header("content-type"), Some("application/json"));
        assert_eq!(conn.body().unwrap(), br#"{"paths":["/big.bin"]}"#);
        chunked_head(conn, &multipart_type());
        let (first, second) = answer.split_at(answer.len() / 2);
        for piece in first.chunks(64 * 1024) {
            chunk(conn, piece).unwrap();
        }
        // Hold the second half back until the writer has seen bytes.
        let arrived_early = rx.recv_timeout(PATIENCE).is_ok();
        for piece in second.chunks(64 * 1024) {
            chunk(conn, piece).unwrap();
        }
        last_chunk(conn);
        arrived_early
    });
    let mut api = Server::new();
    let daytona = client(&api);
    let sandbox = sandbox_at(&mut api, &daytona, &format!("{url}/toolbox"));
    let mut writer = Signalling {
        first: Some(tx),
        data: Vec::new(),
    };
    let n = sandbox.fs().download_to("/big.bin", &mut writer).unwrap();
    assert!(
        server_thread.join().unwrap(),
        "the writer got no bytes while the server held back the second half"
    );
    assert_eq!(n, data.len() as u64);
    assert!(writer.data == data, "the bytes arrive intact");
}

/// A reader that yields `first`, then waits for the server to have seen
/// bytes before yielding `rest`.
struct Gated {
    first: io::Cursor<Vec<u8>>,
    gate: Option<Receiver<()>>,
    opened: Sender<bool>,
    rest: io::Cursor<Vec<u8>>,
}

impl Read for Gated {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.first.read(buf)?;
        if n > 0 {
            return Ok(n);
        }
        if let Some(gate) = self.gate.take() {
            let _ = self.opened.send(gate.recv_timeout(PATIENCE).is_ok());
        }
        self.rest.read(buf)
    }
}

#[test]
fn an_upload_reaches_the_server_before_the_source_is_exhausted() {
    let data = payload(4 * 1024 * 1024);
    let (first, rest) = data.split_at(data.len() / 2);
    let (gate_tx, gate_rx) = channel();
    let (url, server_thread) = raw_server(move |conn| {
        assert_eq!(
            conn.seen.line,
            "POST /toolbox/sb-1/files/bulk-upload HTTP/1.1"
        );
        assert_eq!(conn.seen.header("transfer-encoding"), Some("chunked"));
        let ctype = conn.seen.header("content-type").unwrap().to_string();
        let mut body = Vec::new();
        let mut signalled = false;
        while let Some(c) = conn.chunk() {
            body.extend_from_slice(&c);
            if !signalled && body.len() > 1024 * 1024 {
                let _ = gate_tx.send(());
                signalled = true;
            }
        }
        conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n{\"files\":[]}")
            .unwrap();
        (ctype, body)
    });
    let mut api = Server::new();
    let daytona = client(&api);
    let sandbox = sandbox_at(&mut api, &daytona, &format!("{url}/toolbox"));
    let (opened_tx, opened_rx) = channel();
    let reader = Gated {
        first: io::Cursor::new(first.to_vec()),
        gate: Some(gate_rx),
        opened: opened_tx,
        rest: io::Cursor::new(rest.to_vec()),
    };
    sandbox.fs().upload_reader(reader, "/up.bin").unwrap();
    assert!(
        opened_rx.recv().unwrap(),
        "the server got no bytes before the source gave its second half"
    );
    let (ctype, body) = server_thread.join().unwrap();
    let parts = parse_multipart(&ctype, &body);
    assert_eq!(parts[0].data, b"/up.bin");
    assert!(parts[1].data == data, "the bytes arrive intact");
}

#[test]
fn a_connection_cut_in_a_part_fails_and_leaves_no_file() {
    let answer = multipart_answer(&[("file", "/cut.bin", &payload(1024 * 1024))], true);
    let (url, server_thread) = raw_server(move |conn| {
        chunked_head(conn, &multipart_type());
        chunk(conn, &answer[..answer.len() / 2]).unwrap();
        // Close without the last chunk.
    });
    let mut api = Server::new();
    let daytona = client(&api);
    let sandbox = sandbox_at(&mut api, &daytona, &format!("{url}/toolbox"));
    let dir = TempDir::new("cut");
    let target = dir.join("sub/cut.bin");
    let err = sandbox.fs().download_file("/cut.bin", &target).unwrap_err();
    server_thread.join().unwrap();
    assert!(
        matches!(err, Error::Transport { .. } | Error::Decode { .. }),
        "{err:?}"
    );
    assert!(!target.exists());
    assert!(
        dir_entries(&dir.join("sub")).is_empty(),
        "no temporary file left"
    );
}

/// A sandbox whose toolbox answers one bulk download with `answer`.
fn answering_downloads(answer: Vec<u8>) -> (mockito::ServerGuard, daytona::Sandbox, mockito::Mock) {
    let mut api = Server::new();
    let daytona = client(&api);
    let sandbox = toolbox_sandbox(&mut api, &daytona);
    let m = api_mock(&mut api, "POST", &files_path("/bulk-download"))
        .with_header("content-type", &multipart_type())
        .with_body(answer)
        .expect(1)
        .create();
    (api, sandbox, m)
}

/// A bulk-download answer of one file part, `remote` holding `data`, whose
/// `Content-Length` says `announced`.
fn one_part_announcing(remote: &str, data: &[u8], announced: usize) -> Vec<u8> {
    let answer = multipart_answer(&[("file", remote, data)], true);
    let true_length = format!("Content-Length: {}\r\n", data.len());
    let at = answer
        .windows(true_length.len())
        .position(|w| w == true_length.as_bytes())
        .expect("the part's length");
    [
        &answer[..at],
        format!("Content-Length: {announced}\r\n").as_bytes(),
        &answer[at + true_length.len()..],
    ]
    .concat()
}

/// A part that ends at its boundary with fewer bytes than its
/// `Content-Length` announced (the rest lost upstream) fails the file and
/// leaves nothing that looks complete; the whole answer came, so it is
/// not sent again.
#[test]
fn a_part_shorter_than_it_announced_fails_and_leaves_no_file() {
    let data = payload(4096);
    // Announce one more byte than the part carries.
    let answer = one_part_announcing("/short.bin", &data, data.len() + 1);
    let (_api, sandbox, m) = answering_downloads(answer);
    let dir = TempDir::new("short");
    let target = dir.join("sub/short.bin");
    let err = sandbox
        .fs()
        .download_file("/short.bin", &target)
        .unwrap_err();
    m.assert();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert!(err.to_string().contains("4096 of the 4097 bytes"), "{err}");
    assert!(!target.exists());
    assert!(
        dir_entries(&dir.join("sub")).is_empty(),
        "no temporary file left"
    );
}

/// A part with more bytes than its `Content-Length` announced is a file
/// that grew while the toolbox read it (a log being written): it is saved
/// whole, and the progress never shows more bytes than the total.
#[test]
fn a_part_longer_than_it_announced_is_a_file_that_grew_and_is_kept() {
    let data = payload(4096);
    let answer = one_part_announcing("/grew.log", &data, 1000);
    let (_api, sandbox, m) = answering_downloads(answer);
    let dir = TempDir::new("grew");
    let target = dir.join("grew.log");
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = std::sync::Arc::clone(&seen);
    let got = sandbox
        .fs()
        .download(
            Download::to_file("/grew.log", &target),
            TransferOptions::new().progress(move |p| log.lock().unwrap().push((p.bytes, p.total))),
        )
        .unwrap();
    m.assert();
    assert_eq!(got.size(), 4096);
    assert_eq!(std::fs::read(&target).unwrap(), data);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.last(), Some(&(4096, Some(4096))));
    assert!(
        seen.iter()
            .all(|(bytes, total)| total.is_some_and(|t| t >= *bytes)),
        "{seen:?}"
    );
}

/// A target whose name is near the file system's 255-byte limit is
/// written through a temporary name that fits too.
#[test]
fn a_download_to_a_name_of_250_bytes_succeeds() {
    let data = payload(1000);
    let answer = multipart_answer(&[("file", "/long.bin", &data)], true);
    let (_api, sandbox, m) = answering_downloads(answer);
    let dir = TempDir::new("long");
    // Two-byte characters, so that the temporary name's cut must fall on
    // a character boundary.
    let name = format!("{}.bin", "é".repeat(123));
    assert_eq!(name.len(), 250);
    let target = dir.join(&name);
    let size = sandbox.fs().download_file("/long.bin", &target).unwrap();
    m.assert();
    assert_eq!(size, 1000);
    assert_eq!(std::fs::read(&target).unwrap(), data);
    assert_eq!(dir_entries(&dir), vec![name], "no temporary file left");
}

/// A server that answers the head of a download, then stalls until the
/// test ends.
fn stalling_server() -> (String, Sender<()>, std::thread::JoinHandle<()>) {
    let (done_tx, done_rx) = channel::<()>();
    let (url, thread) = raw_server(move |conn| {
        chunked_head(conn, &multipart_type());
        chunk(conn, format!("--{BOUNDARY}\r\n").as_bytes()).unwrap();
        let _ = done_rx.recv_timeout(PATIENCE);
    });
    (url, done_tx, thread)
}

#[test]
fn a_transfer_gives_up_after_its_own_timeout() {
    let (url, done, thread) = stalling_server();
    let mut api = Server::new();
    let daytona = client(&api);
    let sandbox = sandbox_at(&mut api, &daytona, &format!("{url}/toolbox"));
    let err = sandbox
        .fs()
        .download(
            daytona::toolbox::Download::to_writer("/slow", io::sink()),
            TransferOptions::new().timeout(Duration::from_millis(300)),
        )
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    done.send(()).unwrap();
    thread.join().unwrap();
}

#[test]
fn the_client_transfer_timeout_is_the_default() {
    let mut api = Server::new();
    let daytona = Daytona::new(config(&api).transfer_timeout(Duration::from_millis(300))).unwrap();

    let (url, done, thread) = stalling_server();
    let sandbox = sandbox_at(&mut api, &daytona, &format!("{url}/toolbox"));
    let err = sandbox.fs().download_bytes("/slow").unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    done.send(()).unwrap();
    thread.join().unwrap();

    // An upload to a server that stops reading times out the same way.
    let (done_tx, done_rx) = channel::<()>();
    let (url, thread) = raw_server(move |_conn| {
        let _ = done_rx.recv_timeout(PATIENCE);
    });
    let sandbox = sandbox_at(&mut api, &daytona, &format!("{url}/toolbox"));
    let endless = io::repeat(0).take(1 << 30);
    let err = sandbox.fs().upload_reader(endless, "/slow").unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    done_tx.send(()).unwrap();
    thread.join().unwrap();
}

#[test]
fn a_download_into_memory_stops_at_its_limit_and_keeps_completed_files() {
    const LIMIT: u64 = 1024 * 1024;
    let done = payload(300 * 1024);
    let first = multipart_answer(&[("file", "/done.bin", &done)], true);
    // Everything of the first answer but its closing boundary.
    let first = first[..first.len() - format!("--{BOUNDARY}--\r\n").len()].to_vec();
    let (url, server_thread) = raw_server(move |conn| {
        chunked_head(conn, &multipart_type());
        chunk(conn, &first).unwrap();
        let head = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; \
             filename=\"/endless\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        );
        chunk(conn, head.as_bytes()).unwrap();
        // A file the sandbox's own code keeps writing: sent until the
        // client hangs up (or 256 MiB, far past any bound).
        let block = vec![b'z'; 64 * 1024];
        let mut sent: u64 = 0;
        while sent < 256 * 1024 * 1024 && chunk(conn, &block).is_ok() {
            sent += block.len() as u64;
        }
        sent
    });
    let mut api = Server::new();
    let daytona = client(&api);
    let sandbox = sandbox_at(&mut api, &daytona, &format!("{url}/toolbox"));
    let dir = TempDir::new("memlimit");
    let target = dir.join("done.bin");
    let started = std::time::Instant::now();
    let err = sandbox
        .fs()
        .download_files(
            [
                daytona::toolbox::Download::to_file("/done.bin", &target),
                daytona::toolbox::Download::to_bytes("/endless"),
            ],
            TransferOptions::new().max_in_memory(LIMIT),
        )
        .unwrap_err();
    let took = started.elapsed();
    let sent = server_thread.join().unwrap();
    assert!(err.is_too_large(), "{err:?}");
    assert_mentions(&err, "the download of /endless into memory");
    assert_mentions(&err, "limit of 1048576 bytes");
    assert_eq!(std::fs::read(&target).unwrap(), done, "completed before");
    assert!(took < Duration::from_secs(5), "{took:?}");
    // What the server got out before the client hung up: the limit plus
    // what the sockets buffer, not the whole endless file.
    assert!(sent < 32 * 1024 * 1024, "{sent} bytes sent");
    eprintln!("endless file into memory: stopped in {took:?}, server sent {sent} bytes");
}

#[test]
fn the_memory_limit_spares_writers_and_reads_a_declared_length_first() {
    let data = payload(3 * 1024 * 1024);
    let answer = multipart_answer(&[("file", "/big.bin", &data)], true);
    let mut api = Server::new();
    let daytona = client(&api);
    // To a writer: no limit.
    let served = answer.clone();
    let (url, server_thread) = raw_server(move |conn| {
        chunked_head(conn, &multipart_type());
        chunk(conn, &served).unwrap();
        last_chunk(conn);
    });
    let sandbox = sandbox_at(&mut api, &daytona, &format!("{url}/toolbox"));
    let mut out = Vec::new();
    let got = sandbox
        .fs()
        .download(
            daytona::toolbox::Download::to_writer("/big.bin", &mut out),
            TransferOptions::new().max_in_memory(1024),
        )
        .unwrap();
    server_thread.join().unwrap();
    assert_eq!(got.size(), data.len() as u64);
    assert!(out == data);
    // Into memory: the part's Content-Length is past the limit, refused
    // before its bytes are read.
    let (url, server_thread) = raw_server(move |conn| {
        chunked_head(conn, &multipart_type());
        let _ = chunk(conn, &answer);
        last_chunk(conn);
    });
    let sandbox = sandbox_at(&mut api, &daytona, &format!("{url}/toolbox"));
    let err = sandbox
        .fs()
        .download(
            daytona::toolbox::Download::to_bytes("/big.bin"),
            TransferOptions::new().max_in_memory(1024 * 1024),
        )
        .unwrap_err();
    server_thread.join().unwrap();
    assert!(err.is_too_large(), "{err:?}");
    assert_mentions(&err, "limit of 1048576 bytes");
    assert_eq!(daytona::toolbox::DEFAULT_MAX_IN_MEMORY, 256 * 1024 * 1024);
}
