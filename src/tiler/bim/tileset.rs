//! Writing a BIM model as a tileset directory: `tileset.json` (placed on Earth, REPLACE levels from
//! [`super::levels`]), `tiles/*.glb` (every component a feature, with a property table of its IFC
//! attributes and property sets) and `bim.json` (the spatial tree and each component's storey,
//! bounds and property sets, for the viewer's object tree).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use glam::DVec3;
use serde_json::{Value, json};

use super::levels::{self, Component, TilePlan};
use super::model::{BimModel, Product, StoreyRef};
use super::{BimError, BimReport, Placement};
use crate::extrude::Mesh;
use crate::tiler::glb::{Column, GlbBuilder, Material, Values};
use crate::tiler::output::box_json;
use crate::tiles::UpAxis;
use crate::tiles::prepare::z_up_from;

/// The most property columns in one tile's table; further ones are left out with a warning.
pub const MAX_COLUMNS: usize = 4_096;
/// The sidecar's name beside `tileset.json`.
pub const SPATIAL_TREE_FILE: &str = "bim.json";

/// Writes `model` into `dir` at `placement`.
pub fn write(model: &BimModel, placement: Placement, dir: &Path) -> Result<BimReport, BimError> {
    let products: Vec<&Product> = model.with_geometry().collect();
    if products.is_empty() {
        return Err(BimError::Empty);
    }
    let storeys = storey_order(&products);
    let components: Vec<Component> = products
        .iter()
        .map(|p| {
            let (lo, hi) = p.bounds().expect("has geometry");
            Component {
                storey: p.storey.as_ref().and_then(|s| storeys.iter().position(|t| t == s)),
                size_m: (hi - lo).length(),
                centre: 0.5 * (lo + hi),
            }
        })
        .collect();
    let plan = levels::plan(&components, storeys.len());
    let tiles_dir = dir.join("tiles");
    if tiles_dir.exists() {
        std::fs::remove_dir_all(&tiles_dir)?;
    }
    std::fs::create_dir_all(&tiles_dir)?;
    let mut report = BimReport { products: model.products.len(), components: products.len(), ..Default::default() };
    for tile in plan.walk() {
        if tile.components.is_empty() {
            continue;
        }
        let members: Vec<&Product> = tile.components.iter().map(|i| products[*i]).collect();
        let (glb, triangles, dropped) = tile_glb(&members);
        report.columns_left_out += dropped;
        report.triangles += triangles as u64;
        report.bytes += glb.len() as u64;
        report.tiles += 1;
        std::fs::write(tiles_dir.join(format!("{}.glb", tile.name)), glb)?;
    }
    let ecef_from_model = placement.ecef_from_model();
    let mut root = tile_json(&plan, &products);
    root["transform"] = json!(ecef_from_model.to_cols_array());
    let (lo, hi) = z_up_bounds(products.iter().copied());
    let tileset = json!({
        "asset": {"version": "1.1", "generator": concat!("citytwin tile bim ", env!("CARGO_PKG_VERSION"))},
        "extras": {"spatial_tree": SPATIAL_TREE_FILE},
        "geometricError": (hi - lo).length(),
        "root": root,
    });
    let tileset = serde_json::to_vec_pretty(&tileset).expect("JSON");
    report.bytes += tileset.len() as u64;
    std::fs::write(dir.join("tileset.json"), tileset)?;
    let tree = serde_json::to_vec(&spatial_tree(model, &storeys, placement)).expect("JSON");
    report.bytes += tree.len() as u64;
    std::fs::write(dir.join(SPATIAL_TREE_FILE), tree)?;
    report.storeys = storeys.len();
    Ok(report)
}

/// The storeys the products name, lowest first (by the lowest point of their components).
fn storey_order(products: &[&Product]) -> Vec<StoreyRef> {
    let mut lowest: BTreeMap<&StoreyRef, f64> = BTreeMap::new();
    for p in products {
        if let (Some(s), Some((lo, _))) = (&p.storey, p.bounds()) {
            let e = lowest.entry(s).or_insert(f64::INFINITY);
            *e = e.min(lo.y);
        }
    }
    let mut order: Vec<(&StoreyRef, f64)> = lowest.into_iter().collect();
    order.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(b.0)));
    order.into_iter().map(|(s, _)| s.clone()).collect()
}

