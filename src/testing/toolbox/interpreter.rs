//! The code interpreter (`/process/interpreter/...`): contexts, and runs
//! over WebSocket as the toolbox speaks them. In host mode each context is
//! one `python3` process of this machine (`repl.py`), kept between runs so
//! that state persists, in the context's directory with the sandbox's env
//! vars; in scripted mode a run's stdout is the `on_exec` answer to its
//! code (an exit code other than 0 adds an error), and nothing runs.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, TryLockError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::super::group::{end, own_group};
use super::super::server::{Outcome, Request, Response};
use super::super::ws::{self, Polled, Ws};
use super::super::{error, lock, new_id, now_rfc3339, Shared};
use super::pty::started;
use super::{body_json, Sandbox, HOME};

/// The interpreter process of every context.
const WORKER: &str = include_str!("repl.py");

/// The toolbox's limit of a run that sets none.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// How long an interrupted run may take to stop before its process is
/// killed.
const GRACE: Duration = Duration::from_secs(2);

/// How long a client has to send its request after the upgrade.
const REQUEST_WAIT: Duration = Duration::from_secs(30);

/// How often a run looks whether its context was deleted.
const TICK: Duration = Duration::from_millis(50);

/// The contexts of every sandbox, by sandbox id and context id.
#[derive(Default)]
pub(crate) struct Interpreters {
    contexts: Mutex<BTreeMap<(String, String), Arc<Context>>>,
}

impl Interpreters {
    /// Ends every interpreter (the simulator stops).
    pub(crate) fn shutdown(&self) {
        self.end(|_| true);
    }

    /// Ends the interpreters of the sandbox `id`, and forgets its
    /// contexts (it stops).
    pub(crate) fn end_sandbox(&self, id: &str) {
        self.end(|sandbox| sandbox == id);
    }

    /// Ends the contexts of the sandboxes `which` takes.
    fn end(&self, which: impl Fn(&str) -> bool) {
        let ended: Vec<Arc<Context>> = {
            let mut contexts = lock(&self.contexts);
            let keys: Vec<(String, String)> = contexts
                .keys()
                .filter(|(sandbox, _)| which(sandbox))
                .cloned()
                .collect();
            keys.iter().filter_map(|k| contexts.remove(k)).collect()
        };
        for context in ended {
            context.stop();
        }
    }

    fn get(&self, sandbox: &str, id: &str) -> Option<Arc<Context>> {
        lock(&self.contexts)
            .get(&(sandbox.to_string(), id.to_string()))
            .cloned()
    }
}

/// One context.
struct Context {
    id: String,
    cwd: String,
    created_at: String,
    dir: PathBuf,
    home: PathBuf,
    sandbox_env: Vec<(String, String)>,
    scripted: bool,
    /// The interpreter process; its lock is held for a whole run, so that
    /// runs of one context take turns.
    worker: Mutex<Option<Worker>>,
    /// Deleted (or the simulator stops): a run in progress ends, and its
    /// process with it.
    stopped: AtomicBool,
}

/// A `python3` running `repl.py`.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        end(&mut self.child);
    }
}

impl Context {
    fn json(&self) -> Value {
        // A run in progress holds the lock: its context is active.
        let active = self.scripted
            || match self.worker.try_lock() {
                Ok(worker) => worker.is_some(),
                Err(TryLockError::WouldBlock) => true,
                Err(TryLockError::Poisoned(worker)) => worker.into_inner().is_some(),
            };
        json!({
            "id": self.id, "cwd": self.cwd, "language": "python", "active": active,
            "createdAt": self.created_at,
        })
    }

    fn stop(&self) {
        // A run in progress sees the flag within a tick and lets go.
        self.stopped.store(true, Ordering::SeqCst);
        lock(&self.worker).take();
    }

    fn spawn(&self) -> Result<Worker, String> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
        let mut child = own_group(&mut Command::new("python3"))
            .arg("-u")
            .arg("-c")
            .arg(WORKER)
            .current_dir(&self.dir)
            .env("HOME", &self.home)
            .envs(self.sandbox_env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("python3 is not available on this machine: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, lines) = mpsc::sync_channel(1024);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Ok(Worker {
            child,
            stdin,
            lines,
        })
    }
}

