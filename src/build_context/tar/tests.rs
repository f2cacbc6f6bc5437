use super::testing::{parse, TempDir};
use super::*;

fn entry(disk_path: PathBuf, name: &str, is_dir: bool) -> TarEntry {
    TarEntry {
        disk_path,
        name: name.to_string(),
        kind: if is_dir {
            EntryKind::Dir
        } else {
            EntryKind::File
        },
        hashed: None,
        named: false,
        mode: if is_dir { 0o755 } else { 0o644 },
        id: None,
    }
}

fn archive(entries: &[TarEntry]) -> (u64, Vec<u8>) {
    let plan = TarPlan::new(entries, Deadline::none()).unwrap();
    let size = plan.size();
    let mut bytes = Vec::new();
    plan.into_reader().read_to_end(&mut bytes).unwrap();
    (size, bytes)
}

#[test]
fn round_trip_of_files_and_directories() {
    let dir = TempDir::new("tar");
    let a = dir.file("ctx/a.txt", b"hello");
    let empty = dir.file("ctx/empty", b"");
    let block = dir.file("ctx/sub/block", [7u8; 512]);
    let entries = [
        entry(dir.join("ctx"), "ctx", true),
        entry(a, "ctx/a.txt", false),
        entry(empty, "ctx/empty", false),
        entry(dir.join("ctx/sub"), "ctx/sub/", true),
        entry(block, "ctx/sub/block", false),
    ];
    let (size, bytes) = archive(&entries);
    assert_eq!(size, bytes.len() as u64);
    assert_eq!(bytes.len() % 512, 0);
    assert!(bytes[bytes.len() - 1024..].iter().all(|&b| b == 0));
    let parsed = parse(&bytes);
    let names: Vec<_> = parsed.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "ctx/",
            "ctx/a.txt",
            "ctx/empty",
            "ctx/sub/",
            "ctx/sub/block"
        ]
    );
    assert_eq!((parsed[0].kind, parsed[0].size), (b'5', 0));
    assert_eq!((parsed[1].kind, parsed[1].size), (b'0', 5));
    assert_eq!(parsed[1].data, b"hello");
    assert_eq!(parsed[4].data, vec![7u8; 512]);
    // Each header holds the mode the walk saw (and the hash was fed).
    let modes: Vec<_> = parsed.iter().map(|p| p.mode).collect();
    assert_eq!(modes, [0o755, 0o644, 0o644, 0o755, 0o644]);
    let executable = TarEntry {
        mode: 0o751,
        id: None,
        ..entries[1].clone()
    };
    let (_, bytes) = archive(&[executable]);
    assert_eq!(parse(&bytes)[0].mode, 0o751);
}

#[test]
fn long_names_use_pax_headers() {
    let dir = TempDir::new("tar");
    let long = format!("{}/{}", "d".repeat(90), "f".repeat(150));
    let path = dir.file("f", b"data");
    // A name of exactly 100 bytes still fits in ustar.
    let short = "s".repeat(100);
    let (size, bytes) = archive(&[
        entry(path.clone(), &long, false),
        entry(path.clone(), &short, false),
        entry(path, &"é".repeat(60), false),
    ]);
    assert_eq!(size, bytes.len() as u64);
    let parsed = parse(&bytes);
    assert_eq!(parsed[0].name, long);
    assert_eq!(parsed[0].data, b"data");
    assert_eq!(parsed[1].name, short);
    assert_eq!(parsed[2].name, "é".repeat(60));
    // Two extra blocks (PAX header + records) for each long name only.
    assert_eq!(
        bytes.len(),
        (512 + 512 + 1024) + 1024 + (512 + 512 + 1024) + 1024
    );
}

