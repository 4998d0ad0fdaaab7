//! Per-vertex feature IDs (`EXT_mesh_features`) and property tables (`EXT_structural_metadata`)
//! read from a glb, for picking and for checking what a tiler wrote.

use std::collections::BTreeMap;

use serde_json::Value;

use super::super::{TilesError, Warnings};
use super::feature_table::ComponentType;
use super::parse_glb;

const WHAT: &str = "glTF features";

/// The most values an accessor without a buffer view (all zeros) may declare.
const MAX_ZERO_ACCESSOR_VALUES: usize = 1 << 20;

/// A glb's JSON and binary chunk.
pub struct GltfView<'a> {
    pub json: Value,
    bin: &'a [u8],
}

fn err(message: impl Into<String>) -> TilesError {
    TilesError::invalid(WHAT, message)
}

fn gltf_component(code: u64) -> Option<ComponentType> {
    Some(match code {
        5120 => ComponentType::I8,
        5121 => ComponentType::U8,
        5122 => ComponentType::I16,
        5123 => ComponentType::U16,
        5125 => ComponentType::U32,
        5126 => ComponentType::F32,
        _ => return None,
    })
}

fn metadata_component(name: &str) -> Option<ComponentType> {
    Some(match name {
        "INT8" => ComponentType::I8,
        "UINT8" => ComponentType::U8,
        "INT16" => ComponentType::I16,
        "UINT16" => ComponentType::U16,
        "INT32" => ComponentType::I32,
        "UINT32" => ComponentType::U32,
        "FLOAT32" => ComponentType::F32,
        "FLOAT64" => ComponentType::F64,
        _ => return None,
    })
}

fn components(ty: &str) -> Option<usize> {
    Some(match ty {
        "SCALAR" => 1,
        "VEC2" => 2,
        "VEC3" => 3,
        "VEC4" => 4,
        "MAT2" => 4,
        "MAT3" => 9,
        "MAT4" => 16,
        _ => return None,
    })
}

impl<'a> GltfView<'a> {
    pub fn parse(glb: &'a [u8]) -> Result<Self, TilesError> {
        let (layout, _) = parse_glb(glb)?;
        let json =
            serde_json::from_slice(super::trim_padding(&glb[layout.json])).map_err(|e| TilesError::json(WHAT, e))?;
        let bin = layout.bin.map_or(&[][..], |r| &glb[r]);
        Ok(Self { json, bin })
    }

    /// The bytes of a buffer view (only the glb's own buffer 0 is supported).
    pub(super) fn view_bytes(&self, index: u64) -> Result<(&'a [u8], usize), TilesError> {
        let v = self.json["bufferViews"].get(index as usize).ok_or_else(|| err(format!("no bufferView {index}")))?;
        if v["buffer"].as_u64() != Some(0) {
            return Err(err(format!("bufferView {index} is not in the glb's binary chunk")));
        }
        let offset = v["byteOffset"].as_u64().unwrap_or(0) as usize;
        let length =
            v["byteLength"].as_u64().ok_or_else(|| err(format!("bufferView {index} lacks byteLength")))? as usize;
        let bytes = offset
            .checked_add(length)
            .and_then(|end| self.bin.get(offset..end))
            .ok_or_else(|| err(format!("bufferView {index} overruns the binary chunk")))?;
        Ok((bytes, v["byteStride"].as_u64().unwrap_or(0) as usize))
    }

