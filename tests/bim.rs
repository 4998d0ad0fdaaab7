//! The BIM tiler end to end: the real Duplex (IFC2X3 from Revit, via IfcOpenShell) and a second,
//! differently built IFC4 model, tiled and read back through our own core: every product with
//! geometry exactly one feature of exactly one component-level tile, its properties as in
//! `extras.ifc`, storeys partitioning the components, placement as georeferenced, a valid tileset
//! for `inspect` and the Khronos validator.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use citytwin::geo::{Cartographic, WGS84};
use citytwin::tiler::bim::{Placement, tile_bim};
use citytwin::tiles::content::features::GltfView;
use citytwin::tiles::content::write;
use citytwin::tiles::inspect::{InspectOptions, inspect};
use glam::{DMat4, DVec3};
use serde_json::{Value, json};

fn duplex() -> Option<PathBuf> {
    Some(common::data_dir()?.join("bim/duplex"))
}

/// Tiles (content path, has children) of a written tileset, depth first.
fn tiles(dir: &Path) -> Vec<(PathBuf, bool)> {
    let ts: Value = serde_json::from_slice(&std::fs::read(dir.join("tileset.json")).unwrap()).unwrap();
    let mut out = Vec::new();
    let mut stack = vec![&ts["root"]];
    while let Some(t) = stack.pop() {
        let children = t["children"].as_array().filter(|c| !c.is_empty());
        if let Some(uri) = t["content"]["uri"].as_str() {
            out.push((dir.join(uri), children.is_some()));
        }
        stack.extend(children.into_iter().flatten());
    }
    out
}

/// One tile's features: GlobalId → (property name as "set / property" or attribute id → value).
fn features(glb: &Path) -> BTreeMap<String, BTreeMap<String, Value>> {
    let bytes = std::fs::read(glb).unwrap();
    let view = GltfView::parse(&bytes).unwrap();
    let (tables, warnings) = view.property_tables().unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(tables.len(), 1);
    let schema = &view.json["extensions"]["EXT_structural_metadata"]["schema"]["classes"]["component"]["properties"];
    let table = &tables[0];
    // Every vertex's feature ID indexes the table, and every feature has geometry.
    let mut drawn = vec![false; table.count];
    for prim in view.vertex_feature_ids().unwrap() {
        assert_eq!(prim.property_table, Some(0));
        for id in prim.ids {
            drawn[id as usize] = true;
        }
    }
    assert!(drawn.iter().all(|d| *d), "{}: a feature without geometry", glb.display());
    let mut out = BTreeMap::new();
    for f in 0..table.count {
        let row = table.row(f);
        let id = row["GlobalId"].as_str().unwrap().to_owned();
        let named =
            row.into_iter().map(|(k, v)| (schema[k]["name"].as_str().unwrap_or(k).to_owned(), v.clone())).collect();
        assert!(out.insert(id.clone(), named).is_none(), "{id} twice in {}", glb.display());
    }
    out
}

