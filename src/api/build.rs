//! What an image build needs of the services: the build contexts of a
//! declarative image uploaded before the create, and the build logs of a
//! sandbox or snapshot followed while it builds (an HTTP stream read line
//! by line, ended by the server, by the build being over, or by the
//! deadline).

use std::io::{BufRead, BufReader, Read};
use std::sync::mpsc;
use std::time::Duration;

use ureq::http::Method;
use url::Url;

use crate::api::client::Daytona;
use crate::error::Result;
use crate::params::ImageSpec;
use crate::transport::poll::Deadline;
use crate::transport::status::transport_error;
use crate::transport::Request;

/// How long the stream may stay silent before the build state is checked.
const IDLE: Duration = Duration::from_secs(2);

/// The longest build log line handed on whole: a longer one (a progress
/// bar, `cat /dev/zero`) comes in pieces of at most this many bytes, never
/// cutting a character.
pub(crate) const MAX_LINE: usize = 64 * 1024;

/// Lines read ahead of the callback: when it is slower than the stream,
/// the reader waits (and the server with it) rather than queueing more, so
/// at most this many lines of [`MAX_LINE`] bytes (8 MiB) are held.
pub(crate) const LINES_AHEAD: usize = 128;

/// Uploads the build contexts of `image` that the object store lacks
/// (none for a registry image) and returns their hashes, in order, for
/// `buildInfo.contextHashes`.
#[cfg(feature = "images")]
pub(crate) fn upload_contexts(
    client: &Daytona,
    image: &ImageSpec,
    deadline: Deadline,
) -> Result<Vec<String>> {
    let uploader = crate::build_context::Uploader {
        transport: client.transport(),
        api_url: client.api_url(),
        transfer_timeout: client.inner.transfer_timeout,
    };
    match image {
        ImageSpec::Name(_) => Ok(Vec::new()),
        ImageSpec::Declarative(image) => {
            crate::build_context::upload_image_contexts(&uploader, image, deadline)
        }
    }
}

/// Without the feature `images` an image is a registry image: it has no
/// build contexts.
#[cfg(not(feature = "images"))]
pub(crate) fn upload_contexts(_: &Daytona, _: &ImageSpec, _: Deadline) -> Result<Vec<String>> {
    Ok(Vec::new())
}

enum Message {
    Line(String),
    End(Result<()>),
}

/// The request that follows the logs at `url` (as the API handed it out),
/// or, when `url` is on a host the credentials must not go to, the API's
/// own `fallback` log endpoint.
pub(crate) fn log_request(
    client: &Daytona,
    url: &str,
    trusted_hosts: &[&str],
    fallback: &[&str],
) -> Request<'static> {
    match Url::parse(url) {
        Ok(parsed) if is_trusted(&parsed, client, trusted_hosts) => {
            Request::to_url(Method::GET, parsed).query("follow", "true")
        }
        _ => {
            log::warn!(
                "the build log URL is not on the API or toolbox host; following the logs through the API instead"
            );
            client.api(Method::GET, fallback).query("follow", "true")
        }
    }
}

fn is_trusted(url: &Url, client: &Daytona, extra: &[&str]) -> bool {
    matches!(url.scheme(), "http" | "https")
        && std::iter::once(client.api_url().clone())
            .chain(extra.iter().filter_map(|s| Url::parse(s).ok()))
            .any(|u| u.origin() == url.origin())
}

/// Streams `request` line by line to `on_line` until the server ends the
/// stream, or the stream stays silent while `finished` says twice in a row
/// that the build is over, or `deadline` passes (a timeout error naming
/// `operation`).
///
/// Opening the stream is retried as any GET (a refused connection, 503,
/// 429, ...), but once lines have come it is never opened again. A log
/// stream that cannot be opened or breaks is not an error of the build: it
/// is logged and the function returns so that the caller goes on waiting
/// for the state.
pub(crate) fn follow(
    client: &Daytona,
    request: Request<'static>,
    deadline: Deadline,
    operation: &str,
    on_line: &mut dyn FnMut(&str),
    finished: &mut dyn FnMut(&Deadline) -> Result<bool>,
) -> Result<()> {
    let (tx, rx) = mpsc::sync_channel(LINES_AHEAD);
    let reader_client = client.clone();
    // A build may log for longer than one HTTP exchange may take: the
    // stream is limited like a transfer, and by the deadline.
    let mut request = request
        .streamed()
        .timeout(client.inner.transfer_timeout)
        .deadline(deadline);
    // The reader thread owns the connection; it ends when the server closes
    // the stream, when the deadline cuts the request, or at the next line
    // after this function has returned.
    // The reader's requests continue the caller's trace.
    let trace = crate::telemetry::Carried::current();
    std::thread::spawn(move || {
        let _trace = trace.attach();
        let op = request.operation().to_string();
        let lines = tx.clone();
        let started = std::time::Instant::now();
        let result = reader_client.transport().execute(&mut request, |resp| {
            let mut lines_of = Lines::new(BufReader::new(resp.into_body().into_reader()));
            loop {
                // As every other read: a timeout is an `Error::Timeout`.
                let line = lines_of
                    .next_line()
                    .map_err(|e| transport_error(e.into(), &op, started.elapsed()))?;
                let Some(line) = line else {
                    return Ok(());
                };
                // Blocks while the callback is `LINES_AHEAD` lines behind.
                if lines.send(Message::Line(line)).is_err() {
                    return Ok(());
                }
            }
        });
        let _ = tx.send(Message::End(result));
    });

    let mut over_in_a_row = 0;
    loop {
        let wait = deadline.cap(IDLE);
        if wait.is_zero() {
            return Err(deadline.timeout_error(operation));
        }
        match rx.recv_timeout(wait) {
            Ok(Message::Line(line)) => on_line(&line),
            Ok(Message::End(Ok(()))) | Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
            Ok(Message::End(Err(e))) => {
                if e.is_timeout() && deadline.remaining() == Some(Duration::ZERO) {
                    return Err(deadline.timeout_error(operation));
                }
                log::warn!("{operation}: build logs unavailable: {e}");
                return Ok(());
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if deadline.remaining() == Some(Duration::ZERO) {
                    return Err(deadline.timeout_error(operation));
                }
                if finished(&deadline)? {
                    over_in_a_row += 1;
                    if over_in_a_row >= 2 {
                        return Ok(());
                    }
                } else {
                    over_in_a_row = 0;
                }
            }
        }
    }
}

