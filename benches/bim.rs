//! Restyling a BIM model of 30,000 components, as the viewer does on a click in the BIM panel
//! (engine-free, the same code): the tools' states for every component (colour by IFC type, one
//! selected, x-ray of the rest), then each feature's state written into its tile's state table,
//! through the tile's GlobalId column (decoded once per tile, on its first restyle, and kept:
//! `viewer::feature_state::ColumnCache`; that first decode is measured too). iTwin.js users report 18 s to recolour a
//! model of this size; the target is under one frame (16 ms).

use std::collections::BTreeMap;
use std::sync::Arc;

use citytwin::bim::{Colouring, ComponentTools, Placement, SpatialTree};
use citytwin::feature_state::StateTable;
use citytwin::theme::TileProperties;
use citytwin::tiler::bim::{BimModel, Product, StoreyRef, model::Surface, write_model};
use citytwin::tiles::content::{Model, TileContent};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::Value;

const COMPONENTS: usize = 30_000;
const TYPES: [&str; 6] = ["IfcWall", "IfcDoor", "IfcWindow", "IfcSlab", "IfcBeam", "IfcFurnishingElement"];

/// A model of `COMPONENTS` boxes (0.4 to 3 m) on a 5-storey grid, each with two property sets.
fn model() -> BimModel {
    let storeys: Vec<StoreyRef> =
        (0..5).map(|s| StoreyRef { global_id: format!("S{s}"), name: format!("Level {s}") }).collect();
    let products = (0..COMPONENTS)
        .map(|i| {
            let (x, z, s) = ((i % 100) as f32 * 3.0, ((i / 100) % 60) as f32 * 3.0, i / 6000);
            let size = 0.4 + (i % 7) as f32 * 0.4;
            let y = s as f32 * 3.5;
            let mut positions = Vec::new();
            for k in 0..8 {
                positions.push([
                    x + size * (k & 1) as f32,
                    y + size * ((k >> 1) & 1) as f32,
                    z + size * (k >> 2) as f32,
                ]);
            }
            let indices = vec![
                0, 1, 3, 0, 3, 2, 4, 6, 7, 4, 7, 5, 0, 4, 5, 0, 5, 1, 2, 3, 7, 2, 7, 6, 0, 2, 6, 0, 6, 4, 1, 5, 7, 1,
                7, 3,
            ];
            let surface = Surface { rgba: [0.8, 0.8, 0.8, 1.0], normals: vec![[0.0, 1.0, 0.0]; 8], positions, indices };
            let mut properties = BTreeMap::new();
            properties
                .insert(("Pset_Common".to_owned(), "FireRating".to_owned()), Value::from(format!("F{}", 30 * (i % 4))));
            properties.insert(("Qto_Base".to_owned(), "Volume".to_owned()), Value::from(size as f64 * 3.0));
            Product {
                global_id: format!("C{i:07}"),
                ifc_type: TYPES[i % TYPES.len()].into(),
                name: format!("component {i}"),
                storey: Some(storeys[s].clone()),
                properties,
                surfaces: vec![surface],
                ..Default::default()
            }
        })
        .collect();
    BimModel { products, georeference: None, schema: Some("IFC4".into()) }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let at = Placement { lon_deg: 114.05, lat_deg: 22.54, height_m: 0.0, heading_deg: 0.0 };
    let report = write_model(&model(), at, dir.path()).unwrap();
    let tree = SpatialTree::from_json(&std::fs::read(dir.path().join("bim.json")).unwrap()).unwrap();
    let tiles: Vec<Vec<Arc<TileContent>>> = std::fs::read_dir(dir.path().join("tiles"))
        .unwrap()
        .map(|e| {
            let gltf = std::fs::read(e.unwrap().path()).unwrap();
            let model = Model {
                gltf,
                is_json: false,
                rtc_center: None,
                batch_length: 0,
                feature_table: None,
                batch_table: None,
            };
            vec![Arc::new(TileContent::Model(model))]
        })
        .collect();
    println!("{} components in {} tiles ({:.1} MB)", report.components, report.tiles, report.bytes as f64 / 1e6);
    let decode = || tiles.iter().map(|contents| TileProperties::column_of(contents, "GlobalId")).collect::<Vec<_>>();
    let columns = decode();
    let restyle = |tools: &ComponentTools| {
        let (states, _) = tools.states(&tree);
        let mut written = 0;
        for ids in &columns {
            let mut table = StateTable::new(ids.len() as u32).unwrap();
            for (f, id) in ids.iter().enumerate() {
                if let Some(s) = id.as_str().map(|id| states.get(id)).filter(|s| *s != Default::default()) {
                    table.set(f as u32, s);
                    written += 1;
                }
            }
        }
        written
    };
    let by_type = ComponentTools { colouring: Colouring::By("type".into()), ..Default::default() };
    let xray = ComponentTools { selected: Some("C0012345".into()), xray: true, ..Default::default() };
    assert!(restyle(&by_type) >= COMPONENTS, "every component recoloured in every tile that draws it");
    c.bench_function("recolour 30,000 components by IFC type", |b| b.iter(|| restyle(&by_type)));
    c.bench_function("select one of 30,000 and x-ray the rest", |b| b.iter(|| restyle(&xray)));
    c.bench_function("decode the GlobalId columns of every tile (once per tile)", |b| b.iter(decode));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
