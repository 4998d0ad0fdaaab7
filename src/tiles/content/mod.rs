//! Tile content decoders working from bytes: glb, b3dm, i3dm, pnts, cmpt (recursive), glTF JSON.
//! Each returns a value plus warnings, or an error; none panics on any input.

mod attributes;
mod b3dm;
mod batch_table;
mod cmpt;
mod feature_table;
pub mod features;
mod glb;
mod i3dm;
mod pnts;
mod slim;
mod tables;
pub mod write;

pub use batch_table::BatchTable;
pub use feature_table::{ComponentType, FeatureTable};
pub use glb::{Glb, parse_glb};
pub use i3dm::{InstancedModel, Instances};
pub use pnts::Points;

use glam::DVec3;

use super::{TilesError, Warnings, gzip};

/// JSON padded to alignment (spaces, NULs or other whitespace at the end), without the padding.
pub(crate) fn trim_padding(json: &[u8]) -> &[u8] {
    let end = json.iter().rposition(|b| !matches!(b, b' ' | 0 | b'\n' | b'\r' | b'\t')).map_or(0, |i| i + 1);
    &json[..end]
}

/// What a byte buffer holds, by magic (or JSON shape).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContentFormat {
    Glb,
    B3dm,
    I3dm,
    Pnts,
    Cmpt,
    GltfJson,
    TilesetJson,
    Subtree,
    Unknown,
}

impl ContentFormat {
    pub fn name(&self) -> &'static str {
        match self {
            ContentFormat::Glb => "glb",
            ContentFormat::B3dm => "b3dm",
            ContentFormat::I3dm => "i3dm",
            ContentFormat::Pnts => "pnts",
            ContentFormat::Cmpt => "cmpt",
            ContentFormat::GltfJson => "gltf",
            ContentFormat::TilesetJson => "tileset",
            ContentFormat::Subtree => "subtree",
            ContentFormat::Unknown => "unknown",
        }
    }
}

/// Detects the format from the first bytes (already inflated).
pub fn detect(bytes: &[u8]) -> ContentFormat {
    match bytes.get(..4) {
        Some(b"glTF") => return ContentFormat::Glb,
        Some(b"b3dm") => return ContentFormat::B3dm,
        Some(b"i3dm") => return ContentFormat::I3dm,
        Some(b"pnts") => return ContentFormat::Pnts,
        Some(b"cmpt") => return ContentFormat::Cmpt,
        Some(b"subt") => return ContentFormat::Subtree,
        _ => {}
    }
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        // Tilesets have a root; glTF JSON has an asset and no root.
        #[derive(serde::Deserialize)]
        struct Probe {
            root: Option<serde::de::IgnoredAny>,
            asset: Option<serde::de::IgnoredAny>,
        }
        if let Ok(p) = serde_json::from_slice::<Probe>(bytes) {
            return match (p.root, p.asset) {
                (Some(_), _) => ContentFormat::TilesetJson,
                (None, Some(_)) => ContentFormat::GltfJson,
                _ => ContentFormat::Unknown,
            };
        }
    }
    ContentFormat::Unknown
}

/// A glTF model: a glb (from .glb, b3dm or i3dm) or a glTF JSON document, with its tables.
#[derive(Debug, Clone)]
pub struct Model {
    /// The glb bytes, or glTF JSON bytes when `is_json`.
    pub gltf: Vec<u8>,
    pub is_json: bool,
    /// Added to positions (b3dm `RTC_CENTER`), in tile coordinates.
    pub rtc_center: Option<DVec3>,
    pub batch_length: u32,
    pub feature_table: Option<FeatureTable>,
    pub batch_table: Option<BatchTable>,
}

/// Decoded tile content, ready for an engine to turn into meshes, points or instances.
#[derive(Debug, Clone)]
pub enum TileContent {
    Model(Model),
    Instances(Instances),
    Points(Points),
    Composite(Vec<TileContent>),
}

impl TileContent {
    /// Bytes held, for the cache budget.
    pub fn byte_size(&self) -> usize {
        match self {
            TileContent::Model(m) => m.gltf.len() + tables_size(&m.feature_table, &m.batch_table),
            TileContent::Instances(i) => i.byte_size(),
            TileContent::Points(p) => p.byte_size(),
            TileContent::Composite(v) => v.iter().map(TileContent::byte_size).sum(),
        }
    }

    /// The inner formats, flattened through composites.
    pub fn formats(&self) -> Vec<&'static str> {
        match self {
            TileContent::Model(m) if m.is_json => vec!["gltf"],
            TileContent::Model(_) => vec!["model"],
            TileContent::Instances(_) => vec!["instances"],
            TileContent::Points(_) => vec!["points"],
            TileContent::Composite(v) => v.iter().flat_map(TileContent::formats).collect(),
        }
    }
}

