//! Build contexts: local files and directories an [`Image`](super::Image)
//! copies in, their content hash and their entries in the uploaded tar.

use std::fs;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use md5::{Digest, Md5};

use super::walk::{file_id, walk, FileId, Kind, MAX_ENTRIES};

use crate::deadline::Deadline;
use crate::error::{Error, Result};
use crate::local_file::open_regular;

/// A local file or directory that an [`Image`](super::Image) copies in.
///
/// The upload code sends each context as one uncompressed tar whose entries
/// are rooted at the archive path ([`BuildContext::entries`]), stored under the
/// context's [`BuildContext::hash`]; the Dockerfile refers to it by
/// `archive_path` (`COPY <archive_path> <dest>`).
///
/// ```no_run
/// use daytona::BuildContext;
///
/// let context = BuildContext::new("/home/me/app", "/home/me/app");
/// println!("{}", context.hash()?);
/// for (on_disk, name, is_dir) in context.entries()? {
///     println!("{} -> {name}{}", on_disk.display(), if is_dir { "/" } else { "" });
/// }
/// # Ok::<(), daytona::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct BuildContext {
    /// The file or directory on this machine.
    pub source_path: PathBuf,
    /// The path the Dockerfile uses for it, as the TypeScript SDK writes it
    /// (e.g. the local path as given, or a `COPY` source relative to the
    /// Dockerfile's folder).
    pub archive_path: String,
}

/// How many bytes of a file are read at a time while hashing.
const CHUNK: usize = 64 * 1024;

impl BuildContext {
    /// A context: `source_path` on this machine, known as `archive_path` in
    /// the build.
    pub fn new(source_path: impl Into<PathBuf>, archive_path: impl Into<String>) -> Self {
        BuildContext {
            source_path: source_path.into(),
            archive_path: archive_path.into(),
        }
    }

    /// The context's content hash: lowercase hex MD5, as the TypeScript and
    /// Python SDKs compute it, so the object store's cache is shared.
    ///
    /// The digest is fed `archive_path`, then for a file its bytes; for a
    /// directory, walked in name order (byte order of the names, each
    /// directory's entries before the next sibling), each file's path
    /// relative to the directory (`/`-separated) followed by its bytes,
    /// each empty directory's relative path (a directory holding neither
    /// files nor directories), and each symbolic link's relative path, a
    /// NUL and its target (links are stored as links in the tar, never
    /// followed, so a link added or pointed elsewhere makes another
    /// context). The tar keeps permissions too: a file whose mode is not
    /// 0644, or a directory whose mode is not 0755, adds its path (a
    /// directory with contents, or the context's own file, its name in the
    /// tar), two NULs and its mode in octal (before a file's bytes), so
    /// that making a script executable makes another context. Without links
    /// and unusual modes the hash is the TypeScript SDK's; under a umask
    /// other than 022 (files 0664, say) every context has such modes, so
    /// its hash is this crate's own. Files are read in
    /// chunks, so memory use does not grow with their size. Other special
    /// files are skipped. A context whose path is itself a link is what
    /// the link points to. The walk does not depend on the order the
    /// filesystem lists entries in, so the hash is the same on every
    /// machine.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when a file or directory cannot be read.
    pub fn hash(&self) -> Result<String> {
        Ok(self.hashed_archive(&Deadline::none())?.0)
    }

    /// The context hash and the entries of the context's tar, from one
    /// walk. Past `until` the walk or the hash stops at its next entry or
    /// chunk of a file with an [`Error::Timeout`].
    pub(crate) fn hashed_archive(&self, until: &Deadline) -> Result<(String, Vec<ArchiveEntry>)> {
        let entries = self.archive_within(MAX_ENTRIES, until)?;
        let mut md5 = Md5::new();
        md5.update(self.archive_path.as_bytes());
        for entry in &entries {
            if let Some(fed) = entry.fed() {
                md5.update(fed.as_bytes());
            }
            if entry.kind == EntryKind::File {
                hash_file(entry, &mut md5, until)?;
            }
        }
        Ok((format!("{:x}", md5.finalize()), entries))
    }

