//! Writing tile content: glb with `EXT_mesh_features` (a feature ID per vertex) and
//! `EXT_structural_metadata` (one property table: the city's buildings, or a BIM model's
//! components).

use std::borrow::Cow;

use serde_json::{Map, Value, json};

use super::Building;
use crate::extrude::Mesh;
use crate::tiles::content::write;

const ARRAY_BUFFER: u32 = 34962;
const ELEMENT_ARRAY_BUFFER: u32 = 34963;
const FLOAT: u32 = 5126;
const UNSIGNED_INT: u32 = 5125;

/// A material: base colour (blended when its alpha is below 1) and roughness.
#[derive(Debug, Clone)]
pub struct Material {
    pub name: Cow<'static, str>,
    pub rgba: [f32; 4],
    pub roughness: f32,
    /// Drawn from both sides (BIM surfaces are not always closed).
    pub double_sided: bool,
}

impl Material {
    pub const fn opaque(name: &'static str, rgba: [f32; 4], roughness: f32) -> Self {
        Self { name: Cow::Borrowed(name), rgba, roughness, double_sided: false }
    }
}

pub const BUILDING: Material = Material::opaque("building", [0.83, 0.81, 0.77, 1.0], 0.85);

/// One column of a property table.
#[derive(Debug, Clone)]
pub struct Column {
    /// The property's id (`[A-Za-z_][A-Za-z0-9_]*`).
    pub id: String,
    /// Its schema entry besides type and component type: name, description, noData, required.
    pub schema: Value,
    pub values: Values,
}

#[derive(Debug, Clone)]
pub enum Values {
    Strings(Vec<String>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    U16(Vec<u16>),
}

impl Column {
    pub fn new(id: impl Into<String>, schema: Value, values: Values) -> Self {
        Self { id: id.into(), schema, values }
    }
}

/// Assembles one glb: primitives of one mesh under one node, and an optional property table.
#[derive(Default)]
pub struct GlbBuilder {
    bin: Vec<u8>,
    views: Vec<Value>,
    accessors: Vec<Value>,
    primitives: Vec<Value>,
    materials: Vec<Value>,
    metadata: Option<Value>,
}

impl GlbBuilder {
    fn view(&mut self, bytes: &[u8], target: Option<u32>) -> usize {
        while !self.bin.len().is_multiple_of(8) {
            self.bin.push(0);
        }
        // glTF forbids empty views: an all-empty string column still gets one byte.
        let length = bytes.len().max(1);
        let mut v = json!({"buffer": 0, "byteOffset": self.bin.len(), "byteLength": length});
        if let Some(t) = target {
            v["target"] = t.into();
        }
        self.bin.extend_from_slice(bytes);
        self.bin.resize(self.bin.len() + length - bytes.len(), 0);
        self.views.push(v);
        self.views.len() - 1
    }

    fn accessor(
        &mut self,
        view: usize,
        component: u32,
        count: usize,
        ty: &str,
        bounds: Option<(Value, Value)>,
    ) -> usize {
        let mut a = json!({"bufferView": view, "componentType": component, "count": count, "type": ty});
        if let Some((min, max)) = bounds {
            a["min"] = min;
            a["max"] = max;
        }
        self.accessors.push(a);
        self.accessors.len() - 1
    }

