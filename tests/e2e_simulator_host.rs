//! The local simulator in host mode: git runs this machine's `git` in the
//! sandbox's directory; session command logs are followed over WebSocket
//! as they are written.
#![cfg(feature = "testing")]

mod temp;

use std::path::Path;
use std::process::Command;

use daytona::testing::LocalDaytona;
use daytona::toolbox::{CloneOptions, FileState, GitCredentials};
use daytona::CreateSandbox;
use temp::TempDir;

/// Runs `git args` in `dir` (the test's own repositories).
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

fn has_git() -> bool {
    Command::new("git").arg("--version").output().is_ok()
}

/// A bare repository `origin.git` with one commit on `main`.
fn origin(tmp: &TempDir) -> std::path::PathBuf {
    let work = tmp.dir("work");
    git(&work, &["init", "-q", "-b", "main"]);
    std::fs::write(work.join("README"), "hello\n").unwrap();
    git(&work, &["add", "README"]);
    git(&work, &["commit", "-q", "-m", "first"]);
    git(tmp, &["clone", "-q", "--bare", "work", "origin.git"]);
    tmp.path("origin.git")
}

#[test]
fn git_runs_on_the_host_in_the_sandbox_directory() {
    if !has_git() {
        eprintln!("skipped: no git on this machine");
        return;
    }
    let tmp = TempDir::new("sim-git");
    let origin = origin(&tmp);
    let local = LocalDaytona::start().unwrap();
    let sandbox = local.client().create(CreateSandbox::new()).unwrap();
    let g = sandbox.git();
    // Credentials go to git's credential helper (a local clone asks none).
    let url = format!("file://{}", origin.display());
    let options = CloneOptions::new()
        .branch("main")
        .credentials(GitCredentials::new("me", "s3cret-password"));
    g.clone_repo(&url, "repo", options).unwrap();
    let dir = local.sandbox_dir(sandbox.id()).unwrap();
    assert!(dir.join("home/daytona/repo/README").is_file());
    let status = g.status("repo").unwrap();
    assert_eq!(status.current_branch, "main");
    assert_eq!(status.branch_published, Some(true));
    assert!(status.file_status.is_empty(), "{status:?}");
    // A new file: untracked, then added, then committed.
    sandbox
        .fs()
        .upload_bytes(b"new\n", "/home/daytona/repo/notes.txt")
        .unwrap();
    let status = g.status("/home/daytona/repo").unwrap();
    assert_eq!(status.file_status.len(), 1, "{status:?}");
    assert_eq!(status.file_status[0].name, "notes.txt");
    assert_eq!(status.file_status[0].worktree, FileState::Untracked);
    g.add("repo", &["notes.txt"]).unwrap();
    let status = g.status("repo").unwrap();
    assert_eq!(status.file_status[0].staging, FileState::Added);
    let hash = g
        .commit("repo", "add notes", "Ada", "ada@example.com")
        .unwrap();
    assert_eq!(hash.len(), 40, "{hash}");
    assert_eq!(g.status("repo").unwrap().ahead, Some(1));
    let history = g.history("repo").unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].hash, hash);
    assert_eq!(
        (
            history[0].message.as_str(),
            history[0].author.as_str(),
            history[0].email.as_str()
        ),
        ("add notes", "Ada", "ada@example.com")
    );
    assert_eq!(history[1].message, "first");
    // Push reaches the local origin; pull has nothing new.
    g.push("repo", None).unwrap();
    assert_eq!(git(&origin, &["log", "-1", "--format=%H"]).trim(), hash);
    g.pull("repo", None).unwrap();
    // Branches.
    g.create_branch("repo", "feature").unwrap();
    let mut branches = g.branches("repo").unwrap();
    branches.sort();
    assert_eq!(branches, ["feature", "main"]);
    g.checkout_branch("repo", "feature").unwrap();
    assert_eq!(g.status("repo").unwrap().current_branch, "feature");
    g.checkout_branch("repo", "main").unwrap();
    g.delete_branch("repo", "feature").unwrap();
    assert_eq!(g.branches("repo").unwrap(), ["main"]);
    // git's own failures come back with its message.
    let e = g.checkout_branch("repo", "nope").unwrap_err();
    assert_eq!(e.status(), Some(400), "{e:?}");
    assert!(e.to_string().contains("nope"), "{e}");
    let e = g.status("not-a-repo").unwrap_err();
    assert!(e.to_string().contains("no such directory"), "{e}");
    // A remote that is gone: push and pull fail with git's message.
    std::fs::rename(&origin, tmp.path("moved.git")).unwrap();
    let e = g.push("repo", None).unwrap_err();
    assert_eq!(e.status(), Some(400), "{e:?}");
    assert!(e.to_string().contains("git push failed"), "{e}");
    let e = g.pull("repo", None).unwrap_err();
    assert!(e.to_string().contains("git pull failed"), "{e}");
    // An unreachable remote is an error naming the operation.
    let e = g.clone_repo("file:///no/such/repo", "other", CloneOptions::new());
    assert!(e.unwrap_err().to_string().contains("git clone failed"));
}

