//! TilesPlugin: streams every tileset layer ([`TileLayer`]) for the views that show it, against one
//! cache budget for all layers, fetching off the main thread and turning content into meshes in
//! background tasks. It shows the selection without holes: each tile the core visits once it has
//! landed is built, and the core lets a tile cover for its parent only once built
//! (`engine_prepares_content`), so a built ancestor stands in where the view comes upon tiles
//! still being built; a selected tile that is not on the GPU yet is stood in for by the tiles that
//! covered its place before (its shown ancestor, or its shown descendants). What is shown stays
//! loaded and counted; an evicted tile's entities are despawned and its memory freed; despawning a
//! layer frees all of it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use bevy::camera::visibility::RenderLayers;
use bevy::ecs::system::SystemParam;
use bevy::platform::time::Instant;
use bevy::prelude::*;
use bevy::render::renderer::RenderDevice;
use bevy::tasks::{AsyncComputeTaskPool, Task, futures_lite::future};
use bevy::window::PrimaryWindow;

use super::camera::{GeoCamera, OwnCamera};
use super::feature_state::{TileMaterial, new_table};
use super::fetch::Fetcher;
use super::layers::{Layer, LayerViews};
use super::mesh::to_assets;
use super::origin::GeoTransform;
use super::pick_geometry::PickGeometry;
use super::views::{MainView, SecondView};
use crate::tiles::content::TileContent;
use crate::tiles::prepare::limits::MAX_TEXTURE_SIDE_PX;
use crate::tiles::prepare::{RenderPart, prepare};
use crate::tiles::{TileError, TileKey, Tileset, TilesetOptions, TilesetStats, ViewState, update_shared};

/// How hard to stream, for every layer at once: the one source of these settings (the flags, the
/// TOML file, the environment and the page's query fill it; the HUD changes it live).
#[derive(Resource, Debug, Clone, PartialEq)]
pub struct TilesSettings {
    /// Refine while a tile's screen-space error exceeds this many pixels.
    pub max_sse: f64,
    /// One cache budget shared by all layers.
    pub cache_bytes: usize,
    /// Requests out at once, per layer.
    pub max_requests: usize,
}

impl Default for TilesSettings {
    fn default() -> Self {
        Self { max_sse: 16.0, cache_bytes: 512 << 20, max_requests: 16 }
    }
}

impl TilesSettings {
    /// The defaults with what was given, checked.
    pub fn from_options(max_sse: Option<f64>, cache_mb: Option<usize>) -> Result<Self, String> {
        let d = Self::default();
        let max_sse = max_sse.unwrap_or(d.max_sse);
        if !(max_sse > 0.0 && max_sse <= 1000.0) {
            return Err("the maximum screen-space error must be in (0, 1000]".into());
        }
        let cache_mb = cache_mb.unwrap_or(d.cache_bytes >> 20);
        if !(16..=1 << 20).contains(&cache_mb) {
            return Err("the cache budget must be at least 16 MB".into());
        }
        Ok(Self { max_sse, cache_bytes: cache_mb << 20, ..d })
    }
}

/// CPU time the tile systems took this frame (the bench flight reports it).
#[derive(Resource, Debug, Default)]
pub struct TilesFrameTime {
    pub this_frame: Duration,
}

impl TilesFrameTime {
    fn add(&mut self, since: Instant) {
        self.this_frame += since.elapsed();
    }
}

#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub enum TilesSystems {
    Receive,
    Select,
    Build,
    Show,
}

/// A drawn part of a tile of the layer `layer` (despawned with it).
#[derive(Component)]
#[relationship(relationship_target = LayerParts)]
pub struct TilePart {
    #[relationship]
    pub layer: Entity,
    pub key: TileKey,
    pub pick: Option<Arc<PickGeometry>>,
}

/// The parts a layer has drawn.
#[derive(Component, Default)]
#[relationship_target(relationship = TilePart, linked_spawn)]
pub struct LayerParts(Vec<Entity>);

