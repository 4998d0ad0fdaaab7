//! Subtree files: binary (`subt`) or JSON, with availability as bitstreams or constants.

use serde::Deserialize;

use super::coord::{ImplicitCoord, morton_index};
use crate::tiles::model::SubdivisionScheme;
use crate::tiles::{TilesError, Warnings, gzip, uri};

const WHAT: &str = "subtree";

/// Availability of tiles, contents or child subtrees: a constant or one bit per index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    Constant(bool),
    Bits(Vec<u8>),
}

impl Availability {
    pub fn get(&self, index: u64) -> bool {
        match self {
            Availability::Constant(c) => *c,
            Availability::Bits(b) => b.get((index / 8) as usize).is_some_and(|byte| (byte >> (index % 8)) & 1 == 1),
        }
    }

    fn byte_size(&self) -> usize {
        match self {
            Availability::Constant(_) => 1,
            Availability::Bits(b) => b.len(),
        }
    }
}

/// One parsed subtree.
#[derive(Debug, Clone, PartialEq)]
pub struct Subtree {
    pub scheme: SubdivisionScheme,
    pub subtree_levels: u32,
    pub tile_availability: Availability,
    pub content_availability: Vec<Availability>,
    pub child_subtree_availability: Availability,
}

impl Subtree {
    /// Bit index of a tile given relative to this subtree's root.
    fn tile_index(&self, rel: &ImplicitCoord) -> u64 {
        let n = super::branching(self.scheme);
        (n.pow(rel.level) - 1) / (n - 1) + morton_index(self.scheme, rel)
    }

    /// Is the tile at `rel` (relative to the subtree root, `rel.level < subtree_levels`) available?
    pub fn tile_available(&self, rel: &ImplicitCoord) -> bool {
        rel.level < self.subtree_levels && self.tile_availability.get(self.tile_index(rel))
    }

    /// Is content `content` of the tile at `rel` available?
    pub fn content_available(&self, rel: &ImplicitCoord, content: usize) -> bool {
        rel.level < self.subtree_levels
            && self.content_availability.get(content).is_some_and(|a| a.get(self.tile_index(rel)))
    }

    /// Is the child subtree rooted at `rel` (with `rel.level == subtree_levels`) available?
    pub fn child_subtree_available(&self, rel: &ImplicitCoord) -> bool {
        rel.level == self.subtree_levels && self.child_subtree_availability.get(morton_index(self.scheme, rel))
    }

