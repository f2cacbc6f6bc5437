//! Downloads: `POST /files/bulk-download`, whose multipart answer is parsed
//! as it arrives and written to each file's destination chunk by chunk.

use std::fmt;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use ureq::http::{self, Method};

use super::multipart::{self, ParseError, Parser, PartHeaders};
use super::options::{Callback, Meter, TransferOptions, DEFAULT_MAX_IN_MEMORY};
use super::temp_file::TempFile;
use super::FileSystem;
use crate::error::{ApiError, Error, Result};
use crate::telemetry::traced;
use crate::transport::status::{error_fields, transport_error};
use crate::transport::{Request, Transport};

/// Largest error part kept (the rest is skipped).
const MAX_ERROR_PART: usize = 64 * 1024;

/// Most memory reserved up front from a part's `Content-Length`.
const MAX_RESERVE: u64 = 8 * 1024 * 1024;

/// One file to download and where its bytes go.
///
/// ```no_run
/// use daytona::toolbox::{Download, Downloaded, TransferOptions};
/// # let daytona = daytona::Daytona::from_env()?;
/// # let sandbox = daytona.get("my-sandbox")?;
///
/// let mut log = Vec::new();
/// let results = sandbox.fs().download_files(
///     [
///         Download::to_file("/home/daytona/out.bin", "results/out.bin"),
///         Download::to_bytes("/home/daytona/report.json"),
///         Download::to_writer("/var/log/app.log", &mut log),
///     ],
///     TransferOptions::new(),
/// )?;
/// for r in results {
///     match r.result {
///         Ok(Downloaded::Bytes(data)) => println!("{}: {} bytes", r.remote_path, data.len()),
///         Ok(done) => println!("{}: {} bytes", r.remote_path, done.size()),
///         Err(e) if e.is_not_found() => println!("{}: missing", r.remote_path),
///         Err(e) => return Err(e),
///     }
/// }
/// # Ok::<(), daytona::Error>(())
/// ```
#[must_use]
pub struct Download<'a> {
    remote: String,
    target: Target<'a>,
}

enum Target<'a> {
    File(PathBuf),
    Bytes,
    Writer(Box<dyn Write + 'a>),
}

impl fmt::Debug for Download<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = match &self.target {
            Target::File(path) => format!("file {}", path.display()),
            Target::Bytes => "bytes".to_string(),
            Target::Writer(_) => "writer".to_string(),
        };
        f.debug_struct("Download")
            .field("remote", &self.remote)
            .field("target", &target)
            .finish()
    }
}

impl<'a> Download<'a> {
    /// `remote` to the local file `local`: written to a temporary file
    /// beside it, renamed to `local` only when complete; missing parent
    /// folders are created.
    pub fn to_file(remote: impl Into<String>, local: impl AsRef<Path>) -> Self {
        Download {
            remote: remote.into(),
            target: Target::File(local.as_ref().to_path_buf()),
        }
    }

    /// `remote` into memory ([`Downloaded::Bytes`]): at most
    /// [`TransferOptions::max_in_memory`] bytes (256 MiB by default), past
    /// which the download fails with [`Error::TooLarge`].
    pub fn to_bytes(remote: impl Into<String>) -> Self {
        Download {
            remote: remote.into(),
            target: Target::Bytes,
        }
    }

    /// `remote` into `writer`, chunk by chunk as it arrives (pass `&mut w`
    /// to keep the writer). If the transfer fails midway, what was written
    /// stays written.
    pub fn to_writer(remote: impl Into<String>, writer: impl Write + 'a) -> Self {
        Download {
            remote: remote.into(),
            target: Target::Writer(Box::new(writer)),
        }
    }

    fn check(&self, index: usize) -> Result<()> {
        if self.remote.trim().is_empty() {
            return Err(Error::validation(
                "remote_path",
                format!("download {index} has an empty remote path"),
            ));
        }
        if let Target::File(path) = &self.target {
            if !names_a_file(path) || path.is_dir() {
                return Err(Error::validation(
                    "local_path",
                    format!("{:?} is not a file path", path.display().to_string()),
                ));
            }
        }
        Ok(())
    }
}

