//! The sans-IO tileset runtime: `update(views)` returns what to draw, what to fetch and what to
//! cancel or free; `on_loaded(id, bytes)` feeds results back. The engine does all I/O.

mod build;
mod cache;
mod load;
mod memory;
mod node;
mod selection;
mod shared;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use glam::DMat4;
use slotmap::SlotMap;

pub use node::{RequestId, TileKey, TileSelectionState, UpAxis};
pub use selection::{LoadPriorityGroup, Priority};
pub use shared::update_shared;

use build::Nodes;
use node::{Children, ContentSlot, Load, Loaded, NODE_BYTES, Node};
use selection::{Target, Traversal};

use super::bounds::WorldBounds;
use super::content::TileContent;
use super::model::{Asset, Refine};
use super::view::ViewState;
use super::{LoadError, Warning};

/// Tuning of selection, loading and caching.
#[derive(Debug, Clone, PartialEq)]
pub struct TilesetOptions {
    /// Refine a tile while its screen-space error exceeds this many pixels.
    pub maximum_screen_space_error: f64,
    /// The cache budget: loaded content, external tilesets, subtrees and tree nodes.
    pub maximum_cached_bytes: usize,
    /// Requests handed to the engine and not yet answered, at most.
    pub maximum_simultaneous_requests: usize,
    /// Keep ancestors skipped by refinement loading at low priority, for zooming out.
    pub preload_ancestors: bool,
    /// Cancel in-flight requests for tiles the current views no longer want.
    pub cancel_unwanted_requests: bool,
    /// Raise the screen-space error above `maximum_screen_space_error` while the views need more
    /// than the budget holds, and bring it back when they need less (see `memory`), so a hard
    /// budget coarsens the picture rather than overflowing.
    pub memory_adjusted_sse: bool,
    /// The engine prepares each loaded content before it can draw it (meshes built off the frame,
    /// uploads paced): a loaded tile covers its place only once [`Tileset::content_ready`] says
    /// so. Until then it does not let its parent give way (a prepared ancestor is drawn instead),
    /// is selected only where nothing prepared covers its place, and is listed in
    /// [`UpdateResult::to_prepare`].
    pub engine_prepares_content: bool,
}

impl Default for TilesetOptions {
    fn default() -> Self {
        Self {
            maximum_screen_space_error: 16.0,
            maximum_cached_bytes: 512 << 20,
            maximum_simultaneous_requests: 20,
            preload_ancestors: true,
            cancel_unwanted_requests: true,
            memory_adjusted_sse: true,
            engine_prepares_content: false,
        }
    }
}

/// What a request fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// Tile content; may turn out to be an external tileset (the root tileset is one).
    Content,
    /// An implicit-tiling subtree file.
    Subtree,
}

/// A fetch for the engine to perform, answered with [`Tileset::on_loaded`].
#[derive(Debug, Clone, PartialEq)]
pub struct TileRequest {
    pub id: RequestId,
    pub tile: TileKey,
    pub url: String,
    pub kind: RequestKind,
    pub priority: Priority,
}

/// A load or decode failure, reported once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileError {
    pub url: String,
    pub message: String,
}

/// Figures of the last update.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TilesetStats {
    pub frame: u64,
    /// Tiles in the runtime tree (explicit, external and implicit), the synthetic root excluded.
    pub nodes: usize,
    pub tiles_visited: usize,
    pub tiles_culled: usize,
    pub tiles_rendered: usize,
    /// Tiles whose content is loaded.
    pub tiles_loaded: usize,
    pub requests_started: usize,
    pub requests_in_flight: usize,
    /// Wanted this frame but held back by the concurrency limit or the budget.
    pub requests_queued: usize,
    pub requests_cancelled: usize,
    pub tiles_unloaded: usize,
    pub bytes_used: usize,
    pub bytes_budget: usize,
    /// Over budget even after evicting everything unused, counting what the requests in flight
    /// will bring: only urgent loads go out.
    pub over_budget: bool,
    /// The screen-space error this frame refined to: the maximum, raised while over budget.
    pub effective_max_sse: f64,
    pub requests_total: u64,
    pub cancelled_total: u64,
    pub failures_total: usize,
}

