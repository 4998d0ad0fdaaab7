//! Fetching off the frame: reqwest (the browser's fetch on the web) and file reads on the
//! platform's runtime; each tile request can be aborted; finished bytes are drained every frame.
//! One-off requests (the catalog, cameras, a sensor's history) hand their result back through an
//! [`Answer`].

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use bevy::prelude::*;
use futures_util::future::{AbortHandle, abortable};

use crate::platform::{MaybeSend, Runtime};
use crate::tiles::{LoadError, RequestId};

/// A one-off request's result, handed from its I/O task to the frame: the task fills it, a system
/// takes it.
pub struct Answer<T>(Arc<Mutex<Option<T>>>);

impl<T> Default for Answer<T> {
    fn default() -> Self {
        Self(Arc::default())
    }
}

impl<T: MaybeSend + 'static> Answer<T> {
    /// Runs `task` on the runtime; its output becomes the answer (replacing one not taken yet).
    pub fn spawn(&self, runtime: &Runtime, task: impl Future<Output = T> + MaybeSend + 'static) {
        let slot = self.0.clone();
        runtime.spawn(async move {
            let value = task.await;
            if let Ok(mut slot) = slot.lock() {
                *slot = Some(value);
            }
        });
    }

    /// The answer, once it has come (once).
    pub fn take(&self) -> Option<T> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }
}

/// GETs `url`: its body, or what went wrong (the URL with the error or the HTTP status).
pub async fn get(url: &str) -> Result<Vec<u8>, String> {
    let response = reqwest::get(url).await.map_err(|e| format!("{url}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    Ok(response.bytes().await.map_err(|e| format!("{url}: {e}"))?.to_vec())
}

/// Like [`get`], but a 404 is `None`: for files a tileset may leave out.
pub async fn get_optional(url: &str) -> Result<Option<Vec<u8>>, String> {
    let response = reqwest::get(url).await.map_err(|e| format!("{url}: {e}"))?;
    match response.status() {
        reqwest::StatusCode::NOT_FOUND => Ok(None),
        s if !s.is_success() => Err(format!("{url}: HTTP {s}")),
        _ => Ok(Some(response.bytes().await.map_err(|e| format!("{url}: {e}"))?.to_vec())),
    }
}

/// A finished fetch for the tileset layer `layer`.
pub struct Done {
    pub layer: Entity,
    pub id: RequestId,
    pub result: Result<Vec<u8>, LoadError>,
}

#[derive(Resource)]
pub struct Fetcher {
    runtime: Runtime,
    client: reqwest::Client,
    tx: Sender<Done>,
    rx: Mutex<Receiver<Done>>,
    tasks: HashMap<(Entity, RequestId), AbortHandle>,
    bytes: std::sync::Arc<AtomicU64>,
}

impl Fetcher {
    pub fn new(runtime: Runtime) -> Self {
        let (tx, rx) = channel();
        Self {
            runtime,
            client: reqwest::Client::new(),
            tx,
            rx: Mutex::new(rx),
            tasks: HashMap::new(),
            bytes: Default::default(),
        }
    }

    /// Bytes received so far.
    pub fn bytes_fetched(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    pub fn in_flight(&self) -> usize {
        self.tasks.len()
    }

    pub fn start(&mut self, layer: Entity, id: RequestId, url: String) {
        let (client, tx, bytes) = (self.client.clone(), self.tx.clone(), self.bytes.clone());
        let (task, handle) = abortable(async move {
            let result = load(&client, &url).await;
            if let Ok(b) = &result {
                bytes.fetch_add(b.len() as u64, Ordering::Relaxed);
            }
            let _ = tx.send(Done { layer, id, result });
        });
        self.runtime.spawn(async move {
            let _ = task.await;
        });
        self.tasks.insert((layer, id), handle);
    }

    pub fn cancel(&mut self, layer: Entity, id: RequestId) {
        if let Some(t) = self.tasks.remove(&(layer, id)) {
            t.abort();
        }
    }

    /// Aborts every fetch of a layer (it is going away).
    pub fn cancel_layer(&mut self, layer: Entity) {
        self.tasks.retain(|(l, _), task| {
            if *l == layer {
                task.abort();
            }
            *l != layer
        });
    }

    /// Everything that finished since the last call.
    pub fn drain(&mut self) -> Vec<Done> {
        let done: Vec<Done> = self.rx.lock().map(|rx| rx.try_iter().collect()).unwrap_or_default();
        for d in &done {
            self.tasks.remove(&(d.layer, d.id));
        }
        done
    }
}

async fn load(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, LoadError> {
    if url.starts_with("file://") {
        return crate::platform::read_file(url).await;
    }
    let response = client.get(url).send().await.map_err(|e| LoadError::Io(format!("{url}: {e}")))?;
    if !response.status().is_success() {
        return Err(LoadError::Http { status: response.status().as_u16(), url: url.to_owned() });
    }
    response.bytes().await.map(|b| b.to_vec()).map_err(|e| LoadError::Io(format!("{url}: {e}")))
}
