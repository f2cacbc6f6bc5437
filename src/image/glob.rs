//! Wildcards in `COPY` sources, with Docker's rules: `*`, `?`, `[...]`
//! (Go's `filepath.Match`) within one path component, `**` across
//! components; hidden files match like any other.

use std::fs;
use std::path::{Path, PathBuf};

use super::walk::{entries, walk, Kind};
use crate::error::Result;

/// Whether a path component is a pattern rather than a literal name.
pub(crate) fn has_magic(component: &str) -> bool {
    component.contains(['*', '?', '['])
}

/// Whether `name` (one path component) matches `pattern`.
pub(crate) fn matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_from(&p, &n)
}

fn match_from(p: &[char], n: &[char]) -> bool {
    let Some((&first, rest)) = p.split_first() else {
        return n.is_empty();
    };
    match first {
        '*' => (0..=n.len()).any(|skip| match_from(rest, &n[skip..])),
        '?' => !n.is_empty() && match_from(rest, &n[1..]),
        '[' => match (n.first(), class(rest)) {
            (Some(&c), Some((set, after))) => set(c) && match_from(after, &n[1..]),
            _ => false,
        },
        '\\' if !rest.is_empty() => n.first() == Some(&rest[0]) && match_from(&rest[1..], &n[1..]),
        c => n.first() == Some(&c) && match_from(rest, &n[1..]),
    }
}

type Set<'a> = Box<dyn Fn(char) -> bool + 'a>;

/// A character class after its `[`: the test it stands for and what follows
/// its `]`; `None` when it is not closed.
fn class(p: &[char]) -> Option<(Set<'_>, &[char])> {
    let (negated, body) = match p.first() {
        Some('^') => (true, &p[1..]),
        _ => (false, p),
    };
    let mut ranges: Vec<(char, char)> = Vec::new();
    let mut i = 0;
    loop {
        let mut lo = *body.get(i)?;
        if lo == ']' && i > 0 {
            break;
        }
        if lo == '\\' {
            i += 1;
            lo = *body.get(i)?;
        }
        let mut hi = lo;
        if body.get(i + 1) == Some(&'-') && body.get(i + 2).is_some_and(|&c| c != ']') {
            i += 2;
            hi = body[i];
            if hi == '\\' {
                i += 1;
                hi = *body.get(i)?;
            }
        }
        ranges.push((lo, hi));
        i += 1;
    }
    let set = move |c: char| ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != negated;
    Some((Box::new(set), &body[i + 1..]))
}

/// The paths below `base` (relative to it) that match the components of a
/// pattern, sorted and without repeats. `base` may be empty: the current
/// directory. Directories are listed and `**` reaches them as
/// [`walk`](super::walk) does (links not followed).
pub(crate) fn expand(base: &Path, components: &[&str]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    expand_into(base, &PathBuf::new(), components, &mut out)?;
    out.sort();
    out.dedup();
    Ok(out)
}

fn expand_into(dir: &Path, rel: &Path, components: &[&str], out: &mut Vec<PathBuf>) -> Result<()> {
    let Some((&first, rest)) = components.split_first() else {
        out.push(rel.to_path_buf());
        return Ok(());
    };
    let listed = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    if first == "**" {
        // Any number of directories, none included.
        let mut below = Vec::new();
        walk(listed, &mut |item| {
            if let (Kind::Dir { .. }, Some(sub)) = (item.kind, item.rel) {
                below.push(sub);
            }
            Ok(())
        })?;
        expand_into(dir, rel, rest, out)?;
        for sub in below {
            expand_into(&dir.join(&sub), &rel.join(&sub), rest, out)?;
        }
        return Ok(());
    }
    if !has_magic(first) {
        let next = dir.join(first);
        if fs::metadata(&next).is_ok() {
            expand_into(&next, &rel.join(first), rest, out)?;
        }
        return Ok(());
    }
    for name in entries(listed)? {
        if matches(first, &name.to_string_lossy()) {
            expand_into(&dir.join(&name), &rel.join(&name), rest, out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_like_go_filepath_match() {
        let yes = [
            ("*.py", "app.py"),
            ("*", ".hidden"),
            ("a?c", "abc"),
            ("[a-c]x", "bx"),
            ("[^a-c]x", "dx"),
            ("[]]", "]"),
            ("\\*", "*"),
            ("*.tar.*", "x.tar.gz"),
        ];
        for (p, n) in yes {
            assert!(matches(p, n), "{p} should match {n}");
        }
        let no = [
            ("*.py", "app.pyc"),
            ("a?c", "ac"),
            ("[a-c]x", "dx"),
            ("[ab", "a"),
        ];
        for (p, n) in no {
            assert!(!matches(p, n), "{p} should not match {n}");
        }
    }
}