/// A prepared part and, for triangles, the geometry picking keeps (made beside it, off the frame).
type PreparedPart = (RenderPart, Option<Arc<PickGeometry>>);

/// A tile made ready off the frame: its parts, and each content with what the core keeps of it
/// once the parts are built (its feature properties; the geometry lives on in the meshes).
struct Prepared {
    parts: Vec<PreparedPart>,
    kept: Vec<(Arc<TileContent>, TileContent)>,
}

enum Built {
    Building(Task<Result<Prepared, String>>),
    Ready(Vec<Entity>),
}

/// A tileset layer: the core's streaming tileset and what of it is built and shown.
#[derive(Component)]
#[require(Layer)]
pub struct TileLayer {
    pub url: String,
    pub tileset: Tileset,
    built: HashMap<TileKey, Built>,
    /// Each built tile's ancestors, nearest first, as they were when it was built.
    lineage: HashMap<TileKey, Vec<TileKey>>,
    /// What the GPU shows: every tile in it is built.
    pub shown: HashSet<TileKey>,
    wanted: Vec<TileKey>,
    pub stats: TilesetStats,
    pub errors: Vec<TileError>,
    /// Frames since anything was requested, loading or being built.
    pub idle_frames: u32,
    /// Requests started since the layer was opened.
    pub requested: usize,
}

impl TileLayer {
    /// A layer streaming the tileset at `url`, spawned with a [`Layer`] (its id and name). It
    /// streams by [`TilesSettings`], which `select` applies every frame, before each update.
    pub fn new(url: impl Into<String>) -> Self {
        let url = url.into();
        Self {
            // A tile shows once its meshes are built: until then what covered its place does.
            tileset: Tileset::new(url.clone(), TilesetOptions { engine_prepares_content: true, ..default() }),
            url,
            built: HashMap::new(),
            lineage: HashMap::new(),
            shown: HashSet::new(),
            wanted: Vec::new(),
            stats: TilesetStats::default(),
            requested: 0,
            errors: Vec::new(),
            idle_frames: 0,
        }
    }

    /// A tile's decoded contents.
    pub fn contents(&self, key: TileKey) -> Vec<Arc<TileContent>> {
        self.tileset.contents(key).cloned().collect()
    }
}

/// Counts summed over every layer (the HUD, the web page's progress, the bench flight).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TilesTotals {
    /// Tiles on screen.
    pub shown: usize,
    pub loaded: usize,
    pub in_flight: usize,
    pub queued: usize,
    pub errors: usize,
    pub bytes_used: usize,
    pub bytes_budget: usize,
}

/// The tileset layers, read-only, with the settings they stream by.
#[derive(SystemParam)]
pub struct Tilesets<'w, 's> {
    layers: Query<'w, 's, (Entity, &'static TileLayer)>,
    settings: Res<'w, TilesSettings>,
}

impl Tilesets<'_, '_> {
    pub fn totals(&self) -> TilesTotals {
        TilesTotals::of(self.layers.iter().map(|(_, t)| t), self.settings.cache_bytes)
    }

    /// True when every layer has settled: nothing requested, loading or building.
    pub fn settled(&self, frames: u32) -> bool {
        !self.layers.is_empty() && self.layers.iter().all(|(_, t)| t.idle_frames >= frames)
    }

    pub fn get(&self, layer: Entity) -> Option<&TileLayer> {
        self.layers.get(layer).ok().map(|(_, t)| t)
    }

    pub fn iter(&self) -> impl Iterator<Item = &TileLayer> {
        self.layers.iter().map(|(_, t)| t)
    }

