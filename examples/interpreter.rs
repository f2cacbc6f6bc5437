//! The stateful code interpreter: runs that share their state in a
//! context, output streamed as it is produced, an exception, a timeout.
//!
//! ```text
//! DAYTONA_API_KEY=... cargo run --example interpreter
//! ```
//!
//! Without credentials (none in the environment, `.env.local` or `.env`)
//! it runs against the local simulator
//! (`daytona::testing::LocalDaytona`), whose interpreter is this machine's
//! `python3`, NOT isolated.

use std::process::ExitCode;
use std::time::Duration;

mod support;

use daytona::toolbox::{ContextOptions, OutputChunk, RunCodeOptions};
use daytona::{CreateSandbox, Daytona, Error};

fn main() -> ExitCode {
    support::main("code runs in python3", |daytona| run(daytona).map(|()| 0))
}

fn run(daytona: &Daytona) -> Result<(), Error> {
    let mut sandbox = daytona.create(CreateSandbox::new().label("example", "interpreter"))?;
    let outcome = interpret(&sandbox);
    sandbox.delete()?;
    outcome
}

fn interpret(sandbox: &daytona::Sandbox) -> Result<(), Error> {
    let interpreter = sandbox.code_interpreter();
    let ctx = interpreter.create_context(ContextOptions::new())?;
    println!("context {} in {}", ctx.id, ctx.cwd);

    // State persists between runs of one context.
    interpreter.run_code(
        "import math\nradius = 2",
        RunCodeOptions::new().context(&ctx),
    )?;
    let run = interpreter.run_code(
        "print(f'area: {math.pi * radius ** 2:.2f}')",
        RunCodeOptions::new()
            .context(&ctx)
            .on_stdout(|text| print!("stdout> {text}")),
    )?;
    assert_eq!(run.stdout, "area: 12.57\n");

    // Output as it is produced, as an iterator that may stop early.
    let code =
        "import time\nfor i in range(5):\n    print('tick', i, flush=True)\n    time.sleep(0.2)";
    for chunk in interpreter.run_code_stream(code, RunCodeOptions::new().context(&ctx))? {
        match chunk? {
            OutputChunk::Stdout(text) => print!("stream> {text}"),
            OutputChunk::Stderr(text) => eprint!("stream! {text}"),
            other => println!("stream: {other:?}"),
        }
    }

    // An exception is a result, not an error of the call.
    let run = interpreter.run_code("1 / 0", RunCodeOptions::new().context(&ctx))?;
    if let Some(e) = &run.error {
        println!("raised {}: {}", e.name, e.value);
    }

    // A run that outlives its timeout is the crate's timeout error.
    let slow = interpreter.run_code(
        "import time\ntime.sleep(60)",
        RunCodeOptions::new()
            .context(&ctx)
            .timeout(Duration::from_secs(1)),
    );
    match slow {
        Err(e) if e.is_timeout() => println!("timed out as asked: {e}"),
        other => println!("unexpected: {other:?}"),
    }

    interpreter.delete_context(&ctx)?;
    Ok(())
}