/// `/process/interpreter/...` (`rest` follows `interpreter`), the execute
/// upgrade aside.
pub(crate) fn handle(sb: &Sandbox<'_>, req: &Request, rest: &[&str]) -> Response {
    let interpreters = &sb.shared.interpreters;
    match (req.method.as_str(), rest) {
        ("POST", ["context"]) => {
            let body = match body_json(req) {
                Ok(b) => b,
                Err(r) => return r,
            };
            let language = body["language"].as_str().unwrap_or("python");
            if language != "python" {
                return error(
                    400,
                    &format!(
                        "unsupported language: {language} (only 'python' is supported currently)"
                    ),
                );
            }
            let cwd = body["cwd"]
                .as_str()
                .filter(|c| !c.is_empty())
                .unwrap_or(HOME);
            match create(sb, &new_id(), cwd) {
                Ok(context) => Response::json(200, &context.json()),
                Err(r) => r,
            }
        }
        ("GET", ["context"]) => {
            let contexts: Vec<Value> = lock(&interpreters.contexts)
                .iter()
                .filter(|((sandbox, id), _)| *sandbox == sb.id && id != "default")
                .map(|(_, c)| c.json())
                .collect();
            Response::json(200, &json!({ "contexts": contexts }))
        }
        ("DELETE", ["context", "default"]) => error(400, "cannot delete default context"),
        ("DELETE", ["context", id]) => {
            let removed = lock(&interpreters.contexts).remove(&(sb.id.clone(), id.to_string()));
            match removed {
                Some(context) => {
                    context.stop();
                    Response::json(200, &json!({ "message": "Context deleted successfully" }))
                }
                None => error(404, &format!("context with ID '{id}' not found")),
            }
        }
        (_, ["execute"]) => error(400, "expected a WebSocket upgrade"),
        _ => error(501, "not simulated by the local simulator"),
    }
}

/// A new context (its interpreter started at once in host mode).
fn create(sb: &Sandbox<'_>, id: &str, cwd: &str) -> Result<Arc<Context>, Response> {
    let context = Context {
        id: id.to_string(),
        cwd: cwd.to_string(),
        created_at: now_rfc3339(),
        dir: sb.resolve(cwd)?,
        home: sb.resolve(HOME)?,
        sandbox_env: sb.env(),
        scripted: sb.shared.scripted,
        worker: Mutex::new(None),
        stopped: AtomicBool::new(false),
    };
    if !context.scripted {
        let worker = context.spawn().map_err(|e| error(500, &e))?;
        *lock(&context.worker) = Some(worker);
    }
    let context = Arc::new(context);
    lock(&sb.shared.interpreters.contexts).insert((sb.id.clone(), id.to_string()), context.clone());
    Ok(context)
}

/// `GET /process/interpreter/execute`: the upgrade, then one run.
pub(crate) fn execute(shared: &Arc<Shared>, req: &Request, sandbox: &str) -> Outcome {
    let sb = match started(shared, sandbox) {
        Ok(sb) => sb,
        Err(r) => return Outcome::Respond(r),
    };
    let (shared, id, root) = (sb.shared.clone(), sb.id, sb.root);
    ws::upgrade(req, move |mut socket| {
        let sb = Sandbox {
            shared: &shared,
            id,
            root,
        };
        run(&sb, &mut socket);
    })
}

