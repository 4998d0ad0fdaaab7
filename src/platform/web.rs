//! The browser: tasks on the page's event loop, the browser's WebSocket, a canvas that fills the
//! page, the catalog of the server that served the page, and progress reported to the page
//! (`document.body.dataset`, read by `index.html` and the browser test).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};

use anyhow::{Context, anyhow};
use bevy::app::PluginGroupBuilder;
use bevy::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::SocketEvent;
use crate::protocol::catalog::{Catalog, TilesetLayer};
use crate::tiles::LoadError;
use crate::viewer::{Bookmark, Fetcher, Live, PlanningStart, TilesSettings, Tilesets, ViewerConfig, layers};

/// Anything: the page has one thread.
pub trait MaybeSend {}
impl<T> MaybeSend for T {}

/// Tasks run on the page's event loop.
#[derive(Resource, Clone, Default)]
pub struct Runtime;

impl Runtime {
    pub fn spawn(&self, task: impl Future<Output = ()> + MaybeSend + 'static) {
        wasm_bindgen_futures::spawn_local(task);
    }
}

pub async fn read_file(url: &str) -> Result<Vec<u8>, LoadError> {
    Err(LoadError::Io(format!("{url}: a browser cannot read local files; serve them over HTTP")))
}

/// An open browser WebSocket and the callbacks that must live as long as it.
struct Open {
    ws: web_sys::WebSocket,
    _callbacks: Vec<Closure<dyn FnMut(web_sys::Event)>>,
}

thread_local! {
    static SOCKETS: RefCell<HashMap<u64, Open>> = RefCell::new(HashMap::new());
    static NEXT_SOCKET: Cell<u64> = const { Cell::new(0) };
}

/// A WebSocket carrying text frames; dropping it closes the connection.
pub struct Socket {
    id: u64,
    events: Mutex<Receiver<SocketEvent>>,
}

fn callback(
    events: &Sender<SocketEvent>,
    f: impl Fn(web_sys::Event) -> Option<SocketEvent> + 'static,
) -> Closure<dyn FnMut(web_sys::Event)> {
    let events = events.clone();
    Closure::new(move |e: web_sys::Event| {
        if let Some(ev) = f(e) {
            let _ = events.send(ev);
        }
    })
}

impl Socket {
    pub fn connect(_runtime: &Runtime, url: &str) -> Self {
        let id = NEXT_SOCKET.with(|n| n.replace(n.get() + 1));
        let (events, received) = channel();
        match web_sys::WebSocket::new(url) {
            Err(e) => {
                let _ = events.send(SocketEvent::Closed(format!("{url}: {e:?}")));
            }
            Ok(ws) => {
                let on_open = callback(&events, |_| Some(SocketEvent::Open));
                let on_message = callback(&events, |e| {
                    let text = e.dyn_into::<web_sys::MessageEvent>().ok()?.data().as_string()?;
                    Some(SocketEvent::Text(text))
                });
                let on_close = callback(&events, |e| {
                    let reason = e
                        .dyn_into::<web_sys::CloseEvent>()
                        .map(|c| format!("closed ({}) {}", c.code(), c.reason()))
                        .unwrap_or_else(|_| "closed".into());
                    Some(SocketEvent::Closed(reason))
                });
                ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
                ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
                ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
                SOCKETS
                    .with(|s| s.borrow_mut().insert(id, Open { ws, _callbacks: vec![on_open, on_message, on_close] }));
            }
        }
        Self { id, events: Mutex::new(received) }
    }

    pub fn send(&self, text: String) {
        SOCKETS.with(|s| {
            if let Some(o) = s.borrow().get(&self.id) {
                let _ = o.ws.send_with_str(&text);
            }
        });
    }

    /// Everything that happened since the last call.
    pub fn drain(&self) -> Vec<SocketEvent> {
        self.events.lock().map(|rx| rx.try_iter().collect()).unwrap_or_default()
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        if let Some(o) = SOCKETS.with(|s| s.borrow_mut().remove(&self.id)) {
            o.ws.set_onopen(None);
            o.ws.set_onmessage(None);
            o.ws.set_onclose(None);
            let _ = o.ws.close();
        }
    }
}

/// Bevy's default plugins drawing into the page's `#citytwin` canvas, sized to its parent.
pub fn default_plugins(window: Window) -> PluginGroupBuilder {
    let window = Window {
        canvas: Some("#citytwin".into()),
        fit_canvas_to_parent: true,
        prevent_default_event_handling: true,
        ..window
    };
    DefaultPlugins.set(WindowPlugin { primary_window: Some(window), ..default() })
}

fn js_err(e: JsValue) -> anyhow::Error {
    anyhow!("{}", e.as_string().unwrap_or_else(|| format!("{e:?}")))
}

/// The page's query: `?tileset=URL` (repeatable), `?server=URL`, `?camera=lon,lat,h,heading,pitch`,
/// `?hud=0`, `?theme=PROPERTY`, `?night=1`, and a comparison:
/// `?scenario=ID&variant=ID&compare=swipe&other=ID&sun=YYYY-MM-DDTHH:MM&shadows=0`.
struct PageQuery {
    params: web_sys::UrlSearchParams,
}