    pub fn byte_size(&self) -> usize {
        64 + self.tile_availability.byte_size()
            + self.child_subtree_availability.byte_size()
            + self.content_availability.iter().map(Availability::byte_size).sum::<usize>()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubtreeJson {
    #[serde(default)]
    buffers: Vec<BufferJson>,
    #[serde(default)]
    buffer_views: Vec<BufferViewJson>,
    tile_availability: AvailabilityJson,
    #[serde(default)]
    content_availability: Option<OneOrMany>,
    child_subtree_availability: AvailabilityJson,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    Many(Vec<AvailabilityJson>),
    One(AvailabilityJson),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BufferJson {
    byte_length: u64,
    uri: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BufferViewJson {
    buffer: usize,
    #[serde(default)]
    byte_offset: u64,
    byte_length: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AvailabilityJson {
    /// 1.1 name; `bufferView` in the pre-1.1 extension.
    #[serde(alias = "bufferView")]
    bitstream: Option<usize>,
    constant: Option<u8>,
}

/// Parses a binary or JSON subtree. Buffers must be the binary chunk or `data:` URIs; a
/// subtree whose availability lives in an external buffer file is reported as unsupported.
pub fn parse_subtree(
    bytes: &[u8],
    scheme: SubdivisionScheme,
    subtree_levels: u32,
) -> Result<(Subtree, Warnings), TilesError> {
    let mut w = Warnings::default();
    let bytes = gzip::maybe_gunzip(bytes)?;
    let (json, binary): (&[u8], &[u8]) = if bytes.starts_with(b"subt") {
        if bytes.len() < 24 {
            return Err(TilesError::Truncated { what: WHAT, needed: 24, available: bytes.len() });
        }
        let version = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
        if version != 1 {
            return Err(TilesError::UnsupportedVersion { what: WHAT, version });
        }
        let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().expect("8 bytes"));
        let (jl, bl) = (u64_at(8), u64_at(16));
        let needed = 24u64.saturating_add(jl).saturating_add(bl);
        if needed > bytes.len() as u64 {
            return Err(TilesError::Truncated { what: WHAT, needed: needed as usize, available: bytes.len() });
        }
        let j_end = 24 + jl as usize;
        (&bytes[24..j_end], &bytes[j_end..j_end + bl as usize])
    } else {
        (&bytes[..], &[])
    };
    let parsed: SubtreeJson =
        serde_json::from_slice(crate::tiles::content::trim_padding(json)).map_err(|e| TilesError::json(WHAT, e))?;
    let mut buffers: Vec<Vec<u8>> = Vec::new();
    for (i, b) in parsed.buffers.iter().enumerate() {
        let data = match &b.uri {
            None => binary.to_vec(),
            Some(u) if u.starts_with("data:") => uri::decode_data_uri(u)?,
            Some(u) => {
                return Err(TilesError::UnsupportedContent(format!("subtree buffer {i} in external file {u:?}")));
            }
        };
        if (data.len() as u64) < b.byte_length {
            return Err(TilesError::invalid(WHAT, format!("buffer {i} has {} of {} bytes", data.len(), b.byte_length)));
        }
        buffers.push(data);
    }
    let n = super::branching(scheme);
    super::check_levels(scheme, subtree_levels, subtree_levels)?;
    let child_bits = n.pow(subtree_levels);
    let tile_bits = (child_bits - 1) / (n - 1);
    let resolve = |a: &AvailabilityJson, bits: u64, name: &str| -> Result<Availability, TilesError> {
        match (a.constant, a.bitstream) {
            (_, Some(view)) => {
                let v = parsed
                    .buffer_views
                    .get(view)
                    .ok_or_else(|| TilesError::invalid(WHAT, format!("{name}: no bufferView {view}")))?;
                let buf = buffers
                    .get(v.buffer)
                    .ok_or_else(|| TilesError::invalid(WHAT, format!("{name}: no buffer {}", v.buffer)))?;
                let end = v.byte_offset.saturating_add(v.byte_length);
                if end > buf.len() as u64 {
                    return Err(TilesError::invalid(WHAT, format!("{name}: bufferView {view} overruns its buffer")));
                }
                if v.byte_length.saturating_mul(8) < bits {
                    return Err(TilesError::invalid(
                        WHAT,
                        format!("{name}: {} bytes cannot hold {bits} bits", v.byte_length),
                    ));
                }
                Ok(Availability::Bits(buf[v.byte_offset as usize..end as usize].to_vec()))
            }
            (Some(c), None) if c <= 1 => Ok(Availability::Constant(c == 1)),
            _ => Err(TilesError::invalid(WHAT, format!("{name}: needs a bitstream or a constant 0/1"))),
        }
    };
    let tile_availability = resolve(&parsed.tile_availability, tile_bits, "tileAvailability")?;
    let content_availability = match &parsed.content_availability {
        None => Vec::new(),
        Some(OneOrMany::One(a)) => vec![resolve(a, tile_bits, "contentAvailability")?],
        Some(OneOrMany::Many(v)) => {
            v.iter().map(|a| resolve(a, tile_bits, "contentAvailability")).collect::<Result<_, _>>()?
        }
    };
    let child_subtree_availability =
        resolve(&parsed.child_subtree_availability, child_bits, "childSubtreeAvailability")?;
    if !tile_availability.get(0) {
        w.push(WHAT, "the subtree's root tile is unavailable");
    }
    Ok((Subtree { scheme, subtree_levels, tile_availability, content_availability, child_subtree_availability }, w))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A binary subtree with the given JSON and binary chunk.
    pub(crate) fn subt(json: &str, bin: &[u8]) -> Vec<u8> {
        let mut j = json.as_bytes().to_vec();
        while !j.len().is_multiple_of(8) {
            j.push(b' ');
        }
        let mut out = b"subt".to_vec();
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&(j.len() as u64).to_le_bytes());
        out.extend_from_slice(&(bin.len() as u64).to_le_bytes());
        out.extend_from_slice(&j);
        out.extend_from_slice(bin);
        out
    }

    #[test]
    fn binary_subtree_with_bitstreams() {
        // Two levels of a quadtree: root + 4 children = 5 bits; available: root, child 0 and child 3.
        let json = r#"{"buffers":[{"byteLength":16}],"bufferViews":[{"buffer":0,"byteOffset":0,"byteLength":1},
            {"buffer":0,"byteOffset":8,"byteLength":2}],"tileAvailability":{"bitstream":0},
            "contentAvailability":[{"constant":1}],"childSubtreeAvailability":{"bitstream":1}}"#;
        let mut bin = vec![0u8; 16];
        bin[0] = 0b0001_0011;
        bin[8] = 0b1000_0000; // child subtree at Morton 7
        let (s, w) = parse_subtree(&subt(json, &bin), SubdivisionScheme::Quadtree, 2).unwrap();
        assert!(w.is_empty());
        let at = |level, x, y| ImplicitCoord { level, x, y, z: 0 };
        assert!(s.tile_available(&at(0, 0, 0)));
        assert!(s.tile_available(&at(1, 0, 0)));
        assert!(!s.tile_available(&at(1, 1, 0)));
        assert!(s.tile_available(&at(1, 1, 1)));
        assert!(s.content_available(&at(1, 1, 1), 0));
        assert!(!s.content_available(&at(1, 1, 1), 1), "no second content");
        assert!(s.child_subtree_available(&at(2, 3, 1)));
        assert!(!s.child_subtree_available(&at(2, 0, 0)));
    }

    #[test]
    fn json_subtree_with_constants_and_legacy_names() {
        let json = r#"{"tileAvailability":{"constant":1},"contentAvailability":{"constant":0},
            "childSubtreeAvailability":{"constant":0}}"#;
        let (s, _) = parse_subtree(json.as_bytes(), SubdivisionScheme::Octree, 3).unwrap();
        assert!(s.tile_available(&ImplicitCoord { level: 2, x: 3, y: 3, z: 3 }));
        assert!(!s.content_available(&ImplicitCoord::ROOT, 0));
    }