/// git over ssh never asks on the terminal (an unknown host key, a
/// passphrase): ssh runs in batch mode and fails at once with its message,
/// as the toolbox's git does, instead of stopping until git's time is up.
#[cfg(unix)]
#[test]
fn git_over_ssh_fails_at_once_instead_of_asking() {
    use std::os::unix::fs::PermissionsExt;
    use std::time::{Duration, Instant};
    if !has_git() {
        eprintln!("skipped: no git on this machine");
        return;
    }
    // An ssh that asks (here: waits) unless told not to, as ssh does on
    // an unknown host key.
    let tmp = TempDir::new("sim-git-ssh");
    let ssh = tmp.file(
        "bin/ssh",
        "#!/bin/sh\ncase \"$*\" in *BatchMode=yes*) \
         echo 'Host key verification failed.' >&2; exit 255;; esac\nsleep 20\nexit 255\n",
    );
    std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        tmp.path("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let local = LocalDaytona::start().unwrap();
    let sandbox = local
        .client()
        .create(CreateSandbox::new().env("PATH", &path))
        .unwrap();
    let began = Instant::now();
    let e = sandbox
        .git()
        .clone_repo(
            "ssh://git@example.invalid/repo.git",
            "repo",
            CloneOptions::new(),
        )
        .unwrap_err();
    assert!(began.elapsed() < Duration::from_secs(10), "{e:?}");
    assert!(
        e.to_string().contains("Host key verification failed"),
        "{e}"
    );
}

#[test]
fn git_missing_from_the_host_is_a_clear_error() {
    let local = LocalDaytona::start().unwrap();
    // The sandbox's PATH is git's too: none there.
    let sandbox = local
        .client()
        .create(CreateSandbox::new().env("PATH", "/nonexistent-daytona-test-dir"))
        .unwrap();
    sandbox
        .fs()
        .create_folder("/home/daytona/repo", "755")
        .unwrap();
    let e = sandbox.git().status("repo").unwrap_err();
    assert_eq!(e.status(), Some(500), "{e:?}");
    assert!(e.to_string().contains("git is not installed"), "{e}");
}

#[cfg(feature = "websocket")]
mod follow {
    use std::time::{Duration, Instant};

    use daytona::testing::{ExecResult, LocalDaytona};
    use daytona::toolbox::{FollowOptions, LogChunk, SessionExecOptions};
    use daytona::CreateSandbox;

    /// What a followed log delivered: stdout, stderr, and when each chunk
    /// arrived.
    fn follow(
        process: &daytona::toolbox::Process<'_>,
        session: &str,
        command: &str,
    ) -> (String, String, Vec<(Instant, String)>) {
        let (mut out, mut err, mut seen) = (String::new(), String::new(), Vec::new());
        let options = FollowOptions::new().timeout(Duration::from_secs(20));
        process
            .follow_session_command_logs(session, command, options, |chunk| {
                seen.push((Instant::now(), chunk.text().to_string()));
                match chunk {
                    LogChunk::Stderr(t) => err.push_str(&t),
                    other => out.push_str(other.text()),
                }
            })
            .unwrap();
        (out, err, seen)
    }

    #[test]
    fn a_followed_log_streams_stdout_and_stderr_as_written_until_the_end() {
        let local = LocalDaytona::start().unwrap();
        let sandbox = local
            .client()
            .create(CreateSandbox::new().env("WHO", "sandbox"))
            .unwrap();
        let process = sandbox.process();
        process.create_session("s").unwrap();
        let run = process
            .execute_session_command(
                "s",
                "echo one $WHO; sleep 0.4; echo two >&2; sleep 0.4; echo three",
                SessionExecOptions::new().run_async(true),
            )
            .unwrap();
        let started = Instant::now();
        let (out, err, seen) = follow(&process, "s", &run.cmd_id);
        let ended = Instant::now();
        assert_eq!(out, "one sandbox\nthree\n");
        assert_eq!(err, "two\n");
        // The first line came as it was written, long before the end.
        let (first, text) = &seen[0];
        assert!(text.starts_with("one"), "{seen:?}");
        assert!(ended - *first >= Duration::from_millis(600), "{seen:?}");
        assert!(ended - started >= Duration::from_millis(800));
        // The stream closed with the command: it has ended.
        let command = process.get_session_command("s", &run.cmd_id).unwrap();
        assert_eq!(command.exit_code, Some(0));
        // Following an ended command replays its log, and ends at once.
        let (again, again_err, _) = follow(&process, "s", &run.cmd_id);
        assert_eq!(
            (again.as_str(), again_err.as_str()),
            (out.as_str(), "two\n")
        );
        // The entrypoint (none) ends at once; unknown commands are 404.
        process
            .follow_entrypoint_logs(FollowOptions::new(), |_| panic!("no entrypoint output"))
            .unwrap();
        let e = process
            .follow_session_command_logs("s", "nope", FollowOptions::new(), |_| {})
            .unwrap_err();
        assert!(e.is_not_found(), "{e:?}");
    }

    /// Input sent to a command running in the background reaches its
    /// stdin (a line gets its `\n`), and shows in its log unless asked not
    /// to; a command that has ended answers 410, an unknown one 404.
    #[test]
    fn session_command_input_reaches_the_command() {
        let local = LocalDaytona::start().unwrap();
        let sandbox = local.client().create(CreateSandbox::new()).unwrap();
        let process = sandbox.process();
        process.create_session("s").unwrap();
        for (suppress, expected) in [(false, "hello\ngot:hello\n"), (true, "got:hello\n")] {
            let run = process
                .execute_session_command(
                    "s",
                    "read line; echo got:$line",
                    SessionExecOptions::new()
                        .run_async(true)
                        .suppress_input_echo(suppress),
                )
                .unwrap();
            process
                .send_session_command_input("s", &run.cmd_id, "hello")
                .unwrap();
            let (out, err, _) = follow(&process, "s", &run.cmd_id);
            assert_eq!((out.as_str(), err.as_str()), (expected, ""));
            let command = process.get_session_command("s", &run.cmd_id).unwrap();
            assert_eq!(command.exit_code, Some(0));
            let e = process
                .send_session_command_input("s", &run.cmd_id, "late")
                .unwrap_err();
            assert_eq!(e.status(), Some(410), "{e:?}");
        }
        let e = process
            .send_session_command_input("s", "nope", "x")
            .unwrap_err();
        assert!(e.is_not_found(), "{e:?}");
        let e = process
            .send_session_command_input("gone", "nope", "x")
            .unwrap_err();
        assert!(e.is_not_found(), "{e:?}");
    }

    #[test]
    fn a_scripted_command_log_is_its_answer() {
        let local = LocalDaytona::builder()
            .scripted()
            .on_exec("make", ExecResult::ok("built\n"))
            .start()
            .unwrap();
        let sandbox = local.client().create(CreateSandbox::new()).unwrap();
        let process = sandbox.process();
        process.create_session("s").unwrap();
        let run = process
            .execute_session_command("s", "make", SessionExecOptions::new())
            .unwrap();
        let (out, err, _) = follow(&process, "s", &run.cmd_id);
        assert_eq!((out.as_str(), err.as_str()), ("built\n", ""));
    }
}

/// Whether process `pid` is running (not gone, not a zombie).
#[cfg(target_os = "linux")]
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit(") ")
            .next()
            .is_some_and(|s| !s.starts_with('Z'))
    })
}

