//! PTY sessions (`/process/pty...`): in host mode a real pseudo-terminal
//! running `sh -i` on this machine, in the sandbox's directory, with the
//! sandbox's env vars and the session's; in scripted mode a pretend shell
//! that echoes what is typed and answers each line with its `on_exec`
//! answer (`exit [N]` ends it). Clients connect over WebSocket and speak
//! the toolbox's protocol: a "connected" control message, output as
//! binary messages, input as messages, the exit code in the close.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use portable_pty::{native_pty_system, ChildKiller, CommandBuilder, MasterPty, PtySize};
use serde_json::{json, Value};

use super::super::group::hang_up_session;
use super::super::server::{Outcome, Request, Response};
use super::super::ws::{self, Polled, Ws};
use super::super::{error, lock, now_rfc3339, Shared};
use super::{body_json, envs, Sandbox, HOME};

/// Output held for a client that has not taken it yet; a client further
/// behind is disconnected ("slow consumer"), as the toolbox does.
const CLIENT_QUEUE: usize = 256;

/// The longest line the pretend shell holds, as a terminal's line
/// discipline: what is typed past it, before a newline, is dropped.
const MAX_LINE: usize = 4095;

/// How long a client's thread waits for input before looking at output.
const POLL: Duration = Duration::from_millis(10);

/// The PTY sessions of every sandbox, by sandbox id and session id.
#[derive(Default)]
pub(crate) struct Ptys {
    sessions: Mutex<BTreeMap<(String, String), Arc<Pty>>>,
}

impl Ptys {
    /// Ends every session (the simulator stops).
    pub(crate) fn shutdown(&self) {
        self.end(|_| true);
    }

    /// Ends the sessions of the sandbox `id` (it stops).
    pub(crate) fn end_sandbox(&self, id: &str) {
        self.end(|sandbox| sandbox == id);
    }

    /// Ends the sessions of the sandboxes `which` takes.
    fn end(&self, which: impl Fn(&str) -> bool) {
        let ended: Vec<Arc<Pty>> = lock(&self.sessions)
            .iter()
            .filter(|((sandbox, _), _)| which(sandbox))
            .map(|(_, pty)| pty.clone())
            .collect();
        for pty in ended {
            pty.kill();
        }
    }

    fn get(&self, sandbox: &str, id: &str) -> Option<Arc<Pty>> {
        lock(&self.sessions)
            .get(&(sandbox.to_string(), id.to_string()))
            .cloned()
    }
}

/// What a session says about itself (`PtySessionInfo`).
#[derive(Clone)]
struct Info {
    id: String,
    cwd: String,
    envs: BTreeMap<String, String>,
    cols: u16,
    rows: u16,
    created_at: String,
    active: bool,
    lazy_start: bool,
}

impl Info {
    fn json(&self) -> Value {
        json!({
            "id": self.id, "cwd": self.cwd, "envs": self.envs, "cols": self.cols,
            "rows": self.rows, "createdAt": self.created_at, "active": self.active,
            "lazyStart": self.lazy_start,
        })
    }
}

/// What a connected client gets.
enum Out {
    Data(Vec<u8>),
    Exit(i32, Option<String>),
}

/// A running shell.
enum Running {
    Host {
        master: Box<dyn MasterPty + Send>,
        /// Apart from the session's lock: a write the shell does not
        /// read blocks only its client, not a kill.
        input: Arc<Mutex<Box<dyn Write + Send>>>,
        killer: Box<dyn ChildKiller + Send + Sync>,
        /// The shell's process id, its terminal session's id.
        shell: Option<u32>,
    },
    Scripted {
        line: Vec<u8>,
    },
}

/// One session.
struct Pty {
    key: (String, String),
    info: Mutex<Info>,
    running: Mutex<Option<Running>>,
    clients: Mutex<Vec<SyncSender<Out>>>,
    ended: AtomicBool,
    /// The shell's working directory on this machine, its home, and the
    /// sandbox's env vars.
    dir: PathBuf,
    home: PathBuf,
    sandbox_env: Vec<(String, String)>,
    shared: Weak<Shared>,
}

