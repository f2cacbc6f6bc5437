//! Options of the `pip install` steps and reading `pyproject.toml`.

use std::fmt;

use crate::config::url_credentials_hidden;
use crate::error::{Error, Result};

use super::quote::{js_trim, no_continuation, quote, single_line};

/// Options of a `pip install` step ([`Image::pip_install_with`],
/// [`Image::pip_install_from_requirements`]).
///
/// [`Image::pip_install_with`]: super::Image::pip_install_with
/// [`Image::pip_install_from_requirements`]: super::Image::pip_install_from_requirements
///
/// ```
/// use daytona::{Image, PipInstallOptions};
///
/// let options = PipInstallOptions::new()
///     .index_url("https://pypi.example.com/simple")
///     .extra_index_url("https://mirror.example.com/simple")
///     .find_link("/wheels")
///     .pre(true)
///     .extra_options("--no-cache-dir");
/// let image = Image::base("python:3.12").pip_install_with(["numpy"], options)?;
/// assert_eq!(
///     image.dockerfile().lines().last(),
///     Some(
///         "RUN python -m pip install numpy --find-links /wheels \
///          --index-url https\\://pypi.example.com/simple \
///          --extra-index-url https\\://mirror.example.com/simple --pre --no-cache-dir"
///     )
/// );
/// # Ok::<(), daytona::Error>(())
/// ```
///
/// `Debug` hides the user information of the URLs (`https://<redacted>@...`),
/// where an index may take a token.
#[derive(Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct PipInstallOptions {
    find_links: Vec<String>,
    index_url: Option<String>,
    extra_index_urls: Vec<String>,
    pre: bool,
    extra_options: Option<String>,
}

impl fmt::Debug for PipInstallOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let PipInstallOptions {
            find_links,
            index_url,
            extra_index_urls,
            pre,
            extra_options,
        } = self;
        let hidden = |v: &String| url_credentials_hidden(v);
        f.debug_struct("PipInstallOptions")
            .field(
                "find_links",
                &find_links.iter().map(hidden).collect::<Vec<_>>(),
            )
            .field("index_url", &index_url.as_ref().map(hidden))
            .field(
                "extra_index_urls",
                &extra_index_urls.iter().map(hidden).collect::<Vec<_>>(),
            )
            .field("pre", pre)
            .field("extra_options", &extra_options.as_ref().map(hidden))
            .finish()
    }
}

impl PipInstallOptions {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a `--find-links` location.
    pub fn find_link(mut self, location: impl Into<String>) -> Self {
        self.find_links.push(location.into());
        self
    }

    /// The `--index-url`; an empty one is left out.
    pub fn index_url(mut self, url: impl Into<String>) -> Self {
        self.index_url = Some(url.into());
        self
    }

    /// Adds an `--extra-index-url`.
    pub fn extra_index_url(mut self, url: impl Into<String>) -> Self {
        self.extra_index_urls.push(url.into());
        self
    }

    /// `--pre`: allow pre-releases.
    pub fn pre(mut self, pre: bool) -> Self {
        self.pre = pre;
        self
    }

    /// Further options, written as given (trimmed, not quoted) at the end
    /// of the command; an empty text is left out. Options that span lines
    /// or end with `\` (which would continue the `RUN` line into the next
    /// instruction) make the step an [`Error::Validation`](crate::Error::Validation).
    pub fn extra_options(mut self, options: impl Into<String>) -> Self {
        self.extra_options = Some(options.into());
        self
    }

