//! What an answer or a failure means: a non-2xx answer (to an HTTP request
//! or to a WebSocket upgrade) mapped to [`ApiError`], a failed exchange
//! mapped to [`Error`], and whether it is worth sending again. One mapper
//! and one classifier for every request of the crate.

use std::io;
use std::time::{Duration, SystemTime};

use ureq::http::{HeaderMap, StatusCode};

use crate::error::{ApiError, Error};

/// Longest body excerpt kept in an error.
const EXCERPT: usize = 200;

/// Longest message (in characters) kept from an error body; longer ones
/// are cut and end with `…`.
const MAX_MESSAGE: usize = 1_000;

/// Longest code (in characters) kept from an error body.
const MAX_CODE: usize = 100;

/// The non-2xx answer `status`, `headers`, `body` to `operation`, as an
/// [`ApiError`]: the message and code of [`error_fields`], or the status's
/// reason when the body says nothing, and `Retry-After`.
pub(crate) fn api_error(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    operation: &str,
) -> ApiError {
    let (mut message, code) = error_fields(body);
    if message.is_empty() {
        message = status.canonical_reason().unwrap_or("").to_string();
    }
    ApiError {
        status: status.as_u16(),
        message: cut(message, MAX_MESSAGE),
        code: code.map(|c| cut(c, MAX_CODE)),
        retry_after: headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after),
        operation: operation.to_string(),
    }
}

/// The message and code of an error body: the JSON `message` (a string or
/// an array, joined with `; `; else `errors`; else `error` when it reads
/// as a message) and `code`/`error_code` (else `error` when it reads as a
/// code). `error` is a message when the body also has a code (the
/// toolbox's computer-use errors: `{"error": "<message>", "code": ..}`) or
/// when it holds a space; NestJS's `{"error": "Not Found", "message": ..}`
/// keeps its `message`. A body that is not a JSON object gives an excerpt
/// of itself and no code.
pub(crate) fn error_fields(body: &[u8]) -> (String, Option<String>) {
    fn text(value: Option<&serde_json::Value>) -> String {
        match value {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join("; "),
            Some(other) if !other.is_null() => other.to_string(),
            _ => String::new(),
        }
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(map)) => {
            let mut message = text(map.get("message"));
            if message.is_empty() {
                message = text(map.get("errors"));
            }
            let mut code = ["code", "error_code"]
                .iter()
                .find_map(|k| map.get(*k).and_then(|v| v.as_str()))
                .map(str::to_string);
            if let Some(error) = map.get("error").and_then(|v| v.as_str()) {
                let reads_as_message = code.is_some() || error.contains(char::is_whitespace);
                if message.is_empty() && reads_as_message {
                    message = error.to_string();
                } else if code.is_none() {
                    code = Some(error.to_string());
                }
            }
            (message, code)
        }
        _ => (excerpt(body), None),
    }
}

/// `text` cut to `max` characters, `…` added when it was longer.
fn cut(mut text: String, max: usize) -> String {
    if let Some((at, _)) = text.char_indices().nth(max) {
        text.truncate(at);
        text.push('…');
    }
    text
}

/// The start of a body, whitespace collapsed, for an error.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(EXCERPT * 4)]);
    let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed.chars().take(EXCERPT).collect()
}

