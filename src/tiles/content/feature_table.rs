//! Feature tables (b3dm/i3dm/pnts): a JSON header with global values and references into a
//! binary body of per-feature arrays.

use serde_json::{Map, Value};

use super::super::{TilesError, Warnings};

/// Numeric component types of feature and batch table binary properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComponentType {
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    F32,
    F64,
}

impl ComponentType {
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "BYTE" => Self::I8,
            "UNSIGNED_BYTE" => Self::U8,
            "SHORT" => Self::I16,
            "UNSIGNED_SHORT" => Self::U16,
            "INT" => Self::I32,
            "UNSIGNED_INT" => Self::U32,
            "FLOAT" => Self::F32,
            "DOUBLE" => Self::F64,
            _ => return None,
        })
    }

    pub fn size(self) -> usize {
        match self {
            Self::I8 | Self::U8 => 1,
            Self::I16 | Self::U16 => 2,
            Self::I32 | Self::U32 | Self::F32 => 4,
            Self::F64 => 8,
        }
    }

    /// Reads one component; the caller has checked the range.
    pub fn read(self, b: &[u8]) -> f64 {
        match self {
            Self::I8 => b[0] as i8 as f64,
            Self::U8 => b[0] as f64,
            Self::I16 => i16::from_le_bytes([b[0], b[1]]) as f64,
            Self::U16 => u16::from_le_bytes([b[0], b[1]]) as f64,
            Self::I32 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
            Self::U32 => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
            Self::F32 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
            Self::F64 => f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        }
    }
}

/// Parses a table's JSON header: padding (spaces or NULs) allowed, empty means `{}`.
pub(crate) fn parse_table_json(json: &[u8], what: &'static str) -> Result<Map<String, Value>, TilesError> {
    let json = super::trim_padding(json);
    if json.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(json).map_err(|e| TilesError::json(what, e))? {
        Value::Object(map) => Ok(map),
        _ => Err(TilesError::invalid(what, "table JSON is not an object")),
    }
}

/// Reads `count × components` values of `ct` at `offset` in `binary`, or says why it cannot.
pub(crate) fn read_components(
    binary: &[u8],
    offset: usize,
    ct: ComponentType,
    count: usize,
    components: usize,
) -> Result<Vec<f64>, String> {
    let n = count.checked_mul(components).ok_or("count overflows")?;
    let len = n.checked_mul(ct.size()).ok_or("length overflows")?;
    let end = offset.checked_add(len).ok_or("offset overflows")?;
    let data = binary
        .get(offset..end)
        .ok_or_else(|| format!("bytes {offset}..{end} exceed the binary body of {} bytes", binary.len()))?;
    Ok(data.chunks_exact(ct.size()).map(|c| ct.read(c)).collect())
}

/// A parsed feature table.
#[derive(Debug, Clone, Default)]
pub struct FeatureTable {
    pub json: Map<String, Value>,
    pub binary: Vec<u8>,
}

impl FeatureTable {
    pub fn parse(json: &[u8], binary: &[u8], what: &'static str, w: &mut Warnings) -> Result<Self, TilesError> {
        let json = parse_table_json(json, what)?;
        if !binary.len().is_multiple_of(8) && !binary.is_empty() {
            w.push(what, "feature table binary body is not 8-byte aligned");
        }
        Ok(Self { json, binary: binary.to_vec() })
    }

    pub fn byte_size(&self) -> usize {
        self.binary.len() + 64 * self.json.len()
    }

    pub fn has(&self, name: &str) -> bool {
        self.json.contains_key(name)
    }

    /// A global scalar: a JSON number, or `{byteOffset}` to a u32 in the binary body.
    pub fn global_u32(&self, name: &str) -> Option<u32> {
        match self.json.get(name)? {
            Value::Number(n) => n.as_u64().and_then(|v| u32::try_from(v).ok()),
            Value::Object(o) => {
                let off = o.get("byteOffset")?.as_u64()? as usize;
                read_components(&self.binary, off, ComponentType::U32, 1, 1).ok().map(|v| v[0] as u32)
            }
            _ => None,
        }
    }

