//! Throwaway directory trees for the image tests.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A directory under the system's temporary directory, removed on drop.
pub struct Tree {
    pub root: PathBuf,
}

impl Tree {
    /// A new, empty tree whose name starts with `name`.
    pub fn new(name: &str) -> Tree {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let root =
            std::env::temp_dir().join(format!("daytona-image-{name}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap();
        Tree { root }
    }

    /// The path of `rel` in the tree.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Writes the file `rel` (and its folders).
    pub fn file(&self, rel: &str, content: &str) -> PathBuf {
        let path = self.path(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, content).unwrap();
        path
    }

    /// Makes the folder `rel`.
    pub fn dir(&self, rel: &str) -> PathBuf {
        let path = self.path(rel);
        fs::create_dir_all(&path).unwrap();
        path
    }

    /// The path of `rel` as text.
    pub fn text(&self, rel: &str) -> String {
        text(&self.path(rel))
    }
}

/// A path as text.
pub fn text(path: &Path) -> String {
    path.to_str().unwrap().to_string()
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}
