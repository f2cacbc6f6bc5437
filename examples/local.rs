//! Runs code that uses Daytona against the local simulator: no credentials,
//! no network, no cost (feature `testing`; the crate's own examples have it).
//!
//! ```text
//! cargo run --example local
//! ```
//!
//! The first half uses the scripted mode, where nothing runs on this
//! machine; the second the host mode, where commands DO run on this machine,
//! not isolated, in the sandbox's temporary directory.

use std::time::Duration;

use daytona::testing::{ExecResult, Fault, LocalDaytona};
use daytona::{CreateSandbox, Daytona, ListSandboxes};

/// The code under test: runs the project's tests in a fresh sandbox and
/// says whether they passed.
fn tests_pass(daytona: &Daytona) -> daytona::Result<bool> {
    let mut sandbox = daytona.create(CreateSandbox::new().label("job", "ci"))?;
    let run = sandbox.process().exec("make test");
    sandbox.delete()?;
    Ok(run?.exit_code == 0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Scripted: `make test` gets the registered answer; nothing runs.
    let local = LocalDaytona::builder()
        .scripted()
        .on_exec("make test", ExecResult::new(0, "all 12 tests passed"))
        .start()?;
    let daytona = local.client();
    println!("scripted: tests pass = {}", tests_pass(&daytona)?);

    local.on_exec("make test", ExecResult::new(2, "1 test failed"));
    println!("scripted, failing: tests pass = {}", tests_pass(&daytona)?);

    // Faults: the next two reads of a sandbox answer 503; the SDK retries.
    local.on_exec("make test", ExecResult::ok("all 12 tests passed"));
    local.clear_requests();
    local.fail_next("GET /api/sandbox/*", 2, Fault::Status(503));
    println!("with two 503s: tests pass = {}", tests_pass(&daytona)?);
    let retried = local
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/api/sandbox/"))
        .count();
    println!(
        "requests received: {}, sandbox reads: {retried}",
        local.requests().len()
    );

    // Host mode: files and commands on a real temporary directory.
    let local = LocalDaytona::builder()
        .state_delay(Duration::from_millis(20))
        .start()?;
    println!(
        "host mode on {}: commands run on this machine, NOT isolated",
        local.addr()
    );
    let daytona = local.client();
    let mut sandbox = daytona.create(CreateSandbox::new().label("job", "files"))?;
    sandbox
        .fs()
        .upload_bytes("print('hello from a file')\n", "app/main.py")?;
    let run = sandbox.process().exec("ls app && wc -c app/main.py")?;
    println!("exit {}:\n{}", run.exit_code, run.result.trim_end());
    println!(
        "sandbox files live in {}",
        local
            .sandbox_dir(sandbox.id())
            .unwrap_or_default()
            .display()
    );
    for sb in daytona.list(ListSandboxes::new().label("job", "files")) {
        println!("listed {}", sb?.id());
    }
    sandbox.delete()?;
    Ok(())
}
