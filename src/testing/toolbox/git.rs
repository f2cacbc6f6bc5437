//! Git (`/git/...`) in host mode: each operation runs this machine's `git`
//! (no shell, arguments as a list) in the sandbox's directory, with the
//! sandbox's env vars as commands have them. Credentials reach `git`
//! through a credential helper reading the child's environment, never its
//! arguments. Scripted mode runs nothing: 501.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use super::{body_json, wait_output, Sandbox, Waited};
use crate::testing::error;
use crate::testing::group::own_group;
use crate::testing::server::{Request, Response};

/// How long one `git` may run (a clone of a large repository).
const GIT_TIMEOUT: Duration = Duration::from_secs(600);

/// The ssh git runs: one that never asks (an unknown host key or a
/// passphrase would be asked on the terminal, where the command, in a
/// process group of its own, stops until its time is up), and fails at
/// once instead, as the toolbox's git does.
const SSH: &str = "ssh -o BatchMode=yes";

/// The credential helper: answers `get` with the credentials from its
/// environment (set for this `git` only).
const HELPER: &str = "!f() { test \"$1\" = get && \
    printf 'username=%s\\npassword=%s\\n' \"$DAYTONA_GIT_USERNAME\" \"$DAYTONA_GIT_PASSWORD\"; }; f";

/// Routes `/git/...` (`rest` follows `git`).
pub(super) fn handle(sb: &Sandbox<'_>, req: &Request, rest: &[&str]) -> Response {
    let m = req.method.as_str();
    let operation = format!("git {}", rest.join("/"));
    if sb.shared.scripted {
        return error(
            501,
            &format!(
                "{operation} runs this machine's git: not served in scripted mode, \
                 which runs nothing on the host"
            ),
        );
    }
    let body = match m {
        "GET" => json!({ "path": req.param("path") }),
        _ => match body_json(req) {
            Ok(b) => b,
            Err(r) => return r,
        },
    };
    let git = Git { sb, body: &body };
    let answer = match (m, rest) {
        ("POST", ["clone"]) => git.clone_repo(),
        ("GET", ["status"]) => git.status(),
        ("POST", ["add"]) => git.add(),
        ("POST", ["commit"]) => git.commit(),
        ("POST", ["push"]) => git.sync("push"),
        ("POST", ["pull"]) => git.sync("pull"),
        ("GET", ["branches"]) => git.branches(),
        ("POST", ["branches"]) => git.branch(&["branch"], 201),
        ("DELETE", ["branches"]) => git.branch(&["branch", "-D"], 204),
        ("POST", ["checkout"]) => git.checkout(),
        ("GET", ["history"]) => git.history(),
        _ => Err(error(
            501,
            &format!(
                "{m} /git/{} is not simulated by the local simulator",
                rest.join("/")
            ),
        )),
    };
    answer.unwrap_or_else(|r| r)
}

type Answer = Result<Response, Response>;

/// One request's git.
struct Git<'a, 'b> {
    sb: &'a Sandbox<'b>,
    body: &'a Value,
}