    /// What the context's tar holds, in the order of [`BuildContext::hash`]'s
    /// walk: `(path on disk, name in the tar, is a directory)`.
    ///
    /// Names are `/`-separated and rooted at the archive path as Docker
    /// resolves a `COPY` source against the build context: without a
    /// leading `/`, with `.` and `..` resolved (so `/home/me/app` gives
    /// `home/me/app/...`, `../x` gives `x`). A file context is one entry. A
    /// directory context lists every directory before its contents, the
    /// root first (left out when the archive path resolves to the context
    /// root itself, e.g. `.`), then each entry in name order. A symbolic
    /// link inside a directory is listed as itself (`is a directory`
    /// false), the link rather than what it points to: the tar stores it
    /// as a link.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when a directory cannot be read.
    pub fn entries(&self) -> Result<Vec<(PathBuf, String, bool)>> {
        Ok(self
            .archive()?
            .into_iter()
            .map(|e| (e.disk_path, e.name, e.kind == EntryKind::Dir))
            .collect())
    }

    /// The entries of the context's tar, in archive order, each with what
    /// the context hash is fed for it.
    pub(crate) fn archive(&self) -> Result<Vec<ArchiveEntry>> {
        self.archive_within(MAX_ENTRIES, &Deadline::none())
    }

    /// [`archive`](Self::archive), refusing a context of more than `max`
    /// entries below its root as soon as a listing passes them, and
    /// stopping past `until`.
    fn archive_within(&self, max: usize, until: &Deadline) -> Result<Vec<ArchiveEntry>> {
        let root = docker_clean(&self.archive_path);
        let mut out = Vec::new();
        walk(&self.source_path, max, until, &mut |item| {
            let name = match (&item.rel, root.is_empty()) {
                (None, false) => root.clone(),
                (None, true) if item.kind == Kind::File => file_name(&item.path),
                (None, true) => return Ok(()),
                (Some(rel), true) => rel.clone(),
                (Some(rel), false) => format!("{root}/{rel}"),
            };
            let named = item.rel.is_none();
            let (kind, hashed) = match item.kind {
                Kind::File => (EntryKind::File, item.rel),
                Kind::Dir { empty: true } => (EntryKind::Dir, item.rel),
                Kind::Dir { empty: false } => (EntryKind::Dir, None),
                // The tar stores the link: what it points to is content.
                Kind::Link { target } => {
                    let hashed = item
                        .rel
                        .map(|rel| format!("{rel}\0{}", path_string(&target)));
                    (EntryKind::Link(target), hashed)
                }
            };
            out.push(ArchiveEntry {
                named,
                disk_path: item.path,
                name,
                kind,
                hashed,
                mode: item.mode,
                id: item.id,
            });
            Ok(())
        })?;
        Ok(out)
    }
}

/// What an entry of a context's tar is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EntryKind {
    /// A regular file: its bytes are archived and hashed.
    File,
    /// A directory.
    Dir,
    /// A symbolic link, stored as a link to this target, never followed.
    Link(PathBuf),
}

/// One entry of a context's tar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ArchiveEntry {
    /// Where it is on disk.
    pub(crate) disk_path: PathBuf,
    /// Its name in the tar.
    pub(crate) name: String,
    pub(crate) kind: EntryKind,
    /// What the context hash is fed for it before a file's bytes: the path
    /// relative to the context of a file or an empty directory, that path,
    /// a NUL and the target of a link; nothing for others.
    pub(crate) hashed: Option<String>,
    /// The context's own path, which the caller named: a link there is
    /// followed. Anything the walk found inside is read only as what the
    /// walk saw (see [`open_file`]).
    pub(crate) named: bool,
    /// Its permission bits as the walk saw them: what the tar stores.
    pub(crate) mode: u32,
    /// Which file the walk saw (see [`FileId`]): a file opened to be hashed
    /// or sent must still be that one.
    pub(crate) id: FileId,
}

