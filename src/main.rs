//! The `citytwin` command: the desktop's composition root, the viewer (by default) and the
//! command-line tools.

use std::process::ExitCode;

use citytwin::cli::{Command, inspect, tile};
use clap::Parser;

/// citytwin: a 3D digital twin of a whole city. Without a command it opens the viewer.
#[derive(Debug, Parser)]
#[command(name = "citytwin", version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[cfg(feature = "viewer")]
    #[command(flatten)]
    view: citytwin::viewer::ViewerArgs,
}

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
