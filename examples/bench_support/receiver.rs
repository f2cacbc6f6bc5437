//! The receiver of measured uploads: a hyper HTTP/1.1 server that parses
//! every `bulk-upload` body with multer, the multipart parser axum builds
//! on, as a Rust toolbox behind hyper would. It is independent of the
//! crate's own multipart code, reads chunked and length-delimited bodies
//! alike, and remembers what the last upload looked like on the wire.
//!
//! hyper, tokio and multer are development dependencies (mockito already
//! brings hyper and tokio): they are in no application's tree.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use super::Res;

/// What the receiver saw of one upload.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Received {
    /// The request said `Transfer-Encoding: chunked`.
    pub chunked: bool,
    /// Its `Content-Length` header.
    pub content_length: Option<u64>,
    /// Body bytes received (after the chunked framing is removed).
    pub body_bytes: u64,
    /// The value of the `files[0].path` field.
    pub path: String,
    /// Bytes of the `files[0].file` field.
    pub file_bytes: u64,
    /// Fields in the body.
    pub fields: usize,
}

impl Received {
    /// `chunked` or `length`, as the body was framed.
    pub fn framing(&self) -> &'static str {
        match (self.chunked, self.content_length) {
            (true, _) => "chunked",
            (false, Some(_)) => "length",
            (false, None) => "none",
        }
    }
}

/// A running receiver.
pub struct Receiver {
    pub port: u16,
    last: Mutex<Option<Received>>,
}

impl Receiver {
    /// Starts a receiver on a free loopback port, on a thread of its own
    /// (one single-threaded tokio runtime).
    pub fn start() -> Res<Arc<Receiver>> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let receiver = Arc::new(Receiver {
            port,
            last: Mutex::new(None),
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?;
        let r = receiver.clone();
        std::thread::spawn(move || runtime.block_on(r.serve(listener)));
        Ok(receiver)
    }

    /// What the last upload looked like (and forgets it).
    pub fn take(&self) -> Option<Received> {
        self.last.lock().unwrap().take()
    }

    async fn serve(self: Arc<Self>, listener: std::net::TcpListener) {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(l) => l,
            Err(e) => return eprintln!("receiver: {e}"),
        };
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let me = self.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| me.clone().handle(req));
                // A client that gives up mid-body (the tests of a failing
                // source do) is no error of the receiver's.
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    }

    async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
    ) -> Result<Response<String>, Infallible> {
        let (status, body) = match receive(req).await {
            Ok(received) => {
                *self.last.lock().unwrap() = Some(received);
                (StatusCode::OK, r#"{"files":[]}"#.to_string())
            }
            Err(e) => (
                StatusCode::BAD_REQUEST,
                serde_json::json!({"statusCode": 400, "message": e.to_string()}).to_string(),
            ),
        };
        let mut resp = Response::new(body);
        *resp.status_mut() = status;
        resp.headers_mut()
            .insert(CONTENT_TYPE, "application/json".parse().unwrap());
        Ok(resp)
    }
}

/// Reads one upload, field by field, without keeping the file's bytes.
async fn receive(req: Request<Incoming>) -> Res<Received> {
    if req.method() != Method::POST || !req.uri().path().ends_with("/files/bulk-upload") {
        return Err(format!("no route for {} {}", req.method(), req.uri()).into());
    }
    let headers = req.headers();
    let chunked = headers.get_all(TRANSFER_ENCODING).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.to_ascii_lowercase().contains("chunked"))
    });
    let content_length = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse().ok());
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .ok_or("no content type")?;
    let boundary = multer::parse_boundary(content_type)?;
    let counted = Arc::new(AtomicU64::new(0));
    let count = counted.clone();
    let stream = req.into_body().into_data_stream().map(move |chunk| {
        if let Ok(c) = &chunk {
            count.fetch_add(c.len() as u64, Ordering::Relaxed);
        }
        chunk
    });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut got = Received {
        chunked,
        content_length,
        ..Received::default()
    };
    while let Some(mut field) = multipart.next_field().await? {
        got.fields += 1;
        match field.name() {
            Some("files[0].path") => got.path = field.text().await?,
            Some("files[0].file") => {
                while let Some(chunk) = field.chunk().await? {
                    got.file_bytes += chunk.len() as u64;
                }
            }
            other => return Err(format!("unexpected field {other:?}").into()),
        }
    }
    got.body_bytes = counted.load(Ordering::Relaxed);
    Ok(got)
}
