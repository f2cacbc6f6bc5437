//! The toolbox (`/toolbox/{sandboxId}/...`): files on the sandbox's
//! directory, commands on the host or scripted, sessions, a simulated
//! desktop, language servers, git on the host; the rest answer 501.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::server::{Request, Response};
use super::{error, lock, new_id, rfc3339, ExecResult, Shared};

mod computer_use;
mod files;
pub(crate) mod follow;
mod git;
pub(crate) mod interpreter;
mod lsp;
pub(crate) mod pty;

pub use computer_use::DesktopEvent;
pub(crate) use computer_use::Desktops;
pub(crate) use lsp::LspWorld;

/// The sandbox user's home and working directory.
pub(crate) const HOME: &str = "/home/daytona";

/// A command run in a session.
#[derive(Clone)]
pub(crate) struct SessionCommand {
    id: String,
    command: String,
    exit_code: Option<i32>,
    /// stdout and stderr as they came.
    output: String,
    stdout: String,
    stderr: String,
    /// Both streams as a followed log carries them, as they come: each
    /// chunk after the marker of its stream.
    pub(crate) log: Vec<u8>,
}

impl SessionCommand {
    /// Whether it has ended.
    pub(crate) fn ended(&self) -> bool {
        self.exit_code.is_some()
    }
}

/// The marker before stdout bytes in a followed log.
const STDOUT_MARKER: &[u8] = &[1, 1, 1];
/// The marker before stderr bytes in a followed log.
const STDERR_MARKER: &[u8] = &[2, 2, 2];

/// Appends `bytes` of stdout (or stderr) to a followed log.
fn frame(log: &mut Vec<u8>, is_err: bool, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    log.extend_from_slice(if is_err { STDERR_MARKER } else { STDOUT_MARKER });
    log.extend_from_slice(bytes);
}

pub(crate) type Session = Arc<Mutex<Vec<SessionCommand>>>;

/// The sessions of a sandbox.
pub(crate) type Sessions = BTreeMap<String, Session>;

/// What a handler needs of its sandbox, taken under the lock.
pub(crate) struct Sandbox<'a> {
    pub(crate) shared: &'a Arc<Shared>,
    pub(crate) id: String,
    /// Its `/` on the host.
    pub(crate) root: PathBuf,
}

impl Sandbox<'_> {
    /// The host path of the sandbox path `path` (relative paths are below
    /// the home directory); `..` cannot leave the sandbox.
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
        Ok(out)
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
        let mut world = lock(&self.shared.world);
        match world.sandbox(&self.id) {
            Some(i) => envs(&world.sandboxes[i].info["env"]),
            None => Vec::new(),
        }
    }
}