#[cfg(unix)]
#[test]
fn links_are_stored_as_links() {
    let dir = TempDir::new("tar");
    let long = format!("../{}/target", "t".repeat(150));
    for (name, target) in [("short", "../outside/secret"), ("long", long.as_str())] {
        std::os::unix::fs::symlink(target, dir.join(name)).unwrap();
    }
    let link = |name: &str, target: &str| TarEntry {
        disk_path: dir.join(name),
        name: name.to_string(),
        kind: EntryKind::Link(PathBuf::from(target)),
        hashed: None,
        named: false,
        mode: 0o777,
        id: None,
    };
    let (size, bytes) = archive(&[link("short", "../outside/secret"), link("long", &long)]);
    assert_eq!(size, bytes.len() as u64);
    let parsed = parse(&bytes);
    assert_eq!(
        (parsed[0].kind, parsed[0].size, parsed[0].link.as_deref()),
        (b'2', 0, Some("../outside/secret"))
    );
    assert_eq!(
        (parsed[1].kind, parsed[1].link.as_deref()),
        (b'2', Some(long.as_str()))
    );
    // A link entry on disk that is no longer a link is refused.
    let file = dir.file("file", b"x");
    let err = TarPlan::new(
        &[TarEntry {
            disk_path: file,
            ..link("x", "y")
        }],
        Deadline::none(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("not a symbolic link"), "{err}");
}

/// A file the walk found, swapped for a link to a file outside before
/// the archive is planned or read: never followed, the error names it.
#[cfg(unix)]
#[test]
fn a_file_swapped_for_a_link_after_the_walk_is_not_followed() {
    let dir = TempDir::new("tar-swap");
    let secret = dir.file("outside/secret.txt", b"TOP-SECRET-BYTES");
    let file = dir.file("ctx/a.txt", b"hello");
    let entries = crate::image::BuildContext::new(dir.join("ctx"), "ctx")
        .archive()
        .unwrap();
    assert!(entries.iter().any(|e| e.disk_path == file && !e.named));
    let plan = TarPlan::new(&entries, Deadline::none()).unwrap();
    fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink(&secret, &file).unwrap();
    let shown = file.display().to_string();

    // Swapped after planning: the read refuses to open it.
    let mut bytes = Vec::new();
    let err = plan.into_reader().read_to_end(&mut bytes).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&shown) && text.contains("replaced by a symbolic link"),
        "{text}"
    );
    assert!(!bytes.windows(10).any(|w| w == b"TOP-SECRET"));

    // Swapped before planning: the plan refuses it.
    let err = TarPlan::new(&entries, Deadline::none())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&shown) && err.contains("replaced by a symbolic link"),
        "{err}"
    );

    // The hash's reads open files the same way; the context's own
    // path (named by the caller) is followed.
    let err = open_file(&file, false, None).unwrap_err();
    assert!(err.to_string().contains("not followed"), "{err}");
    let mut followed = String::new();
    open_file(&file, true, None)
        .unwrap()
        .read_to_string(&mut followed)
        .unwrap();
    assert_eq!(followed, "TOP-SECRET-BYTES");
}

/// A context file, or the context's own file named by the caller, that a
/// FIFO took the place of after planning is refused at once: opening a FIFO
/// nobody writes to would wait for ever.
#[cfg(unix)]
#[test]
fn a_file_swapped_for_a_fifo_is_refused_not_waited_on() {
    let dir = TempDir::new("tar-fifo");
    let file = dir.file("ctx/a.txt", b"hello");
    for named in [false, true] {
        fs::remove_file(&file).ok();
        let made = std::process::Command::new("mkfifo").arg(&file).status();
        assert!(made.expect("mkfifo").success());
        let (tx, rx) = std::sync::mpsc::channel();
        let path = file.clone();
        std::thread::spawn(move || tx.send(open_file(&path, named, None).map(drop)));
        let opened = rx
            .recv_timeout(std::time::Duration::from_secs(5))
            .unwrap_or_else(|_| panic!("opening the FIFO (named: {named}) did not return"));
        let err = opened.unwrap_err();
        assert!(err.to_string().contains("regular file"), "{err}");
    }
}

