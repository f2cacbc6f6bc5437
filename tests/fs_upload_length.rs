//! How uploads go on the wire: a `Content-Length` equal to the body when
//! every size is known, chunked otherwise; bodies that multer (a parser
//! independent of the crate's) reads back exactly, whatever the names; and
//! sources whose size changes between the check and the sending.

mod common;
mod fault_server;
mod fs_support;
mod temp;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;
use std::thread::JoinHandle;

use common::*;
use fs_support::form_data::{self, Field};
use fs_support::*;
use temp::TempDir;

use daytona::toolbox::{TransferOptions, Upload};
use daytona::Error;
use mockito::{Server, ServerGuard};

/// One upload as a server received it.
#[derive(Debug)]
struct Received {
    /// Header lines, lower-cased names.
    headers: Vec<(String, String)>,
    /// The body (chunked framing removed), as far as it came.
    body: Vec<u8>,
    /// Whether the body came whole (to its length, or to its last chunk).
    complete: bool,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn content_length(&self) -> Option<usize> {
        self.header("content-length").map(|v| v.parse().unwrap())
    }

    fn chunked(&self) -> bool {
        self.header("transfer-encoding") == Some("chunked")
    }

    /// The fields multer reads from the body.
    fn fields(&self) -> Vec<Field> {
        form_data::parse_all(self.header("content-type").unwrap(), &self.body)
    }
}

/// A toolbox on 127.0.0.1 that takes one upload: it reads the body as its
/// head frames it, to its end or until the client gives up, answers 200
/// when the body came whole, and hands back what it got.
fn upload_server() -> (String, JoinHandle<Received>) {
    let (url, thread) = raw_server(|conn| {
        let line = &conn.seen.line;
        assert!(
            line.starts_with("POST /toolbox/sb-1/files/bulk-upload "),
            "{line}"
        );
        let mut got = Received {
            headers: conn.seen.headers.clone(),
            body: Vec::new(),
            complete: false,
        };
        if let Some(length) = got.content_length() {
            // A client that gives up closes (or resets) the connection.
            let _ = (&mut *conn).take(length as u64).read_to_end(&mut got.body);
            got.complete = got.body.len() == length;
        } else if got.chunked() {
            got.complete = read_chunks(&mut BufReader::new(&mut *conn), &mut got.body).is_ok();
        }
        if got.complete {
            let answer = r#"{"files":[]}"#;
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\n\r\n{answer}",
                answer.len()
            );
        }
        got
    });
    (format!("{url}/toolbox"), thread)
}

/// Reads a chunked body to its last chunk (and the empty trailer).
fn read_chunks(reader: &mut impl BufRead, body: &mut Vec<u8>) -> io::Result<()> {
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let size = usize::from_str_radix(line.trim(), 16)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let mut data = vec![0; size + 2];
        reader.read_exact(&mut data)?;
        if size == 0 {
            return if data == b"\r\n" {
                Ok(())
            } else {
                Err(io::ErrorKind::InvalidData.into())
            };
        }
        body.extend_from_slice(&data[..size]);
    }
}

/// A sandbox whose toolbox is a fresh [`upload_server`], the mock API
/// serving its `get` (kept alive by the returned server).
fn setup() -> (ServerGuard, daytona::Sandbox, JoinHandle<Received>) {
    let mut api = Server::new();
    let daytona = client(&api);
    let (url, thread) = upload_server();
    let sandbox = sandbox_at(&mut api, &daytona, &url);
    (api, sandbox, thread)
}

/// The fields of uploads `(remote, data)`, in order, as multer must read
/// them: a path field, then a file field whose name is the remote path.
fn assert_uploads(fields: &[Field], uploads: &[(&str, &[u8])]) {
    assert_eq!(fields.len(), 2 * uploads.len(), "{fields:?}");
    for (i, (remote, data)) in uploads.iter().enumerate() {
        let (path, file) = (&fields[2 * i], &fields[2 * i + 1]);
        assert_eq!(path.name, Some(format!("files[{i}].path")));
        assert_eq!(path.file_name, None);
        assert_eq!(path.data, remote.as_bytes(), "upload {i}");
        assert_eq!(file.name, Some(format!("files[{i}].file")));
        assert_eq!(
            file.content_type.as_deref(),
            Some("application/octet-stream")
        );
        assert!(file.data == *data, "upload {i}: the bytes arrive intact");
    }
}

