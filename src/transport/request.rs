//! The description of a request, before it is sent: method, URL, body,
//! headers and limits. Nothing here touches the network.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;
use ureq::http::Method;
use url::{Position, Url};

use crate::check::is_dot_segment;
use crate::config::Secret;
use crate::error::Error;
use crate::transport::poll::Deadline;

/// What a path segment keeps as it is: the unreserved characters of
/// RFC 3986 (`A-Z a-z 0-9 - . _ ~`). Everything else is percent-encoded,
/// so that no value can end its segment, start a query or a fragment, or
/// be read differently by a server, a proxy or a request signature.
///
/// The one encoding of path segments in the crate: every request's path
/// and the object store's SigV4 canonical path (which wants exactly this).
pub(crate) const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `segment` percent-encoded as one path segment (see [`SEGMENT`]).
pub(crate) fn encode_segment(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT).to_string()
}

/// Appends `segments` to the path of `url` (which has no query), each
/// percent-encoded as one segment. Fails on a dot segment, which no
/// encoding can carry.
pub(crate) fn push_segments(url: &mut Url, segments: &[&str]) -> Result<(), Error> {
    check_segments(segments)?;
    if segments.is_empty() {
        return Ok(());
    }
    let mut path = url.path().trim_end_matches('/').to_string();
    push_encoded(&mut path, segments);
    // Only unreserved characters, `%XX` and `/`: `set_path` keeps it as it is.
    url.set_path(&path);
    Ok(())
}

/// Fails on a dot segment, which no encoding can carry.
fn check_segments(segments: &[&str]) -> Result<(), Error> {
    match segments.iter().find(|s| is_dot_segment(s)) {
        Some(dot) => Err(Error::validation(
            "path segment",
            format!("{dot:?} cannot be sent as an id or a name in a URL path"),
        )),
        None => Ok(()),
    }
}

/// Appends `/` and each of `segments`, percent-encoded (see [`SEGMENT`]).
fn push_encoded(path: &mut String, segments: &[&str]) {
    for segment in segments {
        path.push('/');
        path.extend(utf8_percent_encode(segment, SEGMENT));
    }
}

/// What a JSON answer is, which decides the most of it read into memory:
/// each cap is the largest legitimate answer of its endpoints with ample
/// margin, and small enough that no answer costs more than a few hundred
/// MiB once decoded (tiny values, such as millions of one-letter labels,
/// take about twelve times their size in memory).
///
/// The one table of these caps; [`Request::answer`] picks one, the
/// transport enforces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    /// One object of the main API (a sandbox, a snapshot, a volume, a URL,
    /// labels; also the object store's answers): 4 MiB, a thousand times
    /// a sandbox with many labels.
    Object,
    /// A page of the main API (up to 200 sandboxes, a page of snapshots,
    /// every volume): 16 MiB.
    Page,
    /// A toolbox answer made of many small values (file listings, search
    /// results, sessions, git status, LSP symbols, accessibility trees):
    /// 32 MiB.
    Listing,
    /// A toolbox answer that is mostly one text (command output, session
    /// logs, a screenshot): 64 MiB, which decodes to about as much.
    Text,
}

impl Answer {
    /// The cap, in bytes of body.
    pub(crate) const fn max_bytes(self) -> u64 {
        const MIB: u64 = 1024 * 1024;
        match self {
            Answer::Object => 4 * MIB,
            Answer::Page => 16 * MIB,
            Answer::Listing => 32 * MIB,
            Answer::Text => 64 * MIB,
        }
    }
}

/// The body of a request.
pub(crate) enum Body<'a> {
    /// No body.
    Empty,
    /// A JSON document.
    Json(Vec<u8>),
    /// A body streamed from a reader with chunked encoding (length-delimited
    /// when the request has a `Content-Length` header). It cannot be
    /// replayed, so it is resent only when the connection was refused
    /// (nothing was read from it).
    Stream {
        content_type: String,
        reader: Box<dyn Read + Send + 'a>,
    },
}