fn tables_size(ft: &Option<FeatureTable>, bt: &Option<BatchTable>) -> usize {
    ft.as_ref().map_or(0, FeatureTable::byte_size) + bt.as_ref().map_or(0, BatchTable::byte_size)
}

/// Nesting limit for composites (each level is at least a 16-byte header).
const MAX_COMPOSITE_DEPTH: u32 = 16;

/// Decodes renderable tile content. Tileset JSON and subtrees are not content and are rejected.
pub fn decode(bytes: &[u8]) -> Result<(TileContent, Warnings), TilesError> {
    let bytes = gzip::maybe_gunzip(bytes)?;
    decode_at_depth(&bytes, 0)
}

fn decode_at_depth(bytes: &[u8], depth: u32) -> Result<(TileContent, Warnings), TilesError> {
    match detect(bytes) {
        ContentFormat::Glb => {
            let (glb, warnings) = parse_glb(bytes)?;
            let model = Model {
                gltf: bytes[..glb.length].to_vec(),
                is_json: false,
                rtc_center: None,
                batch_length: 0,
                feature_table: None,
                batch_table: None,
            };
            Ok((TileContent::Model(model), warnings))
        }
        ContentFormat::GltfJson => Ok((
            TileContent::Model(Model {
                gltf: bytes.to_vec(),
                is_json: true,
                rtc_center: None,
                batch_length: 0,
                feature_table: None,
                batch_table: None,
            }),
            Warnings::default(),
        )),
        ContentFormat::B3dm => b3dm::decode(bytes).map(|(m, w)| (TileContent::Model(m), w)),
        ContentFormat::I3dm => i3dm::decode(bytes).map(|(i, w)| (TileContent::Instances(i), w)),
        ContentFormat::Pnts => pnts::decode(bytes).map(|(p, w)| (TileContent::Points(p), w)),
        ContentFormat::Cmpt if depth >= MAX_COMPOSITE_DEPTH => {
            Err(TilesError::invalid("cmpt", format!("nested deeper than {MAX_COMPOSITE_DEPTH}")))
        }
        ContentFormat::Cmpt => cmpt::decode(bytes, |inner| decode_at_depth(inner, depth + 1)),
        ContentFormat::TilesetJson | ContentFormat::Subtree => {
            Err(TilesError::UnsupportedContent(format!("{} is not renderable content", detect(bytes).name())))
        }
        ContentFormat::Unknown => {
            let head = &bytes[..bytes.len().min(4)];
            let shown = if head.iter().all(u8::is_ascii_graphic) && !head.is_empty() {
                format!("magic {:?}", String::from_utf8_lossy(head))
            } else {
                format!("first bytes {head:?}")
            };
            Err(TilesError::UnsupportedContent(format!("unknown format ({shown})")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_magic_and_json_shape() {
        assert_eq!(detect(b"glTF...."), ContentFormat::Glb);
        assert_eq!(detect(b"cmpt"), ContentFormat::Cmpt);
        assert_eq!(detect(br#" {"asset":{"version":"1.0"},"root":{}}"#), ContentFormat::TilesetJson);
        assert_eq!(detect(br#"{"asset":{"version":"2.0"},"meshes":[]}"#), ContentFormat::GltfJson);
        assert_eq!(detect(b"{broken"), ContentFormat::Unknown);
        assert_eq!(detect(b""), ContentFormat::Unknown);
    }

    #[test]
    fn garbage_never_panics() {
        // Every prefix of every synthetic format, and byte flips across headers.
        let samples = [
            write::glb(br#"{"asset":{"version":"2.0"}}"#, Some(&[1, 2, 3, 4])),
            write::b3dm(br#"{"BATCH_LENGTH":0}"#, b"", b"", b"", &write::glb(br#"{"asset":{"version":"2.0"}}"#, None)),
            write::pnts(br#"{"POINTS_LENGTH":1,"POSITION":{"byteOffset":0}}"#, &[0; 12], b"", b""),
        ];
        for s in &samples {
            for n in 0..s.len() {
                let _ = decode(&s[..n]);
            }
            for i in 0..s.len().min(64) {
                for v in [0u8, 0xff, 0x7f] {
                    let mut m = s.clone();
                    m[i] = v;
                    let _ = decode(&m);
                }
            }
            assert!(decode(s).is_ok());
        }
        let nested = write::cmpt(&[write::cmpt(&[samples[0].clone()])]);
        assert!(decode(&nested).is_ok());
    }

    #[test]
    fn deep_composites_are_refused() {
        let mut c = write::glb(br#"{"asset":{"version":"2.0"}}"#, None);
        for _ in 0..20 {
            c = write::cmpt(&[c]);
        }
        assert!(decode(&c).unwrap_err().to_string().contains("nested deeper"));
    }
}
