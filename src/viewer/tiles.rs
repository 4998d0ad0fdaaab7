//! TilesPlugin: runs the core's selection every frame from the camera, fetches off the main
//! thread, turns content into meshes in background tasks, and shows the selection without holes:
//! a selected tile that is not on the GPU yet is stood in for by the tiles that covered its place
//! before (its shown ancestor, or its shown descendants), and an evicted tile stays until nothing
//! needs it as a stand-in. Then its entities are despawned and its memory freed.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use bevy::prelude::*;
use bevy::render::renderer::RenderDevice;
use bevy::tasks::{AsyncComputeTaskPool, Task, futures_lite::future};
use bevy::window::PrimaryWindow;

use super::camera::GeoCamera;
use super::feature_state::{TileMaterial, new_table};
use super::fetch::Fetcher;
use super::mesh::{PartData, parts, to_assets};
use super::mesh_limits::MAX_TEXTURE_SIDE_PX;
use super::origin::GeoTransform;
use crate::tiles::{TileError, TileKey, Tileset, TilesetOptions, TilesetStats};

/// What to stream and how hard.
#[derive(Resource, Debug, Clone)]
pub struct TilesSettings {
    pub urls: Vec<String>,
    pub max_sse: f64,
    pub cache_bytes: usize,
    pub max_requests: usize,
}

#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub enum TilesSystems {
    Receive,
    Select,
    Build,
    Show,
}

/// Geometry kept on the CPU for picking.
pub struct PickGeometry {
    pub positions: Vec<[f32; 3]>,
    pub indices: Option<Vec<u32>>,
    pub feature_ids: Option<Vec<u32>>,
}

impl PickGeometry {
    /// The vertex indices of each triangle, indexed or not.
    pub fn triangles(&self) -> impl Iterator<Item = [u32; 3]> + '_ {
        let n = self.indices.as_ref().map_or(self.positions.len(), Vec::len) / 3;
        let idx = move |i: usize| self.indices.as_ref().map_or(i as u32, |ix| ix[i]);
        (0..n).map(move |t| [idx(3 * t), idx(3 * t + 1), idx(3 * t + 2)])
    }
}

/// A drawn part of a tile.
#[derive(Component)]
pub struct TilePart {
    pub tileset: usize,
    pub key: TileKey,
    pub pick: Option<Arc<PickGeometry>>,
}

enum Built {
    Building(Task<Result<Vec<PartData>, String>>),
    Ready(Vec<Entity>),
}

/// One streaming tileset with its entities.
pub struct LoadedTileset {
    pub url: String,
    pub tileset: Tileset,
    built: HashMap<TileKey, Built>,
    /// Each built tile's ancestors, nearest first, as they were when it was built.
    lineage: HashMap<TileKey, Vec<TileKey>>,
    /// Tiles the core evicted that are still shown as stand-ins.
    evicted: HashSet<TileKey>,
    /// What the GPU shows: every tile in it is built.
    pub shown: HashSet<TileKey>,
    wanted: Vec<TileKey>,
    pub visible: bool,
    pub stats: TilesetStats,
    pub errors: Vec<TileError>,
    /// Frames since anything was requested, loading or being built.
    pub idle_frames: u32,
}

#[derive(Resource, Default)]
pub struct Tilesets(pub Vec<LoadedTileset>);

/// Counts summed over every tileset (the HUD, the web page's progress, the bench flight).
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

impl Tilesets {
    pub fn totals(&self) -> TilesTotals {
        self.0.iter().fold(TilesTotals::default(), |s, t| TilesTotals {
            shown: s.shown + t.shown.len(),
            loaded: s.loaded + t.stats.tiles_loaded,
            in_flight: s.in_flight + t.stats.requests_in_flight,
            queued: s.queued + t.stats.requests_queued,
            errors: s.errors + t.errors.len(),
            bytes_used: s.bytes_used + t.stats.bytes_used,
            bytes_budget: s.bytes_budget + t.stats.bytes_budget,
        })
    }