    /// Each layer with its entity.
    pub fn entries(&self) -> impl Iterator<Item = (Entity, &TileLayer)> {
        self.layers.iter()
    }
}

impl TilesTotals {
    /// The totals of `layers` against their one budget.
    pub fn of<'a>(layers: impl Iterator<Item = &'a TileLayer>, budget_bytes: usize) -> Self {
        layers.fold(Self { bytes_budget: budget_bytes, ..default() }, |s, t| Self {
            shown: s.shown + t.shown.len(),
            loaded: s.loaded + t.stats.tiles_loaded,
            in_flight: s.in_flight + t.stats.requests_in_flight,
            queued: s.queued + t.stats.requests_queued,
            errors: s.errors + t.errors.len(),
            bytes_used: s.bytes_used + t.stats.bytes_used,
            bytes_budget: s.bytes_budget,
        })
    }
}

pub struct TilesPlugin;

impl Plugin for TilesPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<TilesSettings>()
            .init_resource::<TilesFrameTime>()
            .configure_sets(
                Update,
                (TilesSystems::Receive, TilesSystems::Select, TilesSystems::Build, TilesSystems::Show).chain(),
            )
            .add_observer(cancel_fetches)
            .add_systems(Update, receive.in_set(TilesSystems::Receive))
            .add_systems(Update, select.in_set(TilesSystems::Select))
            .add_systems(Update, build.in_set(TilesSystems::Build))
            .add_systems(Update, show.in_set(TilesSystems::Show))
            .add_systems(Last, trim_heap_after_streaming);
    }
}

/// Half a second after the layers streamed (tiles decoded, built or unloaded: their temporaries,
/// entities, meshes and GPU buffers freed by then), the heap's free pages go back to the system, so
/// the process's memory follows what the budget holds.
fn trim_heap_after_streaming(layers: Query<&TileLayer>, mut pending_since: Local<Option<Instant>>) {
    if layers.iter().any(|t| t.idle_frames == 0) {
        pending_since.get_or_insert_with(Instant::now);
    }
    if pending_since.is_some_and(|since| since.elapsed() >= Duration::from_millis(500)) {
        *pending_since = None;
        // Off the frame: it walks the heap's free chunks, under the allocator's locks.
        AsyncComputeTaskPool::get().spawn(async { crate::platform::trim_heap() }).detach();
    }
}

/// A layer going away takes its fetches with it.
fn cancel_fetches(removed: On<Remove, TileLayer>, mut fetcher: ResMut<Fetcher>) {
    fetcher.cancel_layer(removed.entity);
}

fn receive(mut fetcher: ResMut<Fetcher>, mut layers: Query<&mut TileLayer>, mut time: ResMut<TilesFrameTime>) {
    let start = Instant::now();
    for done in fetcher.drain() {
        if let Ok(mut t) = layers.get_mut(done.layer) {
            t.tileset.on_loaded(done.id, done.result);
        }
    }
    time.this_frame = start.elapsed();
}

/// The 3D views' cameras, and which is the main one.
type ViewCameras<'w, 's> =
    Query<'w, 's, (&'static Camera, Has<MainView>, Option<&'static OwnCamera>), Or<(With<MainView>, With<SecondView>)>>;

/// Where the views look from: the main camera, the window, the views' cameras.
#[derive(SystemParam)]
struct ViewSources<'w, 's> {
    cam: Res<'w, GeoCamera>,
    windows: Query<'w, 's, &'static Window, With<PrimaryWindow>>,
    offscreen: Option<Res<'w, super::views::Offscreen>>,
    wall: Option<Res<'w, super::views::WallView>>,
    views: ViewCameras<'w, 's>,
}