    /// An accessor's scalar components as f64 (strided views and all glTF component types). Its
    /// declared size is checked against the bytes behind it before anything is allocated.
    pub fn accessor(&self, index: u64) -> Result<Vec<f64>, TilesError> {
        let a = self.json["accessors"].get(index as usize).ok_or_else(|| err(format!("no accessor {index}")))?;
        let ct =
            a["componentType"].as_u64().and_then(gltf_component).ok_or_else(|| err("bad accessor componentType"))?;
        let n = a["type"].as_str().and_then(components).ok_or_else(|| err("bad accessor type"))?;
        let count = a["count"].as_u64().ok_or_else(|| err("accessor lacks count"))? as usize;
        let Some(view) = a["bufferView"].as_u64() else {
            // All zeros: bounded, since nothing in the file backs the declared count.
            return match count.checked_mul(n).filter(|v| *v <= MAX_ZERO_ACCESSOR_VALUES) {
                Some(values) => Ok(vec![0.0; values]),
                None => Err(err(format!("accessor {index} declares {count} elements and no buffer view"))),
            };
        };
        let (bytes, stride) = self.view_bytes(view)?;
        let offset = a["byteOffset"].as_u64().unwrap_or(0) as usize;
        let element = n * ct.size();
        let stride = if stride == 0 { element } else { stride };
        // The whole range must lie in the view before anything is allocated for it.
        let end = match count {
            0 => Some(offset),
            _ => stride.checked_mul(count - 1).and_then(|b| b.checked_add(offset)).and_then(|b| b.checked_add(element)),
        };
        if end.is_none_or(|end| end > bytes.len()) {
            return Err(err(format!("accessor {index}: {count} elements overrun its view ({} bytes)", bytes.len())));
        }
        let mut out = Vec::with_capacity(count * n);
        for i in 0..count {
            let at = offset + i * stride;
            let e = bytes.get(at..at + element).ok_or_else(|| err(format!("accessor {index} overruns its view")))?;
            out.extend(e.chunks_exact(ct.size()).map(|c| ct.read(c)));
        }
        Ok(out)
    }

    /// Feature IDs per vertex of every primitive with an `EXT_mesh_features` attribute set.
    pub fn vertex_feature_ids(&self) -> Result<Vec<PrimitiveFeatureIds>, TilesError> {
        let mut out = Vec::new();
        for (m, mesh) in self.json["meshes"].as_array().into_iter().flatten().enumerate() {
            for (p, prim) in mesh["primitives"].as_array().into_iter().flatten().enumerate() {
                let sets = prim["extensions"]["EXT_mesh_features"]["featureIds"].as_array();
                for set in sets.into_iter().flatten() {
                    let Some(attr) = set["attribute"].as_u64() else { continue };
                    let accessor = prim["attributes"][format!("_FEATURE_ID_{attr}")]
                        .as_u64()
                        .ok_or_else(|| err(format!("mesh {m} primitive {p} lacks _FEATURE_ID_{attr}")))?;
                    let ids = self.accessor(accessor)?.into_iter().map(|v| v as u32).collect();
                    out.push(PrimitiveFeatureIds {
                        mesh: m,
                        primitive: p,
                        property_table: set["propertyTable"].as_u64(),
                        ids,
                    });
                }
            }
        }
        Ok(out)
    }

    /// Decodes every property table: class name, row count, and each property's column.
    pub fn property_tables(&self) -> Result<(Vec<PropertyTable>, Warnings), TilesError> {
        let mut w = Warnings::default();
        let mut tables = Vec::new();
        for (t, table) in self.json["extensions"]["EXT_structural_metadata"]["propertyTables"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let (class, count) = Self::table_header(t, table)?;
            let mut columns = BTreeMap::new();
            for name in table["properties"].as_object().into_iter().flatten().map(|(k, _)| k) {
                match self.table_column(t, table, name) {
                    Ok(col) => {
                        columns.insert(name.clone(), col);
                    }
                    Err(e) => w.push(format!("property table {t}"), format!("{name}: {e}")),
                }
            }
            tables.push(PropertyTable { class: class.to_owned(), count, columns });
        }
        Ok((tables, w))
    }

    /// One property of the first property table, decoded alone (`None` when the table or the
    /// property is not there, or does not decode): picking and restyling need one column of a
    /// table that may hold hundreds.
    pub fn first_table_column(&self, property: &str) -> Option<Vec<Value>> {
        let table = self.json["extensions"]["EXT_structural_metadata"]["propertyTables"].get(0)?;
        table["properties"].get(property)?;
        self.table_column(0, table, property).ok()
    }

    fn table_header(t: usize, table: &Value) -> Result<(&str, usize), TilesError> {
        let class = table["class"].as_str().ok_or_else(|| err(format!("property table {t} lacks a class")))?;
        let count = table["count"].as_u64().ok_or_else(|| err(format!("property table {t} lacks count")))? as usize;
        Ok((class, count))
    }

