//! Steps that run commands: `RUN` lines from shell commands or argument
//! lists, and Dockerfile lines appended as given.

use std::path::{Path, PathBuf};

use super::context::expand_tilde;
use super::dockerfile::{self, appended_sources};
use super::quote::{json_string, no_continuation};
use super::Image;
use crate::error::{Error, Result};

impl Image {
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

    /// Appends Dockerfile lines as given. The local sources of their
    /// `COPY` and `ADD` instructions become contexts as in
    /// [`Image::from_dockerfile`], relative to `context_dir` (or, without
    /// one, to the current directory, their source paths then relative),
    /// read with the Dockerfile's escape character as Docker reads them.
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
        let contexts = appended_sources(&text, escape, &base, "dockerfile_commands")?;
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
pub(super) fn exec_form(words: &[String]) -> String {
    let words: Vec<String> = words.iter().map(|w| json_string(w)).collect();
    format!("[{}]", words.join(", "))
}
