//! Name resolution for the transport's agent.
//!
//! ureq looks the host up before every request, even one that goes out on
//! a pooled connection and never uses the answer; and since every request
//! of this crate has a timeout, ureq's default resolver does each lookup on
//! a thread of its own so that it can give up at the deadline. On loopback
//! that thread cost more than the whole exchange (about 50 µs a call, 2.5×
//! a raw ureq request). So:
//!
//! - a host that is an IP address is used as it is, as the default resolver
//!   would after parsing it: no lookup, no thread;
//! - a name's addresses, once looked up (by the default resolver, under the
//!   request's timeout, on its thread), are reused for [`REUSE`]: the
//!   answer matters only for new connections, and one lookup a second per
//!   host is plenty. Failures are not kept.
//!
//! Uses ureq's `unversioned` resolver API (stable within a minor version).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ureq::config::{Config, IpFamily};
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// How long a name's addresses are reused.
pub(crate) const REUSE: Duration = Duration::from_secs(1);

/// Most names remembered (an API host, a toolbox proxy, an object store:
/// a handful in practice).
const MAX_NAMES: usize = 64;

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct Resolve {
    default: DefaultResolver,
    /// `host:port` and IP family → when looked up, what was found.
    recent: Mutex<HashMap<(String, u8), (Instant, ResolvedSocketAddrs)>>,
}

fn family_key(family: IpFamily) -> u8 {
    match family {
        IpFamily::Any => 0,
        IpFamily::Ipv4Only => 4,
        IpFamily::Ipv6Only => 6,
    }
}

impl Resolver for Resolve {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let port = match (uri.scheme_str(), uri.port_u16()) {
            (Some("http" | "https"), Some(port)) => port,
            (Some("http"), None) => 80,
            (Some("https"), None) => 443,
            // Anything else (a SOCKS proxy, a bad URI): the default's way.
            _ => return self.default.resolve(uri, config, timeout),
        };
        let Some(host) = uri.host() else {
            return self.default.resolve(uri, config, timeout);
        };
        let family = config.ip_family();
        let literal = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if let Ok(ip) = literal.parse::<IpAddr>() {
            let addr = SocketAddr::new(ip, port);
            if family.keep_wanted(std::iter::once(addr)).next().is_some() {
                let mut addrs = self.empty();
                addrs.push(addr);
                return Ok(addrs);
            }
            // The wrong family: the default resolver reports it.
            return self.default.resolve(uri, config, timeout);
        }
        let key = (format!("{host}:{port}"), family_key(family));
        if let Some((at, addrs)) = self.recent.lock().ok().and_then(|r| r.get(&key).cloned()) {
            if at.elapsed() < REUSE {
                return Ok(addrs);
            }
        }
        let addrs = self.default.resolve(uri, config, timeout)?;
        if let Ok(mut recent) = self.recent.lock() {
            if recent.len() >= MAX_NAMES {
                recent.retain(|_, (at, _)| at.elapsed() < REUSE);
                if recent.len() >= MAX_NAMES {
                    recent.clear();
                }
            }
            recent.insert(key, (Instant::now(), addrs.clone()));
        }
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ureq::unversioned::transport::time::Duration as UreqDuration;

    fn resolve(r: &Resolve, uri: &str, config: &Config) -> Result<Vec<SocketAddr>, ureq::Error> {
        let uri: Uri = uri.parse().unwrap();
        let timeout = NextTimeout {
            after: UreqDuration::from(Duration::from_secs(2)),
            reason: ureq::Timeout::Global,
            ..NextTimeout::default()
        };
        r.resolve(&uri, config, timeout).map(|a| a.to_vec())
    }

    #[test]
    fn ip_addresses_are_used_as_they_are() {
        let r = Resolve::default();
        let config = Config::default();
        assert_eq!(
            resolve(&r, "http://127.0.0.1:8080/api", &config).unwrap(),
            vec!["127.0.0.1:8080".parse().unwrap()]
        );
        assert_eq!(
            resolve(&r, "https://[::1]/x", &config).unwrap(),
            vec!["[::1]:443".parse().unwrap()]
        );
        assert_eq!(
            resolve(&r, "http://10.1.2.3/x", &config).unwrap(),
            vec!["10.1.2.3:80".parse().unwrap()]
        );
        // Nothing to remember for an address.
        assert!(r.recent.lock().unwrap().is_empty());
        // An address of the wrong family is refused, as by the default.
        let v6_only = Config::builder().ip_family(IpFamily::Ipv6Only).build();
        assert!(resolve(&r, "http://127.0.0.1:1/", &v6_only).is_err());
    }

    #[test]
    fn names_are_looked_up_then_reused_briefly() {
        let r = Resolve::default();
        let config = Config::default();
        let first = resolve(&r, "http://localhost:4000/api", &config).unwrap();
        assert!(!first.is_empty());
        assert!(first
            .iter()
            .all(|a| a.port() == 4000 && a.ip().is_loopback()));
        let key = ("localhost:4000".to_string(), 0);
        let at = r.recent.lock().unwrap()[&key].0;
        assert_eq!(
            resolve(&r, "http://localhost:4000/x", &config).unwrap(),
            first
        );
        assert_eq!(
            r.recent.lock().unwrap()[&key].0,
            at,
            "reused, not looked up again"
        );
        // Once stale, looked up again.
        r.recent.lock().unwrap().get_mut(&key).unwrap().0 = Instant::now() - REUSE;
        resolve(&r, "http://localhost:4000/x", &config).unwrap();
        assert!(r.recent.lock().unwrap()[&key].0 > at);
    }

    #[test]
    fn failures_are_not_kept() {
        let r = Resolve::default();
        let config = Config::default();
        assert!(resolve(&r, "http://no-such-host.invalid/", &config).is_err());
        assert!(r.recent.lock().unwrap().is_empty());
    }
}