    /// The options as they follow the packages on the `RUN` line, each
    /// with a leading space, as the TypeScript SDK writes them.
    pub(crate) fn args(&self) -> Result<String> {
        let mut out = String::new();
        let mut flag = |field: &str, name: &str, value: &str| -> Result<()> {
            out.push_str(&format!(" --{name} {}", quote(single_line(field, value)?)));
            Ok(())
        };
        for location in &self.find_links {
            flag("find_links", "find-links", location)?;
        }
        if let Some(url) = self.index_url.as_deref().filter(|u| !u.is_empty()) {
            flag("index_url", "index-url", url)?;
        }
        for url in &self.extra_index_urls {
            flag("extra_index_urls", "extra-index-url", url)?;
        }
        if self.pre {
            out.push_str(" --pre");
        }
        if let Some(extra) = self.extra_options.as_deref().filter(|e| !e.is_empty()) {
            let extra = single_line("extra_options", js_trim(extra))?;
            no_continuation("extra_options", extra, '\\')?;
            out.push(' ');
            out.push_str(extra);
        }
        Ok(out)
    }
}

/// Options of [`Image::pip_install_from_pyproject`]: which optional
/// dependency groups to install besides `[project] dependencies`, and the
/// `pip install` options.
///
/// [`Image::pip_install_from_pyproject`]: super::Image::pip_install_from_pyproject
///
/// ```
/// use daytona::{PipInstallOptions, PyprojectOptions};
///
/// let options = PyprojectOptions::new()
///     .optional_dependencies(["dev", "test"])
///     .pip(PipInstallOptions::new().pre(true));
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct PyprojectOptions {
    pub(crate) optional_dependencies: Vec<String>,
    pub(crate) pip: PipInstallOptions,
}

impl PyprojectOptions {
    /// Only `[project] dependencies`, no options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds groups of `[project.optional-dependencies]` to install too, in
    /// order.
    pub fn optional_dependencies<I, S>(mut self, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.optional_dependencies
            .extend(groups.into_iter().map(Into::into));
        self
    }

    /// The `pip install` options.
    pub fn pip(mut self, options: PipInstallOptions) -> Self {
        self.pip = options;
        self
    }
}

impl From<PipInstallOptions> for PyprojectOptions {
    fn from(pip: PipInstallOptions) -> Self {
        PyprojectOptions {
            pip,
            ..Self::default()
        }
    }
}

const NO_DEPENDENCIES: &str = "no [project] dependencies array in the pyproject.toml file; see \
     https://packaging.python.org/en/latest/guides/writing-pyproject-toml for its format";

/// The requirements a `pyproject.toml` text lists: `[project]
/// dependencies`, then each requested optional group's, in order.
pub(crate) fn pyproject_dependencies(
    text: &str,
    shown: &str,
    groups: &[String],
) -> Result<Vec<String>> {
    let field = "pyproject_toml";
    let table: toml::Table = toml::from_str(text)
        .map_err(|e| Error::validation(field, format!("{shown} is not valid TOML: {e}")))?;
    let project = table.get("project").and_then(|p| p.as_table());
    let dependencies = project
        .and_then(|p| p.get("dependencies"))
        .and_then(|d| d.as_array())
        .ok_or_else(|| Error::validation(field, format!("{shown}: {NO_DEPENDENCIES}")))?;
    let mut out = strings(field, shown, "dependencies", dependencies)?;
    let optional = project
        .and_then(|p| p.get("optional-dependencies"))
        .and_then(|o| o.as_table());
    for group in groups {
        let Some(list) = optional
            .and_then(|o| o.get(group))
            .and_then(|g| g.as_array())
        else {
            let known: Vec<&str> = optional
                .map(|o| o.keys().map(String::as_str).collect())
                .unwrap_or_default();
            return Err(Error::validation(
                "optional_dependencies",
                format!(
                    "{shown} has no optional dependency group {group:?} (it has: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        };
        out.extend(strings(field, shown, group, list)?);
    }
    Ok(out)
}

fn strings(field: &str, shown: &str, what: &str, list: &[toml::Value]) -> Result<Vec<String>> {
    list.iter()
        .map(|v| {
            v.as_str().map(str::to_string).ok_or_else(|| {
                Error::validation(
                    field,
                    format!("{shown}: {what} holds a {}, not a string", v.type_str()),
                )
            })
        })
        .collect()
}
