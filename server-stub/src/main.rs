//! `citytwin-server`: the data server. Settings come from defaults, a TOML file (`--config`),
//! then flags and `CITYTWIN_*` environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;

use citytwin_server::config::TilesetConfig;
use citytwin_server::{Config, serve};
use clap::Parser;

#[derive(Debug, Parser)]
#[command(name = "citytwin-server", version, about = "citytwin's data server")]
struct Args {
    /// A TOML configuration file.
    #[arg(long, env = "CITYTWIN_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "CITYTWIN_LISTEN")]
    listen: Option<SocketAddr>,
    /// Where the SQLite history lives.
    #[arg(long, env = "CITYTWIN_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// A tileset directory to serve under /tiles/ID/, as ID=DIR (repeatable).
    #[arg(long = "mount", value_name = "ID=DIR")]
    mounts: Vec<String>,
    /// Simulated sensors.
    #[arg(long, env = "CITYTWIN_SENSORS")]
    sensors: Option<usize>,
    /// Simulated cameras.
    #[arg(long, env = "CITYTWIN_CAMERAS")]
    cameras: Option<usize>,
    /// A tiler roads.json to place sensors and cameras along.
    #[arg(long)]
    roads: Option<PathBuf>,
    /// The browser client to serve at / : a directory with index.html and pkg/ (`wasm/build.sh`).
    #[arg(long, env = "CITYTWIN_WEB_ROOT")]
    web_root: Option<PathBuf>,
}

fn config(args: Args) -> anyhow::Result<Config> {
    let mut c = match &args.config {
        Some(p) => Config::from_file(p)?,
        None => Config::default(),
    };
    if let Some(l) = args.listen {
        c.listen = l;
    }
    if let Some(d) = args.data_dir {
        c.data_dir = d;
    }
    if let Some(n) = args.sensors {
        c.sensors.count = n;
    }
    if let Some(n) = args.cameras {
        c.cameras.count = n;
    }
    if args.roads.is_some() {
        c.sensors.roads = args.roads;
    }
    if args.web_root.is_some() {
        c.web_root = args.web_root;
    }
    for m in args.mounts {
        let (id, dir) = m.split_once('=').ok_or_else(|| anyhow::anyhow!("--mount {m:?}: expected ID=DIR"))?;
        c.tilesets.push(TilesetConfig {
            id: id.into(),
            name: id.into(),
            dir: dir.into(),
            entry: "tileset.json".into(),
        });
    }
    c.validate()?;
    Ok(c)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let config = config(Args::parse())?;
    // A thousand live clients need more than the common default of 1024 open files.
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        tracing::warn!("could not raise the open-file limit: {e}");
    }
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    serve(listener, config, async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    })
    .await
}