#[test]
fn known_sizes_send_a_content_length_equal_to_the_body() {
    let (_api, sandbox, server) = setup();
    let dir = TempDir::new("length");
    let big: Vec<u8> = (0..=255u8).cycle().take(3 * 1024 * 1024 + 17).collect();
    let file = dir.file("big.bin", &big);
    let empty = dir.file("empty", b"");
    sandbox
        .fs()
        .upload_files(
            [
                Upload::file(&file, "/r/big.bin"),
                Upload::file(&empty, "/r/empty"),
                Upload::bytes(&b"bytes\r\n--"[..], "/r/bytes"),
                Upload::bytes(Vec::new(), "/r/no-bytes"),
                Upload::reader(io::Cursor::new(b"sized".to_vec()), "/r/sized").size(5),
            ],
            TransferOptions::new(),
        )
        .unwrap();
    let got = server.join().unwrap();
    assert!(got.complete);
    assert_eq!(got.content_length(), Some(got.body.len()));
    assert_eq!(got.header("transfer-encoding"), None);
    assert_uploads(
        &got.fields(),
        &[
            ("/r/big.bin", &big),
            ("/r/empty", b""),
            ("/r/bytes", b"bytes\r\n--"),
            ("/r/no-bytes", b""),
            ("/r/sized", b"sized"),
        ],
    );
}

#[test]
fn a_reader_of_unknown_size_makes_the_request_chunked() {
    let (_api, sandbox, server) = setup();
    let dir = TempDir::new("chunked");
    let file = dir.file("f", b"from a file");
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    sandbox
        .fs()
        .upload_files(
            [
                Upload::file(&file, "/f"),
                Upload::reader(io::Cursor::new(data.clone()), "/read"),
                Upload::reader(io::empty(), "/nothing"),
            ],
            TransferOptions::new(),
        )
        .unwrap();
    let got = server.join().unwrap();
    assert!(got.complete);
    assert!(got.chunked());
    assert_eq!(got.content_length(), None);
    assert_uploads(
        &got.fields(),
        &[("/f", b"from a file"), ("/read", &data), ("/nothing", b"")],
    );
}

#[test]
fn names_with_quotes_non_ascii_line_breaks_and_controls_reach_multer_intact() {
    let (_api, sandbox, server) = setup();
    let names = [
        "/r/\"quoted\".txt",
        "/r/back\\slash",
        "/r/é 文件 🚀.bin",
        "/r/line\r\nbreak",
        "/r/only\nlf; name=\"evil\"",
        "/r/semi;colon=x",
        "/r/ctl\u{1}\u{1b}[0m\tdel\u{7f}",
    ];
    sandbox
        .fs()
        .upload_files(
            names.map(|n| Upload::bytes(n.as_bytes().to_vec(), n)),
            TransferOptions::new(),
        )
        .unwrap();
    let got = server.join().unwrap();
    assert_eq!(got.content_length(), Some(got.body.len()));
    let fields = got.fields();
    let uploads: Vec<(&str, &[u8])> = names.iter().map(|n| (*n, n.as_bytes())).collect();
    // The path fields carry every name exactly, line breaks included.
    assert_uploads(&fields, &uploads);
    // In the header, quotes are escaped (multer takes the escaping back)
    // and line breaks percent-encoded: no name can end its header or add
    // a parameter.
    let file_names: Vec<Option<&str>> = fields
        .iter()
        .skip(1)
        .step_by(2)
        .map(|f| f.file_name.as_deref())
        .collect();
    assert_eq!(
        file_names,
        [
            Some("/r/\"quoted\".txt"),
            // multer keeps the backslash escape of a backslash.
            Some("/r/back\\\\slash"),
            Some("/r/é 文件 🚀.bin"),
            Some("/r/line%0D%0Abreak"),
            Some("/r/only%0Alf; name=\"evil\""),
            Some("/r/semi;colon=x"),
            // No header can hold control characters but tab.
            Some("/r/ctl%01%1B[0m\tdel%7F"),
        ]
    );
}

/// Options whose progress callback runs `act` once, at the first progress
/// of the upload to `remote`.
fn at_first_progress<'a>(remote: &'a str, act: impl FnOnce() + Send + 'a) -> TransferOptions<'a> {
    let mut act = Some(act);
    TransferOptions::new().progress(move |p| {
        if p.remote_path == remote {
            if let Some(act) = act.take() {
                act();
            }
        }
    })
}

/// Adds `bytes` at the end of the file `path`.
fn append(path: &Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
}