impl Git<'_, '_> {
    fn field(&self, name: &str) -> Result<&str, Response> {
        self.body[name]
            .as_str()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| error(400, &format!("{name} is required")))
    }

    /// A branch or commit name: not an option.
    fn name(&self, field: &str) -> Result<&str, Response> {
        let name = self.field(field)?;
        if name.starts_with('-') {
            return Err(error(400, &format!("{field} must not start with '-'")));
        }
        Ok(name)
    }

    /// The host directory of the repository at the body's `path`.
    fn repo(&self) -> Result<std::path::PathBuf, Response> {
        self.sb.resolve(self.field("path")?)
    }

    /// Runs `git args` in `cwd`; its stdout, or an error with its stderr.
    fn run(&self, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<String, Response> {
        if !cwd.is_dir() {
            return Err(error(
                400,
                &format!("{}: no such directory", self.sb.virtual_path(cwd)),
            ));
        }
        let mut command = Command::new("git");
        own_group(&mut command)
            .args(args)
            .current_dir(cwd)
            .env("HOME", self.sb.home())
            .envs(self.sb.env())
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_SSH_COMMAND", SSH)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = match command.spawn() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(error(
                    500,
                    "git is not installed on this machine: the local simulator runs the \
                     host's git for git operations",
                ))
            }
            Err(e) => return Err(error(500, &format!("cannot run git: {e}"))),
        };
        match wait_output(
            child,
            GIT_TIMEOUT,
            &[&self.sb.shared.stopping],
            &mut |_, _| {},
        ) {
            Waited::Done(0, out) => Ok(String::from_utf8_lossy(&out.stdout).into_owned()),
            Waited::Done(code, out) => {
                let stderr = String::from_utf8_lossy(&out.stderr);
                let message = stderr.trim();
                Err(error(
                    400,
                    &format!("git {} failed ({code}): {message}", args[0]),
                ))
            }
            Waited::TimedOut => Err(error(408, &format!("git {} timed out", args[0]))),
            Waited::Failed(m) => Err(error(500, &m)),
        }
    }

    /// The credentials of the body, for the credential helper.
    fn credentials(&self) -> Vec<(&str, &str)> {
        match (
            self.body["username"].as_str(),
            self.body["password"].as_str(),
        ) {
            (None, None) => Vec::new(),
            (user, password) => vec![
                ("GIT_CONFIG_COUNT", "1"),
                ("GIT_CONFIG_KEY_0", "credential.helper"),
                ("GIT_CONFIG_VALUE_0", HELPER),
                ("DAYTONA_GIT_USERNAME", user.unwrap_or("")),
                ("DAYTONA_GIT_PASSWORD", password.unwrap_or("")),
            ],
        }
    }

    fn clone_repo(&self) -> Answer {
        let url = self.field("url")?;
        let target = self.repo()?;
        let mut args = vec!["clone"];
        if let Some(branch) = self.body["branch"].as_str().filter(|b| !b.is_empty()) {
            if branch.starts_with('-') {
                return Err(error(400, "branch must not start with '-'"));
            }
            args.extend(["--branch", branch]);
        }
        if self.body["insecure_skip_tls"].as_bool() == Some(true) {
            args.extend(["-c", "http.sslVerify=false"]);
        }
        let dest = target.to_string_lossy().into_owned();
        args.extend(["--", url, &dest]);
        let parent = target.parent().unwrap_or(&target);
        std::fs::create_dir_all(parent)
            .map_err(|e| error(500, &format!("cannot create the directory: {e}")))?;
        self.run(parent, &args, &self.credentials())?;
        if self.body["commit_id"]
            .as_str()
            .is_some_and(|c| !c.is_empty())
        {
            let commit = self.name("commit_id")?;
            self.run(&target, &["checkout", "--detach", commit], &[])?;
        }
        Ok(Response::empty(200))
    }

    fn status(&self) -> Answer {
        let repo = self.repo()?;
        let out = self.run(&repo, &["status", "--porcelain=v1", "--branch", "-z"], &[])?;
        Ok(Response::json(200, &parse_status(&out)))
    }

    fn add(&self) -> Answer {
        let repo = self.repo()?;
        let files: Vec<&str> = self.body["files"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if files.is_empty() {
            return Err(error(400, "files is required"));
        }
        let mut args = vec!["add", "--"];
        args.extend(files);
        self.run(&repo, &args, &[])?;
        Ok(Response::empty(200))
    }

    fn commit(&self) -> Answer {
        let repo = self.repo()?;
        let message = self.field("message")?;
        let (author, email) = (self.field("author")?, self.field("email")?);
        let mut args = vec!["commit", "-m", message];
        if self.body["allow_empty"].as_bool() == Some(true) {
            args.push("--allow-empty");
        }
        let who = [
            ("GIT_AUTHOR_NAME", author),
            ("GIT_AUTHOR_EMAIL", email),
            ("GIT_COMMITTER_NAME", author),
            ("GIT_COMMITTER_EMAIL", email),
        ];
        self.run(&repo, &args, &who)?;
        let hash = self.run(&repo, &["rev-parse", "HEAD"], &[])?;
        Ok(Response::json(200, &json!({ "hash": hash.trim() })))
    }

    fn sync(&self, what: &str) -> Answer {
        let repo = self.repo()?;
        self.run(&repo, &[what], &self.credentials())?;
        Ok(Response::empty(200))
    }

    fn branches(&self) -> Answer {
        let repo = self.repo()?;
        let out = self.run(&repo, &["branch", "--format=%(refname:short)"], &[])?;
        let branches: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
        Ok(Response::json(200, &json!({ "branches": branches })))
    }

    /// `git branch NAME` (create) or `git branch -D NAME` (delete),
    /// answered with `status`.
    fn branch(&self, args: &[&str], status: u16) -> Answer {
        let repo = self.repo()?;
        let name = self.name("name")?;
        let mut args = args.to_vec();
        args.push(name);
        self.run(&repo, &args, &[])?;
        Ok(Response::empty(status))
    }

    fn checkout(&self) -> Answer {
        let repo = self.repo()?;
        let branch = self.name("branch")?;
        self.run(&repo, &["checkout", branch], &[])?;
        Ok(Response::empty(200))
    }

    fn history(&self) -> Answer {
        let repo = self.repo()?;
        // A repository without commits has no history.
        if self
            .run(&repo, &["rev-parse", "--verify", "-q", "HEAD"], &[])
            .is_err()
        {
            return Ok(Response::json(200, &json!([])));
        }
        let format = "--format=%H%x1f%an%x1f%ae%x1f%B%x1f%aI%x1e";
        let out = self.run(&repo, &["log", format], &[])?;
        let commits: Vec<Value> = out
            .split('\x1e')
            .filter_map(|c| {
                let f: Vec<&str> = c.trim_start_matches('\n').split('\x1f').collect();
                let [hash, author, email, message, timestamp] = f[..] else {
                    return None;
                };
                Some(json!({
                    "hash": hash, "author": author, "email": email,
                    "message": message.trim_end(), "timestamp": timestamp,
                }))
            })
            .collect();
        Ok(Response::json(200, &json!(commits)))
    }
}

