//! Git (`/git/...`).

use std::fmt;

use serde::{Deserialize, Serialize};
use ureq::http::Method;

use super::Toolbox;
use crate::check::{non_empty, non_empty_opt};
use crate::config::{echo_forms, Secret};
use crate::error::Result;
use crate::models::enums::string_enum;
use crate::telemetry::traced;
use crate::transport::Request;

/// Runs git operations on repositories in a sandbox: [`crate::Sandbox::git`].
///
/// Paths are paths in the sandbox (relative ones are resolved against its
/// working directory). Clone, pull and push may take long: they use the
/// client's transfer timeout (30 minutes by default) rather than the
/// per-request one.
///
/// ```no_run
/// # let daytona = daytona::Daytona::from_env()?;
/// # let sandbox = daytona.get("my-sandbox")?;
/// use daytona::toolbox::{CloneOptions, GitCredentials};
///
/// let git = sandbox.git();
/// git.clone_repo("https://github.com/octocat/Hello-World.git", "hello", CloneOptions::new().branch("master"))?;
/// git.create_branch("hello", "feature")?;
/// git.checkout_branch("hello", "feature")?;
/// git.add("hello", &["."])?;
/// let sha = git.commit("hello", "Update", "Ada", "ada@example.com")?;
/// git.push("hello", Some(&GitCredentials::new("ada", "token")))?;
/// println!("pushed {sha}, now on {}", git.status("hello")?.current_branch);
/// # Ok::<(), daytona::Error>(())
/// ```
pub struct Git<'s> {
    tb: Toolbox<'s>,
}

/// A user name and password (or token) for a git remote. `Debug` hides the
/// password.
#[derive(Clone)]
pub struct GitCredentials {
    username: String,
    password: String,
}

impl GitCredentials {
    /// Credentials for a remote.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        GitCredentials {
            username: username.into(),
            password: password.into(),
        }
    }
}

/// What a git request must keep out of its errors and logs (an answer may
/// echo its body): the password, and the credential in the remote's URL,
/// as written and decoded: its password (`https://user:token@host/...`),
/// or its user name when it has no password (`https://token@host/...`, a
/// token as GitHub and GitLab take it).
fn git_secrets(url: Option<&str>, credentials: Option<&GitCredentials>) -> Vec<Secret> {
    let mut secrets: Vec<Secret> = credentials
        .map(|c| echo_forms(&c.password))
        .unwrap_or_default();
    let credential = url.and_then(|raw| match url::Url::parse(raw) {
        Ok(u) => match u.password() {
            Some(password) => Some(password.to_string()),
            // `https://user:12/34@host/...` parses too, `user` as the host
            // and the rest of the password as the path: the password as
            // written, when there is one.
            None => written_password(raw)
                .or_else(|| Some(u.username().to_string()).filter(|name| !name.is_empty())),
        },
        // A password with a `/`, `?` or `#` left unencoded breaks the URL,
        // and the toolbox's error quotes it whole.
        Err(_) => written_credential(raw),
    });
    if let Some(credential) = credential {
        let decoded = percent_encoding::percent_decode_str(&credential)
            .decode_utf8_lossy()
            .into_owned();
        secrets.push(Secret::new(decoded));
        secrets.push(Secret::new(credential));
    }
    secrets
}

/// The credential of a URL that does not parse, as written: what lies
/// between `://` and the last `@`, past its first `:` if there is one.
fn written_credential(url: &str) -> Option<String> {
    written_password(url).or_else(|| {
        let user_info = written_user_info(url)?;
        Some(user_info.to_string()).filter(|u| !u.is_empty())
    })
}

/// The password as written (see [`written_credential`]), when the text
/// before the last `@` has a `:`.
fn written_password(url: &str) -> Option<String> {
    let (_, password) = written_user_info(url)?.split_once(':')?;
    Some(password.to_string()).filter(|p| !p.is_empty())
}

/// What lies between `://` and the last `@`.
fn written_user_info(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    Some(&rest[..rest.rfind('@')?])
}

impl fmt::Debug for GitCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitCredentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Options of [`Git::clone_repo`].
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct CloneOptions {
    branch: Option<String>,
    commit_id: Option<String>,
    credentials: Option<GitCredentials>,
    insecure_skip_tls: bool,
}

impl CloneOptions {
    /// The default branch, no credentials.
    pub fn new() -> Self {
        Self::default()
    }

    /// The branch to check out.
    pub fn branch(mut self, branch: impl Into<String>) -> Self {
        self.branch = Some(branch.into());
        self
    }

    /// The commit to check out (detached HEAD).
    pub fn commit_id(mut self, commit_id: impl Into<String>) -> Self {
        self.commit_id = Some(commit_id.into());
        self
    }

    /// Credentials for a private repository.
    pub fn credentials(mut self, credentials: GitCredentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Skips TLS verification: only for trusted servers with private
    /// certificates; credentials then cross an unverified connection.
    pub fn insecure_skip_tls(mut self, skip: bool) -> Self {
        self.insecure_skip_tls = skip;
        self
    }
}

/// Options of [`Git::commit_with`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct CommitOptions {
    allow_empty: bool,
}

