//! What an image build needs of the services: the build contexts of a
//! declarative image uploaded before the create, and the build logs of a
//! sandbox or snapshot followed while it builds (an HTTP stream read line
//! by line, ended by the server, by the build being over, or by the
//! deadline).

use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::Duration;

use ureq::http::Method;
use url::Url;

use crate::api::client::Daytona;
use crate::error::{Error, Result};
use crate::params::ImageSpec;
use crate::transport::poll::Deadline;
use crate::transport::Request;

/// How long the stream may stay silent before the build state is checked.
const IDLE: Duration = Duration::from_secs(2);

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
    let (tx, rx) = mpsc::channel();
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
    std::thread::spawn(move || {
        let op = request.operation().to_string();
        let lines = tx.clone();
        let result = reader_client.transport().execute(&mut request, |resp| {
            let mut reader = BufReader::new(resp.into_body().into_reader());
            let mut buf = Vec::new();
            loop {
                buf.clear();
                let n = reader
                    .read_until(b'\n', &mut buf)
                    .map_err(|e| Error::Transport {
                        operation: op.clone(),
                        source: Box::new(e),
                    })?;
                if n == 0 {
                    return Ok(());
                }
                let text = String::from_utf8_lossy(&buf);
                let line = text.trim_end_matches(['\r', '\n']).to_string();
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