impl ViewSources<'_, '_> {
    /// The views' states this frame: the main view's and, when on, the second view's, each from its
    /// own camera or the main one. A swipe's two halves are parts of one whole picture, so each
    /// selects for the whole. A headless app with no view selects for one window-sized view.
    fn states(&self) -> (Option<ViewState>, Option<ViewState>) {
        let window_px = super::views::surface_size(self.windows.single().ok(), self.offscreen.as_deref())
            .map_or([1280.0, 720.0], |s| [s.x as f64, s.y as f64]);
        let viewport = |c: &Camera| match (&c.sub_camera_view, &c.viewport) {
            (Some(sub), _) => [sub.full_size.x as f64, sub.full_size.y as f64],
            (None, Some(v)) => [v.physical_size.x as f64, v.physical_size.y as f64],
            (None, None) => window_px,
        };
        let state = |c: &Camera, own: Option<&OwnCamera>| {
            let [w, h] = viewport(c);
            let whole = own.map_or(&*self.cam, |o| &o.0).view_state([w.max(1.0), h.max(1.0)]);
            // A wall's screen culls to its own part and picks detail for the whole wall.
            match self.wall.as_ref().and_then(|v| Some((&v.layout, v.screen?))) {
                Some((layout, screen)) => layout.screen_view(&whole, screen),
                None => whole,
            }
        };
        let active = |want_main: bool| {
            self.views.iter().find(|(c, main, _)| *main == want_main && c.is_active).map(|(c, _, own)| state(c, own))
        };
        match (active(true), active(false), self.views.is_empty()) {
            (None, None, true) => (Some(self.cam.view_state(window_px)), None),
            (main, second, _) => (main, second),
        }
    }
}

fn select(
    views: ViewSources,
    settings: Res<TilesSettings>,
    mut fetcher: ResMut<Fetcher>,
    mut layers: Query<(Entity, &mut TileLayer, &LayerViews)>,
    mut commands: Commands,
    mut time: ResMut<TilesFrameTime>,
) {
    let start = Instant::now();
    let (main, second) = views.states();
    let mut layers: Vec<_> = layers.iter_mut().collect();
    // Each layer selects for the views that show it; all share one budget.
    let seen_by: Vec<Vec<ViewState>> = layers
        .iter()
        .map(|(_, _, v)| [main.filter(|_| v.main), second.filter(|_| v.second)].into_iter().flatten().collect())
        .collect();
    let mut sets: Vec<(&mut Tileset, &[ViewState])> = layers
        .iter_mut()
        .zip(&seen_by)
        .map(|((_, t, _), views)| {
            // What is drawn (stand-ins too) stays loaded, and counted, until it is replaced.
            let t = &mut **t;
            t.tileset.set_drawn(t.shown.iter().copied());
            let options = t.tileset.options_mut();
            options.maximum_screen_space_error = settings.max_sse;
            options.maximum_simultaneous_requests = settings.max_requests;
            (&mut t.tileset, views.as_slice())
        })
        .collect();
    let results = update_shared(&mut sets, settings.cache_bytes);
    for ((layer, t, _), result) in layers.iter_mut().zip(results) {
        t.apply(*layer, result, &mut fetcher, &mut commands);
    }
    time.add(start);
}

impl TileLayer {
    /// Takes the core's decisions of this frame: fetches, cancels, frees, and starts building
    /// what has landed.
    fn apply(
        &mut self,
        layer: Entity,
        result: crate::tiles::UpdateResult,
        fetcher: &mut Fetcher,
        commands: &mut Commands,
    ) {
        self.requested += result.requests.len();
        for r in result.requests {
            fetcher.start(layer, r.id, r.url);
        }
        for id in result.cancelled {
            fetcher.cancel(layer, id);
        }
        for key in &result.unloaded {
            self.forget(*key, commands);
        }
        for e in &result.errors {
            error!("tile {}: {}", e.url, e.message);
        }
        self.errors.extend(result.errors);
        // Loads held back by a budget that the view alone overruns wait for the view to change:
        // as settled as it gets. Evicting is not settled: what was drawn goes a frame later.
        let s = &result.stats;
        let busy = s.requests_in_flight + s.requests_started + s.tiles_unloaded > 0
            || (s.requests_queued > 0 && !s.over_budget);
        self.idle_frames = if busy { 0 } else { self.idle_frames + 1 };
        self.stats = result.stats;
        for key in &result.to_prepare {
            if !self.built.contains_key(key) {
                self.start_building(*key);
            }
        }
        self.wanted = result.to_render;
    }