/// Whether `path` ends with a file name as written: `out/` and `out/.`
/// name the folder `out` (though [`Path::file_name`] reads `out` in them)
/// and could only fail at the rename, once the whole file had come.
fn names_a_file(path: &Path) -> bool {
    let text = path.as_os_str().to_string_lossy();
    let last = text.rsplit(std::path::is_separator).next().unwrap_or("");
    !matches!(last, "" | "." | "..") && path.file_name().is_some()
}

/// A downloaded file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Downloaded {
    /// Saved to a local file.
    File {
        /// The local path.
        path: PathBuf,
        /// Its size in bytes.
        size: u64,
    },
    /// Kept in memory.
    Bytes(Vec<u8>),
    /// Written to the caller's writer: this many bytes.
    Written(u64),
}

impl Downloaded {
    /// The size of the file in bytes.
    pub fn size(&self) -> u64 {
        match self {
            Downloaded::File { size, .. } | Downloaded::Written(size) => *size,
            Downloaded::Bytes(data) => data.len() as u64,
        }
    }
}

/// The outcome of one file of [`FileSystem::download_files`].
#[derive(Debug)]
#[non_exhaustive]
pub struct DownloadResult {
    /// The remote path, as requested.
    pub remote_path: String,
    /// The file, or why it could not be had: the toolbox's error (404 for a
    /// missing file, see [`Error::is_not_found`]), a local write failure
    /// ([`Error::Io`]), or [`Error::Decode`] when the answer had no part
    /// for it.
    pub result: Result<Downloaded>,
}

/// `FilesDownloadRequest`.
#[derive(Serialize)]
struct DownloadBody<'a> {
    paths: Vec<&'a str>,
}

impl FileSystem<'_> {
    /// Downloads `remote_path` to the local file `local_path` (see
    /// [`Download::to_file`]) and returns its size. A missing remote file
    /// is an error for which [`Error::is_not_found`] is true.
    ///
    /// ```no_run
    /// # let daytona = daytona::Daytona::from_env()?;
    /// # let sandbox = daytona.get("my-sandbox")?;
    /// let size = sandbox
    ///     .fs()
    ///     .download_file("/home/daytona/out.tar", "backup/out.tar")?;
    /// println!("{size} bytes");
    /// # Ok::<(), daytona::Error>(())
    /// ```
    pub fn download_file(&self, remote_path: &str, local_path: impl AsRef<Path>) -> Result<u64> {
        traced(self.tb.tracing(), "FileSystem.downloadFile", || {
            let download = Download::to_file(remote_path, local_path);
            Ok(self.download(download, TransferOptions::new())?.size())
        })
    }

    /// Downloads `remote_path` into memory: a file larger than
    /// [`DEFAULT_MAX_IN_MEMORY`] (256 MiB) is an [`Error::TooLarge`] (use
    /// [`FileSystem::download`] with [`TransferOptions::max_in_memory`]
    /// for another limit, or a path or a writer, which have none).
    pub fn download_bytes(&self, remote_path: &str) -> Result<Vec<u8>> {
        traced(self.tb.tracing(), "FileSystem.downloadFile", || match self
            .download(Download::to_bytes(remote_path), TransferOptions::new())?
        {
            Downloaded::Bytes(data) => Ok(data),
            _ => Ok(Vec::new()),
        })
    }

    /// Downloads `remote_path` into `writer` as it arrives and returns the
    /// number of bytes written.
    pub fn download_to(
        &self,
        remote_path: &str,
        writer: &mut (impl Write + ?Sized),
    ) -> Result<u64> {
        traced(self.tb.tracing(), "FileSystem.downloadFile", || {
            let download = Download::to_writer(remote_path, writer);
            Ok(self.download(download, TransferOptions::new())?.size())
        })
    }

    /// Downloads one file with `options`; its failure is the error.
    pub fn download(
        &self,
        download: Download<'_>,
        options: TransferOptions<'_>,
    ) -> Result<Downloaded> {
        traced(self.tb.tracing(), "FileSystem.downloadFile", || {
            let remote = download.remote.clone();
            self.download_files([download], options)?
                .pop()
                .map_or_else(|| Err(no_data("POST bulk-download", &remote)), |r| r.result)
        })
    }

    /// Downloads files in one request (`POST /files/bulk-download`), in
    /// constant memory (unless kept as bytes): the multipart answer is
    /// parsed as it arrives and each part written to its destination.
    ///
    /// Returns one result per download, in order: a file that could not be
    /// had does not fail the others. The call itself fails when the request
    /// does, or when the answer is cut short or malformed (a multipart
    /// answer without its closing boundary is truncated): then no partial
    /// file is left at a local path, files completed before remain, and
    /// writers keep what they were given. See [`Download`] for an example.
    pub fn download_files<'a>(
        &self,
        downloads: impl IntoIterator<Item = Download<'a>>,
        mut options: TransferOptions<'_>,
    ) -> Result<Vec<DownloadResult>> {
        traced(self.tb.tracing(), "FileSystem.downloadFiles", || {
            let mut slots: Vec<Slot<'a>> = Vec::new();
            for (i, download) in downloads.into_iter().enumerate() {
                download.check(i)?;
                slots.push(Slot {
                    download,
                    result: None,
                });
            }
            if slots.is_empty() {
                return Err(Error::validation("downloads", "must not be empty"));
            }
            let body = DownloadBody {
                paths: slots.iter().map(|s| s.download.remote.as_str()).collect(),
            };
            let timeout = options.timeout.unwrap_or_else(|| self.transfer_timeout());
            let mut req = self
                .files(Method::POST, &["bulk-download"])?
                .json(&body)
                // The spec's only answer is `multipart/form-data`: asking for
                // JSON (the default) gets a 406 from a server that negotiates.
                .header("Accept", "multipart/form-data")
                .timeout(timeout);
            let op = req.operation().to_string();
            let max_in_memory = options.max_in_memory;
            let mut receiver = Receiver {
                op: &op,
                started: Instant::now(),
                max_in_memory,
                progress: options.callback(),
            };
            let transport = self.tb.transport();
            transport.execute(&mut req, |resp| receiver.receive(resp, &mut slots))?;
            Ok(slots
                .into_iter()
                .map(|s| DownloadResult {
                    // An error part is the server's text: it may echo the
                    // credential.
                    result: s
                        .result
                        .unwrap_or_else(|| Err(no_data(&op, &s.download.remote)))
                        .map_err(|e| transport.redact(e)),
                    remote_path: s.download.remote,
                })
                .collect())
        })
    }
}