    /// True when every tileset has settled: nothing requested, loading or building.
    pub fn settled(&self, frames: u32) -> bool {
        !self.0.is_empty() && self.0.iter().all(|t| t.idle_frames >= frames)
    }
}

pub struct TilesPlugin;

impl Plugin for TilesPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Tilesets>()
            .configure_sets(
                Update,
                (TilesSystems::Receive, TilesSystems::Select, TilesSystems::Build, TilesSystems::Show).chain(),
            )
            .add_systems(Startup, open_tilesets)
            .add_systems(Update, receive.in_set(TilesSystems::Receive))
            .add_systems(Update, select.in_set(TilesSystems::Select))
            .add_systems(Update, build.in_set(TilesSystems::Build))
            .add_systems(Update, show.in_set(TilesSystems::Show));
    }
}

fn open_tilesets(settings: Res<TilesSettings>, mut sets: ResMut<Tilesets>) {
    let options = TilesetOptions {
        maximum_screen_space_error: settings.max_sse,
        maximum_cached_bytes: settings.cache_bytes,
        maximum_simultaneous_requests: settings.max_requests,
        ..Default::default()
    };
    sets.0 = settings
        .urls
        .iter()
        .map(|url| LoadedTileset {
            url: url.clone(),
            tileset: Tileset::new(url.clone(), options.clone()),
            built: HashMap::new(),
            lineage: HashMap::new(),
            evicted: HashSet::new(),
            shown: HashSet::new(),
            wanted: Vec::new(),
            visible: true,
            stats: TilesetStats::default(),
            errors: Vec::new(),
            idle_frames: 0,
        })
        .collect();
}

fn receive(mut fetcher: ResMut<Fetcher>, mut sets: ResMut<Tilesets>) {
    for done in fetcher.drain() {
        if let Some(t) = sets.0.get_mut(done.tileset) {
            t.tileset.on_loaded(done.id, done.result);
        }
    }
}

fn select(
    cam: Res<GeoCamera>,
    windows: Query<&Window, With<PrimaryWindow>>,
    mut fetcher: ResMut<Fetcher>,
    mut sets: ResMut<Tilesets>,
    mut commands: Commands,
) {
    let viewport = windows
        .single()
        .map_or([1280.0, 720.0], |w| [w.physical_width().max(1) as f64, w.physical_height().max(1) as f64]);
    let view = cam.view_state(viewport);
    for (i, t) in sets.0.iter_mut().enumerate() {
        let result = t.tileset.update(&[view]);
        for r in result.requests {
            fetcher.start(i, r.id, r.url);
        }
        for id in result.cancelled {
            fetcher.cancel(i, id);
        }
        for key in &result.unloaded {
            if t.shown.contains(key) && matches!(t.built.get(key), Some(Built::Ready(_))) {
                t.evicted.insert(*key); // still standing in: freed once nothing needs it
            } else {
                t.forget(*key, &mut commands);
            }
        }
        for e in &result.errors {
            error!("tile {}: {}", e.url, e.message);
        }
        t.errors.extend(result.errors);
        let busy = result.stats.requests_in_flight + result.stats.requests_started + result.stats.requests_queued > 0;
        t.idle_frames = if busy { 0 } else { t.idle_frames + 1 };
        t.stats = result.stats;
        // Start building what is newly selected.
        for key in &result.to_render {
            if t.built.contains_key(key) {
                continue;
            }
            let Some(info) = t.tileset.tile(*key) else { continue };
            let (up, ecef) = (info.up_axis, info.ecef_from_tile);
            let mut lineage = Vec::new();
            let mut up_key = info.parent;
            while let Some(k) = up_key {
                lineage.push(k);
                up_key = t.tileset.tile(k).and_then(|i| i.parent);
            }
            t.lineage.insert(*key, lineage);
            let contents: Vec<_> = t.tileset.contents(*key).cloned().collect();
            let task = AsyncComputeTaskPool::get().spawn(async move {
                let mut out = Vec::new();
                for c in &contents {
                    out.extend(parts(c, up, &ecef)?);
                }
                Ok(out)
            });
            t.built.insert(*key, Built::Building(task));
        }
        for key in &result.to_render {
            t.evicted.remove(key); // selected again: loaded again
        }
        t.wanted = result.to_render;
    }
}