    /// One column of `table`, values equal to the schema's noData as nulls.
    fn table_column(&self, t: usize, table: &Value, name: &str) -> Result<Vec<Value>, TilesError> {
        let (class, count) = Self::table_header(t, table)?;
        let def = &self.json["extensions"]["EXT_structural_metadata"]["schema"]["classes"][class]["properties"][name];
        let mut col = self.column(def, &table["properties"][name], count)?;
        if let Some(no_data) = def.get("noData") {
            for v in col.iter_mut().filter(|v| same_value(v, no_data)) {
                *v = Value::Null;
            }
        }
        Ok(col)
    }

    fn column(&self, def: &Value, prop: &Value, count: usize) -> Result<Vec<Value>, TilesError> {
        let ty = def["type"].as_str().ok_or_else(|| err("property has no type in the schema"))?;
        if def["array"].as_bool() == Some(true) {
            return Err(err("array properties are not read yet"));
        }
        let values = prop["values"].as_u64().ok_or_else(|| err("no values bufferView"))?;
        let (bytes, _) = self.view_bytes(values)?;
        match ty {
            "STRING" => {
                let offset_type = prop["stringOffsetType"].as_str().unwrap_or("UINT32");
                let ot = metadata_component(offset_type).ok_or_else(|| err("bad stringOffsetType"))?;
                let (offsets, _) =
                    self.view_bytes(prop["stringOffsets"].as_u64().ok_or_else(|| err("no stringOffsets"))?)?;
                let offs: Vec<usize> =
                    offsets.chunks_exact(ot.size()).take(count + 1).map(|c| ot.read(c) as usize).collect();
                if offs.len() != count + 1 {
                    return Err(err("too few string offsets"));
                }
                offs.windows(2)
                    .map(|w| {
                        let s = bytes.get(w[0]..w[1]).ok_or_else(|| err("string offsets overrun values"))?;
                        Ok(Value::from(String::from_utf8_lossy(s).into_owned()))
                    })
                    .collect()
            }
            "BOOLEAN" => (0..count)
                .map(|i| {
                    let byte = bytes.get(i / 8).ok_or_else(|| err("boolean bitstream too short"))?;
                    Ok(Value::from((byte >> (i % 8)) & 1 == 1))
                })
                .collect(),
            _ => {
                let n = components(ty).ok_or_else(|| err(format!("type {ty} is not read yet")))?;
                let ct = def["componentType"]
                    .as_str()
                    .and_then(metadata_component)
                    .ok_or_else(|| err("bad componentType"))?;
                let raw = super::feature_table::read_components(bytes, 0, ct, count, n).map_err(err)?;
                let float = matches!(ct, ComponentType::F32 | ComponentType::F64);
                let num = |x: f64| if float { Value::from(x) } else { Value::from(x as i64) };
                Ok(raw
                    .chunks_exact(n)
                    .map(|c| if n == 1 { num(c[0]) } else { c.iter().map(|x| num(*x)).collect() })
                    .collect())
            }
        }
    }
}

/// Whether a decoded value is the schema's `noData` (numbers compared as numbers).
fn same_value(v: &Value, no_data: &Value) -> bool {
    match (v.as_f64(), no_data.as_f64()) {
        (Some(a), Some(b)) => a == b,
        _ => v == no_data,
    }
}

/// The feature ID of each vertex of one primitive, and the property table it indexes.
#[derive(Debug, Clone, PartialEq)]
pub struct PrimitiveFeatureIds {
    pub mesh: usize,
    pub primitive: usize,
    pub property_table: Option<u64>,
    pub ids: Vec<u32>,
}

/// A decoded property table: one column of JSON values per property.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyTable {
    pub class: String,
    pub count: usize,
    pub columns: BTreeMap<String, Vec<Value>>,
}

