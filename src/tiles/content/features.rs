//! Per-vertex feature IDs (`EXT_mesh_features`) and property tables (`EXT_structural_metadata`)
//! read from a glb, for picking and for checking what a tiler wrote.

use std::collections::BTreeMap;

use serde_json::Value;

use super::super::{TilesError, Warnings};
use super::feature_table::ComponentType;
use super::parse_glb;

const WHAT: &str = "glTF features";

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
        let json = serde_json::from_slice(glb[layout.json].trim_ascii_end()).map_err(|e| TilesError::json(WHAT, e))?;
        let bin = layout.bin.map_or(&[][..], |r| &glb[r]);
        Ok(Self { json, bin })
    }

    /// The bytes of a buffer view (only the glb's own buffer 0 is supported).
    fn view_bytes(&self, index: u64) -> Result<(&'a [u8], usize), TilesError> {
        let v = self.json["bufferViews"].get(index as usize).ok_or_else(|| err(format!("no bufferView {index}")))?;
        if v["buffer"].as_u64() != Some(0) {
            return Err(err(format!("bufferView {index} is not in the glb's binary chunk")));
        }
        let offset = v["byteOffset"].as_u64().unwrap_or(0) as usize;
        let length = v["byteLength"].as_u64().ok_or_else(|| err(format!("bufferView {index} lacks byteLength")))? as usize;
        let bytes = offset
            .checked_add(length)
            .and_then(|end| self.bin.get(offset..end))
            .ok_or_else(|| err(format!("bufferView {index} overruns the binary chunk")))?;
        Ok((bytes, v["byteStride"].as_u64().unwrap_or(0) as usize))
    }

    /// An accessor's scalar components as f64 (strided views and all glTF component types).
    pub fn accessor(&self, index: u64) -> Result<Vec<f64>, TilesError> {
        let a = self.json["accessors"].get(index as usize).ok_or_else(|| err(format!("no accessor {index}")))?;
        let ct = a["componentType"].as_u64().and_then(gltf_component).ok_or_else(|| err("bad accessor componentType"))?;
        let n = a["type"].as_str().and_then(components).ok_or_else(|| err("bad accessor type"))?;
        let count = a["count"].as_u64().ok_or_else(|| err("accessor lacks count"))? as usize;
        let Some(view) = a["bufferView"].as_u64() else { return Ok(vec![0.0; count * n]) };
        let (bytes, stride) = self.view_bytes(view)?;
        let offset = a["byteOffset"].as_u64().unwrap_or(0) as usize;
        let element = n * ct.size();
        let stride = if stride == 0 { element } else { stride };
        let mut out = Vec::with_capacity(count * n);
        for i in 0..count {
            let at = offset + i * stride;
            let e = bytes.get(at..at + element).ok_or_else(|| err(format!("accessor {index} overruns its view")))?;
            out.extend(e.chunks_exact(ct.size()).map(|c| ct.read(c)));
        }
        Ok(out)
    }

    /// Feature IDs per vertex of every primitive with an `EXT_mesh_features` attribute
    /// feature ID set: `(mesh, primitive, property table, ids)`.
    pub fn vertex_feature_ids(&self) -> Result<Vec<(usize, usize, Option<u64>, Vec<u32>)>, TilesError> {
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
                    out.push((m, p, set["propertyTable"].as_u64(), ids));
                }
            }
        }
        Ok(out)
    }

    /// Decodes every property table: class name, row count, and each property's column.
    pub fn property_tables(&self) -> Result<(Vec<PropertyTable>, Warnings), TilesError> {
        let mut w = Warnings::default();
        let ext = &self.json["extensions"]["EXT_structural_metadata"];
        let classes = &ext["schema"]["classes"];
        let mut tables = Vec::new();
        for (t, table) in ext["propertyTables"].as_array().into_iter().flatten().enumerate() {
            let class = table["class"].as_str().ok_or_else(|| err(format!("property table {t} lacks a class")))?;
            let count = table["count"].as_u64().ok_or_else(|| err(format!("property table {t} lacks count")))? as usize;
            let mut columns = BTreeMap::new();
            for (name, prop) in table["properties"].as_object().into_iter().flatten() {
                let def = &classes[class]["properties"][name];
                match self.column(def, prop, count) {
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
                let (offsets, _) = self.view_bytes(prop["stringOffsets"].as_u64().ok_or_else(|| err("no stringOffsets"))?)?;
                let offs: Vec<usize> = offsets.chunks_exact(ot.size()).take(count + 1).map(|c| ot.read(c) as usize).collect();
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
                let ct = def["componentType"].as_str().and_then(metadata_component).ok_or_else(|| err("bad componentType"))?;
                let raw = super::feature_table::read_components(bytes, 0, ct, count, n).map_err(err)?;
                let float = matches!(ct, ComponentType::F32 | ComponentType::F64);
                let num = |x: f64| if float { Value::from(x) } else { Value::from(x as i64) };
                Ok(raw.chunks_exact(n).map(|c| if n == 1 { num(c[0]) } else { c.iter().map(|x| num(*x)).collect() }).collect())
            }
        }
    }
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
