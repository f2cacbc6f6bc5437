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
mod local;
mod pip;
mod quote;
mod run;
mod walk;
mod words;

use std::fmt;
use std::path::Path;

pub use context::BuildContext;
pub(crate) use context::{open_file, path_string, ArchiveEntry, EntryKind};
pub use pip::{PipInstallOptions, PyprojectOptions};
pub use run::RunCommand;
pub(crate) use walk::FileId;

use crate::config::EnvHidden;
use crate::error::{Error, Result};
use context::{expand_tilde, io_error, normalize, read_text, MAX_TEXT};
use dockerfile::local_sources;
use quote::{docker_quote, js_cmp, quote_all, single_line};
use run::exec_form;

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
    /// (the message names its line); [`Error::Io`] when it cannot be read
    /// or is not UTF-8; [`Error::TooLarge`] when it is over 4 MiB (read no
    /// further).
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
        let text = read_text(&absolute, "the Dockerfile", MAX_TEXT)?;
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
        let line = format!("RUN python -m pip install {}{args}", quote_all(&packages));
        self.push_pip(&line, &args)?;
        Ok(self)
    }

    /// Adds a `pip install` line whose options are `args`, unless it ends
    /// with the Dockerfile's escape character (a value quoted to end in a
    /// backtick under `# escape=\``), which would continue it into the next
    /// instruction: a validation error of `options` (or `packages` when
    /// there are none).
    fn push_pip(&mut self, line: &str, args: &str) -> Result<()> {
        let field = if args.is_empty() {
            "packages"
        } else {
            "options"
        };
        quote::no_continuation(field, line, dockerfile::escape_char(&self.dockerfile))?;
        self.push(line);
        Ok(())
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
}
