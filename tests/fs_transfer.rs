//! Uploads and downloads against mockito: the multipart request of bulk
//! uploads, the parsing of bulk-download answers, per-file errors,
//! truncation, local files, progress and validation.

mod common;
mod fault_server;
mod fs_support;
mod temp;

use std::io::{self, Read};
use std::sync::{Arc, Mutex};

use common::*;
use fs_support::*;
use temp::TempDir;

use daytona::toolbox::{Download, Downloaded, TransferOptions, Upload};
use daytona::Error;
use mockito::{Matcher, Server};
use serde_json::json;

/// What an upload mock saw: the content type and the body.
type Seen = Arc<Mutex<Option<(String, Vec<u8>)>>>;

/// How an upload's body is framed.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Framing {
    /// `Content-Length`, equal to the body received; no
    /// `Transfer-Encoding`.
    Length,
    /// `Transfer-Encoding: chunked`, no `Content-Length`.
    Chunked,
}

/// A bulk-upload mock (created, expecting one request framed as
/// `framing`) that records the request and answers like the toolbox.
fn upload_mock(server: &mut Server, framing: Framing) -> (mockito::Mock, Seen) {
    let seen = Seen::default();
    let record = seen.clone();
    let mock = api_mock(server, "POST", &files_path("/bulk-upload")).match_query(Matcher::Missing);
    let mock = match framing {
        Framing::Length => mock
            .match_header("transfer-encoding", Matcher::Missing)
            .match_request(|req| {
                let length = req.header("content-length");
                length.len() == 1
                    && length[0].to_str().unwrap() == req.body().unwrap().len().to_string()
            }),
        Framing::Chunked => mock
            .match_header("transfer-encoding", "chunked")
            .match_header("content-length", Matcher::Missing),
    };
    let mock = mock
        .match_request(move |req| {
            let ctype = req.header("content-type")[0].to_str().unwrap().to_string();
            *record.lock().unwrap() = Some((ctype, req.body().unwrap().clone()));
            true
        })
        .with_body(r#"{"files":[]}"#)
        .expect(1)
        .create();
    (mock, seen)
}

/// A new local file `name` holding `data`, in a folder that lives as long
/// as the returned guard.
fn local_file(name: &str, data: &[u8]) -> (TempDir, std::path::PathBuf) {
    let dir = TempDir::new(name);
    let path = dir.join(name);
    std::fs::write(&path, data).unwrap();
    (dir, path)
}

/// The parts of the recorded upload, by the strict reference parser; multer
/// (an independent parser) reads the same fields from it.
fn seen_parts(seen: &Seen) -> Vec<Part> {
    let (ctype, body) = seen.lock().unwrap().clone().expect("a request");
    assert!(boundary_of(&ctype).starts_with("daytona-"), "{ctype}");
    let parts = parse_multipart(&ctype, &body);
    let fields = form_data::parse_all(&ctype, &body);
    assert_eq!(fields.len(), parts.len());
    for (field, part) in fields.iter().zip(&parts) {
        assert_eq!(field.name.as_deref(), Some(part.name.as_str()));
        assert_eq!(field.data, part.data);
        // multer takes back the escaping of quotes.
        let sent = part.filename.as_ref().map(|f| f.replace("\\\"", "\""));
        assert_eq!(field.file_name, sent);
    }
    parts
}

/// Bytes that look like multipart syntax: CRLFs, dashes, boundary-like
/// text, and every byte value.
fn tricky_bytes() -> Vec<u8> {
    let mut data =
        b"\r\n--daytona-\r\n--\r\n\r\n--DAYTONA-FILE-BOUNDARY-\r\n--DAYTONA-FILE-BOUNDARYx--\r\n"
            .to_vec();
    data.extend((0..=255u8).cycle().take(70_000));
    data.extend_from_slice(b"\r\n--daytona-0123456789abcdef\r\n--");
    data
}

#[test]
fn upload_file_sends_path_and_file_fields() {
    let (mut server, sandbox) = setup();
    let (_dir, local) = local_file("data.bin", b"hello\r\nworld");
    let (m, seen) = upload_mock(&mut server, Framing::Length);
    sandbox
        .fs()
        .upload_file(&local, "/home/daytona/data.bin")
        .unwrap();
    m.assert();
    let parts = seen_parts(&seen);
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].name, "files[0].path");
    assert_eq!(parts[0].filename, None);
    assert_eq!(parts[0].data, b"/home/daytona/data.bin");
    assert_eq!(parts[1].name, "files[0].file");
    assert_eq!(parts[1].filename.as_deref(), Some("/home/daytona/data.bin"));
    assert!(parts[1]
        .headers
        .contains(&"Content-Type: application/octet-stream".to_string()));
    assert_eq!(parts[1].data, b"hello\r\nworld");
}