    /// Turns a tile's content into mesh arrays on the task pool.
    fn start_building(&mut self, key: TileKey) {
        let Some(info) = self.tileset.tile(key) else { return };
        let (up, ecef) = (info.up_axis, info.ecef_from_tile);
        let mut lineage = Vec::new();
        let mut up_key = info.parent;
        while let Some(k) = up_key {
            lineage.push(k);
            up_key = self.tileset.tile(k).and_then(|i| i.parent);
        }
        self.lineage.insert(key, lineage);
        let contents = self.contents(key);
        let task = AsyncComputeTaskPool::get().spawn(async move {
            let mut out = Vec::new();
            for c in &contents {
                out.extend(prepare(c, up, &ecef)?.into_iter().map(|part| {
                    let pick = (!part.points).then(|| {
                        let (indices, ids) = (part.indices.as_deref(), part.feature_ids.as_deref());
                        Arc::new(PickGeometry::new(&part.positions, indices, ids))
                    });
                    (part, pick)
                }));
            }
            let kept = contents
                .into_iter()
                .map(|c| {
                    let properties = c.properties_only();
                    (c, properties)
                })
                .collect();
            Ok(Prepared { parts: out, kept })
        });
        self.built.insert(key, Built::Building(task));
    }

    /// The core's selection this frame (what is shown once built).
    pub fn selected(&self) -> &[TileKey] {
        &self.wanted
    }

    /// Despawns a tile's entities and forgets it.
    fn forget(&mut self, key: TileKey, commands: &mut Commands) {
        if let Some(Built::Ready(entities)) = self.built.remove(&key) {
            for e in entities {
                commands.entity(e).despawn();
            }
        }
        self.lineage.remove(&key);
        self.shown.remove(&key);
    }

    fn is_ancestor(&self, ancestor: TileKey, of: TileKey) -> bool {
        self.lineage.get(&of).is_some_and(|l| l.contains(&ancestor))
    }

    /// The next shown set (see [`stand_in_selection`]).
    fn next_shown(&self) -> HashSet<TileKey> {
        stand_in_selection(
            &self.wanted,
            &self.shown,
            |k| matches!(self.built.get(k), Some(Built::Ready(_))),
            |a, d| self.is_ancestor(a, d),
        )
    }
}

/// What to show, without holes: the `wanted` (selected) tiles that are `ready` (built), and where
/// a selected tile is not, the `shown` tiles over its place. A shown ancestor stands in for its
/// whole subtree (its selected descendants wait with it, so nothing is drawn twice); shown
/// descendants stand in for a coarser tile. A selected tile with nothing shown over its place
/// shows once built.
pub fn stand_in_selection(
    wanted: &[TileKey],
    shown: &HashSet<TileKey>,
    ready: impl Fn(&TileKey) -> bool,
    is_ancestor: impl Fn(TileKey, TileKey) -> bool,
) -> HashSet<TileKey> {
    let mut next: HashSet<TileKey> = wanted.iter().copied().filter(&ready).collect();
    let missing: Vec<TileKey> = wanted.iter().copied().filter(|k| !ready(k)).collect();
    if missing.is_empty() {
        return next;
    }
    let wanted: HashSet<TileKey> = wanted.iter().copied().collect();
    let mut ancestors = Vec::new();
    for s in shown.iter().copied().filter(|s| !wanted.contains(s)) {
        if missing.iter().any(|m| is_ancestor(s, *m)) {
            ancestors.push(s);
        } else if missing.iter().any(|m| is_ancestor(*m, s)) {
            next.insert(s);
        }
    }
    // A standing-in ancestor hides everything below it, and the coarsest of nested ones shows.
    next.retain(|k| !ancestors.iter().any(|a| is_ancestor(*a, *k)));
    next.extend(ancestors.iter().copied().filter(|a| !ancestors.iter().any(|b| is_ancestor(*b, *a))));
    next
}

