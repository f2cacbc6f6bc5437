//! Steps that copy local files in: the requirements file and the
//! `pyproject.toml` of pip installs, local files and directories; the
//! local paths they take and the `COPY` lines they write.

use std::fs;
use std::path::{Path, PathBuf};

use super::context::{expand_tilde, path_string, read_text, MAX_TEXT};
use super::quote::{json_string, no_continuation, single_line};
use super::{dockerfile, pip, BuildContext, Image, PipInstallOptions, PyprojectOptions};
use crate::error::{Error, Result};

impl Image {
    /// Installs the requirements file `path`: it becomes a context, copied
    /// to `/.requirements.txt`, then
    /// `RUN python -m pip install -r /.requirements.txt [options]`.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] (field `requirements_txt`) when the file does
    /// not exist or its path is not UTF-8; as [`Image::pip_install_with`] for the options.
    pub fn pip_install_from_requirements(
        mut self,
        path: impl AsRef<Path>,
        options: PipInstallOptions,
    ) -> Result<Self> {
        let source = local_path("requirements_txt", path.as_ref(), Kind::File)?;
        let archive = archive_path("requirements_txt", path.as_ref(), &source)?;
        let args = options.args()?;
        let escape = dockerfile::escape_char(&self.dockerfile);
        let pip = format!("RUN python -m pip install -r /.requirements.txt{args}");
        no_continuation("options", &pip, escape)?;
        self.push(&copy_line(&archive, "/.requirements.txt", escape));
        self.push(&pip);
        self.contexts.push(BuildContext::new(source, archive));
        Ok(self)
    }

    /// Installs the dependencies a `pyproject.toml` lists: `[project]
    /// dependencies`, then those of each group of
    /// `[project.optional-dependencies]` in `options`, in one
    /// [`Image::pip_install_with`] step (none if the lists are empty). The
    /// file itself is not copied in.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`]: field `pyproject_toml` when the file does not
    /// exist, is not TOML or has no `[project] dependencies` array; field
    /// `optional_dependencies` for a group the file does not define.
    /// [`Error::Io`] when it cannot be read or is not UTF-8;
    /// [`Error::TooLarge`] when it is over 4 MiB (read no further).
    pub fn pip_install_from_pyproject(
        self,
        path: impl AsRef<Path>,
        options: PyprojectOptions,
    ) -> Result<Self> {
        let given = path.as_ref();
        let source = local_path("pyproject_toml", given, Kind::File)?;
        let text = read_text(&source, "the pyproject.toml", MAX_TEXT)?;
        let shown = given.display().to_string();
        let packages = pip::pyproject_dependencies(&text, &shown, &options.optional_dependencies)?;
        self.pip_lines(packages, &options.pip)
    }

    /// Copies the local file `local` to `remote` in the image
    /// (`COPY <local> <remote>`); a `remote` ending in `/` gets the file's
    /// name. The file becomes a context archived under its path as given
    /// (`~` expanded).
    ///
    /// # Errors
    ///
    /// [`Error::Validation`]: field `local_path` when it is not a file or
    /// its path is not UTF-8, `remote_path` when it spans lines.
    pub fn add_local_file(self, local: impl AsRef<Path>, remote: impl AsRef<str>) -> Result<Self> {
        let local = local.as_ref();
        let mut remote = remote.as_ref().to_string();
        if remote.ends_with('/') {
            let name = local.file_name().unwrap_or(local.as_os_str());
            let name = name.to_str().ok_or_else(|| not_utf8("local_path", local))?;
            remote.push_str(name);
        }
        self.add_local(local, &remote, Kind::File)
    }

    /// Copies the local directory `local` to `remote` in the image
    /// (`COPY <local> <remote>`). The directory becomes a context archived
    /// under its path as given (`~` expanded).
    ///
    /// # Errors
    ///
    /// [`Error::Validation`]: field `local_path` when it is not a
    /// directory or its path is not UTF-8, `remote_path` when it spans
    /// lines.
    pub fn add_local_dir(self, local: impl AsRef<Path>, remote: impl AsRef<str>) -> Result<Self> {
        self.add_local(local.as_ref(), remote.as_ref(), Kind::Dir)
    }