/// The result of one update.
#[derive(Debug, Clone, Default)]
pub struct UpdateResult {
    /// Tiles to draw this frame.
    pub to_render: Vec<TileKey>,
    /// With `engine_prepares_content`: the tiles this frame visited whose loaded content waits
    /// for the engine, every frame until [`Tileset::content_ready`] (the engine starts each once).
    pub to_prepare: Vec<TileKey>,
    /// New fetches to start.
    pub requests: Vec<TileRequest>,
    /// In-flight fetches to abort; their answers will be ignored.
    pub cancelled: Vec<RequestId>,
    /// Tiles whose content was evicted: free their GPU resources.
    pub unloaded: Vec<TileKey>,
    /// Failures since the last update.
    pub errors: Vec<TileError>,
    pub stats: TilesetStats,
}

/// Read-only facts about one tile.
#[derive(Debug, Clone)]
pub struct TileInfo<'a> {
    pub depth: u32,
    pub parent: Option<TileKey>,
    pub children: &'a [TileKey],
    pub ecef_from_tile: DMat4,
    pub bounds: WorldBounds,
    pub geometric_error: f64,
    pub refine: Refine,
    pub up_axis: UpAxis,
    pub content_urls: Vec<&'a str>,
    pub state: TileSelectionState,
    /// `(level, x, y, z)` for implicit tiles.
    pub implicit_coord: Option<crate::tiles::implicit::ImplicitCoord>,
}

/// One frame's traversal, before eviction and scheduling.
struct Selected {
    to_render: Vec<TileKey>,
    to_prepare: Vec<TileKey>,
    wants: Vec<selection::Want>,
    visited: usize,
    culled: usize,
}

struct InFlight {
    key: TileKey,
    target: Target,
}

/// A streaming 3D Tiles tileset.
pub struct Tileset {
    options: TilesetOptions,
    nodes: Nodes,
    /// Synthetic parent of the root tileset: its one content is the root tileset.json.
    super_root: TileKey,
    frame: u64,
    next_request: u64,
    in_flight: HashMap<RequestId, InFlight>,
    /// Bytes of loaded content, external tileset JSON and subtrees (nodes are counted apart).
    payload_bytes: usize,
    /// Contents landed so far and their bytes (the engine's included): their mean sizes what the
    /// requests in flight will bring.
    landed: (usize, usize),
    errors: Vec<TileError>,
    new_errors: Vec<TileError>,
    warnings: Vec<Warning>,
    asset: Option<Asset>,
    properties: Option<serde_json::Map<String, serde_json::Value>>,
    requests_total: u64,
    cancelled_total: u64,
    /// The budget's factor on the maximum screen-space error (1 while the budget holds).
    memory_sse_factor: f64,
    /// Tiles the engine still draws (stand-ins for tiles not ready yet among them): never evicted.
    drawn: HashSet<TileKey>,
}

/// At most this many warnings are kept (the count beyond is still in `warnings_total`).
const MAX_WARNINGS: usize = 1000;

impl Tileset {
    /// A tileset to be loaded from `url` (absolute: `https://…`, `file:///…`, or `data:`).
    pub fn new(url: impl Into<String>, options: TilesetOptions) -> Self {
        let mut nodes: Nodes = SlotMap::with_key();
        let super_root = nodes.insert(Node {
            parent: None,
            children: Vec::new(),
            children_kind: Children::Static,
            depth: 0,
            ecef_from_tile: DMat4::IDENTITY,
            bounds: WorldBounds::Everywhere,
            viewer_request_volume: None,
            geometric_error: f64::INFINITY,
            refine: Refine::Replace,
            contents: vec![ContentSlot { url: url.into(), load: Load::Unloaded }],
            implicit: None,
            tileset_url: Arc::from(""),
            up_axis: UpAxis::Y,
            last_used: 0,
            state: TileSelectionState::Unvisited,
        });
        Self {
            options,
            nodes,
            super_root,
            frame: 0,
            next_request: 0,
            in_flight: HashMap::new(),
            payload_bytes: 0,
            landed: (0, 0),
            errors: Vec::new(),
            new_errors: Vec::new(),
            warnings: Vec::new(),
            asset: None,
            properties: None,
            requests_total: 0,
            cancelled_total: 0,
            memory_sse_factor: 1.0,
            drawn: HashSet::new(),
        }
    }

