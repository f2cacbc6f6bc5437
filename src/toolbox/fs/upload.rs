//! Uploads: `POST /files/bulk-upload`, one `multipart/form-data` request
//! for any number of files, read from their sources as it is sent: with
//! its exact `Content-Length` when every source's size is known, chunked
//! otherwise.

mod body;

use std::borrow::Cow;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ureq::http::Method;

use self::body::Body;
use super::multipart;
use super::options::TransferOptions;
use super::FileSystem;
use crate::error::{Error, Result};
use crate::local_file::open_regular;
use crate::telemetry::traced;
use crate::transport::drain;

/// One file of an upload: where its bytes come from and where they go.
///
/// ```no_run
/// use daytona::toolbox::{TransferOptions, Upload};
/// # let daytona = daytona::Daytona::from_env()?;
/// # let sandbox = daytona.get("my-sandbox")?;
///
/// let log = std::io::Cursor::new(b"generated\n".to_vec());
/// sandbox.fs().upload_files(
///     [
///         Upload::file("model.bin", "/home/daytona/model.bin"),
///         Upload::bytes(&b"x = 1\n"[..], "/home/daytona/config.py"),
///         Upload::reader(log, "/home/daytona/log.txt").size(10),
///     ],
///     TransferOptions::new().progress(|p| eprintln!("{} {}", p.remote_path, p.bytes)),
/// )?;
/// # Ok::<(), daytona::Error>(())
/// ```
#[must_use]
pub struct Upload<'a> {
    source: Source<'a>,
    remote: String,
    size: Option<u64>,
}

enum Source<'a> {
    File(PathBuf),
    Bytes(Cow<'a, [u8]>),
    Reader(Box<dyn Read + Send + 'a>),
}

impl fmt::Debug for Upload<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            Source::File(path) => format!("file {}", path.display()),
            Source::Bytes(bytes) => format!("{} bytes", bytes.len()),
            Source::Reader(_) => "reader".to_string(),
        };
        f.debug_struct("Upload")
            .field("source", &source)
            .field("remote", &self.remote)
            .field("size", &self.size)
            .finish()
    }
}

impl<'a> Upload<'a> {
    /// The local file `local`, to `remote`. The file is opened when its
    /// turn comes, so many files do not hold many descriptors. Its size is
    /// the one the file system reports when the upload is checked (a
    /// pseudo-file that reports 0 and is not empty is read to its end
    /// instead); for a file whose reported size is not its content (some
    /// of `/sys`), give [`Upload::reader`] the opened file.
    ///
    /// Only regular files (links to them included) are sent: a FIFO, a
    /// socket or a device, which may never end or block the upload for
    /// ever, is an [`Error::Validation`] naming the path before any
    /// request. To send such a stream on purpose, open it and give it to
    /// [`Upload::reader`].
    pub fn file(local: impl AsRef<Path>, remote: impl Into<String>) -> Self {
        Upload {
            source: Source::File(local.as_ref().to_path_buf()),
            remote: remote.into(),
            size: None,
        }
    }

    /// These bytes (borrowed or owned), to `remote`.
    pub fn bytes(data: impl Into<Cow<'a, [u8]>>, remote: impl Into<String>) -> Self {
        Upload {
            source: Source::Bytes(data.into()),
            remote: remote.into(),
            size: None,
        }
    }

    /// Everything `reader` yields until its end, to `remote`.
    pub fn reader(reader: impl Read + Send + 'a, remote: impl Into<String>) -> Self {
        Upload {
            source: Source::Reader(Box::new(reader)),
            remote: remote.into(),
            size: None,
        }
    }

    /// The number of bytes the source yields, which is also the progress
    /// total. Files and byte slices know theirs (a different value is a
    /// validation error). For a reader, it lets the upload be sent with a
    /// `Content-Length` (see [`FileSystem::upload_files`]), and the reader
    /// must then yield exactly that many bytes: more or fewer fail the
    /// upload with [`Error::Io`].
    pub fn size(mut self, size: u64) -> Self {
        self.size = Some(size);
        self
    }

    /// Checks the upload before any request: a remote path, an existing
    /// local file, a size that matches the source's. Afterwards `size` is
    /// the exact number of bytes to send, when known.
    fn checked(mut self, index: usize) -> Result<Self> {
        if self.remote.trim().is_empty() {
            return Err(Error::validation(
                "remote_path",
                format!("upload {index} has an empty remote path"),
            ));
        }
        let trimmed = self.remote.trim();
        if trimmed != self.remote {
            // The toolbox trims the path: the file would go elsewhere.
            return Err(Error::validation(
                "remote_path",
                format!(
                    "upload {index}'s remote path {:?} begins or ends with white space, \
                     which toolboxes remove (it would be written to {trimmed:?})",
                    self.remote
                ),
            ));
        }
        let known = match &self.source {
            Source::File(path) => file_size(path)?,
            Source::Bytes(bytes) => Some(bytes.len() as u64),
            Source::Reader(_) => None,
        };
        match (known, self.size) {
            (Some(known), Some(given)) if known != given => {
                return Err(Error::validation(
                    "size",
                    format!("upload {index} is given {given} bytes, its source has {known}"),
                ))
            }
            (Some(known), _) => self.size = Some(known),
            (None, _) => {}
        }
        Ok(self)
    }
}