impl ArchiveEntry {
    /// What the context hash is fed for it before a file's bytes: its
    /// [`hashed`](Self::hashed) text, then, for a file or directory whose
    /// permissions are not the usual 0644 or 0755, its relative path (or,
    /// for an entry `hashed` leaves out, its name in the tar), two NULs and
    /// its mode in octal: making a script executable makes another
    /// context, while a context without such entries keeps the TypeScript
    /// SDK's hash. Two NULs cannot start a link's target nor end a path.
    pub(crate) fn fed(&self) -> Option<String> {
        let usual = match self.kind {
            EntryKind::File => 0o644,
            EntryKind::Dir => 0o755,
            EntryKind::Link(_) => return self.hashed.clone(),
        };
        if self.mode == usual {
            return self.hashed.clone();
        }
        let name = self.hashed.as_deref().unwrap_or(&self.name);
        Some(format!("{name}\0\0{:o}", self.mode))
    }
}

/// Opens the regular file of an entry at `path` for reading, never through a link
/// that replaced it after the walk: an entry found inside a directory must
/// still be a regular file (not a link) when it is opened, and the file
/// opened must be the one looked at (same device and inode on Unix), so a
/// swap between the look and the open is caught too; when `walked` is
/// known it must be the file the walk saw, so a folder on its path swapped
/// for a link (which a look at the path follows) cannot lead the read out
/// of the context. Nothing is read from a file that fails these checks.
/// The context's own path (`named`, see [`ArchiveEntry::named`]) is opened
/// as the caller gave it, links followed. Either must be a regular file
/// when opened (see [`open_regular`]): a FIFO put in its place is refused,
/// never waited on.
pub(crate) fn open_file(path: &Path, named: bool, walked: FileId) -> std::io::Result<fs::File> {
    if named {
        return open_regular(path);
    }
    let replaced = |what: &str| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{what} after the build context was read; it is not followed, \
                 nothing was read from it"
            ),
        )
    };
    let seen = fs::symlink_metadata(path)?;
    if seen.file_type().is_symlink() {
        return Err(replaced("was replaced by a symbolic link"));
    }
    if !seen.is_file() {
        return Err(replaced("is no longer a regular file"));
    }
    let file = open_regular(path)?;
    let opened = file.metadata()?;
    if !same_file(&seen, &opened) {
        return Err(replaced("was replaced"));
    }
    if walked.is_some() && walked != file_id(&opened) {
        return Err(replaced(
            "was replaced, or a folder on its path was (by a symbolic link, say),",
        ));
    }
    Ok(file)
}

/// Whether two metadata describe the same file.
#[cfg(unix)]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

/// Whether two metadata describe the same file, as far as the standard
/// library tells without Unix inode numbers: both regular files.
#[cfg(not(unix))]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    a.is_file() && b.is_file()
}

/// An [`Error::Io`] about `path`.
pub(crate) fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The most bytes of a text file a step reads whole (a Dockerfile, a
/// `pyproject.toml`): far above any real one, it keeps a file of gigabytes
/// named by mistake, or by a hostile repository, out of memory.
pub(crate) const MAX_TEXT: u64 = 4 * 1024 * 1024;

/// The text of the regular file at `path` (`what` names it in errors),
/// read through [`open_regular`] and at most `limit` bytes: a longer file
/// is an [`Error::TooLarge`], found without reading past the limit; a
/// file that is not UTF-8 is an [`Error::Io`].
pub(crate) fn read_text(path: &Path, what: &str, limit: u64) -> Result<String> {
    let file = open_regular(path).map_err(|e| io_error(path, e))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(path, e))?;
    if bytes.len() as u64 > limit {
        return Err(Error::TooLarge {
            operation: format!("reading {what} at {}", path.display()),
            what: what.to_string(),
            limit,
            unit: "bytes",
        });
    }
    String::from_utf8(bytes).map_err(|e| {
        io_error(
            path,
            std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()),
        )
    })
}

/// Feeds `md5` the bytes of the file of `entry`, a chunk at a time,
/// stopping past `until`.
fn hash_file(entry: &ArchiveEntry, md5: &mut Md5, until: &Deadline) -> Result<()> {
    let path = &entry.disk_path;
    let what = || format!("hashing {} for a build context", path.display());
    until.check(what)?;
    let mut file = open_file(path, entry.named, entry.id).map_err(|e| io_error(path, e))?;
    let mut buf = vec![0u8; CHUNK];
    loop {
        until.check(what)?;
        match file.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => md5.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error(path, e)),
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path_string(path))
}

/// A path as text with `/` separators.
pub(crate) fn path_string(path: &Path) -> String {
    let s = path.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '/' {
        s.into_owned()
    } else {
        s.replace(std::path::MAIN_SEPARATOR, "/")
    }
}

