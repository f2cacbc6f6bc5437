//! An uncompressed tar archive (POSIX ustar, with PAX extended headers for
//! long names and huge files) made on demand from files on disk: its size is
//! known before the first byte, and it is read in constant memory — file
//! contents go straight from the file into the reader's buffer.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use md5::{Digest, Md5};

use crate::error::{Error, Result};

const BLOCK: usize = 512;
/// Longest name a ustar `name` field holds.
const NAME_LEN: usize = 100;
/// Largest value of an 11-digit octal field (size, mtime): 8 GiB - 1.
const MAX_OCTAL_11: u64 = 0o77_777_777_777;

use crate::deadline::Deadline;
/// One entry of an archive: a file, directory or symbolic link on disk
/// and its name in the archive (relative, `/`-separated). A directory's
/// contents are entries of their own; a link is stored as a link.
pub(crate) use crate::image::ArchiveEntry as TarEntry;
use crate::image::{open_file, EntryKind, FileId};

/// An entry with what its header says.
#[derive(Debug)]
struct Planned {
    disk_path: PathBuf,
    /// The archive name, with a trailing `/` for a directory.
    name: String,
    kind: EntryKind,
    size: u64,
    mode: u32,
    mtime: u64,
    /// What the context hash is fed for it before a file's bytes
    /// ([`TarEntry::fed`]).
    fed: Option<String>,
    /// The context's own path (a link there is followed).
    named: bool,
    /// Which file the walk saw.
    id: FileId,
}

impl Planned {
    /// The link target as the header holds it (`/`-separated).
    fn link_name(&self) -> Option<String> {
        match &self.kind {
            EntryKind::Link(target) => Some(crate::image::path_string(target)),
            _ => None,
        }
    }
}

/// An archive whose entries were checked and measured, ready to be read.
#[derive(Debug)]
pub(crate) struct TarPlan {
    entries: Vec<Planned>,
    size: u64,
    check: Option<Check>,
    until: Deadline,
}

/// The context hash of what a [`TarReader`] sends, as it sends it, and the
/// hash it must come to.
struct Check {
    md5: Md5,
    expected: String,
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Check")
            .field("expected", &self.expected)
            .finish_non_exhaustive()
    }
}

impl TarPlan {
    /// Checks `entries` (each exists and is what it claims to be) and
    /// measures the archive. Only metadata is read. Past `until`, this and
    /// every read of the archive fail (a timeout), checked at each entry
    /// and each read.
    pub(crate) fn new(entries: &[TarEntry], until: Deadline) -> Result<Self> {
        let mut planned = Vec::with_capacity(entries.len());
        let mut size = 2 * BLOCK as u64;
        for entry in entries {
            until.check(|| format!("reading {} for a build context", entry.disk_path.display()))?;
            let entry = plan(entry)?;
            // Sizes are the file system's: sparse files may claim
            // exabytes, and their sum must not overflow.
            size = archived_size(entry.size, header(&entry).len())
                .and_then(|bytes| size.checked_add(bytes))
                .ok_or_else(|| {
                    Error::validation(
                        "context",
                        format!("{:?} makes the archive larger than 16 EiB", entry.name),
                    )
                })?;
            planned.push(entry);
        }
        Ok(TarPlan {
            entries: planned,
            size,
            check: None,
            until,
        })
    }

    /// Hashes the archive's content as it is read, as the context hash
    /// does (`seed`, the archive path, first; then each entry's hashed name
    /// and a file's bytes), and fails the read before its last blocks when
    /// that hash is not `expected`: a context that changed after it was
    /// hashed is never stored under the old hash.
    pub(crate) fn verified(mut self, seed: &str, expected: &str) -> Self {
        let mut md5 = Md5::new();
        md5.update(seed.as_bytes());
        self.check = Some(Check {
            md5,
            expected: expected.to_string(),
        });
        self
    }

    /// The exact length of the archive in bytes.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// A reader producing the archive.
    pub(crate) fn into_reader(self) -> TarReader {
        TarReader {
            entries: self.entries.into_iter(),
            pending: Vec::new(),
            pos: 0,
            file: None,
            finished: false,
            check: self.check,
            until: self.until,
        }
    }
}