impl CommitOptions {
    /// A commit of the staged changes, which must not be empty.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a commit without changes is allowed (default: not).
    pub fn allow_empty(mut self, allow: bool) -> Self {
        self.allow_empty = allow;
        self
    }
}

string_enum! {
    /// The state of a file in the index or the work tree (`Status`).
    FileState {
        /// Unchanged.
        Unmodified = "Unmodified",
        /// Not tracked.
        Untracked = "Untracked",
        /// Modified.
        Modified = "Modified",
        /// Added.
        Added = "Added",
        /// Deleted.
        Deleted = "Deleted",
        /// Renamed.
        Renamed = "Renamed",
        /// Copied.
        Copied = "Copied",
        /// In conflict.
        UpdatedButUnmerged = "Updated but unmerged",
    }
}

/// One changed file of [`GitStatus`] (`FileStatus`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FileStatus {
    /// Its path in the repository.
    pub name: String,
    /// Its state in the index.
    pub staging: FileState,
    /// Its state in the work tree.
    pub worktree: FileState,
    /// Extra detail, such as the original name of a renamed file.
    #[serde(default)]
    pub extra: String,
}

/// The status of a repository (`GitStatus`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GitStatus {
    /// The checked-out branch.
    pub current_branch: String,
    /// Commits ahead of the upstream.
    #[serde(default)]
    pub ahead: Option<i64>,
    /// Commits behind the upstream.
    #[serde(default)]
    pub behind: Option<i64>,
    /// Whether the branch exists on the remote.
    #[serde(default)]
    pub branch_published: Option<bool>,
    /// Changed files.
    #[serde(default, deserialize_with = "crate::models::null_as_default")]
    pub file_status: Vec<FileStatus>,
}

/// A commit of [`Git::history`] (`GitCommitInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GitCommitInfo {
    /// Its hash.
    pub hash: String,
    /// Its author's name.
    pub author: String,
    /// Its author's email.
    pub email: String,
    /// Its message.
    pub message: String,
    /// When it was made.
    pub timestamp: String,
}

#[derive(Deserialize)]
struct CommitAnswer {
    hash: String,
}

#[derive(Deserialize)]
struct Branches {
    #[serde(default, deserialize_with = "crate::models::null_as_default")]
    branches: Vec<String>,
}

/// `GitRepoRequest`: a path and optional credentials.
#[derive(Serialize)]
struct RepoBody<'a> {
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<&'a str>,
}

impl<'a> RepoBody<'a> {
    fn new(path: &'a str, credentials: Option<&'a GitCredentials>) -> Self {
        RepoBody {
            path,
            username: credentials.map(|c| c.username.as_str()),
            password: credentials.map(|c| c.password.as_str()),
        }
    }
}

impl<'s> Git<'s> {
    pub(crate) fn new(tb: Toolbox<'s>) -> Self {
        Git { tb }
    }

