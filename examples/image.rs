//! Builds a declarative image and prints its Dockerfile and build contexts
//! with their hashes. Nothing is sent anywhere.
//!
//! ```text
//! cargo run --example image                  # a Python image with this crate's src/ copied in
//! cargo run --example image -- path/to/Dockerfile
//! ```

#[cfg(not(feature = "images"))]
fn main() {
    eprintln!("this example needs the `images` feature (on by default)");
}

#[cfg(feature = "images")]
fn main() -> Result<(), daytona::Error> {
    use daytona::{Image, PipInstallOptions};

    let image = match std::env::args().nth(1) {
        Some(dockerfile) => Image::from_dockerfile(dockerfile)?,
        None => Image::debian_slim(Some("3.12"))?
            .pip_install_with(
                ["requests>=2.31", "numpy"],
                PipInstallOptions::new().extra_options("--no-cache-dir"),
            )?
            .add_local_dir("src", "/home/daytona/src")?
            .add_local_file("Cargo.toml", "/home/daytona/")?
            .env([("APP_ENV", "demo"), ("GREETING", "hello world")])?
            .workdir("/home/daytona")?
            .run_commands(["ls -la /home/daytona"])
            .entrypoint(["/bin/bash", "-c"])
            .cmd(["sleep infinity"]),
    };
    println!("{}", image.dockerfile());
    for context in image.contexts() {
        let entries = context.entries()?;
        println!(
            "context {} as {:?}: hash {}, {} tar entries",
            context.source_path.display(),
            context.archive_path,
            context.hash()?,
            entries.len()
        );
    }
    Ok(())
}
