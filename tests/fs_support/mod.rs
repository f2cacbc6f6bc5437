//! Helpers of the file-system tests: exact query checks, a reference
//! multipart parser and builder, an independent one ([`form_data`]), and
//! a one-connection server (on the
//! suite's test server) for answers mockito cannot give (pauses in the
//! middle of a body, cut connections).
#![allow(dead_code)]

pub mod form_data;

use std::io::Write;
use std::thread::JoinHandle;

use daytona::{Daytona, Sandbox};
use mockito::{Matcher, Mock, Server, ServerGuard};
use serde_json::json;

use crate::common::{
    api_mock, client, expect_json_body, reply_json, sandbox_json, toolbox_sandbox, TOOLBOX,
};
use crate::fault_server::{one_connection, Conn};

/// The boundary the toolbox uses for bulk downloads.
pub const BOUNDARY: &str = "DAYTONA-FILE-BOUNDARY";

/// `multipart/form-data; boundary=DAYTONA-FILE-BOUNDARY`.
pub fn multipart_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

/// `/toolbox/sb-1/files` + `rest`.
pub fn files_path(rest: &str) -> String {
    format!("{TOOLBOX}/files{rest}")
}

/// A mock API server and the sandbox `sb-1` whose toolbox it plays.
pub fn setup() -> (ServerGuard, Sandbox) {
    let mut server = Server::new();
    let daytona = client(&server);
    let sandbox = toolbox_sandbox(&mut server, &daytona);
    (server, sandbox)
}

/// A bulk-download mock (not created): the request asks for exactly
/// `paths`, the answer is `answer` as the toolbox sends it. Expects one
/// request.
pub fn download_mock(server: &mut Server, paths: &[&str], answer: Vec<u8>) -> Mock {
    expect_json_body(
        api_mock(server, "POST", &files_path("/bulk-download")).match_query(Matcher::Missing),
        json!({ "paths": paths }),
    )
    .with_header("content-type", &multipart_type())
    .with_body(answer)
    .expect(1)
}

/// The decoded query pairs of a path, in order.
pub fn query_pairs(path_and_query: &str) -> Vec<(String, String)> {
    let query = path_and_query.split_once('?').map_or("", |(_, q)| q);
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (form_decode(name), form_decode(value))
        })
        .collect()
}

/// Decodes one `application/x-www-form-urlencoded` component.
fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A mock of `method /toolbox/sb-1/files{rest}` with the SDK headers, the
/// query exactly `pairs` and no body.
pub fn files_mock(
    server: &mut mockito::Server,
    method: &str,
    rest: &str,
    pairs: &[(&str, &str)],
) -> Mock {
    with_query(api_mock(server, method, &files_path(rest)), pairs)
}

/// The request's query is exactly `pairs`, in this order, and it has no
/// body.
pub fn with_query(mock: Mock, pairs: &[(&str, &str)]) -> Mock {
    let want: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    mock.match_query(Matcher::Any).match_request(move |req| {
        query_pairs(req.path_and_query()) == want && req.body().is_ok_and(|b| b.is_empty())
    })
}

/// One part of a multipart body.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// Its raw header lines.
    pub headers: Vec<String>,
    /// The `name` of its disposition.
    pub name: String,
    /// The `filename` of its disposition, as sent (still quoted-escaped).
    pub filename: Option<String>,
    /// Its body.
    pub data: Vec<u8>,
}

