//! Wildcards within one path component, with Go's `filepath.Match`
//! rules: `*`, `?`, `[...]` (`[^...]` negated, ranges, `\` escapes). Used
//! by the `COPY` sources of images and by the simulator's file search.
//!
//! Matching takes time linear in the pattern times the name (Go's
//! algorithm: each run of non-star characters is matched at the leftmost
//! place it fits, never backtracking past the previous star), and a
//! malformed pattern (`[]]`, `[a-]`, `[ab`, a trailing `\`) is an error, as
//! Go's `ErrBadPattern`.

/// A malformed pattern (Go's `ErrBadPattern`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BadPattern;

/// Whether `name` (one path component) matches `pattern`; `Err` when the
/// pattern is malformed.
pub(crate) fn matches(pattern: &str, name: &str) -> std::result::Result<bool, BadPattern> {
    matches_counting(pattern, name, &mut 0)
}

/// Checks that `pattern` is well formed, as Go does: every chunk is parsed
/// to its end.
pub(crate) fn check(pattern: &str) -> std::result::Result<(), BadPattern> {
    let p: Vec<char> = pattern.chars().collect();
    let mut rest = &p[..];
    while !rest.is_empty() {
        let (_, chunk, after) = scan_chunk(rest);
        match_chunk(chunk, &[], &mut 0)?;
        rest = after;
    }
    Ok(())
}

/// [`matches`], adding the characters compared to `steps`.
fn matches_counting(
    pattern: &str,
    name: &str,
    steps: &mut u64,
) -> std::result::Result<bool, BadPattern> {
    check(pattern)?;
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pattern, mut name) = (&p[..], &n[..]);
    'chunks: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            // A trailing star takes the rest of the component.
            return Ok(!name.contains(&'/'));
        }
        // At the current place first.
        if let Some(after) = match_chunk(chunk, name, steps)? {
            // The last chunk must end the name.
            if after.is_empty() || !pattern.is_empty() {
                name = after;
                continue;
            }
        }
        if star {
            // Then one character further each time; a star never takes `/`.
            for i in 0..name.len() {
                if name[i] == '/' {
                    break;
                }
                if let Some(after) = match_chunk(chunk, &name[i + 1..], steps)? {
                    if pattern.is_empty() && !after.is_empty() {
                        continue;
                    }
                    name = after;
                    continue 'chunks;
                }
            }
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

/// Splits the pattern into its leading stars (whether there were any), the
/// run of characters up to the next star outside a class, and the rest.
fn scan_chunk(pattern: &[char]) -> (bool, &[char], &[char]) {
    let start = pattern.iter().take_while(|&&c| c == '*').count();
    let pattern = &pattern[start..];
    let mut in_class = false;
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            '\\' if i + 1 < pattern.len() => i += 1,
            '[' => in_class = true,
            ']' => in_class = false,
            '*' if !in_class => break,
            _ => {}
        }
        i += 1;
    }
    (start > 0, &pattern[..i], &pattern[i..])
}

/// Matches `chunk` (no star outside a class) at the start of `name`: what
/// follows the match, `None` when it does not match. The whole chunk is
/// always read, so a malformed one is an error even when the name has
/// already failed to match.
fn match_chunk<'n>(
    mut chunk: &[char],
    mut name: &'n [char],
    steps: &mut u64,
) -> std::result::Result<Option<&'n [char]>, BadPattern> {
    let mut failed = false;
    while let Some((&first, rest)) = chunk.split_first() {
        *steps += 1;
        failed |= name.is_empty();
        match first {
            '[' => {
                let c = if failed { None } else { Some(name[0]) };
                if !failed {
                    name = &name[1..];
                }
                chunk = rest;
                let negated = chunk.first() == Some(&'^');
                if negated {
                    chunk = &chunk[1..];
                }
                let mut matched = false;
                let mut ranges = 0;
                loop {
                    if chunk.first() == Some(&']') && ranges > 0 {
                        chunk = &chunk[1..];
                        break;
                    }
                    let (lo, after) = class_char(chunk)?;
                    chunk = after;
                    let mut hi = lo;
                    if chunk.first() == Some(&'-') {
                        let (h, after) = class_char(&chunk[1..])?;
                        hi = h;
                        chunk = after;
                    }
                    if c.is_some_and(|c| lo <= c && c <= hi) {
                        matched = true;
                    }
                    ranges += 1;
                }
                if matched == negated {
                    failed = true;
                }
            }
            '?' => {
                if !failed {
                    failed = name[0] == '/';
                    name = &name[1..];
                }
                chunk = rest;
            }
            _ => {
                let (literal, after) = if first == '\\' {
                    (*rest.first().ok_or(BadPattern)?, &rest[1..])
                } else {
                    (first, rest)
                };
                if !failed {
                    failed = name[0] != literal;
                    name = &name[1..];
                }
                chunk = after;
            }
        }
    }
    Ok(if failed { None } else { Some(name) })
}

