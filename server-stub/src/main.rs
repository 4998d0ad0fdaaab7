//! `citytwin-server`: serve tileset directories over HTTP.

use std::net::SocketAddr;

use citytwin_server::{Mount, serve};
use clap::Parser;

#[derive(Debug, Parser)]
#[command(name = "citytwin-server", version, about = "citytwin's data server")]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "CITYTWIN_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// A directory to serve under /tiles/NAME/, as NAME=DIR (repeatable).
    #[arg(long = "mount", value_name = "NAME=DIR")]
    mounts: Vec<Mount>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    serve(listener, &args.mounts, async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    })
    .await
}