/// `/process/pty...` (`rest` follows `pty`), the connect aside.
pub(crate) fn handle(sb: &Sandbox<'_>, req: &Request, rest: &[&str]) -> Response {
    let ptys = &sb.shared.ptys;
    match (req.method.as_str(), rest) {
        ("POST", []) => create(sb, req),
        ("GET", []) => {
            let sessions: Vec<Value> = lock(&ptys.sessions)
                .iter()
                .filter(|((sandbox, _), _)| *sandbox == sb.id)
                .map(|(_, pty)| lock(&pty.info).json())
                .collect();
            Response::json(200, &json!({ "sessions": sessions }))
        }
        (_, [id, ..]) if ptys.get(&sb.id, id).is_none() => not_found(),
        // Looked up again: a session may end between two requests' checks.
        ("GET", [id]) => match ptys.get(&sb.id, id) {
            Some(pty) => Response::json(200, &lock(&pty.info).json()),
            None => not_found(),
        },
        ("DELETE", [id]) => match ptys.get(&sb.id, id) {
            Some(pty) => {
                pty.kill();
                Response::json(200, &json!({ "message": "PTY session deleted" }))
            }
            None => not_found(),
        },
        ("POST", [id, "resize"]) => match ptys.get(&sb.id, id) {
            Some(pty) => resize(&pty, req),
            None => not_found(),
        },
        (_, [_, "connect"]) => error(400, "expected a WebSocket upgrade"),
        _ => error(501, "not simulated by the local simulator"),
    }
}

fn not_found() -> Response {
    Response::json(404, &json!({ "error": "PTY session not found" }))
}

/// The size in `body[field]`: 1 to 1000, or `default` when absent.
fn size(body: &Value, field: &str, default: u16) -> Result<u16, Response> {
    match &body[field] {
        Value::Null => Ok(default),
        v => v
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| {
                error(
                    400,
                    &format!("invalid value for {field}: must be 1 to 1000"),
                )
            }),
    }
}

