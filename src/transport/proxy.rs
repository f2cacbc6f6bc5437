//! The proxies named by the environment, one for each scheme of target,
//! as curl, Go's `net/http` and the official SDKs read them:
//! `HTTPS_PROXY` for `https` (and `wss`) targets, `HTTP_PROXY` for `http`
//! (and `ws`) ones, `ALL_PROXY` for either when its own is not set; the
//! lower-case names are read when the upper-case ones are not set;
//! `NO_PROXY` exempts hosts from both.
//!
//! ureq's own reading takes the first of these variables for every
//! target, so a proxy meant for `https` traffic (which it sees encrypted)
//! would carry `http` requests, credentials included, in the clear.

use ureq::{Proxy, ProxyProtocol};

/// The proxy of each scheme of target (`None`: connect directly).
#[derive(Default)]
pub(crate) struct Proxies {
    http: Option<Proxy>,
    https: Option<Proxy>,
    /// Whether both schemes go through the same proxy (or none).
    same: bool,
}

impl Proxies {
    /// No proxy for any target.
    pub(crate) fn none() -> Self {
        Proxies {
            same: true,
            ..Proxies::default()
        }
    }

    /// The proxies of this process's environment.
    pub(crate) fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The proxies of the environment `get` reads.
    fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let no_proxy = get("NO_PROXY").or_else(|| get("no_proxy"));
        let read = |names: [&str; 4]| {
            let (name, value) = names
                .into_iter()
                .find_map(|name| get(name).map(|value| (name, value)))?;
            proxy(name, value.trim(), no_proxy.as_deref())
        };
        let http = read(["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]);
        let https = read(["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]);
        let same = match (&http, &https) {
            (None, None) => true,
            // Both are built with the same `NO_PROXY`.
            (Some(a), Some(b)) => a.uri() == b.uri(),
            _ => false,
        };
        Proxies { http, https, same }
    }

    /// The proxy of targets of scheme `https` (`true`) or `http`.
    pub(crate) fn of(&self, https: bool) -> Option<&Proxy> {
        if https {
            self.https.as_ref()
        } else {
            self.http.as_ref()
        }
    }

    /// Whether targets of both schemes go through the same proxy (or none).
    pub(crate) fn same(&self) -> bool {
        self.same
    }

    /// Whether any target goes through a proxy.
    pub(crate) fn any(&self) -> bool {
        self.http.is_some() || self.https.is_some()
    }
}

impl std::fmt::Debug for Proxies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Where the proxies are, never their credentials.
        let at = |p: &Option<Proxy>| p.as_ref().map(|p| format!("{}:{}", p.host(), p.port()));
        f.debug_struct("Proxies")
            .field("http", &at(&self.http))
            .field("https", &at(&self.https))
            .finish()
    }
}

/// The proxy `value` of the variable `name`, exempting the hosts of
/// `no_proxy`; `None` (with a warning naming the variable, not its value,
/// which may hold credentials) when it is not a proxy this crate can use.
fn proxy(name: &str, value: &str, no_proxy: Option<&str>) -> Option<Proxy> {
    let parsed = match Proxy::new(value) {
        Ok(p) if matches!(p.protocol(), ProxyProtocol::Http | ProxyProtocol::Https) => p,
        Ok(_) => {
            log::warn!("{name} names a SOCKS proxy, which is not supported: connecting directly");
            return None;
        }
        Err(_) => {
            log::warn!("{name} is not a proxy URL: connecting directly");
            return None;
        }
    };
    let mut builder = Proxy::builder(parsed.protocol())
        .host(parsed.host())
        .port(parsed.port());
    if let Some(user) = parsed.username() {
        builder = builder.username(user);
    }
    if let Some(password) = parsed.password() {
        builder = builder.password(password);
    }
    for host in no_proxy.unwrap_or_default().split(',') {
        builder = builder.no_proxy(host.trim());
    }
    match builder.build() {
        Ok(p) => Some(p),
        Err(_) => {
            log::warn!("{name} is not a proxy URL: connecting directly");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(vars: &[(&str, &str)]) -> Proxies {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Proxies::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    fn at(p: Option<&Proxy>) -> Option<String> {
        p.map(|p| format!("{}:{}", p.host(), p.port()))
    }

    #[test]
    fn each_scheme_reads_its_own_variable_then_all_proxy() {
        let p = proxies(&[
            ("HTTP_PROXY", "http://h:1"),
            ("HTTPS_PROXY", "http://s:2"),
            ("ALL_PROXY", "http://a:3"),
        ]);
        assert_eq!(at(p.of(false)).as_deref(), Some("h:1"));
        assert_eq!(at(p.of(true)).as_deref(), Some("s:2"));
        assert!(!p.same());

        let p = proxies(&[("HTTPS_PROXY", "http://s:2")]);
        assert_eq!(at(p.of(false)), None);
        assert_eq!(at(p.of(true)).as_deref(), Some("s:2"));
        assert!(!p.same() && p.any());

        let p = proxies(&[("http_proxy", "h:1"), ("all_proxy", "http://a:3")]);
        assert_eq!(at(p.of(false)).as_deref(), Some("h:1"));
        assert_eq!(at(p.of(true)).as_deref(), Some("a:3"));

        let p = proxies(&[("ALL_PROXY", "http://a:3")]);
        assert_eq!(at(p.of(false)).as_deref(), Some("a:3"));
        assert_eq!(at(p.of(true)).as_deref(), Some("a:3"));
        assert!(p.same());
    }

    #[test]
    fn upper_case_names_come_first_and_empty_values_are_unset() {
        let p = proxies(&[
            ("HTTPS_PROXY", "http://upper:1"),
            ("https_proxy", "http://lower:2"),
            ("HTTP_PROXY", "  "),
            ("http_proxy", "http://lower:3"),
        ]);
        assert_eq!(at(p.of(true)).as_deref(), Some("upper:1"));
        assert_eq!(at(p.of(false)).as_deref(), Some("lower:3"));
    }

    #[test]
    fn unusable_values_mean_no_proxy() {
        let p = proxies(&[
            ("HTTPS_PROXY", "socks5://s:1080"),
            ("HTTP_PROXY", "ftp://[::"),
        ]);
        assert!(!p.any() && p.same());
        assert!(Proxies::none().same() && !Proxies::none().any());
    }

    #[test]
    fn credentials_and_no_proxy_are_kept() {
        let p = proxies(&[
            ("HTTPS_PROXY", "http://us%40er:p%3Ass@s:2"),
            ("NO_PROXY", "example.com, .internal"),
        ]);
        let s = p.of(true).unwrap();
        assert_eq!(s.username(), Some("us@er"));
        assert_eq!(s.password(), Some("p:ss"));
        let exempt = |u: &str| s.is_no_proxy(&u.parse().unwrap());
        assert!(exempt("https://example.com/x"));
        assert!(exempt("https://a.internal/x"));
        assert!(!exempt("https://daytona.io/x"));
        let shown = format!("{p:?}");
        assert!(
            !shown.contains("p:ss") && !shown.contains("us@er"),
            "{shown}"
        );
    }
}
