//! The temporary directories of the whole test suite, the crate's unit
//! tests included (`src/lib.rs` includes this file): a fresh directory
//! per call under the system's temporary directory, removed with
//! everything in it when dropped.
#![allow(dead_code)]

use std::fs;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A fresh, empty directory, removed when dropped. It derefs to its path.
pub struct TempDir {
    /// The directory.
    pub root: PathBuf,
}

impl TempDir {
    /// A new directory whose name holds `name` (to spot it), the process id
    /// and a counter.
    pub fn new(name: &str) -> TempDir {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let root =
            std::env::temp_dir().join(format!("daytona-test-{name}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap();
        TempDir { root }
    }

    /// The path of `rel` in the directory.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Writes the file `rel` (and its folders); returns its path.
    pub fn file(&self, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, content).unwrap();
        self.usual_modes(&path);
        path
    }

    /// Makes the folder `rel` (and its parents); returns its path.
    pub fn dir(&self, rel: &str) -> PathBuf {
        let path = self.path(rel);
        fs::create_dir_all(&path).unwrap();
        self.usual_modes(&path);
        path
    }

    /// Gives `path` and its folders up to the root the usual permissions
    /// (0644 for a file, 0755 for a folder) whatever the umask: build
    /// context hashes count other modes.
    fn usual_modes(&self, path: &Path) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mut at = path;
            while at.starts_with(&self.root) {
                let mode = if at.is_dir() { 0o755 } else { 0o644 };
                fs::set_permissions(at, fs::Permissions::from_mode(mode)).unwrap();
                match at.parent() {
                    Some(parent) => at = parent,
                    None => break,
                }
            }
        }
        #[cfg(not(unix))]
        let _ = path;
    }

    /// The path of `rel` as text.
    pub fn text(&self, rel: &str) -> String {
        text(&self.path(rel))
    }
}

impl Deref for TempDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.root
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.root
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

/// A path as text.
pub fn text(path: &Path) -> String {
    path.to_str().unwrap().to_string()
}