/// The GPU bytes of the tiles built in one frame, at most (one tile at least): a burst of tiles
/// prepared at once goes to the renderer over several frames, so the staging copies its uploads
/// take (which share the renderer's memory blocks with meshes, on lavapipe) never pile up, nor
/// does the frame's time. Small tiles go several a frame; tiles of a megabyte or more, one
/// (lavapipe, the 1M city at 256 MB: 487 MB peak against 530 MB with 4 MB a frame).
const MAX_UPLOAD_BYTES_PER_FRAME: usize = 256 << 10;

fn build(
    mut layers: Query<(Entity, &mut TileLayer, &LayerViews)>,
    mut commands: Commands,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<TileMaterial>>,
    mut images: ResMut<Assets<Image>>,
    device: Option<Res<RenderDevice>>,
    mut time: ResMut<TilesFrameTime>,
) {
    let start = Instant::now();
    let max_texture_side = device.map_or(MAX_TEXTURE_SIDE_PX, |d| d.limits().max_texture_dimension_2d);
    let mut uploaded_bytes = 0;
    for (layer, mut t, views) in &mut layers {
        let t = &mut *t;
        let keys: Vec<TileKey> =
            t.built.iter().filter(|(_, b)| matches!(b, Built::Building(_))).map(|(k, _)| *k).collect();
        for key in keys {
            if uploaded_bytes >= MAX_UPLOAD_BYTES_PER_FRAME {
                break;
            }
            let Some(Built::Building(task)) = t.built.get_mut(&key) else { continue };
            let Some(result) = future::block_on(future::poll_once(task)) else { continue };
            let Some(info) = t.tileset.tile(key) else {
                t.built.remove(&key);
                continue;
            };
            let ecef_from_tile = info.ecef_from_tile;
            let mut entities = Vec::new();
            match result {
                Ok(Prepared { parts, kept }) => {
                    // One state table for the tile's features, shared by its parts.
                    let features = parts.iter().filter_map(|(p, _)| p.feature_ids.as_ref()?.iter().max()).max();
                    let table = features.and_then(|max| new_table(max.saturating_add(1), &mut images));
                    let mut engine_bytes = 0;
                    for (mut part, pick) in parts {
                        let part_table = table.as_ref().filter(|_| part.feature_ids.is_some());
                        let placements = std::mem::take(&mut part.tile_from_part);
                        let (mesh, material, gpu_bytes) =
                            to_assets(part, max_texture_side, table.as_ref(), &mut meshes, &mut materials, &mut images);
                        uploaded_bytes += gpu_bytes;
                        engine_bytes += gpu_bytes + pick.as_ref().map_or(0, |p| p.byte_size());
                        for placement in &placements {
                            let mut e = commands.spawn((
                                Mesh3d(mesh.clone()),
                                MeshMaterial3d(material.clone()),
                                GeoTransform(ecef_from_tile * *placement),
                                Transform::default(),
                                Visibility::Hidden,
                                views.render_layers(),
                                TilePart { layer, key, pick: pick.clone() },
                            ));
                            if let Some(t) = part_table {
                                e.insert(t.clone());
                            }
                            entities.push(e.id());
                        }
                    }
                    // Drawable from the next selection; what the tile costs here counts against the
                    // one budget, with what the core keeps of its content.
                    t.tileset.content_ready(key, engine_bytes);
                    for (content, properties) in kept {
                        t.tileset.replace_content(key, &content, properties);
                    }
                }
                Err(message) => {
                    let url = info.content_urls.first().map_or(t.url.clone(), |u| u.to_string());
                    error!("tile {url}: {message}");
                    t.errors.push(TileError { url, message });
                    // Settled: it shows nothing, as a content that failed to load.
                    t.tileset.content_ready(key, 0);
                }
            }
            t.built.insert(key, Built::Ready(entities));
        }
        if t.built.values().any(|b| matches!(b, Built::Building(_))) {
            t.idle_frames = 0;
        }
    }
    time.add(start);
}

