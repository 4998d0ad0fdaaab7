//! The fuzz targets' bodies, one function per parser: each takes any bytes and must return
//! without panicking, hanging or exhausting memory. `fuzz_targets/` runs them under libFuzzer;
//! `tests/fuzz_regressions.rs` in the main crate runs every input that once failed.

use citytwin::tiles::content::features::GltfView;
use citytwin::tiles::content::{BatchTable, ComponentType, FeatureTable};
use citytwin::tiles::implicit::{ImplicitCoord, parse_subtree};
use citytwin::tiles::model::SubdivisionScheme;
use citytwin::tiles::{LoadError, Projection, Tileset, TilesetOptions, ViewState, Warnings, model};
use citytwin_protocol::live::{ClientMessage, subscription_areas};
use citytwin_sensorthings::filter::{self, Resolve, Scalar};
use citytwin_sensorthings::request::parse_request;
use glam::DVec3;

/// A target: any bytes in, nothing out; it must simply return.
pub type Target = fn(&[u8]);

/// Every target by name, for the regression test.
pub const TARGETS: &[(&str, Target)] = &[
    ("tileset_json", tileset_json),
    ("glb", glb),
    ("b3dm", b3dm),
    ("i3dm", i3dm),
    ("pnts", pnts),
    ("cmpt", cmpt),
    ("subtree", subtree),
    ("feature_table", feature_table),
    ("batch_table", batch_table),
    ("mesh_features", mesh_features),
    ("osm_pbf", osm_pbf),
    ("live_client", live_client),
    ("live_values", live_values),
    ("sta_request", sta_request),
];

/// tileset.json: the parser and its checks, then the runtime walking the tree it describes.
pub fn tileset_json(data: &[u8]) {
    let _ = model::parse_tileset(data);
    let mut tileset = Tileset::new("https://fuzz.test/tileset.json", TilesetOptions::default());
    let view = ViewState {
        position_ecef: DVec3::new(0.0, 0.0, 500.0),
        direction: -DVec3::Z,
        up: DVec3::Y,
        viewport_px: [1000.0, 1000.0],
        projection: Projection::Perspective { fov_y_rad: 1.0, near_m: 1.0, far_m: f64::INFINITY },
    };
    // The root tileset is the input; every further request is a 404. A few frames walk the tree.
    for frame in 0..4 {
        for r in tileset.update(&[view]).requests {
            let answer = if frame == 0 { Ok(data.to_vec()) } else { Err(LoadError::Http { status: 404, url: r.url }) };
            tileset.on_loaded(r.id, answer);
        }
    }
}

/// glb: header, chunks and the glTF JSON probe.
pub fn glb(data: &[u8]) {
    let _ = citytwin::tiles::content::parse_glb(data);
    let _ = citytwin::tiles::content::decode(data);
}

/// A content decoder, reached through content detection with the format's magic forced.
fn with_magic(magic: &[u8; 4], data: &[u8]) {
    let mut bytes = magic.to_vec();
    bytes.extend_from_slice(data.get(4..).unwrap_or_default());
    let _ = citytwin::tiles::content::decode(&bytes);
}

/// b3dm: its decoder.
pub fn b3dm(data: &[u8]) {
    with_magic(b"b3dm", data);
}

/// i3dm: its decoder.
pub fn i3dm(data: &[u8]) {
    with_magic(b"i3dm", data);
}

/// pnts: its decoder.
pub fn pnts(data: &[u8]) {
    with_magic(b"pnts", data);
}

/// cmpt: its decoder.
pub fn cmpt(data: &[u8]) {
    with_magic(b"cmpt", data);
}

/// Implicit-tiling subtrees, binary (`subt`) and JSON; the first byte picks the scheme and levels.
pub fn subtree(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else { return };
    let scheme = if first & 1 == 0 { SubdivisionScheme::Quadtree } else { SubdivisionScheme::Octree };
    let levels = u32::from(first >> 1) % 12;
    if let Ok((subtree, _)) = parse_subtree(rest, scheme, levels) {
        for level in 0..=levels.min(4) {
            let rel = ImplicitCoord { level, x: 1, y: 1, z: 1 };
            let _ = (subtree.tile_available(&rel), subtree.content_available(&rel, 0));
            let _ = subtree.child_subtree_available(&rel);
        }
    }
}

