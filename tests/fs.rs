//! The file operations that are not transfers: method, path, query, body
//! and headers of each request, decoding of each answer, and arguments
//! rejected before any request.

mod common;
mod fault_server;
mod fs_support;

use common::*;
use fs_support::*;

use daytona::toolbox::FilePermissions;
use serde_json::json;

#[test]
fn list_files_sends_the_path_and_decodes_leniently() {
    let (mut server, sandbox) = setup();
    let m = files_mock(&mut server, "GET", "", &[("path", "/home/daytona/my dir")])
        .with_body(
            json!([
                {"name": "a.txt", "isDir": false, "size": 12, "mode": "-rw-r--r--",
                 "permissions": "0644", "owner": "1000", "group": "1000",
                 "modTime": "2026-01-01 00:00:00 +0000 UTC", "modifiedAt": "2026-01-01T00:00:00Z",
                 "future": {"x": 1}},
                {"name": "sub", "isDir": true}
            ])
            .to_string(),
        )
        .expect(1)
        .create();
    let files = sandbox.fs().list_files("/home/daytona/my dir").unwrap();
    m.assert();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0].name, "a.txt");
    assert_eq!(files[0].size, 12);
    assert_eq!(files[0].permissions, "0644");
    assert_eq!(
        files[0].modified_at.as_deref(),
        Some("2026-01-01T00:00:00Z")
    );
    assert!(files[1].is_dir);
    assert_eq!(files[1].size, 0);
    assert_eq!(files[1].modified_at, None);
}

