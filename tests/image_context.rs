//! Build-context hashes and tar entries, on temporary trees; the expected digests
//! are computed here by feeding MD5 the documented sequence by hand.

#![cfg(feature = "images")]

mod temp;

use std::path::PathBuf;

use daytona::{BuildContext, Error};
use md5::{Digest, Md5};
use temp::TempDir;

fn md5_of(parts: &[&[u8]]) -> String {
    let mut md5 = Md5::new();
    for part in parts {
        md5.update(part);
    }
    format!("{:x}", md5.finalize())
}

/// The same tree, its entries created in the order given.
fn sample(name: &str, reversed: bool) -> TempDir {
    let tree = TempDir::new(name);
    // A folder when there is no content.
    let mut steps = vec![
        ("ctx/b.txt", Some("bee")),
        ("ctx/a/z.txt", Some("zed")),
        ("ctx/a/y", None),
        ("ctx/a-b.txt", Some("ab")),
        ("ctx/empty", None),
    ];
    if reversed {
        steps.reverse();
    }
    for (rel, content) in steps {
        match content {
            Some(content) => drop(tree.file(rel, content)),
            None => drop(tree.dir(rel)),
        }
    }
    tree
}

/// The digest of the sample tree: the archive path, then in name order
/// (each directory's contents before its next sibling: `a/...` before
/// `a-b.txt`) each file's relative path and bytes, and each empty
/// directory's relative path.
fn sample_digest(archive: &str) -> String {
    md5_of(&[
        archive.as_bytes(),
        b"a/y",
        b"a/z.txt",
        b"zed",
        b"a-b.txt",
        b"ab",
        b"b.txt",
        b"bee",
        b"empty",
    ])
}

#[test]
fn a_directory_hashes_in_name_order_whatever_the_creation_order() {
    let one = sample("hash-one", false);
    let two = sample("hash-two", true);
    let h1 = BuildContext::new(one.path("ctx"), "ctx").hash().unwrap();
    let h2 = BuildContext::new(two.path("ctx"), "ctx").hash().unwrap();
    assert_eq!(h1, sample_digest("ctx"));
    assert_eq!(
        h2, h1,
        "the hash does not depend on where or in which order"
    );
    let other = BuildContext::new(one.path("ctx"), "/srv/ctx")
        .hash()
        .unwrap();
    assert_eq!(
        other,
        sample_digest("/srv/ctx"),
        "the archive path is hashed"
    );
}