/// Bounds in the tileset's z-up model frame.
fn z_up_bounds<'a>(products: impl Iterator<Item = &'a Product>) -> (DVec3, DVec3) {
    let z_up = z_up_from(UpAxis::Y);
    products.filter_map(|p| p.bounds()).fold(
        (DVec3::splat(f64::INFINITY), DVec3::splat(f64::NEG_INFINITY)),
        |(lo, hi), (a, b)| {
            let (a, b) = (z_up.transform_point3(a), z_up.transform_point3(b));
            (lo.min(a.min(b)), hi.max(a.max(b)))
        },
    )
}

fn tile_json(tile: &TilePlan, products: &[&Product]) -> Value {
    let (lo, hi) = z_up_bounds(tile.subtree.iter().map(|i| products[*i]));
    let mut t =
        json!({"boundingVolume": box_json(lo, hi), "geometricError": tile.geometric_error_m, "refine": "REPLACE"});
    if !tile.components.is_empty() {
        t["content"] = json!({"uri": format!("tiles/{}.glb", tile.name)});
    }
    if !tile.children.is_empty() {
        t["children"] = tile.children.iter().map(|c| tile_json(c, products)).collect();
    }
    t
}

/// One tile's glb: a primitive per colour, every product one feature (in `members` order), and
/// the property table. Returns the glb, its triangles and the property columns left out.
fn tile_glb(members: &[&Product]) -> (Vec<u8>, usize, usize) {
    let mut by_colour: BTreeMap<[u32; 4], Mesh> = BTreeMap::new();
    for (feature, p) in members.iter().enumerate() {
        for s in p.surfaces.iter().filter(|s| !s.indices.is_empty()) {
            let mesh = by_colour.entry(s.rgba.map(f32::to_bits)).or_default();
            let base = mesh.positions.len() as u32;
            mesh.positions.extend_from_slice(&s.positions);
            mesh.normals.extend_from_slice(&s.normals);
            mesh.feature_ids.extend(std::iter::repeat_n(feature as f32, s.positions.len()));
            mesh.indices.extend(s.indices.iter().map(|i| base + i));
        }
    }
    let mut glb = GlbBuilder::default();
    let mut triangles = 0;
    for (k, (rgba, mesh)) in by_colour.iter().enumerate() {
        let rgba = rgba.map(f32::from_bits);
        let material = Material { name: format!("ifc_surface_{k}").into(), rgba, roughness: 0.8, double_sided: true };
        glb.primitive(mesh, &material, Some((members.len(), "component")));
        triangles += mesh.triangle_count();
    }
    let (columns, dropped) = columns(members);
    let class = json!({"name": "IFC component", "description": "One IfcProduct: its attributes and property sets"});
    glb.property_table("component", class, members.len(), columns);
    (glb.finish(DVec3::ZERO), triangles, dropped)
}

/// A property id as the metadata schema wants it: `[A-Za-z_][A-Za-z0-9_]*`.
fn identifier(parts: &[&str]) -> String {
    let mut id = String::new();
    for (k, part) in parts.iter().enumerate() {
        if k > 0 {
            id.push_str("__");
        }
        let mut last_underscore = k > 0;
        for c in part.chars() {
            let c = if c.is_ascii_alphanumeric() { c } else { '_' };
            if c != '_' || !last_underscore {
                id.push(c);
            }
            last_underscore = c == '_';
        }
    }
    if id.is_empty() || id.starts_with(|c: char| c.is_ascii_digit()) {
        id.insert(0, '_');
    }
    id
}