/// The products of a converter's glb: GlobalId → `extras.ifc`, for the nodes with a mesh.
fn products_with_geometry(glb: &[u8]) -> BTreeMap<String, Value> {
    let view = GltfView::parse(glb).unwrap();
    view.json["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n.get("mesh").is_some() && n["extras"]["ifc"]["type"] != "IfcProject")
        .map(|n| (n["extras"]["ifc"]["GlobalId"].as_str().unwrap().to_owned(), n["extras"]["ifc"].clone()))
        .collect()
}

/// Checks the tiled `dir` against its source `glb`: every product with geometry one feature of
/// one leaf, the leaves of one storey each, properties as the source says. Returns the leaves'
/// features.
fn check_against_source(dir: &Path, glb: &[u8]) -> BTreeMap<String, BTreeMap<String, Value>> {
    let source = products_with_geometry(glb);
    let mut leaves = BTreeMap::new();
    for (path, has_children) in tiles(dir) {
        let fs = features(&path);
        if has_children {
            continue;
        }
        // A leaf holds one storey's components.
        let storeys: std::collections::BTreeSet<String> = fs.values().map(|f| f["Storey"].to_string()).collect();
        assert_eq!(storeys.len(), 1, "{}: {storeys:?}", path.display());
        for (id, props) in fs {
            assert!(leaves.insert(id.clone(), props).is_none(), "{id} is in two leaves");
        }
    }
    assert_eq!(leaves.keys().collect::<Vec<_>>(), source.keys().collect::<Vec<_>>(), "one feature per product");
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut compared = 0;
    for (id, ifc) in &source {
        let got = &leaves[id];
        assert_eq!(got["IFC type"], ifc["type"], "{id}");
        let storey = ifc["storey"]["Name"].as_str().map_or(Value::Null, Value::from);
        assert_eq!(got["Storey"], storey, "{id}");
        for (set, props) in ifc["psets"].as_object().into_iter().flatten() {
            for (name, want) in props.as_object().unwrap().iter().filter(|(k, _)| *k != "id") {
                let got = &got[&format!("{set} / {name}")];
                match got {
                    Value::Number(n) => assert_eq!(n.as_f64(), want.as_f64(), "{id} {set}.{name}"),
                    Value::String(s) => assert_eq!(*s, text(want), "{id} {set}.{name}"),
                    Value::Null => assert!(want.is_null() || want == "", "{id} {set}.{name}: {want}"),
                    other => panic!("{id} {set}.{name}: {other}"),
                }
                compared += 1;
            }
        }
        // A property of another component's set is missing here, not some default.
        let own = |key: &str| key.split_once(" / ").is_some_and(|(set, name)| ifc["psets"][set].get(name).is_some());
        for (key, v) in got.iter().filter(|(k, _)| k.contains(" / ") && !own(k)) {
            assert!(v.is_null(), "{id}: {key} = {v}, which it does not have");
        }
    }
    assert!(compared > 0);
    leaves
}

/// ECEF of the tileset's model-frame point `p` (z up).
fn ecef_of(dir: &Path, p: DVec3) -> DVec3 {
    let ts: Value = serde_json::from_slice(&std::fs::read(dir.join("tileset.json")).unwrap()).unwrap();
    let m: Vec<f64> = ts["root"]["transform"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    DMat4::from_cols_slice(&m).transform_point3(p)
}

#[test]
fn the_duplex_tiles_to_one_feature_per_product_with_its_properties_and_place() {
    let Some(dir) = duplex() else { return };
    let glb = std::fs::read(dir.join("duplex.glb")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let (report, placement) = tile_bim(&glb, out.path(), None, None).unwrap();
    assert_eq!((report.products, report.components, report.storeys), (245, 236, 4));
    let leaves = check_against_source(out.path(), &glb);
    assert_eq!(leaves.len(), 236);

    // Placed at the sidecar's georeference: the model's origin within 1 cm of it.
    let sidecar: Value = serde_json::from_slice(&std::fs::read(dir.join("duplex.properties.json")).unwrap()).unwrap();
    let site = &sidecar["georeference"]["IfcSite"];
    let want = WGS84.ecef_from_cartographic(Cartographic::from_degrees(
        site["longitude_deg"].as_f64().unwrap(),
        site["latitude_deg"].as_f64().unwrap(),
        site["RefElevation"].as_f64().unwrap(),
    ));
    let got = ecef_of(out.path(), DVec3::ZERO);
    assert!((got - want).length() < 0.01, "{:.4} m off", (got - want).length());
    assert_eq!(placement.heading_deg, 0.0, "the Duplex has no TrueNorth");

    // The spatial tree: every product once, parents before children, storeys lowest first.
    let tree: Value = serde_json::from_slice(&std::fs::read(out.path().join("bim.json")).unwrap()).unwrap();
    let nodes = tree["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 245);
    let mut seen = std::collections::HashSet::new();
    for n in nodes {
        if let Some(p) = n["parent"].as_str() {
            assert!(seen.contains(p), "{} before its parent {p}", n["id"]);
        }
        assert!(seen.insert(n["id"].as_str().unwrap()));
    }
    let storeys: Vec<&str> = tree["storeys"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(storeys, ["T/FDN", "Level 1", "Level 2", "Roof"]);

    // Geometric errors shrink towards the leaves, which have none.
    let ts: Value = serde_json::from_slice(&std::fs::read(out.path().join("tileset.json")).unwrap()).unwrap();
    let mut stack = vec![(&ts["root"], f64::INFINITY)];
    while let Some((t, parent)) = stack.pop() {
        let e = t["geometricError"].as_f64().unwrap();
        assert!(e <= parent);
        match t["children"].as_array() {
            Some(c) => stack.extend(c.iter().map(|c| (c, e))),
            None => assert_eq!(e, 0.0),
        }
    }

    // Our inspect finds no error or warning.
    let report =
        inspect(&common::file_url(&out.path().join("tileset.json")), InspectOptions::default(), &mut common::load_file);
    assert!(report.errors.is_empty() && report.warnings.is_empty(), "{:?} {:?}", report.errors, report.warnings);
}

/// A model built differently from the Duplex (IFC4 types, no TrueNorth but an IfcMapConversion,
/// a helper node without IFC data carrying a translation, a mirrored component, an aggregate
/// whose parts carry the geometry, a component in no storey, shared meshes): the same guarantees.
fn second_model() -> Vec<u8> {
    let mut bin: Vec<u8> = Vec::new();
    // A unit cube, 24 vertices (flat faces), no normals: the tiler makes them.
    let mut positions = Vec::new();
    let mut indices: Vec<u16> = Vec::new();
    for axis in 0..3 {
        for side in [0.0f32, 1.0] {
            let base = positions.len() as u16;
            for (a, b) in [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)] {
                let mut p = [0.0f32; 3];
                p[axis] = side;
                p[(axis + 1) % 3] = a;
                p[(axis + 2) % 3] = b;
                positions.push(p);
            }
            indices.extend([base, base + 1, base + 2, base, base + 2, base + 3]);
        }
    }
    for p in &positions {
        for v in p {
            bin.extend(v.to_le_bytes());
        }
    }
    let idx_at = bin.len();
    for i in &indices {
        bin.extend(i.to_le_bytes());
    }
    let ifc = |id: &str, ty: &str, storey: Option<(&str, &str)>, parent: &str, psets: Value| {
        json!({"ifc": {"GlobalId": id, "type": ty, "Name": format!("{ty} {id}"), "parent": parent,
            "storey": storey.map(|(g, n)| json!({"GlobalId": g, "Name": n})), "materials": ["Concrete"], "psets": psets}})
    };
    let (eg, og) = (Some(("S_EG", "Erdgeschoss")), Some(("S_OG", "Obergeschoss")));
    let scale = |s: [f64; 3], t: [f64; 3]| json!({"scale": s, "translation": t});
    let mut nodes = vec![
        json!({"name": "P", "matrix": [1, 0, 0, 0, 0, 0, -1, 0, 0, 1, 0, 0, 0, 0, 0, 1], "children": [1],
            "extras": {"ifc": {"GlobalId": "P", "type": "IfcProject"}}}),
        json!({"name": "SITE", "children": [2], "extras": ifc("SITE", "IfcSite", None, "P", json!({}))}),
        json!({"name": "B", "children": [3, 4, 9], "extras": ifc("B", "IfcBuilding", None, "SITE", json!({}))}),
        json!({"name": "S_EG", "children": [5, 6], "extras": ifc("S_EG", "IfcBuildingStorey", eg, "B", json!({}))}),
        json!({"name": "S_OG", "children": [10], "extras": ifc("S_OG", "IfcBuildingStorey", og, "B", json!({}))}),
    ];
    // 5: a 20 m wall, mirrored; 6: a helper group (no IFC data) 3 m up holding 7 (a window) and 8
    // (a chair).
    let mut wall = scale([-20.0, 0.3, 3.0], [20.0, 0.0, 0.0]);
    wall["mesh"] = 0.into();
    wall["extras"] = ifc(
        "W1",
        "IfcWall",
        eg,
        "S_EG",
        json!({"Pset_WallCommon": {"IsExternal": true, "FireRating": "F90", "id": 7}, "Qto_WallBaseQuantities": {"Length": 20.0, "id": 8}}),
    );
    nodes.push(wall);
    nodes.push(json!({"name": "helper", "translation": [0.0, 0.0, 3.0], "children": [7, 8]}));
    let mut window = scale([1.2, 0.1, 1.5], [2.0, 0.0, 0.0]);
    window["mesh"] = 0.into();
    window["extras"] =
        ifc("WIN1", "IfcWindow", eg, "W1", json!({"Pset_WindowCommon": {"ThermalTransmittance": 1.1, "id": 9}}));
    nodes.push(window);
    let mut chair = scale([0.5, 0.5, 0.5], [5.0, 5.0, 0.0]);
    chair["mesh"] = 0.into();
    chair["extras"] =
        ifc("CH1", "IfcFurniture", eg, "S_EG", json!({"Pset_Manufacturer": {"Manufacturer": [1, 2], "id": 10}}));
    nodes.push(chair);
    // 9: a proxy in no storey; 10: a stair aggregate whose two flights carry the geometry.
    let mut proxy = scale([6.0, 6.0, 1.0], [0.0, -10.0, 0.0]);
    proxy["mesh"] = 0.into();
    proxy["extras"] = ifc("PX", "IfcBuildingElementProxy", None, "B", json!({}));
    nodes.push(proxy);
    nodes.push(json!({"name": "ST", "children": [11, 12], "extras": ifc("ST", "IfcStair", og, "S_OG", json!({}))}));
    for (k, id) in ["F1", "F2"].iter().enumerate() {
        let mut flight = scale([1.0, 3.0, 1.5], [10.0 + k as f64, 0.0, 3.0 + 1.5 * k as f64]);
        flight["mesh"] = 0.into();
        flight["extras"] =
            ifc(id, "IfcStairFlight", og, "ST", json!({"Pset_StairFlightCommon": {"NumberOfRiser": 9 + k}}));
        nodes.push(flight);
    }
    let (s, c) = 20f64.to_radians().sin_cos();
    let doc = json!({
        "asset": {"version": "2.0", "extras": {"ifc_schema": "IFC4", "georeference": {
            "IfcSite": {"latitude_deg": 22.54, "longitude_deg": 114.05, "RefElevation": 4.5},
            "IfcMapConversion": [{"XAxisAbscissa": c, "XAxisOrdinate": s, "Eastings": 1.0, "Northings": 2.0}]}}},
        "scene": 0, "scenes": [{"nodes": [0]}], "nodes": nodes,
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1, "material": 0}]}],
        "materials": [{"pbrMetallicRoughness": {"baseColorFactor": [0.7, 0.7, 0.7, 1.0]}}],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": 24, "type": "VEC3", "min": [0, 0, 0], "max": [1, 1, 1]},
            {"bufferView": 1, "componentType": 5123, "count": 36, "type": "SCALAR"}],
        "bufferViews": [{"buffer": 0, "byteLength": idx_at}, {"buffer": 0, "byteOffset": idx_at, "byteLength": 72}],
        "buffers": [{"byteLength": bin.len()}],
    });
    write::glb(&serde_json::to_vec(&doc).unwrap(), Some(&bin))
}