/// Sends `req`, whose answer is one file as it is (not multipart, such as
/// a screen recording), and streams it to `download`'s target through the
/// same sinks as [`FileSystem::download_files`]: a temporary file renamed
/// only when complete, memory, or a writer. An answer shorter than its
/// `Content-Length` is an error and leaves no file; one kept in memory
/// stops at [`DEFAULT_MAX_IN_MEMORY`]. Once the answer has
/// begun the request is not sent again (a writer must not get the start
/// twice).
pub(crate) fn download_body(
    transport: &Transport,
    req: Request<'_>,
    mut download: Download<'_>,
) -> Result<Downloaded> {
    download.check(0)?;
    let mut req = req.streamed();
    let op = req.operation().to_string();
    let started = Instant::now();
    transport.execute(&mut req, |resp| {
        let length = resp.body().content_length();
        let limit = Limit {
            op: &op,
            remote: &download.remote,
            max: DEFAULT_MAX_IN_MEMORY,
        };
        let mut sink = Sink::open(&mut download.target, length, limit)?;
        let mut reader = resp.into_body().into_reader();
        let mut buf = vec![0; 64 * 1024];
        let mut received: u64 = 0;
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(transport_error(e.into(), &op, started.elapsed())),
            };
            sink.write(&buf[..n])?;
            received = received.saturating_add(n as u64);
        }
        if let Some(expected) = length.filter(|l| *l != received) {
            return Err(Error::Decode {
                operation: op.clone(),
                message: format!("the answer was cut short: {received} of {expected} bytes"),
                excerpt: String::new(),
            });
        }
        sink.finish(received)
    })
}

fn no_data(op: &str, remote: &str) -> Error {
    Error::Decode {
        operation: op.to_string(),
        message: format!("no data received for {remote}"),
        excerpt: String::new(),
    }
}

/// A requested file and, once its part has come, its outcome.
struct Slot<'a> {
    download: Download<'a>,
    result: Option<Result<Downloaded>>,
}

/// Reads one answer into the slots.
struct Receiver<'r> {
    op: &'r str,
    started: Instant,
    /// The most bytes of one file kept in memory.
    max_in_memory: u64,
    progress: Callback<'r>,
}