/// A request, described before it is sent: method, URL, body and limits.
pub(crate) struct Request<'a> {
    pub(super) method: Method,
    /// The URL, serialized: parsed again only to add a query or follow a
    /// redirect, so that a plain request costs no URL parsing of its own.
    pub(super) url: String,
    /// Where the path begins in `url`.
    path_start: usize,
    /// `METHOD /path` for logs and errors: never the query, which may hold
    /// a token.
    pub(super) operation: Arc<str>,
    pub(super) body: Body<'a>,
    pub(super) timeout: Option<Duration>,
    pub(super) deadline: Option<Deadline>,
    /// The answer is handed on as it arrives (see [`Request::streamed`]).
    pub(super) streamed: bool,
    /// A 404 after a lost answer means done (see [`Request::gone_is_done`]).
    pub(super) gone_is_done: bool,
    /// Headers sent after the SDK's own.
    pub(super) headers: Vec<(String, String)>,
    /// Whether the SDK's credentials and `X-Daytona-*` headers are sent.
    pub(super) credentials: bool,
    /// Secrets of another host hidden in errors and logs besides the SDK's
    /// credential (see [`Request::hide`]).
    pub(super) secrets: Vec<Secret>,
    /// Why the request cannot be sent (a path segment no URL can carry):
    /// returned by the transport before anything is sent.
    pub(super) invalid: Option<Error>,
    /// What the answer is, for the most of it read into memory.
    pub(super) answer: Answer,
}

impl<'a> Request<'a> {
    /// `method` on `base` + `segments`, each percent-encoded as one path
    /// segment (so `a/b`, `%2e` or `?x` can never change the path; `.` and
    /// `..` make the request fail before it is sent).
    pub(crate) fn new(method: Method, base: &Url, segments: &[&str]) -> Self {
        // The base up to its path (no query, no fragment), then the
        // segments: only unreserved characters, `%XX` and `/` are added,
        // which a URL parser keeps as they are.
        let path_start = base[..Position::BeforePath].len();
        let prefix = &base[..Position::AfterPath];
        let invalid = check_segments(segments).err();
        let url = if invalid.is_none() && !segments.is_empty() {
            let kept = prefix[path_start..].trim_end_matches('/').len();
            // One allocation when nothing needs encoding.
            let mut url = String::with_capacity(
                path_start + kept + segments.iter().map(|s| s.len() + 1).sum::<usize>(),
            );
            url.push_str(&prefix[..path_start + kept]);
            push_encoded(&mut url, segments);
            url
        } else {
            prefix.to_string()
        };
        Self::at(method, url, path_start, invalid)
    }

    /// `method` on `url` exactly as it is (query included): for URLs handed
    /// out by the server, and for requests whose path was encoded for
    /// signing.
    pub(crate) fn to_url(method: Method, url: Url) -> Self {
        let path_start = url[..Position::BeforePath].len();
        let path_end = url[..Position::AfterPath].len();
        let mut url = String::from(url);
        // The operation shows the path only.
        let query = url.split_off(path_end);
        let mut req = Self::at(method, url, path_start, None);
        req.url.push_str(&query);
        req
    }

    /// The request on `url` (up to its path when the operation is made),
    /// whose path begins at byte `path_start`.
    fn at(method: Method, url: String, path_start: usize, invalid: Option<Error>) -> Self {
        let path = url
            .get(path_start..)
            .filter(|p| !p.is_empty())
            .unwrap_or("/");
        // Without `format!`: every request makes one.
        let mut operation = String::with_capacity(method.as_str().len() + 1 + path.len());
        operation.push_str(method.as_str());
        operation.push(' ');
        operation.push_str(path);
        let operation = operation.into();
        Request {
            method,
            url,
            path_start,
            operation,
            body: Body::Empty,
            timeout: None,
            deadline: None,
            streamed: false,
            gone_is_done: false,
            headers: Vec::new(),
            credentials: true,
            secrets: Vec::new(),
            invalid,
            answer: Answer::Object,
        }
    }

    /// Adds a query parameter (repeat for arrays), encoded as
    /// `application/x-www-form-urlencoded`.
    pub(crate) fn query(mut self, name: &str, value: impl AsRef<str>) -> Self {
        // Made from a URL: it parses again.
        if let Ok(mut url) = Url::parse(&self.url) {
            url.query_pairs_mut().append_pair(name, value.as_ref());
            self.url = url.into();
        }
        self
    }

    /// The URL's path, without its query.
    pub(super) fn path(&self) -> &str {
        let rest = self.url.get(self.path_start..).unwrap_or("");
        let end = rest.find(['?', '#']).unwrap_or(rest.len());
        match &rest[..end] {
            "" => "/",
            path => path,
        }
    }

    /// The URL, parsed.
    pub(super) fn parsed_url(&self) -> Option<Url> {
        Url::parse(&self.url).ok()
    }

