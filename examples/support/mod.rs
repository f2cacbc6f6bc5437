//! What the interactive examples share: a client for Daytona when there
//! are credentials, else for the local simulator.

use std::fmt::Display;
use std::process::ExitCode;

use daytona::testing::LocalDaytona;
use daytona::Daytona;

/// Runs `body` with a [`client`] (`what` as there) and stops the simulator
/// if one was started; exits with `body`'s code, or 1 after printing its
/// error.
pub fn main<E: Display>(what: &str, body: impl FnOnce(&Daytona) -> Result<u8, E>) -> ExitCode {
    let (daytona, local) = match client(what) {
        Ok(client) => client,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = body(&daytona);
    drop(local);
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A client from the environment (`DAYTONA_API_KEY`, ...), or one for a
/// local simulator when there are no credentials: keep the simulator until
/// the end (dropping it stops it). `what` says what runs on this machine
/// then.
fn client(what: &str) -> Result<(Daytona, Option<LocalDaytona>), String> {
    let has_credentials = std::env::var_os("DAYTONA_API_KEY").is_some()
        || std::env::var_os("DAYTONA_JWT_TOKEN").is_some();
    if has_credentials {
        return Daytona::from_env()
            .map(|d| (d, None))
            .map_err(|e| e.to_string());
    }
    let simulator =
        LocalDaytona::start().map_err(|e| format!("cannot start the local simulator: {e}"))?;
    eprintln!(
        "No DAYTONA_API_KEY: running against a local simulator on {} \u{2014} {what} on this \
         machine, NOT isolated.",
        simulator.addr()
    );
    Ok((simulator.client(), Some(simulator)))
}