fn plan(entry: &TarEntry) -> Result<Planned> {
    if entry.name.is_empty() || entry.name.contains('\0') {
        return Err(Error::validation(
            "context",
            format!("invalid archive name {:?}", entry.name),
        ));
    }
    let io_error = |source| Error::Io {
        path: entry.disk_path.display().to_string(),
        source,
    };
    // A link is archived as itself, never followed; so is one that took
    // the place of a file or directory the walk found (only the context's
    // own path, named by the caller, is followed).
    let meta = match entry.kind {
        EntryKind::Link(_) => fs::symlink_metadata(&entry.disk_path),
        _ if !entry.named => fs::symlink_metadata(&entry.disk_path),
        _ => fs::metadata(&entry.disk_path),
    }
    .map_err(io_error)?;
    let (expected, what) = match entry.kind {
        EntryKind::File => (meta.is_file(), "a regular file"),
        EntryKind::Dir => (meta.is_dir(), "a directory"),
        EntryKind::Link(_) => (meta.file_type().is_symlink(), "a symbolic link"),
    };
    if !expected {
        let message = if meta.file_type().is_symlink() {
            format!(
                "not {what}: replaced by a symbolic link after the build context \
                 was read; it is not followed"
            )
        } else {
            format!("not {what}")
        };
        return Err(io_error(io::Error::new(
            io::ErrorKind::InvalidInput,
            message,
        )));
    }
    let mut name = entry.name.clone();
    if entry.kind == EntryKind::Dir && !name.ends_with('/') {
        name.push('/');
    }
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs().min(MAX_OCTAL_11));
    Ok(Planned {
        disk_path: entry.disk_path.clone(),
        name,
        kind: entry.kind.clone(),
        size: if entry.kind == EntryKind::File {
            meta.len()
        } else {
            0
        },
        // As the walk saw it, which the hash was fed: a mode changed since
        // cannot be stored under the old hash.
        mode: entry.mode,
        mtime,
        fed: entry.fed(),
        named: entry.named,
        id: entry.id,
    })
}

/// What a file of `size` bytes takes in the archive with its header of
/// `header` bytes; `None` past what a `u64` counts.
fn archived_size(size: u64, header: usize) -> Option<u64> {
    size.checked_add(padding(size))?.checked_add(header as u64)
}

/// The zero bytes that take `size` to whole blocks.
fn padding(size: u64) -> u64 {
    let block = BLOCK as u64;
    (block - size % block) % block
}

/// The header blocks of `entry`: a PAX extended header first when the name,
/// the link target or the size does not fit in ustar.
fn header(entry: &Planned) -> Vec<u8> {
    let link = entry.link_name();
    let link = link.as_deref().unwrap_or("");
    let mut pax = String::new();
    if entry.name.len() > NAME_LEN {
        pax_record(&mut pax, "path", &entry.name);
    }
    if link.len() > NAME_LEN {
        pax_record(&mut pax, "linkpath", link);
    }
    if entry.size > MAX_OCTAL_11 {
        pax_record(&mut pax, "size", &entry.size.to_string());
    }
    let mut out = Vec::with_capacity(2 * BLOCK + pax.len());
    if !pax.is_empty() {
        let len = pax.len() as u64;
        out.extend(ustar("././@PaxHeader", b'x', len, 0o644, entry.mtime, ""));
        out.extend(pax.as_bytes());
        out.resize(out.len() + padding(len) as usize, 0);
    }
    let (kind, size) = match (&entry.kind, entry.size > MAX_OCTAL_11) {
        (EntryKind::Dir, _) => (b'5', 0),
        (EntryKind::Link(_), _) => (b'2', 0),
        (EntryKind::File, true) => (b'0', 0),
        (EntryKind::File, false) => (b'0', entry.size),
    };
    out.extend(ustar(
        &entry.name,
        kind,
        size,
        entry.mode,
        entry.mtime,
        link,
    ));
    out
}

/// `<length> <key>=<value>\n`, the length counting itself.
fn pax_record(out: &mut String, key: &str, value: &str) {
    let rest = key.len() + value.len() + 3;
    let mut len = rest + 1;
    while rest + len.to_string().len() != len {
        len = rest + len.to_string().len();
    }
    let _ = writeln!(out, "{len} {key}={value}");
}

/// One ustar header block (uid/gid 0, no owner names); `link` is the
/// target of a link entry, empty for others.
fn ustar(name: &str, kind: u8, size: u64, mode: u32, mtime: u64, link: &str) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    // A longer name or target is in the PAX header; this is only a fallback.
    let name = &name.as_bytes()[..name.len().min(NAME_LEN)];
    h[..name.len()].copy_from_slice(name);
    let link = &link.as_bytes()[..link.len().min(NAME_LEN)];
    h[157..157 + link.len()].copy_from_slice(link);
    octal(&mut h[100..108], u64::from(mode));
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], size);
    octal(&mut h[136..148], mtime);
    h[156] = kind;
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    octal(&mut h[329..337], 0);
    octal(&mut h[337..345], 0);
    // The checksum is computed with its own field as spaces.
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

/// Zero-padded octal digits filling `field` but its last byte, then NUL.
fn octal(field: &mut [u8], value: u64) {
    let digits = field.len() - 1;
    let max = (1u64 << (3 * digits)) - 1;
    let text = format!("{:0digits$o}", value.min(max));
    field[..digits].copy_from_slice(text.as_bytes());
    field[digits] = 0;
}

/// Produces a [`TarPlan`]'s archive. Holds at most one header (or the
/// end-of-archive blocks) in memory.
pub(crate) struct TarReader {
    entries: std::vec::IntoIter<Planned>,
    /// Header, padding or end blocks not yet read, from `pos`.
    pending: Vec<u8>,
    pos: usize,
    /// The file whose content is being read.
    file: Option<Content>,
    finished: bool,
    check: Option<Check>,
    until: Deadline,
}