#[test]
fn many_files_go_in_one_request_in_order() {
    let (mut server, sandbox) = setup();
    let (_dir, local) = local_file("a.txt", b"from a file");
    let (m, seen) = upload_mock(&mut server, Framing::Chunked);
    let owned = b"owned".to_vec();
    sandbox
        .fs()
        .upload_files(
            [
                Upload::file(&local, "/r/a.txt"),
                Upload::bytes(&b"borrowed"[..], "rel/b.txt"),
                Upload::bytes(owned, "/r/\"quoted\".txt"),
                Upload::reader(io::Cursor::new(b"read".to_vec()), "/r/d.txt"),
                Upload::bytes(&b""[..], "/r/empty"),
            ],
            TransferOptions::new(),
        )
        .unwrap();
    m.assert();
    let parts = seen_parts(&seen);
    let expected: [(&str, &[u8]); 5] = [
        ("/r/a.txt", b"from a file"),
        ("rel/b.txt", b"borrowed"),
        ("/r/\"quoted\".txt", b"owned"),
        ("/r/d.txt", b"read"),
        ("/r/empty", b""),
    ];
    assert_eq!(parts.len(), 2 * expected.len());
    for (i, (remote, data)) in expected.iter().enumerate() {
        let (path, file) = (&parts[2 * i], &parts[2 * i + 1]);
        assert_eq!(path.name, format!("files[{i}].path"));
        assert_eq!(path.data, remote.as_bytes());
        assert_eq!(file.name, format!("files[{i}].file"));
        assert_eq!(file.data, *data);
    }
    // Quotes in the file name are escaped in the disposition.
    assert_eq!(parts[5].filename.as_deref(), Some(r#"/r/\"quoted\".txt"#));
}

#[test]
fn binary_data_round_trips_through_upload_and_download() {
    let (mut server, sandbox) = setup();
    let data = tricky_bytes();
    let (up, seen) = upload_mock(&mut server, Framing::Length);
    sandbox.fs().upload_bytes(&data, "/bin.dat").unwrap();
    up.assert();
    let parts = seen_parts(&seen);
    assert!(
        parts[1].data == data,
        "the upload carries the bytes unchanged"
    );

    // Serve what was uploaded back as the toolbox would.
    let answer = multipart_answer(&[("file", "/bin.dat", &parts[1].data)], false);
    let down = download_mock(&mut server, &["/bin.dat"], answer).create();
    let back = sandbox.fs().download_bytes("/bin.dat").unwrap();
    down.assert();
    assert!(back == data, "the download gives them back");
}

/// A progress call: path, bytes, total.
type Event = (String, u64, Option<u64>);

/// Options whose progress callback records every call in `events`.
fn recording(events: &Mutex<Vec<Event>>) -> TransferOptions<'_> {
    TransferOptions::new().progress(move |p| {
        let event = (p.remote_path.to_string(), p.bytes, p.total);
        events.lock().unwrap().push(event);
    })
}

/// The calls for `path` count up, in more than one step, to `total`, and
/// all know the total.
fn assert_counts_up(events: &[Event], path: &str, total: u64) {
    let calls: Vec<_> = events.iter().filter(|e| e.0 == path).collect();
    assert!(calls.len() > 1, "{calls:?}");
    assert!(calls.windows(2).all(|w| w[0].1 < w[1].1), "increasing");
    assert!(calls.iter().all(|e| e.2 == Some(total)), "{calls:?}");
    assert_eq!(calls.last().unwrap().1, total);
}

#[test]
fn upload_progress_counts_up_to_the_total() {
    let (mut server, sandbox) = setup();
    let (m, _) = upload_mock(&mut server, Framing::Chunked);
    let data = vec![7u8; 300_000];
    let events = Mutex::new(Vec::new());
    sandbox
        .fs()
        .upload_files(
            [
                Upload::bytes(&data[..], "/big"),
                Upload::reader(io::Cursor::new(vec![1u8; 10]), "/r"),
                Upload::reader(io::Cursor::new(vec![1u8; 10]), "/sized").size(10),
            ],
            recording(&events),
        )
        .unwrap();
    m.assert();
    let events = events.into_inner().unwrap();
    assert_counts_up(&events, "/big", 300_000);
    assert_eq!(
        events.iter().rfind(|e| e.0 == "/r").unwrap(),
        &("/r".to_string(), 10, None)
    );
    assert_eq!(
        events.iter().rfind(|e| e.0 == "/sized").unwrap(),
        &("/sized".to_string(), 10, Some(10))
    );
}

#[test]
fn bad_uploads_fail_before_any_request() {
    let (mut server, sandbox) = setup();
    let none = no_requests(&mut server);
    let fs = sandbox.fs();
    let err = fs.upload_bytes(b"x", "").unwrap_err();
    assert!(
        matches!(&err, Error::Validation { field, .. } if field == "remote_path"),
        "{err:?}"
    );
    let err = fs
        .upload_file("/definitely/not/here.bin", "/x")
        .unwrap_err();
    match &err {
        Error::Io { path, source } => {
            assert_eq!(path, "/definitely/not/here.bin");
            assert_eq!(source.kind(), io::ErrorKind::NotFound);
        }
        other => panic!("expected Io, got {other:?}"),
    }
    let dir = TempDir::new("up-dir");
    assert!(fs.upload_file(&dir, "/x").unwrap_err().is_validation());
    let nothing: Vec<Upload> = Vec::new();
    assert!(fs
        .upload_files(nothing, TransferOptions::new())
        .unwrap_err()
        .is_validation());
    // A bad upload after good ones still fails the whole call up front.
    let err = fs
        .upload_files(
            [
                Upload::bytes(&b"ok"[..], "/ok"),
                Upload::bytes(&b"x"[..], " "),
            ],
            TransferOptions::new(),
        )
        .unwrap_err();
    assert_mentions(&err, "upload 1");
    // The toolbox trims the path it is sent: these would be written to
    // `/home/notes.txt`.
    for remote in ["/home/notes.txt ", "\t/home/notes.txt", "/home/notes.txt\n"] {
        let err = fs.upload_bytes(b"x", remote).unwrap_err();
        assert!(
            matches!(&err, Error::Validation { field, .. } if field == "remote_path"),
            "{remote:?}: {err:?}"
        );
        assert_mentions(&err, "white space");
    }
    assert_all(&none);
}

/// A reader that fails after some bytes.
struct Failing(usize);

impl Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.0 == 0 {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "disk on fire",
            ));
        }
        let n = self.0.min(buf.len());
        buf[..n].fill(b'x');
        self.0 -= n;
        Ok(n)
    }
}

