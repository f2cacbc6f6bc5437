//! Files (`/files/...`): listing, metadata, folders, moves, search and
//! replace, permissions, and streamed uploads and downloads.

mod download;
mod models;
mod multipart;
mod options;
mod temp_file;
mod upload;

pub(crate) use download::download_body;
pub use download::{Download, DownloadResult, Downloaded};
pub use models::{FileInfo, FilePermissions, Match, ReplaceResult};
pub use options::{Progress, TransferOptions, DEFAULT_MAX_IN_MEMORY};
pub use upload::Upload;

use serde::{Deserialize, Serialize};
use ureq::http::Method;

use super::Toolbox;
use crate::check::non_empty;
use crate::error::{Error, Result};
use crate::telemetry::traced;
use crate::transport::Request;

/// Reads and writes files in a sandbox: [`crate::Sandbox::fs`].
///
/// Remote paths are absolute, or relative to the sandbox's working
/// directory. Empty paths are rejected before any request.
///
/// Transfers stream in constant memory: uploads are sent as
/// `multipart/form-data` read from the sources as the request goes (with
/// its exact `Content-Length` when every size is known, chunked otherwise;
/// see [`FileSystem::upload_files`]), downloads are written to their
/// destination as the answer arrives. They are allowed
/// the client's transfer timeout (30 minutes by default, see
/// [`crate::DaytonaConfig::transfer_timeout`]) unless
/// [`TransferOptions::timeout`] says otherwise.
///
/// ```no_run
/// use daytona::Daytona;
///
/// let daytona = Daytona::from_env()?;
/// let sandbox = daytona.get("my-sandbox")?;
/// let fs = sandbox.fs();
/// fs.create_folder("/home/daytona/data", "755")?;
/// fs.upload_bytes("hello\n", "/home/daytona/data/hello.txt")?;
/// for file in fs.list_files("/home/daytona/data")? {
///     println!("{} {} bytes", file.name, file.size);
/// }
/// let text = fs.download_bytes("/home/daytona/data/hello.txt")?;
/// assert_eq!(text, b"hello\n");
/// # Ok::<(), daytona::Error>(())
/// ```
pub struct FileSystem<'s> {
    tb: Toolbox<'s>,
}

impl std::fmt::Debug for FileSystem<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSystem")
            .field("sandbox", &self.tb.sandbox().id())
            .finish()
    }
}

/// `ReplaceRequest`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReplaceBody<'a> {
    files: Vec<&'a str>,
    pattern: &'a str,
    new_value: &'a str,
}

/// `SearchFilesResponse`: older toolboxes send `null` for no match.
#[derive(Deserialize)]
struct SearchAnswer {
    #[serde(default, deserialize_with = "crate::models::null_as_default")]
    files: Vec<String>,
}

impl<'s> FileSystem<'s> {
    pub(crate) fn new(tb: Toolbox<'s>) -> Self {
        FileSystem { tb }
    }

