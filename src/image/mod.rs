//! Declarative images: a Dockerfile built from method calls, plus the local
//! files it copies in (its build contexts).
//!
//! Nothing here talks to the network: [`Image`] only writes Dockerfile
//! text and lists [`BuildContext`]s. The text is the one the TypeScript SDK
//! writes for the same calls, words quoted as its `shell-quote` does, so
//! images built from either SDK share the builder's cache.
//!
//! ```
//! use daytona::{Image, PipInstallOptions};
//!
//! let image = Image::debian_slim(Some("3.12"))?
//!     .pip_install(["pandas==2.0", "numpy"])?
//!     .env([("APP_ENV", "prod"), ("GREETING", "hello world")])?
//!     .workdir("/app")?
//!     .entrypoint(["python"])
//!     .cmd(["app.py"]);
//! assert_eq!(
//!     image.dockerfile(),
//!     "FROM python:3.12.10-slim-bookworm\n\
//!      RUN apt-get update\n\
//!      RUN apt-get install -y gcc gfortran build-essential\n\
//!      RUN pip install --upgrade pip\n\
//!      RUN echo 'debconf debconf/frontend select Noninteractive' | debconf-set-selections\n\
//!      RUN python -m pip install numpy pandas\\=\\=2.0\n\
//!      ENV APP_ENV=prod\n\
//!      ENV GREETING='hello world'\n\
//!      WORKDIR /app\n\
//!      ENTRYPOINT [\"python\"]\n\
//!      CMD [\"app.py\"]\n"
//! );
//! assert!(image.contexts().is_empty());
//! # Ok::<(), daytona::Error>(())
//! ```

mod context;
mod dockerfile;
mod glob;
mod pip;
mod quote;
mod walk;

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

pub use context::BuildContext;
pub(crate) use context::{open_file, path_string, ArchiveEntry, EntryKind};
pub use pip::{PipInstallOptions, PyprojectOptions};

use crate::config::EnvHidden;
use crate::error::{Error, Result};
use context::{expand_tilde, io_error, normalize};
use dockerfile::local_sources;
use quote::{docker_quote, js_cmp, json_string, no_continuation, quote_all, single_line};

/// The Python series [`Image::debian_slim`] supports and the micro version
/// each one is pinned to.
const PYTHON_VERSIONS: [(&str, &str); 5] = [
    ("3.9", "3.9.22"),
    ("3.10", "3.10.17"),
    ("3.11", "3.11.12"),
    ("3.12", "3.12.10"),
    ("3.13", "3.13.3"),
];

/// A declarative image definition: Dockerfile text and the local files and
/// directories it copies in.
///
/// Start from [`Image::base`], [`Image::debian_slim`] or
/// [`Image::from_dockerfile`] and chain steps; each step appends lines to
/// the Dockerfile. Steps that can reject their input return a [`Result`],
/// checked at that call: a missing local path, an unsupported Python
/// version, a value that spans lines, a `COPY` flag without its value are
/// [`Error::Validation`]s naming the argument. [`Image::base`] and
/// [`Image::run_commands`], which return the image itself, keep what they
/// find (a base name that spans lines, a command continued into the next
/// instruction) for the create that uses the image, which fails with it
/// before any request.
///
/// ```no_run
/// use daytona::{Image, PipInstallOptions, PyprojectOptions};
///
/// let image = Image::debian_slim(None)?
///     .pip_install_from_requirements("requirements.txt", PipInstallOptions::new())?
///     .pip_install_from_pyproject("pyproject.toml", PyprojectOptions::new().optional_dependencies(["dev"]))?
///     .add_local_dir("src", "/app/src")?
///     .add_local_file("config/app.toml", "/app/")?
///     .run_commands(["python -m compileall /app/src"]);
/// for context in image.contexts() {
///     println!("{} as {}: {}", context.source_path.display(), context.archive_path, context.hash()?);
/// }
/// # Ok::<(), daytona::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
#[must_use]
pub struct Image {
    dockerfile: String,
    contexts: Vec<BuildContext>,
    /// The first argument of an infallible step that would break the
    /// Dockerfile: reported when the image is used, before any request.
    problem: Option<Problem>,
}

/// An argument that breaks the Dockerfile, found by a step that cannot
/// return an error.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Problem {
    field: &'static str,
    message: String,
}

