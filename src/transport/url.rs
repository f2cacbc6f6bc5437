//! The little URL handling the crate needs: parsing the absolute http(s)
//! and ws(s) URLs that configuration and the API hand out, and encoding
//! path segments and query components.
//!
//! This replaces the `url` crate, whose internationalized-domain support
//! alone brought about twenty crates into every build. Hosts must be ASCII
//! (write internationalized domains in their `xn--` form).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// A parsed absolute URL: `scheme://host[:port][/path][?query][#fragment]`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Url {
    serialized: String,
    scheme_end: usize,
    host_start: usize,
    host_end: usize,
    port: Option<u16>,
    path_start: usize,
    /// Where the query (`?`) or, without one, the fragment (`#`) starts.
    path_end: usize,
}

/// The host of a URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Host<'a> {
    Domain(&'a str),
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
}

/// Why a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError(&'static str);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for ParseError {}

impl fmt::Debug for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.serialized, f)
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.serialized)
    }
}

impl Url {
    /// Parses an absolute URL with an authority. The scheme and host are
    /// lower-cased; everything else is kept as written.
    pub(crate) fn parse(input: &str) -> Result<Url, ParseError> {
        if input.is_empty() {
            return Err(ParseError("empty URL"));
        }
        if input
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || !b.is_ascii())
        {
            return Err(ParseError(
                "spaces, control and non-ASCII characters must be percent-encoded (hosts in their xn-- form)",
            ));
        }
        let (scheme, rest) = input
            .split_once("://")
            .ok_or(ParseError("not an absolute URL (scheme://host...)"))?;
        let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !scheme_ok {
            return Err(ParseError("invalid scheme"));
        }
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        if authority.contains('@') {
            return Err(ParseError("credentials in the URL are not supported"));
        }
        let (host, port) = split_host_port(authority)?;
        parse_host(host)?;
        let scheme_lower = scheme.to_ascii_lowercase();
        // A port equal to the scheme's default is dropped, as browsers do.
        let port = port.filter(|&p| Some(p) != default_port(&scheme_lower));
        let mut serialized = scheme_lower;
        serialized.push_str("://");
        let host_start = serialized.len();
        serialized.push_str(&host.to_ascii_lowercase());
        let host_end = serialized.len();
        if let Some(p) = port {
            serialized.push(':');
            serialized.push_str(&p.to_string());
        }
        let path_start = serialized.len();
        serialized.push_str(tail);
        let path_end = path_start + tail.find(['?', '#']).unwrap_or(tail.len());
        Ok(Url {
            serialized,
            scheme_end: scheme.len(),
            host_start,
            host_end,
            port,
            path_start,
            path_end,
        })
    }

    /// The whole URL.
    pub(crate) fn as_str(&self) -> &str {
        &self.serialized
    }

    /// The scheme, lower case.
    pub(crate) fn scheme(&self) -> &str {
        &self.serialized[..self.scheme_end]
    }

    /// The host as written (IPv6 in brackets).
    pub(crate) fn host_str(&self) -> &str {
        &self.serialized[self.host_start..self.host_end]
    }

    /// The host, typed.
    pub(crate) fn host(&self) -> Host<'_> {
        // Checked by `parse`.
        parse_host(self.host_str()).unwrap_or(Host::Domain(""))
    }

    /// The path, possibly empty.
    #[cfg_attr(not(feature = "images"), allow(dead_code))]
    pub(crate) fn path(&self) -> &str {
        &self.serialized[self.path_start..self.path_end]
    }

    /// The port, unless it is the scheme's default.
    #[cfg_attr(not(feature = "images"), allow(dead_code))]
    pub(crate) fn port(&self) -> Option<u16> {
        self.port
    }

    /// The explicit port, or the scheme's default one.
    pub(crate) fn port_or_known_default(&self) -> Option<u16> {
        self.port.or(default_port(self.scheme()))
    }

    /// Whether the host is this machine.
    pub(crate) fn is_loopback(&self) -> bool {
        match self.host() {
            Host::Domain(d) => d == "localhost",
            Host::Ipv4(ip) => ip.is_loopback(),
            Host::Ipv6(ip) => ip.is_loopback(),
        }
    }

    /// The same origin: scheme, host and port.
    pub(crate) fn same_origin(&self, other: &Url) -> bool {
        self.scheme() == other.scheme()
            && self.host_str() == other.host_str()
            && self.port_or_known_default() == other.port_or_known_default()
    }

    /// The URL without query and fragment, and without trailing slashes,
    /// ready for segments to be appended.
    pub(crate) fn base(&self) -> Url {
        let path = self.serialized[self.path_start..self.path_end].trim_end_matches('/');
        let mut url = self.clone();
        url.serialized.truncate(self.path_start);
        url.serialized.push_str(path);
        url.path_end = url.serialized.len();
        url
    }

    /// Appends `segment` to the path, percent-encoded as one segment.
    /// Only for URLs without query or fragment (see [`Url::base`]).
    pub(crate) fn push_segment(&mut self, segment: &str) {
        debug_assert_eq!(self.path_end, self.serialized.len());
        self.serialized.push('/');
        push_segment(&mut self.serialized, segment);
        self.path_end = self.serialized.len();
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

fn split_host_port(authority: &str) -> Result<(&str, Option<u16>), ParseError> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let close = rest.find(']').ok_or(ParseError("unclosed IPv6 address"))?;
        let host = &authority[..close + 2];
        match &rest[close + 1..] {
            "" => (host, None),
            p => (
                host,
                Some(p.strip_prefix(':').ok_or(ParseError("invalid port"))?),
            ),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        None | Some("") => None,
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse().map_err(|_| ParseError("invalid port"))?)
        }
        Some(_) => return Err(ParseError("invalid port")),
    };
    Ok((host, port))
}

