//! The toolbox (`/toolbox/{sandboxId}/...`): files on the sandbox's
//! directory, commands on the host or scripted, sessions, a simulated
//! desktop, language servers, git on the host; the rest answer 501.

use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::group::{end, own_group};
use super::server::{Request, Response};
use super::{error, new_id, rfc3339, ExecResult, Shared};

mod computer_use;
mod files;
pub(crate) mod follow;
mod git;
pub(crate) mod interpreter;
mod lsp;
pub(crate) mod pty;
mod search;
mod sessions;

pub use computer_use::DesktopEvent;
pub(crate) use computer_use::Desktops;
pub(crate) use lsp::LspWorld;
pub(crate) use sessions::{Session, Sessions};

/// The sandbox user's home and working directory.
pub(crate) const HOME: &str = "/home/daytona";

/// What a handler needs of its sandbox, taken under the lock.
pub(crate) struct Sandbox<'a> {
    pub(crate) shared: &'a Arc<Shared>,
    pub(crate) id: String,
    /// Its `/` on the host.
    pub(crate) root: PathBuf,
}

impl Sandbox<'_> {
    /// The host path of the sandbox path `path` (relative paths are below
    /// the home directory); neither `..` nor a link can leave the sandbox.
    pub(crate) fn resolve(&self, path: &str) -> Result<PathBuf, Response> {
        let full = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("{HOME}/{path}")
        };
        let mut out = self.root.clone();
        let mut depth = 0usize;
        for c in Path::new(&full).components() {
            match c {
                Component::Normal(s) => {
                    out.push(s);
                    depth += 1;
                }
                Component::ParentDir if depth > 0 => {
                    out.pop();
                    depth -= 1;
                }
                Component::ParentDir => {
                    return Err(error(400, &format!("{path}: outside the sandbox")))
                }
                _ => {}
            }
        }
        if !self.confined(&out) {
            return Err(error(400, &format!("{path}: outside the sandbox")));
        }
        Ok(out)
    }

    /// Whether the host path `p` stays in the sandbox once the links on
    /// the way are followed: its deepest existing part, resolved, is below
    /// the sandbox's `/` (a link to `/etc` names the host's otherwise).
    fn confined(&self, p: &Path) -> bool {
        let Ok(root) = self.root.canonicalize() else {
            return false;
        };
        let existing = p.ancestors().find_map(|a| a.canonicalize().ok());
        existing.is_some_and(|e| e.starts_with(&root))
    }

    /// The sandbox path of the host path `host`.
    pub(crate) fn virtual_path(&self, host: &Path) -> String {
        let rel = host.strip_prefix(&self.root).unwrap_or(host);
        format!("/{}", rel.to_string_lossy())
    }

    fn home(&self) -> PathBuf {
        self.root.join(&HOME[1..])
    }

    /// The env vars the sandbox was created with: every command, terminal
    /// and interpreter of it runs with them (a request's own come after,
    /// and win).
    pub(crate) fn env(&self) -> Vec<(String, String)> {
        let mut world = self.shared.world();
        match world.sandbox(&self.id) {
            Some(i) => envs(&world.sandboxes[i].info["env"]),
            None => Vec::new(),
        }
    }
}

/// Routes `/toolbox/{id}/...`.
pub(crate) fn handle(shared: &Arc<Shared>, req: &Request, id: &str, rest: &[&str]) -> Response {
    let found = {
        let mut world = shared.world();
        world.sandbox(id).map(|i| {
            let sb = &mut world.sandboxes[i];
            let state = sb.info["state"].as_str().unwrap_or("").to_string();
            let session = match rest {
                ["process", "session", sid, ..] if *sid != "entrypoint" => {
                    sb.sessions.get(*sid).cloned()
                }
                _ => None,
            };
            (state, sb.dir.clone(), session)
        })
    };
    let Some((state, root, found_session)) = found else {
        return error(404, &format!("sandbox {id} not found"));
    };
    if state != "started" {
        return error(
            409,
            &format!("sandbox {id} is not started (state: {state})"),
        );
    }
    let sb = Sandbox {
        shared,
        id: id.to_string(),
        root,
    };
    let m = req.method.as_str();
    daemon_shaped(match (m, rest) {
        ("GET", ["user-home-dir"] | ["work-dir"]) => Response::json(200, &json!({ "dir": HOME })),
        (_, ["files", ..]) => files::handle(&sb, req, &rest[1..]),
        ("POST", ["process", "execute"]) => execute(&sb, req),
        ("POST", ["process", "code-run"]) => code_run(&sb, req),
        (_, ["process", "session", ..]) => sessions::handle(&sb, req, &rest[2..], found_session),
        (_, ["process", "pty", ..]) => pty::handle(&sb, req, &rest[2..]),
        (_, ["process", "interpreter", ..]) => interpreter::handle(&sb, req, &rest[2..]),
        (_, ["git", ..]) => git::handle(&sb, req, &rest[1..]),
        (_, ["computeruse", ..]) => computer_use::handle(&sb, req, &rest[1..]),
        (_, ["lsp", ..]) => lsp::handle(&sb, req, &rest[1..]),
        _ => error(
            501,
            &format!(
                "{m} /{} is not simulated by the local simulator",
                rest.join("/")
            ),
        ),
    })
}