/// The process id written to `name` in the sandbox's home (waiting for
/// it at most 10 s).
#[cfg(target_os = "linux")]
fn pid_in(local: &LocalDaytona, sandbox: &str, name: &str) -> u32 {
    use std::time::{Duration, Instant};
    let file = local
        .sandbox_dir(sandbox)
        .unwrap()
        .join("home/daytona")
        .join(name);
    let began = Instant::now();
    loop {
        if let Some(pid) = std::fs::read_to_string(&file)
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok())
        {
            return pid;
        }
        assert!(began.elapsed() < Duration::from_secs(10), "no {name}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Asserts that the processes `pids` end within 3 s.
#[cfg(target_os = "linux")]
fn assert_ended(pids: &[u32]) {
    use std::time::{Duration, Instant};
    let began = Instant::now();
    while pids.iter().any(|&p| running(p)) && began.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!pids.iter().any(|&p| running(p)), "still running: {pids:?}");
}

/// A host-mode simulator with a sandbox running `command` in its session
/// `s`, in the background (`run_async`).
#[cfg(target_os = "linux")]
fn running_in_a_session(command: &str) -> (LocalDaytona, daytona::Sandbox) {
    use daytona::toolbox::SessionExecOptions;
    let local = LocalDaytona::start().unwrap();
    let sandbox = local.client().create(CreateSandbox::new()).unwrap();
    let process = sandbox.process();
    process.create_session("s").unwrap();
    process
        .execute_session_command("s", command, SessionExecOptions::new().run_async(true))
        .unwrap();
    (local, sandbox)
}

#[cfg(target_os = "linux")]
#[test]
fn commands_still_running_end_with_their_deleted_session() {
    let (local, sandbox) =
        running_in_a_session("sleep 60 & echo $! > background.pid; echo $$ > session.pid; wait");
    let process = sandbox.process();
    let pids = [
        pid_in(&local, sandbox.id(), "session.pid"),
        pid_in(&local, sandbox.id(), "background.pid"),
    ];
    assert!(pids.iter().all(|&p| running(p)));
    process.delete_session("s").unwrap();
    assert_ended(&pids);
}

#[cfg(target_os = "linux")]
#[test]
fn commands_still_running_end_with_the_simulator() {
    use std::time::Duration;

    let (local, sandbox) = running_in_a_session("echo $$ > session.pid; exec sleep 60");
    // A plain command with a long limit of its own, running meanwhile.
    let exec = {
        let sandbox = local.client().get(sandbox.id()).unwrap();
        std::thread::spawn(move || {
            sandbox.process().exec_with(
                // With a child of its own in the background, which ends too.
                "sleep 60 & echo $! > background.pid; echo $$ > exec.pid; wait",
                daytona::toolbox::ExecOptions::new().timeout(Duration::from_secs(120)),
            )
        })
    };
    let pid = |name: &str| pid_in(&local, sandbox.id(), name);
    let pids = [pid("session.pid"), pid("exec.pid"), pid("background.pid")];
    assert!(pids.iter().all(|&p| running(p)));
    drop(local);
    assert_ended(&pids);
    // The command's caller gets an answer, not a hang.
    assert!(exec.join().unwrap().is_err());
}

/// A command that outlives its time limit is killed with what it started
/// in the background; one that ends by itself leaves its background
/// process running, as in a real sandbox.
#[cfg(target_os = "linux")]
#[test]
fn a_command_past_its_limit_is_killed_with_its_background_children() {
    use daytona::toolbox::ExecOptions;
    use std::time::{Duration, Instant};

    let local = LocalDaytona::start().unwrap();
    let sandbox = local.client().create(CreateSandbox::new()).unwrap();
    let home = local
        .sandbox_dir(sandbox.id())
        .unwrap()
        .join("home/daytona");
    let pid = |name: &str| -> u32 {
        std::fs::read_to_string(home.join(name))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let err = sandbox
        .process()
        .exec_with(
            "sleep 60 & echo $! > late.pid; wait",
            ExecOptions::new().timeout(Duration::from_secs(1)),
        )
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    let late = pid("late.pid");
    let began = Instant::now();
    while running(late) && began.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !running(late),
        "the background sleep of a timed-out command runs on"
    );

    let done = sandbox
        .process()
        .exec("sleep 60 > /dev/null 2>&1 & echo $! > kept.pid")
        .unwrap();
    assert_eq!(done.exit_code, 0);
    let kept = pid("kept.pid");
    assert!(
        running(kept),
        "a command that ended took its background process along"
    );
    // Not left behind by the test.
    let _ = std::process::Command::new("kill")
        .arg(kept.to_string())
        .status();
}

/// A stop ends what runs in the sandbox, as in Daytona: its session
/// commands (with their sessions), PTY sessions and interpreters; a
/// start finds none of them.
#[cfg(all(target_os = "linux", feature = "websocket"))]
#[test]
fn a_stopped_sandbox_runs_nothing_any_more() {
    use daytona::toolbox::{ContextOptions, PtyOptions};
    let (local, mut sandbox) =
        running_in_a_session("sleep 60 & echo $! > background.pid; echo $$ > session.pid; wait");
    let pids = [
        pid_in(&local, sandbox.id(), "session.pid"),
        pid_in(&local, sandbox.id(), "background.pid"),
    ];
    let process = sandbox.process();
    let _pty = process.create_pty(PtyOptions::new("t")).unwrap();
    let has_python = std::process::Command::new("python3")
        .arg("-c")
        .arg("pass")
        .status()
        .is_ok_and(|s| s.success());
    if has_python {
        let interpreter = sandbox.code_interpreter();
        interpreter.create_context(ContextOptions::new()).unwrap();
    }
    sandbox.stop().unwrap();
    assert_ended(&pids);
    sandbox.start().unwrap();
    let process = sandbox.process();
    assert!(process.list_sessions().unwrap().is_empty());
    assert!(process.list_pty_sessions().unwrap().is_empty());
    let contexts = sandbox.code_interpreter().list_contexts().unwrap();
    assert!(contexts.is_empty());
}

/// A PTY session's end takes what its shell started in the background.
#[cfg(all(target_os = "linux", feature = "websocket"))]
#[test]
fn a_killed_pty_ends_its_background_jobs() {
    use daytona::toolbox::PtyOptions;
    use std::io::Write;
    let local = LocalDaytona::start().unwrap();
    let sandbox = local.client().create(CreateSandbox::new()).unwrap();
    let process = sandbox.process();
    let mut pty = process.create_pty(PtyOptions::new("t")).unwrap();
    pty.write_all(b"sleep 60 & echo $! > bg.pid\n").unwrap();
    let pid = pid_in(&local, sandbox.id(), "bg.pid");
    assert!(running(pid));
    process.kill_pty("t").unwrap();
    assert_ended(&[pid]);
}