/// The upload failed with an I/O error on `path` (a local path, or
/// `reader for <remote>`) saying `what`, and the server got a
/// `Content-Length` and less than that: a body cut short, never one that
/// differs from its length.
fn assert_cut_short(err: &Error, path: &str, what: &str, server: JoinHandle<Received>) {
    match err {
        Error::Io { path: p, source } => {
            assert_eq!(p, path);
            assert!(source.to_string().contains(what), "{source}");
        }
        other => panic!("expected Io, got {other:?}"),
    }
    let got = server.join().unwrap();
    assert!(!got.complete);
    assert!(got.body.len() < got.content_length().unwrap());
}

#[test]
fn a_file_that_grows_before_its_turn_fails_before_any_of_it_is_sent() {
    let (_api, sandbox, server) = setup();
    let dir = TempDir::new("grow-before");
    let file = dir.file("f", [1; 1000]);
    let grow = || append(&file, b"more");
    let err = sandbox
        .fs()
        .upload_files(
            [
                Upload::bytes(&b"first"[..], "/first"),
                Upload::file(&file, "/f"),
            ],
            at_first_progress("/first", grow),
        )
        .unwrap_err();
    assert_cut_short(
        &err,
        &file.display().to_string(),
        "1000 bytes when the upload started, 1004 now",
        server,
    );
}

#[test]
fn a_file_that_grows_while_it_is_sent_fails() {
    let (_api, sandbox, server) = setup();
    let dir = TempDir::new("grow");
    let file = dir.file("f", vec![2; 4 * 1024 * 1024]);
    let grow = || append(&file, b"more");
    let err = sandbox
        .fs()
        .upload_files([Upload::file(&file, "/f")], at_first_progress("/f", grow))
        .unwrap_err();
    assert_cut_short(
        &err,
        &file.display().to_string(),
        "grew while it was being uploaded",
        server,
    );
}

#[test]
fn a_file_that_shrinks_while_it_is_sent_fails() {
    let (_api, sandbox, server) = setup();
    let dir = TempDir::new("shrink");
    let file = dir.file("f", vec![3; 4 * 1024 * 1024]);
    let shrink = || {
        let f = std::fs::OpenOptions::new().write(true).open(&file).unwrap();
        f.set_len(1000).unwrap();
    };
    let err = sandbox
        .fs()
        .upload_files(
            [
                Upload::file(&file, "/f"),
                Upload::bytes(&b"after"[..], "/after"),
            ],
            at_first_progress("/f", shrink),
        )
        .unwrap_err();
    assert_cut_short(
        &err,
        &file.display().to_string(),
        "shrank while it was being uploaded",
        server,
    );
}

#[test]
fn a_reader_that_yields_another_size_than_its_own_fails() {
    for (data, size, what) in [
        (&b"123456"[..], 5, "yielded more than its size of 5 bytes"),
        (&b"1234"[..], 5, "ended after 4 of its size of 5 bytes"),
    ] {
        let (_api, sandbox, server) = setup();
        let err = sandbox
            .fs()
            .upload_files(
                [Upload::reader(data, "/r").size(size)],
                TransferOptions::new(),
            )
            .unwrap_err();
        assert_cut_short(&err, "reader for /r", what, server);
    }
}

#[test]
fn a_size_that_is_not_the_source_s_fails_before_any_request() {
    let mut api = Server::new();
    let daytona = client(&api);
    let sandbox = toolbox_sandbox(&mut api, &daytona);
    let none = no_requests(&mut api);
    let dir = TempDir::new("size");
    let file = dir.file("f", b"four");
    let fs = sandbox.fs();
    for upload in [
        Upload::file(&file, "/f").size(5),
        Upload::bytes(&b"four"[..], "/b").size(3),
    ] {
        let err = fs
            .upload_files([upload], TransferOptions::new())
            .unwrap_err();
        assert!(err.is_validation(), "{err:?}");
        assert_mentions(&err, "size");
    }
    assert_all(&none);
}

/// A file of `/proc` says it is empty and is not: it is read to its end,
/// in a chunked request.
#[cfg(target_os = "linux")]
#[test]
fn a_pseudo_file_that_says_it_is_empty_is_read_to_its_end() {
    let (_api, sandbox, server) = setup();
    let path = Path::new("/proc/self/status");
    assert_eq!(std::fs::metadata(path).unwrap().len(), 0);
    sandbox.fs().upload_file(path, "/status").unwrap();
    let got = server.join().unwrap();
    assert!(got.chunked());
    let fields = got.fields();
    assert_eq!(fields.len(), 2);
    assert!(fields[1].data.starts_with(b"Name:"), "{:?}", fields[1]);
}
