//! Batch tables: per-feature properties, as JSON arrays or typed binary arrays.

use serde_json::{Map, Value};

use super::super::{TilesError, Warnings};
use super::feature_table::{ComponentType, parse_table_json, read_components};

/// A parsed batch table whose properties have been range-checked against `length` features.
#[derive(Debug, Clone, Default)]
pub struct BatchTable {
    pub json: Map<String, Value>,
    pub binary: Vec<u8>,
    pub length: usize,
}

fn components_of(ty: &str) -> Option<usize> {
    Some(match ty {
        "SCALAR" => 1,
        "VEC2" => 2,
        "VEC3" => 3,
        "VEC4" => 4,
        _ => return None,
    })
}

impl BatchTable {
    /// Parses the table; properties that are too short or out of range are dropped with a warning.
    pub fn parse(json: &[u8], binary: &[u8], length: usize, w: &mut Warnings) -> Result<Self, TilesError> {
        let mut json = parse_table_json(json, "batch table")?;
        let mut dropped = Vec::new();
        for (name, value) in &json {
            if name == "extensions" || name == "extras" {
                continue;
            }
            let problem = match value {
                Value::Array(a) if a.len() < length => Some(format!("has {} values for {length} features", a.len())),
                Value::Array(_) => None,
                Value::Object(o) => Self::binary_spec(o)
                    .and_then(|(off, ct, n)| read_components(binary, off, ct, length, n).map(|_| ()))
                    .err(),
                _ => Some("is neither an array nor a binary reference".to_owned()),
            };
            if let Some(p) = problem {
                w.push("batch table", format!("property {name:?} {p}; dropped"));
                dropped.push(name.clone());
            }
        }
        for name in dropped {
            json.remove(&name);
        }
        Ok(Self { json, binary: binary.to_vec(), length })
    }

    fn binary_spec(o: &Map<String, Value>) -> Result<(usize, ComponentType, usize), String> {
        let off = o.get("byteOffset").and_then(Value::as_u64).ok_or("lacks byteOffset")?;
        let ct = o.get("componentType").and_then(Value::as_str).and_then(ComponentType::from_name);
        let n = o.get("type").and_then(Value::as_str).and_then(components_of);
        match (ct, n) {
            (Some(ct), Some(n)) => Ok((off as usize, ct, n)),
            _ => Err("has a bad componentType or type".to_owned()),
        }
    }

    pub fn byte_size(&self) -> usize {
        self.binary.len() + 64 * self.json.len() * self.length.max(1)
    }

    /// Property names, extensions excluded.
    pub fn property_names(&self) -> impl Iterator<Item = &str> {
        self.json.keys().map(String::as_str).filter(|k| *k != "extensions" && *k != "extras")
    }

    /// The value of one property for one feature (binary vectors become JSON arrays).
    pub fn property(&self, name: &str, feature: usize) -> Option<Value> {
        if feature >= self.length {
            return None;
        }
        match self.json.get(name)? {
            Value::Array(a) => a.get(feature).cloned(),
            Value::Object(o) => {
                let (off, ct, n) = Self::binary_spec(o).ok()?;
                let at = off + feature * n * ct.size();
                let v = read_components(&self.binary, at, ct, 1, n).ok()?;
                let num = |x: f64| match ct {
                    ComponentType::F32 | ComponentType::F64 => Value::from(x),
                    _ => Value::from(x as i64),
                };
                Some(if n == 1 { num(v[0]) } else { Value::Array(v.into_iter().map(num).collect()) })
            }
            _ => None,
        }
    }

    /// All properties of one feature.
    pub fn feature(&self, feature: usize) -> Map<String, Value> {
        self.property_names().filter_map(|name| Some((name.to_owned(), self.property(name, feature)?))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_binary_properties() {
        let mut bin = Vec::new();
        for v in [10u16, 20, 30, 40] {
            bin.extend_from_slice(&v.to_le_bytes());
        }
        let json = br#"{"name":["a","b"],"id":{"byteOffset":0,"componentType":"UNSIGNED_SHORT","type":"VEC2"},
            "short":[1],"bad":{"byteOffset":4,"componentType":"DOUBLE","type":"SCALAR"},"weird":3}"#;
        let mut w = Warnings::default();
        let bt = BatchTable::parse(json, &bin, 2, &mut w).unwrap();
        assert_eq!(bt.property("name", 1), Some(Value::from("b")));
        assert_eq!(bt.property("id", 1), Some(serde_json::json!([30, 40])));
        assert_eq!(bt.property("name", 2), None);
        assert_eq!(w.len(), 3, "{w:?}");
        let f = bt.feature(0);
        assert_eq!(f.len(), 2);
        assert_eq!(f["id"], serde_json::json!([10, 20]));
    }
}