/// The first two bytes: where the JSON ends; the next two: a feature count; then the table.
fn split_table(data: &[u8]) -> Option<(&[u8], &[u8], usize)> {
    let (head, rest) = data.split_at_checked(4)?;
    let (json, binary) = rest.split_at((u16::from_le_bytes([head[0], head[1]]) as usize).min(rest.len()));
    Some((json, binary, u16::from_le_bytes([head[2], head[3]]) as usize))
}

/// Feature tables: parse, then read globals and per-feature properties.
pub fn feature_table(data: &[u8]) {
    let Some((json, binary, count)) = split_table(data) else { return };
    let Ok(t) = FeatureTable::parse(json, binary, "feature table", &mut Warnings::default()) else { return };
    let _ = (t.global_u32("POINTS_LENGTH"), t.global_vec("RTC_CENTER", 3), t.global_bool("EAST_NORTH_UP"));
    for (name, components) in [("POSITION", 3), ("RGBA", 4), ("BATCH_ID", 1), ("NORMAL_OCT16P", 2)] {
        let _ = t.property(name, count, components, &[ComponentType::F32, ComponentType::U16, ComponentType::U8]);
    }
}

/// Batch tables: parse for a feature count, then read features.
pub fn batch_table(data: &[u8]) {
    let Some((json, binary, length)) = split_table(data) else { return };
    let Ok(t) = BatchTable::parse(json, binary, length, &mut Warnings::default()) else { return };
    let names: Vec<String> = t.property_names().map(str::to_owned).collect();
    for feature in 0..length.min(64) {
        let _ = t.feature(feature);
        for n in &names {
            let _ = t.property(n, feature);
        }
    }
}

/// EXT_mesh_features feature IDs and EXT_structural_metadata property tables in a glb.
pub fn mesh_features(data: &[u8]) {
    let Ok(view) = GltfView::parse(data) else { return };
    let _ = view.vertex_feature_ids();
    if let Ok((tables, _)) = view.property_tables() {
        for t in &tables {
            for feature in 0..t.count.min(16) {
                let _ = t.row(feature);
            }
        }
    }
    for accessor in 0..4 {
        let _ = view.accessor(accessor);
    }
}

/// OpenStreetMap PBF extracts: the reader's passes over buildings and roads.
pub fn osm_pbf(data: &[u8]) {
    let _ = citytwin::tiler::osm::read_pbf_bytes(data);
}

/// The live stream's client messages as the server reads them: JSON, then the subscription checks.
pub fn live_client(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(ClientMessage::Subscribe { layers, bbox, tiles, .. }) = serde_json::from_str::<ClientMessage>(text) {
        let _ = subscription_areas(&layers, bbox, &tiles);
    }
}

/// The live stream's binary `values` frames as the viewer reads them.
pub fn live_values(data: &[u8]) {
    let _ = citytwin::protocol::live_binary::values_from_binary(data);
}

struct Entity;

impl Resolve for Entity {
    fn scalar(&self, path: &[String]) -> Option<Scalar> {
        match path.first().map(String::as_str) {
            Some("name") => Some(Scalar::Str("Noise sensor 7".into())),
            Some("@iot.id") => Some(Scalar::Num(7.0)),
            Some("phenomenonTime") => Some(Scalar::Time(1_763_700_000_000)),
            _ => None,
        }
    }

    fn point(&self, _: &[String]) -> Option<(f64, f64)> {
        Some((114.05, 22.54))
    }
}

/// SensorThings requests: path and query (`$filter` with geography, `$orderby`, `$expand`,
/// paging), then the filter as SQL and evaluated in memory.
pub fn sta_request(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (path, query) = match text.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (text, None),
    };
    let Ok(request) = parse_request(path, query) else { return };
    if let Some(f) = request.filter() {
        let _ = filter::eval(f, &Entity);
        let column = |p: &[String]| (p.join("/") == "result").then_some("result");
        let _ = filter::to_sql(f, &column, &mut Vec::new());
    }
}