#[test]
fn pax_record_lengths_count_themselves() {
    for value_len in [0, 1, 89, 90, 91, 95, 96, 990, 995, 996, 1000] {
        let mut out = String::new();
        pax_record(&mut out, "path", &"v".repeat(value_len));
        let (len, _) = out.split_once(' ').unwrap();
        assert_eq!(len.parse::<usize>().unwrap(), out.len(), "{value_len}");
    }
}

#[test]
fn huge_sizes_fit_in_pax() {
    let entry = Planned {
        disk_path: PathBuf::new(),
        name: "big".into(),
        kind: EntryKind::File,
        size: MAX_OCTAL_11 + 1,
        mode: 0o644,
        id: None,
        mtime: 0,
        fed: None,
        named: false,
    };
    let h = header(&entry);
    assert_eq!(h.len(), 3 * 512);
    assert!(String::from_utf8_lossy(&h[512..1024]).contains("size=8589934592\n"));
    assert_eq!(&h[1024 + 124..1024 + 136], b"00000000000\0");
}

#[test]
fn empty_archive_is_two_zero_blocks() {
    let (size, bytes) = archive(&[]);
    assert_eq!((size, bytes), (1024, vec![0; 1024]));
}

#[test]
fn bad_entries_fail_before_reading() {
    let dir = TempDir::new("tar");
    let file = dir.file("f", b"x");
    let missing = TarPlan::new(&[entry(dir.join("nope"), "nope", false)], Deadline::none());
    assert!(matches!(missing, Err(Error::Io { .. })));
    let not_dir = TarPlan::new(&[entry(file.clone(), "f", true)], Deadline::none());
    assert!(not_dir.unwrap_err().to_string().contains("not a directory"));
    let nul = TarPlan::new(&[entry(file, "a\0b", false)], Deadline::none());
    assert!(nul.unwrap_err().is_validation());
}