#[test]
fn get_file_info_decodes_and_maps_404_to_not_found() {
    let (mut server, sandbox) = setup();
    let ok = files_mock(&mut server, "GET", "/info", &[("path", "/etc/hosts")])
        .with_body(r#"{"name":"hosts","isDir":false,"size":220,"owner":"0","group":"0"}"#)
        .expect(1)
        .create();
    let info = sandbox.fs().get_file_info("/etc/hosts").unwrap();
    ok.assert();
    assert_eq!(
        (info.name.as_str(), info.size, info.owner.as_str()),
        ("hosts", 220, "0")
    );

    let missing = files_mock(&mut server, "GET", "/info", &[("path", "/nope")])
    .with_status(404)
    .with_body(r#"{"statusCode":404,"message":"stat /nope: no such file or directory","code":"NOT_FOUND"}"#)
    .expect(1)
    .create();
    let err = sandbox.fs().get_file_info("/nope").unwrap_err();
    missing.assert();
    assert!(err.is_not_found(), "{err:?}");
    assert_mentions(&err, "no such file");
}

#[test]
fn create_folder_sends_path_and_mode() {
    let (mut server, sandbox) = setup();
    let m = files_mock(
        &mut server,
        "POST",
        "/folder",
        &[("path", "/home/daytona/new"), ("mode", "0750")],
    )
    .with_status(201)
    .expect(1)
    .create();
    sandbox
        .fs()
        .create_folder("/home/daytona/new", "0750")
        .unwrap();
    m.assert();
}

#[test]
fn delete_file_sends_recursive_either_way() {
    let (mut server, sandbox) = setup();
    let rec = files_mock(
        &mut server,
        "DELETE",
        "",
        &[("path", "/tmp/d"), ("recursive", "true")],
    )
    .with_status(204)
    .expect(1)
    .create();
    let flat = files_mock(
        &mut server,
        "DELETE",
        "",
        &[("path", "/tmp/f"), ("recursive", "false")],
    )
    .with_status(204)
    .expect(1)
    .create();
    sandbox.fs().delete_recursive("/tmp/d").unwrap();
    sandbox.fs().delete_file("/tmp/f").unwrap();
    rec.assert();
    flat.assert();
}

#[test]
fn move_files_sends_source_and_destination() {
    let (mut server, sandbox) = setup();
    let m = files_mock(
        &mut server,
        "POST",
        "/move",
        &[("source", "/a/b&c"), ("destination", "/a/d?e")],
    )
    .expect(1)
    .create();
    sandbox.fs().move_files("/a/b&c", "/a/d?e").unwrap();
    m.assert();
}

#[test]
fn find_files_sends_path_and_pattern_and_decodes_matches() {
    let (mut server, sandbox) = setup();
    let m = files_mock(
        &mut server,
        "GET",
        "/find",
        &[("path", "/src"), ("pattern", "fn main")],
    )
    .with_body(r#"[{"file":"/src/main.rs","line":3,"content":"fn main() {"},{"file":"/src/x.rs"}]"#)
    .expect(1)
    .create();
    let found = sandbox.fs().find_files("/src", "fn main").unwrap();
    m.assert();
    assert_eq!(found.len(), 2);
    assert_eq!((found[0].file.as_str(), found[0].line), ("/src/main.rs", 3));
    assert_eq!(found[0].content, "fn main() {");
    assert_eq!(found[1].line, 0);
}

#[test]
fn search_files_returns_the_paths() {
    let (mut server, sandbox) = setup();
    let m = files_mock(
        &mut server,
        "GET",
        "/search",
        &[("path", "/src"), ("pattern", "*.rs")],
    )
    .with_body(r#"{"files":["/src/a.rs","/src/b.rs"]}"#)
    .expect(1)
    .create();
    let found = sandbox.fs().search_files("/src", "*.rs").unwrap();
    m.assert();
    assert_eq!(found, ["/src/a.rs", "/src/b.rs"]);
}

/// Toolboxes that built the list from a nil slice answer `null` when no
/// name matches: that is no match, not a failure.
#[test]
fn search_files_takes_a_null_list_as_no_match() {
    let (mut server, sandbox) = setup();
    let m = files_mock(
        &mut server,
        "GET",
        "/search",
        &[("path", "/src"), ("pattern", "*.none")],
    )
    .with_body(r#"{"files":null}"#)
    .expect(1)
    .create();
    let found = sandbox.fs().search_files("/src", "*.none").unwrap();
    m.assert();
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn replace_in_files_sends_the_json_body_and_returns_each_result() {
    let (mut server, sandbox) = setup();
    let m = expect_json_body(
        api_mock(&mut server, "POST", &files_path("/replace")).match_query(mockito::Matcher::Missing),
        json!({"files": ["/a.py", "/b.py"], "pattern": "old", "newValue": ""}),
    )
    .with_body(r#"[{"file":"/a.py","success":true},{"file":"/b.py","success":false,"error":"permission denied"}]"#)
    .expect(1)
    .create();
    let results = sandbox
        .fs()
        .replace_in_files(&["/a.py", "/b.py"], "old", "")
        .unwrap();
    m.assert();
    assert!(results[0].success && results[0].error.is_none());
    assert!(!results[1].success);
    assert_eq!(results[1].error.as_deref(), Some("permission denied"));
}

#[test]
fn set_file_permissions_sends_only_what_is_set() {
    let (mut server, sandbox) = setup();
    let all = files_mock(
        &mut server,
        "POST",
        "/permissions",
        &[
            ("path", "/x"),
            ("owner", "daytona"),
            ("group", "staff"),
            ("mode", "0640"),
        ],
    )
    .expect(1)
    .create();
    let mode_only = files_mock(
        &mut server,
        "POST",
        "/permissions",
        &[("path", "/y"), ("mode", "755")],
    )
    .expect(1)
    .create();
    let fs = sandbox.fs();
    fs.set_file_permissions(
        "/x",
        FilePermissions::new()
            .mode("0640")
            .owner("daytona")
            .group("staff"),
    )
    .unwrap();
    fs.set_file_permissions("/y", FilePermissions::new().mode("755"))
        .unwrap();
    all.assert();
    mode_only.assert();
}

#[test]
fn bad_arguments_are_rejected_before_any_request() {
    let (mut server, sandbox) = setup();
    let none = no_requests(&mut server);
    let fs = sandbox.fs();
    assert_validation(&fs.list_files("").unwrap_err(), "path");
    assert_validation(&fs.get_file_info("  ").unwrap_err(), "path");
    assert_validation(&fs.create_folder("", "755").unwrap_err(), "path");
    assert_validation(&fs.create_folder("/d", "rwx").unwrap_err(), "mode");
    assert_validation(&fs.create_folder("/d", "0x755").unwrap_err(), "mode");
    assert_validation(&fs.delete_recursive("").unwrap_err(), "path");
    assert_validation(&fs.move_files("", "/b").unwrap_err(), "source");
    assert_validation(&fs.move_files("/a", "").unwrap_err(), "destination");
    assert_validation(&fs.find_files("/a", "").unwrap_err(), "pattern");
    assert_validation(&fs.search_files("", "*").unwrap_err(), "path");
    let no_files: [&str; 0] = [];
    assert_validation(
        &fs.replace_in_files(&no_files, "a", "b").unwrap_err(),
        "files",
    );
    assert_validation(
        &fs.replace_in_files(&["/a", ""], "a", "b").unwrap_err(),
        "files",
    );
    assert_validation(
        &fs.set_file_permissions("/a", FilePermissions::new())
            .unwrap_err(),
        "permissions",
    );
    assert_validation(
        &fs.set_file_permissions("/a", FilePermissions::new().mode("999"))
            .unwrap_err(),
        "mode",
    );
    assert_validation(
        &fs.set_file_permissions("/a", FilePermissions::new().owner(" "))
            .unwrap_err(),
        "owner",
    );
    assert_all(&none);
}

/// Regression (contract suite, `--dynamic`): `FileInfo.size` and
/// `Match.line` are the spec's unbounded `integer`s; a negative value must
/// not make a whole listing undecodable (a size is clamped to 0).
#[test]
fn sizes_and_line_numbers_decode_any_spec_integer() {
    let (mut server, sandbox) = setup();
    let info = files_mock(&mut server, "GET", "/info", &[("path", "/dev/odd")])
        .with_body(r#"{"name":"odd","isDir":false,"size":-1,"owner":"0","group":"0"}"#)
        .expect(1)
        .create();
    assert_eq!(sandbox.fs().get_file_info("/dev/odd").unwrap().size, 0);
    info.assert();
    let found = files_mock(
        &mut server,
        "GET",
        "/find",
        &[("path", "/src"), ("pattern", "x")],
    )
    .with_body(r#"[{"file":"/src/a","line":-3,"content":"x"},{"file":"/src/b","line":5000000000,"content":"x"}]"#)
    .expect(1)
    .create();
    let lines: Vec<i64> = sandbox
        .fs()
        .find_files("/src", "x")
        .unwrap()
        .iter()
        .map(|m| m.line)
        .collect();
    assert_eq!(lines, [-3, 5_000_000_000]);
    found.assert();
}