    #[test]
    fn malformed_subtrees_are_errors() {
        let ok = r#"{"buffers":[{"byteLength":8}],"bufferViews":[{"buffer":0,"byteLength":1}],
            "tileAvailability":{"bitstream":0},"childSubtreeAvailability":{"constant":0}}"#;
        assert!(parse_subtree(&subt(ok, &[1; 8]), SubdivisionScheme::Quadtree, 2).is_ok());
        // Too few bits for 3 levels (21 bits need 3 bytes).
        assert!(parse_subtree(&subt(ok, &[1; 8]), SubdivisionScheme::Quadtree, 3).is_err());
        let b = subt(ok, &[1; 8]);
        assert!(parse_subtree(&b[..b.len() - 4], SubdivisionScheme::Quadtree, 2).is_err());
        assert!(parse_subtree(&b[..10], SubdivisionScheme::Quadtree, 2).is_err());
        let ext = ok.replace(r#"{"byteLength":8}"#, r#"{"byteLength":8,"uri":"x.bin"}"#);
        assert!(matches!(
            parse_subtree(&subt(&ext, &[]), SubdivisionScheme::Quadtree, 2),
            Err(TilesError::UnsupportedContent(_))
        ));
        let bad_view = ok.replace(r#""byteLength":1}]"#, r#""byteLength":100}]"#);
        assert!(parse_subtree(&subt(&bad_view, &[1; 8]), SubdivisionScheme::Quadtree, 2).is_err());
        assert!(parse_subtree(b"{", SubdivisionScheme::Quadtree, 2).is_err());
        let no_avail = r#"{"tileAvailability":{},"childSubtreeAvailability":{"constant":0}}"#;
        assert!(parse_subtree(no_avail.as_bytes(), SubdivisionScheme::Quadtree, 2).is_err());
    }
}
