//! Creates a sandbox, prints its id and state, runs a command in it, and
//! deletes it.
//!
//! ```text
//! DAYTONA_API_KEY=... cargo run --example quickstart
//! ```
//!
//! It uses the credentials `Daytona::from_env()` finds: `DAYTONA_API_KEY`
//! (or `DAYTONA_JWT_TOKEN` and `DAYTONA_ORGANIZATION_ID`) in the
//! environment, `.env.local` or `.env`. Without any, it runs against the
//! local simulator (`daytona::testing::LocalDaytona`, feature `testing`,
//! which the crate's own examples have): the command then runs on this
//! machine, not isolated.

mod support;

use std::process::ExitCode;

use daytona::{CreateSandbox, Daytona, Error};

fn main() -> ExitCode {
    support::main("its command runs", |daytona| run(daytona).map(|()| 0))
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