impl Receiver<'_> {
    fn receive(&mut self, resp: http::Response<ureq::Body>, slots: &mut [Slot<'_>]) -> Result<()> {
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let boundary = multipart::boundary_of(&content_type).ok_or_else(|| Error::Decode {
            operation: self.op.to_string(),
            message: format!("expected a multipart answer, got content type {content_type:?}"),
            excerpt: String::new(),
        })?;
        let mut parser = Parser::new(resp.into_body().into_reader(), &boundary);
        let mut unsettled = None;
        let outcome = self.parts(&mut parser, slots, &mut unsettled);
        // The answer failed after it: the part ended at its delimiter, as
        // complete as a part without a length can be.
        if let Some((i, received)) = unsettled {
            slots[i].result = Some(received.settle());
        }
        outcome
    }

    /// Reads the parts into the slots. A file part without a length is
    /// taken as complete only once the next part is seen (`unsettled` until
    /// then): toolboxes before v0.163 sent a file whose reading failed
    /// midway as a part cut short at a delimiter, then an `error` part
    /// naming it.
    fn parts(
        &mut self,
        parser: &mut Parser<impl Read>,
        slots: &mut [Slot<'_>],
        unsettled: &mut Option<(usize, Received)>,
    ) -> Result<()> {
        while let Some(part) = parser.next_part().map_err(|e| self.error(e))? {
            let kind = part.name.as_deref();
            if let Some((i, received)) = unsettled.take() {
                let remote = slots[i].download.remote.as_str();
                if kind == Some("error") && part.filename_is(remote) {
                    // Dropping a temporary file removes it.
                    drop(received);
                    slots[i].result = Some(Err(self.error_part(parser, remote)?));
                    continue;
                }
                slots[i].result = Some(received.settle());
            }
            if kind != Some("file") && kind != Some("error") {
                continue;
            }
            let Some(i) = slots
                .iter()
                .position(|s| s.result.is_none() && part.filename_is(&s.download.remote))
            else {
                continue;
            };
            if kind == Some("error") {
                let error = self.error_part(parser, &slots[i].download.remote)?;
                slots[i].result = Some(Err(error));
                continue;
            }
            let received = self.file(parser, &part, &mut slots[i].download)?;
            match part.content_length {
                // Complete by its length (a short one is already an error).
                Some(_) => slots[i].result = Some(received.settle()),
                None => *unsettled = Some((i, received)),
            }
        }
        Ok(())
    }

    /// Streams a file part to its destination. The outer error fails the
    /// whole answer, the inner one only this file.
    fn file(
        &mut self,
        parser: &mut Parser<impl Read>,
        part: &PartHeaders,
        download: &mut Download<'_>,
    ) -> Result<Received> {
        let remote = download.remote.as_str();
        let limit = Limit {
            op: self.op,
            remote,
            max: self.max_in_memory,
        };
        let (mut sink, mut failed) =
            match Sink::open(&mut download.target, part.content_length, limit) {
                // A file past the memory limit may never end: the whole
                // answer stops here.
                Err(e @ Error::TooLarge { .. }) => return Err(e),
                Ok(sink) => (Some(sink), None),
                Err(e) => (None, Some(e)),
            };
        let mut meter = Meter::new(part.content_length);
        while let Some(chunk) = parser.chunk().map_err(|e| self.error(e))? {
            meter.add(self.progress.as_deref_mut(), remote, chunk.len());
            if let Some(s) = &mut sink {
                if let Err(e) = s.write(chunk) {
                    if matches!(e, Error::TooLarge { .. }) {
                        return Err(e);
                    }
                    failed = Some(e);
                    // Dropping a temporary file removes it.
                    sink = None;
                }
            }
        }
        meter.finish(self.progress.as_deref_mut(), remote);
        // A part that ends at a boundary short of the length it announced
        // lost bytes on the way (or its file shrank as it was read): never
        // saved as complete. One past it is a file that grew while the
        // toolbox read it (a log being written), sent to its new end: all
        // of it is kept.
        if let Some(expected) = part.content_length.filter(|l| meter.bytes < *l) {
            failed.get_or_insert(Error::Decode {
                operation: format!("{} ({remote})", self.op),
                message: format!(
                    "the file's part has {} of the {expected} bytes it announced",
                    meter.bytes
                ),
                excerpt: String::new(),
            });
        }
        Ok(match (sink, failed) {
            (Some(sink), None) => sink.received(meter.bytes),
            (_, error) => Received::Done(Err(error.unwrap_or_else(|| no_data(self.op, remote)))),
        })
    }

    /// The error an `error` part describes.
    fn error_part(&mut self, parser: &mut Parser<impl Read>, remote: &str) -> Result<Error> {
        let mut body = Vec::new();
        while let Some(chunk) = parser.chunk().map_err(|e| self.error(e))? {
            let room = MAX_ERROR_PART.saturating_sub(body.len());
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        }
        let (message, code) = error_fields(&body);
        let status = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| {
                ["statusCode", "status_code", "status"]
                    .iter()
                    .find_map(|k| v.get(*k).and_then(serde_json::Value::as_u64))
            })
            .and_then(|s| u16::try_from(s).ok())
            // Older toolboxes send plain text without a status.
            .unwrap_or(if message.to_lowercase().contains("not found") {
                404
            } else {
                500
            });
        Ok(Error::Api(Box::new(ApiError {
            status,
            message,
            code,
            retry_after: None,
            operation: format!("{} ({remote})", self.op),
        })))
    }

    fn error(&self, e: ParseError) -> Error {
        match e {
            ParseError::Read(e) => transport_error(e.into(), self.op, self.started.elapsed()),
            ParseError::Malformed(message) => Error::Decode {
                operation: self.op.to_string(),
                message,
                excerpt: String::new(),
            },
        }
    }
}

