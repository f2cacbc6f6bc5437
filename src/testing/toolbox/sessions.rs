//! Sessions (`/process/session/...`): commands run one after another in
//! a named session, each keeping its stdout and stderr apart and its log
//! as a followed log carries it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use super::{body_json, run, Apart, Ran, Sandbox, Streams};
use crate::testing::server::{Request, Response};
use crate::testing::{error, lock, new_id, Shared};

/// A command run in a session.
#[derive(Clone)]
pub(crate) struct SessionCommand {
    pub(crate) id: String,
    command: String,
    exit_code: Option<i32>,
    /// stdout and stderr as they came.
    output: String,
    stdout: String,
    stderr: String,
    /// Both streams as a followed log carries them, as they come: each
    /// chunk after the marker of its stream.
    pub(crate) log: Vec<u8>,
    /// Set when its session is deleted: a command still running ends.
    cancel: Arc<AtomicBool>,
    /// To its stdin, while it runs in the background (a command run while
    /// its request waits reads an empty stdin).
    input: Option<SyncSender<Vec<u8>>>,
    /// Whether input sent to it stays out of its log.
    suppress_input_echo: bool,
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

fn command_json(c: &SessionCommand) -> Value {
    json!({ "id": c.id, "command": c.command, "exitCode": c.exit_code })
}

fn session_json(id: &str, s: &Session) -> Value {
    let commands: Vec<Value> = lock(s).iter().map(command_json).collect();
    json!({ "sessionId": id, "commands": commands })
}

/// `/process/session/...` (`rest` follows `session`).
pub(super) fn handle(
    sb: &Sandbox<'_>,
    req: &Request,
    rest: &[&str],
    found: Option<Session>,
) -> Response {
    let m = req.method.as_str();
    let with_sessions = |f: &mut dyn FnMut(&mut Sessions) -> Response| {
        let mut world = sb.shared.world();
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
        ("DELETE", [sid], Some(s)) => {
            cancel(&s);
            with_sessions(&mut |sessions| {
                sessions.remove(*sid);
                Response::empty(204)
            })
        }
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
        ("POST", [_, "command", cid, "input"], Some(s)) => send_input(req, &s, cid),
        _ => error(
            501,
            &format!("{m} {} is not simulated by the local simulator", req.path),
        ),
    }
}

/// Ends the commands of `session` still running (it is deleted, or its
/// sandbox stops).
pub(crate) fn cancel(session: &Session) {
    for c in lock(session).iter() {
        c.cancel.store(true, Ordering::SeqCst);
    }
}

/// The most inputs a command may have waiting for it to read them.
const MAX_PENDING_INPUTS: usize = 64;

/// Sends input to the stdin of command `cid`, as the toolbox does: with a
/// `\n` at its end if it has none, and (unless the command was run with
/// `suppressInputEcho`) into its log as stdout.
fn send_input(req: &Request, session: &Session, cid: &str) -> Response {
    let body = match body_json(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(data) = body["data"].as_str() else {
        return error(400, "data is required");
    };
    let mut data = data.to_string();
    if !data.ends_with('\n') {
        data.push('\n');
    }
    let mut commands = lock(session);
    let Some(c) = commands.iter_mut().find(|c| c.id == cid) else {
        return error(404, &format!("command {cid} not found"));
    };
    let gone = |c: &SessionCommand| {
        let code = c
            .exit_code
            .map_or(String::new(), |e| format!(" with exit code {e}"));
        error(410, &format!("command has already completed{code}"))
    };
    if c.ended() {
        return gone(c);
    }
    let Some(input) = &c.input else {
        return error(
            409,
            &format!("command {cid} runs while its request waits: it takes no input"),
        );
    };
    match input.try_send(data.clone().into_bytes()) {
        Ok(()) => {}
        Err(TrySendError::Full(_)) => {
            return error(503, &format!("command {cid} is not reading its input"))
        }
        Err(TrySendError::Disconnected(_)) => return gone(c),
    }
    if !c.suppress_input_echo {
        frame(&mut c.log, false, data.as_bytes());
    }
    Response::empty(204)
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
    let suppress_input_echo = body["suppressInputEcho"].as_bool() == Some(true);
    let cid = new_id();
    let cancel = Arc::new(AtomicBool::new(false));
    let (input, stdin) = if run_async {
        let (tx, rx) = mpsc::sync_channel(MAX_PENDING_INPUTS);
        (Some(tx), Some(rx))
    } else {
        (None, None)
    };
    lock(&session).push(SessionCommand {
        id: cid.clone(),
        command: command.to_string(),
        exit_code: None,
        output: String::new(),
        stdout: String::new(),
        stderr: String::new(),
        log: Vec::new(),
        cancel: cancel.clone(),
        input,
        suppress_input_echo,
    });
    let job = SessionJob {
        shared: sb.shared.clone(),
        id: sb.id.clone(),
        root: sb.root.clone(),
        session,
        cid: cid.clone(),
        command: command.to_string(),
        cancel,
        stdin,
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
    cancel: Arc<AtomicBool>,
    /// What is sent to the command's stdin (none: it reads an empty one).
    stdin: Option<Receiver<Vec<u8>>>,
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
            Streams::Apart(&mut on_chunk, &self.cancel, self.stdin),
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
            cancel: self.cancel,
            input: None,
            suppress_input_echo: false,
        };
        if let Some(c) = lock(&self.session).iter_mut().find(|c| c.id == done.id) {
            // A scripted answer, or a command that could not run, wrote
            // nothing as it went: its log is what it answered.
            if c.log.is_empty() {
                frame(&mut c.log, false, done.stdout.as_bytes());
                frame(&mut c.log, true, done.stderr.as_bytes());
            }
            done.log = std::mem::take(&mut c.log);
            done.suppress_input_echo = c.suppress_input_echo;
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