#[test]
fn a_differently_built_ifc4_model_keeps_the_same_guarantees() {
    let glb = second_model();
    let out = tempfile::tempdir().unwrap();
    let (report, placement) = tile_bim(&glb, out.path(), None, None).unwrap();
    assert_eq!((report.products, report.components), (11, 6), "{report:?}");
    let leaves = check_against_source(out.path(), &glb);
    assert_eq!(leaves["PX"]["Storey"], Value::Null, "the proxy stands in no storey");
    assert_eq!(leaves["W1"]["Pset_WallCommon / IsExternal"], "true");
    assert_eq!(leaves["CH1"]["Pset_Manufacturer / Manufacturer"], "[1,2]");
    // The X axis 20° anticlockwise from east: +Y 20° west of north.
    assert!((placement.heading_deg - 340.0).abs() < 1e-9, "{}", placement.heading_deg);
    let want = WGS84.ecef_from_cartographic(Cartographic::from_degrees(114.05, 22.54, 4.5));
    assert!((ecef_of(out.path(), DVec3::ZERO) - want).length() < 0.01);

    // The helper's translation applies: the window stands 3 m up (IFC z), in the tree's bounds.
    let tree: Value = serde_json::from_slice(&std::fs::read(out.path().join("bim.json")).unwrap()).unwrap();
    let bounds: HashMap<&str, &Value> =
        tree["nodes"].as_array().unwrap().iter().filter_map(|n| Some((n["id"].as_str()?, n.get("bounds")?))).collect();
    assert_eq!(bounds["WIN1"][0][2].as_f64(), Some(3.0), "{}", bounds["WIN1"]);
    // The mirrored wall spans x 0..20.
    assert_eq!((bounds["W1"][0][0].as_f64(), bounds["W1"][1][0].as_f64()), (Some(0.0), Some(20.0)));
    // The flights belong to the stair, which has no geometry of its own.
    let parent: HashMap<&str, &str> = tree["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| Some((n["id"].as_str()?, n["parent"].as_str()?)))
        .collect();
    assert_eq!((parent["F1"], parent["ST"]), ("ST", "S_OG"));

    // A placement given on the command line wins over the georeference.
    let at = Placement { lon_deg: 10.0, lat_deg: 50.0, height_m: 100.0, heading_deg: 0.0 };
    let (_, p) = tile_bim(&glb, out.path(), Some(at), Some(45.0)).unwrap();
    assert_eq!(p, Placement { heading_deg: 45.0, ..at });
    let want = WGS84.ecef_from_cartographic(Cartographic::from_degrees(10.0, 50.0, 100.0));
    assert!((ecef_of(out.path(), DVec3::ZERO) - want).length() < 0.01);
}

#[test]
fn models_that_cannot_be_tiled_say_why() {
    let out = tempfile::tempdir().unwrap();
    let err = |bytes: &[u8]| tile_bim(bytes, out.path(), None, None).unwrap_err().to_string();
    assert!(err(b"not a glb").contains("not a readable glTF"));
    // No node carries IFC data.
    let plain = write::glb(br#"{"asset":{"version":"2.0"},"scenes":[{"nodes":[]}],"scene":0}"#, None);
    assert!(err(&plain).contains("no component with geometry"), "{}", err(&plain));
    // No georeference and no --at.
    let model = second_model();
    let json_len = u32::from_le_bytes(model[12..16].try_into().unwrap()) as usize;
    let mut doc: Value = serde_json::from_slice(&model[20..20 + json_len]).unwrap();
    doc["asset"]["extras"] = Value::Null;
    let glb = write::glb(&serde_json::to_vec(&doc).unwrap(), Some(&model[20 + json_len + 8..]));
    assert!(err(&glb).contains("--at lon,lat,height"));
}

#[cfg(feature = "cli")]
#[test]
fn ifc_input_without_ifcopenshell_names_the_fix() {
    let out = tempfile::tempdir().unwrap();
    let ifc = out.path().join("model.ifc");
    std::fs::write(&ifc, "ISO-10303-21;\nEND-ISO-10303-21;\n").unwrap();
    let run = |python: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_citytwin"))
            .args(["tile", "bim"])
            .arg(&ifc)
            .arg("-o")
            .arg(out.path().join("t"))
            .env("CITYTWIN_PYTHON", python)
            .output()
            .unwrap()
    };
    let missing = run("/nonexistent/python3");
    assert!(!missing.status.success());
    let text = String::from_utf8_lossy(&missing.stderr);
    assert!(text.contains("Python 3") && text.contains("CITYTWIN_PYTHON"), "{text}");
    // A Python without IfcOpenShell (this one, unless it has it installed).
    let probe = std::process::Command::new("python3").args(["-c", "import ifcopenshell"]).output();
    if probe.is_ok_and(|p| !p.status.success()) {
        let text = String::from_utf8_lossy(&run("python3").stderr).into_owned();
        assert!(text.contains("pip install ifcopenshell"), "{text}");
    }
}

#[test]
fn the_khronos_validator_accepts_the_bim_tiles() {
    let Some(dir) = duplex() else { return };
    let Some(validator) = common::gltf_validator() else { return };
    let out = tempfile::tempdir().unwrap();
    tile_bim(&std::fs::read(dir.join("duplex.glb")).unwrap(), out.path(), None, None).unwrap();
    let files: Vec<PathBuf> = tiles(out.path()).into_iter().map(|(p, _)| p).collect();
    for r in common::validate_gltf(&validator, &files) {
        assert_eq!((r["errors"].as_u64(), r["warnings"].as_u64()), (Some(0), Some(0)), "{r}");
    }
}
