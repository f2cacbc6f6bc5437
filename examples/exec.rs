//! Runs a command, a Python snippet and a background session command in a
//! new sandbox, following the command's output as it is written; then
//! deletes the sandbox.
//!
//! ```text
//! DAYTONA_API_KEY=... cargo run --example exec
//! ```

use std::process::ExitCode;
use std::time::Duration;

use daytona::toolbox::{ExecOptions, SessionExecOptions};
use daytona::{CreateSandbox, Daytona, Error, Sandbox};

fn main() -> ExitCode {
    // Credentials from the environment, `.env.local` or `.env`.
    let daytona = match Daytona::from_env() {
        Ok(daytona) => daytona,
        Err(e) if e.is_missing_credentials() => {
            eprintln!(
                "No Daytona credentials: set DAYTONA_API_KEY (or DAYTONA_JWT_TOKEN and \
                 DAYTONA_ORGANIZATION_ID), in the environment, .env.local or .env, and \
                 DAYTONA_API_URL for a server other than https://app.daytona.io/api."
            );
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match run(&daytona) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(daytona: &Daytona) -> Result<(), Error> {
    let mut sandbox = daytona.create(CreateSandbox::new().label("example", "exec"))?;
    let outcome = work(&sandbox);
    // Delete the sandbox whatever happened inside it.
    let deleted = sandbox.delete();
    outcome.and(deleted)
}

fn work(sandbox: &Sandbox) -> Result<(), Error> {
    let process = sandbox.process();

    // A command with its own time limit: the request waits for it (plus a
    // margin), not for the client's default request timeout.
    let out = process.exec_with(
        "sh -c 'echo $GREETING from $(pwd)'",
        ExecOptions::new()
            .cwd("/tmp")
            .env("GREETING", "hello")
            .timeout(Duration::from_secs(30)),
    )?;
    println!("exec: exit {} -> {}", out.exit_code, out.result.trim());

    // Code in the sandbox's language (Python unless created otherwise).
    let run = process.code_run("import sys; print(sys.version.split()[0])")?;
    println!(
        "code_run: exit {} -> python {}",
        run.exit_code,
        run.result.trim()
    );

    // A background command in a session, followed as it runs.
    process.create_session("demo")?;
    let started = process.execute_session_command(
        "demo",
        "for i in 1 2 3; do echo step $i; echo warn $i >&2; sleep 1; done",
        SessionExecOptions::new().run_async(true),
    )?;
    follow(sandbox, &started.cmd_id)?;
    let command = process.get_session_command("demo", &started.cmd_id)?;
    println!("session command ended with {:?}", command.exit_code);
    process.delete_session("demo")
}

#[cfg(feature = "websocket")]
fn follow(sandbox: &Sandbox, command_id: &str) -> Result<(), Error> {
    use daytona::toolbox::{FollowOptions, LogChunk};

    let options = FollowOptions::new().timeout(Duration::from_secs(60));
    sandbox.process().follow_session_command_logs(
        "demo",
        command_id,
        options,
        |chunk| match chunk {
            LogChunk::Stderr(text) => print!("[err] {text}"),
            other => print!("[out] {}", other.text()),
        },
    )
}

/// Without the `websocket` feature: wait, then fetch the logs whole.
#[cfg(not(feature = "websocket"))]
fn follow(sandbox: &Sandbox, command_id: &str) -> Result<(), Error> {
    std::thread::sleep(Duration::from_secs(4));
    let logs = sandbox
        .process()
        .get_session_command_logs("demo", command_id)?;
    print!("[out] {}[err] {}", logs.stdout, logs.stderr);
    Ok(())
}