impl PageQuery {
    fn get(&self, key: &str) -> Option<String> {
        self.params.get(key).filter(|v| !v.is_empty())
    }
}

async fn config() -> anyhow::Result<ViewerConfig> {
    let location = web_sys::window().context("no window")?.location();
    let query = PageQuery {
        params: web_sys::UrlSearchParams::new_with_str(&location.search().map_err(js_err)?).map_err(js_err)?,
    };
    let server = match query.get("server") {
        Some(s) => s.trim_end_matches('/').to_owned(),
        None => location.origin().map_err(js_err)?,
    };
    let catalog_url = format!("{server}/api/layers");
    let response = reqwest::get(&catalog_url).await.with_context(|| format!("reading {catalog_url}"))?;
    anyhow::ensure!(response.status().is_success(), "{catalog_url}: HTTP {}", response.status());
    let catalog: Catalog = serde_json::from_slice(&response.bytes().await?)
        .with_context(|| format!("{catalog_url} is not a citytwin catalog"))?;
    let mut tilesets: Vec<TilesetLayer> = query
        .params
        .get_all("tileset")
        .iter()
        .filter_map(|v| v.as_string())
        .filter(|v| !v.is_empty())
        .map(|url| TilesetLayer { id: url.clone(), name: layers::name_of(&url), url })
        .collect();
    if tilesets.is_empty() {
        tilesets = catalog.tileset_layers(&server);
    }
    anyhow::ensure!(!tilesets.is_empty(), "{server} has no tilesets in its catalog");
    let number = |key: &str| query.get(key).map(|v| v.parse::<f64>().map_err(|e| anyhow::anyhow!("?{key}={v}: {e}")));
    let max_sse = number("sse").transpose()?;
    let cache_mb = number("cache_mb").transpose()?.map(|mb| mb as usize);
    let tiles = TilesSettings::from_options(max_sse, cache_mb).map_err(|e| anyhow::anyhow!("?sse / ?cache_mb: {e}"))?;
    let camera = query.get("camera").map(|c| Bookmark::parse(&c)).transpose()?;
    Ok(ViewerConfig {
        window: Window { title: "citytwin".into(), ..default() },
        tilesets,
        attribution: catalog.attribution,
        scenarios: catalog.scenarios,
        planning: query.get("scenario").map(|scenario| PlanningStart {
            scenario,
            variant: query.get("variant"),
            other: query.get("other"),
            compare: query.get("compare"),
            sun: query.get("sun"),
            shadows: query.get("shadows").as_deref() != Some("0"),
        }),
        theme: query.get("theme"),
        night: query.get("night").as_deref() == Some("1"),
        tiles,
        camera,
        hud: query.get("hud").as_deref() != Some("0"),
        data_server: Some(server),
    })
}

/// Shows a fatal start-up error on the page (and the console).
fn fail(message: &str) {
    error!("{message}");
    if let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) {
        let _ = body.dataset().set("error", message);
    }
}

/// The browser entry point: reads the page's catalog and starts the viewer in its canvas.
pub fn start() {
    wasm_bindgen_futures::spawn_local(async {
        match config().await {
            Ok(config) => {
                let mut app = crate::viewer::app(config, Runtime);
                app.add_systems(Last, report_to_page);
                app.run();
            }
            Err(e) => fail(&format!("citytwin could not start: {e:#}")),
        }
    });
}

/// What the page last saw, to write only changes.
#[derive(Default)]
struct Reported {
    frames: u64,
    shown_once: bool,
    values: Vec<(&'static str, String)>,
}

/// Progress for the page: frames, tiles, bytes, errors, live readings, and `ready` once tiles show.
fn report_to_page(sets: Tilesets, fetcher: Res<Fetcher>, live: Res<Live>, mut last: Local<Reported>) {
    last.frames += 1;
    let totals = sets.totals();
    let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) else { return };
    let data = body.dataset();
    let now_ms = || web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now());
    if last.frames == 1 {
        let _ = data.set("firstFrameMs", &format!("{:.0}", now_ms()));
    }
    if totals.shown > 0 && !last.shown_once {
        last.shown_once = true;
        let _ = data.set("firstTilesMs", &format!("{:.0}", now_ms()));
    }
    let values = vec![
        ("frames", (last.frames / 10 * 10).to_string()),
        ("tilesShown", totals.shown.to_string()),
        ("tilesLoaded", totals.loaded.to_string()),
        ("tilesPending", (totals.in_flight + totals.queued).to_string()),
        ("tileErrors", totals.errors.to_string()),
        ("bytesFetched", fetcher.bytes_fetched().to_string()),
        ("liveReadings", live.updates.to_string()),
        ("liveSensors", live.subscribed.to_string()),
        ("settled", sets.settled(5).to_string()),
    ];
    for (k, v) in &values {
        if !last.values.iter().any(|(lk, lv)| lk == k && lv == v) {
            let _ = data.set(k, v);
        }
    }
    last.values = values;
}