fn create(sb: &Sandbox<'_>, req: &Request) -> Response {
    let body = match body_json(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(id) = body["id"].as_str().filter(|s| !s.is_empty()) else {
        return Response::json(400, &json!({ "error": "session ID is required" }));
    };
    let (cols, rows) = match (size(&body, "cols", 80), size(&body, "rows", 24)) {
        (Ok(c), Ok(r)) => (c, r),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let cwd = body["cwd"]
        .as_str()
        .filter(|c| !c.is_empty())
        .unwrap_or(HOME)
        .to_string();
    let dir = match sb.resolve(&cwd) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let home = match sb.resolve(HOME) {
        Ok(h) => h,
        Err(r) => return r,
    };
    let mut pty_envs: BTreeMap<String, String> = envs(&body["envs"]).into_iter().collect();
    pty_envs
        .entry("TERM".into())
        .or_insert_with(|| "xterm-256color".into());
    let lazy = body["lazyStart"].as_bool() == Some(true);
    let key = (sb.id.clone(), id.to_string());
    let pty = Arc::new(Pty {
        key: key.clone(),
        info: Mutex::new(Info {
            id: id.to_string(),
            cwd,
            envs: pty_envs,
            cols,
            rows,
            created_at: now_rfc3339(),
            active: false,
            lazy_start: lazy,
        }),
        running: Mutex::new(None),
        clients: Mutex::new(Vec::new()),
        ended: AtomicBool::new(false),
        dir,
        home,
        sandbox_env: sb.env(),
        shared: Arc::downgrade(sb.shared),
    });
    {
        let mut sessions = lock(&sb.shared.ptys.sessions);
        if sessions.contains_key(&key) {
            return Response::json(
                409,
                &json!({ "error": format!("PTY session with ID '{id}' already exists") }),
            );
        }
        sessions.insert(key.clone(), pty.clone());
    }
    if !lazy {
        if let Err(e) = pty.start() {
            lock(&sb.shared.ptys.sessions).remove(&key);
            return error(500, &format!("failed to start PTY session: {e}"));
        }
    }
    Response::json(201, &json!({ "sessionId": id }))
}

fn resize(pty: &Pty, req: &Request) -> Response {
    let body = match body_json(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let (cols, rows) = match (size(&body, "cols", 0), size(&body, "rows", 0)) {
        (Ok(c), Ok(r)) if c > 0 && r > 0 => (c, r),
        (Err(e), _) | (_, Err(e)) => return e,
        _ => return error(400, "cols and rows are required"),
    };
    let (active, lazy) = {
        let info = lock(&pty.info);
        (info.active, info.lazy_start)
    };
    if !active && !lazy {
        return Response::json(
            410,
            &json!({ "error": "PTY session has terminated and cannot be resized" }),
        );
    }
    if let Some(Running::Host { master, .. }) = &*lock(&pty.running) {
        let size = PtySize {
            rows,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        };
        if let Err(e) = master.resize(size) {
            return error(500, &format!("resizing the terminal: {e}"));
        }
    }
    let mut info = lock(&pty.info);
    info.cols = cols;
    info.rows = rows;
    Response::json(200, &info.json())
}

/// The sandbox `id` when it exists and is started: what a WebSocket route
/// needs of it.
pub(crate) fn started<'a>(shared: &'a Arc<Shared>, id: &str) -> Result<Sandbox<'a>, Response> {
    let mut world = shared.world();
    let Some(i) = world.sandbox(id) else {
        return Err(error(404, &format!("sandbox {id} not found")));
    };
    let sb = &world.sandboxes[i];
    let state = sb.info["state"].as_str().unwrap_or("");
    if state != "started" {
        return Err(error(
            409,
            &format!("sandbox {id} is not started (state: {state})"),
        ));
    }
    Ok(Sandbox {
        shared,
        id: sb.info["id"].as_str().unwrap_or(id).to_string(),
        root: sb.dir.clone(),
    })
}

/// `GET /process/pty/{id}/connect`: the upgrade, then the session.
pub(crate) fn connect(shared: &Arc<Shared>, req: &Request, sandbox: &str, id: &str) -> Outcome {
    let sb = match started(shared, sandbox) {
        Ok(sb) => sb,
        Err(r) => return Outcome::Respond(r),
    };
    let pty = shared.ptys.get(&sb.id, id);
    let id = id.to_string();
    ws::upgrade(req, move |mut ws| match pty {
        Some(pty) => pty.serve(ws),
        None => {
            let message = json!({
                "type": "control", "status": "error",
                "error": format!("Failed to connect to PTY session: PTY session {id} not found"),
            });
            ws::send_text(&mut ws, &message.to_string());
            // The toolbox drops the connection without a close frame.
        }
    })
}

impl Pty {
    /// Starts the shell (once).
    fn start(self: &Arc<Self>) -> Result<(), String> {
        let mut running = lock(&self.running);
        if running.is_some() || self.ended.load(Ordering::SeqCst) {
            return Ok(());
        }
        let scripted = self.shared.upgrade().is_none_or(|s| s.scripted);
        *running = Some(if scripted {
            Running::Scripted { line: Vec::new() }
        } else {
            self.spawn()?
        });
        lock(&self.info).active = true;
        drop(running);
        if scripted {
            self.broadcast(Out::Data(b"$ ".to_vec()));
        }
        Ok(())
    }

    /// `sh -i` in a pseudo-terminal of this machine.
    fn spawn(self: &Arc<Self>) -> Result<Running, String> {
        let info = lock(&self.info).clone();
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: info.rows,
                cols: info.cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .map_err(|e| format!("cannot open a pseudo-terminal: {e}"))?;
        let mut cmd = CommandBuilder::new("sh");
        cmd.arg("-i");
        cmd.cwd(&self.dir);
        cmd.env("HOME", &self.home);
        let sandbox_env = self.sandbox_env.iter().map(|(k, v)| (k, v));
        for (k, v) in sandbox_env.chain(&info.envs) {
            cmd.env(k, v);
        }
        let mut child = pair
            .slave
            .spawn_command(cmd)
            .map_err(|e| format!("cannot run sh: {e}"))?;
        drop(pair.slave);
        let mut output = pair.master.try_clone_reader().map_err(|e| e.to_string())?;
        let input = pair.master.take_writer().map_err(|e| e.to_string())?;
        let killer = child.clone_killer();
        let shell = child.process_id();
        let me = self.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 32 << 10];
            loop {
                match output.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => me.broadcast(Out::Data(buf[..n].to_vec())),
                }
            }
            let (code, reason) = match child.wait() {
                Ok(status) => match status.signal() {
                    Some(signal) => (1, Some(signal.to_string())),
                    None => {
                        let code = i32::try_from(status.exit_code()).unwrap_or(1);
                        (code, (code != 0).then(|| "non-zero exit".to_string()))
                    }
                },
                Err(e) => (1, Some(format!("process error: {e}"))),
            };
            me.finish(code, reason);
        });
        Ok(Running::Host {
            master: pair.master,
            input: Arc::new(Mutex::new(input)),
            killer,
            shell,
        })
    }

    fn broadcast(&self, out: Out) {
        let mut clients = lock(&self.clients);
        clients.retain(|c| {
            let copy = match &out {
                Out::Data(b) => Out::Data(b.clone()),
                Out::Exit(code, reason) => Out::Exit(*code, reason.clone()),
            };
            // A client that fell too far behind is dropped.
            c.try_send(copy).is_ok()
        });
    }

    /// The shell ended: clients get the exit code, the session goes.
    fn finish(&self, code: i32, reason: Option<String>) {
        if self.ended.swap(true, Ordering::SeqCst) {
            return;
        }
        lock(&self.info).active = false;
        // Gone before the clients hear of the end: one that asks for the
        // session then is answered 404.
        if let Some(shared) = self.shared.upgrade() {
            lock(&shared.ptys.sessions).remove(&self.key);
        }
        self.broadcast(Out::Exit(code, reason));
        let running = lock(&self.running).take();
        if let Some(Running::Host { master, input, .. }) = &running {
            unblock(master.as_ref(), input);
        }
    }

    /// Kills the shell: exit code 137.
    fn kill(&self) {
        let running = lock(&self.running).take();
        // The exit is 137 whatever the shell's end looks like from here.
        self.finish(137, Some("SIGKILL".into()));
        if let Some(Running::Host {
            mut killer,
            master,
            input,
            shell,
        }) = running
        {
            // The shell leads the terminal's session: its background jobs
            // are hung up with it.
            if let Some(sid) = shell {
                hang_up_session(sid);
            }
            let _ = killer.kill();
            unblock(master.as_ref(), &input);
        }
        if let Some(shared) = self.shared.upgrade() {
            lock(&shared.ptys.sessions).remove(&self.key);
        }
    }

    /// Input from a client.
    fn input(&self, bytes: &[u8]) {
        let mut running = lock(&self.running);
        let exit = match &mut *running {
            Some(Running::Host { input, .. }) => {
                let input = input.clone();
                drop(running);
                let mut input = lock(&input);
                // Not after the end: nothing would read it.
                if !self.ended.load(Ordering::SeqCst) {
                    let _ = input.write_all(bytes).and_then(|()| input.flush());
                }
                None
            }
            Some(Running::Scripted { line }) => {
                let (echo, exit) = self.scripted_input(line, bytes);
                drop(running);
                self.broadcast(Out::Data(echo));
                exit
            }
            None => None,
        };
        if let Some(code) = exit {
            self.finish(code, (code != 0).then(|| "non-zero exit".to_string()));
        }
    }

    /// The pretend shell: echoes input, answers each line; the exit code
    /// when the line was `exit`.
    fn scripted_input(&self, line: &mut Vec<u8>, bytes: &[u8]) -> (Vec<u8>, Option<i32>) {
        let mut out = Vec::new();
        for &b in bytes {
            match b {
                b'\r' | b'\n' => {
                    out.extend_from_slice(b"\r\n");
                    let text = String::from_utf8_lossy(line).trim().to_string();
                    line.clear();
                    if let Some(code) = exit_code(&text) {
                        return (out, Some(code));
                    }
                    if !text.is_empty() {
                        let answer = self.shared.upgrade().and_then(|s| s.script(&text));
                        let output = match answer {
                            Some(r) => r.output,
                            None => format!(
                                "local simulator (scripted mode): no answer registered for \
                                 {text:?}; register one with on_exec\n"
                            ),
                        };
                        out.extend_from_slice(output.replace('\n', "\r\n").as_bytes());
                    }
                    out.extend_from_slice(b"$ ");
                }
                0x7f | 0x08 => {
                    if line.pop().is_some() {
                        out.extend_from_slice(b"\x08 \x08");
                    }
                }
                _ if line.len() >= MAX_LINE => {}
                _ => {
                    line.push(b);
                    out.push(b);
                }
            }
        }
        (out, None)
    }

    /// One client's connection: output out, input in, until the end.
    fn serve(self: Arc<Self>, mut socket: Ws) {
        let (tx, rx) = mpsc::sync_channel(CLIENT_QUEUE);
        lock(&self.clients).push(tx);
        if let Err(e) = self.start() {
            let message = json!({ "type": "control", "status": "error", "error": e });
            ws::send_text(&mut socket, &message.to_string());
            return;
        }
        if !ws::send_text(&mut socket, r#"{"type":"control","status":"connected"}"#) {
            return;
        }
        loop {
            if !forward(&rx, &mut socket) {
                return;
            }
            match ws::poll(&mut socket, POLL) {
                Polled::Data(bytes) => self.input(&bytes),
                Polled::Nothing => {}
                Polled::Gone => return,
            }
        }
    }
}