impl LoadedTileset {
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
        self.evicted.remove(&key);
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

#[allow(clippy::too_many_arguments)]
fn build(
    mut sets: ResMut<Tilesets>,
    mut commands: Commands,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<TileMaterial>>,
    mut images: ResMut<Assets<Image>>,
    device: Option<Res<RenderDevice>>,
) {
    let max_texture_side = device.map_or(MAX_TEXTURE_SIDE_PX, |d| d.limits().max_texture_dimension_2d);
    for (i, t) in sets.0.iter_mut().enumerate() {
        let keys: Vec<TileKey> =
            t.built.iter().filter(|(_, b)| matches!(b, Built::Building(_))).map(|(k, _)| *k).collect();
        for key in keys {
            let Some(Built::Building(task)) = t.built.get_mut(&key) else { continue };
            let Some(result) = future::block_on(future::poll_once(task)) else { continue };
            let Some(info) = t.tileset.tile(key) else {
                t.built.remove(&key);
                continue;
            };
            let ecef_from_tile = info.ecef_from_tile;
            let mut entities = Vec::new();
            match result {
                Ok(parts) => {
                    // One state table for the tile's features, shared by its parts.
                    let features = parts.iter().filter_map(|p| p.feature_ids.as_ref()?.iter().max()).max();
                    let table = features.and_then(|max| new_table(max.saturating_add(1), &mut images));
                    for part in &parts {
                        let (mesh, material) =
                            to_assets(part, max_texture_side, table.as_ref(), &mut meshes, &mut materials, &mut images);
                        let pick = (!part.points).then(|| {
                            Arc::new(PickGeometry {
                                positions: part.positions.clone(),
                                indices: part.indices.clone(),
                                feature_ids: part.feature_ids.clone(),
                            })
                        });
                        let part_table = table.as_ref().filter(|_| part.feature_ids.is_some());
                        for placement in &part.tile_from_part {
                            let mut e = commands.spawn((
                                Mesh3d(mesh.clone()),
                                MeshMaterial3d(material.clone()),
                                GeoTransform(ecef_from_tile * *placement),
                                Transform::default(),
                                Visibility::Hidden,
                                TilePart { tileset: i, key, pick: pick.clone() },
                            ));
                            if let Some(t) = part_table {
                                e.insert(t.clone());
                            }
                            entities.push(e.id());
                        }
                    }
                }
                Err(message) => {
                    let url = info.content_urls.first().map_or(t.url.clone(), |u| u.to_string());
                    error!("tile {url}: {message}");
                    t.errors.push(TileError { url, message });
                }
            }
            t.built.insert(key, Built::Ready(entities));
        }
        if t.built.values().any(|b| matches!(b, Built::Building(_))) {
            t.idle_frames = 0;
        }
    }
}

fn show(mut sets: ResMut<Tilesets>, mut commands: Commands, mut q: Query<(&TilePart, &mut Visibility)>) {
    for t in sets.0.iter_mut() {
        t.shown = t.next_shown();
        let freed: Vec<TileKey> = t.evicted.iter().copied().filter(|k| !t.shown.contains(k)).collect();
        for key in freed {
            t.forget(key, &mut commands);
        }
    }
    for (part, mut vis) in &mut q {
        let t = &sets.0[part.tileset];
        let want = if t.visible && t.shown.contains(&part.key) { Visibility::Visible } else { Visibility::Hidden };
        if *vis != want {
            *vis = want;
        }
    }
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