/// The attribute columns, then one per property of the members' property sets (numbers as
/// FLOAT64 when every value is a number, else text; a missing value is the column's noData).
fn columns(members: &[&Product]) -> (Vec<Column>, usize) {
    let text = |f: fn(&Product) -> String| Values::Strings(members.iter().map(|p| f(p)).collect());
    let storey = |p: &Product| p.storey.as_ref().map_or(String::new(), |s| s.name.clone());
    let mut out = vec![
        Column::new(
            "GlobalId",
            json!({"required": true, "description": "IFC GlobalId"}),
            text(|p| p.global_id.clone()),
        ),
        Column::new("ifc_type", json!({"name": "IFC type", "required": true}), text(|p| p.ifc_type.clone())),
        Column::new("name", json!({"name": "Name", "noData": ""}), text(|p| p.name.clone())),
        Column::new("storey", json!({"name": "Storey", "noData": ""}), text(storey)),
        Column::new("materials", json!({"name": "Materials", "noData": ""}), text(|p| p.materials.join("; "))),
    ];
    let keys: BTreeSet<&(String, String)> = members.iter().flat_map(|p| p.properties.keys()).collect();
    let dropped = keys.len().saturating_sub(MAX_COLUMNS);
    let mut ids: HashMap<String, usize> = out.iter().map(|c| (c.id.clone(), 1)).collect();
    for key in keys.into_iter().take(MAX_COLUMNS) {
        let values: Vec<Option<&Value>> = members.iter().map(|p| p.properties.get(key)).collect();
        let numeric = values.iter().flatten().all(|v| v.is_number());
        let mut id = identifier(&[&key.0, &key.1]);
        let n = ids.entry(id.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            id = format!("{id}_{n}");
        }
        let schema = |no_data: Value| json!({"name": format!("{} / {}", key.0, key.1), "noData": no_data});
        out.push(if numeric {
            let v = values.iter().map(|v| v.and_then(Value::as_f64).unwrap_or(f64::MIN)).collect();
            Column::new(id, schema(json!(f64::MIN)), Values::F64(v))
        } else {
            let v = values
                .iter()
                .map(|v| match v {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                })
                .collect();
            Column::new(id, schema(json!("")), Values::Strings(v))
        });
    }
    (out, dropped)
}

/// `bim.json`: every product (with geometry or not) in the spatial tree's order, parents first,
/// with its storey, its bounds in the tileset's model frame (z up, metres) and its property sets.
fn spatial_tree(model: &BimModel, storeys: &[StoreyRef], placement: Placement) -> Value {
    let index: HashMap<&str, usize> =
        model.products.iter().enumerate().map(|(i, p)| (p.global_id.as_str(), i)).collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); model.products.len()];
    let mut roots = Vec::new();
    for (i, p) in model.products.iter().enumerate() {
        match p.parent.as_deref().and_then(|id| index.get(id)).filter(|j| **j != i) {
            Some(j) => children[*j].push(i),
            None => roots.push(i),
        }
    }
    // Depth first from the roots (iterative: no recursion on data); a product in a parent cycle is
    // reached from no root and joins the roots at the end.
    let mut order = Vec::with_capacity(model.products.len());
    let mut seen = vec![false; model.products.len()];
    let mut stack: Vec<usize> = roots.iter().rev().copied().collect();
    loop {
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            order.push(i);
            stack.extend(children[i].iter().rev());
        }
        match seen.iter().position(|s| !s) {
            Some(i) => stack.push(i),
            None => break,
        }
    }
    let z_up = z_up_from(UpAxis::Y);
    let nodes: Vec<Value> = order
        .iter()
        .map(|&i| {
            let p = &model.products[i];
            let parent = p.parent.as_deref().filter(|id| index.get(id).is_some_and(|j| *j != i));
            let mut psets: BTreeMap<&str, BTreeMap<&str, &Value>> = BTreeMap::new();
            for ((set, name), v) in &p.properties {
                psets.entry(set).or_default().insert(name, v);
            }
            let mut node = json!({"id": p.global_id, "type": p.ifc_type, "name": p.name, "parent": parent,
                "storey": p.storey.as_ref().map(|s| &s.global_id), "materials": p.materials, "psets": psets});
            if let Some((a, b)) = p.bounds() {
                let (a, b) = (z_up.transform_point3(a), z_up.transform_point3(b));
                node["bounds"] = json!([a.min(b).to_array(), a.max(b).to_array()]);
            }
            node
        })
        .collect();
    let storeys: Vec<Value> = storeys.iter().map(|s| json!({"id": s.global_id, "name": s.name})).collect();
    json!({
        "schema": model.schema,
        "placement": placement,
        "storeys": storeys,
        "nodes": nodes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_follow_the_schema_rule() {
        assert_eq!(
            identifier(&["PSet_Revit_Identity Data", "OmniClass Number"]),
            "PSet_Revit_Identity_Data__OmniClass_Number"
        );
        assert_eq!(identifier(&["3D", "a__b"]), "_3D__a_b");
        assert_eq!(identifier(&["Größe", ""]), "Gr_e__");
        assert_eq!(identifier(&[]), "_");
    }
}
