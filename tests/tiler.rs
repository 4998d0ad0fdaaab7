//! The tiler end to end: a real OSM extract and a procedural city to 3D Tiles 1.1, read back
//! through our own core (every building once, feature IDs and properties intact, heights as
//! tagged), streamed with our selection, and checked by the Khronos glTF validator.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use citytwin::tiler::{City, TileOptions, osm, procedural, write_city};
use citytwin::tiles::content::features::GltfView;
use citytwin::tiles::inspect::{InspectOptions, inspect};
use citytwin::tiles::{Projection, Tileset, TilesetOptions, ViewState};
use glam::DVec3;
use serde_json::Value;

fn options(per_tile: usize) -> TileOptions {
    TileOptions { max_buildings_per_tile: per_tile, max_buildings_per_lod_tile: per_tile * 2, ..Default::default() }
}

/// Leaf tiles of a written tileset: (content path, level).
fn leaves(dir: &Path) -> Vec<PathBuf> {
    let ts: Value = serde_json::from_slice(&std::fs::read(dir.join("tileset.json")).unwrap()).unwrap();
    let mut out = Vec::new();
    // The buildings' tree is the root's last child (the finer ground comes first).
    let mut stack: Vec<&Value> = ts["root"]["children"].as_array().unwrap().last().into_iter().collect();
    while let Some(t) = stack.pop() {
        match t["children"].as_array() {
            Some(children) => stack.extend(children),
            None => out.push(dir.join(t["content"]["uri"].as_str().unwrap())),
        }
    }
    out
}

/// Every feature of every leaf: id → (properties, vertical extent of its vertices).
fn read_back(dir: &Path) -> HashMap<String, (Value, f32)> {
    let mut seen: HashMap<String, (Value, f32)> = HashMap::new();
    for leaf in leaves(dir) {
        let bytes = std::fs::read(&leaf).unwrap();
        let view = GltfView::parse(&bytes).unwrap();
        let (tables, warnings) = view.property_tables().unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(tables.len(), 1);
        let table = &tables[0];
        assert_eq!(table.class, "building");
        let ids = view.vertex_feature_ids().unwrap();
        assert_eq!(ids.len(), 1);
        let feature_of_vertex = &ids[0].ids;
        assert_eq!((ids[0].mesh, ids[0].primitive, ids[0].property_table), (0, 0, Some(0)));
        let position = view.json["meshes"][0]["primitives"][0]["attributes"]["POSITION"].as_u64().unwrap();
        let positions = view.accessor(position).unwrap();
        let mut extent = vec![(f32::INFINITY, f32::NEG_INFINITY); table.count];
        for (v, f) in feature_of_vertex.iter().enumerate() {
            assert!((*f as usize) < table.count, "feature ID {f} beyond the table");
            let y = positions[v * 3 + 1] as f32;
            let e = &mut extent[*f as usize];
            *e = (e.0.min(y), e.1.max(y));
        }
        for (f, (lo, hi)) in extent.into_iter().enumerate() {
            let row: serde_json::Map<String, Value> =
                table.row(f).into_iter().map(|(k, v)| (k.to_owned(), v.clone())).collect();
            let id = row["id"].as_str().unwrap().to_owned();
            assert!(seen.insert(id.clone(), (Value::Object(row), hi - lo)).is_none(), "{id} appears in two leaves");
        }
    }
    seen
}

fn assert_round_trip(city: &City, dir: &Path) {
    let back = read_back(dir);
    assert_eq!(back.len(), city.buildings.len(), "every building present once");
    for b in &city.buildings {
        let (props, extent) = back.get(&b.id).unwrap_or_else(|| panic!("{} missing", b.id));
        assert_eq!(props["name"], b.name.as_str());
        assert_eq!(props["building"], b.kind.as_str());
        assert_eq!(props["address"], b.address.as_str());
        // 0 is the column's noData: no levels tagged.
        assert_eq!(props["levels"], b.levels.filter(|n| *n > 0).map_or(Value::Null, Value::from));
        assert!((props["height"].as_f64().unwrap() - b.height_m).abs() < 1e-4);
        assert!((props["min_height"].as_f64().unwrap() - b.min_height_m).abs() < 1e-4);
        let expected = (b.height_m - b.min_height_m) as f32;
        assert!((extent - expected).abs() < 0.01, "{}: mesh is {extent} m tall, tagged {expected}", b.id);
    }
}

