//! Remote paths past ASCII in bulk downloads, named in each part as the
//! toolbox names them: `filename` cut to Latin-1 (`_` past it, single
//! bytes within it) and the exact path in `filename*` (RFC 5987).

mod common;
mod fault_server;
mod fs_support;

use common::*;
use fs_support::*;

use daytona::toolbox::{Download, Downloaded, TransferOptions};
use mockito::{Matcher, Server};
use serde_json::json;

/// The `Content-Disposition` the toolbox writes for `path`: `filename`
/// with quotes and backslashes escaped, every character past Latin-1 as
/// `_` and those within it as one byte, then `filename*`.
fn disposition(name: &str, path: &str) -> Vec<u8> {
    let mut out =
        format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"").into_bytes();
    for c in path.chars() {
        match c {
            '"' | '\\' => out.extend([b'\\', c as u8]),
            c if u32::from(c) <= 0xFF => out.push(u32::from(c) as u8),
            _ => out.push(b'_'),
        }
    }
    out.extend_from_slice(b"\"; filename*=utf-8''");
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(b);
        } else {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// A bulk-download answer of `parts` (form name, path, body) as the
/// toolbox writes it.
fn answer(parts: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, path, data) in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        out.extend_from_slice(&disposition(name, path));
        out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", data.len()).as_bytes());
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

#[test]
fn parts_are_matched_by_their_exact_path_past_ascii() {
    let mut server = Server::new();
    let daytona = client(&server);
    let sandbox = toolbox_sandbox(&mut server, &daytona);
    // `/d/_.txt` and `/d/日.txt` share the `filename` `/d/_.txt`.
    let paths = ["/d/_.txt", "/d/日.txt", "/d/café \"x\".txt", "/d/ñ/missing"];
    let body = answer(&[
        ("file", paths[1], b"kanji"),
        ("file", paths[0], b"underscore"),
        ("file", paths[2], b"latin"),
        (
            "error",
            paths[3],
            br#"{"statusCode":404,"message":"file not found","code":"FILE_NOT_FOUND"}"#,
        ),
    ]);
    let m = expect_json_body(
        api_mock(&mut server, "POST", &files_path("/bulk-download")).match_query(Matcher::Missing),
        json!({ "paths": paths }),
    )
    .match_header("accept", "multipart/form-data")
    .with_header("content-type", &multipart_type())
    .with_body(body)
    .expect(1)
    .create();
    let results = sandbox
        .fs()
        .download_files(paths.map(Download::to_bytes), TransferOptions::new())
        .unwrap();
    m.assert();
    let bytes = |i: usize| match &results[i].result {
        Ok(Downloaded::Bytes(data)) => data.clone(),
        other => panic!("{}: {other:?}", paths[i]),
    };
    assert_eq!(bytes(0), b"underscore");
    assert_eq!(bytes(1), b"kanji");
    assert_eq!(bytes(2), b"latin");
    let missing = results[3].result.as_ref().unwrap_err();
    assert!(missing.is_not_found(), "{missing:?}");
}