    /// A request to `/files` + `rest`.
    fn files(&self, method: Method, rest: &[&str]) -> Result<Request<'static>> {
        let mut segments = vec!["files"];
        segments.extend_from_slice(rest);
        self.tb.request(method, &segments)
    }

    /// `GET /files/{what}?path=&pattern=`, both checked.
    fn search(&self, what: &str, path: &str, pattern: &str) -> Result<Request<'static>> {
        non_empty("path", path)?;
        non_empty("pattern", pattern)?;
        Ok(self
            .files(Method::GET, &[what])?
            .query("path", path)
            .query("pattern", pattern))
    }

    /// The files and folders in the folder `path` (`GET /files`).
    pub fn list_files(&self, path: &str) -> Result<Vec<FileInfo>> {
        traced(self.tb.tracing(), "FileSystem.listFiles", || {
            non_empty("path", path)?;
            self.tb
                .transport()
                .json(self.files(Method::GET, &[])?.query("path", path))
        })
    }

    /// Name, size, mode, owner and times of the file or folder at `path`
    /// (`GET /files/info`). A missing file is an error for which
    /// [`Error::is_not_found`] is true.
    pub fn get_file_info(&self, path: &str) -> Result<FileInfo> {
        traced(self.tb.tracing(), "FileSystem.getFileDetails", || {
            non_empty("path", path)?;
            self.tb
                .transport()
                .json(self.files(Method::GET, &["info"])?.query("path", path))
        })
    }

    /// Creates the folder `path` with the octal permission `mode`, such as
    /// `"755"` or `"0700"` (`POST /files/folder`).
    pub fn create_folder(&self, path: &str, mode: &str) -> Result<()> {
        traced(self.tb.tracing(), "FileSystem.createFolder", || {
            non_empty("path", path)?;
            models::check_mode(mode)?;
            self.tb.transport().empty(
                self.files(Method::POST, &["folder"])?
                    .query("path", path)
                    .query("mode", mode),
            )
        })
    }

    /// Deletes the file or the empty folder at `path` (`DELETE /files`); a
    /// folder that is not empty is refused (see
    /// [`delete_recursive`](Self::delete_recursive)).
    pub fn delete_file(&self, path: &str) -> Result<()> {
        traced(self.tb.tracing(), "FileSystem.deleteFile", || {
            self.delete(path, false)
        })
    }

    /// Deletes the file or folder at `path` with everything in it
    /// (`DELETE /files?recursive=true`).
    pub fn delete_recursive(&self, path: &str) -> Result<()> {
        traced(self.tb.tracing(), "FileSystem.deleteFile", || {
            self.delete(path, true)
        })
    }

    fn delete(&self, path: &str, recursive: bool) -> Result<()> {
        non_empty("path", path)?;
        self.tb.transport().empty(
            self.files(Method::DELETE, &[])?
                .query("path", path)
                .query("recursive", recursive.to_string()),
        )
    }

    /// Moves or renames `source` to `destination` (`POST /files/move`).
    pub fn move_files(&self, source: &str, destination: &str) -> Result<()> {
        traced(self.tb.tracing(), "FileSystem.moveFiles", || {
            non_empty("source", source)?;
            non_empty("destination", destination)?;
            self.tb.transport().empty(
                self.files(Method::POST, &["move"])?
                    .query("source", source)
                    .query("destination", destination),
            )
        })
    }

    /// The lines of the files below `path` that contain `pattern`, like
    /// `grep -rn` (`GET /files/find`).
    ///
    /// ```no_run
    /// # let daytona = daytona::Daytona::from_env()?;
    /// # let sandbox = daytona.get("my-sandbox")?;
    /// for m in sandbox.fs().find_files("/home/daytona/src", "TODO")? {
    ///     println!("{}:{}: {}", m.file, m.line, m.content);
    /// }
    /// # Ok::<(), daytona::Error>(())
    /// ```
    pub fn find_files(&self, path: &str, pattern: &str) -> Result<Vec<Match>> {
        traced(self.tb.tracing(), "FileSystem.findFiles", || {
            self.tb
                .transport()
                .json(self.search("find", path, pattern)?)
        })
    }

    /// The paths of the files below `path` that match the glob `pattern`
    /// (`GET /files/search`).
    ///
    /// How the toolbox matches depends on its version: current toolboxes
    /// (and the `testing` simulator) match the path relative to `path`
    /// (`*.rs` finds the files of `path` itself, `**/*.rs` those at any
    /// depth; `?`, `[...]` and `{a,b}` work too), older ones the name
    /// alone, at any depth (`*.rs` finds them all there).
    pub fn search_files(&self, path: &str, pattern: &str) -> Result<Vec<String>> {
        traced(self.tb.tracing(), "FileSystem.searchFiles", || {
            let answer: SearchAnswer = self
                .tb
                .transport()
                .json(self.search("search", path, pattern)?)?;
            Ok(answer.files)
        })
    }

    /// Replaces every occurrence of `pattern` with `new_value` in `files`
    /// (`POST /files/replace`). Each file has its own result: a file that
    /// could not be changed does not fail the others.
    ///
    /// ```no_run
    /// # let daytona = daytona::Daytona::from_env()?;
    /// # let sandbox = daytona.get("my-sandbox")?;
    /// let results = sandbox
    ///     .fs()
    ///     .replace_in_files(&["/app/a.py", "/app/b.py"], "old_name", "new_name")?;
    /// for r in results.iter().filter(|r| !r.success) {
    ///     eprintln!("{}: {}", r.file, r.error.as_deref().unwrap_or("failed"));
    /// }
    /// # Ok::<(), daytona::Error>(())
    /// ```
    pub fn replace_in_files(
        &self,
        files: &[impl AsRef<str>],
        pattern: &str,
        new_value: &str,
    ) -> Result<Vec<ReplaceResult>> {
        traced(self.tb.tracing(), "FileSystem.replaceInFiles", || {
            if files.is_empty() {
                return Err(Error::validation("files", "must not be empty"));
            }
            let files: Vec<&str> = files.iter().map(AsRef::as_ref).collect();
            for file in &files {
                non_empty("files", file)?;
            }
            non_empty("pattern", pattern)?;
            let body = ReplaceBody {
                files,
                pattern,
                new_value,
            };
            self.tb
                .transport()
                .json(self.files(Method::POST, &["replace"])?.json(&body))
        })
    }

    /// Changes the mode, owner or group of `path` (`POST /files/permissions`).
    ///
    /// ```no_run
    /// use daytona::toolbox::FilePermissions;
    /// # let daytona = daytona::Daytona::from_env()?;
    /// # let sandbox = daytona.get("my-sandbox")?;
    /// sandbox.fs().set_file_permissions(
    ///     "/home/daytona/run.sh",
    ///     FilePermissions::new().mode("755").owner("daytona"),
    /// )?;
    /// # Ok::<(), daytona::Error>(())
    /// ```
    pub fn set_file_permissions(&self, path: &str, permissions: FilePermissions) -> Result<()> {
        traced(self.tb.tracing(), "FileSystem.setFilePermissions", || {
            non_empty("path", path)?;
            permissions.validate()?;
            self.tb.transport().empty(
                self.files(Method::POST, &["permissions"])?
                    .query("path", path)
                    .query_opt("owner", permissions.owner)
                    .query_opt("group", permissions.group)
                    .query_opt("mode", permissions.mode),
            )
        })
    }
}