/// Shows each layer's tiles in the views that show the layer.
fn show(
    mut layers: Query<(&mut TileLayer, &LayerViews)>,
    mut parts: Query<(&TilePart, &mut Visibility, &mut RenderLayers)>,
    mut time: ResMut<TilesFrameTime>,
) {
    let start = Instant::now();
    for (mut t, _) in &mut layers {
        t.shown = t.next_shown();
    }
    for (part, mut vis, mut render_layers) in &mut parts {
        let Ok((t, views)) = layers.get(part.layer) else { continue };
        let shown = views.any() && t.shown.contains(&part.key);
        vis.set_if_neq(if shown { Visibility::Visible } else { Visibility::Hidden });
        render_layers.set_if_neq(views.render_layers());
    }
    time.add(start);
}

#[cfg(test)]
mod tests {
    use slotmap::Key;

    use super::*;

    /// Keys for a small tree: root 0; children 1..=4 of 0; grandchildren 5..=8 of 1.
    fn key(n: u64) -> TileKey {
        slotmap::KeyData::from_ffi((1 << 32) | n).into()
    }

    fn parent(n: u64) -> Option<u64> {
        match n {
            1..=4 => Some(0),
            5..=8 => Some(1),
            _ => None,
        }
    }

    fn is_ancestor(a: TileKey, d: TileKey) -> bool {
        let (a, mut d) = (a.data().as_ffi() & 0xffff_ffff, d.data().as_ffi() & 0xffff_ffff);
        while let Some(p) = parent(d) {
            if p == a {
                return true;
            }
            d = p;
        }
        false
    }

    fn keys(ns: &[u64]) -> HashSet<TileKey> {
        ns.iter().map(|n| key(*n)).collect()
    }

    fn next(wanted: &[u64], shown: &[u64], ready: &[u64]) -> HashSet<TileKey> {
        let ready = keys(ready);
        let wanted: Vec<TileKey> = wanted.iter().map(|n| key(*n)).collect();
        stand_in_selection(&wanted, &keys(shown), |k| ready.contains(k), is_ancestor)
    }

    #[test]
    fn refining_waits_for_every_child_under_the_parent() {
        // Three of four children built: the parent still stands in, alone.
        assert_eq!(next(&[1, 2, 3, 4], &[0], &[1, 2, 3]), keys(&[0]));
        // All four: the children replace it.
        assert_eq!(next(&[1, 2, 3, 4], &[0], &[1, 2, 3, 4]), keys(&[1, 2, 3, 4]));
    }

    #[test]
    fn coarsening_keeps_the_children_until_the_parent_is_built() {
        assert_eq!(next(&[0], &[1, 2, 3, 4], &[1, 2, 3, 4]), keys(&[1, 2, 3, 4]));
        assert_eq!(next(&[0], &[1, 2, 3, 4], &[0]), keys(&[0]));
    }

    #[test]
    fn subtrees_stand_in_independently_and_the_coarsest_ancestor_wins() {
        // Tile 1 refines into 5..=8 (one missing) while 2 and 3 are steady: 1 stays, 2 and 3 show.
        assert_eq!(next(&[5, 6, 7, 8, 2, 3], &[1, 2, 3], &[5, 6, 7, 2, 3]), keys(&[1, 2, 3]));
        // A jump from the root to grandchildren with 8 missing: the root alone covers it all.
        assert_eq!(next(&[5, 6, 7, 8, 2, 3, 4], &[0, 1], &[5, 6, 7, 2, 3, 4]), keys(&[0]));
    }

    #[test]
    fn a_tile_with_nothing_over_its_place_shows_when_built() {
        assert_eq!(next(&[2], &[], &[]), keys(&[]));
        assert_eq!(next(&[2, 3], &[], &[2]), keys(&[2]));
    }
}
