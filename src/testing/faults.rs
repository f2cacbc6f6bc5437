//! Fault injection and the record of the requests received.

use std::time::Duration;

/// What a matching request gets instead of (or before) its normal answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this HTTP status and a JSON error body.
    Status(u16),
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Close the connection without answering.
    Drop,
}

/// Which requests a fault applies to: a method (or `*` for any) and a path
/// pattern.
///
/// The pattern is matched segment by segment against the request path
/// (query excluded): `*` matches any one segment, a final `**` matches any
/// rest (including nothing). Main API paths start with `/api`, toolbox
/// paths with `/toolbox/{sandboxId}`:
///
/// | pattern | matches |
/// |---|---|
/// | `/api/sandbox` | the create (`POST`) and the listing (`GET`) |
/// | `/api/sandbox/*` | get, delete of any sandbox |
/// | `/api/sandbox/*/stop` | stop of any sandbox |
/// | `/toolbox/*/process/execute` | `exec` in any sandbox |
/// | `/toolbox/**` | every toolbox request |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    method: String,
    pattern: String,
}

impl Route {
    /// Requests with `method` (`"*"` for any) whose path matches `pattern`.
    pub fn new(method: &str, pattern: &str) -> Self {
        Route {
            method: method.to_ascii_uppercase(),
            pattern: pattern.to_string(),
        }
    }

    /// Any method on `pattern`.
    pub fn any(pattern: &str) -> Self {
        Self::new("*", pattern)
    }

    /// Whether a request matches.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        (self.method == "*" || self.method.eq_ignore_ascii_case(method))
            && path_matches(&self.pattern, path)
    }
}

impl From<&str> for Route {
    /// `"METHOD /pattern"` or just `"/pattern"` (any method).
    fn from(s: &str) -> Self {
        match s.trim().split_once(' ') {
            Some((method, pattern)) => Route::new(method, pattern.trim()),
            None => Route::any(s.trim()),
        }
    }
}

fn path_matches(pattern: &str, path: &str) -> bool {
    let pat: Vec<&str> = pattern.trim_matches('/').split('/').collect();
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut i = 0;
    for (k, p) in pat.iter().enumerate() {
        if *p == "**" && k == pat.len() - 1 {
            return true;
        }
        match segs.get(i) {
            Some(s) if *p == "*" || p == s => i += 1,
            _ => return false,
        }
    }
    i == segs.len()
}

/// A request the simulator received.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The decoded path, without the query (`/api/sandbox/{id}`,
    /// `/toolbox/{id}/files`, ...).
    pub path: String,
    /// The decoded query pairs, in order.
    pub query: Vec<(String, String)>,
}

/// Pending faults, in the order they were registered.
#[derive(Default)]
pub(crate) struct Faults {
    rules: Vec<(Route, usize, Fault)>,
}

impl Faults {
    pub(crate) fn add(&mut self, route: Route, times: usize, fault: Fault) {
        if times > 0 {
            self.rules.push((route, times, fault));
        }
    }

    /// The fault for this request, if any; it counts as one of its uses.
    pub(crate) fn take(&mut self, method: &str, path: &str) -> Option<Fault> {
        let i = self
            .rules
            .iter()
            .position(|(route, _, _)| route.matches(method, path))?;
        let fault = self.rules[i].2.clone();
        self.rules[i].1 -= 1;
        if self.rules[i].1 == 0 {
            self.rules.remove(i);
        }
        Some(fault)
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        let r = Route::from("POST /api/sandbox");
        assert!(r.matches("post", "/api/sandbox"));
        assert!(!r.matches("GET", "/api/sandbox"));
        assert!(!r.matches("POST", "/api/sandbox/x"));
        let r = Route::from("/api/sandbox/*/stop");
        assert!(r.matches("POST", "/api/sandbox/abc/stop"));
        assert!(!r.matches("POST", "/api/sandbox/abc/start"));
        let r = Route::any("/toolbox/**");
        assert!(r.matches("GET", "/toolbox/a/files"));
        assert!(r.matches("GET", "/toolbox"));
        assert!(!r.matches("GET", "/api/sandbox"));
    }

    #[test]
    fn faults_are_used_up() {
        let mut f = Faults::default();
        f.add(Route::any("/a"), 2, Fault::Status(503));
        assert_eq!(f.take("GET", "/a"), Some(Fault::Status(503)));
        assert_eq!(f.take("GET", "/b"), None);
        assert_eq!(f.take("GET", "/a"), Some(Fault::Status(503)));
        assert_eq!(f.take("GET", "/a"), None);
    }
}
