//! An interactive terminal in a sandbox: what you type goes to a shell in
//! the sandbox, what it prints comes back. The terminal takes your
//! terminal's size on start. End with `exit` (or end of input).
//!
//! ```text
//! DAYTONA_API_KEY=... cargo run --example pty
//! ```
//!
//! Without credentials (none in the environment, `.env.local` or `.env`)
//! it runs against the local simulator
//! (`daytona::testing::LocalDaytona`): the shell then runs on this machine,
//! not isolated. Input is sent a line at a time (the local terminal stays
//! in its usual line mode).

use std::io::{BufRead, Write};
use std::process::{Command, ExitCode, Stdio};

mod support;

use daytona::toolbox::PtyOptions;
use daytona::{CreateSandbox, Daytona};

fn main() -> ExitCode {
    support::main("the shell runs", |daytona| {
        run(daytona).map(|code| u8::try_from(code).unwrap_or(1))
    })
}

fn run(daytona: &Daytona) -> Result<i32, Box<dyn std::error::Error>> {
    let mut sandbox = daytona.create(CreateSandbox::new().label("example", "pty"))?;
    let outcome = terminal(&sandbox);
    sandbox.delete()?;
    outcome
}

fn terminal(sandbox: &daytona::Sandbox) -> Result<i32, Box<dyn std::error::Error>> {
    let (cols, rows) = terminal_size();
    let pty = sandbox
        .process()
        .create_pty(PtyOptions::new(format!("example-{}", std::process::id())))?;
    // On start, the sandbox's terminal takes the size of this one.
    pty.resize(cols, rows)?;
    let (mut output, mut input) = pty.split();
    let exit = std::thread::scope(|scope| {
        // This terminal's input to the sandbox, a line at a time; `exit`
        // at the end of input.
        scope.spawn(move || {
            let stdin = std::io::stdin();
            for line in stdin.lock().lines() {
                let Ok(line) = line else { break };
                if input.write_all(format!("{line}\n").as_bytes()).is_err() {
                    return; // the session ended
                }
            }
            let _ = input.write_all(b"exit\n");
        });
        // The sandbox's output to this terminal, as it comes.
        let mut stdout = std::io::stdout();
        output.on_data(|bytes| {
            let _ = stdout.write_all(bytes);
            let _ = stdout.flush();
        })
    })?;
    if let Some(error) = &exit.error {
        eprintln!("the terminal ended with an error: {error}");
    }
    Ok(exit.exit_code.unwrap_or(1))
}

/// This terminal's columns and rows (80×24 when it cannot tell).
fn terminal_size() -> (u16, u16) {
    let stty = Command::new("stty")
        .arg("size")
        .stdin(Stdio::inherit())
        .stderr(Stdio::null())
        .output();
    if let Ok(out) = stty {
        let text = String::from_utf8_lossy(&out.stdout);
        let mut words = text.split_whitespace().map(|w| w.parse::<u16>());
        if let (Some(Ok(rows)), Some(Ok(cols))) = (words.next(), words.next()) {
            if rows > 0 && cols > 0 {
                return (cols.min(1000), rows.min(1000));
            }
        }
    }
    let env = |name: &str, default: u16| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|v| (1..=1000).contains(v))
            .unwrap_or(default)
    };
    (env("COLUMNS", 80), env("LINES", 24))
}