#[test]
fn a_failing_source_is_an_io_error() {
    let (mut server, sandbox) = setup();
    let _any = server.mock("POST", Matcher::Any).with_body("{}").create();
    let err = sandbox.fs().upload_reader(Failing(1000), "/f").unwrap_err();
    match &err {
        Error::Io { path, source } => {
            assert!(path.contains("/f"), "{path}");
            assert_eq!(source.kind(), io::ErrorKind::PermissionDenied);
        }
        other => panic!("expected Io, got {other:?}"),
    }
}

#[test]
fn a_wide_upload_s_long_list_of_written_files_is_not_an_error() {
    let (mut server, sandbox) = setup();
    // The toolbox lists every file written: 80,000 of them pass 4 MiB.
    let files: Vec<_> = (0..80_000)
        .map(|i| json!({ "path": format!("/home/daytona/project/src/file-{i}.rs"), "bytes": 1234 }))
        .collect();
    let answer = json!({ "files": files }).to_string();
    assert!(answer.len() > 4 << 20, "{}", answer.len());
    let m = api_mock(&mut server, "POST", &files_path("/bulk-upload"))
        .with_body(answer)
        .expect(1)
        .create();
    sandbox.fs().upload_bytes(b"x", "/home/daytona/x").unwrap();
    m.assert();
}

