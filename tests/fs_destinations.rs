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
