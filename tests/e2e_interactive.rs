//! PTY sessions and the code interpreter end to end on the local simulator
//! (`daytona::testing`): a real pseudo-terminal running `sh` and a real
//! `python3` in host mode, scripted answers in scripted mode.
#![cfg(all(feature = "testing", feature = "websocket"))]

use std::io::{Read, Write};
use std::process::Command;
use std::time::{Duration, Instant};

use daytona::testing::{ExecResult, LocalDaytona};
use daytona::toolbox::{ContextOptions, OutputChunk, PtyOptions, RunCodeOptions};
use daytona::{CreateSandbox, Error};

/// Ends the test process when a test runs longer than `limit` (a read
/// that never returns would otherwise hang the suite); disarmed on drop.
struct Watchdog(std::sync::mpsc::Sender<()>);

fn watchdog(limit: Duration) -> Watchdog {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(limit) {
            eprintln!("a test ran longer than {limit:?}: aborting");
            std::process::exit(101);
        }
    });
    Watchdog(tx)
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

/// Whether this machine has `python3`; says the test is skipped if not.
fn has_python() -> bool {
    let has = Command::new("python3")
        .arg("-c")
        .arg("pass")
        .status()
        .is_ok_and(|s| s.success());
    if !has {
        eprintln!("skipped: no python3 on this machine");
    }
    has
}

