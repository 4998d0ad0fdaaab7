//! What a content keeps once an engine has built it: its feature properties, which picking and
//! thematic colouring read later, and not its geometry, textures or vertex arrays, which the
//! engine's meshes now hold.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::features::GltfView;
use super::{Model, TileContent, write};

/// The property fields of `EXT_structural_metadata` that name buffer views.
const VIEW_FIELDS: [&str; 3] = ["values", "arrayOffsets", "stringOffsets"];

impl TileContent {
    /// The content less what only building it needed: a glb keeps its `EXT_structural_metadata`
    /// and the buffer views its property tables read (repacked into a glb of their own), a b3dm
    /// its batch and feature tables; glTF JSON keeps nothing (its tables are not read). Instances
    /// and points stay whole.
    pub fn properties_only(&self) -> TileContent {
        match self {
            TileContent::Model(m) => TileContent::Model(Model {
                gltf: if m.is_json { Vec::new() } else { property_tables_glb(&m.gltf).unwrap_or_default() },
                is_json: m.is_json,
                rtc_center: m.rtc_center,
                batch_length: m.batch_length,
                feature_table: m.feature_table.clone(),
                batch_table: m.batch_table.clone(),
            }),
            TileContent::Composite(v) => TileContent::Composite(v.iter().map(TileContent::properties_only).collect()),
            other => other.clone(),
        }
    }
}

/// A glb holding only the property tables of `glb` (its schema, tables and the buffer views they
/// read, renumbered in order); `None` when it has no property tables or does not parse.
fn property_tables_glb(glb: &[u8]) -> Option<Vec<u8>> {
    let view = GltfView::parse(glb).ok()?;
    let mut metadata = view.json["extensions"]["EXT_structural_metadata"].clone();
    let tables = metadata.get_mut("propertyTables")?.as_array_mut().filter(|t| !t.is_empty())?;
    let mut views: Vec<Value> = Vec::new();
    let mut renumbered: HashMap<u64, usize> = HashMap::new();
    let mut bin = Vec::new();
    for table in tables.iter_mut() {
        for property in
            table.get_mut("properties").and_then(Value::as_object_mut).into_iter().flat_map(|p| p.values_mut())
        {
            for field in VIEW_FIELDS {
                let Some(old) = property.get(field).and_then(Value::as_u64) else { continue };
                let new = match renumbered.get(&old) {
                    Some(n) => *n,
                    None => {
                        let (bytes, _) = view.view_bytes(old).ok()?;
                        // Tables read their values at 8-byte alignment (the spec's requirement).
                        bin.resize(bin.len().next_multiple_of(8), 0);
                        views.push(json!({ "buffer": 0, "byteOffset": bin.len(), "byteLength": bytes.len() }));
                        bin.extend_from_slice(bytes);
                        renumbered.insert(old, views.len() - 1);
                        views.len() - 1
                    }
                };
                property[field] = Value::from(new);
            }
        }
    }
    let doc = json!({
        "asset": view.json["asset"],
        "extensionsUsed": ["EXT_structural_metadata"],
        "extensions": { "EXT_structural_metadata": metadata },
        "buffers": [{ "byteLength": bin.len() }],
        "bufferViews": views,
    });
    Some(write::glb(&serde_json::to_vec(&doc).ok()?, Some(&bin)))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::tiles::Warnings;
    use crate::tiles::content::{BatchTable, decode};

    /// A glb with a triangle (positions in view 0) and, with `tables`, a property table whose
    /// columns sit in views 1 (height, FLOAT32), 2 and 3 (name: values and string offsets).
    fn building_glb(tables: bool) -> Vec<u8> {
        let mut bin: Vec<u8> = write::f32_bytes(&[0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
        let heights = write::f32_bytes(&[12.5, 40.0]);
        let names = b"towerhall".to_vec();
        let offsets: Vec<u8> = [0u32, 5, 9].iter().flat_map(|o| o.to_le_bytes()).collect();
        let mut views = vec![json!({ "buffer": 0, "byteOffset": 0, "byteLength": 36 })];
        for bytes in [&heights, &names, &offsets] {
            bin.resize(bin.len().next_multiple_of(8), 0);
            views.push(json!({ "buffer": 0, "byteOffset": bin.len(), "byteLength": bytes.len() }));
            bin.extend_from_slice(bytes);
        }
        let mut doc = json!({
            "asset": { "version": "2.0" },
            "extensionsUsed": ["EXT_structural_metadata"],
            "extensions": { "EXT_structural_metadata": {
                "schema": { "id": "s", "classes": { "building": { "properties": {
                    "height": { "type": "SCALAR", "componentType": "FLOAT32" },
                    "name": { "type": "STRING" } } } } },
                "propertyTables": [{ "class": "building", "count": 2, "properties": {
                    "height": { "values": 1 },
                    "name": { "values": 2, "stringOffsets": 3 } } }] } },
            "buffers": [{ "byteLength": bin.len() }],
            "bufferViews": views,
            "accessors": [{ "bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3" }],
            "meshes": [{ "primitives": [{ "attributes": { "POSITION": 0 } }] }],
            "nodes": [{ "mesh": 0 }],
            "scenes": [{ "nodes": [0] }],
        });
        if !tables {
            doc.as_object_mut().unwrap().remove("extensions");
        }
        write::glb(&serde_json::to_vec(&doc).unwrap(), Some(&bin))
    }

    fn tables(glb: &[u8]) -> Vec<BTreeMap<String, Vec<Value>>> {
        let view = GltfView::parse(glb).unwrap();
        view.property_tables().unwrap().0.into_iter().map(|t| t.columns).collect()
    }

    #[test]
    fn a_built_glb_keeps_its_property_tables_and_loses_its_geometry() {
        let glb = building_glb(true);
        let (content, _) = decode(&glb).unwrap();
        let slim = content.properties_only();
        let TileContent::Model(m) = &slim else { panic!("{slim:?}") };
        assert_eq!(tables(&m.gltf), tables(&glb), "the same columns, read the same way");
        assert_eq!(tables(&m.gltf)[0]["name"], [json!("tower"), json!("hall")]);
        let doc = GltfView::parse(&m.gltf).unwrap().json;
        assert!(doc["meshes"].is_null() && doc["accessors"].is_null(), "{doc}");
        assert_eq!(doc["bufferViews"].as_array().unwrap().len(), 3, "the geometry's view is gone");
        assert!(slim.byte_size() < content.byte_size(), "{} against {}", slim.byte_size(), content.byte_size());
    }

    #[test]
    fn without_property_tables_nothing_of_the_glb_is_kept_but_batch_tables_are() {
        let glb = building_glb(false);
        let (content, _) = decode(&glb).unwrap();
        let TileContent::Model(m) = content.properties_only() else { panic!() };
        assert!(m.gltf.is_empty());

        let batch = BatchTable::parse(br#"{"height":[3.0,4.0]}"#, &[], 2, &mut Warnings::default()).unwrap();
        let model = Model {
            gltf: glb,
            is_json: false,
            rtc_center: None,
            batch_length: 2,
            feature_table: None,
            batch_table: Some(batch),
        };
        let composite = TileContent::Composite(vec![TileContent::Model(model)]);
        let TileContent::Composite(inner) = composite.properties_only() else { panic!() };
        let TileContent::Model(m) = &inner[0] else { panic!() };
        assert_eq!(m.batch_table.as_ref().unwrap().property("height", 1), Some(json!(4.0)));
        assert!(m.gltf.is_empty());
    }
}
