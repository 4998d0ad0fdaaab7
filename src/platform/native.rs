//! The desktop: a small tokio runtime for fetches and the WebSocket (tokio-tungstenite), local
//! files, and Bevy's plugins without its log setup (`main` installs tracing-subscriber).

use std::future::Future;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, channel};

use bevy::app::PluginGroupBuilder;
use bevy::prelude::*;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use super::SocketEvent;
use crate::tiles::LoadError;

/// `Send` where tasks may run on other threads (here: always required).
pub trait MaybeSend: Send {}
impl<T: Send> MaybeSend for T {}

/// Where the client's I/O runs.
#[derive(Resource, Clone)]
pub struct Runtime(std::sync::Arc<tokio::runtime::Runtime>);

impl Runtime {
    pub fn new() -> anyhow::Result<Self> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("citytwin-io")
            .enable_all()
            .build()?;
        Ok(Self(rt.into()))
    }

    pub fn spawn(&self, task: impl Future<Output = ()> + MaybeSend + 'static) {
        self.0.spawn(task);
    }
}

/// Reads a `file://` URL.
pub async fn read_file(url: &str) -> Result<Vec<u8>, LoadError> {
    let path = url::Url::parse(url)
        .ok()
        .and_then(|u| u.to_file_path().ok())
        .unwrap_or_else(|| url.trim_start_matches("file://").into());
    tokio::fs::read(&path).await.map_err(|e| LoadError::Io(format!("{}: {e}", path.display())))
}

/// A WebSocket carrying text frames; dropping it closes the connection.
pub struct Socket {
    outgoing: tokio::sync::mpsc::UnboundedSender<String>,
    events: Mutex<Receiver<SocketEvent>>,
}

impl Socket {
    pub fn connect(runtime: &Runtime, url: &str) -> Self {
        let (outgoing, mut to_send) = tokio::sync::mpsc::unbounded_channel::<String>();
        let (events, received) = channel();
        let url = url.to_owned();
        runtime.spawn(async move {
            let ws = match tokio_tungstenite::connect_async(url.as_str()).await {
                Ok((ws, _)) => ws,
                Err(e) => {
                    let _ = events.send(SocketEvent::Closed(format!("{url}: {e}")));
                    return;
                }
            };
            let _ = events.send(SocketEvent::Open);
            let (mut sink, mut stream) = ws.split();
            let reason = loop {
                tokio::select! {
                    out = to_send.recv() => match out {
                        Some(text) => if let Err(e) = sink.send(Message::text(text)).await { break e.to_string() },
                        None => { let _ = sink.close().await; break "closed by the client".into() }
                    },
                    msg = stream.next() => match msg {
                        Some(Ok(Message::Text(t))) => { let _ = events.send(SocketEvent::Text(t.to_string())); }
                        Some(Ok(Message::Binary(b))) => { let _ = events.send(SocketEvent::Binary(b.to_vec())); }
                        Some(Ok(Message::Close(frame))) => break frame.map_or("closed by the server".into(), |f| format!("closed by the server: {}", f.reason)),
                        Some(Ok(_)) => {}
                        Some(Err(e)) => break e.to_string(),
                        None => break "connection lost".into(),
                    },
                }
            };
            let _ = events.send(SocketEvent::Closed(reason));
        });
        Self { outgoing, events: Mutex::new(received) }
    }

    pub fn send(&self, text: String) {
        let _ = self.outgoing.send(text);
    }

    /// Everything that happened since the last call.
    pub fn drain(&self) -> Vec<SocketEvent> {
        self.events.lock().map(|rx| rx.try_iter().collect()).unwrap_or_default()
    }
}

/// Lets freed tile buffers go back to the system. glibc serves a large allocation from its own
/// mapping, unmapped when freed, but raises that threshold to the size of each such block freed
/// (up to 32 MiB): after the first tiles come and go, every tile's arrays land in the heap arenas,
/// whose freed space stays with the process. A fixed threshold (glibc's initial 128 KiB) keeps
/// them mapped (the README's memory figures show the difference).
#[cfg(feature = "viewer")]
pub fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it is called before the viewer starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 << 10);
    }
}

/// Gives the free pages inside the heap back to the system: what tiles left behind in glibc's arenas
/// (their many small allocations: entities, pick tables, the renderer's bookkeeping) stays with the
/// process otherwise, between the arenas' live chunks.
#[cfg(feature = "viewer")]
pub fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory; glibc locks each arena while it does.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Saves a text the user asked for (a drill's report) as `name` in the working directory; returns where.
pub fn save_text(name: &str, text: &str) -> Result<String, String> {
    let path = std::env::current_dir().map_err(|e| e.to_string())?.join(name);
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path.display().to_string())
}

/// Bevy's default plugins with this window, or with none at all (`None`: no winit, the frame loop
/// runs on its own and the views render into an image; for machines with no display).
pub fn default_plugins(window: Option<Window>) -> PluginGroupBuilder {
    let plugins = DefaultPlugins.build().disable::<bevy::log::LogPlugin>();
    match window {
        Some(window) => plugins.set(WindowPlugin { primary_window: Some(window), ..default() }),
        None => plugins
            .set(WindowPlugin {
                primary_window: None,
                exit_condition: bevy::window::ExitCondition::DontExit,
                close_when_requested: false,
                ..default()
            })
            .disable::<bevy::winit::WinitPlugin>()
            .add(bevy::app::ScheduleRunnerPlugin::run_loop(std::time::Duration::ZERO)),
    }
}

/// Draws each frame before the next one begins (no pipelined rendering): for frames locked to a
/// video wall's, whose swap waits for the master while the next frame waits for its state.
pub fn unpipelined(plugins: PluginGroupBuilder) -> PluginGroupBuilder {
    plugins.disable::<bevy::render::pipelined_rendering::PipelinedRenderingPlugin>()
}

/// The browser build's entry point, run natively: says where to go instead.
pub fn start() {
    eprintln!("citytwin-web runs in a browser: build it with `bash wasm/build.sh`; natively, run `citytwin`");
    std::process::exit(2);
}
