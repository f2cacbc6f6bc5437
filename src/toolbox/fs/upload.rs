//! Uploads: `POST /files/bulk-upload`, one chunked `multipart/form-data`
//! request for any number of files, read from their sources as it is sent.

use std::borrow::Cow;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ureq::http::Method;

use super::multipart;
use super::options::{Callback, Meter, TransferOptions};
use super::FileSystem;
use crate::error::{Error, Result};
use crate::transport::read_body;

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
    /// turn comes, so many files do not hold many descriptors.
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

    /// The size to report as the progress total (known already for files
    /// and bytes). It does not limit what is sent.
    pub fn size(mut self, size: u64) -> Self {
        self.size = Some(size);
        self
    }

    /// Checks the upload before any request: a remote path, an existing
    /// local file (whose size becomes the total).
    fn checked(mut self, index: usize) -> Result<Self> {
        if self.remote.trim().is_empty() {
            return Err(Error::validation(
                "remote_path",
                format!("upload {index} has an empty remote path"),
            ));
        }
        match &self.source {
            Source::File(path) => {
                let meta = std::fs::metadata(path).map_err(|source| Error::Io {
                    path: path.display().to_string(),
                    source,
                })?;
                if meta.is_dir() {
                    return Err(Error::validation(
                        "local_path",
                        format!("{} is a folder, not a file", path.display()),
                    ));
                }
                self.size = self.size.or(Some(meta.len()));
            }
            Source::Bytes(bytes) => self.size = self.size.or(Some(bytes.len() as u64)),
            Source::Reader(_) => {}
        }
        Ok(self)
    }
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
        self.upload_files(
            [Upload::file(local_path, remote_path)],
            TransferOptions::new(),
        )
    }

    /// Uploads `data` to `remote_path`.
    pub fn upload_bytes(&self, data: impl AsRef<[u8]>, remote_path: &str) -> Result<()> {
        let upload = Upload::bytes(data.as_ref(), remote_path);
        self.upload_files([upload], TransferOptions::new())
    }

    /// Uploads everything `reader` yields to `remote_path`, streaming it.
    pub fn upload_reader(&self, reader: impl Read + Send, remote_path: &str) -> Result<()> {
        self.upload_files(
            [Upload::reader(reader, remote_path)],
            TransferOptions::new(),
        )
    }

    /// Uploads files in one request (`POST /files/bulk-upload`), each read
    /// as the request goes: memory does not grow with their size.
    ///
    /// Every upload is checked before the request (remote paths not empty,
    /// local files exist). A source that fails while being read fails the
    /// request with [`Error::Io`]. The toolbox writes each file to a
    /// temporary file and renames it when complete, so a failed request
    /// leaves no partial file behind (files completed before the failure
    /// remain). See [`Upload`] for an example.
    pub fn upload_files<'a>(
        &self,
        uploads: impl IntoIterator<Item = Upload<'a>>,
        mut options: TransferOptions<'_>,
    ) -> Result<()> {
        let uploads = uploads
            .into_iter()
            .enumerate()
            .map(|(i, u)| u.checked(i))
            .collect::<Result<Vec<_>>>()?;
        if uploads.is_empty() {
            return Err(Error::validation("uploads", "must not be empty"));
        }
        let timeout = options.timeout.unwrap_or_else(|| self.transfer_timeout());
        let boundary = multipart::new_boundary();
        let failure = Mutex::new(None);
        let body = Body {
            head: Vec::new(),
            head_pos: 0,
            pending: uploads.into_iter(),
            index: 0,
            current: None,
            closed: false,
            progress: options.callback(),
            failure: &failure,
            boundary,
        };
        let content_type = format!("multipart/form-data; boundary={}", body.boundary);
        let mut req = self
            .files(Method::POST, &["bulk-upload"])?
            .timeout(timeout)
            .stream(content_type, body);
        let op = req.operation().to_string();
        let sent = self
            .tb
            .transport()
            .execute(&mut req, |resp| read_body(resp, &op).map(drop));
        drop(req);
        let failure = failure.into_inner().unwrap_or_else(|e| e.into_inner());
        match (sent, failure) {
            (Err(_), Some(local)) => Err(local),
            (sent, _) => sent,
        }
    }

    /// The client's transfer timeout.
    pub(super) fn transfer_timeout(&self) -> std::time::Duration {
        self.tb.sandbox().client().inner.transfer_timeout
    }
}