/// The memory limit of a download into memory, and what its error names.
#[derive(Clone, Copy)]
struct Limit<'l> {
    op: &'l str,
    remote: &'l str,
    max: u64,
}

impl Limit<'_> {
    fn error(&self) -> Error {
        Error::TooLarge {
            operation: self.op.to_string(),
            what: format!("the download of {} into memory", self.remote),
            limit: self.max,
            unit: "bytes",
        }
    }
}

/// Where the bytes of one part go.
enum Sink<'w> {
    File(TempFile),
    Bytes(Vec<u8>, Limit<'w>),
    Writer(&'w mut (dyn Write + 'w)),
}

impl<'w> Sink<'w> {
    fn open(target: &'w mut Target<'_>, length: Option<u64>, limit: Limit<'w>) -> Result<Self> {
        Ok(match target {
            Target::File(path) => Sink::File(TempFile::create(path)?),
            Target::Bytes => {
                if length.is_some_and(|l| l > limit.max) {
                    return Err(limit.error());
                }
                let reserve = length.unwrap_or(0).min(MAX_RESERVE);
                let data = Vec::with_capacity(usize::try_from(reserve).unwrap_or(0));
                Sink::Bytes(data, limit)
            }
            Target::Writer(writer) => Sink::Writer(writer),
        })
    }

    fn write(&mut self, chunk: &[u8]) -> Result<()> {
        match self {
            Sink::File(temp) => temp.write_all(chunk),
            Sink::Bytes(data, limit) => {
                let total = (data.len() as u64).saturating_add(chunk.len() as u64);
                if total > limit.max {
                    return Err(limit.error());
                }
                data.extend_from_slice(chunk);
                Ok(())
            }
            Sink::Writer(writer) => writer.write_all(chunk).map_err(writer_error),
        }
    }

    /// All `size` bytes have come: the outcome, a file not yet in place.
    fn received(self, size: u64) -> Received {
        Received::Done(match self {
            Sink::File(temp) => return Received::Temp(temp, size),
            Sink::Bytes(data, _) => Ok(Downloaded::Bytes(data)),
            Sink::Writer(writer) => writer
                .flush()
                .map(|()| Downloaded::Written(size))
                .map_err(writer_error),
        })
    }

    fn finish(self, size: u64) -> Result<Downloaded> {
        self.received(size).settle()
    }
}

/// The outcome of a file part; a file that came whole stays under its
/// temporary name until [`Received::settle`].
enum Received {
    Done(Result<Downloaded>),
    Temp(TempFile, u64),
}

impl Received {
    /// The outcome, the file renamed into place.
    fn settle(self) -> Result<Downloaded> {
        match self {
            Received::Done(result) => result,
            Received::Temp(temp, size) => temp.commit().map(|path| Downloaded::File { path, size }),
        }
    }
}

fn writer_error(source: io::Error) -> Error {
    Error::Io {
        path: "<writer>".to_string(),
        source,
    }
}