/// Reads from `pty` until `needle` shows up in the output (or 10 s pass).
fn read_until(pty: &mut impl Read, needle: &str) -> String {
    let mut seen = Vec::new();
    let until = Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains(needle) {
        assert!(
            Instant::now() < until,
            "no {needle:?} in {:?}",
            String::from_utf8_lossy(&seen)
        );
        let n = pty.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "the session ended before {needle:?}: {:?}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[test]
fn a_host_pty_runs_sh_with_the_sandbox_and_session_env_vars() {
    let _watchdog = watchdog(Duration::from_secs(60));
    let local = LocalDaytona::start().unwrap();
    let daytona = local.client();
    let sandbox = daytona
        .create(CreateSandbox::new().env("GREETING", "hi-from-the-sandbox"))
        .unwrap();
    let process = sandbox.process();
    let mut pty = process
        .create_pty(PtyOptions::new("shell").env("FOO", "bar").size(100, 30))
        .unwrap();
    // The session's info, from another call.
    let info = process.pty_session_info("shell").unwrap();
    assert!(info.active && info.lazy_start, "{info:?}");
    assert_eq!((info.cols, info.rows), (100, 30));
    assert_eq!(info.envs["FOO"], "bar");
    assert_eq!(info.envs["TERM"], "xterm-256color");
    let listed = process.list_pty_sessions().unwrap();
    assert_eq!(
        listed.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["shell"]
    );

    assert_eq!(pty.resize(120, 40).unwrap().cols, 120);
    // The end mark is computed: the terminal's echo of the line does not
    // hold it.
    pty.write_all(b"stty size; echo \"[$GREETING $FOO $TERM]\"; pwd; echo \"E$((1+1))ND\"\n")
        .unwrap();
    let out = read_until(&mut pty, "E2ND");
    assert!(
        out.contains("[hi-from-the-sandbox bar xterm-256color]"),
        "{out}"
    );
    assert!(out.contains("40 120"), "{out}");
    assert!(out.contains("/home/daytona\r\n"), "{out}");
    pty.write_all(b"exit 3\n").unwrap();
    let mut rest = Vec::new();
    pty.read_to_end(&mut rest).unwrap();
    let exit = pty.wait().unwrap();
    assert_eq!(exit.exit_code, Some(3));
    // An ended session is gone.
    assert!(process
        .pty_session_info("shell")
        .unwrap_err()
        .is_not_found());
}

#[test]
fn a_killed_host_pty_exits_with_137_and_an_idle_one_keeps_waiting() {
    let local = LocalDaytona::start().unwrap();
    let daytona = local.client();
    let sandbox = daytona.create(CreateSandbox::new()).unwrap();
    let process = sandbox.process();
    let mut pty = process.create_pty(PtyOptions::new("idle")).unwrap();
    let started = Instant::now();
    assert_eq!(pty.wait_timeout(Duration::from_millis(400)).unwrap(), None);
    assert!(started.elapsed() < Duration::from_secs(2));
    // A second client of the same session.
    let mut other = process.connect_pty("idle").unwrap();
    other.write_all(b"echo second-client\n").unwrap();
    read_until(&mut other, "second-client");
    pty.kill().unwrap();
    let exit = other.wait().unwrap();
    assert_eq!(exit.exit_code, Some(137));
    assert_eq!(exit.reason.as_deref(), Some("SIGKILL"));
    assert_eq!(pty.wait().unwrap().exit_code, Some(137));
    assert!(process.list_pty_sessions().unwrap().is_empty());
    let e = process.connect_pty("idle").unwrap_err();
    assert!(e.to_string().contains("not found"), "{e}");
}

#[test]
fn a_disconnected_pty_goes_on() {
    let _watchdog = watchdog(Duration::from_secs(60));
    let local = LocalDaytona::start().unwrap();
    let daytona = local.client();
    let sandbox = daytona.create(CreateSandbox::new()).unwrap();
    let process = sandbox.process();
    let mut pty = process.create_pty(PtyOptions::new("keep")).unwrap();
    pty.write_all(b"KEPT=yes\n").unwrap();
    pty.disconnect();
    let mut again = process.connect_pty("keep").unwrap();
    again.write_all(b"echo \"kept=$KEPT\"\n").unwrap();
    read_until(&mut again, "kept=yes");
    process.kill_pty("keep").unwrap();
}

#[test]
fn the_host_interpreter_keeps_state_in_a_context() {
    let _watchdog = watchdog(Duration::from_secs(60));
    if !has_python() {
        return;
    }
    let local = LocalDaytona::start().unwrap();
    let daytona = local.client();
    let sandbox = daytona
        .create(CreateSandbox::new().env("GREETING", "hello"))
        .unwrap();
    let interpreter = sandbox.code_interpreter();
    let ctx = interpreter
        .create_context(ContextOptions::new().cwd("/home/daytona/work"))
        .unwrap();
    assert_eq!(ctx.language, "python");
    assert!(ctx.active);
    let opts = || RunCodeOptions::new().context(&ctx);
    interpreter.run_code("x = 41", opts()).unwrap();
    let mut streamed = Vec::new();
    let run = interpreter
        .run_code(
            "import os, sys\nprint(x + 1)\nprint(os.environ['GREETING'], os.environ['RUN'], os.getcwd())\nprint('warn', file=sys.stderr)",
            opts().env("RUN", "once").on_stdout(|t| streamed.push(t.to_string())),
        )
        .unwrap();
    assert!(run.stdout.starts_with("42\nhello once "), "{run:?}");
    assert!(
        run.stdout.trim_end().ends_with("/home/daytona/work"),
        "{run:?}"
    );
    assert_eq!(run.stderr, "warn\n");
    assert!(run.error.is_none());
    assert_eq!(streamed.concat(), run.stdout);
    let run = interpreter.run_code("1 / 0", opts()).unwrap();
    let error = run.error.unwrap();
    assert_eq!(error.name, "ZeroDivisionError");
    assert!(error.traceback.contains("ZeroDivisionError"), "{error:?}");
    // The default context is another interpreter.
    let run = interpreter
        .run_code("print('x' in globals())", RunCodeOptions::new())
        .unwrap();
    assert_eq!(run.stdout, "False\n");
    let listed = interpreter.list_contexts().unwrap();
    assert_eq!(
        listed.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        [ctx.id.as_str()]
    );
    interpreter.delete_context(&ctx).unwrap();
    assert!(interpreter.list_contexts().unwrap().is_empty());
    let e = interpreter.run_code("print(1)", opts()).unwrap_err();
    assert!(e.to_string().contains("context not found"), "{e}");
}

#[test]
fn the_host_interpreter_times_out_and_survives_a_crash() {
    let _watchdog = watchdog(Duration::from_secs(60));
    if !has_python() {
        return;
    }
    let local = LocalDaytona::start().unwrap();
    let daytona = local.client();
    let sandbox = daytona.create(CreateSandbox::new()).unwrap();
    let interpreter = sandbox.code_interpreter();
    let ctx = interpreter.create_context(ContextOptions::new()).unwrap();
    let opts = || RunCodeOptions::new().context(&ctx);
    let started = Instant::now();
    let e = interpreter
        .run_code(
            "import time\nprint('start', flush=True)\ntime.sleep(30)",
            opts().timeout(Duration::from_secs(1)),
        )
        .unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    // Interrupted, not ended: the state is still there.
    interpreter.run_code("y = 5", opts()).unwrap();
    let e = interpreter
        .run_code("import os\nos._exit(3)", opts())
        .unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert!(e.to_string().contains("interpreter ended"), "{e}");
    // A new interpreter takes over, without the old state.
    let run = interpreter
        .run_code("print('y' in globals())", opts())
        .unwrap();
    assert_eq!(run.stdout, "False\n");
    // A stream stopped early.
    let mut stream = interpreter
        .run_code_stream(
            "import time\nfor i in range(50):\n    print(i, flush=True)\n    time.sleep(0.02)",
            opts(),
        )
        .unwrap();
    assert_eq!(
        stream.next().unwrap().unwrap(),
        OutputChunk::Stdout("0\n".into())
    );
    drop(stream);
}

#[test]
fn a_run_in_progress_neither_holds_up_the_drop_nor_outlives_it() {
    let _watchdog = watchdog(Duration::from_secs(60));
    if !has_python() {
        return;
    }
    let local = LocalDaytona::start().unwrap();
    let daytona = local.client();
    let sandbox = daytona.create(CreateSandbox::new()).unwrap();
    let interpreter = sandbox.code_interpreter();
    let ctx = interpreter.create_context(ContextOptions::new()).unwrap();
    let other = interpreter.create_context(ContextOptions::new()).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let runs: Vec<_> = [ctx, other]
        .into_iter()
        .map(|ctx| {
            let sandbox = daytona.get(sandbox.id()).unwrap();
            let tx = tx.clone();
            std::thread::spawn(move || {
                sandbox.code_interpreter().run_code(
                    "import time\nprint('start', flush=True)\ntime.sleep(40)",
                    RunCodeOptions::new().context(&ctx).on_stdout(move |_| {
                        let _ = tx.send(());
                    }),
                )
            })
        })
        .collect();
    for _ in 0..2 {
        rx.recv_timeout(Duration::from_secs(20)).unwrap();
    }
    // Contexts whose code runs are listed at once, as active.
    let began = Instant::now();
    let listed = interpreter.list_contexts().unwrap();
    assert!(
        began.elapsed() < Duration::from_secs(3),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|c| c.active), "{listed:?}");
    // Deleting a context whose code runs ends the run.
    let began = Instant::now();
    interpreter.delete_context(&listed[0]).unwrap();
    assert!(
        began.elapsed() < Duration::from_secs(3),
        "{:?}",
        began.elapsed()
    );
    // Dropping the simulator ends the other.
    let began = Instant::now();
    drop(local);
    assert!(
        began.elapsed() < Duration::from_secs(3),
        "{:?}",
        began.elapsed()
    );
    for run in runs {
        let e = run.join().unwrap().unwrap_err();
        assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    }
}

#[test]
fn scripted_mode_answers_without_running_anything() {
    let _watchdog = watchdog(Duration::from_secs(60));
    let local = LocalDaytona::builder()
        .scripted()
        .on_exec("make test", ExecResult::ok("all 12 tests passed\n"))
        .on_exec("print(6 * 7)", ExecResult::ok("42\n"))
        .on_exec("raise SystemExit(2)", ExecResult::new(2, ""))
        .start()
        .unwrap();
    let daytona = local.client();
    let sandbox = daytona
        .create(CreateSandbox::new().env("GREETING", "hi"))
        .unwrap();
    let dir = local.sandbox_dir(sandbox.id()).unwrap();
    let mut pty = sandbox
        .process()
        .create_pty(PtyOptions::new("scripted"))
        .unwrap();
    pty.write_all(b"make test\n").unwrap();
    let out = read_until(&mut pty, "passed");
    assert!(
        out.starts_with("$ make test\r\nall 12 tests passed\r\n"),
        "{out:?}"
    );
    pty.write_all(b"touch /should-not-exist\n").unwrap();
    read_until(&mut pty, "no answer registered");
    pty.write_all(b"exit 2\n").unwrap();
    assert_eq!(pty.wait().unwrap().exit_code, Some(2));
    assert!(!dir.join("should-not-exist").exists());

    let interpreter = sandbox.code_interpreter();
    let run = interpreter
        .run_code("print(6 * 7)", RunCodeOptions::new())
        .unwrap();
    assert_eq!((run.stdout.as_str(), run.error.is_none()), ("42\n", true));
    let run = interpreter
        .run_code("raise SystemExit(2)", RunCodeOptions::new())
        .unwrap();
    assert_eq!(run.error.unwrap().name, "ScriptedError");
    let run = interpreter
        .run_code("open('/tmp/x', 'w')", RunCodeOptions::new())
        .unwrap();
    assert!(run.stderr.contains("no answer registered"), "{run:?}");
    let ctx = interpreter.create_context(ContextOptions::new()).unwrap();
    assert_eq!(interpreter.list_contexts().unwrap().len(), 1);
    interpreter.delete_context(&ctx).unwrap();
}