/// `git status --porcelain=v1 --branch -z` as the toolbox's `GitStatus`.
fn parse_status(out: &str) -> Value {
    let mut entries = out.split('\0').filter(|e| !e.is_empty());
    let header = entries.next().unwrap_or("").trim_start_matches("## ");
    let (head, tracking) = header.split_once(" [").unwrap_or((header, ""));
    let (branch, upstream) = match head.split_once("...") {
        Some((b, u)) => (b, Some(u)),
        None => (head, None),
    };
    let branch = branch
        .strip_prefix("No commits yet on ")
        .or_else(|| branch.strip_prefix("Initial commit on "))
        .unwrap_or(branch);
    let count = |what: &str| -> i64 {
        tracking
            .trim_end_matches(']')
            .split(", ")
            .find_map(|p| p.strip_prefix(what))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    };
    let mut files = Vec::new();
    while let Some(entry) = entries.next() {
        let (codes, name) = entry.split_at(entry.len().min(3));
        let mut codes = codes.chars();
        let (x, y) = (codes.next().unwrap_or(' '), codes.next().unwrap_or(' '));
        // A rename or copy is followed by the name it had.
        let extra = if matches!(x, 'R' | 'C') {
            entries.next().unwrap_or("")
        } else {
            ""
        };
        files.push(json!({
            "name": name, "staging": state(x), "worktree": state(y), "extra": extra,
        }));
    }
    json!({
        "currentBranch": branch, "ahead": count("ahead "), "behind": count("behind "),
        "branchPublished": upstream.is_some(), "fileStatus": files,
    })
}

fn state(code: char) -> &'static str {
    match code {
        '?' => "Untracked",
        'M' | 'T' => "Modified",
        'A' => "Added",
        'D' => "Deleted",
        'R' => "Renamed",
        'C' => "Copied",
        'U' => "Updated but unmerged",
        _ => "Unmodified",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The helper hands git the credentials from the environment, and
    /// only those: nothing in the arguments.
    #[test]
    fn the_credential_helper_answers_from_the_environment() {
        use std::io::Write;
        let child = Command::new("git")
            .args(["credential", "fill"])
            .env("GIT_CONFIG_COUNT", "1")
            .env("GIT_CONFIG_KEY_0", "credential.helper")
            .env("GIT_CONFIG_VALUE_0", HELPER)
            .env("DAYTONA_GIT_USERNAME", "ada")
            .env("DAYTONA_GIT_PASSWORD", "pa ss'word")
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let Ok(mut child) = child else {
            return; // no git on this machine
        };
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(b"protocol=https\nhost=example.com\n\n")
            .unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("username=ada\n"), "{text}");
        assert!(text.contains("password=pa ss'word\n"), "{text}");
    }

    #[test]
    fn status_is_parsed() {
        let out = "## main...origin/main [ahead 2, behind 1]\0 M a.txt\0?? new file\0\
                   R  b.txt\0old.txt\0";
        let v = parse_status(out);
        assert_eq!(v["currentBranch"], "main");
        assert_eq!(
            (v["ahead"].as_i64(), v["behind"].as_i64()),
            (Some(2), Some(1))
        );
        assert_eq!(v["branchPublished"], true);
        let files = v["fileStatus"].as_array().unwrap();
        assert_eq!(files.len(), 3);
        assert_eq!(files[0]["name"], "a.txt");
        assert_eq!(
            (files[0]["staging"].as_str(), files[0]["worktree"].as_str()),
            (Some("Unmodified"), Some("Modified"))
        );
        assert_eq!(files[1]["name"], "new file");
        assert_eq!(files[1]["staging"], "Untracked");
        assert_eq!(
            (files[2]["name"].as_str(), files[2]["extra"].as_str()),
            (Some("b.txt"), Some("old.txt"))
        );
        assert_eq!(files[2]["staging"], "Renamed");
        let v = parse_status("## No commits yet on trunk\0");
        assert_eq!(v["currentBranch"], "trunk");
        assert_eq!(v["branchPublished"], false);
    }
}