/// The start of an answer that did not decode, for the error: as
/// [`excerpt`], and when it looks like JSON, with the text of every string
/// value replaced by `…` (keys kept, so the shape still shows): such an
/// answer may hold secrets (a sandbox's environment, an SSH or preview
/// token) that no error may quote.
pub(crate) fn answer_excerpt(body: &[u8]) -> String {
    let head = &body[..body.len().min(EXCERPT * 4)];
    match head.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{' | b'[') => excerpt(&mask_string_values(head)),
        _ => excerpt(body),
    }
}

/// What a JSON decoding error says, without the values it quotes: serde
/// names an unexpected text (`invalid type: string "…", expected u32`) or
/// variant (``unknown variant `…` ``) in full, and the answer's values may
/// be secrets. Field names, types and the position are kept.
pub(crate) fn decode_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    loop {
        let string = rest.find("string \"");
        let variant = rest.find("variant `");
        let (at, open, close) = match (string, variant) {
            (Some(s), Some(v)) if v < s => (v, "variant `".len(), '`'),
            (Some(s), _) => (s, "string \"".len(), '"'),
            (None, Some(v)) => (v, "variant `".len(), '`'),
            (None, None) => break,
        };
        out.push_str(&rest[..at + open]);
        // The closing mark: the first one not escaped by a backslash.
        let quoted = &rest[at + open..];
        let mut end = None;
        let mut escaped = false;
        for (i, c) in quoted.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                c if c == close => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        out.push('…');
        match end {
            Some(i) => {
                out.push(close);
                rest = &quoted[i + close.len_utf8()..];
            }
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// `json` with the text of each string that is not an object key (one
/// followed by `:`) replaced by `…`; a string cut off by the end of `json`
/// counts as a value.
fn mask_string_values(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len());
    let mut i = 0;
    while let Some(&b) = json.get(i) {
        if b != b'"' {
            out.push(b);
            i += 1;
            continue;
        }
        // The closing quote: the first one not escaped by a backslash.
        let mut end = i + 1;
        while end < json.len() && json[end] != b'"' {
            end += if json[end] == b'\\' { 2 } else { 1 };
        }
        let rest = json.get(end + 1..).unwrap_or_default();
        let key = end < json.len() && rest.iter().find(|c| !c.is_ascii_whitespace()) == Some(&b':');
        if key {
            out.extend_from_slice(&json[i..=end]);
        } else {
            out.extend_from_slice("\"…\"".as_bytes());
        }
        i = end.saturating_add(1);
    }
    out
}

/// `Retry-After` as a number of seconds or as an HTTP date (the three
/// forms of RFC 9110, read by `httpdate`); a date in the past is zero.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // More seconds than a u64 holds is as good as forever.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or_default())
}

/// A failed attempt, as far as sending the request again is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The request never reached the server (the connection was refused,
    /// or not made in time): safe to send again, even a streamed body, of
    /// which nothing was read.
    NeverReached,
    /// The server answered that it did not act on the request (429): safe
    /// to send again when the body can be sent again.
    NotActedOn,
    /// The failure may not happen again (a timeout, a reset, a 503, ...),
    /// but the server may have acted: safe to send again only when the
    /// request is idempotent and its body can be sent again.
    Transient,
    /// Sending it again would fail the same way.
    Permanent,
}

impl Failure {
    /// The failure of an answer with a non-2xx `status`.
    pub(crate) fn of_status(status: u16) -> Self {
        match status {
            429 => Failure::NotActedOn,
            408 | 502 | 503 | 504 => Failure::Transient,
            _ => Failure::Permanent,
        }
    }

    /// The failure of an I/O error of kind `kind`.
    pub(crate) fn of_io(kind: io::ErrorKind) -> Self {
        match kind {
            io::ErrorKind::ConnectionRefused => Failure::NeverReached,
            // A local mistake, or a TLS certificate that does not verify.
            io::ErrorKind::PermissionDenied
            | io::ErrorKind::InvalidInput
            | io::ErrorKind::InvalidData
            | io::ErrorKind::Unsupported => Failure::Permanent,
            _ => Failure::Transient,
        }
    }

    /// The failure of an HTTP exchange that gave no answer.
    pub(crate) fn of_ureq(e: &ureq::Error) -> Self {
        match e {
            ureq::Error::Io(io) => Self::of_io(io.kind()),
            ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => {
                Failure::NeverReached
            }
            ureq::Error::Timeout(_) | ureq::Error::ConnectionFailed | ureq::Error::Protocol(_) => {
                Failure::Transient
            }
            _ => Failure::Permanent,
        }
    }