    /// A global vector: a JSON array of `n` numbers, or `{byteOffset}` to `n` f32 in the body.
    pub fn global_vec(&self, name: &str, n: usize) -> Option<Vec<f64>> {
        match self.json.get(name)? {
            Value::Array(a) if a.len() == n => a.iter().map(Value::as_f64).collect(),
            Value::Object(o) => {
                let off = o.get("byteOffset")?.as_u64()? as usize;
                read_components(&self.binary, off, ComponentType::F32, 1, n).ok()
            }
            _ => None,
        }
    }

    /// A global boolean such as `EAST_NORTH_UP`.
    pub fn global_bool(&self, name: &str) -> bool {
        self.json.get(name).and_then(Value::as_bool).unwrap_or(false)
    }

    /// A per-feature binary array: `count × components` values. `None` when absent; an error when
    /// present but out of range or of a type not in `allowed` (the first is the default).
    pub fn property(
        &self,
        name: &str,
        count: usize,
        components: usize,
        allowed: &[ComponentType],
    ) -> Result<Option<Vec<f64>>, TilesError> {
        let Some(v) = self.json.get(name) else { return Ok(None) };
        let bad = |m: String| TilesError::invalid("feature table", format!("{name}: {m}"));
        let obj = v.as_object().ok_or_else(|| bad("must be an object with byteOffset".into()))?;
        let off = obj.get("byteOffset").and_then(Value::as_u64).ok_or_else(|| bad("missing byteOffset".into()))?;
        let ct = match obj.get("componentType").and_then(Value::as_str) {
            None => allowed[0],
            Some(s) => ComponentType::from_name(s)
                .filter(|ct| allowed.contains(ct))
                .ok_or_else(|| bad(format!("componentType {s} not allowed here")))?,
        };
        read_components(&self.binary, off as usize, ct, count, components).map(Some).map_err(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globals_and_properties() {
        let mut bin = Vec::new();
        for v in [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0] {
            bin.extend_from_slice(&v.to_le_bytes());
        }
        bin.extend_from_slice(&7u32.to_le_bytes());
        let json = br#"{"N":3,"RTC_CENTER":[1,2,3],"C":{"byteOffset":12},"L":{"byteOffset":24},
            "P":{"byteOffset":0},"B":{"byteOffset":24,"componentType":"UNSIGNED_INT"}}   "#;
        let mut w = Warnings::default();
        let ft = FeatureTable::parse(json, &bin, "t", &mut w).unwrap();
        assert_eq!(ft.global_u32("N"), Some(3));
        assert_eq!(ft.global_u32("L"), Some(7));
        assert_eq!(ft.global_vec("RTC_CENTER", 3), Some(vec![1.0, 2.0, 3.0]));
        assert_eq!(ft.global_vec("C", 3), Some(vec![4.0, 5.0, 6.0]));
        let p = ft.property("P", 2, 3, &[ComponentType::F32]).unwrap().unwrap();
        assert_eq!(p, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert!(ft.property("P", 3, 3, &[ComponentType::F32]).is_err(), "out of range");
        let b = ft.property("B", 1, 1, &[ComponentType::U16, ComponentType::U32]).unwrap().unwrap();
        assert_eq!(b, vec![7.0]);
        assert!(ft.property("B", 1, 1, &[ComponentType::U16]).is_err(), "type not allowed");
        assert_eq!(ft.property("Z", 1, 1, &[ComponentType::U8]).unwrap(), None);
    }

    #[test]
    fn bad_json_is_an_error() {
        let mut w = Warnings::default();
        assert!(FeatureTable::parse(b"[1]", &[], "t", &mut w).is_err());
        assert!(FeatureTable::parse(b"{", &[], "t", &mut w).is_err());
        assert!(FeatureTable::parse(b"   \0\0", &[], "t", &mut w).unwrap().json.is_empty());
    }
}
