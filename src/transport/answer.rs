//! The answers of requests sent by [`Transport::execute`]: read whole
//! within the cap of their [`Answer`] kind, then decoded as JSON or as a
//! listing page; or read to their end without being kept.

use std::io::{self, Read};
use std::time::Instant;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use ureq::http;

use super::request::{Answer, Request};
use super::run::Transport;
use super::status::{answer_excerpt, decode_message, transport_error};
use crate::error::{Error, Result};

/// A listing page read with its items kept as JSON, to be decoded one by
/// one, and the rest of the page (`M`: the next cursor, the page numbers)
/// decoded as strictly as the whole page is. Read only when the whole page
/// does not decode, so its `flatten` costs nothing on the usual path.
#[derive(Deserialize)]
struct LoosePage<M> {
    items: Vec<serde_json::Value>,
    #[serde(flatten)]
    meta: M,
}

impl Transport {
    /// Sends `req` and decodes the JSON answer.
    pub(crate) fn json<T: DeserializeOwned>(&self, req: Request<'_>) -> Result<T> {
        let op = req.operation.clone();
        self.read(req, |_, body| decode(&body, &op))
    }

    /// Sends `req`, reads its answer whole within the cap of the request's
    /// [`Answer`] kind, and gives `f` the answer's headers and body.
    pub(crate) fn read<T>(
        &self,
        mut req: Request<'_>,
        mut f: impl FnMut(&http::HeaderMap, Vec<u8>) -> Result<T>,
    ) -> Result<T> {
        let (op, answer) = (req.operation.clone(), req.answer);
        self.execute(&mut req, |mut resp| {
            let body = read_body(&mut resp, &op, answer)?;
            f(resp.headers(), body)
        })
    }

    /// Sends `req` and decodes its answer as the page `P`, which `split`
    /// turns into its items and the rest of the page (`M`). When the page
    /// does not decode whole, its items are decoded one by one, so that an
    /// item that does not decode is an error in its place
    /// ([`decode_each`]) rather than the page's; the rest must then decode
    /// as `M`, else the error is the whole page's.
    pub(crate) fn page_items<P, M, T>(
        &self,
        mut req: Request<'_>,
        split: impl FnOnce(P) -> (Vec<T>, M),
    ) -> Result<(Vec<Result<T>>, M)>
    where
        P: DeserializeOwned,
        M: DeserializeOwned,
        T: DeserializeOwned,
    {
        let (op, answer) = (req.operation.clone(), req.answer);
        let page = self.execute(&mut req, |mut resp| {
            let body = read_body(&mut resp, &op, answer)?;
            decode::<P>(&body, &op).map(Ok).or_else(|whole| {
                decode::<LoosePage<M>>(&body, &op)
                    .map(Err)
                    .map_err(|_| whole)
            })
        })?;
        Ok(match page {
            Ok(page) => {
                let (items, meta) = split(page);
                (items.into_iter().map(Ok).collect(), meta)
            }
            Err(loose) => (decode_each(loose.items, &op), loose.meta),
        })
    }

    /// Sends `req` and ignores the answer's body: read to its end (so
    /// that its connection can be reused) in constant memory, at most the
    /// cap of its answer kind.
    pub(crate) fn empty(&self, mut req: Request<'_>) -> Result<()> {
        let (op, limit) = (req.operation.clone(), req.answer.max_bytes());
        self.execute(&mut req, |resp| drain(resp, &op, limit))
    }
}

/// Each of a page's `items` decoded on its own (see
/// [`Transport::page_items`]): one that does not decode is an
/// [`Error::Decode`] naming its place in the page and what was wrong, its
/// values masked in the message and in the quote.
fn decode_each<T: DeserializeOwned>(
    items: Vec<serde_json::Value>,
    operation: &str,
) -> Vec<Result<T>> {
    items
        .into_iter()
        .enumerate()
        .map(|(n, item)| {
            T::deserialize(&item).map_err(|e| Error::Decode {
                operation: operation.to_string(),
                message: format!("item {} of the page: {}", n + 1, decode_message(&e)),
                excerpt: answer_excerpt(item.to_string().as_bytes()),
            })
        })
        .collect()
}

/// Reads a whole (JSON-sized) body: at most the cap of `answer`, past
/// which it is an [`Error::TooLarge`] naming the cap.
fn read_body(
    resp: &mut http::Response<ureq::Body>,
    operation: &str,
    answer: Answer,
) -> Result<Vec<u8>> {
    let started = Instant::now();
    let limit = answer.max_bytes();
    // As `read_to_vec`, into a buffer sized by `Content-Length` (up to
    // 1 MiB) rather than grown from 32 bytes in a dozen reads.
    let hint = resp.body().content_length().unwrap_or(0).min(1 << 20) as usize;
    let mut body = Vec::with_capacity(hint);
    resp.body_mut()
        .with_config()
        .limit(limit)
        .reader()
        .read_to_end(&mut body)
        .map_err(|e| body_error(e, operation, "the JSON answer", limit, started))?;
    Ok(body)
}

/// Reads a body to its end without keeping it, in constant memory: at
/// most `limit` bytes, past which it is an [`Error::TooLarge`]. Its time
/// is bounded by the request's timeouts.
pub(crate) fn drain(
    mut resp: http::Response<ureq::Body>,
    operation: &str,
    limit: u64,
) -> Result<()> {
    let started = Instant::now();
    let mut body = resp.body_mut().with_config().limit(limit).reader();
    io::copy(&mut body, &mut io::sink())
        .map(drop)
        .map_err(|e| body_error(e, operation, "the answer", limit, started))
}

/// The error of reading a body within `limit` bytes.
fn body_error(e: io::Error, operation: &str, what: &str, limit: u64, started: Instant) -> Error {
    match ureq::Error::from(e) {
        ureq::Error::BodyExceedsLimit(_) => Error::TooLarge {
            operation: operation.to_string(),
            what: what.into(),
            limit,
            unit: "bytes",
        },
        e => transport_error(e, operation, started.elapsed()),
    }
}

/// Decodes a JSON body, or says what was wrong with it.
pub(crate) fn decode<T: DeserializeOwned>(body: &[u8], operation: &str) -> Result<T> {
    // One UTF-8 check of the whole body is cheaper than one per string in
    // it (a third of the decoding time of a sandbox); a body that is not
    // UTF-8 gets `from_slice`'s error.
    let decoded = match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(body),
    };
    decoded.map_err(|e| Error::Decode {
        operation: operation.to_string(),
        message: decode_message(&e),
        excerpt: answer_excerpt(body),
    })
}