    /// Whether a request that failed so may be sent again: `idempotent` if
    /// sending it twice is the same as once, `replayable` if its body can
    /// be sent again.
    pub(crate) fn retry(self, idempotent: bool, replayable: bool) -> bool {
        match self {
            Failure::NeverReached => true,
            Failure::NotActedOn => replayable,
            Failure::Transient => idempotent && replayable,
            Failure::Permanent => false,
        }
    }
}

/// The error of an HTTP exchange to `operation` that gave no answer, after
/// `took`.
pub(crate) fn transport_error(e: ureq::Error, operation: &str, took: Duration) -> Error {
    match e {
        ureq::Error::Timeout(_) => Error::Timeout {
            operation: operation.to_string(),
            after: took,
        },
        // A compressed body that stops early was cut short (a transport
        // fault, which another attempt may not meet); one that arrived
        // whole and does not decompress is corrupt.
        ureq::Error::Decompress(encoding, e) => {
            if e.get_ref().is_some_and(|inner| inner.is::<ureq::Error>()) {
                if let Some(Ok(cause)) = e.into_inner().map(|i| i.downcast::<ureq::Error>()) {
                    return transport_error(*cause, operation, took);
                }
                return Error::Transport {
                    operation: operation.to_string(),
                    source: Box::new(io::Error::from(io::ErrorKind::UnexpectedEof)),
                };
            }
            if matches!(
                e.kind(),
                io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe
                    | io::ErrorKind::TimedOut
                    | io::ErrorKind::WouldBlock
            ) {
                return io_error(e, operation, took);
            }
            Error::Decode {
                operation: operation.to_string(),
                message: format!("the {encoding} body is corrupt: {e}"),
                excerpt: String::new(),
            }
        }
        ureq::Error::Io(io) => io_error(io, operation, took),
        other => Error::Transport {
            operation: operation.to_string(),
            source: Box::new(other),
        },
    }
}

/// The error of an I/O failure of `operation` after `took`: a timeout, or
/// a transport error.
pub(crate) fn io_error(e: io::Error, operation: &str, took: Duration) -> Error {
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Error::Timeout {
            operation: operation.to_string(),
            after: took,
        },
        _ => Error::Transport {
            operation: operation.to_string(),
            source: Box::new(e),
        },
    }
}

/// The error of a failed WebSocket upgrade to `operation` and whether
/// another attempt may succeed: an error status is the server's answer,
/// mapped as any HTTP answer.
#[cfg(feature = "websocket")]
pub(crate) fn handshake_failure(
    e: tungstenite::Error,
    operation: &str,
    started: std::time::Instant,
) -> super::ws::Failed {
    use super::ws::Failed;
    let transport = |source: Box<dyn std::error::Error + Send + Sync>, failure| Failed {
        error: Error::Transport {
            operation: operation.to_string(),
            source,
        },
        failure,
    };
    match e {
        tungstenite::Error::Http(resp) => {
            let status = resp.status();
            if status.is_client_error() || status.is_server_error() {
                let body = resp.body().as_deref().unwrap_or_default();
                Failed {
                    error: Error::Api(Box::new(api_error(status, resp.headers(), body, operation))),
                    failure: Failure::of_status(status.as_u16()),
                }
            } else {
                // The server (or something in front of it) answered, but
                // not with the upgrade.
                let message = format!(
                    "expected the upgrade to a WebSocket (HTTP 101), got HTTP {}",
                    status.as_u16()
                );
                transport(message.into(), Failure::Permanent)
            }
        }
        tungstenite::Error::Io(e) => Failed {
            failure: Failure::of_io(e.kind()),
            error: io_error(e, &format!("{operation}: connecting"), started.elapsed()),
        },
        // Closed before the whole answer came.
        e
        @ tungstenite::Error::Protocol(tungstenite::error::ProtocolError::HandshakeIncomplete) => {
            transport(Box::new(e), Failure::Transient)
        }
        other => transport(Box::new(other), Failure::Permanent),
    }
}