fn helsinki() -> Option<PathBuf> {
    common::data_dir().map(|d| d.join("osm/helsinki.osm.pbf"))
}

#[test]
fn helsinki_tiles_and_reads_back_through_the_core() {
    let Some(pbf) = helsinki() else { return };
    let city = osm::read_pbf(&pbf).unwrap();
    assert!(city.buildings.len() >= 440, "{} buildings", city.buildings.len());
    assert!(city.buildings.iter().any(|b| !b.holes.is_empty()), "courtyards survive");
    assert!(city.roads.edges.len() > 2000 && city.roads.nodes.len() > 1000);
    let dir = tempfile::tempdir().unwrap();
    let report = write_city(&city, dir.path(), &options(60)).unwrap();
    assert_eq!(report.skipped_buildings, 0);
    assert!(report.leaf_tiles > 4 && report.max_level >= 2, "{report:?}");
    assert_round_trip(&city, dir.path());
    let inspected =
        inspect(&common::file_url(&dir.path().join("tileset.json")), InspectOptions::default(), &mut common::load_file);
    assert!(inspected.errors.is_empty() && inspected.warnings.is_empty(), "{inspected:?}");
    assert_eq!(inspected.tiles, report.tiles);
    let roads: citytwin::tiler::RoadGraph =
        serde_json::from_slice(&std::fs::read(dir.path().join("roads.json")).unwrap()).unwrap();
    assert_eq!(roads, city.roads);
}