impl PropertyTable {
    /// All properties of one feature.
    pub fn row(&self, feature: usize) -> BTreeMap<&str, &Value> {
        self.columns.iter().filter_map(|(k, col)| Some((k.as_str(), col.get(feature)?))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tiles::content::write;

    /// A glb with 3 vertices of interleaved (feature id f32, pad f32) and a 3-row property table.
    fn sample() -> Vec<u8> {
        let mut bin = Vec::new();
        for (id, pad) in [(2.0f32, 9.0f32), (0.0, 9.0), (1.0, 9.0)] {
            bin.extend(id.to_le_bytes());
            bin.extend(pad.to_le_bytes());
        }
        let names_at = bin.len();
        bin.extend(b"abbccc");
        let offsets_at = bin.len();
        for o in [0u32, 1, 3, 6] {
            bin.extend(o.to_le_bytes());
        }
        let heights_at = bin.len();
        for h in [10u16, 20, 30] {
            bin.extend(h.to_le_bytes());
        }
        let flags_at = bin.len();
        bin.push(0b101);
        let vec_at = bin.len();
        for v in [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0] {
            bin.extend(v.to_le_bytes());
        }
        let json = serde_json::json!({
            "asset": {"version": "2.0"},
            "buffers": [{"byteLength": bin.len()}],
            "bufferViews": [
                {"buffer": 0, "byteOffset": 0, "byteLength": 24, "byteStride": 8},
                {"buffer": 0, "byteOffset": names_at, "byteLength": 6},
                {"buffer": 0, "byteOffset": offsets_at, "byteLength": 16},
                {"buffer": 0, "byteOffset": heights_at, "byteLength": 6},
                {"buffer": 0, "byteOffset": flags_at, "byteLength": 1},
                {"buffer": 0, "byteOffset": vec_at, "byteLength": 24}],
            "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "SCALAR"}],
            "meshes": [{"primitives": [{"attributes": {"_FEATURE_ID_0": 0},
                "extensions": {"EXT_mesh_features": {"featureIds": [{"featureCount": 3, "attribute": 0, "propertyTable": 0}]}}}]}],
            "extensions": {"EXT_structural_metadata": {
                "schema": {"classes": {"c": {"properties": {
                    "name": {"type": "STRING"}, "h": {"type": "SCALAR", "componentType": "UINT16"},
                    "f": {"type": "BOOLEAN"}, "v": {"type": "VEC2", "componentType": "FLOAT32"},
                    "list": {"type": "SCALAR", "componentType": "UINT8", "array": true}}}}},
                "propertyTables": [{"class": "c", "count": 3, "properties": {
                    "name": {"values": 1, "stringOffsets": 2}, "h": {"values": 3}, "f": {"values": 4},
                    "v": {"values": 5}, "list": {"values": 3}}}]}}
        });
        write::glb(&serde_json::to_vec(&json).unwrap(), Some(&bin))
    }

    #[test]
    fn reads_strided_feature_ids_and_every_column_type() {
        let glb = sample();
        let view = GltfView::parse(&glb).unwrap();
        let ids = view.vertex_feature_ids().unwrap();
        assert_eq!(
            ids,
            vec![PrimitiveFeatureIds { mesh: 0, primitive: 0, property_table: Some(0), ids: vec![2, 0, 1] }]
        );
        let (tables, warnings) = view.property_tables().unwrap();
        assert_eq!(warnings.len(), 1, "the array column is reported, not read: {warnings:?}");
        let t = &tables[0];
        assert_eq!(t.columns["name"], vec![Value::from("a"), "bb".into(), "ccc".into()]);
        assert_eq!(t.columns["h"], vec![Value::from(10), 20.into(), 30.into()]);
        assert_eq!(t.columns["f"], vec![Value::from(true), false.into(), true.into()]);
        assert_eq!(t.columns["v"][2], serde_json::json!([5.0, 6.0]));
        let row = t.row(1);
        assert_eq!((row["name"], row["h"]), (&Value::from("bb"), &Value::from(20)));
    }

    #[test]
    fn broken_references_are_errors() {
        let glb = sample();
        let mut view = GltfView::parse(&glb).unwrap();
        view.json["accessors"][0]["count"] = 99.into();
        assert!(view.vertex_feature_ids().is_err(), "accessor overruns its view");
        view.json["bufferViews"][1]["byteLength"] = 10_000.into();
        let (tables, warnings) = view.property_tables().unwrap();
        assert!(!tables[0].columns.contains_key("name") && warnings.len() == 2);
        assert!(GltfView::parse(b"glTF").is_err());
    }
}
