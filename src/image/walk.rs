//! The one directory walk of the crate: what a build context holds (its
//! hash, its tar) and what a `**` wildcard reaches.
//!
//! Entries come in name order (byte order of the names), each directory
//! before its contents. Symbolic links are followed, so a link appears as
//! what it points to; a link to a directory being walked (a loop) is
//! skipped, and so are broken links and special files (sockets, devices,
//! pipes).

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use super::context::io_error;
use crate::error::Result;

/// What an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A regular file (or a link to one).
    File,
    /// A directory (or a link to one); `empty` when it has no entry the
    /// walk visits.
    Dir { empty: bool },
}

/// One file or directory met by [`walk`].
pub(crate) struct Item {
    pub(crate) path: PathBuf,
    /// Relative to the walk's root, `/`-separated; `None` for the root.
    pub(crate) rel: Option<String>,
    pub(crate) kind: Kind,
}

/// Visits `root` and, for a directory, everything below it in name order,
/// each directory before its contents.
pub(crate) fn walk(root: &Path, f: &mut dyn FnMut(Item) -> Result<()>) -> Result<()> {
    let meta = fs::metadata(root).map_err(|e| io_error(root, e))?;
    if meta.is_file() {
        return f(Item {
            path: root.to_path_buf(),
            rel: None,
            kind: Kind::File,
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
    let canonical = fs::canonicalize(root).map_err(|e| io_error(root, e))?;
    walk_dir(root, None, &mut vec![canonical], f)
}

/// The names of the files and directories in `dir`, in name order (links
/// followed; broken links, special files and links back to `dir` left
/// out).
pub(crate) fn entries(dir: &Path) -> Result<Vec<OsString>> {
    let canonical = fs::canonicalize(dir).map_err(|e| io_error(dir, e))?;
    Ok(children(dir, &[canonical])?
        .into_iter()
        .map(|(name, _, _)| name)
        .collect())
}

/// A directory's children that are files or directories, in name order.
fn children(dir: &Path, ancestors: &[PathBuf]) -> Result<Vec<(OsString, Kind, PathBuf)>> {
    let mut names: Vec<OsString> = fs::read_dir(dir)
        .map_err(|e| io_error(dir, e))?
        .map(|entry| entry.map(|e| e.file_name()))
        .collect::<std::io::Result<_>>()
        .map_err(|e| io_error(dir, e))?;
    names.sort();
    let parent = ancestors.last().cloned().unwrap_or_default();
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let path = dir.join(&name);
        let link = fs::symlink_metadata(&path).map_err(|e| io_error(&path, e))?;
        // A broken link is skipped, like a socket or a device.
        let Ok(meta) = fs::metadata(&path) else {
            continue;
        };
        if meta.is_file() {
            out.push((name, Kind::File, PathBuf::new()));
        } else if meta.is_dir() {
            let canonical = if link.file_type().is_symlink() {
                fs::canonicalize(&path).map_err(|e| io_error(&path, e))?
            } else {
                parent.join(&name)
            };
            if !ancestors.contains(&canonical) {
                out.push((name, Kind::Dir { empty: false }, canonical));
            }
        }
    }
    Ok(out)
}

fn walk_dir(
    dir: &Path,
    rel: Option<&str>,
    ancestors: &mut Vec<PathBuf>,
    f: &mut dyn FnMut(Item) -> Result<()>,
) -> Result<()> {
    let kids = children(dir, ancestors)?;
    f(Item {
        path: dir.to_path_buf(),
        rel: rel.map(str::to_string),
        kind: Kind::Dir {
            empty: kids.is_empty(),
        },
    })?;
    for (name, kind, canonical) in kids {
        let path = dir.join(&name);
        let name = name.to_string_lossy();
        let child_rel = match rel {
            Some(rel) => format!("{rel}/{name}"),
            None => name.into_owned(),
        };
        if kind == Kind::File {
            f(Item {
                path,
                rel: Some(child_rel),
                kind,
            })?;
        } else {
            ancestors.push(canonical);
            walk_dir(&path, Some(&child_rel), ancestors, f)?;
            ancestors.pop();
        }
    }
    Ok(())
}
