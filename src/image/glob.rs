//! Wildcards in `COPY` sources, with Docker's rules: `*`, `?`, `[...]`
//! (Go's `filepath.Match`) within one path component, `**` across
//! components; hidden files match like any other. As Docker's walk, a
//! wildcard enters only real directories, never a symbolic link, and the
//! work of an expansion is bounded by the directories times the components.
//! A component is matched by [`crate::pattern`].

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};

use super::walk::{children, Kind};
use crate::error::{Error, Result};
use crate::pattern::{matches, BadPattern};

/// Whether a path component is a pattern rather than a literal name.
pub(crate) fn has_magic(component: &str) -> bool {
    component.contains(['*', '?', '['])
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
///
/// Each directory listed and each match spends one unit of `budget`,
/// shared by the sources of a whole Dockerfile.
pub(crate) fn expand(
    base: &Path,
    components: &[&str],
    budget: &mut Budget,
) -> Result<Vec<PathBuf>> {
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
            budget.spend()?;
            out.push(rel);
            continue;
        };
        let last = i + 1 == pattern.len();
        let on_disk = base.join(&rel);
        if component == "**" {
            // Any number of directories, none included.
            todo.push((dir, i + 1));
            budget.spend()?;
            for (name, kind) in list(&on_disk)? {
                if matches!(kind, Kind::Dir { .. }) {
                    todo.push((tree.child(dir, name), i));
                }
            }
        } else if !has_magic(component) {
            let path = on_disk.join(component);
            if last {
                if fs::metadata(&path).is_ok() {
                    budget.spend()?;
                    out.push(rel.join(component));
                }
            } else if fs::symlink_metadata(&path).is_ok_and(|meta| meta.is_dir()) {
                todo.push((tree.child(dir, component.into()), i + 1));
            }
        } else {
            budget.spend()?;
            for (name, kind) in list(&on_disk)? {
                let matched = matches(component, &go_text(&name)).map_err(|BadPattern| {
                    Error::validation("pattern", format!("{component:?} is not a valid pattern"))
                })?;
                if matched && last {
                    budget.spend()?;
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

/// What the `COPY` sources of one Dockerfile may cost together: one unit
/// per directory a wildcard lists and per source or match (each a
/// context). A hostile or mistaken Dockerfile (thousands of `COPY **/*`
/// lines over a large folder) ends in an [`Error::TooLarge`] rather than
/// hours of listings and millions of contexts.
pub(crate) struct Budget {
    left: usize,
    limit: usize,
}

impl Budget {
    /// A budget of `limit` units.
    pub(crate) fn new(limit: usize) -> Budget {
        Budget { left: limit, limit }
    }

    /// Spends one unit, or fails when none is left.
    pub(crate) fn spend(&mut self) -> Result<()> {
        if self.left == 0 {
            return Err(Error::TooLarge {
                operation: "reading the COPY and ADD sources of the Dockerfile".into(),
                what: "the directories its wildcards list and the sources they match".into(),
                limit: self.limit as u64,
                unit: "listings and matches",
            });
        }
        self.left -= 1;
        Ok(())
    }
}

/// `name` as Go's `filepath.Match` reads it, as Docker matches it: UTF-8
/// as it is, and each byte of an invalid sequence one U+FFFD (where
/// `to_string_lossy` makes one of a whole sequence, so `?` would match
/// what Docker's `??` matches).
fn go_text(name: &OsStr) -> Cow<'_, str> {
    if let Some(text) = name.to_str() {
        return Cow::Borrowed(text);
    }
    let mut text = String::new();
    for chunk in name.as_encoded_bytes().utf8_chunks() {
        text.push_str(chunk.valid());
        text.extend(std::iter::repeat_n('\u{FFFD}', chunk.invalid().len()));
    }
    Cow::Owned(text)
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
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    Ok(children(dir)?
        .into_iter()
        .map(|(name, kind, _, _)| (name, kind))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_temp::TempDir;

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
        let found = expand(base, &components, &mut Budget::new(usize::MAX)).unwrap();
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

    /// Docker's matcher reads each byte of a name that is not UTF-8 as
    /// one character: `??` matches a two-byte broken sequence, `?` does
    /// not.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_name_that_is_not_utf8_matches_byte_by_byte() {
        use std::os::unix::ffi::OsStrExt;
        let tree = TempDir::new("glob-bytes");
        let name = OsStr::from_bytes(b"\xF0\x9F.txt");
        fs::write(tree.root.join(name), "x").unwrap();
        assert_eq!(expand_counting(&tree, "??.txt").0, [PathBuf::from(name)]);
        assert_eq!(expand_counting(&tree, "?.txt").0, Vec::<PathBuf>::new());
        assert_eq!(
            expand_counting(&tree, "[\u{FFFD}]\u{FFFD}.txt").0,
            [PathBuf::from(name)]
        );
    }
}
