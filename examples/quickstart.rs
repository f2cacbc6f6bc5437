//! Creates a sandbox, prints its id and state, runs a command in it, and
//! deletes it.
//!
//! ```text
//! DAYTONA_API_KEY=... cargo run --example quickstart
//! ```
//!
//! Without credentials it runs against the local simulator
//! (`daytona::testing::LocalDaytona`, feature `testing`, which the crate's
//! own examples have): the command then runs on this machine, not isolated.

use std::process::ExitCode;

use daytona::testing::LocalDaytona;
use daytona::{CreateSandbox, Daytona, Error};

fn main() -> ExitCode {
    let has_credentials = std::env::var_os("DAYTONA_API_KEY").is_some()
        || std::env::var_os("DAYTONA_JWT_TOKEN").is_some();
    // Kept alive until the end of `main`: dropping it stops the simulator.
    let mut local = None;
    let daytona = if has_credentials {
        Daytona::from_env()
    } else {
        let simulator = match LocalDaytona::start() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: cannot start the local simulator: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!(
            "No DAYTONA_API_KEY: running against a local simulator on {} \u{2014} commands run \
             on this machine, NOT isolated.",
            simulator.addr()
        );
        let client = simulator.client();
        local = Some(simulator);
        Ok(client)
    };
    let result = daytona.and_then(|daytona| run(&daytona));
    drop(local);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(daytona: &Daytona) -> Result<(), Error> {
    let mut sandbox = match daytona.create(CreateSandbox::new().label("example", "quickstart")) {
        Ok(sandbox) => sandbox,
        Err(e) => {
            // A sandbox the server created but that did not start is ours to clean up.
            if let Some(id) = e.sandbox_id() {
                if let Ok(Some(mut orphan)) = daytona.get_opt(id) {
                    let _ = orphan.delete();
                }
            }
            return Err(e);
        }
    };
    let state = sandbox
        .state()
        .map_or_else(|| "unknown".to_string(), |s| s.to_string());
    println!("sandbox {} is {state}", sandbox.id());
    let run = sandbox.process().exec("echo Hello from Daytona");
    // Delete the sandbox whatever the command did.
    let deleted = sandbox.delete();
    let out = run?;
    println!("exit code {}: {}", out.exit_code, out.result.trim_end());
    deleted?;
    println!("deleted {}", sandbox.id());
    Ok(())
}
