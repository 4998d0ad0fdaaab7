//! citytwin's thin data server (axum + tokio): serves tileset and model directories over HTTP.
//! Runs as its own binary or in-process beside the viewer.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tower_http::compression::CompressionLayer;
use tower_http::cors::CorsLayer;
use tower_http::services::ServeDir;
use tower_http::trace::TraceLayer;

/// A directory served under `/tiles/{name}/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub name: String,
    pub dir: PathBuf,
}

impl std::str::FromStr for Mount {
    type Err = String;

    /// `NAME=DIR`.
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, dir) = s.split_once('=').ok_or_else(|| format!("expected NAME=DIR, got {s:?}"))?;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(format!("mount name {name:?} must be letters, digits, '-' or '_'"));
        }
        Ok(Mount { name: name.to_owned(), dir: PathBuf::from(dir) })
    }
}

/// The HTTP routes: `/healthz` and one static tree per mount.
pub fn router(mounts: &[Mount]) -> Router {
    let mut app = Router::new().route("/healthz", get(|| async { "ok" }));
    for m in mounts {
        app = app.nest_service(&format!("/tiles/{}", m.name), ServeDir::new(&m.dir));
    }
    app.layer(CompressionLayer::new()).layer(CorsLayer::permissive()).layer(TraceLayer::new_for_http())
}

/// Serves `mounts` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    mounts: &[Mount],
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    for m in mounts {
        anyhow::ensure!(m.dir.is_dir(), "mount {}: {} is not a directory", m.name, m.dir.display());
    }
    axum::serve(listener, router(mounts)).with_graceful_shutdown(shutdown).await.context("serving")
}

/// A server running on its own runtime thread; dropping it shuts it down gracefully.
pub struct ServerHandle {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<anyhow::Result<()>>>,
}

impl ServerHandle {
    /// Binds `addr` (port 0 picks a free one) and serves `mounts` in the background.
    pub fn start(addr: SocketAddr, mounts: Vec<Mount>) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        let listener = runtime.block_on(TcpListener::bind(addr)).with_context(|| format!("binding {addr}"))?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name("citytwin-server".into()).spawn(move || {
            runtime.block_on(serve(listener, &mounts, async {
                let _ = rx.await;
            }))
        })?;
        Ok(Self { addr, shutdown: Some(tx), thread: Some(thread) })
    }

    /// The base URL, e.g. `http://127.0.0.1:8080`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and waits for it, returning how serving ended.
    pub fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown_and_join()
    }

    fn shutdown_and_join(&mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(result)) => result,
            Some(Err(_)) => anyhow::bail!("server thread panicked"),
            None => Ok(()),
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown_and_join() {
            tracing::error!("server stopped with an error: {e:#}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_parse_and_reject_bad_names() {
        let m: Mount = "city=/data/city".parse().unwrap();
        assert_eq!(m, Mount { name: "city".into(), dir: "/data/city".into() });
        assert!("nodir".parse::<Mount>().is_err());
        assert!("../x=/tmp".parse::<Mount>().is_err());
    }
}