/// The boundary of a multipart content type.
pub fn boundary_of(content_type: &str) -> String {
    let (media, rest) = content_type.split_once(';').expect("parameters");
    assert_eq!(media.trim(), "multipart/form-data");
    rest.trim()
        .strip_prefix("boundary=")
        .expect("boundary")
        .to_string()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

/// A parameter of a disposition: `name` ends at the next quote, the last
/// parameter (`filename`) at the last quote.
fn param(disposition: &str, name: &str) -> Option<String> {
    let key = format!("; {name}=\"");
    let start = disposition.find(&key)? + key.len();
    let end = if name == "filename" {
        disposition.rfind('"')?
    } else {
        start + disposition[start..].find('"')?
    };
    Some(disposition[start..end].to_string())
}

/// A strict reference parser: the body must be exactly parts delimited by
/// `--boundary` and closed by `--boundary--\r\n`.
pub fn parse_multipart(content_type: &str, body: &[u8]) -> Vec<Part> {
    let boundary = boundary_of(content_type);
    let delimiter = format!("\r\n--{boundary}");
    let mut whole = b"\r\n".to_vec();
    whole.extend_from_slice(body);
    // Split on every delimiter: a preamble (empty), the parts, the end.
    let mut pieces = Vec::new();
    let mut rest = &whole[..];
    while let Some(at) = find(rest, delimiter.as_bytes()) {
        pieces.push(&rest[..at]);
        rest = &rest[at + delimiter.len()..];
    }
    assert!(pieces.first().is_some_and(|p| p.is_empty()), "no preamble");
    assert!(
        rest == b"--\r\n",
        "the body ends with the closing delimiter"
    );
    pieces[1..]
        .iter()
        .map(|piece| {
            let piece = piece.strip_prefix(b"\r\n").expect("CRLF after a delimiter");
            let head_end = find(piece, b"\r\n\r\n").expect("end of headers");
            let head = String::from_utf8(piece[..head_end].to_vec()).unwrap();
            let headers: Vec<String> = head.split("\r\n").map(str::to_string).collect();
            let disposition = headers
                .iter()
                .find_map(|h| h.strip_prefix("Content-Disposition: "))
                .expect("disposition")
                .to_string();
            Part {
                name: param(&disposition, "name").expect("name"),
                filename: param(&disposition, "filename"),
                headers,
                data: piece[head_end + 4..].to_vec(),
            }
        })
        .collect()
}

/// A bulk-download answer as the toolbox writes it: `(name, filename,
/// data)` parts, with a `Content-Length` when `length` is set.
pub fn multipart_answer(parts: &[(&str, &str, &[u8])], length: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, filename, data) in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        out.extend_from_slice(
            format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n")
                .as_bytes(),
        );
        let ctype = if *name == "error" {
            "application/json"
        } else {
            "application/octet-stream"
        };
        out.extend_from_slice(format!("Content-Type: {ctype}\r\n").as_bytes());
        if length {
            out.extend_from_slice(format!("Content-Length: {}\r\n", data.len()).as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

/// A sandbox `sb-1` whose toolbox is at `toolbox_url` (fetched with
/// `GET /api/sandbox/sb-1` from `server`).
pub fn sandbox_at(server: &mut mockito::Server, daytona: &Daytona, toolbox_url: &str) -> Sandbox {
    let mut body = sandbox_json("sb-1", "started");
    body["toolboxProxyUrl"] = serde_json::json!(toolbox_url);
    // Dropped (removed) on return, so that later mocks stand alone.
    let _get = reply_json(api_mock(server, "GET", "/api/sandbox/sb-1"), 200, &body).create();
    daytona.get("sb-1").expect("sandbox")
}

/// The error's text contains `text`.
pub fn assert_mentions(err: &daytona::Error, text: &str) {
    assert!(err.to_string().contains(text), "{text:?} not in: {err}");
}

/// Serves one connection on 127.0.0.1: once a request head has come,
/// hands the connection (the request parsed, its body unread) to
/// `handler`, whose value the returned thread gives. Returns the base URL
/// and the thread.
pub fn raw_server<T: Send + 'static>(
    handler: impl FnOnce(&mut Conn) -> T + Send + 'static,
) -> (String, JoinHandle<T>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let url = one_connection(move |stream| {
        let mut conn = Conn::accept(stream).expect("a request");
        conn.skip_head().expect("the request head");
        let _ = tx.send(handler(&mut conn));
        conn.finish();
    });
    let thread = std::thread::spawn(move || rx.recv().expect("the server's handler finished"));
    (url, thread)
}

/// Writes a chunked 200 answer's head.
pub fn chunked_head(stream: &mut impl Write, content_type: &str) {
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .unwrap();
}

/// Writes one chunk.
pub fn chunk(stream: &mut impl Write, data: &[u8]) -> std::io::Result<()> {
    write!(stream, "{:x}\r\n", data.len())?;
    stream.write_all(data)?;
    stream.write_all(b"\r\n")?;
    stream.flush()
}

/// Ends a chunked body.
pub fn last_chunk(stream: &mut impl Write) {
    let _ = stream.write_all(b"0\r\n\r\n");
    let _ = stream.flush();
}

/// The files in `dir` (names), sorted; empty if it does not exist.
pub fn dir_entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
