//! The request body of an upload: the multipart encoding of the uploads,
//! produced as ureq reads it, each source read in turn through one buffer
//! (ureq's). Sources of a known size must yield exactly that size: the
//! body's `Content-Length` counts on it.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::super::multipart;
use super::super::options::{Callback, Meter};
use super::{Source, Upload};
use crate::error::{Error, Result};
use crate::local_file::open_regular;

/// The exact length of the multipart body of `uploads` when every size is
/// known (see [`Upload::checked`]).
fn body_length(boundary: &str, uploads: &[Upload<'_>]) -> Option<u64> {
    let closing = multipart::closing(boundary).len() as u64;
    uploads
        .iter()
        .enumerate()
        .try_fold(closing, |total, (index, upload)| {
            let head = multipart::upload_head(boundary, index, &upload.remote).len() as u64;
            // The file's bytes and the CRLF after them.
            total
                .checked_add(head)?
                .checked_add(upload.size?)?
                .checked_add(2)
        })
}

/// The file being sent.
struct Current<'b> {
    remote: String,
    reader: Reader<'b>,
    meter: Meter,
    /// The bytes it must yield, when known (the body's length counts on
    /// them).
    expected: Option<u64>,
    /// The bytes it has yielded.
    sent: u64,
}

enum Reader<'b> {
    File(File, PathBuf),
    Bytes(Cow<'b, [u8]>, usize),
    Other(Box<dyn Read + Send + 'b>),
}

impl Current<'_> {
    /// Reads from the source, exactly [`Current::expected`] bytes when
    /// set; an error comes back as the crate's error.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        let Some(expected) = self.expected else {
            return self.read_source(buf);
        };
        if self.sent == expected {
            // Everything promised is sent: the source must be at its end.
            let mut probe = [0u8; 1];
            return match self.read_source(&mut probe)? {
                0 => Ok(0),
                _ => Err(self.changed_size(expected, None)),
            };
        }
        let left = usize::try_from(expected - self.sent).unwrap_or(usize::MAX);
        let n = buf.len().min(left);
        let n = self.read_source(&mut buf[..n])?;
        if n == 0 {
            return Err(self.changed_size(expected, Some(self.sent)));
        }
        self.sent += n as u64;
        Ok(n)
    }

    /// Why the source did not yield its `expected` size: it ended after
    /// `got` bytes, or (`None`) went on past it.
    fn changed_size(&self, expected: u64, got: Option<u64>) -> Error {
        let (path, message) = match (&self.reader, got) {
            (Reader::File(_, path), None) => (
                path.display().to_string(),
                format!(
                    "the file grew while it was being uploaded: it had {expected} bytes \
                     when the upload started"
                ),
            ),
            (Reader::File(_, path), Some(got)) => (
                path.display().to_string(),
                format!(
                    "the file shrank while it was being uploaded: it ended after {got} of \
                     the {expected} bytes it had when the upload started"
                ),
            ),
            (_, None) => (
                format!("reader for {}", self.remote),
                format!("the reader yielded more than its size of {expected} bytes"),
            ),
            (_, Some(got)) => (
                format!("reader for {}", self.remote),
                format!("the reader ended after {got} of its size of {expected} bytes"),
            ),
        };
        let kind = match got {
            Some(_) => io::ErrorKind::UnexpectedEof,
            None => io::ErrorKind::InvalidData,
        };
        Error::Io {
            path,
            source: io::Error::new(kind, message),
        }
    }

    /// Reads from the source as it is.
    fn read_source(&mut self, buf: &mut [u8]) -> Result<usize> {
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
pub(super) struct Body<'b> {
    pub(super) boundary: String,
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
    /// Bytes still to send when the request has a `Content-Length`.
    pub(super) left: Option<u64>,
}

