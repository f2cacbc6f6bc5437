//! What the interactive examples share: a client for Daytona when there
//! are credentials, else for the local simulator.

use daytona::testing::LocalDaytona;
use daytona::Daytona;

/// A client from the environment (`DAYTONA_API_KEY`, ...), or one for a
/// local simulator when there are no credentials: keep the simulator until
/// the end (dropping it stops it). `what` says what runs on this machine
/// then.
pub fn client(what: &str) -> Result<(Daytona, Option<LocalDaytona>), String> {
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