/// Shows the Dockerfile with the values of its `ENV` instructions and the
/// defaults of its `ARG` instructions hidden (`ENV API_TOKEN=<redacted>`,
/// `ARG PIP_TOKEN=<redacted>`); [`Image::dockerfile`], and what is sent to
/// the server, keep them.
impl fmt::Debug for Image {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Image")
            .field("dockerfile", &EnvHidden(&self.dockerfile))
            .field("contexts", &self.contexts)
            .field("problem", &self.problem)
            .finish()
    }
}

impl Image {
    fn from_text(dockerfile: String) -> Self {
        Image {
            dockerfile,
            contexts: Vec::new(),
            problem: None,
        }
    }

    /// Keeps the first argument found to break the Dockerfile.
    fn flag(&mut self, field: &'static str, message: impl Into<String>) {
        if self.problem.is_none() {
            self.problem = Some(Problem {
                field,
                message: message.into(),
            });
        }
    }

    /// The first argument of a step that breaks the Dockerfile, as an
    /// [`Error::Validation`] naming it.
    pub(crate) fn check(&self) -> Result<()> {
        match &self.problem {
            Some(p) => Err(Error::validation(p.field, p.message.clone())),
            None => Ok(()),
        }
    }

    /// An image on top of the container image `image`: `FROM <image>`.
    ///
    /// A name that is empty or holds whitespace, a control character or
    /// `\` (which would add to the `FROM` line, as `python:3 AS x`, or
    /// continue it into the next step's) makes
    /// [`crate::Daytona::create`] and [`crate::Snapshots::create`] fail
    /// with an [`Error::Validation`] (field `image`) before any request.
    pub fn base(image: impl AsRef<str>) -> Self {
        let image = image.as_ref();
        let mut out = Image::from_text(format!("FROM {image}\n"));
        if let Err(Error::Validation { message, .. }) = crate::check::image_name("image", image) {
            out.flag("image", message);
        }
        out
    }

    /// An image on the official `python:<version>-slim-bookworm` image,
    /// with compilers installed, pip upgraded and Debian's front end
    /// non-interactive. `python_version` is a series, `3.9` to `3.13`,
    /// pinned to a micro version (`3.9.22`, `3.10.17`, `3.11.12`,
    /// `3.12.10`, `3.13.3`); `None` (or an empty text) is the latest, `3.13`.
    ///
    /// ```
    /// use daytona::Image;
    ///
    /// let image = Image::debian_slim(Some("3.12"))?;
    /// assert!(image.dockerfile().starts_with("FROM python:3.12.10-slim-bookworm\n"));
    /// assert!(Image::debian_slim(Some("3.8")).unwrap_err().is_validation());
    /// # Ok::<(), daytona::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] for any other version.
    pub fn debian_slim(python_version: Option<&str>) -> Result<Self> {
        let latest = PYTHON_VERSIONS[PYTHON_VERSIONS.len() - 1].0;
        // An empty version, as from an unset variable, is no version.
        let series = python_version
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .unwrap_or(latest);
        let Some((_, micro)) = PYTHON_VERSIONS.iter().find(|(s, _)| *s == series) else {
            let supported: Vec<&str> = PYTHON_VERSIONS.iter().map(|(s, _)| *s).collect();
            return Err(Error::validation(
                "python_version",
                format!(
                    "unsupported Python version {series:?}; supported series: {}",
                    supported.join(", ")
                ),
            ));
        };
        Ok(Image::from_text(format!(
            "FROM python:{micro}-slim-bookworm\n\
             RUN apt-get update\n\
             RUN apt-get install -y gcc gfortran build-essential\n\
             RUN pip install --upgrade pip\n\
             RUN echo 'debconf debconf/frontend select Noninteractive' | debconf-set-selections\n"
        )))
    }