    pub fn options(&self) -> &TilesetOptions {
        &self.options
    }

    pub fn options_mut(&mut self) -> &mut TilesetOptions {
        &mut self.options
    }

    /// Selects tiles for the given views, schedules loads, cancels stale ones and evicts.
    /// Its budget is its own `maximum_cached_bytes` (`update_shared` with this tileset alone).
    pub fn update(&mut self, views: &[ViewState]) -> UpdateResult {
        let budget = self.options.maximum_cached_bytes;
        let mut results = update_shared(&mut [(self, views)], budget);
        results.pop().expect("one result per tileset")
    }

    /// The tiles the engine draws now, stand-ins included: their content stays (and counts) while
    /// they are drawn, whatever this frame selects. Set it before each update.
    pub fn set_drawn(&mut self, keys: impl IntoIterator<Item = TileKey>) {
        self.drawn.clear();
        self.drawn.extend(keys);
    }

    /// This frame's traversal: what to draw and what to load (nothing evicted or scheduled yet).
    fn select(&mut self, views: &[ViewState]) -> Selected {
        self.frame += 1;
        let mut t = Traversal::new(views, self.effective_max_sse(), self.frame, self.options.preload_ancestors);
        for node in self.nodes.values_mut() {
            node.state = TileSelectionState::Unvisited;
        }
        if !views.is_empty() {
            t.visit(&mut self.nodes, self.super_root, false);
        }
        Selected { to_render: t.render, to_prepare: t.prepare, wants: t.wants, visited: t.visited, culled: t.culled }
    }

    /// Schedules the selection's loads (only urgent ones `over_budget`) and reports the frame.
    fn finish_update(
        &mut self,
        selected: Selected,
        unloaded: Vec<TileKey>,
        bytes_budget: usize,
        over_budget: bool,
    ) -> UpdateResult {
        let Selected { to_render, to_prepare, wants, visited, culled } = selected;
        let (requests, cancelled, queued) = self.schedule(wants, over_budget);
        let stats = TilesetStats {
            frame: self.frame,
            nodes: self.nodes.len() - 1,
            tiles_visited: visited.saturating_sub(1),
            tiles_culled: culled,
            tiles_rendered: to_render.len(),
            tiles_loaded: self.nodes.values().filter(|n| n.holds_loaded_content()).count(),
            requests_started: requests.len(),
            requests_in_flight: self.in_flight.len(),
            requests_queued: queued,
            requests_cancelled: cancelled.len(),
            tiles_unloaded: unloaded.len(),
            bytes_used: self.bytes_used(),
            bytes_budget,
            over_budget,
            effective_max_sse: self.effective_max_sse(),
            requests_total: self.requests_total,
            cancelled_total: self.cancelled_total,
            failures_total: self.errors.len(),
        };
        let errors = std::mem::take(&mut self.new_errors);
        UpdateResult { to_render, to_prepare, requests, cancelled, unloaded, errors, stats }
    }

    /// Feeds the answer to a request. Answers to cancelled or unknown requests are ignored
    /// (returns false).
    pub fn on_loaded(&mut self, id: RequestId, result: Result<Vec<u8>, LoadError>) -> bool {
        let Some(InFlight { key, target }) = self.in_flight.remove(&id) else { return false };
        self.finish_load(key, target, result);
        true
    }

    /// The decoded contents of a tile (several with `contents`).
    pub fn contents(&self, key: TileKey) -> impl Iterator<Item = &Arc<TileContent>> {
        self.nodes.get(key).into_iter().flat_map(|n| {
            n.contents.iter().filter_map(|s| match &s.load {
                Load::Loaded(Loaded::Content { content, .. }) => Some(content),
                _ => None,
            })
        })
    }

