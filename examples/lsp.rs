//! Asks a language server in a sandbox about a Python project: uploads two
//! files, starts the server, opens a file, lists its symbols, asks for
//! completions and searches the whole project.
//!
//! ```text
//! DAYTONA_API_KEY=... cargo run --example lsp
//! ```
//!
//! Without credentials (none in the environment, `.env.local` or `.env`)
//! it runs against the local simulator, whose
//! "language server" is a small scan of the files (definitions and the
//! file's identifiers), not a real one.

mod support;

use std::process::ExitCode;

use daytona::testing::LocalDaytona;
use daytona::toolbox::{LspLanguage, Position};
use daytona::Sandbox;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const PROJECT: &str = "/home/daytona/greeter";

const MAIN: &str = "\
from util import shout


class Greeter:
    def greet(self, name):
        return shout(f\"hello {name}\")


def main():
    g = Greeter()
    g.gre
";

fn main() -> ExitCode {
    // Host mode, for the simulator's file scan; this example runs no command.
    support::sandbox_main(
        LocalDaytona::builder(),
        "the files go to a directory of this machine and no command runs",
        "lsp",
        run,
    )
}

fn run(sandbox: &Sandbox) -> Result {
    let fs = sandbox.fs();
    fs.upload_bytes(MAIN, &format!("{PROJECT}/main.py"))?;
    fs.upload_bytes(
        "def shout(text):\n    return text.upper()\n",
        &format!("{PROJECT}/util.py"),
    )?;

    let lsp = sandbox.lsp_server(LspLanguage::Python, PROJECT);
    lsp.start()?;
    // Stop the server whatever the session does.
    let session = ask(&lsp);
    lsp.stop()?;
    session
}

fn ask(lsp: &daytona::LspServer<'_>) -> Result {
    println!("main.py is {}", lsp.file_uri("main.py")?);
    lsp.did_open("main.py")?;
    for symbol in lsp.document_symbols("main.py")? {
        let at = symbol.location.range.start;
        println!(
            "symbol {:?} {} at {}:{}",
            symbol.kind, symbol.name, at.line, at.character
        );
    }
    // After `g.gre` on line 10 (lines and characters count from 0).
    let completions = lsp.completions("main.py", Position::new(10, 9))?;
    for item in &completions.items {
        println!(
            "completion {} ({:?}) {}",
            item.label,
            item.kind,
            item.detail.as_deref().unwrap_or("")
        );
    }
    for symbol in lsp.sandbox_symbols("shout")? {
        println!("project symbol {} in {}", symbol.name, symbol.location.uri);
    }
    lsp.did_close("main.py")?;
    Ok(())
}
