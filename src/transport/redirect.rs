//! The redirect policy of every request: ureq follows none (its
//! `max_redirects` is 0, so a 3xx answer comes back as an answer), and
//! [`next_hop`] decides, hop by hop, whether the crate follows one.
//!
//! A redirect is followed only to the same origin (scheme, host and port)
//! as the request, at most [`MAX_REDIRECTS`] times, and only when the
//! request can go again unchanged: a `GET` or `HEAD`, or a 307/308 of a
//! body held in memory. Anything else (another origin, a method change,
//! a streamed body, a missing or unreadable `Location`) ends the request
//! with an [`ApiError`] naming the status and where it pointed, the
//! location shown without its user information and query. So the
//! credentials and `X-Daytona-*` headers (or an object store's signature
//! and session token) never reach another host, and every answer the
//! crate acts on (a sandbox naming its toolbox) comes from the host it
//! asked.

use ureq::http::{HeaderMap, Method, StatusCode};
use url::Url;

use crate::config::REDACTED;
use crate::error::ApiError;

/// Most redirects followed for one request (the cap ureq had by default).
pub(crate) const MAX_REDIRECTS: u32 = 10;

/// What to do with a 3xx answer.
pub(crate) enum Hop {
    /// Send the same request again to this URL (same origin).
    Follow(Url),
    /// Stop: the error to return.
    Refuse(ApiError),
}

/// The next hop of a request `method` to `from` answered with `status`
/// (a redirect) and `headers`, after `hops` redirects already followed;
/// `replayable` when the request's body can be sent again.
pub(crate) fn next_hop(
    from: &Url,
    method: &Method,
    replayable: bool,
    status: StatusCode,
    headers: &HeaderMap,
    hops: u32,
    operation: &str,
) -> Hop {
    let refuse = |why: &str, shown: String| {
        Hop::Refuse(ApiError {
            status: status.as_u16(),
            message: format!("redirect to {shown} not followed: {why}"),
            code: None,
            retry_after: None,
            operation: operation.to_string(),
        })
    };
    let Some(raw) = headers.get("location") else {
        return refuse("no Location", "nowhere".into());
    };
    let raw = String::from_utf8_lossy(raw.as_bytes());
    let Ok(to) = from.join(raw.trim()) else {
        return refuse("not a URL", "an unreadable location".into());
    };
    let shown = shown(&to);
    if to.scheme() != from.scheme()
        || to.host() != from.host()
        || to.port_or_known_default() != from.port_or_known_default()
    {
        return refuse("another origin than the request's", shown);
    }
    let same_request = match status.as_u16() {
        307 | 308 => replayable,
        301..=303 => matches!(*method, Method::GET | Method::HEAD),
        _ => false,
    };
    if !same_request {
        return refuse("the request cannot be sent again unchanged", shown);
    }
    if hops >= MAX_REDIRECTS {
        return refuse(&format!("more than {MAX_REDIRECTS} redirects"), shown);
    }
    Hop::Follow(to)
}

/// `url` as an error may show it: no user information, no query (either
/// may hold a credential), no fragment.
fn shown(url: &Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_fragment(None);
    let query = url.query().is_some();
    url.set_query(None);
    if query {
        format!("{url}?{REDACTED}")
    } else {
        url.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(from: &str, method: Method, status: u16, location: Option<&str>, hops: u32) -> Hop {
        let mut headers = HeaderMap::new();
        if let Some(l) = location {
            headers.insert("location", l.parse().unwrap());
        }
        next_hop(
            &Url::parse(from).unwrap(),
            &method,
            true,
            StatusCode::from_u16(status).unwrap(),
            &headers,
            hops,
            "GET /api/x",
        )
    }

    fn refused(h: Hop) -> String {
        match h {
            Hop::Refuse(e) => e.message,
            Hop::Follow(u) => panic!("followed to {u}"),
        }
    }

    #[test]
    fn follows_only_the_same_origin() {
        let from = "http://127.0.0.1:8080/api/x";
        match hop(from, Method::GET, 302, Some("/api/y?a=1"), 0) {
            Hop::Follow(u) => assert_eq!(u.as_str(), "http://127.0.0.1:8080/api/y?a=1"),
            Hop::Refuse(e) => panic!("{e}"),
        }
        match hop(from, Method::POST, 307, Some("y"), 9) {
            Hop::Follow(u) => assert_eq!(u.as_str(), "http://127.0.0.1:8080/api/y"),
            Hop::Refuse(e) => panic!("{e}"),
        }
        for other in [
            "http://127.0.0.1:8081/api/x",
            "https://127.0.0.1:8080/api/x",
            "http://localhost:8080/api/x",
            "//evil.example/x",
        ] {
            let why = refused(hop(from, Method::GET, 302, Some(other), 0));
            assert!(why.contains("another origin"), "{other}: {why}");
        }
        let why = refused(hop(
            from,
            Method::GET,
            302,
            Some("http://user:sk-123456789@evil.example/x?token=sk-123456789#f"),
            0,
        ));
        assert_eq!(
            why,
            "redirect to http://evil.example/x?<redacted> not followed: \
             another origin than the request's"
        );
        assert!(refused(hop(from, Method::POST, 302, Some("/y"), 0)).contains("unchanged"));
        assert!(refused(hop(from, Method::GET, 300, Some("/y"), 0)).contains("unchanged"));
        assert!(refused(hop(from, Method::GET, 302, Some("/y"), 10)).contains("more than 10"));
        assert!(refused(hop(from, Method::GET, 302, None, 0)).contains("no Location"));
        assert!(refused(hop(from, Method::GET, 302, Some("http://[::1"), 0)).contains("not a URL"));
    }
}