#[test]
fn helsinki_stands_on_a_dem() {
    use citytwin::terrain::Dem;
    use citytwin::terrain::geotiff::{read_geotiff, write_geotiff};
    let Some(pbf) = helsinki() else { return };
    let mut city = osm::read_pbf(&pbf).unwrap();
    let (lon0, lat0) = (city.origin.lon_rad.to_degrees(), city.origin.lat_rad.to_degrees());
    // A GeoTIFF such as SRTM's: 0.0005° pixels over ±0.05°, rising to the east and the north.
    let slope = |lon: f64, lat: f64| 20.0 + 2000.0 * (lon - lon0) + 1000.0 * (lat - lat0);
    let (cols, rows, step) = (200, 200, 0.0005);
    let (west, north) = (lon0 - 0.05, lat0 + 0.05);
    let heights_m = (0..rows * cols)
        .map(|i| slope(west + ((i % cols) as f64 + 0.5) * step, north - ((i / cols) as f64 + 0.5) * step) as f32)
        .collect();
    let dem = Dem { cols, rows, west_deg: west, north_deg: north, step_deg: [step, step], heights_m };
    let (dem, warnings) = read_geotiff(&write_geotiff(&dem).unwrap()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    city.set_dem(&dem);
    let frame = citytwin::geo::LocalFrame::new(city.origin);
    for b in city.buildings.iter().step_by(17) {
        let lowest = b
            .outer
            .iter()
            .map(|p| {
                let c = frame.to_geodetic(p[0], p[1]);
                slope(c.lon_rad.to_degrees(), c.lat_rad.to_degrees())
            })
            .fold(f64::INFINITY, f64::min);
        let base = b.base_z_m - frame.surface_z(b.center()[0], b.center()[1]);
        assert!((base - lowest).abs() < 0.5, "{} stands at {base:.2} m on ground at {lowest:.2} m", b.id);
    }
    for n in city.roads.nodes.iter().step_by(29) {
        assert!((n.height_m - slope(n.lon_deg, n.lat_deg)).abs() < 0.5, "road node {} at {}", n.id, n.height_m);
    }
    // The tileset carries the ground's DEM, and the ground tile follows it.
    let dir = tempfile::tempdir().unwrap();
    write_city(&city, dir.path(), &options(60)).unwrap();
    let (written, _) = read_geotiff(&std::fs::read(dir.path().join(citytwin::terrain::DEM_FILE)).unwrap()).unwrap();
    let here = written.height_at(lon0 + 0.002, lat0 - 0.001).unwrap();
    assert!((here - slope(lon0 + 0.002, lat0 - 0.001)).abs() < 0.5, "{here}");
    let inspected =
        inspect(&common::file_url(&dir.path().join("tileset.json")), InspectOptions::default(), &mut common::load_file);
    assert!(inspected.errors.is_empty() && inspected.warnings.is_empty(), "{inspected:?}");
    // A DEM elsewhere leaves the ground flat, and says so.
    let mut flat = osm::read_pbf(&pbf).unwrap();
    flat.set_dem(&Dem { west_deg: 100.0, north_deg: 10.0, ..dem });
    assert!(flat.ground.is_none() && flat.warnings.iter().any(|w| w.message.contains("does not cover")));
}

#[test]
fn helsinki_heights_are_as_tagged() {
    let Some(pbf) = helsinki() else { return };
    // Read the tags ourselves, independently of the tiler: plain `height`, or `building:levels`
    // at 3 m a storey when no height is given.
    let mut tagged: HashMap<String, f64> = HashMap::new();
    osmpbf::ElementReader::from_path(&pbf)
        .unwrap()
        .for_each(|e| {
            if let osmpbf::Element::Way(w) = e {
                let tags: HashMap<&str, &str> = w.tags().collect();
                let height = tags.get("height").and_then(|h| h.parse::<f64>().ok());
                let levels = tags.get("building:levels").and_then(|l| l.parse::<f64>().ok()).map(|l| l * 3.0);
                let untagged = !tags.contains_key("height") && !tags.contains_key("building:height");
                if let (true, Some(h)) = (tags.contains_key("building"), height.or(levels.filter(|_| untagged))) {
                    tagged.insert(format!("way/{}", w.id()), h);
                }
            }
        })
        .unwrap();
    let city = osm::read_pbf(&pbf).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_city(&city, dir.path(), &options(100)).unwrap();
    let back = read_back(dir.path());
    let mut checked = 0;
    for (id, h) in &tagged {
        if let Some((props, extent)) = back.get(id) {
            assert!((props["height"].as_f64().unwrap() - h).abs() < 1e-4, "{id}");
            let min = props["min_height"].as_f64().unwrap() as f32;
            assert!((extent - (*h as f32 - min)).abs() < 0.01, "{id}: {extent} vs {h}");
            checked += 1;
        }
    }
    assert!(checked >= 100, "only {checked} buildings carry a numeric height or levels tag");
}

#[test]
fn procedural_city_round_trips_and_streams_with_levels_of_detail() {
    let city = procedural::generate(&procedural::ProceduralOptions::new(6000, 3));
    let dir = tempfile::tempdir().unwrap();
    let report = write_city(&city, dir.path(), &options(250)).unwrap();
    assert!(report.max_level >= 2, "{report:?}");
    assert_round_trip(&city, dir.path());

    // Stream it with our own selection: from afar coarse tiles, from street level leaves.
    let url = common::file_url(&dir.path().join("tileset.json"));
    let frame = citytwin::geo::LocalFrame::new(city.origin);
    let at = |east: f64, north: f64, up: f64, look: DVec3| {
        let eye = frame.ecef_from_enu.transform_point3(DVec3::new(east, north, up));
        let target = frame.ecef_from_enu.transform_point3(look);
        ViewState {
            position_ecef: eye,
            direction: (target - eye).normalize(),
            up: frame.ecef_from_enu.transform_vector3(DVec3::Z),
            viewport_px: [1280.0, 720.0],
            projection: Projection::Perspective { fov_y_rad: 50f64.to_radians(), near_m: 1.0, far_m: f64::INFINITY },
        }
    };
    // (ground drawn, levels of the building tiles drawn) once converged.
    let levels = |view: ViewState| {
        let mut ts = Tileset::new(url.clone(), TilesetOptions::default());
        for _ in 0..200 {
            let r = ts.update(&[view]);
            if r.requests.is_empty() && !ts.is_loading() {
                assert!(ts.errors().is_empty(), "{:?}", ts.errors());
                let urls: Vec<&str> = r.to_render.iter().map(|k| ts.tile(*k).unwrap().content_urls[0]).collect();
                let ground = urls.iter().any(|u| u.contains("/ground/"));
                let level = |u: &&str| u.split("/tiles/").nth(1).and_then(|p| p.split('/').next()?.parse::<u32>().ok());
                return (ground, urls.iter().filter_map(level).collect::<Vec<_>>());
            }
            for q in r.requests {
                ts.on_loaded(q.id, common::load_file(&q.url));
            }
        }
        panic!("did not converge");
    };
    let (ground, space) = levels(at(0.0, -60_000.0, 40_000.0, DVec3::ZERO));
    assert!(ground && space.is_empty(), "from 70 km only the ground: {space:?}");
    let (ground, far) = levels(at(0.0, -4_000.0, 2_500.0, DVec3::ZERO));
    assert!(ground && !far.is_empty() && far.iter().all(|l| *l <= 1), "from 5 km the coarse tiles: {far:?}");
    let (ground, street) = levels(at(0.0, -400.0, 1.7, DVec3::new(0.0, 0.0, 30.0)));
    assert!(
        ground && street.iter().any(|l| *l >= report.max_level - 1),
        "at street level the finest tiles: {street:?}"
    );
}

#[test]
fn the_khronos_validator_accepts_the_output() {
    let Some(validator) = common::gltf_validator() else { return };
    let city = procedural::generate(&procedural::ProceduralOptions::new(1500, 5));
    let dir = tempfile::tempdir().unwrap();
    write_city(&city, dir.path(), &options(300)).unwrap();
    let mut files = vec![dir.path().join("ground/0/0_0.glb")];
    files.extend(leaves(dir.path()).into_iter().take(3));
    files.push(dir.path().join("tiles/0/0_0.glb"));
    let results = common::validate_gltf(&validator, &files);
    assert_eq!(results.len(), files.len());
    for r in results {
        assert_eq!((r["errors"].as_u64(), r["warnings"].as_u64()), (Some(0), Some(0)), "{r}");
    }
}

#[test]
fn broken_osm_input_gives_clear_errors_and_warnings() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/osm");
    let city = osm::read_pbf(&corpus.join("mixed.osm.pbf")).unwrap();
    let ids: Vec<&str> = city.buildings.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    let good = city.buildings.iter().find(|b| b.id == "way/1").unwrap();
    assert_eq!((good.height_m, good.name.as_str(), good.address.as_str()), (12.0, "Hyvä talo", "Testikatu 1"));
    let tall = city.buildings.iter().find(|b| b.id == "way/2").unwrap();
    assert_eq!(tall.height_m, 6.0, "unreadable height: default for a house");
    let court = city.buildings.iter().find(|b| b.id == "relation/10").unwrap();
    assert_eq!((court.holes.len(), court.height_m, court.levels), (1, 15.0, Some(5)));
    let warnings: Vec<String> = city.warnings.iter().map(|w| w.to_string()).collect();
    for expected in ["not closed", "missing from the extract", "degenerate", "could not be closed", "\"tall\""] {
        assert!(warnings.iter().any(|w| w.contains(expected)), "no warning about {expected}: {warnings:#?}");
    }
    assert_eq!(city.roads.edges.len(), 4, "the cross splits into four stretches");

    let err = osm::read_pbf(&corpus.join("no-buildings.osm.pbf")).unwrap_err();
    assert!(err.to_string().contains("holds no buildings"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let missing = osm::read_pbf(&dir.path().join("absent.osm.pbf")).unwrap_err();
    assert!(missing.to_string().contains("cannot read"), "{missing}");
    let garbage = dir.path().join("garbage.osm.pbf");
    std::fs::write(&garbage, b"\0\0\0\x0fthis is not a pbf at all, not even close").unwrap();
    assert!(osm::read_pbf(&garbage).is_err());
    if let Some(pbf) = helsinki() {
        let bytes = std::fs::read(pbf).unwrap();
        for cut in [bytes.len() / 2, bytes.len() - 7, 100] {
            let truncated = dir.path().join(format!("truncated-{cut}.osm.pbf"));
            std::fs::write(&truncated, &bytes[..cut]).unwrap();
            // Cut mid-blob the decoder reports the damage; cut inside the header block the
            // file reads as empty. Either way: an error naming the file, never a panic.
            let e = osm::read_pbf(&truncated).unwrap_err().to_string();
            assert!(
                e.contains(truncated.to_str().unwrap()) && (e.contains("cannot read") || e.contains("no buildings")),
                "{e}"
            );
        }
    }
}