/// Lets a write to the terminal of a shell that is gone end: a program
/// that reads none of its input (in raw mode) leaves the terminal's input
/// full, and a client's write waits for room for ever. Its slave side is
/// read (and what was typed dropped) until the writer lets go, for a
/// second at most.
#[cfg(unix)]
fn unblock(master: &(dyn MasterPty + Send), input: &Mutex<Box<dyn Write + Send>>) {
    use std::os::unix::fs::OpenOptionsExt;
    use std::sync::TryLockError;
    use std::time::Instant;
    let writing = || matches!(input.try_lock(), Err(TryLockError::WouldBlock));
    if !writing() {
        return;
    }
    let Some(path) = master.tty_name() else {
        return;
    };
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path);
    let Ok(mut slave) = slave else { return };
    let until = Instant::now() + Duration::from_secs(1);
    let mut buf = vec![0u8; 16 << 10];
    while writing() && Instant::now() < until {
        if !matches!(slave.read(&mut buf), Ok(1..)) {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

#[cfg(not(unix))]
fn unblock(_: &(dyn MasterPty + Send), _: &Mutex<Box<dyn Write + Send>>) {}

/// The exit code of an `exit [N]` line.
fn exit_code(line: &str) -> Option<i32> {
    let mut words = line.split_whitespace();
    if words.next() != Some("exit") {
        return None;
    }
    Some(words.next().and_then(|n| n.parse().ok()).unwrap_or(0))
}

/// Sends the client what is queued for it; false once the connection is
/// over (the session ended, or the client fell behind).
fn forward(rx: &Receiver<Out>, socket: &mut Ws) -> bool {
    loop {
        match rx.try_recv() {
            Ok(Out::Data(bytes)) => {
                if !ws::send_binary(socket, &bytes) {
                    return false;
                }
            }
            Ok(Out::Exit(code, reason)) => {
                let (close, reason) = if code == 0 {
                    (1000, json!({ "exitCode": 0 }))
                } else {
                    (1011, json!({ "exitCode": code, "exitReason": reason }))
                };
                ws::close(socket, close, &reason.to_string());
                return false;
            }
            Err(TryRecvError::Empty) => return true,
            Err(TryRecvError::Disconnected) => {
                ws::close(socket, 1008, "slow consumer");
                return false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session of the pretend shell, with no simulator behind it.
    fn scripted() -> Pty {
        Pty {
            key: (String::new(), String::new()),
            info: Mutex::new(Info {
                id: "s".into(),
                cwd: HOME.into(),
                envs: BTreeMap::new(),
                cols: 80,
                rows: 24,
                created_at: now_rfc3339(),
                active: true,
                lazy_start: false,
            }),
            running: Mutex::new(None),
            clients: Mutex::new(Vec::new()),
            ended: AtomicBool::new(false),
            dir: PathBuf::new(),
            home: PathBuf::new(),
            sandbox_env: Vec::new(),
            shared: Weak::new(),
        }
    }

    #[test]
    fn a_line_without_a_newline_is_bounded() {
        let pty = scripted();
        let mut line = Vec::new();
        for _ in 0..100 {
            let (echo, exit) = pty.scripted_input(&mut line, &[b'a'; 1000]);
            assert!(exit.is_none());
            assert!(echo.len() <= 1000);
        }
        assert_eq!(line.len(), MAX_LINE);
        // Erasing and a newline still work at the limit.
        let (echo, _) = pty.scripted_input(&mut line, b"\x7fb\n");
        assert!(echo.starts_with(b"\x08 \x08b\r\n"), "{echo:?}");
        assert!(line.is_empty());
    }
}
