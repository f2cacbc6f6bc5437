//! The one directory walk of the crate: what a build context holds (its
//! hash, its tar) and what a `**` wildcard reaches.
//!
//! Entries come in name order (byte order of the names), each directory
//! before its contents. Symbolic links inside the walked directory are
//! never followed: each is one [`Kind::Link`] entry (stored as a link in
//! the tar, as Docker, node-tar and Python's `tarfile` do), so nothing
//! outside the directory is ever read through one, and a link to `..` is
//! not a loop. Special files (sockets, devices, pipes) are skipped. The
//! root itself is followed when it is a link: the caller named it.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use super::context::io_error;
use crate::deadline::Deadline;
use crate::error::{Error, Result};

/// What a walk of `root` is doing, for its timeout.
fn reading(root: &Path) -> String {
    format!("reading the build context at {}", root.display())
}

/// What an entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A regular file.
    File,
    /// A directory; `empty` when it holds no file and no directory (links
    /// do not count, as in the TypeScript SDK's hash).
    Dir { empty: bool },
    /// A symbolic link, not followed, and what it points to.
    Link { target: PathBuf },
}

/// The most entries a build context, or one directory a wildcard lists,
/// may hold: a bound on the memory and time of a walk (a context named by
/// mistake, `/` say, fails fast rather than listing a whole filesystem).
pub(crate) const MAX_ENTRIES: usize = 1_000_000;

/// The error of a walk or listing past `limit` entries under `path`.
pub(crate) fn too_many(path: &Path, limit: usize) -> Error {
    Error::TooLarge {
        operation: reading(path),
        what: "a build context (or a directory a wildcard lists)".into(),
        limit: limit as u64,
        unit: "entries",
    }
}

/// One file, directory or link met by [`walk`].
pub(crate) struct Item {
    pub(crate) path: PathBuf,
    /// Relative to the walk's root, `/`-separated; `None` for the root.
    pub(crate) rel: Option<String>,
    pub(crate) kind: Kind,
    /// Its permission bits (`0o7777` of the mode) as the walk saw them; on
    /// systems without them, 0644 for a file and 0755 for a directory.
    pub(crate) mode: u32,
    /// Which file it is, as the walk saw it.
    pub(crate) id: FileId,
}

/// Which file an entry is: its device and inode as the walk saw them (on
/// Unix; `None` elsewhere, or when not known). A file opened later must
/// still be this one: a folder on its path swapped for a link to another
/// folder would otherwise lead the read outside the context.
pub(crate) type FileId = Option<(u64, u64)>;

/// The [`FileId`] of `meta`.
#[cfg(unix)]
pub(crate) fn file_id(meta: &fs::Metadata) -> FileId {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

/// The [`FileId`] of `meta`: not known without Unix inode numbers.
#[cfg(not(unix))]
pub(crate) fn file_id(_: &fs::Metadata) -> FileId {
    None
}

/// Visits `root` and, for a directory, everything below it in name order,
/// each directory before its contents.
/// At most `max` entries below `root` are listed: past them the walk
/// fails with [`too_many`], holding no more than `max` names at any time.
/// Past `until` it fails with an [`Error::Timeout`], checked at each entry
/// listed or looked at.
pub(crate) fn walk(
    root: &Path,
    max: usize,
    until: &Deadline,
    f: &mut dyn FnMut(Item) -> Result<()>,
) -> Result<()> {
    until.check(|| reading(root))?;
    let meta = fs::metadata(root).map_err(|e| io_error(root, e))?;
    if meta.is_file() {
        return f(Item {
            path: root.to_path_buf(),
            rel: None,
            kind: Kind::File,
            mode: mode_of(&meta),
            id: file_id(&meta),
        });
    }
    if !meta.is_dir() {
        return Err(io_error(
            root,
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file or a directory",
            ),
        ));
    }
    walk_dir(root, mode_of(&meta), file_id(&meta), max, until, f)
}

/// A directory's children that are files, directories or links, in name
/// order, each with its kind (links not followed; special files left
/// out), its permission bits and its [`FileId`].
pub(crate) fn children(dir: &Path) -> Result<Vec<(OsString, Kind, u32, FileId)>> {
    children_within(dir, MAX_ENTRIES, &Deadline::none())
}