#[test]
fn a_file_that_shrank_is_an_error() {
    let dir = TempDir::new("tar");
    let file = dir.file("f", [1u8; 2000]);
    let plan = TarPlan::new(&[entry(file.clone(), "f", false)], Deadline::none()).unwrap();
    fs::write(&file, b"short").unwrap();
    let err = plan.into_reader().read_to_end(&mut Vec::new()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    assert!(err.to_string().contains("shrank"), "{err}");
}

#[test]
fn a_file_that_grew_is_an_error() {
    let dir = TempDir::new("tar");
    let file = dir.file("f", [1u8; 2000]);
    let plan = TarPlan::new(&[entry(file.clone(), "f", false)], Deadline::none()).unwrap();
    fs::write(&file, [2u8; 2001]).unwrap();
    let err = plan.into_reader().read_to_end(&mut Vec::new()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    assert!(err.to_string().contains("grew"), "{err}");
    assert!(
        err.to_string().contains(&file.display().to_string()),
        "{err}"
    );
}

#[test]
fn the_hash_of_what_is_sent_is_checked() {
    let dir = TempDir::new("tar");
    let file = dir.file("ctx/a.txt", b"hello");
    let entries = [
        TarEntry {
            hashed: None,
            ..entry(dir.join("ctx"), "ctx", true)
        },
        TarEntry {
            hashed: Some("a.txt".into()),
            ..entry(file.clone(), "ctx/a.txt", false)
        },
    ];
    let mut md5 = Md5::new();
    for part in [&b"ctx"[..], b"a.txt", b"hello"] {
        md5.update(part);
    }
    let good = format!("{:x}", md5.finalize());
    let plan = TarPlan::new(&entries, Deadline::none())
        .unwrap()
        .verified("ctx", &good);
    let mut bytes = Vec::new();
    plan.into_reader().read_to_end(&mut bytes).unwrap();
    assert_eq!(parse(&bytes)[1].data, b"hello");
    // The same size, other bytes: the read fails before the end blocks.
    let plan = TarPlan::new(&entries, Deadline::none())
        .unwrap()
        .verified("ctx", &good);
    fs::write(&file, b"HELLO").unwrap();
    let size = plan.size();
    let mut reader = plan.into_reader();
    let mut sent = Vec::new();
    let err = reader.read_to_end(&mut sent).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    assert!(
        err.to_string().contains("changed after it was hashed"),
        "{err}"
    );
    assert!((sent.len() as u64) < size);
}

#[test]
fn large_files_stream_in_constant_memory() {
    let dir = TempDir::new("tar");
    let big = dir.file("big", vec![42u8; 5 * 1024 * 1024 + 3]);
    let plan = TarPlan::new(&[entry(big, "big", false)], Deadline::none()).unwrap();
    let expected = plan.size();
    let mut reader = plan.into_reader();
    let (mut total, mut peak) = (0u64, 0usize);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        total += n as u64;
        peak = peak.max(reader.buffered());
    }
    assert_eq!(total, expected);
    assert!(peak <= 2 * BLOCK, "buffered {peak} bytes");
}

#[test]
fn sizes_a_file_system_claims_never_overflow_the_archive_size() {
    assert_eq!(padding(0), 0);
    assert_eq!(padding(1), 511);
    assert_eq!(padding(512), 0);
    assert_eq!(padding(u64::MAX), 1);
    assert_eq!(archived_size(1, 512), Some(1024));
    assert_eq!(archived_size(u64::MAX - 600, 512), None);
    assert_eq!(archived_size(u64::MAX, 0), None);
}

/// Past its deadline the archive stops at its next read (a context on a
/// slow file system cannot hold the upload past the call's deadline), and
/// a plan made past it fails before it looks at any file.
#[test]
fn reads_past_the_deadline_fail() {
    let dir = TempDir::new("tar-late");
    let file = dir.file("f", [1u8; 4096]);
    let soon = Deadline::after(std::time::Duration::from_millis(200));
    let plan = TarPlan::new(&[entry(file.clone(), "f", false)], soon).unwrap();
    let mut reader = plan.into_reader();
    let mut buf = [0u8; 512];
    assert_eq!(reader.read(&mut buf).unwrap(), 512, "the header");
    std::thread::sleep(std::time::Duration::from_millis(250));
    let err = reader.read(&mut buf).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    assert!(err.to_string().contains("build context"), "{err}");
    let past = Deadline::after(std::time::Duration::ZERO);
    let err = TarPlan::new(&[entry(dir.join("nope"), "nope", false)], past).unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
}

/// A folder of the context swapped for a link to a folder outside it after
/// the archive was planned (a file of the same name and size there): the
/// file the walk saw is gone, and nothing is read from the one outside,
/// which the link reaches.
#[cfg(unix)]
#[test]
fn a_folder_swapped_for_a_link_after_the_walk_is_not_read_through() {
    let dir = TempDir::new("tar-parent-swap");
    dir.file("ctx/sub/a.txt", b"mine!!");
    dir.file("outside/a.txt", b"SECRET");
    let context = crate::image::BuildContext::new(dir.join("ctx"), "ctx");
    let entries = context.archive().unwrap();
    let plan = TarPlan::new(&entries, Deadline::none()).unwrap();
    fs::rename(dir.join("ctx/sub"), dir.join("moved")).unwrap();
    std::os::unix::fs::symlink(dir.join("outside"), dir.join("ctx/sub")).unwrap();
    let mut sent = Vec::new();
    let err = plan.into_reader().read_to_end(&mut sent).unwrap_err();
    assert!(err.to_string().contains("replaced"), "{err}");
    assert!(
        !sent.windows(6).any(|w| w == b"SECRET"),
        "read through the link"
    );
    assert!(context.hash().is_ok(), "a new walk sees the link");
}