/// The file being sent.
struct Current<'b> {
    remote: String,
    reader: Reader<'b>,
    meter: Meter,
}

enum Reader<'b> {
    File(File, PathBuf),
    Bytes(Cow<'b, [u8]>, usize),
    Other(Box<dyn Read + Send + 'b>),
}

impl Current<'_> {
    /// Reads from the source; an error comes back as the crate's error.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        loop {
            let result = match &mut self.reader {
                Reader::File(file, _) => file.read(buf),
                Reader::Bytes(bytes, pos) => {
                    let rest = &bytes[*pos..];
                    let n = rest.len().min(buf.len());
                    buf[..n].copy_from_slice(&rest[..n]);
                    *pos += n;
                    Ok(n)
                }
                Reader::Other(reader) => reader.read(buf),
            };
            match result {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => {
                    let path = match &self.reader {
                        Reader::File(_, path) => path.display().to_string(),
                        _ => format!("reader for {}", self.remote),
                    };
                    return Err(Error::Io { path, source });
                }
                Ok(n) => return Ok(n),
            }
        }
    }
}

/// The request body: the multipart encoding of the uploads, produced as
/// ureq reads it.
struct Body<'b> {
    boundary: String,
    /// Encoding bytes to send before going on.
    head: Vec<u8>,
    head_pos: usize,
    pending: std::vec::IntoIter<Upload<'b>>,
    index: usize,
    current: Option<Current<'b>>,
    closed: bool,
    progress: Callback<'b>,
    /// Why a source failed: ureq only sees an I/O error.
    failure: &'b Mutex<Option<Error>>,
}

impl Body<'_> {
    fn set_head(&mut self, head: Vec<u8>) {
        self.head = head;
        self.head_pos = 0;
    }

    fn fail(&self, error: Error) -> io::Error {
        let message = error.to_string();
        if let Ok(mut slot) = self.failure.lock() {
            *slot = Some(error);
        }
        io::Error::other(message)
    }
}

impl Read for Body<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.head_pos < self.head.len() {
                let rest = &self.head[self.head_pos..];
                let n = rest.len().min(buf.len());
                buf[..n].copy_from_slice(&rest[..n]);
                self.head_pos += n;
                return Ok(n);
            }
            if let Some(cur) = &mut self.current {
                let n = match cur.read(buf) {
                    Ok(n) => n,
                    Err(e) => return Err(self.fail(e)),
                };
                if n > 0 {
                    cur.meter.add(self.progress.as_deref_mut(), &cur.remote, n);
                    return Ok(n);
                }
                cur.meter.finish(self.progress.as_deref_mut(), &cur.remote);
                self.current = None;
                self.set_head(b"\r\n".to_vec());
                continue;
            }
            let Some(upload) = self.pending.next() else {
                if self.closed {
                    return Ok(0);
                }
                self.closed = true;
                self.set_head(multipart::closing(&self.boundary));
                continue;
            };
            let reader = match upload.source {
                Source::File(path) => match File::open(&path) {
                    Ok(file) => Reader::File(file, path),
                    Err(source) => {
                        let path = path.display().to_string();
                        return Err(self.fail(Error::Io { path, source }));
                    }
                },
                Source::Bytes(bytes) => Reader::Bytes(bytes, 0),
                Source::Reader(reader) => Reader::Other(reader),
            };
            self.set_head(multipart::upload_head(
                &self.boundary,
                self.index,
                &upload.remote,
            ));
            self.index += 1;
            self.current = Some(Current {
                remote: upload.remote,
                reader,
                meter: Meter::new(upload.size),
            });
        }
    }
}