    /// Adds a query parameter when `value` is `Some`.
    pub(crate) fn query_opt(self, name: &str, value: Option<impl ToString>) -> Self {
        match value {
            Some(v) => self.query(name, v.to_string()),
            None => self,
        }
    }

    /// Sends `body` as JSON.
    pub(crate) fn json(mut self, body: &impl Serialize) -> Self {
        // Serializing plain data structs cannot fail.
        self.body = Body::Json(serde_json::to_vec(body).unwrap_or_default());
        self
    }

    /// Streams the body from `reader`, sent as `content_type`.
    pub(crate) fn stream(
        mut self,
        content_type: impl Into<String>,
        reader: impl Read + Send + 'a,
    ) -> Self {
        self.body = Body::Stream {
            content_type: content_type.into(),
            reader: Box::new(reader),
        };
        self
    }

    /// Replaces the client's per-request timeout (long commands, transfers).
    pub(crate) fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The answer is a stream whose pieces are handed on as they arrive
    /// (a followed log): once a 2xx answer has begun, the request is never
    /// sent again, as what was delivered must not be delivered twice.
    /// Failures before that are retried as for any request.
    pub(crate) fn streamed(mut self) -> Self {
        self.streamed = true;
        self
    }

    /// A DELETE of an API resource whose retry, after an attempt the server
    /// may have acted on (a 502 or 504, a connection lost or a timeout
    /// while waiting for the answer), is answered 404: that attempt did the
    /// deletion, and the request succeeds. Only for a 404 that can only be
    /// about the resource itself (the API's sandboxes, snapshots,
    /// volumes), not one a proxy in front of it may give.
    pub(crate) fn gone_is_done(mut self) -> Self {
        self.gone_is_done = true;
        self
    }

    /// Adds a header (a signature, a `Content-Length` that turns a streamed
    /// body from chunked into length-delimited, ...).
    pub(crate) fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// Sends none of the SDK's credentials nor `X-Daytona-*` headers: for a
    /// host other than Daytona's (the object store), which must never see
    /// them. Timeouts, retries and error mapping stay the same.
    #[cfg(feature = "images")]
    pub(crate) fn without_credentials(mut self) -> Self {
        self.credentials = false;
        self
    }

    /// Also hides `secrets` (another host's credentials, as an answer may
    /// echo them; a token in the path) in errors, retry logs and spans,
    /// each as given and as a path segment carries it.
    pub(crate) fn hide(mut self, mut secrets: Vec<Secret>) -> Self {
        let encoded: Vec<Secret> = secrets
            .iter()
            .map(|s| Secret::new(encode_segment(s.expose())))
            .filter(|e| !secrets.contains(e))
            .collect();
        secrets.extend(encoded);
        // The operation is logged as it is.
        if let Some(op) = crate::config::secret::redact(&self.operation, &secrets) {
            self.operation = op.into();
        }
        self.secrets = secrets;
        self
    }

    /// Keeps every attempt and retry delay inside `deadline`.
    pub(crate) fn deadline(mut self, deadline: Deadline) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// What the answer is (by default [`Answer::Object`]), which caps the
    /// JSON read into memory.
    pub(crate) fn answer(mut self, answer: Answer) -> Self {
        self.answer = answer;
        self
    }

    /// `METHOD /path`.
    pub(crate) fn operation(&self) -> &str {
        &self.operation
    }

