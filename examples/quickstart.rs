//! Creates a sandbox, prints its id and state, runs a command in it, and
//! deletes it.
//!
//! ```text
//! DAYTONA_API_KEY=... cargo run --example quickstart
//! ```

use std::process::ExitCode;

use daytona::{CreateSandbox, Daytona, Error};

fn main() -> ExitCode {
    if std::env::var_os("DAYTONA_API_KEY").is_none()
        && std::env::var_os("DAYTONA_JWT_TOKEN").is_none()
    {
        eprintln!(
            "No Daytona credentials: set DAYTONA_API_KEY (or DAYTONA_JWT_TOKEN and \
             DAYTONA_ORGANIZATION_ID), and DAYTONA_API_URL for a server other than \
             https://app.daytona.io/api."
        );
        return ExitCode::FAILURE;
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Error> {
    let daytona = Daytona::from_env()?;
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
    println!("sandbox {} is {:?}", sandbox.id(), sandbox.state());
    let run = sandbox.process().exec("echo Hello from Daytona");
    // Delete the sandbox whatever the command did.
    let deleted = sandbox.delete();
    let out = run?;
    println!("exit code {}: {}", out.exit_code, out.result.trim_end());
    deleted?;
    println!("deleted {}", sandbox.id());
    Ok(())
}
