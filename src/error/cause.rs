//! What a transport failure was, in one sentence: the `Display` of
//! [`super::Error::Transport`], whose `source` keeps the error it comes
//! from (ureq's, an I/O error, rustls', tungstenite's) for the details.

use std::error::Error as StdError;
use std::io;

const DNS: &str = "the host name could not be resolved (DNS)";
const TLS: &str = "the TLS connection failed";

/// The sentence for `source`, or `None` when it is not an error of a
/// known kind (a message of the SDK's own, which is then shown itself).
pub(super) fn describe(source: &(dyn StdError + 'static)) -> Option<&'static str> {
    if let Some(e) = source.downcast_ref::<ureq::Error>() {
        return Some(ureq_cause(e));
    }
    if let Some(e) = source.downcast_ref::<io::Error>() {
        // ureq's body reader hands its errors on wrapped in an I/O error.
        if let Some(e) = e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<ureq::Error>())
        {
            return Some(ureq_cause(e));
        }
        return io_cause(e);
    }
    if source.downcast_ref::<rustls::Error>().is_some() {
        return Some(TLS);
    }
    #[cfg(feature = "websocket")]
    if let Some(e) = source.downcast_ref::<tungstenite::Error>() {
        return Some(match e {
            tungstenite::Error::Io(io) => io_cause(io).unwrap_or("the connection failed"),
            tungstenite::Error::Tls(_) => TLS,
            tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
                "the WebSocket was closed"
            }
            tungstenite::Error::Protocol(
                tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
            ) => "the connection ended without closing the WebSocket",
            _ => "the WebSocket protocol was not followed",
        });
    }
    None
}

/// Whether `source` is a time limit reached: ureq's timeout, or an I/O
/// error that timed out (itself or as the wrapper of ureq's).
pub(super) fn is_timeout(source: &(dyn StdError + 'static)) -> bool {
    if let Some(e) = source.downcast_ref::<ureq::Error>() {
        return match e {
            ureq::Error::Timeout(_) => true,
            ureq::Error::Io(io) => is_timeout(io),
            _ => false,
        };
    }
    if let Some(e) = source.downcast_ref::<io::Error>() {
        return match e.get_ref() {
            Some(inner) if inner.is::<ureq::Error>() => is_timeout(inner),
            _ => matches!(
                e.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ),
        };
    }
    #[cfg(feature = "websocket")]
    if let Some(tungstenite::Error::Io(e)) = source.downcast_ref::<tungstenite::Error>() {
        return is_timeout(e);
    }
    false
}

fn ureq_cause(e: &ureq::Error) -> &'static str {
    match e {
        ureq::Error::HostNotFound => DNS,
        ureq::Error::Io(io) => io_cause(io).unwrap_or("the connection failed"),
        ureq::Error::ConnectionFailed => "the connection could not be made",
        ureq::Error::Timeout(_) => "timed out",
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::TlsRequired => TLS,
        ureq::Error::ConnectProxyFailed(_) | ureq::Error::InvalidProxyUrl => {
            "the proxy did not make the connection"
        }
        ureq::Error::Protocol(_) | ureq::Error::LargeResponseHeader(..) => {
            "the answer is not valid HTTP"
        }
        ureq::Error::BodyExceedsLimit(_) => "the answer is larger than the SDK reads",
        ureq::Error::BodyStalled => "the answer stalled",
        _ => "the request could not be sent or its answer read",
    }
}

fn io_cause(e: &io::Error) -> Option<&'static str> {
    use io::ErrorKind::*;
    Some(match e.kind() {
        ConnectionRefused => "the connection was refused",
        ConnectionReset | ConnectionAborted | BrokenPipe => "the connection was reset",
        UnexpectedEof => "the connection closed before the answer was complete",
        TimedOut | WouldBlock => "timed out",
        HostUnreachable | NetworkUnreachable | AddrNotAvailable => "the host cannot be reached",
        _ if is_dns(e) => DNS,
        _ if e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) => TLS,
        _ => return None,
    })
}

/// A failed name lookup, as the standard library reports it
/// (`getaddrinfo`'s message on Unix, Windows' on Windows).
fn is_dns(e: &io::Error) -> bool {
    let text = e.to_string();
    ["failed to lookup address", "No such host is known"]
        .iter()
        .any(|m| text.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn transport(source: impl StdError + Send + Sync + 'static) -> Error {
        Error::Transport {
            operation: "GET /api/sandbox/x".into(),
            source: Box::new(source),
        }
    }

    #[test]
    fn each_cause_reads_as_one_sentence_and_stays_the_source() {
        let dns =
            io::Error::other("failed to lookup address information: Name or service not known");
        let cases = [
            (transport(ureq::Error::HostNotFound), DNS),
            (transport(dns), DNS),
            (
                transport(io::Error::from(io::ErrorKind::ConnectionRefused)),
                "the connection was refused",
            ),
            (
                transport(ureq::Error::Io(io::ErrorKind::ConnectionReset.into())),
                "the connection was reset",
            ),
            (
                transport(ureq::Error::Rustls(rustls::Error::DecryptError)),
                TLS,
            ),
        ];
        for (e, what) in cases {
            assert_eq!(e.to_string(), format!("GET /api/sandbox/x: {what}"));
            assert!(std::error::Error::source(&e).is_some(), "{e}");
            assert!(!e.to_string().contains("Custom {"), "{e}");
        }
    }

    #[test]
    fn a_message_of_the_sdk_is_shown_itself_and_not_again() {
        let e = Error::Transport {
            operation: "GET /toolbox/x/logs".into(),
            source: "expected the upgrade to a WebSocket (HTTP 101), got HTTP 200".into(),
        };
        assert_eq!(
            e.to_string(),
            "GET /toolbox/x/logs: expected the upgrade to a WebSocket (HTTP 101), got HTTP 200"
        );
        assert!(std::error::Error::source(&e).is_none());
    }
}