/// `~` or a leading `~/` replaced by the home directory (`HOME`, or
/// `USERPROFILE` on Windows), as the TypeScript SDK's `expand-tilde`.
pub(crate) fn expand_tilde(path: &Path) -> PathBuf {
    let text = path.to_string_lossy();
    let rest = if text == "~" {
        ""
    } else if let Some(rest) = text.strip_prefix("~/") {
        rest
    } else {
        return path.to_path_buf();
    };
    match std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE")) {
        Some(home) if !home.is_empty() => PathBuf::from(home).join(rest),
        _ => path.to_path_buf(),
    }
}

/// `path` with `.` removed and `..` applied to the component before it,
/// without touching the filesystem; leading `..` of a relative path stay.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// A `COPY` source as Docker resolves it against the root of the build
/// context: `/`-separated, no leading `/`, `.` and `..` resolved (`..` never
/// climbing above the root).
pub(crate) fn docker_clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_like_docker() {
        assert_eq!(docker_clean("/home/me/app"), "home/me/app");
        assert_eq!(docker_clean("../x"), "x");
        assert_eq!(docker_clean("./a/./b/../c/"), "a/c");
        assert_eq!(docker_clean("."), "");
    }

    #[test]
    fn a_context_past_the_entry_limit_is_refused_as_the_walk_meets_it() {
        let tree = crate::test_temp::TempDir::new("entry-limit");
        for name in ["a", "b", "c"] {
            tree.file(&format!("ctx/{name}"), "x");
        }
        let context = BuildContext::new(tree.path("ctx"), "ctx");
        // The folder and its three files: three names listed.
        let never = Deadline::none();
        assert_eq!(context.archive_within(3, &never).unwrap().len(), 4);
        let err = context.archive_within(2, &never).unwrap_err();
        assert!(err.is_too_large(), "{err:?}");
        assert!(err.to_string().contains("limit of 2 entries"), "{err}");
    }

    #[test]
    fn one_walk_gives_the_hash_and_the_entries_and_stops_past_its_deadline() {
        let tree = crate::test_temp::TempDir::new("hashed-archive");
        tree.file("ctx/a", "x");
        tree.file("ctx/sub/b", "y");
        let context = BuildContext::new(tree.path("ctx"), "ctx");
        let (hash, entries) = context.hashed_archive(&Deadline::none()).unwrap();
        assert_eq!(hash, context.hash().unwrap());
        assert_eq!(entries, context.archive().unwrap());
        let past = Deadline::after(std::time::Duration::ZERO);
        let err = context.hashed_archive(&past).unwrap_err();
        let Error::Timeout { operation, .. } = &err else {
            panic!("{err:?}")
        };
        assert!(operation.contains("build context"), "{operation}");
    }

    /// A folder swapped for a link to one outside the context between the
    /// walk and the hash: the hash reads nothing through it.
    #[cfg(unix)]
    #[test]
    fn a_folder_swapped_for_a_link_after_the_walk_is_not_hashed_through() {
        let tree = crate::test_temp::TempDir::new("hash-parent-swap");
        tree.file("ctx/sub/a.txt", "mine!!");
        tree.file("outside/a.txt", "SECRET");
        let context = BuildContext::new(tree.path("ctx"), "ctx");
        let entries = context.archive().unwrap();
        fs::rename(tree.path("ctx/sub"), tree.path("moved")).unwrap();
        std::os::unix::fs::symlink(tree.path("outside"), tree.path("ctx/sub")).unwrap();
        let file = entries.iter().find(|e| e.name == "ctx/sub/a.txt").unwrap();
        let err = hash_file(file, &mut Md5::new(), &Deadline::none()).unwrap_err();
        assert!(err.to_string().contains("replaced"), "{err}");
    }

    #[test]
    fn normalizes_lexically() {
        assert_eq!(normalize(Path::new("/a/b/../c/./d")), Path::new("/a/c/d"));
        assert_eq!(normalize(Path::new("../x/../y")), Path::new("../y"));
        assert_eq!(normalize(Path::new("/..")), Path::new("/"));
        assert_eq!(normalize(Path::new("./a")), Path::new("a"));
    }
}
