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