    fn add_local(mut self, local: &Path, remote: &str, kind: Kind) -> Result<Self> {
        let source = local_path("local_path", local, kind)?;
        let archive = archive_path("local_path", local, &source)?;
        single_line("remote_path", remote)?;
        let escape = dockerfile::escape_char(&self.dockerfile);
        self.push(&copy_line(&archive, remote, escape));
        self.contexts.push(BuildContext::new(source, archive));
        Ok(self)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Dir,
}

/// A local path given to a step: `~` expanded, checked to be a file or a
/// directory.
fn local_path(field: &str, given: &Path, kind: Kind) -> Result<PathBuf> {
    let expanded = expand_tilde(given);
    let problem = match fs::metadata(&expanded) {
        Err(_) => Some("does not exist"),
        Ok(m) if kind == Kind::File && !m.is_file() => Some("is not a file"),
        Ok(m) if kind == Kind::Dir && !m.is_dir() => Some("is not a directory"),
        Ok(_) => None,
    };
    if let Some(problem) = problem {
        return Err(Error::validation(
            field,
            format!("{} {problem}", given.display()),
        ));
    }
    Ok(expanded)
}

/// The archive path of the local path `given` (`expanded`, `~` expanded),
/// the TypeScript SDK's: the path as given, `~` expanded. A path that is
/// not UTF-8 is refused: the Dockerfile, the tar and the hash carry it as
/// UTF-8, and it would reach the image renamed.
fn archive_path(field: &str, given: &Path, expanded: &Path) -> Result<String> {
    if expanded.to_str().is_none() {
        return Err(not_utf8(field, given));
    }
    Ok(path_string(expanded))
}

/// The error for a local path that is not UTF-8.
fn not_utf8(field: &str, path: &Path) -> Error {
    Error::validation(
        field,
        format!(
            "{} is not UTF-8, which a Dockerfile and a build context cannot carry \
             unchanged: rename it",
            path.display()
        ),
    )
}

/// `COPY <source> <dest>`, each path a literal, in a Dockerfile whose
/// escape character is `escape`. Docker reads the source and the
/// destination as shell words in both forms of `COPY` (it expands `$NAME`
/// and removes quotes and escapes), so the escape character, `$`, `'` and
/// `"` are escaped with it (with a backtick as escape character, `\` is an
/// ordinary character); a path with whitespace, which the plain form would
/// split, is written in JSON form. `source` is a literal path, but Docker
/// reads one holding `*`, `?` or `[` as a wildcard (`data[1]` would copy
/// `data1`): each of these is written as a class of itself (`[*]`, `[?]`,
/// `[[]`), which matches only that character.
pub(super) fn copy_line(source: &str, dest: &str, escape: char) -> String {
    let mut literal = String::with_capacity(source.len());
    for c in source.chars() {
        if matches!(c, '*' | '?' | '[') {
            literal.extend(['[', c, ']']);
        } else {
            literal.push(c);
        }
    }
    let (source, dest) = (copy_word(&literal, escape), copy_word(dest, escape));
    let spaced = |s: &str| s.contains(char::is_whitespace);
    if spaced(&source) || spaced(&dest) {
        format!("COPY [{}, {}]", json_string(&source), json_string(&dest))
    } else {
        format!("COPY {source} {dest}")
    }
}

/// `path` with the characters Docker's word processing reads specially
/// (`escape`, `$`, `'`, `"`) escaped with `escape`, so that it reads back
/// as `path`.
fn copy_word(path: &str, escape: char) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if c == escape || matches!(c, '$' | '\'' | '"') {
            out.push(escape);
        }
        out.push(c);
    }
    out
}