    /// Adds a triangle primitive; with `features` (count, label), its feature IDs index the
    /// property table.
    pub fn primitive(&mut self, mesh: &Mesh, material: &Material, features: Option<(usize, &str)>) {
        if mesh.indices.is_empty() {
            return;
        }
        let (mut lo, mut hi) = ([f32::INFINITY; 3], [f32::NEG_INFINITY; 3]);
        for p in &mesh.positions {
            for k in 0..3 {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
        let n = mesh.positions.len();
        let pv = self.view(&f32s(mesh.positions.iter().flatten().copied()), Some(ARRAY_BUFFER));
        let pos = self.accessor(pv, FLOAT, n, "VEC3", Some((json!(lo), json!(hi))));
        let nv = self.view(&f32s(mesh.normals.iter().flatten().copied()), Some(ARRAY_BUFFER));
        let nor = self.accessor(nv, FLOAT, n, "VEC3", None);
        let iv = self
            .view(&mesh.indices.iter().flat_map(|i| i.to_le_bytes()).collect::<Vec<_>>(), Some(ELEMENT_ARRAY_BUFFER));
        let idx = self.accessor(iv, UNSIGNED_INT, mesh.indices.len(), "SCALAR", None);
        let mut m = json!({"name": material.name, "pbrMetallicRoughness": {
            "baseColorFactor": material.rgba, "metallicFactor": 0.0, "roughnessFactor": material.roughness}});
        if material.rgba[3] < 1.0 {
            m["alphaMode"] = "BLEND".into();
        }
        if material.double_sided {
            m["doubleSided"] = true.into();
        }
        self.materials.push(m);
        let mut prim = json!({"attributes": {"POSITION": pos, "NORMAL": nor}, "indices": idx,
            "material": self.materials.len() - 1, "mode": 4});
        if let Some((count, label)) = features {
            let fv = self.view(&f32s(mesh.feature_ids.iter().copied()), Some(ARRAY_BUFFER));
            let fid = self.accessor(fv, FLOAT, n, "SCALAR", None);
            prim["attributes"]["_FEATURE_ID_0"] = fid.into();
            prim["extensions"] = json!({"EXT_mesh_features": {"featureIds": [
                {"featureCount": count, "attribute": 0, "propertyTable": 0, "label": label}]}});
        }
        self.primitives.push(prim);
    }

    /// The one property table: `count` rows of class `class` (its schema entry without the
    /// properties), one column each.
    pub fn property_table(&mut self, class_id: &str, mut class: Value, count: usize, columns: Vec<Column>) {
        let mut schema = Map::new();
        let mut table = Map::new();
        for c in columns {
            let (mut def, entry) = match c.values {
                Values::Strings(values) => {
                    let mut offsets = Vec::with_capacity(values.len() + 1);
                    let mut data = Vec::new();
                    for v in &values {
                        offsets.push(data.len() as u32);
                        data.extend_from_slice(v.as_bytes());
                    }
                    offsets.push(data.len() as u32);
                    let values = self.view(&data, None);
                    let offsets = self.view(&offsets.iter().flat_map(|o| o.to_le_bytes()).collect::<Vec<_>>(), None);
                    (
                        json!({"type": "STRING"}),
                        json!({"values": values, "stringOffsets": offsets, "stringOffsetType": "UINT32"}),
                    )
                }
                Values::F32(v) => (
                    json!({"type": "SCALAR", "componentType": "FLOAT32"}),
                    json!({"values": self.view(&f32s(v), None)}),
                ),
                Values::F64(v) => {
                    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                    (json!({"type": "SCALAR", "componentType": "FLOAT64"}), json!({"values": self.view(&bytes, None)}))
                }
                Values::U16(v) => {
                    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                    (json!({"type": "SCALAR", "componentType": "UINT16"}), json!({"values": self.view(&bytes, None)}))
                }
            };
            if let Value::Object(extra) = c.schema {
                def.as_object_mut().expect("object").extend(extra);
            }
            schema.insert(c.id.clone(), def);
            table.insert(c.id, entry);
        }
        class["properties"] = Value::Object(schema);
        self.metadata = Some(json!({
            "schema": {"id": "citytwin", "classes": {class_id: class}},
            "propertyTables": [{"name": class_id, "class": class_id, "count": count, "properties": table}]
        }));
    }

    /// The property table of `buildings`, in feature-ID order.
    pub fn buildings_table(&mut self, buildings: &[&Building]) {
        let strings = |f: fn(&Building) -> &str| Values::Strings(buildings.iter().map(|b| f(b).to_owned()).collect());
        let floats = |f: fn(&Building) -> f64| Values::F32(buildings.iter().map(|b| f(b) as f32).collect());
        let levels = buildings.iter().map(|b| b.levels.unwrap_or(0).min(u16::MAX as u32) as u16).collect();
        let columns = vec![
            Column::new(
                "id",
                json!({"required": true, "description": "OSM element (way/N or relation/N) or generated id"}),
                strings(|b| &b.id),
            ),
            Column::new("name", json!({}), strings(|b| &b.name)),
            Column::new("building", json!({"description": "building=* type"}), strings(|b| &b.kind)),
            Column::new("height", json!({"description": "metres above ground"}), floats(|b| b.height_m)),
            Column::new("min_height", json!({"description": "metres above ground"}), floats(|b| b.min_height_m)),
            Column::new("levels", json!({"noData": 0}), Values::U16(levels)),
            Column::new("address", json!({}), strings(|b| &b.address)),
        ];
        self.property_table("building", json!({"name": "Building"}), buildings.len(), columns);
    }

    /// The glb, its node translated to `origin_m` (local east-north-up metres).
    pub fn finish(mut self, origin_m: glam::DVec3) -> Vec<u8> {
        while !self.bin.len().is_multiple_of(8) {
            self.bin.push(0);
        }
        let mut used = vec![];
        if self.primitives.iter().any(|p| p.get("extensions").is_some()) {
            used.push("EXT_mesh_features");
        }
        let mut doc = json!({
            "asset": {"version": "2.0", "generator": concat!("citytwin tiler ", env!("CARGO_PKG_VERSION"))},
            "scene": 0,
            "scenes": [{"nodes": [0]}],
            "nodes": [{"mesh": 0, "translation": [origin_m.x, origin_m.z, -origin_m.y]}],
            "meshes": [{"primitives": self.primitives}],
            "materials": self.materials,
            "accessors": self.accessors,
            "bufferViews": self.views,
            "buffers": [{"byteLength": self.bin.len()}],
        });
        if let Some(m) = self.metadata {
            used.push("EXT_structural_metadata");
            doc["extensions"] = json!({"EXT_structural_metadata": m});
        }
        if !used.is_empty() {
            doc["extensionsUsed"] = json!(used);
        }
        write::glb(&serde_json::to_vec(&doc).expect("JSON"), Some(&self.bin))
    }
}

fn f32s(values: impl IntoIterator<Item = f32>) -> Vec<u8> {
    values.into_iter().flat_map(f32::to_le_bytes).collect()
}
