//! The `citytwin` command.

use std::process::ExitCode;

use citytwin::cli::{Cli, Command, inspect, tile};
use clap::Parser;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Some(Command::Inspect(args)) => inspect::run(&args).map(|r| r.errors.is_empty()),
        Some(Command::Tile(cmd)) => tile::run(&cmd).map(|_| true),
        #[cfg(feature = "viewer")]
        None => citytwin::viewer::run(cli.view).map(|()| true),
        #[cfg(not(feature = "viewer"))]
        None => Err(anyhow::anyhow!("no command: build with the `viewer` feature to open the viewer, or see --help")),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