/// [`children`], refusing a directory of more than `max` entries, and
/// stopping past `until`.
fn children_within(
    dir: &Path,
    max: usize,
    until: &Deadline,
) -> Result<Vec<(OsString, Kind, u32, FileId)>> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| io_error(dir, e))? {
        if names.len() == max {
            return Err(too_many(dir, max));
        }
        until.check(|| reading(dir))?;
        names.push(entry.map_err(|e| io_error(dir, e))?.file_name());
    }
    names.sort();
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let path = dir.join(&name);
        until.check(|| reading(dir))?;
        let meta = fs::symlink_metadata(&path).map_err(|e| io_error(&path, e))?;
        let kind = if meta.file_type().is_symlink() {
            let target = fs::read_link(&path).map_err(|e| io_error(&path, e))?;
            Kind::Link { target }
        } else if meta.is_file() {
            Kind::File
        } else if meta.is_dir() {
            Kind::Dir { empty: false }
        } else {
            continue;
        };
        out.push((name, kind, mode_of(&meta), file_id(&meta)));
    }
    Ok(out)
}

/// What [`walk_dir`] has still to visit: a directory to list, or an entry
/// to hand on.
enum Pending {
    Dir(PathBuf, Option<String>, u32, FileId),
    Entry(Item),
}

/// Walks `dir` depth first with a stack of its own, not one call a level:
/// a hostile tree thousands of folders deep cannot exhaust the thread's
/// stack. The stack holds the siblings still to visit at each level, as
/// the listing of each level did.
fn walk_dir(
    dir: &Path,
    mode: u32,
    id: FileId,
    max: usize,
    until: &Deadline,
    f: &mut dyn FnMut(Item) -> Result<()>,
) -> Result<()> {
    let root = dir;
    // Names listed so far: each is handed on once, so this bounds both the
    // entries and the names waiting on the stack.
    let mut listed = 0usize;
    let mut todo = vec![Pending::Dir(dir.to_path_buf(), None, mode, id)];
    while let Some(next) = todo.pop() {
        let (dir, rel, mode, id) = match next {
            Pending::Entry(item) => {
                f(item)?;
                continue;
            }
            Pending::Dir(dir, rel, mode, id) => (dir, rel, mode, id),
        };
        let kids = children_within(&dir, max - listed, until).map_err(|e| match e {
            Error::TooLarge { .. } => too_many(root, max),
            e => e,
        })?;
        listed += kids.len();
        let empty = !kids
            .iter()
            .any(|(_, kind, _, _)| matches!(kind, Kind::File | Kind::Dir { .. }));
        // Pushed last to first, so that they come out in name order.
        for (name, kind, mode, id) in kids.into_iter().rev() {
            let path = dir.join(&name);
            let name = utf8(&path, &name)?;
            if let Kind::Link { target } = &kind {
                utf8(&path, target.as_os_str())?;
            }
            let child_rel = match &rel {
                Some(rel) => format!("{rel}/{name}"),
                None => name.to_string(),
            };
            todo.push(match kind {
                Kind::Dir { .. } => Pending::Dir(path, Some(child_rel), mode, id),
                kind => Pending::Entry(Item {
                    path,
                    rel: Some(child_rel),
                    kind,
                    mode,
                    id,
                }),
            });
        }
        f(Item {
            path: dir,
            rel,
            kind: Kind::Dir { empty },
            mode,
            id,
        })?;
    }
    Ok(())
}

/// `name` (of the entry at `path`, or its link's target) as text: the tar
/// and the hash carry names as UTF-8, and one that is not would reach the
/// image renamed, so it is refused rather than mangled.
fn utf8<'a>(path: &Path, name: &'a std::ffi::OsStr) -> Result<&'a str> {
    name.to_str().ok_or_else(|| {
        Error::validation(
            "context",
            format!(
                "{} has a name (or points to one) that is not UTF-8, which a build \
                 context cannot carry unchanged: rename it or leave it out",
                path.display()
            ),
        )
    })
}

/// The permission bits of `meta` (`0o7777` of its mode).
#[cfg(unix)]
pub(crate) fn mode_of(meta: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

/// 0755 for a directory, 0644 for anything else: the system keeps no
/// Unix permission bits.
#[cfg(not(unix))]
pub(crate) fn mode_of(meta: &fs::Metadata) -> u32 {
    if meta.is_dir() {
        0o755
    } else {
        0o644
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_past_the_entry_limit_is_refused() {
        let tree = crate::test_temp::TempDir::new("listing-limit");
        for name in ["a", "b", "c"] {
            tree.file(&format!("d/{name}"), "x");
        }
        let never = Deadline::none();
        assert_eq!(
            children_within(&tree.path("d"), 3, &never).unwrap().len(),
            3
        );
        let err = children_within(&tree.path("d"), 2, &never).unwrap_err();
        assert!(err.to_string().contains("limit of 2 entries"), "{err}");
    }
}