struct Content {
    file: File,
    path: PathBuf,
    left: u64,
    padding: usize,
}

impl TarReader {
    fn queue(&mut self, bytes: Vec<u8>) {
        self.pending = bytes;
        self.pos = 0;
    }

    /// Bytes held in memory (tests check that it stays small).
    #[cfg(test)]
    pub(crate) fn buffered(&self) -> usize {
        self.pending.capacity()
    }
}

fn path_error(path: &Path, e: &io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

impl Read for TarReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.until
            .check_io(|| "sending a build context".to_string())?;
        loop {
            if self.pos < self.pending.len() {
                let n = buf.len().min(self.pending.len() - self.pos);
                buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            if let Some(content) = &mut self.file {
                if content.left > 0 {
                    let want = buf
                        .len()
                        .min(usize::try_from(content.left).unwrap_or(usize::MAX));
                    let n = content
                        .file
                        .read(&mut buf[..want])
                        .map_err(|e| path_error(&content.path, &e))?;
                    if n == 0 {
                        let e = io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the file shrank while it was being uploaded",
                        );
                        return Err(path_error(&content.path, &e));
                    }
                    content.left -= n as u64;
                    if let Some(check) = &mut self.check {
                        check.md5.update(&buf[..n]);
                    }
                    return Ok(n);
                }
                // The header promised the size the file had when planned:
                // more bytes now would be left out of the archive.
                let mut probe = [0u8; 1];
                if content
                    .file
                    .read(&mut probe)
                    .map_err(|e| path_error(&content.path, &e))?
                    > 0
                {
                    let e = io::Error::new(
                        io::ErrorKind::InvalidData,
                        "the file grew while it was being uploaded",
                    );
                    return Err(path_error(&content.path, &e));
                }
                let padding = content.padding;
                self.file = None;
                self.queue(vec![0; padding]);
                continue;
            }
            match self.entries.next() {
                Some(entry) => {
                    if let (Some(check), Some(fed)) = (&mut self.check, &entry.fed) {
                        check.md5.update(fed.as_bytes());
                    }
                    if entry.kind == EntryKind::File && entry.size > 0 {
                        let file = open_file(&entry.disk_path, entry.named, entry.id)
                            .map_err(|e| path_error(&entry.disk_path, &e))?;
                        self.file = Some(Content {
                            file,
                            left: entry.size,
                            padding: padding(entry.size) as usize,
                            path: entry.disk_path.clone(),
                        });
                    }
                    self.queue(header(&entry));
                }
                None if !self.finished => {
                    if let Some(check) = self.check.take() {
                        let sent = format!("{:x}", check.md5.finalize());
                        if sent != check.expected {
                            return Err(io::Error::new(
                                io::ErrorKind::InvalidData,
                                format!(
                                    "the build context changed after it was hashed: \
                                     {sent} was being sent as {}; the upload was \
                                     stopped, nothing is stored under that hash",
                                    check.expected
                                ),
                            ));
                        }
                    }
                    self.finished = true;
                    self.queue(vec![0; 2 * BLOCK]);
                }
                None => return Ok(0),
            }
        }
    }
}

/// Helpers for tests of this module and of the upload.
#[cfg(test)]
pub(crate) mod testing {

    pub(crate) use crate::test_temp::TempDir;

    /// An entry as a reader of the archive sees it.
    #[derive(Debug, PartialEq, Eq)]
    pub(crate) struct Parsed {
        pub(crate) name: String,
        pub(crate) kind: u8,
        pub(crate) mode: u32,
        pub(crate) size: u64,
        pub(crate) data: Vec<u8>,
        /// The target of a link entry.
        pub(crate) link: Option<String>,
    }

    /// Reads an archive back with the `tar` crate, an independent reader
    /// (checksums, ustar and PAX headers), and checks that it ends with
    /// the two zero blocks and nothing after them.
    pub(crate) fn parse(archive: &[u8]) -> Vec<Parsed> {
        assert!(
            archive.len() >= 1024 && archive.len().is_multiple_of(512),
            "{}",
            archive.len()
        );
        assert!(
            archive[archive.len() - 1024..].iter().all(|&b| b == 0),
            "the two end blocks"
        );
        let mut reader = tar::Archive::new(archive);
        let mut out = Vec::new();
        let mut end = 0;
        for entry in reader.entries().unwrap() {
            let mut entry = entry.unwrap();
            let header = entry.header().clone();
            assert!(header.as_ustar().is_some(), "a ustar header");
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
            end = entry.raw_file_position() + entry.size().div_ceil(512) * 512;
            out.push(Parsed {
                name: String::from_utf8(entry.path_bytes().into_owned()).unwrap(),
                kind: header.entry_type().as_byte(),
                mode: header.mode().unwrap(),
                size: entry.size(),
                data,
                link: entry
                    .link_name_bytes()
                    .map(|l| String::from_utf8(l.into_owned()).unwrap()),
            });
        }
        assert_eq!(
            end as usize,
            archive.len() - 1024,
            "bytes after the entries"
        );
        out
    }
}

#[cfg(test)]
mod tests;
