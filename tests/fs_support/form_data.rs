//! multer, a multipart parser independent of the crate's (the one axum
//! builds on), driven on the test's thread: the body comes from a reader
//! that is always ready, so a future that polls it never waits and a
//! no-op waker is all the executor there is.

use std::future::Future;
use std::io::{self, Read};
use std::task::{Context, Poll, Waker};

/// One field as multer reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The `name` of its disposition.
    pub name: Option<String>,
    /// The `filename` of its disposition, as multer unquotes it.
    pub file_name: Option<String>,
    /// Its `Content-Type`.
    pub content_type: Option<String>,
    /// Its bytes.
    pub data: Vec<u8>,
}

/// The fields of the body `reader` yields (handed to multer `chunk` bytes
/// at a time), for the boundary of `content_type`.
pub fn parse(
    content_type: &str,
    reader: impl Read + Send,
    chunk: usize,
) -> Result<Vec<Field>, multer::Error> {
    let boundary = multer::parse_boundary(content_type)?;
    let stream = futures_util::stream::iter(Chunks { reader, chunk });
    block_on(async move {
        let mut multipart = multer::Multipart::new(stream, boundary);
        let mut fields = Vec::new();
        while let Some(mut field) = multipart.next_field().await? {
            let mut got = Field {
                name: field.name().map(str::to_string),
                file_name: field.file_name().map(str::to_string),
                content_type: field.content_type().map(ToString::to_string),
                data: Vec::new(),
            };
            while let Some(bytes) = field.chunk().await? {
                got.data.extend_from_slice(&bytes);
            }
            fields.push(got);
        }
        Ok(fields)
    })
}

/// [`parse`] of a whole body, in pieces of a few sizes (multer must find
/// delimiters cut across pieces too); every way gives the same fields.
pub fn parse_all(content_type: &str, body: &[u8]) -> Vec<Field> {
    let whole = parse(content_type, body, body.len().max(1)).expect("multer parses the body");
    for chunk in [1, 7, 4096] {
        let pieces = parse(content_type, body, chunk).expect("multer parses the body");
        assert_eq!(pieces, whole, "in pieces of {chunk} bytes");
    }
    whole
}

/// A reader as a stream of chunks (ends at the reader's end).
struct Chunks<R> {
    reader: R,
    chunk: usize,
}

impl<R: Read> Iterator for Chunks<R> {
    type Item = io::Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut buf = vec![0u8; self.chunk];
        match self.reader.read(&mut buf) {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some(Ok(buf))
            }
            Err(e) => Some(Err(e)),
        }
    }
}

/// Runs `future` to its end on this thread.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(output) => output,
        // Nothing it awaits can be pending: the stream is always ready.
        Poll::Pending => panic!("multer waited on a stream that is always ready"),
    }
}