fn parse_host(host: &str) -> Result<Host<'_>, ParseError> {
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6
            .parse()
            .map(Host::Ipv6)
            .map_err(|_| ParseError("invalid IPv6 address"));
    }
    if host.is_empty() {
        return Err(ParseError("no host"));
    }
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Ok(Host::Ipv4(ip));
    }
    let valid = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        && !host.starts_with('.')
        && !host.contains("..");
    if valid {
        Ok(Host::Domain(host))
    } else {
        Err(ParseError("invalid host"))
    }
}

/// Appends `seg` percent-encoded: everything but unreserved characters is
/// escaped, and a segment made only of dots is escaped whole, so that no
/// value can change the path.
pub(crate) fn push_segment(out: &mut String, seg: &str) {
    let all_dots = !seg.is_empty() && seg.bytes().all(|b| b == b'.');
    for b in seg.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'~' | b':' | b'@')
            || (b == b'.' && !all_dots);
        if keep {
            out.push(b as char);
        } else {
            push_escaped(out, b);
        }
    }
}

/// Appends `value` encoded as a query name or value
/// (`application/x-www-form-urlencoded`: space as `+`).
pub(crate) fn push_query_component(out: &mut String, value: &str) {
    for b in value.bytes() {
        match b {
            b' ' => out.push('+'),
            b if b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_') => {
                out.push(b as char)
            }
            b => push_escaped(out, b),
        }
    }
}

fn push_escaped(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(HEX[usize::from(b >> 4)] as char);
    out.push(HEX[usize::from(b & 15)] as char);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_parts() {
        let u = Url::parse("HTTPS://App.Daytona.io/api/?a=1#x").unwrap();
        assert_eq!(u.as_str(), "https://app.daytona.io/api/?a=1#x");
        assert_eq!(u.scheme(), "https");
        assert_eq!(u.host(), Host::Domain("app.daytona.io"));
        assert_eq!(u.port_or_known_default(), Some(443));
        assert_eq!(u.base().as_str(), "https://app.daytona.io/api");
        let u = Url::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(u.host(), Host::Ipv4(Ipv4Addr::LOCALHOST));
        assert_eq!(u.port_or_known_default(), Some(8080));
        assert!(u.is_loopback());
        assert_eq!(u.base().as_str(), "http://127.0.0.1:8080");
        let u = Url::parse("ws://[::1]:9/x").unwrap();
        assert_eq!(u.host_str(), "[::1]");
        assert_eq!(u.host(), Host::Ipv6(Ipv6Addr::LOCALHOST));
        assert!(u.is_loopback());
    }

    #[test]
    fn refuses_what_it_cannot_carry() {
        for bad in [
            "",
            "not a url",
            "app.daytona.io/api",
            "http://",
            "http://user:pw@host/",
            "http://host:port/",
            "http://host:99999/",
            "http://hö.st/",
            "http://a b/",
            "http://[::1/",
            "http://bad..host/",
        ] {
            assert!(Url::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn segments_and_queries_are_encoded() {
        let mut u = Url::parse("http://h/api/").unwrap().base();
        u.push_segment("a/b ..");
        u.push_segment("..");
        u.push_segment("é");
        assert_eq!(u.as_str(), "http://h/api/a%2Fb%20../%2E%2E/%C3%A9");
        let mut q = String::new();
        push_query_component(&mut q, "a&b=c d/é");
        assert_eq!(q, "a%26b%3Dc+d%2F%C3%A9");
    }

    #[test]
    fn origins_compare_with_default_ports() {
        let a = Url::parse("https://h/x").unwrap();
        let b = Url::parse("https://H:443/y?z").unwrap();
        let c = Url::parse("http://h/x").unwrap();
        assert!(a.same_origin(&b));
        assert!(!a.same_origin(&c));
    }
}
