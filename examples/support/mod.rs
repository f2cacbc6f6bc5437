//! What the examples that need a sandbox share: a client for Daytona when
//! `Daytona::from_env()` finds credentials (in the environment, `.env.local`
//! or `.env`), else for the local simulator (`daytona::testing`, feature
//! `testing`, which the crate's own examples have); and a sandbox deleted
//! whatever the example does.

// Each example uses a part of it.
#![allow(dead_code)]

use std::fmt::Display;
use std::process::ExitCode;

use daytona::testing::{LocalDaytona, LocalDaytonaBuilder};
use daytona::{CreateSandbox, Daytona, Sandbox};

type BoxError = Box<dyn std::error::Error>;

/// A client, and the simulator behind it when there is one (dropped after
/// the client; dropping it stops the simulator).
pub struct Client {
    pub daytona: Daytona,
    _local: Option<LocalDaytona>,
}

/// A client for Daytona when [`Daytona::from_env`] finds credentials. When
/// it fails for lack of them, and only then, a client for the simulator
/// that `simulator` configures, saying so on stderr with `note` (what the
/// simulator does on this machine). Any other configuration error (a JWT
/// without organization id, an API URL or a `.env` file that does not
/// parse) is returned: a configuration meant for Daytona never ends up on
/// the simulator, whose commands are not isolated.
pub fn client(simulator: LocalDaytonaBuilder, note: &str) -> Result<Client, BoxError> {
    match Daytona::from_env() {
        Ok(daytona) => {
            return Ok(Client {
                daytona,
                _local: None,
            })
        }
        Err(e) if e.is_missing_credentials() => {}
        Err(e) => return Err(e.into()),
    }
    let local = simulator
        .start()
        .map_err(|e| format!("cannot start the local simulator: {e}"))?;
    eprintln!(
        "No Daytona credentials (DAYTONA_API_KEY or DAYTONA_JWT_TOKEN, in the environment, \
         .env.local or .env): running against a local simulator on {} \u{2014} {note}.",
        local.addr()
    );
    Ok(Client {
        daytona: local.client(),
        _local: Some(local),
    })
}

/// Runs `body` with a [`client`] (for the simulator in host mode, where
/// `what` runs on this machine, not isolated) and stops the simulator if
/// one was started; exits with `body`'s code, or 1 after printing its
/// error.
pub fn main<E: Display>(what: &str, body: impl FnOnce(&Daytona) -> Result<u8, E>) -> ExitCode {
    let note = format!("{what} on this machine, NOT isolated");
    let client = match client(LocalDaytona::builder(), &note) {
        Ok(client) => client,
        Err(e) => return failure(e),
    };
    let result = body(&client.daytona);
    drop(client);
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => failure(e),
    }
}

/// Creates a sandbox labelled `example=name`, runs `f` on it, and deletes
/// it whatever `f` did.
pub fn with_sandbox(
    daytona: &Daytona,
    name: &str,
    f: impl FnOnce(&Sandbox) -> Result<(), BoxError>,
) -> Result<(), BoxError> {
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

/// [`with_sandbox`] on a [`client`] (`simulator` and `note` as there); the
/// error, if any, is printed.
pub fn sandbox_main(
    simulator: LocalDaytonaBuilder,
    note: &str,
    name: &str,
    f: impl FnOnce(&Sandbox) -> Result<(), BoxError>,
) -> ExitCode {
    match client(simulator, note).and_then(|client| with_sandbox(&client.daytona, name, f)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => failure(e),
    }
}

/// The exit code of an example whose `run` returned `result`, after printing
/// its error, if any (with `Display`: without credentials it says which
/// variables to set).
pub fn exit(result: Result<(), impl Display>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => failure(e),
    }
}

fn failure(e: impl Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::FAILURE
}