    /// An image from an existing Dockerfile, its text kept as it is.
    ///
    /// The local sources of its `COPY` and `ADD` instructions, relative to
    /// the Dockerfile's folder (the build context), become contexts: a
    /// wildcard source gives one context per match, sorted by name (as
    /// Docker's, wildcards enter no symbolic link);
    /// `--from=` copies, here-documents and `ADD` URLs are skipped. A
    /// source's archive path is the name Docker looks it up by in the build
    /// context (`src/app.py`).
    ///
    /// As Docker, sources must stay inside the build context: an absolute
    /// source (`COPY /etc/passwd /x`), one whose `..` climb out of the
    /// folder (`COPY ../secret.txt /x`), or one that leads out of it
    /// through a symbolic link is refused before any file is read, so an
    /// untrusted Dockerfile cannot ship files from elsewhere on this
    /// machine.
    ///
    /// ```no_run
    /// let image = daytona::Image::from_dockerfile("docker/Dockerfile")?;
    /// println!("{} contexts", image.contexts().len());
    /// # Ok::<(), daytona::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] (field `path`) when the Dockerfile, or a source
    /// it copies, does not exist, or a source is outside the build context
    /// (the message names its line); [`Error::Io`] when it cannot be read.
    pub fn from_dockerfile(path: impl AsRef<Path>) -> Result<Self> {
        let given = path.as_ref();
        let expanded = expand_tilde(given);
        let absolute = if expanded.is_absolute() {
            normalize(&expanded)
        } else {
            let cwd = std::env::current_dir().map_err(|e| io_error(Path::new("."), e))?;
            normalize(&cwd.join(&expanded))
        };
        if !absolute.is_file() {
            let why = if absolute.is_dir() {
                "is a directory"
            } else {
                "does not exist"
            };
            return Err(Error::validation(
                "path",
                format!("Dockerfile {} {why}", given.display()),
            ));
        }
        let text = fs::read_to_string(&absolute).map_err(|e| io_error(&absolute, e))?;
        let base = absolute.parent().unwrap_or(Path::new("/")).to_path_buf();
        let contexts = local_sources(&text, &base, "path")?;
        Ok(Image {
            dockerfile: text,
            contexts,
            problem: None,
        })
    }

    /// The Dockerfile text.
    pub fn dockerfile(&self) -> &str {
        &self.dockerfile
    }

    /// The local files and directories the Dockerfile copies in, in the
    /// order the steps added them.
    pub fn contexts(&self) -> &[BuildContext] {
        &self.contexts
    }

    /// Appends one or more lines, starting a new line if the text does not
    /// end with one (a Dockerfile read from a file may not).
    fn push(&mut self, lines: &str) {
        if !self.dockerfile.is_empty() && !self.dockerfile.ends_with('\n') {
            self.dockerfile.push('\n');
        }
        self.dockerfile.push_str(lines);
        self.dockerfile.push('\n');
    }

    /// `pip install`s `packages`, sorted and quoted:
    /// `RUN python -m pip install <packages>`.
    ///
    /// ```
    /// let image = daytona::Image::base("python:3.12").pip_install(["requests", "numpy>=1.24"])?;
    /// assert!(image.dockerfile().ends_with("RUN python -m pip install numpy\\>\\=1.24 requests\n"));
    /// # Ok::<(), daytona::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] (field `packages`) when a package name is
    /// empty, spans lines or holds a NUL. No package at all adds nothing, as in the official
    /// SDKs.
    pub fn pip_install<I, S>(self, packages: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.pip_install_with(packages, PipInstallOptions::new())
    }