/// One character of a class (`\` escapes the next one), and what follows.
fn class_char(chunk: &[char]) -> std::result::Result<(char, &[char]), BadPattern> {
    let chunk = match chunk.first() {
        None | Some('-') | Some(']') => return Err(BadPattern),
        Some('\\') => &chunk[1..],
        Some(_) => chunk,
    };
    let (&c, rest) = chunk.split_first().ok_or(BadPattern)?;
    Ok((c, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_like_go_filepath_match() {
        let yes = [
            ("*.py", "app.py"),
            ("*", ".hidden"),
            ("*", ""),
            ("a?c", "abc"),
            ("[a-c]x", "bx"),
            ("[^a-c]x", "dx"),
            ("[\\]]", "]"),
            ("[\\-]", "-"),
            ("\\*", "*"),
            ("*.tar.*", "x.tar.gz"),
            ("a*b*c", "axxbyybzzc"),
            ("a*b", "abab"),
            ("*é?", "ééé"),
            ("[é-ê]", "ê"),
            ("*x", "xxx"),
            ("a**b", "ab"),
        ];
        for (p, n) in yes {
            assert_eq!(matches(p, n), Ok(true), "{p} should match {n}");
        }
        let no = [
            ("*.py", "app.pyc"),
            ("a?c", "ac"),
            ("[a-c]x", "dx"),
            ("a*b", "abc"),
            ("a*b*c", "abcb"),
            ("?", "é€"),
            ("*", "a/b"),
        ];
        for (p, n) in no {
            assert_eq!(matches(p, n), Ok(false), "{p} should not match {n}");
        }
    }

    #[test]
    fn malformed_patterns_are_errors_as_in_go() {
        // Go's filepath.Match answers ErrBadPattern for each of these,
        // whatever the name.
        for p in [
            "[]]", "[ab", "[a-]", "[-a]", "[^]", "[]", "a\\", "[", "x*[", "[\\",
        ] {
            assert_eq!(check(p), Err(BadPattern), "{p}");
            assert_eq!(matches(p, "a"), Err(BadPattern), "{p}");
            assert_eq!(matches(p, ""), Err(BadPattern), "{p}");
        }
        for p in ["a", "*", "[a]", "[^a-z]", "\\[", "]", "a]b", "-"] {
            assert_eq!(check(p), Ok(()), "{p}");
        }
    }

    #[test]
    fn matching_is_linear_in_stars_and_name() {
        // 30 stars over 100 characters that almost match: the classic
        // recursive matcher takes exponential time here.
        let pattern = format!("{}b", "a*".repeat(30));
        let name = "a".repeat(100);
        let mut steps = 0;
        assert_eq!(matches_counting(&pattern, &name, &mut steps), Ok(false));
        // Each chunk is tried at most once per place in the name.
        let bound = (pattern.len() * (name.len() + 1)) as u64;
        assert!(steps <= bound, "{steps} steps, bound {bound}");
        let mut steps = 0;
        let name = format!("{}b", "a".repeat(100));
        assert_eq!(matches_counting(&pattern, &name, &mut steps), Ok(true));
        assert!(steps <= bound, "{steps} steps, bound {bound}");
        let stars = "*".repeat(30) + "x";
        let mut steps = 0;
        assert_eq!(
            matches_counting(&stars, &"y".repeat(100), &mut steps),
            Ok(false)
        );
        assert!(steps <= 200, "{steps}");
    }
}
