//! Wildcards in `COPY` sources, with Docker's rules: `*`, `?`, `[...]`
//! (Go's `filepath.Match`) within one path component, `**` across
//! components; hidden files match like any other. As Docker's walk, a
//! wildcard enters only real directories, never a symbolic link, and the
//! work of an expansion is bounded by the directories times the components.
//!
//! Matching takes time linear in the pattern times the name (Go's
//! algorithm: each run of non-star characters is matched at the leftmost
//! place it fits, never backtracking past the previous star), and a
//! malformed pattern (`[]]`, `[a-]`, `[ab`, a trailing `\`) is an error, as
//! Go's `ErrBadPattern`.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use super::walk::{children, Kind};
use crate::error::{Error, Result};

/// Whether a path component is a pattern rather than a literal name.
pub(crate) fn has_magic(component: &str) -> bool {
    component.contains(['*', '?', '['])
}

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

/// The paths below `base` (relative to it) that match the components of a
/// pattern, sorted and without repeats. `base` may be empty: the current
/// directory.
///
/// As Docker's wildcard walk, no symbolic link below `base` is entered:
/// a component that is not the last descends only into real directories
/// (`**` reaches them as [`walk`](super::walk) does), and passes over a
/// file, a link or a dangling link it matches. The last component may
/// match a link: where it leads is the caller's to check.
///
/// Consecutive `**` are one, and each directory is listed at most once per
/// component, so the work is bounded by the directories below `base` times
/// the components, whatever the pattern repeats.
pub(crate) fn expand(base: &Path, components: &[&str]) -> Result<Vec<PathBuf>> {
    let mut pattern: Vec<&str> = Vec::with_capacity(components.len());
    for &component in components {
        if component != "**" || pattern.last() != Some(&"**") {
            pattern.push(component);
        }
    }
    let mut tree = Tree::default();
    // (directory, index of the component to match in it)
    let mut seen: HashSet<(usize, usize)> = HashSet::new();
    let mut todo = vec![(Tree::BASE, 0)];
    let mut out = Vec::new();
    while let Some((dir, i)) = todo.pop() {
        if !seen.insert((dir, i)) {
            continue;
        }
        let rel = tree.path(dir);
        let Some(&component) = pattern.get(i) else {
            out.push(rel);
            continue;
        };
        let last = i + 1 == pattern.len();
        let on_disk = base.join(&rel);
        if component == "**" {
            // Any number of directories, none included.
            todo.push((dir, i + 1));
            for (name, kind) in list(&on_disk)? {
                if matches!(kind, Kind::Dir { .. }) {
                    todo.push((tree.child(dir, name), i));
                }
            }
        } else if !has_magic(component) {
            let path = on_disk.join(component);
            if last {
                if fs::metadata(&path).is_ok() {
                    out.push(rel.join(component));
                }
            } else if fs::symlink_metadata(&path).is_ok_and(|meta| meta.is_dir()) {
                todo.push((tree.child(dir, component.into()), i + 1));
            }
        } else {
            for (name, kind) in list(&on_disk)? {
                let matched =
                    matches(component, &name.to_string_lossy()).map_err(|BadPattern| {
                        Error::validation(
                            "pattern",
                            format!("{component:?} is not a valid pattern"),
                        )
                    })?;
                if matched && last {
                    out.push(rel.join(name));
                } else if matched && matches!(kind, Kind::Dir { .. }) {
                    todo.push((tree.child(dir, name), i + 1));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The directories met below the base of an expansion, each kept once as
/// its parent and its name (not as a whole path per visit).
struct Tree {
    dirs: Vec<(usize, OsString)>,
    ids: HashMap<(usize, OsString), usize>,
}

impl Default for Tree {
    fn default() -> Tree {
        Tree {
            dirs: vec![(Tree::BASE, OsString::new())],
            ids: HashMap::new(),
        }
    }
}

impl Tree {
    /// The base itself.
    const BASE: usize = 0;

    /// The id of the directory `name` in `parent`.
    fn child(&mut self, parent: usize, name: OsString) -> usize {
        let next = self.dirs.len();
        let id = *self.ids.entry((parent, name.clone())).or_insert(next);
        if id == next {
            self.dirs.push((parent, name));
        }
        id
    }

    /// The path of `dir` relative to the base.
    fn path(&self, mut dir: usize) -> PathBuf {
        let mut names = Vec::new();
        while dir != Tree::BASE {
            let (parent, name) = &self.dirs[dir];
            names.push(name);
            dir = *parent;
        }
        names.into_iter().rev().collect()
    }
}

#[cfg(test)]
thread_local! {
    /// The directories [`list`] read on this thread.
    pub(crate) static LISTINGS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The children of `dir` (empty: the current directory).
fn list(dir: &Path) -> Result<Vec<(OsString, Kind)>> {
    #[cfg(test)]
    LISTINGS.with(|n| n.set(n.get() + 1));
    if dir.as_os_str().is_empty() {
        children(Path::new("."))
    } else {
        children(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_temp::TempDir;

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

    /// A chain of `depth` folders `d/d/...` in `tree`, a file `x` at its
    /// bottom; the chain's path relative to the tree, `x` included.
    fn chain(tree: &TempDir, depth: usize) -> PathBuf {
        let x = vec!["d"; depth].join("/") + "/x";
        tree.file(&x, "x");
        PathBuf::from(x)
    }

    /// The matches and the directories listed to find them.
    fn expand_counting(base: &Path, pattern: &str) -> (Vec<PathBuf>, u64) {
        let before = LISTINGS.with(|n| n.get());
        let components: Vec<&str> = pattern.split('/').collect();
        let found = expand(base, &components).unwrap();
        (found, LISTINGS.with(|n| n.get()) - before)
    }

    #[test]
    fn repeated_double_stars_list_each_folder_once() {
        let tree = TempDir::new("glob-chain");
        let x = chain(&tree, 200);
        let folders = 201;
        // Consecutive `**` are one: each folder is listed once (it was
        // ~10^11 listings).
        let (found, listed) = expand_counting(&tree, "**/**/**/**/**/**/x");
        assert_eq!(found, std::slice::from_ref(&x));
        assert!(listed <= folders, "{listed} listings");
        // Every folder once, the base included (it was ~7x10^7 paths
        // before removing repeats).
        let (found, listed) = expand_counting(&tree, "**/**/**/**");
        assert_eq!(found.len(), folders as usize);
        assert_eq!(found[0], PathBuf::new());
        assert_eq!(found[200], x.parent().unwrap());
        assert!(listed <= folders, "{listed} listings");
        // `a/**` is not `a`: the zero folders of `**` keep the literal.
        let (found, _) = expand_counting(&tree, "d/**/d/x");
        assert_eq!(found, [x]);
    }

    #[test]
    fn separate_double_stars_list_each_folder_once_per_component() {
        let tree = TempDir::new("glob-chain-apart");
        let x = chain(&tree, 40);
        let (found, listed) = expand_counting(&tree, "**/d/**/d/**/x");
        assert_eq!(found, [x]);
        // Each (folder, component) pair at most once: 41 folders, three
        // `**` (it was ~n^3/6 listings).
        assert!(listed <= 41 * 3, "{listed} listings");
    }

    #[cfg(unix)]
    #[test]
    fn only_folders_are_entered_before_the_last_component() {
        use std::os::unix::fs::symlink;
        let tree = TempDir::new("glob-non-dirs");
        tree.file("Dockerfile", "FROM x");
        tree.file("a/one.py", "1");
        tree.file("b/two.py", "2");
        tree.file("b/c/deep.py", "3");
        tree.file("outside/three.py", "3");
        symlink("gone", tree.path("broken")).unwrap();
        symlink("a", tree.path("inside")).unwrap();
        symlink(tree.path("outside"), tree.path("out")).unwrap();
        let paths = |v: &[&str]| v.iter().map(PathBuf::from).collect::<Vec<_>>();
        // Files and links (dangling, to a folder here or elsewhere) that
        // match `*` are passed over: no link is entered, as in Docker's walk.
        let (found, _) = expand_counting(&tree, "*/*.py");
        assert_eq!(found, paths(&["a/one.py", "b/two.py", "outside/three.py"]));
        let (found, _) = expand_counting(&tree, "*/*/*.py");
        assert_eq!(found, paths(&["b/c/deep.py"]));
        for pattern in [
            "Dockerfile/*",
            "broken/*",
            "inside/*",
            "out/*",
            "*/inside/x",
        ] {
            assert_eq!(expand_counting(&tree, pattern).0, paths(&[]), "{pattern}");
        }
        // The last component may be a link: the caller checks it.
        let (found, _) = expand_counting(&tree, "[bio]*");
        assert_eq!(found, paths(&["b", "broken", "inside", "out", "outside"]));
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