/// Routes `/toolbox/{id}/...`.
pub(crate) fn handle(shared: &Arc<Shared>, req: &Request, id: &str, rest: &[&str]) -> Response {
    let found = {
        let mut world = lock(&shared.world);
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
    match (m, rest) {
        ("GET", ["user-home-dir"] | ["work-dir"]) => Response::json(200, &json!({ "dir": HOME })),
        (_, ["files", ..]) => files::handle(&sb, req, &rest[1..]),
        ("POST", ["process", "execute"]) => execute(&sb, req),
        ("POST", ["process", "code-run"]) => code_run(&sb, req),
        (_, ["process", "session", ..]) => session(&sb, req, &rest[2..], found_session),
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
    }
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
/// chunk of a host command to the function as it comes, true for stderr).
enum Streams<'a> {
    Merged,
    Apart(&'a mut dyn FnMut(bool, &[u8])),
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
    streams: Streams<'_>,
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
        Streams::Apart(_) => "exec \"$@\"",
    };
    let stderr = match streams {
        Streams::Merged => Stdio::null(),
        Streams::Apart(_) => Stdio::piped(),
    };
    let child = match Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("sh")
        .args(argv)
        .current_dir(cwd)
        .env("HOME", sb.home())
        .envs(sb.env())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return Ran::Failed(format!("cannot run sh: {e}")),
    };
    let mut ignore = |_: bool, _: &[u8]| {};
    let on_chunk = match streams {
        Streams::Merged => &mut ignore,
        Streams::Apart(f) => f,
    };
    match wait_output(child, timeout, on_chunk) {
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

/// Reads the piped stdout and stderr of `child` as they come (each chunk
/// also to `on_chunk`, true for stderr) and waits for it to exit, killing
/// it after `timeout`.
pub(crate) fn wait_output(
    mut child: std::process::Child,
    timeout: Duration,
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
    let deadline = Instant::now() + timeout;
    let mut out = Output::default();
    let mut take = |out: &mut Output, (is_err, chunk): (bool, Vec<u8>)| {
        on_chunk(is_err, &chunk);
        out.both.extend_from_slice(&chunk);
        if is_err {
            &mut out.stderr
        } else {
            &mut out.stdout
        }
        .extend_from_slice(&chunk);
    };
    let status = loop {
        while let Ok(chunk) = rx.try_recv() {
            take(&mut out, chunk);
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Waited::TimedOut;
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

fn command_json(c: &SessionCommand) -> Value {
    json!({ "id": c.id, "command": c.command, "exitCode": c.exit_code })
}

fn session_json(id: &str, s: &Session) -> Value {
    let commands: Vec<Value> = lock(s).iter().map(command_json).collect();
    json!({ "sessionId": id, "commands": commands })
}

/// `/process/session/...` (`rest` follows `session`).
fn session(sb: &Sandbox<'_>, req: &Request, rest: &[&str], found: Option<Session>) -> Response {
    let m = req.method.as_str();
    let with_sessions = |f: &mut dyn FnMut(&mut Sessions) -> Response| {
        let mut world = lock(&sb.shared.world);
        match world.sandbox(&sb.id) {
            Some(i) => f(&mut world.sandboxes[i].sessions),
            None => error(404, "sandbox not found"),
        }
    };
    match (m, rest, found) {
        ("GET", ["entrypoint"], _) => {
            Response::json(200, &json!({ "sessionId": "entrypoint", "commands": [] }))
        }
        ("GET", ["entrypoint", "logs"], _) => {
            Response::json(200, &json!({ "output": "", "stdout": "", "stderr": "" }))
        }
        ("POST", [], _) => {
            let body = match body_json(req) {
                Ok(b) => b,
                Err(r) => return r,
            };
            let Some(sid) = body["sessionId"].as_str().filter(|s| !s.is_empty()) else {
                return error(400, "sessionId is required");
            };
            with_sessions(&mut |sessions| {
                if sessions.contains_key(sid) {
                    return error(409, &format!("session {sid} already exists"));
                }
                sessions.insert(sid.to_string(), Session::default());
                Response::empty(201)
            })
        }
        ("GET", [], _) => with_sessions(&mut |sessions| {
            let all: Vec<Value> = sessions.iter().map(|(k, s)| session_json(k, s)).collect();
            Response::json(200, &json!(all))
        }),
        (_, [sid, ..], None) => error(404, &format!("session {sid} not found")),
        ("GET", [sid], Some(s)) => Response::json(200, &session_json(sid, &s)),
        ("DELETE", [sid], Some(_)) => with_sessions(&mut |sessions| {
            sessions.remove(*sid);
            Response::empty(204)
        }),
        ("POST", [_, "exec"], Some(s)) => session_exec(sb, req, s),
        ("GET", [_, "command", cid], Some(s)) => match find(&s, cid) {
            Some(c) => Response::json(200, &command_json(&c)),
            None => error(404, &format!("command {cid} not found")),
        },
        ("GET", [_, "command", cid, "logs"], Some(s)) => match find(&s, cid) {
            Some(c) => Response::json(
                200,
                &json!({ "output": c.output, "stdout": c.stdout, "stderr": c.stderr }),
            ),
            None => error(404, &format!("command {cid} not found")),
        },
        ("POST", [_, "command", _, "input"], Some(_)) => Response::empty(204),
        _ => error(
            501,
            &format!("{m} {} is not simulated by the local simulator", req.path),
        ),
    }
}

fn find(s: &Session, cid: &str) -> Option<SessionCommand> {
    lock(s).iter().find(|c| c.id == cid).cloned()
}

/// Runs a session command (each command runs on its own: shell state such
/// as `cd` or variables does not carry over).
fn session_exec(sb: &Sandbox<'_>, req: &Request, session: Session) -> Response {
    let body = match body_json(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(command) = body["command"].as_str().filter(|c| !c.trim().is_empty()) else {
        return error(400, "command is required");
    };
    let run_async =
        body["runAsync"].as_bool() == Some(true) || body["async"].as_bool() == Some(true);
    let cid = new_id();
    lock(&session).push(SessionCommand {
        id: cid.clone(),
        command: command.to_string(),
        exit_code: None,
        output: String::new(),
        stdout: String::new(),
        stderr: String::new(),
        log: Vec::new(),
    });
    let job = SessionJob {
        shared: sb.shared.clone(),
        id: sb.id.clone(),
        root: sb.root.clone(),
        session,
        cid: cid.clone(),
        command: command.to_string(),
    };
    if run_async {
        std::thread::spawn(move || job.run());
        return Response::json(202, &json!({ "cmdId": cid }));
    }
    let c = job.run();
    Response::json(
        200,
        &json!({
            "cmdId": cid, "exitCode": c.exit_code,
            "output": c.output, "stdout": c.stdout, "stderr": c.stderr,
        }),
    )
}

/// A session command to run, in this thread or another.
struct SessionJob {
    shared: Arc<Shared>,
    id: String,
    root: PathBuf,
    session: Session,
    cid: String,
    command: String,
}

impl SessionJob {
    fn run(self) -> SessionCommand {
        let sb = Sandbox {
            shared: &self.shared,
            id: self.id,
            root: self.root,
        };
        let argv = ["sh".to_string(), "-c".to_string(), self.command.clone()];
        let limit = Duration::from_secs(3600);
        let home = sb.home();
        let (session, cid) = (self.session.clone(), self.cid.clone());
        let mut on_chunk = |is_err: bool, bytes: &[u8]| {
            if let Some(c) = lock(&session).iter_mut().find(|c| c.id == cid) {
                frame(&mut c.log, is_err, bytes);
            }
        };
        let ran = run(
            &sb,
            &self.command,
            &argv,
            &home,
            &[],
            limit,
            Streams::Apart(&mut on_chunk),
        );
        let (code, stdout, apart) = match ran {
            Ran::Done(r, apart) => (r.exit_code, r.output, apart),
            Ran::TimedOut => (-1, String::new(), failed("timed out")),
            Ran::Failed(m) => (-1, String::new(), failed(&m)),
        };
        let mut done = SessionCommand {
            id: self.cid,
            command: self.command,
            exit_code: Some(code),
            output: apart.output,
            stdout,
            stderr: apart.stderr,
            log: Vec::new(),
        };
        if let Some(c) = lock(&self.session).iter_mut().find(|c| c.id == done.id) {
            // A scripted answer, or a command that could not run, wrote
            // nothing as it went: its log is what it answered.
            if c.log.is_empty() {
                frame(&mut c.log, false, done.stdout.as_bytes());
                frame(&mut c.log, true, done.stderr.as_bytes());
            }
            done.log = std::mem::take(&mut c.log);
            *c = done.clone();
        }
        done
    }
}

/// A command that could not run: its message as its stderr.
fn failed(message: &str) -> Apart {
    Apart {
        output: message.to_string(),
        stderr: message.to_string(),
    }
}

/// RFC 3339 of a file time.
pub(crate) fn file_time(t: std::io::Result<std::time::SystemTime>) -> Option<String> {
    t.ok().map(rfc3339)
}