/// The run of one connection.
fn run(sb: &Sandbox<'_>, socket: &mut Ws) {
    let until = Instant::now() + REQUEST_WAIT;
    let request: Value = loop {
        match ws::poll(socket, until.saturating_duration_since(Instant::now())) {
            Polled::Data(bytes) => match serde_json::from_slice(&bytes) {
                Ok(v) => break v,
                Err(_) => return ws::close(socket, 1002, "invalid JSON payload"),
            },
            Polled::Nothing if Instant::now() < until => {}
            _ => return ws::close(socket, 1002, "failed to read first message"),
        }
    };
    // The toolbox reads `envs` as a map of strings: another shape is a
    // payload it cannot read.
    let envs_ok = match &request["envs"] {
        Value::Null => true,
        Value::Object(o) => o.values().all(Value::is_string),
        _ => false,
    };
    if !envs_ok {
        return ws::close(socket, 1002, "invalid JSON payload");
    }
    let Some(code) = request["code"].as_str().filter(|c| !c.is_empty()) else {
        return ws::close(socket, 1008, "code is required");
    };
    let context_id = request["contextId"].as_str().unwrap_or("default");
    let context = match sb.shared.interpreters.get(&sb.id, context_id) {
        Some(c) => c,
        None if context_id == "default" => match create(sb, "default", HOME) {
            Ok(c) => c,
            Err(_) => {
                return ws::close(socket, 1011, "failed to get default context");
            }
        },
        None => return ws::close(socket, 1008, &format!("context not found: {context_id}")),
    };
    let timeout = match request["timeout"].as_u64() {
        // A limit of more than 136 years is none: neither an `Instant` nor
        // the worker's timer may hold it.
        Some(0) => None,
        Some(s) if s > u64::from(u32::MAX) => None,
        Some(s) => Some(Duration::from_secs(s)),
        None => Some(DEFAULT_TIMEOUT),
    };
    if context.scripted {
        return scripted(sb, socket, code);
    }
    let mut worker = lock(&context.worker);
    if context.stopped.load(Ordering::SeqCst) {
        return ws::close(socket, 1001, "the context was deleted");
    }
    if worker.is_none() {
        match context.spawn() {
            Ok(w) => *worker = Some(w),
            Err(e) => return ws::close(socket, 1011, &e),
        }
    }
    let w = worker.as_mut().expect("started");
    let line =
        json!({ "code": code, "envs": request["envs"], "timeout": timeout.map(|t| t.as_secs()) });
    if writeln!(w.stdin, "{line}")
        .and_then(|()| w.stdin.flush())
        .is_err()
    {
        *worker = None;
        return ws::close(socket, 1001, "worker process ended");
    }
    // The worker interrupts the code at its timeout; past the grace, it is
    // killed.
    let deadline = timeout.and_then(|t| Instant::now().checked_add(t + GRACE));
    loop {
        if context.stopped.load(Ordering::SeqCst) {
            *worker = None;
            return ws::close(socket, 1001, "the context was deleted");
        }
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if left == Some(Duration::ZERO) {
            *worker = None;
            return ws::close(socket, 4008, "");
        }
        match w
            .lines
            .recv_timeout(left.map_or(TICK, |left| left.min(TICK)))
        {
            Ok(line) => {
                let kind = serde_json::from_str::<Value>(&line)
                    .ok()
                    .and_then(|v| v["type"].as_str().map(str::to_string))
                    .unwrap_or_default();
                // A client that left does not stop the run.
                ws::send_text(socket, &line);
                if kind == "control" {
                    let interrupted = line.contains("interrupted");
                    drop(worker);
                    return ws::close(socket, if interrupted { 4008 } else { 1000 }, "");
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                *worker = None;
                return ws::close(socket, 1001, "worker process ended");
            }
        }
    }
}

/// A scripted run: the `on_exec` answer to the code.
fn scripted(sb: &Sandbox<'_>, socket: &mut Ws, code: &str) {
    let send = |socket: &mut Ws, message: Value| ws::send_text(socket, &message.to_string());
    match sb.shared.script(code) {
        Some(answer) => {
            if !answer.output.is_empty() {
                send(socket, json!({ "type": "stdout", "text": answer.output }));
            }
            if answer.exit_code != 0 {
                send(
                    socket,
                    json!({ "type": "error", "name": "ScriptedError",
                            "value": format!("exit code {}", answer.exit_code), "traceback": "" }),
                );
            }
        }
        None => {
            let message = format!(
                "local simulator (scripted mode): no answer registered for {:?}; \
                 register one with on_exec",
                code.trim()
            );
            send(
                socket,
                json!({ "type": "stderr", "text": format!("{message}\n") }),
            );
            send(
                socket,
                json!({ "type": "error", "name": "ScriptedError", "value": message, "traceback": "" }),
            );
        }
    }
    send(socket, json!({ "type": "control", "text": "completed" }));
    ws::close(socket, 1000, "");
}
