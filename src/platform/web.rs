//! The browser's shims: tasks on the page's event loop, the browser's WebSocket, a canvas that
//! fills the page, the page's address, and values published on the page (`document.body.dataset`).
//! The browser's app itself is `viewer::browser`.

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
use crate::tiles::LoadError;

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
                ws.set_binary_type(web_sys::BinaryType::Arraybuffer);
                let on_message = callback(&events, |e| {
                    let data = e.dyn_into::<web_sys::MessageEvent>().ok()?.data();
                    match data.as_string() {
                        Some(text) => Some(SocketEvent::Text(text)),
                        None => Some(SocketEvent::Binary(js_sys::Uint8Array::new(&data).to_vec())),
                    }
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

/// Bevy's default plugins drawing into the page's `#citytwin` canvas, sized to its parent (a page
/// always has its canvas: `None` is a window like any other).
pub fn default_plugins(window: Option<Window>) -> PluginGroupBuilder {
    let window = Window {
        canvas: Some("#citytwin".into()),
        fit_canvas_to_parent: true,
        prevent_default_event_handling: true,
        ..window.unwrap_or_default()
    };
    DefaultPlugins.set(WindowPlugin { primary_window: Some(window), ..default() })
}

/// The browser renders each frame before the next one already.
pub fn unpipelined(plugins: PluginGroupBuilder) -> PluginGroupBuilder {
    plugins
}

fn js_err(e: JsValue) -> anyhow::Error {
    anyhow!("{}", e.as_string().unwrap_or_else(|| format!("{e:?}")))
}

/// The page's origin (`https://host:port`) and query string.
pub fn page_location() -> anyhow::Result<(String, String)> {
    let location = web_sys::window().context("no window")?.location();
    Ok((location.origin().map_err(js_err)?, location.search().map_err(js_err)?))
}

/// Publishes `value` on the page as `document.body.dataset[key]`.
pub fn set_page_value(key: &str, value: &str) {
    if let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) {
        let _ = body.dataset().set(key, value);
    }
}

/// Nothing: a page's memory does not shrink.
pub fn trim_heap() {}

/// Offers a text the user asked for (a drill's report) as a download named `name`.
pub fn save_text(name: &str, text: &str) -> Result<String, String> {
    let fail = |e: wasm_bindgen::JsValue| format!("{name}: {e:?}");
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let blob = web_sys::Blob::new_with_str_sequence(&parts).map_err(fail)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(fail)?;
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let link: web_sys::HtmlAnchorElement =
        document.create_element("a").map_err(fail)?.dyn_into().map_err(|_| "not an anchor".to_string())?;
    link.set_href(&url);
    link.set_download(name);
    link.click();
    web_sys::Url::revoke_object_url(&url).map_err(fail)?;
    Ok(format!("downloaded {name}"))
}

/// Milliseconds since the page started loading.
pub fn page_now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

/// Shows an error on the page (and the console).
pub fn show_page_error(message: &str) {
    error!("{message}");
    set_page_value("error", message);
}