#[test]
fn a_file_hashes_its_archive_path_then_its_bytes() {
    let tree = TempDir::new("hash-file");
    // Larger than one read, not a multiple of it.
    let content: String = (0..200_000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let path = tree.file("big.txt", &content);
    let hash = BuildContext::new(&path, "big.txt").hash().unwrap();
    assert_eq!(hash, md5_of(&[b"big.txt", content.as_bytes()]));

    let empty = tree.file("empty.txt", "");
    assert_eq!(
        BuildContext::new(&empty, "e").hash().unwrap(),
        md5_of(&[b"e"])
    );
}

#[test]
fn an_empty_directory_hashes_its_archive_path_alone() {
    let tree = TempDir::new("hash-empty");
    let dir = tree.dir("nothing");
    assert_eq!(
        BuildContext::new(&dir, "nothing").hash().unwrap(),
        md5_of(&[b"nothing"])
    );
}

#[test]
fn a_missing_source_is_an_io_error() {
    let tree = TempDir::new("hash-missing");
    let err = BuildContext::new(tree.path("gone"), "gone")
        .hash()
        .unwrap_err();
    assert!(
        matches!(&err, Error::Io { path, .. } if path.ends_with("gone")),
        "{err:?}"
    );
    assert!(BuildContext::new(tree.path("gone"), "gone")
        .entries()
        .is_err());
}

fn entry(path: PathBuf, name: &str, is_dir: bool) -> (PathBuf, String, bool) {
    (path, name.to_string(), is_dir)
}

#[test]
fn entries_are_rooted_at_the_archive_path_in_walk_order() {
    let tree = sample("entries", true);
    let p = |rel: &str| tree.path(rel);
    let context = BuildContext::new(p("ctx"), "/home/me/ctx");
    assert_eq!(
        context.entries().unwrap(),
        [
            entry(p("ctx"), "home/me/ctx", true),
            entry(p("ctx/a"), "home/me/ctx/a", true),
            entry(p("ctx/a/y"), "home/me/ctx/a/y", true),
            entry(p("ctx/a/z.txt"), "home/me/ctx/a/z.txt", false),
            entry(p("ctx/a-b.txt"), "home/me/ctx/a-b.txt", false),
            entry(p("ctx/b.txt"), "home/me/ctx/b.txt", false),
            entry(p("ctx/empty"), "home/me/ctx/empty", true),
        ]
    );
    // The context root itself (`COPY . /app`): no root entry, bare names.
    let names: Vec<String> = BuildContext::new(p("ctx/a"), "")
        .entries()
        .unwrap()
        .into_iter()
        .map(|(_, name, _)| name)
        .collect();
    assert_eq!(names, ["y", "z.txt"]);
    // A file: one entry, named as Docker resolves the archive path.
    assert_eq!(
        BuildContext::new(p("ctx/b.txt"), "../b.txt")
            .entries()
            .unwrap(),
        [entry(p("ctx/b.txt"), "b.txt", false)]
    );
}

#[cfg(unix)]
#[test]
fn links_are_entries_of_their_own_never_followed() {
    use std::os::unix::fs::symlink;

    let tree = TempDir::new("links");
    tree.file("outside/secret.txt", "TOP-SECRET");
    tree.file("ctx/real.txt", "data");
    tree.dir("ctx/only-links");
    symlink("real.txt", tree.path("ctx/link.txt")).unwrap();
    symlink("../outside/secret.txt", tree.path("ctx/escape.txt")).unwrap();
    symlink("/etc/passwd", tree.path("ctx/passwd")).unwrap();
    symlink("..", tree.path("ctx/up")).unwrap();
    symlink(tree.path("ctx"), tree.path("ctx/loop")).unwrap();
    symlink("gone", tree.path("ctx/broken")).unwrap();
    symlink("../real.txt", tree.path("ctx/only-links/l")).unwrap();
    let context = BuildContext::new(tree.path("ctx"), "ctx");
    // Each link is hashed as its path, a NUL and its target; a folder
    // holding only links counts as empty (as the TypeScript SDK's).
    let up = tree.path("ctx");
    let looped = format!("loop\0{}", up.display());
    assert_eq!(
        context.hash().unwrap(),
        md5_of(&[
            b"ctx",
            b"broken\0gone",
            b"escape.txt\0../outside/secret.txt",
            b"link.txt\0real.txt",
            looped.as_bytes(),
            b"only-links",
            b"only-links/l\0../real.txt",
            b"passwd\0/etc/passwd",
            b"real.txt",
            b"data",
            b"up\0..",
        ])
    );
    let entries = context.entries().unwrap();
    let p = |rel: &str| tree.path(rel);
    assert_eq!(
        entries,
        [
            entry(p("ctx"), "ctx", true),
            entry(p("ctx/broken"), "ctx/broken", false),
            entry(p("ctx/escape.txt"), "ctx/escape.txt", false),
            entry(p("ctx/link.txt"), "ctx/link.txt", false),
            entry(p("ctx/loop"), "ctx/loop", false),
            entry(p("ctx/only-links"), "ctx/only-links", true),
            entry(p("ctx/only-links/l"), "ctx/only-links/l", false),
            entry(p("ctx/passwd"), "ctx/passwd", false),
            entry(p("ctx/real.txt"), "ctx/real.txt", false),
            entry(p("ctx/up"), "ctx/up", false),
        ]
    );
}

/// The tar stores links: a link added or pointed elsewhere is another
/// context, which must not be taken for the one already in the store.
#[cfg(unix)]
#[test]
fn adding_or_retargeting_a_link_changes_the_hash() {
    use std::os::unix::fs::symlink;

    let tree = TempDir::new("link-hash");
    tree.file("ctx/a.txt", "a");
    tree.file("ctx/b.txt", "b");
    let context = BuildContext::new(tree.path("ctx"), "ctx");
    let plain = context.hash().unwrap();
    symlink("a.txt", tree.path("ctx/current")).unwrap();
    let to_a = context.hash().unwrap();
    std::fs::remove_file(tree.path("ctx/current")).unwrap();
    symlink("b.txt", tree.path("ctx/current")).unwrap();
    let to_b = context.hash().unwrap();
    assert_ne!(plain, to_a, "a link added");
    assert_ne!(to_a, to_b, "a link pointed elsewhere");
    // Without links, the hash is the TypeScript SDK's.
    std::fs::remove_file(tree.path("ctx/current")).unwrap();
    assert_eq!(context.hash().unwrap(), plain);
    assert_eq!(plain, md5_of(&[b"ctx", b"a.txt", b"a", b"b.txt", b"b"]));
}

/// The tar stores each entry's permissions: a script made executable (or
/// a folder closed to others) is another context, fed to the hash as two
/// NULs and the mode in octal after the entry's name; a context of usual
/// modes (0644 files, 0755 folders) keeps the TypeScript SDK's hash.
#[cfg(unix)]
#[test]
fn changing_a_mode_changes_the_hash() {
    use std::fs::{set_permissions, Permissions};
    use std::os::unix::fs::PermissionsExt;

    let tree = TempDir::new("mode-hash");
    tree.file("ctx/run.sh", "echo hi");
    tree.file("ctx/sub/x", "x");
    let context = BuildContext::new(tree.path("ctx"), "ctx");
    let plain = context.hash().unwrap();
    assert_eq!(
        plain,
        md5_of(&[b"ctx", b"run.sh", b"echo hi", b"sub/x", b"x"])
    );
    let chmod = |rel: &str, mode: u32| {
        set_permissions(tree.path(rel), Permissions::from_mode(mode)).unwrap();
    };
    chmod("ctx/run.sh", 0o755);
    assert_eq!(
        context.hash().unwrap(),
        md5_of(&[b"ctx", b"run.sh\0\0", b"755", b"echo hi", b"sub/x", b"x"])
    );
    // A folder with contents is named by its name in the tar.
    chmod("ctx/sub", 0o700);
    assert_eq!(
        context.hash().unwrap(),
        md5_of(&[
            b"ctx",
            b"run.sh\0\0",
            b"755",
            b"echo hi",
            b"ctx/sub\0\0",
            b"700",
            b"sub/x",
            b"x"
        ])
    );
    // A context that is one file: named by its archive path again.
    chmod("ctx/run.sh", 0o700);
    assert_eq!(
        BuildContext::new(tree.path("ctx/run.sh"), "run.sh")
            .hash()
            .unwrap(),
        md5_of(&[b"run.sh", b"run.sh\0\0", b"700", b"echo hi"])
    );
    chmod("ctx/sub", 0o755);
    chmod("ctx/run.sh", 0o644);
    assert_eq!(context.hash().unwrap(), plain, "back to the usual modes");
}

/// 26 levels of folders, each with two links to the next level: followed,
/// 2^26 paths; as links, 3 entries a level, at once.
#[cfg(unix)]
#[test]
fn paired_directory_links_do_not_fan_out() {
    use std::os::unix::fs::symlink;

    let tree = TempDir::new("fanout");
    for level in 0..26 {
        tree.dir(&format!("ctx/l{level}"));
        for name in ["a", "b"] {
            symlink(
                format!("../l{}", level + 1),
                tree.path(&format!("ctx/l{level}/{name}")),
            )
            .unwrap();
        }
    }
    let started = std::time::Instant::now();
    let context = BuildContext::new(tree.path("ctx"), ".");
    let entries = context.entries().unwrap();
    context.hash().unwrap();
    assert_eq!(entries.len(), 26 * 3);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

/// 400 nested folders (a tree may be as deep as paths of 4 KiB let it):
/// walked on a small stack, never one frame a level.
#[test]
fn a_deep_tree_does_not_exhaust_the_stack() {
    let tree = TempDir::new("deep");
    let rel = format!("ctx{}", "/a".repeat(400));
    tree.file(&format!("{rel}/f"), "x");
    let context = BuildContext::new(tree.path("ctx"), "ctx");
    let walked = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || (context.hash(), context.entries()))
        .unwrap()
        .join()
        .unwrap();
    let levels = rel.matches('/').count();
    let digest = md5_of(&[b"ctx", &rel.as_bytes()["ctx/".len()..], b"/f", b"x"]);
    assert_eq!(walked.0.unwrap(), digest);
    let entries = walked.1.unwrap();
    assert_eq!(entries.len(), levels + 2);
    assert_eq!(entries.last().unwrap().1, format!("{rel}/f"));
}

/// A name that is not UTF-8 (or a link pointing to one) cannot travel in
/// the tar unchanged: it is a validation error naming the path, not a file
/// renamed in the image.
#[cfg(unix)]
#[test]
fn a_name_that_is_not_utf8_is_refused() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::symlink;

    let tree = TempDir::new("not-utf8");
    let bad = OsStr::from_bytes(b"caf\xe9.txt");
    tree.file("ctx/ok.txt", "ok");
    std::fs::write(tree.path("ctx").join(bad), "x").unwrap();
    let context = BuildContext::new(tree.path("ctx"), "ctx");
    for err in [context.hash().unwrap_err(), context.entries().unwrap_err()] {
        assert!(err.is_validation(), "{err:?}");
        assert!(err.to_string().contains("caf"), "{err}");
        assert!(err.to_string().contains("not UTF-8"), "{err}");
    }
    std::fs::remove_file(tree.path("ctx").join(bad)).unwrap();
    assert!(context.hash().is_ok());
    symlink(bad, tree.path("ctx/link")).unwrap();
    let err = context.hash().unwrap_err();
    assert!(
        err.is_validation() && err.to_string().contains("link"),
        "{err}"
    );
}

