//! What the computer-use and language-server examples share: a client for
//! Daytona when `DAYTONA_API_KEY` (or `DAYTONA_JWT_TOKEN`) is set, else for
//! the local simulator; and a sandbox deleted whatever the example does.

use std::process::ExitCode;

use daytona::testing::{LocalDaytona, LocalDaytonaBuilder};
use daytona::{CreateSandbox, Daytona, Sandbox};

/// A client, and the simulator behind it when there is one (stopped when
/// dropped).
pub struct Client {
    pub daytona: Daytona,
    _local: Option<LocalDaytona>,
}

/// A client from the environment, or one for the local simulator that
/// `simulator` configures.
pub fn client(simulator: LocalDaytonaBuilder) -> Result<Client, Box<dyn std::error::Error>> {
    let has_credentials = std::env::var_os("DAYTONA_API_KEY").is_some()
        || std::env::var_os("DAYTONA_JWT_TOKEN").is_some();
    if has_credentials {
        return Ok(Client {
            daytona: Daytona::from_env()?,
            _local: None,
        });
    }
    let local = simulator.start()?;
    println!(
        "No DAYTONA_API_KEY: running against a local simulator on {}.",
        local.addr()
    );
    Ok(Client {
        daytona: local.client(),
        _local: Some(local),
    })
}

/// Creates a sandbox labelled `example=name`, runs `f` on it, and deletes
/// it whatever `f` did.
pub fn with_sandbox(
    daytona: &Daytona,
    name: &str,
    f: impl FnOnce(&Sandbox) -> Result<(), Box<dyn std::error::Error>>,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut sandbox = match daytona.create(CreateSandbox::new().label("example", name)) {
        Ok(sandbox) => sandbox,
        Err(e) => {
            // A sandbox the server created but that did not start is ours.
            if let Some(id) = e.sandbox_id() {
                if let Ok(Some(mut orphan)) = daytona.get_opt(id) {
                    let _ = orphan.delete();
                }
            }
            return Err(e.into());
        }
    };
    println!("sandbox {}", sandbox.id());
    let outcome = f(&sandbox);
    let deleted = sandbox.delete();
    outcome?;
    deleted?;
    Ok(())
}

/// [`with_sandbox`] on a [`client`]; the error, if any, is printed.
pub fn main(
    simulator: LocalDaytonaBuilder,
    name: &str,
    f: impl FnOnce(&Sandbox) -> Result<(), Box<dyn std::error::Error>>,
) -> ExitCode {
    match client(simulator).and_then(|client| with_sandbox(&client.daytona, name, f)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