    /// Facts about a tile, or `None` once it has been evicted.
    pub fn tile(&self, key: TileKey) -> Option<TileInfo<'_>> {
        let n = self.nodes.get(key)?;
        Some(TileInfo {
            depth: n.depth,
            parent: n.parent.filter(|p| *p != self.super_root),
            children: &n.children,
            ecef_from_tile: n.ecef_from_tile,
            bounds: n.bounds,
            geometric_error: n.geometric_error,
            refine: n.refine,
            up_axis: n.up_axis,
            content_urls: n.contents.iter().map(|s| s.url.as_str()).collect(),
            state: n.state,
            implicit_coord: n.implicit.as_ref().map(|i| i.coord),
        })
    }

    /// The root tile of the root tileset, once loaded.
    pub fn root(&self) -> Option<TileKey> {
        self.nodes[self.super_root].children.first().copied()
    }

    /// Selection state of a tile in the last update.
    pub fn selection_state(&self, key: TileKey) -> TileSelectionState {
        self.nodes.get(key).map_or(TileSelectionState::Unvisited, |n| n.state)
    }

    /// Every failure so far.
    pub fn errors(&self) -> &[TileError] {
        &self.errors
    }

    /// Warnings from the tileset JSON and contents (the first thousand).
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The root tileset's `asset` and `properties`, once loaded.
    pub fn asset(&self) -> Option<&Asset> {
        self.asset.as_ref()
    }

    pub fn properties(&self) -> Option<&serde_json::Map<String, serde_json::Value>> {
        self.properties.as_ref()
    }

    /// The engine has prepared a loaded tile: its contents are drawable from the next update,
    /// and `bytes` more count against the budget, what the engine made of them (GPU meshes and
    /// textures, pick geometry), freed with the contents. False (nothing changed) when the tile
    /// holds no loaded content.
    pub fn content_ready(&mut self, key: TileKey, bytes: usize) -> bool {
        let Some(node) = self.nodes.get_mut(key) else { return false };
        let mut held = None;
        for slot in &mut node.contents {
            if let Load::Loaded(Loaded::Content { bytes, ready, .. }) = &mut slot.load {
                *ready = true;
                held.get_or_insert(bytes);
            }
        }
        let Some(held) = held else { return false };
        *held += bytes;
        self.payload_bytes += bytes;
        self.landed.1 += bytes;
        true
    }

    /// Replaces the loaded content `old` of a tile with `new`, counting the difference: once an
    /// engine has built a content it keeps only what it still reads (such as
    /// [`TileContent::properties_only`]). False (nothing replaced) when `old` is no longer loaded
    /// there.
    pub fn replace_content(&mut self, key: TileKey, old: &Arc<TileContent>, new: TileContent) -> bool {
        let Some(node) = self.nodes.get_mut(key) else { return false };
        let slot = node.contents.iter_mut().find_map(|s| match &mut s.load {
            Load::Loaded(Loaded::Content { content, bytes, .. }) if Arc::ptr_eq(content, old) => Some((content, bytes)),
            _ => None,
        });
        let Some((content, held)) = slot else { return false };
        let (was, now) = (content.byte_size(), new.byte_size());
        *content = Arc::new(new);
        *held = (*held + now).saturating_sub(was);
        self.payload_bytes = (self.payload_bytes + now).saturating_sub(was);
        self.landed.1 = (self.landed.1 + now).saturating_sub(was);
        true
    }

    /// Bytes counted against the budget now: payload (with the engine's bytes) plus tree nodes.
    pub fn bytes_used(&self) -> usize {
        self.payload_bytes + self.nodes.len() * NODE_BYTES
    }

    /// True while requests are out.
    pub fn is_loading(&self) -> bool {
        !self.in_flight.is_empty()
    }

    fn record_error(&mut self, url: &str, message: String) {
        tracing::warn!(url, %message, "tile load failed");
        let e = TileError { url: url.to_owned(), message };
        self.errors.push(e.clone());
        self.new_errors.push(e);
    }

    fn record_warnings(&mut self, url: &str, w: super::Warnings) {
        for mut warning in w.0 {
            if self.warnings.len() >= MAX_WARNINGS {
                break;
            }
            warning.context = format!("{url}: {}", warning.context);
            self.warnings.push(warning);
        }
    }

    /// Recomputes the payload bytes from scratch (for tests of the running count).
    #[cfg(test)]
    pub(crate) fn recount_payload(&self) -> usize {
        self.nodes.values().map(|n| n.loaded_bytes() + n.subtree_bytes()).sum()
    }

    #[cfg(test)]
    pub(crate) fn payload_bytes(&self) -> usize {
        self.payload_bytes
    }
}

#[cfg(test)]
mod tests;
