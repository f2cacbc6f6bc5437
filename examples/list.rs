//! Lists sandboxes, optionally filtered by a label, one page at a time.
//!
//! ```text
//! DAYTONA_API_KEY=... cargo run --example list -- [key=value]
//! ```

mod support;

use daytona::{Daytona, ListSandboxes, SandboxSort, SortOrder};

fn main() -> std::process::ExitCode {
    support::exit(run())
}

fn run() -> Result<(), daytona::Error> {
    let daytona = Daytona::from_env()?;
    let mut query = ListSandboxes::new()
        .limit(200)
        .sort(SandboxSort::CreatedAt, SortOrder::Desc);
    if let Some(filter) = std::env::args().nth(1) {
        let (key, value) = filter.split_once('=').unwrap_or((&filter, ""));
        query = query.label(key, value);
    }
    let mut count = 0;
    for sandbox in daytona.list(query) {
        let sandbox = sandbox?;
        let state = sandbox.state().map_or("?".to_string(), |s| s.to_string());
        println!("{:<40} {:<12} {}", sandbox.id(), state, sandbox.name());
        count += 1;
    }
    println!("{count} sandboxes");
    Ok(())
}