/// Ends what runs in the sandbox `id_or_name` as it stops or is deleted,
/// as a sandbox's processes end with it: its session commands (the
/// sessions go too), PTY sessions and interpreters.
pub(crate) fn end_processes(shared: &Arc<Shared>, id_or_name: &str) {
    let found = {
        let mut world = shared.world();
        world.sandbox(id_or_name).map(|i| {
            let sb = &mut world.sandboxes[i];
            let id = sb.info["id"].as_str().unwrap_or(id_or_name).to_string();
            (id, std::mem::take(&mut sb.sessions))
        })
    };
    let Some((id, sessions)) = found else {
        return;
    };
    sessions.values().for_each(sessions::cancel);
    shared.ptys.end_sandbox(&id);
    shared.interpreters.end_sandbox(&id);
}

/// An answer of [`error`]'s shape (`{statusCode, message, error}`, the
/// API's) in the daemon's shape instead: `{statusCode, message, code}`,
/// with `code` such as `NOT_FOUND`. Other answers are left as they are.
fn daemon_shaped(mut r: Response) -> Response {
    let reason = super::server::reason(r.status);
    let super::server::Body::Bytes(bytes) = &r.body else {
        return r;
    };
    if r.status < 400 {
        return r;
    }
    let Ok(Value::Object(mut v)) = serde_json::from_slice::<Value>(bytes) else {
        return r;
    };
    if v.get("error") != Some(&json!(reason)) || !v.contains_key("statusCode") {
        return r;
    }
    v.remove("error");
    let code = reason.to_ascii_uppercase().replace([' ', '-'], "_");
    v.insert("code".into(), json!(code));
    r.body = super::server::Body::Bytes(Value::Object(v).to_string().into_bytes());
    r
}

fn body_json(req: &Request) -> Result<Value, Response> {
    serde_json::from_slice(&req.body).map_err(|e| error(400, &format!("invalid JSON body: {e}")))
}

fn envs(v: &Value) -> Vec<(String, String)> {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn timeout_of(sb: &Sandbox<'_>, v: &Value) -> Duration {
    match v.as_u64() {
        Some(s) if s > 0 => Duration::from_secs(s),
        _ => sb.shared.timing.exec_timeout,
    }
}

/// Whether a command's stderr goes with its stdout (as `exec` and
/// `code_run` answer) or apart (as session commands keep it, handing each
/// chunk of a host command to the function as it comes, true for stderr;
/// the command is ended when the flag is set: its session was deleted).
/// What comes on the channel, if any, goes to the command's stdin, which
/// closes when its senders are gone; without one, stdin is empty.
enum Streams<'a> {
    Merged,
    Apart(
        &'a mut dyn FnMut(bool, &[u8]),
        &'a AtomicBool,
        Option<mpsc::Receiver<Vec<u8>>>,
    ),
}

/// What a command wrote, with [`Streams::Apart`].
#[derive(Default)]
struct Apart {
    /// Both streams, in the order they arrived.
    output: String,
    stderr: String,
}

/// How a command ended: with `Streams::Apart`, the result's output is
/// stdout only.
enum Ran {
    Done(ExecResult, Apart),
    TimedOut,
    Failed(String),
}

