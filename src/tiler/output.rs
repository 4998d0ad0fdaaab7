//! Writing a city as a tileset directory: `tileset.json`, `tiles/L/X_Y.glb`, `ground/L/X_Y.glb`, and what drills act
//! on: `dem.tif` (the ground's heights, when the city has relief), `roads.json` and `buildings.json`.

use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use geo::{Coord, LineString, Simplify};
use glam::DVec3;
use serde_json::{Value, json};

use super::glb::{BUILDING, GlbBuilder};
use super::quadtree::{self, QuadNode, QuadOptions};
use super::{City, ground, rings};
use crate::drill::world::Structure;
use crate::extrude::{Footprint, Mesh};
use crate::geo::LocalFrame;
use crate::terrain::geotiff::write_geotiff;
use crate::terrain::{DEM_FILE, Dem};

/// How to cut the city into tiles.
#[derive(Debug, Clone, Copy)]
pub struct TileOptions {
    pub max_buildings_per_tile: usize,
    pub max_buildings_per_lod_tile: usize,
    pub max_level: u32,
    pub threads: usize,
}

impl Default for TileOptions {
    fn default() -> Self {
        Self {
            max_buildings_per_tile: 1000,
            max_buildings_per_lod_tile: 2000,
            max_level: 16,
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TileReport {
    pub buildings: usize,
    pub tiles: usize,
    pub leaf_tiles: usize,
    pub max_level: u32,
    pub triangles: u64,
    pub bytes: u64,
    pub road_nodes: usize,
    pub road_edges: usize,
    pub skipped_buildings: usize,
    pub seconds: f64,
}

/// Tiles `city` into `dir` (its `tileset.json`, `tiles/`, `ground/`, `dem.tif`, `roads.json`, `buildings.json`).
pub fn write_city(city: &City, dir: &Path, options: &TileOptions) -> std::io::Result<TileReport> {
    let started = Instant::now();
    let frame = LocalFrame::new(city.origin);
    let quad = QuadOptions {
        max_per_leaf: options.max_buildings_per_tile.max(1),
        max_per_lod: options.max_buildings_per_lod_tile.max(1),
        max_level: options.max_level,
    };
    let root = quadtree::build(&city.buildings, quad)
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "the city has no buildings"))?;
    let tiles_dir = dir.join("tiles");
    if tiles_dir.exists() {
        std::fs::remove_dir_all(&tiles_dir)?;
    }
    std::fs::create_dir_all(&tiles_dir)?;

    let nodes = root.walk();
    let (next, triangles, bytes, skipped) =
        (AtomicUsize::new(0), AtomicU64::new(0), AtomicU64::new(0), AtomicUsize::new(0));
    std::thread::scope(|s| -> std::io::Result<()> {
        let workers: Vec<_> = (0..options.threads.max(1))
            .map(|_| {
                s.spawn(|| -> std::io::Result<()> {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(node) = nodes.get(i) else { return Ok(()) };
                        let (glb, tris, missing) = tile_glb(city, node);
                        let path = tiles_dir.join(content_uri(node).trim_start_matches("tiles/"));
                        std::fs::create_dir_all(path.parent().expect("has a parent"))?;
                        std::fs::write(&path, &glb)?;
                        triangles.fetch_add(tris as u64, Ordering::Relaxed);
                        bytes.fetch_add(glb.len() as u64, Ordering::Relaxed);
                        skipped.fetch_add(missing, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        workers.into_iter().try_for_each(|w| w.join().expect("tile worker panicked"))
    })?;

    // Ground under everything, with a margin; and its DEM, for the drills' flood.
    let (lo, hi) = city.extent_m();
    let ground = ground::write_ground(city, &frame, lo, hi, dir)?;
    if let Some(ground) = &city.ground {
        let dem = write_geotiff(&Dem::from_local(&frame, ground)).map_err(std::io::Error::other)?;
        std::fs::write(dir.join(DEM_FILE), dem)?;
    }
    std::fs::write(dir.join("roads.json"), serde_json::to_vec(&city.roads)?)?;
    std::fs::write(dir.join("buildings.json"), serde_json::to_vec(&structures(city))?)?;

    let buildings_tile = tile_json(&root);
    let all_min = root.min.min(ground.min);
    let all_max = root.max.max(ground.max);
    // Drawing the ground alone leaves out every building: the tallest is the error. The root draws the coarsest
    // ground; its children replace it (the finer ground and the buildings), or add the buildings to a ground of
    // one tile.
    let tallest = city.buildings.iter().map(|b| b.height_m).fold(0.0, f64::max);
    let root_error =
        [tallest, root.geometric_error_m * 1.5, root.geometric_error_m + 1.0, ground.geometric_error_m * 1.5]
            .into_iter()
            .fold(ground.geometric_error_m + 1.0, f64::max);
    let refine = if ground.children.is_empty() { "ADD" } else { "REPLACE" };
    let mut children = ground.children;
    children.push(buildings_tile);
    let tileset = json!({
        "asset": {"version": "1.1", "generator": concat!("citytwin tiler ", env!("CARGO_PKG_VERSION"))},
        "geometricError": root_error * 2.0,
        "root": {
            "transform": frame.ecef_from_enu.to_cols_array(),
            "boundingVolume": box_json(all_min, all_max),
            "geometricError": root_error,
            "refine": refine,
            "content": {"uri": ground.content_uri},
            "children": children,
        }
    });
    let json = serde_json::to_vec(&tileset)?;
    std::fs::write(dir.join("tileset.json"), &json)?;

    let all = root.walk();
    Ok(TileReport {
        buildings: city.buildings.len(),
        tiles: all.len() + ground.tiles,
        leaf_tiles: all.iter().filter(|n| n.is_leaf()).count(),
        max_level: all.iter().map(|n| n.level).max().unwrap_or(0),
        triangles: triangles.into_inner(),
        bytes: bytes.into_inner() + ground.bytes + json.len() as u64,
        road_nodes: city.roads.nodes.len(),
        road_edges: city.roads.edges.len(),
        skipped_buildings: skipped.into_inner(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The buildings as drills see them (`buildings.json`): outline, height, floors and use, by feature id.
fn structures(city: &City) -> Vec<Structure> {
    let round = |v: f64| (v * 10.0).round() / 10.0;
    city.buildings
        .iter()
        .map(|b| Structure {
            id: b.id.clone(),
            outline_m: b.outer.iter().map(|p| [round(p[0]), round(p[1])]).collect(),
            height_m: round(b.height_m - b.min_height_m),
            floors: b.levels,
            usage: b.kind.clone(),
        })
        .collect()
}

fn content_uri(n: &QuadNode) -> String {
    format!("tiles/{}/{}_{}.glb", n.level, n.x, n.y)
}

pub(super) fn box_json(min: DVec3, max: DVec3) -> Value {
    let c = 0.5 * (min + max);
    let h = (0.5 * (max - min)).max(DVec3::splat(0.5));
    json!({"box": [c.x, c.y, c.z, h.x, 0.0, 0.0, 0.0, h.y, 0.0, 0.0, 0.0, h.z]})
}

fn tile_json(n: &QuadNode) -> Value {
    let mut t = json!({
        "boundingVolume": box_json(n.min, n.max),
        "geometricError": n.geometric_error_m,
        "refine": "REPLACE",
        "content": {"uri": content_uri(n)},
    });
    if !n.children.is_empty() {
        t["children"] = n.children.iter().map(tile_json).collect();
    }
    t
}

/// One tile's glb: its buildings (footprints simplified at coarse levels), feature IDs in the
/// order of the property table. Returns the glb, its triangles and buildings that could not be
/// triangulated.
fn tile_glb(city: &City, node: &QuadNode) -> (Vec<u8>, usize, usize) {
    let origin = 0.5 * (node.min + node.max);
    let mut mesh = Mesh::default();
    let mut table = Vec::with_capacity(node.content.len());
    let mut skipped = 0;
    for &i in &node.content {
        let b = &city.buildings[i as usize];
        let (outer, holes) = simplified(b, node.simplify_m);
        let footprint = Footprint {
            outer: &outer,
            holes: &holes,
            bottom_m: b.base_z_m + b.min_height_m,
            top_m: b.base_z_m + b.height_m,
            floor: b.min_height_m > 0.0,
        };
        if mesh.add_extrusion(&footprint, table.len() as u32, origin) {
            table.push(b);
        } else {
            skipped += 1;
        }
    }
    let mut glb = GlbBuilder::default();
    glb.primitive(&mesh, &BUILDING, Some((table.len(), "building")));
    glb.buildings_table(&table);
    (glb.finish(origin), mesh.triangle_count(), skipped)
}

/// The footprint simplified to `tolerance_m` (Ramer–Douglas–Peucker); courtyards smaller than
/// the tolerance vanish; a ring that would degenerate keeps its full detail.
fn simplified(b: &super::Building, tolerance_m: f64) -> (Vec<[f64; 2]>, Vec<Vec<[f64; 2]>>) {
    if tolerance_m <= 0.0 {
        return (b.outer.clone(), b.holes.clone());
    }
    let rdp = |ring: &[[f64; 2]], ccw: bool| {
        let line = LineString::new(ring.iter().chain(ring.first()).map(|p| Coord { x: p[0], y: p[1] }).collect());
        let simple: Vec<[f64; 2]> = line.simplify(tolerance_m).0.into_iter().map(|c| [c.x, c.y]).collect();
        rings::clean(simple, ccw)
    };
    let outer = rdp(&b.outer, true).unwrap_or_else(|| b.outer.clone());
    let holes = b
        .holes
        .iter()
        .filter(|h| crate::geo::ring_area_m2(h).abs() > tolerance_m * tolerance_m * 4.0)
        .filter_map(|h| rdp(h, false))
        .collect();
    (outer, holes)
}
