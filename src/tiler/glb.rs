//! Writing tile content: glb with `EXT_mesh_features` (a feature ID per vertex) and
//! `EXT_structural_metadata` (one property table of buildings).

use serde_json::{Value, json};

use super::Building;
use crate::extrude::Mesh;
use crate::tiles::content::write;

const ARRAY_BUFFER: u32 = 34962;
const ELEMENT_ARRAY_BUFFER: u32 = 34963;
const FLOAT: u32 = 5126;
const UNSIGNED_INT: u32 = 5125;

/// A material: base colour and roughness.
#[derive(Debug, Clone, Copy)]
pub struct Material {
    pub name: &'static str,
    pub rgba: [f32; 4],
    pub roughness: f32,
}

pub const BUILDING: Material = Material { name: "building", rgba: [0.83, 0.81, 0.77, 1.0], roughness: 0.85 };

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

    /// Adds a triangle primitive; with `features`, its feature IDs index the property table.
    pub fn primitive(&mut self, mesh: &Mesh, material: Material, features: Option<usize>) {
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
        self.materials.push(json!({"name": material.name, "pbrMetallicRoughness": {
            "baseColorFactor": material.rgba, "metallicFactor": 0.0, "roughnessFactor": material.roughness}}));
        let mut prim = json!({"attributes": {"POSITION": pos, "NORMAL": nor}, "indices": idx,
            "material": self.materials.len() - 1, "mode": 4});
        if let Some(count) = features {
            let fv = self.view(&f32s(mesh.feature_ids.iter().copied()), Some(ARRAY_BUFFER));
            let fid = self.accessor(fv, FLOAT, n, "SCALAR", None);
            prim["attributes"]["_FEATURE_ID_0"] = fid.into();
            prim["extensions"] = json!({"EXT_mesh_features": {"featureIds": [
                {"featureCount": count, "attribute": 0, "propertyTable": 0, "label": "building"}]}});
        }
        self.primitives.push(prim);
    }

    /// The property table of `buildings`, in feature-ID order.
    pub fn buildings_table(&mut self, buildings: &[&Building]) {
        let strings = |b: &mut Self, values: Vec<&str>| {
            let mut offsets = Vec::with_capacity(values.len() + 1);
            let mut data = Vec::new();
            for v in values {
                offsets.push(data.len() as u32);
                data.extend_from_slice(v.as_bytes());
            }
            offsets.push(data.len() as u32);
            let values = b.view(&data, None);
            let offsets = b.view(&offsets.iter().flat_map(|o| o.to_le_bytes()).collect::<Vec<_>>(), None);
            json!({"values": values, "stringOffsets": offsets, "stringOffsetType": "UINT32"})
        };
        let id = strings(self, buildings.iter().map(|b| b.id.as_str()).collect());
        let name = strings(self, buildings.iter().map(|b| b.name.as_str()).collect());
        let kind = strings(self, buildings.iter().map(|b| b.kind.as_str()).collect());
        let address = strings(self, buildings.iter().map(|b| b.address.as_str()).collect());
        let height = self.view(&f32s(buildings.iter().map(|b| b.height_m as f32)), None);
        let min_height = self.view(&f32s(buildings.iter().map(|b| b.min_height_m as f32)), None);
        let levels: Vec<u8> =
            buildings.iter().flat_map(|b| (b.levels.unwrap_or(0).min(u16::MAX as u32) as u16).to_le_bytes()).collect();
        let levels = self.view(&levels, None);
        self.metadata = Some(json!({
            "schema": {"id": "citytwin", "classes": {"building": {"name": "Building", "properties": {
                "id": {"type": "STRING", "required": true, "description": "OSM element (way/N or relation/N) or generated id"},
                "name": {"type": "STRING"},
                "building": {"type": "STRING", "description": "building=* type"},
                "height": {"type": "SCALAR", "componentType": "FLOAT32", "description": "metres above ground"},
                "min_height": {"type": "SCALAR", "componentType": "FLOAT32", "description": "metres above ground"},
                "levels": {"type": "SCALAR", "componentType": "UINT16", "noData": 0},
                "address": {"type": "STRING"}}}}},
            "propertyTables": [{"name": "buildings", "class": "building", "count": buildings.len(), "properties": {
                "id": id, "name": name, "building": kind, "height": {"values": height},
                "min_height": {"values": min_height}, "levels": {"values": levels}, "address": address}}]
        }));
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