/// Runs `argv` on the host (or answers `script_key` from the script),
/// stdout and stderr together or apart.
fn run(
    sb: &Sandbox<'_>,
    script_key: &str,
    argv: &[String],
    cwd: &Path,
    env: &[(String, String)],
    timeout: Duration,
    mut streams: Streams<'_>,
) -> Ran {
    let scripted = |r: ExecResult| {
        let apart = Apart {
            output: r.output.clone(),
            stderr: String::new(),
        };
        Ran::Done(r, apart)
    };
    if let Some(answer) = sb.shared.script(script_key) {
        return scripted(answer);
    }
    if sb.shared.scripted {
        return scripted(ExecResult::new(
            127,
            format!(
                "local simulator (scripted mode): no answer registered for {:?}; \
                 register one with on_exec\n",
                script_key.trim()
            ),
        ));
    }
    if let Err(e) = std::fs::create_dir_all(cwd) {
        return Ran::Failed(format!("cannot create {}: {e}", cwd.display()));
    }
    // `exec 2>&1` merges stderr into stdout in the order written.
    let script = match streams {
        Streams::Merged => "exec 2>&1; exec \"$@\"",
        Streams::Apart(..) => "exec \"$@\"",
    };
    let stderr = match streams {
        Streams::Merged => Stdio::null(),
        Streams::Apart(..) => Stdio::piped(),
    };
    let input = match &mut streams {
        Streams::Apart(_, _, input) => input.take(),
        Streams::Merged => None,
    };
    let stdin = match input {
        Some(_) => Stdio::piped(),
        None => Stdio::null(),
    };
    let mut child = match own_group(&mut Command::new("sh"))
        .arg("-c")
        .arg(script)
        .arg("sh")
        .args(argv)
        .current_dir(cwd)
        .env("HOME", sb.home())
        .envs(sb.env())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return Ran::Failed(format!("cannot run sh: {e}")),
    };
    if let (Some(input), Some(pipe)) = (input, child.stdin.take()) {
        feed(pipe, input);
    }
    let mut ignore = |_: bool, _: &[u8]| {};
    let (on_chunk, cancel) = match streams {
        Streams::Merged => (&mut ignore as _, None),
        Streams::Apart(f, cancel, _) => (f, Some(cancel)),
    };
    let stop: Vec<&AtomicBool> = std::iter::once(&sb.shared.stopping).chain(cancel).collect();
    match wait_output(child, timeout, &stop, on_chunk) {
        Waited::Done(code, out) => {
            let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            let apart = Apart {
                output: text(&out.both),
                stderr: text(&out.stderr),
            };
            Ran::Done(ExecResult::new(code, text(&out.stdout)), apart)
        }
        Waited::TimedOut => Ran::TimedOut,
        Waited::Failed(m) => Ran::Failed(m),
    }
}

/// Writes what comes on `input` to `pipe` in a thread of its own (a
/// command that does not read blocks that thread, not a request), until
/// the senders are gone or the command has ended; then `pipe` closes.
fn feed(mut pipe: std::process::ChildStdin, input: mpsc::Receiver<Vec<u8>>) {
    std::thread::spawn(move || {
        for data in input {
            if std::io::Write::write_all(&mut pipe, &data).is_err() {
                return;
            }
        }
    });
}

/// What a child process wrote.
#[derive(Default)]
pub(crate) struct Output {
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: Vec<u8>,
    /// Both, in the order they arrived.
    pub(crate) both: Vec<u8>,
}

/// How a child process ended.
pub(crate) enum Waited {
    /// Its exit code (-1 when killed by a signal) and output.
    Done(i32, Output),
    /// Killed after its time limit.
    TimedOut,
    Failed(String),
}

/// The most output of one command the simulator keeps (what the SDK reads
/// of a command's answer at most); the rest is read and dropped.
const MAX_OUTPUT: usize = 64 << 20;

/// Reads the piped stdout and stderr of `child` as they come (each chunk
/// also to `on_chunk`, true for stderr) and waits for it to exit, killing
/// it after `timeout`, or as soon as one of `stop` is set (the simulator
/// stops, the command's session is deleted).
pub(crate) fn wait_output(
    mut child: std::process::Child,
    timeout: Duration,
    stop: &[&AtomicBool],
    on_chunk: &mut dyn FnMut(bool, &[u8]),
) -> Waited {
    // Each stream's chunks, tagged (true: stderr), as they arrive.
    let (tx, rx) = mpsc::channel::<(bool, Vec<u8>)>();
    let pipes: [(bool, Option<Box<dyn Read + Send>>); 2] = [
        (false, child.stdout.take().map(|p| Box::new(p) as _)),
        (true, child.stderr.take().map(|p| Box::new(p) as _)),
    ];
    for (is_err, pipe) in pipes {
        let Some(mut pipe) = pipe else { continue };
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 8192];
            while let Ok(n @ 1..) = pipe.read(&mut buf) {
                if tx.send((is_err, buf[..n].to_vec())).is_err() {
                    return;
                }
            }
        });
    }
    drop(tx);
    // A limit past what an `Instant` holds is none.
    let deadline = Instant::now().checked_add(timeout);
    let mut out = Output::default();
    let mut take = |out: &mut Output, (is_err, chunk): (bool, Vec<u8>)| {
        // Past the cap the output is read and dropped: a command that
        // never stops printing costs no memory.
        let room = MAX_OUTPUT.saturating_sub(out.both.len());
        let chunk = &chunk[..chunk.len().min(room)];
        if chunk.is_empty() {
            return;
        }
        on_chunk(is_err, chunk);
        out.both.extend_from_slice(chunk);
        if is_err {
            &mut out.stderr
        } else {
            &mut out.stdout
        }
        .extend_from_slice(chunk);
    };
    let status = loop {
        while let Ok(chunk) = rx.try_recv() {
            take(&mut out, chunk);
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if deadline.is_some_and(|d| Instant::now() >= d) => {
                end(&mut child);
                return Waited::TimedOut;
            }
            Ok(None) if stop.iter().any(|s| s.load(Ordering::SeqCst)) => {
                end(&mut child);
                return Waited::Failed(
                    "stopped: the local simulator stopped, or the session was deleted".into(),
                );
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => return Waited::Failed(format!("waiting for the command: {e}")),
        }
    };
    // A background process may keep a pipe open: do not wait for it long.
    let until = Instant::now() + Duration::from_secs(1);
    while let Ok(chunk) = rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
        take(&mut out, chunk);
    }
    Waited::Done(status.code().unwrap_or(-1), out)
}