/// The lines of a log stream, each at most [`MAX_LINE`] bytes: a longer
/// line is handed on in pieces, cut at a character boundary.
struct Lines<R> {
    reader: R,
    /// The start of a character cut off at the end of the previous piece.
    carry: Vec<u8>,
    /// The previous piece was cut: a line end right after it ends that
    /// line rather than making an empty one.
    cut: bool,
}

impl<R: BufRead> Lines<R> {
    fn new(reader: R) -> Self {
        Lines {
            reader,
            carry: Vec::new(),
            cut: false,
        }
    }

    /// The next line (its `\n` or `\r\n` removed) or piece of a line;
    /// `None` at the end of the stream.
    fn next_line(&mut self) -> std::io::Result<Option<String>> {
        loop {
            let mut buf = std::mem::take(&mut self.carry);
            let room = MAX_LINE.saturating_sub(buf.len()) as u64;
            let n = (&mut self.reader).take(room).read_until(b'\n', &mut buf)?;
            if n == 0 && buf.is_empty() {
                return Ok(None);
            }
            let was_cut = std::mem::replace(&mut self.cut, false);
            if buf.last() == Some(&b'\n') {
                buf.pop();
                if buf.last() == Some(&b'\r') {
                    buf.pop();
                }
                if was_cut && buf.is_empty() {
                    continue;
                }
            } else if n > 0 && buf.len() >= MAX_LINE {
                // Cut: an incomplete character at the end goes with the
                // next piece.
                self.cut = true;
                if let Err(e) = std::str::from_utf8(&buf) {
                    if e.error_len().is_none() {
                        self.carry = buf.split_off(e.valid_up_to());
                    }
                }
            }
            return Ok(Some(String::from_utf8_lossy(&buf).into_owned()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(input: &[u8]) -> Vec<String> {
        let mut lines = Lines::new(BufReader::with_capacity(100, input));
        let mut out = Vec::new();
        while let Some(line) = lines.next_line().unwrap() {
            out.push(line);
        }
        out
    }

    #[test]
    fn limits() {
        assert_eq!(MAX_LINE, 64 * 1024);
        assert_eq!(LINES_AHEAD, 128);
    }

    #[test]
    fn lines_and_endings() {
        assert_eq!(pieces(b"a\nb\r\n\nc"), ["a", "b", "", "c"]);
        assert!(pieces(b"").is_empty());
    }

    #[test]
    fn long_lines_come_in_pieces_cut_between_characters() {
        let long = "x".repeat(MAX_LINE * 2 + 10);
        let got = pieces(format!("{long}\nend\n").as_bytes());
        assert_eq!(got.len(), 4);
        assert!(got.iter().all(|p| p.len() <= MAX_LINE));
        assert_eq!(got[..3].concat(), long);
        assert_eq!(got[3], "end");
        // A line of exactly the limit makes one piece, not an empty one
        // after it.
        let exact = "w".repeat(MAX_LINE);
        assert_eq!(
            pieces(format!("{exact}\r\n\nv").as_bytes()),
            [&exact, "", "v"]
        );
        // A two-byte character across the cut stays whole.
        let text = format!("{}é{}", "y".repeat(MAX_LINE - 1), "z".repeat(5));
        let got = pieces(text.as_bytes());
        assert_eq!(got.concat(), text);
        assert!(got
            .iter()
            .all(|p| !p.contains('\u{FFFD}') && p.len() <= MAX_LINE));
        // Invalid bytes stay replaced, as in a short line.
        let mut bad = vec![b'a'; MAX_LINE - 1];
        bad.extend_from_slice(&[0xFF, b'b']);
        let got = pieces(&bad);
        assert_eq!(got.len(), 2);
        assert!(got[0].ends_with('\u{FFFD}'));
    }
}