    /// [`Image::pip_install`] with options:
    /// `RUN python -m pip install <packages> [--find-links X]... [--index-url X]
    /// [--extra-index-url X]... [--pre] [extra options]`.
    ///
    /// # Errors
    ///
    /// As [`Image::pip_install`]; also an option that spans lines.
    pub fn pip_install_with<I, S>(self, packages: I, options: PipInstallOptions) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let packages: Vec<String> = packages.into_iter().map(Into::into).collect();
        if packages.iter().any(String::is_empty) {
            return Err(Error::validation("packages", "a package name is empty"));
        }
        self.pip_lines(packages, &options)
    }

    fn pip_lines(mut self, mut packages: Vec<String>, options: &PipInstallOptions) -> Result<Self> {
        if packages.is_empty() {
            return Ok(self);
        }
        for package in &packages {
            single_line("packages", package)?;
        }
        let args = options.args()?;
        packages.sort_by(|a, b| js_cmp(a, b));
        self.push(&format!(
            "RUN python -m pip install {}{args}",
            quote_all(&packages)
        ));
        Ok(self)
    }

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
        self.push(&copy_line(&archive, "/.requirements.txt", escape));
        self.push(&format!(
            "RUN python -m pip install -r /.requirements.txt{args}"
        ));
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
    pub fn pip_install_from_pyproject(
        self,
        path: impl AsRef<Path>,
        options: PyprojectOptions,
    ) -> Result<Self> {
        let given = path.as_ref();
        let source = local_path("pyproject_toml", given, Kind::File)?;
        let text = fs::read_to_string(&source).map_err(|e| io_error(&source, e))?;
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

    /// Runs each command: a shell command (`&str`, `String`) is written as
    /// given, `RUN <command>`; an argument list (`["bash", "-c", "make"]`,
    /// a `Vec` of words) in exec form, `RUN ["bash", "-c", "make"]`, each
    /// word a JSON string, so that no shell reads it.
    ///
    /// A shell command ending with the escape character (`\`), which
    /// would continue its line into the next step's instruction, makes
    /// [`crate::Daytona::create`] and [`crate::Snapshots::create`] fail
    /// with an [`Error::Validation`] (field `run_commands`) before any
    /// request; a line break continued with `\` inside a command is kept.
    ///
    /// ```
    /// use daytona::Image;
    ///
    /// let image = Image::base("alpine")
    ///     .run_commands(["apk add git"])
    ///     .run_commands([["sh", "-c", "echo \"$HOME\""]]);
    /// assert!(image.dockerfile().ends_with(
    ///     "RUN apk add git\nRUN [\"sh\", \"-c\", \"echo \\\"$HOME\\\"\"]\n"
    /// ));
    /// ```
    pub fn run_commands<I, C>(mut self, commands: I) -> Self
    where
        I: IntoIterator<Item = C>,
        C: Into<RunCommand>,
    {
        let escape = dockerfile::escape_char(&self.dockerfile);
        for command in commands {
            let line = match command.into() {
                RunCommand::Shell(command) => {
                    // The whole line: a command that is only a `#` comment
                    // is still the RUN line's text.
                    let line = format!("RUN {command}");
                    if no_continuation("run_commands", &line, escape).is_err() {
                        self.flag(
                            "run_commands",
                            format!(
                                "a shell command ends with `{escape}`, which would continue \
                                 its RUN line into the next instruction"
                            ),
                        );
                    }
                    line
                }
                RunCommand::Args(words) => format!("RUN {}", exec_form(&words)),
            };
            self.push(&line);
        }
        self
    }

    /// Sets environment variables, in the order given: `ENV KEY=<value>`,
    /// the value quoted (escapes written with the Dockerfile's escape
    /// character: `\`, or the backtick an `escape` directive sets). Pass pairs or a `BTreeMap` for a stable order (a
    /// `HashMap`'s order changes from run to run, and with it the image).
    ///
    /// A value with a line break is refused: no Dockerfile syntax puts a
    /// line break into an `ENV` value (Docker would keep `\n` as the two
    /// characters `\` and `n`).
    ///
    /// ```
    /// let image = daytona::Image::base("alpine").env([("DOLLAR", "$HOME/bin"), ("EMPTY", "")])?;
    /// assert!(image.dockerfile().ends_with("ENV DOLLAR=\\$HOME/bin\nENV EMPTY=''\n"));
    /// # Ok::<(), daytona::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] (field `env`) for an empty name, one with
    /// whitespace, a control character, `=`, `$`, a quote, a backslash or
    /// the Dockerfile's escape character (which Docker would read, not
    /// keep), or a value with a line break or a NUL.
    pub fn env<I, K, V>(mut self, vars: I) -> Result<Self>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let escape = dockerfile::escape_char(&self.dockerfile);
        for (key, value) in vars {
            let key = key.as_ref();
            // Docker reads the name as a word too: quotes, `\\`, the escape
            // character and `$` would be read, not kept.
            let unfit = |c: char| {
                c.is_whitespace() || c.is_control() || c == escape || "=$'\"\\".contains(c)
            };
            if key.is_empty() || key.contains(unfit) {
                return Err(Error::validation(
                    "env",
                    format!("{key:?} is not a valid variable name"),
                ));
            }
            let value = single_line("env", value.as_ref()).map_err(|_| {
                Error::validation(
                    "env",
                    format!("the value of {key} spans lines or holds a NUL character"),
                )
            })?;
            self.push(&format!("ENV {key}={}", docker_quote(value, escape)));
        }
        Ok(self)
    }

    /// Sets the working directory: `WORKDIR <path>`, quoted.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] (field `path`) when it is empty, spans
    /// lines or holds a NUL.
    pub fn workdir(mut self, path: impl AsRef<str>) -> Result<Self> {
        let path = single_line("path", path.as_ref())?;
        crate::check::non_empty("path", path)?;
        let escape = dockerfile::escape_char(&self.dockerfile);
        self.push(&format!("WORKDIR {}", docker_quote(path, escape)));
        Ok(self)
    }

    /// Sets the entrypoint: `ENTRYPOINT ["a", "b"]`, each argument a JSON
    /// string, so quotes, backslashes and line breaks are kept exactly.
    pub fn entrypoint<I, S>(self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.exec_form("ENTRYPOINT", args)
    }

    /// Sets the default command: `CMD ["a", "b"]`, each argument a JSON
    /// string, so quotes, backslashes and line breaks are kept exactly.
    pub fn cmd<I, S>(self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.exec_form("CMD", args)
    }

    fn exec_form<I, S>(mut self, keyword: &str, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let words: Vec<String> = args.into_iter().map(|a| a.as_ref().to_string()).collect();
        self.push(&format!("{keyword} {}", exec_form(&words)));
        self
    }

    /// Appends Dockerfile lines as given. The local sources of their
    /// `COPY` and `ADD` instructions become contexts as in
    /// [`Image::from_dockerfile`], relative to `context_dir` (or, without
    /// one, to the current directory, their source paths then relative).
    ///
    /// ```no_run
    /// use std::path::Path;
    ///
    /// let image = daytona::Image::base("alpine")
    ///     .dockerfile_commands(["COPY assets/*.png /srv/", "RUN ls /srv"], Some(Path::new("web")))?;
    /// # Ok::<(), daytona::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Validation`]: field `context_dir` when it is not a
    /// directory, `dockerfile_commands` when a source does not exist or is
    /// outside the context (as in [`Image::from_dockerfile`]), or when the
    /// last command ends with the escape character (`\`), which would
    /// continue it into the next step's instruction.
    pub fn dockerfile_commands<I, S>(
        mut self,
        commands: I,
        context_dir: Option<&Path>,
    ) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let base = match context_dir {
            Some(dir) => {
                let expanded = expand_tilde(dir);
                if !expanded.is_dir() {
                    return Err(Error::validation(
                        "context_dir",
                        format!("context directory {} does not exist", dir.display()),
                    ));
                }
                expanded
            }
            None => PathBuf::new(),
        };
        let text = commands
            .into_iter()
            .map(|c| c.as_ref().to_string())
            .collect::<Vec<_>>()
            .join("\n");
        let escape = dockerfile::escape_char(&self.dockerfile);
        no_continuation("dockerfile_commands", &text, escape)?;
        let contexts = local_sources(&text, &base, "dockerfile_commands")?;
        self.contexts.extend(contexts);
        self.push(&text);
        Ok(self)
    }
}