fn answer(ran: Ran) -> Response {
    match ran {
        Ran::Done(r, _) => {
            Response::json(200, &json!({ "exitCode": r.exit_code, "result": r.output }))
        }
        Ran::TimedOut => error(408, "command timed out"),
        Ran::Failed(m) => error(500, &m),
    }
}

fn cwd_of(sb: &Sandbox<'_>, v: &Value) -> Result<PathBuf, Response> {
    match v.as_str() {
        Some(c) if !c.is_empty() => sb.resolve(c),
        _ => Ok(sb.home()),
    }
}

fn execute(sb: &Sandbox<'_>, req: &Request) -> Response {
    let body = match body_json(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(command) = body["command"].as_str().filter(|c| !c.trim().is_empty()) else {
        return error(400, "command is required");
    };
    let cwd = match cwd_of(sb, &body["cwd"]) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let argv = ["sh".to_string(), "-c".to_string(), command.to_string()];
    answer(run(
        sb,
        command,
        &argv,
        &cwd,
        &envs(&body["envs"]),
        timeout_of(sb, &body["timeout"]),
        Streams::Merged,
    ))
}

fn code_run(sb: &Sandbox<'_>, req: &Request) -> Response {
    let body = match body_json(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(code) = body["code"].as_str() else {
        return error(400, "code is required");
    };
    let (program, ext) = match body["language"].as_str().unwrap_or("python") {
        "python" => ("python3", "py"),
        "javascript" => ("node", "js"),
        "typescript" => ("ts-node", "ts"),
        other => return error(400, &format!("unsupported language {other}")),
    };
    let file = sb.root.join("tmp").join(format!("code-{}.{ext}", new_id()));
    if !sb.shared.scripted && sb.shared.script(code).is_none() {
        let written =
            std::fs::create_dir_all(sb.root.join("tmp")).and_then(|()| std::fs::write(&file, code));
        if let Err(e) = written {
            return error(500, &format!("cannot write the code: {e}"));
        }
    }
    let mut argv = vec![program.to_string(), file.to_string_lossy().into_owned()];
    for a in body["argv"].as_array().into_iter().flatten() {
        argv.push(a.as_str().unwrap_or("").to_string());
    }
    let ran = run(
        sb,
        code,
        &argv,
        &sb.home(),
        &envs(&body["envs"]),
        timeout_of(sb, &body["timeout"]),
        Streams::Merged,
    );
    let _ = std::fs::remove_file(&file);
    match ran {
        Ran::Done(r, _) => Response::json(
            200,
            &json!({ "exitCode": r.exit_code, "result": r.output, "artifacts": { "charts": [] } }),
        ),
        other => answer(other),
    }
}

/// RFC 3339 of a file time.
pub(crate) fn file_time(t: std::io::Result<std::time::SystemTime>) -> Option<String> {
    t.ok().map(rfc3339)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};

    #[test]
    fn output_past_the_cap_is_read_and_dropped() {
        let extra = 3 << 20;
        let child = Command::new("sh")
            .args(["-c", &format!("head -c {} /dev/zero", MAX_OUTPUT + extra)])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut seen = 0;
        let stop = AtomicBool::new(false);
        let waited = wait_output(child, Duration::from_secs(60), &[&stop], &mut |_, chunk| {
            seen += chunk.len()
        });
        let Waited::Done(code, out) = waited else {
            panic!("the command did not end");
        };
        assert_eq!(code, 0);
        assert_eq!(out.stdout.len(), MAX_OUTPUT);
        assert_eq!(out.both.len(), MAX_OUTPUT);
        assert_eq!(seen, MAX_OUTPUT);
    }
}