    fn request(&self, method: Method, segments: &[&str]) -> Result<Request<'static>> {
        self.tb.request(method, segments)
    }

    /// A request that may run as long as a transfer.
    fn long_request(&self, segments: &[&str]) -> Result<Request<'static>> {
        let timeout = self.tb.sandbox().client().inner.transfer_timeout;
        Ok(self.request(Method::POST, segments)?.timeout(timeout))
    }

    /// Clones `url` into `path`.
    pub fn clone_repo(&self, url: &str, path: &str, options: CloneOptions) -> Result<()> {
        traced(self.tb.tracing(), "Git.clone", || {
            non_empty("url", url)?;
            non_empty("path", path)?;
            non_empty_opt("branch", options.branch.as_deref())?;
            non_empty_opt("commit_id", options.commit_id.as_deref())?;
            #[derive(Serialize)]
            struct Body<'a> {
                url: &'a str,
                path: &'a str,
                #[serde(skip_serializing_if = "Option::is_none")]
                branch: Option<&'a str>,
                #[serde(skip_serializing_if = "Option::is_none")]
                commit_id: Option<&'a str>,
                #[serde(skip_serializing_if = "Option::is_none")]
                username: Option<&'a str>,
                #[serde(skip_serializing_if = "Option::is_none")]
                password: Option<&'a str>,
                #[serde(skip_serializing_if = "std::ops::Not::not")]
                insecure_skip_tls: bool,
            }
            let creds = options.credentials.as_ref();
            let body = Body {
                url,
                path,
                branch: options.branch.as_deref(),
                commit_id: options.commit_id.as_deref(),
                username: creds.map(|c| c.username.as_str()),
                password: creds.map(|c| c.password.as_str()),
                insecure_skip_tls: options.insecure_skip_tls,
            };
            let secrets = git_secrets(Some(url), creds);
            self.tb.transport().empty(
                self.long_request(&["git", "clone"])?
                    .json(&body)
                    .hide(secrets),
            )
        })
    }

    /// The status of the repository at `path`.
    pub fn status(&self, path: &str) -> Result<GitStatus> {
        traced(self.tb.tracing(), "Git.status", || {
            non_empty("path", path)?;
            self.tb.transport().json(
                self.request(Method::GET, &["git", "status"])?
                    .query("path", path),
            )
        })
    }

    /// Stages `files` (`"."` for everything) in the repository at `path`.
    pub fn add(&self, path: &str, files: &[&str]) -> Result<()> {
        traced(self.tb.tracing(), "Git.add", || {
            non_empty("path", path)?;
            if files.is_empty() {
                return Err(crate::Error::validation(
                    "files",
                    "name at least one file (or \".\")",
                ));
            }
            for file in files {
                non_empty("files", file)?;
            }
            let body = serde_json::json!({ "path": path, "files": files });
            self.tb
                .transport()
                .empty(self.request(Method::POST, &["git", "add"])?.json(&body))
        })
    }

    /// Commits the staged changes as `author` <`email`>; returns the new
    /// commit's hash. Nothing staged is an error (see
    /// [`CommitOptions::allow_empty`]).
    pub fn commit(&self, path: &str, message: &str, author: &str, email: &str) -> Result<String> {
        self.commit_with(path, message, author, email, CommitOptions::new())
    }

    /// [`commit`](Self::commit) with options.
    pub fn commit_with(
        &self,
        path: &str,
        message: &str,
        author: &str,
        email: &str,
        options: CommitOptions,
    ) -> Result<String> {
        traced(self.tb.tracing(), "Git.commit", || {
            non_empty("path", path)?;
            non_empty("message", message)?;
            non_empty("author", author)?;
            non_empty("email", email)?;
            let body = serde_json::json!({
                "path": path,
                "message": message,
                "author": author,
                "email": email,
                "allow_empty": options.allow_empty,
            });
            let answer: CommitAnswer = self
                .tb
                .transport()
                .json(self.request(Method::POST, &["git", "commit"])?.json(&body))?;
            Ok(answer.hash)
        })
    }

    /// Pushes the current branch.
    pub fn push(&self, path: &str, credentials: Option<&GitCredentials>) -> Result<()> {
        traced(self.tb.tracing(), "Git.push", || {
            self.sync("push", path, credentials)
        })
    }

    /// Pulls into the current branch.
    pub fn pull(&self, path: &str, credentials: Option<&GitCredentials>) -> Result<()> {
        traced(self.tb.tracing(), "Git.pull", || {
            self.sync("pull", path, credentials)
        })
    }

    fn sync(&self, what: &str, path: &str, credentials: Option<&GitCredentials>) -> Result<()> {
        non_empty("path", path)?;
        let body = RepoBody::new(path, credentials);
        self.tb.transport().empty(
            self.long_request(&["git", what])?
                .json(&body)
                .hide(git_secrets(None, credentials)),
        )
    }

    /// The local branches of the repository at `path`.
    pub fn branches(&self, path: &str) -> Result<Vec<String>> {
        traced(self.tb.tracing(), "Git.branches", || {
            non_empty("path", path)?;
            let answer: Branches = self.tb.transport().json(
                self.request(Method::GET, &["git", "branches"])?
                    .query("path", path),
            )?;
            Ok(answer.branches)
        })
    }

    /// Creates the branch `name` (without checking it out).
    pub fn create_branch(&self, path: &str, name: &str) -> Result<()> {
        traced(self.tb.tracing(), "Git.createBranch", || {
            self.branch_request(Method::POST, path, name)
        })
    }

    /// Deletes the branch `name`.
    pub fn delete_branch(&self, path: &str, name: &str) -> Result<()> {
        traced(self.tb.tracing(), "Git.deleteBranch", || {
            self.branch_request(Method::DELETE, path, name)
        })
    }

    fn branch_request(&self, method: Method, path: &str, name: &str) -> Result<()> {
        non_empty("path", path)?;
        non_empty("name", name)?;
        let body = serde_json::json!({ "path": path, "name": name });
        self.tb
            .transport()
            .empty(self.request(method, &["git", "branches"])?.json(&body))
    }

    /// Checks out `branch` (a branch name or a commit).
    pub fn checkout_branch(&self, path: &str, branch: &str) -> Result<()> {
        traced(self.tb.tracing(), "Git.checkoutBranch", || {
            non_empty("path", path)?;
            non_empty("branch", branch)?;
            let body = serde_json::json!({ "path": path, "branch": branch });
            self.tb.transport().empty(
                self.request(Method::POST, &["git", "checkout"])?
                    .json(&body),
            )
        })
    }

    /// The commit history of the current branch, newest first.
    pub fn history(&self, path: &str) -> Result<Vec<GitCommitInfo>> {
        traced(self.tb.tracing(), "Git.history", || {
            non_empty("path", path)?;
            self.tb.transport().json(
                self.request(Method::GET, &["git", "history"])?
                    .query("path", path),
            )
        })
    }
}
