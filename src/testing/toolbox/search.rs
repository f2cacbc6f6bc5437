//! The simulator's file search (`GET /files/search`), matching as the
//! toolbox daemon does: the pattern against each file's path relative to
//! the searched folder (`/`-separated), with `**` for any number of folders
//! and `{a,b}` for alternatives; `*`, `?` and `[...]` within one name.
//! A pattern that does not parse as such is tried against the file's name
//! alone; one that parses neither way is refused.

use crate::pattern::{matches, BadPattern};

/// At most this many alternatives come out of a pattern's braces: a
/// pattern of many groups (`{a,b}{a,b}...`) is refused, not expanded into
/// millions.
const MAX_ALTERNATIVES: usize = 1024;

/// Whether the file at `rel` (relative to the searched folder) whose name
/// is `name` is found by `pattern`.
pub(super) fn found(pattern: &str, rel: &str, name: &str) -> Result<bool, BadPattern> {
    match path_matches(pattern, rel) {
        Ok(found) => Ok(found),
        Err(BadPattern) => matches(pattern, name),
    }
}

/// Whether `rel` matches `pattern` (see the module documentation).
fn path_matches(pattern: &str, rel: &str) -> Result<bool, BadPattern> {
    let path: Vec<&str> = rel.split('/').collect();
    let mut found = false;
    for alternative in expand(pattern)? {
        let segments: Vec<&str> = alternative.split('/').collect();
        // Every segment is checked, so that a malformed one is refused
        // whatever the path.
        for segment in &segments {
            if *segment != "**" {
                crate::pattern::check(segment)?;
            }
        }
        found = found || segments_match(&segments, &path)?;
    }
    Ok(found)
}

/// Whether the pattern's `segments` match the path's, `**` standing for
/// any number of them: a table of which suffixes match which, so the time
/// is the product of the two lengths whatever the number of `**`.
fn segments_match(segments: &[&str], path: &[&str]) -> Result<bool, BadPattern> {
    let width = path.len() + 1;
    // done[i * width + j]: segments[i..] match path[j..].
    let mut done = vec![false; (segments.len() + 1) * width];
    done[segments.len() * width + path.len()] = true;
    for i in (0..segments.len()).rev() {
        for j in (0..=path.len()).rev() {
            done[i * width + j] = if segments[i] == "**" {
                done[(i + 1) * width + j] || (j < path.len() && done[i * width + j + 1])
            } else {
                j < path.len() && done[(i + 1) * width + j + 1] && matches(segments[i], path[j])?
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
        let name = rel.rsplit('/').next().unwrap();
        found(pattern, rel, name).unwrap()
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
    fn malformed_patterns_fall_back_to_the_name_or_fail() {
        // `{` unclosed: the name alone, with Go's rules (where `{` is
        // literal).
        assert!(found("x{y", "a/x{y", "x{y").unwrap());
        assert!(found("[", "a", "a").is_err());
        let many = "{a,b}".repeat(11);
        assert!(path_matches(&many, "a").is_err());
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