impl<'b> Body<'b> {
    /// The body of `uploads` (checked), with its length when every size
    /// is known.
    pub(super) fn new(
        boundary: String,
        uploads: Vec<Upload<'b>>,
        progress: Callback<'b>,
        failure: &'b Mutex<Option<Error>>,
    ) -> Self {
        Body {
            left: body_length(&boundary, &uploads),
            head: Vec::new(),
            head_pos: 0,
            pending: uploads.into_iter(),
            index: 0,
            current: None,
            closed: false,
            progress,
            failure,
            boundary,
        }
    }

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
        let n = self.produce(buf)?;
        // The sizes were checked as the parts went, so this holds; but a
        // length-delimited body that ended early would leave the request
        // waiting for bytes that never come.
        if let Some(left) = self.left {
            let ended_early = n == 0 && left > 0 && !buf.is_empty();
            match left.checked_sub(n as u64) {
                Some(rest) if !ended_early => self.left = Some(rest),
                _ => {
                    let message = format!(
                        "the upload body does not match its length ({left} bytes left, {n} read)"
                    );
                    return Err(io::Error::other(message));
                }
            }
        }
        Ok(n)
    }
}

impl Body<'_> {
    /// The next bytes of the body.
    fn produce(&mut self, buf: &mut [u8]) -> io::Result<usize> {
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
                Source::File(path) => match open(&path, upload.size) {
                    Ok(file) => Reader::File(file, path),
                    Err(e) => return Err(self.fail(e)),
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
                expected: upload.size,
                sent: 0,
            });
        }
    }
}

/// Opens the file `path` of an upload; when its size was `expected` and the
/// file system now reports another, fails before sending any of it. (A
/// size of 0 proves nothing: pseudo-files report it. Reading tells.)
fn open(path: &Path, expected: Option<u64>) -> Result<File> {
    let io = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    // Checked again as it is opened: a FIFO that took the file's place is
    // refused, not waited on.
    let file = open_regular(path).map_err(io)?;
    if let Some(expected) = expected {
        let meta = file.metadata().map_err(io)?;
        let now = meta.len();
        if meta.is_file() && now != 0 && now != expected {
            let message = format!(
                "the file changed size before it was uploaded: {expected} bytes when the \
                 upload started, {now} now"
            );
            return Err(io(io::Error::new(io::ErrorKind::InvalidData, message)));
        }
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uploads() -> Vec<Upload<'static>> {
        let reader = io::Cursor::new(b"read".to_vec());
        [
            Upload::bytes(&b"some bytes"[..], "/a"),
            Upload::bytes(Vec::new(), "/empty"),
            Upload::reader(reader, "/r/\"é\"\r\nx").size(4),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, u)| u.checked(i).unwrap())
        .collect()
    }

    #[test]
    fn the_length_is_the_body_s() {
        let failure = Mutex::new(None);
        let mut body = Body::new("b0und".into(), uploads(), None, &failure);
        let length = body.left.unwrap();
        let mut bytes = Vec::new();
        body.read_to_end(&mut bytes).unwrap();
        assert_eq!(bytes.len() as u64, length);
        assert_eq!(body.left, Some(0));
    }

    #[test]
    fn a_reader_of_unknown_size_leaves_the_length_unknown() {
        let mut all = uploads();
        all.push(Upload::reader(io::empty(), "/x").checked(3).unwrap());
        let failure = Mutex::new(None);
        assert_eq!(Body::new("b".into(), all, None, &failure).left, None);
    }

    #[test]
    fn a_body_that_does_not_match_its_length_is_an_error_not_a_stall() {
        let failure = Mutex::new(None);
        let length = Body::new("b".into(), uploads(), None, &failure)
            .left
            .unwrap();
        for wrong in [length - 1, length + 1] {
            let mut body = Body::new("b".into(), uploads(), None, &failure);
            body.left = Some(wrong);
            let err = body.read_to_end(&mut Vec::new()).unwrap_err();
            assert!(
                err.to_string().contains("does not match its length"),
                "{err}"
            );
        }
    }
}
