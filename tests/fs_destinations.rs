//! Where downloads write: only at the local paths asked for, whatever the
//! answer's parts name, and never through what stands at the destination.

mod common;
mod fault_server;
mod fs_support;
mod temp;

use common::*;
use fs_support::*;
use temp::TempDir;

use daytona::toolbox::{Download, Downloaded, TransferOptions};
use daytona::Error;

#[test]
fn parts_naming_other_paths_write_nothing_anywhere() {
    let (mut server, sandbox) = setup();
    let dir = TempDir::new("dest-names");
    let target = dir.join("in/out.bin");
    let outside = dir.join("outside.bin");
    let escape = format!("../{}", "outside.bin");
    let absolute = outside.display().to_string();
    let answer = multipart_answer(
        &[
            ("file", &escape, b"escaped"),
            ("file", &absolute, b"absolute"),
            ("file", "/out.bin\0", b"nul"),
            ("file", "/out.bin", b"wanted"),
        ],
        false,
    );
    let _m = download_mock(&mut server, &["/out.bin"], answer).create();
    sandbox.fs().download_file("/out.bin", &target).unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), b"wanted");
    assert_eq!(dir_entries(&dir), ["in"]);
    assert_eq!(dir_entries(&dir.join("in")), ["out.bin"]);
}

#[test]
fn a_path_asked_for_twice_takes_its_parts_in_order() {
    let (mut server, sandbox) = setup();
    let dir = TempDir::new("dest-twice");
    let answer = multipart_answer(&[("file", "/a", b"one"), ("file", "/a", b"two")], true);
    let _m = download_mock(&mut server, &["/a", "/a"], answer).create();
    let results = sandbox
        .fs()
        .download_files(
            [
                Download::to_file("/a", dir.join("1")),
                Download::to_bytes("/a"),
            ],
            TransferOptions::new(),
        )
        .unwrap();
    assert_eq!(std::fs::read(dir.join("1")).unwrap(), b"one");
    match &results[1].result {
        Ok(Downloaded::Bytes(data)) => assert_eq!(data, b"two"),
        other => panic!("{other:?}"),
    }
}

#[cfg(unix)]
#[test]
fn a_link_at_the_destination_is_replaced_not_followed() {
    let (mut server, sandbox) = setup();
    let dir = TempDir::new("dest-link");
    let victim = dir.join("victim");
    std::fs::write(&victim, b"keep me").unwrap();
    let target = dir.join("out.bin");
    std::os::unix::fs::symlink(&victim, &target).unwrap();
    let answer = multipart_answer(&[("file", "/out.bin", b"new")], false);
    let _m = download_mock(&mut server, &["/out.bin"], answer).create();
    sandbox.fs().download_file("/out.bin", &target).unwrap();
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
    assert!(!std::fs::symlink_metadata(&target)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read(&target).unwrap(), b"new");
}

#[test]
fn a_local_path_that_names_a_folder_is_refused_before_any_request() {
    let (mut server, sandbox) = setup();
    let dir = TempDir::new("dest-folder");
    let mocks = no_requests(&mut server);
    let sep = std::path::MAIN_SEPARATOR;
    for local in [
        format!("{}{sep}new{sep}", dir.display()),
        format!("{}{sep}new{sep}.", dir.display()),
        format!("{}{sep}new{sep}..", dir.display()),
    ] {
        let err = sandbox.fs().download_file("/x", &local).unwrap_err();
        assert!(
            matches!(&err, Error::Validation { field, .. } if *field == "local_path"),
            "{local}: {err:?}"
        );
    }
    assert_all(&mocks);
    assert!(dir_entries(&dir).is_empty());
}

/// The error part toolboxes before v0.163 sent after the part of a file
/// whose reading failed midway (cut short, without a length).
const MIDWAY: &[u8] = b"error streaming file: read: input/output error";

#[test]
fn a_file_part_followed_by_an_error_naming_it_is_a_failure_not_a_file() {
    let (mut server, sandbox) = setup();
    let dir = TempDir::new("dest-midway");
    let parts = [
        ("file", "/a", &b"the start"[..]),
        ("error", "/a", MIDWAY),
        ("file", "/w", b"the start"),
        ("error", "/w", MIDWAY),
        ("file", "/b", b"all of b"),
    ];
    let answer = multipart_answer(&parts, false);
    let _m = download_mock(&mut server, &["/a", "/w", "/b"], answer).create();
    let mut written = Vec::new();
    let results = sandbox
        .fs()
        .download_files(
            [
                Download::to_file("/a", dir.join("a")),
                Download::to_writer("/w", &mut written),
                Download::to_file("/b", dir.join("b")),
            ],
            TransferOptions::new(),
        )
        .unwrap();
    for failed in &results[..2] {
        let err = failed.result.as_ref().unwrap_err();
        assert!(matches!(err, Error::Api(_)), "{err:?}");
        assert_mentions(err, "error streaming file");
    }
    assert!(matches!(
        results[2].result,
        Ok(Downloaded::File { size: 8, .. })
    ));
    assert_eq!(dir_entries(&dir), ["b"], "no file, no temporary file for a");
}

#[test]
fn an_error_after_a_whole_part_is_for_the_next_request_of_its_path() {
    let (mut server, sandbox) = setup();
    let dir = TempDir::new("dest-whole");
    let parts = [("file", "/a", &b"whole"[..]), ("error", "/a", MIDWAY)];
    let answer = multipart_answer(&parts, true);
    let _m = download_mock(&mut server, &["/a", "/a"], answer).create();
    let results = sandbox
        .fs()
        .download_files(
            [
                Download::to_file("/a", dir.join("a")),
                Download::to_file("/a", dir.join("again")),
            ],
            TransferOptions::new(),
        )
        .unwrap();
    assert!(matches!(
        results[0].result,
        Ok(Downloaded::File { size: 5, .. })
    ));
    assert!(results[1].result.is_err());
    assert_eq!(dir_entries(&dir), ["a"]);
}