/// The error of an open WebSocket to `operation` that failed other than by
/// running out of time (the caller words its own timeouts).
#[cfg(feature = "websocket")]
pub(crate) fn websocket_error(e: tungstenite::Error, operation: &str) -> Error {
    let source: Box<dyn std::error::Error + Send + Sync> = match e {
        tungstenite::Error::Capacity(tungstenite::error::CapacityError::MessageTooLong {
            size,
            max_size,
        }) => {
            format!("the server sent a message of {size} bytes, more than the {max_size} allowed")
                .into()
        }
        other => Box::new(other),
    };
    Error::Transport {
        operation: operation.to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn decode_messages_keep_fields_and_types_but_not_values() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct S {
            cpu: u32,
            kind: Kind,
        }
        #[derive(Debug, serde::Deserialize)]
        enum Kind {
            A,
        }
        let message = |json: &str| decode_message(&serde_json::from_str::<S>(json).unwrap_err());
        let m = message(r#"{"cpu": "tok\"en-1", "kind": "A"}"#);
        assert!(
            m.starts_with("invalid type: string \"…\", expected u32"),
            "{m}"
        );
        assert!(m.contains("line 1 column"), "{m}");
        let m = message(r#"{"cpu": 1, "kind": "secret-2"}"#);
        assert!(m.contains("unknown variant `…`, expected `A`"), "{m}");
        assert!(!m.contains("secret"), "{m}");
        let m = message(r#"{"kind": "A"}"#);
        assert_eq!(m, "missing field `cpu` at line 1 column 13");
    }

    #[test]
    fn answer_excerpts_keep_keys_and_hide_string_values() {
        assert_eq!(
            answer_excerpt(br#" {"id": "sb-1", "env": {"K": "v\"al"}, "n": 1, "a": ["x", true]}"#),
            r#"{"id": "…", "env": {"K": "…"}, "n": 1, "a": ["…", true]}"#
        );
        // Cut off inside a string, or right after one: a value.
        assert_eq!(answer_excerpt(br#"{"token": "abc"#), r#"{"token": "…""#);
        assert_eq!(answer_excerpt(br#"{"token""#), r#"{"…""#);
        assert_eq!(answer_excerpt(br#"["a\"#), r#"["…""#);
        // Not JSON: quoted as it is.
        assert_eq!(answer_excerpt(b"<html class=\"x\">"), "<html class=\"x\">");
        assert_eq!(answer_excerpt(b""), "");
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        // Past dates in the three forms of RFC 9110.
        for past in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse_retry_after(past), Some(Duration::ZERO), "{past}");
        }
        let soon = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
        let d = parse_retry_after(&soon).unwrap();
        assert!(
            d > Duration::from_secs(110) && d <= Duration::from_secs(120),
            "{d:?}"
        );
        for bad in ["soon", "", "-1", "1.5", "Sun, 32 Nov 1994 08:49:37 GMT"] {
            assert_eq!(parse_retry_after(bad), None, "{bad}");
        }
    }

    #[test]
    fn server_numbers_never_overflow() {
        // Tests run with overflow checks: none of these may panic.
        assert_eq!(
            parse_retry_after("18446744073709551615"),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            parse_retry_after("99999999999999999999999999"),
            Some(Duration::from_secs(u64::MAX))
        );
        for huge in [
            "Sun, 06 Nov 18446744073709551615 08:49:37 GMT",
            "Sun, 06 Nov 99999 08:49:37 GMT",
            "Fri, 31 Dec 9999 23:59:59 GMT",
            "Sun, 99999999999 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 99999999999:49:37 GMT",
            "Sunday, 06-Nov-18446744073709551615 08:49:37 GMT",
            "Sun Nov  6 08:49:37 18446744073709551615",
        ] {
            let _ = parse_retry_after(huge);
        }
        let far = parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT").unwrap();
        assert!(far > Duration::from_secs(200 * 365 * 86_400));
        assert!(SystemTime::now() > UNIX_EPOCH);
    }

    #[test]
    fn api_errors_take_the_message_code_and_retry_after() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "3".parse().unwrap());
        let e = api_error(
            StatusCode::TOO_MANY_REQUESTS,
            &headers,
            br#"{"message":["a","b"],"code":"slow_down"}"#,
            "GET /x",
        );
        assert_eq!(
            (e.status, e.message.as_str(), e.code.as_deref()),
            (429, "a; b", Some("slow_down"))
        );
        assert_eq!(e.retry_after, Some(Duration::from_secs(3)));
        // The toolbox's computer-use errors: the message under `error`.
        let e = api_error(
            StatusCode::SERVICE_UNAVAILABLE,
            &HeaderMap::new(),
            br#"{"error":"no display is running","code":"DISPLAY_UNAVAILABLE"}"#,
            "POST /computeruse/mouse/click",
        );
        assert_eq!(
            (e.message.as_str(), e.code.as_deref()),
            ("no display is running", Some("DISPLAY_UNAVAILABLE"))
        );
        // NestJS: `error` is the reason phrase, `message` the message.
        let e = api_error(
            StatusCode::NOT_FOUND,
            &HeaderMap::new(),
            br#"{"statusCode":404,"error":"Not Found","message":"Sandbox not found"}"#,
            "GET /x",
        );
        assert_eq!(
            (e.message.as_str(), e.code.as_deref()),
            ("Sandbox not found", Some("Not Found"))
        );
        let e = api_error(
            StatusCode::NOT_FOUND,
            &HeaderMap::new(),
            br#"{"error":"not_found"}"#,
            "GET /x",
        );
        assert_eq!(
            (e.message.as_str(), e.code.as_deref()),
            ("Not Found", Some("not_found"))
        );
        let e = api_error(StatusCode::BAD_GATEWAY, &HeaderMap::new(), b"", "GET /x");
        assert_eq!(e.message, "Bad Gateway");
        let e = api_error(
            StatusCode::NOT_FOUND,
            &HeaderMap::new(),
            b"<html>\n  <h1>Not   found</h1>",
            "GET /x",
        );
        assert_eq!(
            (e.message.as_str(), e.code),
            ("<html> <h1>Not found</h1>", None)
        );
    }

    #[test]
    fn what_may_be_sent_again() {
        use Failure::*;
        assert_eq!(Failure::of_status(429), NotActedOn);
        assert_eq!(Failure::of_status(503), Transient);
        assert_eq!(Failure::of_status(500), Permanent);
        assert_eq!(Failure::of_status(404), Permanent);
        assert_eq!(
            Failure::of_io(io::ErrorKind::ConnectionRefused),
            NeverReached
        );
        assert_eq!(Failure::of_io(io::ErrorKind::ConnectionReset), Transient);
        assert_eq!(Failure::of_io(io::ErrorKind::UnexpectedEof), Transient);
        assert_eq!(Failure::of_io(io::ErrorKind::InvalidData), Permanent);
        assert_eq!(
            Failure::of_ureq(&ureq::Error::Timeout(ureq::Timeout::Connect)),
            NeverReached
        );
        assert_eq!(
            Failure::of_ureq(&ureq::Error::Timeout(ureq::Timeout::RecvResponse)),
            Transient
        );
        assert_eq!(Failure::of_ureq(&ureq::Error::HostNotFound), Permanent);
        // (idempotent, replayable)
        let cases = [(true, true), (true, false), (false, true), (false, false)];
        let allowed = |f: Failure| cases.map(|(i, r)| f.retry(i, r));
        assert_eq!(allowed(NeverReached), [true; 4]);
        assert_eq!(allowed(NotActedOn), [true, false, true, false]);
        assert_eq!(allowed(Transient), [true, false, false, false]);
        assert_eq!(allowed(Permanent), [false; 4]);
    }
}
