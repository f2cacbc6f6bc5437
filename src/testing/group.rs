//! Host processes of the simulator in process groups of their own: a
//! command that times out, or is running when the simulator stops, is
//! killed with everything it started (`sleep 60 &`, git's helpers), not
//! only its shell.
//!
//! A command that ends by itself leaves what it started in the background
//! running, as in a real sandbox (`nohup server &`). Being outside the
//! terminal's foreground group, host commands do not get the terminal's
//! Ctrl-C: they end when the simulator is dropped, and a test run
//! interrupted from the terminal leaves one still running to end by itself.

use std::process::{Child, Command};

/// Makes `command` the leader of a new process group (on Unix).
pub(crate) fn own_group(command: &mut Command) -> &mut Command {
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(command, 0);
    command
}

/// Kills `child` and the process group it leads, then reaps it. The child
/// is not reaped before the group is killed, so its id still names its
/// group and no other process.
pub(crate) fn end(child: &mut Child) {
    #[cfg(unix)]
    if let Ok(pid) = i32::try_from(child.id()) {
        use nix::sys::signal::{killpg, Signal};
        // Fails (harmlessly) when the command did not get a group of its
        // own or the group is already gone.
        let _ = killpg(nix::unistd::Pid::from_raw(pid), Signal::SIGKILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Hangs up every process group of the session `sid` (a terminal's, led
/// by its shell): what the shell started in the background ends with the
/// terminal, as a hangup ends a shell's jobs; what ignores `SIGHUP`
/// (`nohup`) stays. Linux only (the sessions are read from `/proc`).
pub(crate) fn hang_up_session(sid: u32) {
    #[cfg(target_os = "linux")]
    {
        use nix::sys::signal::{killpg, Signal};
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return;
        };
        let mut groups = std::collections::BTreeSet::new();
        for entry in entries.flatten() {
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // `pid (name) state ppid pgrp session ...`; the name may hold
            // spaces and parentheses.
            let Some((_, rest)) = stat.rsplit_once(") ") else {
                continue;
            };
            let fields: Vec<&str> = rest.split_whitespace().collect();
            if let (Some(group), Some(session)) = (fields.get(2), fields.get(3)) {
                if session.parse() == Ok(sid) {
                    groups.extend(group.parse::<i32>().ok().filter(|g| *g > 0));
                }
            }
        }
        for group in groups {
            let _ = killpg(nix::unistd::Pid::from_raw(group), Signal::SIGHUP);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = sid;
}