/// The size of the local file `path` when it is known before reading it: a
/// regular file's. A pseudo-file that says it is empty but is not (as those
/// of `/proc` do) has none: it is read to its end. Anything but a regular
/// file (a FIFO, a socket, a device) is refused.
fn file_size(path: &Path) -> Result<Option<u64>> {
    let io = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        return Err(Error::validation(
            "local_path",
            format!("{} is a folder, not a file", path.display()),
        ));
    }
    if !meta.is_file() {
        return Err(Error::validation(
            "local_path",
            format!(
                "{} is not a regular file (a FIFO, a socket or a device): only regular \
                 files are uploaded; open it and use Upload::reader to send a stream",
                path.display()
            ),
        ));
    }
    if meta.len() > 0 {
        return Ok(Some(meta.len()));
    }
    let mut probe = [0u8; 1];
    let read = open_regular(path).and_then(|mut f| f.read(&mut probe));
    Ok((read.map_err(io)? == 0).then_some(0))
}

impl FileSystem<'_> {
    /// Uploads the local file `local_path` to `remote_path`, streaming it.
    ///
    /// ```no_run
    /// # let daytona = daytona::Daytona::from_env()?;
    /// # let sandbox = daytona.get("my-sandbox")?;
    /// sandbox.fs().upload_file("data.csv", "/home/daytona/data.csv")?;
    /// # Ok::<(), daytona::Error>(())
    /// ```
    pub fn upload_file(&self, local_path: impl AsRef<Path>, remote_path: &str) -> Result<()> {
        traced(self.tb.tracing(), "FileSystem.uploadFile", || {
            self.upload_files(
                [Upload::file(local_path, remote_path)],
                TransferOptions::new(),
            )
        })
    }

    /// Uploads `data` to `remote_path`.
    pub fn upload_bytes(&self, data: impl AsRef<[u8]>, remote_path: &str) -> Result<()> {
        traced(self.tb.tracing(), "FileSystem.uploadFile", || {
            let upload = Upload::bytes(data.as_ref(), remote_path);
            self.upload_files([upload], TransferOptions::new())
        })
    }

    /// Uploads everything `reader` yields to `remote_path`, streaming it.
    pub fn upload_reader(&self, reader: impl Read + Send, remote_path: &str) -> Result<()> {
        traced(self.tb.tracing(), "FileSystem.uploadFile", || {
            self.upload_files(
                [Upload::reader(reader, remote_path)],
                TransferOptions::new(),
            )
        })
    }

    /// Uploads files in one request (`POST /files/bulk-upload`), each read
    /// as the request goes: memory does not grow with their size.
    ///
    /// Every upload is checked before the request (remote paths not empty
    /// and without white space at either end, which the toolbox would
    /// remove; local files exist; sizes match their sources). When the size of
    /// every upload is known (local regular files, bytes, readers given
    /// [`Upload::size`]), the request carries the exact `Content-Length`
    /// of its body; otherwise it is sent with chunked transfer encoding,
    /// which some proxies buffer or refuse. A file that changes size
    /// between the check and the end of its sending, or a reader that
    /// yields another number of bytes than its size, fails the request
    /// with [`Error::Io`] (the server sees a body cut short, never one
    /// that differs from its length), as does a source that fails while
    /// being read. Files completed before a failure remain. Toolboxes may
    /// write a file in place as it arrives (those since v0.178 do), so a
    /// failed request may leave the file it was sending cut short at its
    /// remote path (send it again, or delete it). For a file that must
    /// never be seen partial, upload to another path and
    /// [`move_files`](FileSystem::move_files) it into place once the
    /// upload succeeded. See [`Upload`] for an example.
    pub fn upload_files<'a>(
        &self,
        uploads: impl IntoIterator<Item = Upload<'a>>,
        mut options: TransferOptions<'_>,
    ) -> Result<()> {
        traced(self.tb.tracing(), "FileSystem.uploadFiles", || {
            let uploads = uploads
                .into_iter()
                .enumerate()
                .map(|(i, u)| u.checked(i))
                .collect::<Result<Vec<_>>>()?;
            if uploads.is_empty() {
                return Err(Error::validation("uploads", "must not be empty"));
            }
            let timeout = options.timeout.unwrap_or_else(|| self.transfer_timeout());
            let failure = Mutex::new(None);
            let body = Body::new(
                multipart::new_boundary(),
                uploads,
                options.callback(),
                &failure,
            );
            let content_type = format!("multipart/form-data; boundary={}", body.boundary);
            let mut req = self.files(Method::POST, &["bulk-upload"])?.timeout(timeout);
            if let Some(length) = body.left {
                req = req.header("Content-Length", length.to_string());
            }
            let mut req = req.stream(content_type, body);
            let op = req.operation().to_string();
            // The answer lists every file written: for a wide upload, more
            // than any JSON answer may hold. Nothing here needs it.
            let sent = self
                .tb
                .transport()
                .execute(&mut req, |resp| drain(resp, &op, u64::MAX));
            drop(req);
            let failure = failure.into_inner().unwrap_or_else(|e| e.into_inner());
            match (sent, failure) {
                (Err(_), Some(local)) => Err(local),
                (sent, _) => sent,
            }
        })
    }

    /// The client's transfer timeout.
    pub(super) fn transfer_timeout(&self) -> std::time::Duration {
        self.tb.sandbox().client().inner.transfer_timeout
    }
}