#[test]
fn upload_errors_keep_the_toolbox_message() {
    let (mut server, sandbox) = setup();
    let _m = api_mock(&mut server, "POST", &files_path("/bulk-upload"))
        .with_status(400)
        .with_body(r#"{"errors":["/ro/x: permission denied"],"files":[]}"#)
        .create();
    let err = sandbox.fs().upload_bytes(b"x", "/ro/x").unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert_mentions(&err, "/ro/x: permission denied");
}

#[test]
fn download_files_matches_parts_by_name_with_per_file_errors() {
    let (mut server, sandbox) = setup();
    let dir = TempDir::new("down-many");
    let answer = multipart_answer(
        &[
            ("file", "/b", b"second"),
            ("mystery", "/a", b"ignored"),
            (
                "error",
                "/gone",
                br#"{"message":"file not found: /gone","statusCode":404,"code":"NOT_FOUND"}"#,
            ),
            (
                "error",
                "/locked",
                br#"{"message":"permission denied","status_code":403,"error_code":"FORBIDDEN"}"#,
            ),
            ("file", "/a", b"first"),
            ("file", "/nobody-asked", b"dropped"),
            ("file", "/c", b"third"),
        ],
        true,
    );
    let paths = ["/a", "/b", "/c", "/gone", "/locked", "/silent"];
    let m = download_mock(&mut server, &paths, answer).create();
    let mut written = Vec::new();
    let results = sandbox
        .fs()
        .download_files(
            [
                Download::to_bytes("/a"),
                Download::to_file("/b", dir.join("b.txt")),
                Download::to_writer("/c", &mut written),
                Download::to_bytes("/gone"),
                Download::to_bytes("/locked"),
                Download::to_bytes("/silent"),
            ],
            TransferOptions::new(),
        )
        .unwrap();
    m.assert();
    let paths: Vec<&str> = results.iter().map(|r| r.remote_path.as_str()).collect();
    assert_eq!(paths, ["/a", "/b", "/c", "/gone", "/locked", "/silent"]);
    assert_eq!(
        results[0].result.as_ref().unwrap(),
        &Downloaded::Bytes(b"first".to_vec())
    );
    assert_eq!(
        results[1].result.as_ref().unwrap(),
        &Downloaded::File {
            path: dir.join("b.txt"),
            size: 6
        }
    );
    assert_eq!(std::fs::read(dir.join("b.txt")).unwrap(), b"second");
    assert_eq!(results[2].result.as_ref().unwrap(), &Downloaded::Written(5));
    assert_eq!(written, b"third");
    let gone = results[3].result.as_ref().unwrap_err();
    assert!(gone.is_not_found(), "{gone:?}");
    assert_eq!(gone.api().unwrap().code.as_deref(), Some("NOT_FOUND"));
    assert_mentions(gone, "file not found: /gone");
    let locked = results[4].result.as_ref().unwrap_err();
    assert!(locked.is_forbidden(), "{locked:?}");
    assert_eq!(locked.api().unwrap().code.as_deref(), Some("FORBIDDEN"));
    let silent = results[5].result.as_ref().unwrap_err();
    assert!(matches!(silent, Error::Decode { .. }), "{silent:?}");
    assert_mentions(silent, "no data received for /silent");
    assert_eq!(dir_entries(&dir), ["b.txt"], "no temporary file left");
}

#[test]
fn single_file_helpers_raise_the_typed_error() {
    let (mut server, sandbox) = setup();
    let dir = TempDir::new("down-404");
    let answer = multipart_answer(
        &[(
            "error",
            "/nope",
            br#"{"message":"not here","statusCode":404}"#,
        )],
        false,
    );
    let m = download_mock(&mut server, &["/nope"], answer)
        .expect(3)
        .create();
    let fs = sandbox.fs();
    assert!(fs.download_bytes("/nope").unwrap_err().is_not_found());
    assert!(fs
        .download_to("/nope", &mut io::sink())
        .unwrap_err()
        .is_not_found());
    let target = dir.join("sub/nope.txt");
    assert!(fs
        .download_file("/nope", &target)
        .unwrap_err()
        .is_not_found());
    assert!(!target.exists());
    assert!(dir_entries(&dir.join("sub")).is_empty());
    m.assert();
}

#[test]
fn older_toolboxes_with_text_error_parts_still_map_not_found() {
    let (mut server, sandbox) = setup();
    let answer = multipart_answer(&[("error", "/x", b"file not found or invalid: /x")], false);
    let _m = download_mock(&mut server, &["/x"], answer).create();
    let err = sandbox.fs().download_bytes("/x").unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_mentions(&err, "file not found or invalid: /x");
}

#[test]
fn download_to_a_path_creates_parents_and_replaces_only_when_complete() {
    let (mut server, sandbox) = setup();
    let dir = TempDir::new("down-path");
    let target = dir.join("deep/er/out.bin");
    let data = tricky_bytes();
    let answer = multipart_answer(&[("file", "/out.bin", &data)], false);
    let _m = download_mock(&mut server, &["/out.bin"], answer).create();
    let size = sandbox.fs().download_file("/out.bin", &target).unwrap();
    assert_eq!(size, data.len() as u64);
    assert_eq!(std::fs::read(&target).unwrap(), data);
    assert_eq!(dir_entries(target.parent().unwrap()), ["out.bin"]);
}

#[test]
fn a_truncated_answer_is_an_error_and_leaves_no_file() {
    let (mut server, sandbox) = setup();
    let dir = TempDir::new("down-trunc");
    let target = dir.join("out.bin");
    std::fs::write(&target, b"previous version").unwrap();
    let mut answer = multipart_answer(&[("file", "/out.bin", &[9u8; 200_000])], false);
    answer.truncate(answer.len() - format!("\r\n--{BOUNDARY}--\r\n").len());
    let download = download_mock(&mut server, &["/out.bin"], answer)
        .expect(2)
        .create();
    let err = sandbox.fs().download_file("/out.bin", &target).unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert_mentions(&err, "truncated");
    assert_eq!(std::fs::read(&target).unwrap(), b"previous version");
    assert_eq!(dir_entries(&dir), ["out.bin"], "no temporary file left");

    let fresh = dir.join("new/fresh.bin");
    let err = sandbox.fs().download_file("/out.bin", &fresh).unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert!(!fresh.exists());
    assert!(
        dir_entries(&dir.join("new")).is_empty(),
        "no temporary file left"
    );
    // One request per download: a truncated answer is not retried.
    download.assert();
}

#[test]
fn an_answer_that_is_not_multipart_is_a_decode_error() {
    let (mut server, sandbox) = setup();
    let _m = api_mock(&mut server, "POST", &files_path("/bulk-download"))
        .with_header("content-type", "application/json")
        .with_body("{}")
        .create();
    let err = sandbox.fs().download_bytes("/x").unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
}

#[test]
fn download_progress_counts_up_to_the_part_length() {
    let (mut server, sandbox) = setup();
    let data = vec![3u8; 500_000];
    let answer = multipart_answer(&[("file", "/p", &data), ("file", "/q", b"")], true);
    let _m = download_mock(&mut server, &["/p", "/q"], answer).create();
    let events = Mutex::new(Vec::new());
    let results = sandbox
        .fs()
        .download_files(
            [
                Download::to_writer("/p", io::sink()),
                Download::to_bytes("/q"),
            ],
            recording(&events),
        )
        .unwrap();
    assert!(results.iter().all(|r| r.result.is_ok()));
    let events = events.into_inner().unwrap();
    assert_counts_up(&events, "/p", 500_000);
    assert_eq!(events.last().unwrap(), &("/q".to_string(), 0, Some(0)));
}

#[test]
fn bad_downloads_fail_before_any_request() {
    let (mut server, sandbox) = setup();
    let none = no_requests(&mut server);
    let fs = sandbox.fs();
    assert!(fs.download_bytes("").unwrap_err().is_validation());
    let dir = TempDir::new("down-bad");
    let err = fs.download_file("/x", &dir).unwrap_err();
    assert!(
        matches!(&err, Error::Validation { field, .. } if field == "local_path"),
        "{err:?}"
    );
    assert!(fs.download_file("/x", "").unwrap_err().is_validation());
    let nothing: Vec<Download> = Vec::new();
    assert!(fs
        .download_files(nothing, TransferOptions::new())
        .unwrap_err()
        .is_validation());
    assert_all(&none);
}

/// The `Accept` values of every request `mock` sees.
fn record_accept(mock: mockito::Mock, into: &Arc<Mutex<Vec<Vec<String>>>>) -> mockito::Mock {
    let into = into.clone();
    mock.match_request(move |req| {
        let values = req
            .header("accept")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        into.lock().unwrap().push(values);
        true
    })
}

/// Regression (contract suite): the spec answers a bulk download only with
/// `multipart/form-data`, and the request sent the default
/// `Accept: application/json`, which a negotiating server (Prism) answers
/// with 406. It asks for multipart alone; other requests still ask for JSON
/// alone.
#[test]
fn bulk_download_asks_for_multipart_and_other_requests_for_json() {
    let (mut server, sandbox) = setup();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let answer = multipart_answer(&[("file", "/a", b"x")], true);
    let down = record_accept(download_mock(&mut server, &["/a"], answer), &seen).create();
    assert_eq!(sandbox.fs().download_bytes("/a").unwrap(), b"x");
    down.assert();
    let list = record_accept(
        api_mock(&mut server, "GET", &files_path("")).match_query(Matcher::Any),
        &seen,
    )
    .with_body("[]")
    .expect(1)
    .create();
    sandbox.fs().list_files("/").unwrap();
    list.assert();
    assert_eq!(
        *seen.lock().unwrap(),
        [vec!["multipart/form-data"], vec!["application/json"]]
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_or_a_device_is_refused_before_any_request() {
    let (mut server, sandbox) = setup();
    let upload = server.mock("POST", Matcher::Any).expect(0).create();
    let dir = TempDir::new("fifo");
    let fifo = dir.path("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let regular = dir.file("ok.txt", "ok");
    let started = std::time::Instant::now();
    let refused = |err: Error, path: &std::path::Path| match err {
        Error::Validation { field, message } => {
            assert_eq!(field, "local_path");
            assert!(message.contains(&path.display().to_string()), "{message}");
            assert!(message.contains("not a regular file"), "{message}");
        }
        other => panic!("{other:?}"),
    };
    // Nobody ever writes to the FIFO: opening it would block for ever.
    refused(sandbox.fs().upload_file(&fifo, "/x").unwrap_err(), &fifo);
    let zero = std::path::Path::new("/dev/zero");
    refused(sandbox.fs().upload_file(zero, "/z").unwrap_err(), zero);
    let err = sandbox
        .fs()
        .upload_files(
            [Upload::file(&regular, "/ok.txt"), Upload::file(&fifo, "/p")],
            TransferOptions::new(),
        )
        .unwrap_err();
    refused(err, &fifo);
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    upload.assert();
    // The stream, opened by the caller, can be sent as a reader.
    let opened = std::fs::File::open(zero).unwrap();
    let (mock, seen) = upload_mock(&mut server, Framing::Chunked);
    sandbox
        .fs()
        .upload_files(
            [Upload::reader(io::Read::take(opened, 5), "/z")],
            TransferOptions::new(),
        )
        .unwrap();
    mock.assert();
    assert!(seen.lock().unwrap().is_some());
}
