//! The simulator's file search (`GET /files/search`), matching as the
//! toolbox daemon does: the pattern against each file's path relative to
//! the searched folder (`/`-separated), with `**` for any number of folders
//! and `{a,b}` for alternatives; `*`, `?` and `[...]` within one name. A
//! pattern that does not parse is refused (the daemon answers 400).

use crate::pattern::{matches, BadPattern};

/// At most this many alternatives come out of a pattern's braces: a
/// pattern of many groups (`{a,b}{a,b}...`) is refused, not expanded into
/// millions (the daemon matches such a pattern; no search needs it).
const MAX_ALTERNATIVES: usize = 4096;

/// At most this many brace groups in a pattern, nested or in a row: each
/// is a level of [`expand`]'s recursion, on a server thread's stack.
const MAX_GROUPS: usize = 64;

/// A search pattern, parsed once: its alternatives, each split into path
/// segments.
pub(super) struct Pattern {
    alternatives: Vec<Vec<String>>,
}

impl Pattern {
    /// `pattern` parsed, or `BadPattern` (an unclosed brace, a malformed
    /// `[...]`, too many groups or alternatives).
    pub(super) fn new(pattern: &str) -> Result<Self, BadPattern> {
        if pattern.matches('{').count() > MAX_GROUPS {
            return Err(BadPattern);
        }
        let mut alternatives = Vec::new();
        for alternative in expand(pattern)? {
            let segments: Vec<String> = alternative.split('/').map(str::to_string).collect();
            for segment in &segments {
                if segment != "**" {
                    crate::pattern::check(segment)?;
                }
            }
            alternatives.push(segments);
        }
        Ok(Pattern { alternatives })
    }

    /// Whether the file at `rel` (relative to the searched folder) is
    /// found.
    pub(super) fn finds(&self, rel: &str) -> bool {
        let path: Vec<&str> = rel.split('/').collect();
        // Checked when parsed: no segment is malformed.
        self.alternatives
            .iter()
            .any(|segments| segments_match(segments, &path).unwrap_or(false))
    }
}

/// Whether the pattern's `segments` match the path's, `**` standing for
/// any number of them: a table of which suffixes match which, so the time
/// is the product of the two lengths whatever the number of `**`.
fn segments_match(segments: &[String], path: &[&str]) -> Result<bool, BadPattern> {
    let width = path.len() + 1;
    // done[i * width + j]: segments[i..] match path[j..].
    let mut done = vec![false; (segments.len() + 1) * width];
    done[segments.len() * width + path.len()] = true;
    for i in (0..segments.len()).rev() {
        for j in (0..=path.len()).rev() {
            done[i * width + j] = if segments[i] == "**" {
                done[(i + 1) * width + j] || (j < path.len() && done[i * width + j + 1])
            } else {
                j < path.len() && done[(i + 1) * width + j + 1] && matches(&segments[i], path[j])?
            };
        }
    }
    Ok(done[0])
}

/// The alternatives of `pattern`'s braces (`a{b,c{d,e}}` gives `ab`, `acd`,
/// `ace`); a `\` escapes the character after it; an unclosed brace, or more
/// than [`MAX_ALTERNATIVES`], is malformed.
fn expand(pattern: &str) -> Result<Vec<String>, BadPattern> {
    let Some((open, close)) = first_group(pattern)? else {
        return Ok(vec![pattern.to_string()]);
    };
    let (head, inner, tail) = (
        &pattern[..open],
        &pattern[open + 1..close],
        &pattern[close + 1..],
    );
    let tails = expand(tail)?;
    let mut out = Vec::new();
    for choice in split_top(inner) {
        for middle in expand(choice)? {
            for rest in &tails {
                if out.len() == MAX_ALTERNATIVES {
                    return Err(BadPattern);
                }
                out.push(format!("{head}{middle}{rest}"));
            }
        }
    }
    Ok(out)
}

/// The byte offsets of the first top-level `{` and its `}`.
fn first_group(pattern: &str) -> Result<Option<(usize, usize)>, BadPattern> {
    let mut open = None;
    let mut depth = 0usize;
    let mut escaped = false;
    for (i, c) in pattern.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '{' => {
                if depth == 0 {
                    open = Some(i);
                }
                depth += 1;
            }
            '}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    return Ok(open.map(|o| (o, i)));
                }
            }
            _ => {}
        }
    }
    if depth > 0 {
        return Err(BadPattern);
    }
    Ok(None)
}

/// `inner` split at its top-level commas.
fn split_top(inner: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut escaped, mut start) = (0usize, false, 0);
    for (i, c) in inner.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(pattern: &str, rel: &str) -> bool {
        Pattern::new(pattern).unwrap().finds(rel)
    }

    #[test]
    fn paths_match_as_the_daemon_matches_them() {
        assert!(f("*.rs", "main.rs"));
        assert!(!f("*.rs", "src/main.rs"), "* stays within one name");
        assert!(f("**/*.rs", "src/main.rs"));
        assert!(f("**/*.rs", "main.rs"), "** may be no folder at all");
        assert!(f("src/**/*.rs", "src/a/b/c.rs"));
        assert!(!f("src/**/*.rs", "lib/a.rs"));
        assert!(f("**", "a/b/c"));
        assert!(f("{src,lib}/*.{rs,toml}", "lib/Cargo.toml"));
        assert!(!f("{src,lib}/*.{rs,toml}", "bin/a.rs"));
        assert!(f("a{b,c{d,e}}", "ace"));
        assert!(f("\\{x\\}", "{x}"));
        assert!(f("a?c/[xy]", "abc/y"));
    }

    #[test]
    fn malformed_patterns_are_refused() {
        for bad in ["x{y", "[", "a/[b", &"{a,b}".repeat(13)] {
            assert!(Pattern::new(bad).is_err(), "{bad}");
        }
        // Deep nesting, or many groups in a row, stops before any
        // recursion: a request head holds thousands.
        let nested = "{".repeat(5000) + &"}".repeat(5000);
        assert!(Pattern::new(&nested).is_err());
        assert!(Pattern::new(&"{a}".repeat(5000)).is_err());
        assert!(Pattern::new(&"{a}".repeat(64)).is_ok());
    }

    #[test]
    fn many_stars_of_both_kinds_take_linear_time() {
        let pattern = "**/".repeat(50) + "x";
        let path = vec!["d"; 200].join("/") + "/y";
        let began = std::time::Instant::now();
        assert!(!f(&pattern, &path));
        assert!(began.elapsed() < std::time::Duration::from_secs(1));
    }
}
