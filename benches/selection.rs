//! One selection update on a synthetic implicit quadtree of 11 levels (1,398,101 tiles, all
//! available, made in memory), from street level and from above, once the view has converged.

use std::collections::HashMap;

use citytwin::geo::{Cartographic, WGS84, ecef_from_enu};
use citytwin::tiles::content::write;
use citytwin::tiles::{Projection, Tileset, TilesetOptions, ViewState};
use criterion::{Criterion, criterion_group, criterion_main};
use glam::DVec3;

const LEVELS: u32 = 11;

/// The tileset JSON, one subtree JSON for all, and a small glb for every content.
fn files() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let origin = WGS84.ecef_from_cartographic(Cartographic::from_degrees(24.94, 60.17, 0.0));
    let m = ecef_from_enu(origin).to_cols_array();
    let tileset = serde_json::json!({"asset": {"version": "1.1"}, "geometricError": 10000, "root": {
        "transform": m, "geometricError": 5000, "refine": "REPLACE",
        "boundingVolume": {"box": [0, 0, 50, 10000, 0, 0, 0, 10000, 0, 0, 0, 50]},
        "content": {"uri": "c/{level}/{x}/{y}.glb"},
        "implicitTiling": {"subdivisionScheme": "QUADTREE", "subtreeLevels": 6, "availableLevels": LEVELS,
            "subtrees": {"uri": "s/{level}/{x}/{y}.json"}}}});
    let subtree = br#"{"tileAvailability":{"constant":1},"contentAvailability":[{"constant":1}],"childSubtreeAvailability":{"constant":1}}"#;
    let glb = write::glb(br#"{"asset":{"version":"2.0"}}"#, Some(&[0; 2048]));
    (serde_json::to_vec(&tileset).unwrap(), subtree.to_vec(), glb)
}

fn view(origin: DVec3, east_m: f64, north_m: f64, up_m: f64, look_north_m: f64) -> ViewState {
    let enu = ecef_from_enu(origin);
    let eye = enu.transform_point3(DVec3::new(east_m, north_m, up_m));
    let target = enu.transform_point3(DVec3::new(east_m, north_m + look_north_m, 0.0));
    let up = enu.transform_vector3(DVec3::Z);
    ViewState {
        position_ecef: eye,
        direction: (target - eye).normalize(),
        up,
        viewport_px: [1920.0, 1080.0],
        projection: Projection::Perspective { fov_y_rad: 60f64.to_radians(), near_m: 1.0, far_m: f64::INFINITY },
    }
}

/// Loads everything the views want until the selection settles; returns the tileset.
fn converged(views: &[ViewState]) -> Tileset {
    let (tileset, subtree, glb) = files();
    let files: HashMap<&str, &[u8]> =
        [("tileset", tileset.as_slice()), ("subtree", &subtree), ("glb", &glb)].into_iter().collect();
    let options =
        TilesetOptions { maximum_cached_bytes: 4 << 30, maximum_simultaneous_requests: 100_000, ..Default::default() };
    let mut ts = Tileset::new("https://bench.test/tileset.json", options);
    for _ in 0..200 {
        let r = ts.update(views);
        if r.requests.is_empty() {
            let s = r.stats;
            eprintln!(
                "converged: {} nodes made of {} available, {} visited, {} culled, {} rendered, {:.1} MB",
                s.nodes,
                (4u64.pow(LEVELS) - 1) / 3,
                s.tiles_visited,
                s.tiles_culled,
                s.tiles_rendered,
                s.bytes_used as f64 / 1e6
            );
            return ts;
        }
        for req in r.requests {
            let kind = if req.url.ends_with("tileset.json") {
                "tileset"
            } else if req.url.ends_with(".json") {
                "subtree"
            } else {
                "glb"
            };
            ts.on_loaded(req.id, Ok(files[kind].to_vec()));
        }
    }
    panic!("did not converge");
}

fn bench(c: &mut Criterion) {
    let origin = WGS84.ecef_from_cartographic(Cartographic::from_degrees(24.94, 60.17, 0.0));
    let street = [view(origin, 0.0, -9000.0, 2.0, 1000.0)];
    let above = [view(origin, 0.0, -15000.0, 8000.0, 15000.0)];
    let wall: Vec<ViewState> =
        (0..4).map(|i| view(origin, -6000.0 + 4000.0 * i as f64, -9000.0, 30.0, 1000.0)).collect();
    let mut group = c.benchmark_group("selection_1.4M_tile_quadtree");
    group.sample_size(30);
    for (name, views) in [("street_level", &street[..]), ("overview", &above[..]), ("video_wall_4_views", &wall[..])] {
        let mut ts = converged(views);
        group.bench_function(name, |b| b.iter(|| ts.update(views)));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