/// A local path that is not UTF-8, given to a step, is refused naming the
/// field and the path: its `COPY` line and archive path would name
/// another file.
#[cfg(unix)]
#[test]
fn a_local_path_that_is_not_utf8_is_refused_by_the_steps() {
    use daytona::{Image, PipInstallOptions};
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    let tree = TempDir::new("steps-not-utf8");
    let file = tree.root.join(OsStr::from_bytes(b"caf\xe9.txt"));
    std::fs::write(&file, "numpy\n").unwrap();
    let dir = tree.root.join(OsStr::from_bytes(b"d\xe9j\xe0"));
    std::fs::create_dir(&dir).unwrap();
    let base = || Image::base("python:3.12");
    let cases = [
        ("local_path", &file, base().add_local_file(&file, "/app/")),
        ("local_path", &file, base().add_local_file(&file, "/app/x")),
        ("local_path", &dir, base().add_local_dir(&dir, "/app")),
        (
            "requirements_txt",
            &file,
            base().pip_install_from_requirements(&file, PipInstallOptions::new()),
        ),
    ];
    for (want, path, result) in cases {
        match result {
            Err(Error::Validation { field, message }) => {
                assert_eq!(field, want);
                assert!(message.contains(&path.display().to_string()), "{message}");
                assert!(message.contains("not UTF-8"), "{message}");
            }
            other => panic!("{path:?}: {other:?}"),
        }
    }
}