    /// Whether sending it twice has the effect of sending it once.
    pub(super) fn idempotent(&self) -> bool {
        matches!(
            self.method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("http://h:1/api").unwrap()
    }

    #[test]
    fn json_caps() {
        const MIB: u64 = 1024 * 1024;
        assert_eq!(Answer::Object.max_bytes(), 4 * MIB);
        assert_eq!(Answer::Page.max_bytes(), 16 * MIB);
        assert_eq!(Answer::Listing.max_bytes(), 32 * MIB);
        assert_eq!(Answer::Text.max_bytes(), 64 * MIB);
        let r = Request::new(Method::GET, &base(), &["x"]);
        assert_eq!(r.answer, Answer::Object);
        assert_eq!(r.answer(Answer::Page).answer, Answer::Page);
    }

    #[test]
    fn segments_cannot_escape() {
        let cases = [
            ("../x", "/api/sandbox/..%2Fx"),
            ("a/b", "/api/sandbox/a%2Fb"),
            ("...", "/api/sandbox/..."),
            ("%2e%2e", "/api/sandbox/%252e%252e"),
            ("%2F", "/api/sandbox/%252F"),
            ("?x=1", "/api/sandbox/%3Fx%3D1"),
            ("#frag", "/api/sandbox/%23frag"),
            ("a b\"'", "/api/sandbox/a%20b%22%27"),
            ("back\\slash", "/api/sandbox/back%5Cslash"),
            ("tab\tnew\nline", "/api/sandbox/tab%09new%0Aline"),
            ("é", "/api/sandbox/%C3%A9"),
            ("my.box_1~", "/api/sandbox/my.box_1~"),
        ];
        for (id, path) in cases {
            let r = Request::new(Method::GET, &base(), &["sandbox", id]);
            assert!(r.invalid.is_none(), "{id}");
            assert_eq!(r.url.as_str(), format!("http://h:1{path}"), "{id}");
            assert_eq!(r.operation(), format!("GET {path}"));
        }
    }

    #[test]
    fn dot_segments_make_the_request_invalid() {
        for id in [".", ".."] {
            let r = Request::new(Method::DELETE, &base(), &["sandbox", id]);
            match r.invalid {
                Some(Error::Validation { field, message }) => {
                    assert_eq!(field, "path segment");
                    assert!(message.contains(&format!("{id:?}")), "{message}");
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn segments_go_after_the_base_path_and_drop_its_query() {
        let base = Url::parse("https://h/api/v1/?stale=1#x").unwrap();
        let r = Request::new(Method::GET, &base, &["a", "b"]);
        assert_eq!(r.url.as_str(), "https://h/api/v1/a/b");
        let root = Url::parse("http://127.0.0.1:9").unwrap();
        let r = Request::new(Method::GET, &root, &["x"]);
        assert_eq!(r.url.as_str(), "http://127.0.0.1:9/x");
        let r = Request::new(Method::GET, &root, &[]);
        assert_eq!(r.operation(), "GET /");
    }

    #[test]
    fn query_values_are_encoded_and_hidden_from_the_operation() {
        let r = Request::new(Method::GET, &base(), &["x"])
            .query("token", "a&b=c d")
            .query("n", "1")
            .query_opt("none", None::<u32>)
            .query_opt("some", Some(2));
        assert_eq!(
            r.url.as_str(),
            "http://h:1/api/x?token=a%26b%3Dc+d&n=1&some=2"
        );
        assert_eq!(r.operation(), "GET /api/x");
    }

    #[test]
    fn a_url_handed_out_is_sent_as_it_is_and_its_query_stays_out_of_the_operation() {
        let handed = Url::parse("https://s.example/b/o%20x?X-Amz-Signature=abc&t=2").unwrap();
        let r = Request::to_url(Method::PUT, handed.clone());
        assert_eq!(r.url, handed.as_str());
        assert_eq!(r.operation(), "PUT /b/o%20x");
        assert_eq!(r.parsed_url(), Some(handed));
        let r =
            Request::to_url(Method::GET, Url::parse("http://h:1").unwrap()).query("follow", "true");
        assert_eq!(r.url, "http://h:1/?follow=true");
        assert_eq!(r.operation(), "GET /");
        assert_eq!(r.path(), "/");
        let r = Request::new(Method::GET, &base(), &["a b"]).query("q", "1");
        assert_eq!(r.path(), "/api/a%20b");
    }

    #[test]
    fn hidden_path_tokens_leave_the_operation() {
        let r = Request::new(Method::POST, &base(), &["x", "tok/en+secret", "expire"])
            .hide(vec![Secret::new("tok/en+secret")]);
        assert_eq!(r.operation(), "POST /api/x/<redacted>/expire");
        assert!(r.url.as_str().contains("tok%2Fen%2Bsecret"));
    }

    #[test]
    fn the_segment_encoding_is_the_sigv4_one() {
        // SigV4 URI-encodes every byte but `A-Z a-z 0-9 - _ . ~`.
        let all: String = (0u8..=127).map(char::from).collect();
        let encoded = encode_segment(&all);
        let kept: String = encoded
            .split('%')
            .enumerate()
            .map(|(i, part)| if i == 0 { part } else { &part[2..] })
            .collect();
        let unreserved: String = all
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "-_.~".contains(*c))
            .collect();
        assert_eq!(kept, unreserved);
        assert_eq!(encode_segment("é$"), "%C3%A9%24");
    }
}