/// A command of [`Image::run_commands`]: a shell command, or an argument
/// list (`["bash", "-c", "make"]`). Made from a `&str` or `String` (shell)
/// or from an array, slice or `Vec` of words (arguments).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunCommand {
    /// `RUN <command>`, run by the image's shell.
    Shell(String),
    /// `RUN ["word", ...]`, run without a shell.
    Args(Vec<String>),
}

impl From<&str> for RunCommand {
    fn from(command: &str) -> Self {
        RunCommand::Shell(command.to_string())
    }
}

impl From<String> for RunCommand {
    fn from(command: String) -> Self {
        RunCommand::Shell(command)
    }
}

impl From<&String> for RunCommand {
    fn from(command: &String) -> Self {
        RunCommand::Shell(command.clone())
    }
}

impl<S: AsRef<str>> From<Vec<S>> for RunCommand {
    fn from(words: Vec<S>) -> Self {
        RunCommand::Args(words.iter().map(|w| w.as_ref().to_string()).collect())
    }
}

impl<S: AsRef<str>> From<&[S]> for RunCommand {
    fn from(words: &[S]) -> Self {
        RunCommand::Args(words.iter().map(|w| w.as_ref().to_string()).collect())
    }
}

impl<S: AsRef<str>, const N: usize> From<[S; N]> for RunCommand {
    fn from(words: [S; N]) -> Self {
        RunCommand::Args(words.iter().map(|w| w.as_ref().to_string()).collect())
    }
}

/// `["a", "b"]`: the exec form of an instruction, each word a JSON string,
/// so quotes, backslashes and line breaks are kept exactly.
fn exec_form(words: &[String]) -> String {
    let words: Vec<String> = words.iter().map(|w| json_string(w)).collect();
    format!("[{}]", words.join(", "))
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
fn copy_line(source: &str, dest: &str, escape: char) -> String {
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
